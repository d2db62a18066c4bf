"""Project-wide middleware: language choice, private caching, styled 405 pages."""

import time
from collections.abc import Callable

from allauth.usersessions.internal import usersessionkit
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers

Handler = Callable[[HttpRequest], HttpResponse]


class SwedishFirstLocaleMiddleware:
    """Swedish unless the person chose another language with the switcher.

    Django's LocaleMiddleware would follow the browser's Accept-Language; a Swedish municipality's
    tool speaks Swedish by default, so only the explicit choice (the language cookie) counts.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        # override() restores the previous language afterwards, so one request's choice never
        # leaks into the next thing this thread does.
        with translation.override(language):
            response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


class PrivatePagesMiddleware:
    """Pages for a logged-in person must never be stored by a browser or proxy cache."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class StyledMethodNotAllowedMiddleware:
    """Django answers a wrong method with an empty 405; give it the site's layout instead."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not response.content:
            styled = render(request, "405.html", status=405)
            styled["Allow"] = response["Allow"]
            return styled
        return response


# How often a logged-in person's activity is written down: the session's idle expiry renewed
# and allauth's session list ("last seen") updated. Writing both on every request was two
# database writes per page; once a minute keeps the hour's idle timeout accurate to a minute.
ACTIVITY_EVERY_SECONDS = 60


class ActivityMiddleware:
    """In place of SESSION_SAVE_EVERY_REQUEST and allauth's UserSessionsMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None:
            now = int(time.time())
            if now - int(session.get("_activity_at", 0)) >= ACTIVITY_EVERY_SECONDS:
                session["_activity_at"] = now  # modified: saved with a new expiry
                usersessionkit.track_activity(request, user=user, session=session)
        return self.get_response(request)


# Login backends by their former names: sessions made before units.backends replaced Django's
# and allauth's name the old ones, and Django treats a session whose backend is not in
# AUTHENTICATION_BACKENDS as logged out. Safe to remove once such sessions have expired.
RENAMED_BACKENDS = {
    "django.contrib.auth.backends.ModelBackend": "units.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": "units.backends.AuthenticationBackend",
}


class RenamedLoginBackendMiddleware:
    """Keeps people logged in across the rename of the login backends (see RENAMED_BACKENDS)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            renamed = RENAMED_BACKENDS.get(session.get(BACKEND_SESSION_KEY, ""))
            if renamed:
                session[BACKEND_SESSION_KEY] = renamed
        return self.get_response(request)
