"""The in-browser runner (`durable_dojo._browser`), here in CPython: the same code runs in
Pyodide in the site's Web Worker (`make pyodide-test` runs it there, in Node).

A kata run in-process must give the verdict `dojo check` gives in its child process; a chapter's
cells must behave as in a Jupyter kernel; the Inspector's buttons must act on the world.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from durable_dojo._browser import cells, host, katas, views
from durable_dojo._core.errors import DeadlockError
from durable_dojo._kata.pristine import shipped_file
from durable_dojo._kata.run import run_kata_tests
from learner_edits import CATCH_THE_INTERRUPT_ONCE, CATCH_THE_INTERRUPT_ONCE_BEFORE, LOOP_FOREVER, with_increment_body

REPO = Path(__file__).resolve().parent.parent
KATA = "01-counter-forgets"


@pytest.fixture
def project(monkeypatch, tmp_path):
    monkeypatch.setattr(katas, "PROJECT", REPO)
    monkeypatch.setattr(katas, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(katas, "_manifest", None)
    return REPO


def source(tree: str, kata: str = KATA, name: str = "counter.py") -> str:
    if tree == "katas":  # the file as shipped (the last commit), not the learner's progress in it
        data, _ = shipped_file(REPO, f"katas/{kata}/{name}")
        return data.decode("utf-8")
    return (REPO / tree / kata / name).read_text(encoding="utf-8")


def outcomes(verdict) -> dict[str, tuple[str, str]]:
    return {t.name: (t.outcome, t.message.splitlines()[0] if t.message else "") for t in verdict.tests}


def test_a_kata_run_in_process_gives_the_verdict_dojo_check_gives(project):
    shipped = source("katas")
    in_process = katas.run_kata(KATA, shipped)
    child = run_kata_tests(KATA, {"counter.py": shipped})
    assert in_process.status == child.status == "failed"
    assert outcomes(in_process) == outcomes(child)
    assert in_process.notes == child.notes
    page = katas.verdict_json(in_process)
    assert sorted(page["failed"]) == sorted(katas.manifest().find(KATA).failing_tests)
    # the same text as dojo check prints, but for the time the run took
    first, *rest = page["output"].splitlines()
    assert first.startswith(f"✗ {KATA}  A counter that forgets  3 of 6 tests failing  (")
    assert "  ✗ test_count_survives_eviction" in rest and rest[-1].startswith("  Rule: ")
    assert page["lines"][0][0] == (f"✗ {KATA}", "bold red")
    assert len(page["verdict"]["hints"]) == 3


def test_each_run_uses_the_source_it_is_given(project):
    # no module, compiled file or cached line of an earlier run is used again
    assert katas.run_kata(KATA, source("katas")).status == "failed"
    assert katas.run_kata(KATA, source("solutions")).status == "passed"
    assert katas.run_kata(KATA, source("katas")).status == "failed"


def test_a_run_leaves_none_of_its_modules_behind(project):
    # a reader's page runs a kata again and again in one Python: the learner's modules, the kata's
    # tests and its conftest of each run are dropped, or memory grows with every Run
    before = set(sys.modules)
    for tree in ("katas", "solutions", "katas"):
        katas.run_kata(KATA, source(tree))
    assert sorted(n for n in set(sys.modules) - before if n.startswith(("kata_", "test_", "conftest"))) == []


def test_the_page_hears_each_test_as_it_starts(project):
    started = []
    verdict = katas.run_kata(KATA, source("solutions"), on_test_start=started.append)
    assert started == [t.name for t in verdict.tests] and len(started) == 6


def test_where_in_the_learners_code_a_test_failed_is_named_as_dojo_check_names_it(project):
    raising = source("solutions").replace('        """The total number of views so far."""\n',
                                          '        """The total number of views so far."""\n        raise ValueError("no")\n')
    in_process = katas.run_kata(KATA, raising)
    child = run_kata_tests(KATA, {"counter.py": raising})
    failing = [t for t in in_process.tests if t.outcome == "failed"]
    assert failing and all(t.where == f'katas/{KATA}/counter.py:23 in views: raise ValueError("no")' for t in failing)
    assert {t.name: t.where for t in in_process.tests} == {t.name: t.where for t in child.tests}


def test_a_hang_the_page_stopped_gets_dojo_checks_words(project):
    page = katas.hang_verdict(KATA, "test_count_survives_eviction")
    assert page["verdict"]["status"] == "hung"
    assert page["verdict"]["message"].splitlines() == [
        f"Kata {KATA} did not finish within its timeout of 10 s and was stopped.",
        "Stuck in test_count_survives_eviction.",
        "Likely cause: an infinite loop or a blocking call (time.sleep) in a handler, or an await that never completes.",
    ]


# ----- the host loop and the platform's modules -----


def test_the_host_loop_says_when_the_awaited_code_can_never_be_woken():
    loop = host.HostLoop()
    try:
        with pytest.raises(DeadlockError, match="can never happen"):
            loop.run_until_complete(loop.create_future())
    finally:
        loop.close()


def test_the_host_loop_runs_timers_and_gathers():
    loop = host.HostLoop()

    async def main():
        await asyncio.sleep(0.01)
        return await asyncio.gather(asyncio.sleep(0, "a"), asyncio.sleep(0, "b"))

    try:
        assert loop.run_until_complete(main()) == ["a", "b"]
    finally:
        loop.close()


def test_the_emulators_js_is_what_learner_code_imports_only_during_a_run():
    before = sys.modules.get("js")
    with host.learner_run():
        import js
        import pyodide.ffi

        emulated = js
        assert js.__file__ == str(REPO / "src" / "js" / "__init__.py")
        assert pyodide.ffi.JsException.__module__ == "pyodide.ffi"
        assert asyncio._get_running_loop() is None
    assert sys.modules.get("js") is before
    assert emulated is not before  # the run's own copy, loaded from the bundle's folder


# ----- chapter cells -----

COUNTER = '''
from workers import DurableObject
from durable_dojo import Runtime

class Counter(DurableObject):
    async def increment(self):
        n = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", n)
        return n

rt = Runtime(durable_objects={"COUNTER": Counter})
page = rt.env.COUNTER.getByName("home")
print("ready")
await page.increment()
'''


@pytest.fixture
def chapter():
    name = "test-chapter"
    cells.reset_chapter(name)
    yield name
    cells.reset_chapter(name)


def test_cells_share_a_namespace_await_at_top_level_and_show_the_last_value(chapter):
    first = cells.run_cell(chapter, COUNTER)
    assert first["error"] is None
    assert first["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "ready\n"},
        {"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {}, "execution_count": 1},
    ]
    second = cells.run_cell(chapter, "import asyncio\nawait asyncio.gather(page.increment(), page.increment())")
    assert second["outputs"][0]["data"]["text/plain"] == "[2, 3]"


def test_a_cell_error_shows_the_cells_line_and_none_of_the_emulators_frames(chapter):
    cells.run_cell(chapter, COUNTER)
    result = cells.run_cell(chapter, "x = 1\nawait page.no_such_method()")
    error = result["error"]
    assert error["ename"] == "JsException" and "no_such_method" in error["evalue"]
    text = "\n".join(error["traceback"])
    assert "line 2, in <module>" in text and "await page.no_such_method()" in text
    assert "durable_dojo" not in text and "asyncio" not in text.replace("await", "")


def test_the_inspectors_buttons_act_on_the_world(chapter):
    cells.run_cell(chapter, COUNTER)
    shown = cells.run_cell(chapter, "from durable_dojo.widgets import Inspector\nInspector(rt)")
    state = shown["outputs"][0]["data"][views.MIME]
    assert state["objects"] == ["COUNTER home"] and "in memory" in state["html"]
    after = views.act(state["view"], "evict", "COUNTER home")
    assert after["message"] == "evicted COUNTER home"
    assert "evicted" in after["html"] or "in memory" not in after["html"]
    refused = views.act(state["view"], "fire_alarm", None)
    assert refused["message"] == "KeyError: choose an object first"
    # the next cell sees the eviction: the count came back from storage
    assert cells.run_cell(chapter, "await page.increment()")["outputs"][0]["data"]["text/plain"] == "2"


# ---- the interrupt (in the browser: Pyodide's interrupt buffer; here: SIGINT from a timer) ----

def interrupt_soon():
    """SIGINT (what the worker's interrupt buffer raises) once the learner's code is running."""
    import _thread
    import threading
    import time

    main = threading.main_thread().ident

    def in_learner_code() -> bool:
        frame = sys._current_frames().get(main)
        while frame is not None:
            if Path(frame.f_code.co_filename).as_posix().endswith(f"katas/{KATA}/counter.py"):
                return True
            frame = frame.f_back
        return False

    def watch():
        for _ in range(2400):  # at most 2 minutes
            if in_learner_code():
                _thread.interrupt_main()
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()


def test_an_interrupted_test_gets_the_hung_verdict_naming_the_learners_line(project):
    hanging = with_increment_body(source("katas"), LOOP_FOREVER)
    told = []
    interrupt_soon()
    verdict = katas.run_kata(KATA, hanging, on_stuck=told.append)
    assert verdict.status == "hung"
    assert "did not finish within its timeout of 10 s and was stopped." in verdict.message
    assert f"at katas/{KATA}/counter.py:" in verdict.message and "while True:" in verdict.message
    assert [t.outcome for t in verdict.tests].count("hung") == 1
    assert told and told[0].status == "hung" and told[0].message == verdict.message  # the page heard it at once
    assert katas.run_kata(KATA, source("solutions")).status == "passed"  # and the next run is clean


def test_an_interrupt_the_learners_code_catches_still_ends_the_run_as_hung(project):
    caught = with_increment_body(source("solutions"), CATCH_THE_INTERRUPT_ONCE, before=CATCH_THE_INTERRUPT_ONCE_BEFORE)
    interrupt_soon()
    verdict = katas.run_kata(KATA, caught)
    assert verdict.status == "hung", verdict.message
    assert f"at katas/{KATA}/counter.py:" in verdict.message
    assert sum(t.outcome == "passed" for t in verdict.tests) <= 1  # no test started after the interrupt


def test_a_sigint_once_the_learners_code_is_over_is_ignored():
    """The page's interrupt may land while the verdict is being made: too late to matter."""
    import signal

    with host.interrupts() as interrupt:
        interrupt.done = True
        signal.raise_signal(signal.SIGINT)
    assert interrupt.stack == ""


PLAYGROUND = '''
from durable_dojo import Runtime
from durable_dojo.widgets import SchedulerPlayground
from workers import DurableObject


class Wallet(DurableObject):
    async def deposit(self, amount):
        await self.env.RATES.get("fee")  # Workers KV: the input gate opens here
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)

    async def add_interest(self):
        balance = await self.ctx.storage.get("balance") or 0
        await self.env.RATES.get("rate")
        await self.ctx.storage.put("balance", balance + 1)


def requests(rt):
    wallet = rt.env.WALLET.getByName("alice")
    return [wallet.add_interest(), wallet.deposit(100)]


def check(results, play):
    balance = play.storage("alice").get("balance")
    return None if balance == 101 else f"the balance is {balance}, not 101: an update was lost"


play = SchedulerPlayground(make_runtime=lambda: Runtime(durable_objects={"WALLET": Wallet}, kv_namespaces=["RATES"]),
                           requests=requests, check=check)
play
'''


def test_the_playgrounds_buttons_play_the_chapters_world(chapter):
    shown = cells.run_cell(chapter, PLAYGROUND)
    assert shown["error"] is None, shown["error"]
    state = shown["outputs"][0]["data"][views.PLAYGROUND_MIME]
    assert state["choices"] == ["#1 WALLET.add_interest(): resumes after its await",
                                "#2 WALLET.deposit(): resumes after its await"]
    broken = views.act(state["view"], "choose", 1)
    assert broken["choices"] == [] and "Broken: the balance is 1, not 101: an update was lost" in broken["html"]
    # the cells see the same playground the buttons played
    assert cells.run_cell(chapter, "play.schedule")["outputs"][0]["data"]["text/plain"] == "'s0a'"
    again = views.act(state["view"], "restart")
    assert len(again["choices"]) == 2 and "Broken" not in again["html"]
    refused = views.act(state["view"], "choose", 9)
    assert refused["message"] == "ValueError: choose a number from 0 to 1" and len(refused["choices"]) == 2
    held = views.act(state["view"], "auto")
    assert held["message"] == "" and "The invariant held in this schedule." in held["html"]
    # a later cell that plays on redraws the displayed playground, as a notebook does
    after = cells.run_cell(chapter, "play.restart().choose(0)")
    assert [view for view in after["views"] if view["view"] == state["view"]][0]["choices"] == []
