"""Kata tests run against `solutions/` by default (they must pass there) and against `katas/`
when the `dojo` runner sets DOJO_KATA_ROOT (there they fail until the learner fixes the kata).

A kata test loads the code under test with the `load_kata` fixture, never by import, so the
same test file checks either tree:

    def test_count_survives_eviction(load_kata, make_runtime):
        counter = load_kata("01-counter-in-memory", "counter.py")
        rt = make_runtime(durable_objects={"COUNTER": counter.Counter})
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def kata_root() -> Path:
    return Path(os.environ.get("DOJO_KATA_ROOT", REPO / "solutions"))


def load_kata_file(kata_id: str, filename: str):
    """Load `<root>/<kata_id>/<filename>` as a fresh module (a new one for every call)."""
    path = kata_root() / kata_id / filename
    name = f"kata_{kata_id.replace('-', '_')}_{Path(filename).stem}_{len(sys.modules)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_kata():
    """`load_kata(kata_id, filename)`: the module under test, from solutions/ or katas/."""
    return load_kata_file
