"""Swedish alphabetical order (jarfalla.collation) on every page and file that lists names: case
does not matter, a-z, then å, ä, ö; é sorts with e. The database's own order (C collation on
PostgreSQL, bytes on SQLite) puts lower-case names last and Ä before Å."""

import csv
import datetime as dt
import io
import random
import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jarfalla.collation import swedish, swedish_key
from rollout import regional, reports
from rollout import services as engine
from rollout.models import Step
from tests.factories import (
    MunicipalityFactory,
    UnitFactory,
    UserFactory,
    activate_totp,
    book_session,
    make_coordinator,
    make_manager,
)
from units.models import Municipality, MunicipalRole, Role, Sector, Unit, UnitManager, User

NAMES = ["apa", "Zeta", "Åkerby", "Ängby", "Örby", "Eskilstuna", "Émile", "ödeshög"]
SWEDISH = ["apa", "Émile", "Eskilstuna", "Zeta", "Åkerby", "Ängby", "ödeshög", "Örby"]

# Names where case, accents, punctuation, digits and letters outside a-z meet: the Python key and
# the database must agree on all of them.
TRICKY = [
    *NAMES,
    "Apa",
    "APA",
    "emile",
    "Emile",
    "Ödeshög",
    "Ümit",
    "Yxa",
    "Wilma",
    "Vera",
    "Æbelø",
    "Øst",
    "Ærlig",
    "aa",
    "a b",
    "a-b",
    "a_b",
    "a1",
    "ab",
    "Ella",
    "Élla",
    "Èlla",
    "Ëlla",
    "éla",
    "Łódź",
    "Lund",
    "ß",
    "ss",
    "Nilsson",
    "Nilsson Berg",
    "Nilsson-Berg",
    "Nilssonberg",
    "förskola 2",
    "Förskola 10",
    "Förskolan Ängen",
    "Skola (F-6)",
    "S:t Eriks",
    "St. Eriks",
    "Café Ung",
    "Cafe Ung",
    "Müller",
    "Muller",
    "Mylla",
]


def shuffled(names: list[str], seed: int) -> list[str]:
    copy = list(names)
    random.Random(seed).shuffle(copy)
    return copy


def test_the_python_key_puts_names_in_swedish_order() -> None:
    assert sorted(NAMES, key=swedish_key) == SWEDISH
    assert sorted(["Åre", "Ängelholm", "Älmhult", "Öckerö", "Ystad"], key=swedish_key) == [
        "Ystad",
        "Åre",
        "Älmhult",
        "Ängelholm",
        "Öckerö",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_the_database_and_the_python_key_agree(seed: int) -> None:
    """The expression orders rows as the Python key sorts the same names (here municipalities,
    whose names may differ only in case)."""
    for name in shuffled(TRICKY, seed):
        Municipality.objects.create(name=name, slug=f"k-{len(name)}-{abs(hash(name))}")
    in_database = list(
        Municipality.objects.order_by(swedish("name"), "pk").values_list("name", flat=True)
    )
    assert in_database == sorted(TRICKY, key=swedish_key)
    descending = Municipality.objects.order_by(swedish("name").desc(), "pk")
    assert list(descending.values_list("name", flat=True)) == in_database[::-1]


@pytest.mark.django_db
def test_postgresql_has_the_swedish_collation() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("select 1 from pg_collation where collname = 'sv-x-icu'")
        assert cursor.fetchone() == (1,)


# --- The pages ------------------------------------------------------------------------------

ROW_NAME = re.compile(r'<th scope="row"><a [^>]*>([^<]*)</a>')


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def _units(municipality: Municipality, seed: int) -> list[Unit]:
    return [
        UnitFactory.create(municipality=municipality, name=name) for name in shuffled(NAMES, seed)
    ]


def unit_table(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    _units(municipality, seed)
    client.force_login(coordinator)
    html = client.get(reverse("rollout:unit_table", args=[municipality.pk])).text
    return ROW_NAME.findall(html)


def unit_table_export(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    _units(municipality, seed)
    client.force_login(coordinator)
    url = reverse("rollout:unit_table_export", args=[municipality.pk, "csv"])
    return [row[0] for row in read_csv(client.get(url).content)[1:]]


def unit_list(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    _units(municipality, seed)
    client.force_login(coordinator)
    return ROW_NAME.findall(client.get(reverse("units:list")).text)


def managers_unit_list(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    manager = make_manager(*_units(municipality, seed))
    client.force_login(manager)
    return ROW_NAME.findall(client.get(reverse("units:list")).text)


def _sectors_named(municipality: Municipality, seed: int) -> None:
    """The municipality's sectors are NAMES, in a shuffled order, each with a unit."""
    Sector.objects.filter(municipality=municipality).delete()
    for name in shuffled(NAMES, seed):
        sector = Sector.objects.create(municipality=municipality, name=name)
        UnitFactory.create(municipality=municipality, sector=sector, name=f"Enhet {name}")


def sector_filter(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    """The sectors in the unit table's filter."""
    _sectors_named(municipality, seed)
    client.force_login(coordinator)
    html = client.get(reverse("rollout:unit_table", args=[municipality.pk])).text
    select = re.search(r'<select name="sektor".*?</select>', html, re.S)
    assert select is not None
    return re.findall(r'<option value="\d+">([^<]*)</option>', select.group(0))


def dashboard_sectors(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    """The dashboard's participation per sector."""
    _sectors_named(municipality, seed)
    client.force_login(coordinator)
    html = client.get(reverse("rollout:dashboard", args=[municipality.pk])).text
    table = re.search(r"Deltagande per sektor.*?</table>", html, re.S)
    assert table is not None
    listed = re.findall(r'<th scope="row">([^<]*)</th>', table.group(0))
    return [name for name in listed if name in NAMES]


def people(client: Client, municipality: Municipality, coordinator: User, seed: int) -> list[str]:
    for name in shuffled(NAMES, seed):
        user = UserFactory.create(email=f"{name}@example.se")
        MunicipalRole.objects.create(user=user, municipality=municipality, role=Role.OBSERVER)
    client.force_login(coordinator)
    html = client.get(reverse("units:people", args=[municipality.pk])).text
    listed = re.findall(r'<span class="me-auto">([^<@]*)@example\.se – ', html)
    return [name for name in listed if name in NAMES]


def unit_managers(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    unit = UnitFactory.create(municipality=municipality)
    for name in shuffled(NAMES, seed):
        user = UserFactory.create(email=f"{name.lower()}@example.se", first_name=name, last_name="")
        UnitManager.objects.create(user=user, unit=unit)
    client.force_login(coordinator)
    html = client.get(reverse("units:detail", args=[unit.pk])).text
    return re.findall(r'<span class="me-auto">([^<]*?) <span class="text-body-secondary">', html)


def board_report(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    _units(municipality, seed)
    html = reports.board_report_html(municipality=municipality, language="sv")
    return [name for name in re.findall(r'<th scope="row">([^<]*)</th>', html) if name in NAMES]


def regional_view(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    for name in shuffled(NAMES, seed):
        MunicipalityFactory.create(name=name)
    regional.refresh()
    superuser = UserFactory.create(is_superuser=True, is_staff=True)
    activate_totp(superuser)
    client.force_login(superuser)
    listed = ROW_NAME.findall(client.get(reverse("rollout:regional")).text)
    return [name for name in listed if name in NAMES]


def training_week(
    client: Client, municipality: Municipality, coordinator: User, seed: int
) -> list[str]:
    """Sessions at the same time in the week's list, by unit."""
    starts = (timezone.localtime() + dt.timedelta(days=7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    for unit in _units(municipality, seed):
        rollout = engine.rollout_start(actor=coordinator, unit=unit)
        engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
        book_session(rollout, make_coordinator(municipality), starts)
    client.force_login(coordinator)
    year, week, _day = starts.isocalendar()
    html = client.get(reverse("training:week"), {"vecka": f"{year}-W{week:02d}"}).text
    listed = re.findall(r'<td><a href="[^"]*">([^<]*)</a></td>', html)
    return [name for name in listed if name in NAMES]


PAGES: dict[str, Callable[[Client, Municipality, User, int], list[str]]] = {
    "unit table": unit_table,
    "unit table export": unit_table_export,
    "unit list": unit_list,
    "manager's unit list": managers_unit_list,
    "sector filter": sector_filter,
    "dashboard sectors": dashboard_sectors,
    "people": people,
    "unit managers": unit_managers,
    "board report": board_report,
    "regional view": regional_view,
    "training sessions of a week": training_week,
}


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("page", PAGES)
def test_names_are_listed_in_swedish_order(
    page: str, seed: int, client: Client, municipality: Municipality, coordinator: User
) -> None:
    assert PAGES[page](client, municipality, coordinator, seed) == SWEDISH


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["name", "-name"])
def test_the_unit_table_export_follows_the_pages_sort_and_filter(
    sort: str, client: Client, municipality: Municipality, coordinator: User
) -> None:
    """The page's download form carries its sort and filters; the file lists the same units in
    the same order as the page."""
    _units(municipality, 3)
    UnitFactory.create(municipality=municipality, name="Annat namn")
    client.force_login(coordinator)
    page = client.get(
        reverse("rollout:unit_table", args=[municipality.pk]), {"sort": sort, "q": "e"}
    ).text
    shown = ROW_NAME.findall(page)
    assert shown == [
        name for name in (SWEDISH if sort == "name" else SWEDISH[::-1]) if "e" in name.casefold()
    ]
    export_form = re.search(r"<form[^>]*export-form.*?</form>", page, re.S)
    assert export_form is not None
    fields = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', export_form.group(0))
    )
    url = reverse("rollout:unit_table_export", args=[municipality.pk, "csv"])
    exported = [row[0] for row in read_csv(client.get(url, fields).content)[1:]]
    assert exported == shown
