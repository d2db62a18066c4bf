"""A unit manager's journey through the model: what they are offered, what they are told after
each POST, and what happens when the coordinator changes things under them."""

from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup.models import NotificationSettings
from rollout import services as engine
from rollout.models import Rollout, Step, StepState, StepStatus
from routines import services as routine_services
from routines.models import RoutineStatus
from tests.factories import make_manager
from training.models import WebCourseReport
from units import services as unit_services
from units.models import Unit, User


def report(**overrides: str) -> dict[str, str]:
    data = {
        "reported_on": timezone.localdate().isoformat(),
        "completed_count": "17",
        "mode": "groups",
        "group_sessions": "2",
        "knowledge_level": "3",
        "reflections": "",
        "new_headcount": "",
    }
    return data | overrides


def shown_messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def rollout(coordinator: User, unit_a: Unit) -> Rollout:
    return engine.rollout_start(actor=coordinator, unit=unit_a)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.actions: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and (found.get("href") or "").startswith("/"):
            self.links.append(str(found["href"]).split("#")[0])
        if tag == "form" and (found.get("method") or "").lower() == "post" and found.get("action"):
            self.actions.append(str(found["action"]))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


@pytest.mark.django_db
def test_a_manager_of_two_units_reaches_every_page_offered_and_nothing_else(
    client: Client, coordinator: User, unit_a: Unit, unit_b: Unit, unit_x: Unit
) -> None:
    """Start page → both units (one in step 1, one writing its routine) → every link offered:
    none refused, each page titled after what it shows, and no page of another unit."""
    manager = make_manager(unit_a, unit_b, email="chef.ab@example.se")
    engine.rollout_start(actor=coordinator, unit=unit_a)
    second = engine.rollout_start(actor=coordinator, unit=unit_b)
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=second, step=step)
    routine_services.routine_start(actor=manager, rollout=second)
    client.force_login(manager)
    start = client.get("/", follow=True)
    assert start.redirect_chain[-1][0] == reverse("units:list")
    queue: list[str] = [reverse("units:list")]
    seen: set[str] = set()
    titles: dict[str, str] = {}
    while queue:
        url = queue.pop()
        if url in seen or url == "/" or url.startswith(("/accounts/", "/static/", "/admin/")):
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        if "html" not in response["Content-Type"] or "<title>" not in response.text:
            continue
        page = _Page()
        page.feed(response.text)
        titles.setdefault(page.title.strip(), url)
        queue.extend(page.links)
    assert f"/units/{unit_a.pk}/webbkurs/" in seen
    assert f"/units/{unit_b.pk}/rutin/andra/" in seen
    assert not any(f"/units/{unit_x.pk}/" in url for url in seen)
    assert "Steg 1: Webbkurs Heder – Solrosens förskola – Järfällamodellen" in titles
    assert "Steg 3: Rutiner – Kvarnskolan – Järfällamodellen" in titles


# --- Step 1 closed by the coordinator while the manager's page was open ------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("completed", ["17", "5"], ids=["above-threshold", "below-threshold"])
def test_closing_step_1_that_the_coordinator_closed_meanwhile_says_so(
    client: Client,
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    rollout: Rollout,
    completed: str,
) -> None:
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])
    client.post(url, report(completed_count=completed), follow=True)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    response = client.post(reverse("training:web_course_complete", args=[unit_a.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("units:detail", args=[unit_a.pk])
    assert shown_messages(response) == ["Steg 1 var redan markerat som klart."]
    state = StepState.objects.get(rollout=rollout, step=Step.WEB_COURSE)
    assert (state.status, state.completed_by) == (StepStatus.DONE, coordinator)


# --- Paused mid-journey -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_paused_rollout_is_explained_on_the_step_1_page_and_refuses_reports_saying_why(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Ny rektor börjar i januari")
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])
    page = client.get(url).content.decode()
    assert "Införandet är pausat, så inga rapporter kan lämnas just nu." in page
    assert "Anledning: Ny rektor börjar i januari" in page
    assert "Spara rapporten" not in page
    response = client.post(url, report(), follow=True)
    assert shown_messages(response) == [
        "Införandet är pausat, så ingen rapport kan lämnas just nu."
    ]
    assert not WebCourseReport.objects.exists()


# --- Archived mid-journey ---------------------------------------------------------------------


@pytest.mark.django_db
def test_an_archived_unit_stays_in_its_managers_list(
    client: Client, coordinator: User, unit_a: Unit, unit_b: Unit
) -> None:
    manager = make_manager(unit_a, unit_b, email="chef.ab@example.se")
    unit_services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    client.force_login(manager)
    page = client.get(reverse("units:list")).content.decode()
    assert reverse("units:detail", args=[unit_a.pk]) in page
    assert reverse("units:detail", args=[unit_b.pk]) in page
    assert "Arkiverad" in page
    # Only archived units: still theirs, not "no unit yet".
    unit_services.unit_set_archived(actor=coordinator, unit=unit_b, archived=True)
    page = client.get(reverse("units:list")).content.decode()
    assert "Du är inte enhetschef för någon enhet ännu." not in page
    assert reverse("units:detail", args=[unit_b.pk]) in page


@pytest.mark.django_db
def test_the_coordinators_list_still_hides_archived_units_by_default(
    client: Client, coordinator: User, unit_a: Unit, unit_b: Unit
) -> None:
    unit_services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    client.force_login(coordinator)
    page = client.get(reverse("units:list")).content.decode()
    assert reverse("units:detail", args=[unit_a.pk]) not in page
    assert reverse("units:detail", args=[unit_b.pk]) in page


# --- Step 3: a new version of an implemented routine ------------------------------------------


@pytest.mark.django_db
def test_opening_an_implemented_routine_for_a_new_version_is_confirmed(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=rollout, step=step)
    routine = routine_services.routine_start(actor=manager_a, rollout=rollout)
    routine_services.routine_send_for_review(actor=manager_a, routine=routine)
    for actor, as_coordinator in ((manager_a, False), (coordinator, True)):
        routine_services.routine_approve(
            actor=actor, routine=routine, version=1, as_coordinator=as_coordinator
        )
    today = timezone.localdate()
    routine_services.routine_implement(
        actor=manager_a,
        routine=routine,
        implemented_on=today,
        business_plan_location="VP 2027, 4.2",
        staff_informed_on=today,
    )
    client.force_login(manager_a)
    response = client.post(reverse("routines:revise", args=[unit_a.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("routines:edit", args=[unit_a.pk])
    (message,) = shown_messages(response)
    assert message.startswith("Rutinen är öppen för en ny version.")
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.DRAFT


# --- Notification settings --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_is_not_asked_about_the_coordinators_digest(
    client: Client, manager_a: User
) -> None:
    client.force_login(manager_a)
    url = reverse("followup:settings")
    page = client.get(url).content.decode()
    assert 'name="digest"' not in page
    assert 'name="nudges"' in page
    response = client.post(url, {"nudges": "", "language": "en"}, follow=True)
    assert shown_messages(response) == ["Dina aviseringsinställningar är sparade."]
    saved = NotificationSettings.objects.get(user=manager_a)
    assert (saved.digest, saved.nudges, saved.language) == ("daily", False, "en")


@pytest.mark.django_db
def test_a_coordinator_chooses_the_digest(client: Client, coordinator: User) -> None:
    client.force_login(coordinator)
    url = reverse("followup:settings")
    assert 'name="digest"' in client.get(url).content.decode()
    client.post(url, {"digest": "weekly", "nudges": "on", "language": "sv"})
    assert NotificationSettings.objects.get(user=coordinator).digest == "weekly"
