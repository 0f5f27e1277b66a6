"""The pytest plugin of a kata run (`-p durable_dojo._kata.plugin`), active only when the runner
set `DOJO_REPORT`: one JSON line per event to that file, flushed at once (collected, test
started, phase report, where in the learner's code a failure was raised), and the timeouts
(`faulthandler.dump_traceback_later(exit=True)`: the stacks of a stuck process, then exit).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .frames import FRAME, describe_line, last_lines, under
from .run import STARTUP_ALLOWANCE


class _Reporter:
    def __init__(self, report: str, trace: str | None, kata_root: str | None):
        self.out = open(report, "a", encoding="utf-8")
        self.trace = open(trace, "w", encoding="utf-8") if trace else sys.stderr
        self.kata_root = Path(kata_root).resolve() if kata_root else None
        timeouts = os.environ.get("DOJO_TEST_TIMEOUTS")
        self.test_timeouts: dict[str, float] = json.loads(timeouts) if timeouts else {}
        self.longest = max(self.test_timeouts.values(), default=None)
        self.rootpath: Path | None = None

    def emit(self, **event) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    def arm(self, seconds: float | None) -> None:
        """In `seconds`, dump every thread's stack to the trace file and exit (the runner reads
        the stack to name the learner's stuck line)."""
        import faulthandler

        if seconds is not None:
            faulthandler.dump_traceback_later(seconds, exit=True, file=self.trace)

    # The clock: a test's timeout counts from its start (a slow start of pytest or an earlier
    # test never uses it up); collection gets a generous allowance, as it runs no learner code.
    def arm_startup(self) -> None:
        self.arm(None if self.longest is None else STARTUP_ALLOWANCE + self.longest)

    def arm_between_tests(self) -> None:
        self.arm(self.longest)

    def arm_test(self, nodeid: str) -> None:
        if self.rootpath is None:
            return
        path = str((self.rootpath / nodeid.split("::", 1)[0]).resolve())
        self.arm(self.test_timeouts.get(path, self.longest))

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
        return crash.message
    return last_lines(str(longrepr), 20)


_reporter: _Reporter | None = None


def pytest_configure(config) -> None:
    global _reporter
    report = os.environ.get("DOJO_REPORT")
    if not report or _reporter is not None:
        return
    _reporter = _Reporter(report, os.environ.get("DOJO_TRACE"), os.environ.get("DOJO_KATA_ROOT"))
    _reporter.rootpath = Path(config.rootpath)
    _reporter.emit(event="session", rootpath=str(config.rootpath))
    _reporter.arm_startup()


def pytest_collectreport(report) -> None:
    if _reporter is not None and report.failed:
        _reporter.emit(event="collect_error", nodeid=report.nodeid, message=last_lines(report.longreprtext, 25))


def pytest_collection_finish(session) -> None:
    if _reporter is not None:
        _reporter.emit(event="collected", nodeids=[item.nodeid for item in session.items])
        _reporter.arm_between_tests()


def pytest_runtest_logstart(nodeid, location) -> None:
    if _reporter is not None:
        _reporter.emit(event="start", nodeid=nodeid)
        _reporter.arm_test(nodeid)


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
        _reporter.arm_between_tests()
        _reporter.emit(event="finish", nodeid=nodeid)


def pytest_unconfigure(config) -> None:
    global _reporter
    if _reporter is not None:
        import faulthandler

        faulthandler.cancel_dump_traceback_later()
        _reporter.emit(event="end")
        _reporter.out.close()
        _reporter = None

