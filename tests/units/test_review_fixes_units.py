"""Fixes after the reviewers used the product: removing a manager or a role asks first and says
who loses what; the audit log speaks in words, not codes; an invitation opened while signed in
as someone else says so before any password is chosen; a deactivated account is told what to
do; the admin names RegionalObserver's fields in Swedish."""

import re
from html import unescape

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from rollout import interventions
from tests.factories import UnitFactory, make_coordinator, make_manager, make_observer
from units import services
from units.models import (
    AuditEvent,
    MunicipalRole,
    PreventionLevel,
    RegionalObserver,
    Role,
    Unit,
    UnitKind,
    UnitManager,
    User,
)

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- 1. Removing a unit manager or a municipal role asks first -------------------------------


def test_removing_a_manager_asks_first_and_says_what_the_person_loses(
    client: Client, coordinator: User, unit_a: Unit, unit_b: Unit
) -> None:
    manager = make_manager(unit_a, unit_b, email="chef@example.se")
    membership = UnitManager.objects.get(user=manager, unit=unit_a)
    url = reverse("units:manager_remove", args=[unit_a.pk, membership.pk])
    client.force_login(coordinator)

    detail = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert f'href="{url}"' in detail
    assert f'action="{url}"' not in detail

    page = client.get(url)
    assert page.status_code == 200
    shown = text(page.content.decode())
    assert "Ta bort chef@example.se som enhetschef för Solrosens förskola?" in shown
    assert "kan inte längre se eller ändra Solrosens förskola" in shown
    assert "får inga fler påminnelser om enheten" in shown
    assert "Hen är fortfarande enhetschef för Kvarnskolan." in shown
    assert "Enheten har sedan ingen enhetschef i verktyget." in shown
    assert f'<form method="post" action="{url}">' in page.content.decode()
    assert UnitManager.objects.filter(pk=membership.pk).exists()

    done = client.post(url)
    assert done.status_code == 302
    assert not UnitManager.objects.filter(pk=membership.pk).exists()


def test_removing_a_manager_who_also_has_a_role_says_they_still_see_the_unit(
    client: Client, coordinator: User, unit_a: Unit, manager_b: User
) -> None:
    observer_manager = make_observer(unit_a.municipality, email="fou.chef@example.se")
    membership = UnitManager.objects.create(user=observer_manager, unit=unit_a)
    client.force_login(coordinator)

    page = client.get(reverse("units:manager_remove", args=[unit_a.pk, membership.pk]))

    shown = text(page.content.decode())
    assert "Hen har kvar rollen Observatör i Järfälla och kan fortfarande läsa om enheten." in (
        shown
    )
    assert "kan inte längre se eller ändra" not in shown


def test_removing_a_role_asks_first_and_says_what_the_person_loses(
    client: Client, coordinator: User, unit_b: Unit
) -> None:
    observer = make_observer(unit_b.municipality, email="fou@example.se")
    UnitManager.objects.create(user=observer, unit=unit_b)
    role = MunicipalRole.objects.get(user=observer)
    url = reverse("units:role_remove", args=[unit_b.municipality_id, role.pk])
    client.force_login(coordinator)

    people = client.get(reverse("units:people", args=[unit_b.municipality_id])).content.decode()
    assert f'href="{url}"' in people
    assert f'action="{url}"' not in people

    page = client.get(url)
    assert page.status_code == 200
    shown = text(page.content.decode())
    assert "Ta bort rollen Observatör för fou@example.se?" in shown
    assert "ser inte längre kommunens enheter, översikten eller rapporterna" in shown
    assert "Hen är fortfarande enhetschef för Kvarnskolan" in shown
    assert MunicipalRole.objects.filter(pk=role.pk).exists()

    assert client.post(url).status_code == 302
    assert not MunicipalRole.objects.filter(pk=role.pk).exists()


def test_removing_the_last_coordinator_is_refused_on_the_confirmation_page(
    client: Client, coordinator: User, municipality: object
) -> None:
    role = MunicipalRole.objects.get(user=coordinator)
    url = reverse("units:role_remove", args=[role.municipality_id, role.pk])
    client.force_login(coordinator)

    page = client.get(url).content.decode()

    assert "Kommunen måste ha minst en samordnare." in text(page)
    assert f'action="{url}"' not in page


def test_removing_ones_own_role_says_access_ends_at_once(client: Client, coordinator: User) -> None:
    make_coordinator(coordinator.municipal_roles.get().municipality, email="andra@example.se")
    role = MunicipalRole.objects.get(user=coordinator)
    client.force_login(coordinator)

    page = client.get(reverse("units:role_remove", args=[role.municipality_id, role.pk]))

    assert "Du tar bort din egen roll" in text(page.content.decode())


# --- 2. The audit log in words ----------------------------------------------------------------


def test_the_audit_log_shows_actions_fields_and_values_in_words(
    client: Client, coordinator: User, unit_a: Unit, unit_b: Unit
) -> None:
    municipality = unit_a.municipality
    unit = services.unit_create(
        actor=coordinator,
        municipality=municipality,
        name="Föreningen Gemenskap",
        sector=unit_a.sector,
        kind=UnitKind.ASSOCIATION,
        duty_to_report=False,
        headcount=4,
        functional_email="",
    )
    services.unit_set_archived(actor=coordinator, unit=unit, archived=True)
    interventions.intervention_create(
        actor=coordinator,
        municipality=municipality,
        name="Samtalsstöd",
        level=PreventionLevel.INDICATED,
        target_group="Unga",
        owner_sector=unit_a.sector,
        participating_units=[unit_a, unit_b],
    )
    AuditEvent.objects.create(
        municipality=municipality,
        action="mystery.happened",
        target_type="mystery",
        target_repr="Något",
        changes={"odd_field": [None, "x"]},
    )
    client.force_login(coordinator)

    page = client.get(reverse("units:audit", args=[municipality.pk])).content.decode()
    shown = text(page).replace(" :", ":")  # the field's label is in its own element

    assert "Enheten arkiverades" in shown
    assert "Enhet skapades" in shown
    assert "Insats lades till" in shown
    assert "aktiv: Ja → Nej" in shown
    assert "typ: – → Förening eller nätverk" in shown
    assert "anmälningsskyldighet: – → Nej" in shown
    assert "preventionsnivå: – → Indikerad (kända individer)" in shown
    assert "deltagande enheter: – → Kvarnskolan, Solrosens förskola" in shown
    for code in ("unit.archived", "intervention.created", "is_active", "indicated", "['"):
        assert code not in shown
    # Unknown actions and fields fall back to their codes.
    assert "mystery.happened" in shown
    assert "odd_field: – → x" in shown
    # In English too, where a label can read like the field's name ("target group").
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    shown = text(client.get(reverse("units:audit", args=[municipality.pk])).content.decode())
    shown = shown.replace(" :", ":")
    assert "target group: – → Unga" in shown
    assert "participating units: – → Kvarnskolan, Solrosens förskola" in shown
    for code in ("target_group", "participating_units", "duty_to_report"):
        assert code not in shown


# --- 3. An invitation opened while signed in as someone else ---------------------------------


def test_an_invitation_opened_while_signed_in_as_someone_else_says_so_before_a_password(
    client: Client, coordinator: User, manager_b: User, unit_a: Unit
) -> None:
    _invitation, token = services.invitation_create(
        actor=coordinator,
        email="ny.chef@example.se",
        municipality=unit_a.municipality,
        role=Role.MANAGER,
        unit=unit_a,
    )
    link = reverse("units:invitation_accept", args=[token])
    client.force_login(manager_b)

    page = client.get(link).content.decode()

    assert 'name="password1"' not in page
    assert "Du är inloggad som chef.b@example.se" in text(page)
    assert "ny.chef@example.se" in text(page)
    assert f'action="{reverse("account_logout")}"' in page
    assert f'name="next" value="{link}"' in page
    assert "Till inloggningen" not in page
    # Posting anyway changes nothing and says the same.
    refused = client.post(link, {"password1": "x", "password2": "x"})
    assert refused.status_code == 409
    assert "Du är inloggad som chef.b@example.se" in text(refused.content.decode())
    assert not User.objects.filter(email="ny.chef@example.se").exists()
    # The log-out button leads back to the link, now with the password form.
    logged_out = client.post(reverse("account_logout"), {"next": link})
    assert logged_out["Location"] == link
    assert 'name="password1"' in client.get(link).content.decode()


def test_a_used_invitation_does_not_offer_the_login_to_someone_signed_in(
    client: Client, manager_a: User
) -> None:
    client.force_login(manager_a)

    page = client.get(reverse("units:invitation_accept", args=["ogiltig"]))

    assert page.status_code == 410
    assert "Till inloggningen" not in page.content.decode()
    assert reverse("home") in page.content.decode()


# --- 4. A deactivated account --------------------------------------------------------------


def test_the_inactive_page_says_the_account_is_deactivated_and_who_can_turn_it_on(
    client: Client,
) -> None:
    shown = text(client.get(reverse("account_inactive")).content.decode())

    assert "Kontot är avstängt" in shown
    assert "samordnare" in shown
    assert "administratören" in shown


def test_a_password_reset_for_a_deactivated_account_says_it_is_deactivated(
    client: Client,
) -> None:
    person = make_manager(UnitFactory.create(), email="avstangd@example.se")
    person.is_active = False
    person.save()

    client.post(reverse("account_reset_password"), {"email": "avstangd@example.se"})

    body = str(mail.outbox[-1].body)
    assert mail.outbox[-1].to == ["avstangd@example.se"]
    assert "avstängt" in body
    assert "be samordnaren om en inbjudan" not in body
    assert "/accounts/password/reset/key/" not in body


def test_a_password_reset_for_an_unknown_address_still_says_there_is_no_account(
    client: Client, db: None
) -> None:
    client.post(reverse("account_reset_password"), {"email": "okand@example.se"})

    body = str(mail.outbox[-1].body)
    assert "det finns inget konto med den adressen" in body
    assert "avstängt" not in body


# --- 5. RegionalObserver in the Swedish admin -------------------------------------------------


def test_regional_observer_fields_have_swedish_names() -> None:
    assert str(RegionalObserver._meta.get_field("user").verbose_name) == "användare"
    assert str(RegionalObserver._meta.get_field("created_at").verbose_name) == "skapad"
