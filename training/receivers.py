"""A coordinator's private calendar address is revoked when its owner is deactivated or stops
being a coordinator (a role removed or lowered, superuser status taken away). Signals rather
than calls from units.services, like followup.receivers: units must not import training (the
dependencies point one way), and the admin removes roles and deactivates accounts without
going through those services."""

from typing import Any

from django.db.models.signals import post_delete, post_save

from training import services
from units.models import MunicipalRole, User


def _role_removed(sender: type, instance: MunicipalRole, **kwargs: Any) -> None:
    # When the account itself is being deleted its feed goes with it (CASCADE) and the user
    # row may already be gone, hence the lookup instead of instance.user.
    user = User.objects.filter(pk=instance.user_id).first()
    if user is not None:
        services.calendar_feed_revoke_if_unbacked(user=user)


def _role_changed(sender: type, instance: MunicipalRole, created: bool, **kwargs: Any) -> None:
    # A role lowered in place (municipal_role_set) or moved to another person in the admin.
    if not created:
        services.calendar_feed_revoke_if_unbacked(user=instance.user)


def _user_saved(
    sender: type, instance: User, created: bool, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    # Logging in saves last_login only: nothing that could take the address away.
    if created or update_fields == frozenset({"last_login"}):
        return
    if not instance.is_active or not instance.is_superuser:
        services.calendar_feed_revoke_if_unbacked(user=instance)


def connect() -> None:
    post_delete.connect(_role_removed, sender=MunicipalRole, dispatch_uid="training.role")
    post_save.connect(_role_changed, sender=MunicipalRole, dispatch_uid="training.role_saved")
    post_save.connect(_user_saved, sender=User, dispatch_uid="training.user_saved")
