"""The security baseline every response carries."""

import re

import pytest
from django.test import Client

from units.models import User


@pytest.mark.django_db
def test_csp_uses_a_fresh_nonce_and_forbids_framing(client: Client) -> None:
    first = client.get("/accounts/login/")
    second = client.get("/accounts/login/")
    csp = first["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", csp)
    assert nonce, csp
    # Every script tag on the page carries the nonce of this response, and it changes per response.
    html = first.content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts
    assert all(f'nonce="{nonce.group(1)}"' in tag for tag in scripts)
    assert nonce.group(1) not in second["Content-Security-Policy"]


@pytest.mark.django_db
def test_baseline_headers_on_every_page(client: Client) -> None:
    response = client.get("/tillganglighet/")
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_hsts_with_subdomains_over_https(client: Client, settings) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/tillganglighet/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.django_db
def test_pages_for_logged_in_people_are_not_stored(client: Client, user: User) -> None:
    anonymous = client.get("/tillganglighet/")
    assert "no-store" not in anonymous.get("Cache-Control", "")
    client.force_login(user)
    for url in ("/", "/tillganglighet/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_cookies_are_httponly_and_secure_in_production(
    client: Client, settings, user: User
) -> None:
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": "korrekt-häst-batteri-häftklammer"}
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"]
    assert session["secure"]
    assert session["samesite"] == "Lax"
    csrf = client.get("/accounts/login/").cookies.get("csrftoken") or client.cookies["csrftoken"]
    assert csrf["httponly"]
    assert csrf["secure"]


@pytest.mark.django_db
def test_production_values_come_from_https_site_url() -> None:
    # The module-level derivation: https SITE_URL turns on secure cookies, HSTS and redirects.
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_HTTPONLY)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "jarfalla.settings",
            "SITE_URL": "https://heder.example.se",
            "SECRET_KEY": "s" + "Q8w3eR5tY7uI9oP1aS2dF4gH6jK8lZ0x" * 2,
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["True", "True", "True", "31536000", "True", "True"]
