"""A URLconf with a view that fails, to test the 500 page."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


def denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("secret reason")


urlpatterns = [
    path("broken/", broken),
    path("denied/", denied),
    path("", include("jarfalla.urls")),
]
handler500 = "jarfalla.views.server_error"
