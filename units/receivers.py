"""What a person loses with their account or role, also when the admin does it (it deletes
roles, moves them to another person and deactivates accounts without going through
units.services):

- the pending invitations they sent stop working once they may no longer send them;
- deactivation ends every session and password-reset link they had, for good (see
  User.credentials_revoked_at): reactivating the account needs a fresh login.

Other apps whose credentials or mailings hang on a person's account, municipal role or unit
membership (training's calendar address, followup's reminders) hook in with on_authority_change,
so that which changes count is decided here once."""

from collections.abc import Callable
from typing import Any

from django.db.models.signals import post_delete, post_init, post_save

from units import services
from units.models import MunicipalRole, UnitManager, User

Membership = MunicipalRole | UnitManager

# The person a role or membership belonged to when it was read, so that one moved to someone
# else in the admin (its user changed in place) is seen as a loss for them, not only as a
# change for the new holder. From __dict__: a row read without its user_id must not cost a
# query here.
_LOADED_USER = "_authority_loaded_user_id"


def _remember_holder(sender: type, instance: Membership, **kwargs: Any) -> None:
    setattr(instance, _LOADED_USER, instance.__dict__.get("user_id"))


def on_authority_change(
    handler: Callable[[User], object],
    *,
    uid: str,
    memberships: tuple[type[Membership], ...] = (MunicipalRole,),
) -> None:
    """Call ``handler(user)`` after every change that may take authority from a person: a
    municipal role (or another of ``memberships``) deleted, changed in place (lowered, moved to
    another municipality or unit) or moved to another person (then for both), and the account
    saved other than at login (deactivated, superuser status taken away). The handler decides
    what, if anything, the person lost."""

    def role_removed(sender: type, instance: Membership, **kwargs: Any) -> None:
        # When the account itself is being deleted the user row may already be gone.
        user = User.objects.filter(pk=instance.user_id).first()
        if user is not None:
            handler(user)

    def role_changed(sender: type, instance: Membership, created: bool, **kwargs: Any) -> None:
        if created:
            return
        handler(instance.user)
        previous = getattr(instance, _LOADED_USER, None)
        if previous is not None and previous != instance.user_id:
            earlier = User.objects.filter(pk=previous).first()
            if earlier is not None:
                handler(earlier)

    def user_saved(
        sender: type,
        instance: User,
        created: bool,
        update_fields: frozenset[str] | None,
        **kwargs: Any,
    ) -> None:
        # Logging in saves last_login only: nothing that could take anything away.
        if created or update_fields == frozenset({"last_login"}):
            return
        handler(instance)

    # Closures: held strongly, or they would be collected once this function returns.
    for model in memberships:
        name = f"{uid}.{model._meta.model_name}"
        post_delete.connect(role_removed, sender=model, weak=False, dispatch_uid=name)
        post_save.connect(role_changed, sender=model, weak=False, dispatch_uid=name + "_saved")
    post_save.connect(user_saved, sender=User, weak=False, dispatch_uid=uid + ".user_saved")


def _authority_changed(user: User) -> None:
    if not user.is_active:
        services.user_credentials_revoke(user=user)
    services.invitations_revoke_unbacked(inviter=user)


def connect() -> None:
    post_init.connect(_remember_holder, sender=MunicipalRole, dispatch_uid="units.role_holder")
    post_init.connect(_remember_holder, sender=UnitManager, dispatch_uid="units.manager_holder")
    on_authority_change(_authority_changed, uid="units")
