"""Thin task wrappers: they take ids and call a service."""

import smtplib

from celery import Task, shared_task

from units import services


# A mail server that is away or busy (jarfalla.mail.transient) is tried again later, each
# time with a fresh link (invitation_send), while the people page says the invitation is
# being sent. A refusal for good is recorded by the service and not raised, so it is not
# retried; neither is the last attempt's failure.
@shared_task(
    bind=True,
    name="units.send_invitation",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=60,
    # Under the broker's visibility timeout (an hour, settings): a retry due later than that
    # may be delivered twice, and the second link would stop the first one working.
    retry_backoff_max=30 * 60,
    max_retries=8,
)
def send_invitation(self: Task, invitation_id: int) -> bool:
    return services.invitation_send(
        invitation_id=invitation_id, last_attempt=self.request.retries >= (self.max_retries or 0)
    )
