"""A unit manager's list of their own units (/units/) says where each unit is in the model: the
current step in words with a link to its page, paused or done, and the next follow-up's date."""

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rollout import services as engine
from rollout.engine import add_months
from rollout.models import Rollout, RolloutStatus, Step
from tests.factories import UnitFactory, UserFactory
from tests.test_query_bounds import late_rollout
from units import access, pagecache
from units.models import Municipality, Unit, UnitManager, User


def row_of(html: str, unit: Unit) -> str:
    """The table row of one unit (from its name's link to the end of the row)."""
    found = re.search(
        rf'<a href="{reverse("units:detail", args=[unit.pk])}">.*?</tr>', html, flags=re.S
    )
    assert found is not None, unit.name
    return found.group(0)


def manage(manager: User, *units: Unit) -> None:
    for unit in units:
        UnitManager.objects.create(user=manager, unit=unit)


@pytest.mark.django_db
def test_the_manager_sees_where_each_of_their_units_stands(
    client: Client,
    municipality: Municipality,
    unit_a: Unit,
    manager_a: User,
    coordinator: User,
) -> None:
    in_training = UnitFactory.create(municipality=municipality, name="Tränande enheten")
    paused = UnitFactory.create(municipality=municipality, name="Pausade enheten")
    following_up = UnitFactory.create(municipality=municipality, name="Uppföljda enheten")
    done = UnitFactory.create(municipality=municipality, name="Färdiga enheten")
    manage(manager_a, in_training, paused, following_up, done)
    rollout = engine.rollout_start(actor=coordinator, unit=in_training)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    engine.rollout_pause(
        actor=coordinator,
        rollout=engine.rollout_start(actor=coordinator, unit=paused),
        reason="Omorganisation",
    )
    late_rollout(following_up)  # routine implemented 250 days ago, the 6-month one held
    Rollout.objects.create(unit=done, status=RolloutStatus.COMPLETED, completed_at=timezone.now())

    client.force_login(manager_a)
    html = client.get(reverse("units:list")).content.decode()

    assert "Var i modellen" in html
    assert "Inte påbörjad" in row_of(html, unit_a)
    training = row_of(html, in_training)
    assert (
        f'<a href="{reverse("training:targeted", args=[in_training.pk])}">'
        "Steg 2 Riktad utbildning</a>"
    ) in training
    assert "Boka riktad utbildning" in training  # the next thing to do, in words
    assert "Pausad" in row_of(html, paused)
    follow_up = row_of(html, following_up)
    assert (
        f'<a href="{reverse("followup:step", args=[following_up.pk])}">Steg 4 Uppföljning</a>'
        in follow_up
    )
    next_due = add_months(timezone.localdate() - dt.timedelta(days=250), 12)
    assert f"Nästa uppföljning (efter 12 månader): {next_due:%Y-%m-%d}" in follow_up
    assert "Klar" in row_of(html, done)


@pytest.mark.django_db
def test_coordinators_keep_their_list_without_the_managers_column(
    client: Client, unit_a: Unit, coordinator: User
) -> None:
    client.force_login(coordinator)
    html = client.get(reverse("units:list")).content.decode()
    assert unit_a.name in html
    assert "Var i modellen" not in html  # they have the dashboard's unit table for this


def _queries(client: Client, url: str) -> tuple[int, str]:
    pagecache.clear()
    access.forget_units()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries), response.content.decode()


def _grow(manager: User, municipality: Municipality, coordinator: User, rows: range) -> None:
    """Units in turn in step 2, paused, in step 4, done and not started."""
    for i in rows:
        unit = UnitFactory.create(municipality=municipality, name=f"Radenhet {i:02d}")
        manage(manager, unit)
        kind = i % 5
        if kind == 2:
            late_rollout(unit)
        elif kind == 3:
            Rollout.objects.create(
                unit=unit, status=RolloutStatus.COMPLETED, completed_at=timezone.now()
            )
        elif kind < 2:
            rollout = engine.rollout_start(actor=coordinator, unit=unit)
            engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
            if kind == 1:
                engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Omorganisation")


@pytest.mark.django_db
def test_the_managers_list_takes_as_many_queries_for_five_units_as_for_one(
    client: Client, settings: Any, municipality: Municipality, coordinator: User
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    manager = UserFactory.create(email="chef@rad.example.se")
    _grow(manager, municipality, coordinator, range(1))
    client.force_login(manager)
    url = reverse("units:list")
    client.get(url)  # the first request after login also records the session
    one, html = _queries(client, url)
    assert "Radenhet 00" in html
    assert "Steg 2 Riktad utbildning" in html
    _grow(manager, municipality, coordinator, range(1, 5))
    five, html = _queries(client, url)
    for i in range(5):
        assert f"Radenhet {i:02d}" in html
    for label in ("Pausad", "Steg 4 Uppföljning", "Klar", "Inte påbörjad"):
        assert label in html
    assert five == one, f"{one} queries for one unit, {five} for five"
    # The session, the person with roles, the units, the municipality to create in, and for
    # where they stand: the rounds, the step states and one query per step app's facts.
    assert five <= 10
