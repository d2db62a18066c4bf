"""The board report (a PDF the worker renders, with a status the page polls) and the unit's
certificate (intyg) made when a round completes. The report's text is read back from the PDF and
must carry the dashboard's numbers, taken from the same Board."""

import datetime as dt
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from followup import followups
from followup.models import FollowUp
from jarfalla.celery import app
from rollout import board, charts, reports
from rollout import services as engine
from rollout.models import BoardReport, Certificate, ReportStatus, Rollout, RolloutStatus
from tests.factories import UnitFactory, make_manager
from tests.followup.test_followups import implement as implement_with_manager
from tests.rollout.test_board import TODAY, at, implement
from tests.rollout.test_board import world as world
from units.models import AuditEvent, Municipality, Unit, User


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def pdf_text(content: bytes) -> str:
    """All pages' text with whitespace collapsed: lines break wherever the layout put them."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def record(
    follow_up: FollowUp, actor: User, on: dt.date, *, lessons: str = "", share: bool = False
) -> None:
    with time_machine.travel(at(on), tick=False):
        followups.record(
            actor=actor,
            follow_up=follow_up,
            routine_in_use="yes",
            effect=4,
            support_needed="none",
            lessons=lessons,
            share_lessons=share,
        )


def tasks(callbacks: list[Any], name: str) -> int:
    """How many of the captured on-commit callbacks enqueue the task ``name``."""
    return sum(
        getattr(getattr(getattr(callback, "func", None), "__self__", None), "name", "") == name
        for callback in callbacks
    )


RENDER_REPORT = "rollout.render_board_report"
RENDER_CERTIFICATE = "rollout.render_certificate"


def follow_up(rollout: Rollout, months: int) -> FollowUp:
    return FollowUp.objects.get(rollout=rollout, offset_months=months)


@pytest.fixture
def report_world(
    world: dict[str, Unit],
    municipality: Municipality,
    other_municipality: Municipality,
    coordinator: User,
    other_coordinator: User,
) -> dict[str, Unit]:
    """test_board's units in every state, plus lessons from follow-ups: two shared ones in this
    municipality, one kept to the unit, one shared in another municipality."""
    sector = municipality.sectors.order_by("name").first()
    lessons = UnitFactory.create(
        municipality=municipality, name="Lärdomsskolan", sector=sector, headcount=10
    )
    second = UnitFactory.create(
        municipality=municipality, name="Andra förskolan", sector=sector, headcount=10
    )
    elsewhere = UnitFactory.create(municipality=other_municipality, name="Annanstans")
    with time_machine.travel(at(dt.date(2026, 2, 1)), tick=False):
        first_round = engine.rollout_start(actor=coordinator, unit=lessons)
        implement(first_round, coordinator, dt.date(2026, 2, 10))
        other_round = engine.rollout_start(actor=other_coordinator, unit=elsewhere)
        implement(other_round, other_coordinator, dt.date(2026, 2, 10))
    with time_machine.travel(at(dt.date(2026, 6, 1)), tick=False):
        second_round = engine.rollout_start(actor=coordinator, unit=second)
        implement(second_round, coordinator, dt.date(2026, 6, 10))
    record(
        follow_up(first_round, 6),
        coordinator,
        dt.date(2026, 8, 20),
        lessons="Korta rutiner fungerar bäst.",
        share=True,
    )
    record(
        follow_up(first_round, 12),
        coordinator,
        dt.date(2027, 2, 20),
        lessons="Inget att dela här.",
        share=False,
    )
    record(
        follow_up(second_round, 6),
        coordinator,
        dt.date(2026, 12, 15),
        lessons="Ta med skolsköterskan tidigt.",
        share=True,
    )
    record(
        follow_up(other_round, 6),
        other_coordinator,
        dt.date(2026, 8, 21),
        lessons="Annan kommuns lärdom.",
        share=True,
    )
    return {**world, "Lärdomsskolan": lessons, "Andra förskolan": second}


@pytest.fixture
def on_today(report_world: dict[str, Unit]) -> Iterator[None]:
    with time_machine.travel(at(TODAY), tick=False):
        yield


def requested(
    municipality: Municipality, actor: User, language: str = "sv", *, run: bool = True
) -> BoardReport:
    """A report asked for through the service; run: the task runs (tasks are eager here)."""
    report = reports.board_report_request(actor=actor, municipality=municipality, language=language)
    if run:
        reports.board_report_render(report_id=report.pk)
    report.refresh_from_db()
    return report


# --- The job ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_asking_twice_while_queued_or_rendering_returns_the_running_job(
    coordinator: User, municipality: Municipality, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as enqueued:
        first = reports.board_report_request(
            actor=coordinator, municipality=municipality, language="sv"
        )
        again = reports.board_report_request(
            actor=coordinator, municipality=municipality, language="sv"
        )
        BoardReport.objects.filter(pk=first.pk).update(status=ReportStatus.RENDERING)
        while_rendering = reports.board_report_request(
            actor=coordinator, municipality=municipality, language="sv"
        )
        english = reports.board_report_request(
            actor=coordinator, municipality=municipality, language="en"
        )
    assert again.pk == first.pk == while_rendering.pk
    assert english.pk != first.pk  # one running job per language
    assert tasks(enqueued, RENDER_REPORT) == 2
    assert BoardReport.objects.count() == 2
    assert list(
        AuditEvent.objects.filter(action="board_report.requested")
        .order_by("pk")
        .values_list("target_id", "municipality_id")
    ) == [(first.pk, municipality.pk), (english.pk, municipality.pk)]


@pytest.mark.django_db
def test_a_second_request_that_loses_the_race_gets_the_winners_job(
    coordinator: User,
    municipality: Municipality,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    winner = reports.board_report_request(
        actor=coordinator, municipality=municipality, language="sv"
    )
    # As if the other request inserted its job just after this one looked for a running job.
    monkeypatch.setattr(reports, "_running", lambda municipality, language: None)
    with django_capture_on_commit_callbacks() as enqueued:
        loser = reports.board_report_request(
            actor=coordinator, municipality=municipality, language="sv"
        )
    assert loser.pk == winner.pk
    assert tasks(enqueued, RENDER_REPORT) == 0
    assert BoardReport.objects.count() == 1


@pytest.mark.django_db
def test_a_stale_job_counts_as_failed_and_is_replaced(
    coordinator: User, municipality: Municipality, django_capture_on_commit_callbacks: Any
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        stale = reports.board_report_request(
            actor=coordinator, municipality=municipality, language="sv"
        )
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert (
            reports.board_report_request(
                actor=coordinator, municipality=municipality, language="sv"
            ).pk
            == stale.pk
        )
    with (
        time_machine.travel(start + dt.timedelta(minutes=16), tick=False),
        django_capture_on_commit_callbacks() as enqueued,
    ):
        fresh = reports.board_report_request(
            actor=coordinator, municipality=municipality, language="sv"
        )
    stale.refresh_from_db()
    assert fresh.pk != stale.pk
    assert fresh.status == ReportStatus.QUEUED
    assert stale.status == ReportStatus.FAILED
    assert stale.error == reports.STALE_ERROR
    assert tasks(enqueued, RENDER_REPORT) == 1
    # A late worker finds nothing to claim in the job given up.
    assert reports.board_report_render(report_id=stale.pk) == ""


@pytest.mark.django_db
def test_the_task_claims_the_job_once(coordinator: User, municipality: Municipality) -> None:
    report = requested(municipality, coordinator)
    assert report.status == ReportStatus.DONE
    assert report.file == f"reports/{municipality.pk}/{report.pk}.pdf"
    assert report.finished_at is not None
    # A redelivered message changes nothing.
    assert reports.board_report_render(report_id=report.pk) == ""


# --- The document ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_pdf_carries_the_dashboards_numbers_and_the_shared_lessons(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    on_today: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("rollout:reports", args=[municipality.pk]), {"language": "sv"}
        )
    report = BoardReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("rollout:report", args=[municipality.pk, report.pk])
    assert report.status == ReportStatus.DONE

    download = client.get(reverse("rollout:report_pdf", args=[municipality.pk, report.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert content == stored(report.file)
    text = pdf_text(content)

    with translation.override("sv"):
        the_board = board.board(municipality=municipality)
    rows = the_board.rows
    started = sum(row.started for row in rows)
    done = dict((stage, count) for stage, _label, count in the_board.funnel)["done"]
    reach = the_board.indicators.reach
    assert (len(rows), started, done, reach.percent) == (10, 7, 2, 24)  # the world, as built
    assert f"Kommunen har {len(rows)} aktiva enheter." in text
    assert f"{started} av dem har påbörjat modellen och {done} är klara med alla fyra steg." in text
    assert (
        f"{reach.percent} % av personalen i de aktiva enheterna har gått Webbkurs Heder "
        f"({reach.part} av {reach.whole} anställda)." in text
    )
    for _stage, label, count in the_board.funnel:
        assert f"{label} {count}" in text, label  # the funnel's table
    for item in charts.reach_chart(the_board)["bars"]:  # type: ignore[attr-defined]
        assert f"{item['bar'].label} {item['bar'].text}" in text  # reach per sector, as a table
    assert "Räckvidd (Reach)" in text
    assert "Vidmakthållande (Maintenance)" in text
    assert f"{reach.percent} % ({reach.part} av {reach.whole})" in text  # the indicator itself
    late = next(row for row in rows if row.name == "Försenad")
    assert late.due is not None
    assert f"Försenad {late.sector} Steg 4 Uppföljning Försenad" in text
    assert f"{late.due:%Y-%m-%d}" in text
    assert "Arkiverad" not in text
    assert "Annan kommun " not in text
    # Shared lessons of this municipality's units, newest first; the unshared one stays out.
    newer = text.index("Andra förskolan, 2026-12-15 Ta med skolsköterskan tidigt.")
    older = text.index("Lärdomsskolan, 2026-08-20 Korta rutiner fungerar bäst.")
    assert newer < older
    assert "Inget att dela här." not in text
    assert "Annan kommuns lärdom." not in text
    assert PdfReader(io.BytesIO(content)).metadata.title == (  # type: ignore[union-attr]
        f"Lägesrapport till nämnden – {municipality.name}"
    )


@pytest.mark.django_db
def test_an_english_report_has_english_headings(
    coordinator: User, municipality: Municipality, on_today: None
) -> None:
    report = requested(municipality, coordinator, "en")
    text = pdf_text(stored(report.file))
    # Strings of the English catalog: the unit table's columns and the funnel's stages.
    for english in ("Unit", "Sector", "Status", "Not started", "Done"):
        assert english in text, english
    assert "Inte påbörjad" not in text
    assert "Enhet Sektor" not in text
    with translation.override("en"):
        for heading in ("Var enheterna står", "Enheterna", "Lärdomar som enheterna delar"):
            assert translation.gettext(heading) in text
        assert translation.pgettext("board report", "Sammanfattning") in text


@pytest.mark.django_db
def test_a_failed_render_is_shown_in_words_with_a_retry(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def broken(html: str) -> bytes:
        raise RuntimeError("Pango saknas")

    monkeypatch.setattr(reports, "html_to_pdf", broken)
    report = requested(municipality, coordinator)
    assert report.status == ReportStatus.FAILED
    assert report.error == "RuntimeError: Pango saknas"
    assert report.finished_at is not None
    assert not report.file

    client.force_login(coordinator)
    page = client.get(reverse("rollout:report", args=[municipality.pk, report.pk]))
    html = page.content.decode()
    assert "Status: Misslyckades" in html
    assert "Rapporten kunde inte skapas." in html
    assert "Pango saknas" in html
    assert "hx-trigger" not in html  # nothing to poll any more
    assert f'action="{reverse("rollout:reports", args=[municipality.pk])}"' in html
    assert "Försök igen" in html
    assert (
        client.get(reverse("rollout:report_pdf", args=[municipality.pk, report.pk])).status_code
        == 404
    )

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        retry = client.post(reverse("rollout:reports", args=[municipality.pk]), {"language": "sv"})
    again = BoardReport.objects.exclude(pk=report.pk).get()
    assert retry["Location"] == reverse("rollout:report", args=[municipality.pk, again.pk])
    assert again.status == ReportStatus.DONE


@pytest.mark.django_db
def test_a_stale_job_shows_as_failed_and_an_unknown_language_falls_back_to_swedish(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        stale = requested(municipality, coordinator, run=False)
    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
        client.force_login(coordinator)
        html = client.get(reverse("rollout:report", args=[municipality.pk, stale.pk])).content
        listing = client.get(reverse("rollout:reports", args=[municipality.pk])).content
        retry = client.post(reverse("rollout:reports", args=[municipality.pk]), {"language": "xx"})
    page = html.decode()
    assert "Status: Misslyckades" in page
    assert "Den blev inte klar inom 15 minuter." in page
    assert "hx-trigger" not in page
    assert "<td>Misslyckades</td>" in listing.decode()
    fresh = BoardReport.objects.exclude(pk=stale.pk).get()
    assert retry["Location"] == reverse("rollout:report", args=[municipality.pk, fresh.pk])
    assert fresh.language == "sv"


# --- Who may see and ask -----------------------------------------------------------------------


@pytest.mark.django_db
def test_observers_download_but_may_not_ask_for_a_report(
    client: Client, coordinator: User, observer: User, municipality: Municipality
) -> None:
    report = requested(municipality, coordinator)
    client.force_login(observer)
    listing = client.get(reverse("rollout:reports", args=[municipality.pk]))
    html = listing.content.decode()
    pdf_url = reverse("rollout:report_pdf", args=[municipality.pk, report.pk])
    assert listing.status_code == 200
    assert f'href="{pdf_url}"' in html
    assert "Skapa rapport" not in html
    download = client.get(pdf_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    refused = client.post(reverse("rollout:reports", args=[municipality.pk]), {"language": "en"})
    assert refused.status_code == 403
    assert BoardReport.objects.count() == 1


@pytest.mark.django_db
def test_another_municipalitys_report_is_not_found(
    client: Client,
    coordinator: User,
    other_coordinator: User,
    municipality: Municipality,
    other_municipality: Municipality,
) -> None:
    theirs = requested(other_municipality, other_coordinator)
    client.force_login(coordinator)
    for name in ("rollout:report", "rollout:report_pdf"):
        # Their report under our municipality, and under theirs.
        for pk in (municipality.pk, other_municipality.pk):
            assert client.get(reverse(name, args=[pk, theirs.pk])).status_code == 404
    assert client.get(reverse("rollout:reports", args=[other_municipality.pk])).status_code == 404


@pytest.mark.django_db
def test_the_pdf_is_not_found_until_the_job_is_done(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    report = requested(municipality, coordinator, run=False)
    client.force_login(coordinator)
    url = reverse("rollout:report_pdf", args=[municipality.pk, report.pk])
    assert client.get(url).status_code == 404
    BoardReport.objects.filter(pk=report.pk).update(status=ReportStatus.RENDERING)
    assert client.get(url).status_code == 404
    BoardReport.objects.filter(pk=report.pk).update(status=ReportStatus.QUEUED)
    reports.board_report_render(report_id=report.pk)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_htmx_polls_only_the_status_block(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    report = requested(municipality, coordinator, run=False)
    client.force_login(coordinator)
    url = reverse("rollout:report", args=[municipality.pk, report.pk])

    page = client.get(url).content.decode()
    assert page.startswith("<!DOCTYPE html>")
    assert '<div aria-live="polite">' in page
    assert 'hx-trigger="every 2s"' in page
    assert 'hx-swap="outerHTML"' in page
    assert f'<a href="{url}">Uppdatera</a>' in page  # works without JavaScript
    assert "http-equiv" not in page

    partial = client.get(url, headers={"HX-Request": "true"}).content.decode().strip()
    assert partial.startswith('<div id="report-status"')
    assert partial.endswith("</div>")
    assert "<html" not in partial
    assert "<h1" not in partial
    assert f'hx-get="{url}?sett=queued"' in partial
    assert "Status: I kö" in partial
    # Nothing new since the last poll: htmx leaves the block alone.
    unchanged = client.get(f"{url}?sett=queued", headers={"HX-Request": "true"})
    assert unchanged.status_code == 204

    reports.board_report_render(report_id=report.pk)
    finished = client.get(f"{url}?sett=queued", headers={"HX-Request": "true"})
    block = finished.content.decode()
    assert finished.status_code == 200
    assert "Status: Klar" in block
    assert "hx-get" not in block  # polling stops
    assert reverse("rollout:report_pdf", args=[municipality.pk, report.pk]) in block


@pytest.mark.django_db
def test_the_report_list_pages_and_keeps_its_queries_bounded(
    client: Client,
    coordinator: User,
    observer: User,
    municipality: Municipality,
    django_assert_max_num_queries: Any,
) -> None:
    def done(count: int, by: User) -> None:
        BoardReport.objects.bulk_create(
            BoardReport(
                municipality=municipality,
                language="sv",
                status=ReportStatus.DONE,
                requested_by=by,
                file=f"reports/{municipality.pk}/{number}.pdf",
            )
            for number in range(count)
        )

    client.force_login(coordinator)
    url = reverse("rollout:reports", args=[municipality.pk])
    done(2, coordinator)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    done(23, observer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = client.get(url)
    assert len(first.context["page"].object_list) == 20
    assert "Sida 1 av 2" in first.content.decode()
    assert len(client.get(url, {"page": 2}).context["page"].object_list) == 5
    assert client.get(url, {"page": "x"}).status_code == 200


# --- The certificate -------------------------------------------------------------------------


def completed_round(unit: Unit, manager: User, coordinator: User) -> Rollout:
    with time_machine.travel(at(dt.date(2026, 1, 12)), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit)
        implement_with_manager(rollout, manager, coordinator, dt.date(2026, 1, 20))
    record(follow_up(rollout, 6), coordinator, dt.date(2026, 7, 21))
    assert not Certificate.objects.exists()
    record(follow_up(rollout, 12), coordinator, dt.date(2027, 1, 22))
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.COMPLETED
    return rollout


@pytest.mark.django_db
def test_the_certificate_is_made_when_the_last_follow_up_is_recorded(
    client: Client,
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        rollout = completed_round(unit_a, manager_a, coordinator)
    certificate = Certificate.objects.get(rollout=rollout)
    assert certificate.file == f"certificates/{rollout.pk}.pdf"
    text = pdf_text(stored(certificate.file))
    assert "Intyg" in text
    assert f"{unit_a.name} har genomfört alla fyra steg i" in text
    assert unit_a.municipality.name in text
    assert "Steg 1: Webbkurs Heder 2026-01-12" in text
    assert "Steg 4: Uppföljning 2027-01-22" in text
    assert "infördes 2026-01-20" in text
    assert f"Utfärdat {timezone.localdate(certificate.created_at):%Y-%m-%d}" in text

    client.force_login(manager_a)
    response = client.get(reverse("rollout:certificate", args=[unit_a.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="intyg-{unit_a.pk}-omgang-1.pdf"' in response["Content-Disposition"]
    unit_page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert f'href="{reverse("rollout:certificate", args=[unit_a.pk])}">Ladda ned intyg' in unit_page


@pytest.mark.django_db
def test_no_certificate_for_a_unit_that_never_completed_a_round(
    client: Client, coordinator: User, unit_a: Unit, unit_b: Unit
) -> None:
    engine.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(coordinator)
    for unit in (unit_a, unit_b):
        assert client.get(reverse("rollout:certificate", args=[unit.pk])).status_code == 404


@pytest.mark.django_db
def test_the_certificate_page_waits_while_the_worker_makes_it(
    client: Client,
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Completed without the task running (as for rounds completed before certificates existed).
    rollout = completed_round(unit_a, manager_a, coordinator)
    client.force_login(manager_a)
    url = reverse("rollout:certificate", args=[unit_a.pk])
    with django_capture_on_commit_callbacks() as enqueued:
        pending = client.get(url)
    assert pending.status_code == 202
    html = pending.content.decode()
    assert "Intyget skapas" in html
    assert f'<a href="{url}">Uppdatera</a>' in html
    assert tasks(enqueued, RENDER_CERTIFICATE) == 1

    # The worker has made the row and is rendering: the page waits without asking again.
    certificate = Certificate.objects.create(rollout=rollout)
    with django_capture_on_commit_callbacks() as enqueued:
        assert client.get(url).status_code == 202
    assert tasks(enqueued, RENDER_CERTIFICATE) == 0

    # The worker finishes.
    Certificate.objects.filter(pk=certificate.pk).delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(url).status_code == 202
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_certificate_follows_the_latest_completed_round(
    client: Client,
    coordinator: User,
    unit_b: Unit,
    django_capture_on_commit_callbacks: Any,
) -> None:
    manager = make_manager(unit_b)
    with django_capture_on_commit_callbacks(execute=True):
        first = completed_round(unit_b, manager, coordinator)
    with time_machine.travel(at(dt.date(2027, 3, 1)), tick=False):
        engine.rollout_start(actor=coordinator, unit=unit_b)  # a new round, still open
    client.force_login(coordinator)
    response = client.get(reverse("rollout:certificate", args=[unit_b.pk]))
    assert response.status_code == 200
    assert f"omgang-{first.round}.pdf" in response["Content-Disposition"]


# --- Through a real worker ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_renders_a_requested_report(
    coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    """Service → broker → worker → PDF in storage, the path production takes (Redis in CI)."""
    app.conf.task_always_eager = False  # through the broker, not in-process
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        report = reports.board_report_request(
            actor=coordinator, municipality=municipality, language="sv"
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            report.refresh_from_db()
            if not report.is_running:
                break
            time.sleep(0.3)
    assert report.status == ReportStatus.DONE, report.error
    assert "Kommunen har 1 aktiv enhet." in pdf_text(stored(report.file))


@pytest.mark.django_db
def test_html_and_pdf_can_be_rendered_apart_for_the_bench(
    coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    """The bench (jarfalla/bench/tasks.py) times the whole render against WeasyPrint alone on
    the same HTML, calling these with the municipality only."""
    html = reports.render_board_report_html(municipality)
    assert html.startswith("<!DOCTYPE html>")
    assert unit_a.name in html
    alone = reports.html_to_pdf(html)
    whole = reports.render_board_report_pdf(municipality)
    assert alone.startswith(b"%PDF")
    assert whole.startswith(b"%PDF")
    assert pdf_text(alone) == pdf_text(whole)


@pytest.mark.django_db
def test_the_report_builds_in_a_bounded_number_of_queries(
    coordinator: User, municipality: Municipality
) -> None:
    def started(count: int) -> None:
        for _number in range(count):
            engine.rollout_start(
                actor=coordinator, unit=UnitFactory.create(municipality=municipality)
            )

    started(3)
    with CaptureQueriesContext(connection) as few:
        reports.board_report_html(municipality=municipality, language="sv")
    started(60)
    with CaptureQueriesContext(connection) as many:
        reports.board_report_html(municipality=municipality, language="sv")
    assert len(many.captured_queries) == len(few.captured_queries)
