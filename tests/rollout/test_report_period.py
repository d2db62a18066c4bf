"""A board report (nämndrapport) is written for a period: the coordinator chooses it (the last
twelve months unless they say otherwise), the report keeps it, the lessons and what happened
follow it, and every section says which period or which day it covers."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rollout import board
from rollout.models import BoardReport, ReportStatus
from tests.rollout.test_board import TODAY
from tests.rollout.test_board import world as world
from tests.rollout.test_reports import _media as _media
from tests.rollout.test_reports import on_today as on_today
from tests.rollout.test_reports import pdf_text, stored
from tests.rollout.test_reports import report_world as report_world
from units.models import Municipality, User


def ask(
    client: Client, municipality: Municipality, capture: Any, **period: str
) -> tuple[Any, BoardReport | None]:
    with capture(execute=True):
        response = client.post(
            reverse("rollout:reports", args=[municipality.pk]), {"language": "sv", **period}
        )
    return response, BoardReport.objects.order_by("-pk").first()


@pytest.mark.django_db
def test_the_form_offers_the_last_twelve_months(
    client: Client, coordinator: User, municipality: Municipality, on_today: None
) -> None:
    client.force_login(coordinator)
    html = client.get(reverse("rollout:reports", args=[municipality.pk])).content.decode()
    assert '<label class="form-label" for="id_period_start">Periodens första dag' in html
    assert '<label class="form-label" for="id_period_end">Periodens sista dag' in html
    assert 'name="period_start" value="2026-03-16"' in html  # TODAY is 2027-03-15
    assert 'name="period_end" value="2027-03-15"' in html


@pytest.mark.django_db
def test_the_lessons_and_what_happened_follow_the_reports_period(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    on_today: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(coordinator)
    response, report = ask(
        client,
        municipality,
        django_capture_on_commit_callbacks,
        period_start="2026-07-01",
        period_end="2026-09-30",
    )
    assert report is not None
    assert response.status_code == 302
    assert (report.period_start, report.period_end) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert report.status == ReportStatus.DONE
    text = pdf_text(stored(report.file))

    assert "Perioden 2026-07-01 – 2026-09-30" in text
    # Held in the period and shared; the one held in December is outside it.
    assert "Lärdomsskolan, 2026-08-20 Korta rutiner fungerar bäst." in text
    assert "Ta med skolsköterskan tidigt." not in text
    lessons = text.index("Lärdomar som enheterna delar")
    assert "Perioden 2026-07-01 – 2026-09-30" in text[lessons : lessons + 200]
    # The state of the units is today's, and says so.
    units = text.index("Var enheterna står")
    assert "Läget den 2027-03-15" in text[units : units + 200]

    # What happened in the period, from the same Board as the dashboard.
    rows = board.board(municipality=municipality).rows
    period = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))

    def within(day: dt.date | None) -> bool:
        return day is not None and period[0] <= day <= period[1]

    held = sum(within(held_on) for row in rows for _m, _due, held_on, *_ in row.follow_ups)
    started = sum(within(row.started_on) for row in rows)
    assert held >= 1  # Lärdomsskolan's, on 2026-08-20
    assert "Under perioden" in text
    assert f"Uppföljningar som hölls: {held}" in text
    assert f"Enheter som påbörjade modellen: {started}" in text


@pytest.mark.django_db
def test_the_lessons_of_the_whole_default_period_are_kept(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    on_today: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A request without a period (a hand-made one, or the old form) gets the last 12 months."""
    client.force_login(coordinator)
    _response, report = ask(client, municipality, django_capture_on_commit_callbacks)
    assert report is not None
    assert (report.period_start, report.period_end) == (dt.date(2026, 3, 16), TODAY)
    text = pdf_text(stored(report.file))
    assert "Ta med skolsköterskan tidigt." in text
    assert "Korta rutiner fungerar bäst." in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-10-01", "2026-09-30", "Periodens första dag måste vara före den sista."),
        ("2026-10-01", "2027-04-01", "Perioden kan inte sluta efter i dag."),
        ("inte ett datum", "2027-03-01", "Ange ett giltigt datum."),
    ],
)
def test_an_impossible_period_is_refused_with_an_error_summary(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    on_today: None,
    django_capture_on_commit_callbacks: Any,
    start: str,
    end: str,
    message: str,
) -> None:
    client.force_login(coordinator)
    response, report = ask(
        client, municipality, django_capture_on_commit_callbacks, period_start=start, period_end=end
    )
    assert response.status_code == 200
    assert report is None
    html = response.content.decode()
    assert 'class="alert alert-danger error-summary" role="alert"' in html
    assert message in html


@pytest.mark.django_db
def test_the_list_and_the_job_page_say_which_period_a_report_covers(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    on_today: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(coordinator)
    _response, report = ask(
        client,
        municipality,
        django_capture_on_commit_callbacks,
        period_start="2026-01-01",
        period_end="2026-12-31",
    )
    assert report is not None
    listing = client.get(reverse("rollout:reports", args=[municipality.pk])).content.decode()
    assert '<th scope="col">Period</th>' in listing
    assert "<td>2026-01-01 – 2026-12-31</td>" in listing
    detail = client.get(reverse("rollout:report", args=[municipality.pk, report.pk]))
    assert "2026-01-01 – 2026-12-31" in detail.content.decode()
