"""Issue 8's walk-through on the demo data, as a new user would do it: the coordinator sees the
funnel and what needs attention, follows the link to the overdue follow-up, filters the table
to one sector and downloads it as Excel; the observer reads the indicators and can change
nothing; the board report's text carries the dashboard's numbers."""

import io
import re
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from rollout.models import BoardReport, ReportStatus
from tests.rollout.test_reports import pdf_text
from units.models import Municipality, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings: Any) -> Municipality:
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    return Municipality.objects.get(slug="demo")


def test_the_coordinator_the_observer_and_the_board_report(
    client: Client, demo: Municipality, django_capture_on_commit_callbacks: Any
) -> None:
    coordinator = User.objects.get(email="samordnare@demo.example")
    client.force_login(coordinator)
    start = client.get("/", follow=True)
    assert start.redirect_chain[-1][0] == reverse("rollout:dashboard", args=[demo.pk])
    html = start.content.decode()
    context = start.context
    assert "Var enheterna står" in html
    assert "Försenade uppföljningar" in html
    overdue = next(group for group in context["attention"] if group["kind"] == "overdue_follow_ups")
    link = overdue["items"][0]["url"]
    assert re.fullmatch(r"/units/\d+/uppfoljning/", link)
    follow_up_page = client.get(link)
    assert follow_up_page.status_code == 200
    assert "uppföljningen efter 6 månader" in html

    sector = demo.sectors.get(name="Förskola")
    table = client.get(reverse("rollout:unit_table", args=[demo.pk]), {"sektor": sector.pk})
    shown = [row.name for row in table.context["page"].object_list]
    assert shown
    assert set(shown) == set(
        demo.units.filter(sector=sector, is_active=True).values_list("name", flat=True)
    )
    export = client.get(
        reverse("rollout:unit_table_export", args=[demo.pk, "xlsx"]), {"sektor": sector.pk}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    assert sorted(row[0].value for row in sheet.iter_rows(min_row=2)) == sorted(shown)

    # The board report, rendered by the worker (in-process here), says what the dashboard says.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("rollout:reports", args=[demo.pk]), {"language": "sv"})
    report = BoardReport.objects.get(municipality=demo)
    assert report.status == ReportStatus.DONE
    pdf = client.get(reverse("rollout:report_pdf", args=[demo.pk, report.pk]))
    text = pdf_text(b"".join(pdf.streaming_content))  # type: ignore[attr-defined]
    total, started, done = (context[k] for k in ("units_total", "units_started", "units_done"))
    assert f"Kommunen har {total} aktiva enheter." in text
    assert f"{started} av dem har påbörjat modellen och {done} är klara med alla fyra steg." in text
    for _stage, label, count in context["board"].funnel:
        assert f"{label} {count}" in text

    observer = User.objects.get(email="fou@demo.example")
    client.force_login(observer)
    indicators = client.get(reverse("rollout:indicators", args=[demo.pk]))
    assert indicators.status_code == 200
    assert "Räckvidd (Reach)" in indicators.content.decode()
    refused = [
        client.post(reverse("rollout:reports", args=[demo.pk]), {"language": "sv"}),
        client.post(reverse("rollout:intervention_create", args=[demo.pk]), {"name": "x"}),
        client.post(reverse("units:create", args=[demo.pk]), {"name": "x"}),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert BoardReport.objects.filter(municipality=demo).count() == 1
