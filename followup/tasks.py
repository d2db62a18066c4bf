from celery import shared_task

from followup import services, sweep


@shared_task(name="followup.dispatch_reminders")
def dispatch_reminders() -> int:
    """The beat's interval task: the same service as `manage.py dispatch_reminders`."""
    return sweep.run().sent


@shared_task(name="followup.send_due_reminders")
def send_due_reminders() -> int:
    """Send what is due now, without the sweep: enqueued when a change has queued mail that
    should not wait for the beat's next interval (a training invitation)."""
    return services.dispatch().sent
