"""The intervention map (insatskedjor): what the municipality offers, by whom, to whom and at
which prevention level.

An intervention chain (insatskedja) is the set of interventions a municipality has against
honour-related violence and oppression, from universal prevention for everyone to indicated
interventions where there is already concern. The map lays them out as sectors × prevention
levels, so that the coordinator sees where the chain has gaps. Interventions describe offers,
never people.

Services change a municipality's interventions (each change goes to the audit log with its field
diff); selectors draw the matrix and the list behind each cell in a fixed number of queries.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from jarfalla.collation import swedish, swedish_key
from rollout.models import Intervention
from units.models import Municipality, PreventionLevel, Sector, Unit, User
from units.services import audit_record

# The matrix row (and the list's `sektor` parameter) of interventions with neither an owner
# sector nor an owner unit.
NO_SECTOR: Literal["none"] = "none"
SectorFilter = Sector | Literal["none"] | None

OWNER_REQUIRED = _("Välj en ansvarig sektor eller en ansvarig enhet.")
END_BEFORE_START = _("Slutdatumet kan inte vara före startdatumet.")

LEVEL_DESCRIPTIONS = {
    PreventionLevel.UNIVERSAL: _(
        "Riktar sig till alla, till exempel barn, elever eller föräldrar i en verksamhet, oavsett "
        "risk: kunskap om rättigheter, värdegrundsarbete och information om var man får stöd."
    ),
    PreventionLevel.SELECTIVE: _(
        "Riktar sig till grupper där risken är större, till exempel samtalsgrupper eller "
        "föräldrastöd i en viss miljö, utan att någon enskild person pekas ut."
    ),
    PreventionLevel.INDICATED: _(
        "Riktar sig till dem där oro redan finns: stöd, skydd och samverkan kring enskilda. "
        "Uppgifter om de enskilda personerna sparas aldrig här."
    ),
}

PERIOD_CURRENT = "current"
PERIOD_UPCOMING = "upcoming"
PERIOD_ENDED = "ended"


def today() -> dt.date:
    return timezone.localdate()


def active_on(day: dt.date) -> Q:
    """Interventions whose period includes ``day``; an open start or end counts as open."""
    return (Q(starts_on__isnull=True) | Q(starts_on__lte=day)) & (
        Q(ends_on__isnull=True) | Q(ends_on__gte=day)
    )


# --- Services -------------------------------------------------------------------------------


def _validate(
    *,
    municipality: Municipality,
    owner_unit: Unit | None,
    owner_sector: Sector | None,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    participating_units: list[Unit],
) -> None:
    errors: dict[str, Any] = {}
    if owner_unit is None and owner_sector is None:
        errors["owner_sector"] = OWNER_REQUIRED
    if owner_sector is not None and owner_sector.municipality_id != municipality.pk:
        errors["owner_sector"] = _("Sektorn hör till en annan kommun.")
    if owner_unit is not None and owner_unit.municipality_id != municipality.pk:
        errors["owner_unit"] = _("Enheten hör till en annan kommun.")
    if any(unit.municipality_id != municipality.pk for unit in participating_units):
        errors["participating_units"] = _("En eller flera enheter hör till en annan kommun.")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = END_BEFORE_START
    if errors:
        raise ValidationError(errors)


def _snapshot(intervention: Intervention, units: Iterable[Unit]) -> dict[str, Any]:
    """What the audit log compares: the fields a person edits, units by name."""
    return {
        "name": intervention.name,
        "level": intervention.level,
        "owner_sector": intervention.owner_sector,
        "owner_unit": intervention.owner_unit,
        "target_group": intervention.target_group,
        "starts_on": intervention.starts_on,
        "ends_on": intervention.ends_on,
        "description": intervention.description,
        "participating_units": sorted((unit.name for unit in units), key=swedish_key),
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Changed fields in the form's order; an empty side stands for "did not exist"."""
    return {
        field: (before.get(field), after.get(field))
        for field in after or before
        if before.get(field) != after.get(field)
    }


@transaction.atomic
def intervention_create(
    *,
    actor: User,
    municipality: Municipality,
    name: str,
    level: str,
    target_group: str,
    owner_sector: Sector | None = None,
    owner_unit: Unit | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    description: str = "",
    participating_units: Iterable[Unit] = (),
) -> Intervention:
    units = list(participating_units)
    _validate(
        municipality=municipality,
        owner_unit=owner_unit,
        owner_sector=owner_sector,
        starts_on=starts_on,
        ends_on=ends_on,
        participating_units=units,
    )
    intervention = Intervention(
        municipality=municipality,
        name=name,
        level=level,
        target_group=target_group,
        owner_sector=owner_sector,
        owner_unit=owner_unit,
        starts_on=starts_on,
        ends_on=ends_on,
        description=description,
        created_by=actor,
    )
    intervention.full_clean()
    intervention.save()
    intervention.participating_units.set(units)
    audit_record(
        actor=actor,
        action="intervention.created",
        target=intervention,
        municipality=municipality,
        changes=_diff({}, _snapshot(intervention, units)),
    )
    return intervention


@transaction.atomic
def intervention_update(
    *,
    actor: User,
    intervention: Intervention,
    name: str,
    level: str,
    target_group: str,
    owner_sector: Sector | None,
    owner_unit: Unit | None,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    description: str,
    participating_units: Iterable[Unit],
) -> Intervention:
    """Raises Intervention.DoesNotExist if someone deleted it in the meantime."""
    # Lock and re-read: of two coordinators saving at once, the second one's diff is taken
    # against the first one's result, so the audit log tells what each of them changed. It also
    # ignores whatever a bound ModelForm already wrote onto the caller's instance.
    current = (
        Intervention.objects.select_for_update(of=("self",))
        .select_related("municipality", "owner_sector", "owner_unit")
        .get(pk=intervention.pk)
    )
    units = list(participating_units)
    _validate(
        municipality=current.municipality,
        owner_unit=owner_unit,
        owner_sector=owner_sector,
        starts_on=starts_on,
        ends_on=ends_on,
        participating_units=units,
    )
    before = _snapshot(current, current.participating_units.all())
    current.name, current.level, current.target_group = name, level, target_group
    current.owner_sector, current.owner_unit = owner_sector, owner_unit
    current.starts_on, current.ends_on = starts_on, ends_on
    current.description = description
    changes = _diff(before, _snapshot(current, units))
    if not changes:
        return current
    current.full_clean()
    current.save()
    current.participating_units.set(units)
    audit_record(
        actor=actor,
        action="intervention.changed",
        target=current,
        municipality=current.municipality,
        changes=changes,
    )
    return current


@transaction.atomic
def intervention_delete(*, actor: User, intervention: Intervention) -> None:
    current = (
        Intervention.objects.select_for_update(of=("self",))
        .select_related("municipality", "owner_sector", "owner_unit")
        .filter(pk=intervention.pk)
        .first()
    )
    if current is None:  # deleted by someone else a moment ago: nothing left to do
        return
    # Recorded before the delete, while the row still has its id; the diff keeps what was lost.
    audit_record(
        actor=actor,
        action="intervention.deleted",
        target=current,
        municipality=current.municipality,
        changes=_diff(_snapshot(current, current.participating_units.all()), {}),
    )
    current.delete()


# --- Selectors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapCell:
    level: str
    level_label: str
    interventions: int
    units: int  # distinct participating units over the cell's interventions
    query: str  # the cell list's query string

    @property
    def is_gap(self) -> bool:
        return self.interventions == 0


@dataclass(frozen=True)
class MapRow:
    key: str  # the sector's id, or NO_SECTOR
    sector: Sector | None
    cells: list[MapCell]


@dataclass(frozen=True)
class Level:
    value: str
    label: str
    description: str


@dataclass(frozen=True)
class InterventionMap:
    levels: list[Level]
    rows: list[MapRow]
    counted: int  # interventions in the matrix
    total: int  # all the municipality's interventions, whatever their period
    include_inactive: bool
    today: dt.date

    @property
    def gaps(self) -> int:
        return sum(cell.is_gap for row in self.rows for cell in row.cells)


def levels() -> list[Level]:
    return [
        Level(value=str(level.value), label=str(level.label), description=str(description))
        for level, description in LEVEL_DESCRIPTIONS.items()
    ]


def cell_query(*, sector_key: str, level: str, include_inactive: bool) -> str:
    params = {"sektor": sector_key, "niva": level}
    if include_inactive:
        params["alla"] = "1"
    return urlencode(params)


def intervention_map(
    *, municipality: Municipality, include_inactive: bool = False, day: dt.date | None = None
) -> InterventionMap:
    """The matrix of sectors (rows) × prevention levels (columns) in three queries, however
    many interventions and units there are: the sectors, one aggregate, one count.

    Rows: the municipality's sectors in use, plus retired sectors that have interventions in the
    matrix, plus "Utan sektor" when an intervention has neither owner sector nor owner unit.
    By default only interventions active on ``day`` (today) are counted."""
    day = day or today()
    interventions = Intervention.objects.filter(municipality=municipality)
    counted = interventions if include_inactive else interventions.filter(active_on(day))
    aggregates = (
        counted.annotate(row=Coalesce("owner_sector_id", "owner_unit__sector_id"))
        .order_by()
        .values("row", "level")
        .annotate(
            interventions=Count("pk", distinct=True),
            units=Count("participating_units", distinct=True),
        )
    )
    sectors = list(Sector.objects.filter(municipality=municipality))
    known = {sector.pk for sector in sectors}
    cells: dict[tuple[int | None, str], tuple[int, int]] = {}
    for entry in aggregates:
        # A sector of another municipality cannot be set through the services; should one turn
        # up anyway, its interventions are still counted, under "Utan sektor".
        row = entry["row"] if entry["row"] in known else None
        before = cells.get((row, entry["level"]), (0, 0))
        cells[row, entry["level"]] = (
            before[0] + entry["interventions"],
            before[1] + entry["units"],
        )
    rows_with_interventions = {row for row, _level in cells}
    keyed: list[tuple[str, Sector | None, int | None]] = [
        (str(sector.pk), sector, sector.pk)
        for sector in sectors
        if sector.is_active or sector.pk in rows_with_interventions
    ]
    if None in rows_with_interventions:
        keyed.append((NO_SECTOR, None, None))
    all_levels = levels()
    rows = [
        MapRow(
            key=key,
            sector=sector,
            cells=[
                MapCell(
                    level=level.value,
                    level_label=level.label,
                    interventions=cells.get((row, level.value), (0, 0))[0],
                    units=cells.get((row, level.value), (0, 0))[1],
                    query=cell_query(
                        sector_key=key, level=level.value, include_inactive=include_inactive
                    ),
                )
                for level in all_levels
            ],
        )
        for key, sector, row in keyed
    ]
    return InterventionMap(
        levels=all_levels,
        rows=rows,
        counted=sum(count for count, _units in cells.values()),
        total=interventions.count(),
        include_inactive=include_inactive,
        today=day,
    )


def intervention_list(
    *,
    municipality: Municipality,
    sector: SectorFilter = None,
    level: str = "",
    include_inactive: bool = False,
    day: dt.date | None = None,
) -> QuerySet[Intervention]:
    """The interventions behind one cell of the map (or a row, a column, or all of them), each
    with ``period_state`` (current, upcoming or ended on ``day``) and its participating units
    prefetched: two queries per page however long the list is."""
    day = day or today()
    interventions = (
        Intervention.objects.filter(municipality=municipality)
        .select_related("owner_sector", "owner_unit__sector")
        .prefetch_related("participating_units")  # in the units' default (Swedish) order
        .annotate(
            period_state=Case(
                When(starts_on__gt=day, then=Value(PERIOD_UPCOMING)),
                When(ends_on__lt=day, then=Value(PERIOD_ENDED)),
                default=Value(PERIOD_CURRENT),
                output_field=CharField(),
            )
        )
    )
    if not include_inactive:
        interventions = interventions.filter(active_on(day))
    if sector == NO_SECTOR:
        interventions = interventions.filter(owner_sector__isnull=True, owner_unit__isnull=True)
    elif isinstance(sector, Sector):
        interventions = interventions.filter(
            Q(owner_sector=sector) | Q(owner_sector__isnull=True, owner_unit__sector=sector)
        )
    if level:
        interventions = interventions.filter(level=level)
    return interventions.order_by(swedish("name"), "pk")
