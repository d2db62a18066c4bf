"""Rollout actions through the pages: forms, messages, double submits, the full timeline."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rollout import services
from rollout.models import Rollout, RolloutStatus, StepState, StepStatus, TimelineEvent
from units.models import Unit, User


@pytest.mark.django_db
def test_double_submitted_start_makes_one_rollout(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    url = reverse("rollout:start", args=[unit_a.pk])
    client.post(url)
    second = client.post(url, follow=True)
    assert "Enheten har redan ett pågående införande." in second.content.decode()
    assert Rollout.objects.filter(unit=unit_a).count() == 1


@pytest.mark.django_db
def test_manager_asks_to_join_and_coordinator_declines_with_reason(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    client.force_login(manager_a)
    client.post(reverse("rollout:request", args=[unit_a.pk]))
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert "Samordnaren svarar på förfrågan." in page
    client.force_login(coordinator)
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert "Ta ställning till förfrågan om att delta" in page
    url = reverse("rollout:decline", args=[unit_a.pk])
    empty = client.post(url, {"reason": ""})
    assert "Formuläret innehåller fel" in empty.content.decode()
    personal = client.post(url, {"reason": "Gäller eleven 811218-9876"})
    assert "personnummer" in personal.content.decode()
    client.post(url, {"reason": "Vi tar förskolorna först."})
    assert Rollout.objects.get(unit=unit_a).status == RolloutStatus.DECLINED


@pytest.mark.django_db
def test_coordinator_starts_a_later_step_early_with_reason(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    rollout = services.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(coordinator)
    response = client.post(
        reverse("rollout:start_step", args=[unit_a.pk, 3]),
        {"reason": "Rutinen finns redan som utkast."},
    )
    assert response.status_code == 302
    state = StepState.objects.get(rollout=rollout, step=3)
    assert state.status == StepStatus.IN_PROGRESS
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert "påbörjat i förtid: Rutinen finns redan som utkast." in page
    assert (
        client.post(reverse("rollout:start_step", args=[unit_a.pk, 9]), {"reason": "x"}).status_code
        == 404
    )


@pytest.mark.django_db
def test_checkin_and_full_timeline(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rollout = services.rollout_start(actor=coordinator, unit=unit_a)
    for _ in range(60):
        services.checkin_nothing_new(actor=manager_a, rollout=rollout)
    client.force_login(manager_a)
    unit_page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert unit_page.count("Inget nytt sedan sist.") == 30  # the page shows the latest 30
    assert "Visa hela tidslinjen (61 händelser)" in unit_page
    first = client.get(reverse("rollout:timeline", args=[unit_a.pk])).content.decode()
    assert "Sida 1 av 2" in first
    last = client.get(reverse("rollout:timeline", args=[unit_a.pk]), {"page": 2}).content.decode()
    assert "Införandet startade (omgång 1)." in last
    client.post(reverse("rollout:checkin", args=[unit_a.pk]))
    assert TimelineEvent.objects.filter(kind="rollout.checkin").count() == 61


@pytest.mark.django_db
def test_no_checkin_button_while_paused_and_a_stale_page_is_told_why(
    client: Client,
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    rollout = services.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(manager_a)
    button = f'action="{reverse("rollout:checkin", args=[unit_a.pk])}"'
    assert button in client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the pages' cache follows commits
        services.rollout_pause(actor=coordinator, rollout=rollout, reason="Omorganisation")
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert button not in page
    # A page opened before the pause still has the button.
    answer = client.post(reverse("rollout:checkin", args=[unit_a.pk]), follow=True)
    assert "Införandet är pausat, så inget behöver bekräftas just nu." in answer.content.decode()
    assert not TimelineEvent.objects.filter(kind="rollout.checkin").exists()


@pytest.mark.django_db
def test_timeline_follows_the_readers_language(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    services.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(coordinator)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert "The rollout started (round 1)." in page
