"""The diagrams are inside the chapters that promise them, as they are drawn now: in the chapter's
script, in its built notebook (what JupyterLab opens) and so on the site, with nothing to fetch."""

from __future__ import annotations

import base64
import importlib.util
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"


def _load_diagrams():
    spec = importlib.util.spec_from_file_location("dojo_workbook_diagrams", REPO / "site" / "diagrams.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


diagrams = _load_diagrams()
IMAGE = re.compile(r'<figure class="dojo-diagram" id="diagram-(?P<name>[^"]+)"><img src="data:image/svg\+xml;base64,'
                   r'(?P<data>[A-Za-z0-9+/=]+)"')


def figures_in(text: str) -> dict[str, str]:
    """Diagram name -> the SVG text of its inline image, for every figure in `text`."""
    return {m["name"]: base64.b64decode(m["data"]).decode("utf-8") for m in IMAGE.finditer(text)}


@pytest.mark.parametrize("diagram", diagrams.DIAGRAMS, ids=lambda d: d.name)
def test_each_promised_diagram_is_in_its_chapter_as_drawn_now(diagram):
    script = NOTEBOOKS / "py" / f"{diagram.chapter}.py"
    assert diagram.name in diagrams.shown_in(script.read_text(encoding="utf-8")), (
        f"py/{script.name} has no '# <!-- diagram: {diagram.name} -->' markdown cell")
    notebook = nbformat.read(NOTEBOOKS / f"{diagram.chapter}.ipynb", as_version=4)
    shown = {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            shown.update(figures_in(cell.source))
    assert diagram.name in shown, f"{diagram.chapter}.ipynb does not show {diagram.name}: rebuild it (notebooks/build.py)"
    assert shown[diagram.name] == diagram.draw(), (
        f"{diagram.chapter}.ipynb shows an older drawing of {diagram.name}: rebuild it (notebooks/build.py)")


def test_no_chapter_shows_a_diagram_it_does_not_list():
    promised = {(d.chapter, d.name) for d in diagrams.DIAGRAMS}
    for script in sorted((NOTEBOOKS / "py").glob("*.py")):
        for name in diagrams.shown_in(script.read_text(encoding="utf-8")):
            assert (script.stem, name) in promised, f"py/{script.name} shows {name!r}, which DIAGRAMS does not list there"


@pytest.mark.parametrize("diagram", diagrams.DIAGRAMS, ids=lambda d: d.name)
def test_a_figure_is_the_svg_inline_with_its_caption_and_fetches_nothing(diagram):
    figure = diagrams.figure(diagram)
    assert "\n" not in figure  # one line of the markdown cell, below its marker
    assert figures_in(figure) == {diagram.name: diagram.draw()}
    assert f"<figcaption>{diagram.caption.replace(chr(39), '&#x27;')}</figcaption>" in figure
    svg = ET.fromstring(diagram.draw())
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and len(svg.findall(".//{http://www.w3.org/2000/svg}text")) >= 3
    links = [v for element in svg.iter() for k, v in element.attrib.items() if k.endswith("href")]
    assert all(link.startswith("#") for link in links)  # only references inside the drawing


def test_the_build_writes_the_current_drawing_below_each_marker():
    script = ("# %% [markdown]\n# ## Retries\n\n# %% [markdown]\n# <!-- diagram: alarm-retries -->\n\n"
              "# %%\nprint(1)\n")
    drawn = diagrams.refresh_script(script)
    assert drawn.startswith("# %% [markdown]\n# ## Retries\n\n# %% [markdown]\n# <!-- diagram: alarm-retries -->\n# <figure")
    assert drawn.endswith("</figure>\n\n# %%\nprint(1)\n")
    assert diagrams.refresh_script(drawn) == drawn  # a second build changes nothing
    stale = drawn.replace(diagrams.data_url(diagrams.BY_NAME["alarm-retries"]), "data:image/svg+xml;base64,AAAA")
    assert diagrams.refresh_script(stale) == drawn  # an older drawing is replaced, not kept beside the new one
    with pytest.raises(ValueError, match="no diagram named 'lifecylce'"):
        diagrams.refresh_script("# <!-- diagram: lifecylce -->\n")
