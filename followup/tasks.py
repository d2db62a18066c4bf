from celery import shared_task

from followup import services, sweep


@shared_task(name="followup.dispatch_reminders")
def dispatch_reminders() -> int:
    """The beat's interval task: the same service as `manage.py dispatch_reminders`."""
    return sweep.run().sent


@shared_task(name="followup.send_due_reminders")
def send_due_reminders(reminder_ids: list[int] | None = None) -> int:
    """Send these reminders now, not at the beat's next interval: enqueued when a change has
    queued mail that should not wait (a meeting's calendar invitations). Only these: the rest
    of the outbox goes out after the sweep, which cancels what is no longer wanted (a nudge
    about work done since the last sweep). Without ids (a message queued by an earlier
    version): the whole interval's work, sweep included."""
    if reminder_ids is None:
        return sweep.run().sent
    return services.dispatch(only=reminder_ids).sent
