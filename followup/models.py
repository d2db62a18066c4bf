"""Step 4 and the reminder outbox.

Reminders are rows, not broker messages (DESIGN.md section 4): whatever decides that someone
should be reminded writes a row, keyed so that scheduling twice is harmless; the dispatcher
claims one row at a time, sends it outside any transaction and marks it sent."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from units.models import Unit, User


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Väntar")
    SENDING = "sending", _("Skickas")
    SENT = "sent", _("Skickad")
    FAILED = "failed", _("Misslyckades")
    CANCELLED = "cancelled", _("Avbruten")


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
    status = models.CharField(
        max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
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
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "claimed_at"]),
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

    class Meta:
        verbose_name = _("utskick")
        verbose_name_plural = _("utskick")
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}: {self.sent}"
