"""WeasyPrint, the one way this project turns its own HTML into PDF (routines, board reports,
certificates).

Nothing is fetched while rendering: stylesheets are read from our own files and passed in, and
the URL fetcher refuses every URL, so no remote image and no file:// path can reach WeasyPrint.
The PDFs are tagged (PDF/UA-1) so that screen readers can read them."""

from pathlib import Path
from typing import NoReturn

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def _refuse(url: str, *args: object, **kwargs: object) -> NoReturn:
    raise ValueError(f"external resources are not allowed in PDFs: {url[:80]}")


def render_pdf(html: str, *, stylesheets: list[Path]) -> bytes:
    # Imported here: WeasyPrint loads Pango and fonts, which only the worker needs.
    from weasyprint import CSS, HTML

    document = HTML(string=html, url_fetcher=_refuse, base_url="about:blank")
    pdf = document.write_pdf(
        stylesheets=[CSS(string=path.read_text(encoding="utf-8")) for path in stylesheets],
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
