"""The regional view: precomputed summaries per municipality, refreshed when something changed,
shown side by side to superusers and regional observers (counts only)."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rollout import board, regional
from rollout import services as engine
from rollout.models import MunicipalitySummary
from tests.factories import MunicipalityFactory, UnitFactory, UserFactory
from units import pagecache
from units.models import Municipality, RegionalObserver, Unit, User


def grant(user: User, *municipalities: Municipality) -> RegionalObserver:
    observer = RegionalObserver.objects.create(user=user, organisation="Länsstyrelsen")
    observer.municipalities.set(municipalities)
    return observer


# Committed for real: the generation moves once the change is committed, as in a request.
@pytest.mark.django_db(transaction=True)
def test_refresh_computes_only_what_changed(
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
    coordinator: User,
) -> None:
    assert regional.refresh() == 2
    assert regional.refresh() == 0  # nothing changed
    engine.rollout_start(actor=coordinator, unit=unit_a)
    assert regional.refresh() == 1
    summary = MunicipalitySummary.objects.get(municipality=municipality)
    expected = board.board(municipality=municipality)
    assert summary.data["units"] == 2
    assert summary.data["funnel"] == {stage: count for stage, _l, count in expected.funnel}
    assert summary.data["adoption"] == [1, 2]
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        assert regional.refresh() == 2  # a new day: what is overdue may have changed
    assert regional.refresh(force=True) == 2


@pytest.mark.django_db
def test_a_running_refresh_is_not_overlapped(municipality: Municipality) -> None:
    from django.core.cache import cache

    cache.add(regional.LOCK_KEY, 1, 60)
    assert regional.refresh() == 0
    cache.delete(regional.LOCK_KEY)
    assert regional.refresh() == 1


@pytest.mark.django_db
def test_superuser_sees_every_municipality_side_by_side(
    client: Client,
    superuser: User,
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_x: Unit,
    coordinator: User,
) -> None:
    engine.rollout_start(actor=coordinator, unit=unit_a)
    regional.refresh()
    client.force_login(superuser)
    response = client.get(reverse("rollout:regional"))
    assert response.status_code == 200
    found, total, missing = regional.lines(municipalities=Municipality.objects.all())
    lines = {line.name: line for line in found}
    assert set(lines) == {municipality.name, other_municipality.name}
    assert missing == 0
    assert lines[municipality.name].funnel == [0, 1, 0, 0, 0, 0]
    assert lines[other_municipality.name].funnel == [1, 0, 0, 0, 0, 0]
    assert total.funnel == [1, 1, 0, 0, 0, 0]
    assert total.units == 2
    html = response.content.decode()
    row = re.search(rf">{municipality.name}</a></th>(.*?)</tr>", html, re.S)
    assert row is not None
    assert re.findall(r"<td>([^<]*)</td>", row.group(1))[:7] == ["1", "0", "1", "0", "0", "0", "0"]
    assert reverse("rollout:dashboard", args=[municipality.pk]) in html
    searched = client.get(reverse("rollout:regional"), {"q": other_municipality.name[:5]})
    assert f">{other_municipality.name}</a>" in searched.content.decode()
    assert f">{municipality.name}</a>" not in searched.content.decode()


@pytest.mark.django_db
def test_a_regional_observer_sees_only_counts_of_the_granted_municipalities(
    client: Client,
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_x: Unit,
) -> None:
    county = UserFactory.create()
    grant(county, other_municipality)
    regional.refresh()
    client.force_login(county)
    assert client.get("/")["Location"] == reverse("rollout:regional")
    response = client.get(reverse("rollout:regional"))
    html = response.content.decode()
    assert f">{other_municipality.name}<" in html
    assert f">{municipality.name}<" not in html
    assert unit_x.name not in html  # no unit-level data at all
    assert reverse("rollout:dashboard", args=[other_municipality.pk]) not in html
    assert client.get(reverse("rollout:dashboard", args=[other_municipality.pk])).status_code == 404
    assert client.get(reverse("units:detail", args=[unit_x.pk])).status_code == 404


@pytest.mark.django_db
def test_who_may_not_open_the_regional_view(
    client: Client, coordinator: User, observer: User, manager_a: User
) -> None:
    for user in (coordinator, observer, manager_a):
        client.force_login(user)
        assert client.get(reverse("rollout:regional")).status_code == 403
        # A search is no way around it.
        assert client.get(reverse("rollout:regional") + "?q=a").status_code == 403


@pytest.mark.django_db
def test_a_changed_grant_changes_the_kept_page_at_once(
    client: Client,
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_x: Unit,
) -> None:
    county = UserFactory.create()
    observer = grant(county, municipality)
    regional.refresh()
    # The same number of summaries and the same newest time before and after the change below.
    MunicipalitySummary.objects.update(computed_at=timezone.now())
    client.force_login(county)
    url = reverse("rollout:regional")
    assert f">{municipality.name}<" in client.get(url).content.decode()
    assert client.get(url).context is None  # kept
    # Moved to the other municipality.
    observer.municipalities.set([other_municipality])
    html = client.get(url).content.decode()
    assert f">{other_municipality.name}<" in html
    assert f">{municipality.name}<" not in html


@pytest.mark.django_db
def test_municipalities_not_yet_computed_are_said_to_be_on_their_way(
    client: Client, superuser: User, municipality: Municipality
) -> None:
    client.force_login(superuser)
    html = client.get(reverse("rollout:regional")).content.decode()
    assert "räknas fram" in html


@pytest.mark.django_db
def test_the_regional_view_needs_the_same_queries_for_3_and_30_municipalities(
    client: Client, superuser: User
) -> None:
    client.force_login(superuser)
    counts = []
    for total in (3, 30):
        for _ in range(total - Municipality.objects.count()):
            UnitFactory.create(municipality=MunicipalityFactory.create())
        regional.refresh()
        client.get(reverse("rollout:regional"))
        cache.clear()  # the table drawn afresh…
        pagecache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("rollout:regional"))
        # one row per municipality and the total
        assert response.content.decode().count('<th scope="row">') == total + 1
        with CaptureQueriesContext(connection) as cached:  # …and from the cache
            client.get(reverse("rollout:regional"))
        counts.append((len(queries), len(cached)))
    assert counts[0] == counts[1], counts
    assert counts[1][1] < counts[1][0]


@pytest.mark.django_db
def test_a_superuser_grants_the_regional_view_in_the_admin(
    client: Client, superuser: User, municipality: Municipality, other_municipality: Municipality
) -> None:
    from units.models import AuditEvent

    county = UserFactory.create()
    client.force_login(superuser)
    response = client.post(
        reverse("admin:units_regionalobserver_add"),
        {
            "user": county.pk,
            "organisation": "Länsstyrelsen i Stockholms län",
            "municipalities": [municipality.pk, other_municipality.pk],
        },
    )
    assert response.status_code == 302
    granted = RegionalObserver.objects.get(user=county)
    assert set(granted.municipalities.all()) == {municipality, other_municipality}
    event = AuditEvent.objects.get(action="regionalobserver.created_in_admin")
    assert event.changes["municipalities"][1] == sorted(
        [municipality.name, other_municipality.name]
    )


@pytest.mark.django_db
def test_the_beat_task_and_the_command_refresh(municipality: Municipality) -> None:
    from django.core.management import call_command

    from jarfalla.celery import app
    from rollout.tasks import refresh_summaries

    assert app.conf.beat_schedule["refresh-summaries"]["task"] == refresh_summaries.name
    assert refresh_summaries.delay().get() == 1
    call_command("refresh_summaries", "--all")
    assert MunicipalitySummary.objects.filter(municipality=municipality).count() == 1
