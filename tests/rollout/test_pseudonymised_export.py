"""The pseudonymised unit table (for researchers) cannot be matched back to units: sector, type
and size are quasi-identifiers, shown only where at least five units share them (k-anonymity),
and the counts and dates that would single a unit out are coarsened."""

import csv
import datetime as dt
import io
import random
from collections import Counter
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from rollout import exports
from rollout import services as engine
from rollout.board import UnitRow
from tests.factories import UnitFactory
from training import services as training
from units.models import Municipality, Unit, UnitKind, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OTHER = "Övrigt"
SIZE_LABELS = {"0–9", "10–24", "25–49", "50+"}
K = 5  # the promised k: every combination shown is shared by at least five units


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def export(client: Client, municipality: Municipality, **params: str) -> list[dict[str, str]]:
    url = reverse("rollout:unit_table_export", args=[municipality.pk, "csv"])
    response = client.get(url, {"pseudonym": "1", **params})
    assert response.status_code == 200
    return read_csv(response.content)


def quasi_identifiers(row: dict[str, str]) -> tuple[str, str, str]:
    """Sector, type and size: the second to fourth columns."""
    sector, kind, size = list(row.values())[1:4]
    return sector, kind, size


def add_units(municipality: Municipality, plan: Sequence[tuple[str, str, int]]) -> list[Unit]:
    sectors = {sector.name: sector for sector in municipality.sectors.all()}
    return [
        UnitFactory.create(
            municipality=municipality, sector=sectors[sector], kind=kind, headcount=headcount
        )
        for sector, kind, headcount in plan
    ]


# A small municipality: seven preschools, five schools, and a few units that are alone of their
# kind (the only family-support unit, with 10 staff; a housing company; an association).
SMALL_MUNICIPALITY = [
    *[("Förskola", UnitKind.MUNICIPAL, n) for n in (8, 12, 15, 16, 18, 20, 22)],
    *[("Grundskola", UnitKind.MUNICIPAL, n) for n in (30, 35, 40, 45, 60)],
    ("Familjestöd", UnitKind.MUNICIPAL, 10),
    ("Bostadsbolag", UnitKind.HOUSING, 3),
    ("Civilsamhälle", UnitKind.ASSOCIATION, 0),
]


@pytest.mark.django_db
def test_no_row_of_a_small_municipality_is_unique_on_sector_type_and_size(
    client: Client, observer: User, municipality: Municipality
) -> None:
    add_units(municipality, SMALL_MUNICIPALITY)
    client.force_login(observer)
    rows = export(client, municipality)
    assert len(rows) == len(SMALL_MUNICIPALITY)
    classes = Counter(quasi_identifiers(row) for row in rows)
    assert all(classes[quasi_identifiers(row)] >= K for row in rows), classes
    # Sizes only as bands; the lone family-support unit is not named by its sector.
    assert list(rows[0])[1:4] == ["Sektor", "Typ", "Antal anställda (intervall)"]
    assert {row["Antal anställda (intervall)"] for row in rows} <= SIZE_LABELS | {OTHER}
    assert not any(row["Sektor"] == "Familjestöd" for row in rows)
    # What five or more share stays for research; the four units alone of their kind, and
    # one preschool to make them five, show nothing.
    assert classes == {
        ("Förskola", "Kommunal verksamhet", "10–24"): 5,
        ("Grundskola", "Kommunal verksamhet", OTHER): 5,
        (OTHER, OTHER, OTHER): 5,
    }


@pytest.mark.django_db
def test_with_fewer_than_five_units_sector_type_and_size_are_all_suppressed(
    client: Client, observer: User, municipality: Municipality
) -> None:
    add_units(municipality, SMALL_MUNICIPALITY[-3:])
    client.force_login(observer)
    rows = export(client, municipality)
    assert len(rows) == 3
    assert {quasi_identifiers(row) for row in rows} == {(OTHER, OTHER, OTHER)}


@pytest.mark.django_db
def test_a_filtered_file_is_anonymous_on_its_own(
    client: Client, observer: User, municipality: Municipality
) -> None:
    """The table's filters make smaller files: the rule holds within each file."""
    add_units(municipality, SMALL_MUNICIPALITY)
    sector = municipality.sectors.get(name="Grundskola")
    client.force_login(observer)
    rows = export(client, municipality, sektor=str(sector.pk))
    assert len(rows) == 5
    # Five schools share sector and type, but no size band is shared by five of them.
    assert {quasi_identifiers(row) for row in rows} == {
        ("Grundskola", "Kommunal verksamhet", OTHER)
    }


@pytest.mark.django_db
def test_web_course_progress_is_a_band_and_dates_are_months(
    client: Client, observer: User, coordinator: User, municipality: Municipality
) -> None:
    units = add_units(municipality, SMALL_MUNICIPALITY)
    family_support = units[SMALL_MUNICIPALITY.index(("Familjestöd", UnitKind.MUNICIPAL, 10))]
    with time_machine.travel(dt.datetime(2026, 3, 14, 9, tzinfo=STOCKHOLM), tick=False):
        engine.rollout_start(actor=coordinator, unit=family_support)
        training.web_course_report(
            actor=coordinator,
            unit_id=family_support.pk,
            reported_on=dt.date(2026, 3, 14),
            completed_count=7,
            mode="groups",
            group_sessions=1,
            knowledge_level=3,
            reflections="",
        )
    client.force_login(observer)
    rows = export(client, municipality)
    header = list(rows[0])
    assert "Gått webbkursen" not in header  # a count of staff tells the unit's size
    assert "Antal anställda" not in header
    started = [row for row in rows if row["Senaste aktivitet (månad)"]]
    assert len(started) == 1
    assert started[0]["Andel webbkurs (intervall)"] == "50–74 %"  # 7 of 10
    assert started[0]["Senaste aktivitet (månad)"] == "2026-03"
    assert {row["Andel webbkurs (intervall)"] for row in rows if row is not started[0]} == {
        "0–24 %"
    }


@pytest.mark.django_db
def test_the_named_export_keeps_exact_sizes_and_counts(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    add_units(municipality, SMALL_MUNICIPALITY)
    client.force_login(coordinator)
    url = reverse("rollout:unit_table_export", args=[municipality.pk, "csv"])
    rows = read_csv(client.get(url).content)
    assert sorted(int(row["Antal anställda"]) for row in rows) == sorted(
        n for _sector, _kind, n in SMALL_MUNICIPALITY
    )
    assert "Familjestöd" in {row["Sektor"] for row in rows}
    assert "Gått webbkursen" in rows[0]


@pytest.mark.django_db
def test_the_page_that_offers_the_download_states_the_rule(
    client: Client, observer: User, municipality: Municipality
) -> None:
    add_units(municipality, SMALL_MUNICIPALITY)
    client.force_login(observer)
    page = client.get(reverse("rollout:unit_table", args=[municipality.pk])).content.decode()
    assert 'aria-describedby="pseudonym-rule"' in page
    rule = page.split('id="pseudonym-rule"', 1)[1].split("</p>", 1)[0]
    for label in SIZE_LABELS:
        assert label in rule
    assert f"minst {K} enheter" in rule
    assert "”Övrigt”" in rule


def row(unit_id: int, sector: str, kind: str, headcount: int) -> UnitRow:
    return UnitRow(
        unit_id=unit_id,
        name=f"Enhet {unit_id}",
        sector_id=None,
        sector=sector,
        kind=kind,
        headcount=headcount,
        stage="0",
        status="not_started",
    )


def test_every_combination_is_shared_by_five_or_all_are_suppressed() -> None:
    """Whatever the mix of units, every shown combination of sector, type and size belongs to at
    least five rows, and a value is only ever kept or replaced by "Övrigt"."""
    sectors = ["Förskola", "Grundskola", "Elevhälsa", "Familjestöd", "Fritidsgård", "Integration"]
    for seed in range(200):
        generator = random.Random(seed)
        rows = [
            row(
                unit_id,
                generator.choice(sectors[: generator.randint(1, len(sectors))]),
                generator.choice(list(UnitKind.values)),
                generator.choice((0, 5, 9, 10, 12, 24, 25, 30, 49, 50, 120)),
            )
            for unit_id in range(generator.randint(1, 40))
        ]
        sheet = exports.unit_table(rows, municipality_id=1, pseudonymise=True)
        shown = [tuple(cells[1:4]) for cells in sheet.rows]
        classes = Counter(shown)
        if len(rows) < K:
            assert set(classes) == {(OTHER, OTHER, OTHER)}, seed
        else:
            assert min(classes.values()) >= K, (seed, classes)
        by_pseudonym = {exports.pseudonym(municipality_id=1, unit_id=r.unit_id): r for r in rows}
        for cells in sheet.rows:
            original = by_pseudonym[str(cells[0])]
            assert cells[1] in (original.sector, OTHER), seed
            assert cells[2] in (str(UnitKind(original.kind).label), OTHER), seed
            assert cells[3] in (exports.headcount_band(original.headcount), OTHER), seed


def test_files_joined_by_pseudonym_say_no_more_than_the_whole_municipality_does() -> None:
    """The pseudonyms are stable so that files can be joined; then a filtered file must not add
    a detail the full one hid. Generalised within the filtered file alone, the small units
    would show their size band there and their sector in the full file: together a group of
    two."""
    population = [
        *[row(i, "Förskola", UnitKind.MUNICIPAL, 12) for i in (1, 2)],
        *[row(i, "Förskola", UnitKind.MUNICIPAL, 30) for i in (3, 4, 5)],
        *[row(i, "Grundskola", UnitKind.MUNICIPAL, 12) for i in (6, 7, 8)],
        *[row(i, "Grundskola", UnitKind.MUNICIPAL, 30) for i in (9, 10)],
    ]
    small = [r for r in population if r.headcount < 25]
    joined: dict[str, list[str]] = {}
    for selection in (population, small):
        sheet = exports.unit_table(
            selection, population=population, municipality_id=1, pseudonymise=True
        )
        for cells in sheet.rows:
            known = joined.setdefault(str(cells[0]), [OTHER, OTHER, OTHER])
            for column, value in enumerate(cells[1:4]):
                if value != OTHER:
                    known[column] = str(value)
    classes = Counter(tuple(values) for values in joined.values())
    assert min(classes.values()) >= K, classes


@pytest.mark.django_db
def test_a_filter_that_leaves_fewer_than_five_units_is_refused(
    client: Client, observer: User, municipality: Municipality
) -> None:
    """What the filters say (the only family-support unit) would name the rows left, however
    their columns are generalised: no such file, and the table says why."""
    add_units(municipality, SMALL_MUNICIPALITY)
    sector = municipality.sectors.get(name="Familjestöd")
    client.force_login(observer)
    url = reverse("rollout:unit_table_export", args=[municipality.pk, "csv"])
    response = client.get(url, {"pseudonym": "1", "sektor": str(sector.pk)}, follow=True)
    assert response.redirect_chain == [
        (f"{reverse('rollout:unit_table', args=[municipality.pk])}?sektor={sector.pk}", 302)
    ]
    assert "Den pseudonymiserade filen skulle bara få 1 enhet med" in response.content.decode()
    # The named file is the coordinator's and observer's own table: not refused.
    assert client.get(url, {"sektor": str(sector.pk)}).status_code == 200


@pytest.mark.django_db
def test_a_name_search_does_not_reach_the_pseudonymised_file(
    client: Client, observer: User, municipality: Municipality
) -> None:
    """Searching for a name would tell which pseudonym is that unit's."""
    units = add_units(municipality, SMALL_MUNICIPALITY)
    client.force_login(observer)
    rows = export(client, municipality, q=units[0].name)
    assert len(rows) == len(SMALL_MUNICIPALITY)
