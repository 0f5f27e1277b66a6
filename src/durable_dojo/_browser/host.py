"""What the in-browser runner needs from Pyodide that Pyodide does not give as it is.

The host loop
    Pyodide's event loop (the browser's) cannot be run to completion from Python: its
    `run_until_complete` raises, since the browser's loop never blocks. Kata tests are
    `async def` functions run by pytest-asyncio, and a chapter cell may `await` at its top
    level, so they need a loop that runs to completion. The world never waits for real I/O
    (its clock is virtual, and awaiting a stub pumps the world synchronously), so a loop with no
    I/O at all is enough: `HostLoop`. When it has nothing ready and nothing scheduled, what it
    waits for can never happen, and it says so instead of blocking the worker.

The interrupt
    Learner code that never returns (`while True: pass`) holds the worker: a Web Worker runs
    one thing at a time, and the page cannot reach into it, only end it. Pyodide checks an
    "interrupt buffer" while Python runs (every few dozen bytecode jumps and calls) and raises the
    signal found there. The worker hands it one (runner-worker.js): the page writes SIGINT into it
    at the kata's timeout where the page is cross-origin isolated (a SharedArrayBuffer), and
    elsewhere the worker's own clock answers SIGINT once the deadline has passed. `interrupts()`
    turns that SIGINT into a record of where the code was (the stack, as `dojo check` reads it
    from faulthandler) and a KeyboardInterrupt at that point; the run then ends with the hang
    verdict naming the learner's line, and the same worker runs the next one, warm. Code that
    catches the KeyboardInterrupt and goes on cannot turn the hang into a pass: the record says
    it hung, and if it never returns the page ends the worker as before.

The platform's modules
    Pyodide has its own `js` (the browser's JavaScript globals) and `pyodide` (its FFI). Learner
    code written for Python Workers imports them too, and must get the emulator's: a `Date` on
    the world's clock, `WebSocketPair`, the `JsException` the emulator raises. The emulator's
    `js`/`pyodide` are loaded from the bundle under their own names and put in `sys.modules`
    only while learner code runs (`platform_modules`); Pyodide's own code, which imported the
    real ones at start, keeps them, and they are back once the run is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path
from types import ModuleType

from .._core.errors import DeadlockError


class _NoIO:
    """The host loop's selector: there is no I/O to wait for, only timers."""

    def select(self, timeout):
        if timeout is None:  # nothing ready, no timer: nothing can ever wake the awaited code
            raise DeadlockError(
                "The code awaits something that can never happen: nothing is scheduled that could "
                "wake it (a future nobody resolves, or an event that never comes)."
            )
        if timeout > 0:
            time.sleep(timeout)  # a host-side `asyncio.sleep(...)` in a test: real time, as in CPython
        return []

    def close(self):
        pass


class HostLoop(asyncio.BaseEventLoop):
    """An asyncio loop for the host side of the worker (tests, cells): no I/O, runs to completion."""

    def __init__(self):
        super().__init__()
        self._selector = _NoIO()

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass  # one thread: nothing to wake


class _HostLoopPolicy(asyncio.DefaultEventLoopPolicy if hasattr(asyncio, "DefaultEventLoopPolicy")
                      else asyncio.events.BaseDefaultEventLoopPolicy):
    """pytest-asyncio asks the event loop policy for its loops."""

    def new_event_loop(self):
        return HostLoop()


@contextlib.contextmanager
def host_loop_policy():
    """While it lasts: no running loop (Pyodide's is set aside) and new loops are `HostLoop`s."""
    pyodide_loop = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the policy API is deprecated in 3.14
        previous = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(_HostLoopPolicy())
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_event_loop_policy(previous)
        asyncio._set_running_loop(pyodide_loop)


# ----- the interrupt -----


def stack_dump(frame) -> str:
    """The stack from `frame` outwards, in faulthandler's words (what `stuck_where` reads)."""
    lines = ["Stack (most recent call first):"]
    for each, lineno in traceback.walk_stack(frame):
        lines.append(f'  File "{each.f_code.co_filename}", line {lineno} in {each.f_code.co_name}')
    return "\n".join(lines) + "\n"


class Interrupt:
    """What the first SIGINT of a run found: `stack` (empty if none came). Once `done` (the
    learner's code is over, the result is being made), a SIGINT is ignored."""

    def __init__(self, on_interrupt=None):
        self.stack = ""
        self.on_interrupt = on_interrupt  # called with this record when it first fires
        self.done = False

    def handler(self, signum, frame):
        if self.done:
            return
        if not self.stack:
            self.stack = stack_dump(frame)
            if self.on_interrupt is not None:
                try:
                    self.on_interrupt(self)
                except Exception:  # telling the page is a courtesy: the interrupt must happen
                    pass
        raise KeyboardInterrupt


_sleep = time.sleep
SLEEP_SLICE = 0.01


def _sleep_in_slices(seconds):
    """`time.sleep` that an interrupt can stop. Pyodide's sleeps in C without looking at the
    interrupt buffer; Python looks at it between these slices. (Counted in slices, not read
    from a clock: inside a world `time.monotonic` is the world's virtual clock.)"""
    if not seconds > 0:
        return _sleep(seconds)  # 0, or the error a negative or odd argument gets
    whole, rest = divmod(seconds, SLEEP_SLICE)
    for _ in range(int(whole)):
        _sleep(SLEEP_SLICE)
    return _sleep(rest)


@contextlib.contextmanager
def interrupts(on_interrupt=None):
    """While it lasts, a SIGINT records where the code was and raises KeyboardInterrupt there
    (and, under Pyodide, `time.sleep` can be interrupted too)."""
    record = Interrupt(on_interrupt)
    previous = signal.signal(signal.SIGINT, record.handler)
    sleep = time.sleep
    if sys.platform == "emscripten":
        time.sleep = _sleep_in_slices
    try:
        yield record
    finally:
        time.sleep = sleep
        signal.signal(signal.SIGINT, previous)


# ----- the platform's modules -----

PLATFORM_MODULES = ("js", "pyodide")
_emulated: dict[str, ModuleType] | None = None


def _platform_names(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in PLATFORM_MODULES)


def _load_emulated(src: Path) -> dict[str, ModuleType]:
    """The emulator's `js` and `pyodide` (with `pyodide.ffi`, `pyodide.http`), loaded from `src`."""
    real = {name: sys.modules.pop(name) for name in list(sys.modules) if _platform_names(name)}
    try:
        for top in PLATFORM_MODULES:
            folder = src / top
            spec = importlib.util.spec_from_file_location(top, folder / "__init__.py",
                                                          submodule_search_locations=[str(folder)])
            module = importlib.util.module_from_spec(spec)
            sys.modules[top] = module
            spec.loader.exec_module(module)  # `from . import ffi, http` finds them in `folder`
        return {name: sys.modules[name] for name in list(sys.modules) if _platform_names(name)}
    finally:
        for name in [n for n in sys.modules if _platform_names(n)]:
            del sys.modules[name]
        sys.modules.update(real)


def _emulated_modules() -> dict[str, ModuleType]:
    global _emulated
    if _emulated is None:
        import workers  # the SDK shim, next to js/ and pyodide/ in the bundle

        _emulated = _load_emulated(Path(workers.__file__).resolve().parent.parent)
    return _emulated


@contextlib.contextmanager
def platform_modules():
    """While it lasts, `import js` / `import pyodide.ffi` give the emulator's modules."""
    emulated = _emulated_modules()
    real = {name: sys.modules.pop(name) for name in list(sys.modules) if _platform_names(name)}
    sys.modules.update(emulated)
    try:
        yield
    finally:
        for name in [n for n in sys.modules if _platform_names(n)]:
            del sys.modules[name]
        sys.modules.update(real)


@contextlib.contextmanager
def learner_run():
    """Both: what a run of learner code (a kata's tests, a chapter's cell) needs."""
    with host_loop_policy(), platform_modules():
        yield
