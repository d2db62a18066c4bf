"""CSV and Excel files of the unit table and the indicators, from the same Board the pages show.

For researchers, unit names can be replaced by pseudonyms: stable (the same unit gets the same
pseudonym in every export, so files from different dates can be joined) and not reversible
without the site's secret key. A pseudonym alone does not make a file anonymous: in a small
municipality the only family-support unit with 10 staff is known by its sector and size. So the
pseudonymised table treats sector, type and size as quasi-identifiers (what an outsider can
know about a unit) and keeps them k-anonymous, k = K_ANONYMITY = 5:

1. Size is a band of staff (HEADCOUNT_BANDS: 0–9, 10–24, 25–49, 50+), never the count.
2. A sector, type or size band is shown only where at least 5 units in the file share it;
   otherwise the cell says "Övrigt".
3. Where fewer than 5 units share the combination of the three, their size, then their type,
   then their sector become "Övrigt", one column at a time, until every combination is shared
   by at least 5.
4. If fewer than 5 units are left with "Övrigt" in all three columns, units from the smallest
   group that can spare them (chosen by pseudonym, not by name), or else the smallest group as
   a whole, get "Övrigt" in all three too. With fewer than 5 units in the file, all three
   columns are "Övrigt" in every row.

So in a file of 5 rows or more every row shares its sector, type and size with at least 4
others, and no row is unique on them in any file. The rule
first runs on the whole municipality (``population``) and then again on the file's rows, so a
filtered file only hides more, never shows a value the full file hid: files of the same day
joined by pseudonym say no more than the full file. (Files from dates far apart can, when units
were added or archived in between; share them with that in mind.)

Counts and dates that would also single a unit out are coarsened: the web-course progress is a
share in bands of 25 percentage points (WEB_COURSE_BANDS), not the number of staff (which would
tell the size), and dates are months (2026-03). Step, status, round, next action and whether the
routine is in place stay as they are: they are what the research is about, and the same for
many units. The non-pseudonymised table keeps the exact values."""

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from jarfalla.spreadsheet import text_cell
from rollout import board as board_selectors
from rollout.models import Step
from units.models import UnitKind

Cell = str | int | float | dt.date | None

K_ANONYMITY = 5
# (lowest headcount, label): the labels are the same in every language.
HEADCOUNT_BANDS = ((0, "0–9"), (10, "10–24"), (25, "25–49"), (50, "50+"))
# (lowest share, label) of the staff who have taken the web course.
WEB_COURSE_BANDS = ((0.0, "0–24 %"), (0.25, "25–49 %"), (0.5, "50–74 %"), (0.75, "75–100 %"))

# Sector, type and size band, as shown in the file.
QuasiIdentifiers = tuple[str, str, str]
# The columns made "Övrigt" one at a time when a combination is too rare: size first and sector
# last, as researchers compare sectors most.
_GENERALISE_FIRST = (2, 1, 0)


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


def _band(value: float, bands: Sequence[tuple[float, str]]) -> str:
    """The label of the highest band whose lower bound ``value`` reaches."""
    return next(label for lowest, label in reversed(bands) if value >= lowest)


def headcount_band(headcount: int) -> str:
    return _band(headcount, HEADCOUNT_BANDS)


def web_course_band(share: float) -> str:
    return _band(share, WEB_COURSE_BANDS)


def _actions_text(row: board_selectors.UnitRow) -> str:
    """Every open step's action, as the table lists them."""
    return "; ".join(str(action.text) for action in row.actions)


def _month(day: dt.date | None) -> str | None:
    return f"{day:%Y-%m}" if day else None


def k_anonymise(
    values: Mapping[int, QuasiIdentifiers], *, municipality_id: int
) -> dict[int, QuasiIdentifiers]:
    """The quasi-identifiers by unit id, generalised to "Övrigt" until every combination is
    shared by at least K_ANONYMITY units (steps 2–4 of the module's rule). A value is only ever
    kept or replaced, so running this again on a part of the result hides more, never less."""
    other = _("Övrigt")
    shown = {unit_id: list(cells) for unit_id, cells in values.items()}
    for column in range(3):
        counts = Counter(cells[column] for cells in shown.values())
        for cells in shown.values():
            if counts[cells[column]] < K_ANONYMITY:
                cells[column] = other
    for column in _GENERALISE_FIRST:
        # Counted before this column changes: a row whose combination was shared by enough
        # keeps its value, and its group can only grow as others join it.
        combinations = Counter(tuple(cells) for cells in shown.values())
        for cells in shown.values():
            if combinations[tuple(cells)] < K_ANONYMITY:
                cells[column] = other
    # Now only the rows with "Övrigt" everywhere can be too few.
    suppressed = [other] * 3
    rest = [unit_id for unit_id, cells in shown.items() if cells == suppressed]
    if 0 < len(rest) < K_ANONYMITY:
        need = K_ANONYMITY - len(rest)
        groups: dict[tuple[str, ...], list[int]] = {}
        for unit_id, cells in shown.items():
            if cells != suppressed:
                groups.setdefault(tuple(cells), []).append(unit_id)
        spare = [group for group in groups.items() if len(group[1]) >= K_ANONYMITY + need]
        ordered = sorted(spare or groups.items(), key=lambda group: (len(group[1]), group[0]))
        if ordered:
            # By pseudonym: without the secret key nobody can tell which ones were moved.
            by_pseudonym = sorted(
                ordered[0][1],
                key=lambda unit_id: pseudonym(municipality_id=municipality_id, unit_id=unit_id),
            )
            for unit_id in by_pseudonym[:need] if spare else by_pseudonym:
                shown[unit_id] = list(suppressed)
    return {unit_id: (cells[0], cells[1], cells[2]) for unit_id, cells in shown.items()}


def _quasi_identifiers(
    rows: Sequence[board_selectors.UnitRow],
    population: Sequence[board_selectors.UnitRow],
    municipality_id: int,
) -> dict[int, QuasiIdentifiers]:
    in_population = k_anonymise(
        {
            row.unit_id: (row.sector, str(UnitKind(row.kind).label), headcount_band(row.headcount))
            for row in population
        },
        municipality_id=municipality_id,
    )
    other = _("Övrigt")
    return k_anonymise(
        {row.unit_id: in_population.get(row.unit_id, (other, other, other)) for row in rows},
        municipality_id=municipality_id,
    )


def unit_table(
    rows: Sequence[board_selectors.UnitRow],
    *,
    municipality_id: int,
    pseudonymise: bool,
    population: Sequence[board_selectors.UnitRow] | None = None,
) -> Sheet:
    """The unit table; ``population`` is the municipality's whole table when ``rows`` is a
    filtered part of it (see the module's rule)."""
    if pseudonymise:
        return _pseudonymised_unit_table(
            rows,
            municipality_id=municipality_id,
            population=rows if population is None else population,
        )
    header = [
        _("Enhet"),
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
        body.append(
            [
                row.name,
                row.sector,
                str(UnitKind(row.kind).label),
                row.headcount,
                row.round,
                row.stage_label,
                row.status_label,
                _actions_text(row),
                row.due,
                timezone.localdate(row.last_activity) if row.last_activity else None,
                row.web_course_completed,
                round(100 * row.web_course_share),
                _("Ja") if row.routine_implemented else _("Nej"),
            ]
        )
    return Sheet(_("Enheter"), header, body)


def _pseudonymised_unit_table(
    rows: Sequence[board_selectors.UnitRow],
    *,
    municipality_id: int,
    population: Sequence[board_selectors.UnitRow],
) -> Sheet:
    header = [
        _("Pseudonym"),
        _("Sektor"),
        _("Typ"),
        _("Antal anställda (intervall)"),
        _("Omgång"),
        _("Steg"),
        _("Status"),
        _("Nästa åtgärd"),
        _("Senast (månad)"),
        _("Senaste aktivitet (månad)"),
        _("Andel webbkurs (intervall)"),
        _("Rutin införd"),
    ]
    quasi = _quasi_identifiers(rows, population, municipality_id)
    body: list[list[Cell]] = [
        [
            pseudonym(municipality_id=municipality_id, unit_id=row.unit_id),
            *quasi[row.unit_id],
            row.round,
            row.stage_label,
            row.status_label,
            _actions_text(row),
            _month(row.due),
            _month(timezone.localdate(row.last_activity) if row.last_activity else None),
            web_course_band(row.web_course_share),
            _("Ja") if row.routine_implemented else _("Nej"),
        ]
        for row in rows
    ]
    # In the table's order (by name) the pseudonyms would follow the public list of unit names,
    # and that list would tell which unit is which.
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
