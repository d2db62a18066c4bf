"""Step 4 as the engine sees it: follow-ups are created when the step starts, facts for the
next action, and the follow-up lines of the coordinator's digest."""

import datetime as dt
from collections.abc import Sequence

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from followup import selectors
from followup.models import FollowUp, FollowUpStatus
from rollout.engine import NextAction
from rollout.models import Rollout
from rollout.steps import DigestItem

DUE_SOON = dt.timedelta(days=14)
# An unbooked follow-up shows up six weeks ahead, time enough to find a date with the unit.
BOOK_WITHIN = dt.timedelta(days=42)


def create_follow_ups(rollout: Rollout) -> None:
    offsets = rollout.unit.municipality.followup_offsets_months or [6, 12]
    FollowUp.objects.bulk_create(
        [FollowUp(rollout=rollout, offset_months=months) for months in offsets],
        ignore_conflicts=True,
    )


def digest(municipality_ids: Sequence[int], today: dt.date) -> list[DigestItem]:
    items = []
    for follow_up, due in selectors.open_follow_ups(municipality_ids=municipality_ids):
        if due is None:
            continue
        unit = follow_up.rollout.unit
        url = reverse("followup:step", args=[unit.pk])
        label = _("%(unit)s: uppföljning %(months)s månader") % {
            "unit": unit.name,
            "months": follow_up.offset_months,
        }
        day = f"{due:%Y-%m-%d}"
        if due < today:
            section = _("Försenade uppföljningar")
            text = _("%(label)s, skulle ha gjorts %(due)s") % {"label": label, "due": day}
        elif follow_up.status == FollowUpStatus.PLANNED and due - today <= BOOK_WITHIN:
            section = _("Uppföljningar att boka")
            text = _("%(label)s, senast %(due)s") % {"label": label, "due": day}
        elif due - today <= DUE_SOON:
            section = _("Uppföljningar inom 14 dagar")
            text = f"{label}, {day}"
        else:
            continue
        items.append(DigestItem(section, text, url))
    return items


def attention(municipality_ids: Sequence[int], today: dt.date) -> list[DigestItem]:
    """Failed and stuck mailings, for the dashboard's "needs attention"."""
    items = []
    for municipality_id in municipality_ids:
        url = reverse("followup:outbox", args=[municipality_id])
        failed = selectors.failed_reminders(municipality_ids=[municipality_id]).count()
        if failed:
            items.append(
                DigestItem(
                    _("Misslyckade påminnelser"),
                    ngettext(
                        "%(count)s påminnelse kunde inte skickas",
                        "%(count)s påminnelser kunde inte skickas",
                        failed,
                    )
                    % {"count": failed},
                    f"{url}?status=failed",
                    coordinator_only=True,
                )
            )
    return items


def action_url(unit_id: int, action: NextAction, facts: dict[str, object]) -> str | None:
    """A follow-up not booked yet is booked; a booked one is recorded."""
    records = facts.get("records")
    record = next(
        (r for r in records if r.pk == action.ref) if isinstance(records, list) else iter(()),
        None,
    )
    if record is None:
        return None
    name = "followup:book" if record.status == FollowUpStatus.PLANNED else "followup:record"
    return reverse(name, args=[unit_id, record.pk])
