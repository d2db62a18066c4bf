"""Step 4 pages, notification settings and the municipality's outbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from followup import followups, selectors, services
from followup.forms import BookForm, NotificationSettingsForm, RecordForm
from followup.models import (
    FollowUp,
    FollowUpStatus,
    NotificationSettings,
    Reminder,
    ReminderStatus,
)
from rollout import next_steps
from rollout import selectors as rollout_selectors
from rollout.services import RolloutError
from units import access
from units.models import Unit, User


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _follow_up(unit: Unit, pk: int) -> FollowUp:
    return get_object_or_404(
        FollowUp.objects.select_related("rollout__unit__municipality"), pk=pk, rollout__unit=unit
    )


@require_GET
@login_required
def step(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    rollout = rollout_selectors.open_rollout(unit=unit)
    rows = selectors.follow_ups(rollout=rollout) if rollout else []
    # Follow-ups are recorded in their order: only the first open one is offered.
    first_open = next((f for f, _due in rows if f.status != FollowUpStatus.HELD), None)
    return render(
        request,
        "followup/step.html",
        {
            "unit": unit,
            "rows": rows,
            "first_open": first_open,
            "is_coordinator": access.is_coordinator_of(request.user, unit.municipality_id),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def book(request: HttpRequest, pk: int, follow_up_pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    follow_up = _follow_up(unit, follow_up_pk)
    form = BookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            followups.book(
                actor=_user(request),
                follow_up=follow_up,
                starts_at=form.cleaned_data["starts_at"],
                mode=form.cleaned_data["mode"],
                place=form.cleaned_data["place"],
            )
        except RolloutError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Uppföljningen är bokad och enhetscheferna får en kalenderinbjudan.")
            )
            return redirect("followup:step", pk=unit.pk)
    return render(
        request, "followup/book.html", {"unit": unit, "follow_up": follow_up, "form": form}
    )


@require_http_methods(["GET", "POST"])
@login_required
def record(request: HttpRequest, pk: int, follow_up_pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    follow_up = _follow_up(unit, follow_up_pk)
    if follow_up.status == FollowUpStatus.HELD:
        messages.info(request, _("Uppföljningen är redan registrerad."))
        return redirect("followup:step", pk=unit.pk)
    earlier = selectors.earlier_open(follow_up)
    if earlier is not None:
        messages.error(request, followups.waits_for(earlier))
        return redirect("followup:step", pk=unit.pk)
    form = RecordForm(request.POST or None, instance=follow_up)
    if request.method == "POST" and form.is_valid():
        try:
            followups.record(actor=_user(request), follow_up=follow_up, **form.cleaned_data)
        except RolloutError as error:
            form.add_error(None, str(error))
        else:
            done = _("Uppföljningen är registrerad.")
            message: str
            if rollout_selectors.open_rollout(unit=unit) is None:
                # That was the last one: step 4 and the rollout are complete.
                message = next_steps.with_link(
                    done + " " + _("Alla fyra steg är klara och införandet är slutfört."),
                    reverse("rollout:certificate", args=[unit.pk]),
                    _("Ladda ned intyg"),
                )
            else:
                message = next_steps.with_next_action(request, unit, done)
            messages.success(request, message)
            return redirect("units:detail", pk=unit.pk)
    return render(
        request, "followup/record.html", {"unit": unit, "follow_up": follow_up, "form": form}
    )


@require_http_methods(["GET", "POST"])
@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    instance = NotificationSettings.objects.filter(user=user).first() or NotificationSettings(
        user=user
    )
    roles = access.roles_of(user)
    form = NotificationSettingsForm(
        request.POST or None, instance=instance, coordinator=roles.is_coordinator
    )
    if request.method == "POST" and form.is_valid():
        services.notification_settings_save(user=user, **form.cleaned_data)
        messages.success(request, _("Dina aviseringsinställningar är sparade."))
        return redirect("followup:settings")
    return render(request, "followup/settings.html", {"form": form, "roles": roles})


@require_GET
@login_required
def outbox(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    reminders = selectors.outbox(municipality_ids=[municipality.pk])
    status = _status(request.GET)
    if status:
        reminders = reminders.filter(status=status)
    page = Paginator(reminders, 50).get_page(request.GET.get("page"))
    stuck_ids = set(
        services.stuck_reminders()
        .filter(pk__in=reminders.values("pk"))
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "followup/outbox.html",
        {
            "municipality": municipality,
            "page": page,
            "status": status,
            "stuck": len(stuck_ids),
            "stuck_ids": stuck_ids,
            # The pages and the retry buttons keep the chosen tab.
            "query": urlencode({"status": status}) if status else "",
        },
    )


def _status(data: QueryDict) -> str:
    """The outbox tab asked for: a reminder status, or "" for all."""
    status = data.get("status", "")
    return status if status in ReminderStatus.values else ""


@require_POST
@login_required
def retry(request: HttpRequest, municipality_pk: int, pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    reminder = selectors.outbox(municipality_ids=[municipality.pk]).filter(pk=pk).first()
    if reminder is None:
        raise Http404
    if services.retry(reminder=Reminder.objects.get(pk=reminder.pk)):
        messages.success(request, _("Påminnelsen skickas igen vid nästa utskick."))
    else:
        messages.info(request, _("Påminnelsen väntar redan på att skickas eller är redan skickad."))
    # Back to the tab and page the button was on: working through the failed ones one by one.
    page = request.POST.get("page", "")
    back = {"status": _status(request.POST), "page": page if page.isdigit() else ""}
    query = urlencode({key: value for key, value in back.items() if value and value != "1"})
    url = reverse("followup:outbox", args=[municipality.pk])
    return redirect(f"{url}?{query}" if query else url)
