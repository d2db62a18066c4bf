"""Starting rollouts for several units at once from the coordinator's unit table
(rollout:start_many, rollout.services.rollout_start_many)."""

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rollout import services as engine
from rollout.models import Rollout, RolloutStatus, TimelineEvent
from tests.factories import UnitFactory
from units import freshness
from units import services as unit_services
from units.models import Municipality, Unit, User


def start_many_url(municipality: Municipality, query: str = "") -> str:
    url = reverse("rollout:start_many", args=[municipality.pk])
    return f"{url}?{query}" if query else url


def table_url(municipality: Municipality, query: str = "") -> str:
    url = reverse("rollout:unit_table", args=[municipality.pk])
    return f"{url}?{query}" if query else url


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def open_rollouts(*units: Unit) -> set[int]:
    return set(
        Rollout.objects.filter(
            unit__in=units,
            status__in=(RolloutStatus.ACTIVE, RolloutStatus.PAUSED, RolloutStatus.REQUESTED),
        ).values_list("unit_id", flat=True)
    )


def checkbox(html: str, unit: Unit) -> re.Match[str] | None:
    return re.search(rf'<input[^>]*name="units"[^>]*value="{unit.pk}"', html)


# --- The service --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_service_starts_each_unit_and_skips_those_that_cannot_start(
    coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    fresh = UnitFactory.create(municipality=municipality, name="Ängens förskola")
    archived = UnitFactory.create(municipality=municipality, name="Gamla förskolan")
    engine.rollout_start(actor=coordinator, unit=unit_a)
    # Archived after the coordinator loaded it: the service reads the unit again under its lock.
    stale = Unit.objects.get(pk=archived.pk)
    unit_services.unit_set_archived(actor=coordinator, unit=archived, archived=True)

    started, skipped = engine.rollout_start_many(
        actor=coordinator, units=[unit_a, unit_b, fresh, stale]
    )

    assert sorted(r.unit_id for r in started) == sorted([unit_b.pk, fresh.pk])
    assert all(r.status == RolloutStatus.ACTIVE and r.started_by == coordinator for r in started)
    assert sorted(u.pk for u in skipped) == sorted([unit_a.pk, archived.pk])
    assert open_rollouts(unit_a, unit_b, fresh, archived) == {unit_a.pk, unit_b.pk, fresh.pk}
    assert Rollout.objects.filter(unit=unit_a).count() == 1
    assert not Rollout.objects.filter(unit=archived).exists()
    started_events = TimelineEvent.objects.filter(kind="rollout.started", actor=coordinator)
    assert sorted(started_events.values_list("unit_id", flat=True)) == sorted(
        [unit_a.pk, unit_b.pk, fresh.pk]
    )


@pytest.mark.django_db
def test_service_skips_a_unit_that_asked_to_join(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    engine.rollout_request(actor=manager_a, unit=unit_a)
    started, skipped = engine.rollout_start_many(actor=coordinator, units=[unit_a])
    assert started == []
    assert [u.pk for u in skipped] == [unit_a.pk]
    assert Rollout.objects.get(unit=unit_a).status == RolloutStatus.REQUESTED


# --- The view -----------------------------------------------------------------------------------


# Committed for real: the municipality's generation moves once the change is committed.
@pytest.mark.django_db(transaction=True)
def test_coordinator_starts_the_selected_units_and_the_dashboard_shows_them_at_once(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    third = UnitFactory.create(municipality=municipality, name="Ängens förskola")
    client.force_login(coordinator)
    dashboard = reverse("rollout:dashboard", args=[municipality.pk])
    assert client.get(dashboard).context["units_started"] == 0
    assert client.get(dashboard).context is None  # kept by units.pagecache

    response = client.post(start_many_url(municipality), {"units": [unit_a.pk, third.pk]})

    assert response.status_code == 302
    assert response["Location"] == table_url(municipality)
    assert open_rollouts(unit_a, unit_b, third) == {unit_a.pk, third.pk}
    events = TimelineEvent.objects.filter(kind="rollout.started", actor=coordinator)
    assert sorted(events.values_list("unit_id", flat=True)) == sorted([unit_a.pk, third.pk])
    assert messages_of(response) == ["2 införanden har startats."]
    assert client.get(dashboard).context["units_started"] == 2


@pytest.mark.django_db
def test_one_started_and_the_skipped_ones_are_told_in_words(
    client: Client,
    coordinator: User,
    manager_b: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
) -> None:
    started = UnitFactory.create(municipality=municipality, name="Ängens förskola")
    archived = UnitFactory.create(municipality=municipality, name="Gamla förskolan")
    engine.rollout_start(actor=coordinator, unit=started)
    engine.rollout_request(actor=manager_b, unit=unit_b)
    unit_services.unit_set_archived(actor=coordinator, unit=archived, archived=True)
    client.force_login(coordinator)

    response = client.post(
        start_many_url(municipality),
        {"units": [unit_a.pk, unit_b.pk, started.pk, archived.pk]},
    )

    assert response.status_code == 302
    assert open_rollouts(unit_a) == {unit_a.pk}
    assert Rollout.objects.filter(unit=started).count() == 1
    assert Rollout.objects.get(unit=unit_b).status == RolloutStatus.REQUESTED
    assert not Rollout.objects.filter(unit=archived).exists()
    assert messages_of(response) == [
        "1 införande har startats. 3 enheter hoppades över eftersom de redan har ett "
        "införande eller är arkiverade."
    ]


@pytest.mark.django_db
def test_nothing_to_start_says_so_in_english_too(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    engine.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(coordinator)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.post(start_many_url(municipality), {"units": [unit_a.pk]})
    assert messages_of(response) == [
        "0 rollouts have been started. 1 unit was skipped because it already has a rollout or "
        "is archived."
    ]


@pytest.mark.django_db
def test_the_table_view_is_kept_on_the_way_back(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    query = "q=sol&steg=0&sort=-name&page=2"
    # Only the table's own parameters come back; anything else is dropped.
    response = client.post(
        start_many_url(municipality, query + "&next=https://evil.example"), {"units": [unit_a.pk]}
    )
    assert response["Location"] == table_url(municipality, query)


@pytest.mark.django_db
def test_the_form_posts_to_start_many_with_the_tables_view(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    html = client.get(table_url(municipality, "steg=0&sort=-name")).content.decode()
    action = start_many_url(municipality, "steg=0&amp;sort=-name")
    assert f'<form method="post" action="{action}"' in html
    assert "Starta införande för valda enheter</button>" in html


@pytest.mark.django_db
def test_an_empty_selection_starts_nothing(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    response = client.post(start_many_url(municipality, "steg=0"), {})
    assert response.status_code == 302
    assert response["Location"] == table_url(municipality, "steg=0")
    assert messages_of(response) == ["Välj minst en enhet att starta införandet för."]
    assert not Rollout.objects.exists()
    assert not TimelineEvent.objects.exists()


@pytest.mark.django_db
def test_more_units_than_a_page_holds_are_refused(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    units = UnitFactory.create_batch(51, municipality=municipality)
    client.force_login(coordinator)
    response = client.post(start_many_url(municipality), {"units": [u.pk for u in units]})
    assert response.status_code == 302
    assert messages_of(response) == ["Välj högst 50 enheter åt gången."]
    assert not Rollout.objects.exists()
    # Shown on the table the coordinator comes back to, as an error.
    back = client.get(response["Location"]).content.decode()
    assert re.search(
        r'alert-danger">\s*<span class="visually-hidden">Fel:</span>\s*Välj högst 50', back
    )
    # Fifty are fine.
    response = client.post(start_many_url(municipality), {"units": [u.pk for u in units[:50]]})
    assert messages_of(response) == ["50 införanden har startats."]
    assert Rollout.objects.count() == 50


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "-1", "0", str(2**63)])
def test_a_malformed_id_starts_nothing(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, value: str
) -> None:
    client.force_login(coordinator)
    response = client.post(start_many_url(municipality), {"units": [unit_a.pk, value]})
    assert response.status_code == 302
    assert messages_of(response) == ["Välj enheterna i tabellen."]
    assert not Rollout.objects.exists()


@pytest.mark.django_db
def test_a_unit_of_another_municipality_refuses_the_whole_request(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_x: Unit,
) -> None:
    client.force_login(coordinator)
    response = client.post(start_many_url(municipality), {"units": [unit_a.pk, unit_x.pk]})
    assert response.status_code == 404
    assert not Rollout.objects.exists()
    assert not TimelineEvent.objects.exists()
    # An id of no unit at all looks the same.
    missing = Unit.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    response = client.post(start_many_url(municipality), {"units": [unit_a.pk, missing]})
    assert response.status_code == 404
    assert not Rollout.objects.exists()


@pytest.mark.django_db
def test_the_superuser_cannot_start_another_municipalitys_unit_from_this_table(
    client: Client, superuser: User, municipality: Municipality, unit_a: Unit, unit_x: Unit
) -> None:
    client.force_login(superuser)
    response = client.post(start_many_url(municipality), {"units": [unit_x.pk]})
    assert response.status_code == 404
    assert not Rollout.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [("manager_a", 404), ("other_coordinator", 404), ("observer", 403)],
)
def test_only_the_municipalitys_coordinator_may_start(
    client: Client,
    request: pytest.FixtureRequest,
    municipality: Municipality,
    unit_a: Unit,
    persona: str,
    expected: int,
) -> None:
    client.force_login(request.getfixturevalue(persona))
    response = client.post(start_many_url(municipality), {"units": [unit_a.pk]})
    assert response.status_code == expected
    assert not Rollout.objects.exists()


@pytest.mark.django_db
def test_anonymous_goes_to_the_login(
    client: Client, municipality: Municipality, unit_a: Unit
) -> None:
    response = client.post(start_many_url(municipality), {"units": [unit_a.pk]})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Rollout.objects.exists()


@pytest.mark.django_db
def test_get_is_not_allowed(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    assert client.get(start_many_url(municipality), {"units": [unit_a.pk]}).status_code == 405
    assert not Rollout.objects.exists()


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(
    coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.post(start_many_url(municipality), {"units": [unit_a.pk]})
    assert response.status_code == 403
    assert not Rollout.objects.exists()


# --- The table ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_checkboxes_only_for_units_that_can_start(
    client: Client,
    coordinator: User,
    manager_b: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
) -> None:
    active = UnitFactory.create(municipality=municipality, name="Ängens förskola")
    paused = UnitFactory.create(municipality=municipality, name="Bergets skola")
    completed = UnitFactory.create(municipality=municipality, name="Dalens fritids")
    engine.rollout_start(actor=coordinator, unit=active)
    engine.rollout_pause(
        actor=coordinator,
        rollout=engine.rollout_start(actor=coordinator, unit=paused),
        reason="Omorganisation",
    )
    Rollout.objects.create(unit=completed, round=1, status=RolloutStatus.COMPLETED)
    engine.rollout_request(actor=manager_b, unit=unit_b)
    client.force_login(coordinator)

    html = client.get(table_url(municipality)).content.decode()

    box = checkbox(html, unit_a)
    assert box is not None
    assert f'id="start-{unit_a.pk}"' in box.group(0)
    assert (
        f'<label class="visually-hidden" for="start-{unit_a.pk}">Välj Solrosens förskola</label>'
        in html
    )
    # A completed round may be followed by a new one.
    assert checkbox(html, completed) is not None
    for unit in (unit_b, active, paused):
        assert checkbox(html, unit) is None, unit.name
    # Its own first column, with a header that names it.
    header = re.search(r"<thead>\s*<tr>\s*<th scope=\"col\">([^<]*)</th>", html)
    assert header is not None
    assert header.group(1) == "Välj"


@pytest.mark.django_db
def test_no_form_when_nothing_on_the_page_can_start(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    engine.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(coordinator)
    html = client.get(table_url(municipality)).content.decode()
    assert 'name="units"' not in html
    assert reverse("rollout:start_many", args=[municipality.pk]) not in html


@pytest.mark.django_db
def test_the_observer_gets_no_checkboxes(
    client: Client, observer: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(observer)
    html = client.get(table_url(municipality)).content.decode()
    assert unit_a.name in html
    assert 'name="units"' not in html
    assert reverse("rollout:start_many", args=[municipality.pk]) not in html
    assert 'method="post"' not in html.split('<main id="main"')[1]


@pytest.mark.django_db
def test_the_managers_unit_list_has_no_checkboxes(
    client: Client, manager_a: User, unit_a: Unit
) -> None:
    client.force_login(manager_a)
    html = client.get(reverse("units:list")).content.decode()
    assert unit_a.name in html
    assert 'name="units"' not in html


@pytest.mark.django_db
def test_the_checkboxes_add_no_queries_per_row(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    UnitFactory.create_batch(3, municipality=municipality)
    client.force_login(coordinator)

    def count() -> int:
        # Made without a service, so the table is drawn afresh only under a new generation.
        freshness._bump(municipality.pk)
        with CaptureQueriesContext(connection) as queries:
            html = client.get(table_url(municipality)).content.decode()
        assert html.count('name="units"') == Unit.objects.count()
        return len(queries)

    count()  # the first request of the session reads more (the session, the person)
    few = count()
    UnitFactory.create_batch(20, municipality=municipality)
    assert count() == few
