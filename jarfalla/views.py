"""Project-wide pages: start page, health, accessibility statement, error pages."""

import datetime as dt

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from jarfalla import health
from units import access

# Update whenever the statement or the known shortcomings change.
ACCESSIBILITY_STATEMENT_DATE = dt.date(2026, 11, 27)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Role-aware start: coordinators and observers at the dashboard (where each unit stands
    and what needs them), unit managers at their units, regional observers at the regional view."""
    roles = access.roles_of(request.user)
    if roles.sees_municipality:
        return redirect("rollout:dashboard_home")
    if roles.manager_of:
        return redirect("units:list")
    if access.may_compare_municipalities(request.user):
        return redirect("rollout:regional")
    return render(request, "home.html")


@require_GET
@login_required
def my_account(request: HttpRequest) -> HttpResponse:
    return render(request, "my_account.html", {"roles": access.roles_of(request.user)})


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, payload = health.report()
    return JsonResponse(payload, status=200 if healthy else 503)


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accessibility.html",
        {
            "accessibility_contact": settings.ACCESSIBILITY_CONTACT_EMAIL,
            "statement_date": ACCESSIBILITY_STATEMENT_DATE,
        },
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the failure may lie in a context processor or the session. The
    # language menu's choices and its form's token are given by hand (settings and the CSRF
    # cookie only); without them the menu was empty.
    context = {"LANGUAGES": settings.LANGUAGES, "csrf_token": get_token(request)}
    return HttpResponseServerError(loader.get_template("500.html").render(context))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
