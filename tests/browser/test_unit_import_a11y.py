"""Importing units, in a real browser with axe on every page: the import page, a file refused,
the preview with row errors, the preview of a good file and the list after the import."""

import re

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.test_invitation_flow import log_in_with_second_factor
from units.models import Municipality, Unit, User

pytestmark = pytest.mark.browser

HEADER = "namn;sektor;typ;anmälningsplikt;antal anställda;funktionsbrevlåda"


def choose_file(page: Page, *lines: str) -> None:
    content = "\r\n".join(lines).encode("utf-8")
    file = FilePayload(name="enheter.csv", mimeType="text/csv", buffer=content)
    page.get_by_label("CSV-fil med enheter").set_input_files(files=[file])
    page.get_by_role("button", name="Förhandsgranska").click()


def test_the_coordinator_previews_corrects_and_imports_units(
    page: Page, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    log_in_with_second_factor(page, coordinator)
    page.goto("/units/")
    page.get_by_role("link", name="Importera enheter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importera enheter")
    expect(page.get_by_role("link", name="Ladda ner mallen (CSV)")).to_be_visible()

    choose_file(page, "namn;typ", "Ängens förskola;kommunal")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Filen saknar kolumnerna sektor, antal anställda")
    summary.get_by_role("link").click()
    expect(page.get_by_label("CSV-fil med enheter")).to_be_focused()

    choose_file(page, HEADER, "Ängens förskola;Förskola;;;18;", "Kvarnen;Bibliotek;;;4;")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Kontrollera enheterna innan du importerar"
    )
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("1 rad har fel")
    expect(summary.get_by_role("link")).to_contain_text("Rad 3: Sektor: Sektorn ”Bibliotek”")
    table = page.get_by_role("table")
    expect(table.get_by_role("row", name=re.compile("Ängens förskola"))).to_contain_text("Ny")
    expect(page.get_by_role("button", name=re.compile("Importera"))).to_have_count(0)

    choose_file(
        page,
        HEADER,
        "Ängens förskola;Förskola;;;18;",
        "Kvarnen;Fritidsgård;;;4;",
        f"{unit_a.name};Förskola;;;20;",
    )
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows.filter(has_text=unit_a.name)).to_contain_text("Finns redan – hoppas över")
    page.get_by_role("button", name="Importera 2 enheter").click()

    expect(page).to_have_url(re.compile("/units/$"))
    expect(page.get_by_role("status")).to_contain_text("2 enheter har importerats.")
    expect(page.get_by_role("link", name="Kvarnen")).to_be_visible()
    assert Unit.objects.filter(municipality=municipality).count() == 3
