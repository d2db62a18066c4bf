"""The step engine's pure rules: which step is current and what the one next action is.

No database access here: the services and selectors build a snapshot, these functions decide.
"""

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rollout.models import RolloutStatus, Step, StepStatus
from units.models import Role

FIRST_REPORT_WITHIN = dt.timedelta(days=30)


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the month's last day (31 Aug + 6 months = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class StepSnapshot:
    status: str = StepStatus.NOT_STARTED
    started_on: dt.date | None = None
    completed_on: dt.date | None = None


@dataclass(frozen=True)
class RolloutSnapshot:
    status: str
    steps: dict[int, StepSnapshot]
    started_on: dt.date | None = None
    followup_offsets_months: tuple[int, ...] = (6, 12)
    # Facts the step apps report (rollout.steps registry), e.g. {1: {"reports": 2, "share": 0.85}}
    facts: dict[int, dict[str, object]] = field(default_factory=dict)
    web_course_threshold: float = 0.8
    # The day the snapshot is read on (Stockholm's calendar): a booked session or follow-up
    # whose day has come is to be recorded, no longer to be held.
    today: dt.date | None = None


@dataclass(frozen=True)
class NextAction:
    code: str
    text: str | Promise
    who: str  # a units.models.Role value
    step: int | None = None
    due: dt.date | None = None
    # The step app's own record the action is about (e.g. the follow-up to book), for its link.
    ref: int | None = None


def current_step(snapshot: RolloutSnapshot) -> int | None:
    """The lowest step that is not done; None when all four are done."""
    for step in Step.values:
        if snapshot.steps.get(step, StepSnapshot()).status != StepStatus.DONE:
            return step
    return None


def next_action(snapshot: RolloutSnapshot) -> NextAction | None:
    """The one next thing to do: the lowest open step's (or the rollout's own, when it is not
    active)."""
    actions = open_actions(snapshot)
    return actions[0] if actions else None


def open_actions(snapshot: RolloutSnapshot) -> list[NextAction]:
    """What every open step waits for, lowest step first: next_action, then the actions of the
    later steps the coordinator started early (with a reason) while an earlier one is open. A
    routine sent for review in an early step 3 waits for the coordinator as much as step 2 does."""
    if snapshot.status == RolloutStatus.REQUESTED:
        return [
            NextAction(
                "decide_request", _("Ta ställning till förfrågan om att delta"), Role.COORDINATOR
            )
        ]
    if snapshot.status == RolloutStatus.PAUSED:
        return [NextAction("resume", _("Återuppta införandet när det är dags"), Role.COORDINATOR)]
    if snapshot.status != RolloutStatus.ACTIVE:
        return []
    first = current_step(snapshot)
    if first is None:
        return []
    return [
        _step_action(snapshot, step)
        for step in Step.values
        if step == first
        or (
            step > first
            and snapshot.steps.get(step, StepSnapshot()).status == StepStatus.IN_PROGRESS
        )
    ]


def _step_action(snapshot: RolloutSnapshot, step: int) -> NextAction:
    """What an open step waits for, from its state and the facts its app reports."""
    state = snapshot.steps.get(step, StepSnapshot())
    facts = snapshot.facts.get(step, {})
    if step == Step.WEB_COURSE:
        share = float(facts.get("share", 0.0) or 0.0)  # type: ignore[arg-type]
        if share >= snapshot.web_course_threshold:
            return NextAction(
                "complete_web_course", _("Markera steg 1 som klart"), Role.MANAGER, step
            )
        due = (
            state.started_on + FIRST_REPORT_WITHIN
            if state.started_on and not facts.get("reports")
            else None
        )
        return NextAction("report_web_course", _("Rapportera webbkursen"), Role.MANAGER, step, due)
    if step == Step.TRAINING:
        if facts.get("held"):
            return NextAction(
                "complete_training",
                _("Markera steg 2 som klart"),
                Role.COORDINATOR,
                step,
            )
        if facts.get("booked"):
            next_on = facts.get("next_session_on")
            next_on = next_on if isinstance(next_on, dt.date) else None
            return NextAction(
                "hold_training",
                _("Registrera den riktade utbildningen som genomförd")
                if next_on and snapshot.today and next_on <= snapshot.today
                else _("Genomför den riktade utbildningen"),
                Role.COORDINATOR,
                step,
                next_on,
            )
        return NextAction("book_training", _("Boka riktad utbildning"), Role.COORDINATOR, step)
    if step == Step.ROUTINES:
        if facts.get("awaiting_approval"):
            if facts.get("coordinator_approved"):  # this version; the manager's is missing
                return NextAction(
                    "manager_approve_routine", _("Godkänn rutinen"), Role.MANAGER, step
                )
            return NextAction("approve_routine", _("Godkänn rutinen"), Role.COORDINATOR, step)
        if facts.get("approved"):
            return NextAction(
                "implement_routine",
                _("För in rutinen i verksamhetsplanen och registrera att den är införd"),
                Role.MANAGER,
                step,
            )
        return NextAction("write_routine", _("Skriv rutinen"), Role.MANAGER, step)
    # Step 4: one follow-up per offset, counted from the day the routine was implemented (as
    # step 3 reports it), or else from the day step 3 was completed.
    reported = snapshot.facts.get(Step.ROUTINES, {}).get("implemented_on")
    implemented = (
        reported
        if isinstance(reported, dt.date)
        else snapshot.steps.get(Step.ROUTINES, StepSnapshot()).completed_on
    )
    # The rollout's own follow-ups, made when step 4 began: the municipality's months may have
    # been changed since, and a follow-up that does not exist can be neither due nor held.
    records = facts.get("records")
    if isinstance(records, list) and records:
        open_records = [r for r in records if r.status != "held"]
        waiting = [r.offset_months for r in open_records]
    else:
        open_records = []
        held = int(facts.get("held", 0) or 0)  # type: ignore[call-overload]
        waiting = list(snapshot.followup_offsets_months[held:])
    if not waiting:
        return NextAction(
            "complete_follow_up", _("Markera uppföljningen som klar"), Role.COORDINATOR, step
        )
    months = waiting[0]
    due = add_months(implemented, months) if implemented else None
    record = open_records[0] if open_records else None
    booked_on = getattr(record, "booked_on", None)
    # Not booked: book it; booked: hold it on the day; the day has come: record it.
    if record is not None and record.status == "booked" and isinstance(booked_on, dt.date):
        if snapshot.today and booked_on <= snapshot.today:
            text = _("Registrera uppföljningen efter %(months)s månader") % {"months": months}
        else:
            text = _("Genomför uppföljningen efter %(months)s månader (bokad %(day)s)") % {
                "months": months,
                "day": f"{booked_on:%Y-%m-%d}",
            }
    else:
        text = _("Boka uppföljningen efter %(months)s månader") % {"months": months}
    return NextAction(
        f"follow_up_{months}",
        text,
        Role.COORDINATOR,
        step,
        due,
        getattr(record, "pk", None),
    )
