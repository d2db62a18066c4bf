"""WeasyPrint, the one way this project turns its own HTML into PDF (routines, board reports,
certificates).

Nothing is fetched while rendering: stylesheets are read from our own files and passed in, and
the URL fetcher refuses every URL, so no remote image and no file:// path can reach WeasyPrint.
The PDFs are tagged (PDF/UA-1) so that screen readers can read them."""

from pathlib import Path
from typing import Any, NoReturn

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def _refusing_fetcher() -> Any:
    # Imported here: WeasyPrint loads Pango and fonts, which only the worker needs.
    from weasyprint.urls import URLFetcher

    class RefuseAll(URLFetcher):  # type: ignore[misc]
        # A subclass, not a plain function: WeasyPrint 70 reads the fetcher's attributes when a
        # fetch fails, and a function made every refused URL crash the whole render.
        def fetch(self, url: str, headers: object = None) -> NoReturn:
            raise ValueError(f"external resources are not allowed in PDFs: {url[:80]}")

    return RefuseAll()


def render_pdf(html: str, *, stylesheets: list[Path]) -> bytes:
    from weasyprint import CSS, HTML

    refuse = _refusing_fetcher()
    document = HTML(string=html, url_fetcher=refuse, base_url="about:blank")
    pdf = document.write_pdf(
        # The stylesheets get the refusing fetcher too: without it an @import or url() in them
        # would be fetched by WeasyPrint's default fetcher, from any host.
        stylesheets=[
            CSS(string=path.read_text(encoding="utf-8"), url_fetcher=refuse) for path in stylesheets
        ],
        pdf_tags=True,
        pdf_variant="pdf/ua-1",
    )
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return pdf


def store(name: str, content: bytes) -> str:
    """Save a rendered PDF under ``name`` in the default storage, replacing a file left there
    (e.g. by a render whose row update was lost); returns the name actually used."""
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))
