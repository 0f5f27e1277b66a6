"""The pages that run Python in the reader's browser (site/hooks.py): the kata pages and the
chapters.

- `add_scripts()`: a kata page gets the editor (assets/dojo/editor.js), the runner
  (assets/dojo/runner.js: the Web Worker that runs Python, and `window.dojo`) and its page
  script (kata.js); a chapter gets the runner and chapter.js. Only when the site has the
  worker (assets/dojo/runner-worker.js): without it the pages stay as they read.
- `write_data()`: what those scripts fetch when they run: assets/dojo/katas.json (each kata's
  timeout, the words of its hang verdict, its rule) and assets/dojo/chapters/<name>.json (the
  chapter's code cells, in order, as the notebook has them).
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

import pages

SITE = Path(__file__).resolve().parent
DOJO = "assets/dojo"
WORKER = f"{DOJO}/runner-worker.js"
KATA_SCRIPTS = (f"{DOJO}/editor.js", f"{DOJO}/runner.js", f"{DOJO}/kata.js")
CHAPTER_SCRIPTS = (f"{DOJO}/runner.js", f"{DOJO}/chapter.js")


def enabled() -> bool:
    """The pages run code only where the site has the worker that runs it."""
    return (SITE / WORKER).is_file()


def scripts_for(src_uri: str) -> tuple[str, ...]:
    if src_uri.startswith("notebooks/") and src_uri.endswith(".ipynb"):
        return CHAPTER_SCRIPTS
    if src_uri.startswith("katas/") and src_uri != pages.KATAS_INDEX:
        return KATA_SCRIPTS
    return ()


def add_scripts(output: str, src_uri: str, page_url: str) -> str:
    """The page's HTML with its scripts (deferred: they run once the page is parsed)."""
    wanted = scripts_for(src_uri) if enabled() else ()
    if not wanted:
        return output
    if wanted is CHAPTER_SCRIPTS:  # chapter.js finds the chapter's name on its wrapper
        stem = posixpath.basename(src_uri)[: -len(".ipynb")]
        output = output.replace('<div class="jupyter-wrapper">', f'<div class="jupyter-wrapper" data-chapter="{stem}">', 1)
    base = page_url if page_url.endswith("/") else posixpath.dirname(page_url) + "/"
    tags = "".join(f'<script src="{posixpath.relpath(path, base.rstrip("/") or ".")}" defer></script>'
                   for path in wanted)
    return output.replace("</body>", tags + "</body>", 1)


def chapter_cells(path: Path) -> dict:
    """The code cells of a notebook, in order: their sources and their ids (the page's cell
    `#cell-id=<id>` shows that cell)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    return {"name": path.stem,
            "cells": ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in code],
            "ids": [c.get("id", "") for c in code]}


def katas_data() -> dict[str, dict]:
    """Kata id -> what runner.js needs to run it and to word a hang (pages.kata_data)."""
    out = {}
    for kata in pages.manifest().katas:
        data = pages.kata_data(kata, "")
        data.pop("source")
        out[kata.id] = data
    return out


def write_data(site_dir: Path) -> None:
    if not enabled():
        return
    target = site_dir / DOJO
    target.mkdir(parents=True, exist_ok=True)
    (target / "katas.json").write_text(json.dumps(katas_data(), ensure_ascii=False), encoding="utf-8")
    (target / "chapters").mkdir(exist_ok=True)
    for path in pages.notebook_paths():
        (target / "chapters" / f"{path.stem}.json").write_text(json.dumps(chapter_cells(path), ensure_ascii=False),
                                                               encoding="utf-8")
