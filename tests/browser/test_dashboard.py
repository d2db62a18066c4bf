"""The dashboard in a real browser, axe on every page: the coordinator sees the funnel and what
needs attention, follows the link to an overdue follow-up, filters the unit table to one sector
and downloads it as Excel; the observer reads the indicators and finds nothing to change."""

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from rollout import services as engine
from tests.browser.test_invitation_flow import log_in_with_second_factor
from tests.factories import DEFAULT_PASSWORD, UnitFactory
from tests.followup.test_followups import implement
from units.models import Municipality, Unit, User

pytestmark = pytest.mark.browser


@pytest.fixture
def spread(
    municipality: Municipality, coordinator: User, manager_a: User, unit_a: Unit
) -> dict[str, Unit]:
    """Unit A with its routine implemented 200 days ago (the 6-month follow-up is overdue), and
    units of two sectors in step 1 or not started."""
    sectors = list(municipality.sectors.order_by("name")[:2])
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    implement(rollout, manager_a, coordinator, timezone.localdate() - dt.timedelta(days=200))
    units = {"A": unit_a}
    for index in range(4):
        unit = UnitFactory.create(
            municipality=municipality,
            name=f"Enhet {index} i sektor {index % 2}",
            sector=sectors[index % 2],
        )
        if index < 2:
            engine.rollout_start(actor=coordinator, unit=unit)
        units[f"{index}"] = unit
    return units


def test_coordinator_follows_attention_and_downloads_the_filtered_table(
    page: Page, coordinator: User, municipality: Municipality, spread: dict[str, Unit]
) -> None:
    unit_a = spread["A"]
    log_in_with_second_factor(page, coordinator)  # the start page is the dashboard
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Översikt för {municipality.name}")
    funnel = page.get_by_role("img", name="Enheter per steg")
    expect(funnel).to_be_visible()
    expect(page.get_by_role("link", name="Steg 4 Uppföljning")).to_be_visible()
    overdue = page.locator(
        ".card", has=page.get_by_role("heading", name=re.compile("Försenade uppföljningar"))
    )
    expect(overdue).to_contain_text("skulle ha gjorts")
    overdue.get_by_role("link", name=unit_a.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Steg 4: Uppföljning")

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Översikt").click()
    page.get_by_role("link", name=re.compile("^Visa tabellen")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Enheter i {municipality.name}")
    sector = spread["1"].sector
    page.get_by_label("Sektor", exact=True).select_option(label=sector.name)
    page.get_by_role("button", name="Filtrera").click()
    rows = page.locator("tbody tr")
    expected = sorted(u.name for u in spread.values() if u.sector_id == sector.pk)
    expect(rows).to_have_count(len(expected))
    with page.expect_download() as download:
        page.get_by_role("button", name="Excel (XLSX)").click()
    path = download.value.path()
    sheet = openpyxl.load_workbook(io.BytesIO(path.read_bytes())).active
    names = sorted(row[0].value for row in sheet.iter_rows(min_row=2))
    assert names == expected
    assert {row[1].value for row in sheet.iter_rows(min_row=2)} == {sector.name}

    page.get_by_role("link", name="Indikatorer", exact=True).click()
    expect(page.get_by_role("heading", name="Räckvidd (Reach)")).to_be_visible()


def test_observer_reads_the_indicators_and_finds_nothing_to_change(
    browser: Browser,
    page: Page,
    observer: User,
    municipality: Municipality,
    spread: dict[str, Unit],
) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-postadress").fill(observer.email)
    page.get_by_label("Lösenord").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Översikt för {municipality.name}")
    page.get_by_role("link", name="Indikatorer", exact=True).click()
    expect(page.get_by_role("heading", name="Användning (Adoption)")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("påbörjat modellen"))).to_be_visible()
    # Nothing on these pages changes anything: no form posts.
    for path in ("", "enheter/", "indikatorer/"):
        page.goto(f"/dashboard/{municipality.pk}/{path}")
        expect(page.locator("main form[method=post]")).to_have_count(0)


# The coordinator's pages that no flow above reaches (tests/test_coordinator_journey.py walks
# them without a browser): each one checked by axe as the coordinator sees it.
COORDINATOR_PAGES = [
    "/municipalities/{municipality}/settings/",
    "/municipalities/{municipality}/people/",
    "/municipalities/{municipality}/audit/",
    "/municipalities/{municipality}/referensdata/",
    "/municipalities/{municipality}/units/new/",
    "/units/{unit}/edit/",
    "/units/{unit}/managers/invite/",
    "/units/{unit}/rollout/pause/",
    "/units/{unit}/timeline/",
    "/units/{unit}/uppfoljning/",
]


@pytest.mark.parametrize("path", COORDINATOR_PAGES)
def test_coordinator_pages_pass_axe(
    page: Page, coordinator: User, municipality: Municipality, spread: dict[str, Unit], path: str
) -> None:
    log_in_with_second_factor(page, coordinator)
    expect(page).not_to_have_url(re.compile("/accounts/"))
    response = page.goto(path.format(municipality=municipality.pk, unit=spread["A"].pk))
    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_be_visible()
