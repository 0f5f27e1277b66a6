"""Learner-facing text speaks the learner's language: never "the seed" for the reviewer's guide
this project grew from (the word means nothing to a learner and collides with `seed=`)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEARNER_TEXT = ["notebooks/py/*.py", "katas/**/*.md", "katas/**/*.py", "katas/katas.toml", "solutions/**/*.md",
                "solutions/**/*.py", "site/*.md", "README.md", "docs/*.md"]
# "the seed's advice", "the seed reviewer", "The seed says": the document, not `seed=`
SEED_AS_A_DOCUMENT = re.compile(r"\bthe seed(?:'s|\s+(?:reviewer|guide|document|says|advice))|\bseed's\b", re.IGNORECASE)


def learner_files() -> list[Path]:
    return sorted({p for pattern in LEARNER_TEXT for p in ROOT.glob(pattern) if p.is_file()})


def test_learner_text_never_calls_the_reviewers_guide_the_seed():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in learner_files()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if SEED_AS_A_DOCUMENT.search(line)]
    assert found == []


def test_the_check_reads_the_chapters_katas_and_solutions():
    names = {p.relative_to(ROOT).parts[0] for p in learner_files()}
    assert {"notebooks", "katas", "solutions", "site"} <= names


def test_the_pattern_finds_the_document_and_not_the_argument():
    assert SEED_AS_A_DOCUMENT.search("## The seed's advice, and why it is not enough")
    assert SEED_AS_A_DOCUMENT.search('and the seed reviewer\'s checklist both put it this way')
    assert not SEED_AS_A_DOCUMENT.search("Runtime(seed=3) and the same seed gives the same run")
    assert not SEED_AS_A_DOCUMENT.search('strategy="pct" (with a `seed`) samples them')


# ---- the project's own names: never in what a learner reads

#: A module path of the emulator's insides or a helper's branch name: words a learner cannot
#: look up. (`durable_dojo.testing` and the other public faces are fine.)
INTERNAL_NAME = re.compile(r"\b_core\b|durable_dojo\._|(?<![\w.])_(?:kata|review|serve|widgets|workbook|browser)\b"
                           r"|\b(?:conf-a|conf-b|ex-a|ex-b|ex-c|web-core|web-pages)\b")
PROSE = ["notebooks/py/*.py", "site/*.md"]
#: The in-browser pages' scripts (the bundled editor aside) and the Python that words verdicts
#: and results for them: their string literals with a space in them are what the page shows.
UI_SCRIPTS = [p for p in sorted(ROOT.glob("site/assets/dojo/*.js")) if p.name != "editor.js"]
MESSAGE_MODULES = sorted(ROOT.glob("src/durable_dojo/_workbook/*.py")) + sorted(ROOT.glob("src/durable_dojo/_browser/*.py"))
JS_COMMENT = re.compile(r"/\*.*?\*/|(?:^|\s)//[^\n]*", re.S)
JS_STRING = re.compile(r"""(["'`])((?:\\.|(?!\1)[^\\\n])*)\1""")


def js_ui_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string literal with a space in it, comments left out."""
    code = JS_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    return [(n, m.group(2)) for n, line in enumerate(code.splitlines(), 1)
            for m in JS_STRING.finditer(line) if " " in m.group(2)]


def python_messages(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string constant with a space in it that is not a docstring."""
    import ast

    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value
            and id(node) not in docstrings]


def shown_texts() -> list[tuple[str, str]]:
    texts = [(f"{p.relative_to(ROOT)}:{n}", line) for pattern in PROSE for p in sorted(ROOT.glob(pattern))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)]
    texts += [(f"{p.relative_to(ROOT)}:{n}", text) for p in UI_SCRIPTS
              for n, text in js_ui_strings(p.read_text(encoding="utf-8"))]
    texts += [(f"{p.relative_to(ROOT)}:{n}", text) for p in MESSAGE_MODULES
              for n, text in python_messages(p.read_text(encoding="utf-8"))]
    return texts


def test_chapters_pages_and_messages_never_name_the_emulators_insides():
    found = [f"{where}: {text.strip()[:160]}" for where, text in shown_texts()
             if INTERNAL_NAME.search(text) or SEED_AS_A_DOCUMENT.search(text)]
    assert found == []


def test_the_check_reads_the_browser_pages_strings_and_the_verdicts():
    where = {w.split(":")[0] for w, _ in shown_texts()}
    assert {"site/assets/dojo/kata.js", "site/assets/dojo/runner.js", "site/assets/dojo/chapter.js",
            "src/durable_dojo/_workbook/chapter03.py", "src/durable_dojo/_browser/katas.py"} <= where


def test_the_readers_find_ui_strings_and_skip_code():
    js = 'api = pyodide.pyimport("durable_dojo._browser.worker"); // the _core side\n' \
         'status.textContent = "Loading the _core module…"; /* _kata\n note */ x = `ran ${n} cells`;\n'
    assert [text for _, text in js_ui_strings(js)] == ["Loading the _core module…", "ran ${n} cells"]
    py = '"""The _core docstring."""\nraise NotYet(f"got {x!r} from _core here")\nKEY = "_core.x"\n'
    assert [text for _, text in python_messages(py)] == ["got ", " from _core here"]
    assert INTERNAL_NAME.search("see durable_dojo._core.stubs") and INTERNAL_NAME.search("(web-core's)")
    assert not INTERNAL_NAME.search("from durable_dojo.testing import run_durable_object_alarm")
