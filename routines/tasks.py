from celery import shared_task

from routines import pdf
from routines.models import RoutineVersion


@shared_task(name="routines.render_pdf")
def render_pdf(version_id: int) -> int:
    version = RoutineVersion.objects.filter(pk=version_id).first()
    return len(pdf.build_pdf(version)) if version else 0
