"""Browser tests need Debian's Chromium and the `playwright` package, which the default test
environment does not have: they run with `make browser-test` (which sets DOJO_BROWSER=1) and are
skipped otherwise."""

import os

import pytest

ENABLED = os.environ.get("DOJO_BROWSER") == "1"
HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    if ENABLED:
        return
    skip = pytest.mark.skip(reason="browser test: run it with `make browser-test` (sets DOJO_BROWSER=1)")
    for item in items:
        if str(item.fspath).startswith(HERE + os.sep):
            item.add_marker(skip)
