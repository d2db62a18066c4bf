"""The dispatcher's claim when the recipient's row cannot be read (deleted in a transaction that
has not checked its deferred foreign keys yet): the row is withheld, not a sweep that fails on
the same row every time and holds back everything due after it."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection

from followup import services
from followup.models import CancelReason, Reminder, ReminderStatus
from tests.factories import UserFactory
from units.models import User


def remind(user: User, key: str) -> Reminder:
    reminder, _created = services.schedule(
        recipient=user,
        kind="nudge",
        subject_key=key,
        due_on=dt.date(2026, 1, 1),
        subject="Dags för uppföljning",
        body="Uppföljningen efter sex månader ska bokas.",
    )
    return reminder


@pytest.mark.django_db
def test_a_reminder_whose_recipient_row_is_gone_is_withheld_and_the_rest_go_out() -> None:
    gone = UserFactory.create(email="borta@example.se")
    here = UserFactory.create(email="kvar@example.se")
    orphan = remind(gone, "followup:1:6")
    kept = remind(here, "followup:2:6")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("DELETE FROM units_user WHERE id = %s", [gone.pk])

    result = services.dispatch()

    orphan.refresh_from_db()
    kept.refresh_from_db()
    assert (orphan.status, orphan.cancel_reason) == (
        ReminderStatus.CANCELLED,
        CancelReason.INACTIVE,
    )
    assert orphan.attempts == 0
    assert kept.status == ReminderStatus.SENT
    assert (result.sent, result.withheld) == (1, 1)
    assert [m.to for m in mail.outbox] == [["kvar@example.se"]]
    # What still points at the deleted row goes too, for the deferred check at the test's end.
    orphan.delete()
    EmailAddress.objects.filter(user_id=gone.pk).delete()
