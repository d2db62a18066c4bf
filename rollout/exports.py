"""CSV and Excel files of the unit table and the indicators, from the same Board the pages show.

For researchers, unit names can be replaced by pseudonyms: stable (the same unit gets the same
pseudonym in every export, so files from different dates can be joined) and not reversible
without the site's secret key. The pseudonymised table also leaves out everything else that
names a unit."""

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from jarfalla.spreadsheet import text_cell
from rollout import board as board_selectors
from rollout.models import Step
from units.models import UnitKind

Cell = str | int | float | dt.date | None


@dataclass(frozen=True)
class Sheet:
    title: str
    header: list[str]
    rows: list[list[Cell]]


def pseudonym(*, municipality_id: int, unit_id: int) -> str:
    digest = salted_hmac(
        "rollout.exports.pseudonym", f"{municipality_id}:{unit_id}", algorithm="sha256"
    ).hexdigest()
    return f"E-{digest[:10].upper()}"


def unit_table(
    rows: Sequence[board_selectors.UnitRow], *, municipality_id: int, pseudonymise: bool
) -> Sheet:
    header = [
        _("Pseudonym") if pseudonymise else _("Enhet"),
        _("Sektor"),
        _("Typ"),
        _("Antal anställda"),
        _("Omgång"),
        _("Steg"),
        _("Status"),
        _("Nästa åtgärd"),
        _("Senast"),
        _("Senaste aktivitet"),
        _("Gått webbkursen"),
        _("Andel webbkurs (%)"),
        _("Rutin införd"),
    ]
    body: list[list[Cell]] = []
    for row in rows:
        name = (
            pseudonym(municipality_id=municipality_id, unit_id=row.unit_id)
            if pseudonymise
            else row.name
        )
        body.append(
            [
                name,
                row.sector,
                str(UnitKind(row.kind).label),
                row.headcount,
                row.round,
                row.stage_label,
                row.status_label,
                str(row.action.text) if row.action else "",
                row.due,
                timezone.localdate(row.last_activity) if row.last_activity else None,
                row.web_course_completed,
                round(100 * row.web_course_share),
                _("Ja") if row.routine_implemented else _("Nej"),
            ]
        )
    if pseudonymise:
        # In the table's order (by name) the pseudonyms would follow the public list of unit
        # names, and that list would tell which unit is which.
        body.sort(key=lambda cells: str(cells[0]))
    return Sheet(_("Enheter"), header, body)


def indicator_sheets(board: board_selectors.Board) -> list[Sheet]:
    ind = board.indicators
    summary: list[list[Cell]] = [
        [_("Räckvidd: andel av personalen som gått webbkursen"), ind.reach.part, ind.reach.whole,
         ind.reach.percent],
        [_("Användning: andel enheter som påbörjat modellen"), ind.adoption.part,
         ind.adoption.whole, ind.adoption.percent],
        [_("Genomförande: andel påbörjade enheter med införd rutin"), ind.implementation.part,
         ind.implementation.whole, ind.implementation.percent],
        [_("Vidmakthållande: uppföljningar genomförda i tid"), ind.follow_ups_on_time.part,
         ind.follow_ups_on_time.whole, ind.follow_ups_on_time.percent],
        [_("Vidmakthållande: rutinen används efter 12 månader"), ind.in_use_at_12_months.part,
         ind.in_use_at_12_months.whole, ind.in_use_at_12_months.percent],
    ]  # fmt: skip
    durations: list[list[Cell]] = [
        [str(Step(step).label), days] for step, days in ind.median_step_days.items()
    ]
    durations.append([_("Från start till införd rutin"), ind.median_days_to_routine])
    sectors: list[list[Cell]] = [
        [
            group.label,
            group.units,
            group.started,
            group.adoption.percent,
            group.headcount,
            group.web_course,
            group.reach.percent,
            group.implemented,
            group.implementation.percent,
        ]
        for group in board.by_sector
    ]
    effect: list[list[Cell]] = [[level, count, mean] for level, count, mean in ind.effect_by_level]
    return [
        Sheet(_("Indikatorer"), [_("Indikator"), _("Antal"), _("Av"), _("Andel (%)")], summary),
        Sheet(_("Tid per steg"), [_("Steg"), _("Median antal dagar")], durations),
        Sheet(
            _("Per sektor"),
            [
                _("Sektor"),
                _("Enheter"),
                _("Påbörjat"),
                _("Användning (%)"),
                _("Antal anställda"),
                _("Gått webbkursen"),
                _("Räckvidd (%)"),
                _("Rutin införd"),
                _("Genomförande (%)"),
            ],
            sectors,
        ),
        Sheet(
            _("Effekt"),
            [_("Kunskapsnivå i steg 1"), _("Enheter"), _("Medeleffekt vid uppföljning (1–5)")],
            effect,
        ),
    ]


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel with Swedish settings reads "3.5" as a date or text; "3,5" is the number.
        return str(value).replace(".", ",")
    if isinstance(value, str):
        return text_cell(value)
    return str(value)


def to_csv(sheet: Sheet) -> bytes:
    """Semicolon-separated UTF-8 with a byte order mark and decimal commas: what Excel with
    Swedish settings opens correctly, what R's read.csv2 reads, and pandas with sep=";" and
    decimal=","."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(sheet.header)
    writer.writerows([[_text(value) for value in row] for row in sheet.rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_csv_many(sheets: Sequence[Sheet]) -> bytes:
    """Several tables in one CSV file, each after a line with its title and a blank line."""
    parts = []
    for sheet in sheets:
        parts.append(to_csv(Sheet(sheet.title, [sheet.title], [])).decode("utf-8").lstrip("\ufeff"))
        parts.append(to_csv(sheet).decode("utf-8").lstrip("\ufeff") + "\r\n")
    return ("\ufeff" + "".join(parts)).encode("utf-8")


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    # Text stays text: no formulas or links made from strings that look like them.
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "remove_timezone": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for sheet in sheets:
        # Excel limits sheet names to 31 characters and forbids a few symbols.
        worksheet = workbook.add_worksheet(
            sheet.title[:31].translate(str.maketrans("", "", "[]:*?/\\"))
        )
        worksheet.write_row(0, 0, sheet.header, bold)
        worksheet.freeze_panes(1, 0)
        for index, row in enumerate(sheet.rows, start=1):
            for column, value in enumerate(row):
                if isinstance(value, dt.date):
                    worksheet.write_datetime(index, column, value, date)
                elif value is None:
                    worksheet.write_blank(index, column, None)
                else:
                    worksheet.write(index, column, value)
        worksheet.autofit()
    workbook.close()
    return buffer.getvalue()
