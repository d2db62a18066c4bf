"""Step 1 (Webbkurs Heder): aggregate reports of how many staff have taken the web course.

Counts only, never names: the product keeps no lists of employees."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
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
