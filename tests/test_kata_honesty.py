"""Every kata is honest (katas/katas.toml is the list):

(a) its solution passes all of its tests;
(b) the shipped learner file fails, and fails exactly in the tests listed in `failing_tests`
    (every other test of the kata passes on it: the failure is the intended one);
(c) a gutted learner file (every function and method body replaced by `return None`) still
    fails the `failing_tests`: a kata that deleting code would solve is a defect.

The katas are checked as shipped (the manifest and learner files of git `HEAD`, or of the
installed package), never the working copy of `katas/`: a learner who has solved katas there
still gets a green `make test`. Their own files are what `dojo check --all` checks.

All katas run in three child pytest processes, one per tree (solutions/, the shipped katas/, a
temporary gutted copy of it), side by side; the per-test outcomes are then checked kata by kata.
The same check for authors, on the working copy: `.venv/bin/python -m durable_dojo._kata audit`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from durable_dojo._kata.audit import audit as run_audit
from durable_dojo._kata.manifest import ManifestError, load_shipped_manifest
from durable_dojo._kata.pristine import PristineNotFound

REPO = Path(__file__).resolve().parents[1]


def _kata_ids() -> list[str]:
    try:
        return [k.id for k in load_shipped_manifest(REPO).katas]
    except (ManifestError, PristineNotFound):
        return []  # test_the_manifest_is_valid says why


KATA_IDS = _kata_ids()


def test_the_manifest_is_valid():
    manifest = load_shipped_manifest(REPO)  # raises ManifestError listing every problem
    assert manifest.version == 1 and manifest.default_timeout > 0


@pytest.fixture(scope="module")
def audit():
    return run_audit(load_shipped_manifest(REPO))


def _problems(audit: dict, kata_id: str, tree: str) -> str:
    return "\n".join(f"- {p}" for p in audit[kata_id][tree])


@pytest.mark.parametrize("kata_id", KATA_IDS)
def test_the_solution_passes_every_test(audit, kata_id):
    problems = _problems(audit, kata_id, "solution")
    assert not problems, f"{kata_id}: the solution does not pass all its tests:\n{problems}"


@pytest.mark.parametrize("kata_id", KATA_IDS)
def test_the_learner_file_fails_exactly_the_intended_tests(audit, kata_id):
    problems = _problems(audit, kata_id, "learner")
    assert not problems, f"{kata_id}: the shipped learner file does not fail as the manifest says:\n{problems}"


@pytest.mark.parametrize("kata_id", KATA_IDS)
def test_deleting_the_code_does_not_pass(audit, kata_id):
    problems = _problems(audit, kata_id, "gutted")
    assert not problems, f"{kata_id}: a learner could pass by deleting code:\n{problems}"
