"""Reads for step 1."""

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from jarfalla.collation import swedish
from rollout.models import Rollout, RolloutStatus
from training.models import SessionStatus, Theme, TrainingSession, WebCourseReport
from units.models import Municipality, Unit, User

if TYPE_CHECKING:
    from rollout.steps import DigestItem


def web_course_reports(*, rollout: Rollout) -> QuerySet[WebCourseReport]:
    return rollout.web_course_reports.select_related("reported_by").order_by("-reported_on", "-id")


def web_course_completed(*, rollout: Rollout) -> int:
    # Kept on the rollout by services.web_course_report (Rollout.web_course_completed).
    return rollout.web_course_completed


def share(completed: int, headcount: int) -> float:
    return min(completed / headcount, 1.0) if headcount else 0.0


def web_course_facts(rollouts: Sequence[Rollout]) -> dict[int, dict[str, object]]:
    """Facts for the engine (and the dashboard's indicators), for many rollouts in one query."""
    headcounts = {r.pk: r.unit.headcount for r in rollouts}
    completed: dict[int, int] = {}
    reports: dict[int, int] = {}
    latest: dict[int, tuple[dt.date, int]] = {}
    # Oldest first, so the last report seen per rollout gives the latest knowledge level.
    for rollout_id, count, reported_on, level in (
        WebCourseReport.objects.filter(rollout__in=[r.pk for r in rollouts])
        .order_by("rollout_id", "reported_on", "id")
        .values_list("rollout_id", "completed_count", "reported_on", "knowledge_level")
    ):
        completed[rollout_id] = completed.get(rollout_id, 0) + count
        reports[rollout_id] = reports.get(rollout_id, 0) + 1
        latest[rollout_id] = (reported_on, level)
    return {
        rollout_id: {
            "completed": total,
            "reports": reports[rollout_id],
            "last_report_on": latest[rollout_id][0],
            "knowledge_level": latest[rollout_id][1],
            "share": share(total, headcounts.get(rollout_id, 0)),
        }
        for rollout_id, total in completed.items()
    }


def training_facts(rollouts: Sequence[Rollout]) -> dict[int, dict[str, object]]:
    """Step 2 facts for the engine: booked and held sessions, and the date of the earliest
    booked one. A booked session whose time has passed still counts until someone records it
    as held (or cancels it), and its date makes holding the training overdue."""
    rows = (
        TrainingSession.objects.filter(rollout__in=[r.pk for r in rollouts])
        .values("rollout_id")
        .annotate(
            held=Count("id", filter=Q(status=SessionStatus.HELD)),
            booked=Count("id", filter=Q(status=SessionStatus.BOOKED)),
            next_start=Min("starts_at", filter=Q(status=SessionStatus.BOOKED)),
        )
    )
    return {
        row["rollout_id"]: {
            "held": row["held"],
            "booked": row["booked"],
            "next_session_on": timezone.localtime(row["next_start"]).date()
            if row["next_start"]
            else None,
        }
        for row in rows
    }


def unit_sessions(*, rollout: Rollout) -> QuerySet[TrainingSession]:
    return (
        rollout.training_sessions.select_related("leader")
        .prefetch_related("themes")
        .order_by("starts_at")
    )


def week_sessions(*, units: QuerySet[Unit], monday: dt.date) -> QuerySet[TrainingSession]:
    """All sessions in the ISO week starting ``monday`` (Stockholm time) for the given units."""
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=timezone.get_current_timezone())
    return (
        TrainingSession.objects.filter(
            rollout__unit__in=units,
            starts_at__gte=start,
            starts_at__lt=start + dt.timedelta(days=7),
        )
        .select_related("rollout__unit", "leader")
        .prefetch_related("themes")
        # Sessions at the same time by unit, in Swedish alphabetical order.
        .order_by("starts_at", swedish("rollout__unit__name"), "pk")
    )


def overlapping(
    *, leader: User, starts_at: dt.datetime, ends_at: dt.datetime, exclude: int | None = None
) -> list[TrainingSession]:
    """The leader's other booked sessions that overlap the given time."""
    candidates = (
        TrainingSession.objects.filter(
            leader=leader,
            status=SessionStatus.BOOKED,
            starts_at__lt=ends_at,
            starts_at__gte=starts_at - dt.timedelta(hours=8),
        )
        .exclude(pk=exclude or 0)
        .select_related("rollout__unit")
    )
    return [s for s in candidates if s.ends_at > starts_at]


def themes(*, municipality: Municipality, active_only: bool = True) -> QuerySet[Theme]:
    found = Theme.objects.filter(municipality=municipality)
    return found.filter(is_active=True) if active_only else found


# Reflections from step 1 shown to the coordinator planning step 2, newest first; the step 1
# page has them all, a page at a time.
STEP_ONE_REFLECTIONS = 5


def step_one_summary(*, rollout: Rollout) -> dict[str, object]:
    """What step 1 showed, for the coordinator planning step 2: the latest knowledge level and
    the latest reflections (``more`` when there are older ones)."""
    latest = rollout.web_course_reports.order_by("-reported_on", "-id")
    reflections = list(
        latest.exclude(reflections="").values_list("reflections", flat=True)[
            : STEP_ONE_REFLECTIONS + 1
        ]
    )
    return {
        "latest_level": latest.values_list("knowledge_level", flat=True).first(),
        "reflections": reflections[:STEP_ONE_REFLECTIONS],
        "more": len(reflections) > STEP_ONE_REFLECTIONS,
    }


def feed_sessions(*, user: User) -> QuerySet[TrainingSession]:
    """Sessions in the coordinator's municipalities, from 90 days back."""
    since = timezone.now() - dt.timedelta(days=90)
    return (
        TrainingSession.objects.filter(
            rollout__unit__municipality__roles__user=user,
            rollout__unit__municipality__roles__role="coordinator",
            starts_at__gte=since,
        )
        .select_related("rollout__unit__municipality", "leader")
        .prefetch_related("themes")
        .order_by("starts_at")
    )


def digest(municipality_ids: Sequence[int], today: dt.date) -> list["DigestItem"]:
    """Booked sessions this ISO week, for the coordinator's digest."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from rollout.steps import DigestItem

    monday = today - dt.timedelta(days=today.weekday())
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=timezone.get_current_timezone())
    sessions = TrainingSession.objects.filter(
        rollout__unit__municipality_id__in=municipality_ids,
        # Like the rest of the digest: nothing for paused or completed rollouts or archived units.
        rollout__unit__is_active=True,
        rollout__status=RolloutStatus.ACTIVE,
        status=SessionStatus.BOOKED,
        starts_at__gte=start,
        starts_at__lt=start + dt.timedelta(days=7),
    ).select_related("rollout__unit")
    return [
        DigestItem(
            _("Utbildningstillfällen den här veckan"),
            f"{timezone.localtime(s.starts_at):%Y-%m-%d %H:%M} {s.rollout.unit.name}",
            reverse("training:targeted", args=[s.rollout.unit_id]),
        )
        for s in sessions.order_by("starts_at")
    ]
