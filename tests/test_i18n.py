"""Swedish first, English complete; the language switcher works without JavaScript."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted(ROOT.glob("*/locale/*/LC_MESSAGES/django.po"))


def test_there_are_catalogs_for_both_languages() -> None:
    languages = {path.parts[-3] for path in CATALOGS}
    assert {"sv", "en"} <= languages


@pytest.mark.parametrize("catalog", [p for p in CATALOGS if p.parts[-3] == "en"], ids=str)
def test_english_catalog_is_complete(catalog: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext (msgfmt) is needed to compile the translations"
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(catalog)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr, result.stderr


@pytest.mark.django_db
def test_swedish_by_default_even_for_english_browsers(client: Client) -> None:
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert '<html lang="sv">' in html
    assert "Logga in" in html
    assert response["Content-Language"] == "sv"


@pytest.mark.django_db
def test_language_switcher_posts_and_remembers_choice(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/tillganglighet/"})
    assert response.status_code == 302
    assert response["Location"] == "/tillganglighet/"
    page = client.get("/tillganglighet/").content.decode()
    assert '<html lang="en">' in page
    assert "Accessibility statement" in page
    client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    assert "Tillgänglighetsredogörelse</h1>" in client.get("/tillganglighet/").content.decode()


@pytest.mark.django_db
def test_unknown_language_falls_back_to_swedish(client: Client, settings) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    assert '<html lang="sv">' in client.get("/tillganglighet/").content.decode()


@pytest.mark.django_db
def test_account_pages_write_e_post_as_the_rest_of_the_service(client: Client) -> None:
    """django-allauth's own Swedish writes "epost-adress" and "mail"; ours overrides it."""
    page = client.get(reverse("account_reset_password")).content.decode()
    assert "e-postadress" in page
    assert "epost" not in page.lower().replace("e-post", "")
    assert " mail " not in page
