"""The calendar feed's address is on the site's own origin (SITE_URL), like every other link we
hand out, never on the Host the request came in with (behind a proxy that is an internal name)."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from units.models import User


@pytest.mark.django_db
def test_the_feed_address_is_on_the_site_url_not_the_request_host(
    client: Client, coordinator: User, settings: Any
) -> None:
    settings.SITE_URL = "https://heder.example.se"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "app-intern.lan"]
    client.force_login(coordinator)

    made = client.post(reverse("training:calendar_feed_settings"), HTTP_HOST="app-intern.lan")

    assert made.status_code == 200
    html = made.content.decode()
    (shown,) = re.findall(r'id="feed-url"[^>]*value="([^"]+)"', html)
    assert re.fullmatch(r"https://heder\.example\.se/utbildning/kalender/[^/]+\.ics", shown)
    assert made.context["feed_url"] == shown
    assert "app-intern.lan" not in html
