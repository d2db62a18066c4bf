"""Reads used by the views; every queryset starts from units.access."""

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce, Concat, NullIf, Trim

from jarfalla.collation import swedish
from units import access
from units.access import AnyUser
from units.models import AuditEvent, Invitation, Municipality, MunicipalRole, Sector, Unit, User

# Names in Swedish alphabetical order (jarfalla.collation); the id last, so that equal names
# keep one order from page to page.
UNIT_SORTS: dict[str, tuple[OrderBy | str, ...]] = {
    "name": (swedish("name").asc(), "id"),
    "-name": (swedish("name").desc(), "-id"),
    "sector": (swedish("sector__name").asc(), swedish("name").asc(), "id"),
    "-sector": (swedish("sector__name").desc(), swedish("name").asc(), "id"),
    "kind": ("kind", swedish("name").asc(), "id"),
    "-kind": ("-kind", swedish("name").asc(), "id"),
    "headcount": ("headcount", swedish("name").asc(), "id"),
    "-headcount": ("-headcount", swedish("name").asc(), "id"),
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
    ).order_by(swedish("name"), "id")


def unit_managers(*, unit: Unit) -> QuerySet:
    """The unit's managers in Swedish order of what the page shows: the name, else the e-mail."""
    return unit.managers.select_related("user").order_by(
        swedish(person_name("user__")), swedish("user__email"), "id"
    )


def person_name(prefix: str = "") -> Coalesce:
    """A person's name as User.get_full_name() gives it, or the e-mail when there is none, as
    an expression (``prefix`` is the path to the user, e.g. "user__")."""
    full = Trim(Concat(F(f"{prefix}first_name"), Value(" "), F(f"{prefix}last_name")))
    return Coalesce(NullIf(full, Value("")), F(f"{prefix}email"), output_field=CharField())


def active_managers(*, unit: Unit) -> QuerySet[User]:
    """The unit's managers who can still sign in, by e-mail: the people that invitations, notices
    and calendar files name and reach (a deactivated account has lost the role)."""
    return User.objects.filter(managed_units__unit=unit, is_active=True).order_by(
        swedish("email"), "id"
    )


def mail_language(prefs: object | None) -> str:
    """The language of a person's e-mail: the one in their notification settings (the followup
    app's, passed in; None when they have none), else the site's. An empty choice is no choice."""
    return getattr(prefs, "language", "") or settings.LANGUAGE_CODE


def deactivated_address(*, email: str) -> bool:
    """Whether ``email`` is the login of a deactivated account: no invitation goes there, as
    the account could not sign in to use the role (invitation_accept refuses it too)."""
    return User.objects.filter(email__iexact=email, is_active=False).exists()


def mail_language_for_address(*, email: str) -> str:
    """The language of e-mail to an address: that of the person it belongs to (their login
    address or another one they added), else the site's. E-mail that starts from a request
    (allauth's, invitations) is written in it, whatever language that request was in."""
    owner = (
        User.objects.filter(Q(email__iexact=email) | Q(emailaddress__email__iexact=email))
        .select_related("notification_settings")
        .order_by("pk")
        .first()
    )
    return mail_language(getattr(owner, "notification_settings", None))


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


def _send_failed(now: dt.datetime) -> Q:
    """Still pending, and its mail was refused: only a new link (or a corrected address) helps.
    An expired invitation needs a new link anyway and is not counted as failed."""
    return Q(send_failed_at__isnull=False, expires_at__gt=now)


def failed_invitations(
    *, municipality_ids: Sequence[int], now: dt.datetime
) -> QuerySet[Invitation]:
    """Pending invitations of these municipalities whose mail could not be sent, newest first:
    the few among hundreds after a file import that a coordinator must not miss."""
    return Invitation.objects.filter(
        Invitation.pending_at(now), _send_failed(now), municipality_id__in=municipality_ids
    ).order_by("-created_at", "-pk")


def pending_invitations_failed_first(
    *, municipality: Municipality, now: dt.datetime
) -> QuerySet[Invitation]:
    """pending_invitations with those whose mail could not be sent first (see
    failed_invitations), so a page of them leads the list however many others wait."""
    return pending_invitations(municipality=municipality).order_by(
        Case(When(_send_failed(now), then=Value(0)), default=Value(1)), "-created_at", "-pk"
    )


def municipal_people(*, municipality: Municipality) -> QuerySet[MunicipalRole]:
    return municipality.roles.select_related("user").order_by("role", swedish("user__email"), "id")


def audit_events(*, municipality: Municipality) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        Q(municipality=municipality) | Q(unit__municipality=municipality)
    ).select_related("unit")
