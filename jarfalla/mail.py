"""What every e-mail the product sends on its own has in common (reminders, digests, calendar
invitations, invitations to join, and allauth's account mails)."""

import smtplib
from collections.abc import Collection
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


def transient(error: BaseException) -> bool:
    """Whether sending may work if tried again later: a 4xx reply (the server is busy, the
    mailbox is full for now), a refused connection, a timeout or a dropped session. A 5xx reply
    ("550 no such mailbox") is final: trying again only repeats the refusal. The one rule for
    reminders (followup.services) and invitations (units.tasks)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # Refused at RCPT TO, where a real server says the mailbox does not exist.
        codes = [code for code, _reply in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    # SMTPException is an OSError too: what is left has no reply code, the server may be back.
    return isinstance(error, OSError)


def smtp_reply(error: BaseException, *, limit: int = 300, hiding: Collection[str] = ()) -> str:
    """What the mail server answered when it refused a message, to show a coordinator: its code
    and reply ("550 5.1.1 No such user"), never the message. Empty when there was no answer (no
    connection, a timeout, a dropped session). A content filter may quote the message in its
    reply (the link it blocked): each of ``hiding`` (a link's token) becomes "…", before the
    reply is cut to ``limit``, so that no start of one is left either."""
    reply: bytes | str
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, reply = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException) and error.smtp_code > 0:
        code, reply = error.smtp_code, error.smtp_error
    else:
        return ""
    said = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    for secret in hiding:
        said = said.replace(secret, "…")
    return " ".join(f"{code} {said}".split())[:limit]
