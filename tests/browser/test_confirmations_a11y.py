"""Pages added after a new user's review, in a real browser with axe on every page: removing a
manager or a role asks first and says what the person loses; an invitation opened while signed
in as someone else says so before any form; the deactivated account's page says what to do."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_interface_gaps_a11y import log_in
from tests.browser.test_invitation_flow import log_in_with_second_factor
from tests.factories import DEFAULT_PASSWORD
from units import services
from units.models import Municipality, MunicipalRole, Role, Unit, UnitManager, User

pytestmark = pytest.mark.browser


def test_removing_a_manager_asks_first_and_can_be_cancelled(
    page: Page, coordinator: User, unit_a: Unit, manager_a: User
) -> None:
    log_in_with_second_factor(page, coordinator)
    page.goto(f"/units/{unit_a.pk}/")
    page.get_by_role("link", name=f"Ta bort som enhetschef {manager_a.email}").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(f"Ta bort {manager_a.email} som enhetschef för {unit_a.name}?")
    expect(page.get_by_role("main")).to_contain_text("Hen kan inte längre se eller ändra")
    page.get_by_role("link", name="Avbryt").click()
    expect(page).to_have_url(re.compile(rf"/units/{unit_a.pk}/$"))
    assert UnitManager.objects.filter(user=manager_a, unit=unit_a).exists()

    page.get_by_role("link", name=f"Ta bort som enhetschef {manager_a.email}").click()
    page.get_by_role("button", name="Ta bort som enhetschef").click()
    expect(page.get_by_role("status")).to_be_visible()
    assert not UnitManager.objects.filter(user=manager_a, unit=unit_a).exists()


def test_removing_a_role_asks_first(
    page: Page, coordinator: User, municipality: Municipality, observer: User
) -> None:
    log_in_with_second_factor(page, coordinator)
    page.goto(f"/municipalities/{municipality.pk}/people/")
    page.get_by_role("link", name=f"Ta bort rollen {observer.email}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(observer.email)
    assert MunicipalRole.objects.filter(user=observer, municipality=municipality).exists()
    page.get_by_role("button", name="Ta bort rollen").click()
    expect(page.get_by_role("status")).to_be_visible()
    assert not MunicipalRole.objects.filter(user=observer, municipality=municipality).exists()


def test_an_invitation_for_someone_else_says_so_before_any_form(
    page: Page, coordinator: User, municipality: Municipality, unit_b: Unit, manager_a: User
) -> None:
    _invitation, token = services.invitation_create(
        actor=coordinator,
        email="ny.chef@example.se",
        municipality=municipality,
        role=Role.MANAGER,
        unit=unit_b,
    )
    log_in(page, manager_a)
    page.goto(f"/invitations/accept/{token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbjudan gäller någon annan")
    expect(page.get_by_label(re.compile("Lösenord"))).to_have_count(0)
    page.get_by_role("button", name="Logga ut och fortsätt").click()
    expect(page.get_by_role("button", name="Logga ut")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/invitations/accept/{token}/$"))


def test_a_deactivated_account_is_told_what_to_do(page: Page, manager_a: User) -> None:
    manager_a.is_active = False
    manager_a.save()
    page.goto("/accounts/login/")
    page.get_by_label("E-postadress").fill(manager_a.email)
    page.get_by_label("Lösenord").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("main")).to_contain_text("Kontot är avstängt")
