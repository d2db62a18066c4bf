"""A unit's run through the model (Rollout), its four steps and its timeline."""

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.models import Municipality, PreventionLevel, Sector, Unit, User
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

    # A unit with history is archived, not deleted: deleting it would take its rounds, reports,
    # routines and follow-ups with it.
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="rollouts")
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
    # The sum of the step 1 reports' completed counts. Kept by training.services.
    # web_course_report, the reports' only writer, in the statement that locks the rollout, so
    # that the check against the headcount needs no SUM over all of a unit's reports. Other
    # writes of a rollout name their fields (update_fields) or hold its lock, so that no stale
    # copy writes an old total back.
    web_course_completed = models.PositiveIntegerField(default=0, editable=False)

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

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="timeline")
    rollout = models.ForeignKey(
        Rollout, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    step = models.PositiveSmallIntegerField(choices=Step.choices, null=True, blank=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # Kept when the person's account is deleted later, so the trail still says who it was.
    # db_default: jarfalla.sql.insert writes only the columns it is given.
    actor_email = models.EmailField(blank=True, db_default="")
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

    @property
    def actor_display(self) -> str:
        return self.actor.email if self.actor else self.actor_email


class Intervention(models.Model):
    """One of the municipality's interventions (insats) in its intervention chain
    (insatskedja): what is offered, by whom, to whom and at which prevention level. Describes
    an offer, never a person."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="interventions"
    )
    name = models.CharField(_("namn"), max_length=200, validators=[validate_no_personal_data])
    owner_unit = models.ForeignKey(
        Unit,
        verbose_name=_("ansvarig enhet"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_interventions",
    )
    owner_sector = models.ForeignKey(
        Sector,
        verbose_name=_("ansvarig sektor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interventions",
    )
    target_group = models.CharField(
        _("målgrupp"), max_length=200, validators=[validate_no_personal_data]
    )
    level = models.CharField(_("preventionsnivå"), max_length=20, choices=PreventionLevel.choices)
    starts_on = models.DateField(_("gäller från"), null=True, blank=True)
    ends_on = models.DateField(_("gäller till"), null=True, blank=True)
    description = models.TextField(
        _("beskrivning"), blank=True, validators=[validate_no_personal_data]
    )
    participating_units = models.ManyToManyField(
        Unit, verbose_name=_("deltagande enheter"), blank=True, related_name="interventions"
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("insats")
        verbose_name_plural = _("insatser")
        ordering = ("name", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="intervention_period_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def sector_id_for_map(self) -> int | None:
        """The matrix row: the owner sector, else the owner unit's sector."""
        if self.owner_sector_id:
            return self.owner_sector_id
        return self.owner_unit.sector_id if self.owner_unit_id and self.owner_unit else None


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("I kö")
    RENDERING = "rendering", _("Skapas")
    DONE = "done", _("Klar")
    FAILED = "failed", _("Misslyckades")


class BoardReport(models.Model):
    """A municipality report for the board (nämnden), rendered to PDF by the worker. At most
    one job per municipality and language is queued or rendering at a time: asking again while
    it runs returns the running job."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="board_reports"
    )
    language = models.CharField(max_length=5, default="sv")
    status = models.CharField(
        max_length=20, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    # The period the report is written for (its first and last day, both included): the lessons
    # and what happened follow it. Empty on reports made before reports had a period.
    period_start = models.DateField(_("periodens första dag"), null=True, blank=True)
    period_end = models.DateField(_("periodens sista dag"), null=True, blank=True)

    class Meta:
        verbose_name = _("rapport")
        verbose_name_plural = _("rapporter")
        ordering = ("-requested_at", "-id")
        constraints = [
            models.UniqueConstraint(
                "municipality",
                "language",
                condition=Q(status__in=["queued", "rendering"]),
                name="one_running_board_report",
            )
        ]

    def __str__(self) -> str:
        return f"{self.municipality} {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.status in (ReportStatus.QUEUED, ReportStatus.RENDERING)

    @property
    def period(self) -> tuple[dt.date, dt.date] | None:
        if self.period_start is None or self.period_end is None:
            return None
        return self.period_start, self.period_end


class Certificate(models.Model):
    """The unit's certificate (intyg) that it completed the model, made when a round completes."""

    rollout = models.OneToOneField(Rollout, on_delete=models.CASCADE, related_name="certificate")
    file = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("intyg")
        verbose_name_plural = _("intyg")

    def __str__(self) -> str:
        return str(self.rollout)


class MunicipalitySummary(models.Model):
    """A municipality's funnel and indicators, precomputed by the worker for the regional view
    (hundreds of municipalities side by side cannot be computed within a page request). Kept
    at most a minute behind: the worker recomputes a municipality when its generation
    (units.freshness) or the day has changed."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="summary"
    )
    generation = models.BigIntegerField(default=0)
    day = models.DateField()
    computed_at = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("sammanställning")
        verbose_name_plural = _("sammanställningar")

    def __str__(self) -> str:
        return f"{self.municipality} {self.computed_at:%Y-%m-%d %H:%M}"
