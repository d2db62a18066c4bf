"""The coordinator's dashboard, the unit table, the indicators and their exports. Coordinators,
observers and superusers of a municipality read them; the one change made here is the
coordinator's start of several units' rollouts from the unit table (start_many)."""

import dataclasses
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from jarfalla.collation import swedish
from rollout import board as selectors
from rollout import exports, services, steps
from rollout.charts import adoption_chart, funnel_chart, reach_chart
from rollout.forms import StartManyForm
from rollout.models import OPEN_STATUSES, Step
from units import access, pagecache
from units.models import Municipality, UnitKind, User

TABLE_PAGE_SIZE = 50
ATTENTION_SHOWN = 5
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require_GET
@login_required
def dashboard_home(request: HttpRequest) -> HttpResponse:
    """/dashboard/: straight to the person's municipality, or a choice when there are several."""
    municipalities = list(
        access.visible_municipalities(request.user).order_by(swedish("name"), "pk")
    )
    if not municipalities:
        raise PermissionDenied
    if len(municipalities) == 1:
        return redirect("rollout:dashboard", pk=municipalities[0].pk)
    return render(request, "rollout/dashboard_choose.html", {"municipalities": municipalities})


def _board(
    request: HttpRequest, pk: int, *, light: bool = False
) -> tuple[Municipality, selectors.Board]:
    municipality = access.get_municipality_for_user(request.user, pk)
    return municipality, selectors.cached_board(municipality=municipality, light=light)


def _common(request: HttpRequest, municipality: Municipality) -> dict[str, object]:
    return {
        "municipality": municipality,
        "is_coordinator": access.is_coordinator_of(request.user, municipality.pk),
    }


@require_GET
@login_required
def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    access.check_municipality_for_user(request.user, pk)
    return pagecache.page(
        request, scope=pagecache.municipality(pk), render=lambda: _dashboard(request, pk)
    )


def _dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    municipality, board = _board(request, pk, light=True)
    attention = [
        {
            "kind": kind,
            "label": selectors.Attention(kind).label,
            "count": board.attention_counts[kind],
            "items": [_attention_item(kind, row, board.today) for row in rows[:ATTENTION_SHOWN]],
        }
        for kind, rows in board.attention.items()
    ]
    done = next(count for stage, _label, count in board.funnel if stage == selectors.Stage.DONE)
    return render(
        request,
        "rollout/dashboard.html",
        {
            **_common(request, municipality),
            "board": board,
            "attention": attention,
            "units_total": board.unit_count,
            "units_started": board.started_count,
            "units_done": done,
            "funnel_chart": funnel_chart(board),
            "reach_chart": reach_chart(board),
        },
    )


# Where each kind of attention is handled: the step's own page, or the unit page for the rollout
# as a whole (requests, pauses, silence).
UNIT_PAGE_ATTENTION = {
    selectors.Attention.REQUESTS,
    selectors.Attention.STALE,
    selectors.Attention.PAUSED,
}


def _attention_item(kind: str, row: selectors.UnitRow, today: dt.date) -> dict[str, object]:
    """A unit in one attention list, shown by the action that put it there and linked to that
    action's step (an early step 3's routine to review, not the step 2 the unit stands in)."""
    action = selectors.attention_action(row, kind, today)
    app = steps.get(action.step) if action and action.step else None
    url_name = app.page_url_name if app else row.step_url_name
    if kind in UNIT_PAGE_ATTENTION or not url_name:
        url = reverse("units:detail", args=[row.unit_id])
    else:
        url = reverse(url_name, args=[row.unit_id])
    return {"row": row, "action": action, "url": url}


def _table_filter(request: HttpRequest, sectors: list[tuple[int, str]]) -> selectors.TableFilter:
    sector_ids = {sector_id for sector_id, _name in sectors}
    return selectors.TableFilter.from_params(request.GET, sector_ids=sector_ids)


@require_GET
@login_required
def unit_table(request: HttpRequest, pk: int) -> HttpResponse:
    access.check_municipality_for_user(request.user, pk)
    return pagecache.page(
        request, scope=pagecache.municipality(pk), render=lambda: _unit_table(request, pk)
    )


def _unit_table(request: HttpRequest, pk: int) -> HttpResponse:
    municipality, board = _board(request, pk)
    sectors = board.sectors
    table_filter = _table_filter(request, sectors)
    rows = table_filter.apply(board.rows, board.today)
    page = Paginator(rows, TABLE_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = table_filter.params()
    query = {**filters, "sort": table_filter.sort_param}
    # Rollouts can be started for the units on this page that have no open round (the rows are
    # the active units only): rollout_start's rule, read from the rows without a query.
    startable = (
        {row.unit_id for row in page.object_list if row.rollout_status not in OPEN_STATUSES}
        if access.is_coordinator_of(request.user, municipality.pk)
        else set()
    )
    return render(
        request,
        "rollout/unit_table.html",
        {
            **_common(request, municipality),
            "board": board,
            "page": page,
            "total": len(rows),
            "filter": table_filter,
            "sort": table_filter.sort_param,
            "sort_query": urlencode(filters),
            "query": urlencode(query),
            "export_query": urlencode(filters),
            "startable": startable,
            # Where start_many sends the coordinator back to: this page of the table as it is.
            "start_query": urlencode(
                {**query, **({"page": str(page.number)} if page.number > 1 else {})}
            ),
            "sectors": sectors,
            "kinds": UnitKind.choices,
            "stages": selectors.Stage.choices,
            "statuses": selectors.UnitStatus.choices,
            "attention_label": selectors.Attention(table_filter.attention).label
            if table_filter.attention
            else "",
        },
    )


# The unit table's own parameters (filters, search, sort, page): what start_many passes on to
# the table it sends the coordinator back to. The table checks them again when it reads them.
TABLE_PARAMS = ("q", "sektor", "typ", "steg", "status", "behov", "sort", "page")


def _back_to_table(request: HttpRequest, pk: int) -> HttpResponse:
    url = reverse("rollout:unit_table", args=[pk])
    kept = {key: request.GET[key] for key in TABLE_PARAMS if request.GET.get(key)}
    return redirect(f"{url}?{urlencode(kept)}" if kept else url)


@require_POST
@login_required
def start_many(request: HttpRequest, pk: int) -> HttpResponse:
    """Starts the rollouts of the units ticked in the unit table (one page at most)."""
    municipality = access.get_rw_municipality_for_user(request.user, pk)
    form = StartManyForm(request.POST, limit=TABLE_PAGE_SIZE)
    if not form.is_valid():
        for error in form.errors["units"]:
            messages.error(request, str(error))
        return _back_to_table(request, pk)
    ids = form.cleaned_data["units"]
    units = list(access.writable_units(request.user).filter(municipality=municipality, pk__in=ids))
    if len(units) != len(ids):
        # An id of no unit of this municipality: the whole request is refused, as any id that
        # does not belong under the page it names (not found and not allowed look the same).
        raise Http404
    assert isinstance(request.user, User)
    started, skipped = services.rollout_start_many(actor=request.user, units=units)
    text = ngettext(
        "%(count)s införande har startats.", "%(count)s införanden har startats.", len(started)
    ) % {"count": len(started)}
    if skipped:
        text += " " + ngettext(
            "%(count)s enhet hoppades över eftersom den redan har ett införande eller är "
            "arkiverad.",
            "%(count)s enheter hoppades över eftersom de redan har ett införande eller är "
            "arkiverade.",
            len(skipped),
        ) % {"count": len(skipped)}
    messages.add_message(request, messages.SUCCESS if started else messages.WARNING, text)
    return _back_to_table(request, pk)


def _download(content: bytes, fmt: str, name: str, municipality: Municipality) -> HttpResponse:
    filename = f"{name}-{municipality.slug}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    # Django's header quotes the name and adds filename* (RFC 5987) when it is not plain ASCII.
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
@login_required
def unit_table_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404
    municipality, board = _board(request, pk)
    table_filter = _table_filter(request, board.sectors)
    pseudonymise = request.GET.get("pseudonym") == "1"
    if pseudonymise:
        # A name search would tell which pseudonym belongs to the unit searched for.
        table_filter = dataclasses.replace(table_filter, q="")
    rows = table_filter.apply(board.rows, board.today)
    if pseudonymise and 0 < len(rows) < min(exports.K_ANONYMITY, len(board.rows)):
        # What the filters say about a few rows (the one unit of a sector, say) names them,
        # however the file generalises their columns. (Without filters, the whole of a small
        # municipality, they say nothing.)
        messages.error(
            request,
            ngettext(
                "Den pseudonymiserade filen skulle bara få %(count)s enhet med de här "
                "filtren, och så få kan pekas ut. Välj färre filter (minst %(k)s enheter).",
                "Den pseudonymiserade filen skulle bara få %(count)s enheter med de här "
                "filtren, och så få kan pekas ut. Välj färre filter (minst %(k)s enheter).",
                len(rows),
            )
            % {"count": len(rows), "k": exports.K_ANONYMITY},
        )
        query = request.GET.copy()
        query.pop("pseudonym", None)
        url = reverse("rollout:unit_table", args=[municipality.pk])
        return redirect(f"{url}?{query.urlencode()}" if query else url)
    sheet = exports.unit_table(
        rows, municipality_id=municipality.pk, pseudonymise=pseudonymise, population=board.rows
    )
    content = exports.to_csv(sheet) if fmt == "csv" else exports.to_xlsx([sheet])
    name = "enheter-pseudonymiserade" if pseudonymise else "enheter"
    return _download(content, fmt, name, municipality)


@require_GET
@login_required
def indicators(request: HttpRequest, pk: int) -> HttpResponse:
    municipality, board = _board(request, pk, light=True)
    return render(
        request,
        "rollout/indicators.html",
        {
            **_common(request, municipality),
            "board": board,
            "ind": board.indicators,
            "step_days": [
                (Step(step).label, days) for step, days in board.indicators.median_step_days.items()
            ],
            "grace_days": selectors.ON_TIME_GRACE_DAYS,
            "adoption_chart": adoption_chart(board),
            "reach_chart": reach_chart(board),
        },
    )


@require_GET
@login_required
def indicators_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404
    municipality, board = _board(request, pk, light=True)
    sheets = exports.indicator_sheets(board)
    content = exports.to_csv_many(sheets) if fmt == "csv" else exports.to_xlsx(sheets)
    return _download(content, fmt, "indikatorer", municipality)
