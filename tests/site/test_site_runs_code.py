"""The site runs the katas and the chapters in the reader's browser, offline (site-build/ in
Debian's Chromium, served on 127.0.0.1, with every other host unreachable).

- each kata fails as it ships and passes with its solution (window.dojo.runKata);
- a kata done through the page: the editor, Run tests, the verdict, the solution opened after a
  pass, the work kept in the browser, Reset;
- every chapter runs without an error (window.dojo.runChapter), its outputs replacing the stored ones;
- an Inspector's buttons act on the chapter's live world;
- learner code that never returns is stopped with dojo check's words, and the page runs again;
- Python loads only on the first Run;
- the in-browser path stays within its size budget (site/runnable.py).

Python loads once per page (tens of seconds on a busy machine): the katas share one page. No
test asserts a time (bench/browser_start.py measures them).
Run with `make site-test`; skipped without DOJO_BROWSER=1 (tests/conftest.py).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site-build"
sys.path.insert(0, str(ROOT / "site"))
sys.path.insert(0, str(ROOT / "tests"))
import runnable  # noqa: E402  (site/runnable.py: the budget and the data the pages fetch)
from learner_edits import (  # noqa: E402  (tests/learner_edits.py, shared with test_browser_runner.py)
    CATCH_THE_INTERRUPT_ONCE, CATCH_THE_INTERRUPT_ONCE_BEFORE, LOOP_FOREVER, with_increment_body,
)

RUN_MS = 240_000  # the longest a run may take here (a cold start on a loaded machine included)
KATAS = json.loads((SITE / "assets/dojo/katas.json").read_text()) if (SITE / "assets/dojo/katas.json").is_file() else {}
CHAPTERS = sorted(p.stem for p in (SITE / "assets/dojo/chapters").glob("*.json")) if KATAS else []
# A second line of defence under the route that aborts other hosts: no name but 127.0.0.1
# resolves, for the page and for its Web Worker alike.
ONLY_LOCAL = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"

pytestmark = pytest.mark.skipif(not KATAS, reason="the site was built without the in-browser runner")


def expect():
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=RUN_MS)
    return playwright_expect


@pytest.fixture(scope="module")
def offline_browser(playwright, chromium_launch):
    options = dict(chromium_launch, args=[*chromium_launch["args"], ONLY_LOCAL])
    browser = playwright.chromium.launch(**options)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def open_page(offline_browser, site_url):
    """open_page(path) -> a page of the site in a fresh context (empty storage and caches),
    whose requests to any other host are aborted and recorded in page.elsewhere."""
    yield from _page_opener(offline_browser, site_url)


def _page_opener(offline_browser, site_url):
    from urllib.parse import urlsplit

    contexts = []
    origin = urlsplit(site_url).netloc

    def open_(path):
        context = offline_browser.new_context(viewport={"width": 1366, "height": 900})
        context.set_default_timeout(RUN_MS)
        contexts.append(context)
        elsewhere, errors, requests = [], [], []

        def route(route):
            url = route.request.url
            if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == origin:
                route.continue_()
            else:
                elsewhere.append(url)
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("request", lambda request: requests.append(request.url))
        page.elsewhere, page.errors, page.requests = elsewhere, errors, requests
        page.goto(site_url + path)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def kata_page(open_page):
    """One kata page, Python loaded, shared by the kata tests."""
    page = open_page("katas/01-counter-forgets/")
    page.evaluate("() => dojo.ready()")
    return page


def shipped(kata_id: str) -> str:
    """The learner file as the site ships it (the kata page's editor starts with it)."""
    html = (SITE / "katas" / kata_id / "index.html").read_text(encoding="utf-8")
    data = re.search(r'<script type="application/json" class="dojo-kata-data">(.*?)</script>', html, re.S)
    return json.loads(data.group(1))["source"]


def solution(kata_id: str) -> str:
    learner = KATAS[kata_id]["learner"]  # katas/<id>/<file>
    return (ROOT / "solutions" / kata_id / Path(learner).name).read_text(encoding="utf-8")


def run_kata(page, kata_id: str, source: str) -> dict:
    return page.evaluate("([id, source]) => dojo.runKata(id, source)", [kata_id, source])


@pytest.mark.parametrize("kata_id", sorted(KATAS))
def test_each_kata_fails_as_shipped_and_passes_with_its_solution(kata_page, kata_id):
    as_shipped = run_kata(kata_page, kata_id, shipped(kata_id))
    failing = {name.split("::")[-1].split("[")[0] for name in KATAS[kata_id]["tests"]}
    assert as_shipped["failed"], as_shipped["output"]
    assert {name.split("[")[0] for name in as_shipped["failed"]} == failing, as_shipped["output"]
    assert as_shipped["output"].startswith(f"✗ {kata_id}"), as_shipped["output"]

    solved = run_kata(kata_page, kata_id, solution(kata_id))
    assert solved["failed"] == [] and len(solved["passed"]) >= len(failing), solved["output"]
    assert solved["output"].startswith(f"✓ {kata_id}") and "tests pass" in solved["output"], solved["output"]
    assert not kata_page.elsewhere and not kata_page.errors, (kata_page.elsewhere, kata_page.errors)


def editor_text(page) -> str:
    return page.evaluate("() => document.querySelector('.dojo-kata-app').dojoEditor.get()")


def type_into_editor(page, text: str) -> None:
    page.locator(".dojo-editor .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)


def test_a_kata_done_in_the_page_editor_run_solution_progress_reset(open_page):
    kata_id = "05-oversold-stock"
    page = open_page(f"katas/{kata_id}/")
    editor = page.locator(".dojo-editor .cm-editor")
    expect()(editor).to_be_visible()
    assert editor_text(page) == shipped(kata_id)
    assert page.locator(".dojo-shipped").is_hidden()  # the static copy gives way to the editor
    # Python is not loaded with the page: only the first Run loads it
    page.wait_for_load_state("networkidle")
    assert not [u for u in page.requests if "/assets/pyodide/" in u or "runner-worker.js" in u]

    verdict = page.locator(".dojo-verdict")
    page.get_by_role("button", name="Run tests").click()
    expect()(verdict).to_contain_text(f"✗ {kata_id}")
    for name in KATAS[kata_id]["tests"]:
        expect()(verdict).to_contain_text(name.split("[")[0])
    expect()(verdict).to_contain_text("Rule: " + KATAS[kata_id]["rule"][:40])
    assert [u for u in page.requests if "/assets/pyodide/" in u], "the Run did not load Python"
    expect()(page.get_by_role("button", name=re.compile(r"Stuck\? Open hint 1 of 3"))).to_be_visible()
    assert page.locator("article details.success").get_attribute("open") is None

    type_into_editor(page, solution(kata_id))
    page.get_by_role("button", name="Run tests").click()
    expect()(verdict).to_contain_text(f"✓ {kata_id}")
    expect()(verdict).to_contain_text("tests pass")
    expect()(page.locator("article details.success")).to_have_attribute("open", "")  # the solution, opened
    expect()(page.locator(".dojo-badge")).to_contain_text("passed")

    page.reload()  # the work and the pass are kept in this browser
    expect()(page.locator(".dojo-editor .cm-editor")).to_be_visible()
    assert editor_text(page) == solution(kata_id)
    expect()(page.locator(".dojo-badge")).to_contain_text("passed")
    index = page.url.rsplit(f"{kata_id}/", 1)[0]  # the kata index marks it as passed in this browser
    page.goto(index)
    expect()(page.locator(f"article table a[href*='{kata_id}'] .dojo-badge")).to_have_text("✓")
    assert page.locator("article table .dojo-badge").count() == 1
    page.go_back()
    expect()(page.locator(".dojo-editor .cm-editor")).to_be_visible()
    page.get_by_role("button", name="Reset").click()  # as dojo reset: the file as shipped, the pass forgotten
    assert editor_text(page) == shipped(kata_id)
    expect()(page.locator(".dojo-badge")).to_have_text("")
    page.reload()
    expect()(page.locator(".dojo-editor .cm-editor")).to_be_visible()
    assert editor_text(page) == shipped(kata_id)
    expect()(page.locator(".dojo-badge")).to_have_text("")
    assert not page.elsewhere and not page.errors, (page.elsewhere, page.errors)


HANGING = "    async def increment(self):\n        while True:\n            pass\n"


def test_code_that_never_returns_is_stopped_and_the_page_runs_again(open_page):
    kata_id = "01-counter-forgets"
    page = open_page(f"katas/{kata_id}/")
    verdict = page.locator(".dojo-verdict")
    page.get_by_role("button", name="Run tests").click()  # a first run: Python loaded, the worker warm
    expect()(verdict).to_contain_text(f"✗ {kata_id}")

    source = shipped(kata_id)
    hanging = re.sub(r"    async def increment\(self\):\n", HANGING, source, count=1)
    assert hanging != source
    type_into_editor(page, hanging)
    page.get_by_role("button", name="Run tests").click()
    timeout = KATAS[kata_id]["timeout"]
    expect()(verdict).to_contain_text(f"Kata {kata_id} did not finish within its timeout of {timeout:g} s and was stopped.")
    expect()(verdict).to_contain_text(re.compile(r"Stuck in test_\w+[.,]"))
    expect()(verdict).to_contain_text("Likely cause: an infinite loop or a blocking call (time.sleep)")
    expect()(page.get_by_role("button", name="Run tests")).to_be_enabled()

    type_into_editor(page, solution(kata_id))  # the page stays usable: a fresh worker runs the next one
    page.get_by_role("button", name="Run tests").click()
    expect()(verdict).to_contain_text(f"✓ {kata_id}")
    result = run_kata(page, kata_id, "while True:\n    pass\n")  # the API says the same
    assert "did not finish within its timeout" in result["output"] and result["passed"] == []
    assert run_kata(page, kata_id, solution(kata_id))["failed"] == []
    assert not page.elsewhere and not page.errors, (page.elsewhere, page.errors)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_runs_in_the_page_without_an_error(open_page, chapter):
    page = open_page(f"notebooks/{chapter}/")
    expect()(page.locator(".dojo-chapter-bar")).to_be_visible()
    cells = json.loads((SITE / "assets/dojo/chapters" / f"{chapter}.json").read_text())["cells"]
    result = page.evaluate("(name) => dojo.runChapter(name)", chapter)
    assert result == {"cells": len(cells), "errors": []}, result
    # on the chapter's own page each cell's outputs are the ones this run made
    assert page.locator(".dojo-ran").count() == len(cells)
    expect()(page.locator(".dojo-chapter-bar .dojo-status")).to_contain_text(f"Done: {len(cells)} cells ran")
    assert not page.elsewhere and not page.errors, (page.elsewhere, page.errors)


def test_the_inspector_buttons_act_on_the_chapters_world(open_page):
    page = open_page("notebooks/01-lifecycle/")
    page.get_by_role("button", name="Run the chapter").click()
    status = page.locator(".dojo-chapter-bar .dojo-status")
    expect()(status).to_contain_text("Done:")
    inspector = page.locator(".dojo-inspector").first
    expect()(inspector).to_be_visible()
    clock = re.compile(r"World clock ([0-9.]+)s")
    before = float(clock.search(inspector.inner_text()).group(1))
    inspector.locator("input").fill("100")
    inspector.get_by_role("button", name="Advance clock").click()
    expect()(inspector.locator(".dojo-inspector__message")).to_contain_text("advanced 100s")
    assert float(clock.search(inspector.inner_text()).group(1)) == pytest.approx(before + 100)
    # evict the first object: the row and the message are the live Inspector's answer
    name = inspector.locator("select option").first.inner_text()
    inspector.get_by_role("button", name="Evict").click()
    expect()(inspector.locator(".dojo-inspector__message")).to_contain_text(
        re.compile(f"evicted {re.escape(name)}|is not in memory"))
    row = inspector.locator("tr", has_text=name.split(" ", 1)[1]).first
    expect()(row).not_to_contain_text("in memory")
    inspector.get_by_role("button", name="Refresh").click()
    expect()(inspector.locator(".dojo-inspector__message")).to_have_text("refreshed")
    assert not page.elsewhere and not page.errors, (page.elsewhere, page.errors)


def test_the_in_browser_path_is_within_its_size_budget():
    """What a first Run downloads (Python, its packages, the project) and what a kata page loads
    before it (the editor and the page's scripts): runnable.py states both budgets."""
    weights = runnable.run_weights(SITE)
    assert 0 < weights["first_run"] <= runnable.FIRST_RUN_BUDGET, weights
    assert 0 < weights["kata_page_scripts"] <= runnable.PAGE_SCRIPTS_BUDGET, weights


# ---- section: web-interrupt ----
# A run past its kata's timeout is interrupted where the learner's code is stuck (Pyodide's
# interrupt buffer: a SharedArrayBuffer the page writes into where it is cross-origin isolated,
# the worker's own clock elsewhere): the verdict names the line and the same worker, warm, runs
# the next one. What Python cannot be interrupted in (C code) ends the worker, as before.

COUNTER = "01-counter-forgets"


@pytest.fixture(scope="module")
def open_isolated_page(offline_browser, isolated_site_url):
    """open_page, from a server that sends the cross-origin isolation headers (site/serve.py)."""
    yield from _page_opener(offline_browser, isolated_site_url)


def line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if line.strip() == text)


def run_kata_bounded(page, kata_id: str, source: str) -> dict:
    """run_kata, failing after RUN_MS instead of waiting forever for a verdict that never comes."""
    return page.evaluate("""([id, source, ms]) => Promise.race([dojo.runKata(id, source), new Promise(
        (_, fail) => setTimeout(() => fail(new Error(`no verdict within ${ms} ms`)), ms))])""",
                         [kata_id, source, RUN_MS])


def workers_started(page) -> int:
    return page.evaluate("() => DojoRunner.runner.started")


STUCK_AT = r"Stuck in (test_\w+), at katas/01-counter-forgets/counter\.py:(\d+) in increment:\n\s+(.+)\n"


@pytest.mark.parametrize("isolated", [True, False], ids=["isolated page", "page not isolated"])
def test_a_hang_is_interrupted_at_the_learners_line_and_the_same_worker_runs_the_next_run(
        open_page, open_isolated_page, isolated):
    page = (open_isolated_page if isolated else open_page)(f"katas/{COUNTER}/")
    assert page.evaluate("() => self.crossOriginIsolated") is isolated
    page.evaluate("() => dojo.ready()")
    assert page.evaluate("() => DojoRunner.runner.interrupt") == ("shared" if isolated else "clock")
    workers = workers_started(page)
    hanging = with_increment_body(shipped(COUNTER), LOOP_FOREVER)
    result = run_kata_bounded(page, COUNTER, hanging)
    output = result["output"]
    timeout = KATAS[COUNTER]["timeout"]
    assert result["passed"] == [], output
    assert f"Kata {COUNTER} did not finish within its timeout of {timeout:g} s and was stopped." in output
    where = re.search(STUCK_AT, output)
    assert where, output
    line, code = int(where.group(2)), where.group(3)
    assert code in ("while True:", "pass") and line == line_of(hanging, code), output  # the loop's line
    assert "durable_dojo" not in output and "_core" not in output, output  # no emulator frames
    assert "Likely cause: an infinite loop" in output
    # the same worker runs the next run (no new Python to load): the kata passes
    solved = run_kata_bounded(page, COUNTER, solution(COUNTER))
    assert solved["failed"] == [] and solved["passed"], solved["output"]
    assert workers_started(page) == workers
    assert not page.elsewhere and not page.errors, (page.elsewhere, page.errors)


def test_code_that_catches_the_interrupt_still_ends_as_a_hang_never_a_pass(open_page):
    page = open_page(f"katas/{COUNTER}/")
    page.evaluate("() => dojo.ready()")
    # caught once, then the kata's solution: every test would pass if the interrupt could be hidden
    caught_once = with_increment_body(solution(COUNTER), CATCH_THE_INTERRUPT_ONCE,
                                      before=CATCH_THE_INTERRUPT_ONCE_BEFORE)
    result = run_kata_bounded(page, COUNTER, caught_once)
    assert not result["output"].startswith("✓"), result["output"]
    assert "did not finish within its timeout" in result["output"], result["output"]
    assert len(result["passed"]) <= 1, result["output"]  # no test starts after the interrupt, as in dojo check
    where = re.search(STUCK_AT, result["output"])
    assert where and where.group(3) in ("while True:", "pass"), result["output"]
    assert int(where.group(2)) == line_of(caught_once, where.group(3)), result["output"]

    # caught every time: the run never ends; the worker is ended, the verdict says where it was
    workers = workers_started(page)
    caught_always = with_increment_body(shipped(COUNTER), (
        "        while True:\n"
        "            try:\n"
        "                while True:\n"
        "                    pass\n"
        "            except BaseException:\n"
        "                pass\n"))
    result = run_kata_bounded(page, COUNTER, caught_always)
    assert result["passed"] == [] and "did not finish within its timeout" in result["output"], result["output"]
    where = re.search(STUCK_AT, result["output"])
    assert where and where.group(3) in ("while True:", "pass"), result["output"]  # the inner loop
    assert int(where.group(2)) > line_of(caught_always, "try:"), result["output"]
    assert workers_started(page) == workers + 1  # a fresh worker took over
    assert run_kata_bounded(page, COUNTER, solution(COUNTER))["failed"] == []
    assert not page.elsewhere and not page.errors, (page.elsewhere, page.errors)


def test_code_stuck_where_python_cannot_be_interrupted_ends_its_worker_as_before(open_page):
    page = open_page(f"katas/{COUNTER}/")
    page.evaluate("() => dojo.ready()")
    workers = workers_started(page)
    # consuming an endless iterator in C: Python never gets to look at the interrupt buffer
    stuck_in_c = with_increment_body(shipped(COUNTER), "        collections.deque(itertools.count(), maxlen=0)\n",
                                     before="import collections\nimport itertools\n")
    result = run_kata_bounded(page, COUNTER, stuck_in_c)
    output = result["output"]
    assert result["passed"] == [] and "did not finish within its timeout" in output, output
    assert re.search(r"Stuck in test_\w+\.", output), output  # the test; the line cannot be read
    assert workers_started(page) == workers + 1
    assert run_kata_bounded(page, COUNTER, solution(COUNTER))["failed"] == []
    assert not page.elsewhere and not page.errors, (page.elsewhere, page.errors)


def test_every_kind_of_page_loads_whole_when_cross_origin_isolated(offline_browser, isolated_site_url):
    """Cross-Origin-Embedder-Policy: require-corp blocks what comes from elsewhere without
    permission: the site loads nothing from elsewhere, so every page loads whole."""
    context = offline_browser.new_context()
    problems = []
    page = context.new_page()
    page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED" and problems.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.url}: HTTP {r.status}"))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        for path in ["", "get-started/", "katas/", f"katas/{COUNTER}/", "notebooks/01-lifecycle/",
                     "notebooks/03-concurrency/", "review-checklist/", "api/durable_dojo/"]:
            page.goto(isolated_site_url + path, wait_until="networkidle")
            assert page.evaluate("() => self.crossOriginIsolated"), path
        assert not problems, problems
    finally:
        context.close()


# ---- section: web-sched ----
# The chapters' widgets live in the page: every view with controls a chapter displays gets them
# back once the chapter ran, each control pressing the same method the notebook's button does
# (`press`) on the chapter's live world in the worker, the view redrawn from the worker's answer.

PRESS_MS = 60_000  # a button's answer once Python is loaded (one step of a small world)
BROKEN = "Broken: the balance is 1, not 101: an update was lost"  # chapter 3's balance_is_right
HELD = "The invariant held in this schedule."


def run_chapter_in_page(page):
    """Press "Run the chapter" and wait until every cell ran; the status line's last words."""
    page.get_by_role("button", name="Run the chapter").click()
    status = page.locator(".dojo-chapter-bar .dojo-status")
    expect()(status).to_contain_text("Done:")
    return status.inner_text()


def test_the_scheduler_playground_is_played_in_the_page(open_page):
    page = open_page("notebooks/03-concurrency/")
    assert run_chapter_in_page(page).endswith("cells ran")
    play = page.locator(".dojo-playground")
    expect()(play).to_have_count(1)
    view, choices = play.locator(".dojo-playground__view"), play.locator(".dojo-playground__choices button")
    message = play.locator(".dojo-playground__message")
    press = lambda: expect()(play).not_to_have_attribute("aria-busy", "true", timeout=PRESS_MS)  # noqa: E731
    # one button per ready event, as SchedulerPlayground.ready lists them
    expect()(choices).to_have_text(["#1 WALLET.add_interest(): resumes after its await",
                                    "#2 WALLET.deposit(): resumes after its await"])
    expect()(view).to_contain_text("Ready to run (choose one):")
    first_view = view.inner_text()

    # the deposit resumes first: interest writes the balance it read before it, the deposit is lost
    choices.nth(1).click()
    expect()(view).to_contain_text(BROKEN, timeout=PRESS_MS)
    press()
    assert view.inner_text() != first_view
    expect()(view).to_contain_text("Every request finished")
    expect()(view).to_contain_text("alice: {'balance': 1}")
    expect()(choices).to_have_count(0)
    expect()(message).to_have_text("")
    # the buttons played the chapter's own `play`: a cell run in the same chapter sees the lost update
    cell = page.evaluate("() => DojoRunner.runCell('03-concurrency', 100, 'print(play.problem, play.schedule)')")
    assert cell["outputs"] == [{"output_type": "stream", "name": "stdout",
                                "text": "the balance is 1, not 101: an update was lost s0a\n"}], cell

    # Restart: a fresh world, the same two choices
    play.get_by_role("button", name="Restart").click()
    expect()(view).not_to_contain_text("Broken", timeout=PRESS_MS)
    press()
    expect()(view).to_contain_text("Ready to run (choose one):")
    expect()(choices).to_have_count(2)

    # interest resumes first, then the deposit reads its write: the invariant holds, one step at a time
    seen = [view.inner_text()]
    while choices.count():
        choices.first.click()
        press()
        assert view.inner_text() != seen[-1]  # every press redraws the view
        seen.append(view.inner_text())
    expect()(view).to_contain_text(HELD)
    expect()(view).to_contain_text("alice: {'balance': 101}")

    # Run the rest from a fresh start: the world's own order, the same verdict
    play.get_by_role("button", name="Restart").click()
    press()
    expect()(choices).to_have_count(2)
    play.get_by_role("button", name="Run the rest").click()
    expect()(view).to_contain_text(HELD, timeout=PRESS_MS)
    expect()(choices).to_have_count(0)

    # the page stays usable: the chapter runs again, with a fresh playground
    assert page.evaluate("() => dojo.runChapter('03-concurrency')")["errors"] == []
    expect()(play.locator(".dojo-playground__choices button")).to_have_count(2)
    expect()(play.locator(".dojo-playground__view")).not_to_contain_text(HELD)
    assert not page.elsewhere and not page.errors, (page.elsewhere, page.errors)


# What each Inspector button answers (Inspector.press's message), whatever the chapter's world
INSPECTOR_ANSWERS = {
    "Evict": r"^(evicted .+|.+ is not in memory)$",
    "Hibernate": r"^(.+ is (hibernated|evicted)|.+ is not in memory)$",
    "Fire alarm": r"^(alarm of .+ ran|.+ has no alarm set)$",
    "Advance clock": r"^advanced 1s to [0-9.]+s, \d+ trace events?$",
    "Refresh": r"^refreshed$",
}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_control_a_chapter_shows_works_in_its_page(open_page, chapter):
    """Each widget output with controls the notebook saved (the page notes they need Python)
    becomes a live view once the chapter ran, and each of its controls answers from the world."""
    page = open_page(f"notebooks/{chapter}/")
    with_controls = page.locator('.jp-CodeCell[id^="cell-id="]', has=page.locator(".dojo-kernel-note"))
    cell_ids = [cell.get_attribute("id") for cell in with_controls.all()]
    assert cell_ids, "every chapter shows a widget with controls"
    run_chapter_in_page(page)
    for cell_id in cell_ids:
        cell = page.locator(f'[id="{cell_id}"]')
        expect()(cell.locator(".dojo-kernel-note")).to_have_count(0, timeout=PRESS_MS)  # the saved view gave way
        widget = cell.locator(".dojo-widget")
        expect()(widget).to_have_count(1, timeout=PRESS_MS)
        done = lambda: expect()(widget).not_to_have_attribute("aria-busy", "true", timeout=PRESS_MS)  # noqa: E731,B023
        if "dojo-playground" in widget.get_attribute("class"):
            before = widget.inner_text()
            widget.locator(".dojo-playground__choices button").first.click()
            done()
            assert widget.inner_text() != before
            continue
        # under its buttons, the recent trace the notebook's Inspector draws there too
        expect()(widget.locator(".dojo-inspector__timeline table")).to_have_count(1)
        message = widget.locator(".dojo-inspector__message")
        widget.locator("input").fill("1")
        for name, answer in INSPECTOR_ANSWERS.items():
            page.evaluate("(m) => { m.textContent = ''; }", message.element_handle())
            widget.get_by_role("button", name=name).click()
            expect()(message).to_have_text(re.compile(answer), timeout=PRESS_MS)
            done()
    assert not page.elsewhere and not page.errors, (page.elsewhere, page.errors)
