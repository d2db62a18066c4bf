"""The one place that decides who may see or change what.

Every view that touches unit or municipality data goes through these helpers; views never filter
by hand. Roles: a superuser sees everything; a coordinator reads and writes everything in their
municipality; an observer reads their municipality; a unit manager reads and writes their own units.
Invisible and nonexistent look the same (404); visible but read-only is 403.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

from units.models import (
    Invitation,
    Municipality,
    MunicipalRole,
    Role,
    Sector,
    Unit,
    UnitManager,
    User,
)

AnyUser = User | AnonymousUser


def _active(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def _municipality_ids(user: User, *roles: str) -> QuerySet[MunicipalRole, int]:
    return MunicipalRole.objects.filter(user=user, role__in=roles).values_list(
        "municipality_id", flat=True
    )


# --- Municipalities -------------------------------------------------------------------------


def _municipalities(user: AnyUser, *roles: str) -> QuerySet[Municipality]:
    if not _active(user):
        return Municipality.objects.none()
    assert isinstance(user, User)
    if user.is_superuser:
        return Municipality.objects.all()
    return Municipality.objects.filter(pk__in=_municipality_ids(user, *roles))


def visible_municipalities(user: AnyUser) -> QuerySet[Municipality]:
    """Municipalities whose aggregates the user may read (coordinator, observer, superuser)."""
    return _municipalities(user, Role.COORDINATOR, Role.OBSERVER)


def coordinated_municipalities(user: AnyUser) -> QuerySet[Municipality]:
    """Municipalities the user may change (coordinator, superuser)."""
    return _municipalities(user, Role.COORDINATOR)


def regional_municipalities(user: AnyUser) -> QuerySet[Municipality]:
    """Municipalities whose aggregates the user may compare side by side: every one for a
    superuser, the granted set for a regional observer (units.RegionalObserver)."""
    if not _active(user):
        return Municipality.objects.none()
    assert isinstance(user, User)
    if user.is_superuser:
        return Municipality.objects.all()
    return Municipality.objects.filter(regional_observers__user=user)


def may_compare_municipalities(user: AnyUser) -> bool:
    """May open the regional view: a superuser, or a regional observer even while no
    municipality is granted (yet, or any more), who is told so instead of being refused.
    From the person's roles (no query): the menu asks on every page."""
    return roles_of(user).compares_municipalities


def _readable_municipality(user: AnyUser, pk: int) -> "Roles":
    """The rule of visible_municipalities, from the person's roles (no query): 404 unless they
    coordinate or observe it, or are a superuser (who must still find it, see below)."""
    roles = roles_of(user)
    if not (roles.superuser or pk in roles.coordinator_of or pk in roles.observer_of):
        raise Http404
    return roles


def get_municipality_for_user(user: AnyUser, pk: int) -> Municipality:
    _readable_municipality(user, pk)
    try:
        return Municipality.objects.get(pk=pk)
    except Municipality.DoesNotExist:
        raise Http404 from None


def check_municipality_for_user(user: AnyUser, pk: int) -> None:
    """What get_municipality_for_user checks, without fetching the municipality: a query only
    for a superuser (does it exist?); a role always names an existing one."""
    superuser = _readable_municipality(user, pk).superuser
    if superuser and not Municipality.objects.filter(pk=pk).exists():
        raise Http404


def get_rw_municipality_for_user(user: AnyUser, pk: int) -> Municipality:
    municipality = get_municipality_for_user(user, pk)
    if not is_coordinator_of(user, municipality.pk):
        raise PermissionDenied
    return municipality


# --- Units ----------------------------------------------------------------------------------


def _units(user: AnyUser, *municipal_roles: str) -> QuerySet[Unit]:
    """Units of the municipalities where the user has one of ``municipal_roles``, plus the
    units they manage."""
    if not _active(user):
        return Unit.objects.none()
    assert isinstance(user, User)
    if user.is_superuser:
        return Unit.objects.all()
    return Unit.objects.filter(
        Q(municipality_id__in=_municipality_ids(user, *municipal_roles))
        | Q(pk__in=UnitManager.objects.filter(user=user).values("unit_id"))
    )


def visible_units(user: AnyUser) -> QuerySet[Unit]:
    """Every unit the user may read; the base of every list and aggregate."""
    return _units(user, Role.COORDINATOR, Role.OBSERVER)


def writable_units(user: AnyUser) -> QuerySet[Unit]:
    """Units the user may change: as coordinator of the municipality or as the unit's manager."""
    return _units(user, Role.COORDINATOR)


def _may_read_unit(roles: "Roles", unit_id: int, municipality_id: int) -> bool:
    return (
        roles.superuser
        or municipality_id in roles.coordinator_of
        or municipality_id in roles.observer_of
        or unit_id in roles.manager_of
    )


def _may_write_unit(roles: "Roles", unit_id: int, municipality_id: int) -> bool:
    return roles.superuser or municipality_id in roles.coordinator_of or unit_id in roles.manager_of


_UNIT_MUNICIPALITY_SQL = "SELECT municipality_id FROM units_unit WHERE id = %s"
_MAX_ID = 2**63 - 1
# A unit never moves to another municipality (no service changes it and the admin shows it
# read-only), so the process remembers which one a unit belongs to once read: the unit page
# served by units.pagecache then needs no unit query. Bounded; forgotten all at once when full.
_unit_municipality: dict[int, int] = {}
_REMEMBERED_UNITS = 20_000


def _municipality_of_unit(pk: int) -> int | None:
    found = _unit_municipality.get(pk)
    if found is None:
        with connection.cursor() as cursor:  # written out: see roles_of
            cursor.execute(_UNIT_MUNICIPALITY_SQL, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        if len(_unit_municipality) >= _REMEMBERED_UNITS:
            _unit_municipality.clear()
        found = _unit_municipality[pk] = row[0]
    return found


def forget_units() -> None:
    """Forget which municipality units belong to (tests, where ids are reused)."""
    _unit_municipality.clear()


def check_unit_for_user(user: AnyUser, pk: int) -> int:
    """What get_unit_for_user checks, without fetching the unit: which municipality it belongs
    to (returned) and the person's roles. For pages that may not need the unit itself
    (units.pagecache); a deleted unit is found by get_unit_for_user when the page is drawn."""
    if pk > _MAX_ID:  # the URL takes any number; SQLite would raise instead of finding none
        raise Http404
    municipality_id = _municipality_of_unit(pk)
    if municipality_id is None or not _may_read_unit(roles_of(user), pk, municipality_id):
        raise Http404
    return municipality_id


def check_rw_unit_for_user(user: AnyUser, pk: int) -> int:
    """What get_rw_unit_for_user checks, without fetching the unit (404 if invisible, 403 if
    read-only): for writes that need only the unit's number, such as a step 1 report."""
    municipality_id = check_unit_for_user(user, pk)
    if not _may_write_unit(roles_of(user), pk, municipality_id):
        raise PermissionDenied
    return municipality_id


def get_unit_for_user(user: AnyUser, pk: int) -> Unit:
    """Read access or 404. The same rule as visible_units, decided from the person's roles
    (memoised for the request) instead of subqueries: this runs on every unit page."""
    roles = roles_of(user)
    try:
        unit = Unit.objects.select_related("municipality", "sector").get(pk=pk)
    except Unit.DoesNotExist:
        raise Http404 from None
    if not _may_read_unit(roles, unit.pk, unit.municipality_id):
        raise Http404
    return unit


def get_rw_unit_for_user(user: AnyUser, pk: int) -> Unit:
    """Write access (coordinator of its municipality or its manager): 404 if invisible, 403 if
    read-only."""
    unit = get_unit_for_user(user, pk)
    if not can_write_unit(user, unit):
        raise PermissionDenied
    return unit


def get_unit_for_coordinator(user: AnyUser, pk: int) -> Unit:
    """What only the coordinator may do to a unit (rename, archive, managers): 404 / 403."""
    unit = get_unit_for_user(user, pk)
    if not is_coordinator_of(user, unit.municipality_id):
        raise PermissionDenied
    return unit


def is_coordinator_of(user: AnyUser, municipality_id: int) -> bool:
    roles = roles_of(user)
    return roles.superuser or municipality_id in roles.coordinator_of


def can_write_unit(user: AnyUser, unit: Unit) -> bool:
    """Coordinator of the unit's municipality, or the unit's manager (no query: roles_of)."""
    return _may_write_unit(roles_of(user), unit.pk, unit.municipality_id)


# --- What the person is ---------------------------------------------------------------------


@dataclass(frozen=True)
class Roles:
    """A person's roles, for navigation and the start page (never for filtering data)."""

    superuser: bool
    coordinator_of: tuple[int, ...]
    observer_of: tuple[int, ...]
    manager_of: tuple[int, ...]
    # A regional observer (units.RegionalObserver), granted municipalities or not (yet).
    regional: bool = False

    @property
    def compares_municipalities(self) -> bool:
        """May open the regional view (may_compare_municipalities)."""
        return self.superuser or self.regional

    @property
    def is_coordinator(self) -> bool:
        return self.superuser or bool(self.coordinator_of)

    @property
    def sees_municipality(self) -> bool:
        return self.is_coordinator or bool(self.observer_of)

    @property
    def needs_mfa(self) -> bool:
        """Coordinators and superusers must use a second factor."""
        return self.superuser or bool(self.coordinator_of)


# Not a units.Role: the row that says the person is a regional observer (ref 0, unused).
_REGIONAL = "regional"
# Everyone's roles, a row each: (user_id, role, ref), ref naming the municipality or, for a
# manager, the unit. Tables and the role values written out (tests/units/test_access.py
# checks them); PostgreSQL applies the WHERE of the statements below inside every arm.
_ROLES_UNION = (
    "SELECT user_id, role, municipality_id AS ref FROM units_municipalrole "
    "UNION ALL SELECT user_id, 'manager', unit_id FROM units_unitmanager "
    "UNION ALL SELECT user_id, 'regional', 0 FROM units_regionalobserver "
)
# Constants only are joined into these texts; the user's id is a parameter.
_ROLES_SQL = f"SELECT role, ref FROM ({_ROLES_UNION}) r WHERE r.user_id = %s"  # noqa: S608


def roles_of(user: AnyUser) -> Roles:
    """Memoised on the user object, which lives as long as the request (middleware, view and
    templates all ask)."""
    if not _active(user):
        return Roles(False, (), (), ())
    assert isinstance(user, User)
    cached = getattr(user, "_roles_cache", None)
    if cached is not None:
        return cached
    # One query for both kinds of role, written out once: this runs on every page, and the
    # ORM's union took longer to compile than the database took to answer.
    with connection.cursor() as cursor:
        cursor.execute(_ROLES_SQL, [user.pk])
        return _remember_roles(user, cursor.fetchall())


def _remember_roles(user: User, rows: list[tuple[str, int]]) -> Roles:
    user._roles_cache = Roles(  # type: ignore[attr-defined]
        superuser=user.is_superuser,
        coordinator_of=tuple(sorted(m for r, m in rows if r == Role.COORDINATOR)),
        observer_of=tuple(sorted(m for r, m in rows if r == Role.OBSERVER)),
        manager_of=tuple(sorted(m for r, m in rows if r == Role.MANAGER)),
        regional=any(r == _REGIONAL for r, _m in rows),
    )
    return user._roles_cache  # type: ignore[attr-defined]


# The person behind a session, with their roles, in one statement: a row per role (one row with
# no role for a person without any).
_USER_WITH_ROLES_SQL = (
    "SELECT u.*, r.role AS role_name, r.ref AS role_ref FROM units_user u "  # noqa: S608
    f"LEFT JOIN ({_ROLES_UNION}) r ON r.user_id = u.id WHERE u.id = %s"
)


def user_with_roles(pk: int) -> User | None:
    """The user with primary key ``pk``, its roles already read (for units.backends, which
    does this on every request of a logged-in person)."""
    rows = list(User.objects.raw(_USER_WITH_ROLES_SQL, [pk]))
    if not rows:
        return None
    user = rows[0]
    roles = [(row.role_name, row.role_ref) for row in rows if row.role_name]  # type: ignore[attr-defined]
    _remember_roles(user, roles)
    return user


def get_invitation_for_coordinator(user: AnyUser, pk: int) -> Invitation:
    """An invitation in a municipality the user coordinates: 404 if invisible, 403 if read-only."""
    try:
        invitation = Invitation.objects.select_related("municipality", "unit").get(
            pk=pk, municipality__in=visible_municipalities(user)
        )
    except Invitation.DoesNotExist:
        raise Http404 from None
    if not is_coordinator_of(user, invitation.municipality_id):
        raise PermissionDenied
    return invitation


def get_sector_for_coordinator(user: AnyUser, municipality_pk: int, pk: int) -> Sector:
    municipality = get_rw_municipality_for_user(user, municipality_pk)
    try:
        return Sector.objects.get(pk=pk, municipality=municipality)
    except Sector.DoesNotExist:
        raise Http404 from None
