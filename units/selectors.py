"""Reads used by the views; every queryset starts from units.access."""

from django.conf import settings
from django.db.models import Q, QuerySet

from units import access
from units.access import AnyUser
from units.models import AuditEvent, Invitation, Municipality, MunicipalRole, Sector, Unit, User

UNIT_SORTS = {
    "name": ("name",),
    "-name": ("-name",),
    "sector": ("sector__name", "name"),
    "-sector": ("-sector__name", "name"),
    "kind": ("kind", "name"),
    "-kind": ("-kind", "name"),
    "headcount": ("headcount", "name"),
    "-headcount": ("-headcount", "name"),
}


def unit_list(
    *,
    user: AnyUser,
    query: str = "",
    sector: Sector | None = None,
    kind: str = "",
    status: str = "active",
    sort: str = "name",
) -> QuerySet[Unit]:
    units = access.visible_units(user).select_related("sector", "municipality")
    if query:
        units = units.filter(name__icontains=query.strip())
    if sector is not None:
        units = units.filter(sector=sector)
    if kind:
        units = units.filter(kind=kind)
    if status == "active":
        units = units.filter(is_active=True)
    elif status == "archived":
        units = units.filter(is_active=False)
    return units.order_by(*UNIT_SORTS.get(sort, UNIT_SORTS["name"]))


def sectors_for_filter(*, user: AnyUser) -> QuerySet[Sector]:
    """Sectors of the municipalities whose units the user sees."""
    return Sector.objects.filter(
        municipality_id__in=access.visible_units(user).values("municipality_id")
    ).order_by("name")


def unit_managers(*, unit: Unit) -> QuerySet:
    return unit.managers.select_related("user").order_by("user__email")


def active_managers(*, unit: Unit) -> QuerySet[User]:
    """The unit's managers who can still sign in, by e-mail: the people that invitations, notices
    and calendar files name and reach (a deactivated account has lost the role)."""
    return User.objects.filter(managed_units__unit=unit, is_active=True).order_by("email")


def mail_language(prefs: object | None) -> str:
    """The language of a person's e-mail: the one in their notification settings (the followup
    app's, passed in; None when they have none), else the site's. An empty choice is no choice."""
    return getattr(prefs, "language", "") or settings.LANGUAGE_CODE


def pending_invitations(
    *, municipality: Municipality, unit: Unit | None = None
) -> QuerySet[Invitation]:
    """Invitations nobody has answered: pending or expired, newest first. An expired one stays
    until the coordinator sends a new link or revokes it."""
    invitations = Invitation.objects.filter(
        municipality=municipality,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).select_related("unit", "invited_by")
    if unit is not None:
        invitations = invitations.filter(unit=unit)
    return invitations.order_by("-created_at", "-pk")


def municipal_people(*, municipality: Municipality) -> QuerySet[MunicipalRole]:
    return municipality.roles.select_related("user").order_by("role", "user__email")


def audit_events(*, municipality: Municipality) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        Q(municipality=municipality) | Q(unit__municipality=municipality)
    ).select_related("unit")
