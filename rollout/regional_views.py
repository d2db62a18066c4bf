"""The regional view: every municipality's funnel and indicators side by side, for a superuser
or a regional observer. Counts only, from the worker's precomputed summaries."""

import datetime as dt
import hashlib

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from rollout import board, regional
from units import access, pagecache
from units.models import Municipality

TABLE_CACHE_SECONDS = 60


@require_GET
@login_required
def regional_view(request: HttpRequest) -> HttpResponse:
    granted = access.regional_municipalities(request.user)
    # Which municipalities the person may compare is part of every key below: a grant changed in
    # the admin changes the page at once.
    granted_ids = tuple(granted.order_by("pk").values_list("pk", flat=True))
    if not granted_ids:
        # A regional observer whose grant is empty (not yet, or all revoked) learns why the
        # page has nothing; everyone else is refused.
        if not access.may_compare_municipalities(request.user):
            raise PermissionDenied
        return render(
            request,
            "rollout/regional.html",
            {"empty": True, "superuser": access.roles_of(request.user).superuser},
        )
    query = request.GET.get("q", "").strip()[:100]
    municipalities = granted.filter(name__icontains=query) if query else granted
    # The worker recomputes summaries (every 30 s, rollout.refresh_summaries); their number and
    # newest time change whenever it does, so the page is kept until then (30 s at most).
    count, newest = regional.state(municipalities=municipalities)
    grants = hashlib.sha256(repr(granted_ids).encode()).hexdigest()[:16]
    return pagecache.page(
        request,
        scope=("regional", grants, count, newest),
        render=lambda: _regional(request, municipalities, query, grants, count, newest),
    )


def _regional(
    request: HttpRequest,
    municipalities: QuerySet[Municipality],
    query: str,
    grants: str,
    count: int,
    newest: dt.datetime | None,
) -> HttpResponse:
    superuser = access.roles_of(request.user).superuser
    # Hundreds of rows take long to draw: the table is drawn once per set of summaries and kept
    # for everyone with the same view (the page cache is per person and process): the same
    # granted municipalities, and links to them only for superusers.
    key = ":".join(
        (
            "regional-table",
            translation.get_language() or "sv",
            "links" if superuser else "plain",
            grants,
            hashlib.sha256(query.encode()).hexdigest()[:16],
            str(count),
            newest.isoformat() if newest else "-",
        )
    )
    table = cache.get(key)
    if table is None:
        lines, total, missing = regional.lines(municipalities=municipalities)
        table = render_to_string(
            "rollout/_regional_table.html",
            {
                "lines": lines,
                "total": total,
                "missing": missing,
                "stages": board.Stage.choices,
                # Municipality pages are for the municipality's own people (and superusers).
                "link_municipalities": superuser,
            },
        )
        cache.set(key, table, TABLE_CACHE_SECONDS)
    checked = regional.checked_at()
    return render(
        request,
        "rollout/regional.html",
        {
            "table": mark_safe(table),  # noqa: S308 (our own template's output, kept as text)
            "query": query,
            "checked_at": checked,
            "late": checked is not None and timezone.now() - checked > regional.LATE_AFTER,
        },
    )
