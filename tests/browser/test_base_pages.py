"""The base layout in a real browser: login, navigation, language, keyboard, error pages."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import DEFAULT_PASSWORD
from units.models import User

pytestmark = pytest.mark.browser


def test_login_page_is_swedish_and_accessible(page: Page) -> None:
    page.goto("/accounts/login/")
    expect(page).to_have_title(re.compile("^Logga in"))
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    expect(page.get_by_label("E-post")).to_be_visible()


def test_skip_link_is_first_and_moves_focus_to_main(page: Page) -> None:
    page.goto("/tillganglighet/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till huvudinnehållet")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_log_in_and_out_with_the_keyboard(page: Page, user: User) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("E-post").fill(user.email)
    page.get_by_label("Lösenord").fill(DEFAULT_PASSWORD)
    page.get_by_label("Lösenord").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Välkommen")
    expect(page.get_by_text(f"Du är inloggad som {user.email}.")).to_be_visible()
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Logga ut|Logga in"))


def test_wrong_password_shows_error_summary(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-post").fill(user.email)
    page.get_by_label("Lösenord").fill("fel-lösenord")
    page.get_by_role("button", name="Logga in").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Formuläret innehåller fel")


def test_language_switcher_works_without_javascript(browser, live_server) -> None:
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/tillganglighet/")
        page.get_by_label("Språk").select_option("en")
        page.get_by_role("button", name="Byt språk").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        context.close()


def test_error_pages_share_the_layout(page: Page) -> None:
    response = page.goto("/finns-inte/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan hittades inte")
    expect(page.get_by_role("link", name="Tillgänglighetsredogörelse")).to_be_visible()


def test_accessibility_statement_explains_how_to_report(page: Page) -> None:
    page.goto("/tillganglighet/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tillgänglighetsredogörelse")
    expect(page.get_by_role("link", name=re.compile("@"))).to_have_attribute(
        "href", re.compile("^mailto:")
    )
