"""The people page with invitations whose mail could not be sent, in a real browser with axe:
the summary at the top says how many in words and leads to the list, where they come first."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.test_invitation_flow import log_in_with_second_factor
from units import services
from units.models import Invitation, Municipality, Role, User

pytestmark = pytest.mark.browser


def test_the_summary_leads_to_the_failed_invitations_first_in_the_list(
    page: Page, coordinator: User, municipality: Municipality
) -> None:
    for address in ("nekad@kommun.se", "ko@kommun.se"):
        services.invitation_create(
            actor=coordinator, email=address, municipality=municipality, role=Role.OBSERVER
        )
    Invitation.objects.filter(email="nekad@kommun.se").update(
        sent_at=None, send_failed_at=timezone.now(), send_error="550 5.1.1 No such user"
    )
    log_in_with_second_factor(page, coordinator)
    page.goto(f"/municipalities/{municipality.pk}/people/")
    summary = page.locator(".alert-warning")
    expect(summary).to_contain_text(
        "Inbjudningar som inte kunde skickas: 1 inbjudan kunde inte skickas."
    )
    summary.get_by_role("link", name="Till listan över väntande inbjudningar").click()
    expect(page).to_have_url(re.compile(r"/people/#invitations-heading$"))
    pending = page.get_by_role("region", name="Väntande inbjudningar").get_by_role("listitem")
    expect(pending.first).to_contain_text("nekad@kommun.se")
    expect(pending.first).to_contain_text("Kunde inte skickas")
