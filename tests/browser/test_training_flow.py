"""Issue 5's walk-through in a real browser, axe on every page: the manager picks themes, the
coordinator books a session (the manager gets a calendar invitation), moves it (same UID, higher
SEQUENCE), records it as held and closes step 2; the next action asks for routines."""

import datetime as dt
import re

import icalendar
import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from rollout import services as engine
from rollout.models import Step
from tests.browser.test_invitation_flow import log_in_with_second_factor
from tests.factories import DEFAULT_PASSWORD
from training.models import TrainingSession
from units.models import Unit, User

pytestmark = pytest.mark.browser


def invitation(index: int) -> icalendar.cal.Component:
    message = mail.outbox[index]
    assert isinstance(message, mail.EmailMultiAlternatives)
    content = next(
        str(c) for c, mimetype in message.alternatives if mimetype.startswith("text/calendar")
    )
    return icalendar.Calendar.from_ical(content).walk("VEVENT")[0]


def fill_booking(page: Page, day: dt.date, time: str) -> None:
    page.get_by_label("Datum").fill(day.isoformat())
    page.get_by_label("Starttid").fill(time)
    page.get_by_label("Plats").fill("Personalrummet, plan 2")
    page.get_by_label("Väntat antal deltagare").fill("18")


def test_themes_booking_moving_held_and_step_2_done(
    page: Page, browser: Browser, live_server, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)

    context = browser.new_context(base_url=live_server.url)
    manager = context.new_page()
    try:
        manager.goto("/accounts/login/")
        manager.get_by_label("E-postadress").fill(manager_a.email)
        manager.get_by_label("Lösenord").fill(DEFAULT_PASSWORD)
        manager.get_by_role("button", name="Logga in").click()
        manager.goto(f"/units/{unit_a.pk}/utbildning/")
        manager.get_by_label("Tecken och tidig upptäckt").check()
        manager.get_by_label("Förslag på datum och tider").fill("tisdagar efter 15")
        manager.get_by_role("button", name="Spara önskemålen").click()
        expect(manager.get_by_role("status")).to_contain_text("Önskemålen är sparade.")
    finally:
        context.close()

    log_in_with_second_factor(page, coordinator)
    page.goto(f"/units/{unit_a.pk}/utbildning/")
    expect(page.get_by_text("Förslag på datum: tisdagar efter 15")).to_be_visible()
    page.get_by_role("link", name="Boka tillfälle").click()
    expect(page.get_by_label("Tecken och tidig upptäckt")).to_be_checked()  # the unit's wish
    first_day = timezone.localdate() + dt.timedelta(days=14)
    fill_booking(page, first_day, "13:00")
    page.get_by_role("button", name="Boka och skicka inbjudan").click()
    expect(page.get_by_role("status")).to_contain_text("Tillfället är bokat")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [manager_a.email]
    booked = invitation(0)
    assert booked.decoded("SEQUENCE") == 0

    page.get_by_role("link", name=re.compile("^Ändra")).click()
    second_day = first_day + dt.timedelta(days=2)
    fill_booking(page, second_day, "09:30")
    page.get_by_role("button", name="Spara och skicka uppdatering").click()
    expect(page.get_by_role("status")).to_contain_text("Tillfället är ändrat")
    moved = invitation(1)
    assert str(moved["UID"]) == str(booked["UID"])
    assert moved.decoded("SEQUENCE") == 1
    assert moved.decoded("DTSTART").date() == second_day

    # The session takes place; afterwards the coordinator records it.
    TrainingSession.objects.update(starts_at=timezone.now() - dt.timedelta(hours=3))
    page.reload()
    page.get_by_role("link", name=re.compile("^Registrera som genomfört")).click()
    page.get_by_label("Antal deltagare").fill("16")
    page.get_by_label("4", exact=True).check()
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status")).to_contain_text("registrerat som genomfört")
    page.get_by_role("button", name="Markera steg 2 som klart").click()
    expect(page.get_by_role("status")).to_contain_text("Steg 2 är klart.")
    expect(page.locator('[aria-current="step"]')).to_contain_text("Steg 3: Rutiner")
    # The unit page's next thing to do, which the confirmation repeats as a link.
    expect(page.locator(".next-action").get_by_role("link", name="Skriv rutinen")).to_be_visible()
    expect(page.get_by_role("status").get_by_role("link", name="Skriv rutinen")).to_be_visible()

    page.goto("/utbildning/vecka/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Utbildningar vecka")
    page.goto("/utbildning/kalender/")
    page.get_by_role("button", name="Skapa kalenderadress").click()
    expect(page.get_by_label("Din privata kalenderadress")).to_have_value(
        re.compile(r"/utbildning/kalender/.+\.ics$")
    )
    page.goto(f"/municipalities/{unit_a.municipality_id}/teman/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Teman för riktad utbildning")
