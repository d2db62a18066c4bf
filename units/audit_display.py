"""The audit log in words: actions, fields and values as a person reads them.

AuditEvent keeps codes (``unit.archived``, ``is_active``, ``indicated``) so the trail stays
stable when wording or language changes; this module turns them into labels when the page is
shown. Everything comes from the models' metadata (verbose names, choices) held in memory: no
queries. What it does not know (an action or field added later) is shown as its code."""

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from units.models import AuditEvent

# Passive past tense ("-ades"), so one wording fits every noun, whatever its gender.
ACTIONS: dict[str, Promise] = {
    "municipality.created": _("Kommunen skapades"),
    "municipality.changed": _("Kommunens inställningar ändrades"),
    "sector.created": _("Sektor lades till"),
    "sector.changed": _("Sektor ändrades"),
    "unit.created": _("Enhet skapades"),
    "unit.changed": _("Enhet ändrades"),
    "unit.archived": _("Enheten arkiverades"),
    "unit.restored": _("Enheten återställdes"),
    "manager.added": _("Enhetschef lades till"),
    "manager.removed": _("Enhetschef togs bort"),
    "role.set": _("Roll i kommunen gavs eller ändrades"),
    "role.removed": _("Roll i kommunen togs bort"),
    "invitation.created": _("Inbjudan skickades"),
    "invitation.accepted": _("Inbjudan accepterades"),
    "invitation.revoked": _("Inbjudan återkallades"),
    "intervention.created": _("Insats lades till"),
    "intervention.changed": _("Insats ändrades"),
    "intervention.deleted": _("Insats togs bort"),
    "board_report.requested": _("Rapport till nämnden beställdes"),
    "theme.created": _("Utbildningstema lades till"),
    "theme.changed": _("Utbildningstema ändrades"),
    "calendar_feed.created": _("Kalenderflöde skapades"),
    "calendar_feed.renewed": _("Kalenderflöde förnyades"),
    "calendar_feed.revoked": _("Kalenderflöde stängdes"),
    "reference.changed": _("Referensuppgift ändrades"),
}

# "<model>.<verb>_in_admin" (units.admin.AuditedAdmin), for any model.
ADMIN_VERBS: dict[str, Promise] = {
    "created": _("%(model)s skapades i administrationen"),
    "changed": _("%(model)s ändrades i administrationen"),
    "deleted": _("%(model)s togs bort i administrationen"),
}

# Keys that are no model field, or fields whose model gives them no name of their own.
FIELDS: dict[str, Promise] = {
    "user": _("person"),
    "invited_by": _("inbjuden av"),
    "unit_is_active": _("enheten är aktiv"),
    "account_is_active": _("kontot är aktivt"),
    "language": _("språk"),
    "period": _("period"),
}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    action: str
    action_known: bool
    changes: list[Change]


def rows(events: list[AuditEvent]) -> list[EventRow]:
    return [row(event) for event in events]


def row(event: AuditEvent) -> EventRow:
    model = _model(event.target_type)
    label = action_label(event.action)
    return EventRow(
        event=event,
        action=label or event.action,
        action_known=label is not None,
        changes=[
            Change(
                field=field_label(model, name),
                before=value_label(model, name, values[0] if values else None),
                after=value_label(model, name, values[1] if len(values) > 1 else None),
            )
            for name, values in (event.changes or {}).items()
        ],
    )


def action_label(action: str) -> str | None:
    if action in ACTIONS:
        return str(ACTIONS[action])
    model_name, _dot, verb = action.partition(".")
    if verb.endswith("_in_admin") and verb.removesuffix("_in_admin") in ADMIN_VERBS:
        model = _model(model_name)
        if model is not None:
            template = ADMIN_VERBS[verb.removesuffix("_in_admin")]
            return str(template) % {"model": capfirst(model._meta.verbose_name)}
    return None


def field_label(model: type[models.Model] | None, name: str) -> str:
    if name in FIELDS:
        return str(FIELDS[name])
    field = _field(model, name)
    # Django fills in the attribute name ("is active") when a field has no verbose_name; the
    # one given is kept apart (compared translated, an English label equal to the name, such as
    # "target group", passed for none).
    if field is not None and getattr(field, "_verbose_name", None) is not None:
        return str(field.verbose_name)
    return name


def value_label(model: type[models.Model] | None, name: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, list):
        return ", ".join(value_label(model, name, item) for item in value) or "–"
    if isinstance(value, bool):
        return gettext("Ja") if value else gettext("Nej")
    if name == "language":
        return str(dict(settings.LANGUAGES).get(value, value))
    field = _field(model, name)
    if field is not None:
        choices = getattr(field, "base_field", field).flatchoices
        if choices:
            return str(dict(choices).get(value, value))
        if isinstance(field, models.DateTimeField) and isinstance(value, str):
            return _datetime(value)
    return str(value)


def _datetime(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "Y-m-d H:i")


def _field(model: type[models.Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:  # a key that is not a field (e.g. "period")
        return None


@cache
def _models_by_name() -> dict[str, type[models.Model]]:
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models():
        found.setdefault(model._meta.model_name or "", model)
    return found


def _model(name: str) -> type[models.Model] | None:
    # AuditEvent.target_type is the model's name without its app; the project's own apps win
    # over Django's and allauth's where two share a name.
    return _project_models().get(name) or _models_by_name().get(name)


@cache
def _project_models() -> dict[str, type[models.Model]]:
    project = {"units", "rollout", "training", "routines", "followup"}
    return {
        model._meta.model_name or "": model
        for model in apps.get_models()
        if model._meta.app_label in project
    }
