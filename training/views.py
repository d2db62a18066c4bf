"""Step 1, Webbkurs Heder: the unit reports how many have taken the course and closes the step."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rollout import selectors as rollout_selectors
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus
from rollout.services import RolloutError
from training import selectors, services
from training.forms import WebCourseReportForm
from units import access
from units.models import User


@require_http_methods(["GET", "POST"])
@login_required
def web_course(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    can_write = access.writable_units(request.user).filter(pk=unit.pk).exists()
    if request.method == "POST" and not can_write:
        unit = access.get_rw_unit_for_user(request.user, pk)  # 403 for read-only
    is_coordinator = access.is_coordinator_of(request.user, unit.municipality_id)
    rollout = (
        rollout_selectors.open_rollout(unit=unit)
        or Rollout.objects.filter(unit=unit)
        .select_related("unit__municipality")
        .order_by("-round")
        .first()
    )
    state = (
        StepState.objects.filter(rollout=rollout, step=Step.WEB_COURSE).first() if rollout else None
    )
    in_progress = bool(
        rollout
        and rollout.status == RolloutStatus.ACTIVE
        and state
        and state.status == StepStatus.IN_PROGRESS
    )
    completed = selectors.web_course_completed(rollout=rollout) if rollout else 0
    form = None
    if in_progress and can_write:
        form = WebCourseReportForm(request.POST or None, unit=unit, already_completed=completed)
        if request.method == "POST" and form.is_valid():
            assert rollout is not None
            assert isinstance(request.user, User)
            data = form.cleaned_data
            try:
                services.web_course_report(
                    actor=request.user,
                    rollout=rollout,
                    reported_on=data["reported_on"],
                    completed_count=data["completed_count"],
                    mode=data["mode"],
                    group_sessions=data["group_sessions"],
                    knowledge_level=data["knowledge_level"],
                    reflections=data["reflections"],
                    new_headcount=data.get("new_headcount"),
                )
            except RolloutError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Rapporten är sparad."))
                return redirect("training:web_course", pk=unit.pk)
    elif request.method == "POST":
        messages.error(request, _("Steg 1 är inte pågående, så ingen rapport kan lämnas."))
        return redirect("training:web_course", pk=unit.pk)
    unit.refresh_from_db(fields=["headcount"])
    threshold = unit.municipality.web_course_threshold_percent
    share = selectors.share(completed, unit.headcount)
    return render(
        request,
        "training/web_course.html",
        {
            "unit": unit,
            "rollout": rollout,
            "state": state,
            "in_progress": in_progress,
            "form": form,
            "reports": selectors.web_course_reports(rollout=rollout) if rollout else [],
            "completed": completed,
            "percent": round(share * 100),
            "threshold": threshold,
            "may_complete": in_progress
            and can_write
            and (is_coordinator or share * 100 >= threshold),
            "is_coordinator": is_coordinator,
        },
    )


@require_POST
@login_required
def web_course_complete(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    rollout = rollout_selectors.open_rollout(unit=unit)
    assert isinstance(request.user, User)
    if rollout is None:
        messages.error(request, _("Enheten har inget pågående införande."))
        return redirect("units:detail", pk=unit.pk)
    try:
        changed = services.web_course_complete(
            actor=request.user,
            rollout=rollout,
            is_coordinator=access.is_coordinator_of(request.user, unit.municipality_id),
        )
    except RolloutError as error:
        messages.error(request, str(error))
        return redirect("training:web_course", pk=unit.pk)
    if changed:
        messages.success(request, _("Steg 1 är klart. Nu väntar steg 2, den riktade utbildningen."))
    return redirect("units:detail", pk=unit.pk)
