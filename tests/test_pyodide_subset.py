"""`make pyodide-test` runs the emulator's core test files inside Pyodide; every test file is either
among them or left out with a reason (tests/pyodide/core_subset.py). A new file in neither list
fails here, in `make test`, as it stops the Pyodide run."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "pyodide"))
import core_subset  # noqa: E402


def test_every_test_file_runs_under_pyodide_or_is_left_out_with_a_reason():
    assert core_subset.misplaced(REPO / "tests") == []
    assert all(reason.strip() for reason in core_subset.LEFT_OUT.values())


def test_a_new_test_file_in_neither_list_is_reported(tmp_path):
    for name in [*core_subset.CORE_TESTS, *core_subset.LEFT_OUT, "test_something_new.py"]:
        (tmp_path / name).write_text("")
    assert core_subset.misplaced(tmp_path) == [
        "test_something_new.py: in neither CORE_TESTS nor LEFT_OUT of tests/pyodide/core_subset.py "
        "(run it under Pyodide, or leave it out and say why)"]


def test_the_single_tests_left_out_name_tests_of_files_that_run_under_pyodide():
    for test in [*core_subset.DESELECT, *core_subset.LIMITS]:
        file = test.split("::")[0].removeprefix("tests/")
        assert file in core_subset.CORE_TESTS or test in core_subset.LIMITS, test
        assert (REPO / "tests" / file).is_file(), test
