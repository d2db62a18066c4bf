"""The engine's pure rules: current step and the one next action."""

import datetime as dt

import pytest

from rollout.engine import RolloutSnapshot, StepSnapshot, add_months, current_step, next_action
from rollout.models import RolloutStatus, StepStatus

DONE = StepStatus.DONE
IN_PROGRESS = StepStatus.IN_PROGRESS
NOT_STARTED = StepStatus.NOT_STARTED
START = dt.date(2026, 3, 2)


def snap(
    *statuses: str, status: str = RolloutStatus.ACTIVE, facts=None, completed3=None, **kwargs
) -> RolloutSnapshot:
    steps = {}
    for number, step_status in enumerate(statuses, start=1):
        steps[number] = StepSnapshot(
            status=step_status,
            started_on=START if step_status != NOT_STARTED else None,
            completed_on=(completed3 if number == 3 else START) if step_status == DONE else None,
        )
    return RolloutSnapshot(
        status=status, steps=steps, started_on=START, facts=facts or {}, **kwargs
    )


def test_current_step_is_the_lowest_not_done() -> None:
    assert current_step(snap(IN_PROGRESS, NOT_STARTED, NOT_STARTED, NOT_STARTED)) == 1
    assert current_step(snap(DONE, IN_PROGRESS, NOT_STARTED, NOT_STARTED)) == 2
    # An early start of step 3 does not make step 2 any less current.
    assert current_step(snap(DONE, IN_PROGRESS, IN_PROGRESS, NOT_STARTED)) == 2
    assert current_step(snap(DONE, DONE, DONE, DONE)) is None


def test_new_rollout_asks_the_manager_to_report_within_30_days() -> None:
    action = next_action(snap(IN_PROGRESS, NOT_STARTED, NOT_STARTED, NOT_STARTED))
    assert action is not None
    assert (action.code, action.who, action.step) == ("report_web_course", "manager", 1)
    assert str(action.text) == "Rapportera webbkursen"
    assert action.due == dt.date(2026, 4, 1)


def test_after_a_report_there_is_no_deadline_until_the_threshold() -> None:
    action = next_action(
        snap(
            IN_PROGRESS,
            NOT_STARTED,
            NOT_STARTED,
            NOT_STARTED,
            facts={1: {"reports": 1, "share": 0.5}},
        )
    )
    assert action is not None
    assert (action.code, action.due) == ("report_web_course", None)


@pytest.mark.parametrize(
    ("share", "threshold", "code"),
    [
        (0.8, 0.8, "complete_web_course"),
        (0.79, 0.8, "report_web_course"),
        (0.5, 0.5, "complete_web_course"),
    ],
)
def test_threshold_decides_when_the_manager_may_close_step_1(
    share: float, threshold: float, code: str
) -> None:
    action = next_action(
        snap(
            IN_PROGRESS,
            NOT_STARTED,
            NOT_STARTED,
            NOT_STARTED,
            facts={1: {"reports": 2, "share": share}},
            web_course_threshold=threshold,
        )
    )
    assert action is not None
    assert action.code == code


def test_step_2_asks_the_coordinator_to_book_training() -> None:
    action = next_action(snap(DONE, IN_PROGRESS, NOT_STARTED, NOT_STARTED))
    assert action is not None
    assert (action.code, action.who, action.step) == ("book_training", "coordinator", 2)
    assert str(action.text) == "Boka riktad utbildning"


def test_step_3_routine_then_approval() -> None:
    write = next_action(snap(DONE, DONE, IN_PROGRESS, NOT_STARTED))
    approve = next_action(
        snap(DONE, DONE, IN_PROGRESS, NOT_STARTED, facts={3: {"awaiting_approval": True}})
    )
    assert write is not None
    assert approve is not None
    assert (write.code, write.who) == ("write_routine", "manager")
    assert (approve.code, str(approve.text)) == ("approve_routine", "Godkänn rutinen")
    assert approve.who == "coordinator"


def test_step_3_routine_approved_by_the_coordinator_waits_for_the_manager() -> None:
    facts = {3: {"awaiting_approval": True, "coordinator_approved": True}}
    action = next_action(snap(DONE, DONE, IN_PROGRESS, NOT_STARTED, facts=facts))
    assert action is not None
    assert (action.code, action.who, str(action.text)) == (
        "manager_approve_routine",
        "manager",
        "Godkänn rutinen",
    )


def test_follow_ups_are_due_calendar_months_after_implementation() -> None:
    implemented = dt.date(2026, 8, 31)
    first = next_action(snap(DONE, DONE, DONE, IN_PROGRESS, completed3=implemented))
    assert first is not None
    assert (first.code, first.due) == ("follow_up_6", dt.date(2027, 2, 28))
    assert str(first.text) == "Boka uppföljningen efter 6 månader"
    second = next_action(
        snap(DONE, DONE, DONE, IN_PROGRESS, completed3=implemented, facts={4: {"held": 1}})
    )
    assert second is not None
    assert (second.code, second.due) == ("follow_up_12", dt.date(2027, 8, 31))
    custom = next_action(
        snap(
            DONE,
            DONE,
            DONE,
            IN_PROGRESS,
            completed3=implemented,
            followup_offsets_months=(3, 9, 18),
        )
    )
    assert custom is not None
    assert custom.due == dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (RolloutStatus.REQUESTED, "decide_request"),
        (RolloutStatus.PAUSED, "resume"),
        (RolloutStatus.COMPLETED, None),
        (RolloutStatus.DECLINED, None),
    ],
)
def test_rollout_status_decides_first(status: str, code: str | None) -> None:
    action = next_action(snap(IN_PROGRESS, NOT_STARTED, NOT_STARTED, NOT_STARTED, status=status))
    assert (action.code if action else None) == code


def test_follow_ups_count_from_the_reported_implementation_date() -> None:
    action = next_action(
        snap(
            DONE,
            DONE,
            DONE,
            IN_PROGRESS,
            completed3=dt.date(2026, 11, 27),
            facts={3: {"implemented_on": dt.date(2026, 11, 20)}},
        )
    )
    assert action is not None
    assert action.due == dt.date(2027, 5, 20)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 11, 27), 12) == dt.date(2027, 11, 27)
