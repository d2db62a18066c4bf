"""Training sessions as calendar entries (see jarfalla.ical for the format)."""

from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _

from jarfalla import ical
from training.models import SessionStatus, TrainingSession


def session_event(session: TrainingSession) -> ical.CalendarEvent:
    unit = session.rollout.unit
    themes = ", ".join(theme.name for theme in session.themes.all())
    description = [
        _("Riktad utbildning för %(unit)s (%(model)s).")
        % {"unit": unit.name, "model": unit.municipality.model_name}
    ]
    if themes:
        description.append(_("Teman: %(themes)s.") % {"themes": themes})
    if session.video_url:
        description.append(_("Videolänk: %(url)s") % {"url": session.video_url})
    leader = session.leader
    return ical.CalendarEvent(
        uid=str(session.uid),
        sequence=session.sequence,
        updated_at=session.updated_at,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=_("Riktad utbildning: %(unit)s") % {"unit": unit.name},
        description=" ".join(description),
        organizer_name=leader.get_full_name() or leader.email,
        organizer_email=leader.email,
        location=session.place or session.video_url,
        url=session.video_url,
        cancelled=session.status == SessionStatus.CANCELLED,
    )


def invitation(session: TrainingSession, *, attendees: Sequence[str]) -> tuple[str, str]:
    return ical.invitation(session_event(session), attendees=attendees)


def feed(sessions: Iterable[TrainingSession], *, name: str) -> str:
    return ical.calendar(
        (ical.event_lines(session_event(s), attendees=()) for s in sessions),
        method="PUBLISH",
        name=name,
    )
