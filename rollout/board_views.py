"""The coordinator's dashboard, the unit table, the indicators and their exports. Coordinators,
observers and superusers of a municipality read them; nothing here changes anything."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rollout import board as selectors
from rollout import exports
from rollout.models import Step
from units import access
from units.models import Municipality, UnitKind

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
    municipalities = list(access.visible_municipalities(request.user).order_by("name"))
    if not municipalities:
        raise PermissionDenied
    if len(municipalities) == 1:
        return redirect("rollout:dashboard", pk=municipalities[0].pk)
    return render(request, "rollout/dashboard_choose.html", {"municipalities": municipalities})


def _board(request: HttpRequest, pk: int) -> tuple[Municipality, selectors.Board]:
    municipality = access.get_municipality_for_user(request.user, pk)
    return municipality, selectors.cached_board(municipality=municipality)


def _common(request: HttpRequest, municipality: Municipality) -> dict[str, object]:
    return {
        "municipality": municipality,
        "is_coordinator": access.is_coordinator_of(request.user, municipality.pk),
    }


@require_GET
@login_required
def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    municipality, board = _board(request, pk)
    attention = [
        {
            "kind": kind,
            "label": selectors.Attention(kind).label,
            "count": len(rows),
            "items": [
                {"row": row, "url": _attention_url(kind, row)} for row in rows[:ATTENTION_SHOWN]
            ],
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
            "units_total": len(board.rows),
            "units_started": sum(row.started for row in board.rows),
            "units_done": done,
            "funnel_chart": _funnel_chart(board),
            "reach_chart": _reach_chart(board),
        },
    )


# Where each kind of attention is handled: the step's own page, or the unit page for the rollout
# as a whole (requests, pauses, silence).
UNIT_PAGE_ATTENTION = {
    selectors.Attention.REQUESTS,
    selectors.Attention.STALE,
    selectors.Attention.PAUSED,
}


def _attention_url(kind: str, row: selectors.UnitRow) -> str:
    url_name = row.step_url_name
    if kind in UNIT_PAGE_ATTENTION or not url_name:
        return reverse("units:detail", args=[row.unit_id])
    return reverse(url_name, args=[row.unit_id])


def _funnel_chart(board: selectors.Board) -> dict[str, object]:
    base = reverse("rollout:unit_table", args=[board.municipality.pk])
    return _chart(
        title=_("Enheter per steg"),
        description=_(
            "Antal aktiva enheter som inte har påbörjat modellen, som står i vart och ett av de "
            "fyra stegen och som är klara."
        ),
        bars=[
            selectors.Bar(label, count, str(count), f"{base}?{urlencode({'steg': stage})}")
            for stage, label, count in board.funnel
        ],
        value_label=_("Antal enheter"),
    )


def _percent_chart(
    groups: list[selectors.Group], attribute: str, *, title: str, description: str
) -> dict[str, object]:
    bars = []
    for group in groups:
        share: selectors.Share = getattr(group, attribute)
        percent = share.percent
        text = f"{percent} % ({share.part}/{share.whole})" if percent is not None else "–"
        bars.append(selectors.Bar(group.label, percent or 0, text))
    return _chart(
        title=title, description=description, bars=bars, value_label=_("Andel (%)"), maximum=100
    )


def _reach_chart(board: selectors.Board) -> dict[str, object]:
    return _percent_chart(
        board.by_sector,
        "reach",
        title=_("Andel av personalen som gått webbkursen, per sektor"),
        description=_(
            "Rapporterade deltagare i Webbkurs Heder delat med antalet anställda i sektorns "
            "aktiva enheter."
        ),
    )


def _adoption_chart(board: selectors.Board) -> dict[str, object]:
    return _percent_chart(
        board.by_sector,
        "adoption",
        title=_("Andel enheter som påbörjat modellen, per sektor"),
        description=_("Påbörjade enheter delat med alla aktiva enheter i sektorn."),
    )


def _chart(
    *,
    title: str,
    description: str,
    bars: list[selectors.Bar],
    value_label: str,
    maximum: float | None = None,
) -> dict[str, object]:
    """A horizontal bar chart, drawn by templates/rollout/_bar_chart.html as SVG."""
    top = maximum or max((bar.value for bar in bars), default=0) or 1
    row_height = 28
    return {
        "title": title,
        "description": description,
        "value_label": value_label,
        "height": row_height * len(bars) + 8,
        "row_height": row_height,
        "bars": [
            {
                "bar": bar,
                "y": 4 + index * row_height,
                "text_y": 4 + index * row_height + 18,
                # Bars live in 300 of the 640 units between the labels and the numbers.
                "width": (width := round(300 * bar.value / top, 1)),
                "text_x": round(266 + width, 1),
            }
            for index, bar in enumerate(bars)
        ],
    }


def _table_filter(request: HttpRequest, board: selectors.Board) -> selectors.TableFilter:
    sector_ids = {row.sector_id for row in board.rows if row.sector_id is not None}
    return selectors.TableFilter.from_params(request.GET, sector_ids=sector_ids)


@require_GET
@login_required
def unit_table(request: HttpRequest, pk: int) -> HttpResponse:
    municipality, board = _board(request, pk)
    table_filter = _table_filter(request, board)
    rows = table_filter.apply(board.rows, board.today)
    page = Paginator(rows, TABLE_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = table_filter.params()
    sectors = sorted(
        {(row.sector_id, row.sector) for row in board.rows if row.sector_id is not None},
        key=lambda item: item[1].casefold(),
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
            "query": urlencode({**filters, "sort": table_filter.sort_param}),
            "export_query": urlencode(filters),
            "sectors": sectors,
            "kinds": UnitKind.choices,
            "stages": selectors.Stage.choices,
            "statuses": selectors.UnitStatus.choices,
            "attention_label": selectors.Attention(table_filter.attention).label
            if table_filter.attention
            else "",
        },
    )


def _download(content: bytes, fmt: str, name: str, municipality: Municipality) -> HttpResponse:
    filename = f"{name}-{municipality.slug}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@login_required
def unit_table_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404
    municipality, board = _board(request, pk)
    rows = _table_filter(request, board).apply(board.rows, board.today)
    pseudonymise = request.GET.get("pseudonym") == "1"
    sheet = exports.unit_table(rows, municipality_id=municipality.pk, pseudonymise=pseudonymise)
    content = exports.to_csv(sheet) if fmt == "csv" else exports.to_xlsx([sheet])
    name = "enheter-pseudonymiserade" if pseudonymise else "enheter"
    return _download(content, fmt, name, municipality)


@require_GET
@login_required
def indicators(request: HttpRequest, pk: int) -> HttpResponse:
    municipality, board = _board(request, pk)
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
            "adoption_chart": _adoption_chart(board),
            "reach_chart": _reach_chart(board),
        },
    )


@require_GET
@login_required
def indicators_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404
    municipality, board = _board(request, pk)
    sheets = exports.indicator_sheets(board)
    content = exports.to_csv_many(sheets) if fmt == "csv" else exports.to_xlsx(sheets)
    return _download(content, fmt, "indikatorer", municipality)
