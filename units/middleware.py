"""Coordinators and superusers must set up a second factor before they do anything else."""

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from units.access import roles_of

# Pages that must stay reachable while setting up MFA: allauth itself (login, logout, 2fa),
# the language switcher, health, the accessibility statement and static files.
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
            and not is_mfa_enabled(user)
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
