"""Step 4 and the sweep, with time moved forward: follow-ups on the right days, the digest,
nudges, escalation, quiet periods, and reminders that stop when the work is done."""

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from followup import followups, sweep
from followup import services as outbox
from followup.models import FollowUp, FollowUpStatus, NotificationSettings, Reminder, ReminderStatus
from followup.selectors import follow_ups
from rollout import services as engine
from rollout.models import Rollout, RolloutStatus, Step
from routines import services as routines
from tests.factories import book_session
from units.models import Unit, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)


def implement(rollout: Rollout, manager: User, coordinator: User, on: dt.date) -> None:
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=rollout, step=step)
    routine = routines.routine_start(actor=manager, rollout=rollout)
    routines.routine_send_for_review(actor=manager, routine=routine)
    routines.routine_approve(actor=manager, routine=routine, version=1, as_coordinator=False)
    routines.routine_approve(actor=coordinator, routine=routine, version=1, as_coordinator=True)
    routines.routine_implement(
        actor=manager,
        routine=routine,
        implemented_on=on,
        business_plan_location="VP 4.2",
        staff_informed_on=on,
    )


def run_at(moment: dt.datetime) -> list:
    with time_machine.travel(moment, tick=False):
        before = len(mail.outbox)
        sweep.run()
        return mail.outbox[before:]


@pytest.mark.django_db
def test_follow_ups_digest_booking_recording_and_the_reminders_stop(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    with time_machine.travel(at(dt.date(2026, 8, 31)), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, manager_a, coordinator, dt.date(2026, 8, 31))
    rows = follow_ups(rollout=rollout)
    assert [(f.offset_months, due) for f, due in rows] == [
        (6, dt.date(2027, 2, 28)),
        (12, dt.date(2027, 8, 31)),
    ]

    assert [
        m for m in run_at(at(dt.date(2026, 12, 1))) if m.to == [coordinator.email]
    ] == []  # nothing due yet
    sent = [m for m in run_at(at(dt.date(2027, 1, 20))) if m.to == [coordinator.email]]
    assert len(sent) == 1
    digest = sent[0]
    assert "Uppföljningar att boka" in digest.body
    assert f"{unit_a.name}: uppföljning 6 månader, senast 2027-02-28" in digest.body
    assert "http://127.0.0.1:8000/units/" in digest.body  # absolute links
    assert digest.extra_headers["List-Unsubscribe"] == "<http://127.0.0.1:8000/konto/aviseringar/>"
    assert digest.alternatives[0][1] == "text/html"
    assert run_at(at(dt.date(2027, 1, 20), hour=10)) == []  # the same day again: nothing new

    six = FollowUp.objects.get(rollout=rollout, offset_months=6)
    with time_machine.travel(at(dt.date(2027, 1, 21)), tick=False):
        followups.book(
            actor=coordinator,
            follow_up=six,
            starts_at=at(dt.date(2027, 2, 10), 13),
            mode="meeting",
            place="Rektorsexpeditionen",
        )
    notices = [m for m in run_at(at(dt.date(2027, 1, 21), 9)) if m.to == [manager_a.email]]
    assert len(notices) == 1
    assert "text/calendar" in notices[0].alternatives[-1][1]
    assert (
        "List-Unsubscribe" not in notices[0].extra_headers
    )  # meeting notices cannot be turned off
    two_days = [m for m in run_at(at(dt.date(2027, 2, 8))) if m.to == [manager_a.email]]
    assert [m.subject for m in two_days] == [f"Uppföljning 2027-02-10 13:00: {unit_a.name}"]

    with time_machine.travel(at(dt.date(2027, 2, 10), 15), tick=False):
        followups.record(
            actor=coordinator,
            follow_up=six,
            routine_in_use="yes",
            times_used=2,
            consultations=1,
            reports_of_concern=0,
            support_needed="none",
            effect=4,
            effect_text="",
            lessons="",
            share_lessons=False,
        )
    twelve = FollowUp.objects.get(rollout=rollout, offset_months=12)
    with time_machine.travel(at(dt.date(2027, 8, 1)), tick=False):
        followups.book(
            actor=coordinator,
            follow_up=twelve,
            starts_at=at(dt.date(2027, 8, 30), 10),
            mode="phone",
            place="",
        )
        followups.record(
            actor=coordinator,
            follow_up=twelve,
            routine_in_use="partly",
            times_used=1,
            consultations=0,
            reports_of_concern=0,
            support_needed="supervision",
            effect=3,
            effect_text="",
            lessons="Rutinen behöver bli kortare.",
            share_lessons=True,
        )
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.COMPLETED
    # Done: no digest line, no notice for the booked time that is now past or held.
    assert [m for m in run_at(at(dt.date(2027, 8, 28))) if unit_a.name in m.body] == []


RECORD_ANSWERS: dict[str, Any] = {
    "routine_in_use": "yes",
    "times_used": 2,
    "consultations": 1,
    "reports_of_concern": 0,
    "support_needed": "none",
    "effect": 4,
    "effect_text": "",
    "lessons": "",
    "share_lessons": False,
}

# A session of targeted training in the school's hall, as the digest tests book it.
AULAN_BOOKING = {
    "duration_minutes": 90,
    "place": "Aulan",
    "video_url": "",
    "expected_participants": 10,
}


@pytest.mark.django_db
def test_a_moved_follow_up_gets_a_notice_for_its_new_time_and_a_held_one_none(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    with time_machine.travel(at(dt.date(2026, 3, 2)), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, manager_a, coordinator, dt.date(2026, 3, 2))
    six = FollowUp.objects.get(rollout=rollout, offset_months=6)

    def book(when: dt.datetime) -> None:
        with time_machine.travel(at(dt.date(2026, 8, 30), 9), tick=False):
            followups.book(
                actor=coordinator,
                follow_up=six,
                starts_at=when,
                mode="video",
                place="https://video.example.se/a",
            )

    def sweep_on_30_august() -> list[Reminder]:
        with time_machine.travel(at(dt.date(2026, 8, 30), 10), tick=False):
            sweep.sweep()
        return list(
            Reminder.objects.filter(
                recipient=manager_a, subject_key__startswith="followup-soon:"
            ).order_by("pk")
        )

    book(at(dt.date(2026, 9, 1), 13))
    [first] = sweep_on_30_august()  # the notice for 1 September, not sent yet
    assert "2026-09-01 13:00" in first.body
    assert first.status == ReminderStatus.PENDING

    book(at(dt.date(2026, 9, 1), 15))  # two hours later on the same day
    first.refresh_from_db()
    assert first.status == ReminderStatus.CANCELLED
    [_, second] = sweep_on_30_august()
    assert "2026-09-01 15:00" in second.body
    assert second.status == ReminderStatus.PENDING
    six.refresh_from_db()
    assert (six.sequence, six.status) == (1, FollowUpStatus.BOOKED)

    # Held the same day, before the booked time: the notice must not go out.
    with time_machine.travel(at(dt.date(2026, 8, 30), 11), tick=False):
        followups.record(actor=coordinator, follow_up=six, **RECORD_ANSWERS)
    second.refresh_from_db()
    assert second.status == ReminderStatus.CANCELLED
    assert len(sweep_on_30_august()) == 2  # and the sweep makes no new one


@pytest.mark.django_db
def test_manager_nudge_quiet_after_checkin_and_escalation(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    start = at(dt.date(2026, 10, 1))
    with time_machine.travel(start, tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    assert [m for m in run_at(start + dt.timedelta(days=13)) if m.to == [manager_a.email]] == []
    nudges = [m for m in run_at(start + dt.timedelta(days=15)) if m.to == [manager_a.email]]
    assert len(nudges) == 1
    assert "Rapportera hur många som har gått Webbkurs Heder." in nudges[0].body
    assert run_at(start + dt.timedelta(days=16)) == []  # once, not daily
    escalations = [
        m for m in run_at(start + dt.timedelta(days=23)) if "Obesvarad påminnelse" in m.subject
    ]
    assert [m.to for m in escalations] == [[coordinator.email]]
    # A check-in keeps things quiet for two weeks, even for new reasons to nudge.
    with time_machine.travel(start + dt.timedelta(days=24), tick=False):
        engine.checkin_nothing_new(actor=manager_a, rollout=rollout)
    Reminder.objects.all().delete()
    assert [m for m in run_at(start + dt.timedelta(days=30)) if m.to == [manager_a.email]] == []


@pytest.mark.django_db
def test_nothing_for_paused_rollouts_archived_units_or_opted_out_people(
    coordinator: User, manager_a: User, unit_a: Unit, unit_b: Unit, manager_b: User
) -> None:
    start = at(dt.date(2026, 10, 1))
    with time_machine.travel(start, tick=False):
        paused = engine.rollout_start(actor=coordinator, unit=unit_a)
        engine.rollout_pause(actor=coordinator, rollout=paused, reason="Omorganisation")
        engine.rollout_start(actor=coordinator, unit=unit_b)
    NotificationSettings.objects.create(user=manager_b, nudges=False)
    NotificationSettings.objects.create(user=coordinator, digest="never")
    assert run_at(start + dt.timedelta(days=20)) == []


@pytest.mark.django_db
def test_weekly_digest_goes_out_on_mondays(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    with time_machine.travel(at(dt.date(2026, 3, 2)), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, manager_a, coordinator, dt.date(2026, 3, 2))
    NotificationSettings.objects.create(user=coordinator, digest="weekly", language="en")
    assert [
        m for m in run_at(at(dt.date(2026, 8, 26))) if m.to == [coordinator.email]
    ] == []  # Wednesday
    monday = [m for m in run_at(at(dt.date(2026, 8, 31))) if m.to == [coordinator.email]]
    assert len(monday) == 1
    assert "Follow-ups to book" in monday[0].body  # in the coordinator's language


@pytest.mark.django_db
def test_moving_the_implementation_date_moves_the_follow_ups(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    with time_machine.travel(at(dt.date(2026, 8, 31)), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, manager_a, coordinator, dt.date(2026, 8, 31))
    assert [due for _f, due in follow_ups(rollout=rollout)] == [
        dt.date(2027, 2, 28),
        dt.date(2027, 8, 31),
    ]
    from routines.models import Routine

    Routine.objects.filter(rollout=rollout).update(implemented_on=dt.date(2026, 9, 15))
    assert [due for _f, due in follow_ups(rollout=rollout)] == [
        dt.date(2027, 3, 15),
        dt.date(2027, 9, 15),
    ]
    # Scheduling the same follow-ups again changes nothing.
    from followup.steps import create_follow_ups

    create_follow_ups(rollout)
    assert FollowUp.objects.filter(rollout=rollout).count() == 2


@pytest.mark.django_db
def test_meeting_across_the_dst_change_keeps_its_local_time(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    import icalendar

    with time_machine.travel(at(dt.date(2026, 3, 2)), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, manager_a, coordinator, dt.date(2026, 9, 28))
    six = FollowUp.objects.get(rollout=rollout, offset_months=6)
    # 28 March 2027 is the day summer time starts in Sweden.
    meeting = at(dt.date(2027, 3, 28), 10)
    with time_machine.travel(at(dt.date(2027, 3, 1)), tick=False):
        followups.book(
            actor=coordinator, follow_up=six, starts_at=meeting, mode="meeting", place="Aulan"
        )
    notice = Reminder.objects.get(kind="meeting", recipient=manager_a)
    event = icalendar.Calendar.from_ical(notice.ics).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == meeting
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(hours=2)


@pytest.mark.django_db
def test_outbox_page_lists_and_retries_failed_reminders(
    client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    from django.urls import reverse

    reminder, _created = outbox.schedule(
        recipient=manager_a,
        kind="nudge",
        subject_key="x:1",
        due_on=dt.date(2026, 1, 1),
        subject="Påminnelse om webbkursen",
        body="b",
        unit=unit_a,
    )
    Reminder.objects.filter(pk=reminder.pk).update(
        status=ReminderStatus.FAILED, last_error="SMTPRecipientsRefused: 550"
    )
    client.force_login(coordinator)
    page = client.get(
        reverse("followup:outbox", args=[unit_a.municipality_id]), {"status": "failed"}
    ).content.decode()
    assert "Påminnelse om webbkursen" in page
    assert "550" in page
    client.post(reverse("followup:retry", args=[unit_a.municipality_id, reminder.pk]))
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.PENDING


@pytest.mark.django_db
def test_digest_lists_sessions_this_week_and_routines_waiting(
    coordinator: User, manager_a: User, unit_a: Unit, unit_b: Unit
) -> None:
    from routines.models import Routine

    monday = dt.date(2026, 11, 23)
    with time_machine.travel(at(monday), tick=False):
        first = engine.rollout_start(actor=coordinator, unit=unit_a)
        engine.step_complete(actor=coordinator, rollout=first, step=Step.WEB_COURSE)
        book_session(first, coordinator, at(monday + dt.timedelta(days=3), 13), **AULAN_BOOKING)
        second = engine.rollout_start(actor=coordinator, unit=unit_b)
        for step in (Step.WEB_COURSE, Step.TRAINING):
            engine.step_complete(actor=coordinator, rollout=second, step=step)
        routine = routines.routine_start(actor=coordinator, rollout=second)
        routines.routine_send_for_review(actor=coordinator, routine=routine)
    digest = [m for m in run_at(at(monday + dt.timedelta(days=1))) if m.to == [coordinator.email]]
    assert len(digest) == 1
    assert f"2026-11-26 13:00 {unit_a.name}" in digest[0].body
    assert f"{unit_b.name}, version 1" in digest[0].body
    routines.routine_approve(
        actor=coordinator,
        routine=Routine.objects.get(pk=routine.pk),
        version=1,
        as_coordinator=True,
    )


@pytest.mark.django_db
def test_recording_on_a_paused_rollout_is_refused_not_a_500(
    client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    from django.urls import reverse

    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    implement(rollout, manager_a, coordinator, timezone.localdate())
    engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Ny chef")
    six = FollowUp.objects.get(rollout=rollout, offset_months=6)
    client.force_login(coordinator)
    data = {
        "routine_in_use": "yes",
        "times_used": "1",
        "consultations": "0",
        "reports_of_concern": "0",
        "support_needed": "none",
        "effect": "4",
    }
    response = client.post(reverse("followup:record", args=[unit_a.pk, six.pk]), data)
    assert response.status_code == 200
    assert "Införandet är inte aktivt." in response.content.decode()
    six.refresh_from_db()
    assert six.status == FollowUpStatus.PLANNED


@pytest.mark.django_db
def test_a_long_digest_section_is_cut_short_with_a_count_and_a_link(
    coordinator: User, unit_a: Unit
) -> None:
    from django.urls import reverse

    from tests.factories import UnitFactory

    start = timezone.localdate()
    names = []
    for _ in range(sweep.DIGEST_SECTION_ITEMS + 3):
        unit = UnitFactory.create(municipality=unit_a.municipality)
        engine.rollout_start(actor=coordinator, unit=unit)
        names.append(unit.name)
    digest = [
        m
        for m in run_at(at(start + dt.timedelta(days=40)))
        if m.to == [coordinator.email] and "utan framsteg" in m.body
    ]
    assert len(digest) == 1
    body = digest[0].body
    section = body[body.index("Enheter utan framsteg på 30 dagar") :]
    assert sum(f"- {name}\n" in section for name in names) == sweep.DIGEST_SECTION_ITEMS
    assert "och 3 till – se översikten" in section
    assert f"{reverse('rollout:dashboard_home')}" in section.split("och 3 till")[1]
    html = digest[0].alternatives[0].content
    assert html.count("<li>") >= sweep.DIGEST_SECTION_ITEMS
    assert "och 3 till – se översikten</a>" in html


@pytest.mark.django_db
def test_quiet_units_are_in_the_digest_unless_they_wait_for_their_follow_ups(
    coordinator: User, manager_a: User, unit_a: Unit, unit_b: Unit
) -> None:
    quiet = engine.rollout_start(actor=coordinator, unit=unit_a)  # step 1, no progress
    waiting = engine.rollout_start(actor=coordinator, unit=unit_b)
    implement(waiting, manager_a, coordinator, timezone.localdate())  # step 4 under way
    assert quiet.steps.get(step=Step.WEB_COURSE).status == "in_progress"
    assert waiting.steps.get(step=Step.FOLLOW_UP).status == "in_progress"
    sent = run_at(at(timezone.localdate() + dt.timedelta(days=40)))
    body = next(m.body for m in sent if m.to == [coordinator.email] and "Hej!" in m.body)
    section = body[body.index("Enheter utan framsteg på 30 dagar") :].split("\n\n")[0]
    assert f"- {unit_a.name}\n" in section
    assert unit_b.name not in section


@pytest.mark.django_db
def test_a_paused_rollouts_routine_is_not_in_the_digest(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    monday = dt.date(2026, 11, 23)
    with time_machine.travel(at(monday), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        for step in (Step.WEB_COURSE, Step.TRAINING):
            engine.step_complete(actor=coordinator, rollout=rollout, step=step)
        routine = routines.routine_start(actor=manager_a, rollout=rollout)
        routines.routine_send_for_review(actor=manager_a, routine=routine)

    def digest_on(day: dt.date) -> str:
        sent = run_at(at(day))
        return "".join(m.body for m in sent if m.to == [coordinator.email])

    assert f"{unit_a.name}, version 1" in digest_on(monday + dt.timedelta(days=1))
    with time_machine.travel(at(monday + dt.timedelta(days=1), 12), tick=False):
        engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Ny chef")
    assert f"{unit_a.name}, version 1" not in digest_on(monday + dt.timedelta(days=2))


@pytest.mark.django_db
def test_a_routine_sent_for_review_again_is_not_escalated_with_its_first_nudge(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    def escalated(day: dt.date) -> bool:
        return any("Obesvarad påminnelse" in m.subject for m in run_at(at(day)))

    monday = dt.date(2026, 10, 5)
    with time_machine.travel(at(monday, 7), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        for step in (Step.WEB_COURSE, Step.TRAINING):
            engine.step_complete(actor=coordinator, rollout=rollout, step=step)
        routine = routines.routine_start(actor=coordinator, rollout=rollout)
        routines.routine_send_for_review(actor=coordinator, routine=routine)
    assert not escalated(monday)  # the manager's nudge goes out
    assert escalated(monday + dt.timedelta(days=8))  # ignored for a week: the coordinator hears

    with time_machine.travel(at(monday + dt.timedelta(days=9)), tick=False):
        routines.routine_send_back(actor=coordinator, routine=routine, comment="Kortare, tack.")
    again = monday + dt.timedelta(days=28)  # a Monday
    with time_machine.travel(at(again, 7), tick=False):
        routines.routine_send_for_review(actor=coordinator, routine=routine)
    assert not escalated(again)  # a new round: a nudge first, not an escalation
    assert escalated(again + dt.timedelta(days=8))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("effect", "message"),
    [
        ("9", "Kontrollera att detta värde är mindre än eller lika med 5."),
        ("0", "Kontrollera att detta värde är större än eller lika med 1."),
    ],
)
def test_an_effect_out_of_range_is_explained_not_a_server_error(
    client, coordinator: User, manager_a: User, unit_a: Unit, effect: str, message: str
) -> None:
    from django.urls import reverse

    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    implement(rollout, manager_a, coordinator, timezone.localdate())
    six = FollowUp.objects.get(rollout=rollout, offset_months=6)
    client.force_login(coordinator)
    data = {**RECORD_ANSWERS, "effect": effect, "lessons": "Rutinen behöver en kortare checklista."}
    response = client.post(reverse("followup:record", args=[unit_a.pk, six.pk]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<div class="invalid-feedback d-block" id="id_effect_error">{message}</div>' in html
    assert "Rutinen behöver en kortare checklista." in html
    six.refresh_from_db()
    assert six.status == FollowUpStatus.PLANNED


def _links(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


@pytest.mark.django_db
def test_reminder_subjects_are_plain_text_and_bodies_name_the_unit_and_open_for_the_recipient(
    client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    unit_a.name = "Barn & unga <Öst>"
    unit_a.save()
    start = at(dt.date(2026, 10, 1))
    with time_machine.travel(start, tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    [nudge] = [m for m in run_at(start + dt.timedelta(days=15)) if m.to == [manager_a.email]]
    [escalation] = [m for m in run_at(start + dt.timedelta(days=23)) if m.to == [coordinator.email]]
    assert nudge.subject == "Påminnelse: Barn & unga <Öst>"  # not "Barn &amp; unga &lt;Öst&gt;"
    assert "Det här väntar på dig för Barn & unga <Öst>:" in nudge.body
    assert "Barn &amp; unga &lt;Öst&gt;" in nudge.alternatives[0][0]  # escaped in the HTML only
    assert escalation.subject == "Obesvarad påminnelse: Barn & unga <Öst>"
    assert "Stäng av påminnelser: http://127.0.0.1:8000/konto/aviseringar/" in escalation.body

    with time_machine.travel(at(dt.date(2026, 11, 1)), tick=False):
        implement(rollout, manager_a, coordinator, dt.date(2026, 11, 1))
        followups.book(
            actor=coordinator,
            follow_up=FollowUp.objects.get(rollout=rollout, offset_months=6),
            starts_at=at(dt.date(2027, 4, 10), 13),
            mode="meeting",
            place="Rum 3",
        )
    sent = run_at(at(dt.date(2027, 4, 8)))  # with the calendar invitation, sent at booking
    [notice] = [m for m in sent if m.to == [manager_a.email] and "Inbjudan" not in m.subject]
    assert notice.subject == "Uppföljning 2027-04-10 13:00: Barn & unga <Öst>"
    assert "Enhet: Barn & unga <Öst>" in notice.body
    assert f"http://127.0.0.1:8000/units/{unit_a.pk}/uppfoljning/" in _links(notice)

    # Every link goes to this site and opens for the person it was sent to.
    for message, recipient in ((nudge, manager_a), (escalation, coordinator), (notice, manager_a)):
        client.force_login(recipient)
        for link in _links(message):
            assert link.startswith("http://127.0.0.1:8000/")
            response = client.get(link.removeprefix("http://127.0.0.1:8000"))
            assert response.status_code == 200, (message.subject, link)


@pytest.mark.django_db
def test_turning_reminders_off_through_the_unsubscribe_link_stops_escalations(
    client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    start = at(dt.date(2026, 10, 1))
    with time_machine.travel(start, tick=False):
        engine.rollout_start(actor=coordinator, unit=unit_a)
    run_at(start + dt.timedelta(days=15))
    [escalation] = [m for m in run_at(start + dt.timedelta(days=23)) if m.to == [coordinator.email]]
    link = escalation.extra_headers["List-Unsubscribe"]
    assert link == "<http://127.0.0.1:8000/konto/aviseringar/>"
    path = link.strip("<>").removeprefix("http://127.0.0.1:8000")

    assert client.get(path).url.startswith("/accounts/login/?next=/konto/aviseringar/")
    client.force_login(coordinator)
    assert client.get(path).status_code == 200
    response = client.post(path, {"digest": "daily", "language": "sv"})  # the box unticked
    assert response.status_code == 302
    assert NotificationSettings.objects.get(user=coordinator).nudges is False

    Reminder.objects.filter(kind="escalation").delete()  # as if this were the next round
    assert [m for m in run_at(start + dt.timedelta(days=24)) if m.to == [coordinator.email]] == []
    # Someone who kept the setting still hears about it.
    Reminder.objects.filter(kind="escalation").delete()
    NotificationSettings.objects.filter(user=coordinator).update(nudges=True)
    assert len(run_at(start + dt.timedelta(days=25))) == 1


@pytest.mark.django_db
def test_the_digest_leaves_out_training_sessions_of_paused_rollouts(
    coordinator: User, unit_a: Unit, unit_b: Unit
) -> None:

    monday = dt.date(2026, 11, 23)
    with time_machine.travel(at(monday), tick=False):
        for unit in (unit_a, unit_b):
            rollout = engine.rollout_start(actor=coordinator, unit=unit)
            engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
            book_session(
                rollout, coordinator, at(monday + dt.timedelta(days=3), 13), **AULAN_BOOKING
            )
        engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Omorganisation")
    [digest] = [m for m in run_at(at(monday + dt.timedelta(days=1))) if m.to == [coordinator.email]]
    assert f"2026-11-26 13:00 {unit_a.name}" in digest.body
    assert unit_b.name not in digest.body  # paused


@pytest.mark.django_db
def test_a_booked_follow_up_is_not_sent_to_a_deactivated_manager(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    from tests.factories import make_manager

    gone = make_manager(unit_a, email="slutat@example.se", is_active=False)
    with time_machine.travel(at(dt.date(2026, 3, 2)), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, manager_a, coordinator, dt.date(2026, 3, 2))
        followups.book(
            actor=coordinator,
            follow_up=FollowUp.objects.get(rollout=rollout, offset_months=6),
            starts_at=at(dt.date(2026, 8, 20), 13),
            mode="meeting",
            place="Rum 3",
        )
    invited = Reminder.objects.filter(kind="meeting").values_list("recipient", flat=True)
    assert list(invited) == [manager_a.pk]
    calendar = Reminder.objects.get(kind="meeting").ics.replace("\r\n ", "").replace("\n ", "")
    assert f"mailto:{manager_a.email}" in calendar
    assert f"mailto:{gone.email}" not in calendar
