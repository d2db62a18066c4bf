"""Step 4 in a real browser, axe on every page: book the 6-month follow-up, record it, and the
coordinator's notification settings and outbox."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from rollout import services as engine
from tests.browser.test_invitation_flow import log_in_with_second_factor
from tests.followup.test_followups import implement
from units.models import Unit, User

pytestmark = pytest.mark.browser


def test_book_and_record_a_follow_up(
    page: Page, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    implement(rollout, manager_a, coordinator, timezone.localdate() - dt.timedelta(days=170))
    log_in_with_second_factor(page, coordinator)
    page.goto(f"/units/{unit_a.pk}/")
    page.get_by_role("link", name="Steg 4: Uppföljning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Steg 4: Uppföljning")
    page.get_by_role("link", name=re.compile("^Boka – Efter 6 månader")).click()
    day = timezone.localdate() + dt.timedelta(days=5)
    page.get_by_label("Datum").fill(day.isoformat())
    page.get_by_label("Tid").fill("14:00")
    page.get_by_label("Möte").check()
    page.get_by_label("Plats, telefonnummer eller länk").fill("Förskolans personalrum")
    page.get_by_role("button", name="Boka och skicka inbjudan").click()
    expect(page.get_by_role("status")).to_contain_text("Uppföljningen är bokad")
    page.get_by_role("link", name=re.compile("^Registrera uppföljningen – Efter 6 månader")).click()
    page.get_by_label("Delvis").check()
    page.get_by_label("Antal gånger rutinen använts").fill("2")
    page.get_by_label("Antal konsultationer med socialtjänsten").fill("1")
    page.get_by_label("Antal orosanmälningar").fill("0")
    page.get_by_label("Handledning").check()
    page.get_by_label("Effekt (1–5)").fill("4")
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status")).to_contain_text("Uppföljningen är registrerad.")
    expect(page.get_by_text("Behov av stöd: Handledning")).to_be_visible()

    page.goto("/konto/aviseringar/")
    page.get_by_label("En gång i veckan (måndagar)").check()
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status")).to_contain_text("aviseringsinställningar är sparade")
    page.goto(f"/municipalities/{unit_a.municipality_id}/utskick/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Utskick")
    expect(page.get_by_role("cell", name=manager_a.email).first).to_be_visible()
