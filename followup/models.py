"""Step 4 and the reminder outbox.

Reminders are rows, not broker messages (DESIGN.md section 4): whatever decides that someone
should be reminded writes a row, keyed so that scheduling twice is harmless; the dispatcher
claims one row at a time, sends it outside any transaction and marks it sent."""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from units.models import Unit, User
from units.validators import validate_no_personal_data


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Väntar")
    SENDING = "sending", _("Skickas")
    SENT = "sent", _("Skickad")
    FAILED = "failed", _("Misslyckades")
    CANCELLED = "cancelled", _("Avbruten")


class CancelReason(models.TextChoices):
    """Why a reminder was not sent; shown on the municipality's outbox page."""

    OUTDATED = "outdated", _("Det som utskicket gällde är gjort eller har ändrats.")
    SUPERSEDED = "superseded", _("Ersatt av en nyare inbjudan.")
    WITHDRAWN = "withdrawn", _("Mottagaren ansvarar inte längre för det här.")
    INACTIVE = "inactive", _("Mottagarens konto är inaktiverat.")
    TURNED_OFF = "turned_off", _("Mottagaren har stängt av den här sortens utskick.")


class Reminder(models.Model):
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=40)
    # What the reminder is about, e.g. "followup:17:6"; with kind, recipient and due date it
    # makes the row unique, so a sweep may run any number of times.
    subject_key = models.CharField(max_length=120)
    due_on = models.DateField()
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    html = models.TextField(blank=True)
    # A calendar invitation travels with meeting notices (METHOD REQUEST or CANCEL).
    ics = models.TextField(blank=True)
    ics_method = models.CharField(max_length=10, blank=True)
    status = models.CharField(
        max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    cancel_reason = models.CharField(max_length=20, choices=CancelReason.choices, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("påminnelse")
        verbose_name_plural = _("påminnelser")
        constraints = [
            models.UniqueConstraint(
                "recipient", "kind", "subject_key", "due_on", name="reminder_scheduled_once"
            )
        ]
        indexes = [
            # The dispatcher's claim: the oldest due pending row, in (next_attempt_at, id) order,
            # read from the index instead of sorting every pending row. Only pending rows: the
            # claim and the SENT mark then add no entries to it, and the mark (status = sending
            # AND id = …) cannot wander into it instead of the primary key.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="reminder_claim_order",
            ),
            models.Index(fields=["status", "claimed_at"]),
            # Cancelling what a booking, a move or a record made outdated (services.cancel):
            # among the pending rows only, so it stays small however many sent ones are kept.
            models.Index(
                fields=["subject_key"],
                condition=models.Q(status="pending"),
                name="reminder_pending_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_key} → {self.recipient_id}"


class DispatchRun(models.Model):
    """One sweep of the dispatcher; /healthz/ reports the last one that finished."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)
    retried = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    stuck = models.PositiveIntegerField(default=0)
    # Claimed and cancelled instead of sent: the recipient was deactivated or turned that kind
    # of mailing off after it was queued (Reminder.cancel_reason).
    withheld = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("utskick")
        verbose_name_plural = _("utskick")
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}: {self.sent}"


class FollowUpStatus(models.TextChoices):
    PLANNED = "planned", _("Inte bokad")
    BOOKED = "booked", _("Bokad")
    HELD = "held", _("Genomförd")


class FollowUpMode(models.TextChoices):
    MEETING = "meeting", _("Möte")
    PHONE = "phone", _("Telefon")
    VIDEO = "video", _("Video")


class Usage(models.TextChoices):
    YES = "yes", _("Ja")
    PARTLY = "partly", _("Delvis")
    NO = "no", _("Nej")


class SupportNeed(models.TextChoices):
    NONE = "none", _("Inget")
    SUPERVISION = "supervision", _("Handledning")
    TRAINING = "training", _("Mer utbildning")
    REVISE = "revise", _("Revidera rutinen")


class FollowUp(models.Model):
    """The coordinator's oral follow-up ``offset_months`` after the routine was implemented. The
    due date is not stored: it follows the implementation date (rollout.steps facts), so moving
    that date moves the follow-ups."""

    rollout = models.ForeignKey(
        "rollout.Rollout", on_delete=models.CASCADE, related_name="follow_ups"
    )
    offset_months = models.PositiveSmallIntegerField(_("månader efter införandet"))
    status = models.CharField(
        max_length=20, choices=FollowUpStatus.choices, default=FollowUpStatus.PLANNED
    )
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    starts_at = models.DateTimeField(_("tid"), null=True, blank=True)
    mode = models.CharField(_("form"), max_length=20, choices=FollowUpMode.choices, blank=True)
    place = models.CharField(
        _("plats eller länk"), max_length=200, blank=True, validators=[validate_no_personal_data]
    )
    booked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The oral follow-up, recorded as counts and judgements only.
    routine_in_use = models.CharField(
        _("känner personalen till och använder rutinen?"),
        max_length=10,
        choices=Usage.choices,
        blank=True,
    )
    times_used = models.PositiveIntegerField(
        _("antal gånger rutinen använts"), null=True, blank=True
    )
    consultations = models.PositiveIntegerField(
        _("antal konsultationer med socialtjänsten"), null=True, blank=True
    )
    reports_of_concern = models.PositiveIntegerField(
        _("antal orosanmälningar"), null=True, blank=True
    )
    support_needed = models.CharField(
        _("behov av stöd"), max_length=20, choices=SupportNeed.choices, blank=True
    )
    effect = models.PositiveSmallIntegerField(
        _("effekt (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    effect_text = models.TextField(
        _("effekt i ord"), blank=True, validators=[validate_no_personal_data]
    )
    lessons = models.TextField(_("lärdomar"), blank=True, validators=[validate_no_personal_data])
    share_lessons = models.BooleanField(_("dela lärdomarna med andra enheter"), default=False)
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("uppföljning")
        verbose_name_plural = _("uppföljningar")
        ordering = ("offset_months",)
        constraints = [
            models.UniqueConstraint("rollout", "offset_months", name="one_follow_up_per_offset"),
            models.CheckConstraint(
                condition=models.Q(offset_months__gte=1, offset_months__lte=60),
                name="follow_up_offset_1_to_60_months",
            ),
            models.CheckConstraint(
                condition=models.Q(effect__isnull=True) | models.Q(effect__gte=1, effect__lte=5),
                name="follow_up_effect_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rollout} +{self.offset_months}"


class DigestFrequency(models.TextChoices):
    DAILY = "daily", _("Varje dag")
    WEEKLY = "weekly", _("En gång i veckan (måndagar)")
    NEVER = "never", _("Aldrig")


# The day of the weekly digest (ISO: Monday is 1), as its label says.
WEEKLY_DIGEST_DAY = 1


class NotificationSettings(models.Model):
    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="notification_settings"
    )
    digest = models.CharField(
        _("sammanfattning till samordnare"),
        max_length=10,
        choices=DigestFrequency.choices,
        default=DigestFrequency.DAILY,
    )
    nudges = models.BooleanField(_("påminnelser om mina uppgifter"), default=True)
    language = models.CharField(
        _("språk i e-post"),
        max_length=5,
        default="sv",
        choices=[("sv", "Svenska"), ("en", "English")],
    )

    class Meta:
        verbose_name = _("aviseringsinställning")
        verbose_name_plural = _("aviseringsinställningar")

    def __str__(self) -> str:
        return str(self.user)
