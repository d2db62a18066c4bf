"""Bad input gets the styled pages in the site's layout, never a 500 or a stack trace."""

import re

import pytest
from django.test import Client


def assert_in_layout(html: str) -> None:
    assert 'href="#main"' in html  # skip link
    assert '<main id="main"' in html
    assert "Tillgänglighetsredogörelse" in html
    assert "Traceback" not in html


@pytest.mark.django_db
def test_unknown_url_gives_styled_404(client: Client) -> None:
    response = client.get("/finns-inte/")
    assert response.status_code == 404
    html = response.content.decode()
    assert_in_layout(html)
    assert "Sidan hittades inte" in html


@pytest.mark.django_db
def test_wrong_method_gives_styled_405_with_allow_header(client: Client) -> None:
    response = client.post("/healthz/")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    html = response.content.decode()
    assert_in_layout(html)
    assert "Metoden är inte tillåten" in html


@pytest.mark.django_db
def test_bad_host_header_gives_styled_400(client: Client) -> None:
    response = client.get("/tillganglighet/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Felaktig förfrågan" in html
    assert "Traceback" not in html


@pytest.mark.django_db
def test_missing_csrf_token_gives_styled_403(client: Client) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/accounts/login/", {"login": "a@example.se", "password": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert_in_layout(html)
    assert "Formuläret har gått ut" in html


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_failing")
def test_server_error_gives_styled_500_without_details() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Något gick fel" in html
    assert "boom" not in html
    assert "RuntimeError" not in html


@pytest.mark.django_db
def test_error_pages_are_translated(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get("/finns-inte/")
    assert "Page not found" in response.content.decode()


def assert_own_assets_only(html: str) -> None:
    """No stylesheet, script, icon or link to another host (DESIGN.md: nothing leaves the site)."""
    addresses = re.findall(r'(?:href|src|action)="([^"]*)"', html)
    assert addresses
    assert all(address.startswith(("/", "#")) for address in addresses), addresses
    assert "/static/vendor/bootstrap-" in html


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_failing")
def test_500_page_has_the_working_layout() -> None:
    """Rendered without the context processors, the page still has a language menu with the
    languages in it (and a token, so that choosing one works)."""
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    html = response.content.decode()
    assert_in_layout(html)
    assert_own_assets_only(html)
    assert '<option value="sv" lang="sv" selected>Svenska</option>' in html
    assert '<option value="en" lang="en">English</option>' in html
    assert 'name="csrfmiddlewaretoken"' in html


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_failing")
def test_permission_denied_gives_styled_403_without_the_reason(client: Client) -> None:
    response = client.get("/denied/")
    assert response.status_code == 403
    html = response.content.decode()
    assert_in_layout(html)
    assert_own_assets_only(html)
    assert "Åtkomst nekad" in html
    assert "secret reason" not in html


@pytest.mark.django_db
def test_error_pages_load_nothing_from_other_hosts(client: Client) -> None:
    pages = [
        client.get("/finns-inte/"),
        client.post("/healthz/"),
        client.get("/tillganglighet/", HTTP_HOST="evil.example.com"),
        Client(enforce_csrf_checks=True).post("/accounts/login/", {"login": "a@example.se"}),
    ]
    assert [page.status_code for page in pages] == [404, 405, 400, 403]
    for page in pages:
        html = page.content.decode()
        assert_own_assets_only(html)
        assert "Traceback" not in html
        assert 'lang="sv"' in html
