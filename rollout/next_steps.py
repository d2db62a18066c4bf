"""What comes next, as a link: the unit's next action leads to the form or page where it is done,
and confirmations of a step's change say what comes next (messages with one link of our own)."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from rollout import engine, selectors, steps
from units import access
from units.models import Role, Unit

# Anchors on the unit page for the actions that are done there (templates/rollout/_workspace.html).
REQUEST_ANCHOR = "rollout-request"
PAUSED_ANCHOR = "rollout-paused"
RESUME_ANCHOR = "rollout-resume"  # the coordinator's button


def action_url(
    *,
    user: access.AnyUser,
    unit: Unit,
    action: engine.NextAction,
    facts: dict[int, dict[str, object]],
) -> str:
    """Where ``user`` goes to do (or, when it is someone else's, to follow) the next action: the
    form itself for someone who may do it, else the step's page, which everyone who sees the unit
    may read."""
    if action.step is None:
        if action.code == "decide_request":
            return "#" + REQUEST_ANCHOR
        coordinator = access.is_coordinator_of(user, unit.municipality_id)
        return "#" + (RESUME_ANCHOR if coordinator else PAUSED_ANCHOR)
    app = steps.get(action.step)
    page = (
        reverse(app.page_url_name, args=[unit.pk])
        if app and app.page_url_name
        else reverse("units:detail", args=[unit.pk])
    )
    may_act = (
        access.is_coordinator_of(user, unit.municipality_id)
        if action.who == Role.COORDINATOR
        else access.can_write_unit(user, unit)
    )
    if app is None or app.action_url is None or not may_act:
        return page
    return app.action_url(unit.pk, action, facts.get(action.step, {})) or page


def responsible(action: engine.NextAction) -> str:
    text = _("ansvarig: %(who)s") % {"who": str(Role(action.who).label).lower()}
    if action.due:
        text += ", " + _("senast %(due)s") % {"due": f"{action.due:%Y-%m-%d}"}
    return text


def with_next_action(request: HttpRequest, unit: Unit, done: str) -> SafeString | str:
    """``done`` (what just happened) followed by the unit's next action as a link. Everything
    but the link's markup is escaped: the message stays safe to show as HTML."""
    action, facts = selectors.next_action(unit=unit)
    if action is None:
        return done
    return format_html(
        '{} {} <a href="{}">{}</a> ({}).',
        done,
        _("Nästa sak att göra:"),
        action_url(user=request.user, unit=unit, action=action, facts=facts),
        action.text,
        responsible(action),
    )


def with_link(done: str, url: str, link_text: str) -> SafeString:
    """A message with one link of our own; ``done`` and ``link_text`` are escaped."""
    return format_html('{} <a href="{}">{}</a>', done, url, link_text)
