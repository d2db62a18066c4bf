"""The coordinator's private calendar feed as a credential: only a digest of its token is
stored, the address is shown once, and it is revoked when its owner is deactivated or stops
being a coordinator."""

import hashlib
import re
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory, make_coordinator
from training import services
from training.models import CalendarFeed
from units import services as unit_services
from units.models import AuditEvent, Municipality, MunicipalRole, Role, User


def feed_url(token: str) -> str:
    return reverse("training:calendar_feed", args=[token])


@pytest.mark.django_db
def test_only_a_digest_of_the_feed_token_is_stored(client: Client, coordinator: User) -> None:
    feed, token = services.calendar_feed_renew(user=coordinator)

    row = CalendarFeed.objects.filter(pk=feed.pk).values().get()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    # Nothing in the row turns back into a working address.
    assert all(token not in str(value) for value in row.values())
    assert client.get(feed_url(token)).status_code == 200
    assert client.get(feed_url(row["token_hash"])).status_code == 404


@pytest.mark.django_db
def test_feed_address_is_shown_once_right_after_it_is_made(
    client: Client, coordinator: User
) -> None:
    client.force_login(coordinator)
    page = client.get(reverse("training:calendar_feed_settings")).content.decode()
    assert "Du har ingen kalenderadress ännu." in page

    made = client.post(reverse("training:calendar_feed_settings"))

    assert made.status_code == 200
    html = made.content.decode()
    (token,) = re.findall(r"/utbildning/kalender/([^\"/]+)\.ics", html)
    assert CalendarFeed.objects.get(user=coordinator).token_hash == (
        hashlib.sha256(token.encode()).hexdigest()
    )
    assert "visas bara den här gången" in html
    created = AuditEvent.objects.get(action="calendar_feed.created")
    assert (created.actor, created.municipality) == (coordinator, None)
    # Later the page says an address exists and how to get a new one, but cannot show it.
    later = client.get(reverse("training:calendar_feed_settings")).content.decode()
    assert token not in later
    assert not re.findall(r"/utbildning/kalender/[^\"/]+\.ics", later)
    assert "Du har en kalenderadress" in later
    assert "Skapa en ny adress" in later
    assert Client().get(feed_url(token)).status_code == 200


@pytest.mark.django_db
def test_feed_is_revoked_when_its_owner_is_deactivated(client: Client, coordinator: User) -> None:
    feed, token = services.calendar_feed_renew(user=coordinator)

    coordinator.is_active = False
    coordinator.save()
    coordinator.is_active = True
    coordinator.save()

    assert client.get(feed_url(token)).status_code == 404
    assert not CalendarFeed.objects.filter(user=coordinator).exists()
    revoked = AuditEvent.objects.get(action="calendar_feed.revoked")
    assert (revoked.target_type, revoked.target_id, revoked.municipality_id) == (
        "calendarfeed",
        feed.pk,
        None,
    )
    assert revoked.target_repr == str(coordinator)


@pytest.mark.django_db
def test_feed_is_revoked_when_the_coordinator_role_is_removed(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    colleague = make_coordinator(municipality)
    _feed, token = services.calendar_feed_renew(user=coordinator)

    unit_services.municipal_role_remove(
        actor=colleague, membership=MunicipalRole.objects.get(user=coordinator)
    )

    assert client.get(feed_url(token)).status_code == 404
    assert not CalendarFeed.objects.filter(user=coordinator).exists()


@pytest.mark.django_db
def test_feed_is_revoked_when_the_coordinator_becomes_an_observer(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    make_coordinator(municipality)
    _feed, token = services.calendar_feed_renew(user=coordinator)

    unit_services.municipal_role_set(
        actor=coordinator, municipality=municipality, user=coordinator, role=Role.OBSERVER
    )

    assert client.get(feed_url(token)).status_code == 404


@pytest.mark.django_db
def test_feed_stays_while_its_owner_coordinates_another_municipality(
    client: Client, coordinator: User, municipality: Municipality, other_municipality: Municipality
) -> None:
    MunicipalRole.objects.create(
        user=coordinator, municipality=other_municipality, role=Role.COORDINATOR
    )
    observer = UserFactory.create()
    _feed, token = services.calendar_feed_renew(user=coordinator)

    MunicipalRole.objects.filter(user=coordinator, municipality=municipality).delete()
    observer.is_active = False
    observer.save()

    assert client.get(feed_url(token)).status_code == 200


# --- The data migration ------------------------------------------------------------------------

BEFORE = [("training", "0004_session_checks")]
AFTER = [("training", "0005_calendar_feed_token_hash")]


@pytest.fixture
def executor() -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_feed_addresses_keep_working_after_the_migration(
    executor: MigrationExecutor,
) -> None:
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    owner = old.get_model("units", "User").objects.create(email="gammal@example.se")
    old.get_model("training", "CalendarFeed").objects.create(user=owner, token="gammal-adress")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps.get_model("training", "CalendarFeed")
    row = new.objects.filter(user_id=owner.pk).values().get()
    assert row == {
        "id": row["id"],
        "user_id": owner.pk,
        "token_hash": hashlib.sha256(b"gammal-adress").hexdigest(),
        "created_at": row["created_at"],
    }
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Client().get(feed_url("gammal-adress")).status_code == 200
