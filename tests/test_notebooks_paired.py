"""Every notebook is paired with a jupytext py:percent script, and the two say the same thing.

The scripts in `notebooks/py/` are what reviewers read; the `.ipynb` files carry the outputs.
Editing one without the other (a notebook saved without jupytext, a script changed without
`python notebooks/build.py`) fails here, naming the first cell that differs.
"""

import re
from pathlib import Path

import jupytext  # a test dependency: without it this check must fail, not be skipped
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("*.ipynb"))
SCRIPTS = sorted((NOTEBOOKS / "py").glob("*.py"))


def cells(path: Path) -> list[tuple[str, str]]:
    notebook = jupytext.read(path)
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_the_workbook_has_its_chapters():
    names = [p.stem for p in IPYNBS]
    assert names[0] == "00-welcome" and len(names) >= 8, names


def test_every_notebook_has_a_script_and_every_script_a_notebook():
    assert sorted(p.stem for p in IPYNBS) == sorted(p.stem for p in SCRIPTS)


def test_the_jupytext_config_pairs_notebooks_with_scripts_in_py():
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file

    config = load_jupytext_configuration_file(find_jupytext_configuration_file(str(NOTEBOOKS)))
    assert config.default_formats(str(NOTEBOOKS / "00-welcome.ipynb")) == "ipynb,py//py:percent"


@pytest.mark.parametrize("notebook", IPYNBS, ids=[p.stem for p in IPYNBS])
def test_notebook_and_script_have_the_same_cells(notebook):
    script = NOTEBOOKS / "py" / (notebook.stem + ".py")
    assert script.exists(), f"{notebook.name} has no paired script {script.relative_to(NOTEBOOKS.parent)}"
    ours, theirs = cells(notebook), cells(script)
    for index, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, (f"cell {index} differs between {notebook.name} and py/{script.name}: "
                        "rebuild with `python notebooks/build.py` (or save the notebook with jupytext)\n"
                        f"notebook: {a[1][:200]!r}\nscript:   {b[1][:200]!r}")
    assert len(ours) == len(theirs), f"{notebook.name} has {len(ours)} cells, py/{script.name} {len(theirs)}"


LINK = re.compile(r"\]\((\.\./katas/[^)]+|[0-9]{2}-[a-z-]+\.ipynb)\)")


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_links_to_katas_and_chapters_lead_somewhere(script):
    """Each chapter links the katas that practise it (`../katas/<id>/README.md`) and other
    chapters (`NN-name.ipynb`); every such link must name a file that exists."""
    links = LINK.findall(script.read_text(encoding="utf-8"))
    missing = [link for link in links if not (NOTEBOOKS / link).resolve().exists()]
    assert not missing, f"py/{script.name} links to files that do not exist: {missing}"
    if script.stem != "00-welcome":
        assert any(link.startswith("../katas/") for link in links), f"py/{script.name} links no kata"
