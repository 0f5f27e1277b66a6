"""The gate and the launch options that both browser suites share.

tests/browser (the chat example) and tests/site (the built docs site) drive Debian's Chromium
through Playwright, which the default test environment does not have. They run only with
DOJO_BROWSER=1, which `make browser-test` and `make site-test` set after installing both, and
are skipped otherwise, so `make test` never needs a browser.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

BROWSER_ENABLED = os.environ.get("DOJO_BROWSER") == "1"
BROWSER_SUITES = {"browser": "make browser-test", "site": "make site-test"}  # folder -> its target
TESTS = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("DOJO_CHROMIUM", "/usr/bin/chromium")
# shared/reference/toolchain.md §4: without the background-networking flags Chromium keeps
# trying Google's hosts, which this machine's closed network refuses
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,900"]


def pytest_collection_modifyitems(config, items):
    if BROWSER_ENABLED:
        return
    for item in items:
        parts = item.path.relative_to(TESTS).parts if item.path.is_relative_to(TESTS) else ()
        target = BROWSER_SUITES.get(parts[0]) if len(parts) > 1 else None
        if target:
            item.add_marker(pytest.mark.skip(reason=f"browser test: run it with `{target}` (sets DOJO_BROWSER=1)"))


@pytest.fixture(scope="session")
def chromium_launch() -> dict:
    """Keyword arguments for Playwright's `chromium.launch`: Debian's Chromium, so Playwright
    downloads nothing, headless, with the flags above."""
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_FLAGS}
