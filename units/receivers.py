"""What a person loses with their account or role, also when the admin does it (it deletes
roles and deactivates accounts without going through units.services):

- the pending invitations they sent stop working once they may no longer send them;
- deactivation ends every session and password-reset link they had, for good (see
  User.credentials_revoked_at): reactivating the account needs a fresh login."""

from typing import Any

from django.db.models.signals import post_delete, post_save

from units import services
from units.models import MunicipalRole, User


def _role_removed(sender: type, instance: MunicipalRole, **kwargs: Any) -> None:
    # When the account itself is being deleted the user row may already be gone.
    user = User.objects.filter(pk=instance.user_id).first()
    if user is not None:
        services.invitations_revoke_unbacked(inviter=user)


def _role_changed(sender: type, instance: MunicipalRole, created: bool, **kwargs: Any) -> None:
    if not created:
        services.invitations_revoke_unbacked(inviter=instance.user)


def _user_saved(
    sender: type, instance: User, created: bool, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    # Logging in saves last_login only: nothing that could take anything away.
    if created or update_fields == frozenset({"last_login"}):
        return
    if not instance.is_active:
        services.user_credentials_revoke(user=instance)
    if not instance.is_active or not instance.is_superuser:
        services.invitations_revoke_unbacked(inviter=instance)


def connect() -> None:
    post_delete.connect(_role_removed, sender=MunicipalRole, dispatch_uid="units.role")
    post_save.connect(_role_changed, sender=MunicipalRole, dispatch_uid="units.role_saved")
    post_save.connect(_user_saved, sender=User, dispatch_uid="units.user_saved")
