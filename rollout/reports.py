"""The municipality's report for the board (nämnden, the political committee responsible for the
work): the dashboard's summary, charts, indicators and unit table, and the lessons units chose to
share, as a tagged PDF.

The PDF is rendered by the Celery worker, never in a web request: the coordinator asks for it
(board_report_request), the worker claims the job and renders it (board_report_render), the
page polls the job's status. Building the HTML (board_report_html) and turning it into PDF
(html_to_pdf) are separate steps, so the bench (issue 9) can compare our whole render with
WeasyPrint alone on the same HTML.
"""

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from jarfalla import pdf
from rollout import board as selectors
from rollout import charts, engine, steps
from rollout.models import BoardReport, ReportStatus, Step
from rollout.steps import Period
from units.models import Municipality, User
from units.services import audit_record

logger = logging.getLogger(__name__)

STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "report-print.css"
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
RUNNING = (ReportStatus.QUEUED, ReportStatus.RENDERING)
# A job still queued or rendering this long after it was asked for has died with its worker
# (or waits behind a broken queue): it counts as failed, and asking again starts a new one.
STALE_AFTER = dt.timedelta(minutes=15)
STALE_ERROR = "Timeout: not finished within 15 minutes"
ERROR_LENGTH = 300  # BoardReport.error


def file_name(report: BoardReport) -> str:
    return f"reports/{report.municipality_id}/{report.pk}.pdf"


def is_stale(report: BoardReport, *, now: dt.datetime | None = None) -> bool:
    return report.is_running and report.requested_at < (now or timezone.now()) - STALE_AFTER


# --- The document ----------------------------------------------------------------------------


def default_period(today: dt.date) -> Period:
    """The twelve months up to and including today: what a report covers unless the coordinator
    chooses another period."""
    return engine.add_months(today, -12) + dt.timedelta(days=1), today


def _within(day: dt.date | None, period: Period) -> bool:
    return day is not None and period[0] <= day <= period[1]


def in_period(rows: Sequence[selectors.UnitRow], period: Period) -> dict[str, int]:
    """What happened in the period, counted from the Board's rows (the round each active unit
    is shown by): units that started the model, implemented their routine or completed all four
    steps, and follow-ups held."""
    return {
        "started": sum(_within(row.started_on, period) for row in rows),
        "implemented": sum(_within(row.implemented_on, period) for row in rows),
        "follow_ups": sum(
            _within(held_on, period) for row in rows for _m, _due, held_on, *_ in row.follow_ups
        ),
        "completed": sum(_within(row.completed_on, period) for row in rows),
    }


def board_report_html(
    *,
    municipality: Municipality,
    language: str,
    today: dt.date | None = None,
    period: Period | None = None,
) -> str:
    """The whole HTML document of the report, from the same Board as the dashboard. The state of
    the units is today's; the lessons and what happened follow the period (by default the last
    twelve months)."""
    with translation.override(language):
        # Built inside the override: the Board's labels are translated as it is built.
        board = selectors.board(municipality=municipality, today=today)
        period = period or default_period(board.today)
        units_done = next(
            count for stage, _label, count in board.funnel if stage == selectors.Stage.DONE
        )
        return render_to_string(
            "rollout/report/board_report.html",
            {
                "language": language,
                "municipality": municipality,
                "board": board,
                "ind": board.indicators,
                "units_total": len(board.rows),
                "units_started": sum(row.started for row in board.rows),
                "units_done": units_done,
                "rows": sorted(board.rows, key=selectors.by_name),
                "funnel_chart": charts.funnel_chart(board, links=False),
                "reach_chart": charts.reach_chart(board),
                "step_days": [
                    (Step(step).label, days)
                    for step, days in board.indicators.median_step_days.items()
                ],
                "grace_days": selectors.ON_TIME_GRACE_DAYS,
                "period": period,
                "in_period": in_period(board.rows, period),
                "lessons": steps.shared_lessons([municipality.pk], period=period),
            },
        )


def html_to_pdf(html: str) -> bytes:
    """Only WeasyPrint, with the report's own stylesheet and options."""
    return pdf.render_pdf(html, stylesheets=[STYLESHEET])


def render_board_report_html(municipality: Municipality, language: str = "sv") -> str:
    return board_report_html(municipality=municipality, language=language)


def render_board_report_pdf(
    municipality: Municipality, *, language: str = "sv", period: Period | None = None
) -> bytes:
    """The whole render as the worker runs it: selectors, template and WeasyPrint."""
    return html_to_pdf(
        board_report_html(municipality=municipality, language=language, period=period)
    )


# --- The job ---------------------------------------------------------------------------------


def _running(municipality: Municipality, language: str) -> BoardReport | None:
    return (
        BoardReport.objects.select_for_update()
        .filter(municipality=municipality, language=language, status__in=RUNNING)
        .first()
    )


@transaction.atomic
def board_report_request(
    *, actor: User, municipality: Municipality, language: str, period: Period | None = None
) -> BoardReport:
    """Ask for a report for the period (by default the last twelve months). While one for the
    same municipality and language is queued or rendering, that one is returned: a second click
    reuses the running job (its page says which period it covers)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown report language: {language!r}")
    period_start, period_end = period or default_period(timezone.localdate())
    if period_start > period_end:
        raise ValueError(f"the period ends before it starts: {period_start} – {period_end}")
    running = _running(municipality, language)
    if running is not None and is_stale(running):
        BoardReport.objects.filter(pk=running.pk).update(
            status=ReportStatus.FAILED, finished_at=timezone.now(), error=STALE_ERROR
        )
        running = None
    if running is not None:
        return running
    try:
        # Two requests at the same moment both find no running job; the partial unique
        # constraint lets one insert win, and the other returns the winner's job.
        with transaction.atomic():
            report = BoardReport.objects.create(
                municipality=municipality,
                language=language,
                requested_by=actor,
                period_start=period_start,
                period_end=period_end,
            )
    except IntegrityError:
        return BoardReport.objects.get(
            municipality=municipality, language=language, status__in=RUNNING
        )
    audit_record(
        actor=actor,
        action="board_report.requested",
        target=report,
        municipality=municipality,
        changes={
            "language": (None, language),
            "period": (None, f"{period_start.isoformat()} – {period_end.isoformat()}"),
        },
    )
    # Imported here: rollout.tasks imports this module.
    from rollout.tasks import render_board_report

    render_board_report.delay_on_commit(report.pk)  # type: ignore[attr-defined]
    return report


def board_report_render(*, report_id: int) -> str:
    """The worker's part: claim the queued job, render it outside any transaction, store the
    PDF and mark the job done (or failed). Returns the job's final status, or "" when the job
    was not there to claim (already taken, finished, or given up as stale)."""
    # Exactly one worker gets QUEUED → RENDERING; a redelivered message finds nothing to claim.
    claimed = BoardReport.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(
        status=ReportStatus.RENDERING
    )
    if claimed != 1:
        return ""
    report = BoardReport.objects.select_related("municipality").get(pk=report_id)
    try:
        content = render_board_report_pdf(
            report.municipality, language=report.language, period=report.period
        )
        name = pdf.store(file_name(report), content)
    except Exception as error:  # any failure is the job's failure, shown on its page
        logger.exception("board report %s failed", report_id)
        BoardReport.objects.filter(pk=report_id, status=ReportStatus.RENDERING).update(
            status=ReportStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}"[:ERROR_LENGTH],
        )
        return ReportStatus.FAILED
    done = BoardReport.objects.filter(pk=report_id, status=ReportStatus.RENDERING).update(
        status=ReportStatus.DONE, finished_at=timezone.now(), file=name, error=""
    )
    return ReportStatus.DONE if done else ""
