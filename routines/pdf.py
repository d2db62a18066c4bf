"""The approved routine as a PDF, rendered with WeasyPrint from our own HTML.

Nothing is fetched while rendering (jarfalla.pdf): the stylesheet is passed in, and the URL
fetcher refuses every URL (no remote images, no file:// paths can reach WeasyPrint). PDFs are
cached in the default storage per version and per document: the document also shows the routine's
implementation and the municipality's reference data, which change after a version is saved, so
the file is named after a digest of the HTML it was made from and a changed document gets a new
render instead of the old file."""

import hashlib
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


def _document(version: RoutineVersion) -> tuple[str, str]:
    """The file name the PDF of the version's current document is cached under, and its HTML."""
    routine = Routine.objects.select_related("rollout__unit__municipality").get(
        pk=version.routine_id
    )
    html = document_html(routine, version, for_pdf=True)
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:16]
    return f"routines/{version.routine_id}/version-{version.number}-{digest}.pdf", html


def cache_name(version: RoutineVersion) -> str:
    return _document(version)[0]


def document_html(routine: Routine, version: RoutineVersion, *, for_pdf: bool = False) -> str:
    unit = routine.rollout.unit
    with translation.override("sv"):
        refs = services.references(municipality=unit.municipality)
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


def read_cached(name: str) -> bytes | None:
    """The PDF stored under ``name`` (from cache_name), or None while it is not made yet."""
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def cached_pdf(version: RoutineVersion) -> bytes | None:
    return read_cached(cache_name(version))


def build_pdf(version: RoutineVersion) -> bytes:
    """Render and cache (idempotent: a second call returns the cached file)."""
    name, html = _document(version)
    existing = read_cached(name)
    if existing is not None:
        return existing
    content = html_to_pdf(html, stylesheets=[STYLESHEET])
    # Another worker may have stored the same document meanwhile; its file is as good as ours,
    # and replacing it could pull it away from a download that is reading it.
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(content))
    return content
