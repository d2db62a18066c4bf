"""Reads for step 3."""

from collections.abc import Sequence

from django.db.models import QuerySet

from rollout.models import Rollout
from routines.models import Routine, RoutineStatus, RoutineVersion
from units.models import Unit


def routine_facts(rollouts: Sequence[Rollout]) -> dict[int, dict[str, object]]:
    return {
        rollout_id: {
            "started": True,
            "awaiting_approval": status == RoutineStatus.REVIEW,
            "approved": status == RoutineStatus.APPROVED,
            "implemented_on": implemented_on,
        }
        for rollout_id, status, implemented_on in Routine.objects.filter(
            rollout__in=[r.pk for r in rollouts]
        ).values_list("rollout_id", "status", "implemented_on")
    }


def routine_for(*, unit: Unit) -> Routine | None:
    """The routine of the unit's latest rollout that has one."""
    return (
        Routine.objects.filter(rollout__unit=unit)
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
    return routine.versions.select_related("created_by").get(
        number=number or routine.current_version
    )


def versions(*, routine: Routine) -> QuerySet[RoutineVersion]:
    return routine.versions.select_related("created_by").order_by("-number")


def examples(*, unit: Unit) -> QuerySet[Routine]:
    """Approved routines that the coordinator shared as examples, from the same sector."""
    return (
        Routine.objects.filter(
            published_as_example=True,
            rollout__unit__municipality=unit.municipality,
            rollout__unit__sector=unit.sector,
        )
        .exclude(rollout__unit=unit)
        .select_related("rollout__unit")
    )
