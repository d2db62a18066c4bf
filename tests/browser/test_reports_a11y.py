"""The board report in a real browser, axe on every page: the coordinator asks for a report and
downloads it when it is done; a job that is still queued updates itself (htmx) when the worker
has finished."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from rollout import reports
from rollout.models import BoardReport
from tests.browser.test_invitation_flow import log_in_with_second_factor
from units.models import Municipality, Unit, User

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_coordinator_asks_for_a_report_and_downloads_it(
    page: Page, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    log_in_with_second_factor(page, coordinator)
    expect(page).not_to_have_url(re.compile("/accounts/"))
    page.goto(f"/dashboard/{municipality.pk}/")
    page.get_by_role("link", name="Rapport", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Rapport till nämnden för {municipality.name}"
    )
    expect(page.get_by_text("Inga rapporter har skapats ännu.")).to_be_visible()
    expect(page.get_by_label("Svenska")).to_be_checked()
    page.check_a11y()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Skapa rapport").click()

    # Tasks run in-process in the tests: the job may be done by the time the page shows.
    status = page.locator("#report-status")
    expect(status).to_be_visible()
    if status.get_by_role("link", name="Uppdatera").count():
        status.get_by_role("link", name="Uppdatera").click()
    download_link = page.get_by_role("link", name="Ladda ned rapporten (PDF)")
    expect(download_link).to_be_visible()
    expect(page.get_by_role("heading", name="Status: Klar")).to_be_visible()
    page.check_a11y()  # type: ignore[attr-defined]
    with page.expect_download() as download:
        download_link.click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename.endswith("-sv.pdf")

    page.get_by_role("link", name="Alla rapporter").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Ladda ned PDF"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Klar")
    expect(row).to_contain_text("Svenska")
    page.check_a11y()  # type: ignore[attr-defined]


def test_a_queued_report_updates_itself_when_the_worker_is_done(
    page: Page, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    # Queued as if the worker were busy elsewhere (made directly: the service would render it
    # in-process at once).
    report = BoardReport.objects.create(
        municipality=municipality, language="sv", requested_by=coordinator
    )
    log_in_with_second_factor(page, coordinator)
    expect(page).not_to_have_url(re.compile("/accounts/"))
    page.goto(f"/dashboard/{municipality.pk}/rapport/{report.pk}/")
    expect(page.get_by_role("heading", name="Status: I kö")).to_be_visible()
    expect(page.get_by_role("link", name="Uppdatera")).to_be_visible()
    page.check_a11y()  # type: ignore[attr-defined]

    assert reports.board_report_render(report_id=report.pk) == "done"
    # No reload: the status block polls itself every 2 seconds.
    expect(page.get_by_role("heading", name="Status: Klar")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("link", name="Ladda ned rapporten (PDF)")).to_be_visible()
    expect(page.get_by_role("link", name="Uppdatera")).to_have_count(0)
