"""Inviting unit managers from a file, in a real browser with axe on every page: the page, a file
refused, the preview with row errors, the preview of a good file and the people page after it."""

import re

import pytest
from django.core import mail
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.test_invitation_flow import log_in_with_second_factor
from units.models import Invitation, Municipality, Unit, User

pytestmark = pytest.mark.browser

HEADER = "enhet;e-post"


def choose_file(page: Page, *lines: str) -> None:
    content = "\r\n".join(lines).encode("utf-8")
    file = FilePayload(name="chefer.csv", mimeType="text/csv", buffer=content)
    page.get_by_label("CSV-fil med enhetschefer").set_input_files(files=[file])
    page.get_by_role("button", name="Förhandsgranska").click()


def test_the_coordinator_previews_corrects_and_sends_invitations(
    page: Page,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
    manager_a: User,
) -> None:
    log_in_with_second_factor(page, coordinator)
    page.goto(f"/municipalities/{municipality.pk}/people/")
    page.get_by_role("link", name="Bjud in enhetschefer från fil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bjud in enhetschefer från fil")
    expect(page.get_by_role("link", name="Ladda ner mallen (CSV)")).to_be_visible()

    choose_file(page, "enhet;namn", "Kvarnskolan;Kim")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Filen saknar kolumnen e-post")
    summary.get_by_role("link").click()
    expect(page.get_by_label("CSV-fil med enhetschefer")).to_be_focused()

    choose_file(page, HEADER, "Kvarnskolan;ny.chef@kommun.se", "Kvarnen;annan@kommun.se")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Kontrollera inbjudningarna innan du skickar dem"
    )
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("1 rad har fel")
    expect(summary.get_by_role("link")).to_contain_text(
        "Rad 3: Enhet: Enheten ”Kvarnen” finns inte"
    )
    expect(page.get_by_role("button", name=re.compile("Skicka"))).to_have_count(0)

    choose_file(
        page,
        HEADER,
        "Kvarnskolan;ny.chef@kommun.se",
        "solrosens förskola;ny.chef@kommun.se",
        f"Solrosens förskola;{manager_a.email}",
    )
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows.filter(has_text=manager_a.email)).to_contain_text("Redan enhetschef – hoppas över")
    expect(rows.filter(has_text="Kvarnskolan")).to_contain_text("Inbjudan skickas")
    page.get_by_role("button", name="Skicka 2 inbjudningar").click()

    expect(page).to_have_url(re.compile(f"/municipalities/{municipality.pk}/people/$"))
    expect(page.get_by_role("status")).to_contain_text("2 inbjudningar skickas.")
    pending = page.get_by_role("region", name="Väntande inbjudningar").get_by_role("listitem")
    expect(pending.filter(has_text="ny.chef@kommun.se")).to_have_count(2)
    assert Invitation.objects.filter(email="ny.chef@kommun.se").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ny.chef@kommun.se"] * 2
