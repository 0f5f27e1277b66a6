"""The built site (site-build/) in Debian's Chromium, served on 127.0.0.1.

- every page loads with no failed request, no HTTP error, no console error, and no request
  to anything but the site itself (the site must work offline);
- the navigation and the search work;
- a notebook page shows its stored outputs and a widget rendered by the vendored renderer;
- a kata page keeps its hints and its solution folded, and opens a hint on a click.

Screenshots of the landing page and a notebook page go to .artifacts/site/ (ignored by git).
Run with `make site-test`; skipped without DOJO_BROWSER=1 (conftest.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[2] / "site-build"
WAIT_MS = 10_000  # as conftest.py: every wait is bounded
WIDTHS = {"wide": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}

# Elements wider than the screen: any visible element whose box reaches past the viewport's right
# edge (or starts left of 0) and is not inside a scroll container (overflow-x auto or scroll)
# that itself fits on the screen. An ancestor that clips (overflow hidden) does not count:
# clipped content is content the reader cannot see. Off-canvas parts of the theme (the
# drawer, the search overlay) are fixed, hidden or entirely off the screen and not counted.
# Also the page itself: the document must not scroll sideways.
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const items = [];
  // the first ancestor that does not let overflow show decides: a scroll box that fits on the
  // screen holds the element (fine); one that hides overflow cuts it (not fine)
  const contained = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.position === 'fixed' || style.opacity === '0' || style.visibility === 'hidden') return true;
    }
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX === 'visible') continue;
      if (style.overflowX === 'auto' || style.overflowX === 'scroll') {
        const b = a.getBoundingClientRect();
        return b.left >= -1 && b.right <= vw + 1;
      }
      return false;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right <= 0 || r.left >= vw) continue;          // off-canvas, not on the screen
    if (r.right <= vw + 1 && r.left >= -1) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.position === 'fixed') continue;
    if (contained(el)) continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    items.push(`${name} [${Math.round(r.left)}..${Math.round(r.right)}] "${(el.textContent || '').trim().slice(0, 40)}"`);
  }
  return {doc: document.documentElement.scrollWidth - vw, items: items};
}"""
NOTEBOOK = "notebooks/00-welcome/"  # its stored outputs include a WorldView widget
KATA = "katas/05-oversold-stock/"


def site_pages() -> list[str]:
    """Every page of the build, as a path under the site's root."""
    pages = []
    for file in sorted(SITE.rglob("index.html")):
        rel = file.relative_to(SITE).parent.as_posix()
        pages.append("" if rel == "." else rel + "/")
    if (SITE / "404.html").is_file():
        pages.append("404.html")  # what the server answers for a missing page
    return pages


def expect():
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT_MS)  # not Playwright's 5 s: CI machines are slower
    return playwright_expect


def test_the_build_has_every_kind_of_page():
    pages = site_pages()
    assert "" in pages and NOTEBOOK in pages and KATA in pages
    assert "review-checklist/" in pages and "api/durable_dojo/" in pages and "katas/" in pages
    assert len([p for p in pages if p.startswith("notebooks/")]) >= 8


def _shot_name(path: str, width: str) -> str:
    return (path.strip("/").replace("/", "_").replace(".html", "") or "home") + f"-{width}.png"


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("path", site_pages() or ["(site not built)"])
def test_every_page_loads_cleanly_and_fits_the_screen(watched_page_at, site_url, artifacts, path, width):
    """At 1366x900 and at 390x844: no failed request, no console error, nothing requested from
    another host, and nothing wider than the screen outside a scroll box. A screenshot of each
    page at each width goes to .artifacts/site/."""
    page = watched_page_at(WIDTHS[width], **({"is_mobile": True, "has_touch": True} if width == "phone" else {}))
    response = page.goto(site_url + path, wait_until="load")
    assert response is not None and response.status == 200, path
    page.wait_for_load_state("networkidle", timeout=WAIT_MS)
    expect()(page.locator("article h1").first).to_be_visible()
    if path.startswith("notebooks/") and page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count():
        # the widget renderer runs after load: wait for it, so that its errors and its width count too
        expect()(page.locator(".jupyter-widgets .widget-html-content, .jupyter-widgets .widget-box").first).to_be_visible()
    page.wait_for_timeout(200)  # the theme's scripts wrap tables after load
    found = page.evaluate(OVERFLOW_JS)
    # text outputs keep their lines: they scroll in their box, never wrap mid-word
    wrapped = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-OutputArea-output pre'))
        .filter(pre => getComputedStyle(pre).whiteSpace !== 'pre').length""")
    assert wrapped == 0, f"{path} at {width}: {wrapped} text outputs wrap their lines"
    if width == "phone":  # the In [n]: / Out[n]: prompts give their width to the code
        prompts = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-InputPrompt, .jp-OutputPrompt'))
            .filter(p => p.offsetWidth > 0).length""")
        assert prompts == 0, f"{path} on a phone: {prompts} cell prompts shown"
    page.screenshot(path=str(artifacts / _shot_name(path, width)))
    assert found["doc"] <= 1, f"{path} at {width}: the page scrolls sideways by {found['doc']} px"
    assert not found["items"], f"{path} at {width}: wider than the screen: " + "; ".join(found["items"][:10])
    assert not page.watch.problems(), f"{path}: " + "; ".join(page.watch.problems())


def test_the_404_page_keeps_its_styles_below_the_root(watched_page, site_url):
    page = watched_page
    response = page.goto(site_url + "notebooks/no-such-chapter/deeper/")
    assert response is not None and response.status == 404
    page.wait_for_load_state("networkidle", timeout=WAIT_MS)
    expect()(page.locator("article h1").first).to_contain_text("404")
    # the theme's stylesheet applied: the header is the coloured bar, not an unstyled list
    assert page.locator("header.md-header").evaluate("el => getComputedStyle(el).position") in ("sticky", "fixed")
    assert page.locator("link[rel=stylesheet]").count() >= 1
    problems = [p for p in page.watch.problems() if "no-such-chapter" not in p]
    assert not problems, problems


def test_navigation_reaches_the_chapters_and_the_katas(watched_page, site_url):
    page = watched_page
    page.goto(site_url)
    # the landing page's cards lead to the workbook and the katas
    page.get_by_role("link", name="The workbook").click()
    page.wait_for_url(re.compile(r"/notebooks/00-welcome/$"))
    expect()(page.locator("article h1").first).to_contain_text("Welcome to Durable Dojo")

    # the sidebar nav: another chapter
    page.locator("nav.md-nav--primary a.md-nav__link", has_text="Concurrency").first.click()
    page.wait_for_url(re.compile(r"/notebooks/03-concurrency/$"))
    expect()(page.locator("article h1").first).to_contain_text("Concurrency")

    # the footer's "next" link
    page.locator("a.md-footer__link--next").click()
    page.wait_for_url(re.compile(r"/notebooks/04-ids-and-topology/$"))

    # a link inside a rendered notebook goes to the kata's page, not to a README.md
    page.locator(".jupyter-wrapper a", has_text="02-cart-never-found").first.click()
    page.wait_for_url(re.compile(r"/katas/02-cart-never-found/$"))
    expect()(page.locator("article h1").first).to_contain_text("02")

    # the kata index lists every kata
    page.locator("nav.md-nav--primary a.md-nav__link", has_text=re.compile(r"^\s*Katas\s*$")).first.click()
    page.wait_for_url(re.compile(r"/katas/$"))
    assert page.locator("article table a[href$='/']").count() >= 17
    assert not page.watch.problems(), page.watch.problems()


def test_search_finds_a_notebook_section_and_goes_there(watched_page, site_url):
    page = watched_page
    page.goto(site_url)
    search = page.locator("input.md-search__input")
    expect()(search).to_be_visible()
    search.click()
    # Material reads the query on keyup (or when its index becomes ready), never on `input`:
    # wait until the index is loaded, then type key by key as a reader does. A bare `fill`
    # passes only when the index happens to finish loading after it (a race seen on CI).
    meta = page.locator(".md-search-result__meta")
    expect()(meta).to_have_text("Type to start searching", timeout=30_000)
    search.press_sequentially("blockConcurrencyWhile")
    results = page.locator(".md-search-result__item")
    expect()(results.first).to_be_visible()
    assert results.count() >= 3
    expect()(meta).to_contain_text(re.compile(r"\d+ matching"))
    target = page.locator(".md-search-result__link", has_text="Lifecycle").first
    expect()(target).to_be_visible()
    target.click()
    page.wait_for_url(re.compile(r"/notebooks/01-lifecycle/"))
    expect()(page.locator("article")).to_contain_text("blockConcurrencyWhile")
    assert not page.watch.problems(), page.watch.problems()


def test_a_notebook_page_shows_its_outputs_and_a_rendered_widget(watched_page, site_url, artifacts):
    page = watched_page
    page.goto(site_url + NOTEBOOK)
    # stored outputs, as committed: the constructor's print and the counts
    outputs = page.locator(".jp-OutputArea-output")
    expect()(outputs.first).to_be_visible()
    expect()(page.locator(".jupyter-wrapper")).to_contain_text("after eviction: 6")
    expect()(page.locator(".jupyter-wrapper")).to_contain_text("alice over HTTP: 200 count is 5")
    # the WorldView widget, drawn by the vendored embed-amd.js from the stored widget state
    widget = page.locator(".jupyter-widgets.widget-container, .jupyter-widgets .widget-box").first
    expect()(widget).to_be_visible()
    expect()(page.locator(".jupyter-widgets").first).to_contain_text("COUNTER")
    buttons = page.locator(".jupyter-widgets button")
    assert buttons.count() >= 1, "the widget's buttons were not drawn"
    # the table of contents follows the headings as written (code in a title included)
    page.goto(site_url + "notebooks/01-lifecycle/")
    toc_link = page.locator(".md-nav--secondary a[href='#loading-state-blockconcurrencywhile-in-the-constructor']")
    expect()(toc_link.first).to_be_attached()

    page.goto(site_url + NOTEBOOK)
    widget = page.locator(".jupyter-widgets.widget-container, .jupyter-widgets .widget-box").first
    expect()(widget).to_be_visible()
    # scroll down (not up: material shows "back to top" then) to just above the widget's cell
    page.evaluate("(y) => window.scrollTo(0, y)", widget.evaluate(
        "el => el.closest('.jp-Cell').getBoundingClientRect().top + window.scrollY - 90"))
    page.wait_for_timeout(600)  # let the header's title transition finish before the picture
    page.screenshot(path=str(artifacts / "notebook-00-welcome-widget.png"))
    page.screenshot(path=str(artifacts / "notebook-00-welcome.png"), full_page=True)
    assert not page.watch.problems(), page.watch.problems()


def test_a_kata_page_keeps_hints_and_solution_folded_until_clicked(watched_page, site_url):
    page = watched_page
    page.goto(site_url + KATA)
    hints = page.locator("article details.tip")
    assert hints.count() == 3
    for index in range(3):
        assert hints.nth(index).get_attribute("open") is None, f"hint {index + 1} is open"
    solution = page.locator("article details.success")
    explanation = page.locator("article details.note")
    assert solution.count() == 1 and explanation.count() == 1
    assert solution.get_attribute("open") is None and explanation.get_attribute("open") is None
    first_hint_text = hints.nth(0).locator("p").first
    expect()(first_hint_text).to_be_hidden()

    hints.nth(0).locator("summary").click()
    expect()(hints.nth(0)).to_have_attribute("open", "")
    expect()(first_hint_text).to_be_visible()
    expect()(hints.nth(1).locator("p").first).to_be_hidden()  # one hint at a time

    solution.locator("summary").click()
    expect()(solution.locator("code").first).to_be_visible()
    expect()(solution).to_contain_text("class ")
    assert not page.watch.problems(), page.watch.problems()


def test_the_checklist_links_each_rule_to_its_chapter_and_kata(watched_page, site_url):
    page = watched_page
    page.goto(site_url + "review-checklist/")
    rows = page.locator("article table tbody tr")
    assert rows.count() >= 20
    for index in range(rows.count()):
        learn = rows.nth(index).locator("td").last
        assert learn.locator("a[href*='notebooks/']").count() >= 1
        assert learn.locator("a[href*='katas/']").count() >= 1
    page.locator("article table a", has_text="kata 05").first.click()
    page.wait_for_url(re.compile(r"/katas/05-oversold-stock/$"))
    assert not page.watch.problems(), page.watch.problems()


def test_landing_page_screenshot(watched_page, site_url, artifacts):
    page = watched_page
    page.goto(site_url)
    expect()(page.locator("article h1")).to_have_text(re.compile("Durable Dojo"))
    for name in ("The workbook", "The katas", "The review checklist", "The API reference"):
        expect()(page.get_by_role("link", name=name).first).to_be_visible()
    # one screen: what it is and how to start, above the fold
    start = page.locator("article pre").first
    box = start.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900, "the start commands are below the first screen"
    page.screenshot(path=str(artifacts / "landing.png"), full_page=True)
    assert Path(artifacts / "landing.png").stat().st_size > 10_000
    assert not page.watch.problems(), page.watch.problems()


def test_each_diagram_is_shown_on_the_chapter_that_teaches_it(watched_page, site_url):
    import importlib.util

    spec = importlib.util.spec_from_file_location("dojo_site_diagrams", SITE.parent / "site" / "diagrams.py")
    diagrams = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = diagrams  # its dataclasses look their module up
    spec.loader.exec_module(diagrams)
    page = watched_page
    for diagram in diagrams.DIAGRAMS:
        page.goto(site_url + f"notebooks/{diagram.chapter}/")
        image = page.locator(f"#diagram-{diagram.name} img")
        expect()(image).to_have_count(1)
        image.scroll_into_view_if_needed()
        expect()(image).to_be_visible()
        # drawn: the SVG loaded (it loads lazily, once scrolled to) and has its size
        page.wait_for_function("sel => { const img = document.querySelector(sel); "
                               "return img && img.complete && img.naturalWidth > 300; }",
                               arg=f"#diagram-{diagram.name} img", timeout=WAIT_MS)
    assert not page.watch.problems(), page.watch.problems()


def test_search_finds_the_storage_api_in_the_reference(watched_page, site_url):
    page = watched_page
    page.goto(site_url)
    search = page.locator("input.md-search__input")
    search.click()
    expect()(page.locator(".md-search-result__meta")).to_have_text("Type to start searching", timeout=30_000)
    search.press_sequentially("deleteAll")
    target = page.locator(".md-search-result__link[href*='api/platform/']").first
    expect()(target).to_be_visible()
    # the reference shows no private helper names
    page.goto(site_url + "api/platform/")
    body = page.locator("article").inner_text()
    assert "deleteAll" in body and "_StorageOperations" not in body and "WorldCall" not in body
    page.goto(site_url + "api/testing/")
    assert "WorldCall" not in page.locator("article").inner_text()
    assert not page.watch.problems(), page.watch.problems()


def test_a_long_inspector_list_is_capped_with_show_all_and_controls_carry_a_note(watched_page, site_url):
    page = watched_page
    page.goto(site_url + "notebooks/07-patterns-and-review/")
    button = page.locator("button.dojo-show-all").first
    expect()(button).to_be_visible()
    table = page.locator("table.dojo-capped").first.element_handle()  # it loses the class when opened
    total = table.evaluate("t => t.rows.length")
    visible = table.evaluate("t => Array.from(t.rows).filter(r => r.offsetHeight > 0).length")
    assert total > 20 and visible <= 13, (total, visible)  # the header and the first 12
    button.click()
    assert table.evaluate("t => Array.from(t.rows).filter(r => r.offsetHeight > 0).length") == total
    # a view with buttons says they need a running notebook; a plain timeline does not
    for output in page.locator(".jupyter-widgets.jp-OutputArea-output").all():
        has_controls = output.locator("button.widget-button, select, input").count() > 0
        assert (output.locator(".dojo-kernel-note").count() == 1) == has_controls
    assert not page.watch.problems(), page.watch.problems()


def test_the_build_is_light_clean_and_complete():
    """What the files of the build promise, read without a browser: each page's HTML within the
    budget and the shared notebook CSS linked, not inlined; the widget scripts only where there are
    widgets; search titles without "¶"; no test markers in the code a reader copies; a sitemap of
    every page; the download; compressed copies."""
    import json

    for file in SITE.rglob("*.html"):
        text = file.read_text(encoding="utf-8")
        where = file.relative_to(SITE).as_posix()
        assert len(text.encode()) < 400 * 1024, where
        assert "# NBVAL_CHECK_OUTPUT" not in re.sub(r"<code>[^<]*</code>", "", text), where  # prose may name it
        widgets = 'type="application/vnd.jupyter.widget-state+json"' in text
        assert ("widgets.js" in text) == widgets and ("embed-amd.js" in text) == widgets, where
        if where.startswith("notebooks/"):
            assert re.search(r'<link rel="stylesheet" href="[./]*assets/notebook/notebook\.[0-9a-f]+\.css">', text), where
            assert len(re.findall(r"<style[^>]*>", text)) <= 1, where  # no inlined notebook CSS
    index = json.loads((SITE / "search" / "search_index.json").read_text())
    assert not [d["title"] for d in index["docs"] if d["title"].endswith("¶")]
    sitemap = (SITE / "sitemap.xml").read_text()
    for path in site_pages():
        if path != "404.html":
            assert f"/{path}</loc>" in sitemap or (path == "" and "/</loc>" in sitemap), path
    assert (SITE / "download" / "durable-dojo.tar.gz").stat().st_size > 100_000
    assert (SITE / "assets" / "js" / "embed-amd.js.gz").is_file() and (SITE / "index.html.gz").is_file()
