"""The Python side of `site/assets/dojo/runner-worker.js`: one function per message, each
answering in JSON (the worker parses it and posts it to the page)."""

from __future__ import annotations

import json
from pathlib import Path

from . import cells, katas, views


def start(project: str) -> None:
    """The bundle is unpacked in `project` (katas/, tests/katas/, pyproject.toml)."""
    katas.PROJECT = Path(project)
    katas.manifest()


def run_kata(kata: str, source: str, on_test_start=None, on_stuck=None) -> str:
    """`{kata, passed, failed, output, lines, verdict}` for the page (see `katas.verdict_json`).
    `on_stuck(json)` hears the hung verdict the moment an interrupt stops the learner's code."""
    tell = None if on_stuck is None else (lambda verdict: on_stuck(json.dumps(katas.verdict_json(verdict))))
    return json.dumps(katas.verdict_json(katas.run_kata(kata, source, on_test_start, tell)))


def hang_verdict(kata: str, test: str | None = None) -> str:
    return json.dumps(katas.hang_verdict(kata, test))


def run_cell(chapter: str, index: int, source: str) -> str:
    result = cells.run_cell(chapter, source)
    result["index"] = index
    return json.dumps(result)


def reset_chapter(chapter: str) -> None:
    cells.reset_chapter(chapter)


def widget(view: str, action: str, argument=None) -> str:
    """A button of a displayed Inspector: `{view, objects, html, message}` after it."""
    return json.dumps(views.act(view, action, argument))
