"""The kata files as shipped, whatever the learner has done to the working copy.

Learners edit `katas/` (that is the point), and learner code run by `dojo check` may even
delete files there. Everything that needs the files as shipped reads them from here:
`dojo reset`, the manifest `dojo` works from, the honesty check and the review expectations
in the test suite (so `make test` stays green however far a learner has got).

Where the shipped files come from, in this order:

1. git: the last commit (`HEAD`) of the checkout the project is in.
2. The installed package: a wheel ships `katas/` as package data (`durable_dojo/_katas_data`,
   a hatch `force-include`), used when its `katas.toml` is the project's (or the project's is gone).

If neither has them, `PristineNotFound` says so.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

LEARNER_TREE = "katas"
MANIFEST_NAME = "katas.toml"


class PristineNotFound(Exception):
    """Neither git nor the installed package has the shipped kata files."""


def _packaged_katas_dir():
    """`durable_dojo/_katas_data` in an installed wheel (hatch force-include of `katas/`)."""
    from importlib.resources import files

    data = files("durable_dojo") / "_katas_data"
    return data if data.is_dir() else None


def _package_copy(root: Path):
    """The package's `katas/` if it is this project's kata set: its manifest is the project's
    (or the project's manifest is gone, which is when it is needed most)."""
    packaged = _packaged_katas_dir()
    if packaged is None or not (packaged / MANIFEST_NAME).is_file():
        return None
    ours = root / LEARNER_TREE / MANIFEST_NAME
    if ours.is_file() and ours.read_bytes() != (packaged / MANIFEST_NAME).read_bytes():
        return None  # a package built from another kata set
    return packaged


def _git(root: Path, *args: str) -> subprocess.CompletedProcess | str:
    """The finished git command, or why it could not run."""
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)


def _git_error(out: subprocess.CompletedProcess | str) -> str:
    if isinstance(out, str):
        return out or "no git"
    return out.stderr.decode("utf-8", "replace").strip() or f"git exited with {out.returncode}"


def shipped_file(root: Path, rel: str | Path) -> tuple[bytes, str]:
    """The shipped content of `rel` (a path under `katas/`, relative to the project root), and
    where it came from, in words (for messages)."""
    rel = Path(rel)
    out = _git(root, "show", f"HEAD:./{rel.as_posix()}")
    if not isinstance(out, str) and out.returncode == 0:
        return out.stdout, "git (the last commit, HEAD)"
    packaged = _package_copy(root)
    if packaged is not None and rel.parts[:1] == (LEARNER_TREE,):
        candidate = packaged.joinpath(*rel.parts[1:])
        if candidate.is_file():
            return candidate.read_bytes(), "the copy shipped in the durable-dojo package"
    raise PristineNotFound(
        f"The original of {rel.as_posix()} is not available: git could not provide it ({_git_error(out)}), "
        "and the installed durable-dojo package does not ship it. "
        "Reinstall the package or restore the file from your copy of the project."
    )


def export_shipped_katas(root: Path, dest: Path) -> str:
    """Write the shipped `katas/` tree (the manifest and every kata folder) into `dest`, which
    must not exist yet. Returns where it came from, in words."""
    out = _git(root, "archive", "--format=tar", "HEAD:./" + LEARNER_TREE)
    if not isinstance(out, str) and out.returncode == 0:
        dest.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(out.stdout)) as archive:
            archive.extractall(dest, filter="data")
        if (dest / MANIFEST_NAME).is_file():
            return "git (the last commit, HEAD)"
        shutil.rmtree(dest)
    packaged = _package_copy(root)
    if packaged is not None:
        _copy_traversable(packaged, dest)
        return "the copy shipped in the durable-dojo package"
    raise PristineNotFound(
        f"The shipped kata files are not available: git could not provide {LEARNER_TREE}/ "
        f"({_git_error(out)}), and the installed durable-dojo package does not ship them."
    )


def _copy_traversable(source, dest: Path) -> None:
    dest.mkdir(parents=True)
    for item in source.iterdir():
        if item.name == "__pycache__":
            continue
        if item.is_dir():
            _copy_traversable(item, dest / item.name)
        else:
            (dest / item.name).write_bytes(item.read_bytes())


_shipped_dirs: dict[Path, Path] = {}
_holders: list[tempfile.TemporaryDirectory] = []


def shipped_katas_dir(root: Path | str) -> Path:
    """A folder holding the shipped `katas/` of the project at `root`: read once per process
    into a temporary folder (removed at exit), so every check of a run reads the same files.
    Raises `PristineNotFound` when there is no shipped copy to read."""
    root = Path(root).resolve()
    folder = _shipped_dirs.get(root)
    if folder is None or not (folder / MANIFEST_NAME).is_file():
        holder = tempfile.TemporaryDirectory(prefix="dojo-shipped-")
        folder = Path(holder.name) / LEARNER_TREE
        export_shipped_katas(root, folder)
        _holders.append(holder)  # removed when the process exits
        _shipped_dirs[root] = folder
    return folder


def export_shipped_tree(root: Path, rel: str, dest: Path) -> str:
    """Write the folder `rel` (such as `tests/katas`) as of git `HEAD` into `dest`; without
    git, a copy of the working copy's (nothing else ships it). Returns where it came from."""
    out = _git(root, "archive", "--format=tar", f"HEAD:./{rel}")
    dest.mkdir(parents=True, exist_ok=True)
    if not isinstance(out, str) and out.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(out.stdout)) as archive:
            archive.extractall(dest, filter="data")
        return "git (the last commit, HEAD)"
    shutil.copytree(root / rel, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
    return "the working copy"


def shipped_or_working(root: Path, rel: str) -> bytes:
    """The file `rel` as of git `HEAD`, or the working copy's without git."""
    out = _git(root, "show", f"HEAD:./{rel}")
    if not isinstance(out, str) and out.returncode == 0:
        return out.stdout
    return (root / rel).read_bytes()


def has_shipped_manifest(root: Path) -> bool:
    """Whether git `HEAD` at `root` has `katas/katas.toml` (a project, even if the file is gone)."""
    out = _git(root, "cat-file", "-e", f"HEAD:./{LEARNER_TREE}/{MANIFEST_NAME}")
    return not isinstance(out, str) and out.returncode == 0
