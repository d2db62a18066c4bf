"""Thin task wrappers: they take ids and call a service."""

import smtplib

from celery import shared_task

from units import services


# A mail server that is away or refuses for now: tried again later, each time with a fresh
# link (invitation_send), while the invitation stays pending on the people page.
@shared_task(
    name="units.send_invitation",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=60,
    retry_backoff_max=60 * 60,
    max_retries=8,
)
def send_invitation(invitation_id: int) -> bool:
    return services.invitation_send(invitation_id=invitation_id)
