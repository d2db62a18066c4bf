"""A coordinator's role moved to another person in the admin (the role's "user" changed in
place): the person who had it loses what the role backed, as when it is removed (the pending
invitations they sent, their private calendar address)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from training import services as training_services
from training.models import CalendarFeed
from units import services
from units.models import Municipality, MunicipalRole, Role, User


@pytest.mark.django_db
def test_moving_a_coordinator_role_to_someone_else_in_the_admin_ends_what_it_backed(
    client: Client, superuser: User, coordinator: User, municipality: Municipality
) -> None:
    successor = UserFactory.create(email="efterträdare@example.se")
    _invitation, token = services.invitation_create(
        actor=coordinator, email="ny@example.se", municipality=municipality, role=Role.OBSERVER
    )
    _feed, _feed_token = training_services.calendar_feed_renew(user=coordinator)
    role = MunicipalRole.objects.get(user=coordinator, municipality=municipality)
    client.force_login(superuser)

    response = client.post(
        reverse("admin:units_municipalrole_change", args=[role.pk]),
        {"user": successor.pk, "municipality": municipality.pk, "role": Role.COORDINATOR},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert MunicipalRole.objects.get(pk=role.pk).user == successor
    with pytest.raises(services.InvitationError, match="återkallats"):
        services.invitation_for_token(token)
    assert not CalendarFeed.objects.filter(user=coordinator).exists()


@pytest.mark.django_db
def test_a_role_saved_again_by_the_same_person_takes_nothing_away(
    coordinator: User, municipality: Municipality
) -> None:
    _invitation, token = services.invitation_create(
        actor=coordinator, email="ny@example.se", municipality=municipality, role=Role.OBSERVER
    )
    training_services.calendar_feed_renew(user=coordinator)
    role = MunicipalRole.objects.get(user=coordinator, municipality=municipality)

    role.save()
    coordinator.first_name = "Ny"
    coordinator.save()

    assert services.invitation_for_token(token).email == "ny@example.se"
    assert CalendarFeed.objects.filter(user=coordinator).exists()
