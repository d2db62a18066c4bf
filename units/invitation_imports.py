"""Unit managers invited from a CSV file ("Bjud in enhetschefer från fil"): one row per unit and
manager, so that a municipality with a thousand units need not invite them one at a time.

The file is read, signed and carried to the confirmation by units.imports with this module's
SPEC; check() gives every row its status against the municipality's active units, its managers,
its pending invitations and the accounts, in a fixed number of queries, with the rules of the
single invitation form (views.unit_invite_manager). units.services.invitations_import checks
again and creates the invitations; a Celery task mails each one."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from units import forms as unit_forms  # a module: units.forms imports this one for its form
from units import imports
from units.models import Invitation, Municipality, Unit, UnitManager, User

SPEC = imports.FileSpec(
    columns=(
        imports.Column(
            "unit", "enhet", gettext_lazy("Enhet"), ("unit", "unit name", "enhetens namn")
        ),
        imports.Column(
            "email",
            "e-post",
            gettext_lazy("E-post"),
            ("e-postadress", "epost", "email", "e-mail", "email address", "e-mail address"),
        ),
    ),
    required=("unit", "email"),
    salt="units.invitation_imports.preview",
    no_rows=gettext_lazy("Filen innehåller inga rader, bara rubrikraden."),
    too_many_rows=gettext_lazy("Filen har fler än %(max)s rader. Dela upp den i flera filer."),
)


def deactivated_account(email: str) -> str:
    """Why an address cannot be invited: its account is deactivated, and an invitation would
    give a role to an account that cannot sign in (invitation_accept refuses it too)."""
    return _(
        "%(email)s tillhör ett avstängt konto. Be en administratör att aktivera kontot innan du "
        "bjuder in personen."
    ) % {"email": email}


class InviteStatus(StrEnum):
    SEND = "send"  # a new invitation
    REPLACE = "replace"  # a new invitation that replaces a pending one
    MANAGER = "manager"  # already manages the unit: skipped
    REPEAT = "repeat"  # the same unit and address as an earlier row: skipped
    INVITED = "invited"  # invited since the preview (a second confirmation): kept, skipped
    ERROR = "error"


SENDS = (InviteStatus.SEND, InviteStatus.REPLACE)


@dataclass
class InviteRow:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    unit: Unit | None = None
    email: str = ""  # the address as invitations store it (lower case)
    state: InviteStatus = InviteStatus.SEND
    duplicate_of: int | None = None  # the earlier row, for a REPEAT

    @property
    def status(self) -> InviteStatus:
        return InviteStatus.ERROR if self.errors else self.state

    @property
    def raw(self) -> imports.RawRow:
        return imports.RawRow(line=self.line, values=self.values)

    @property
    def cells(self) -> list[str]:
        """The row in the preview: the unit's name as in the unit list once it is found."""
        return [
            self.unit.name if self.unit else self.values.get("unit", ""),
            self.email or self.values.get("email", ""),
        ]


def _error(row: InviteRow, key: str, message: object) -> None:
    row.errors.append(f"{_LABELS[key]}: {message}")


_LABELS = {column.key: column.label for column in SPEC.columns}


def check(
    *,
    municipality: Municipality,
    rows: Sequence[imports.RawRow],
    invited_since: dt.datetime | None = None,
) -> list[InviteRow]:
    """Every row's status, in four queries whatever the number of rows. The unit is found by
    name among the municipality's active units (as the unit import compares names); the address
    is cleaned by the single invitation form's own field. A pending invitation to the same unit
    is replaced, as invitation_create replaces it, unless it was made after ``invited_since``
    (the preview): then the row is skipped, so that confirming the same preview twice does not
    replace the links the first confirmation sent."""
    units: dict[str, Unit] = {}
    for candidate in Unit.objects.filter(municipality=municipality).only(
        "pk", "name", "is_active", "municipality_id"
    ):
        # An active unit wins over an archived one of the same name.
        folded = imports.folded_name(candidate.name)
        if folded not in units or candidate.is_active:
            units[folded] = candidate
    email_field = unit_forms.InviteForm.base_fields["email"]
    checked = []
    for raw in rows:
        row = InviteRow(line=raw.line, values=raw.values)
        checked.append(row)
        name = raw.values.get("unit", "").strip()
        unit = units.get(imports.folded_name(name))
        if not name:
            _error(row, "unit", email_field.error_messages["required"])
        elif unit is None:
            _error(
                row,
                "unit",
                _(
                    "Enheten ”%(name)s” finns inte bland kommunens aktiva enheter. Skriv namnet "
                    "precis som i enhetslistan."
                )
                % {"name": name},
            )
        elif not unit.is_active:
            _error(row, "unit", _("Enheten ”%(name)s” är arkiverad.") % {"name": unit.name})
        else:
            row.unit = unit
        try:
            # As invitation_create stores it.
            row.email = email_field.clean(raw.values.get("email", "")).strip().lower()
        except ValidationError as problem:
            for message in problem.messages:
                _error(row, "email", message)
    good = [row for row in checked if not row.errors]
    emails = {row.email for row in good}
    accounts = dict(
        User.objects.annotate(address=Lower("email"))
        .filter(address__in=emails)
        .values_list("address", "is_active")
    )
    managing = set(
        UnitManager.objects.annotate(address=Lower("user__email"))
        .filter(unit__municipality=municipality, address__in=emails)
        .values_list("address", "unit_id")
    )
    invited: dict[tuple[str, int | None], dt.datetime] = {}
    for email, unit_id, created_at in Invitation.objects.filter(
        # invitation_create's "earlier pending invitation to the same place".
        municipality=municipality,
        email__in=emails,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).values_list("email", "unit_id", "created_at"):
        invited[email, unit_id] = max(created_at, invited.get((email, unit_id), created_at))
    first_line: dict[tuple[str, int], int] = {}
    for row in good:
        assert row.unit is not None
        place = (row.email, row.unit.pk)
        if place in first_line:
            row.state, row.duplicate_of = InviteStatus.REPEAT, first_line[place]
            continue
        first_line[place] = row.line
        if accounts.get(row.email) is False:
            _error(row, "email", deactivated_account(row.email))
        elif place in managing:
            row.state = InviteStatus.MANAGER
        elif place in invited:
            since = invited_since is not None and invited[place] >= invited_since
            row.state = InviteStatus.INVITED if since else InviteStatus.REPLACE
    return checked


def template_csv(*, municipality: Municipality) -> bytes:
    """The header row and an example row with one of the municipality's active units."""
    example = (
        Unit.objects.filter(municipality=municipality, is_active=True)
        .order_by("name")
        .values_list("name", flat=True)
        .first()
    )
    return imports.write_csv(
        [column.header for column in SPEC.columns],
        [example or "Ängens förskola", "fornamn.efternamn@kommun.example.se"],
    )
