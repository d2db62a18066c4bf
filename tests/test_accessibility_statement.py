"""The accessibility statement (tillgänglighetsredogörelse) as the DOS law asks for it."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_statement_links_to_diggs_reporting_form(client: Client) -> None:
    page = client.get("/tillganglighet/").content.decode()
    assert '<a href="https://www.digg.se/tdosanmalan">' in page
    assert "Anmäl bristande tillgänglighet till Digg" in page


@pytest.mark.django_db
def test_mail_link_subject_is_url_encoded(client: Client, settings) -> None:
    page = client.get("/tillganglighet/").content.decode()
    assert "?subject=Tillg%C3%A4nglighetsproblem" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "?subject=Accessibility%20problem" in client.get("/tillganglighet/").content.decode()
