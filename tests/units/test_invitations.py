"""Invitations: single-use, expiring links that set the password and the role."""

import datetime as dt
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import make_manager
from units import services
from units.models import AuditEvent, Invitation, MunicipalRole, Role, Unit, UnitManager, User

PASSWORD = "ett-långt-och-bra-lösenord"


def link_in(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://\S+/invitations/accept/(\S+)/", str(message.body))
    assert found, message.body
    return f"/invitations/accept/{found.group(1)}/"


@pytest.mark.django_db
def test_invite_manager_sends_one_email_with_a_working_link(
    client: Client, coordinator: User, unit_a: Unit, django_capture_on_commit_callbacks
) -> None:
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("units:invite_manager", args=[unit_a.pk]), {"email": "Ny.Chef@Example.se"}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ny.chef@example.se"]
    assert unit_a.name in message.body
    invitation = Invitation.objects.get()
    assert invitation.role == Role.MANAGER
    assert invitation.unit == unit_a
    # Only a hash is stored: the token in the link is not in the database.
    token = link_in(message).rstrip("/").rsplit("/", 1)[1]
    assert token not in invitation.token_hash
    assert AuditEvent.objects.filter(action="invitation.created", unit=unit_a).count() == 1


@pytest.mark.django_db
def test_accepting_creates_the_account_with_password_and_role(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    _invitation, token = services.invitation_create(
        actor=coordinator,
        email="ny@example.se",
        municipality=unit_a.municipality,
        role=Role.MANAGER,
        unit=unit_a,
    )
    url = reverse("units:invitation_accept", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert unit_a.name in page.content.decode()
    response = client.post(url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="ny@example.se")
    assert user.check_password(PASSWORD)
    assert UnitManager.objects.filter(user=user, unit=unit_a).exists()
    assert EmailAddress.objects.get(user=user).verified
    # Logged in straight away, and the link is spent.
    assert client.get(reverse("units:list")).status_code == 200
    again = Client().get(url)
    assert again.status_code == 410
    assert "redan använts" in again.content.decode()


@pytest.mark.django_db
def test_weak_or_mismatched_passwords_are_explained(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    _invitation, token = services.invitation_create(
        actor=coordinator,
        email="ny@example.se",
        municipality=unit_a.municipality,
        role=Role.MANAGER,
        unit=unit_a,
    )
    url = reverse("units:invitation_accept", args=[token])
    short = client.post(url, {"password1": "kort", "password2": "kort"})
    assert short.status_code == 200
    assert "Formuläret innehåller fel" in short.content.decode()
    mismatch = client.post(url, {"password1": PASSWORD, "password2": PASSWORD + "x"})
    assert "Lösenorden är inte likadana." in mismatch.content.decode()
    assert not User.objects.filter(email="ny@example.se").exists()


@pytest.mark.django_db
def test_existing_account_gets_the_role_without_a_new_password(
    client: Client, coordinator: User, unit_a: Unit, unit_b: Unit
) -> None:
    manager = make_manager(unit_a, email="chef@example.se")
    _invitation, token = services.invitation_create(
        actor=coordinator,
        email="chef@example.se",
        municipality=unit_b.municipality,
        role=Role.MANAGER,
        unit=unit_b,
    )
    response = client.post(reverse("units:invitation_accept", args=[token]))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert set(manager.managed_units.values_list("unit_id", flat=True)) == {unit_a.pk, unit_b.pk}


@pytest.mark.django_db
def test_reinviting_replaces_the_earlier_link(coordinator: User, unit_a: Unit) -> None:
    first, first_token = services.invitation_create(
        actor=coordinator,
        email="ny@example.se",
        municipality=unit_a.municipality,
        role=Role.MANAGER,
        unit=unit_a,
    )
    _second, second_token = services.invitation_resend(actor=coordinator, invitation=first)
    with pytest.raises(services.InvitationError, match="ersatts av en nyare"):
        services.invitation_for_token(first_token)
    assert services.invitation_for_token(second_token).email == "ny@example.se"


@pytest.mark.django_db
def test_revoked_expired_and_forged_links_are_refused(
    client: Client, coordinator: User, municipality
) -> None:
    revoked, revoked_token = services.invitation_create(
        actor=coordinator, email="a@example.se", municipality=municipality, role=Role.OBSERVER
    )
    services.invitation_revoke(actor=coordinator, invitation=revoked)
    _expiring, expiring_token = services.invitation_create(
        actor=coordinator, email="b@example.se", municipality=municipality, role=Role.OBSERVER
    )
    cases = {
        revoked_token: "återkallats",
        "förfalskad-token": "ogiltig",
    }
    for token, reason in cases.items():
        response = client.get(reverse("units:invitation_accept", args=[token]))
        assert response.status_code == 410
        assert reason in response.content.decode()
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(days=8)):
        response = client.post(
            reverse("units:invitation_accept", args=[expiring_token]),
            {"password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 410
    assert "gått ut" in response.content.decode()
    assert not User.objects.filter(email="b@example.se").exists()


@pytest.mark.django_db
def test_accepting_while_logged_in_as_someone_else_is_refused(
    client: Client, coordinator: User, municipality, manager_a: User
) -> None:
    _invitation, token = services.invitation_create(
        actor=coordinator, email="fou2@example.se", municipality=municipality, role=Role.OBSERVER
    )
    client.force_login(manager_a)
    response = client.post(
        reverse("units:invitation_accept", args=[token]),
        {"password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 409
    assert "Du är inloggad som chef.a@example.se" in response.content.decode()
    assert not MunicipalRole.objects.filter(user__email="fou2@example.se").exists()


@pytest.mark.django_db
def test_coordinator_invites_observer_from_the_people_page(
    client: Client, coordinator: User, municipality, django_capture_on_commit_callbacks
) -> None:
    client.force_login(coordinator)
    url = reverse("units:people", args=[municipality.pk])
    bad = client.post(url, {"email": "inte-en-adress", "role": "observer"})
    assert bad.status_code == 200
    assert "Formuläret innehåller fel" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "fou@kommun.example.se", "role": "observer"})
    assert response.status_code == 302
    assert mail.outbox[0].to == ["fou@kommun.example.se"]
    token_url = link_in(mail.outbox[0])
    Client().post(token_url, {"password1": PASSWORD, "password2": PASSWORD})
    role = MunicipalRole.objects.get(user__email="fou@kommun.example.se")
    assert (role.municipality, role.role) == (municipality, Role.OBSERVER)


@pytest.mark.django_db
def test_last_coordinator_cannot_be_removed(
    client: Client, coordinator: User, municipality
) -> None:
    client.force_login(coordinator)
    membership = MunicipalRole.objects.get(user=coordinator)
    response = client.post(
        reverse("units:role_remove", args=[municipality.pk, membership.pk]), follow=True
    )
    assert "minst en samordnare" in response.content.decode()
    assert MunicipalRole.objects.filter(pk=membership.pk).exists()


@pytest.mark.django_db
def test_last_coordinator_is_protected_in_the_service(coordinator: User, municipality) -> None:
    membership = MunicipalRole.objects.get(user=coordinator)
    with pytest.raises(services.LastCoordinatorError):
        services.municipal_role_remove(actor=coordinator, membership=membership)
    assert MunicipalRole.objects.filter(pk=membership.pk).exists()


@pytest.mark.django_db
def test_people_page_lists_unanswered_invitations_a_page_at_a_time(
    client: Client,
    coordinator: User,
    municipality,
    unit_a: Unit,
    django_assert_max_num_queries,
) -> None:
    from units.views import INVITATIONS_PER_PAGE

    def invite(number: int, **kwargs) -> Invitation:
        return services.invitation_create(
            actor=coordinator,
            email=f"person{number}@kommun.example.se",
            municipality=municipality,
            **({"role": Role.OBSERVER} | kwargs),
        )[0]

    client.force_login(coordinator)
    url = reverse("units:people", args=[municipality.pk])
    client.get(url)  # the first request after login also records the session
    invite(0)
    with django_assert_max_num_queries(30) as few:
        assert "person0@kommun.example.se" in client.get(url).content.decode()

    answered = invite(1)
    Invitation.objects.filter(pk=answered.pk).update(accepted_at=answered.created_at)
    services.invitation_revoke(actor=coordinator, invitation=invite(2))
    expired = invite(3, role=Role.MANAGER, unit=unit_a)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=expired.created_at)
    for number in range(4, INVITATIONS_PER_PAGE + 4):  # 2 + 50 unanswered in all
        invite(number)
    with django_assert_max_num_queries(len(few)):
        first = client.get(url).content.decode()
    assert first.count(">Skicka ny länk<") == INVITATIONS_PER_PAGE
    assert f"Inbjudan 1–{INVITATIONS_PER_PAGE} av {INVITATIONS_PER_PAGE + 2}" in first
    assert f"person{INVITATIONS_PER_PAGE + 3}@" in first  # the newest first
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count(">Skicka ny länk<") == 2
    assert "person0@" in second
    assert "person3@" in second  # expired, still to be resent or revoked
    assert "Har gått ut" in second
    for gone in ("person1@", "person2@"):  # accepted, revoked
        assert gone not in first
        assert gone not in second


@pytest.mark.django_db
def test_an_invitation_never_takes_the_last_coordinator_away(
    client: Client, coordinator: User, municipality, django_capture_on_commit_callbacks
) -> None:
    client.force_login(coordinator)
    url = reverse("units:people", args=[municipality.pk])
    refused = client.post(url, {"email": coordinator.email, "role": "observer"})
    assert "Personen är samordnare i kommunen." in refused.content.decode()
    assert not Invitation.objects.exists()

    # One made another way (or before the page checked) is accepted without lowering the role.
    _invitation, token = services.invitation_create(
        actor=coordinator, email=coordinator.email, municipality=municipality, role=Role.OBSERVER
    )
    services.invitation_accept(token=token, password=None, current_user=coordinator)
    assert list(MunicipalRole.objects.values_list("user__email", "role")) == [
        (coordinator.email, Role.COORDINATOR)
    ]
    # And the service that sets roles keeps the last coordinator, as removing does.
    with pytest.raises(services.LastCoordinatorError):
        services.municipal_role_set(
            actor=coordinator, municipality=municipality, user=coordinator, role=Role.OBSERVER
        )
    assert MunicipalRole.objects.get().role == Role.COORDINATOR


@pytest.mark.django_db
def test_an_accepted_invitation_cannot_be_revoked_and_says_so(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    invitation, token = services.invitation_create(
        actor=coordinator,
        email="ny@example.se",
        municipality=unit_a.municipality,
        role=Role.MANAGER,
        unit=unit_a,
    )
    services.invitation_accept(token=token, password=PASSWORD)
    client.force_login(coordinator)
    response = client.post(reverse("units:invitation_revoke", args=[invitation.pk]), follow=True)
    page = response.content.decode()
    assert "ny@example.se har redan tackat ja. Ta bort personens roll i stället." in page
    assert "är återkallad" not in page
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert UnitManager.objects.filter(unit=unit_a, user__email="ny@example.se").exists()


@pytest.mark.django_db
def test_the_invitation_subject_is_plain_text(
    coordinator: User, unit_a: Unit, django_capture_on_commit_callbacks
) -> None:
    unit_a.municipality.model_name = "Heder & trygghet"
    unit_a.municipality.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(
            actor=coordinator,
            email="ny@example.se",
            municipality=unit_a.municipality,
            role=Role.MANAGER,
            unit=unit_a,
        )
    [message] = mail.outbox
    assert message.subject == "Inbjudan till Heder & trygghet"  # not "Heder &amp; trygghet"
