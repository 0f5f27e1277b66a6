"""Hang protection and the CPU limit: code that never yields must still end, with a clear message.

An `await` that never finishes is caught by the pump itself (deadlock or wall-clock limit), but
a busy loop, a `time.sleep()` or a runaway SQL query inside a handler never returns control to
it. A daemon thread watches two deadlines:

* the *hang timeout* (wall clock, for learners): once it passes, `HangTimeout` is raised inside
  the pumping thread;
* the *CPU limit* (the platform's, 30 s per event by default): each callback of an event runs
  with the CPU time its event has left (`run_metered`); once the process's CPU clock passes
  it, the object is reset with the platform's error and `CpuLimitExceeded` is raised inside the
  running code, as the Python Workers runtime does on SIGXCPU.

On the main thread the exception arrives by a signal (SIGUSR2, whose handler we install only if
nobody else did), which also interrupts a blocking `time.sleep()`; on other threads it is
injected between two bytecodes. SQLite's C code sees neither: `sqlite_progress` is installed as
the progress handler of the SQL API's connection and stops a statement once a deadline passed
(or the server is shutting down); `interruption()` then says what to raise instead of SQLite's
"interrupted". Where threads cannot start (Pyodide), the progress handler checks the hang
timeout itself, so a runaway query still ends; Python code that never yields cannot be stopped
from inside the process there (the in-browser runner's page ends its Web Worker instead).
"""

from __future__ import annotations

import signal
import threading
import time

from .errors import HangTimeout, JsError, mark_remote

_real_monotonic = time.monotonic  # taken before clocks.install(): deadlines are real time

_POLL_SECONDS = 0.25

#: What the caller of an object that used up its CPU budget sees (production's wording).
CPU_LIMIT_MESSAGE = "Durable Object exceeded its CPU time limit and was reset."
#: What the code that was running sees (workerd's Python runtime, `introspection.py`).
PYTHON_CPU_LIMIT_MESSAGE = "Python Worker exceeded CPU time limit"
#: The platform's default and maximum of `limits.cpu_ms`.
DEFAULT_CPU_LIMIT_MS = 30_000
MAX_CPU_LIMIT_MS = 300_000
#: SQLite calls the progress handler every this many virtual machine instructions.
SQLITE_PROGRESS_STEPS = 10_000


class CpuLimitExceeded(BaseException):
    """Raised in code whose event used up its CPU budget. A BaseException, as on the platform,
    so `except Exception` cannot swallow it; the object has been reset already."""


class _State:
    deadline: float | None = None
    what: str = ""
    thread_id: int | None = None
    fired: bool = False
    timeout_seconds: float = 0.0
    # The CPU limit: the callback being metered, and the CPU clock value where its budget ends.
    cpu_run: int = 0
    cpu_thread: int | None = None
    cpu_deadline: float | None = None
    cpu_poll: float = _POLL_SECONDS
    cpu_fired: int = 0  # the run found over budget (0: none)
    cpu_instance = None  # the metered object's instance: reset once, when the limit is enforced
    cpu_event = None  # the event whose callback is being metered
    cpu_started: float = 0.0  # the CPU clock when that callback started
    cpu_ended_by = None  # the event whose handler ended in that callback (cpu_clock_at_end), else None
    cpu_ended: float = 0.0  # the CPU clock when it ended
    stopping: bool = False  # the process is shutting down: stop SQL statements
    in_sqlite: int = 0  # > 0 while a SQL API statement runs (its callbacks are Python code too)


_state = _State()
_lock = threading.Lock()
_thread: threading.Thread | None = None
# The CPU clock the limit is measured on: the process's. A thread's own clock would leave out the
# watchdog's (sleeping) thread, but reading it costs a system call of ~10 us here, twice per
# callback on the hot path (about a fifth of an RPC); the process clock costs ~0.5 us.
_cpu_now = time.process_time


def _interrupt(tid: int, exc_class) -> None:
    if tid == threading.main_thread().ident and _signal_installed:
        signal.pthread_kill(tid, signal.SIGUSR2)
    else:
        import ctypes  # only here: loading it costs every `import durable_dojo` a few ms

        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(exc_class))


def _watch() -> None:
    while True:
        hang_poll = max(_state.timeout_seconds / 5, 0.02) if _state.deadline is not None else _POLL_SECONDS
        time.sleep(min(_POLL_SECONDS, hang_poll, _state.cpu_poll))
        target = None
        with _lock:
            deadline, tid = _state.deadline, _state.thread_id
            if deadline is not None and tid is not None and _real_monotonic() >= deadline:
                _state.fired = True
                _state.deadline = None
                target = (tid, HangTimeout)
            cpu_tid, run = _state.cpu_thread, _state.cpu_run
            if target is None and cpu_tid is not None:
                if _state.cpu_fired == run:
                    target = (cpu_tid, CpuLimitExceeded)  # still running after the first signal: again
                else:
                    # read once: run_metered clears it without the lock as its callback ends
                    cpu_deadline = _state.cpu_deadline
                    if cpu_deadline is not None and _cpu_now() > cpu_deadline:
                        _state.cpu_fired = run
                        target = (cpu_tid, CpuLimitExceeded)
        if target is not None:
            _interrupt(*target)


_signal_installed = False


def _on_signal(signum, frame):
    if _state.in_sqlite:
        return  # inside SQLite (an authorizer or progress callback): the progress handler stops it
    if _state.cpu_fired and _state.cpu_fired == _state.cpu_run and _state.cpu_thread is not None:
        raise _cpu_exceeded()
    if _state.fired:
        raise timeout_error()  # with its message: it may land in the pump itself, not in an event


def _install_signal_handler() -> None:
    global _signal_installed
    if _signal_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGUSR2) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGUSR2, _on_signal)
        _signal_installed = True


def _start_thread() -> None:
    global _thread
    if _thread is None:
        try:
            thread = threading.Thread(target=_watch, name="durable-dojo-watchdog", daemon=True)
            thread.start()
        except RuntimeError:  # no threads (Pyodide): the checks between callbacks remain
            return
        _thread = thread


def arm(seconds: float | None, what: str) -> None:
    """Start watching the calling thread for `seconds` until `disarm()`; None means no limit."""
    if seconds is None:
        return
    _install_signal_handler()
    _start_thread()
    with _lock:
        _state.fired = False
        _state.what = what
        _state.timeout_seconds = seconds
        _state.thread_id = threading.get_ident()
        _state.deadline = _real_monotonic() + seconds


def disarm() -> None:
    with _lock:
        _state.deadline = None
        _state.thread_id = None


def fired() -> bool:
    return _state.fired


def timeout_error(what: str | None = None) -> HangTimeout:
    what = what or _state.what
    seconds = _state.timeout_seconds
    return HangTimeout(
        f"{what} did not finish within {seconds:g} s of real time. Code in the world is stuck: "
        "a busy loop, a blocking call such as time.sleep(), or an endless chain of awaits. "
        "Durable Objects are single-threaded: blocking code stops every request to the object."
    )


def take_timeout() -> HangTimeout:
    """The error to raise once the watchdog fired; clears the flag."""
    _state.fired = False
    return timeout_error()


# ----- the CPU limit -----


def cpu_limit_error() -> JsError:
    """The error callers of an object that exceeded its CPU limit get (the object was reset)."""
    error = JsError(CPU_LIMIT_MESSAGE)
    return mark_remote(error, remote=False, reset=True)


def _cpu_exceeded() -> CpuLimitExceeded:
    """Enforce the limit on the metered callback: reset its object (once), and return what to
    raise in its code."""
    instance, _state.cpu_instance = _state.cpu_instance, None
    if instance is not None:
        instance.reset(cpu_limit_error())
    return CpuLimitExceeded(PYTHON_CPU_LIMIT_MESSAGE)


def run_metered(handle, event, instance, limit_seconds: float) -> None:
    """Run `handle` (a callback of `event` in `instance`) within the CPU time its event has left.

    Each event (request, RPC call, alarm, WebSocket message) has its own budget, counted over
    every callback it runs; time spent awaiting does not count. Past the budget the instance is
    reset with the platform's error and the callback gets `CpuLimitExceeded`."""
    state = _state
    spent = event.cpu_seconds
    started = _cpu_now()
    run = state.cpu_run + 1
    state.cpu_run = run
    state.cpu_started = started
    state.cpu_event = event
    state.cpu_deadline = started + max(limit_seconds - spent, 0.0)
    state.cpu_instance = instance
    if state.cpu_thread is None:
        state.cpu_thread = threading.get_ident()
        state.cpu_poll = min(_POLL_SECONDS, max(limit_seconds / 5, 0.005))
        _install_signal_handler()
        _start_thread()
    landed_outside = False
    try:
        try:
            handle._run()
        finally:
            state.cpu_run = run + 1  # first: a signal still on its way finds another run and does nothing
            state.cpu_deadline = None
            state.cpu_event = None
    except CpuLimitExceeded:
        # The signal reached this frame, not the callback's code (on a busy machine it can arrive
        # just as the callback ends). Let it go no further, into the code that drives the loop
        # (`dojo serve` answered such a request with its server's bare 500); the object is reset below.
        landed_outside = True
    if state.cpu_ended_by is event:  # the handler ended in this callback: its reading is the end (a system call less)
        state.cpu_ended_by = None
        ended = state.cpu_ended
    else:
        ended = _cpu_now()
    event.cpu_seconds = spent + (ended - state.cpu_started)  # moved on by time run_sync was suspended
    over = landed_outside or state.cpu_fired == run or event.cpu_seconds > limit_seconds
    state.cpu_fired = 0
    to_reset, state.cpu_instance = state.cpu_instance, None
    if over and to_reset is not None and to_reset.alive:
        to_reset.reset(cpu_limit_error())  # the budget ran out where no signal could land (no watchdog thread)


def pause_metering():
    """The metered callback calls run_sync and is suspended: callbacks that run meanwhile are
    metered on their own, and their time is not the suspended one's. Returns what
    `resume_metering` needs (None: nothing was being metered)."""
    state = _state
    if state.cpu_event is None:
        return None
    paused = (state.cpu_run, state.cpu_event, state.cpu_instance, state.cpu_deadline, state.cpu_started, _cpu_now())
    state.cpu_run += 1  # a signal still on its way for the suspended run finds another one
    state.cpu_deadline = state.cpu_event = state.cpu_instance = None
    return paused


def resume_metering(paused) -> None:
    """The suspended callback goes on: its budget and its start move on by the time it was away."""
    if paused is None:
        return
    state = _state
    run, event, instance, deadline, started, paused_at = paused
    away = _cpu_now() - paused_at
    state.cpu_run = run  # the number the suspended callback's run_metered checks when it ends
    state.cpu_fired = 0
    state.cpu_event, state.cpu_instance = event, instance
    state.cpu_started = started + away
    state.cpu_deadline = None if deadline is None else deadline + away


def cpu_clock_at_start(event) -> float:
    """The CPU clock as `event`'s handler starts: the reading `run_metered` took as it started
    the callback that is running it (which saves a system call on every event), else now."""
    state = _state
    return state.cpu_started if state.cpu_event is event else _cpu_now()


def cpu_clock_at_end(event) -> float:
    """The CPU clock as `event`'s handler ends. If a metered callback of the event is running
    (the one the handler ends in), `run_metered` takes this reading as the callback's end too:
    one system call less on every event."""
    now = _cpu_now()
    state = _state
    if state.cpu_event is event:
        state.cpu_ended_by = event
        state.cpu_ended = now
    return now


def stop_sql() -> None:
    """The process is shutting down: stop any SQL statement that is running, at once."""
    _state.stopping = True


class in_sqlite:
    """Around a call into SQLite for user SQL: an exception raised in one of its callbacks would
    be swallowed by SQLite, so the watchdog leaves the stopping to `sqlite_progress`."""

    __slots__ = ()

    def __enter__(self):
        _state.in_sqlite += 1

    def __exit__(self, *exc):
        _state.in_sqlite -= 1


IN_SQLITE = in_sqlite()


def sqlite_progress() -> int:
    """SQLite's progress handler: non-zero stops the statement (SQLITE_INTERRUPT)."""
    state = _state
    if state.fired or state.stopping:
        return 1
    if state.cpu_fired and state.cpu_fired == state.cpu_run:
        return 1
    deadline = state.cpu_deadline
    if deadline is not None and _cpu_now() > deadline:
        state.cpu_fired = state.cpu_run
        return 1
    if _thread is None:  # no watchdog thread (Pyodide): the handler watches the hang timeout itself
        with _lock:
            if state.deadline is not None and state.thread_id is not None and time.monotonic() >= state.deadline:
                state.fired = True
                state.deadline = None
                return 1
    return 0


def interruption() -> BaseException | None:
    """What to raise for a SQL statement the progress handler stopped (None: it was not us)."""
    state = _state
    if state.cpu_fired and state.cpu_fired == state.cpu_run:
        return _cpu_exceeded()
    if state.fired:
        return HangTimeout()
    if state.stopping:
        return KeyboardInterrupt()
    return None


def check_cpu_limit(ms) -> float | None:
    """`cpu_limit_ms` (or Wrangler's `limits.cpu_ms`) validated, in seconds (None: no limit)."""
    if ms is None:
        return None
    if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not 0 < ms <= MAX_CPU_LIMIT_MS:
        raise ValueError(f"the CPU limit must be a number of milliseconds from 1 to {MAX_CPU_LIMIT_MS:,}, not {ms!r}")
    return ms / 1000.0
