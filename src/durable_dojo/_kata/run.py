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

import hmac
import json
import os
import re
import secrets
import select
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
from .manifest import (DEFAULT_TIMEOUT, LEARNER_TREE, Kata, Manifest, find_project_root, load_manifest,
                       load_shipped_manifest, name_matches, test_names)
from .pristine import PristineNotFound, export_shipped_tree, shipped_or_working
from .plugin import sign

# How long a child pytest may take to start and collect before its tests' timeout begins.
STARTUP_ALLOWANCE = 60.0
# How long a child asked to dump its stacks and end (SIGABRT) has before it is killed.
ABORT_GRACE = 15.0
# The memory a kata run may use (RLIMIT_DATA): far more than any kata needs.
MEMORY_LIMIT_MB = 1024
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
    returncode: int | None = None  # the child's exit code; None if it was stopped or killed
    signal: int | None = None  # the signal that killed the child, if one did
    finished: bool = False  # the session ended normally, as the plugin reported
    stopped: bool = False  # the runner stopped it: a test overran its timeout
    hung_test: str | None = None  # the node id that was running when it ended early
    forged: int = 0  # report lines that did not come from the plugin
    stack: str = ""  # faulthandler's dump of the stuck process
    output: str = ""  # the tail of the child's stdout and stderr
    seconds: float = 0.0
    rootpath: Path | None = None

    @property
    def hung(self) -> bool:
        return self.stopped


def command_running_pytest(args: list[str]) -> list[str]:
    """pytest on `args` with the kata plugin and nothing of the project's own setup (the browser
    runner takes the arguments after `-m pytest` from here too)."""
    return [sys.executable, "-m", "pytest", *args, "-q", "--tb=short", "-p", "no:cacheprovider",
            "-p", "no:nbval", "-p", "durable_dojo._kata.plugin"]


def run_pytest(root: Path, args: list[str], kata_root: Path, *, test_timeouts: dict[str, float],
               backstop: float, memory_mb: int = MEMORY_LIMIT_MB) -> RunResult:
    """Run pytest on `args` (test files or node ids) in a child process held by the sandbox
    (`sandbox.py`), with `DOJO_KATA_ROOT` = `kata_root`, and collect per-test results.

    `test_timeouts` (test file path -> seconds): each test of a file must end within its
    seconds of the child's own time (`_Timekeeper`); then the child dumps its stacks and is
    stopped. `backstop` bounds the whole run. `memory_mb` caps the child's memory.
    """
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="dojo-run-"))
    trace = workdir / "stack.txt"
    key = secrets.token_bytes(32)
    report_r, report_w = os.pipe()
    key_r, key_w = os.pipe()
    os.write(key_w, key)
    os.close(key_w)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOJO_")}
    env.pop("PYTEST_ADDOPTS", None)
    env.update(DOJO_KATA_ROOT=str(kata_root), DOJO_TRACE=str(trace), DOJO_REPORT_FD=str(report_w),
               DOJO_KEY_FD=str(key_r), DOJO_PASS_FDS=f"{report_w},{key_r}")
    timeouts = {str(Path(k).resolve()): v for k, v in test_timeouts.items()}
    # The sandbox runs as a script in an isolated interpreter without site (-I -S): it needs
    # only the standard library, and importing the package would cost every check its time.
    command = [sys.executable, "-I", "-S", str(Path(__file__).with_name("sandbox.py")), str(memory_mb), "--",
               *command_running_pytest(args)]
    try:
        proc = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, pass_fds=(report_w, key_r), start_new_session=True)
    finally:
        os.close(report_w)
        os.close(key_r)
    tail: deque[bytes] = deque()
    output = threading.Thread(target=_keep_tail, args=(proc.stdout, tail), daemon=True)
    output.start()
    channel = _Channel(report_r, key)
    clock = _Timekeeper(timeouts, default=max(test_timeouts.values(), default=DEFAULT_TIMEOUT), backstop=backstop)
    result = RunResult()
    try:
        while proc.poll() is None:
            channel.wait(0.05)
            if clock.overrun(channel):
                result.stopped = True
                _dump_and_stop(proc, channel.pid, trace)
                break
        proc.wait()
    except BaseException:
        _stop(proc)
        raise
    finally:
        channel.drain()
        output.join(timeout=5)
    code = proc.returncode
    if not result.stopped:
        if code > 128:
            result.signal = code - 128
        else:
            result.returncode = code
    result.output = b"".join(tail).decode("utf-8", "replace")
    result.seconds = time.monotonic() - started
    result.forged = channel.forged
    apply_events(channel.events, result)
    if trace.exists():
        result.stack = trace.read_text(encoding="utf-8", errors="replace")
    shutil.rmtree(workdir, ignore_errors=True)
    if result.stopped and result.hung_test and result.hung_test in result.tests:
        result.tests[result.hung_test].outcome = "hung"
    return result


class _Channel:
    """The plugin's report pipe, read as it arrives. A line whose signature does not verify
    (or that comes out of order: the signature covers its sequence number) is counted in
    `forged` and dropped."""

    def __init__(self, fd: int, key: bytes):
        self.fd, self.key = fd, key
        self.events: list[dict] = []
        self.arrived: list[float] = []  # when each event arrived (monotonic)
        self.forged = 0
        self.pid: int | None = None  # the child pytest's, from the session event
        self._buffer = b""
        self._open = True

    def wait(self, seconds: float) -> bool:
        """Read what arrives within `seconds`; False once the pipe is closed and read."""
        if not self._open:
            time.sleep(seconds)
            return False
        ready, _, _ = select.select([self.fd], [], [], seconds)
        if ready:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self._close()
                return False
            self._buffer += chunk
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                self._accept(line)
        return True

    def _accept(self, line: bytes) -> None:
        mac, _, payload = line.decode("utf-8", "replace").partition(" ")
        expected = sign(self.key, len(self.events) + 1, payload).partition(" ")[0]
        if not hmac.compare_digest(mac, expected):
            self.forged += 1
            return
        event = json.loads(payload)
        if event.get("event") == "session":
            self.pid = event.get("pid")
        self.events.append(event)
        self.arrived.append(time.monotonic())

    def drain(self) -> None:
        """Read what is left. The sandbox has ended, so every process that held the pipe is
        gone and the end of it comes at once."""
        deadline = time.monotonic() + 5
        while self._open and time.monotonic() < deadline:
            self.wait(0.2)
        self._close()

    def _close(self) -> None:
        if self._open:
            self._open = False
            os.close(self.fd)


class _Timekeeper:
    """When a test has overrun its timeout, in the child's own time: wall time minus the time
    its main thread waited for a CPU (Linux's /proc/PID/schedstat), so a busy machine makes a
    run slower but never turns it into a hang. Without schedstat, wall time. The clock
    restarts at each test's start and end; collection gets `STARTUP_ALLOWANCE` more."""

    def __init__(self, timeouts: dict[str, float], default: float, backstop: float):
        self.timeouts, self.default, self.backstop = timeouts, default, backstop
        self.mark: tuple[float, int] = (time.monotonic(), 0)  # (wall, CPU wait in ns) at the clock's start
        self.limit = STARTUP_ALLOWANCE + default
        self.seen = 0
        self.begun = time.monotonic()
        self.total_wait = 0

    @staticmethod
    def _waited(pid: int | None) -> int:
        if pid is None:
            return 0
        try:
            with open(f"/proc/{pid}/schedstat") as f:
                return int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            return 0

    def overrun(self, channel: _Channel) -> bool:
        while self.seen < len(channel.events):
            event = channel.events[self.seen]
            if event.get("event") in ("collected", "start", "finish"):
                self.mark = (channel.arrived[self.seen], self._waited(channel.pid))
                self.limit = self.default
                if event["event"] == "start":
                    root = Path(channel.events[0].get("rootpath", "."))
                    path = str((root / event["nodeid"].split("::", 1)[0]).resolve())
                    self.limit = self.timeouts.get(path, self.default)
            self.seen += 1
        now, waited = time.monotonic(), self._waited(channel.pid)
        wall, waited_then = self.mark
        own = (now - wall) - max(0, waited - waited_then) / 1e9
        self.total_wait = max(self.total_wait, waited)
        own_total = (now - self.begun) - self.total_wait / 1e9
        return own > self.limit or own_total > self.backstop


def _dump_and_stop(proc: subprocess.Popen, pid: int | None, trace: Path) -> None:
    """Ask the child for its stacks and its end (SIGABRT: faulthandler writes every thread's
    stack from C, even while the learner's code holds the interpreter, then the process dies),
    wait for the sandbox to see it die, so the dump is complete; then make sure the sandbox has
    killed every process of the run."""
    if pid is not None:
        try:
            os.kill(pid, signal.SIGABRT)
            proc.wait(timeout=ABORT_GRACE)
        except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
            pass
    _stop(proc)


def _keep_tail(stream, tail: deque, limit: int = 64 * 1024) -> None:
    size = 0
    for chunk in iter(lambda: stream.read1(8192), b""):
        tail.append(chunk)
        size += len(chunk)
        while size > limit and len(tail) > 1:
            size -= len(tail.popleft())


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the sandbox: it kills the child and every descendant, then exits."""
    if proc.poll() is None:
        try:
            proc.terminate()
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def apply_events(events: list[dict], result: RunResult) -> None:
    running: str | None = None
    for event in events:
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
    status: str  # passed | failed | hung | crashed (the process ended early) | error
    tests: list[TestResult]
    seconds: float
    message: str = ""  # for hung / error: what happened, in words
    notes: list[str] = field(default_factory=list)  # the emulator's own hang/deadlock messages

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def check_kata(manifest: Manifest, kata: Kata, kata_root: Path | None = None) -> Verdict:
    """Run one kata's tests against the learner's files (`katas/<id>/`, or `kata_root/<id>/`),
    within the kata's timeout, in a private copy of the project (see `run_kata_tests`)."""
    folder = (kata_root or manifest.root / LEARNER_TREE) / kata.id
    return _check_in_private_copy(manifest, kata, lambda dest: _copy_folder(folder, dest))


def run_kata_tests(kata: Kata | str, files: dict[str, str] | None = None, *,
                   manifest: Manifest | None = None) -> Verdict:
    """Run a kata's tests against the given learner files, the way `dojo check` does, and
    return the verdict: `verdict.passed`, and per test `verdict.tests[i].outcome` / `.message`.

    `files`: {file name: source}, the name as in the kata's folder (`"counter.py"`, or
    `"katas/01-counter-forgets/counter.py"`); a file not given is the shipped one. `manifest`:
    by default the project's shipped manifest (the working copy's without git or a package).

        verdict = run_kata_tests("01-counter-forgets", {"counter.py": source})
    """
    if manifest is None:
        manifest = default_manifest()
    if not isinstance(kata, Kata):
        kata = manifest.find(kata)

    def fill(dest: Path) -> None:
        _copy_folder(manifest.katas_dir / kata.id, dest)
        prefix = f"{LEARNER_TREE}/{kata.id}/"
        for name, source in (files or {}).items():
            rel = name[len(prefix):] if name.startswith(prefix) else name
            target = (dest / rel).resolve()
            if not target.is_relative_to(dest.resolve()):
                raise ValueError(f"{name}: not a file of kata {kata.id}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source, encoding="utf-8")

    return _check_in_private_copy(manifest, kata, fill)


def default_manifest() -> Manifest:
    """The manifest `dojo` works from: as shipped (so learner code cannot change it), or the
    working copy's in a project that has neither git nor a packaged copy."""
    root = find_project_root()
    try:  # its files are read as shipped when they are used: one deleted is no problem
        return load_shipped_manifest(root, check_files=False)
    except PristineNotFound:
        return load_manifest(root)


def _copy_folder(source: Path, dest: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
    else:
        dest.mkdir(parents=True, exist_ok=True)


def _check_in_private_copy(manifest: Manifest, kata: Kata, fill_learner_folder) -> Verdict:
    """The kata's tests and pytest settings as shipped, and the learner's folder, copied to a
    fresh temporary project: what the learner's code does to the project's files during the
    run cannot change this check (and the files can be restored with `dojo reset`)."""
    with tempfile.TemporaryDirectory(prefix="dojo-check-") as private:
        work = Path(private)
        for folder in sorted({Path(t).parent.as_posix() for t in kata.tests}):
            export_shipped_tree(manifest.root, folder, work / folder)
        for name in PYTEST_SETTINGS:
            if (manifest.root / name).is_file():
                (work / name).write_bytes(shipped_or_working(manifest.root, name))
        fill_learner_folder(work / LEARNER_TREE / kata.id)
        kata_root = work / LEARNER_TREE
        run = run_pytest(work, list(kata.tests), kata_root, test_timeouts={work / t: kata.timeout for t in kata.tests},
                         backstop=backstop(manifest, [kata]))
        expected = set()
        for test in kata.tests:
            try:
                expected |= test_names(work / test)
            except (OSError, SyntaxError):
                pass
        return verdict_from_run(manifest, kata, run, kata_root, project=work, expected=expected)


# The files that hold pytest's settings for the kata tests (asyncio mode...), copied as shipped.
PYTEST_SETTINGS = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini")


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


def verdict_from_run(manifest: Manifest, kata: Kata, run: RunResult, kata_root: Path, *,
                     project: Path | None = None, expected: set[str] | None = None) -> Verdict:
    """The verdict on one run. "passed" needs all of: the session ended normally, pytest's exit
    code 0, every report line from the plugin, every test collected (`expected`: the test names
    of the kata's files) and passed."""
    project = project or manifest.root
    for nodeid in run.collected:  # tests an early end kept from running
        _test(run, nodeid)
    tests = list(run.tests.values())
    notes = _emulator_notes(tests, run.output) + _code_notes(tests, run.output)
    running = run.tests.get(run.hung_test) if run.hung_test else None
    if run.forged:
        message = (f"{run.forged} line(s) reached the runner's report channel that the kata's tests did not write, "
                   "so this run cannot be trusted. Does your code write to files or pipes it did not open?")
        return Verdict(kata, "error", tests, run.seconds, message, notes)
    if run.hung:
        where = stuck_where(run.stack, kata_root, project)
        lines = [f"Kata {kata.id} did not finish within its timeout of {kata.timeout:g} s and was stopped."]
        stuck = f"Stuck in {running.name}" if running is not None else "Stuck"
        if where:
            location, _, code = where.partition(": ")
            lines.append(f"{stuck}, at {location}" + (f":\n    {code}" if code else ""))
        elif running is not None:
            lines.append(f"{stuck}.")
        lines.append(f"Likely cause: {LIKELY_HANG_CAUSE}.")
        return Verdict(kata, "hung", tests, run.seconds, "\n".join(lines), notes)
    if not run.finished:
        during = f" while running {running.name}" if running is not None else ""
        if run.signal is not None:
            name = _signal_name(run.signal)
            message = f"The process running the tests was killed by signal {name}{during}."
            if run.signal == signal.SIGKILL:
                message += " (The system kills a process that runs out of memory this way.)"
        else:
            message = (f"The process running the tests exited{during}, with exit code {run.returncode}, "
                       "before the tests finished: something called os._exit() (or ended the process "
                       "another way), and the remaining tests did not run.")
        return Verdict(kata, "crashed", tests, run.seconds, message, notes)
    if run.collect_errors:
        message = "The kata's tests could not be collected:\n" + "\n".join(run.collect_errors)
        return Verdict(kata, "error", tests, run.seconds, message, notes)
    if not tests:
        message = f"pytest ran no tests (exit code {run.returncode}). Its output ends with:\n{last_lines(run.output, 15)}"
        return Verdict(kata, "error", tests, run.seconds, message, notes)
    missing = sorted(n for n in (expected or set()) if "::" not in n and not any(
        name_matches(n, t.name) for t in tests))
    if missing:
        message = "These tests of the kata did not run: " + ", ".join(missing)
        return Verdict(kata, "error", tests, run.seconds, message, notes)
    stuck = next((t for t in tests if t.outcome in FAILING and "HangTimeout" in t.message), None)
    if stuck is not None:  # the emulator's own guard stopped code that did not return
        stuck.outcome = "hung"
        lines = [f"Kata {kata.id} did not finish: the emulator stopped {stuck.name}, whose code did not return."]
        if stuck.where:
            location, _, code = stuck.where.partition(": ")
            lines.append(f"Stuck in {stuck.name}, at {location}" + (f":\n    {code}" if code else ""))
        lines.append(f"Likely cause: {LIKELY_HANG_CAUSE}.")
        return Verdict(kata, "hung", tests, run.seconds, "\n".join(lines), notes)
    if any(t.outcome != "passed" for t in tests) or run.returncode != 0:
        if any(n.startswith(("HangTimeout", "DeadlockError")) for n in notes):
            notes.append(f"Likely cause: {LIKELY_HANG_CAUSE}.")
        return Verdict(kata, "failed", tests, run.seconds, "", notes)
    return Verdict(kata, "passed", tests, run.seconds, "", notes)


def _signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name} ({number})"
    except ValueError:
        return str(number)


def _code_notes(tests: list[TestResult], output: str) -> list[str]:
    """What the learner's code did to the process, said as what it is."""
    notes = []
    texts = [t.message for t in tests]
    if any("MemoryError" in text for text in texts + [output]):
        notes.append(f"Your code used more than {MEMORY_LIMIT_MB} MB of memory, the limit for a kata run, "
                     "and the allocation failed (MemoryError). Look for a list, string or dict that grows without end.")
    exits = [m for text in texts for m in re.findall(r"\bSystemExit\b:?\s*([^\n]*)", text)]
    if exits:
        code = exits[0].strip()
        notes.append(f"Your code called sys.exit({code}): that raises SystemExit, which fails the test that ran it.")
    strays = re.search(r"\[dojo\] stopped (\d+) process\(es\) left running", output)
    if strays:
        notes.append(f"Your code started {strays.group(1)} process(es) that were still running after the tests; "
                     "the runner stopped them.")
    return notes


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
