"""The pytest plugin of a kata run (`-p durable_dojo._kata.plugin`), active only when the runner
handed it a report channel (`DOJO_REPORT_FD`).

It reports one line per event (session, collected, test started, phase report, where in the
learner's code a failure was raised, end) on a pipe to the runner, as soon as it happens, so
the runner knows every finished test even if the child has to be stopped.

The learner's code runs in this process, so the channel is made hard to forge: the plugin reads
a key from a second pipe and closes it before any test runs (the key is in no file and in no
environment variable), removes the channel's variables from the environment, keeps the report
pipe from being inherited by processes the tests start, and signs every line with HMAC-SHA256
over a sequence number. The runner drops the run if a line does not verify.

On SIGABRT (sent by the runner when a test overruns its timeout) faulthandler writes every
thread's stack to `DOJO_TRACE`, from C, even if the learner's code holds the interpreter, and
the process ends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from .frames import FRAME, describe_line, last_lines, under

CHANNEL_VARIABLES = ("DOJO_REPORT_FD", "DOJO_KEY_FD", "DOJO_TRACE")


def sign(key: bytes, seq: int, payload: str) -> str:
    """The line for event number `seq`: its MAC, a space, the JSON payload."""
    mac = hmac.new(key, f"{seq}:{payload}".encode(), hashlib.sha256).hexdigest()
    return f"{mac} {payload}"


class _Reporter:
    def __init__(self, report_fd: int, key: bytes, trace: str | None, kata_root: str | None):
        self.fd = report_fd
        self.key = key
        self.seq = 0
        self.trace = open(trace, "w", encoding="utf-8") if trace else None
        self.kata_root = Path(kata_root).resolve() if kata_root else None
        self.rootpath: Path | None = None

    def emit(self, **event) -> None:
        self.seq += 1
        line = (sign(self.key, self.seq, json.dumps(event)) + "\n").encode()
        try:
            while line:
                line = line[os.write(self.fd, line):]
        except OSError:
            pass  # the runner stopped listening (or the tests closed the pipe): it notices

    def where(self, excinfo) -> str:
        """The innermost frame of the learner's code in a failure's traceback. An error that
        crossed a stub carries the object's frames in its cause (a RemoteTraceback, as text)."""
        if self.kata_root is None or excinfo is None:
            return ""
        import traceback

        chain, exc = [], excinfo.value
        while exc is not None and exc not in chain and len(chain) < 10:
            chain.append(exc)
            exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        project = self.rootpath or Path.cwd()
        for exc in reversed(chain):  # the original error first
            if isinstance(exc, SyntaxError) and exc.filename and under(exc.filename, self.kata_root):
                return describe_line(Path(exc.filename), exc.lineno or 0, "<module>", project)
            frames = [(f.filename, f.lineno, f.name) for f in traceback.extract_tb(exc.__traceback__)]
            frames += [(m["path"], int(m["line"]), m["func"]) for m in FRAME.finditer(str(exc))]
            for path, line, func in reversed(frames):
                if under(path, self.kata_root):
                    return describe_line(Path(path), line, func, project)
        return ""


def _longrepr_message(report) -> str:
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return _python_error_in_short(crash.message)
    return last_lines(str(longrepr), 20)


def _python_error_in_short(message: str) -> str:
    """An exception raised in the object reaches the test as a PythonError whose message is its
    whole traceback; the line under it already says where: keep the exception's own line."""
    head, _, rest = message.partition(": PythonError: Traceback (most recent call last):")
    if not rest or not head.endswith("JsException"):
        return message
    return f"JsException: PythonError (raised in the object) {rest.rstrip().splitlines()[-1]}"


_reporter: _Reporter | None = None


def _open_channel() -> _Reporter | None:
    report_fd, key_fd = os.environ.get("DOJO_REPORT_FD"), os.environ.get("DOJO_KEY_FD")
    trace, kata_root = os.environ.get("DOJO_TRACE"), os.environ.get("DOJO_KATA_ROOT")
    for name in CHANNEL_VARIABLES:
        os.environ.pop(name, None)
    if not report_fd or not key_fd:
        return None
    with os.fdopen(int(key_fd), "rb") as pipe:  # closed before any test runs
        key = pipe.read()
    os.set_inheritable(int(report_fd), False)
    reporter = _Reporter(int(report_fd), key, trace, kata_root)
    return reporter


def pytest_configure(config) -> None:
    global _reporter
    if _reporter is not None:
        return
    _reporter = _open_channel()
    if _reporter is None:
        return
    _reporter.rootpath = Path(config.rootpath)
    _reporter.emit(event="session", rootpath=str(config.rootpath), pid=os.getpid())


def pytest_sessionstart(session) -> None:
    """After pytest's own faulthandler set-up: a fatal signal (the runner sends SIGABRT to a
    test that overran its timeout) writes every thread's stack to the trace file, from C, then
    ends the process, so the stack is complete once the process is gone."""
    if _reporter is not None and _reporter.trace is not None:
        import faulthandler

        faulthandler.enable(file=_reporter.trace, all_threads=True)


def pytest_collectreport(report) -> None:
    if _reporter is not None and report.failed:
        _reporter.emit(event="collect_error", nodeid=report.nodeid, message=last_lines(report.longreprtext, 25))


def pytest_collection_finish(session) -> None:
    if _reporter is not None:
        _reporter.emit(event="collected", nodeids=[item.nodeid for item in session.items])


def pytest_runtest_logstart(nodeid, location) -> None:
    if _reporter is not None:
        _reporter.emit(event="start", nodeid=nodeid)


def pytest_exception_interact(node, call, report) -> None:
    if _reporter is not None and getattr(report, "when", None) in ("setup", "call", "teardown"):
        where = _reporter.where(call.excinfo)
        if where:
            _reporter.emit(event="where", nodeid=report.nodeid, where=where)


def pytest_runtest_logreport(report) -> None:
    if _reporter is not None:
        message = _longrepr_message(report) if report.outcome != "passed" else ""
        _reporter.emit(event="report", nodeid=report.nodeid, when=report.when, outcome=report.outcome,
                       message=message, duration=report.duration)


def pytest_runtest_logfinish(nodeid, location) -> None:
    if _reporter is not None:
        _reporter.emit(event="finish", nodeid=nodeid)


def pytest_unconfigure(config) -> None:
    global _reporter
    if _reporter is not None:
        _reporter.emit(event="end", exitstatus=getattr(config, "_dojo_exitstatus", None))
        _reporter = None


def pytest_sessionfinish(session, exitstatus) -> None:
    session.config._dojo_exitstatus = int(exitstatus)

