"""Build the workbook: regenerate each notebook from its script in `py/` and run it.

    .venv/bin/python notebooks/build.py            # every chapter
    .venv/bin/python notebooks/build.py 03 05      # chapters whose file name starts so

The scripts in `notebooks/py/` (jupytext py:percent) are the source. For each one this writes
`notebooks/NN-name.ipynb` with fresh outputs: it runs the notebook in a kernel of this Python
(nbclient), stores the widget state, drops stderr output and per-cell timestamps (so that a
rebuild changes only what really changed), and stops on the first error, and on stderr output
in a proof cell (`# NBVAL_CHECK_OUTPUT`), which nbval would report as a difference. It prints how long
each notebook and its slowest cell took. Needs jupytext and nbclient (`uv pip install jupytext
nbclient ipywidgets`).

Before that it draws the diagrams again (site/diagrams.py): below each `<!-- diagram: NAME -->`
marker of a script it writes the current drawing, so the script, its notebook and the site show
the same picture.
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "site"))
import diagrams  # noqa: E402 - site/diagrams.py, the drawings

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def build(script: Path) -> tuple[float, float, int]:
    notebook_path = HERE / (script.stem + ".ipynb")
    text = script.read_text(encoding="utf-8")
    if (drawn := diagrams.refresh_script(text)) != text:
        script.write_text(drawn, encoding="utf-8")
        print(f"{script.name}: diagrams drawn again")
    nb = jupytext.read(script)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata.pop("jupytext", None)
    started = time.perf_counter()
    client = NotebookClient(nb, timeout=120, kernel_name="python3", record_timing=True, store_widget_state=True,
                            resources={"metadata": {"path": str(HERE)}})
    client.execute()
    total = time.perf_counter() - started
    slowest, slowest_cell = 0.0, -1
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        seconds = _seconds(cell)
        if seconds > slowest:
            slowest, slowest_cell = seconds, index
        for output in cell.outputs:
            if output.output_type == "error":
                raise SystemExit(f"{script.name}: cell {index} raised {output.ename}: {output.evalue}")
        stderr = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        if stderr and "NBVAL_CHECK_OUTPUT" in cell.source:
            # nbval would see output the stored notebook does not have, and fail the proof.
            raise SystemExit(f"{script.name}: proof cell {index} writes to stderr:\n{stderr[0].text[:2000]}")
        if stderr:
            print(f"{script.name}: cell {index}: stderr output dropped ({len(stderr)} block(s))")
        cell.outputs = [o for o in cell.outputs if o not in stderr]
        cell.metadata.pop("execution", None)
    nb.metadata.pop("language_info", None)
    nbformat.validate(nb)
    nbformat.write(nb, notebook_path)
    return total, slowest, slowest_cell


def main(argv: list[str]) -> None:
    scripts = sorted((HERE / "py").glob("*.py"))
    if argv:
        scripts = [s for s in scripts if any(s.stem.startswith(a) for a in argv)]
    grand = 0.0
    for script in scripts:
        total, slowest, cell = build(script)
        grand += total
        print(f"{script.stem + '.ipynb':<34} {total:6.2f} s  slowest code cell #{cell}: {slowest:.3f} s")
    print(f"{len(scripts)} notebooks in {grand:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
