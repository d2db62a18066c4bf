"""Step 3: routines for noticing signs of honour-related violence and oppression and acting.

A routine is written from a template, edited by the unit manager and the coordinator together
(every save is a version), approved by both, and implemented: written into the unit's
business plan (verksamhetsplan, the unit's yearly plan of work) and made known to the staff."""

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from rollout.models import Rollout
from units.models import Municipality, User
from units.validators import validate_no_personal_data

if TYPE_CHECKING:
    from collections.abc import Mapping

    from django_stubs_ext import StrOrPromise

# The sections every routine has, in order. Titles are shown translated; the keys are stable.
SECTIONS: "tuple[tuple[str, StrOrPromise], ...]" = (
    ("purpose", _("Syfte och omfattning")),
    ("signs", _("Tecken att vara uppmärksam på")),
    ("actions", _("Så agerar du, steg för steg")),
    ("report", _("När och hur du gör en orosanmälan till socialtjänsten")),
    ("consult", _("Vem du kan rådgöra med")),
    ("documentation", _("Vad som dokumenteras och var (aldrig i det här verktyget)")),
    ("responsibility", _("Vem som ansvarar för vad")),
    ("introduction", _("Så introduceras nya medarbetare")),
    ("business_plan", _("Var rutinen finns i verksamhetsplanen")),
    ("review", _("När rutinen ses över")),
)
SECTION_KEYS = tuple(key for key, _title in SECTIONS)
# The core a routine cannot go for review without: which signs staff notice, how they act, and
# when the concern goes on to the social services (orosanmälan). Without them the document does
# not do what step 3 is for, early detection and acting; the other sections frame it and may
# be written later.
CORE_SECTION_KEYS = ("signs", "actions", "report")


def missing_core_sections(sections: "Mapping[str, object]") -> "list[StrOrPromise]":
    """The titles of the core sections that are empty (or only blanks) in ``sections``."""
    return [
        title
        for key, title in SECTIONS
        if key in CORE_SECTION_KEYS and not str(sections.get(key) or "").strip()
    ]


class ReferenceEntry(models.Model):
    """Reference data inserted into routines as [[key]]: phone numbers, law references and the
    like. The coordinator keeps it current; it is never written into templates or code."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="reference_entries"
    )
    key = models.SlugField(_("nyckel"), max_length=60)
    label = models.CharField(_("benämning"), max_length=120, validators=[validate_no_personal_data])
    value = models.CharField(
        _("värde"), max_length=300, blank=True, validators=[validate_no_personal_data]
    )

    class Meta:
        verbose_name = _("referensuppgift")
        verbose_name_plural = _("referensuppgifter")
        ordering = ("label",)
        constraints = [models.UniqueConstraint("municipality", "key", name="reference_key_unique")]

    def __str__(self) -> str:
        return self.label


class RoutineTemplate(models.Model):
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="routine_templates"
    )
    name = models.CharField(_("namn"), max_length=160, validators=[validate_no_personal_data])
    for_duty_to_report = models.BooleanField(
        _("för verksamheter med anmälningsplikt"),
        help_text=_("Mallen väljs efter om enhetens personal har anmälningsplikt."),
    )
    sections = models.JSONField(default=dict, validators=[validate_no_personal_data])
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("rutinmall")
        verbose_name_plural = _("rutinmallar")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class RoutineStatus(models.TextChoices):
    DRAFT = "draft", _("Utkast")
    REVIEW = "review", _("Skickad för granskning")
    APPROVED = "approved", _("Godkänd")
    IMPLEMENTED = "implemented", _("Införd")


class Routine(models.Model):
    rollout = models.OneToOneField(Rollout, on_delete=models.CASCADE, related_name="routine")
    template = models.ForeignKey(
        RoutineTemplate, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RoutineStatus.choices, default=RoutineStatus.DRAFT
    )
    current_version = models.PositiveIntegerField(default=1)
    # Approvals name the version they approved: a newer version needs new approvals.
    manager_approved_version = models.PositiveIntegerField(null=True, blank=True)
    manager_approved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    coordinator_approved_version = models.PositiveIntegerField(null=True, blank=True)
    coordinator_approved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    implemented_on = models.DateField(_("införd"), null=True, blank=True)
    business_plan_location = models.CharField(
        _("var i verksamhetsplanen"),
        max_length=200,
        blank=True,
        validators=[validate_no_personal_data],
    )
    staff_informed_on = models.DateField(_("personalen informerad"), null=True, blank=True)
    published_as_example = models.BooleanField(_("exempel för andra enheter"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rutin")
        verbose_name_plural = _("rutiner")

    def __str__(self) -> str:
        return f"{self.rollout.unit} v{self.current_version}"


class RoutineVersion(models.Model):
    routine = models.ForeignKey(Routine, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    sections = models.JSONField(default=dict, validators=[validate_no_personal_data])
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("version")
        verbose_name_plural = _("versioner")
        ordering = ("-number",)
        constraints = [models.UniqueConstraint("routine", "number", name="routine_version_unique")]

    def __str__(self) -> str:
        return f"v{self.number}"
