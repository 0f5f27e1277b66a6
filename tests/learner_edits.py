"""Learner code the hang tests run, written once for the command-line runner's tests
(tests/test_browser_runner.py) and the in-browser ones (tests/site/test_site_runs_code.py)."""

from __future__ import annotations

import re

#: A loop that never returns, at the top of `increment`.
LOOP_FOREVER = "        while True:\n            pass\n"

#: `increment` stalls once and catches the interrupt that ends the stall (`before` goes above the class).
CATCH_THE_INTERRUPT_ONCE = (
    "        global _stalled\n"
    "        if not _stalled:\n"
    "            _stalled = True\n"
    "            try:\n"
    "                while True:\n"
    "                    pass\n"
    "            except BaseException:\n"
    "                pass\n"
)
CATCH_THE_INTERRUPT_ONCE_BEFORE = "_stalled = False\n"


def with_increment_body(source: str, body: str, before: str = "") -> str:
    """`source` (kata 01's file) whose `increment` starts with `body`; `before` goes above the class."""
    changed = re.sub(r"(    async def increment\(self\):\n)", lambda m: m.group(1) + body, source, count=1)
    assert changed != source
    return changed.replace("\nclass ", f"\n{before}\nclass ", 1) if before else changed
