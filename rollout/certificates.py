"""The unit's certificate (intyg) that it has gone through all four steps of the model: made by
the worker when a round completes (rollout.services.step_complete enqueues it), in Swedish, as a
tagged PDF."""

import datetime as dt

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from jarfalla import pdf
from rollout import reports, steps
from rollout.models import Certificate, Rollout, RolloutStatus, Step, StepState
from units import freshness
from units.models import Unit

# A certificate row without a file this long after it was made was left by a worker that died:
# the next visit to the download asks for it again.
STALE_AFTER = dt.timedelta(minutes=10)


def file_name(rollout_id: int) -> str:
    return f"certificates/{rollout_id}.pdf"


def latest_completed(*, unit: Unit) -> Rollout | None:
    return (
        Rollout.objects.filter(unit=unit, status=RolloutStatus.COMPLETED)
        .select_related("unit__municipality", "certificate")
        .order_by("-round")
        .first()
    )


def certificate_of(rollout: Rollout) -> Certificate | None:
    try:
        return rollout.certificate
    except Certificate.DoesNotExist:
        return None


def is_ready(certificate: Certificate | None) -> bool:
    return bool(certificate and certificate.file and default_storage.exists(certificate.file))


def needs_render(certificate: Certificate | None) -> bool:
    """True when nobody is (still) making this certificate."""
    if certificate is None:
        return True
    return not certificate.file and certificate.created_at < timezone.now() - STALE_AFTER


def certificate_html(*, rollout: Rollout, issued_on: dt.date) -> str:
    unit = rollout.unit
    states = {state.step: state for state in StepState.objects.filter(rollout=rollout)}
    routine = steps.facts_for([rollout]).get(rollout.pk, {}).get(Step.ROUTINES, {})
    implemented_on = routine.get("implemented_on")
    with translation.override("sv"):
        return render_to_string(
            "rollout/report/certificate.html",
            {
                "unit": unit,
                "municipality": unit.municipality,
                "rollout": rollout,
                "steps": [
                    (int(step), step.label, states[step].completed_on if step in states else None)
                    for step in Step
                ],
                "implemented_on": implemented_on if isinstance(implemented_on, dt.date) else None,
                "issued_on": issued_on,
            },
        )


def certificate_render(*, rollout_id: int) -> Certificate | None:
    """The worker's part: make the certificate row, then the PDF (outside any transaction).
    Idempotent: a certificate that has its file is left alone. None if the round is not
    complete."""
    rollout = (
        Rollout.objects.select_related("unit__municipality")
        .filter(pk=rollout_id, status=RolloutStatus.COMPLETED)
        .first()
    )
    if rollout is None:
        return None
    certificate, _created = Certificate.objects.get_or_create(rollout=rollout)
    if is_ready(certificate):
        return certificate
    html = certificate_html(rollout=rollout, issued_on=timezone.localdate(certificate.created_at))
    name = pdf.store(file_name(rollout.pk), reports.html_to_pdf(html))
    Certificate.objects.filter(pk=certificate.pk).update(file=name)
    # The unit page (kept by units.pagecache) now has a download link to show.
    freshness.changed(rollout.unit.municipality_id)
    certificate.file = name
    return certificate
