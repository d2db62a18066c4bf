"""Reads for step 4 and the outbox."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from followup.models import FollowUp, FollowUpStatus, Reminder, ReminderStatus
from rollout import steps
from rollout.engine import add_months
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus


@dataclass(frozen=True)
class FollowUpRecord:
    """What the dashboard's indicators need of one follow-up (counts and judgements only)."""

    offset_months: int
    status: str
    held_on: dt.date | None
    routine_in_use: str
    effect: int | None
    # For the engine's next action and its link: which follow-up, and the day it is booked for.
    pk: int | None = None
    booked_on: dt.date | None = None


def implemented_on(rollouts: Sequence[Rollout]) -> dict[int, dt.date]:
    """When each rollout's routine was implemented: step 3's own report, else step 3's end."""
    facts = steps.facts_for(rollouts)
    reported = {
        pk: value
        for pk, by_step in facts.items()
        if isinstance(value := by_step.get(Step.ROUTINES, {}).get("implemented_on"), dt.date)
    }
    missing = [r.pk for r in rollouts if r.pk not in reported]
    for rollout_id, completed in StepState.objects.filter(
        rollout_id__in=missing, step=Step.ROUTINES, completed_at__isnull=False
    ).values_list("rollout_id", "completed_at"):
        reported[rollout_id] = timezone.localtime(completed).date()
    return reported


def due_on(follow_up: FollowUp, implemented: dt.date | None) -> dt.date | None:
    return add_months(implemented, follow_up.offset_months) if implemented else None


def follow_ups(*, rollout: Rollout) -> list[tuple[FollowUp, dt.date | None]]:
    implemented = implemented_on([rollout]).get(rollout.pk)
    return [
        (f, due_on(f, implemented))
        for f in FollowUp.objects.filter(rollout=rollout).select_related("booked_by")
    ]


def earlier_open(follow_up: FollowUp) -> FollowUp | None:
    """The first follow-up of the same rollout that comes before this one and is not held:
    follow-ups are recorded in their order, so this one waits for it."""
    return (
        FollowUp.objects.filter(
            rollout_id=follow_up.rollout_id, offset_months__lt=follow_up.offset_months
        )
        .exclude(status=FollowUpStatus.HELD)
        .order_by("offset_months")
        .first()
    )


def follow_up_facts(rollouts: Sequence[Rollout]) -> dict[int, dict[str, object]]:
    """Counts for the engine, and each follow-up's outcome for the dashboard's indicators."""
    records: dict[int, list[FollowUpRecord]] = {}
    for rollout_id, months, status, held_at, in_use, effect, pk, starts_at in (
        FollowUp.objects.filter(rollout__in=[r.pk for r in rollouts])
        .order_by("rollout_id", "offset_months")
        .values_list(
            "rollout_id",
            "offset_months",
            "status",
            "held_at",
            "routine_in_use",
            "effect",
            "pk",
            "starts_at",
        )
    ):
        records.setdefault(rollout_id, []).append(
            FollowUpRecord(
                offset_months=months,
                status=status,
                held_on=timezone.localtime(held_at).date() if held_at else None,
                routine_in_use=in_use,
                effect=effect,
                pk=pk,
                booked_on=timezone.localtime(starts_at).date() if starts_at else None,
            )
        )
    return {
        rollout_id: {
            "held": sum(r.status == FollowUpStatus.HELD for r in rows),
            "booked": sum(r.status == FollowUpStatus.BOOKED for r in rows),
            "records": rows,
        }
        for rollout_id, rows in records.items()
    }


def shared_lessons(
    municipality_ids: Sequence[int], period: steps.Period | None = None
) -> list[steps.Lesson]:
    """Lessons from held follow-ups that the unit agreed to share, newest first (one query);
    with a period, those held on its days (Stockholm's calendar, both days included)."""
    held = FollowUp.objects.filter(
        rollout__unit__municipality_id__in=municipality_ids,
        share_lessons=True,
        status=FollowUpStatus.HELD,
        held_at__isnull=False,
    )
    if period is not None:
        tz = timezone.get_current_timezone()
        first, last = period
        held = held.filter(
            held_at__gte=dt.datetime.combine(first, dt.time.min, tzinfo=tz),
            held_at__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        )
    return [
        steps.Lesson(unit=unit, held_on=timezone.localtime(held_at).date(), text=text)
        for unit, held_at, text in held.exclude(lessons="")
        .order_by("-held_at", "-pk")
        .values_list("rollout__unit__name", "held_at", "lessons")
    ]


def open_follow_ups(*, municipality_ids: Sequence[int]) -> list[tuple[FollowUp, dt.date | None]]:
    """Follow-ups not yet held, of active rollouts in step 4 of active units."""
    candidates = list(
        FollowUp.objects.filter(
            rollout__unit__municipality_id__in=municipality_ids,
            rollout__unit__is_active=True,
            rollout__status=RolloutStatus.ACTIVE,
            rollout__steps__step=Step.FOLLOW_UP,
            rollout__steps__status=StepStatus.IN_PROGRESS,
        )
        .exclude(status=FollowUpStatus.HELD)
        .select_related("rollout__unit__municipality")
        .order_by("rollout_id", "offset_months")
    )
    rollouts = list({f.rollout_id: f.rollout for f in candidates}.values())
    implemented = implemented_on(rollouts)
    # Only the first open follow-up of each rollout is due next.
    seen: set[int] = set()
    result = []
    for follow_up in candidates:
        if follow_up.rollout_id in seen:
            continue
        seen.add(follow_up.rollout_id)
        result.append((follow_up, due_on(follow_up, implemented.get(follow_up.rollout_id))))
    return result


def outbox(*, municipality_ids: Sequence[int]) -> QuerySet[Reminder]:
    return (
        Reminder.objects.filter(
            Q(unit__municipality_id__in=municipality_ids)
            # Digests belong to no unit: they are the municipality's when the recipient works there.
            | Q(unit__isnull=True, recipient__municipal_roles__municipality_id__in=municipality_ids)
        )
        .distinct()
        .select_related("recipient", "unit")
        .order_by("-created_at")
    )


def failed_reminders(*, municipality_ids: Sequence[int]) -> QuerySet[Reminder]:
    return outbox(municipality_ids=municipality_ids).filter(status=ReminderStatus.FAILED)
