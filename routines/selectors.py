"""Reads for step 3."""

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from rollout.models import OPEN_STATUSES, Rollout, RolloutStatus, TimelineEvent
from routines.models import Routine, RoutineStatus, RoutineVersion
from units.models import Unit

if TYPE_CHECKING:
    from rollout.steps import DigestItem


def routine_facts(rollouts: Sequence[Rollout]) -> dict[int, dict[str, object]]:
    return {
        rollout_id: {
            "started": True,
            "awaiting_approval": status == RoutineStatus.REVIEW,
            # Who still has to approve: reminders go only to the people responsible.
            "manager_approved": status == RoutineStatus.REVIEW and manager_version == current,
            "coordinator_approved": status == RoutineStatus.REVIEW
            and coordinator_version == current,
            "approved": status == RoutineStatus.APPROVED,
            # In the verksamhetsplan and known to the staff: the routine is implemented, and
            # stays so while a revision is written (the implemented version is still in force).
            "implemented": implemented_on is not None,
            "implemented_on": implemented_on,
        }
        for (
            rollout_id,
            status,
            implemented_on,
            current,
            manager_version,
            coordinator_version,
        ) in Routine.objects.filter(rollout__in=[r.pk for r in rollouts]).values_list(
            "rollout_id",
            "status",
            "implemented_on",
            "current_version",
            "manager_approved_version",
            "coordinator_approved_version",
        )
    }


def routine_for(*, unit: Unit) -> Routine | None:
    """The routine of the unit's open rollout (None until it is started); with no open rollout,
    the latest round's, so a finished unit still shows what it implemented."""
    open_rollout = Rollout.objects.filter(unit=unit, status__in=OPEN_STATUSES).first()
    scope = {"rollout": open_rollout} if open_rollout else {"rollout__unit": unit}
    return (
        Routine.objects.filter(**scope)
        .select_related(
            "rollout__unit__municipality",
            "manager_approved_by",
            "coordinator_approved_by",
            "template",
        )
        .order_by("-rollout__round")
        .first()
    )


def version(*, routine: Routine, number: int | None = None) -> RoutineVersion:
    """The version ``number`` (the current one when None); RoutineVersion.DoesNotExist when the
    routine has no such version."""
    return routine.versions.select_related("created_by").get(
        number=routine.current_version if number is None else number
    )


def approved_on(*, routine: Routine) -> dt.date | None:
    """The day (in Swedish time) the routine's current version got its last approval, from the
    timeline (the routine keeps who approved which version, not when); None if not approved."""
    last = (
        TimelineEvent.objects.filter(
            rollout_id=routine.rollout_id,
            kind="routine.approved",
            params__version=routine.current_version,
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return timezone.localdate(last) if last else None


def versions(*, routine: Routine) -> QuerySet[RoutineVersion]:
    return routine.versions.select_related("created_by").order_by("-number")


def examples(*, unit: Unit) -> QuerySet[Routine]:
    """Approved routines that the coordinator shared as examples, from the same sector."""
    return (
        Routine.objects.filter(
            published_as_example=True,
            # A shared routine being revised is hidden until it is approved again.
            status__in=[RoutineStatus.APPROVED, RoutineStatus.IMPLEMENTED],
            rollout__unit__municipality=unit.municipality,
            rollout__unit__sector=unit.sector,
        )
        .exclude(rollout__unit=unit)
        .select_related("rollout__unit")
    )


def digest(municipality_ids: Sequence[int], today: dt.date) -> list["DigestItem"]:
    """Routines sent for review that the coordinator has not approved yet."""
    from django.db.models import F, Q
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from rollout.steps import DigestItem

    waiting = (
        Routine.objects.filter(
            rollout__unit__municipality_id__in=municipality_ids,
            rollout__unit__is_active=True,
            rollout__status=RolloutStatus.ACTIVE,
            status=RoutineStatus.REVIEW,
        )
        .filter(
            Q(coordinator_approved_version__isnull=True)
            | ~Q(coordinator_approved_version=F("current_version"))
        )
        .select_related("rollout__unit")
    )
    return [
        DigestItem(
            _("Rutiner som väntar på granskning"),
            _("%(unit)s, version %(number)s")
            % {"unit": r.rollout.unit.name, "number": r.current_version},
            reverse("routines:routine", args=[r.rollout.unit_id]),
        )
        for r in waiting
    ]
