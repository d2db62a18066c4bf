"""When a person leaves a unit or a role (or it is lowered, moved to another unit, or given to
someone else), or their account is deactivated, the reminders they were due stop; when a unit is
archived, the mail still waiting to go out about it stops. Signals and a registry rather than
calls from units.services: units must not import followup (the dependencies point one way),
and the admin removes memberships and deactivates accounts without going through those
services. Which changes count is units.receivers.on_authority_change's rule."""

from django.utils.translation import ngettext

from followup import services
from units import archiving
from units.models import MunicipalRole, UnitManager, User
from units.receivers import on_authority_change


def _authority_changed(user: User) -> None:
    services.cancel_withdrawn(user=user)


ARCHIVED_UNITS_MAIL = archiving.Stop(
    waiting=services.waiting_about_archived_unit,
    stop=services.cancel_about_archived_unit,
    will=lambda count: (
        ngettext(
            "%(count)s utskick som väntar stoppas.", "%(count)s utskick som väntar stoppas.", count
        )
        % {"count": count}
    ),
    did=lambda count: (
        ngettext(
            "%(count)s utskick som väntade stoppades.",
            "%(count)s utskick som väntade stoppades.",
            count,
        )
        % {"count": count}
    ),
)


def connect() -> None:
    on_authority_change(
        _authority_changed, uid="followup", memberships=(MunicipalRole, UnitManager)
    )
    archiving.register("followup.outbox", ARCHIVED_UNITS_MAIL)
