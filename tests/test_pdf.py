"""jarfalla.pdf: WeasyPrint fetches nothing, from any host, whatever the HTML or the stylesheets
ask for, and still makes the PDF."""

import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from jarfalla import pdf
from rollout import reports
from units.models import Municipality, Sector, Unit


class Listener:
    """A local HTTP server that records every path asked for."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.end_headers()
                self.wfile.write(b"p { color: red }")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def listener() -> Iterator[Listener]:
    listening = Listener()
    thread = threading.Thread(target=listening.server.serve_forever, daemon=True)
    thread.start()
    yield listening
    listening.server.shutdown()
    listening.server.server_close()


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_remote_resources_in_the_html_are_refused_and_the_pdf_is_still_made(
    listener: Listener,
) -> None:
    url = listener.url
    html = (
        '<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"><title>Prov</title>'
        f'<link rel="stylesheet" href="{url}/link.css">'
        f"<style>@import url({url}/import.css); p {{ background: url({url}/background.png) }}"
        "</style></head><body><h1>Rubrik</h1>"
        f'<p style="background-image: url({url}/inline.png)">Texten finns kvar.</p>'
        f'<img src="{url}/image.png" alt="bild"></body></html>'
    )
    content = pdf.render_pdf(html, stylesheets=[])
    assert content.startswith(b"%PDF")
    assert "Texten finns kvar." in pdf_text(content)
    assert listener.hits == []


def test_our_stylesheets_cannot_fetch_from_another_host_either(
    listener: Listener, tmp_path: Path
) -> None:
    stylesheet = tmp_path / "print.css"
    stylesheet.write_text(f"@import url({listener.url}/import.css);\n", encoding="utf-8")
    html = '<!DOCTYPE html><html lang="sv"><title>Prov</title><p>Text</p></html>'
    content = pdf.render_pdf(html, stylesheets=[stylesheet])
    assert content.startswith(b"%PDF")
    assert listener.hits == []


@pytest.mark.django_db
def test_typed_names_reach_the_board_report_as_text_and_fetch_nothing(
    listener: Listener, municipality: Municipality, unit_a: Unit
) -> None:
    url = listener.url
    name = f'<img src="{url}/unit.png">'
    sector = Sector.objects.create(
        municipality=municipality, name=f"</style><style>@import url({url}/sector.css);"
    )
    Unit.objects.filter(pk=unit_a.pk).update(name=name, sector=sector)
    unit_a.refresh_from_db()
    content = reports.render_board_report_pdf(municipality, language="sv")
    # Escaped, so shown as text (the table's narrow column may break it over lines).
    text = pdf_text(content).replace(" ", "")
    assert name.replace(" ", "") in text
    assert sector.name.replace(" ", "") in text
    assert listener.hits == []
