"""The emulator needs only the standard library; the tools come as extras (pyproject.toml).

A project that tests its Durable Objects installs `durable-dojo` alone; `dojo serve` needs the
`serve` extra and the kata runner the `katas` extra, and `dojo` says so when one is missing.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from durable_dojo import cli

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("uvicorn", "websockets", "rich", "watchfiles", "pytest", "pytest_asyncio", "ipywidgets")


def test_the_emulator_and_its_test_helpers_import_no_tool_dependency():
    code = ("import sys, durable_dojo, durable_dojo.testing, workers, js\n"
            "rt = durable_dojo.Runtime(); rt.close()\n"
            f"print(sorted(m for m in {TOOLS!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_package_depends_only_on_apsw_and_its_extras_name_the_tools():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # apsw: the SQLite workerd embeds; not in the browser, where the core uses sqlite3.
    assert project["dependencies"] == ["apsw==3.54.1.0; sys_platform != 'emscripten'"]
    extras = project["optional-dependencies"]
    assert {name.split(">")[0] for name in extras["serve"]} == {"uvicorn", "websockets"}
    assert {name.split(">")[0] for name in extras["katas"]} == {"rich", "watchfiles", "pytest", "pytest-asyncio"}


@pytest.mark.parametrize("argv, extra, module", [
    (["serve"], "serve", "uvicorn"),
    (["list"], "katas", "rich"),
    ([], "katas", "pytest"),
])
def test_dojo_names_the_missing_extra(monkeypatch, capsys, argv, extra, module):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"'{extra}' extra ({module} missing)" in err and f"pip install 'durable-dojo[{extra}]'" in err


def test_dojo_review_needs_no_extra():
    assert cli.missing_extra("review") is None
