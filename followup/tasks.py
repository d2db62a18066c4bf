from celery import shared_task

from followup import services


@shared_task(name="followup.dispatch_reminders")
def dispatch_reminders() -> int:
    """The beat's interval task: the same service as `manage.py dispatch_reminders`."""
    return services.dispatch().sent
