"""A URLconf with a view that fails, to test the 500 page."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("broken/", broken), path("", include("jarfalla.urls"))]
handler500 = "jarfalla.views.server_error"
