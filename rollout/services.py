"""Every write to rollouts and steps. The engine owns the step statuses and the rules; step
apps call step_complete() and record their own events through record_event()."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jarfalla import sql
from rollout import steps
from rollout.models import (
    OPEN_STATUSES,
    Rollout,
    RolloutStatus,
    Step,
    StepState,
    StepStatus,
    TimelineEvent,
)
from units import freshness
from units.models import Unit, User


class RolloutError(Exception):
    """A request the rules refuse; the message is shown to the person."""


def record_event(
    *,
    unit: Unit,
    kind: str,
    actor: User | None,
    rollout: Rollout | None = None,
    step: int | None = None,
    at: dt.datetime | None = None,
    rollout_touched: bool = False,
    **params: Any,
) -> None:
    """The event (at ``at``, by default now), a new generation for the municipality
    (units.freshness) and the rollout's last activity, unless ``rollout_touched``: the caller
    has noted it already (touch_active_rollout)."""
    # Written with jarfalla.sql: every change in the product records an event, and the ORM's
    # SQL building took longer than the two statements themselves.
    at = at or timezone.now()
    sql.insert(
        TimelineEvent,
        unit_id=unit.pk,
        rollout_id=rollout.pk if rollout else None,
        step=step,
        actor_id=actor.pk if actor else None,
        actor_email=actor.email if actor else "",
        at=at,
        kind=kind,
        params=params,
    )
    freshness.changed(unit.municipality_id)
    if rollout is not None and not rollout_touched:
        sql.update(Rollout, rollout.pk, last_activity_at=at)


# Written out (see touch_active_rollout). The later of the two times: a report that waited for
# the lock must not set the activity back to before the one it waited for.
_TOUCH_ACTIVE_SQL = (
    "UPDATE rollout_rollout SET last_activity_at = CASE WHEN last_activity_at > %(at)s "
    "THEN last_activity_at ELSE %(at)s END, "
    "web_course_completed = web_course_completed + %(web_course_added)s "
    "WHERE unit_id = %(unit)s AND status = %(active)s RETURNING id, web_course_completed"
)


def touch_active_rollout(
    *, unit_id: int, at: dt.datetime, web_course_added: int = 0
) -> tuple[int, int] | None:
    """Notes activity on the unit's active rollout, which takes the rollout's row lock until
    the transaction ends (step changes take the same lock through _locked), and adds
    ``web_course_added`` to its step 1 total. Returns its id and that total (as it is now,
    after whatever the lock waited for), or None when the unit has no active rollout. One
    statement, for the step reports that a unit sends often."""
    field = Rollout._meta.get_field("last_activity_at")
    with connection.cursor() as cursor:
        cursor.execute(
            _TOUCH_ACTIVE_SQL,
            {
                "at": field.get_db_prep_save(at, connection),
                "unit": unit_id,
                "active": RolloutStatus.ACTIVE,
                "web_course_added": web_course_added,
            },
        )
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def _lock_unit(unit: Unit) -> None:
    # Serialises rollout changes per unit: two tabs or a double submit queue up here instead
    # of both passing the checks.
    Unit.objects.select_for_update().filter(pk=unit.pk).first()


def _open_rollout(unit: Unit) -> Rollout | None:
    return Rollout.objects.filter(unit=unit, status__in=OPEN_STATUSES).first()


def _next_round(unit: Unit) -> int:
    last = (
        Rollout.objects.filter(unit=unit).order_by("-round").values_list("round", flat=True).first()
    )
    return (last or 0) + 1


def _activate(rollout: Rollout, actor: User) -> None:
    now = timezone.now()
    rollout.status = RolloutStatus.ACTIVE
    rollout.started_at = now
    rollout.started_by = actor
    rollout.save()
    StepState.objects.bulk_create(
        StepState(
            rollout=rollout,
            step=step,
            status=StepStatus.IN_PROGRESS if step == Step.WEB_COURSE else StepStatus.NOT_STARTED,
            started_at=now if step == Step.WEB_COURSE else None,
        )
        for step in Step.values
    )


@transaction.atomic
def rollout_start(*, actor: User, unit: Unit) -> Rollout:
    """The coordinator starts a new round for a unit (or the first one)."""
    _lock_unit(unit)
    if _open_rollout(unit):
        raise RolloutError(_("Enheten har redan ett pågående införande."))
    refuse_archived(unit)
    try:
        with transaction.atomic():
            rollout = Rollout(unit=unit, round=_next_round(unit))
            _activate(rollout, actor)
    except IntegrityError:
        raise RolloutError(_("Enheten har redan ett pågående införande.")) from None
    record_event(
        unit=unit, rollout=rollout, kind="rollout.started", actor=actor, round=rollout.round
    )
    return rollout


@transaction.atomic
def rollout_start_many(*, actor: User, units: Iterable[Unit]) -> tuple[list[Rollout], list[Unit]]:
    """The coordinator starts a wave of units at once (the unit table). Each unit goes through
    rollout_start; those it refuses (they got a rollout or were archived since the table was
    drawn) are skipped, not errors. Returns the rollouts started and the units skipped. The
    caller has checked that the actor may start every one of them."""
    # Locked in one order, by id, so that two overlapping waves queue up instead of each
    # holding a unit the other waits for; read again under the lock, so that a unit archived
    # meanwhile is seen as archived.
    locked = list(
        Unit.objects.select_for_update().filter(pk__in=[unit.pk for unit in units]).order_by("pk")
    )
    started: list[Rollout] = []
    skipped: list[Unit] = []
    for unit in locked:
        try:
            # rollout_start's own atomic block is a savepoint here: a refusal undoes its unit
            # only.
            started.append(rollout_start(actor=actor, unit=unit))
        except RolloutError:
            skipped.append(unit)
    return started, skipped


@transaction.atomic
def rollout_request(*, actor: User, unit: Unit) -> Rollout:
    """A unit manager asks to join; the coordinator accepts or declines."""
    _lock_unit(unit)
    refuse_archived(unit)
    if _open_rollout(unit):
        raise RolloutError(_("Enheten har redan ett pågående införande eller en förfrågan."))
    rollout = Rollout.objects.create(
        unit=unit, round=_next_round(unit), status=RolloutStatus.REQUESTED, requested_by=actor
    )
    record_event(unit=unit, rollout=rollout, kind="rollout.requested", actor=actor)
    return rollout


ARCHIVED = _("Enheten är arkiverad: inget i dess införande kan ändras förrän den är återställd.")


def refuse_archived(unit: Unit) -> None:
    """No work on an archived unit's rollout (it stands still until the unit is restored): an
    active rollout of an archived unit gets no reminders and no row on the dashboard."""
    if not unit.is_active:
        raise RolloutError(ARCHIVED)


def _locked(rollout: Rollout) -> Rollout:
    return Rollout.objects.select_for_update().select_related("unit").get(pk=rollout.pk)


@transaction.atomic
def rollout_accept(*, actor: User, rollout: Rollout) -> Rollout:
    rollout = _locked(rollout)
    if rollout.status != RolloutStatus.REQUESTED:
        raise RolloutError(_("Förfrågan är redan besvarad."))
    refuse_archived(rollout.unit)
    _activate(rollout, actor)
    record_event(unit=rollout.unit, rollout=rollout, kind="rollout.accepted", actor=actor)
    return rollout


@transaction.atomic
def rollout_decline(*, actor: User, rollout: Rollout, reason: str) -> Rollout:
    rollout = _locked(rollout)
    if rollout.status != RolloutStatus.REQUESTED:
        raise RolloutError(_("Förfrågan är redan besvarad."))
    rollout.status = RolloutStatus.DECLINED
    rollout.save(update_fields=["status"])
    record_event(
        unit=rollout.unit, rollout=rollout, kind="rollout.declined", actor=actor, reason=reason
    )
    return rollout


@transaction.atomic
def rollout_pause(*, actor: User, rollout: Rollout, reason: str) -> Rollout:
    rollout = _locked(rollout)
    if rollout.status != RolloutStatus.ACTIVE:
        raise RolloutError(_("Bara ett pågående införande kan pausas."))
    rollout.status, rollout.paused_at, rollout.pause_reason = (
        RolloutStatus.PAUSED,
        timezone.now(),
        reason,
    )
    rollout.save(update_fields=["status", "paused_at", "pause_reason"])
    record_event(
        unit=rollout.unit, rollout=rollout, kind="rollout.paused", actor=actor, reason=reason
    )
    return rollout


@transaction.atomic
def rollout_resume(*, actor: User, rollout: Rollout) -> Rollout:
    rollout = _locked(rollout)
    if rollout.status != RolloutStatus.PAUSED:
        raise RolloutError(_("Införandet är inte pausat."))
    refuse_archived(rollout.unit)
    rollout.status, rollout.paused_at, rollout.pause_reason = RolloutStatus.ACTIVE, None, ""
    rollout.save(update_fields=["status", "paused_at", "pause_reason"])
    record_event(unit=rollout.unit, rollout=rollout, kind="rollout.resumed", actor=actor)
    return rollout


@transaction.atomic
def checkin_nothing_new(*, actor: User, rollout: Rollout) -> Rollout:
    rollout = _locked(rollout)
    refuse_archived(rollout.unit)
    # "Nothing new" quiets the nudges for a while, and only active rollouts are nudged: a round
    # that waits to be accepted or is paused has nothing to confirm.
    if rollout.status == RolloutStatus.REQUESTED:
        raise RolloutError(_("Införandet har inte startat ännu."))
    if rollout.status == RolloutStatus.PAUSED:
        raise RolloutError(_("Införandet är pausat, så inget behöver bekräftas just nu."))
    if rollout.status not in OPEN_STATUSES:
        raise RolloutError(_("Införandet är avslutat."))
    rollout.last_checkin_at = timezone.now()
    rollout.save(update_fields=["last_checkin_at"])
    record_event(unit=rollout.unit, rollout=rollout, kind="rollout.checkin", actor=actor)
    return rollout


def _state(rollout: Rollout, step: int) -> StepState:
    return StepState.objects.select_for_update().get(rollout=rollout, step=step)


@transaction.atomic
def step_start_early(*, actor: User, rollout: Rollout, step: int, reason: str) -> StepState:
    """The coordinator starts a step before the previous one is done, with a written reason."""
    rollout = _locked(rollout)
    refuse_archived(rollout.unit)
    if rollout.status != RolloutStatus.ACTIVE:
        raise RolloutError(_("Införandet är inte aktivt."))
    if not reason.strip():
        raise RolloutError(_("Skriv varför steget ska påbörjas i förtid."))
    state = _state(rollout, step)
    if state.status != StepStatus.NOT_STARTED:
        raise RolloutError(_("Steget är redan påbörjat."))
    state.status, state.started_at, state.override_reason = (
        StepStatus.IN_PROGRESS,
        timezone.now(),
        reason,
    )
    state.save()
    steps.started(rollout, step)
    record_event(
        unit=rollout.unit,
        rollout=rollout,
        step=step,
        kind="step.started_early",
        actor=actor,
        reason=reason,
    )
    return state


@transaction.atomic
def step_complete(*, actor: User, rollout: Rollout, step: int) -> bool:
    """Mark a step done and start the next; after step 4 the rollout is complete.

    Returns False (and changes nothing) when the step was already done, whatever the rollout's
    status: a repeated POST is harmless, and so is a routine revised and implemented again after
    the round. Raises RolloutError when the rollout is not active, or the step not under way:
    steps run in order, and only the coordinator's early start (with a reason) lets a later one
    begin first."""
    rollout = _locked(rollout)
    refuse_archived(rollout.unit)
    state = _state(rollout, step)
    if state.status == StepStatus.DONE:
        return False
    if rollout.status != RolloutStatus.ACTIVE:
        raise RolloutError(_("Införandet är inte aktivt."))
    if state.status != StepStatus.IN_PROGRESS:
        raise RolloutError(_("Steget är inte påbörjat. Föregående steg måste bli klart först."))
    now = timezone.now()
    state.status, state.completed_at, state.completed_by = StepStatus.DONE, now, actor
    state.save()
    record_event(unit=rollout.unit, rollout=rollout, step=step, kind="step.completed", actor=actor)
    following = StepState.objects.select_for_update().filter(rollout=rollout, step=step + 1).first()
    if following is not None and following.status == StepStatus.NOT_STARTED:
        following.status, following.started_at = StepStatus.IN_PROGRESS, now
        following.save()
        steps.started(rollout, step + 1)
        record_event(
            unit=rollout.unit, rollout=rollout, step=step + 1, kind="step.started", actor=actor
        )
    if not StepState.objects.filter(rollout=rollout).exclude(status=StepStatus.DONE).exists():
        rollout.status, rollout.completed_at = RolloutStatus.COMPLETED, now
        rollout.save(update_fields=["status", "completed_at"])
        record_event(unit=rollout.unit, rollout=rollout, kind="rollout.completed", actor=actor)
        _issue_certificate(rollout)
    return True


def _issue_certificate(rollout: Rollout) -> None:
    """The unit's certificate (intyg), made by the worker once the completed round is committed."""
    # Imported late: rollout.tasks pulls in the report and PDF modules, which the engine and
    # every step app importing it do not otherwise need.
    from rollout.tasks import render_certificate

    render_certificate.delay_on_commit(rollout.pk)  # type: ignore[attr-defined]
