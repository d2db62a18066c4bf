"""Issue 4's walk-through in a real browser, with axe on every page: the coordinator starts a
rollout, the manager reports the web course twice and closes step 1, step 2 becomes current."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_invitation_flow import log_in_with_second_factor, open_unit_list
from tests.factories import DEFAULT_PASSWORD
from units.models import Unit, User

pytestmark = pytest.mark.browser


def report(page: Page, completed: int) -> None:
    page.get_by_label("Datum").fill(timezone.localdate().isoformat())
    page.get_by_label("Antal som gått kursen").fill(str(completed))
    page.get_by_label("I grupp").check()
    page.get_by_label("Antal gruppträffar").fill("1")
    page.get_by_label(re.compile("^3 – Grundläggande")).check()
    page.get_by_label(re.compile("Reflektioner")).fill(
        "Vi vill gärna ha mer om samtal med föräldrar."
    )
    page.get_by_role("button", name="Spara rapporten").click()
    expect(page.get_by_role("status")).to_contain_text("Rapporten är sparad.")


def test_start_report_twice_and_close_step_1(
    page: Page, browser: Browser, live_server, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    log_in_with_second_factor(page, coordinator)
    open_unit_list(page)
    page.get_by_role("link", name=unit_a.name).click()
    expect(page.get_by_text("Enheten har inte börjat arbeta med modellen ännu.")).to_be_visible()
    page.get_by_role("button", name="Starta införandet").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Införandet har startat.")
    # The confirmation names the next action with a link, as the unit page does.
    expect(status.get_by_role("link", name="Rapportera webbkursen")).to_be_visible()
    expect(page.locator(".next-action").get_by_text("Rapportera webbkursen")).to_be_visible()

    context = browser.new_context(base_url=live_server.url)
    manager = context.new_page()
    try:
        manager.goto("/accounts/login/")
        manager.get_by_label("E-postadress").fill(manager_a.email)
        manager.get_by_label("Lösenord").fill(DEFAULT_PASSWORD)
        manager.get_by_role("button", name="Logga in").click()
        manager.get_by_role("link", name=unit_a.name).click()
        manager.get_by_role("link", name="Steg 1: Webbkurs Heder").click()
        report(manager, 8)
        expect(manager.get_by_text("8 av 20 anställda har gått kursen (40 %).")).to_be_visible()
        expect(manager.get_by_role("button", name="Markera steg 1 som klart")).to_have_count(0)
        report(manager, 9)
        expect(manager.get_by_text("17 av 20 anställda har gått kursen (85 %).")).to_be_visible()
        expect(manager.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "85")
        manager.get_by_role("button", name="Markera steg 1 som klart").click()
        expect(manager.get_by_role("status")).to_contain_text("Steg 1 är klart.")
        current = manager.locator('[aria-current="step"]')
        expect(current).to_contain_text("Steg 2: Riktad utbildning")
        expect(current).to_contain_text("Aktuellt steg")
        next_action = manager.locator(".next-action")
        expect(next_action.get_by_role("link", name="Boka riktad utbildning")).to_be_visible()
        expect(next_action).to_contain_text("ansvarig: samordnare")
    finally:
        context.close()

    page.reload()
    timeline = page.get_by_role("list").filter(has_text="Införandet startade")
    for text in (
        "Införandet startade (omgång 1).",
        "8 till har gått kursen, totalt 8 av 20.",
        "9 till har gått kursen, totalt 17 av 20.",
        "Steget markerades som klart.",
        "Steget påbörjades.",
    ):
        expect(timeline).to_contain_text(text)


def test_pause_with_reason_and_resume(page: Page, coordinator: User, unit_a: Unit) -> None:
    log_in_with_second_factor(page, coordinator)
    page.goto(f"/units/{unit_a.pk}/")
    page.get_by_role("button", name="Starta införandet").click()
    page.get_by_role("link", name="Pausa införandet").click()
    page.get_by_role("button", name="Pausa införandet").click()
    expect(page.get_by_role("alert")).to_contain_text("Formuläret innehåller fel")
    page.get_by_label("Anledning").fill("Enheten byter chef i januari.")
    page.get_by_role("button", name="Pausa införandet").click()
    expect(page.get_by_text("Pausat: Enheten byter chef i januari.")).to_be_visible()
    page.get_by_role("button", name="Återuppta införandet").click()
    expect(page.get_by_role("status")).to_contain_text("Införandet är återupptaget.")
