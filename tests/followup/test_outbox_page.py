"""The outbox page keeps the chosen tab across its pages and after a retry."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from followup import services as outbox
from followup.models import Reminder, ReminderStatus
from units.models import Unit, User


def failed(unit: Unit, recipient: User, count: int) -> list[Reminder]:
    rows = []
    for number in range(count):
        reminder, _created = outbox.schedule(
            recipient=recipient,
            kind="nudge",
            subject_key=f"web_course:{number}",
            due_on=dt.date(2026, 11, 1),
            subject=f"Påminnelse {number}",
            body="Rapportera steg 1.",
            unit=unit,
        )
        rows.append(reminder)
    Reminder.objects.filter(pk__in=[r.pk for r in rows]).update(status=ReminderStatus.FAILED)
    return rows


@pytest.mark.django_db
def test_the_pages_of_a_tab_keep_the_tab(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    failed(unit_a, manager_a, 51)
    outbox.schedule(
        recipient=manager_a,
        kind="nudge",
        subject_key="sent:1",
        due_on=dt.date(2026, 11, 1),
        subject="Skickad",
        body="b",
        unit=unit_a,
    )
    client.force_login(coordinator)
    url = reverse("followup:outbox", args=[unit_a.municipality_id])
    page = client.get(url, {"status": "failed"}).content.decode()
    assert 'href="?status=failed&amp;page=2"' in page
    second = client.get(url, {"status": "failed", "page": "2"}).content.decode()
    assert "Påminnelse 0" in second  # the oldest failed one, and nothing else
    assert "Skickad" not in second.split("<table", 1)[1]


@pytest.mark.django_db
def test_a_retry_returns_to_the_same_tab_and_page(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rows = failed(unit_a, manager_a, 51)
    client.force_login(coordinator)
    url = reverse("followup:outbox", args=[unit_a.municipality_id])
    page = client.get(url, {"status": "failed", "page": "2"}).content.decode()
    assert '<input type="hidden" name="status" value="failed">' in page
    response = client.post(
        reverse("followup:retry", args=[unit_a.municipality_id, rows[0].pk]),
        {"status": "failed", "page": "2"},
    )
    assert response["Location"] == f"{url}?status=failed&page=2"
    # Anything else in the form is not carried into the address.
    response = client.post(
        reverse("followup:retry", args=[unit_a.municipality_id, rows[1].pk]),
        {"status": "https://evil.example/", "page": "1"},
    )
    assert response["Location"] == url


@pytest.mark.django_db
def test_an_unknown_tab_shows_everything(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    failed(unit_a, manager_a, 1)
    client.force_login(coordinator)
    url = reverse("followup:outbox", args=[unit_a.municipality_id])
    assert "Påminnelse 0" in client.get(url, {"status": "<script>"}).content.decode()
