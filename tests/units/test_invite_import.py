"""Inviting unit managers from a CSV file ("Bjud in enhetschefer från fil"): the file is read by the
unit import's reader, every row gets a status in words on the preview (nothing saved), and the
confirmation checks again in one transaction, creates the invitations by invitation_create's rules
and leaves the mails to a Celery task that issues each link itself."""

import datetime as dt
import email
import functools
import re
import time
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UnitFactory, UserFactory, make_manager
from tests.followup.conftest import SmtpServer
from tests.test_forms_a11y import Page
from tests.units.test_import import csv_bytes, html_of, payload_of, text, upload
from units import imports, invitation_imports, services, tasks
from units.models import AuditEvent, Invitation, Municipality, Role, Unit, UnitManager, User

HEADER = "enhet;e-post"
PASSWORD = "ett-långt-och-bra-lösenord"


def page_url(municipality: Municipality) -> str:
    return reverse("units:invite_import", args=[municipality.pk])


def confirm_url(municipality: Municipality) -> str:
    return reverse("units:invite_import_confirm", args=[municipality.pk])


def preview(client: Client, municipality: Municipality, *lines: str) -> str:
    response = client.post(page_url(municipality), upload(csv_bytes(*lines), "chefer.csv"))
    assert response.status_code == 200
    return payload_of(response)


def statuses(page: str) -> dict[int, str]:
    return {int(line): row for line, row in re.findall(r'<tr id="rad-(\d+)">(.*?)</tr>', page)}


def link_in(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://\S+/invitations/accept/(\S+)/", str(message.body))
    assert found, message.body
    return f"/invitations/accept/{found.group(1)}/"


def body_of(message: email.message.Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def invite(address: str, unit: Unit, actor: User) -> Invitation:
    invitation, _token = services.invitation_create(
        actor=actor, email=address, municipality=unit.municipality, role=Role.MANAGER, unit=unit
    )
    return invitation


def pending(**filters: Any) -> Any:
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True, **filters)


# --- Reading the file: the unit import's reader with other columns ----------------------------


def test_the_reader_is_shared_with_the_unit_import() -> None:
    spec = invitation_imports.SPEC
    # Excel's dialects as for units: a byte order mark and semicolons, English headers with
    # commas, Windows-1252, blank lines keeping their numbers, unknown columns named.
    parsed = imports.parse(
        csv_bytes(
            HEADER, "Solrosens förskola;chef@kommun.se", ";", "Kvarnskolan;b@kommun.se", bom=True
        ),
        spec=spec,
    )
    assert [(row.line, row.values) for row in parsed.rows] == [
        (2, {"unit": "Solrosens förskola", "email": "chef@kommun.se"}),
        (4, {"unit": "Kvarnskolan", "email": "b@kommun.se"}),
    ]
    english = imports.parse(
        csv_bytes("E-mail,Unit,Comment", "x@kommun.se,Åsens förskola,hej", encoding="cp1252"),
        spec=spec,
    )
    assert english.rows[0].values == {"unit": "Åsens förskola", "email": "x@kommun.se"}
    assert english.ignored_columns == ["Comment"]
    assert imports.parse(csv_bytes("unit;email", "A;a@b.se"), spec=spec).rows
    # The file-level refusals, worded for this file.
    for content, message in (
        (b"", "Filen är tom."),
        (csv_bytes("enhet;namn", "A;B"), "Filen saknar kolumnen e-post"),
        (csv_bytes(HEADER), "Filen innehåller inga rader, bara rubrikraden."),
        (b"PK\x03\x04" + b"\x00" * 40, "Excel-arbetsbok"),
    ):
        with pytest.raises(imports.ImportFileError) as error:
            imports.parse(content, spec=spec)
        assert message in str(error.value)
    lines = [HEADER, *(f"Enhet {n};a{n}@kommun.se" for n in range(imports.MAX_ROWS + 1))]
    with pytest.raises(imports.ImportFileError) as error:
        imports.parse(csv_bytes(*lines), spec=spec)
    assert re.search(r"fler än 3\s000 rader", str(error.value))
    # The unit import reads as before: its own columns, by default.
    (row,) = imports.parse(csv_bytes("namn;sektor;antal anställda", "A;Förskola;3")).rows
    assert row.values == {"name": "A", "sector": "Förskola", "headcount": "3"}


def test_a_preview_of_one_import_cannot_be_confirmed_as_the_other() -> None:
    rows = [imports.RawRow(line=2, values={"unit": "A", "email": "a@b.se"})]
    signed = imports.sign(municipality_id=1, rows=rows, spec=invitation_imports.SPEC)
    assert imports.unsign(municipality_id=1, payload=signed, spec=invitation_imports.SPEC) == rows
    with pytest.raises(signing.BadSignature):
        imports.unsign(municipality_id=1, payload=signed)


# --- Every row's status -----------------------------------------------------------------------


@pytest.fixture
def archived(municipality: Municipality) -> Unit:
    return UnitFactory.create(
        municipality=municipality, name="Gamla fritidsgården", is_active=False
    )


@pytest.mark.django_db
def test_the_preview_says_each_rows_status_in_words_and_saves_nothing(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
    unit_x: Unit,
    manager_a: User,
    archived: Unit,
) -> None:
    invite("inbjuden@kommun.se", unit_b, coordinator)
    UserFactory.create(email="slutat@kommun.se", is_active=False)
    client.force_login(coordinator)
    invitations, audited = Invitation.objects.count(), AuditEvent.objects.count()
    response = client.post(
        page_url(municipality),
        upload(
            csv_bytes(
                "enhet;e-post;kommentar",
                "SOLROSENS FÖRSKOLA;Ny.Chef@Kommun.se;",  # 2 the unit, Swedish case-insensitively
                "Kvarnskolan;ny.chef@kommun.se;",  # 3 one person, several units
                f"Solrosens förskola;{manager_a.email.upper()};",  # 4 already manages it
                "Kvarnskolan;inbjuden@kommun.se;",  # 5 a pending invitation
                "solrosens förskola;ny.chef@kommun.se;",  # 6 the same as row 2
                "Solrosens;x@kommun.se;",  # 7 no such unit
                f"{unit_x.name};x@kommun.se;",  # 8 another municipality's
                "Gamla fritidsgården;x@kommun.se;",  # 9 archived
                "Kvarnskolan;inte-en-adress;",  # 10
                "Kvarnskolan;slutat@kommun.se;",  # 11 a deactivated account
                ";x@kommun.se;",  # 12
            ),
            "chefer.csv",
        ),
    )
    page = text(response)
    assert response.status_code == 200
    assert (Invitation.objects.count(), AuditEvent.objects.count()) == (invitations, audited)
    rows = statuses(page)
    assert "Inbjudan skickas" in rows[2]
    assert ">Solrosens förskola<" in rows[2]  # the name as in the unit list
    assert "ny.chef@kommun.se" in rows[2]
    assert "Inbjudan skickas" in rows[3]
    assert "Redan enhetschef – hoppas över" in rows[4]
    assert "Inbjuden tidigare – ny inbjudan ersätter den" in rows[5]
    assert "Upprepad rad – hoppas över" in rows[6]
    assert "Samma enhet och e-postadress som rad 2" in rows[6]
    unknown = "finns inte bland kommunens aktiva enheter. Skriv namnet precis som i enhetslistan."
    assert f"Enhet: Enheten ”Solrosens” {unknown}" in rows[7]
    assert f"Enhet: Enheten ”{unit_x.name}” {unknown}" in rows[8]
    assert "Enhet: Enheten ”Gamla fritidsgården” är arkiverad." in rows[9]
    assert "E-post: Fyll i en giltig e-postadress." in rows[10]
    assert "E-post: slutat@kommun.se tillhör ett avstängt konto." in rows[11]
    assert "Enhet: Detta fält måste fyllas i." in rows[12]
    for line in range(7, 13):
        assert "Fel" in rows[line], line
    summary_links = [link.attrs["href"] for link in Page(html_of(response)).summary_links()]
    assert summary_links == [f"#rad-{line}" for line in range(7, 13)]
    assert "kommentar" in page  # the ignored column is named
    assert 'name="payload"' not in page  # nothing is sent while a row has errors


@pytest.mark.django_db
def test_a_good_file_can_be_confirmed_and_says_how_many_are_sent(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    invite("inbjuden@kommun.se", unit_b, coordinator)
    client.force_login(coordinator)
    response = client.post(
        page_url(municipality),
        upload(
            csv_bytes(HEADER, "Solrosens förskola;a@kommun.se", "Kvarnskolan;inbjuden@kommun.se")
        ),
    )
    page = text(response)
    assert payload_of(response)
    assert "Skicka 2 inbjudningar" in page
    assert "error-summary" not in page


@pytest.mark.django_db
def test_the_single_invitation_form_refuses_a_deactivated_account_as_the_file_does(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    UserFactory.create(email="slutat@kommun.se", is_active=False)
    client.force_login(coordinator)
    response = client.post(
        reverse("units:invite_manager", args=[unit_a.pk]), {"email": "Slutat@kommun.se"}
    )
    assert response.status_code == 200
    assert "slutat@kommun.se tillhör ett avstängt konto." in text(response)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_an_invitation_to_an_account_deactivated_later_cannot_be_accepted(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    person = UserFactory.create(email="slutar@kommun.se")
    _invitation, token = services.invitation_create(
        actor=coordinator,
        email=person.email,
        municipality=unit_a.municipality,
        role=Role.MANAGER,
        unit=unit_a,
    )
    person.is_active = False
    person.save()
    response = client.post(reverse("units:invitation_accept", args=[token]))
    assert response.status_code == 410
    assert "avstängt" in text(response)
    assert not UnitManager.objects.filter(user=person).exists()


# --- Confirming and sending -------------------------------------------------------------------


@pytest.mark.django_db
def test_confirming_invites_through_a_task_whose_mails_carry_working_links(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
    django_capture_on_commit_callbacks: Any,
) -> None:
    earlier = invite("ny.chef@kommun.se", unit_b, coordinator)
    mail.outbox.clear()
    client.force_login(coordinator)
    payload = preview(
        client,
        municipality,
        HEADER,
        "Solrosens förskola;Ny.Chef@kommun.se",
        "Kvarnskolan;ny.chef@kommun.se",
        "Solrosens förskola;annan.chef@kommun.se",
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(confirm_url(municipality), {"payload": payload})
    assert response.status_code == 302
    assert response["Location"] == reverse("units:people", args=[municipality.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["3 inbjudningar skickas."]
    created = list(pending(municipality=municipality).order_by("pk"))
    assert [(i.email, i.unit, i.role, i.invited_by) for i in created] == [
        ("ny.chef@kommun.se", unit_a, Role.MANAGER, coordinator),
        ("ny.chef@kommun.se", unit_b, Role.MANAGER, coordinator),
        ("annan.chef@kommun.se", unit_a, Role.MANAGER, coordinator),
    ]
    earlier.refresh_from_db()
    assert earlier.revoked_at is not None  # replaced, as invitation_create replaces
    events = AuditEvent.objects.filter(
        action="invitation.created", target_id__in=[i.pk for i in created]
    )
    assert {(e.unit_id, e.actor_id, e.municipality_id) for e in events} == {
        (unit_a.pk, coordinator.pk, municipality.pk),
        (unit_b.pk, coordinator.pk, municipality.pk),
    }
    assert events.count() == 3
    # Nothing is mailed in the request: one task per invitation, enqueued on commit, given the
    # invitation's id and nothing else (no token passes through the broker).
    assert mail.outbox == []
    sent = [c for c in callbacks if isinstance(c, functools.partial)]
    assert [(c.func, c.args, c.keywords) for c in sent] == [
        (tasks.send_invitation.delay, (invitation.pk,), {}) for invitation in created
    ]
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "annan.chef@kommun.se",
        "ny.chef@kommun.se",
        "ny.chef@kommun.se",
    ]
    message = next(m for m in mail.outbox if m.to == ["annan.chef@kommun.se"])
    assert unit_a.name in message.body
    assert message.subject == f"Inbjudan till {municipality.model_name}"
    # The link works, and only its hash is in the database.
    url = link_in(message)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert not Invitation.objects.filter(token_hash__contains=token).exists()
    assert not AuditEvent.objects.filter(changes__icontains=token).exists()
    client.logout()
    accepted = client.post(url, {"password1": PASSWORD, "password2": PASSWORD})
    assert accepted.status_code == 302
    person = User.objects.get(email="annan.chef@kommun.se")
    assert UnitManager.objects.filter(user=person, unit=unit_a).exists()


@pytest.mark.django_db
def test_the_people_page_links_to_the_file_and_lists_what_was_sent(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    people = reverse("units:people", args=[municipality.pk])
    assert page_url(municipality) in html_of(client.get(people))
    assert page_url(municipality) in html_of(client.get(reverse("units:list")))
    payload = preview(client, municipality, HEADER, "Solrosens förskola;a@kommun.se")
    client.post(confirm_url(municipality), {"payload": payload})
    assert "a@kommun.se" in text(client.get(people))


@pytest.mark.django_db
def test_the_import_mails_reach_the_smtp_server_in_each_persons_language(
    settings: Any,
    client: Client,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from followup.models import NotificationSettings

    english = make_manager(unit_b, email="english@kommun.se")
    NotificationSettings.objects.update_or_create(user=english, defaults={"language": "en"})
    server = SmtpServer()
    server.start()
    try:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 5},
            }
        }
        client.force_login(coordinator)
        payload = preview(
            client,
            municipality,
            HEADER,
            "Solrosens förskola;ny@kommun.se",
            "Solrosens förskola;english@kommun.se",
        )
        with django_capture_on_commit_callbacks(execute=True):
            client.post(confirm_url(municipality), {"payload": payload})
    finally:
        server.stop()
    bodies = {str(m["To"]): body_of(m) for m in server.sink.messages}
    assert set(bodies) == {"ny@kommun.se", "english@kommun.se"}
    assert "Du är inbjuden som enhetschef för Solrosens förskola" in bodies["ny@kommun.se"]
    assert "You have been invited" in bodies["english@kommun.se"]


@pytest.mark.django_db
def test_a_retried_task_issues_a_fresh_link_and_a_revoked_invitation_gets_none(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    (invitation,) = services.invitations_import(
        actor=coordinator,
        municipality=municipality,
        rows=imports.parse(
            csv_bytes(HEADER, "Solrosens förskola;a@kommun.se"), spec=invitation_imports.SPEC
        ).rows,
    )
    assert tasks.send_invitation(invitation.pk) is True
    assert tasks.send_invitation(invitation.pk) is True  # as a redelivery would
    first, second = (link_in(m) for m in mail.outbox)
    assert first != second
    refused = client.get(first)  # its hash is gone: only the newest link is stored
    assert refused.status_code == 410
    assert "Länken är ogiltig" in text(refused)
    assert client.get(second).status_code == 200
    services.invitation_revoke(actor=coordinator, invitation=invitation)
    assert tasks.send_invitation(invitation.pk) is False
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_mail_server_that_is_away_leaves_the_invitation_for_a_retry(
    settings: Any, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    (invitation,) = services.invitations_import(
        actor=coordinator,
        municipality=municipality,
        rows=imports.parse(
            csv_bytes(HEADER, "Solrosens förskola;a@kommun.se"), spec=invitation_imports.SPEC
        ).rows,
    )
    server = SmtpServer()  # never started: the connection is refused
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 2},
        }
    }
    with pytest.raises(ConnectionRefusedError):
        services.invitation_send(invitation_id=invitation.pk)
    assert pending(pk=invitation.pk).exists()
    # The task tries again later (each time with a fresh link).
    assert isinstance(OSError(), tasks.send_invitation.autoretry_for)  # type: ignore[attr-defined]


# --- Changes between the preview and the confirmation ----------------------------------------


@pytest.mark.django_db
def test_a_second_confirmation_of_the_same_preview_keeps_the_links_already_sent(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(coordinator)
    lines = (HEADER, "Solrosens förskola;a@kommun.se", "Kvarnskolan;b@kommun.se")
    payload = preview(client, municipality, *lines)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(municipality), {"payload": payload})
    first = set(pending().values_list("pk", flat=True))
    assert len(first) == 2
    assert len(mail.outbox) == 2
    audited = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(confirm_url(municipality), {"payload": payload})  # a second click
    assert again.status_code == 302
    assert [str(m) for m in get_messages(again.wsgi_request)][-1] == (
        "Inga nya inbjudningar skickades: alla i filen har redan fått en."
    )
    assert set(pending().values_list("pk", flat=True)) == first
    assert AuditEvent.objects.count() == audited
    assert len(mail.outbox) == 2
    # A new preview made later says so, and sending it replaces them.
    page = text(client.post(page_url(municipality), upload(csv_bytes(*lines))))
    assert page.count("Inbjuden tidigare – ny inbjudan ersätter den") == 2


@pytest.mark.django_db
def test_what_changed_after_the_preview_is_checked_again(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    client.force_login(coordinator)
    person = UserFactory.create(email="person@kommun.se")
    payload = preview(
        client,
        municipality,
        HEADER,
        "Solrosens förskola;person@kommun.se",
        "Kvarnskolan;ny@kommun.se",
    )
    UnitManager.objects.create(user=person, unit=unit_a)  # skipped, no error
    services.unit_set_archived(actor=coordinator, unit=unit_b, archived=True)
    response = client.post(confirm_url(municipality), {"payload": payload})
    page = text(response)
    assert response.status_code == 200
    assert "har ändrats sedan förhandsgranskningen" in page
    rows = statuses(page)
    assert "Redan enhetschef – hoppas över" in rows[2]
    assert "Enheten ”Kvarnskolan” är arkiverad." in rows[3]
    assert 'name="payload"' not in page
    assert not Invitation.objects.exists()
    # The person's account deactivated after the preview also stops the file.
    services.unit_set_archived(actor=coordinator, unit=unit_b, archived=False)
    other = UserFactory.create(email="slutar@kommun.se")
    payload = preview(client, municipality, HEADER, "Kvarnskolan;slutar@kommun.se")
    other.is_active = False
    other.save()
    page = text(client.post(confirm_url(municipality), {"payload": payload}))
    assert "tillhör ett avstängt konto" in page
    assert not Invitation.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["changed", "garbage", "empty", "another municipality", "units"])
def test_a_tampered_payload_is_refused(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    how: str,
) -> None:
    client.force_login(coordinator)
    payload = preview(client, municipality, HEADER, "Solrosens förskola;a@kommun.se")
    rows = imports.parse(
        csv_bytes(HEADER, "Solrosens förskola;a@kommun.se"), spec=invitation_imports.SPEC
    ).rows
    if how == "changed":
        value, signature = payload.rsplit(":", 1)
        payload = f"{value[:-2]}xx:{signature}"
    elif how == "garbage":
        payload = "inte en signerad text"
    elif how == "empty":
        payload = ""
    elif how == "another municipality":
        payload = imports.sign(
            municipality_id=other_municipality.pk, rows=rows, spec=invitation_imports.SPEC
        )
    else:  # signed by the unit import
        payload = imports.sign(municipality_id=municipality.pk, rows=rows)
    response = client.post(confirm_url(municipality), {"payload": payload})
    assert response.status_code == 400
    assert "Ladda upp filen igen" in text(response)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_an_expired_preview_is_refused(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    payload = preview(client, municipality, HEADER, "Solrosens förskola;a@kommun.se")
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=imports.PAYLOAD_MAX_AGE + 60)):
        client.force_login(coordinator)
        response = client.post(confirm_url(municipality), {"payload": payload})
    assert response.status_code == 400
    assert not Invitation.objects.exists()


# --- The pages --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_explains_the_columns_and_offers_a_template_that_reads_back(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    page = text(client.get(page_url(municipality)))
    assert "<h1>Bjud in enhetschefer från fil</h1>" in page
    template_url = reverse("units:invite_import_template", args=[municipality.pk])
    assert template_url in page
    assert 'enctype="multipart/form-data"' in page
    response = client.get(template_url)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf" + HEADER.encode())
    parsed = imports.parse(response.content, spec=invitation_imports.SPEC)
    (row,) = invitation_imports.check(municipality=municipality, rows=parsed.rows)
    assert row.status == invitation_imports.InviteStatus.SEND
    assert row.unit == unit_a


@pytest.mark.django_db
def test_the_page_in_english(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "<h1>Invite unit managers from a file</h1>" in text(client.get(page_url(municipality)))
    preview_page = text(
        client.post(
            page_url(municipality),
            upload(csv_bytes(HEADER, "Solrosens förskola;a@kommun.se", "Okänd;b@kommun.se")),
        )
    )
    assert "Invitation will be sent" in preview_page
    assert "is not one of the municipality&#x27;s active units" in preview_page


# --- Access and cost --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", 302),
        ("manager_a", 404),
        ("observer", 403),
        ("other_coordinator", 404),
        ("coordinator", None),
        ("superuser", None),
    ],
)
def test_only_the_municipalitys_coordinator_may_invite_from_a_file(
    client: Client,
    request: pytest.FixtureRequest,
    municipality: Municipality,
    unit_a: Unit,
    persona: str,
    expected: int | None,
) -> None:
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    content = csv_bytes(HEADER, "Solrosens förskola;ny@kommun.se")
    payload = imports.sign(
        municipality_id=municipality.pk,
        rows=imports.parse(content, spec=invitation_imports.SPEC).rows,
        spec=invitation_imports.SPEC,
    )
    answers = [
        client.get(page_url(municipality)),
        client.get(reverse("units:invite_import_template", args=[municipality.pk])),
        client.post(page_url(municipality), upload(content)),
        client.post(confirm_url(municipality), {"payload": payload}),
    ]
    if expected is None:
        assert [answer.status_code for answer in answers] == [200, 200, 200, 302]
        assert pending(email="ny@kommun.se", unit=unit_a).exists()
        return
    assert [answer.status_code for answer in answers] == [expected] * 4
    if expected == 302:
        assert all(answer["Location"].startswith(reverse("account_login")) for answer in answers)
    assert not Invitation.objects.exists()


@pytest.fixture
def many_units(municipality: Municipality) -> list[Unit]:
    return [UnitFactory.create(municipality=municipality, name=f"Enhet {n:03d}") for n in range(30)]


def rows_file(count: int) -> bytes:
    # Every status but errors, in the same proportions whatever the count.
    prefixes = ("ny", "chef", "inbjuden")  # new, already manager, invited before
    return csv_bytes(
        HEADER, *(f"Enhet {n:03d};{prefixes[n % 3]}{n}@kommun.se" for n in range(count))
    )


@pytest.fixture
def statuses_for_30(many_units: list[Unit], coordinator: User) -> None:
    for n, unit in enumerate(many_units):
        if n % 3 == 1:
            make_manager(unit, email=f"chef{n}@kommun.se")
        elif n % 3 == 2:
            invite(f"inbjuden{n}@kommun.se", unit, coordinator)


@pytest.mark.django_db
@pytest.mark.usefixtures("statuses_for_30")
def test_preview_and_confirm_cost_the_same_for_3_and_30_rows(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    client.get(page_url(municipality))  # the first request of a session also records it
    costs = {}
    for count in (3, 30):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(page_url(municipality), upload(rows_file(count)))
        previewed = len(queries)
        payload = payload_of(response)
        with CaptureQueriesContext(connection) as queries:
            assert client.post(confirm_url(municipality), {"payload": payload}).status_code == 302
        costs[count] = (previewed, len(queries))
    assert costs[3] == costs[30], costs


@pytest.mark.django_db
@pytest.mark.usefixtures("statuses_for_30")
def test_the_service_costs_the_same_for_3_and_30_rows(
    coordinator: User, municipality: Municipality
) -> None:
    costs = {}
    for count in (3, 30):
        rows = imports.parse(rows_file(count), spec=invitation_imports.SPEC).rows
        with CaptureQueriesContext(connection) as queries:
            created = services.invitations_import(
                actor=coordinator, municipality=municipality, rows=rows
            )
        assert len(created) == count - count // 3  # the managers are skipped
        costs[count] = len(queries)
    assert costs[3] == costs[30], costs


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_mails_and_the_broker_carries_only_ids(
    coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    """Broker → worker → mail, as in production (Redis in CI): the task is registered under its
    name, and what goes through the broker is the invitation's id, never a token."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import before_task_publish

    from jarfalla.celery import app

    published: list[tuple[str, Any]] = []

    def record(sender: str, body: Any, **kwargs: Any) -> None:
        published.append((sender, body))

    before_task_publish.connect(record, weak=False)
    app.conf.task_always_eager = False  # through the broker, not in-process
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            created = services.invitations_import(
                actor=coordinator,
                municipality=municipality,
                rows=imports.parse(
                    csv_bytes(HEADER, "Solrosens förskola;a@kommun.se", "Kvarnskolan;a@kommun.se"),
                    spec=invitation_imports.SPEC,
                ).rows,
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(mail.outbox) < 2:
                time.sleep(0.2)
    finally:
        before_task_publish.disconnect(record)
    assert sorted(m.to[0] for m in mail.outbox) == ["a@kommun.se", "a@kommun.se"]
    assert sorted((sender, list(body[0]), body[1]) for sender, body in published) == sorted(
        ("units.send_invitation", [invitation.pk], {}) for invitation in created
    )
    # Each mail's link is the one whose hash the task stored.
    hashes = set(Invitation.objects.values_list("token_hash", flat=True))
    for message in mail.outbox:
        token = link_in(message).rstrip("/").rsplit("/", 1)[1]
        assert services.invitation_for_token(token).pk in {i.pk for i in created}
        assert token not in hashes
