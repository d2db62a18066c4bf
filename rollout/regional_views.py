"""The regional view: every municipality's funnel and indicators side by side, for a superuser
or a regional observer. Counts only, from the worker's precomputed summaries."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rollout import board, regional
from units import access


@require_GET
@login_required
def regional_view(request: HttpRequest) -> HttpResponse:
    municipalities = access.regional_municipalities(request.user)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        municipalities = municipalities.filter(name__icontains=query)
    elif not municipalities.exists():
        raise PermissionDenied
    lines, total, missing = regional.lines(municipalities=municipalities)
    return render(
        request,
        "rollout/regional.html",
        {
            "lines": lines,
            "total": total,
            "missing": missing,
            "query": query,
            "stages": board.Stage.choices,
            # Municipality pages are for the municipality's own people (and superusers).
            "link_municipalities": access.roles_of(request.user).superuser,
        },
    )
