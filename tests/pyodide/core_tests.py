"""Run by core_tests.mjs inside Pyodide: the emulator's test files that make sense there.

tests/pyodide/core_subset.py lists them (CORE_TESTS), the files left out with why (LEFT_OUT) and
the single tests that cannot pass in Pyodide (DESELECT). A test file in neither list stops the
run before any test: each new file is placed on purpose.
"""

import os
import sys

sys.dont_write_bytecode = True  # /repo is the real checkout: write nothing there
sys.path.insert(0, "/repo/src")
sys.path.insert(0, "/repo/tests/pyodide")
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
os.chdir("/repo")

from pathlib import Path  # noqa: E402

from core_subset import CORE_TESTS, DESELECT, LIMITS, misplaced  # noqa: E402


def run() -> int:
    problems = misplaced(Path("tests"))
    if problems:
        print("tests/pyodide/core_subset.py does not place every test file:\n  " + "\n  ".join(problems))
        return 1

    import pytest

    from durable_dojo._browser.host import learner_run

    # Test paths given on the command line replace the list (not the value of an option such as --deselect).
    given = list(pytest_args)  # noqa: F821 - set by core_tests.mjs
    chosen = [a for i, a in enumerate(given) if a.startswith("tests/") and (i == 0 or not given[i - 1].startswith("-"))]
    options = [a for a in given if a not in chosen]
    args = (chosen or [f"tests/{name}" for name in CORE_TESTS] + LIMITS) + [
        "-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin", "-p", "durable_dojo.pytest_plugin", "--tb=short", "-rfE"]
    args += [arg for test in DESELECT for arg in ("--deselect", test)]
    with learner_run():
        return int(pytest.main(args + options))


exit_code = run()
exit_code
