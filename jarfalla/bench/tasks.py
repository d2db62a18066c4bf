"""The PDF measurement, run inside the Celery worker (started with ``-I jarfalla.bench.tasks``),
where the product renders its reports: the worker's peak memory is the one that counts.

The product's side is ``rollout.reports`` (issue 8). The bench expects:

- ``render_board_report_html(municipality) -> str``: the whole HTML document of the board report;
- ``render_board_report_pdf(municipality) -> bytes``: the PDF, i.e. the selectors, the template
  and WeasyPrint together, as the worker's report task runs it;
- optionally ``html_to_pdf(html: str) -> bytes``: just the WeasyPrint call with the report's own
  options (stylesheets, URL fetcher, PDF/UA). Without it "WeasyPrint alone" is
  ``weasyprint.HTML(string=html).write_pdf()``.

The target compares the two on the same HTML: the product's rendering may cost at most 1.2x
WeasyPrint's own time. The result goes to a JSON file, since the bench's Celery setup keeps no
task results."""

import importlib
import json
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import shared_task

REPORTS_MODULE = "rollout.reports"
HTML_FUNCTION = "render_board_report_html"
PDF_FUNCTION = "render_board_report_pdf"
WEASYPRINT_FUNCTION = "html_to_pdf"
# Both sides render this often, alternating; the fastest of each counts (the machine is noisy).
ROUNDS = 3


def missing_interface() -> str:
    """Empty when rollout.reports offers what the bench calls, else what is missing."""
    try:
        module = importlib.import_module(REPORTS_MODULE)
    except ImportError:
        return f"{REPORTS_MODULE} does not exist yet"
    missing = [
        name for name in (HTML_FUNCTION, PDF_FUNCTION) if not callable(getattr(module, name, None))
    ]
    return f"{REPORTS_MODULE} has no {' or '.join(missing)} yet" if missing else ""


def _own_memory_kb() -> dict[str, int]:
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0])
    return values


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def measure(municipality_id: int) -> dict[str, Any]:
    from weasyprint import HTML

    from units.models import Municipality

    reports = importlib.import_module(REPORTS_MODULE)
    municipality = Municipality.objects.get(pk=municipality_id)
    render_html = getattr(reports, HTML_FUNCTION)
    render_pdf = getattr(reports, PDF_FUNCTION)
    to_pdf = getattr(reports, WEASYPRINT_FUNCTION, None) or (
        lambda html: HTML(string=html, base_url="about:blank").write_pdf()
    )
    # Fonts and templates load once per process; neither side should pay for that.
    HTML(string="<p>warm</p>").write_pdf()
    html = render_html(municipality)
    product, alone = [], []
    pdf: bytes = b""
    for _ in range(ROUNDS):
        seconds, pdf = _timed(lambda: render_pdf(municipality))
        product.append(seconds)
        alone.append(_timed(lambda: to_pdf(html))[0])
    return {
        "product_s": min(product),
        "weasyprint_s": min(alone),
        "product_runs_s": product,
        "weasyprint_runs_s": alone,
        "pdf_bytes": len(pdf),
        "html_chars": len(html),
        "units": municipality.units.count(),
        "weasyprint_call": "rollout.reports.html_to_pdf"
        if hasattr(reports, WEASYPRINT_FUNCTION)
        else "weasyprint.HTML(string=html).write_pdf()",
    }


@shared_task(name="bench.render_board_report")
def render_board_report(municipality_id: int, out_path: str) -> None:
    result: dict[str, Any] = {"pid": os.getpid()}
    try:
        result.update(measure(municipality_id))
    except Exception as error:  # reported in the table, never swallowed
        result["error"] = f"{type(error).__name__}: {error}"[:500]
        result["traceback"] = traceback.format_exc()[-4000:]
    result["memory_kb"] = _own_memory_kb()
    target = Path(out_path)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(result), encoding="utf-8")
    os.replace(temporary, target)
