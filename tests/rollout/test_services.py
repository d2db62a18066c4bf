"""The rollout services: one open rollout per unit, steps in order, history kept, events recorded."""

import pytest
from django.db import IntegrityError, transaction

from rollout import services
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus, TimelineEvent
from units.models import Unit, User


def statuses(rollout: Rollout) -> list[str]:
    return list(
        StepState.objects.filter(rollout=rollout).order_by("step").values_list("status", flat=True)
    )


@pytest.mark.django_db
def test_start_creates_four_steps_with_step_1_under_way(coordinator: User, unit_a: Unit) -> None:
    rollout = services.rollout_start(actor=coordinator, unit=unit_a)
    assert (rollout.status, rollout.round) == (RolloutStatus.ACTIVE, 1)
    assert statuses(rollout) == ["in_progress", "not_started", "not_started", "not_started"]
    assert (
        TimelineEvent.objects.filter(unit=unit_a, kind="rollout.started", actor=coordinator).count()
        == 1
    )


@pytest.mark.django_db
def test_a_unit_has_at_most_one_open_rollout(coordinator: User, unit_a: Unit) -> None:
    services.rollout_start(actor=coordinator, unit=unit_a)
    with pytest.raises(services.RolloutError, match="redan ett pågående"):
        services.rollout_start(actor=coordinator, unit=unit_a)
    with pytest.raises(services.RolloutError):
        services.rollout_request(actor=coordinator, unit=unit_a)
    # And the database says so too, whatever the code path.
    with pytest.raises(IntegrityError), transaction.atomic():
        Rollout.objects.create(unit=unit_a, round=9, status=RolloutStatus.PAUSED)
    assert Rollout.objects.filter(unit=unit_a).count() == 1


@pytest.mark.django_db
def test_manager_request_then_coordinator_accepts(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rollout = services.rollout_request(actor=manager_a, unit=unit_a)
    assert rollout.status == RolloutStatus.REQUESTED
    assert not StepState.objects.filter(rollout=rollout).exists()
    services.rollout_accept(actor=coordinator, rollout=rollout)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ACTIVE
    assert statuses(rollout)[0] == StepStatus.IN_PROGRESS
    with pytest.raises(services.RolloutError, match="redan besvarad"):
        services.rollout_accept(actor=coordinator, rollout=rollout)


@pytest.mark.django_db
def test_declined_request_frees_the_unit(coordinator: User, manager_a: User, unit_a: Unit) -> None:
    rollout = services.rollout_request(actor=manager_a, unit=unit_a)
    services.rollout_decline(
        actor=coordinator, rollout=rollout, reason="Vi börjar med skolorna i höst."
    )
    event = TimelineEvent.objects.get(kind="rollout.declined")
    assert event.params == {"reason": "Vi börjar med skolorna i höst."}
    second = services.rollout_start(actor=coordinator, unit=unit_a)
    assert second.round == 2


@pytest.mark.django_db
def test_pause_and_resume(coordinator: User, unit_a: Unit) -> None:
    rollout = services.rollout_start(actor=coordinator, unit=unit_a)
    services.rollout_pause(actor=coordinator, rollout=rollout, reason="Ny chef börjar i januari.")
    rollout.refresh_from_db()
    assert (rollout.status, rollout.pause_reason) == (
        RolloutStatus.PAUSED,
        "Ny chef börjar i januari.",
    )
    with pytest.raises(services.RolloutError):
        services.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    services.rollout_resume(actor=coordinator, rollout=rollout)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ACTIVE
    assert rollout.pause_reason == ""


@pytest.mark.django_db
def test_steps_run_in_order_unless_started_early_with_a_reason(
    coordinator: User, unit_a: Unit
) -> None:
    rollout = services.rollout_start(actor=coordinator, unit=unit_a)
    with pytest.raises(services.RolloutError, match="Föregående steg"):
        services.step_complete(actor=coordinator, rollout=rollout, step=Step.ROUTINES)
    with pytest.raises(services.RolloutError, match="Skriv varför"):
        services.step_start_early(
            actor=coordinator, rollout=rollout, step=Step.ROUTINES, reason="  "
        )
    services.step_start_early(
        actor=coordinator,
        rollout=rollout,
        step=Step.ROUTINES,
        reason="Rutinen finns redan i utkast.",
    )
    state = StepState.objects.get(rollout=rollout, step=Step.ROUTINES)
    assert (state.status, state.override_reason) == (
        StepStatus.IN_PROGRESS,
        "Rutinen finns redan i utkast.",
    )
    assert services.step_complete(actor=coordinator, rollout=rollout, step=Step.ROUTINES)


@pytest.mark.django_db
def test_completing_a_step_starts_the_next_and_is_idempotent(
    coordinator: User, unit_a: Unit
) -> None:
    rollout = services.rollout_start(actor=coordinator, unit=unit_a)
    assert services.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE) is True
    assert services.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE) is False
    assert statuses(rollout) == ["done", "in_progress", "not_started", "not_started"]
    assert TimelineEvent.objects.filter(kind="step.completed").count() == 1
    done = StepState.objects.get(rollout=rollout, step=Step.WEB_COURSE)
    assert done.completed_by == coordinator
    assert done.completed_at is not None


@pytest.mark.django_db
def test_after_step_4_the_rollout_is_complete_and_a_new_round_can_start(
    coordinator: User, unit_a: Unit
) -> None:
    rollout = services.rollout_start(actor=coordinator, unit=unit_a)
    for step in Step.values:
        services.step_complete(actor=coordinator, rollout=rollout, step=step)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.COMPLETED
    assert rollout.completed_at is not None
    second = services.rollout_start(actor=coordinator, unit=unit_a)
    assert second.round == 2
    assert Rollout.objects.filter(unit=unit_a).count() == 2  # history kept


@pytest.mark.django_db
def test_checkin_is_recorded(manager_a: User, coordinator: User, unit_a: Unit) -> None:
    rollout = services.rollout_start(actor=coordinator, unit=unit_a)
    services.checkin_nothing_new(actor=manager_a, rollout=rollout)
    rollout.refresh_from_db()
    assert rollout.last_checkin_at is not None
    event = TimelineEvent.objects.get(kind="rollout.checkin")
    assert event.actor == manager_a
    assert rollout.last_activity_at == event.at


@pytest.mark.django_db
def test_checkin_only_while_the_rollout_is_active(
    manager_a: User, coordinator: User, unit_a: Unit
) -> None:
    """The "nothing new" check-in quiets the nudges, which only active rollouts get: while a
    round waits to be accepted or is paused there is nothing to confirm, and nothing must be
    recorded."""
    requested = services.rollout_request(actor=manager_a, unit=unit_a)
    with pytest.raises(services.RolloutError, match="inte startat"):
        services.checkin_nothing_new(actor=manager_a, rollout=requested)
    rollout = services.rollout_accept(actor=coordinator, rollout=requested)
    services.rollout_pause(actor=coordinator, rollout=rollout, reason="Omorganisation")
    with pytest.raises(services.RolloutError, match="pausat"):
        services.checkin_nothing_new(actor=manager_a, rollout=rollout)
    rollout.refresh_from_db()
    assert rollout.last_checkin_at is None
    assert not TimelineEvent.objects.filter(kind="rollout.checkin").exists()


@pytest.mark.django_db
def test_archived_unit_cannot_start(coordinator: User, unit_a: Unit) -> None:
    unit_a.is_active = False
    unit_a.save()
    with pytest.raises(services.RolloutError, match="arkiverad"):
        services.rollout_start(actor=coordinator, unit=unit_a)


@pytest.mark.django_db
def test_an_archived_units_rollout_is_neither_accepted_nor_resumed(
    coordinator: User, manager_a: User, unit_a: Unit, unit_b: Unit
) -> None:
    from units import services as unit_services

    requested = services.rollout_request(actor=manager_a, unit=unit_a)
    paused = services.rollout_start(actor=coordinator, unit=unit_b)
    services.rollout_pause(actor=coordinator, rollout=paused, reason="Omorganisation")
    for unit in (unit_a, unit_b):
        unit_services.unit_set_archived(actor=coordinator, unit=unit, archived=True)
    with pytest.raises(services.RolloutError, match="arkiverad"):
        services.rollout_accept(actor=coordinator, rollout=requested)
    with pytest.raises(services.RolloutError, match="arkiverad"):
        services.rollout_resume(actor=coordinator, rollout=paused)
    requested.refresh_from_db()
    paused.refresh_from_db()
    assert (requested.status, paused.status) == (RolloutStatus.REQUESTED, RolloutStatus.PAUSED)
