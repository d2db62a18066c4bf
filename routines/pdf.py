"""The approved routine as a PDF, rendered with WeasyPrint from our own HTML.

Nothing is fetched while rendering (jarfalla.pdf): the stylesheet is passed in, and the URL
fetcher refuses every URL (no remote images, no file:// paths can reach WeasyPrint). PDFs are
cached per version in the default storage, so a version is rendered once."""

from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation

from jarfalla.pdf import render_pdf as html_to_pdf
from routines import services
from routines.models import SECTIONS, Routine, RoutineVersion
from routines.text import render

STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "routine-print.css"


def cache_name(version: RoutineVersion) -> str:
    return f"routines/{version.routine_id}/version-{version.number}.pdf"


def document_html(routine: Routine, version: RoutineVersion, *, for_pdf: bool = False) -> str:
    unit = routine.rollout.unit
    refs = services.references(municipality=unit.municipality)
    with translation.override("sv"):
        return render_to_string(
            "routines/document.html",
            {
                "routine": routine,
                "version": version,
                "unit": unit,
                "sections": [
                    (title, render(version.sections.get(key, ""), refs)) for key, title in SECTIONS
                ],
                "for_pdf": for_pdf,
            },
        )


def render_pdf(routine: Routine, version: RoutineVersion) -> bytes:
    return html_to_pdf(document_html(routine, version, for_pdf=True), stylesheets=[STYLESHEET])


def cached_pdf(version: RoutineVersion) -> bytes | None:
    name = cache_name(version)
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def build_pdf(version: RoutineVersion) -> bytes:
    """Render and cache (idempotent: a second call returns the cached file)."""
    existing = cached_pdf(version)
    if existing is not None:
        return existing
    routine = Routine.objects.select_related("rollout__unit__municipality").get(
        pk=version.routine_id
    )
    content = render_pdf(routine, version)
    default_storage.save(cache_name(version), ContentFile(content))
    return content
