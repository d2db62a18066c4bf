"""Every write for step 3: templates and reference data, drafting with versions and optimistic
locking, review and approval by both roles, implementation, examples for other units."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from rollout import services as engine
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus
from routines.models import (
    SECTION_KEYS,
    ReferenceEntry,
    Routine,
    RoutineStatus,
    RoutineTemplate,
    RoutineVersion,
    missing_core_sections,
)
from routines.text import References
from units.models import Municipality, User
from units.validators import validate_no_personal_data


class RoutineConflict(engine.RolloutError):
    """Someone saved a newer version since this edit began."""

    def __init__(self, current: RoutineVersion) -> None:
        self.current = current
        super().__init__(
            _("Någon annan har sparat en nyare version (%(number)s) medan du skrev.")
            % {"number": current.number}
        )


class RoutineAlreadyApproved(engine.RolloutError):
    """The same side approved this version already (a double click, a second manager): nothing
    new is recorded."""

    def __init__(self, *, version: int, as_coordinator: bool) -> None:
        self.version = version
        super().__init__(
            (
                _("Samordnaren har redan godkänt version %(number)s. Inget nytt sparades.")
                if as_coordinator
                else _("Enhetschefen har redan godkänt version %(number)s. Inget nytt sparades.")
            )
            % {"number": version}
        )


# Keys and labels only: the values are the municipality's own, entered by the coordinator.
DEFAULT_REFERENCES = (
    ("socialtjanst", _("Socialtjänstens mottagning (telefon)")),
    ("socialjour", _("Socialjouren utanför kontorstid (telefon)")),
    ("resurscentrum", _("Regionalt resurscentrum mot hedersrelaterat våld (telefon)")),
    ("stodlinje", _("Nationell stödlinje (telefon)")),
    ("lagrum_anmalan", _("Lagrum för anmälningsplikt")),
    ("samordnare", _("Kommunens hederssamordnare (kontakt)")),
)


def references_ensure_defaults(*, municipality: Municipality) -> None:
    ReferenceEntry.objects.bulk_create(
        [
            ReferenceEntry(municipality=municipality, key=key, label=str(label))
            for key, label in DEFAULT_REFERENCES
        ],
        ignore_conflicts=True,
    )


def references(*, municipality: Municipality, url: str | None = None) -> References:
    """The reference data routines are rendered with (one query). A key without a value, or
    whose entry is not made yet (they are made when the first routine starts or the reference
    page is opened), is known by its label and shows as "not filled in"; ``url`` is the reference
    page, for someone who may fill them in."""
    labels = {key: str(label) for key, label in DEFAULT_REFERENCES}
    values = {}
    for key, label, value in ReferenceEntry.objects.filter(municipality=municipality).values_list(
        "key", "label", "value"
    ):
        labels[key] = label
        if value.strip():
            values[key] = value
    return References(values=values, labels=labels, url=url)


@transaction.atomic
def reference_update(*, actor: User, municipality: Municipality, values: Mapping[str, str]) -> None:
    from units.services import audit_record

    for entry in ReferenceEntry.objects.select_for_update().filter(
        municipality=municipality, key__in=values
    ):
        new = values[entry.key].strip()
        if new != entry.value:
            validate_no_personal_data(new)
            audit_record(
                actor=actor,
                action="reference.changed",
                target=entry,
                municipality=municipality,
                changes={"value": (entry.value, new)},
            )
            entry.value = new
            entry.save(update_fields=["value"])


def _default_sections(duty_to_report: bool) -> dict[str, str]:
    report = (
        "Personal i verksamheten är skyldig att genast anmäla till socialtjänsten vid kännedom "
        "eller misstanke om att ett barn far illa ([[lagrum_anmalan]]). Anmälan görs av den som "
        "har fått kännedom; chefen stöttar.\n\n"
        "1. Ring socialtjänstens mottagning: [[socialtjanst]].\n"
        "2. Efter kontorstid: socialjouren, [[socialjour]].\n"
        "3. Följ upp med skriftlig anmälan enligt socialtjänstens anvisning."
        if duty_to_report
        else "Verksamheten har ingen lagstadgad anmälningsplikt, men alla uppmanas att anmäla oro för "
        "barn till socialtjänsten.\n\n"
        "1. Kontakta socialtjänstens mottagning: [[socialtjanst]].\n"
        "2. Efter kontorstid: socialjouren, [[socialjour]].\n"
        "3. Rådgör gärna först med kommunens hederssamordnare: [[samordnare]]."
    )
    return {
        "purpose": "Rutinen beskriver hur personalen uppmärksammar tecken på hedersrelaterat våld och "
        "förtryck och hur vi agerar. Den gäller all personal, även vikarier.",
        "signs": "- Begränsningar i umgänge, kläder eller fritidsaktiviteter\n"
        "- Oro inför lov, resor eller att bli bortgift\n"
        "- Kontroll från syskon eller andra släktingar\n"
        "- Plötslig frånvaro eller ändrat beteende",
        "actions": "1. Lyssna och ta det som sägs på allvar.\n"
        "2. Kontakta inte familjen innan du har rådgjort med socialtjänsten.\n"
        "3. Berätta för din chef samma dag.\n"
        "4. Dokumentera vad du sett och hört i verksamhetens ordinarie system.",
        "report": report,
        "consult": "Rådgör med din chef, kommunens hederssamordnare ([[samordnare]]) eller det regionala "
        "resurscentrumet ([[resurscentrum]]). Nationell stödlinje: [[stodlinje]].",
        "documentation": "Dokumentation om enskilda görs bara i verksamhetens ordinarie journal- eller "
        "dokumentationssystem, aldrig i det här verktyget eller i e-post.",
        "responsibility": "Chefen ansvarar för att rutinen är känd och följs. All personal ansvarar "
        "för att agera enligt rutinen.",
        "introduction": "Nya medarbetare går igenom rutinen med sin chef under första månaden och "
        "går Webbkurs Heder.",
        "business_plan": "Rutinen finns i verksamhetsplanen under avsnittet om trygghet och "
        "barnets bästa.",
        "review": "Rutinen ses över en gång per år och när något i verksamheten förändras.",
    }


def templates_ensure_defaults(*, municipality: Municipality) -> None:
    references_ensure_defaults(municipality=municipality)
    if RoutineTemplate.objects.filter(municipality=municipality).exists():
        return
    RoutineTemplate.objects.bulk_create(
        [
            RoutineTemplate(
                municipality=municipality,
                name=str(_("Barn- och elevnära verksamheter med anmälningsplikt")),
                for_duty_to_report=True,
                sections=_default_sections(True),
            ),
            RoutineTemplate(
                municipality=municipality,
                name=str(_("Föreningar, nätverk och bostadsbolag")),
                for_duty_to_report=False,
                sections=_default_sections(False),
            ),
        ]
    )


def template_for(*, rollout: Rollout) -> RoutineTemplate | None:
    unit = rollout.unit
    templates_ensure_defaults(municipality=unit.municipality)
    return RoutineTemplate.objects.filter(
        municipality=unit.municipality, for_duty_to_report=unit.duty_to_report, is_active=True
    ).first()


def _event(routine: Routine, kind: str, actor: User, **params: Any) -> None:
    engine.record_event(
        unit=routine.rollout.unit,
        rollout=routine.rollout,
        step=Step.ROUTINES,
        kind=kind,
        actor=actor,
        **params,
    )


def _locked(routine: Routine) -> Routine:
    """The routine under its row lock, for a change; none while its unit is archived."""
    routine = (
        Routine.objects.select_for_update()
        .select_related("rollout__unit__municipality")
        .get(pk=routine.pk)
    )
    engine.refuse_archived(routine.rollout.unit)
    return routine


@transaction.atomic
def routine_start(*, actor: User, rollout: Rollout) -> Routine:
    rollout = (
        Rollout.objects.select_for_update().select_related("unit__municipality").get(pk=rollout.pk)
    )
    if rollout.status != RolloutStatus.ACTIVE:
        raise engine.RolloutError(_("Införandet är inte aktivt."))
    engine.refuse_archived(rollout.unit)
    if StepState.objects.get(rollout=rollout, step=Step.ROUTINES).status != StepStatus.IN_PROGRESS:
        raise engine.RolloutError(_("Steg 3 är inte påbörjat."))
    existing = Routine.objects.filter(rollout=rollout).first()
    if existing:
        return existing
    template = template_for(rollout=rollout)
    sections = {key: (template.sections.get(key, "") if template else "") for key in SECTION_KEYS}
    routine = Routine.objects.create(rollout=rollout, template=template)
    RoutineVersion.objects.create(routine=routine, number=1, sections=sections, created_by=actor)
    _event(routine, "routine.started", actor, template=template.name if template else "")
    return routine


@transaction.atomic
def routine_save(
    *, actor: User, routine: Routine, base_version: int, sections: Mapping[str, str]
) -> RoutineVersion:
    """Save the edit as a new version — only if nobody saved since ``base_version`` was read.

    A stale edit raises RoutineConflict carrying the newer version; the caller shows both and
    nothing is lost. The unique (routine, number) constraint backs this up if two saves race."""
    routine = _locked(routine)
    if routine.status == RoutineStatus.IMPLEMENTED:
        raise engine.RolloutError(
            _("Rutinen är införd och kan inte ändras. Påbörja en ny version för att revidera den.")
        )
    current = routine.versions.get(number=routine.current_version)
    if base_version != routine.current_version:
        raise RoutineConflict(current)
    cleaned = {key: sections.get(key, "").strip() for key in SECTION_KEYS}
    for text in cleaned.values():
        validate_no_personal_data(text)
    if cleaned == current.sections:
        return current
    try:
        with transaction.atomic():
            version = RoutineVersion.objects.create(
                routine=routine,
                number=routine.current_version + 1,
                sections=cleaned,
                created_by=actor,
            )
    except IntegrityError:
        raise RoutineConflict(routine.versions.order_by("-number").first()) from None  # type: ignore[arg-type]
    routine.current_version = version.number
    # An edit needs fresh approvals: they name the version they approved.
    routine.status = RoutineStatus.DRAFT
    routine.save(update_fields=["current_version", "status"])
    _event(routine, "routine.saved", actor, version=version.number)
    return version


@transaction.atomic
def routine_send_for_review(*, actor: User, routine: Routine) -> Routine:
    routine = _locked(routine)
    if routine.status != RoutineStatus.DRAFT:
        raise engine.RolloutError(_("Bara ett utkast kan skickas för granskning."))
    missing = missing_core_sections(routine.versions.get(number=routine.current_version).sections)
    if missing:
        raise engine.RolloutError(
            _(
                "Rutinen kan inte skickas för granskning förrän de här avsnitten är ifyllda: "
                "%(sections)s."
            )
            % {"sections": "; ".join(str(title) for title in missing)}
        )
    routine.status = RoutineStatus.REVIEW
    routine.save(update_fields=["status"])
    _event(routine, "routine.review", actor, version=routine.current_version)
    return routine


@transaction.atomic
def routine_approve(
    *, actor: User, routine: Routine, version: int, as_coordinator: bool
) -> Routine:
    routine = _locked(routine)
    already = (
        routine.coordinator_approved_version if as_coordinator else routine.manager_approved_version
    )
    # Checked under the lock, before the status: a double click, or a second person on the same
    # side, finds the first approval (perhaps the one that made the routine approved).
    if version == routine.current_version == already and routine.status in (
        RoutineStatus.REVIEW,
        RoutineStatus.APPROVED,
    ):
        raise RoutineAlreadyApproved(version=version, as_coordinator=as_coordinator)
    if routine.status != RoutineStatus.REVIEW:
        raise engine.RolloutError(_("Rutinen är inte skickad för granskning."))
    if version != routine.current_version:
        raise engine.RolloutError(
            _(
                "Du godkände version %(old)s men den senaste är version %(new)s. Läs den senaste versionen först."
            )
            % {"old": version, "new": routine.current_version}
        )
    if as_coordinator:
        routine.coordinator_approved_version, routine.coordinator_approved_by = version, actor
    else:
        routine.manager_approved_version, routine.manager_approved_by = version, actor
    if routine.manager_approved_version == routine.coordinator_approved_version == version:
        routine.status = RoutineStatus.APPROVED
    routine.save()
    _event(
        routine,
        "routine.approved",
        actor,
        version=version,
        role="coordinator" if as_coordinator else "manager",
    )
    return routine


def _reopen(routine: Routine) -> None:
    """Back to draft; earlier approvals no longer count, both must approve again."""
    routine.status = RoutineStatus.DRAFT
    routine.manager_approved_version = routine.coordinator_approved_version = None
    routine.manager_approved_by = routine.coordinator_approved_by = None
    routine.save()


@transaction.atomic
def routine_send_back(*, actor: User, routine: Routine, comment: str) -> Routine:
    routine = _locked(routine)
    if routine.status not in (RoutineStatus.REVIEW, RoutineStatus.APPROVED):
        raise engine.RolloutError(_("Rutinen är inte under granskning."))
    _reopen(routine)
    _event(routine, "routine.sent_back", actor, comment=comment)
    return routine


@transaction.atomic
def routine_implement(
    *,
    actor: User,
    routine: Routine,
    implemented_on: dt.date,
    business_plan_location: str,
    staff_informed_on: dt.date,
) -> bool:
    routine = _locked(routine)
    if routine.status == RoutineStatus.IMPLEMENTED:
        return False
    if routine.status != RoutineStatus.APPROVED:
        raise engine.RolloutError(
            _("Rutinen måste vara godkänd av både enhetschef och samordnare först.")
        )
    routine.status = RoutineStatus.IMPLEMENTED
    routine.implemented_on, routine.staff_informed_on = implemented_on, staff_informed_on
    routine.business_plan_location = business_plan_location
    routine.full_clean()
    routine.save()
    _event(routine, "routine.implemented", actor, version=routine.current_version)
    # A revision implemented later (in step 4, or after the round) finds step 3 done already.
    engine.step_complete(actor=actor, rollout=routine.rollout, step=Step.ROUTINES)
    return True


@transaction.atomic
def routine_revise(*, actor: User, routine: Routine) -> Routine:
    """Open an implemented routine for a new version; the implemented one stays in the history."""
    routine = _locked(routine)
    if routine.status != RoutineStatus.IMPLEMENTED:
        raise engine.RolloutError(_("Bara en införd rutin revideras på det här sättet."))
    _reopen(routine)
    _event(routine, "routine.revised", actor, version=routine.current_version)
    return routine


@transaction.atomic
def routine_publish(*, actor: User, routine: Routine, published: bool) -> Routine:
    routine = _locked(routine)
    if published and routine.status not in (RoutineStatus.APPROVED, RoutineStatus.IMPLEMENTED):
        raise engine.RolloutError(_("Bara en godkänd rutin kan delas som exempel."))
    routine.published_as_example = published
    routine.save(update_fields=["published_as_example"])
    _event(routine, "routine.published" if published else "routine.unpublished", actor)
    return routine
