"""The approved routine as a PDF, rendered with WeasyPrint from our own HTML.

Nothing is fetched while rendering: the stylesheet is passed in, and the URL fetcher refuses
every URL (no remote images, no file:// paths can reach WeasyPrint). PDFs are cached per version
in the default storage, so a version is rendered once."""

from pathlib import Path
from typing import NoReturn

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation

from routines import services
from routines.models import SECTIONS, Routine, RoutineVersion
from routines.text import render

STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "routine-print.css"


def cache_name(version: RoutineVersion) -> str:
    return f"routines/{version.routine_id}/version-{version.number}.pdf"


def _refuse(url: str, *args: object, **kwargs: object) -> NoReturn:
    raise ValueError(f"external resources are not allowed in routine PDFs: {url[:80]}")


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
    from weasyprint import CSS, HTML

    html = HTML(
        string=document_html(routine, version, for_pdf=True),
        url_fetcher=_refuse,
        base_url="about:blank",
    )
    return html.write_pdf(
        stylesheets=[CSS(string=STYLESHEET.read_text(encoding="utf-8"))],
        pdf_tags=True,
        pdf_variant="pdf/ua-1",
    )


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
