"""Running `dojo review`: read files, build each one's model, ask every rule, sort the findings.

`review_source(source, path)`, `review_files(files)` and `review_paths(paths)` are the entry
points; `python_files(paths)` lists what a folder holds. The rules and their prose are in
`rules/`, the model of a file in `model.py`."""

from __future__ import annotations

import os
from typing import Iterable

from .model import Finding, Module, ReviewError
from .rules import RULES

__all__ = ["Finding", "ReviewError", "python_files", "review_files", "review_paths", "review_source"]


def review_source(source: str, path: str = "<string>", select: Iterable[str] | None = None, *,
                  compatibility_date: str | None = None,
                  compatibility_flags: Iterable[str] | None = None) -> list[Finding]:
    """Findings for one file's source, sorted by line. The compatibility date (which some rules
    depend on) is found in the nearest wrangler config above `path` unless given."""
    module = Module(path, source, compatibility_date, compatibility_flags)
    wanted = set(select) if select else None
    out: list[Finding] = []
    for r in RULES:
        if wanted is not None and r.code not in wanted:
            continue
        out.extend(r.findings(module))
    return sorted(out, key=lambda f: (f.path, f.line, f.col, f.code))


SKIP_DIRS = {".venv", "venv", "__pycache__", ".git", "node_modules", ".cache", ".tox", "build", "dist"}


def python_files(paths: Iterable[str | os.PathLike]) -> list[str]:
    """The .py files named, and those under the folders named (hidden and virtualenv folders skipped)."""
    out: list[str] = []
    for raw in paths:
        path = os.fspath(raw)
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                out.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
        elif os.path.isfile(path):
            out.append(path)
        else:
            raise ReviewError(f"{path}: no such file or folder")
    return out


def review_paths(paths: Iterable[str | os.PathLike], select: Iterable[str] | None = None) -> list[Finding]:
    """Findings for every Python file under `paths`."""
    return review_files(python_files(paths), select)


def review_files(files: Iterable[str], select: Iterable[str] | None = None) -> list[Finding]:
    """Findings for each of `files` (as `python_files` lists them), file by file."""
    out: list[Finding] = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        out.extend(review_source(source, path, select))
    return out


