"""Small gaps closed, in a real browser with axe on every page: the regional observer's menu
link, the manager's list saying where each unit stands, and the board report's period."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from rollout import services as engine
from rollout.models import Step
from tests.browser.test_invitation_flow import log_in_with_second_factor
from tests.factories import DEFAULT_PASSWORD, UserFactory
from units.models import Municipality, RegionalObserver, Unit, UnitManager, User

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def log_in(page: Page, person: User) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-postadress").fill(person.email)
    page.get_by_label("Lösenord").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()


def test_a_regional_observer_reaches_the_regional_view_from_the_menu(
    page: Page, municipality: Municipality
) -> None:
    person = UserFactory.create(email="lansstyrelsen@example.se")
    RegionalObserver.objects.create(user=person).municipalities.set([municipality])
    log_in(page, person)
    page.goto("/konto/")
    menu = page.get_by_role("navigation", name="Huvudmeny")
    link = menu.get_by_role("link", name="Regional översikt")
    expect(link).not_to_have_attribute("aria-current", "page")
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/regional/$"))
    expect(menu.get_by_role("link", name="Regional översikt")).to_have_attribute(
        "aria-current", "page"
    )


def test_a_manager_sees_where_their_units_stand_and_opens_the_step(
    page: Page, coordinator: User, unit_a: Unit, unit_b: Unit, manager_a: User
) -> None:
    UnitManager.objects.create(user=manager_a, unit=unit_b)
    rollout = engine.rollout_start(actor=coordinator, unit=unit_b)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    log_in(page, manager_a)
    page.goto("/units/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina enheter")
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader", name="Var i modellen")).to_be_visible()
    row_a = table.get_by_role("row", name=re.compile(unit_a.name))
    expect(row_a).to_contain_text("Inte påbörjad")
    row_b = table.get_by_role("row", name=re.compile(unit_b.name))
    expect(row_b).to_contain_text("Boka riktad utbildning")
    row_b.get_by_role("link", name="Steg 2 Riktad utbildning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Steg 2: Riktad utbildning")


def test_the_coordinator_chooses_the_reports_period_and_is_told_a_wrong_one(
    page: Page, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    log_in_with_second_factor(page, coordinator)
    page.goto(f"/dashboard/{municipality.pk}/rapport/")
    start = page.get_by_label("Periodens första dag")
    end = page.get_by_label("Periodens sista dag")
    expect(end).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    start.fill("2026-10-01")
    end.fill("2026-09-30")
    page.get_by_role("button", name="Skapa rapport").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Formuläret innehåller fel")
    expect(summary).to_contain_text("Periodens första dag måste vara före den sista.")
    page.check_a11y()  # type: ignore[attr-defined]
    summary.get_by_role("link").click()
    expect(page.get_by_label("Periodens första dag")).to_be_focused()
    page.get_by_label("Periodens första dag").fill("2026-01-01")
    page.get_by_role("button", name="Skapa rapport").click()
    expect(page.get_by_text("2026-01-01 – 2026-09-30")).to_be_visible()
