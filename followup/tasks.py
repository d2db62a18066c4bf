from celery import shared_task

from followup import sweep


@shared_task(name="followup.dispatch_reminders")
def dispatch_reminders() -> int:
    """The beat's interval task: the same service as `manage.py dispatch_reminders`."""
    return sweep.run().sent
