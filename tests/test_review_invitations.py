"""Review of the shared calendar-invitation helper (followup.invitations): a meeting moved before
its first invitation went out does not send the old time afterwards, for follow-ups as for
training sessions."""

import datetime as dt

import pytest
import time_machine

from followup import followups
from followup.models import CancelReason, FollowUp, Reminder, ReminderStatus
from rollout import services as engine
from tests.followup.test_followups import at, implement
from units.models import Unit, User


@pytest.mark.django_db
def test_a_follow_up_moved_before_its_invitation_went_out_does_not_send_the_old_time(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    with time_machine.travel(at(dt.date(2026, 3, 2)), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, manager_a, coordinator, dt.date(2026, 3, 2))
    six = FollowUp.objects.get(rollout=rollout, offset_months=6)
    with time_machine.travel(at(dt.date(2026, 8, 3), 9), tick=False):
        # Booked, then moved a minute later: the dispatcher has not run in between (or the
        # mail server refused the first invitation, which now waits for its retry).
        for hour in (13, 15):
            followups.book(
                actor=coordinator,
                follow_up=six,
                starts_at=at(dt.date(2026, 9, 1), hour),
                mode="meeting",
                place="Rum 3",
            )
    first, second = Reminder.objects.filter(
        kind="meeting", recipient=manager_a, subject_key__startswith="followup:"
    ).order_by("pk")
    assert "SEQUENCE:0" in first.ics
    assert "SEQUENCE:1" in second.ics
    # The first one would tell the manager 13:00 after (or before) the one that says 15:00.
    assert (first.status, first.cancel_reason) == (
        ReminderStatus.CANCELLED,
        CancelReason.SUPERSEDED,
    )
    assert second.status == ReminderStatus.PENDING
