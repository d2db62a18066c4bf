"""Coordinators and superusers must set up a second factor before they do anything else."""

import time
from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from units.access import roles_of

# Pages that must stay reachable while setting up MFA: allauth itself (login, logout, 2fa),
# the language switcher, health, the accessibility statement and static files.
_MFA_SEEN = "_mfa_seen"
MFA_RECHECK_SECONDS = 60
_ALWAYS_ALLOWED = ("/accounts/", "/i18n/", "/healthz/", "/tillganglighet/", "/static/")


class RequireMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_ALWAYS_ALLOWED)
            and roles_of(user).needs_mfa
            and not self._has_mfa(request)
        ):
            messages.warning(
                request,
                _(
                    "Som samordnare eller administratör måste du använda tvåstegsverifiering. "
                    "Ställ in en autentiseringsapp för att fortsätta."
                ),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _has_mfa(request: HttpRequest) -> bool:
        # Remembered in the session for a minute, so pages do not ask the database every time.
        # Forgotten at once in the session that removes a factor (forget_mfa, on allauth's
        # signal); the person's other sessions notice within the minute.
        now = int(time.time())
        if now - int(request.session.get(_MFA_SEEN, 0)) < MFA_RECHECK_SECONDS:
            return True
        if is_mfa_enabled(request.user):
            request.session[_MFA_SEEN] = now
            return True
        request.session.pop(_MFA_SEEN, None)
        return False


def forget_mfa(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    if request is not None and hasattr(request, "session"):
        request.session.pop(_MFA_SEEN, None)
