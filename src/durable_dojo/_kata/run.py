"""Running a kata's tests in a child pytest, and the verdict a learner sees.

`run_pytest()` starts `python -m pytest <tests> -p durable_dojo._kata.plugin` with
`DOJO_KATA_ROOT` pointing at the tree under test (`katas/`, `solutions/`, or a gutted copy). The
plugin (`plugin.py`) reports one JSON line per event (collected, test started, phase report),
flushed at once, so the runner knows every finished test even if the child has to be killed. No
JUnit XML: it is written only at the end of the session, which a hung run never reaches.

Hangs
    Learner code that never returns (a busy loop, `time.sleep`, an await nothing resolves) must
    end with a clear verdict within the kata's timeout, which each test gets from its start (a
    slow start of pytest on a busy machine, or a slow earlier test, does not use it up). The
    child arms `faulthandler.dump_traceback_later(exit=True)` for it: it writes the stacks of
    the stuck process (which names the learner's line) and exits; the runner kills the process
    group as a backstop. The emulator's own `DeadlockError` and `HangTimeout` messages are quoted in the
    verdict when the tests raised them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from .frames import last_lines, stuck_where
from .manifest import LEARNER_TREE, Kata, Manifest, test_names

# How long a child pytest may take to start and collect before its tests' timeout begins.
STARTUP_ALLOWANCE = 60.0
LIKELY_HANG_CAUSE = (
    "an infinite loop or a blocking call (time.sleep) in a handler, or an await that never completes"
)

FAILING = ("failed", "error", "hung")


@dataclass
class TestResult:
    nodeid: str
    file: Path
    name: str
    outcome: str = "not run"  # passed | failed | error | skipped | hung | not run
    message: str = ""  # the exception's message, as pytest reports it
    where: str = ""  # "katas/01-x/counter.py:12 in increment" when the learner's code raised
    duration: float = 0.0

    __test__ = False


@dataclass
class RunResult:
    """One child pytest run: per-test results and how the run ended."""

    tests: dict[str, TestResult] = field(default_factory=dict)
    collected: list[str] = field(default_factory=list)
    collect_errors: list[str] = field(default_factory=list)
    returncode: int | None = None
    finished: bool = False  # the session ended normally
    hung_test: str | None = None  # the node id that was running when time ran out
    stack: str = ""  # faulthandler's dump of the stuck process
    output: str = ""  # the tail of the child's stdout and stderr
    seconds: float = 0.0
    rootpath: Path | None = None

    @property
    def hung(self) -> bool:
        return not self.finished and (self.hung_test is not None or self.returncode is None or bool(self.stack))


def _pytest_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", *args, "-q", "--tb=short", "-p", "no:cacheprovider",
            "-p", "no:nbval", "-p", "durable_dojo._kata.plugin"]


def run_pytest(root: Path, args: list[str], kata_root: Path, *, test_timeouts: dict[str, float],
               backstop: float) -> RunResult:
    """Run pytest on `args` (test files or node ids) in a child process, with `DOJO_KATA_ROOT` =
    `kata_root`, and collect per-test results.

    `test_timeouts` (test file path -> seconds): each test of a file must end within its
    seconds; then the child dumps its stacks and exits. `backstop` bounds the whole wait: at
    it the process group is killed (for a child that cannot end itself).
    """
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="dojo-run-"))
    report, trace = workdir / "report.jsonl", workdir / "stack.txt"
    env = dict(os.environ, DOJO_KATA_ROOT=str(kata_root), DOJO_REPORT=str(report), DOJO_TRACE=str(trace))
    env.pop("PYTEST_ADDOPTS", None)
    env["DOJO_TEST_TIMEOUTS"] = json.dumps({str(Path(k).resolve()): v for k, v in test_timeouts.items()})
    limit = backstop
    popen_extra = {"start_new_session": True} if os.name == "posix" else {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    proc = subprocess.Popen(_pytest_command(args), cwd=root, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen_extra)
    tail: deque[bytes] = deque()
    reader = threading.Thread(target=_keep_tail, args=(proc.stdout, tail), daemon=True)
    reader.start()
    killed = False
    try:
        remaining = max(0.0, limit - (time.monotonic() - started))
        proc.wait(timeout=remaining)
    except subprocess.TimeoutExpired:
        killed = True
        _kill_group(proc)
        proc.wait()
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    reader.join(timeout=2)
    result = RunResult(returncode=None if killed else proc.returncode)
    result.output = b"".join(tail).decode("utf-8", "replace")
    result.seconds = time.monotonic() - started
    _read_report(report, result)
    if trace.exists():
        result.stack = trace.read_text(encoding="utf-8", errors="replace")
    shutil.rmtree(workdir, ignore_errors=True)
    if result.hung_test and result.hung_test in result.tests:
        result.tests[result.hung_test].outcome = "hung"
    return result


def _keep_tail(stream, tail: deque, limit: int = 64 * 1024) -> None:
    size = 0
    for chunk in iter(lambda: stream.read1(8192), b""):
        tail.append(chunk)
        size += len(chunk)
        while size > limit and len(tail) > 1:
            size -= len(tail.popleft())


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _read_report(path: Path, result: RunResult) -> None:
    if not path.exists():
        return
    running: str | None = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        kind = event.get("event")
        if kind == "session":
            result.rootpath = Path(event["rootpath"])
        elif kind == "collected":
            result.collected = event["nodeids"]
        elif kind == "collect_error":
            result.collect_errors.append(f"{event['nodeid'] or 'collection'}: {event['message']}")
        elif kind == "start":
            running = event["nodeid"]
            _test(result, running)
        elif kind == "report":
            test = _test(result, event["nodeid"])
            when, outcome = event["when"], event["outcome"]
            test.duration += event.get("duration", 0.0)
            if outcome == "failed":
                if when == "call":
                    test.outcome = "failed"
                elif test.outcome not in FAILING:
                    test.outcome = "error"
                if not test.message:
                    prefix = "" if when == "call" else f"(in test {when}) "
                    test.message = prefix + event.get("message", "")
                    test.where = event.get("where", "") or test.where
            elif outcome == "skipped" and test.outcome not in FAILING:
                test.outcome = "skipped"
                test.message = event.get("message", "")
            elif outcome == "passed" and when == "call" and test.outcome == "not run":
                test.outcome = "passed"
        elif kind == "where":
            test = _test(result, event["nodeid"])
            test.where = test.where or event["where"]
        elif kind == "finish":
            running = None
        elif kind == "end":
            result.finished = True
    result.hung_test = None if result.finished else running


def _test(result: RunResult, nodeid: str) -> TestResult:
    test = result.tests.get(nodeid)
    if test is None:
        file_part, _, name = nodeid.partition("::")
        base = result.rootpath or Path.cwd()
        test = result.tests[nodeid] = TestResult(nodeid, (base / file_part).resolve(), name)
    return test


@dataclass
class Verdict:
    kata: Kata
    status: str  # passed | failed | hung | error
    tests: list[TestResult]
    seconds: float
    message: str = ""  # for hung / error: what happened, in words
    notes: list[str] = field(default_factory=list)  # the emulator's own hang/deadlock messages

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def check_kata(manifest: Manifest, kata: Kata, kata_root: Path | None = None) -> Verdict:
    """Run one kata's tests against the learner tree (`katas/`), within the kata's timeout."""
    root = manifest.root
    kata_root = kata_root or root / LEARNER_TREE
    run = run_pytest(root, list(kata.tests), kata_root, test_timeouts={root / t: kata.timeout for t in kata.tests},
                     backstop=backstop(manifest, [kata]))
    return verdict_from_run(manifest, kata, run, kata_root)


def backstop(manifest: Manifest, katas: list[Kata]) -> float:
    """The longest a run of `katas` can take: each test its kata's timeout, plus the start."""
    total = STARTUP_ALLOWANCE
    for kata in katas:
        count = 1
        for test in kata.tests:
            try:
                count += len(test_names(manifest.root / test))
            except (OSError, SyntaxError):
                pass
        total += kata.timeout * count
    return total


def verdict_from_run(manifest: Manifest, kata: Kata, run: RunResult, kata_root: Path) -> Verdict:
    for nodeid in run.collected:  # tests a hang kept from running
        _test(run, nodeid)
    tests = list(run.tests.values())
    notes = _emulator_notes(tests, run.output)
    if run.hung:
        where = stuck_where(run.stack, kata_root, manifest.root)
        running = run.tests.get(run.hung_test) if run.hung_test else None
        lines = [f"Kata {kata.id} did not finish within its timeout of {kata.timeout:g} s and was stopped."]
        stuck = f"Stuck in {running.name}" if running is not None else "Stuck"
        if where:
            location, _, code = where.partition(": ")
            lines.append(f"{stuck}, at {location}" + (f":\n    {code}" if code else ""))
        elif running is not None:
            lines.append(f"{stuck}.")
        lines.append(f"Likely cause: {LIKELY_HANG_CAUSE}.")
        return Verdict(kata, "hung", tests, run.seconds, "\n".join(lines), notes)
    if run.collect_errors:
        message = "The kata's tests could not be collected:\n" + "\n".join(run.collect_errors)
        return Verdict(kata, "error", tests, run.seconds, message, notes)
    if not tests:
        message = f"pytest ran no tests (exit code {run.returncode}). Its output ends with:\n{last_lines(run.output, 15)}"
        return Verdict(kata, "error", tests, run.seconds, message, notes)
    if any(t.outcome in FAILING or t.outcome == "not run" for t in tests) or run.returncode not in (0, None):
        if notes:
            notes.append(f"Likely cause: {LIKELY_HANG_CAUSE}.")
        return Verdict(kata, "failed", tests, run.seconds, "", notes)
    return Verdict(kata, "passed", tests, run.seconds, "", notes)


_EMULATOR_ERROR = re.compile(r"\b(HangTimeout|DeadlockError): ([^\n]+)")


def _emulator_notes(tests: list[TestResult], output: str) -> list[str]:
    notes: list[str] = []
    for text in [t.message for t in tests] + [output]:
        for kind, message in _EMULATOR_ERROR.findall(text):
            note = f"{kind}: {message.strip()}"
            if note not in notes:
                notes.append(note)
    return notes[:3]


def short_message(message: str, *, max_lines: int = 6, max_chars: int = 600) -> str:
    """A test failure message as a learner wants it: the kata test's own words, no pytest
    assertion rewriting, no module paths on exception names."""
    lines = message.strip().splitlines()
    if lines and lines[0].startswith("Failed: "):  # pytest.fail("...")
        lines[0] = lines[0][len("Failed: "):]
    if lines and lines[0].startswith("AssertionError: "):
        lines[0] = lines[0][len("AssertionError: "):]
        cut = next((i for i, l in enumerate(lines) if i and l.startswith("assert ")), None)
        if cut:
            lines = lines[:cut]
    elif lines and lines[0] == "AssertionError":
        lines = lines[1:] or ["the test's assertion failed"]
    if lines:
        lines[0] = re.sub(r"^(?:[A-Za-z_][\w]*\.)+(?=[A-Z]\w*(?:Error|Exception|Timeout|Abort)\b)", "", lines[0])
    text = "\n".join(l.rstrip() for l in lines[:max_lines])
    if len(lines) > max_lines:
        text += "\n…"
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"
