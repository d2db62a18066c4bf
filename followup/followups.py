"""Writes for step 4: booking and recording the 6- and 12-month follow-ups."""

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup import selectors
from followup import services as outbox
from followup.invitations import Invitation, queue_calendar_invitations
from followup.models import FollowUp, FollowUpStatus
from jarfalla import ical
from rollout import services as engine
from rollout.models import RolloutStatus, Step
from units.models import User

MEETING_LENGTH = dt.timedelta(hours=1)
# A day given without a time is stored at noon, Stockholm time: the same day in every reading.
HELD_WITHOUT_TIME = dt.time(12)

NOT_HELD_YET = _("Uppföljningen kan inte registreras för en dag som inte har kommit än.")


def waits_for(earlier: FollowUp) -> str:
    """Why a follow-up cannot be recorded yet: the one before it is not held."""
    return _(
        "Uppföljningen efter %(months)s månader är inte registrerad än. Registrera den först."
    ) % {"months": earlier.offset_months}


def _event(follow_up: FollowUp, *, updated_at: dt.datetime) -> ical.CalendarEvent:
    unit = follow_up.rollout.unit
    assert follow_up.starts_at is not None
    assert follow_up.booked_by is not None
    return ical.CalendarEvent(
        uid=str(follow_up.uid),
        sequence=follow_up.sequence,
        updated_at=updated_at,
        starts_at=follow_up.starts_at,
        ends_at=follow_up.starts_at + MEETING_LENGTH,
        summary=_("Uppföljning %(months)s månader: %(unit)s")
        % {"months": follow_up.offset_months, "unit": unit.name},
        description=_(
            "Muntlig uppföljning av rutinen mot hedersrelaterat våld och förtryck (%(model)s)."
        )
        % {"model": unit.municipality.model_name},
        organizer_name=follow_up.booked_by.get_full_name() or follow_up.booked_by.email,
        organizer_email=follow_up.booked_by.email,
        location=follow_up.place,
    )


def _notify_managers(follow_up: FollowUp) -> None:
    """A meeting notice per manager through the outbox (cannot be turned off)."""
    unit = follow_up.rollout.unit
    assert follow_up.starts_at is not None
    # Once for all recipients: their copies differ in language only.
    updated_at = timezone.now()

    def build(attendees: Sequence[str]) -> Invitation:
        method, content = ical.invitation(
            _event(follow_up, updated_at=updated_at), attendees=attendees
        )
        context = {"follow_up": follow_up, "unit": unit}
        subject = render_to_string("followup/email/booked_subject.txt", context).strip()
        body = render_to_string("followup/email/booked_body.txt", context)
        return Invitation(method=method, ics=content, subject=subject, body=body)

    queue_calendar_invitations(
        unit=unit,
        kind="meeting",
        subject_key=invitation_key(follow_up, follow_up.sequence),
        due_on=timezone.localtime(follow_up.starts_at).date(),
        build=build,
        # A booking moved: the invitation for the old time must not follow the new one.
        supersedes=(
            invitation_key(follow_up, follow_up.sequence - 1) if follow_up.sequence > 0 else None
        ),
    )


def invitation_key(follow_up: FollowUp, sequence: int) -> str:
    """The outbox key of the calendar invitation for one booking (sequence) of the follow-up."""
    return f"followup:{follow_up.uid}:{sequence}"


def notice_key(follow_up: FollowUp) -> str:
    """The outbox key of the reminder two days before this booking of the follow-up."""
    return f"followup-soon:{follow_up.uid}:{follow_up.sequence}"


@transaction.atomic
def book(
    *, actor: User, follow_up: FollowUp, starts_at: dt.datetime, mode: str, place: str
) -> FollowUp:
    follow_up = (
        FollowUp.objects.select_for_update()
        .select_related("rollout__unit__municipality")
        .get(pk=follow_up.pk)
    )
    if follow_up.status == FollowUpStatus.HELD:
        raise engine.RolloutError(_("Uppföljningen är redan genomförd."))
    if follow_up.rollout.status != RolloutStatus.ACTIVE:
        raise engine.RolloutError(_("Införandet är inte aktivt."))
    engine.refuse_archived(follow_up.rollout.unit)
    _check_booking_order(follow_up, starts_at)
    if follow_up.status == FollowUpStatus.BOOKED:
        # The reminder two days before the old time must not go out. The new time has a key of
        # its own, so that the sweep can make its reminder even for the same day.
        outbox.cancel(subject_key=notice_key(follow_up))
        follow_up.sequence += 1
    follow_up.status, follow_up.starts_at, follow_up.mode, follow_up.place = (
        FollowUpStatus.BOOKED,
        starts_at,
        mode,
        place,
    )
    follow_up.booked_by = actor
    follow_up.full_clean()
    follow_up.save()
    engine.record_event(
        unit=follow_up.rollout.unit,
        rollout=follow_up.rollout,
        step=Step.FOLLOW_UP,
        kind="followup.booked",
        actor=actor,
        months=follow_up.offset_months,
        starts=timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
    )
    _notify_managers(follow_up)
    return follow_up


def _check_booking_order(follow_up: FollowUp, starts_at: dt.datetime) -> None:
    """Booking a later follow-up before an earlier one is held is planning ahead and fine, but
    not for a time before it: follow-ups are recorded in their order, so the later meeting would
    come first and could not be recorded. The caller's lock on the follow-up also locks its
    rollout's row (select_related), so two bookings of the same rollout take turns here."""
    booked = FollowUp.objects.filter(
        rollout_id=follow_up.rollout_id, status=FollowUpStatus.BOOKED, starts_at__isnull=False
    ).exclude(pk=follow_up.pk)
    for other in booked:
        assert other.starts_at is not None
        mapping = {
            "months": other.offset_months,
            "starts": timezone.localtime(other.starts_at).strftime("%Y-%m-%d %H:%M"),
        }
        if other.offset_months < follow_up.offset_months and starts_at <= other.starts_at:
            raise engine.RolloutError(
                _(
                    "Uppföljningen efter %(months)s månader är bokad %(starts)s; boka den här efter den."
                )
                % mapping
            )
        if other.offset_months > follow_up.offset_months and starts_at >= other.starts_at:
            raise engine.RolloutError(
                _(
                    "Uppföljningen efter %(months)s månader är bokad %(starts)s; "
                    "boka den här före den eller boka om den först."
                )
                % mapping
            )


def _held_at(follow_up: FollowUp, held_on: dt.date) -> dt.datetime:
    """When the follow-up was held, from the day the coordinator gives: the booked time if it
    was that day (and has passed), now if it is today, else noon of that day."""
    now = timezone.now()
    if held_on > timezone.localdate(now):
        raise engine.RolloutError(NOT_HELD_YET)
    implemented = selectors.implemented_on([follow_up.rollout]).get(follow_up.rollout_id)
    if implemented is not None and held_on < implemented:
        raise engine.RolloutError(
            _("Rutinen infördes %(date)s; uppföljningen kan inte ha genomförts före det.")
            % {"date": f"{implemented:%Y-%m-%d}"}
        )
    previous = (
        FollowUp.objects.filter(
            rollout_id=follow_up.rollout_id,
            offset_months__lt=follow_up.offset_months,
            held_at__isnull=False,
        )
        .order_by("-held_at")
        .first()
    )
    if previous is not None and previous.held_at is not None:
        previous_on = timezone.localdate(previous.held_at)
        if held_on < previous_on:
            raise engine.RolloutError(
                _(
                    "Uppföljningen efter %(months)s månader genomfördes %(date)s; "
                    "den här kan inte ha genomförts före den."
                )
                % {"months": previous.offset_months, "date": f"{previous_on:%Y-%m-%d}"}
            )
    starts_at = follow_up.starts_at
    if starts_at is not None and timezone.localdate(starts_at) == held_on and starts_at <= now:
        return starts_at
    if held_on == timezone.localdate(now):
        return now
    return timezone.make_aware(dt.datetime.combine(held_on, HELD_WITHOUT_TIME))


@transaction.atomic
def record(
    *, actor: User, follow_up: FollowUp, held_on: dt.date | None = None, **answers: object
) -> FollowUp:
    """Record the oral follow-up, held on the answer ``held_on`` (by default today); after the
    last one, step 4 and the rollout are complete. Follow-ups are recorded in their order: the
    12-month one not while the 6-month one is open, and not as held before it."""
    # The lock takes the rollout's row too (select_related): recording and booking the
    # follow-ups of one rollout take turns, so the order checks below read settled rows.
    follow_up = (
        FollowUp.objects.select_for_update().select_related("rollout__unit").get(pk=follow_up.pk)
    )
    if follow_up.status == FollowUpStatus.HELD:
        return follow_up
    if follow_up.rollout.status != RolloutStatus.ACTIVE:
        raise engine.RolloutError(_("Införandet är inte aktivt."))
    engine.refuse_archived(follow_up.rollout.unit)
    earlier = selectors.earlier_open(follow_up)
    if earlier is not None:
        raise engine.RolloutError(waits_for(earlier))
    held_on = held_on or timezone.localdate()
    held_at = _held_at(follow_up, held_on)
    for field, value in answers.items():
        setattr(follow_up, field, value)
    follow_up.status, follow_up.held_at = FollowUpStatus.HELD, held_at
    follow_up.full_clean()
    follow_up.save()
    rollout = follow_up.rollout
    engine.record_event(
        unit=rollout.unit,
        rollout=rollout,
        step=Step.FOLLOW_UP,
        kind="followup.held",
        actor=actor,
        months=follow_up.offset_months,
        held_on=f"{held_on:%Y-%m-%d}",
        # The code, not the label: the timeline shows it in the reader's language.
        support=follow_up.support_needed,
    )
    # Held before its booked time: the reminder two days ahead must not go out.
    outbox.cancel(subject_key=notice_key(follow_up))
    if not FollowUp.objects.filter(rollout=rollout).exclude(status=FollowUpStatus.HELD).exists():
        engine.step_complete(actor=actor, rollout=rollout, step=Step.FOLLOW_UP)
    return follow_up
