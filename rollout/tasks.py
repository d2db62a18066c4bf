"""Thin task wrappers: they take ids and call a service."""

from celery import shared_task

from rollout import certificates, reports


@shared_task(name="rollout.render_board_report")
def render_board_report(report_id: int) -> str:
    return reports.board_report_render(report_id=report_id)


@shared_task(name="rollout.render_certificate")
def render_certificate(rollout_id: int) -> bool:
    return certificates.certificate_render(rollout_id=rollout_id) is not None


@shared_task(name="rollout.refresh_summaries")
def refresh_summaries() -> int:
    from rollout import regional

    return regional.refresh()
