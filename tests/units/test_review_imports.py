"""Review of the unit import and the invitation import: what the send task does when things
changed after the confirmation, the people page's list of invitations, and the coordinator and
observer form's refusal of a deactivated account."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.units.test_import import csv_bytes, text
from units import imports, invitation_imports, services, tasks
from units.models import Invitation, Municipality, MunicipalRole, Role, Unit, UnitManager, User

HEADER = "enhet;e-post"


def imported(coordinator: User, municipality: Municipality, *lines: str) -> list[Invitation]:
    return services.invitations_import(
        actor=coordinator,
        municipality=municipality,
        rows=imports.parse(csv_bytes(HEADER, *lines), spec=invitation_imports.SPEC).rows,
    )


def is_pending(invitation: Invitation) -> bool:
    invitation.refresh_from_db()
    return invitation.accepted_at is None and invitation.revoked_at is None


# --- The people page's form -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_people_form_refuses_a_deactivated_account_as_the_manager_form_does(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    UserFactory.create(email="slutat@kommun.se", is_active=False)
    client.force_login(coordinator)
    response = client.post(
        reverse("units:people", args=[municipality.pk]),
        {"email": "Slutat@kommun.se", "role": Role.OBSERVER},
    )
    assert response.status_code == 200
    page = text(response)
    assert invitation_imports.deactivated_account("slutat@kommun.se") in page
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_people_form_still_invites_an_active_account(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    UserFactory.create(email="aktiv@kommun.se")
    client.force_login(coordinator)
    response = client.post(
        reverse("units:people", args=[municipality.pk]),
        {"email": "aktiv@kommun.se", "role": Role.OBSERVER},
    )
    assert response.status_code == 302
    assert Invitation.objects.filter(email="aktiv@kommun.se", role=Role.OBSERVER).exists()


# --- The send task, when things changed after the confirmation --------------------------------


@pytest.mark.django_db
def test_the_task_mails_no_link_for_a_unit_archived_meanwhile(
    coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    (invitation,) = imported(coordinator, municipality, f"{unit_a.name};a@kommun.se")
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    assert tasks.send_invitation(invitation.pk) is False
    assert mail.outbox == []
    assert not is_pending(invitation)


@pytest.mark.django_db
def test_the_task_mails_no_link_to_an_account_deactivated_meanwhile(
    coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    person = UserFactory.create(email="slutar@kommun.se")
    (invitation,) = imported(coordinator, municipality, f"{unit_a.name};slutar@kommun.se")
    person.is_active = False
    person.save()
    assert tasks.send_invitation(invitation.pk) is False
    assert mail.outbox == []
    assert not is_pending(invitation)


@pytest.mark.django_db
def test_the_task_mails_no_link_once_the_inviter_lost_the_role(
    coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    (invitation,) = imported(coordinator, municipality, f"{unit_a.name};a@kommun.se")
    MunicipalRole.objects.filter(user=coordinator).delete()
    assert tasks.send_invitation(invitation.pk) is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_task_mails_no_link_once_the_inviters_account_is_deleted(
    coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    (invitation,) = imported(coordinator, municipality, f"{unit_a.name};a@kommun.se")
    coordinator.delete()  # invited_by becomes NULL: nobody's authority backs the invitation
    assert tasks.send_invitation(invitation.pk) is False
    assert mail.outbox == []
    assert not is_pending(invitation)


@pytest.mark.django_db
def test_the_task_still_mails_a_backed_invitation(
    coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    (invitation,) = imported(coordinator, municipality, f"{unit_a.name};a@kommun.se")
    assert tasks.send_invitation(invitation.pk) is True
    assert [m.to for m in mail.outbox] == [["a@kommun.se"]]
    assert is_pending(invitation)


# --- The people page's list of invitations ----------------------------------------------------


@pytest.mark.django_db
def test_the_people_page_names_the_unit_of_each_manager_invitation(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    imported(
        coordinator,
        municipality,
        f"{unit_a.name};samma@kommun.se",
        f"{unit_b.name};samma@kommun.se",
    )
    client.force_login(coordinator)
    page = text(client.get(reverse("units:people", args=[municipality.pk])))
    assert f"samma@kommun.se – enhetschef för {unit_a.name}" in page
    assert f"samma@kommun.se – enhetschef för {unit_b.name}" in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(client.get(reverse("units:people", args=[municipality.pk])))
    assert f"samma@kommun.se – unit manager of {unit_a.name}" in page
    # The unit's own page lists only its invitations and does not repeat its name.
    unit_page = text(client.get(reverse("units:detail", args=[unit_a.pk])))
    assert "samma@kommun.se" in unit_page
    assert "unit manager of" not in unit_page


# --- Addresses the invitation cannot store ----------------------------------------------------

# Valid by the form's EmailField (at most 320 characters) but longer than Invitation.email's 254.
TOO_LONG = "a" * 250 + "@kommun.se"


@pytest.mark.django_db
def test_an_address_too_long_to_store_is_a_row_error_not_a_server_error(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    rows = imports.parse(
        csv_bytes(HEADER, f"{unit_a.name};{TOO_LONG}"), spec=invitation_imports.SPEC
    ).rows
    (row,) = invitation_imports.check(municipality=municipality, rows=rows)
    assert row.status == invitation_imports.InviteStatus.ERROR
    (error,) = row.errors
    assert error.startswith("E-post: ")
    assert "254" in error
    with pytest.raises(imports.ImportRowsError):
        services.invitations_import(actor=coordinator, municipality=municipality, rows=rows)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_the_single_forms_refuse_an_address_too_long_to_store(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    for url, data in (
        (reverse("units:invite_manager", args=[unit_a.pk]), {"email": TOO_LONG}),
        (reverse("units:people", args=[municipality.pk]), {"email": TOO_LONG, "role": "observer"}),
    ):
        response = client.post(url, data)
        assert response.status_code == 200
        assert "254" in text(response)
    assert not Invitation.objects.exists()


# --- A link already sent, for a unit archived since -------------------------------------------


@pytest.mark.django_db
def test_a_link_for_a_unit_archived_since_cannot_be_accepted(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    _invitation, token = services.invitation_create(
        actor=coordinator,
        email="ny@kommun.se",
        municipality=unit_a.municipality,
        role=Role.MANAGER,
        unit=unit_a,
    )
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    url = reverse("units:invitation_accept", args=[token])
    shown = client.get(url)
    assert shown.status_code == 410
    assert "Enheten är arkiverad." in text(shown)
    password = "ett-långt-och-bra-lösenord"
    refused = client.post(url, {"password1": password, "password2": password})
    assert refused.status_code == 410
    assert not User.objects.filter(email="ny@kommun.se").exists()
    assert not UnitManager.objects.filter(unit=unit_a).exists()
