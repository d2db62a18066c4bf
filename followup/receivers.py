"""When a person leaves a unit or a role (or it is lowered, moved to another unit, or given to
someone else), or their account is deactivated, the reminders they were due stop. Signals rather
than calls from units.services: units must not import followup (the dependencies point one way),
and the admin removes memberships and deactivates accounts without going through those
services. Which changes count is units.receivers.on_authority_change's rule."""

from followup import services
from units.models import MunicipalRole, UnitManager, User
from units.receivers import on_authority_change


def _authority_changed(user: User) -> None:
    services.cancel_withdrawn(user=user)


def connect() -> None:
    on_authority_change(
        _authority_changed, uid="followup", memberships=(MunicipalRole, UnitManager)
    )
