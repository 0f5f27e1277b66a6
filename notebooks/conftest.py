"""How `make test` checks the workbook (pytest with nbval).

* nbval gets `notebooks/sanitize.cfg` unless `--nbval-sanitize-with` names another file.
* The time budget is measured on every run and reported at the end: no cell should take more
  than 2 s and all notebooks together (kernel starts included) not more than 60 s. A run over
  budget names the slow cells but does not fail: on a busy machine (CI) wall time says more
  about the machine than about the notebooks. `DOJO_NOTEBOOK_BUDGET=strict` makes it fail, for
  a quiet machine where a slow cell is news.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CELL_BUDGET_S = 2.0
TOTAL_BUDGET_S = 60.0
_CELL = re.compile(r"(?P<notebook>[^/:]+\.ipynb)::Cell (?P<cell>\d+)$")

_durations: dict = defaultdict(dict)  # notebook -> {cell: call seconds}
_totals: dict = defaultdict(float)  # notebook -> setup + call + teardown seconds


def pytest_configure(config):
    option = config.option
    if hasattr(option, "nbval_sanitize_with") and option.nbval_sanitize_with is None:
        option.nbval_sanitize_with = str(HERE / "sanitize.cfg")


def pytest_runtest_logreport(report):
    match = _CELL.search(report.nodeid.replace("\\", "/"))
    if match is None:
        return
    notebook = match["notebook"]
    _totals[notebook] += report.duration
    if report.when == "call":
        _durations[notebook][int(match["cell"])] = report.duration


def _over_budget() -> list[str]:
    problems = [f"{nb}::Cell {cell} took {seconds:.2f} s (budget {CELL_BUDGET_S:g} s per cell)"
                for nb, cells in sorted(_durations.items()) for cell, seconds in sorted(cells.items())
                if seconds > CELL_BUDGET_S]
    total = sum(_totals.values())
    if total > TOTAL_BUDGET_S:
        problems.append(f"all notebooks took {total:.1f} s (budget {TOTAL_BUDGET_S:g} s)")
    return problems


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    write = terminalreporter.write_line
    terminalreporter.section("notebook time budget")
    for notebook in sorted(_durations):
        cells = _durations[notebook]
        slowest = max(cells, key=cells.get)
        write(f"{notebook:<34} {len(cells):>3} cells  {_totals[notebook]:6.2f} s with kernel start  "
              f"slowest Cell {slowest} {cells[slowest]:.2f} s")
    all_cells = [(s, nb, c) for nb, cells in _durations.items() for c, s in cells.items()]
    seconds, notebook, cell = max(all_cells)
    write(f"total {sum(_totals.values()):.2f} s for {len(_durations)} notebooks (budget {TOTAL_BUDGET_S:g} s); "
          f"slowest cell {notebook}::Cell {cell} {seconds:.2f} s (budget {CELL_BUDGET_S:g} s)")
    for problem in _over_budget():
        write(f"OVER BUDGET: {problem}", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _over_budget() and os.environ.get("DOJO_NOTEBOOK_BUDGET", "").lower() == "strict" and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
