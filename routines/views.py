"""Step 3 pages: the routine, editing with conflict handling, review, implementation, documents."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jarfalla.collation import swedish
from rollout import next_steps
from rollout import selectors as rollout_selectors
from rollout.forms import ReasonForm
from rollout.models import Step, StepState, StepStatus
from rollout.services import RolloutError
from rollout.views import attempt
from routines import pdf, selectors, services
from routines.forms import ImplementForm, ReferenceForm, RoutineForm
from routines.models import (
    SECTIONS,
    ReferenceEntry,
    Routine,
    RoutineStatus,
    RoutineVersion,
    missing_core_sections,
)
from routines.tasks import render_pdf
from routines.text import diff
from routines.text import render as render_text
from units import access
from units import selectors as unit_selectors
from units.models import Unit, User

# Versions listed per page on the routine page, newest first: every saved change is a version.
VERSIONS_PER_PAGE = 20


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _routine_or_404(unit: Unit) -> Routine:
    routine = selectors.routine_for(unit=unit)
    if routine is None:
        raise Http404
    return routine


def _back(unit: Unit) -> HttpResponse:
    return redirect("routines:routine", pk=unit.pk)


def _requested_version(request: HttpRequest, routine: Routine) -> RoutineVersion:
    """The version named by ``?version=`` (the current one without it); 404 for a number the
    routine has no version of, or for anything that is not a number."""
    raw = request.GET.get("version")
    if raw is not None and not (raw.isascii() and raw.isdigit()):
        raise Http404
    try:
        return selectors.version(routine=routine, number=None if raw is None else int(raw))
    except RoutineVersion.DoesNotExist:
        raise Http404 from None


def _rendered(
    routine: Routine, number: int | None = None, *, references_url: str | None = None
) -> tuple[RoutineVersion, list[tuple[object, object]]]:
    version = selectors.version(routine=routine, number=number)
    refs = services.references(municipality=routine.rollout.unit.municipality, url=references_url)
    return version, [
        (title, render_text(version.sections.get(key, ""), refs)) for key, title in SECTIONS
    ]


@require_GET
@login_required
def routine(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    current = selectors.routine_for(unit=unit)
    is_coordinator = access.is_coordinator_of(request.user, unit.municipality_id)
    can_write = access.can_write_unit(request.user, unit)
    context: dict[str, object] = {
        "unit": unit,
        "routine": current,
        "is_coordinator": is_coordinator,
        "can_write": can_write,
    }
    if current is None:
        rollout = rollout_selectors.open_rollout(unit=unit)
        state = (
            StepState.objects.filter(rollout=rollout, step=Step.ROUTINES).first()
            if rollout
            else None
        )
        context |= {
            "can_start": bool(can_write and state and state.status == StepStatus.IN_PROGRESS),
            "template": services.template_for(rollout=rollout) if rollout else None,
            "examples": selectors.examples(unit=unit),
        }
    else:
        # A coordinator's "not filled in" markers lead to the page where they are filled in.
        references_url = (
            reverse("routines:references", args=[unit.municipality_id]) if is_coordinator else None
        )
        version, sections = _rendered(current, references_url=references_url)
        versions = Paginator(selectors.versions(routine=current), VERSIONS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        manager_ok = current.manager_approved_version == current.current_version
        coordinator_ok = current.coordinator_approved_version == current.current_version
        # Both approvals are needed: without a manager who can sign in, the routine would wait
        # for ever with nothing saying why (asked only while a manager's approval is missing).
        awaits_manager = not manager_ok and current.status in (
            RoutineStatus.DRAFT,
            RoutineStatus.REVIEW,
        )
        context |= {
            "no_manager": awaits_manager and not unit_selectors.active_managers(unit=unit).exists(),
            "missing_sections": missing_core_sections(version.sections)
            if current.status == RoutineStatus.DRAFT
            else [],
            "version": version,
            "sections": sections,
            "page": versions,
            "versions": versions.object_list,
            "manager_ok": manager_ok,
            "coordinator_ok": coordinator_ok,
            "may_approve": can_write
            and current.status == RoutineStatus.REVIEW
            and not (coordinator_ok if is_coordinator else manager_ok),
            "examples": selectors.examples(unit=unit),
            "references_url": references_url,
        }
    return render(request, "routines/routine.html", context)


@require_POST
@login_required
def start(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    rollout = rollout_selectors.open_rollout(unit=unit)
    if rollout is None:
        raise Http404
    attempt(
        request,
        lambda: services.routine_start(actor=_user(request), rollout=rollout),
        _("Rutinen är påbörjad utifrån mallen. Anpassa den till enheten."),
    )
    return _back(unit)


@require_http_methods(["GET", "POST"])
@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    current = _routine_or_404(unit)
    if current.status == RoutineStatus.IMPLEMENTED:
        messages.error(request, _("Rutinen är införd. Påbörja en ny version för att revidera den."))
        return _back(unit)
    latest = selectors.version(routine=current)
    conflict = None
    if request.method == "POST":
        form = RoutineForm(request.POST)
        if form.is_valid():
            try:
                saved = services.routine_save(
                    actor=_user(request),
                    routine=current,
                    base_version=form.cleaned_data["base_version"],
                    sections=form.sections(),
                )
            except services.RoutineConflict as error:
                base = current.versions.filter(number=form.cleaned_data["base_version"]).first()
                conflict = {
                    "theirs": error.current,
                    "changes": [
                        (
                            title,
                            diff(
                                base.sections.get(key, "") if base else "",
                                error.current.sections.get(key, ""),
                            ),
                        )
                        for key, title in SECTIONS
                        if (base.sections.get(key, "") if base else "")
                        != error.current.sections.get(key, "")
                    ],
                }
                # Keep what this person wrote; saving again now builds on the newer version.
                data = request.POST.copy()
                data["base_version"] = str(error.current.number)
                form = RoutineForm(data)
                form.is_valid()
            except RolloutError as error:
                form.add_error(None, str(error))
            else:
                if saved.number == form.cleaned_data["base_version"]:
                    messages.info(request, _("Inget var ändrat, så ingen ny version sparades."))
                else:
                    messages.success(request, _("Rutinen är sparad som en ny version."))
                return _back(unit)
    else:
        form = RoutineForm(initial={"base_version": latest.number, **latest.sections})
    return render(
        request,
        "routines/edit.html",
        {
            "unit": unit,
            "routine": current,
            "form": form,
            "conflict": conflict,
            "version": latest,
            "is_coordinator": access.is_coordinator_of(request.user, unit.municipality_id),
        },
    )


@require_GET
@login_required
def compare(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    current = _routine_or_404(unit)
    numbers = sorted(current.versions.values_list("number", flat=True))
    try:
        older = int(request.GET.get("a", numbers[-2] if len(numbers) > 1 else numbers[-1]))
        newer = int(request.GET.get("b", numbers[-1]))
    except ValueError:
        raise Http404 from None
    a = get_object_or_404(current.versions, number=older)
    b = get_object_or_404(current.versions, number=newer)
    rows = [
        (title, diff(a.sections.get(key, ""), b.sections.get(key, ""))) for key, title in SECTIONS
    ]
    return render(
        request,
        "routines/compare.html",
        {"unit": unit, "routine": current, "a": a, "b": b, "rows": rows, "numbers": numbers},
    )


@require_POST
@login_required
def send_for_review(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    current = _routine_or_404(unit)
    attempt(
        request,
        lambda: services.routine_send_for_review(actor=_user(request), routine=current),
        _("Rutinen är skickad för granskning. Både enhetschef och samordnare ska godkänna den."),
    )
    return _back(unit)


@require_POST
@login_required
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    current = _routine_or_404(unit)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    try:
        services.routine_approve(
            actor=_user(request),
            routine=current,
            version=version,
            as_coordinator=access.is_coordinator_of(request.user, unit.municipality_id),
        )
    except services.RoutineAlreadyApproved as already:
        messages.info(request, str(already))
    except RolloutError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            next_steps.with_next_action(
                request, unit, _("Du har godkänt version %(number)s.") % {"number": version}
            ),
        )
    return _back(unit)


@require_http_methods(["GET", "POST"])
@login_required
def send_back(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    current = _routine_or_404(unit)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        attempt(
            request,
            lambda: services.routine_send_back(
                actor=_user(request), routine=current, comment=form.cleaned_data["reason"]
            ),
            _("Rutinen är tillbaka som utkast med din kommentar."),
        )
        return _back(unit)
    return render(
        request,
        "rollout/reason_form.html",
        {
            "unit": unit,
            "form": form,
            "title": _("Skicka tillbaka rutinen"),
            "intro": _("Skriv vad som behöver ändras. Kommentaren syns i enhetens tidslinje."),
            "button": _("Skicka tillbaka"),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def implement(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    current = _routine_or_404(unit)
    form = ImplementForm(request.POST or None, approved_on=selectors.approved_on(routine=current))
    if request.method == "POST" and form.is_valid():
        try:
            services.routine_implement(
                actor=_user(request),
                routine=current,
                implemented_on=form.cleaned_data["implemented_on"],
                business_plan_location=form.cleaned_data["business_plan_location"],
                staff_informed_on=form.cleaned_data["staff_informed_on"],
            )
        except RolloutError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                next_steps.with_next_action(
                    request, unit, _("Rutinen är införd. Steg 3 är klart; uppföljningarna väntar.")
                ),
            )
            return redirect("units:detail", pk=unit.pk)
    return render(
        request, "routines/implement.html", {"unit": unit, "routine": current, "form": form}
    )


@require_POST
@login_required
def revise(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    current = _routine_or_404(unit)
    try:
        services.routine_revise(actor=_user(request), routine=current)
    except RolloutError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _(
                "Rutinen är öppen för en ny version. Spara ändringarna och skicka den för "
                "granskning: både enhetschef och samordnare godkänner den igen."
            ),
        )
    return redirect("routines:edit", pk=unit.pk)


@require_POST
@login_required
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    current = _routine_or_404(unit)
    published = request.POST.get("published") == "1"
    attempt(
        request,
        lambda: services.routine_publish(
            actor=_user(request), routine=current, published=published
        ),
        _("Rutinen visas nu som exempel för enheter i samma sektor.")
        if published
        else _("Rutinen visas inte längre som exempel."),
    )
    return _back(unit)


@require_GET
@login_required
def document(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    current = _routine_or_404(unit)
    version = _requested_version(request, current)
    return HttpResponse(pdf.document_html(current, version))


@require_GET
@login_required
def document_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    current = _routine_or_404(unit)
    version = _requested_version(request, current)
    # The name depends on the document (pdf.cache_name renders its HTML): worked out once.
    name = pdf.cache_name(version)
    content = pdf.read_cached(name)
    if content is None:
        # Rendering takes a moment: the worker does it (in-process when tasks run eagerly).
        render_pdf.delay(version.pk)
        content = pdf.read_cached(name)
    if content is None:
        return render(
            request, "routines/pdf_pending.html", {"unit": unit, "version": version}, status=202
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="rutin-{unit.pk}-version-{version.number}.pdf"'
    )
    return response


@require_GET
@login_required
def example(request: HttpRequest, routine_pk: int) -> HttpResponse:
    """A routine shared as an example: readable by anyone who sees a unit in the same sector."""
    shared = get_object_or_404(
        Routine.objects.select_related("rollout__unit__municipality", "rollout__unit__sector"),
        pk=routine_pk,
        published_as_example=True,
        status__in=[RoutineStatus.APPROVED, RoutineStatus.IMPLEMENTED],
    )
    source = shared.rollout.unit
    if (
        not access.visible_units(request.user)
        .filter(municipality=source.municipality, sector=source.sector)
        .exists()
    ):
        raise Http404
    version, sections = _rendered(shared)
    return render(
        request,
        "routines/example.html",
        {"routine": shared, "source": source, "version": version, "sections": sections},
    )


@require_http_methods(["GET", "POST"])
@login_required
def reference_data(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    services.references_ensure_defaults(municipality=municipality)
    entries = list(
        ReferenceEntry.objects.filter(municipality=municipality).order_by(swedish("label"), "pk")
    )
    form = ReferenceForm(request.POST or None, entries=entries)
    if request.method == "POST" and form.is_valid():
        services.reference_update(
            actor=_user(request), municipality=municipality, values=form.cleaned_data
        )
        messages.success(
            request, _("Referensuppgifterna är sparade. De används i alla rutiner från och med nu.")
        )
        return redirect("routines:references", municipality_pk=municipality.pk)
    return render(request, "routines/references.html", {"municipality": municipality, "form": form})
