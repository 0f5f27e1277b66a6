"""Hang protection: learner code that never yields must end with a clear message.

An `await` that never finishes is caught by the pump itself (deadlock or wall-clock limit), but
a busy loop or a `time.sleep()` inside a handler never returns control to it. A daemon thread
checks a deadline four times a second; once it passes, it raises `HangTimeout` inside the
pumping thread. On the main thread it does so with a signal (SIGUSR2, whose handler we install
only if nobody else did), which also interrupts a blocking `time.sleep()`; on other threads it
injects the exception between two bytecodes. The pump turns what arrives into a `HangTimeout`
naming what was running.
"""

from __future__ import annotations

import signal
import threading
import time

from .errors import HangTimeout

_POLL_SECONDS = 0.25


class _State:
    deadline: float | None = None
    what: str = ""
    thread_id: int | None = None
    fired: bool = False
    timeout_seconds: float = 0.0


_state = _State()
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _watch() -> None:
    while True:
        time.sleep(min(_POLL_SECONDS, max(_state.timeout_seconds / 5, 0.02)))
        with _lock:
            deadline, tid = _state.deadline, _state.thread_id
            if deadline is None or tid is None or time.monotonic() < deadline:
                continue
            _state.fired = True
            _state.deadline = None
        if tid == threading.main_thread().ident and _signal_installed:
            signal.pthread_kill(tid, signal.SIGUSR2)
        else:
            import ctypes  # only here: loading it costs every `import durable_dojo` a few ms

            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(HangTimeout))


_signal_installed = False


def _on_signal(signum, frame):
    if _state.fired:
        raise HangTimeout()


def _install_signal_handler() -> None:
    global _signal_installed
    if _signal_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGUSR2) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGUSR2, _on_signal)
        _signal_installed = True


def arm(seconds: float | None, what: str) -> None:
    """Start watching the calling thread for `seconds` until `disarm()`; None means no limit."""
    global _thread
    if seconds is None:
        return
    _install_signal_handler()
    if _thread is None:
        _thread = threading.Thread(target=_watch, name="durable-dojo-watchdog", daemon=True)
        _thread.start()
    with _lock:
        _state.fired = False
        _state.what = what
        _state.timeout_seconds = seconds
        _state.thread_id = threading.get_ident()
        _state.deadline = time.monotonic() + seconds


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
