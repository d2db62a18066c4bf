"""Units imported from a CSV file ("Importera enheter"), for municipalities with hundreds of units.

parse() reads the file into raw rows, check() holds each row against the municipality's sectors
and units with the unit form's own rules, the preview shows the result, and the raw rows travel to
the confirmation in a signed hidden field (sign/unsign): nothing is stored between the two steps.
units.services.units_import checks them again and creates the new units in one transaction.

Reading and signing are shared with the other imports (units.invitation_imports): what differs
is the FileSpec, the set of columns and how the file's rows are named in messages."""

import codecs
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from jarfalla.spreadsheet import from_text_cell, text_cell
from units import forms as unit_forms  # a module: units.forms imports this one for its upload form
from units.models import Municipality, Sector, Unit, UnitKind

MAX_FILE_BYTES = 1024 * 1024
MAX_ROWS = 3000
PAYLOAD_MAX_AGE = 60 * 60  # seconds between the preview and the confirmation


class ImportFileError(Exception):
    """The file as a whole cannot be used; the message tells the person why."""


class ImportRowsError(Exception):
    """Some rows no longer pass (the service checks again); ``rows`` is every row's result."""

    def __init__(self, rows: Sequence[Any]) -> None:  # CheckedRow or InviteRow
        super().__init__("rows with errors")
        self.rows = rows


@dataclass(frozen=True)
class Column:
    key: str  # what the row's values are keyed by (for units: the unit field)
    header: str  # the Swedish header, as the template writes it
    label: Promise  # how messages and the preview name the column
    aliases: tuple[str, ...]  # other accepted headers, English among them


COLUMNS = (
    Column("name", "namn", gettext_lazy("Namn"), ("name", "enhet", "unit", "unit name")),
    Column("sector", "sektor", gettext_lazy("Sektor"), ("sector",)),
    Column("kind", "typ", gettext_lazy("Typ"), ("type", "kind")),
    Column(
        "duty_to_report",
        "anmälningsplikt",
        gettext_lazy("Anmälningsplikt"),
        ("anmälningsskyldighet", "duty to report"),
    ),
    Column(
        "headcount",
        "antal anställda",
        gettext_lazy("Antal anställda"),
        ("anställda", "headcount", "number of staff", "number of employees", "staff"),
    ),
    Column(
        "functional_email",
        "funktionsbrevlåda",
        gettext_lazy("Funktionsbrevlåda"),
        (
            "funktionsadress",
            "e-post",
            "e-postadress",
            "shared mailbox",
            "functional mailbox",
            "functional email",
            "email",
            "e-mail",
        ),
    ),
)


def _normalised(header: str) -> str:
    return " ".join(header.replace("_", " ").strip(" *\ufeff").split()).casefold()


def folded_name(name: str) -> str:
    """A unit's name as the imports compare it: Swedish case-insensitively (casefold also folds
    Å, Ä and Ö, which SQL's LOWER may not), as the unit form's name_taken does."""
    return name.strip().casefold()


@dataclass(frozen=True)
class FileSpec:
    """What one kind of import reads: its columns, which of them the file must have, how its
    messages name the rows, and the salt that keeps its previews its own."""

    columns: tuple[Column, ...]
    required: tuple[str, ...]  # column keys
    salt: str
    no_rows: Promise  # the file has only its header row
    too_many_rows: Promise  # with %(max)s

    @property
    def headers(self) -> dict[str, str]:
        """Every accepted header, normalised → the column's key."""
        return {
            _normalised(name): column.key
            for column in self.columns
            for name in (column.header, *column.aliases)
        }


def _required(key: str) -> bool:
    model_field = Unit._meta.get_field(key)
    assert isinstance(model_field, models.Field)
    return not model_field.blank and not model_field.has_default()


# What the model requires (name, sector, headcount); the rest falls back on its defaults.
REQUIRED = tuple(column.key for column in COLUMNS if _required(column.key))

UNITS = FileSpec(
    columns=COLUMNS,
    required=REQUIRED,
    salt="units.imports.preview",
    no_rows=gettext_lazy("Filen innehåller inga enheter, bara rubrikraden."),
    too_many_rows=gettext_lazy("Filen har fler än %(max)s enheter. Dela upp den i flera filer."),
)

# What people write in the type column: the stored values, the labels in both languages and the
# short words the import page suggests ("extern" for anything that is not one of the others).
_KINDS = {
    **{kind.value: kind.value for kind in UnitKind},
    "kommunal": UnitKind.MUNICIPAL,
    "kommunal verksamhet": UnitKind.MUNICIPAL,
    "municipal service": UnitKind.MUNICIPAL,
    "bostadsbolag": UnitKind.HOUSING,
    "housing company": UnitKind.HOUSING,
    "förening": UnitKind.ASSOCIATION,
    "nätverk": UnitKind.ASSOCIATION,
    "förening eller nätverk": UnitKind.ASSOCIATION,
    "association or network": UnitKind.ASSOCIATION,
    "network": UnitKind.ASSOCIATION,
    "annan": UnitKind.OTHER,
    "extern": UnitKind.OTHER,
    "external": UnitKind.OTHER,
}
# Excel with Swedish settings writes a boolean as SANT/FALSKT.
_YES = {"ja", "j", "yes", "y", "1", "x", "sant", "true"}
_NO = {"nej", "n", "no", "0", "falskt", "false"}


# --- Reading the file -------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRow:
    line: int  # where the row starts in the file; the header is line 1
    values: dict[str, str]  # column key → the cell as written (stripped)


@dataclass(frozen=True)
class ParsedFile:
    rows: list[RawRow]
    ignored_columns: list[str]  # headers that name no column, as written


_EXCEL_BOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # .xlsx (zip), .xls (OLE)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _not_text() -> ImportFileError:
    return ImportFileError(
        _("Filen är inte en textfil. Spara den som CSV (semikolon- eller kommaavgränsad).")
    )


def _decode(data: bytes) -> str:
    """What Excel writes: UTF-8 with or without a byte order mark, UTF-16 ("Unicode text"), or
    Windows-1252 from older versions (which decodes almost any bytes, so control characters
    are what tell a binary file apart)."""
    if data.startswith(_EXCEL_BOOKS):
        raise ImportFileError(
            _(
                "Filen är en Excel-arbetsbok. Spara den som CSV i Excel (Arkiv → Spara som → "
                "CSV UTF-8) och ladda upp den filen."
            )
        )
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        elif data.startswith(codecs.BOM_UTF8):
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise _not_text() from None
    if _CONTROL.search(text):
        raise _not_text()
    return text.removeprefix("\ufeff")


def _delimiter(text: str) -> str:
    """Sniffed from the header line, where no name has a separator in it: Swedish Excel writes
    semicolons, English Excel commas, "Unicode text" tabs. Ties go to the semicolon."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return max((";", ",", "\t"), key=lambda candidate: header.count(candidate))


def parse(data: bytes, spec: FileSpec = UNITS) -> ParsedFile:
    """The rows of a CSV file with ``spec``'s columns, or ImportFileError saying why the file
    cannot be used."""
    if not data.strip():
        raise ImportFileError(_("Filen är tom."))
    text = _decode(data)
    if not text.strip():
        raise ImportFileError(_("Filen är tom."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        return _read(reader, spec)
    except csv.Error:
        raise ImportFileError(
            _("Filen kunde inte läsas som CSV. Spara den som CSV i Excel och försök igen.")
        ) from None


def _read(reader: Any, spec: FileSpec) -> ParsedFile:
    header: list[str] = next((cells for cells in reader if any(c.strip() for c in cells)), [])
    headers = spec.headers
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        key = headers.get(_normalised(name))
        if key is None:
            if name.strip():
                ignored.append(name.strip())
        elif key in columns.values():
            raise ImportFileError(
                _("Kolumnen ”%(column)s” finns två gånger.") % {"column": name.strip()}
            )
        else:
            columns[index] = key
    missing = [
        c.header for c in spec.columns if c.key in spec.required and c.key not in columns.values()
    ]
    if missing:
        raise ImportFileError(
            ngettext(
                "Filen saknar kolumnen %(columns)s. Den första raden ska ha kolumnernas namn, "
                "som i mallen.",
                "Filen saknar kolumnerna %(columns)s. Den första raden ska ha kolumnernas namn, "
                "som i mallen.",
                len(missing),
            )
            % {"columns": ", ".join(missing)}
        )
    rows: list[RawRow] = []
    end_of_previous = reader.line_num
    for cells in reader:
        # A quoted cell may span lines: a row starts on the line after the previous row ended.
        line, end_of_previous = end_of_previous + 1, reader.line_num
        values = {
            # A cell our own files wrote as text ('=…) is read as it was typed.
            key: from_text_cell(cells[i].strip()) if i < len(cells) else ""
            for i, key in columns.items()
        }
        if not any(values.values()):
            continue  # blank lines, and the ";;;;" lines Excel leaves below a table
        if len(rows) == MAX_ROWS:
            raise ImportFileError(
                str(spec.too_many_rows) % {"max": number_format(MAX_ROWS, force_grouping=True)}
            )
        rows.append(RawRow(line=line, values=values))
    if not rows:
        raise ImportFileError(str(spec.no_rows))
    return ParsedFile(rows=rows, ignored_columns=ignored)


# --- Checking the rows ------------------------------------------------------------------------


class RowStatus(StrEnum):
    NEW = "new"
    EXISTS = "exists"
    ERROR = "error"


@dataclass
class CheckedRow:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    exists: bool = False
    # The earlier row of the file with the same name, when that is why this one is skipped.
    duplicate_of: int | None = None
    # What units_import creates the unit with (a new row without errors only).
    unit_fields: dict[str, Any] | None = None

    @property
    def status(self) -> RowStatus:
        if self.errors:
            return RowStatus.ERROR
        return RowStatus.EXISTS if self.exists else RowStatus.NEW

    @property
    def raw(self) -> RawRow:
        return RawRow(line=self.line, values=self.values)

    @property
    def cells(self) -> list[str]:
        """The row in the preview, column by column: what will be saved for a new row (the
        defaults filled in), the file's own text for the others."""
        if self.status != RowStatus.NEW or self.unit_fields is None:
            return [self.values.get(column.key, "") for column in COLUMNS]
        fields = self.unit_fields
        return [
            fields["name"],
            fields["sector"].name,
            str(UnitKind(fields["kind"]).label),
            _("Ja") if fields["duty_to_report"] else _("Nej"),
            str(fields["headcount"]),
            fields["functional_email"],
        ]


def check(*, municipality: Municipality, rows: Sequence[RawRow]) -> list[CheckedRow]:
    """Every row against the municipality's active sectors and its units, in three queries
    whatever the number of rows. A row whose name is already a unit, or an earlier row, is
    skipped (see _name_keys for "the same name"); the others are cleaned by the unit form's own
    fields, so the rules and messages are the form's (the privacy validator on the name among
    them)."""
    sectors = {
        sector.name.casefold(): sector
        for sector in Sector.objects.filter(municipality=municipality, is_active=True)
    }
    existing = {
        key
        for name, lowered in Unit.objects.filter(municipality=municipality)
        .annotate(lowered=Lower("name"))
        .values_list("name", "lowered")
        for key in (folded_name(name), lowered)
    }
    form_fields = unit_forms.UnitForm(municipality=municipality).fields
    first_line: dict[str, int] = {}
    checked = []
    names = [raw.values.get("name", "") for raw in rows]
    for raw, keys in zip(rows, _name_keys(names), strict=True):
        row = CheckedRow(line=raw.line, values=raw.values)
        checked.append(row)
        earlier = next((first_line[key] for key in keys if key in first_line), None)
        if keys & existing:
            row.exists = True
        elif earlier is not None:
            row.exists, row.duplicate_of = True, earlier
        else:
            for key in keys:
                first_line[key] = raw.line
            _clean(row, form_fields, sectors)
    return checked


def _name_keys(names: Sequence[str]) -> list[set[str]]:
    """What makes two unit names the same, for each name: Swedish case-insensitively (casefold,
    as the unit form's name_taken compares) or as the database's unique constraint compares
    (its LOWER, which folds some letters otherwise: "İnsikt" is "insikt" there and not in
    Python). Either is enough, or an import would pass the preview and fail at the constraint
    every time it is confirmed. One query for all the names."""
    if not names:
        return []
    if connection.vendor == "postgresql":
        sql = (
            "SELECT LOWER(t.v) FROM json_array_elements_text(%s::json) WITH ORDINALITY AS t(v, i) "
            "ORDER BY t.i"
        )
    else:
        sql = "SELECT LOWER(value) FROM json_each(%s) ORDER BY key"
    stripped = [name.strip() for name in names]
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(stripped)])
        lowered = [value for (value,) in cursor.fetchall()]
    return [
        {key for key in (folded_name(name), db) if key}
        for name, db in zip(stripped, lowered, strict=True)
    ]


def labelled(key: str, message: object) -> str:
    """A row's error, naming its column: "Antal anställda: Fyll i ett heltal."."""
    return f"{_LABELS.get(key, key)}: {message}"


_LABELS = {column.key: column.label for column in COLUMNS}


def _clean(row: CheckedRow, form_fields: Any, sectors: dict[str, Sector]) -> None:
    cleaned: dict[str, Any] = {}

    def error(key: str, message: object) -> None:
        row.errors.append(labelled(key, message))

    def form_clean(key: str, value: str) -> None:
        try:
            cleaned[key] = form_fields[key].clean(value)
        except ValidationError as problem:
            for message in problem.messages:
                error(key, message)

    values = row.values
    form_clean("name", values.get("name", ""))
    sector_name = values.get("sector", "")
    if not sector_name:
        error("sector", forms.Field.default_error_messages["required"])
    elif sector_name.casefold() not in sectors:
        error(
            "sector",
            _("Sektorn ”%(name)s” finns inte. Välj en av: %(names)s.")
            % {"name": sector_name, "names": ", ".join(s.name for s in sectors.values())},
        )
    else:
        cleaned["sector"] = sectors[sector_name.casefold()]
    kind = values.get("kind", "")
    if not kind:
        cleaned["kind"] = Unit._meta.get_field("kind").get_default()
    elif " ".join(kind.split()).casefold() in _KINDS:
        form_clean("kind", _KINDS[" ".join(kind.split()).casefold()])
    else:
        error(
            "kind",
            _(
                "”%(value)s” är inte en typ. Skriv kommunal, bostadsbolag, förening, annan eller "
                "extern."
            )
            % {"value": kind},
        )
    duty = values.get("duty_to_report", "").casefold()
    if duty and duty not in _YES | _NO:
        error("duty_to_report", _("Skriv ja eller nej."))
    # Thousands may be grouped with (non-breaking) spaces, as Swedish Excel shows them.
    form_clean("headcount", re.sub(r"[\s\u00a0\u202f]", "", values.get("headcount", "")))
    form_clean("functional_email", values.get("functional_email", ""))
    if row.errors:
        return
    # As the unit form's "according to type" when the file leaves it open.
    cleaned["duty_to_report"] = (
        duty in _YES if duty else Unit.default_duty_to_report(cleaned["kind"])
    )
    row.unit_fields = cleaned


# --- Between the preview and the confirmation --------------------------------------------------


def _salt(municipality_id: int, spec: FileSpec) -> str:
    # Per kind of import and municipality: a preview made for one cannot be confirmed as
    # another import or in another municipality.
    return f"{spec.salt}:{municipality_id}"


def sign(*, municipality_id: int, rows: Sequence[RawRow], spec: FileSpec = UNITS) -> str:
    """The rows, signed (not encrypted: the person sees them on the preview anyway), with the
    time of the preview."""
    data = {"at": timezone.now().isoformat(), "rows": [[row.line, row.values] for row in rows]}
    return signing.dumps(data, salt=_salt(municipality_id, spec), compress=True)


@dataclass(frozen=True)
class Preview:
    rows: list[RawRow]
    signed_at: dt.datetime  # when the preview was shown


def unsign_preview(*, municipality_id: int, payload: str, spec: FileSpec = UNITS) -> Preview:
    """The rows of a preview and when it was made; signing.BadSignature if changed, expired or
    for elsewhere."""
    data = signing.loads(payload, salt=_salt(municipality_id, spec), max_age=PAYLOAD_MAX_AGE)
    if not isinstance(data, dict):
        # A preview shown before the time was signed with the rows: uploaded again.
        raise signing.BadSignature("a preview without its time")
    return Preview(
        rows=[RawRow(line=int(line), values=dict(values)) for line, values in data["rows"]],
        signed_at=dt.datetime.fromisoformat(data["at"]),
    )


def unsign(*, municipality_id: int, payload: str, spec: FileSpec = UNITS) -> list[RawRow]:
    """The rows of a preview; signing.BadSignature if changed, expired or for elsewhere."""
    return unsign_preview(municipality_id=municipality_id, payload=payload, spec=spec).rows


# --- The template -----------------------------------------------------------------------------


def write_csv(header: Sequence[str], example: Sequence[str]) -> bytes:
    """A template: the header row and an example row, in the dialect of our own exports
    (rollout.exports, which units may not import): semicolons and UTF-8 with a byte order mark,
    what Excel with Swedish settings opens correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    # Names typed by people (a sector's) must not become formulas in the spreadsheet.
    writer.writerow([text_cell(value) for value in example])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_csv(*, municipality: Municipality) -> bytes:
    """The unit import's template (write_csv), its example in one of the municipality's sectors."""
    sectors = list(
        Sector.objects.filter(municipality=municipality, is_active=True).values_list(
            "name", flat=True
        )
    )
    sector = next((name for name in sectors if name.casefold() == "förskola"), None)
    example = [
        "Ängens förskola",
        sector or (sectors[0] if sectors else ""),
        "kommunal",
        "ja",
        "18",
        "angen@kommun.example.se",
    ]
    return write_csv([column.header for column in COLUMNS], example)
