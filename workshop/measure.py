"""Measure what the machine contributes to a workshop: each chapter's run, each exercise's check
and each kata's `dojo check`, timed on this machine now. The agendas in README.md quote its output.

    .venv/bin/python workshop/measure.py            # everything (about two minutes)
    .venv/bin/python workshop/measure.py --no-katas # chapters and exercises only

* chapter: every cell of the chapter run in a fresh kernel of this Python, kernel start included
  (nbclient, as notebooks/build.py runs them; nothing is written);
* exercise: one `check` of the exercise cell as shipped (the "not yet" a learner meets first) and
  one of the reference answer, in this process;
* kata: one cold `dojo check NAME` on the kata as shipped (a new process, as a learner runs it),
  progress kept in a temporary folder.

The time a person needs to read and solve is not here: that is measured in the room, with
`dojo progress alice.json bob.json ...` (README.md, "Measuring your room").
"""

from __future__ import annotations

import ast
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_chapters() -> list[tuple[str, float]]:
    import jupytext
    from nbclient import NotebookClient

    times = []
    for script in sorted((REPO / "notebooks" / "py").glob("*.py")):
        notebook = jupytext.read(script)
        started = time.perf_counter()
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
        times.append((script.stem, time.perf_counter() - started))
    return times


def _define(source: str, name: str):
    namespace = {"__name__": "__main__"}
    exec(compile(source, f"<{name}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace)  # noqa: S102
    return namespace[name]


def run_exercises() -> list[tuple[str, float, float]]:
    import jupytext

    from durable_dojo._workbook.framework import judge
    from durable_dojo._workbook.manifest import exercises

    shipped = {}
    for chapter in sorted({e.chapter for e in exercises()}):
        code = [c for c in jupytext.read(REPO / "notebooks" / "py" / f"{chapter}.py").cells if c.cell_type == "code"]
        for cell, following in zip(code, code[1:]):
            if "exercise" in cell.metadata.get("tags", []):
                shipped[following.source.split('"')[1]] = cell.source
    times = []
    for exercise in exercises():
        seconds = []
        for source in (shipped[exercise.id], (REPO / "solutions" / "workbook" / f"{exercise.id}.py").read_text()):
            started = time.perf_counter()
            asyncio.run(judge(exercise.id, _define(source, exercise.answer)))
            seconds.append(time.perf_counter() - started)
        times.append((exercise.id, *seconds))
    return times


def run_katas() -> list[tuple[str, float]]:
    from durable_dojo._kata.manifest import load_manifest

    times = []
    with tempfile.TemporaryDirectory() as state:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOJO_")} | {"DOJO_STATE_DIR": state}
        for kata in load_manifest(REPO).katas:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "durable_dojo._kata.cli", "check", kata.id], cwd=REPO, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
            times.append((kata.id, time.perf_counter() - started))
    return times


def main(argv: list[str]) -> None:
    load = os.getloadavg()[0]
    print(f"measured {time.strftime('%Y-%m-%d %H:%M %Z')} on {os.cpu_count()} CPUs, load average {load:.1f}\n")
    print("| chapter | run (s) |\n|---|---:|")
    for name, seconds in run_chapters():
        print(f"| {name} | {seconds:.1f} |")
    print("\n| exercise | check, as shipped (s) | check, answered (s) |\n|---|---:|---:|")
    for name, shipped, answered in run_exercises():
        print(f"| {name} | {shipped:.2f} | {answered:.2f} |")
    if "--no-katas" not in argv:
        print("\n| kata | cold `dojo check` (s) |\n|---|---:|")
        for name, seconds in run_katas():
            print(f"| {name} | {seconds:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
