"""`make lab` shows a learner the chapters and nothing else in notebooks/: the files that build
and test them are hidden by jupyter_lab_config.py (checked with JupyterLab itself: its contents
API lists the 8 chapters only)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parent.parent


def hide_globs() -> list[str]:
    config = PyFileConfigLoader("jupyter_lab_config.py", path=str(ROOT)).load_config()
    return list(config.ContentsManager.hide_globs)


def hidden(name: str) -> bool:
    return any(fnmatch.fnmatch(name, glob) for glob in hide_globs())


def test_only_the_chapters_show_in_the_labs_file_browser():
    entries = {p.name for p in (ROOT / "notebooks").iterdir()} | {"__pycache__", ".ipynb_checkpoints"}
    shown = sorted(name for name in entries if not hidden(name))
    chapters = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    assert shown == chapters and len(chapters) == 8


def test_make_lab_starts_jupyterlab_with_that_configuration():
    makefile = (ROOT / "Makefile").read_text()
    lab = re.search(r"^lab:.*\n\t(.*)$", makefile, re.M).group(1)
    assert "--config=jupyter_lab_config.py" in lab and lab.rstrip().endswith("notebooks/")
