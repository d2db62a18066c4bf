"""Writes for step 1: web-course reports and marking the step done."""

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup.invitations import Invitation, queue_calendar_invitations
from jarfalla import sql
from rollout import services as engine
from rollout.models import OPEN_STATUSES, Rollout, RolloutStatus, Step, StepState, StepStatus
from training import ical
from training.models import (
    CalendarFeed,
    SessionStatus,
    Theme,
    TrainingSession,
    TrainingWish,
    WebCourseReport,
)
from training.selectors import share, web_course_completed
from units import services as unit_services
from units.models import Municipality, Role, Unit, User


def web_course_report(
    *,
    actor: User,
    unit_id: int,
    reported_on: dt.date,
    completed_count: int,
    mode: str,
    group_sessions: int,
    knowledge_level: int,
    reflections: str,
    new_headcount: int | None = None,
) -> WebCourseReport:
    """A report for the unit's active rollout, while its step 1 is under way.

    Everything that needs no database is checked before the rollout is locked. Under the lock
    (from touch_active_rollout to the commit) come only the read of the step and the headcount
    and the two inserts: every report of the unit, and every step change, waits for it."""
    report = WebCourseReport(
        reported_on=reported_on,
        completed_count=completed_count,
        mode=mode,
        group_sessions=group_sessions,
        knowledge_level=knowledge_level,
        reflections=reflections,
        reported_by=actor,
    )
    # The field rules (the privacy validator among them). Not the foreign keys, which the lock
    # below reads, nor the level's check constraint, which repeats the field's range and is
    # enforced by the database.
    report.full_clean(
        exclude=["rollout", "reported_by", "headcount_at_report"], validate_constraints=False
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # The rollout's row lock, taken by noting the activity and adding to the step's total
        # (every change to its steps takes the same lock, so reports and step changes of a unit
        # queue up here). A refusal below rolls the addition back with the rest.
        touched = engine.touch_active_rollout(
            unit_id=unit_id, at=timezone.now(), web_course_added=completed_count
        )
        if touched is None:
            raise engine.RolloutError(_("Införandet är inte aktivt."))
        rollout_id, total = touched
        # Taken with the lock held, so that the unit's reports and their events follow the order
        # in which the lock let them through (each event holds the total so far).
        at = timezone.now()
        if new_headcount is not None:
            # Locked (after the rollout, in the order step changes use): unit_update saves the
            # whole row, which must not undo a concurrent edit of the unit.
            unit = (
                Unit.objects.select_for_update(of=("self",))
                .select_related("municipality")
                .get(pk=unit_id)
            )
            if new_headcount != unit.headcount:
                unit_services.unit_update(actor=actor, unit=unit, headcount=new_headcount)
        # A statement of its own after the lock is held: it sees what was committed while this
        # report waited (a statement sees only what was committed when it began).
        cursor.execute(_STEP_SQL, {"rollout": rollout_id, "unit": unit_id, "step": Step.WEB_COURSE})
        status, headcount, municipality_id, is_active = cursor.fetchone()
        unit = Unit(
            pk=unit_id, municipality_id=municipality_id, headcount=headcount, is_active=is_active
        )
        engine.refuse_archived(unit)
        if status != StepStatus.IN_PROGRESS:
            raise engine.RolloutError(_("Steg 1 är inte pågående."))
        if total > unit.headcount:
            raise engine.RolloutError(
                _("Fler har gått kursen (%(total)s) än det finns anställda (%(headcount)s).")
                % {"total": total, "headcount": unit.headcount}
            )
        report.rollout_id, report.headcount_at_report = rollout_id, unit.headcount
        report.created_at = at
        report.pk = sql.insert(
            WebCourseReport,
            **{field: getattr(report, field) for field in _REPORT_COLUMNS},
        )
        report._state.adding, report._state.db = False, connection.alias
        engine.record_event(
            unit=unit,
            rollout=Rollout(pk=rollout_id, unit_id=unit_id),
            at=at,
            rollout_touched=True,
            step=Step.WEB_COURSE,
            kind="web_course.reported",
            actor=actor,
            completed=completed_count,
            total=total,
            headcount=unit.headcount,
        )
    return report


# Written out, as the ORM took longer to build these than PostgreSQL took to run them
# (tests/training/test_web_course_report.py checks them against the models).
# The step's status, the unit's headcount and its municipality (the total so far comes with
# the lock, from touch_active_rollout).
_STEP_SQL = (
    "SELECT s.status, u.headcount, u.municipality_id, u.is_active FROM rollout_stepstate s "
    "JOIN units_unit u ON u.id = %(unit)s WHERE s.rollout_id = %(rollout)s AND s.step = %(step)s"
)
# Every column but the id, in the model's order.
_REPORT_COLUMNS = tuple(
    field.attname for field in WebCourseReport._meta.concrete_fields if not field.primary_key
)


def may_complete(*, rollout: Rollout, is_coordinator: bool) -> bool:
    """The coordinator may close step 1 at any time; the manager once the threshold is reached."""
    if is_coordinator:
        return True
    threshold = rollout.unit.municipality.web_course_threshold_percent / 100
    return share(web_course_completed(rollout=rollout), rollout.unit.headcount) >= threshold


@transaction.atomic
def web_course_complete(*, actor: User, rollout: Rollout, is_coordinator: bool) -> bool:
    # The total as it is now, not as it was when the caller read the rollout.
    rollout.refresh_from_db(fields=["web_course_completed"])
    if not may_complete(rollout=rollout, is_coordinator=is_coordinator):
        # The coordinator may have closed the step below the threshold while the manager's
        # page was open: done already, which is no reason to tell them about the threshold.
        if StepState.objects.filter(
            rollout=rollout, step=Step.WEB_COURSE, status=StepStatus.DONE
        ).exists():
            return False
        raise engine.RolloutError(
            _("Steg 1 kan markeras som klart när %(percent)s %% av personalen har gått kursen.")
            % {"percent": rollout.unit.municipality.web_course_threshold_percent}
        )
    return engine.step_complete(actor=actor, rollout=rollout, step=Step.WEB_COURSE)


# --- Step 2: themes, wishes, sessions ------------------------------------------------------

DEFAULT_THEMES = (
    (
        "Vad är hedersrelaterat våld och förtryck – ideologi och begrepp",
        "Hedersnormer, kollektiv kontroll och de begrepp som används i arbetet.",
    ),
    ("Tecken och tidig upptäckt", "Vad personalen kan se och höra, och hur man ställer frågor."),
    (
        "Barnets perspektiv och rättigheter",
        "Barnkonventionen och barnets rätt att komma till tals.",
    ),
    (
        "Anmälningsplikt och samverkan med socialtjänsten",
        "Orosanmälan enligt socialtjänstlagen och hur samverkan går till.",
    ),
    ("Samtal med unga och föräldrar", "Att samtala om normer och gränser utan att öka risken."),
    ("Skydd och stöd", "Vilket skydd och stöd som finns och vem som gör vad."),
    ("Civilsamhällets roll", "Hur föreningar och nätverk kan förebygga och stödja."),
)


def themes_ensure_defaults(*, municipality: Municipality) -> None:
    """Give a municipality the default catalogue the first time it is needed."""
    if Theme.objects.filter(municipality=municipality).exists():
        return
    Theme.objects.bulk_create(
        [
            Theme(municipality=municipality, name=name, description=description, position=index)
            for index, (name, description) in enumerate(DEFAULT_THEMES)
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def theme_save(
    *,
    actor: User,
    municipality: Municipality,
    theme: Theme | None,
    name: str,
    description: str,
    is_active: bool,
) -> Theme:
    theme = theme or Theme(
        municipality=municipality, position=Theme.objects.filter(municipality=municipality).count()
    )
    created = theme.pk is None
    theme.name, theme.description, theme.is_active = name, description, is_active
    theme.full_clean()
    theme.save()
    unit_services.audit_record(
        actor=actor,
        action="theme.created" if created else "theme.changed",
        target=theme,
        municipality=municipality,
        changes={"name": (None, name), "is_active": (None, is_active)},
    )
    return theme


@transaction.atomic
def wish_save(
    *, actor: User, rollout: Rollout, themes: Iterable[Theme], suggested_dates: str, note: str
) -> TrainingWish:
    wish, _created = TrainingWish.objects.get_or_create(
        rollout=rollout, defaults={"updated_by": actor}
    )
    wish.suggested_dates, wish.note, wish.updated_by = suggested_dates, note, actor
    wish.full_clean()
    wish.save()
    wish.themes.set(themes)
    engine.record_event(
        unit=rollout.unit,
        rollout=rollout,
        step=Step.TRAINING,
        kind="training.wishes",
        actor=actor,
        themes=[theme.name for theme in wish.themes.all()],
    )
    return wish


def _notify(session: TrainingSession) -> None:
    """Queue the managers' invitations in the booking's own transaction, so that they are kept
    whatever happens to the mail server or the broker (sent once it commits)."""
    session_invitation_queue(session=session)


def _apply(
    session: TrainingSession,
    *,
    starts_at: dt.datetime,
    duration_minutes: int,
    place: str,
    video_url: str,
    themes: Iterable[Theme],
    expected_participants: int,
    leader: User,
) -> None:
    session.starts_at, session.duration_minutes = starts_at, duration_minutes
    session.place, session.video_url = place, video_url
    session.expected_participants, session.leader = expected_participants, leader
    session.full_clean()
    session.save()
    session.themes.set(themes)


def _check_bookable(rollout: Rollout) -> None:
    if rollout.status != RolloutStatus.ACTIVE:
        raise engine.RolloutError(_("Införandet är inte aktivt."))
    engine.refuse_archived(rollout.unit)
    state = StepState.objects.get(rollout=rollout, step=Step.TRAINING)
    if state.status == StepStatus.DONE:
        raise engine.RolloutError(_("Steg 2 är redan klart."))


@transaction.atomic
def session_book(
    *,
    actor: User,
    rollout: Rollout,
    starts_at: dt.datetime,
    duration_minutes: int,
    place: str,
    video_url: str,
    themes: Iterable[Theme],
    expected_participants: int,
    leader: User,
) -> TrainingSession:
    rollout = (
        Rollout.objects.select_for_update().select_related("unit__municipality").get(pk=rollout.pk)
    )
    _check_bookable(rollout)
    session = TrainingSession(rollout=rollout, created_by=actor)
    _apply(
        session,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        place=place,
        video_url=video_url,
        themes=themes,
        expected_participants=expected_participants,
        leader=leader,
    )
    engine.record_event(
        unit=rollout.unit,
        rollout=rollout,
        step=Step.TRAINING,
        kind="training.booked",
        actor=actor,
        starts=timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
    )
    _notify(session)
    return session


def _locked_session(session: TrainingSession) -> TrainingSession:
    locked = (
        TrainingSession.objects.select_for_update()
        .select_related("rollout__unit")
        .get(pk=session.pk)
    )
    if locked.status == SessionStatus.CANCELLED:
        raise engine.RolloutError(_("Tillfället är inställt och kan inte ändras."))
    return locked


@transaction.atomic
def session_reschedule(
    *,
    actor: User,
    session: TrainingSession,
    starts_at: dt.datetime,
    duration_minutes: int,
    place: str,
    video_url: str,
    themes: Iterable[Theme],
    expected_participants: int,
    leader: User,
) -> TrainingSession:
    session = _locked_session(session)
    if session.status == SessionStatus.HELD:
        raise engine.RolloutError(_("Tillfället är redan genomfört."))
    if session.rollout.status not in OPEN_STATUSES:
        # A session left booked in a round that has ended can be cancelled, not moved.
        raise engine.RolloutError(_("Införandet är avslutat. Ställ in tillfället i stället."))
    before = timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M")
    session.sequence += 1
    _apply(
        session,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        place=place,
        video_url=video_url,
        themes=themes,
        expected_participants=expected_participants,
        leader=leader,
    )
    engine.record_event(
        unit=session.rollout.unit,
        rollout=session.rollout,
        step=Step.TRAINING,
        kind="training.rescheduled",
        actor=actor,
        before=before,
        after=timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
    )
    _notify(session)
    return session


@transaction.atomic
def session_cancel(*, actor: User, session: TrainingSession, reason: str) -> TrainingSession:
    session = _locked_session(session)
    if session.status == SessionStatus.HELD:
        raise engine.RolloutError(_("Tillfället är redan genomfört."))
    session.status = SessionStatus.CANCELLED
    session.sequence += 1
    session.save(update_fields=["status", "sequence", "updated_at"])
    engine.record_event(
        unit=session.rollout.unit,
        rollout=session.rollout,
        step=Step.TRAINING,
        kind="training.cancelled",
        actor=actor,
        starts=timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M"),
        reason=reason,
    )
    _notify(session)
    return session


@transaction.atomic
def session_record_held(
    *,
    actor: User,
    session: TrainingSession,
    participants: int,
    exercises: str,
    rating: int | None,
    notes: str,
) -> TrainingSession:
    session = _locked_session(session)
    if session.starts_at > timezone.now():
        raise engine.RolloutError(_("Tillfället har inte börjat ännu."))
    session.status = SessionStatus.HELD
    session.participants, session.exercises, session.rating, session.notes = (
        participants,
        exercises,
        rating,
        notes,
    )
    session.full_clean()
    session.save()
    engine.record_event(
        unit=session.rollout.unit,
        rollout=session.rollout,
        step=Step.TRAINING,
        kind="training.held",
        actor=actor,
        participants=participants,
    )
    return session


@transaction.atomic
def training_complete(*, actor: User, rollout: Rollout) -> bool:
    if not TrainingSession.objects.filter(rollout=rollout, status=SessionStatus.HELD).exists():
        raise engine.RolloutError(
            _("Steg 2 kan markeras som klart när minst ett utbildningstillfälle är genomfört.")
        )
    return engine.step_complete(actor=actor, rollout=rollout, step=Step.TRAINING)


def invitation_key(session: TrainingSession) -> str:
    """The outbox key of the invitation for this state (sequence) of the session."""
    return f"training:{session.uid}:{session.sequence}"


def session_invitation_queue(*, session: TrainingSession) -> int:
    """Queue in the outbox, for each of the unit's managers, an e-mail with the calendar file for
    the session's current state, in the language each chose for e-mail. The reminder dispatcher
    sends them (exactly once, retried while the mail server is away). Keyed by the session's
    UID and sequence: queuing the same state again adds nothing; an earlier state's invitation
    that has not gone out yet is cancelled, as this one replaces it. Returns how many were new."""
    session = (
        TrainingSession.objects.select_related("rollout__unit__municipality", "leader")
        .prefetch_related("themes")
        .get(pk=session.pk)
    )
    unit = session.rollout.unit

    def build(attendees: Sequence[str]) -> Invitation:
        method, ics = ical.invitation(session, attendees=attendees)
        context = {"session": session, "unit": unit, "cancelled": method == "CANCEL"}
        subject = render_to_string("training/email/session_subject.txt", context).strip()
        body = render_to_string("training/email/session_body.txt", context)
        return Invitation(method=method, ics=ics, subject=subject, body=body)

    return queue_calendar_invitations(
        unit=unit,
        kind="training",
        subject_key=invitation_key(session),
        due_on=timezone.localtime(session.starts_at).date(),
        build=build,
        supersedes=(
            f"training:{session.uid}:{session.sequence - 1}" if session.sequence > 0 else None
        ),
    )


def calendar_feed_token_hash(token: str) -> str:
    """What is stored of a feed token (and looked up by): its SHA-256 digest."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_renew(*, user: User) -> tuple[CalendarFeed, str]:
    """Create the private feed address, or replace it (the old address stops working).

    Returns the feed and its token: only the token's digest is stored, so this is the one
    moment the address can be shown."""
    token = secrets.token_urlsafe(32)
    feed, created = CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_hash": calendar_feed_token_hash(token)}
    )
    # A new address is a new credential: keep a trace (never the token itself).
    unit_services.audit_record(
        actor=user,
        action="calendar_feed.created" if created else "calendar_feed.renewed",
        target=feed,
        municipality=None,
    )
    return feed, token


@transaction.atomic
def calendar_feed_revoke_if_unbacked(*, user: User) -> bool:
    """Delete the person's feed address if they may no longer have one: deactivated, or no
    longer coordinator anywhere (nor superuser). Run on every change of account or role
    (training.receivers), also those made in the admin; reactivation or a new role does not
    bring an old address back. Returns whether an address was revoked."""
    feeds = CalendarFeed.objects.filter(user=user)
    if user.is_active and user.is_superuser:
        return False
    if user.is_active:
        feeds = feeds.exclude(user__municipal_roles__role=Role.COORDINATOR)
    feed = feeds.first()
    if feed is None:
        return False
    feed_id = feed.pk
    feed.delete()
    feed.pk = feed_id  # the trail names what was revoked
    unit_services.audit_record(
        actor=None, action="calendar_feed.revoked", target=feed, municipality=None
    )
    return True
