"""Rollout actions on a unit: start, join requests, pause, check-in, early start of a step.

The unit page itself (/units/<id>/) is units' view with the rollout section registered in
rollout.apps; these views change things and send the person back there."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rollout import selectors, services
from rollout.forms import ReasonForm
from rollout.models import Rollout, RolloutStatus, Step
from rollout.next_steps import with_next_action
from rollout.timeline import step_label, text
from units import access
from units.models import Unit, User


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _back(unit: Unit) -> HttpResponse:
    return redirect("units:detail", pk=unit.pk)


def attempt(
    request: HttpRequest,
    action: Callable[[], object],
    success: str,
    *,
    then_next: Unit | None = None,
) -> bool:
    """Run a service call; show its refusal (RolloutError) or the success message, followed by
    ``then_next``'s next action as a link when the change sets the unit's work going."""
    try:
        action()
    except services.RolloutError as error:
        messages.error(request, str(error))
        return False
    messages.success(
        request, success if then_next is None else with_next_action(request, then_next, success)
    )
    return True


def _open(unit: Unit, *statuses: str) -> Rollout:
    rollout = selectors.open_rollout(unit=unit)
    if rollout is None or (statuses and rollout.status not in statuses):
        raise Http404
    return rollout


@require_POST
@login_required
def start(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    attempt(
        request,
        lambda: services.rollout_start(actor=_user(request), unit=unit),
        _("Införandet har startat. Steg 1, Webbkurs Heder, pågår nu."),
        then_next=unit,
    )
    return _back(unit)


@require_POST
@login_required
def request_to_join(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    attempt(
        request,
        lambda: services.rollout_request(actor=_user(request), unit=unit),
        _("Förfrågan är skickad till samordnaren."),
    )
    return _back(unit)


@require_POST
@login_required
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    rollout = _open(unit, RolloutStatus.REQUESTED)
    attempt(
        request,
        lambda: services.rollout_accept(actor=_user(request), rollout=rollout),
        _("Förfrågan är godtagen och införandet har startat."),
        then_next=unit,
    )
    return _back(unit)


def _reason_page(
    request: HttpRequest,
    unit: Unit,
    *,
    title: str,
    intro: str,
    button: str,
    act: Callable[[str], object],
    success: str,
) -> HttpResponse:
    form = ReasonForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(request, lambda: act(form.cleaned_data["reason"]), success)
    ):
        return _back(unit)
    return render(
        request,
        "rollout/reason_form.html",
        {"unit": unit, "form": form, "title": title, "intro": intro, "button": button},
    )


@require_http_methods(["GET", "POST"])
@login_required
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    rollout = _open(unit, RolloutStatus.REQUESTED)
    return _reason_page(
        request,
        unit,
        title=_("Avböj förfrågan"),
        intro=_("Enhetschefen ser anledningen i enhetens tidslinje."),
        button=_("Avböj förfrågan"),
        act=lambda reason: services.rollout_decline(
            actor=_user(request), rollout=rollout, reason=reason
        ),
        success=_("Förfrågan är avböjd."),
    )


@require_http_methods(["GET", "POST"])
@login_required
def pause(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    rollout = _open(unit, RolloutStatus.ACTIVE)
    return _reason_page(
        request,
        unit,
        title=_("Pausa införandet"),
        intro=_(
            "Under pausen skickas inga påminnelser för enheten. Du kan återuppta när som helst."
        ),
        button=_("Pausa införandet"),
        act=lambda reason: services.rollout_pause(
            actor=_user(request), rollout=rollout, reason=reason
        ),
        success=_("Införandet är pausat."),
    )


@require_POST
@login_required
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    rollout = _open(unit, RolloutStatus.PAUSED)
    attempt(
        request,
        lambda: services.rollout_resume(actor=_user(request), rollout=rollout),
        _("Införandet är återupptaget."),
        then_next=unit,
    )
    return _back(unit)


@require_POST
@login_required
def checkin(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    rollout = _open(unit)
    attempt(
        request,
        lambda: services.checkin_nothing_new(actor=_user(request), rollout=rollout),
        _("Tack! Vi har noterat att inget nytt har hänt."),
    )
    return _back(unit)


@require_http_methods(["GET", "POST"])
@login_required
def start_step_early(request: HttpRequest, pk: int, step: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    if step not in Step.values:
        raise Http404
    rollout = _open(unit, RolloutStatus.ACTIVE)
    label = Step(step).label
    return _reason_page(
        request,
        unit,
        title=_("Påbörja steg %(step)s i förtid") % {"step": step},
        intro=_(
            "Stegen görs normalt i ordning. Skriv varför %(label)s ska påbörjas innan föregående "
            "steg är klart; anledningen sparas i tidslinjen."
        )
        % {"label": label},
        button=_("Påbörja steget"),
        act=lambda reason: services.step_start_early(
            actor=_user(request), rollout=rollout, step=step, reason=reason
        ),
        success=_("Steg %(step)s är påbörjat.") % {"step": step},
    )


@require_GET
@login_required
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    page = Paginator(selectors.timeline(unit=unit), 50).get_page(request.GET.get("page"))
    rows = [(event, text(event), step_label(event)) for event in page.object_list]
    return render(request, "rollout/timeline.html", {"unit": unit, "page": page, "rows": rows})
