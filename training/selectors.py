"""Reads for step 1."""

from collections.abc import Sequence

from django.db.models import Count, Max, QuerySet, Sum

from rollout.models import Rollout
from training.models import WebCourseReport


def web_course_reports(*, rollout: Rollout) -> QuerySet[WebCourseReport]:
    return rollout.web_course_reports.select_related("reported_by").order_by("-reported_on", "-id")


def web_course_completed(*, rollout: Rollout) -> int:
    return rollout.web_course_reports.aggregate(total=Sum("completed_count"))["total"] or 0


def share(completed: int, headcount: int) -> float:
    return min(completed / headcount, 1.0) if headcount else 0.0


def web_course_facts(rollouts: Sequence[Rollout]) -> dict[int, dict[str, object]]:
    """Facts for the engine, for many rollouts in one query."""
    rows = (
        WebCourseReport.objects.filter(rollout__in=[r.pk for r in rollouts])
        .values("rollout_id")
        .annotate(completed=Sum("completed_count"), reports=Count("id"), last=Max("reported_on"))
    )
    headcounts = {r.pk: r.unit.headcount for r in rollouts}
    return {
        row["rollout_id"]: {
            "completed": row["completed"],
            "reports": row["reports"],
            "last_report_on": row["last"],
            "share": share(row["completed"], headcounts.get(row["rollout_id"], 0)),
        }
        for row in rows
    }
