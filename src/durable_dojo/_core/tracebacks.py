"""Tracebacks as a learner reads them: their own frames, none of the emulator's.

An error raised in a handler reaches the caller as a copy (the platform's rule); the original,
with its traceback pruned to the learner's frames, is attached as the copy's cause, so pytest,
a notebook cell or the kata runner points at the line that raised. Frames of the emulator that
the caller's own traceback passes through (the stub's await, `Runtime.run`) carry
`__tracebackhide__`, which pytest and IPython honour. A world that can never finish names the
line where each waiting piece of code is stuck (`where_waiting`).
"""

from __future__ import annotations

import asyncio
import os
import types

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # durable_dojo/
_SRC = os.path.dirname(_PACKAGE)
# The emulator, the platform's modules it emulates (workers, js, pyodide) and asyncio's machinery.
_HIDDEN_DIRS = tuple(path + os.sep for path in (
    _PACKAGE, *(os.path.join(_SRC, name) for name in ("workers", "js", "pyodide")),
    os.path.dirname(os.path.abspath(asyncio.__file__)),
))


def is_emulator_file(filename: str) -> bool:
    """True for a file of the emulator (or of asyncio's machinery), whose frames learners never need."""
    return os.path.abspath(filename).startswith(_HIDDEN_DIRS)


def learner_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """`tb` without the emulator's frames (a new chain; `tb` itself is left as it is)."""
    frames = []
    while tb is not None:
        if not is_emulator_file(tb.tb_frame.f_code.co_filename):
            frames.append((tb.tb_frame, tb.tb_lasti, tb.tb_lineno))
        tb = tb.tb_next
    pruned = None
    for frame, lasti, lineno in reversed(frames):
        pruned = types.TracebackType(pruned, frame, lasti, lineno)
    return pruned


def prune(exc: BaseException) -> BaseException:
    """Prune the emulator's frames from `exc` and the errors chained to it; returns `exc`."""
    seen = set()
    link = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.__traceback__ = learner_traceback(link.__traceback__)
        link = link.__cause__ or link.__context__
    return exc


def _awaited_frames(awaitable):
    """The frames of a chain of awaits, outermost first: a coroutine's `cr_await`, a generator's
    `gi_yieldfrom`, down to the future (or nothing) at the bottom."""
    seen = 0
    while awaitable is not None and seen < 100:
        seen += 1
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None) \
            or getattr(awaitable, "ag_frame", None)
        if frame is not None:
            yield frame
        awaitable = (getattr(awaitable, "cr_await", None) or getattr(awaitable, "gi_yieldfrom", None)
                     or getattr(awaitable, "ag_await", None))


def where_waiting(task: asyncio.Task) -> str | None:
    """`function (file.py:line)` of the innermost learner frame `task` is suspended in, or None
    if the task runs only the emulator's code."""
    learner = [f for f in _awaited_frames(task.get_coro()) if not is_emulator_file(f.f_code.co_filename)]
    if not learner:
        return None
    frame = learner[-1]
    return f"{frame.f_code.co_name} ({os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno})"
