"""Every kata's README has one format: the title, the file to fix and its tests (as the manifest
names them), then the same four sections in the same order, the run commands in a code block."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KATAS = tomllib.loads((REPO / "katas" / "katas.toml").read_text(encoding="utf-8"))["kata"]
SECTIONS = ["## The scenario", "## What goes wrong for users", '## What "done" means', "## Run the tests"]


@pytest.mark.parametrize("kata", KATAS, ids=[k["id"] for k in KATAS])
def test_the_readme_has_the_one_format(kata):
    text = (REPO / "katas" / kata["id"] / "README.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == f"# {kata['order']:02d} · " + lines[0].split(" · ", 1)[-1], lines[0]
    tests = kata["tests"] if isinstance(kata["tests"], str) else kata["tests"][0]
    assert lines[2] == f"**File to fix:** `{Path(kata['learner']).name}` · **Tests:** `{tests}`", lines[2]
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == SECTIONS, headings
    run = text.split("## Run the tests", 1)[1]
    assert f"dojo check {kata['id']}" in run and f"-m pytest {tests}" in run


def test_the_watchdog_time_in_kata_04_is_the_one_its_tests_use():
    readme = (REPO / "katas" / "04-frozen-relay" / "README.md").read_text(encoding="utf-8")
    tests = (REPO / "tests" / "katas" / "test_04_frozen_relay.py").read_text(encoding="utf-8")
    used = re.search(r"hang_timeout=([0-9.]+)", tests).group(1)
    said = re.search(r"`hang_timeout` \(([0-9.]+) s", readme).group(1)
    assert said == used
