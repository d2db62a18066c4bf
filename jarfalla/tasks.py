"""Project-level tasks. Domain tasks live in their apps (e.g. followup.tasks)."""

from celery import shared_task

from jarfalla import health


@shared_task(name="jarfalla.heartbeat")
def heartbeat() -> str:
    """Beat → broker → worker round trip; /healthz/ reports when it last completed."""
    return health.record_worker_heartbeat().isoformat()
