"""The sweep: derive reminder rows from the state of the work (idempotent, see outbox keys).

- coordinators get a digest (daily, or Mondays when weekly) of what needs them, nothing when
  nothing does;
- unit managers get nudges for their own pending actions, quiet for two weeks after an
  "inget nytt" check-in; a nudge ignored for a week is escalated to the coordinators;
- booked follow-ups get a notice two days ahead;
- digests, nudges and escalations stop when the person turns them off on the settings page,
  which promises that only meeting notices are always sent;
- what was queued but is still waiting to go out (a refused send waits for its retry) is
  cancelled once it is not wanted: nudges and escalations when the action no longer waits, a
  digest when the next day's replaces it;
- nothing for paused or completed rollouts or archived units."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Min
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from followup import followups
from followup import services as outbox
from followup.models import (
    WEEKLY_DIGEST_DAY,
    DigestFrequency,
    FollowUp,
    FollowUpStatus,
    NotificationSettings,
    Reminder,
    ReminderStatus,
)
from followup.selectors import failed_reminders
from jarfalla.mail import site_url
from rollout import steps
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus, TimelineEvent
from rollout.steps import DigestItem
from units import selectors as unit_selectors
from units.models import MunicipalRole, Role, Unit, User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

NUDGE_AFTER = dt.timedelta(days=14)
QUIET_AFTER_CHECKIN = dt.timedelta(days=14)
ESCALATE_AFTER = dt.timedelta(days=7)
STALLED_AFTER = dt.timedelta(days=30)
# Lines per section of the digest; the rest are counted, with a link to the dashboard. A large
# municipality can have hundreds of units without progress, and every digest is kept in the outbox.
DIGEST_SECTION_ITEMS = 10
MEETING_NOTICE = dt.timedelta(days=2)


def _settings(user: User) -> NotificationSettings:
    return NotificationSettings.objects.filter(user=user).first() or NotificationSettings(user=user)


def _send(
    *,
    user: User,
    kind: str,
    key: str,
    due_on: dt.date,
    template: str,
    context: dict[str, object],
    unit: Unit | None = None,
    prefs: NotificationSettings | None = None,
    requeue_outdated: bool = False,
) -> bool:
    """Schedule one reminder, written in the person's language (``prefs``: their settings when
    the caller has already read them; ``requeue_outdated``: see outbox.schedule)."""
    prefs = prefs or _settings(user)
    with translation.override(unit_selectors.mail_language(prefs)):
        context = context | {"user": user, "settings_url": site_url(reverse("followup:settings"))}
        subject = render_to_string(f"followup/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"followup/email/{template}_body.txt", context)
        html = render_to_string(f"followup/email/{template}_body.html", context)
    _reminder, created = outbox.schedule(
        recipient=user,
        kind=kind,
        subject_key=key,
        due_on=due_on,
        subject=subject,
        body=body,
        html=html,
        unit=unit,
        requeue_outdated=requeue_outdated,
    )
    return created


@dataclass(frozen=True)
class Nudge:
    rollout: Rollout
    key: str
    due_on: dt.date
    text: "StrOrPromise"  # rendered in the recipient's language
    path: str
    # When the action began: nudges with the same key sent before it were about an earlier
    # round (a routine sent back and sent for review again) and were not ignored in this one.
    since: dt.datetime | None = None
    # Whether it is time to nudge about it; an action that waits but is not due yet still
    # keeps the nudges and escalations already queued about it.
    due: bool = True


# The subjects of the nudges and escalations the sweep derives (see _waiting_nudges).
NUDGE_KEYS = ("web_course:", "routine-review:")


def _digests(today: dt.date, now: dt.datetime) -> int:
    municipalities: dict[User, list[int]] = defaultdict(list)
    for role in MunicipalRole.objects.filter(
        role=Role.COORDINATOR, user__is_active=True
    ).select_related("user"):
        municipalities[role.user].append(role.municipality_id)
    created = 0
    for user, ids in municipalities.items():
        prefs = _settings(user)
        if prefs.digest == DigestFrequency.NEVER or (
            prefs.digest == DigestFrequency.WEEKLY and today.isoweekday() != WEEKLY_DIGEST_DAY
        ):
            continue
        with translation.override(unit_selectors.mail_language(prefs)):
            items = steps.digest_items(ids, today)
            for rollout in (
                Rollout.objects.filter(
                    unit__municipality_id__in=ids,
                    unit__is_active=True,
                    status=RolloutStatus.ACTIVE,
                    last_activity_at__lt=now - STALLED_AFTER,
                )
                .exclude(
                    # Months of quiet are expected while waiting for the follow-ups. One subquery
                    # for both conditions: exclude() with two conditions on the steps would leave
                    # out every rollout with any step in progress, since each has a step 4 row.
                    pk__in=StepState.objects.filter(
                        step=Step.FOLLOW_UP, status=StepStatus.IN_PROGRESS
                    ).values("rollout_id"),
                )
                .select_related("unit")
            ):
                items.append(
                    DigestItem(
                        _("Enheter utan framsteg på 30 dagar"),
                        rollout.unit.name,
                        reverse("units:detail", args=[rollout.unit_id]),
                    )
                )
            # One query each for the count and where to look: the outbox or people page of a
            # municipality that has them, which is the only one for most coordinators (a failed
            # digest belongs to no unit: then the first).
            failed = failed_reminders(municipality_ids=ids).aggregate(
                count=Count("pk", distinct=True), municipality_id=Min("unit__municipality_id")
            )
            if failed["count"]:
                items.append(
                    DigestItem(
                        _("Påminnelser som inte kunde skickas"),
                        _("%(count)s st.") % {"count": failed["count"]},
                        reverse("followup:outbox", args=[failed["municipality_id"] or ids[0]]),
                    )
                )
            invitations = unit_selectors.failed_invitations(
                municipality_ids=ids, now=now
            ).aggregate(count=Count("pk"), municipality_id=Min("municipality_id"))
            if invitations["count"]:
                items.append(
                    DigestItem(
                        _("Inbjudningar som inte kunde skickas"),
                        _("%(count)s st.") % {"count": invitations["count"]},
                        reverse("units:people", args=[invitations["municipality_id"]]),
                    )
                )
        if not items:
            continue
        sections: dict[str, list[DigestItem]] = defaultdict(list)
        more: dict[str, int] = defaultdict(int)
        for item in items:
            if len(sections[item.section]) < DIGEST_SECTION_ITEMS:
                sections[item.section].append(
                    DigestItem(item.section, item.text, site_url(item.url))
                )
            else:
                more[item.section] += 1
        key = f"digest:{user.pk}"
        if _send(
            user=user,
            prefs=prefs,
            kind="digest",
            key=key,
            due_on=today,
            template="digest",
            context={
                "sections": [(name, shown, more[name]) for name, shown in sections.items()],
                "dashboard_url": site_url(reverse("rollout:dashboard_home")),
                "today": today,
            },
        ):
            created += 1
            # An earlier day's digest still waiting (the mail server refused it) is outdated
            # by this one: one digest, the latest, is what the person asked for.
            outbox.cancel(subject_key=key, kinds=("digest",), due_before=today)
    return created


def _waiting_nudges(today: dt.date, now: dt.datetime) -> list[Nudge]:
    """The manager-side actions that are waiting, for active rollouts of active units outside
    a quiet period after a check-in; those it is not yet time to nudge about are not ``due``."""
    active = Rollout.objects.filter(status=RolloutStatus.ACTIVE, unit__is_active=True).exclude(
        last_checkin_at__gte=now - QUIET_AFTER_CHECKIN
    )
    nudges: list[Nudge] = []
    web_course = list(
        active.filter(
            steps__step=Step.WEB_COURSE, steps__status=StepStatus.IN_PROGRESS
        ).select_related("unit__municipality")
    )
    facts = steps.facts_for(web_course)
    started_at = dict(
        StepState.objects.filter(rollout__in=web_course, step=Step.WEB_COURSE).values_list(
            "rollout_id", "started_at"
        )
    )
    for rollout in web_course:
        if facts.get(rollout.pk, {}).get(Step.WEB_COURSE, {}).get("reports"):
            continue
        started = started_at.get(rollout.pk) or now
        nudges.append(
            Nudge(
                rollout,
                f"web_course:{rollout.pk}",
                timezone.localtime(started + NUDGE_AFTER).date(),
                gettext_lazy("Rapportera hur många som har gått Webbkurs Heder."),
                reverse("training:web_course", args=[rollout.unit_id]),
                due=started <= now - NUDGE_AFTER,
            )
        )
    review = list(
        active.filter(
            steps__step=Step.ROUTINES, steps__status=StepStatus.IN_PROGRESS
        ).select_related("unit__municipality")
    )
    facts = steps.facts_for(review)
    sent_for_review = dict(
        TimelineEvent.objects.filter(rollout__in=review, kind="routine.review")
        .values("rollout_id")
        .annotate(last=Max("at"))
        .values_list("rollout_id", "last")
    )
    monday = today - dt.timedelta(days=today.weekday())
    for rollout in review:
        routine = facts.get(rollout.pk, {}).get(Step.ROUTINES, {})
        if routine.get("awaiting_approval") and not routine.get("manager_approved"):
            nudges.append(
                Nudge(
                    rollout,
                    f"routine-review:{rollout.pk}",
                    monday,
                    gettext_lazy("Rutinen väntar på att du läser och godkänner den."),
                    reverse("routines:routine", args=[rollout.unit_id]),
                    since=sent_for_review.get(rollout.pk),
                )
            )
    return nudges


def _nudges(today: dt.date, now: dt.datetime) -> int:
    waiting = _waiting_nudges(today, now)
    # A nudge or escalation queued while the work was waiting may still be pending (in backoff
    # after the mail server refused it) when the unit has done it, the rollout was paused or
    # completed, the unit archived or the manager checked in: the sweep runs before every
    # dispatch, so it is cancelled here before it goes out. Compared on every waiting action,
    # due or not: what was queued is not outdated merely because it would not be queued now.
    outbox.cancel_all_but(
        kinds=("nudge", "escalation"),
        key_prefixes=NUDGE_KEYS,
        keep={nudge.key for nudge in waiting},
    )
    created = 0
    for nudge in waiting:
        if not nudge.due:
            continue
        unit = nudge.rollout.unit
        for manager in unit_selectors.active_managers(unit=unit):
            prefs = _settings(manager)
            if not prefs.nudges:
                continue
            created += _send(
                user=manager,
                prefs=prefs,
                kind="nudge",
                key=nudge.key,
                due_on=nudge.due_on,
                template="nudge",
                context={"unit": unit, "text": nudge.text, "url": site_url(nudge.path)},
                unit=unit,
                requeue_outdated=True,
            )
        sent = Reminder.objects.filter(
            kind="nudge",
            subject_key=nudge.key,
            status=ReminderStatus.SENT,
            sent_at__lte=now - ESCALATE_AFTER,
        )
        if nudge.since is not None:
            sent = sent.filter(sent_at__gte=nudge.since)
        ignored = sent.exists()
        if ignored:
            for role in MunicipalRole.objects.filter(
                municipality_id=unit.municipality_id, role=Role.COORDINATOR, user__is_active=True
            ).select_related("user"):
                # An escalation is a reminder too: the settings page promises that only
                # meeting invitations cannot be turned off.
                prefs = _settings(role.user)
                if not prefs.nudges:
                    continue
                created += _send(
                    user=role.user,
                    prefs=prefs,
                    kind="escalation",
                    key=nudge.key,
                    due_on=nudge.due_on,
                    template="escalation",
                    context={"unit": unit, "text": nudge.text, "url": site_url(nudge.path)},
                    unit=unit,
                    requeue_outdated=True,
                )
    return created


def _meeting_notices(today: dt.date) -> int:
    created = 0
    soon = today + MEETING_NOTICE
    start = timezone.make_aware(dt.datetime.combine(soon, dt.time.min))
    for follow_up in FollowUp.objects.filter(
        status=FollowUpStatus.BOOKED,
        starts_at__gte=start,
        starts_at__lt=start + dt.timedelta(days=1),
        rollout__status=RolloutStatus.ACTIVE,
        rollout__unit__is_active=True,
    ).select_related("rollout__unit"):
        unit = follow_up.rollout.unit
        for manager in unit_selectors.active_managers(unit=unit):
            created += _send(
                user=manager,
                kind="meeting",
                key=followups.notice_key(follow_up),
                due_on=soon,
                template="meeting_soon",
                context={
                    "unit": unit,
                    "follow_up": follow_up,
                    "url": site_url(reverse("followup:step", args=[unit.pk])),
                },
                unit=unit,
            )
    return created


def sweep(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    today = timezone.localdate(now)
    return _digests(today, now) + _nudges(today, now) + _meeting_notices(today)


def run() -> outbox.DispatchResult:
    """What the beat task and `manage.py dispatch_reminders` do: sweep, then send."""
    sweep()
    return outbox.dispatch()
