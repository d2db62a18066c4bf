"""The issue's acceptance flow in a real browser: the coordinator logs in with a second factor,
invites a manager, the manager accepts from the e-mail and sees only that unit."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from tests.factories import DEFAULT_PASSWORD, current_totp_code
from units.models import Unit, User

pytestmark = pytest.mark.browser


def log_in_with_second_factor(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-postadress").fill(user.email)
    page.get_by_label("Lösenord").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_label(re.compile("kod", re.I))).to_be_visible()
    check_a11y = getattr(page, "check_a11y", None)
    if check_a11y is not None:
        check_a11y()
    page.get_by_label(re.compile("kod", re.I)).fill(current_totp_code(user))
    page.get_by_label(re.compile("kod", re.I)).press("Enter")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    if check_a11y is not None:
        check_a11y()


def open_unit_list(page: Page) -> None:
    page.get_by_role("link", name="Enheter", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enheter")


def test_coordinator_invites_manager_who_sees_only_that_unit(
    page: Page,
    browser: Browser,
    live_server,
    coordinator: User,
    unit_a: Unit,
    unit_b: Unit,
    unit_x: Unit,
) -> None:
    log_in_with_second_factor(page, coordinator)
    open_unit_list(page)
    expect(page.get_by_role("link", name=unit_a.name)).to_be_visible()
    expect(page.get_by_role("link", name=unit_x.name)).to_have_count(0)

    page.get_by_role("link", name=unit_a.name).click()
    page.get_by_role("link", name="Bjud in enhetschef").click()
    page.get_by_label("E-postadress").fill("ny.chef@example.se")
    page.get_by_role("button", name="Skicka inbjudan").click()
    expect(page.get_by_role("status")).to_contain_text(
        "En inbjudan har skickats till ny.chef@example.se"
    )

    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/invitations/accept/\S+/)", str(mail.outbox[0].body))
    assert link, mail.outbox[0].body

    context = browser.new_context(base_url=live_server.url)
    manager = context.new_page()
    try:
        manager.goto(link.group(1))
        expect(manager.get_by_role("heading", level=1)).to_have_text("Tacka ja till inbjudan")
        manager.get_by_label("Välj lösenord").fill("ett-långt-och-bra-lösenord")
        manager.get_by_label("Upprepa lösenordet").fill("ett-långt-och-bra-lösenord")
        manager.get_by_role("button", name="Tacka ja").click()
        expect(manager.get_by_role("heading", level=1)).to_have_text("Mina enheter")
        expect(manager.get_by_role("link", name=unit_a.name)).to_be_visible()
        expect(manager.get_by_role("link", name=unit_b.name)).to_have_count(0)
        expect(manager.get_by_role("link", name=unit_x.name)).to_have_count(0)
        response = manager.goto(f"/units/{unit_b.pk}/")
        assert response is not None
        assert response.status == 404
    finally:
        context.close()


def test_coordinator_pages_pass_axe(page: Page, coordinator: User, unit_a: Unit) -> None:
    """Every page a coordinator works on; the page fixture runs axe on each load."""
    log_in_with_second_factor(page, coordinator)
    open_unit_list(page)
    municipality = unit_a.municipality_id
    for url in (
        "/units/?q=sol&status=all&sort=-headcount",
        f"/units/{unit_a.pk}/",
        f"/units/{unit_a.pk}/edit/",
        f"/units/{unit_a.pk}/archive/",  # the confirmation
        f"/units/{unit_a.pk}/managers/invite/",
        f"/municipalities/{municipality}/units/new/",
        f"/municipalities/{municipality}/people/",
        f"/municipalities/{municipality}/audit/",
        "/konto/",
        "/accounts/2fa/",
        "/accounts/sessions/",
    ):
        response = page.goto(url)
        assert response is not None
        assert response.status == 200, url
    # A form with errors: the summary and the messages next to the fields must pass too.
    page.goto(f"/municipalities/{municipality}/units/new/")
    page.get_by_role("button", name="Skapa enheten").click()
    expect(page.get_by_role("alert")).to_contain_text("Formuläret innehåller fel")


def test_manager_pages_pass_axe(page: Page, manager_a: User, unit_a: Unit) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-postadress").fill(manager_a.email)
    page.get_by_label("Lösenord").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina enheter")
    page.get_by_role("link", name=unit_a.name).click()
    page.get_by_role("link", name="Uppdatera uppgifter").click()
    page.get_by_label(re.compile("Antal anställda")).fill("-1")
    page.get_by_role("button", name="Spara ändringarna").click()
    expect(page.get_by_role("alert")).to_contain_text("Formuläret innehåller fel")
