"""A coordinator's private calendar address is revoked when its owner is deactivated or stops
being a coordinator (a role removed, lowered or moved to someone else, superuser status taken
away). Signals rather than calls from units.services, like followup.receivers: units must not
import training (the dependencies point one way), and the admin removes roles and deactivates
accounts without going through those services. Which changes count is decided by
units.receivers.on_authority_change; calendar_feed_revoke_if_unbacked decides what is lost."""

from training import services
from units.models import User
from units.receivers import on_authority_change


def _authority_changed(user: User) -> None:
    services.calendar_feed_revoke_if_unbacked(user=user)


def connect() -> None:
    on_authority_change(_authority_changed, uid="training")
