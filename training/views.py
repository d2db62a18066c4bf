"""Step 1, Webbkurs Heder: the unit reports how many have taken the course and closes the step."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jarfalla.collation import swedish
from jarfalla.mail import site_url
from rollout import next_steps
from rollout import selectors as rollout_selectors
from rollout.forms import ReasonForm
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus
from rollout.services import RolloutError
from training import ical, selectors, services
from training.forms import HeldForm, SessionForm, ThemeForm, WebCourseReportForm, WishForm
from training.models import (
    CalendarFeed,
    SessionStatus,
    Theme,
    TrainingSession,
    WebCourseReport,
)
from units import access
from units import selectors as unit_selectors
from units.models import Role, Unit, User

# Earlier reports shown per page on the step 1 page, newest first: a unit reports every few weeks,
# but nothing stops a unit from reporting often, and the page must not grow with it.
REPORTS_PER_PAGE = 20


def add_model_errors(
    form: forms.BaseForm, error: ValidationError, *, renamed: dict[str, str] | None = None
) -> None:
    """Show what a model's own validation refused (in a service, past the form) in the form:
    next to the field it concerns, the model's name for it mapped by ``renamed`` where the form
    calls it something else, and above the form for what no field of the form holds."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        field = (renamed or {}).get(name, name)
        form.add_error(field if field in form.fields else None, errors)


@require_http_methods(["GET", "POST"])
@login_required
def web_course(request: HttpRequest, pk: int) -> HttpResponse:
    refused = ""
    invalid = None
    if request.method == "POST":
        # A report goes straight to the service, which checks the rollout, the step and the
        # total under the rollout's lock; the page is read only to show what stopped it.
        access.check_rw_unit_for_user(request.user, pk)
        form = WebCourseReportForm(request.POST, unit=None, already_completed=None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.web_course_report(
                    actor=_user(request),
                    unit_id=pk,
                    reported_on=data["reported_on"],
                    completed_count=data["completed_count"],
                    mode=data["mode"],
                    group_sessions=data["group_sessions"],
                    knowledge_level=data["knowledge_level"],
                    reflections=data["reflections"],
                    new_headcount=data.get("new_headcount"),
                )
            except RolloutError as error:
                refused = str(error)
            except ValidationError as error:
                # The model's rules, which the form does not all repeat.
                invalid = error
            else:
                messages.success(request, _("Rapporten är sparad."))
                return redirect("training:web_course", pk=pk)
    return _web_course_page(request, pk, refused, invalid)


def _web_course_page(
    request: HttpRequest, pk: int, refused: str, invalid: ValidationError | None = None
) -> HttpResponse:
    """The step 1 page; after a refused POST, with the form's errors (or the service's reason,
    when it saw something the form could not, or the model's refusal, field by field)."""
    unit = access.get_unit_for_user(request.user, pk)
    can_write = access.can_write_unit(request.user, unit)
    is_coordinator = access.is_coordinator_of(request.user, unit.municipality_id)
    rollout = rollout_selectors.shown_round(
        list(
            Rollout.objects.filter(unit=unit)
            .select_related("unit__municipality")
            .order_by("-round")
        )
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
        if request.method == "POST" and form.is_valid() and refused:
            form.add_error(None, refused)
        if request.method == "POST" and invalid is not None:
            # (The form is cleaned already, just above.) The new headcount is saved on the unit, whose field is the headcount.
            add_model_errors(form, invalid, renamed={"headcount": "new_headcount"})
    elif request.method == "POST":
        if rollout is not None and rollout.status == RolloutStatus.PAUSED:
            messages.error(request, _("Införandet är pausat, så ingen rapport kan lämnas just nu."))
        else:
            messages.error(request, _("Steg 1 är inte pågående, så ingen rapport kan lämnas."))
        return redirect("training:web_course", pk=unit.pk)
    threshold = unit.municipality.web_course_threshold_percent
    return render(
        request,
        "training/web_course.html",
        {
            "unit": unit,
            "rollout": rollout,
            "state": state,
            "in_progress": in_progress,
            "form": form,
            "page": Paginator(
                selectors.web_course_reports(rollout=rollout)
                if rollout
                else WebCourseReport.objects.none(),
                REPORTS_PER_PAGE,
            ).get_page(request.GET.get("page")),
            "completed": completed,
            # Rounded down, so that the page never shows the threshold before it is reached.
            "percent": min(completed * 100 // unit.headcount, 100) if unit.headcount else 0,
            "threshold": threshold,
            "may_complete": rollout is not None
            and in_progress
            and can_write
            # The service's own rule, so that the button shows exactly when closing is allowed.
            and services.may_complete(rollout=rollout, is_coordinator=is_coordinator),
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
        messages.success(
            request,
            next_steps.with_next_action(
                request, unit, _("Steg 1 är klart. Nu väntar steg 2, den riktade utbildningen.")
            ),
        )
    else:
        messages.info(request, _("Steg 1 var redan markerat som klart."))
    return redirect("units:detail", pk=unit.pk)


# --- Step 2: targeted training ------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _leaders(unit: Unit) -> QuerySet[User]:
    """Who may lead a session: the municipality's coordinators."""
    return User.objects.filter(
        municipal_roles__municipality=unit.municipality, municipal_roles__role=Role.COORDINATOR
    ).order_by(swedish(unit_selectors.person_name()), "pk")


def _rollout_or_404(unit: Unit) -> Rollout:
    rollout = rollout_selectors.open_rollout(unit=unit)
    if rollout is None:
        raise Http404
    return rollout


def _session(unit: Unit, session_pk: int) -> TrainingSession:
    return get_object_or_404(
        TrainingSession.objects.select_related("rollout__unit__municipality", "leader"),
        pk=session_pk,
        rollout__unit=unit,
    )


@require_http_methods(["GET", "POST"])
@login_required
def targeted(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    if request.method == "POST":
        unit = access.get_rw_unit_for_user(request.user, pk)
    services.themes_ensure_defaults(municipality=unit.municipality)
    is_coordinator = access.is_coordinator_of(request.user, unit.municipality_id)
    can_write = access.can_write_unit(request.user, unit)
    rollout = rollout_selectors.open_rollout(unit=unit)
    state = (
        StepState.objects.filter(rollout=rollout, step=Step.TRAINING).first() if rollout else None
    )
    wish = getattr(rollout, "training_wish", None) if rollout else None
    wish_form = None
    if rollout and can_write and state and state.status != StepStatus.DONE:
        initial = (
            {
                "themes": list(wish.themes.all()),
                "suggested_dates": wish.suggested_dates,
                "note": wish.note,
            }
            if wish
            else None
        )
        wish_form = WishForm(
            request.POST or None,
            initial=initial,
            themes=selectors.themes(municipality=unit.municipality),
        )
        if request.method == "POST" and wish_form.is_valid():
            assert isinstance(request.user, User)
            services.wish_save(
                actor=request.user,
                rollout=rollout,
                themes=wish_form.cleaned_data["themes"],
                suggested_dates=wish_form.cleaned_data["suggested_dates"],
                note=wish_form.cleaned_data["note"],
            )
            messages.success(request, _("Önskemålen är sparade."))
            return redirect("training:targeted", pk=unit.pk)
    elif request.method == "POST":
        messages.error(request, _("Önskemål kan bara lämnas medan steg 2 pågår eller väntar."))
        return redirect("training:targeted", pk=unit.pk)
    sessions = list(selectors.unit_sessions(rollout=rollout)) if rollout else []
    return render(
        request,
        "training/targeted.html",
        {
            "unit": unit,
            "rollout": rollout,
            "state": state,
            "wish": wish,
            "wish_form": wish_form,
            "sessions": sessions,
            "is_coordinator": is_coordinator,
            "step_one": selectors.step_one_summary(rollout=rollout)
            if rollout and is_coordinator
            else None,
            "can_book": bool(
                is_coordinator
                and rollout
                and rollout.status == RolloutStatus.ACTIVE
                and state
                and state.status != StepStatus.DONE
            ),
            "can_complete": bool(
                is_coordinator
                and state
                and state.status == StepStatus.IN_PROGRESS
                and any(s.status == SessionStatus.HELD for s in sessions)
            ),
            "now": timezone.now(),
        },
    )


def _session_form_page(
    request: HttpRequest, unit: Unit, session: TrainingSession | None
) -> HttpResponse:
    rollout = session.rollout if session else _rollout_or_404(unit)
    initial = None
    if session:
        local = timezone.localtime(session.starts_at)
        initial = {
            "date": local.date(),
            "time": local.time(),
            "duration_minutes": session.duration_minutes,
            "place": session.place,
            "video_url": session.video_url,
            "themes": list(session.themes.all()),
            "expected_participants": session.expected_participants,
            "leader": session.leader_id,
        }
    else:
        wish = getattr(rollout, "training_wish", None)
        initial = {
            "leader": request.user.pk,
            "expected_participants": unit.headcount,
            "themes": list(wish.themes.all()) if wish else [],
        }
    form = SessionForm(
        request.POST or None,
        initial=initial,
        unit=unit,
        themes=selectors.themes(municipality=unit.municipality),
        leaders=_leaders(unit) | User.objects.filter(pk=_user(request).pk),
        exclude_session=session.pk if session else None,
    )
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        data = form.cleaned_data
        fields = {
            "starts_at": data["starts_at"],
            "duration_minutes": data["duration_minutes"],
            "place": data["place"],
            "video_url": data["video_url"],
            "themes": data["themes"],
            "expected_participants": data["expected_participants"],
            "leader": data["leader"],
        }
        try:
            if session:
                services.session_reschedule(actor=request.user, session=session, **fields)
            else:
                services.session_book(actor=request.user, rollout=rollout, **fields)
        except RolloutError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Tillfället är ändrat och en uppdaterad kalenderinbjudan skickas till enhetscheferna."
                )
                if session
                else _("Tillfället är bokat och en kalenderinbjudan skickas till enhetscheferna."),
            )
            return redirect("training:targeted", pk=unit.pk)
    return render(
        request, "training/session_form.html", {"unit": unit, "form": form, "session": session}
    )


@require_http_methods(["GET", "POST"])
@login_required
def session_book(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    services.themes_ensure_defaults(municipality=unit.municipality)
    return _session_form_page(request, unit, None)


@require_http_methods(["GET", "POST"])
@login_required
def session_edit(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    session = _session(unit, session_pk)
    if session.status != SessionStatus.BOOKED:
        messages.error(request, _("Ett inställt eller genomfört tillfälle kan inte ändras."))
        return redirect("training:targeted", pk=unit.pk)
    return _session_form_page(request, unit, session)


@require_http_methods(["GET", "POST"])
@login_required
def session_cancel(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    session = _session(unit, session_pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        try:
            services.session_cancel(
                actor=request.user, session=session, reason=form.cleaned_data["reason"]
            )
        except RolloutError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("Tillfället är inställt och enhetscheferna får ett meddelande.")
            )
        return redirect("training:targeted", pk=unit.pk)
    return render(
        request,
        "rollout/reason_form.html",
        {
            "unit": unit,
            "form": form,
            "title": _("Ställ in tillfället"),
            "intro": _("Enhetscheferna får en avbokning till sin kalender."),
            "button": _("Ställ in tillfället"),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def session_held(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    session = _session(unit, session_pk)
    form = HeldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        data = form.cleaned_data
        try:
            services.session_record_held(
                actor=request.user,
                session=session,
                participants=data["participants"],
                exercises=data["exercises"],
                rating=data["rating"] or None,
                notes=data["notes"],
            )
        except RolloutError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_model_errors(form, error)
        else:
            messages.success(
                request,
                next_steps.with_next_action(
                    request, unit, _("Tillfället är registrerat som genomfört.")
                ),
            )
            return redirect("training:targeted", pk=unit.pk)
    return render(
        request, "training/held_form.html", {"unit": unit, "session": session, "form": form}
    )


@require_POST
@login_required
def targeted_complete(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    rollout = _rollout_or_404(unit)
    assert isinstance(request.user, User)
    try:
        changed = services.training_complete(actor=request.user, rollout=rollout)
    except RolloutError as error:
        messages.error(request, str(error))
        return redirect("training:targeted", pk=unit.pk)
    if changed:
        messages.success(
            request,
            next_steps.with_next_action(
                request, unit, _("Steg 2 är klart. Nu väntar steg 3, rutinerna.")
            ),
        )
    return redirect("units:detail", pk=unit.pk)


@require_GET
@login_required
def session_ics(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    session = _session(unit, session_pk)
    # The same people as in the e-mailed invitation.
    recipients = list(unit_selectors.active_managers(unit=unit).values_list("email", flat=True))
    _method, content = ical.invitation(session, attendees=recipients)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="utbildning-{session.starts_at:%Y%m%d}.ics"'
    )
    return response


@require_GET
@login_required
def week(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    monday = _week_monday(request.GET.get("vecka", "")) or today - dt.timedelta(
        days=today.weekday()
    )
    sessions = list(
        selectors.week_sessions(units=access.visible_units(request.user), monday=monday)
    )
    previous, following = monday - dt.timedelta(days=7), monday + dt.timedelta(days=7)
    return render(
        request,
        "training/week.html",
        {
            "sessions": sessions,
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "week_number": monday.isocalendar()[1],
            # No link to a week that could not be shown (the calendar's first and last).
            "previous": _week_param(previous) if _week_shown(previous) else None,
            "following": _week_param(following) if _week_shown(following) else None,
        },
    )


def _week_shown(monday: dt.date) -> bool:
    """Whether the week can be shown: the days the page reaches, a week either side (for the
    links, and the end of the week's time span), lie within the dates Python knows (years 1 to
    9999)."""
    return dt.date.min + dt.timedelta(days=7) <= monday <= dt.date.max - dt.timedelta(days=7)


def _week_monday(raw: str) -> dt.date | None:
    """The Monday of the ISO week given as "2026-W48", or None when there is no such week to
    show (missing, malformed, or at the edge of the calendar)."""
    if not raw:
        return None
    try:
        year, number = (int(part) for part in raw.split("-W"))
        monday = dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        return None
    return monday if _week_shown(monday) else None


def _week_param(monday: dt.date) -> str:
    year, number, _weekday = monday.isocalendar()
    return f"{year}-W{number:02d}"


@require_http_methods(["GET", "POST"])
@login_required
def theme_list(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    services.themes_ensure_defaults(municipality=municipality)
    form = ThemeForm(request.POST or None, municipality=municipality)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        services.theme_save(
            actor=request.user, municipality=municipality, theme=None, **form.cleaned_data
        )
        messages.success(request, _("Temat är tillagt."))
        return redirect("training:themes", municipality_pk=municipality.pk)
    return render(
        request,
        "training/themes.html",
        {
            "municipality": municipality,
            "themes": selectors.themes(municipality=municipality, active_only=False),
            "form": form,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def theme_edit(request: HttpRequest, municipality_pk: int, theme_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    theme = get_object_or_404(Theme, pk=theme_pk, municipality=municipality)
    form = ThemeForm(
        request.POST or None,
        municipality=municipality,
        theme=theme,
        initial={
            "name": theme.name,
            "description": theme.description,
            "is_active": theme.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        services.theme_save(
            actor=request.user, municipality=municipality, theme=theme, **form.cleaned_data
        )
        messages.success(request, _("Temat är sparat."))
        return redirect("training:themes", municipality_pk=municipality.pk)
    return render(
        request,
        "training/theme_form.html",
        {"municipality": municipality, "theme": theme, "form": form},
    )


@require_http_methods(["GET", "POST"])
@login_required
def calendar_feed_settings(request: HttpRequest) -> HttpResponse:
    if not access.roles_of(request.user).is_coordinator:
        raise PermissionDenied
    assert isinstance(request.user, User)
    url = None
    feed: CalendarFeed | None
    if request.method == "POST":
        # Only a digest of the token is stored, so the address is shown in this response and
        # never again (no redirect: the token must not wait in the session for the next page).
        renewing = CalendarFeed.objects.filter(user=request.user).exists()
        feed, token = services.calendar_feed_renew(user=request.user)
        # On the site's own origin like every link we hand out: behind a proxy the request's
        # Host can be an internal name, which the calendar app could not reach.
        url = site_url(reverse("training:calendar_feed", args=[token]))
        messages.success(
            request,
            _("En ny kalenderadress är skapad. Den gamla fungerar inte längre.")
            if renewing
            else _("Din kalenderadress är skapad."),
        )
    else:
        feed = CalendarFeed.objects.filter(user=request.user).first()
    return render(request, "training/calendar_feed.html", {"feed": feed, "feed_url": url})


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private feed: the token in the address is the only credential. Looked up by its
    digest in the database (an index lookup, no comparison in Python)."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=services.calendar_feed_token_hash(token))
        .first()
    )
    if feed is None or not feed.user.is_active:
        raise Http404
    sessions = selectors.feed_sessions(user=feed.user)
    response = HttpResponse(
        ical.feed(sessions, name=str(_("Riktade utbildningar"))),
        content_type="text/calendar; charset=utf-8",
    )
    response["Cache-Control"] = "private, max-age=300"
    return response
