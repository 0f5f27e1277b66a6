"""The pages that run Python in the reader's browser (site/hooks.py): the kata pages and the
chapters.

- `add_scripts()`: a kata page gets the editor (assets/dojo/editor.js), the runner
  (assets/dojo/runner.js: the Web Worker that runs Python, and `window.dojo`) and its page
  script (kata.js); a chapter gets the runner and chapter.js. Only when the site has the
  worker (assets/dojo/runner-worker.js): without it the pages stay as they read.
- `write_data()`: what those scripts fetch when they run: assets/dojo/katas.json (each kata's
  timeout, the words of its hang verdict, its rule) and assets/dojo/chapters/<name>.json (the
  chapter's code cells, in order, as the notebook has them).
- `run_weights()` against the budgets: what the first Run downloads (Python, its packages and the
  project, assets/pyodide/, plus the worker) and what a kata page loads before any Run (the
  editor and the page's scripts). Sizes as stored; a host that compresses sends less.
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
RUNTIME_DIR = "assets/pyodide"  # what the worker loads (web-core's site/vendor.py writes it)
# The budgets of the in-browser path (bytes as stored). Measured at the start: 15.7 MB for the
# first Run (Pyodide's core 13.5 MB of it), 0.48 MB of scripts on a kata page (the editor 0.46 MB).
FIRST_RUN_BUDGET = 20 * 1000 * 1000
PAGE_SCRIPTS_BUDGET = 750 * 1000


def enabled() -> bool:
    """The pages run code only where the site has the worker that runs it."""
    return (SITE / WORKER).is_file()


def scripts_for(src_uri: str) -> tuple[str, ...]:
    if src_uri.startswith("notebooks/") and src_uri.endswith(".ipynb"):
        return CHAPTER_SCRIPTS
    if src_uri == pages.KATAS_INDEX:  # kata.js marks the katas passed in this browser
        return (f"{DOJO}/kata.js",)
    if src_uri.startswith("katas/"):
        return KATA_SCRIPTS
    return ()


def add_scripts(output: str, src_uri: str, page_url: str) -> str:
    """The page's HTML with its scripts (deferred: they run once the page is parsed)."""
    wanted = scripts_for(src_uri) if enabled() else ()
    if not wanted:
        return output
    if src_uri == pages.KATAS_INDEX:
        output = output.replace('<article class="md-content__inner md-typeset">',
                                '<article class="md-content__inner md-typeset dojo-kata-index">', 1)
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


def run_weights(site_dir: Path) -> dict[str, int]:
    """Bytes a reader downloads for the in-browser path: `first_run` (the worker and everything
    it loads: assets/pyodide/ without the .gz copies beside the files), and its parts as
    site/vendor.py listed them in vendor.json (`pyodide`: the interpreter and its standard
    library, `wheels`: pytest and its dependencies, `bytecode`: those and the project compiled,
    `project`: the project's bundle); `kata_page_scripts` and `chapter_page_scripts` (loaded with
    the page, before any Run)."""
    runtime = site_dir / RUNTIME_DIR
    first_run = sum(f.stat().st_size for f in runtime.rglob("*") if f.is_file() and f.suffix != ".gz")
    first_run += (site_dir / WORKER).stat().st_size if (site_dir / WORKER).is_file() else 0
    weights = {"first_run": first_run,
               "kata_page_scripts": _size(site_dir, KATA_SCRIPTS),
               "chapter_page_scripts": _size(site_dir, CHAPTER_SCRIPTS)}
    listed = runtime / "vendor.json"
    if listed.is_file():
        vendor = json.loads(listed.read_text(encoding="utf-8"))
        weights["pyodide"] = sum(entry["size"] for entry in vendor["core"])
        weights["wheels"] = sum(entry["size"] for entry in vendor["wheels"])
        weights["bytecode"] = vendor["bytecode"]["size"] if "bytecode" in vendor else 0
        weights["project"] = vendor["bundle"]["size"]
    return weights


def _size(site_dir: Path, paths: tuple[str, ...]) -> int:
    return sum((site_dir / path).stat().st_size for path in paths if (site_dir / path).is_file())


def weight_report(site_dir: Path) -> tuple[str, list[str]]:
    """The in-browser path's weights as lines for the build log, and what is over budget."""
    weights = run_weights(site_dir)
    over = []
    if weights["first_run"] > FIRST_RUN_BUDGET:
        over.append(f"the first Run downloads {weights['first_run'] / 1e6:.1f} MB (budget {FIRST_RUN_BUDGET / 1e6:g} MB)")
    if weights["kata_page_scripts"] > PAGE_SCRIPTS_BUDGET:
        over.append(f"a kata page's scripts are {weights['kata_page_scripts'] / 1e3:.0f} KB "
                    f"(budget {PAGE_SCRIPTS_BUDGET / 1e3:g} KB)")
    line = (f"in-browser path: first Run {weights['first_run'] / 1e6:.1f} MB (budget {FIRST_RUN_BUDGET / 1e6:g} MB), "
            f"kata page scripts {weights['kata_page_scripts'] / 1e3:.0f} KB (budget {PAGE_SCRIPTS_BUDGET / 1e3:g} KB), "
            f"chapter page scripts {weights['chapter_page_scripts'] / 1e3:.0f} KB")
    if "pyodide" in weights:
        line += ("\n  first Run, as stored: " + ", ".join(
            f"{label} {weights[key] / 1e6:.2f} MB" for key, label in (
                ("pyodide", "Pyodide (interpreter, standard library)"), ("wheels", "wheels (pytest...)"),
                ("bytecode", "compiled modules"), ("project", "the project"))))
    return line, over
