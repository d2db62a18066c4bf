"""A unit's run through the model (Rollout), its four steps and its timeline."""

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.models import Unit, User
from units.validators import validate_no_personal_data


class Step(models.IntegerChoices):
    WEB_COURSE = 1, _("Webbkurs Heder")
    TRAINING = 2, _("Riktad utbildning")
    ROUTINES = 3, _("Rutiner")
    FOLLOW_UP = 4, _("Uppföljning")


class RolloutStatus(models.TextChoices):
    REQUESTED = "requested", _("Förfrågan om att delta")
    ACTIVE = "active", _("Pågår")
    PAUSED = "paused", _("Pausad")
    COMPLETED = "completed", _("Klar")
    DECLINED = "declined", _("Förfrågan avböjd")


OPEN_STATUSES = (RolloutStatus.REQUESTED, RolloutStatus.ACTIVE, RolloutStatus.PAUSED)


class Rollout(models.Model):
    """One round of a unit through the four steps. A unit can go through the model again later
    (staff turnover): each round is its own Rollout and earlier rounds stay as history."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="rollouts")
    round = models.PositiveSmallIntegerField(_("omgång"), default=1)
    status = models.CharField(
        _("status"), max_length=20, choices=RolloutStatus.choices, default=RolloutStatus.ACTIVE
    )
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(
        _("anledning till paus"), max_length=300, blank=True, validators=[validate_no_personal_data]
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    # When a person last confirmed "inget nytt" (nothing new); reminders stay quiet after it.
    last_checkin_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("införande")
        verbose_name_plural = _("införanden")
        ordering = ("-round",)
        constraints = [
            models.UniqueConstraint(
                "unit",
                condition=Q(status__in=OPEN_STATUSES),
                name="one_open_rollout_per_unit",
            ),
            models.UniqueConstraint("unit", "round", name="rollout_round_unique_per_unit"),
        ]
        indexes = [models.Index(fields=["status", "unit"])]

    def __str__(self) -> str:
        return f"{self.unit} – {_('omgång')} {self.round}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class StepStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Inte påbörjad")
    IN_PROGRESS = "in_progress", _("Pågår")
    DONE = "done", _("Klar")


class StepState(models.Model):
    """Where a rollout stands in one step. The engine (rollout.services) owns these rows."""

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveSmallIntegerField(_("steg"), choices=Step.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=StepStatus.choices, default=StepStatus.NOT_STARTED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Why the coordinator started this step before the previous one was done.
    override_reason = models.CharField(
        max_length=500, blank=True, validators=[validate_no_personal_data]
    )

    class Meta:
        verbose_name = _("steg")
        verbose_name_plural = _("steg")
        ordering = ("step",)
        constraints = [models.UniqueConstraint("rollout", "step", name="one_state_per_step")]

    def __str__(self) -> str:
        return f"{self.get_step_display()}: {self.get_status_display()}"

    @property
    def completed_on(self) -> dt.date | None:
        return timezone.localdate(self.completed_at) if self.completed_at else None


class TimelineEvent(models.Model):
    """Something that happened in a unit's work: shown newest first, and the unit's audit trail.

    ``kind`` names the event; ``params`` holds what the sentence needs. The text is produced at
    display time (rollout.timeline) so that it follows the reader's language."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="timeline")
    rollout = models.ForeignKey(
        Rollout, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    step = models.PositiveSmallIntegerField(choices=Step.choices, null=True, blank=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("händelse")
        verbose_name_plural = _("tidslinje")
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["unit", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"
