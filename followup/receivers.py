"""When a person leaves a unit or a role (or it is lowered, or moved to another unit), or their
account is deactivated, the reminders they were due stop. Signals rather than calls from units.services: units must not import followup
(the dependencies point one way), and the admin removes memberships and deactivates accounts
without going through those services."""

from typing import Any

from django.db.models.signals import post_delete, post_save

from followup import services
from units.models import MunicipalRole, UnitManager, User


def _membership_removed(sender: type, instance: UnitManager | MunicipalRole, **kwargs: Any) -> None:
    # When the account itself is being deleted its reminders go with it (CASCADE) and the
    # user row may already be gone, hence the lookup instead of instance.user.
    user = User.objects.filter(pk=instance.user_id).first()
    if user is not None:
        services.cancel_withdrawn(user=user)


def _membership_changed(
    sender: type, instance: UnitManager | MunicipalRole, created: bool, **kwargs: Any
) -> None:
    # A role lowered in place (municipal_role_set) or a membership moved in the admin: a save.
    if not created:
        services.cancel_withdrawn(user=instance.user)


def _user_saved(sender: type, instance: User, created: bool, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        services.cancel_withdrawn(user=instance)


def connect() -> None:
    post_delete.connect(_membership_removed, sender=UnitManager, dispatch_uid="followup.manager")
    post_delete.connect(_membership_removed, sender=MunicipalRole, dispatch_uid="followup.role")
    post_save.connect(
        _membership_changed, sender=UnitManager, dispatch_uid="followup.manager_saved"
    )
    post_save.connect(_membership_changed, sender=MunicipalRole, dispatch_uid="followup.role_saved")
    post_save.connect(_user_saved, sender=User, dispatch_uid="followup.user_saved")
