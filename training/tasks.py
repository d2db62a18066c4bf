"""Thin task wrappers: they take ids and call a service."""

from celery import shared_task

from training import services
from training.models import TrainingSession


@shared_task(
    name="training.send_session_invitation",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_session_invitation(session_id: int) -> int:
    session = TrainingSession.objects.filter(pk=session_id).first()
    if session is None:
        return 0
    return services.session_invitation_send(session=session)
