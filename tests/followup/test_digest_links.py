"""Where the coordinators' digest sends them: to the municipality that has what it counts."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from followup import services as outbox
from followup import sweep
from followup.models import Reminder, ReminderStatus
from jarfalla.mail import site_url
from units.models import Municipality, MunicipalRole, Role, Unit, User

NOW = dt.datetime(2026, 11, 30, 8, tzinfo=ZoneInfo("Europe/Stockholm"))


def failed_reminder(unit: Unit, recipient: User) -> Reminder:
    reminder, _created = outbox.schedule(
        recipient=recipient,
        kind="nudge",
        subject_key=f"web_course:{unit.pk}",
        due_on=NOW.date(),
        subject="Påminnelse",
        body="Rapportera steg 1.",
        unit=unit,
    )
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.FAILED)
    return reminder


@pytest.mark.django_db
def test_failed_reminders_item_links_to_the_municipality_that_has_them(
    coordinator: User, municipality: Municipality, other_municipality: Municipality, unit_x: Unit
) -> None:
    MunicipalRole.objects.create(
        user=coordinator, municipality=other_municipality, role=Role.COORDINATOR
    )
    failed_reminder(unit_x, coordinator)
    with time_machine.travel(NOW, tick=False):
        sweep.sweep()
        outbox.dispatch()
    [digest] = [m for m in mail.outbox if m.to == [coordinator.email]]
    outbox_url = site_url(reverse("followup:outbox", args=[other_municipality.pk]))
    assert f"Påminnelser som inte kunde skickas\n- 1 st.\n  {outbox_url}\n" in digest.body
