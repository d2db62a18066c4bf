"""Step 1 (Webbkurs Heder): aggregate reports of how many staff have taken the web course.

Counts only, never names: the product keeps no lists of employees."""

import datetime as dt
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from rollout.models import Rollout
from units.models import User
from units.validators import PRIVACY_HELP_TEXT, validate_no_personal_data


class CourseMode(models.TextChoices):
    GROUPS = "groups", _("I grupp")
    INDIVIDUAL = "individual", _("Individuellt")
    MIXED = "mixed", _("Blandat")


KNOWLEDGE_LEVELS = {
    1: _("1 – Liten kunskap: begreppen är nya för de flesta."),
    2: _("2 – Viss kunskap: känner till begreppen men är osäkra på tecken och hur man agerar."),
    3: _("3 – Grundläggande kunskap: känner igen tecken, osäkra på ansvar och rutiner."),
    4: _("4 – God kunskap: känner igen tecken och vet i stort hur man agerar."),
    5: _("5 – Mycket god kunskap: trygga i att upptäcka, agera och samverka."),
}


class WebCourseReport(models.Model):
    """One report from the unit: how many more staff completed the course since last time."""

    rollout = models.ForeignKey(
        Rollout, on_delete=models.CASCADE, related_name="web_course_reports"
    )
    reported_on = models.DateField(_("datum"))
    completed_count = models.PositiveIntegerField(
        _("antal som gått kursen"),
        help_text=_("Hur många i personalen som har gått kursen sedan förra rapporten."),
    )
    mode = models.CharField(_("genomförande"), max_length=20, choices=CourseMode.choices)
    group_sessions = models.PositiveIntegerField(_("antal gruppträffar"), default=0)
    knowledge_level = models.PositiveSmallIntegerField(
        _("gruppens kunskapsnivå"),
        choices=list(KNOWLEDGE_LEVELS.items()),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    reflections = models.TextField(
        _("reflektioner och önskemål inför steg 2"),
        blank=True,
        validators=[validate_no_personal_data],
        help_text=PRIVACY_HELP_TEXT,
    )
    headcount_at_report = models.PositiveIntegerField()
    reported_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rapport om webbkursen")
        verbose_name_plural = _("rapporter om webbkursen")
        ordering = ("-reported_on", "-id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(knowledge_level__gte=1, knowledge_level__lte=5),
                name="knowledge_level_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reported_on}: {self.completed_count}"


class Theme(models.Model):
    """A theme the targeted training can cover; each municipality keeps its own catalogue."""

    municipality = models.ForeignKey(
        "units.Municipality", on_delete=models.CASCADE, related_name="training_themes"
    )
    name = models.CharField(_("namn"), max_length=120, validators=[validate_no_personal_data])
    description = models.TextField(
        _("beskrivning"), blank=True, validators=[validate_no_personal_data]
    )
    is_active = models.BooleanField(_("används"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("tema")
        verbose_name_plural = _("teman")
        ordering = ("position", "name")
        constraints = [
            models.UniqueConstraint(
                "municipality", Lower("name"), name="theme_name_unique_per_municipality"
            )
        ]

    def __str__(self) -> str:
        return self.name


class TrainingWish(models.Model):
    """The unit's wishes for step 2: themes and suggested dates (one per rollout)."""

    rollout = models.OneToOneField(Rollout, on_delete=models.CASCADE, related_name="training_wish")
    themes = models.ManyToManyField(Theme, blank=True, verbose_name=_("teman"))
    suggested_dates = models.CharField(
        _("förslag på datum"),
        max_length=300,
        blank=True,
        validators=[validate_no_personal_data],
        help_text=_('T.ex. "tisdagar efter 15, vecka 5–7".'),
    )
    note = models.TextField(
        _("övrigt"), blank=True, validators=[validate_no_personal_data], help_text=PRIVACY_HELP_TEXT
    )
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("önskemål inför utbildningen")
        verbose_name_plural = _("önskemål inför utbildningen")

    def __str__(self) -> str:
        return str(self.rollout)


class SessionStatus(models.TextChoices):
    BOOKED = "booked", _("Bokad")
    HELD = "held", _("Genomförd")
    CANCELLED = "cancelled", _("Inställd")


class TrainingSession(models.Model):
    """A booked targeted-training session. ``uid`` stays the same for the life of the session and
    ``sequence`` grows with every change, as calendar clients expect (RFC 5545)."""

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="training_sessions")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    status = models.CharField(
        _("status"), max_length=20, choices=SessionStatus.choices, default=SessionStatus.BOOKED
    )
    starts_at = models.DateTimeField(_("start"))
    duration_minutes = models.PositiveIntegerField(
        _("längd (minuter)"), validators=[MinValueValidator(15), MaxValueValidator(8 * 60)]
    )
    place = models.CharField(
        _("plats"), max_length=200, blank=True, validators=[validate_no_personal_data]
    )
    video_url = models.URLField(
        _("videolänk"), blank=True, validators=[URLValidator(schemes=["http", "https"])]
    )
    themes = models.ManyToManyField(Theme, blank=True, verbose_name=_("teman"))
    expected_participants = models.PositiveIntegerField(_("väntat antal deltagare"))
    leader = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="led_sessions", verbose_name=_("ansvarig")
    )
    # Recorded after the session (aggregates only).
    participants = models.PositiveIntegerField(_("antal deltagare"), null=True, blank=True)
    exercises = models.TextField(_("övningar"), blank=True, validators=[validate_no_personal_data])
    rating = models.PositiveSmallIntegerField(
        _("deltagarnas samlade betyg (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    notes = models.TextField(
        _("anteckningar"),
        blank=True,
        validators=[validate_no_personal_data],
        help_text=PRIVACY_HELP_TEXT,
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("utbildningstillfälle")
        verbose_name_plural = _("utbildningstillfällen")
        ordering = ("starts_at",)
        indexes = [models.Index(fields=["starts_at", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=15, duration_minutes__lte=8 * 60),
                name="session_duration_15_to_480_minutes",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="session_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rollout.unit} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)


class CalendarFeed(models.Model):
    """A coordinator's private iCal feed. The token in the address is the only credential:
    renewing makes a new one and the old address stops working. Only its SHA-256 digest is
    stored (like units.Invitation), so a database leak or dump gives no working address; the
    address is shown once, when it is made."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("kalenderprenumeration")
        verbose_name_plural = _("kalenderprenumerationer")

    def __str__(self) -> str:
        return str(self.user)
