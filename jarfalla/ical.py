"""iCalendar (RFC 5545) files for meetings (training sessions, follow-ups), written by hand: small, and exactly what
Outlook, Google and Apple Calendar accept — a stable UID, a growing SEQUENCE, METHOD REQUEST or
CANCEL, local times in Europe/Stockholm with a VTIMEZONE, escaped and folded text."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from jarfalla.mail import site_host

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# The EU rules since 1996: summer time from the last Sunday of March 02:00 to the last Sunday of
# October 03:00.
VTIMEZONE = [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Stockholm",
    "X-LIC-LOCATION:Europe/Stockholm",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
]


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and a space, never in
    the middle of a UTF-8 character."""
    out: list[str] = []
    current, size = "", 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size = " ", 1
            limit = 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment, STOCKHOLM).strftime("%Y%m%dT%H%M%S")


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class CalendarEvent:
    """What a calendar entry needs; each step app turns its own meetings into one of these."""

    uid: str
    sequence: int
    updated_at: dt.datetime
    starts_at: dt.datetime
    ends_at: dt.datetime
    summary: str
    description: str
    organizer_name: str
    organizer_email: str
    location: str = ""
    url: str = ""
    cancelled: bool = False


def event_lines(event: CalendarEvent, *, attendees: Sequence[str]) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}@{site_host()}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"LAST-MODIFIED:{_utc(event.updated_at)}",
        f"DTSTART;TZID=Europe/Stockholm:{_local(event.starts_at)}",
        f"DTEND;TZID=Europe/Stockholm:{_local(event.ends_at)}",
        f"SUMMARY:{escape(event.summary)}",
        f"DESCRIPTION:{escape(event.description)}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape(event.location)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    lines.append(f"ORGANIZER;CN={_param(event.organizer_name)}:mailto:{event.organizer_email}")
    for email in attendees:
        lines.append(
            f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{email}"
        )
    lines.append("END:VEVENT")
    return lines


def _param(value: str) -> str:
    """A parameter value: quoted, without the characters a quoted value may not hold."""
    return '"' + value.replace('"', "'").replace("\n", " ") + '"'


def calendar(events: Iterable[list[str]], *, method: str | None, name: str | None = None) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Jarfallamodellen//Samordnarens verktyg//SV",
        "CALSCALE:GREGORIAN",
    ]
    if method:
        lines.append(f"METHOD:{method}")
    if name:
        lines.append(f"X-WR-CALNAME:{escape(name)}")
    lines += VTIMEZONE
    for event in events:
        lines += event
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"


def invitation(event: CalendarEvent, *, attendees: Sequence[str]) -> tuple[str, str]:
    """(method, file) for the e-mail that tells attendees about a new, moved or cancelled meeting."""
    method = "CANCEL" if event.cancelled else "REQUEST"
    return method, calendar([event_lines(event, attendees=attendees)], method=method)
