"""allauth adapter: nobody signs up on their own; people join by invitation (see units).

allauth's e-mails (password reset, address confirmation, notices about changes to the account
and its second factors) are written like the product's own: in the language the recipient chose
for e-mail, not the one of the request that set them off; marked as automatic; and with every
link and the site's name taken from SITE_URL, never from the request's Host header (a forged
Host within ALLOWED_HOSTS would otherwise put someone else's address into a reset link)."""

from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmation
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

from jarfalla.mail import automatic_headers, site_url
from units import selectors

UNKNOWN_ACCOUNT = "account/email/unknown_account"
DEACTIVATED_ACCOUNT = "account/email/deactivated_account"


class InvitationOnlyAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        if template_prefix == UNKNOWN_ACCOUNT and selectors.deactivated_address(email=email):
            # allauth looks for active accounts only, so a deactivated one gets the mail for
            # an unknown address, whose advice (ask for an invitation) leads nowhere: it cannot
            # be invited. The mail goes to the address's owner; the page the request answered
            # is the same for every address, so nobody else learns anything.
            template_prefix = DEACTIVATED_ACCOUNT
        with translation.override(selectors.mail_language_for_address(email=email)):
            ctx = {"request": self.request, "email": email, **context}
            # allauth's templates greet with the site's name and end with its domain.
            ctx["current_site"] = SimpleNamespace(
                name=translation.gettext("Järfällamodellen"),
                domain=urlsplit(settings.SITE_URL).netloc,
            )
            message = self.render_mail(template_prefix, email, ctx, headers=automatic_headers())
        message.send()

    def get_reset_password_from_key_url(self, key: str) -> str:
        # The path as allauth builds it (one opaque key in place of "UID-KEY"), on our origin.
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return site_url(path.replace("UID-KEY", quote(key)))

    def get_email_confirmation_url(
        self, request: HttpRequest | None, emailconfirmation: EmailConfirmation
    ) -> str:
        return site_url(reverse("account_confirm_email", args=[emailconfirmation.key]))
