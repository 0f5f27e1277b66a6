"""A kata's tests run in the browser, with `dojo check`'s verdict.

`dojo check` runs pytest in a child process and reads the kata plugin's events from a pipe
(`_kata/run.py`). A Web Worker has no processes, and needs none: the worker is the sandbox, and
the page ends it when a test overruns the kata's timeout. So pytest runs here, in this process,
with the same kata plugin (`durable_dojo._kata.plugin`) reporting the same events into a list,
and `_kata`'s own code turns them into the verdict: same outcomes, same messages, same "where in
your code", same notes.

A test that overruns the kata's timeout is interrupted where it is stuck (`host.interrupts`: the
worker's interrupt buffer raises KeyboardInterrupt in the learner's code) and the run ends with
the verdict `dojo check` gives a hung run, naming the learner's line from the stack at that
moment; the page ends the worker only if that does not come back in time.

The learner's file is written to a fresh folder for every run (`<runs>/<n>/katas/<id>/<file>`),
so nothing of an earlier run (a module, a compiled file, a cached source line) is used again.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from .._kata import plugin as _plugin
from .._kata.cli import verdict_summary, verdict_lines, verdict_text
from .._kata.manifest import LEARNER_TREE, Kata, Manifest, load_manifest, test_names
from .._kata.run import (FAILING, RunResult, TestResult, Verdict, apply_events, command_running_pytest, short_message,
                         verdict_from_run)
from .host import interrupts, learner_run

# Where the worker unpacks the project (katas/, tests/katas/, pyproject.toml) and writes runs.
PROJECT = Path(os.environ.get("DOJO_BROWSER_PROJECT", "/dojo"))
RUNS = Path(os.environ.get("DOJO_BROWSER_RUNS", "/tmp/dojo-runs"))

_manifest: Manifest | None = None
_runs = 0


def manifest() -> Manifest:
    """The katas as the site shipped them (read once)."""
    global _manifest
    if _manifest is None:
        _manifest = load_manifest(PROJECT, check_files=False)
    return _manifest


class _ListReporter(_plugin._Reporter):
    """The kata plugin's reporter, writing its events to a list instead of a signed pipe (the
    learner's code cannot forge what it never sees), and telling the page as each test starts."""

    def __init__(self, kata_root: Path, project: Path, on_test_start=None):
        super().__init__(report_fd=-1, key=b"", trace=None, kata_root=str(kata_root))
        self.rootpath = project
        self.events: list[dict] = []
        self.on_test_start = on_test_start
        self.running: str | None = None  # the node id of the test running now
        self.stopped = False  # a test was interrupted: no further test starts, as in `dojo check`

    def emit(self, **event) -> None:
        kind = event.get("event")
        if kind == "start" and self.stopped:  # raised in pytest's code, where the learner's cannot catch it
            raise KeyboardInterrupt
        self.events.append(event)
        if kind == "start":
            self.running = event["nodeid"]
            if self.on_test_start is not None:
                self.on_test_start(event["nodeid"].rpartition("::")[2])
        elif kind == "finish":
            self.running = None


def _clock() -> float:
    """Real seconds, also inside a world (whose `time.monotonic` is the world's virtual clock)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _stopped(run: RunResult, nodeid: str | None, stack: str) -> RunResult:
    """`run` as the runner records a run it stopped: the test that was running hung there."""
    run.stopped, run.hung_test, run.stack = True, nodeid, stack
    if nodeid in run.tests:
        run.tests[nodeid].outcome = "hung"
    return run


def run_kata(kata_id: str, source: str, on_test_start=None, on_stuck=None) -> Verdict:
    """Run kata `kata_id`'s tests against `source` as its learner file; the verdict.

    `on_stuck(verdict)`, if given, hears the hung verdict as soon as an interrupt arrives (the
    page keeps it in case the code goes on without returning and the worker has to be ended)."""
    global _runs
    project = PROJECT
    kata = manifest().find(kata_id)
    _runs += 1
    run_dir = RUNS / str(_runs)
    shutil.rmtree(RUNS, ignore_errors=True)  # the earlier runs' files: no longer read by anyone
    kata_root = run_dir / LEARNER_TREE
    folder = kata_root / kata.id
    shutil.copytree(manifest().katas_dir / kata.id, folder)  # the kata's other files, as shipped
    (folder / kata.filename).write_text(source, encoding="utf-8")

    reporter = _ListReporter(kata_root.resolve(), run_dir, on_test_start)
    reporter.emit(event="session", rootpath=str(project), pid=os.getpid())
    tests = [str(project / t) for t in kata.tests]
    args = command_running_pytest(tests)[3:] + ["--rootdir", str(project), "-p", "pytest_asyncio.plugin",
                                          "-p", "durable_dojo.pytest_plugin"]
    output = io.StringIO()
    before = set(sys.modules)
    environ = {"DOJO_KATA_ROOT": str(kata_root), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    saved = {name: os.environ.get(name) for name in environ}
    os.environ.update(environ)
    cwd = os.getcwd()
    started = _clock()
    run = RunResult()
    expected: set[str] = set()
    for test in kata.tests:
        expected |= test_names(project / test)
    stuck_in: list[str | None] = []  # the test that was running when the interrupt came

    def verdict(run: RunResult) -> Verdict:
        return verdict_from_run(manifest(), kata, run, kata_root, project=run_dir, expected=expected)

    def on_interrupt(interrupt) -> None:
        stuck_in.append(reporter.running)
        reporter.stopped = True
        if on_stuck is not None:
            so_far = RunResult(seconds=_clock() - started)
            apply_events(list(reporter.events), so_far)
            on_stuck(verdict(_stopped(so_far, reporter.running, interrupt.stack)))

    import pytest

    _plugin._reporter = reporter  # pytest_configure keeps a reporter already set
    with interrupts(on_interrupt) as interrupt:
        try:
            os.chdir(project)
            with learner_run(), redirect_stdout(output), redirect_stderr(output):
                run.returncode = int(pytest.main(args))
        finally:
            interrupt.done = True  # from here a SIGINT comes too late to matter: the learner's code is over
            _plugin._reporter = None
            os.chdir(cwd)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            for name in set(sys.modules) - before:  # the tests and the learner's modules, loaded again next run
                if name.startswith(("kata_", "test_", "conftest")) or name == "tests.katas.conftest":
                    del sys.modules[name]
        run.seconds = _clock() - started
        run.output = output.getvalue()[-64 * 1024:]
        apply_events(reporter.events, run)
        if interrupt.stack:  # it overran its timeout: hung, whatever happened after (a caught interrupt cannot make it pass)
            _stopped(run, stuck_in[0], interrupt.stack)
        return verdict(run)


def verdict_json(verdict: Verdict) -> dict:
    """The verdict for the page: what `dojo check` shows, as fields and as its text."""
    kata: Kata = verdict.kata
    return {
        "kata": kata.id,
        "passed": [t.name for t in verdict.tests if t.outcome == "passed"],
        "failed": [t.name for t in verdict.tests if t.outcome in FAILING or t.outcome == "not run"],
        "output": verdict_text(verdict),
        "lines": verdict_lines(verdict),  # [[text, rich style], ...] per line: dojo check's colours
        "verdict": {
            "status": verdict.status,
            "summary": verdict_summary(verdict),
            "tests": [{"name": t.name, "outcome": t.outcome, "where": t.where,
                       "message": short_message(t.message) if t.message else ""} for t in verdict.tests],
            "message": verdict.message,
            "notes": list(verdict.notes),
            "rule": kata.rule.strip(),
            "hints": list(kata.hints),
            "timeout": kata.timeout,
            "seconds": round(verdict.seconds, 3),
        },
    }


def hang_verdict(kata_id: str, test_name: str | None) -> dict:
    """What the page shows when it stopped a run that overran the kata's timeout: the verdict
    `dojo check` gives a hung run, made by the same code (the stack is not known here)."""
    kata = manifest().find(kata_id)
    run = RunResult(stopped=True, hung_test=test_name)
    if test_name:
        run.tests[test_name] = TestResult(nodeid=test_name, file=Path(test_name), name=test_name, outcome="hung")
    return verdict_json(verdict_from_run(manifest(), kata, run, PROJECT / LEARNER_TREE, project=PROJECT))

