"""Thin task wrappers: they take ids and call a service."""

from celery import shared_task

from training import services
from training.models import TrainingSession


@shared_task(name="training.send_session_invitation")
def send_session_invitation(session_id: int) -> int:
    """Invitations now go through the reminder outbox, queued with the booking. Kept for tasks
    enqueued before that: it queues the session's current invitation (a no-op when it is
    already there), and the dispatcher sends it."""
    session = TrainingSession.objects.filter(pk=session_id).first()
    if session is None:
        return 0
    return services.session_invitation_queue(session=session)
