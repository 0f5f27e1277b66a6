"""The built site in a real browser. Needs Debian's Chromium, the `playwright` package and a
built site: `make site-test` builds the site, installs both if missing and sets DOJO_BROWSER=1.
Without that variable these tests are skipped, so `make test` never needs a browser (the gate is
in tests/conftest.py, shared with tests/browser).

Fixtures (session-wide, synchronous Playwright):
- `site_url`: site-build/ served by a threaded HTTP server on 127.0.0.1 (a free port), without
  the cross-origin isolation headers, as many static hosts serve it;
- `isolated_site_url`: the same, with them (site/serve.py, as `make serve-site` serves it);
- `browser`: Chromium launched with tests/conftest.py's `chromium_launch` options;
- `watched_page`: a page whose every request must stay on 127.0.0.1 (anything else is recorded
  and aborted), and that records failed requests, HTTP errors, console errors and page errors.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "site"))
import serve  # noqa: E402  (site/serve.py: the site served as a static host serves it)
SITE = ROOT / "site-build"
ARTIFACTS = ROOT / ".artifacts" / "site"
WAIT_MS = 10_000  # every wait is bounded
VIEWPORT = {"width": 1366, "height": 900}  # a common laptop screen
PHONE = {"width": 390, "height": 844}


def _serve(isolated: bool):
    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE} has no index.html: build the site first (make site, or make site-test)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), serve.handler(SITE, isolated=isolated, quiet=True))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def site_url():
    yield from _serve(isolated=False)


@pytest.fixture(scope="session")
def isolated_site_url():
    yield from _serve(isolated=True)


@pytest.fixture(scope="session")
def playwright():
    """One Playwright for the whole session: its sync API runs an event loop of its own, and a
    second one started while the first is open fails ("Sync API inside the asyncio loop")."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright, chromium_launch):
    browser = playwright.chromium.launch(**chromium_launch)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass
class Watch:
    """What a page did that it should not have."""

    origin: str
    failed: list[str] = field(default_factory=list)  # requests that failed, HTTP errors
    console: list[str] = field(default_factory=list)  # console errors, uncaught page errors
    elsewhere: list[str] = field(default_factory=list)  # requests to anything but the site

    def problems(self) -> list[str]:
        return ([f"request failed: {x}" for x in self.failed] + [f"console: {x}" for x in self.console]
                + [f"request to another host: {x}" for x in self.elsewhere])

    def clear(self) -> None:
        self.failed.clear()
        self.console.clear()
        self.elsewhere.clear()


@pytest.fixture
def watched_page(browser, site_url):
    yield from _watched(browser, site_url, VIEWPORT)


@pytest.fixture
def phone_page(browser, site_url):
    """A watched page at a phone's size (390x844, as an iPhone 12-15), with touch."""
    yield from _watched(browser, site_url, PHONE, is_mobile=True, has_touch=True, device_scale_factor=1)


@pytest.fixture
def watched_page_at(browser, site_url):
    """watched_page_at(viewport, **context_options): a watched page at that size."""
    opened = []

    def open_page(viewport, **options):
        generator = _watched(browser, site_url, viewport, **options)
        opened.append(generator)
        return next(generator)

    yield open_page
    for generator in opened:
        generator.close()


def _watched(browser, site_url, viewport, **options):
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(2 * WAIT_MS)
    origin = urlsplit(site_url).netloc
    watch = Watch(origin)

    def route(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == origin:
            route.continue_()
        else:
            watch.elsewhere.append(url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    # net::ERR_ABORTED is the browser cancelling a request itself, as when the test navigates
    # on while the favicon still loads: not the site's fault. A missing file is an HTTP 404
    # (below), a request elsewhere is recorded by the route; every other failure counts.
    page.on("requestfailed", lambda request: request.failure != "net::ERR_ABORTED"
            and watch.failed.append(f"{request.url} ({request.failure})"))
    page.on("response", lambda response: response.status >= 400
            and watch.failed.append(f"{response.url} (HTTP {response.status})"))
    page.on("console", lambda message: message.type == "error"
            and watch.console.append(f"{message.text} ({message.location.get('url', '')})"))
    page.on("pageerror", lambda error: watch.console.append(f"uncaught: {error}"))
    page.watch = watch
    try:
        yield page
    finally:
        context.close()
