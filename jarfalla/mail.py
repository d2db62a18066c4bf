"""What every e-mail the product sends on its own has in common (reminders, digests, calendar
invitations, invitations to join, and allauth's account mails)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse


def site_url(path: str) -> str:
    """``path`` on the site's own origin (SITE_URL), never the request's Host: links in e-mails
    and calendar files must not follow a forged Host header."""
    return settings.SITE_URL + path


def site_host() -> str:
    """The site's host name, the right-hand side of Message-IDs and calendar UIDs."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def automatic_headers(*, unsubscribe: bool = False) -> dict[str, str]:
    """Headers that mark a message as sent by the system, not by a person (RFC 3834): mail
    servers and out-of-office replies do not answer it. With unsubscribe, List-Unsubscribe
    points to the person's notification settings (digests and nudges can be turned off there;
    account and security mails cannot)."""
    headers = {"Auto-Submitted": "auto-generated"}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{site_url(reverse('followup:settings'))}>"
    return headers
