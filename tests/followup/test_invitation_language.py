"""The follow-up meeting's calendar file is written in each manager's e-mail language, not in
the language of whoever booked it."""

import datetime as dt

import icalendar
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from followup.models import FollowUp, NotificationSettings, Reminder
from rollout import services as engine
from tests.factories import make_manager
from tests.followup.test_followups import STOCKHOLM, implement
from units.models import Unit, User

SWEDISH = ("Uppföljning 6 månader: {unit}", "Muntlig uppföljning av rutinen")
ENGLISH = ("Follow-up 6 months: {unit}", "Oral follow-up of the routine")


def book_in(client: Client, language: str, unit: Unit, coordinator: User) -> None:
    """Book the 6-month follow-up through the page, with the coordinator's UI in ``language``."""
    today = dt.datetime(2026, 3, 2, 9, tzinfo=STOCKHOLM)
    with time_machine.travel(today, tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit)
        implement(rollout, User.objects.get(email="chef.sv@example.se"), coordinator, today.date())
        six = FollowUp.objects.get(rollout=rollout, offset_months=6)
        client.force_login(coordinator)
        client.post(reverse("set_language"), {"language": language, "next": "/"})
        response = client.post(
            reverse("followup:book", args=[unit.pk, six.pk]),
            {"date": "2026-08-20", "time": "13:00", "mode": "meeting", "place": "Rum 3"},
        )
    assert response.status_code == 302, response.content.decode()


def event_of(recipient: User) -> icalendar.cal.Component:
    reminder = Reminder.objects.get(kind="meeting", recipient=recipient)
    return icalendar.Calendar.from_ical(reminder.ics).walk("VEVENT")[0]


@pytest.mark.django_db
@pytest.mark.parametrize("booked_in", ["en", "sv"])
def test_each_manager_gets_the_meeting_in_their_own_language_whatever_the_booker_reads(
    client: Client, coordinator: User, unit_a: Unit, booked_in: str
) -> None:
    svenska = make_manager(unit_a, email="chef.sv@example.se")
    NotificationSettings.objects.create(user=svenska, language="sv")
    english = make_manager(unit_a, email="chef.en@example.se")
    NotificationSettings.objects.create(user=english, language="en")

    book_in(client, booked_in, unit_a, coordinator)

    for manager, (summary, description) in ((svenska, SWEDISH), (english, ENGLISH)):
        event = event_of(manager)
        assert str(event["SUMMARY"]) == summary.format(unit=unit_a.name)
        assert str(event["DESCRIPTION"]).startswith(description)
        # Everybody's file still names every manager invited, and the same meeting.
        attendees = sorted(str(a) for a in event.get("ATTENDEE"))
        assert attendees == ["mailto:chef.en@example.se", "mailto:chef.sv@example.se"]
        assert event.decoded("DTSTART") == dt.datetime(2026, 8, 20, 13, tzinfo=STOCKHOLM)
    # The mail around the file follows the recipient too (it did before; keep it so).
    assert Reminder.objects.get(recipient=svenska).subject.startswith("Inbjudan: uppföljning")
    assert Reminder.objects.get(recipient=english).subject.startswith("Invitation: follow-up")
