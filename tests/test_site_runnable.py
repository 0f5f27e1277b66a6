"""What the site's kata and chapter pages carry for running code in the browser (site/pages.py,
site/runnable.py), checked without building the site: the browser test is
tests/site/test_site_runs_code.py (`make site-test`)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "site"))
import pages  # noqa: E402  (site/, as mkdocs loads the hooks)
import runnable  # noqa: E402

KATAS = pages.manifest().katas
DATA = re.compile(r'<script type="application/json" class="dojo-kata-data">(.*?)</script>', re.S)


@pytest.mark.parametrize("kata", KATAS, ids=lambda k: k.id)
def test_a_kata_page_carries_the_file_as_shipped_and_its_timeout(kata):
    page = pages.kata_page(kata)
    found = DATA.findall(page)
    assert len(found) == 1 and f'<div class="dojo-kata-app" data-kata="{kata.id}" hidden></div>' in page
    data = json.loads(found[0])
    assert data["id"] == kata.id and data["timeout"] == kata.timeout and data["rule"] == kata.rule.strip()
    assert data["source"] == (pages.katas_dir().parent / kata.learner).read_text(encoding="utf-8")
    assert data["file"] == Path(kata.learner).name
    # the words of dojo check's verdict on a run stopped at the timeout, and its lines
    head = f"Kata {kata.id} did not finish within its timeout of {kata.timeout:g} s and was stopped."
    cause = "Likely cause: an infinite loop or a blocking call (time.sleep) in a handler, or an await that never completes."
    hang = data["hang"]
    assert hang["test"]["message"].splitlines() == [head, "Stuck in {test}.", cause]
    assert hang["none"]["message"].splitlines() == [head, cause]
    text = ["".join(piece for piece, _ in line) for line in hang["test"]["lines"]]
    assert text[0] == f"⧗ {kata.id}  {kata.title}  stopped after {kata.timeout:g} s  (0.0 s)"
    assert text[1] == "  ⧗ {test}" and text[-1] == f"  Rule: {kata.rule.strip()}"
    assert "\n".join(text[2:-1]) == "\n".join("  " + line for line in hang["test"]["message"].splitlines())
    assert hang["test"]["lines"][0][-1] == ["  (0.0 s)", "dim"]  # the piece runner.js fills with the time


def test_the_kata_data_cannot_end_its_script_element_early():
    kata = KATAS[0]
    source = 'x = "</script><script>alert(1)</script>"\n'
    text = pages.kata_data_json(kata, source)
    assert "</" not in text and "<" not in text
    assert json.loads(text)["source"] == source


KATA_HTML = '<html><body><article class="md-content__inner md-typeset"></article></body></html>'
CHAPTER_HTML = '<html><body><div class="jupyter-wrapper"><p>cells</p></div></body></html>'


def test_pages_get_no_scripts_while_the_site_has_no_worker(monkeypatch):
    monkeypatch.setattr(runnable, "enabled", lambda: False)
    assert runnable.add_scripts(KATA_HTML, "katas/01-counter-forgets.md", "katas/01-counter-forgets/") == KATA_HTML


def test_kata_and_chapter_pages_load_their_scripts_from_the_site(monkeypatch):
    monkeypatch.setattr(runnable, "enabled", lambda: True)
    kata = runnable.add_scripts(KATA_HTML, "katas/01-counter-forgets.md", "katas/01-counter-forgets/")
    assert re.findall(r'<script src="([^"]+)" defer>', kata) == [
        "../../assets/dojo/editor.js", "../../assets/dojo/runner.js", "../../assets/dojo/kata.js"]
    chapter = runnable.add_scripts(CHAPTER_HTML, "notebooks/01-lifecycle.ipynb", "notebooks/01-lifecycle/")
    assert re.findall(r'<script src="([^"]+)" defer>', chapter) == ["../../assets/dojo/runner.js",
                                                                    "../../assets/dojo/chapter.js"]
    assert '<div class="jupyter-wrapper" data-chapter="01-lifecycle">' in chapter
    index = runnable.add_scripts(KATA_HTML, "katas/index.md", "katas/")
    assert re.findall(r'<script src="([^"]+)" defer>', index) == ["../assets/dojo/kata.js"]  # the passed marks
    assert "dojo-kata-index" in index
    for other in ("index.md", "review-checklist.md", "api/durable_dojo.md", "get-started.md"):
        assert runnable.add_scripts(KATA_HTML, other, "x/") == KATA_HTML, other
    for script in ("editor.js", "runner.js", "kata.js", "chapter.js"):
        assert (REPO / "site" / "assets" / "dojo" / script).is_file(), script


@pytest.mark.parametrize("path", pages.notebook_paths(), ids=lambda p: p.stem)
def test_a_chapter_runs_its_code_cells_in_the_notebooks_order(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    cells = runnable.chapter_cells(path)
    assert cells["name"] == path.stem and len(cells["cells"]) == len(code) >= 1
    assert cells["cells"][0] == "".join(code[0]["source"])
    assert len(set(cells["ids"])) == len(code) and all(cells["ids"])


def test_the_build_log_gives_the_first_runs_weight_part_by_part(tmp_path):
    runtime = tmp_path / runnable.RUNTIME_DIR
    (runtime / "wheels").mkdir(parents=True)
    files = {"pyodide.asm.wasm": 3_000_000, "wheels/pytest.whl": 400_000, "bytecode.zip": 200_000,
             "dojo-bundle.zip": 100_000}
    for name, size in files.items():
        (runtime / name).write_bytes(b"x" * size)
    entry = lambda name: {"path": name, "size": files[name]}  # noqa: E731
    vendor = {"core": [entry("pyodide.asm.wasm")], "wheels": [entry("wheels/pytest.whl")],
              "bytecode": entry("bytecode.zip"), "bundle": entry("dojo-bundle.zip")}
    (runtime / "vendor.json").write_text(json.dumps(vendor))
    line, over = runnable.weight_report(tmp_path)
    assert over == []
    first_run, parts = line.splitlines()
    assert first_run.startswith(f"in-browser path: first Run {(3_700_000 + len(json.dumps(vendor))) / 1e6:.1f} MB")
    assert parts == ("  first Run, as stored: Pyodide (interpreter, standard library) 3.00 MB, "
                     "wheels (pytest...) 0.40 MB, compiled modules 0.20 MB, the project 0.10 MB")
