"""The site's generated pages, checked from their Markdown without building the site or
opening a browser (the browser test is tests/site, `make site-test`).

- one page per kata of katas/katas.toml, with the task, the hints folded one per block, how
  to run it locally, and the solution and its explanation folded;
- the review checklist lists every rule with a link to its chapter and its kata, and the link
  table (site/checklist_links.toml) is complete and agrees with the kata cross-check;
- the landing page links the workbook, the katas and the API reference;
- every notebook and every kata page is in the nav, and every link in a notebook resolves to
  a page of the site;
- site/check_links.py finds what it must find.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from durable_dojo._review.rules import RULES

REPO = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


pages = _load("dojo_site_pages", REPO / "site" / "pages.py")
check_links = _load("dojo_site_check_links", REPO / "site" / "check_links.py")
MANIFEST = pages.manifest()
KATAS = MANIFEST.katas
GENERATED = pages.generated_pages()


def blocks(markdown: str) -> list[tuple[str, str, str, str]]:
    """The collapsible blocks of a page: (marker, kind, title, body), marker `???` (closed),
    `???+` (open) or `!!!` (not collapsible); body is the indented content, dedented."""
    found = []
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r'^(\?\?\?\+?|!!!) (\w+)(?: "(.*)")?$', line)
        if not match:
            continue
        body = []
        for following in lines[index + 1:]:
            if following.strip() and not following.startswith("    "):
                break
            body.append(following[4:])
        found.append((match.group(1), match.group(2), match.group(3) or "", "\n".join(body).strip()))
    return found


def outside_blocks(markdown: str) -> str:
    """The page without the content of its admonitions."""
    kept, inside = [], False
    for line in markdown.splitlines():
        if re.match(r"^(\?\?\?\+?|!!!) ", line):
            inside = True
            continue
        if inside and line.strip() and not line.startswith("    "):
            inside = False
        if not inside:
            kept.append(line)
    return "\n".join(kept)


# ----------------------------------------------------------------------------------------
# Kata pages
# ----------------------------------------------------------------------------------------


def test_every_kata_of_the_manifest_has_a_page_and_nothing_else_does():
    kata_pages = {uri for uri in GENERATED if uri.startswith("katas/") and uri != pages.KATAS_INDEX}
    assert kata_pages == {f"katas/{k.id}.md" for k in KATAS}
    assert len(KATAS) >= 17


@pytest.mark.parametrize("kata", KATAS, ids=lambda k: k.id)
def test_kata_page_has_the_task_the_hints_folded_and_the_solution_folded(kata):
    page = GENERATED[f"katas/{kata.id}.md"]
    found = blocks(page)
    visible = outside_blocks(page)

    # the task: the kata's README, title and body
    readme = (REPO / "katas" / kata.id / "README.md").read_text()
    assert page.startswith(f"# {readme.splitlines()[0][2:]}\n")
    last_paragraph = readme.strip().split("\n\n")[-1]
    assert last_paragraph in visible

    # the hints: one closed block each, in order, and no hint text outside them
    hints = [b for b in found if b[1] == "tip"]
    assert [b[0] for b in hints] == ["???"] * len(kata.hints) and len(kata.hints) == 3
    for number, (hint, block) in enumerate(zip(kata.hints, hints), 1):
        assert block[2].startswith(f"Hint {number} of 3")
        assert block[3] == pages.plain(hint)
        assert pages.plain(hint) not in visible

    # how to run it locally
    assert "## Run it locally" in visible
    assert f".venv/bin/dojo check {kata.id}" in visible and kata.learner in visible

    # the solution and its explanation: closed blocks, with the code and the text
    solution = [b for b in found if b[1] == "success"]
    explanation = [b for b in found if b[1] == "note"]
    assert len(solution) == 1 and len(explanation) == 1
    assert solution[0][0] == "???" and explanation[0][0] == "???"
    code = (REPO / kata.solution).read_text()
    assert kata.solution in solution[0][2]
    assert code.strip().splitlines()[-1] in solution[0][3]
    assert code.strip().splitlines()[-1] not in visible
    text = kata.explanation_text(REPO)
    paragraph = [p for p in text.split("\n\n") if p.strip() and not p.startswith("#")][0]
    assert paragraph.splitlines()[0] in explanation[0][3]
    assert not any(b[0] == "???+" for b in found), "no block may be open by default"

    # the chapters that send the learner here
    for stem in pages.kata_chapters().get(kata.id, []):
        assert f"(../notebooks/{stem}.ipynb)" in visible


def test_hints_are_shown_as_written():
    # a hint with <placeholders> and underscores must not turn into HTML tags or emphasis
    assert pages.plain("renewal-<customer>-<period> and charge_card(..., key=key)") == \
        r"renewal-&lt;customer&gt;-&lt;period&gt; and charge\_card(..., key=key)"


def test_kata_pages_render_as_closed_details_blocks():
    markdown = pytest.importorskip("markdown")  # in the docs group (make site)
    pytest.importorskip("pymdownx")
    kata = KATAS[4]
    html = markdown.markdown(GENERATED[f"katas/{kata.id}.md"],
                             extensions=["admonition", "pymdownx.details", "pymdownx.superfences"])
    details = re.findall(r"<details[^>]*>", html)
    assert len(details) == 5 and not any("open" in d for d in details)
    assert html.count('<details class="tip">') == 3


def test_kata_index_lists_every_kata_in_order():
    index = GENERATED[pages.KATAS_INDEX]
    positions = [index.index(f"]({k.id}.md)") for k in KATAS]
    assert positions == sorted(positions)


# ----------------------------------------------------------------------------------------
# The review checklist
# ----------------------------------------------------------------------------------------


def test_checklist_page_lists_every_rule_with_links_to_its_chapter_and_kata():
    page = GENERATED[pages.CHECKLIST_PAGE]
    kata_ids = {k.id for k in KATAS}
    for rule in RULES:
        row = next(line for line in page.splitlines() if line.startswith(f"| [{rule.code}](#"))
        learn = row.rstrip(" |").split(" | ")[-1]
        chapters = re.findall(r"\(notebooks/([^)]+)\.ipynb\)", learn)
        katas = re.findall(r"\(katas/([^)]+)\.md\)", learn)
        assert chapters and katas, f"{rule.code}: no chapter or kata in {row!r}"
        assert all((REPO / "notebooks" / f"{c}.ipynb").is_file() for c in chapters)
        assert set(katas) <= kata_ids
        section = page.split(f"### {rule.code}\n", 1)[1].split("\n### ", 1)[0]
        learn_line = next(line for line in section.splitlines() if line.startswith("**Learn it**"))
        assert "(notebooks/" in learn_line and "(katas/" in learn_line
        assert rule.explanation in section


def test_checklist_page_is_the_rendered_checklist_plus_links():
    from durable_dojo._review.rules import render_checklist_markdown

    page = GENERATED[pages.CHECKLIST_PAGE]
    for line in render_checklist_markdown().splitlines():
        if not line.startswith("|"):
            assert line in page.splitlines()


def test_checklist_links_name_every_rule_and_only_real_chapters_and_katas():
    data = tomllib.loads((REPO / "site" / "checklist_links.toml").read_text())["rule"]
    assert set(data) == {r.code for r in RULES}
    kata_ids = {k.id for k in KATAS}
    for code, entry in data.items():
        assert set(entry) <= {"chapters", "katas"}, code
        assert entry["chapters"] and entry["katas"], f"{code}: needs a chapter and a kata"
        for stem in entry["chapters"]:
            assert (REPO / "notebooks" / f"{stem}.ipynb").is_file(), f"{code}: no chapter {stem}"
        for kata_id in entry["katas"]:
            assert kata_id in kata_ids, f"{code}: no kata {kata_id}"


def test_checklist_links_agree_with_the_kata_cross_check():
    """A kata whose learner file `dojo review` flags with a rule teaches that rule."""
    expectations = tomllib.loads((REPO / "tests" / "review_expectations.toml").read_text())["kata"]
    links = pages.checklist_links()
    for kata_id, expected in expectations.items():
        for code in expected.get("codes", []):
            assert kata_id in links[code]["katas"], f"{code} is what {kata_id} shows: list it under {code}"


# ----------------------------------------------------------------------------------------
# Landing page, nav, links
# ----------------------------------------------------------------------------------------


def test_landing_page_links_the_workbook_the_katas_and_the_api_reference():
    index = (REPO / "site" / "index.md").read_text()
    first = pages.notebook_paths()[0].name
    assert f"(notebooks/{first})" in index
    assert "(katas/index.md)" in index
    for api in ("api/durable_dojo.md", "api/testing.md", "api/workers.md"):
        assert f"({api})" in index
    assert "make lab" in index and ".venv/bin/dojo" in index


def _config() -> dict:
    return yaml.safe_load((REPO / "mkdocs.yml").read_text())


def test_every_notebook_and_every_kata_is_in_the_nav():
    nav = pages.nav_with_katas(_config()["nav"])
    listed = pages.nav_pages(nav)
    for path in pages.notebook_paths():
        assert pages.notebook_uri(path) in listed, f"{path.name} is not in mkdocs.yml's nav"
    kata_pages = [p for p in listed if p.startswith("katas/") and p != pages.KATAS_INDEX]
    assert kata_pages == [f"katas/{k.id}.md" for k in KATAS]
    assert len(listed) == len(set(listed))
    for page in listed:  # every nav entry is a source, a notebook or a generated page
        assert (REPO / "site" / page).is_file() or (REPO / page).is_file() or page in GENERATED, page


def test_the_api_reference_covers_the_three_packages():
    text = "".join((REPO / "site" / "api" / name).read_text() for name in ("workers.md", "durable_dojo.md", "testing.md"))
    for target in ("::: workers\n", "::: durable_dojo\n", "::: durable_dojo.testing\n"):
        assert target in text


def test_the_config_stays_offline_safe():
    config = _config()
    assert config["theme"]["font"] is False
    plugins = [p if isinstance(p, str) else next(iter(p)) for p in config["plugins"]]
    assert "privacy" not in plugins and "social" not in plugins
    mkdocstrings = next(p["mkdocstrings"] for p in config["plugins"] if isinstance(p, dict) and "mkdocstrings" in p)
    assert all("inventories" not in handler for handler in mkdocstrings["handlers"].values())
    jupyter = next(p["mkdocs-jupyter"] for p in config["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert jupyter["execute"] is False and jupyter["include_requirejs"] is True
    nbconvert = (REPO / "site" / "jupyter_config" / "jupyter_nbconvert_config.py").read_text()
    for name in ("embed-amd.js", "require.js"):
        assert (REPO / "site" / "assets" / "js" / name).stat().st_size > 10_000
        assert f"assets/js/{name}" in nbconvert


def test_every_link_in_a_notebook_reaches_a_page_of_the_site():
    for path in pages.notebook_paths():
        for text in pages.markdown_cells(path.stem):
            for href in re.findall(r"\]\(([^)\s]+)\)", text):
                if re.match(r"^(https?:|mailto:|#)", href):
                    continue
                target = pages.resolve_notebook_link(href, pages.notebook_uri(path))
                assert target is not None, f"{path.name}: link {href} reaches no page of the site"
                page = target.split("#")[0]
                assert page in GENERATED or (REPO / page).is_file(), f"{path.name}: {href} -> {page}"


# ----------------------------------------------------------------------------------------
# The link check over the built HTML
# ----------------------------------------------------------------------------------------


def _site(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_link_check_passes_a_sound_site(tmp_path):
    site = _site(tmp_path, {
        "index.html": '<a href="a/">a</a><a href="a/#s">s</a><a href="https://example.com/">out</a>'
                      '<script src="assets/x.js"></script><link rel="stylesheet" href="assets/x.css">'
                      "<script>var widgetRendererSrc = 'assets/x.js';</script>",
        "a/index.html": '<h2 id="s">S</h2><a href="../">home</a><a href="#s">here</a>',
        "assets/x.js": "", "assets/x.css": "body{background:url(../img.png)}",
    })
    problems, count, links = check_links.check(site)
    assert problems == [] and count == 2 and links == 8


def test_link_check_finds_broken_links_missing_anchors_and_remote_loads(tmp_path):
    site = _site(tmp_path, {
        "index.html": '<a href="missing/">x</a><a href="a/#nope">y</a>'
                      '<script src="https://unpkg.com/x.js"></script>'
                      '<link rel="stylesheet" href="//fonts.googleapis.com/css">'
                      '<style>@import url("https://fonts.googleapis.com/css2");</style>'
                      "<script>var widgetRendererSrc = 'https://unpkg.com/@jupyter-widgets/html-manager@*/dist/"
                      "embed-amd.js';</script>",
        "a/index.html": '<h2 id="s">S</h2>',
        "theme.css": "@font-face{src:url(https://fonts.gstatic.com/x.woff2)}",
    })
    problems, _, _ = check_links.check(site)
    text = "\n".join(problems)
    assert "missing/" in text and "no id 'nope'" in text
    assert "unpkg.com" in text and "//fonts.googleapis.com/css" in text and "css2" in text
    assert "fonts.gstatic.com" in text
    assert "html-manager" in text
    assert len(problems) == 7
