"""The pages of the site that are made from other sources, at build time (site/hooks.py).

Nothing here is written to disk: the mkdocs hook hands the Markdown to mkdocs as generated
files, and tests/test_site_pages.py checks the same functions without building the site.

- one page per kata, from katas/katas.toml (the single manifest): the task (the kata's
  README.md), its three hints in collapsed blocks, how to run it locally, the rule, and the
  solution and its explanation collapsed;
- the kata index (katas/index.md), a table of every kata and the runner's guide;
- the review checklist (review-checklist.md): `render_checklist_markdown()` of the review
  rules, with each rule linked to the chapter and the kata that teach it
  (site/checklist_links.toml);
- the notebooks, which mkdocs-jupyter renders from notebooks/ as they are (with their stored
  outputs and widget state), never copied into site/.

Links between pages are written to the Markdown *sources* (`notebooks/01-lifecycle.ipynb`,
`katas/05-oversold-stock.md`), so mkdocs checks and converts them (`mkdocs build --strict`).
"""

from __future__ import annotations

import ast
import html
import json
import posixpath
import re
import sys
import tomllib
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "site"
if str(REPO / "src") not in sys.path:  # durable_dojo from the checkout, also without an install
    sys.path.insert(0, str(REPO / "src"))

from durable_dojo._kata.manifest import Kata, Manifest, load_manifest  # noqa: E402
from durable_dojo._kata.pristine import PristineNotFound, shipped_katas_dir  # noqa: E402

KATAS_SECTION = "Katas"  # the nav section of mkdocs.yml that the kata pages are added to
CHECKLIST_PAGE = "review-checklist.md"
KATAS_INDEX = "katas/index.md"
GET_STARTED_PAGE = "get-started.md"
HINT_LABELS = ("a nudge", "closer", "nearly the answer")
_KATA_LINK = re.compile(r"\(\.\./katas/([^/)]+)/README\.md\)")


# ----------------------------------------------------------------------------------------
# Sources
# ----------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def katas_dir() -> Path:
    """The katas as shipped (git HEAD or the installed package): the site shows the broken files
    whatever a learner has changed in katas/. The working copy only where no shipped copy exists
    (a folder unpacked from the download archive, without git)."""
    try:
        return shipped_katas_dir(REPO)
    except PristineNotFound:
        return REPO / "katas"


@lru_cache(maxsize=None)
def manifest() -> Manifest:
    return load_manifest(REPO, check_tests=False, katas_dir=katas_dir())


def notebook_paths() -> list[Path]:
    """The workbook's chapters, in order."""
    return sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))


def notebook_uri(path: Path) -> str:
    """The notebook's path in the site's sources (and so its page: notebooks/NN-name/)."""
    return f"notebooks/{path.name}"


@lru_cache(maxsize=None)
def _notebook(stem: str) -> dict:
    return json.loads((REPO / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))


def markdown_cells(stem: str) -> list[str]:
    """The text of each markdown cell of the notebook, in order (the notebook is read once)."""
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in _notebook(stem)["cells"] if c["cell_type"] == "markdown"]


def chapter_title(stem: str) -> str:
    """The chapter's first heading ("1. Lifecycle: what lives in memory, and for how long")."""
    for text in markdown_cells(stem):
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return stem


def chapter_short(stem: str) -> str:
    """"1. Lifecycle" from "1. Lifecycle: what lives in memory, and for how long"."""
    return chapter_title(stem).split(":")[0].strip()


@lru_cache(maxsize=None)
def kata_chapters() -> dict[str, list[str]]:
    """Which chapters send the learner to which kata: each chapter's "Katas" section links
    `../katas/<id>/README.md`. kata id -> notebook stems, in chapter order."""
    found: dict[str, list[str]] = {}
    for path in notebook_paths():
        for text in markdown_cells(path.stem):
            for kata_id in _KATA_LINK.findall(text):
                stems = found.setdefault(kata_id, [])
                if path.stem not in stems:
                    stems.append(path.stem)
    return found


@lru_cache(maxsize=None)
def checklist_links() -> dict[str, dict[str, list[str]]]:
    """rule code -> {"chapters": [notebook stems], "katas": [kata ids]} (site/checklist_links.toml)."""
    data = tomllib.loads((SITE / "checklist_links.toml").read_text(encoding="utf-8"))
    order = {k.id: k.order for k in manifest().katas}
    return {code: {"chapters": sorted(entry.get("chapters", [])),  # NN-name: in chapter order
                   "katas": sorted(entry.get("katas", []), key=lambda k: (order.get(k, 0), k))}
            for code, entry in data["rule"].items()}


def clear_caches() -> None:
    """Read the sources again (`mkdocs serve` rebuilds in the same process)."""
    for cached in (manifest, _notebook, kata_chapters, checklist_links):
        cached.cache_clear()


# ----------------------------------------------------------------------------------------
# Markdown helpers
# ----------------------------------------------------------------------------------------


def plain(text: str) -> str:
    """Plain text (a hint, a rule from the manifest) made safe as Markdown: `<customer>`
    stays visible, `*` and `_` make no emphasis."""
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]])", r"\\\1", text)


def indent(text: str, spaces: int = 4) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines())


def _split_title(markdown: str) -> tuple[str | None, str]:
    """The first `# ` heading and the rest."""
    lines = markdown.strip().splitlines()
    if lines and lines[0].startswith("# "):
        return lines[0][2:].strip(), "\n".join(lines[1:]).strip()
    return None, markdown.strip()


def demote_headings(markdown: str, levels: int = 2) -> str:
    """`## x` -> `#### x` outside code fences: sections of a text shown inside a collapsed
    block stay below the page's table of contents (toc_depth 3)."""
    out, fence = [], None
    for line in markdown.splitlines():
        stripped = line.lstrip()
        match = re.match(r"(`{3,}|~{3,})", stripped)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif stripped.startswith(fence) and not stripped[len(fence):].strip():
                fence = None
        elif fence is None and re.match(r"#{1,6} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def _commented(commands: list[tuple[str, str]]) -> list[str]:
    """Shell lines with their comments aligned."""
    width = max(len(command) for command, _ in commands) + 2
    return [f"{command:<{width}}# {comment}" for command, comment in commands]


def _fence(code: str, lang: str) -> str:
    ticks = "```"
    while ticks in code:
        ticks += "`"
    return f"{ticks}{lang}\n{code.rstrip()}\n{ticks}"


# ----------------------------------------------------------------------------------------
# Kata pages
# ----------------------------------------------------------------------------------------


def kata_uri(kata_id: str) -> str:
    return f"katas/{kata_id}.md"


def kata_heading(kata: Kata) -> str:
    """The kata's own title, from its README ("05 · Stock sold twice")."""
    title, _ = _split_title((katas_dir() / kata.id / "README.md").read_text(encoding="utf-8"))
    return title or f"{kata.order:02d} · {kata.title}"


def _chapter_links(stems: list[str], base: str) -> str:
    return ", ".join(f"[{chapter_short(s)}]({base}notebooks/{s}.ipynb)" for s in stems)


def task_text(readme_body: str) -> str:
    """The kata's README without what the page shows in its own sections: the run commands (a
    `## Run ...` section or a paragraph with `dojo check`) and the "File to fix / Tests" line."""
    kept: list[str] = []
    skipping = False
    for section in re.split(r"(?m)^(?=## )", readme_body):
        heading = section.splitlines()[0] if section.startswith("## ") else ""
        skipping = bool(re.match(r"## Run\b", heading))
        if skipping:
            continue
        paragraphs = re.split(r"\n\s*\n", section.strip())
        kept += [p for p in paragraphs if p.strip() and "dojo check" not in p
                 and not p.lstrip().startswith("**File to fix")]
    return "\n\n".join(kept)


def _test_functions(path: Path) -> dict[str, str]:
    """Test name -> what it checks: its docstring's first paragraph, or its name in words."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            doc = ast.get_docstring(node)
            words = node.name.removeprefix("test_").replace("_", " ")
            found[node.name] = " ".join(doc.split("\n\n")[0].split()) if doc else words[:1].upper() + words[1:] + "."
    return found


def failing_tests(kata: Kata) -> list[tuple[str, str, str]]:
    """(test file, test name, what it checks) for each test the shipped file fails."""
    out = []
    for test_file in kata.tests:
        checks = _test_functions(REPO / test_file)
        for entry in kata.failing_tests:
            name = entry.split("::")[-1].split("[")[0]
            if name in checks:
                out.append((test_file, entry.split("::")[-1], checks[name]))
    return out


def _link(url: str) -> str:
    """A Cloudflare docs URL as a Markdown link named by its page ("In-memory state")."""
    slug = url.rstrip("/").rsplit("/", 1)[-1].split("#")[0] or url
    return f"[{slug.replace('-', ' ').capitalize()}]({url})"


HUNG_TEST = "\x00test\x00"  # where the page puts the name of the test that was running
HUNG_SECONDS = 0.0  # the run's time, which the page puts in its place too


def hang_verdicts(kata: Kata) -> dict[str, dict]:
    """What `dojo check` prints when the kata's tests overrun the timeout, made by the runner's
    own code (`verdict_from_run`, `verdict_lines`) so the page says it in the same words: "test"
    with `{test}` where the page puts the test that was running, "none" when none had started.
    Each is {"message": the run's message, "lines": the verdict's lines, as the worker sends
    them}. A page cannot read the stack of a worker it stopped, so no line of code is named."""
    from durable_dojo._kata.cli import verdict_lines
    from durable_dojo._kata.run import RunResult, TestResult, verdict_from_run

    def placeholders(text: str) -> str:
        return text.replace(HUNG_TEST, "{test}")

    out = {}
    for key, running in (("test", HUNG_TEST), ("none", None)):
        run = RunResult(stopped=True, hung_test=f"t.py::{running}" if running else None, seconds=HUNG_SECONDS)
        if running:
            run.tests[run.hung_test] = TestResult(run.hung_test, Path("t.py"), running, outcome="hung")
        verdict = verdict_from_run(manifest(), kata, run, REPO / "katas", project=REPO)
        lines = [[[placeholders(text), style] for text, style in line] for line in verdict_lines(verdict)]
        out[key] = {"message": placeholders(verdict.message), "lines": lines}
    return out


def kata_data(kata: Kata, source: str) -> dict:
    """What a kata page's scripts need (site/assets/dojo/kata.js): the file as it ships (the
    editor's start and what Reset restores), the timeout and its message, the rule, the hints."""
    return {"id": kata.id, "title": kata.title, "file": posixpath.basename(kata.learner), "learner": kata.learner,
            "source": source, "timeout": kata.timeout, "hang": hang_verdicts(kata), "rule": kata.rule.strip(),
            "hints": len(kata.hints), "tests": [t.split("::")[-1] for t in kata.failing_tests]}


def kata_data_json(kata: Kata, source: str) -> str:
    """kata_data() as JSON that is safe inside a <script> element (no "</" can end it early)."""
    return json.dumps(kata_data(kata, source), ensure_ascii=False).replace("<", "\\u003c")


def kata_page(kata: Kata) -> str:
    """One layout for every kata: the task, the file as it ships, the tests it fails, how to run
    it, the hints one per folded block, the rule, and the solution and its explanation folded."""
    m = manifest()
    readme = (katas_dir() / kata.id / "README.md").read_text(encoding="utf-8")
    title, task = _split_title(readme)
    title = title or f"{kata.order:02d} · {kata.title}"
    chapters = kata_chapters().get(kata.id, [])
    facts = [f"**Difficulty**: {plain(str(kata.difficulty))}",
             "**Concepts**: " + ", ".join(plain(c) for c in kata.concepts)]
    if chapters:
        facts.append("**Read first**: " + _chapter_links(chapters, "../"))
    lines = [f"# {title}", "", " · ".join(facts), "",
             "## The task", "", demote_headings(task_text(task), 1), ""]

    learner = katas_dir().parent / kata.learner  # kata.learner is "katas/<id>/<file>"
    source = learner.read_text(encoding="utf-8")
    # In a browser the editor and its Run button (site/assets/dojo/kata.js) take this block's
    # place; without scripts the file as it ships stays.
    lines += [f"## The code to fix: `{posixpath.basename(kata.learner)}`", "",
              f'<div class="dojo-kata-app" data-kata="{kata.id}" hidden></div>',
              f'<script type="application/json" class="dojo-kata-data">{kata_data_json(kata, source)}</script>', "",
              '<div class="dojo-shipped" markdown>', "",
              f"As it ships, in `{kata.learner}`:", "",
              _fence(source, "python"), "", "</div>", ""]

    failing = failing_tests(kata)
    lines += ["## The tests it fails", "",
              f"On the file as it ships, {len(failing)} test{'s' if len(failing) != 1 else ''} of "
              + ", ".join(f"`{t}`" for t in kata.tests) + " fail; the others already pass and must keep passing.", "",
              '<div class="dojo-tests" markdown>', "", "| test | what it checks |", "| --- | --- |"]
    lines += [f"| `{name}` | {plain(check)} |" for _, name, check in failing]
    lines += ["", "</div>", ""]

    lines += [
        "## Run it on your machine", "",
        f"In the project folder ([get the project](../{GET_STARTED_PAGE}) first), edit `{kata.learner}`, then:", "",
        "```sh", *_commented([
            (f".venv/bin/dojo check {kata.id}", "this kata's tests, with a verdict for each"),
            (".venv/bin/dojo", "watch mode: re-runs the current kata on every save"),
            (f".venv/bin/dojo hint {kata.id}", "the hints below, one at a time"),
            (f".venv/bin/dojo reset {kata.id}", "your file back as shipped"),
        ]), "```", "",
        "A failing test prints the part of the emulator's trace that shows what happened. "
        f"A run longer than {kata.timeout:g} s is stopped and reported as hung.", "",
    ]

    lines += ["## Hints", "", "Try without them first. Open one at a time: the last one nearly gives the answer.", ""]
    for number, hint in enumerate(kata.hints, 1):
        label = HINT_LABELS[number - 1] if number <= len(HINT_LABELS) else ""
        summary = f"Hint {number} of {len(kata.hints)}" + (f": {label}" if label else "")
        lines += [f'??? tip "{summary}"', "", indent(plain(hint)), ""]

    lines += ['!!! abstract "The rule this kata teaches"', "", indent(plain(kata.rule)), ""]
    if kata.docs:
        lines += [indent("Cloudflare's docs: " + " · ".join(_link(url) for url in kata.docs)), ""]

    solution_path = REPO / kata.solution
    explanation = kata.explanation_text(m.root)
    _, explanation_body = _split_title(explanation)
    lines += [
        "## Solution", "",
        f"Both blocks stay closed until you open them (or run `.venv/bin/dojo solution {kata.id}` once you pass).", "",
        f'??? success "The solution: `{kata.solution}`"', "",
        indent(_fence(solution_path.read_text(encoding="utf-8"), "python")), "",
        '??? note "Why it failed, and why the fix works"', "",
        indent(demote_headings(explanation_body)), "",
    ]
    return "\n".join(lines).rstrip() + "\n"


def katas_index() -> str:
    m = manifest()
    chapters = kata_chapters()
    lines = [
        "# The katas", "",
        "Each kata is a small Durable Object with a real-world mistake in it, and tests that fail "
        "until you fix it. The tests run on the emulator, so a kata that passes is Cloudflare Python "
        "Workers code that would deploy as it is. Every page below has the task, three hints from a "
        "nudge to nearly the answer, how to run it on your machine, and the solution with its "
        "explanation, folded away until you want them.", "",
        "| # | kata | difficulty | concepts | read first |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kata in m.katas:
        lines.append(f"| {kata.order} | [{kata_heading(kata)}]({kata.id}.md) | {plain(str(kata.difficulty))} | "
                     f"{', '.join(plain(c) for c in kata.concepts)} | "
                     f"{_chapter_links(chapters.get(kata.id, []), '../')} |")
    guide = (katas_dir() / "README.md").read_text(encoding="utf-8")
    _, body = _split_title(guide)
    lines += ["", "## Running the katas", "", demote_headings(body, 1)]
    return "\n".join(lines).rstrip() + "\n"


# ----------------------------------------------------------------------------------------
# The review checklist
# ----------------------------------------------------------------------------------------


def _learn_links(code: str, style: str) -> str:
    entry = checklist_links()[code]
    kata_ids = {k.id: k for k in manifest().katas}
    if style == "short":
        chapters = [f"[ch. {s.split('-')[0].lstrip('0') or '0'}](notebooks/{s}.ipynb)" for s in entry["chapters"]]
        katas = [f"[kata {kata_ids[k].order:02d}](katas/{k}.md)" for k in entry["katas"]]
        return " · ".join(chapters + katas)
    chapters = [f"[{chapter_title(s)}](notebooks/{s}.ipynb)" for s in entry["chapters"]]
    katas = [f"[{kata_heading(kata_ids[k])}](katas/{k}.md)" for k in entry["katas"]]
    parts = []
    if chapters:
        parts.append(("chapter " if len(chapters) == 1 else "chapters ") + ", ".join(chapters))
    if katas:
        parts.append(("kata " if len(katas) == 1 else "katas ") + ", ".join(katas))
    return "; ".join(parts)


def checklist_page() -> str:
    """`render_checklist_markdown()`, with a "learn it" column in each category's table and a
    "Learn it" line under each rule, linking the chapter and the kata that teach it."""
    from durable_dojo._review.rules import render_checklist_markdown

    out = []
    row = re.compile(r"^\| \[(DO\d+)\]\(#do\d+\) \|")
    heading = re.compile(r"^### (DO\d+)$")
    pending = None  # a rule heading whose first paragraph we are in
    for line in render_checklist_markdown().splitlines():
        if line == "| code | checks | finding |":
            line += " learn it |"
        elif line == "| --- | --- | --- |":
            line += " --- |"
        elif (match := row.match(line)):
            line += f" {_learn_links(match.group(1), 'short')} |"
        if pending and line.startswith("**"):
            out += [line, "", f"**Learn it**: {_learn_links(pending, 'long')}."]
            pending = None
            continue
        if (match := heading.match(line)):
            pending = match.group(1)
        out.append(line)
    return "\n".join(out).rstrip() + "\n"


# ----------------------------------------------------------------------------------------
# What the hook adds
# ----------------------------------------------------------------------------------------


ARCHIVE_URL = "download/durable-dojo.tar.gz"  # written by site/publish.py after the build


def get_started_page(repository: str = "") -> str:
    """How to get the project and start: the download (always), `git clone` (when the site is
    configured with its repository), then `make lab` and the kata runner."""
    lines = [
        "# Get the project", "",
        "Everything runs on your machine: the workbook in JupyterLab, the katas in a terminal. You need "
        "`python3` (3.11 or newer), `make` and a terminal; no Cloudflare account. The first `make` downloads "
        "the Python packages (about a minute); after that nothing needs the network.", "",
        "## 1. Get the files", "",
        f'<a class="md-button md-button--primary" href="../{ARCHIVE_URL}" download>Download durable-dojo.tar.gz</a>', "",
        "```sh",
        "tar xzf durable-dojo.tar.gz && cd durable-dojo",
        "```", "",
    ]
    if repository:
        lines += [f"Or clone [the repository]({repository}):", "",
                  "```sh", f"git clone {repository} durable-dojo && cd durable-dojo", "```", ""]
    lines += [
        "## 2. Open the workbook", "",
        "```sh",
        "make lab",
        "```", "",
        "This creates `.venv`, installs what the project needs into it and starts JupyterLab on "
        "http://127.0.0.1:8888 with the chapters. Start with chapter 0; the chapters are also on this "
        "site, to read along.", "",
        "## 3. Do the katas", "",
        "```sh",
        ".venv/bin/dojo",
        "```", "",
        "The kata runner: it shows your progress and re-runs the current kata each time you save its file. "
        "Each kata's page here has the task, the code as it ships, the failing tests, the hints and the "
        "solution.", "",
        "`make test` runs the project's own test suite (the emulator, the katas' solutions, the notebooks).",
    ]
    return "\n".join(lines) + "\n"


def generated_pages(repository: str = "") -> dict[str, str]:
    """Site path -> Markdown, for every page made at build time."""
    pages = {KATAS_INDEX: katas_index(), CHECKLIST_PAGE: checklist_page(),
             GET_STARTED_PAGE: get_started_page(repository)}
    for kata in manifest().katas:
        pages[kata_uri(kata.id)] = kata_page(kata)
    return pages


def nav_with_katas(nav: list) -> list:
    """mkdocs.yml's nav, with one entry per kata (in the manifest's order) appended to the
    "Katas" section, whose first entry is the kata index."""
    for item in nav:
        if isinstance(item, dict) and KATAS_SECTION in item:
            section = item[KATAS_SECTION]
            listed = {entry if isinstance(entry, str) else next(iter(entry.values())) for entry in section}
            section.extend(kata_uri(k.id) for k in manifest().katas if kata_uri(k.id) not in listed)
            return nav
    raise ValueError(f"mkdocs.yml: the nav has no '{KATAS_SECTION}' section for the kata pages")


def nav_pages(nav) -> list[str]:
    """Every page path in a nav, in order."""
    found: list[str] = []
    if isinstance(nav, str):
        found.append(nav)
    elif isinstance(nav, dict):
        for value in nav.values():
            found += nav_pages(value)
    elif isinstance(nav, list):
        for entry in nav:
            found += nav_pages(entry)
    return found


def site_target(repo_path: str) -> str | None:
    """The site source of a repository path linked from a notebook: a kata's README or
    solution folder is its kata page, a notebook is its chapter."""
    parts = repo_path.split("/")
    if len(parts) >= 2 and parts[0] in ("katas", "solutions") and parts[1] in {k.id for k in manifest().katas}:
        return kata_uri(parts[1])
    if parts[0] == "katas" and (len(parts) == 1 or parts[1] in ("", "README.md")):
        return KATAS_INDEX
    if len(parts) == 2 and parts[0] == "notebooks" and parts[1].endswith(".ipynb"):
        return repo_path
    return None


def resolve_notebook_link(href: str, notebook_uri_: str) -> str | None:
    """A relative link in a notebook (`../katas/05-x/README.md`, `02-storage.ipynb#Limits`),
    as a site source path and fragment, or None if it is not a link to another page."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I) or href.startswith(("#", "/")):
        return None
    path, _, fragment = href.partition("#")
    repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(notebook_uri_), path))
    target = site_target(repo_path)
    if target is None:
        return None
    return target + (f"#{fragment}" if fragment else "")


def page_sources(src_uri: str) -> list[str]:
    """The repository paths a page is made from (for its "last updated" date)."""
    if src_uri.startswith("notebooks/"):
        return [src_uri, "notebooks/py/" + posixpath.basename(src_uri).replace(".ipynb", ".py")]
    if src_uri == KATAS_INDEX:
        return ["katas/katas.toml", "katas/README.md"]
    if src_uri.startswith("katas/"):
        kata_id = posixpath.basename(src_uri)[: -len(".md")]
        kata = next((k for k in manifest().katas if k.id == kata_id), None)
        if kata is not None:
            return [f"katas/{kata.id}", posixpath.dirname(kata.solution), *kata.tests, "katas/katas.toml"]
    if src_uri == CHECKLIST_PAGE:
        return ["src/durable_dojo/_review", "site/checklist_links.toml"]
    if src_uri.startswith("api/"):
        return [f"site/{src_uri}", "src"]
    return [f"site/{src_uri}"]


RUNTIME_PARAMETERS = "<!-- runtime-parameters -->"  # where site/api/durable_dojo.md wants the table


def runtime_parameters() -> list[tuple[str, str, str]]:
    """(name, default, what it does) for each parameter of Runtime(...), in the signature's
    order; the words come from site/api/runtime_parameters.toml."""
    import inspect

    from durable_dojo import Runtime

    words = tomllib.loads((SITE / "api" / "runtime_parameters.toml").read_text(encoding="utf-8"))
    out = []
    for name, parameter in inspect.signature(Runtime.__init__).parameters.items():
        if name == "self":
            continue
        default = "required" if parameter.default is inspect.Parameter.empty else repr(parameter.default)
        out.append((name, default, words.get(name, "")))
    return out


def runtime_parameters_table() -> str:
    rows = ["| parameter | default | what it does |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | `{default}` | {text} |" for name, default, text in runtime_parameters()]
    return "\n".join(rows)
