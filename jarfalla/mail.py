"""What every e-mail the product sends on its own has in common (reminders, digests, calendar
invitations, invitations to join, and allauth's account mails)."""

from django.conf import settings
from django.urls import reverse


def automatic_headers(*, unsubscribe: bool = False) -> dict[str, str]:
    """Headers that mark a message as sent by the system, not by a person (RFC 3834): mail
    servers and out-of-office replies do not answer it. With unsubscribe, List-Unsubscribe
    points to the person's notification settings (digests and nudges can be turned off there;
    account and security mails cannot)."""
    headers = {"Auto-Submitted": "auto-generated"}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{settings.SITE_URL}{reverse('followup:settings')}>"
    return headers
