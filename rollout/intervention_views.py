"""Pages of the intervention map (insatskedjor): the matrix, the list behind a cell, and the
coordinator's create, edit and delete. Read: coordinators, observers and superusers of the
municipality; write: coordinators and superusers (observers get 403)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rollout import interventions
from rollout.intervention_forms import InterventionFilterForm, InterventionForm
from rollout.models import Intervention
from units import access
from units.models import Municipality, Sector, User

INTERVENTIONS_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _intervention(municipality: Municipality, intervention_pk: int) -> Intervention:
    return get_object_or_404(Intervention, pk=intervention_pk, municipality=municipality)


def _include_inactive(request: HttpRequest) -> bool:
    return request.GET.get("alla") == "1"


@require_GET
@login_required
def intervention_map(request: HttpRequest, pk: int) -> HttpResponse:
    municipality = access.get_municipality_for_user(request.user, pk)
    return render(
        request,
        "rollout/interventions/map.html",
        {
            "municipality": municipality,
            "map": interventions.intervention_map(
                municipality=municipality, include_inactive=_include_inactive(request)
            ),
            "can_edit": access.is_coordinator_of(request.user, municipality.pk),
        },
    )


@require_GET
@login_required
def intervention_list(request: HttpRequest, pk: int) -> HttpResponse:
    municipality = access.get_municipality_for_user(request.user, pk)
    sectors = list(Sector.objects.filter(municipality=municipality))
    filters = InterventionFilterForm(request.GET, sectors=sectors)
    sector, level, include_inactive = filters.filters()
    found = interventions.intervention_list(
        municipality=municipality, sector=sector, level=level, include_inactive=include_inactive
    )
    page = Paginator(found, INTERVENTIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "rollout/interventions/list.html",
        {
            "municipality": municipality,
            "page": page,
            "query": query.urlencode(),
            "filters": filters.for_display(),
            "sector": sector,
            "no_sector": sector == interventions.NO_SECTOR,
            "level_label": dict(filters.fields["niva"].choices).get(level) if level else None,  # type: ignore[attr-defined]
            "include_inactive": include_inactive,
            "can_edit": access.is_coordinator_of(request.user, municipality.pk),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def intervention_create(request: HttpRequest, pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, pk)
    form = InterventionForm(request.POST or None, municipality=municipality, preset=request.GET)
    if request.method == "POST" and form.is_valid():
        try:
            intervention = interventions.intervention_create(
                actor=_user(request), municipality=municipality, **form.intervention_fields()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Insatsen %(name)s är tillagd.") % {"name": intervention.name}
            )
            return redirect("rollout:interventions", pk=municipality.pk)
    return render(
        request,
        "rollout/interventions/form.html",
        {"form": form, "municipality": municipality, "intervention": None},
    )


@require_http_methods(["GET", "POST"])
@login_required
def intervention_edit(request: HttpRequest, pk: int, intervention_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, pk)
    intervention = _intervention(municipality, intervention_pk)
    # Taken before the form: a bound ModelForm writes the posted values onto its instance.
    title = intervention.name
    form = InterventionForm(request.POST or None, municipality=municipality, instance=intervention)
    if request.method == "POST" and form.is_valid():
        try:
            saved = interventions.intervention_update(
                actor=_user(request), intervention=intervention, **form.intervention_fields()
            )
        except Intervention.DoesNotExist:
            raise Http404 from None
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Insatsen %(name)s är sparad.") % {"name": saved.name})
            return redirect("rollout:interventions", pk=municipality.pk)
    return render(
        request,
        "rollout/interventions/form.html",
        {"form": form, "municipality": municipality, "intervention": intervention, "title": title},
    )


@require_http_methods(["GET", "POST"])
@login_required
def intervention_delete(request: HttpRequest, pk: int, intervention_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, pk)
    intervention = _intervention(municipality, intervention_pk)
    if request.method == "POST":
        interventions.intervention_delete(actor=_user(request), intervention=intervention)
        messages.success(
            request, _("Insatsen %(name)s är borttagen.") % {"name": intervention.name}
        )
        return redirect("rollout:interventions", pk=municipality.pk)
    return render(
        request,
        "rollout/interventions/confirm_delete.html",
        {"municipality": municipality, "intervention": intervention},
    )
