"""Writes for step 1: web-course reports and marking the step done."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from rollout import services as engine
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus
from training.models import WebCourseReport
from training.selectors import share, web_course_completed
from units import services as unit_services
from units.models import Unit, User


@transaction.atomic
def web_course_report(
    *,
    actor: User,
    rollout: Rollout,
    reported_on: dt.date,
    completed_count: int,
    mode: str,
    group_sessions: int,
    knowledge_level: int,
    reflections: str,
    new_headcount: int | None = None,
) -> WebCourseReport:
    rollout = Rollout.objects.select_for_update().select_related("unit").get(pk=rollout.pk)
    if rollout.status != RolloutStatus.ACTIVE:
        raise engine.RolloutError(_("Införandet är inte aktivt."))
    state = StepState.objects.get(rollout=rollout, step=Step.WEB_COURSE)
    if state.status != StepStatus.IN_PROGRESS:
        raise engine.RolloutError(_("Steg 1 är inte pågående."))
    unit: Unit = rollout.unit
    if new_headcount is not None and new_headcount != unit.headcount:
        unit_services.unit_update(actor=actor, unit=unit, headcount=new_headcount)
    total = web_course_completed(rollout=rollout) + completed_count
    if total > unit.headcount:
        raise engine.RolloutError(
            _("Fler har gått kursen (%(total)s) än det finns anställda (%(headcount)s).")
            % {"total": total, "headcount": unit.headcount}
        )
    report = WebCourseReport(
        rollout=rollout,
        reported_on=reported_on,
        completed_count=completed_count,
        mode=mode,
        group_sessions=group_sessions,
        knowledge_level=knowledge_level,
        reflections=reflections,
        headcount_at_report=unit.headcount,
        reported_by=actor,
    )
    report.full_clean()
    report.save()
    engine.record_event(
        unit=unit,
        rollout=rollout,
        step=Step.WEB_COURSE,
        kind="web_course.reported",
        actor=actor,
        completed=completed_count,
        total=total,
        headcount=unit.headcount,
    )
    return report


def may_complete(*, rollout: Rollout, is_coordinator: bool) -> bool:
    """The coordinator may close step 1 at any time; the manager once the threshold is reached."""
    if is_coordinator:
        return True
    threshold = rollout.unit.municipality.web_course_threshold_percent / 100
    return share(web_course_completed(rollout=rollout), rollout.unit.headcount) >= threshold


@transaction.atomic
def web_course_complete(*, actor: User, rollout: Rollout, is_coordinator: bool) -> bool:
    if not may_complete(rollout=rollout, is_coordinator=is_coordinator):
        raise engine.RolloutError(
            _("Steg 1 kan markeras som klart när %(percent)s %% av personalen har gått kursen.")
            % {"percent": rollout.unit.municipality.web_course_threshold_percent}
        )
    return engine.step_complete(actor=actor, rollout=rollout, step=Step.WEB_COURSE)
