"""Step 1: reports of how many have taken Webbkurs Heder, and closing the step."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rollout import services as engine
from rollout.models import Rollout, Step, StepState, StepStatus, TimelineEvent
from training.models import WebCourseReport
from units.models import AuditEvent, Unit, User


@pytest.fixture
def rollout(coordinator: User, unit_a: Unit) -> Rollout:
    return engine.rollout_start(actor=coordinator, unit=unit_a)


def report(**overrides) -> dict:
    data = {
        "reported_on": timezone.localdate().isoformat(),
        "completed_count": "8",
        "mode": "groups",
        "group_sessions": "2",
        "knowledge_level": "3",
        "reflections": "Vi vill veta mer om samtal med föräldrar.",
        "new_headcount": "",
    }
    return data | overrides


@pytest.mark.django_db
def test_manager_reports_twice_and_the_share_rises(
    client: Client, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])
    assert "0 av 20 anställda har gått kursen (0 %)" in client.get(url).content.decode()
    assert client.post(url, report(completed_count="8")).status_code == 302
    assert "8 av 20 anställda har gått kursen (40 %)" in client.get(url).content.decode()
    client.post(url, report(completed_count="9", mode="mixed"))
    page = client.get(url).content.decode()
    assert "17 av 20 anställda har gått kursen (85 %)" in page
    assert "Markera steg 1 som klart" in page
    assert WebCourseReport.objects.filter(rollout=rollout).count() == 2
    event = TimelineEvent.objects.filter(kind="web_course.reported").first()
    assert event is not None
    assert event.params == {"completed": 9, "total": 17, "headcount": 20}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            # Worked out when the test runs, not when it is collected (which may be before
            # midnight in Stockholm, when "tomorrow" is today by the time the test posts).
            {"reported_on": lambda: (timezone.localdate() + dt.timedelta(days=1)).isoformat()},
            "Datumet kan inte ligga i framtiden.",
        ),
        ({"completed_count": "-1"}, "större än eller lika med 0"),
        ({"knowledge_level": "6"}, "Välj ett giltigt alternativ"),
        ({"completed_count": "21"}, "Uppdatera antalet anställda i samma formulär"),
        ({"reflections": "Eleven 811218-9876 berättade"}, "personnummer"),
        ({"mode": ""}, "Detta fält måste fyllas i."),
    ],
)
def test_bad_reports_are_explained(
    client: Client, manager_a: User, unit_a: Unit, rollout: Rollout, overrides: dict, message: str
) -> None:
    client.force_login(manager_a)
    overrides = {key: value() if callable(value) else value for key, value in overrides.items()}
    response = client.post(reverse("training:web_course", args=[unit_a.pk]), report(**overrides))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Formuläret innehåller fel" in html
    assert message in html
    assert not WebCourseReport.objects.exists()


@pytest.mark.django_db
def test_more_than_headcount_is_accepted_with_a_new_headcount(
    client: Client, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    client.force_login(manager_a)
    response = client.post(
        reverse("training:web_course", args=[unit_a.pk]),
        report(completed_count="24", new_headcount="25"),
    )
    assert response.status_code == 302
    unit_a.refresh_from_db()
    assert unit_a.headcount == 25
    assert AuditEvent.objects.filter(action="unit.changed", unit=unit_a).exists()


@pytest.mark.django_db
def test_manager_may_close_step_1_only_at_the_threshold(
    client: Client, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    client.force_login(manager_a)
    complete = reverse("training:web_course_complete", args=[unit_a.pk])
    client.post(reverse("training:web_course", args=[unit_a.pk]), report(completed_count="10"))
    refused = client.post(complete, follow=True)
    assert "när 80 % av personalen har gått kursen" in refused.content.decode()
    assert (
        StepState.objects.get(rollout=rollout, step=Step.WEB_COURSE).status
        == StepStatus.IN_PROGRESS
    )
    client.post(reverse("training:web_course", args=[unit_a.pk]), report(completed_count="6"))
    assert client.post(complete).status_code == 302
    assert StepState.objects.get(rollout=rollout, step=Step.WEB_COURSE).status == StepStatus.DONE
    # A repeated POST (second tab, back button) completes nothing twice.
    client.post(complete)
    assert TimelineEvent.objects.filter(kind="step.completed", step=1).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("threshold", "headcount", "completed", "shown", "may_close"),
    [
        (57, 100, 57, "57 %", True),  # 57 / 100 * 100 is 56.99999999999999 in floating point
        (29, 100, 29, "29 %", True),
        (80, 1000, 799, "79 %", False),  # not "80 %" when 80 % is not reached
        (80, 1000, 800, "80 %", True),
    ],
)
def test_the_page_and_the_service_agree_on_the_threshold(
    client: Client,
    manager_a: User,
    unit_a: Unit,
    rollout: Rollout,
    threshold: int,
    headcount: int,
    completed: int,
    shown: str,
    may_close: bool,
) -> None:
    from training import services

    unit_a.municipality.web_course_threshold_percent = threshold
    unit_a.municipality.save()
    unit_a.headcount = headcount
    unit_a.save()
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])
    assert client.post(url, report(completed_count=str(completed))).status_code == 302
    page = client.get(url).content.decode()
    assert f"av {headcount} anställda har gått kursen ({shown})." in page
    assert ("Markera steg 1 som klart" in page) is may_close
    rollout.refresh_from_db()
    assert services.may_complete(rollout=rollout, is_coordinator=False) is may_close


@pytest.mark.django_db
def test_coordinator_may_close_step_1_at_any_time(
    client: Client, coordinator: User, unit_a: Unit, rollout: Rollout
) -> None:
    client.force_login(coordinator)
    client.post(reverse("training:web_course_complete", args=[unit_a.pk]))
    assert StepState.objects.get(rollout=rollout, step=Step.WEB_COURSE).status == StepStatus.DONE


@pytest.mark.django_db
def test_unit_page_shows_step_2_and_the_coordinators_next_action(
    client: Client, coordinator: User, unit_a: Unit, rollout: Rollout
) -> None:
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    client.force_login(coordinator)
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert "Boka riktad utbildning" in page
    assert "ansvarig: samordnare" in page
    assert 'aria-current="step"' in page
    assert "Aktuellt steg: Pågår" in page
    assert "Steget markerades som klart." in page


@pytest.mark.django_db
def test_no_reports_when_step_1_is_not_under_way(
    client: Client, manager_a: User, unit_a: Unit
) -> None:
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])
    page = client.get(url).content.decode()
    assert "Enheten har inte börjat arbeta med modellen ännu." in page
    response = client.post(url, report(), follow=True)
    assert "Steg 1 är inte pågående" in response.content.decode()
    assert not WebCourseReport.objects.exists()


@pytest.mark.django_db
def test_earlier_reports_come_a_page_at_a_time_newest_first(
    client: Client, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    from training import services
    from training.views import REPORTS_PER_PAGE

    today = timezone.localdate()
    count = REPORTS_PER_PAGE + 3
    for age in range(count):  # the oldest is "Reflektion 22", the newest "Reflektion 0"
        services.web_course_report(
            actor=manager_a,
            unit_id=unit_a.pk,
            reported_on=today - dt.timedelta(days=age),
            completed_count=0,
            mode="groups",
            group_sessions=1,
            knowledge_level=3,
            reflections=f"Reflektion {age}",
        )
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])

    first = client.get(url).content.decode()
    assert first.count("<tr><td>") == REPORTS_PER_PAGE
    assert first.index("Reflektion 0<") < first.index("Reflektion 1<")
    assert f"Reflektion {REPORTS_PER_PAGE}<" not in first
    assert f"Rapport 1–{REPORTS_PER_PAGE} av {count}, de senaste först." in first
    assert "Sida 1 av 2" in first
    assert 'href="?page=2"' in first

    second = client.get(url, {"page": 2}).content.decode()
    assert second.count("<tr><td>") == 3
    assert f"Reflektion {count - 1}<" in second
    assert "Reflektion 0<" not in second
    assert 'href="?page=1"' in second
    # A page past the end shows the last one; a page that is not a number, the first.
    assert client.get(url, {"page": 99}).content.decode().count("<tr><td>") == 3
    assert "Reflektion 0<" in client.get(url, {"page": "x"}).content.decode()


@pytest.mark.django_db
def test_a_single_page_of_reports_has_no_page_links(
    client: Client, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])
    assert "Inga rapporter ännu." in client.get(url).content.decode()
    client.post(url, report(completed_count="3"))
    html = client.get(url).content.decode()
    assert html.count("<tr><td>") == 1
    assert "Sida 1 av" not in html
    assert "de senaste först" not in html


@pytest.mark.django_db
def test_after_a_declined_new_round_the_page_shows_the_round_the_unit_did(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])
    client.post(url, report(completed_count="16"))
    engine.step_complete(actor=coordinator, rollout=rollout, step=1)
    Rollout.objects.filter(pk=rollout.pk).update(status="completed")  # the round ended
    again = engine.rollout_request(actor=manager_a, unit=unit_a)
    engine.rollout_decline(actor=coordinator, rollout=again, reason="Inte nu")
    page = client.get(url).content.decode()
    assert "16 av 20 anställda har gått kursen (80 %)." in page
    assert page.count("<tr><td>") == 1
