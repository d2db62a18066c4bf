"""Browser harness: Playwright drives the system Chromium against a live server; axe-core checks
every page a test loads for WCAG 2.1 A/AA violations.

Never downloads a browser: CHROMIUM (default /usr/bin/chromium) must exist. Locally a missing
browser skips these tests; in CI it fails them.
"""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import require_service

# Playwright's sync API runs an event loop in this thread; the ORM calls our tests make around it
# are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_SOURCE = next((Path(__file__).parent / "vendor").glob("axe-*.min.js")).read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class AxeFailure(AssertionError):
    pass


def run_axe(page: Any) -> list[dict[str, Any]]:
    """Inject the pinned axe-core into the page (not through the page's CSP) and run it."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    # Runs are queued in the page: the load handler and the final check may overlap.
    result = page.evaluate(
        """tags => {
            const run = (window.__axeQueue || Promise.resolve())
                .catch(() => null)
                .then(() => axe.run(document, {runOnly: {type: 'tag', values: tags}}));
            window.__axeQueue = run;
            return run;
        }""",
        AXE_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        require_service(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh page whose every loaded document is checked by axe; violations fail the test."""
    context = browser.new_context(base_url=live_server.url, locale="sv-SE")
    context.set_default_timeout(15_000)
    page = context.new_page()
    checked: list[tuple[str, list[dict[str, Any]]]] = []
    missed: list[str] = []
    blocked: list[str] = []

    def on_load(loaded: Any) -> None:
        url = loaded.url
        try:
            checked.append((url, run_axe(loaded)))
        except PlaywrightError:
            # The test navigated on before axe finished; checked below unless seen again.
            missed.append(url)

    page.on("load", on_load)

    def check_current_page() -> None:
        if page.url != "about:blank" and page.url not in {url for url, _found in checked}:
            page.wait_for_load_state("load")
            checked.append((page.url, run_axe(page)))

    # A goto right after a load would cut the load handler's check short: check first.
    navigate = page.goto

    def goto(url: str, **kwargs: Any) -> Any:
        check_current_page()
        return navigate(url, **kwargs)

    page.goto = goto  # type: ignore[method-assign]
    # For tests that submit a form the moment a page has loaded: check it first.
    page.check_a11y = check_current_page  # type: ignore[attr-defined]

    # Nothing may leave the site: any request to another host fails the test.
    def on_request(request: Any) -> None:
        if not request.url.startswith((live_server.url, "data:", "about:")):
            blocked.append(request.url)

    page.on("request", on_request)

    # A missing stylesheet, script or icon is a broken page too (the document itself may be a 404).
    def on_response(response: Any) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            blocked.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    yield page
    check_current_page()
    context.close()
    assert checked, "the test loaded no page"
    unchecked = sorted(set(missed) - {url for url, _found in checked})
    assert not unchecked, f"pages left before axe could check them: {unchecked}"
    problems = {url: found for url, found in checked if found}
    if problems:
        raise AxeFailure(
            "axe-core found WCAG 2.1 A/AA violations:\n"
            + json.dumps(problems, indent=2, ensure_ascii=False)
        )
    assert not blocked, f"requests to other hosts or failed page resources: {blocked}"
