"""Follow-ups are recorded in their order and on the day they were held: the 12-month one not
before the 6-month one, not on a day that has not come, and not booked before the one it follows."""

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import followups
from followup.models import FollowUp, FollowUpStatus
from rollout import services as engine
from rollout.models import Rollout, RolloutStatus
from tests.followup.test_followups import RECORD_ANSWERS, at, implement
from units.models import Unit, User

IMPLEMENTED = dt.date(
    2026, 6, 7
)  # the 6-month follow-up is due 2026-12-07, the 12-month one 2027-06-07
TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def rollout(coordinator: User, manager_a: User, unit_a: Unit) -> Rollout:
    with time_machine.travel(at(IMPLEMENTED), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, manager_a, coordinator, IMPLEMENTED)
    return rollout


@pytest.fixture
def today() -> Iterator[None]:
    with time_machine.travel(at(TODAY, 10), tick=False):
        yield


def follow_up(rollout: Rollout, months: int) -> FollowUp:
    return FollowUp.objects.get(rollout=rollout, offset_months=months)


def record_url(unit: Unit, follow_up: FollowUp) -> str:
    return reverse("followup:record", args=[unit.pk, follow_up.pk])


def form_data(held_on: dt.date) -> dict[str, object]:
    return {**RECORD_ANSWERS, "held_on": held_on.isoformat()}


@pytest.mark.django_db
@pytest.mark.usefixtures("today")
def test_the_service_refuses_the_12_month_follow_up_before_the_6_month_one(
    rollout: Rollout, coordinator: User
) -> None:
    six, twelve = follow_up(rollout, 6), follow_up(rollout, 12)
    with pytest.raises(engine.RolloutError) as refused:
        followups.record(actor=coordinator, follow_up=twelve, **RECORD_ANSWERS)
    assert str(refused.value) == (
        "Uppföljningen efter 6 månader är inte registrerad än. Registrera den först."
    )
    twelve.refresh_from_db()
    assert (twelve.status, twelve.held_at) == (FollowUpStatus.PLANNED, None)

    followups.record(actor=coordinator, follow_up=six, **RECORD_ANSWERS)
    followups.record(actor=coordinator, follow_up=twelve, **RECORD_ANSWERS)
    twelve.refresh_from_db()
    assert twelve.status == FollowUpStatus.HELD
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.COMPLETED


@pytest.mark.django_db
@pytest.mark.usefixtures("today")
def test_the_page_offers_recording_only_the_first_open_follow_up(
    client: Client, rollout: Rollout, coordinator: User, unit_a: Unit
) -> None:
    six, twelve = follow_up(rollout, 6), follow_up(rollout, 12)
    client.force_login(coordinator)
    html = client.get(reverse("followup:step", args=[unit_a.pk])).content.decode()
    assert record_url(unit_a, six) in html
    assert record_url(unit_a, twelve) not in html
    assert "Kan registreras när uppföljningen efter 6 månader är registrerad." in html
    # Booking ahead stays possible: the meeting can be planned before the first one is held.
    assert reverse("followup:book", args=[unit_a.pk, twelve.pk]) in html


@pytest.mark.django_db
@pytest.mark.usefixtures("today")
def test_posting_the_12_month_follow_up_first_is_refused_in_words(
    client: Client, rollout: Rollout, coordinator: User, unit_a: Unit
) -> None:
    twelve = follow_up(rollout, 12)
    client.force_login(coordinator)
    for response in (
        client.get(record_url(unit_a, twelve), follow=True),
        client.post(record_url(unit_a, twelve), form_data(TODAY), follow=True),
    ):
        assert response.redirect_chain == [(reverse("followup:step", args=[unit_a.pk]), 302)]
        assert (
            "Uppföljningen efter 6 månader är inte registrerad än. Registrera den först."
            in response.content.decode()
        )
    twelve.refresh_from_db()
    assert (twelve.status, twelve.held_at) == (FollowUpStatus.PLANNED, None)


def held_on_input(html: str) -> str:
    [tag] = re.findall(r"<input[^>]*name=\"held_on\"[^>]*>", html)
    return tag


@pytest.mark.django_db
@pytest.mark.usefixtures("today")
def test_the_form_asks_for_the_day_held_defaulting_to_the_booked_day_or_today(
    client: Client, rollout: Rollout, coordinator: User, unit_a: Unit
) -> None:
    six = follow_up(rollout, 6)
    client.force_login(coordinator)
    tag = held_on_input(client.get(record_url(unit_a, six)).content.decode())
    assert 'value="2026-11-20"' in tag  # not booked: today
    assert 'max="2026-11-20"' in tag

    with time_machine.travel(at(dt.date(2026, 11, 1)), tick=False):
        followups.book(
            actor=coordinator,
            follow_up=six,
            starts_at=at(dt.date(2026, 11, 12), 13),
            mode="meeting",
            place="Personalrummet",
        )
    tag = held_on_input(client.get(record_url(unit_a, six)).content.decode())
    assert 'value="2026-11-12"' in tag  # booked: the booked day


@pytest.mark.django_db
@pytest.mark.usefixtures("today")
def test_the_follow_up_is_recorded_on_the_day_given_and_not_on_a_day_to_come(
    client: Client, rollout: Rollout, coordinator: User, unit_a: Unit
) -> None:
    six = follow_up(rollout, 6)
    client.force_login(coordinator)
    response = client.post(record_url(unit_a, six), form_data(TODAY + dt.timedelta(days=1)))
    assert response.status_code == 200
    assert "Uppföljningen kan inte registreras för en dag som inte har kommit än." in (
        response.content.decode()
    )
    six.refresh_from_db()
    assert six.status == FollowUpStatus.PLANNED

    response = client.post(record_url(unit_a, six), form_data(dt.date(2026, 11, 13)))
    assert response.status_code == 302
    six.refresh_from_db()
    assert six.status == FollowUpStatus.HELD
    assert six.held_at is not None
    assert timezone.localtime(six.held_at).date() == dt.date(2026, 11, 13)
    html = client.get(reverse("followup:step", args=[unit_a.pk])).content.decode()
    assert "Genomförd 2026-11-13" in html


@pytest.mark.django_db
@pytest.mark.usefixtures("today")
def test_the_day_held_is_not_before_the_routine_or_the_earlier_follow_up(
    rollout: Rollout, coordinator: User
) -> None:
    six, twelve = follow_up(rollout, 6), follow_up(rollout, 12)
    with pytest.raises(engine.RolloutError) as refused:
        followups.record(
            actor=coordinator, follow_up=six, held_on=dt.date(2026, 6, 6), **RECORD_ANSWERS
        )
    assert str(refused.value) == (
        "Rutinen infördes 2026-06-07; uppföljningen kan inte ha genomförts före det."
    )
    with pytest.raises(engine.RolloutError) as refused:
        followups.record(
            actor=coordinator, follow_up=six, held_on=dt.date(2026, 11, 21), **RECORD_ANSWERS
        )
    assert str(refused.value) == (
        "Uppföljningen kan inte registreras för en dag som inte har kommit än."
    )
    followups.record(
        actor=coordinator, follow_up=six, held_on=dt.date(2026, 11, 10), **RECORD_ANSWERS
    )
    with pytest.raises(engine.RolloutError) as refused:
        followups.record(
            actor=coordinator, follow_up=twelve, held_on=dt.date(2026, 11, 9), **RECORD_ANSWERS
        )
    assert str(refused.value) == (
        "Uppföljningen efter 6 månader genomfördes 2026-11-10; "
        "den här kan inte ha genomförts före den."
    )
    twelve.refresh_from_db()
    assert twelve.status == FollowUpStatus.PLANNED


@pytest.mark.django_db
@pytest.mark.usefixtures("today")
def test_the_12_month_follow_up_is_booked_after_the_6_month_one_not_before(
    rollout: Rollout, coordinator: User
) -> None:
    six, twelve = follow_up(rollout, 6), follow_up(rollout, 12)
    followups.book(
        actor=coordinator,
        follow_up=six,
        starts_at=at(dt.date(2026, 12, 3), 13),
        mode="meeting",
        place="Personalrummet",
    )
    with pytest.raises(engine.RolloutError) as refused:
        followups.book(
            actor=coordinator,
            follow_up=twelve,
            starts_at=at(dt.date(2026, 12, 1), 13),
            mode="meeting",
            place="Personalrummet",
        )
    assert str(refused.value) == (
        "Uppföljningen efter 6 månader är bokad 2026-12-03 13:00; boka den här efter den."
    )
    twelve.refresh_from_db()
    assert twelve.status == FollowUpStatus.PLANNED

    # After it, while the 6-month one is not held yet: planning ahead is fine.
    followups.book(
        actor=coordinator,
        follow_up=twelve,
        starts_at=at(dt.date(2027, 6, 3), 13),
        mode="meeting",
        place="Personalrummet",
    )
    # Moving the 6-month one past the 12-month one would block both.
    with pytest.raises(engine.RolloutError) as refused:
        followups.book(
            actor=coordinator,
            follow_up=six,
            starts_at=at(dt.date(2027, 6, 10), 13),
            mode="meeting",
            place="Personalrummet",
        )
    assert str(refused.value) == (
        "Uppföljningen efter 12 månader är bokad 2027-06-03 13:00; "
        "boka den här före den eller boka om den först."
    )
    six.refresh_from_db()
    assert six.starts_at == at(dt.date(2026, 12, 3), 13)
