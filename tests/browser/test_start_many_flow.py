"""Starting a wave of units from the unit table in a real browser, axe on every page: the
coordinator ticks two units by their labels and starts them with one button (no JavaScript
needed: a plain form post)."""

import pytest
from playwright.sync_api import Page, expect

from rollout import services as engine
from rollout.models import Rollout
from tests.browser.test_invitation_flow import log_in_with_second_factor
from tests.factories import UnitFactory
from units.models import Municipality, Unit, User

pytestmark = pytest.mark.browser


def test_coordinator_starts_two_units_from_the_table(
    page: Page, coordinator: User, municipality: Municipality, unit_a: Unit, unit_b: Unit
) -> None:
    started = engine.rollout_start(actor=coordinator, unit=unit_b).unit
    third = UnitFactory.create(municipality=municipality, name="Ängens förskola")
    log_in_with_second_factor(page, coordinator)
    page.goto(f"/dashboard/{municipality.pk}/enheter/")
    expect(page.get_by_role("columnheader", name="Välj")).to_be_visible()
    # A unit that is under way has nothing to tick.
    expect(page.get_by_label(f"Välj {started.name}", exact=True)).to_have_count(0)
    for unit in (unit_a, third):
        page.get_by_label(f"Välj {unit.name}", exact=True).check()
    page.get_by_role("button", name="Starta införande för valda enheter").click()
    expect(page.get_by_role("status").first).to_contain_text("2 införanden har startats.")
    # Nothing left to start: no checkboxes and no button.
    expect(page.get_by_role("checkbox", name="Välj", exact=False)).to_have_count(0)
    expect(page.get_by_role("button", name="Starta införande för valda enheter")).to_have_count(0)
    assert set(Rollout.objects.values_list("unit_id", flat=True)) == {
        unit_a.pk,
        unit_b.pk,
        third.pk,
    }
