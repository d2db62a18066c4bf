"""The baseline of `make bench`: the cheapest page the stack can serve.

It runs through the whole middleware stack like every other page but touches neither the
database nor the session: an anonymous request without cookies never loads a session, and
nothing here asks for a CSRF token or the user."""

from django.http import HttpRequest, HttpResponse


def baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain; charset=utf-8")
