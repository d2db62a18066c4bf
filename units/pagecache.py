"""Whole rendered pages, kept in the process, for the busiest read-only pages (the dashboard,
the unit table, the unit page, the regional view).

A page is kept under everything it depends on: its scope, usually the municipality's
generation (units.freshness, bumped by every change that leaves a trace, so the person who made
a change sees it on their next page), the person and their roles, the language, the day and the
full path. Whatever changes without a trace (time passing, a reminder failing) shows within the
minute.
Access is checked before a page is looked up, on every request: the cache never decides who
may see what.

What differs between two requests for the same page is taken out before the page is kept and
put back on the way out: the CSP nonce and the CSRF tokens of its forms. Pages with a message
to show (after a change) are always rendered."""

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation

from units import access, freshness

# Half the minute within which everything must show: a page may be drawn from data that was
# itself cached up to 30 s (the dashboard's Board, rollout.board.CACHE_SECONDS).
MAX_AGE_SECONDS = 30
# A few hundred KB each at most (the unit table): about 10 MB per process when full.
MAX_PAGES = 64

_NONCE_MARK = "\x00nonce\x00"
_CSRF_MARK = "\x00csrf\x00"
_CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


@dataclass(frozen=True)
class _Page:
    content: str
    content_type: str
    expires: float


_pages: OrderedDict[Hashable, _Page] = OrderedDict()
_lock = threading.Lock()  # threaded servers share the process's dict


def municipality(municipality_id: int) -> Hashable:
    """The scope of a page that shows one municipality's data: it changes with every change
    there."""
    return ("municipality", municipality_id, freshness.generation(municipality_id))


def _key(request: HttpRequest, scope: Hashable) -> Hashable:
    user = request.user
    return (
        scope,
        translation.get_language(),
        timezone.localdate(),
        user.pk,
        user.is_staff,
        access.roles_of(user),
        request.get_full_path(),
    )


def _keep(request: HttpRequest, key: Hashable, response: HttpResponse) -> None:
    content_type = response.get("Content-Type", "")
    if (
        response.status_code != 200
        or response.streaming
        or not content_type.startswith("text/html")
        or response.cookies  # a page that sets cookies is not the same for everyone
        or len(messages.get_messages(request))  # a message added while rendering shows once
    ):
        return
    content = response.content.decode(response.charset)
    nonce = getattr(request, "_csp_nonce", None)
    if nonce:  # only once read, by the page's scripts
        content = content.replace(str(nonce), _NONCE_MARK)
    content = _CSRF_VALUE.sub(rf"\g<1>{_CSRF_MARK}\g<2>", content)
    page = _Page(content, content_type, expires=time.monotonic() + MAX_AGE_SECONDS)
    with _lock:
        _pages[key] = page
        _pages.move_to_end(key)
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)


def _serve(request: HttpRequest, page: _Page) -> HttpResponse:
    content = page.content
    # Only what the page had: reading the nonce puts it in the CSP header and asking for a token
    # sets the CSRF cookie, as rendering would have.
    if _NONCE_MARK in content:
        content = content.replace(_NONCE_MARK, str(request._csp_nonce))  # type: ignore[attr-defined]
    if _CSRF_MARK in content:
        content = content.replace(_CSRF_MARK, get_token(request))
    return HttpResponse(content, content_type=page.content_type)


def page(
    request: HttpRequest, *, scope: Hashable, render: Callable[[], HttpResponse]
) -> HttpResponse:
    """``render()``'s response, or the same page rendered earlier. Call it after the access
    check. ``scope`` names the data the page shows and must change when it changes
    (``municipality(pk)`` for one municipality's pages)."""
    if request.method != "GET" or len(messages.get_messages(request)):
        return render()
    key = _key(request, scope)
    with _lock:
        found = _pages.get(key)
        if found is not None and found.expires > time.monotonic():
            _pages.move_to_end(key)
        else:
            found = None
    if found is not None:
        return _serve(request, found)
    response = render()
    _keep(request, key, response)
    return response


def clear() -> None:
    """Forget every page (tests)."""
    with _lock:
        _pages.clear()
