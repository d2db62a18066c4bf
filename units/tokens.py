"""Password-reset links that end with the account's credentials (User.credentials_revoked_at).

The hash is allauth's (Django's, plus the person's e-mail addresses), so links sent before this
code arrived keep working, with the revocation stamp added once there is one: a link sent before
a deactivation does not work after the account is reactivated."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator


class CredentialsAwarePasswordResetTokenGenerator(PasswordResetTokenGenerator):
    def _make_hash_value(self, user: AbstractBaseUser, timestamp: Any) -> str:
        # allauth imports this class while its forms module loads, so its helpers are imported
        # here, and its EmailAwarePasswordResetTokenGenerator (which adds the addresses) is
        # followed rather than subclassed.
        from allauth.account.models import EmailAddress
        from allauth.account.utils import user_email

        value = super()._make_hash_value(user, timestamp)  # type: ignore[arg-type]
        email = user_email(user)
        emails = {email} if email else set()
        emails.update(EmailAddress.objects.filter(user_id=user.pk).values_list("email", flat=True))
        value += "|".join(sorted(emails))
        revoked_at = getattr(user, "credentials_revoked_at", None)
        if revoked_at is not None:
            value += f"|{revoked_at.timestamp()}"
        return value
