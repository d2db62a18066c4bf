"""The intervention map in a real browser, axe on every page: the coordinator adds an
intervention with the keyboard (after a first try with errors), sees it in the matrix and opens
the cell's list."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_invitation_flow import log_in_with_second_factor, open_unit_list
from units.models import Municipality, Unit, User

pytestmark = pytest.mark.browser


def test_coordinator_adds_an_intervention_and_finds_it_in_the_matrix(
    page: Page, live_server, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    log_in_with_second_factor(page, coordinator)
    open_unit_list(page)
    page.goto(f"/dashboard/{municipality.pk}/insatser/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Insatskedjor")
    expect(page.get_by_text("Det finns inga insatser registrerade ännu.")).to_be_visible()
    expect(page.get_by_role("heading", name="De tre preventionsnivåerna")).to_be_visible()

    page.get_by_role("link", name="Lägg till insats", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lägg till insats")
    page.get_by_role("button", name="Lägg till insatsen").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Formuläret innehåller fel")
    expect(summary).to_contain_text("Välj en ansvarig sektor eller en ansvarig enhet.")
    page.check_a11y()  # type: ignore[attr-defined]

    # The summary's link takes the focus to the field; from there on, the keyboard only.
    summary.get_by_role("link", name=re.compile("^Namn")).press("Enter")
    name = page.get_by_label("Namn")
    expect(name).to_be_focused()
    page.keyboard.type("Föräldraträffar om rättigheter")
    page.keyboard.press("Tab")  # into the level's radio group, onto its first choice
    expect(page.get_by_label("Universell (alla)")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Selektiv (riskgrupper)")).to_be_checked()
    expect(page.get_by_label("Selektiv (riskgrupper)")).to_have_accessible_description(
        re.compile("^Riktar sig till grupper där risken är större")
    )
    page.keyboard.press("Tab")
    sector = page.get_by_label("Ansvarig sektor")
    expect(sector).to_be_focused()
    sector.select_option(label="Förskola")
    page.get_by_label("Målgrupp").focus()
    page.keyboard.type("Föräldrar i förskolan")
    page.get_by_label("Beskrivning").focus()
    page.keyboard.type("Fyra träffar per termin, med tolk.")
    units_group = page.locator("summary", has_text="Bostadsbolag")
    units_group.focus()
    page.keyboard.press("Enter")  # unfolds the sector's units
    checkbox = page.get_by_label(unit_a.name)
    checkbox.focus()
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    page.get_by_label("Målgrupp").press("Enter")  # submits the form

    expect(page.get_by_role("status")).to_contain_text(
        "Insatsen Föräldraträffar om rättigheter är tillagd."
    )
    matrix = page.get_by_role("table")
    expect(matrix.locator("caption")).to_contain_text("Pågående insatser per sektor")
    row = matrix.get_by_role("row", name=re.compile("^Förskola"))
    cell = row.get_by_role("link", name=re.compile("^1 insats, 1 enhet"))
    expect(cell).to_be_visible()
    expect(row.get_by_text("Lucka")).to_have_count(2)

    cell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Insatser")
    expect(page.get_by_text("Sektor: Förskola.")).to_be_visible()
    listed = page.get_by_role("row", name=re.compile("Föräldraträffar om rättigheter"))
    expect(listed).to_contain_text("Selektiv (riskgrupper)")
    expect(listed).to_contain_text("Pågår nu")
    listed.locator("summary").click()
    expect(listed.get_by_text(unit_a.name)).to_be_visible()
    page.check_a11y()  # type: ignore[attr-defined]
