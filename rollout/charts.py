"""The dashboard's charts as data for templates/rollout/_bar_chart.html (server-rendered SVG with
the same numbers as a table). The web pages and the board report draw them from the same Board
with the same include, so the PDF shows what the dashboard shows."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from rollout import board as selectors


def funnel_chart(board: selectors.Board, *, links: bool = True) -> dict[str, object]:
    """Units per stage. On the web page each bar's row links to the unit table filtered to that
    stage; a PDF has nowhere to link to (links=False)."""
    base = reverse("rollout:unit_table", args=[board.municipality.pk]) if links else ""
    return chart(
        title=_("Enheter per steg"),
        description=_(
            "Antal aktiva enheter som inte har påbörjat modellen, som står i vart och ett av de "
            "fyra stegen och som är klara."
        ),
        bars=[
            selectors.Bar(
                label,
                count,
                str(count),
                f"{base}?{urlencode({'steg': stage})}" if links else "",
            )
            for stage, label, count in board.funnel
        ],
        value_label=_("Antal enheter"),
    )


def percent_chart(
    groups: list[selectors.Group], attribute: str, *, title: str, description: str
) -> dict[str, object]:
    bars = []
    for group in groups:
        share: selectors.Share = getattr(group, attribute)
        percent = share.percent
        text = f"{percent} % ({share.part}/{share.whole})" if percent is not None else "–"
        bars.append(selectors.Bar(group.label, percent or 0, text))
    return chart(
        title=title, description=description, bars=bars, value_label=_("Andel (%)"), maximum=100
    )


def reach_chart(board: selectors.Board) -> dict[str, object]:
    return percent_chart(
        board.by_sector,
        "reach",
        title=_("Andel av personalen som gått webbkursen, per sektor"),
        description=_(
            "Rapporterade deltagare i Webbkurs Heder delat med antalet anställda i sektorns "
            "aktiva enheter."
        ),
    )


def adoption_chart(board: selectors.Board) -> dict[str, object]:
    return percent_chart(
        board.by_sector,
        "adoption",
        title=_("Andel enheter som påbörjat modellen, per sektor"),
        description=_("Påbörjade enheter delat med alla aktiva enheter i sektorn."),
    )


def chart(
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
