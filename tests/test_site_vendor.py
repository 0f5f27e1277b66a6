"""What the in-browser runner is built from: the project bundle (site/vendor.py) and the katas
`make pyodide-test` runs (tests/pyodide/katas_json.py) hold the kata files as shipped (the last
commit), as `make test` and the kata pages read them. A learner who solved katas in their checkout
and builds the site must not publish solved files, and "each kata fails as shipped" must hold on
their machine. Where there is no git (a folder unpacked from an archive) the working tree is used."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "site"))
sys.path.insert(0, str(REPO / "tests" / "pyodide"))
import katas_json  # noqa: E402
from durable_dojo._kata.manifest import load_manifest  # noqa: E402
import vendor  # noqa: E402

KATA_ID = "01-counter-forgets"
LEARNER = f"katas/{KATA_ID}/counter.py"
SOLUTION = f"solutions/{KATA_ID}/counter.py"
KATA_TESTS = "tests/katas/test_01_counter_forgets.py"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                    *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project's katas, their tests and solutions (what the bundle takes from them)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # git never finds a repository above
    root = tmp_path / "project"
    for rel in ("katas", "tests/katas", "solutions"):
        shutil.copytree(REPO / rel, root / rel, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def solve(root: Path) -> dict[str, bytes]:
    """What a learner does: the solution over the kata file, and (a learner can) a kata test
    edited; returns the files as they were."""
    before = {rel: (root / rel).read_bytes() for rel in (LEARNER, KATA_TESTS)}
    shutil.copy(root / SOLUTION, root / LEARNER)
    (root / KATA_TESTS).write_text("def test_nothing():\n    pass\n", encoding="utf-8")
    assert (root / LEARNER).read_bytes() != before[LEARNER]
    return before


def bundled(root: Path, tmp_path: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(vendor.write_bundle(tmp_path / "dojo-bundle.zip", root))


def test_the_bundle_and_the_pyodide_katas_hold_the_last_commits_kata_files_not_the_learners(project, tmp_path):
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "katas as shipped")
    shipped = solve(project)
    bundle = bundled(project, tmp_path)
    assert bundle.read(LEARNER) == shipped[LEARNER]
    assert bundle.read(KATA_TESTS) == shipped[KATA_TESTS]
    assert bundle.read("katas/katas.toml") == (project / "katas/katas.toml").read_bytes()
    katas = {k["id"]: k for k in katas_json.katas(project)}
    assert katas[KATA_ID]["shipped"].encode() == shipped[LEARNER]
    assert Path(katas[KATA_ID]["solution"]).read_bytes() == (project / SOLUTION).read_bytes()


def test_without_git_the_bundle_and_the_pyodide_katas_take_the_working_tree(project, tmp_path):
    solve(project)
    bundle = bundled(project, tmp_path)
    assert bundle.read(LEARNER) == (project / LEARNER).read_bytes()
    assert bundle.read(KATA_TESTS) == (project / KATA_TESTS).read_bytes()
    katas = {k["id"]: k for k in katas_json.katas(project)}
    assert katas[KATA_ID]["shipped"].encode() == (project / LEARNER).read_bytes()


def test_the_bundle_holds_every_kata_file_and_kata_test_of_the_project(tmp_path):
    names = set(zipfile.ZipFile(vendor.write_bundle(tmp_path / "dojo-bundle.zip")).namelist())
    assert "katas/katas.toml" in names and "pyproject.toml" in names and "tests/katas/conftest.py" in names
    for kata in load_manifest(REPO, check_tests=False).katas:
        assert {kata.learner, *kata.tests} <= names, kata.id
