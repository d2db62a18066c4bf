"""The account lifecycle: deleting people in the admin is audited, and deactivating a person or
taking a role away ends what they could still use (sessions, password-reset links, the
invitations they sent)."""

import re

import pytest
from django.contrib.admin import helpers
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory, make_coordinator
from units import services
from units.models import (
    AuditEvent,
    Invitation,
    Municipality,
    MunicipalRole,
    Role,
    Unit,
    User,
)

# --- Deleting people in the admin ------------------------------------------------------------


@pytest.mark.django_db
def test_deleting_a_user_in_the_admin_is_audited(
    client: Client, superuser: User, manager_a: User, unit_a: Unit
) -> None:
    client.force_login(superuser)

    response = client.post(reverse("admin:units_user_delete", args=[manager_a.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=manager_a.pk).exists()
    event = AuditEvent.objects.get(action="user.deleted_in_admin")
    assert (event.actor, event.actor_email) == (superuser, superuser.email)
    assert (event.target_type, event.target_id) == ("user", manager_a.pk)
    assert event.changes["email"] == ["chef.a@example.se", None]
    # Filed under the municipality the person worked in, so its coordinators see it too.
    assert event.municipality == unit_a.municipality


@pytest.mark.django_db
def test_deleting_users_in_bulk_in_the_admin_is_audited(
    client: Client, superuser: User, manager_a: User, observer: User, municipality: Municipality
) -> None:
    loner = UserFactory.create(email="ingen.roll@example.se")
    client.force_login(superuser)

    response = client.post(
        reverse("admin:units_user_changelist"),
        {
            "action": "delete_selected",
            helpers.ACTION_CHECKBOX_NAME: [manager_a.pk, observer.pk, loner.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[manager_a.pk, observer.pk, loner.pk]).exists()
    events = AuditEvent.objects.filter(action="user.deleted_in_admin")
    assert {(e.changes["email"][0], e.municipality_id, e.actor_email) for e in events} == {
        ("chef.a@example.se", municipality.pk, superuser.email),
        ("fou@example.se", municipality.pk, superuser.email),
        ("ingen.roll@example.se", None, superuser.email),
    }


@pytest.mark.django_db
def test_changing_a_user_in_the_admin_is_audited_without_the_password(
    client: Client, superuser: User, user: User
) -> None:
    client.force_login(superuser)
    response = client.post(
        reverse("admin:units_user_change", args=[user.pk]),
        {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": user.date_joined.date().isoformat(),
            "date_joined_1": "10:00:00",
            "initial-date_joined_0": user.date_joined.date().isoformat(),
            "initial-date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="user.changed_in_admin")
    assert event.actor == superuser
    assert event.changes["is_superuser"] == [False, True]
    assert event.changes["is_active"] == [True, False]
    assert "password" not in str(event.changes)


# --- Invitations stop when their sender loses the right to send them --------------------------


def invite(actor: User, municipality: Municipality, email: str, role: str = Role.OBSERVER) -> str:
    _invitation, token = services.invitation_create(
        actor=actor, email=email, municipality=municipality, role=role
    )
    return token


@pytest.mark.django_db
def test_pending_invitations_stop_when_the_sender_stops_coordinating(
    coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    colleague = make_coordinator(municipality)
    theirs = invite(coordinator, municipality, "ny@example.se", Role.COORDINATOR)
    _manager_invitation, for_unit = services.invitation_create(
        actor=coordinator,
        email="chef@example.se",
        municipality=municipality,
        role=Role.MANAGER,
        unit=unit_a,
    )
    kept = invite(colleague, municipality, "annan@example.se")

    services.municipal_role_set(
        actor=colleague, municipality=municipality, user=coordinator, role=Role.OBSERVER
    )

    for token in (theirs, for_unit):
        with pytest.raises(services.InvitationError, match="återkallats"):
            services.invitation_for_token(token)
    assert services.invitation_for_token(kept).email == "annan@example.se"
    revoked = AuditEvent.objects.filter(action="invitation.revoked")
    assert {e.target_id for e in revoked} == set(
        Invitation.objects.filter(invited_by=coordinator).values_list("pk", flat=True)
    )
    assert all(e.municipality_id == municipality.pk for e in revoked)


@pytest.mark.django_db
def test_pending_invitations_stop_when_the_senders_role_is_deleted(
    coordinator: User, municipality: Municipality, other_municipality: Municipality
) -> None:
    MunicipalRole.objects.create(
        user=coordinator, municipality=other_municipality, role=Role.COORDINATOR
    )
    here = invite(coordinator, municipality, "ny@example.se")
    there = invite(coordinator, other_municipality, "ny@example.se")

    MunicipalRole.objects.filter(user=coordinator, municipality=municipality).delete()  # admin

    with pytest.raises(services.InvitationError, match="återkallats"):
        services.invitation_for_token(here)
    assert services.invitation_for_token(there).municipality == other_municipality


@pytest.mark.django_db
def test_pending_invitations_stop_when_the_sender_is_deactivated(
    coordinator: User, municipality: Municipality
) -> None:
    token = invite(coordinator, municipality, "ny@example.se")

    coordinator.is_active = False
    coordinator.save()
    coordinator.is_active = True
    coordinator.save()

    with pytest.raises(services.InvitationError, match="återkallats"):
        services.invitation_for_token(token)


@pytest.mark.django_db
def test_a_new_invitation_to_the_same_place_replaces_one_with_another_role(
    coordinator: User, municipality: Municipality
) -> None:
    as_coordinator = invite(coordinator, municipality, "ny@example.se", Role.COORDINATOR)

    as_observer = invite(coordinator, municipality, "ny@example.se", Role.OBSERVER)

    with pytest.raises(services.InvitationError, match="ersatts av en nyare"):
        services.invitation_for_token(as_coordinator)
    assert services.invitation_for_token(as_observer).role == Role.OBSERVER


# --- Deactivation ends sessions and password-reset links --------------------------------------


@pytest.mark.django_db
def test_deactivation_ends_sessions_for_good(user: User) -> None:
    browser = Client()
    browser.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    assert browser.get(reverse("my_account")).status_code == 200

    user.is_active = False
    user.save()
    user.is_active = True
    user.save()

    response = browser.get(reverse("my_account"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    # A fresh login works as before.
    browser.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    assert browser.get(reverse("my_account")).status_code == 200


@pytest.mark.django_db
def test_deactivation_invalidates_password_reset_links(user: User) -> None:
    Client().post(reverse("account_reset_password"), {"email": user.email})
    match = re.search(r"/accounts/password/reset/key/\S+/", str(mail.outbox[-1].body))
    assert match is not None
    link = match.group(0)

    user.is_active = False
    user.save()
    user.is_active = True
    user.save()

    page = Client().get(link, follow=True)
    assert page.status_code == 200
    assert 'name="password1"' not in page.content.decode()
    assert User.objects.get(pk=user.pk).check_password(DEFAULT_PASSWORD)


@pytest.mark.django_db
def test_reset_link_still_works_for_an_active_account(user: User) -> None:
    Client().post(reverse("account_reset_password"), {"email": user.email})
    match = re.search(r"/accounts/password/reset/key/\S+/", str(mail.outbox[-1].body))
    assert match is not None
    user.save()  # an ordinary save (e.g. the admin) changes nothing

    page = Client().get(match.group(0), follow=True)

    assert 'name="password1"' in page.content.decode()
