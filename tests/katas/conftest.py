"""Kata tests run against `solutions/` by default (they must pass there) and against `katas/`
when the `dojo` runner sets DOJO_KATA_ROOT (there they fail until the learner fixes the kata).

A kata test loads the code under test with the `load_kata` fixture, never by import, so the
same test file checks either tree:

    def test_count_survives_eviction(load_kata, make_runtime):
        counter = load_kata("01-counter-in-memory", "counter.py")
        rt = make_runtime(durable_objects={"COUNTER": counter.Counter})

The corpus of wrong and right fixes (tests/test_kata_corpus.py) runs every test of a kata once
per fix, in one child pytest: DOJO_KATA_VARIANTS maps a kata id to {fix name: root folder}, and
each test of that kata is parametrized with `kata_variant`, the fix whose root it loads from.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def kata_root() -> Path:
    return Path(os.environ.get("DOJO_KATA_ROOT", REPO / "solutions"))


def load_kata_file(kata_id: str, filename: str, root: Path | None = None):
    """Load `<root>/<kata_id>/<filename>` as a fresh module (a new one for every call)."""
    path = (root or kata_root()) / kata_id / filename
    name = f"kata_{kata_id.replace('-', '_')}_{Path(filename).stem}_{len(sys.modules)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _variants() -> dict[str, dict[str, str]]:
    raw = os.environ.get("DOJO_KATA_VARIANTS")
    return json.loads(raw) if raw else {}


def pytest_generate_tests(metafunc):
    kata = getattr(metafunc.module, "KATA", None)
    variants = _variants().get(kata or "")
    if variants and "kata_variant" in metafunc.fixturenames:
        metafunc.parametrize("kata_variant", sorted(variants), indirect=True)


@pytest.fixture
def kata_variant(request):
    """The root folder of the fix under test (the corpus run), or None: DOJO_KATA_ROOT."""
    name = getattr(request, "param", None)
    if name is None:
        return None
    return Path(_variants()[request.module.KATA][name])


@pytest.fixture
def load_kata(kata_variant):
    """`load_kata(kata_id, filename)`: the module under test, from solutions/ or katas/."""
    return lambda kata_id, filename: load_kata_file(kata_id, filename, kata_variant)
