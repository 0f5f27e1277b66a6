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
    readme = (pages.katas_dir() / kata.id / "README.md").read_text()
    assert page.startswith(f"# {readme.splitlines()[0][2:]}\n")
    task = pages.task_text(readme.split("\n", 1)[1])
    assert task.split("\n\n")[-1] in visible and "dojo check" not in task

    # the hints: one closed block each, in order, and no hint text outside them
    hints = [b for b in found if b[1] == "tip"]
    assert [b[0] for b in hints] == ["???"] * len(kata.hints) and len(kata.hints) == 3
    for number, (hint, block) in enumerate(zip(kata.hints, hints), 1):
        assert block[2].startswith(f"Hint {number} of 3")
        assert block[3] == pages.plain(hint)
        assert pages.plain(hint) not in visible

    # the file as it ships, and the tests it fails with what each checks
    learner = (pages.katas_dir().parent / kata.learner).read_text()
    assert learner.strip().splitlines()[-1] in visible
    failing = pages.failing_tests(kata)
    assert [name for _, name, _ in failing] == [t.split("::")[-1] for t in kata.failing_tests]
    for _, name, check in failing:
        assert f"| `{name}` | {pages.plain(check)} |" in visible

    # how to run it, once: the README's own run paragraph is not repeated
    assert "## Run it" in visible
    assert visible.count(f".venv/bin/dojo check {kata.id}") == 1 and visible.count("dojo check") == 1
    assert kata.learner in visible

    # the docs as proper links, never a bare URL
    rule = next(b for b in found if b[1] == "abstract")
    for url in kata.docs:
        assert f"]({url})" in rule[3] and f"<{url}>" not in page

    # the solution and its explanation: closed blocks, with the code and the text
    solution = [b for b in found if b[1] == "success"]
    explanation = [b for b in found if b[1] == "note"]
    assert len(solution) == 1 and len(explanation) == 1
    assert solution[0][0] == "???" and explanation[0][0] == "???"
    code = (REPO / kata.solution).read_text()
    assert kata.solution in solution[0][2]
    assert code.strip().splitlines()[-1] in solution[0][3]
    assert code.strip() not in visible
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


def test_landing_page_passes_the_ten_second_test():
    """What a Durable Object is, who it is for, what you need and how long it takes, before the
    first section; then the in-browser path first (a kata and a chapter, nothing to install), then
    a numbered path on your own machine whose steps are the download and the two commands."""
    index = (REPO / "site" / "index.md").read_text()
    top, _, rest = index.partition("\n## ")
    assert re.search(r"A \*\*Durable Object\*\* is [^\n]+", top), "no one-line definition before the first section"
    tagline = re.search(r"^\*\*(Learn [^\n]+)\*\*$", top, re.M).group(1)
    assert "in this page" in tagline and tagline.find("in this page") < tagline.find("own machine"), (
        "the tagline offers the in-browser path first"
    )
    for fact in ("**Who it is for**", "**What you need**", "**How long it takes**"):
        assert fact in top, fact
    sections = rest.split("\n## ")
    assert sections[0].startswith("Try it now, in your browser\n")
    assert "(katas/01-counter-forgets.md)" in sections[0] and "**Run tests**" in sections[0]
    assert "(notebooks/00-welcome.ipynb)" in sections[0] and "**Run the chapter**" in sections[0]
    assert sections[1].startswith("Or work on your own machine\n")
    start = sections[1]
    steps = re.findall(r"^(\d)\. (.+)$", start, re.M)
    assert [n for n, _ in steps] == ["1", "2", "3", "4"]
    assert "(get-started.md)" in steps[0][1]
    assert "tar xzf durable-dojo.tar.gz" in start and "make lab" in start and ".venv/bin/dojo" in start
    first = pages.notebook_paths()[0].name
    assert f"(notebooks/{first})" in index and "(katas/index.md)" in index and "(api/durable_dojo.md)" in index


def test_get_started_page_offers_the_download_and_the_clone_command_only_with_a_repository():
    page = pages.get_started_page()
    assert f'href="../{pages.ARCHIVE_URL}"' in page and "make lab" in page
    assert "git clone" not in page
    with_repo = pages.get_started_page("https://github.com/example/durable-dojo")
    assert "git clone https://github.com/example/durable-dojo durable-dojo" in with_repo
    assert "[the repository](https://github.com/example/durable-dojo)" in with_repo
    assert pages.GET_STARTED_PAGE in pages.nav_pages(_config()["nav"])  # one click from every page


class _ConfigLoader(yaml.SafeLoader):
    """mkdocs.yml with its `!ENV [NAME, default]` values read as the default."""


_ConfigLoader.add_constructor("!ENV", lambda loader, node: loader.construct_sequence(node)[-1]
                              if isinstance(node, yaml.SequenceNode) else None)


def _config() -> dict:
    return yaml.load((REPO / "mkdocs.yml").read_text(), Loader=_ConfigLoader)


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
    for target in ("::: workers\n", "::: durable_dojo.Runtime\n", "::: durable_dojo.testing\n"):
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


# ----------------------------------------------------------------------------------------
# A chapter's HTML (site/notebook_html.py) and the build's extras (site/publish.py)
# ----------------------------------------------------------------------------------------

notebook_html = _load("dojo_site_notebook_html", REPO / "site" / "notebook_html.py")
publish = _load("dojo_site_publish", REPO / "site" / "publish.py")

_CELL = ('<h2 id="x">X<a class="anchor-link" href="#x">¶</a></h2>'
         '<div class="highlight-ipynb hl-python"><pre><span></span><span class="c1"># NBVAL_CHECK_OUTPUT</span>\n'
         '<span class="n">rt</span></pre></div>'
         '<div class="clipboard-copy-txt" id="cell-1"># NBVAL_CHECK_OUTPUT\nrt</div>')


def _widget_output(model_id: str) -> str:
    return ('<div class="jupyter-widgets jp-OutputArea-output jp-OutputArea-executeResult" id="o" tabindex="0">\n'
            '<script type="text/javascript">var element = 1;</script>\n'
            '<script type="application/vnd.jupyter.widget-view+json">\n'
            f'{{"model_id": "{model_id}", "version_major": 2, "version_minor": 0}}\n</script>\n</div>')


_STATE = ('<script type="application/vnd.jupyter.widget-state+json">\n'
          '{"state": {"aa": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_bb"]}},'
          ' "bb": {"model_name": "ButtonModel", "state": {}},'
          ' "cc": {"model_name": "HTMLModel", "state": {}}}, "version_major": 2, "version_minor": 0}\n</script>')


def test_a_chapter_loses_its_test_markers_and_pilcrows_and_takes_the_site_code_colours():
    html = notebook_html.clean_content(_CELL)
    assert "NBVAL_CHECK_OUTPUT" not in html
    assert '<span class="n">rt</span>' in html and ">rt</div>" in html  # the code itself stays
    assert 'class="headerlink" href="#x"' in html and "anchor-link" not in html
    assert 'class="highlight highlight-ipynb hl-python"' in html


def test_only_a_widget_with_controls_gets_the_running_notebook_note():
    html = notebook_html.clean_content(_widget_output("aa") + _widget_output("cc") + _STATE)
    assert html.count("dojo-kernel-note") == 1
    assert html.index("dojo-kernel-note") < html.index('"model_id": "aa"')  # the inspector's, not the timeline's


def _chapter(widgets: bool) -> str:
    loader = ("<script src=\"../../assets/js/require.js\"></script><script>\nvar widgetRendererSrc = "
              "'../../assets/js/embed-amd.js';\n</script>\n")
    return ('<html><head></head><body><article class="md-content__inner md-typeset">\n'
            "<script>clipboard()</script>\n" + loader
            + '<style type="text/css">.highlight-ipynb .hll { color: red }</style>\n'
            '<style type="text/css">.jupyter-wrapper{--a: 1}</style>\n'
            "<!-- Load mathjax -->\n<script src=\"\"> </script>\n<!-- End of mermaid configuration -->"
            '<div class="jupyter-wrapper">' + (_widget_output("cc") if widgets else "") + "</div></article></body></html>")


def test_a_chapter_links_its_css_and_scripts_as_shared_files_instead_of_inlining_them(tmp_path):
    assets = notebook_html.SharedAssets(dark_css="[dark]")
    page = notebook_html.externalise(_chapter(True), "notebooks/03-x/", assets, "assets/dojo/widgets.js")
    other = notebook_html.externalise(_chapter(True), "notebooks/04-y/", assets, "assets/dojo/widgets.js")
    assert "<style" not in page and "clipboard()" not in page and "mathjax" not in page.lower()
    assert len(assets.files) == 2  # one CSS and one script, shared by both chapters
    css = next(path for path in assets.files if path.endswith(".css"))
    assert f'href="../../{css}"' in page and f'href="../../{css}"' in other
    assert "--a: 1" in assets.files[css] and "[dark]" in assets.files[css]
    assert ".highlight-ipynb .hll" not in assets.files[css]  # one code colour scheme: the theme's
    assert "widgetRendererSrc" in page and "require.js" in page
    assert 'src="../../assets/dojo/widgets.js"' in page
    assets.write(tmp_path)
    assert (tmp_path / css).read_text() == assets.files[css]


def test_a_chapter_without_widgets_loads_no_widget_script():
    page = notebook_html.externalise(_chapter(False), "notebooks/03-x/", notebook_html.SharedAssets(), "assets/dojo/widgets.js")
    assert "widgetRendererSrc" not in page and "require.js" not in page and "widgets.js" not in page


def test_the_weight_report_flags_a_page_over_the_budget(tmp_path):
    (tmp_path / "big").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "a.css").write_text("x" * 5000)
    (tmp_path / "index.html").write_text('<link rel="stylesheet" href="assets/a.css">small')
    (tmp_path / "big" / "index.html").write_text("x" * (publish.PAGE_BUDGET + 1))
    found = {w.page: w for w in publish.weights(tmp_path)}
    assert found["index.html"].assets == 5000 and not found["index.html"].over
    assert found["big/index.html"].over
    report = publish.weight_report(list(found.values()))
    assert "OVER BUDGET" in report and "big/index.html" in report


def test_compressed_copies_hold_the_same_bytes(tmp_path):
    import gzip

    (tmp_path / "page.html").write_text("<p>hello</p>" * 200)
    (tmp_path / "tiny.css").write_text("a{}")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG" * 1000)
    assert publish.compress(tmp_path) == 1
    assert gzip.decompress((tmp_path / "page.html.gz").read_bytes()) == (tmp_path / "page.html").read_bytes()


def test_the_download_is_the_project_in_one_folder(tmp_path):
    import tarfile

    archive = publish.write_archive(tmp_path)
    assert archive == tmp_path / publish.ARCHIVE
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    for needed in ("Makefile", "pyproject.toml", "uv.lock", "katas/katas.toml", "notebooks/00-welcome.ipynb"):
        assert f"durable-dojo/{needed}" in names, needed
    assert not any(part in name.split("/") for name in names for part in (".venv", "site-build", ".git"))


# ----------------------------------------------------------------------------------------
# The API reference
# ----------------------------------------------------------------------------------------


def test_every_runtime_parameter_is_described_in_the_table():
    words = tomllib.loads((REPO / "site" / "api" / "runtime_parameters.toml").read_text())
    rows = pages.runtime_parameters()
    names = [name for name, _, _ in rows]
    assert names[0] == "durable_objects" and len(names) >= 19
    assert set(words) == set(names), ("Runtime(...)'s parameters changed: describe each one in one line of "
                                      "site/api/runtime_parameters.toml (the API page's table)")
    assert all(text for _, _, text in rows)
    table = pages.runtime_parameters_table()
    assert table.count("\n| `") == len(names)
    api = (REPO / "site" / "api" / "durable_dojo.md").read_text()
    assert api.index(pages.RUNTIME_PARAMETERS) < api.index("::: durable_dojo.Runtime") < api.index("## Errors")


def test_the_api_reference_shows_only_public_names_and_the_platform_apis():
    options = next(p["mkdocstrings"] for p in _config()["plugins"] if isinstance(p, dict) and "mkdocstrings" in p)
    python = options["handlers"]["python"]["options"]
    assert python["filters"] == ["!^_"] and python["show_bases"] is False
    assert python["show_signature_annotations"] is False  # a private return type never shows
    platform = (REPO / "site" / "api" / "platform.md").read_text()
    for api in ("DurableObjectState", "DurableObjectStorage", "SqlStorage", "SqlStorageCursor", "WebSocket"):
        assert f".{api}\n" in platform, api
    for method in ("deleteAll", "transaction", "setAlarm", "toArray", "serializeAttachment"):
        assert method in platform
    listed = pages.nav_pages(_config()["nav"])
    for page in ("api/durable_dojo.md", "api/platform.md", "api/testing.md", "api/widgets.md", "api/workers.md"):
        assert page in listed


# ----------------------------------------------------------------------------------------
# Diagrams (site/diagrams.py)
# ----------------------------------------------------------------------------------------

diagrams = _load("dojo_site_diagrams", REPO / "site" / "diagrams.py")


@pytest.mark.parametrize("diagram", diagrams.DIAGRAMS, ids=lambda d: d.name)
def test_each_diagram_is_a_drawing_for_a_real_chapter(diagram):
    import xml.etree.ElementTree as ET

    svg = ET.fromstring(diagram.draw())
    assert svg.tag.endswith("svg") and len(svg.findall(".//{http://www.w3.org/2000/svg}text")) >= 3
    assert any(path.stem == diagram.chapter for path in pages.notebook_paths())


def test_the_diagrams_say_what_the_platform_does():
    text = {d.name: d.draw() for d in diagrams.DIAGRAMS}
    assert "10 s" in text["lifecycle"] and "70-140 s" in text["lifecycle"] and "with\nor without" not in text["lifecycle"]
    assert "without WebSockets" in text["lifecycle"]
    # the attempts sit where they happen: 0 s, then waits of 2, 4, 8, 16, 32 and 64 s
    retries = text["alarm-retries"]
    assert "7 attempts" in retries
    xs = [float(x) for x in re.findall(r'<circle cx="([0-9.]+)"', retries)]
    assert len(xs) == 7
    gaps = [round((b - a) / (xs[1] - xs[0]) * 2) for a, b in zip(xs, xs[1:])]
    assert gaps == [2, 4, 8, 16, 32, 64]


def test_kata_pages_show_the_katas_as_shipped_not_the_learners_work():
    """A learner who solved katas still gets the broken files on the site (and a green make test)."""
    import subprocess

    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the site reads the working copy")
    assert pages.katas_dir() != REPO / "katas"
    for kata in MANIFEST.katas:
        shipped = subprocess.run(["git", "show", f"HEAD:{kata.learner}"], cwd=REPO, capture_output=True,
                                 text=True, check=True).stdout
        assert (pages.katas_dir().parent / kata.learner).read_text() == shipped
