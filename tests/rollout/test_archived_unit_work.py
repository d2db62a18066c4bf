"""Nothing in an archived unit's rollout changes until the unit is restored: its page offers no
work, and the services refuse what a stale page or a direct POST still asks for."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import followups
from followup.models import FollowUp
from rollout import services as engine
from rollout.models import Rollout, Step
from routines import services as routines
from routines.models import Routine
from tests.factories import book_session
from tests.followup.test_followups import implement
from training import services as training
from units import pagecache
from units import services as unit_services
from units.models import Unit, User


def archive(coordinator: User, unit: Unit) -> None:
    unit_services.unit_set_archived(actor=coordinator, unit=unit, archived=True)
    unit.refresh_from_db()


def report(rollout: Rollout, manager: User, coordinator: User) -> None:
    training.web_course_report(
        actor=manager,
        unit_id=rollout.unit_id,
        reported_on=timezone.localdate(),
        completed_count=1,
        mode="groups",
        group_sessions=1,
        knowledge_level=3,
        reflections="",
    )


def book_training(rollout: Rollout, manager: User, coordinator: User) -> None:
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)


def check_in(rollout: Rollout, manager: User, coordinator: User) -> None:
    engine.checkin_nothing_new(actor=manager, rollout=rollout)


def start_early(rollout: Rollout, manager: User, coordinator: User) -> None:
    engine.step_start_early(
        actor=coordinator, rollout=rollout, step=Step.ROUTINES, reason="Tidigt arbete"
    )


STEP_ONE = pytest.mark.parametrize(
    "work", [report, book_training, check_in, start_early], ids=lambda f: f.__name__
)


@pytest.mark.django_db
@STEP_ONE
def test_step_work_is_refused_while_archived_and_allowed_again_after_restoring(
    work: Callable[[Rollout, User, User], None],
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    archive(coordinator, unit_a)
    with pytest.raises(engine.RolloutError, match="Enheten är arkiverad"):
        work(rollout, manager_a, coordinator)
    unit_services.unit_set_archived(actor=coordinator, unit=unit_a, archived=False)
    work(rollout, manager_a, coordinator)


@pytest.mark.django_db
def test_a_training_session_is_not_booked_for_an_archived_unit(
    coordinator: User, unit_a: Unit
) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    archive(coordinator, unit_a)
    with pytest.raises(engine.RolloutError, match="Enheten är arkiverad"):
        book_session(rollout, coordinator, timezone.now() + dt.timedelta(days=7))


@pytest.mark.django_db
def test_an_archived_units_routine_and_follow_ups_stay_as_they_are(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    implement(rollout, manager_a, coordinator, timezone.localdate())
    archive(coordinator, unit_a)
    routine = Routine.objects.get(rollout=rollout)
    with pytest.raises(engine.RolloutError, match="Enheten är arkiverad"):
        routines.routine_revise(actor=coordinator, routine=routine)
    six = FollowUp.objects.get(rollout=rollout, offset_months=6)
    with pytest.raises(engine.RolloutError, match="Enheten är arkiverad"):
        followups.book(
            actor=coordinator,
            follow_up=six,
            starts_at=timezone.now() + dt.timedelta(days=30),
            mode="phone",
            place="",
        )
    # Through the page, as a stale tab would post it: refused in words, nothing changed.
    client.force_login(coordinator)
    response = client.post(reverse("routines:revise", args=[unit_a.pk]), follow=True)
    assert "inget i dess införande kan ändras" in response.content.decode()
    routine.refresh_from_db()
    assert routine.status == "implemented"


@pytest.mark.django_db
def test_every_step_page_of_an_archived_unit_says_so(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    """Before anyone tries what the services would refuse."""
    engine.rollout_start(actor=coordinator, unit=unit_a)
    pages = [
        reverse(name, args=[unit_a.pk])
        for name in (
            "training:web_course",
            "training:targeted",
            "routines:routine",
            "followup:step",
        )
    ]
    client.force_login(coordinator)
    notice = 'id="unit-archived"'
    assert [url for url in pages if notice in client.get(url).content.decode()] == []
    archive(coordinator, unit_a)
    pagecache.clear()
    for url in pages:
        page = client.get(url).content.decode()
        assert notice in page, url
        assert "inget i dess införande kan ändras förrän den är återställd" in page
