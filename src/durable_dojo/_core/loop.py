"""The world's event loop: asyncio on a virtual clock.

Durable Object code is ordinary asyncio code, so it runs on an asyncio event loop, but on one
whose clock only moves when the world has nothing left to do at the current instant: then it
jumps to the next timer (trio's autojumping mock clock, simpy's event heap). `asyncio.sleep(3600)`
inside an object completes at once in wall time and one virtual hour later.

The loop is never `run_forever()`-ed. The world *pumps* it from the caller: `run_until(...)` runs
ready callbacks, and when none are left, advances the clock to the next timer. Pumping works the
same from a pytest-asyncio test, a Jupyter cell (whose own loop is already running) or plain
synchronous code, because while it pumps it makes itself the thread's running loop and puts the
caller's loop back afterwards.

Two extra duties make it a Durable Objects loop rather than a plain one:

* Every callback is tagged with the *scope* it belongs to (which object instance, and which
  `blockConcurrencyWhile` section, if any), taken from the context it was scheduled in. Before a
  callback runs, the loop asks the instance's input gate whether it may; if not, the callback
  waits in the gate until the gate opens. This is how `blockConcurrencyWhile` holds back every
  other event of its object, including the completions of other requests' outgoing calls.
* Timers are either *work* (scheduled by user code: sleeps, outgoing fetch latency) or
  *housekeeping* (alarms, idle eviction, limits). `run_until_idle()` runs work to completion
  but does not jump the clock just to fire housekeeping.

Ordering is deterministic: the heap is keyed by (time, sequence number), so timers due at the
same instant run in the order they were scheduled.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import heapq
import logging
import sys
import time as _time
from asyncio import format_helpers

from .errors import DeadlockError, DojoError, HangTimeout
from . import watchdog as _watchdog

# The real clock, taken before clocks.install() points time.monotonic at the world's clock inside
# a world: the loop's real-time mode and its pumping deadlines measure the process.
_real_monotonic = _time.monotonic
_real_sleep = _time.sleep

log = logging.getLogger("durable_dojo")

# `asyncio.current_task(loop)`. On CPython 3.11 that is a Python function around this dict's
# get (C from 3.12 on): the world asks at every pump, so it asks the dict.
current_task = asyncio.tasks._current_tasks.get if sys.version_info < (3, 12) else asyncio.current_task

# The scope a callback belongs to: an `_object.Scope` or None (Worker code, test clients).
current_scope: contextvars.ContextVar = contextvars.ContextVar("durable_dojo_scope", default=None)
# The world whose code is running (for `from workers import env`, `js.Date.now()`).
current_world: contextvars.ContextVar = contextvars.ContextVar("durable_dojo_world", default=None)


class _Timer(asyncio.TimerHandle):
    """A timer on the virtual clock that knows whether it is user work or housekeeping.

    Every event re-arms its object's idle timer, so making and cancelling one is on the hot
    path: outside debug mode both set the fields asyncio's `TimerHandle` sets, without its
    chain of calls."""

    __slots__ = ("scope", "_counted", "_seq")  # _seq: its place among timers due at the same time

    def __init__(self, when, callback, args, loop, context, scope, counted: bool):
        if loop._debug:
            super().__init__(when, callback, args, loop, context)
        else:
            self._context = contextvars.copy_context() if context is None else context
            self._loop = loop
            self._callback = callback
            self._args = args
            self._cancelled = False
            self._repr = None
            self._source_traceback = None
            self._when = when
            self._scheduled = False
        self.scope = scope
        self._counted = counted

    def cancel(self) -> None:
        if self._cancelled:
            return
        loop = self._loop
        if self._counted:
            self._counted = False
            loop._work_timers -= 1
        if loop._debug:
            super().cancel()
        else:
            self._cancelled = True
            self._callback = None
            self._args = None
        loop._timer_cancelled()


_watchdog_state = _watchdog._state  # its `fired` flag is read after every callback


def _report_callback_error(handle, exc: BaseException) -> None:
    """What `asyncio.Handle._run` does with an error its callback raised: hand it to the loop's
    exception handler (the default one logs it)."""
    source = format_helpers._format_callback_source(handle._callback, handle._args)
    context = {"message": f"Exception in callback {source}", "exception": exc, "handle": handle}
    if handle._source_traceback:
        context["source_traceback"] = handle._source_traceback
    handle._loop.call_exception_handler(context)


class _Callback(asyncio.Handle):
    """A callback made by `VirtualLoop.call_soon` outside debug mode: an `asyncio.Handle` whose
    fields call_soon sets itself (no `__init__` call, no `get_debug()` call)."""

    __slots__ = ()


_new_callback = object.__new__


class VirtualLoop(asyncio.AbstractEventLoop):
    """An asyncio loop whose clock is virtual and which the world pumps by hand."""

    def __init__(self, world=None, *, real_time: bool = False):
        self._world = world
        self._now = 0.0  # virtual seconds since the world started
        self.real_time = real_time  # `dojo serve`: the clock follows the wall clock, no jumps
        self._t0 = _real_monotonic()
        self.on_ready = None  # called when work is scheduled (wakes the real-time driver)
        self.chooser = None  # a schedule explorer (explore.Chooser) that picks what runs next
        self._ready: collections.deque = collections.deque()  # (handle, scope)
        self._timers: list = []  # heap of (when, seq, timer)
        self._seq = 0
        self._work_timers = 0
        self._cancelled_timers = 0  # cancelled timers still in the heap (about)
        self._closed = False
        self._pumping = False
        self._host_task = None  # the host's task, set aside while pumping
        self._exception_handler = None
        self._debug = False
        # asyncio's C futures and tasks ask `loop.get_debug()` as they are made (several per
        # event): a bool's bound `__bool__` answers without a Python frame (set_debug swaps it)
        self.get_debug = self._debug.__bool__
        self.cpu_limit: float | None = None  # CPU seconds each event may use (the platform's limit)

    # ----- the clock -----

    def time(self) -> float:
        return self._now

    # ----- scheduling (the asyncio API used by tasks, futures, sleep, timeouts) -----

    def call_soon(self, callback, *args, context=None):
        if context is None:
            context = contextvars.copy_context()
        scope = context.get(current_scope)  # the scope it will run in (written out: hot)
        if self._debug:
            handle = asyncio.Handle(callback, args, self, context)
        else:  # every event makes several: the fields asyncio.Handle's __init__ sets, without its calls
            handle = _new_callback(_Callback)
            handle._context = context
            handle._loop = self
            handle._callback = callback
            handle._args = args
            handle._cancelled = False
            handle._repr = None
            handle._source_traceback = None
        self._ready.append((handle, scope))
        if self.on_ready is not None:
            self.on_ready()
        return handle

    def call_soon_threadsafe(self, callback, *args, context=None):
        return self.call_soon(callback, *args, context=context)

    def call_later(self, delay, callback, *args, context=None):
        return self.call_at(self._now + max(delay, 0.0), callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        return self._schedule(when, callback, args, context, housekeeping=False)

    def call_housekeeping_at(self, when: float, callback, *args) -> _Timer:
        """A timer of the world itself (alarm, eviction, limit): runs outside any object scope."""
        return self._schedule(when, callback, args, contextvars.Context(), housekeeping=True)

    def _schedule(self, when, callback, args, context, housekeeping):
        scope = current_scope.get() if context is None else context.get(current_scope)  # the scope it will run in (written out: hot)
        timer = _Timer(when, callback, args, self, context, scope, not housekeeping)
        if not housekeeping:
            self._work_timers += 1
        self._seq += 1
        timer._seq = self._seq
        heapq.heappush(self._timers, (when, self._seq, timer))
        timer._scheduled = True  # in the heap (until it is popped or dropped from it)
        return timer

    def revive(self, timer: _Timer, when: float, callback, *args) -> bool:
        """Make a cancelled housekeeping timer call `callback(*args)` at `when` after all, if
        that is exactly what a new timer would do: it is still in the heap, due at `when`, and no
        timer was scheduled after it (a new one would take the same place among the timers due
        at `when`). Returns False, changing nothing, otherwise.

        Every event cancels its object's idle timer, and the object is most often idle again at
        the same instant, wanting the same timer: reviving it saves making one per event."""
        if (self._debug or not timer._cancelled or not timer._scheduled or timer._when != when
                or timer._seq != self._seq):
            return False
        timer._cancelled = False
        timer._callback = callback
        timer._args = args
        self._cancelled_timers -= 1
        return True

    def _timer_handle_cancelled(self, handle) -> None:
        pass  # cancelled timers are skipped when they reach the top of the heap

    def _timer_cancelled(self) -> None:
        """Cancelled timers wait in the heap until they reach its top; when they are most of
        it (every evicted object cancels its idle timer), the heap is rebuilt without them, as
        asyncio's own loop does."""
        self._cancelled_timers += 1
        timers = self._timers
        if self._cancelled_timers > 512 and self._cancelled_timers * 2 > len(timers):
            kept = []
            for entry in timers:
                if entry[2]._cancelled:
                    entry[2]._scheduled = False  # dropped from the heap
                else:
                    kept.append(entry)
            timers[:] = kept
            heapq.heapify(timers)
            self._cancelled_timers = 0

    def create_future(self):
        return asyncio.Future(loop=self)

    def create_task(self, coro, *, name=None, context=None):
        task = asyncio.Task(coro, loop=self, name=name, context=context)
        if self._world is not None:
            scope = current_scope.get() if context is None else context.get(current_scope)  # the scope it will run in (written out: hot)
            self._world._task_created(task, scope)
        return task

    # ----- loop state -----

    def is_running(self) -> bool:
        return self._pumping

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._ready.clear()
        self._timers.clear()

    def set_debug(self, enabled: bool) -> None:
        self._debug = enabled
        self.get_debug = bool(enabled).__bool__

    def run_in_executor(self, executor, func, *args):
        raise DojoError(
            "Durable Objects have no threads: run_in_executor() and asyncio.to_thread() are "
            "not available inside the world."
        )

    async def shutdown_asyncgens(self):
        pass

    async def shutdown_default_executor(self, timeout=None):
        pass

    # ----- errors nobody awaited -----

    def set_exception_handler(self, handler):
        self._exception_handler = handler

    def get_exception_handler(self):
        return self._exception_handler

    def default_exception_handler(self, context):
        exc = context.get("exception")
        log.error("%s", context.get("message", "unhandled error in the world"), exc_info=exc)

    def call_exception_handler(self, context):
        if self._exception_handler is not None:
            self._exception_handler(self, context)
        else:
            self.default_exception_handler(context)

    # ----- pumping -----

    def _run_ready(self) -> None:
        """Run the callbacks that are ready now (not the ones they schedule), honouring gates."""
        if self.chooser is not None:
            self.chooser.run_ready(self)  # exploring schedules: one step of the strand it picks
            return
        ready = self._ready
        watchdog = _watchdog_state
        for _ in range(len(ready)):
            try:
                handle, scope = ready.popleft()
            except IndexError:  # a callback's run_sync() pumped the loop and ran the rest
                return
            if handle._cancelled:
                continue
            if scope is not None and scope.held_by_gate(handle):
                continue  # the gate keeps it and gives it back when it opens
            # run_handle() written inline: fewer steps outside the try where the watchdog may interrupt
            try:
                if self.cpu_limit is not None and scope is not None and scope.event is not None:
                    _watchdog.run_metered(handle, scope.event, scope.instance, self.cpu_limit)
                elif type(handle) is _Callback:
                    try:  # handle._run(), written out: one call less for most callbacks
                        handle._context.run(handle._callback, *handle._args)
                    except (SystemExit, KeyboardInterrupt):
                        raise
                    except BaseException as exc:  # noqa: BLE001 - reported, as asyncio reports it
                        _report_callback_error(handle, exc)
                else:
                    handle._run()  # a timer, or a gate's batch of held callbacks
            except BaseException:
                if watchdog.fired and scope is not None:
                    scope.instance.exceeded_time_limit()
                raise
            if watchdog.fired:  # _watchdog.fired(), without the call
                if scope is not None:
                    scope.instance.exceeded_time_limit()
                raise _watchdog.take_timeout()

    def run_handle(self, handle, scope) -> None:
        """Run one callback (metered against its event's CPU budget); a callback stopped by the
        watchdog takes its object down with it. Used by a schedule explorer's chooser."""
        try:
            if self.cpu_limit is not None and scope is not None and scope.event is not None:
                _watchdog.run_metered(handle, scope.event, scope.instance, self.cpu_limit)
            else:
                handle._run()
        except BaseException:
            if _watchdog.fired() and scope is not None:
                scope.instance.exceeded_time_limit()
            raise
        if _watchdog.fired():
            if scope is not None:
                scope.instance.exceeded_time_limit()
            raise _watchdog.take_timeout()

    def _pop_due_timers(self) -> None:
        timers = self._timers
        now = self._now
        while timers and timers[0][0] <= now:
            _, _, timer = heapq.heappop(timers)
            timer._scheduled = False
            if timer._cancelled:
                continue
            if timer._counted:
                timer._counted = False
                self._work_timers -= 1
            self._ready.append((timer, timer.scope))

    def _next_timer_time(self):
        timers = self._timers
        while timers and timers[0][2]._cancelled:
            heapq.heappop(timers)[2]._scheduled = False
        return timers[0][0] if timers else None

    def run_due(self, max_rounds: int = 1000) -> float | None:
        """Real-time mode: run what is due by the wall clock; return seconds until the next timer.

        Bounded by `max_rounds` batches so that one busy object cannot starve the server."""
        wall_timeout = self._world.hang_timeout if self._world else None
        host_loop = self._start_pumping(wall_timeout, "a handler")
        try:
            for _ in range(max_rounds):
                self._now = _real_monotonic() - self._t0
                self._pop_due_timers()
                if not self._ready:
                    break
                self._run_ready()
        except (KeyboardInterrupt, HangTimeout) as error:
            timeout = _timeout_instead_of(error)
            if timeout is None:
                raise
            raise timeout from None
        finally:
            self._stop_pumping(host_loop, wall_timeout)
        if self._ready:
            return 0.0
        when = self._next_timer_time()
        return None if when is None else max(0.0, when - (_real_monotonic() - self._t0))

    def requeue(self, handle, scope) -> None:
        """Give back a callback that a gate held (used when the gate opens)."""
        self._ready.append((handle, scope))

    def requeue_first(self, handle, scope) -> None:
        """Give back a callback at the head of the line (one interrupted before it could run)."""
        self._ready.appendleft((handle, scope))

    def run_until(self, done, *, horizon: float | None = None, stop_at_housekeeping: bool = False,
                  wall_timeout: float | None = None, what: str = "the world") -> bool:
        """Pump until `done()` is true. Returns False if the clock reached `horizon` first.

        With `stop_at_housekeeping`, stop (returning True) when only housekeeping timers are left
        and nothing is ready. Raises DeadlockError when nothing can ever make `done()` true, and
        HangTimeout when pumping takes longer than `wall_timeout` seconds of real time.
        """
        if self._pumping:
            raise DojoError(
                f"Cannot wait for {what} from inside the world: code running in a Durable Object "
                "or a Worker must await its calls instead."
            )
        deadline = None if wall_timeout is None else _real_monotonic() + wall_timeout
        spins = 0
        host_loop = self._start_pumping(wall_timeout, what)
        try:
            while True:
                if done():
                    return True
                if self._ready:
                    self._run_ready()
                    spins += 1
                    if deadline is not None and not spins & 63 and _real_monotonic() > deadline:
                        raise _watchdog.timeout_error(what)
                    continue
                when = self._next_timer_time()
                if stop_at_housekeeping and self._work_timers == 0:
                    return True
                if when is None:
                    if horizon is not None:
                        self._now = max(self._now, horizon)
                        return False
                    raise DeadlockError(self._world._describe_stuck(what) if self._world else what)
                if horizon is not None and when > horizon:
                    self._now = max(self._now, horizon)
                    return False
                if when > self._now:
                    self._now = when
                self._pop_due_timers()
        except (KeyboardInterrupt, HangTimeout) as error:
            timeout = _timeout_instead_of(error)
            if timeout is None:
                raise
            raise timeout from None
        finally:
            self._stop_pumping(host_loop, wall_timeout)

    def run_nested(self, done, what: str) -> None:
        """Pump from inside one of this loop's own callbacks until `done()` is true.

        This is `pyodide.ffi.run_sync` of something that has to wait: on the platform JSPI
        suspends the Python stack that called it while the isolate's event loop goes on (other
        events of the object included), and resumes it once the promise settles. Here the
        suspended stack is the running callback's: the loop runs everything else from inside it,
        its task stepping aside as the host's does while pumping, and its CPU time stopped (the
        platform counts CPU time, not time suspended). The clock jumps to timers as `run_until`
        does (follows the wall clock in real-time mode); the hang watchdog that the outer pump
        armed still bounds the whole. Suspensions nest: an inner one resumes first."""
        if not self._pumping:
            raise DojoError(f"{what} can only wait while the world is running.")
        if self.chooser is not None:
            raise DojoError(f"{what} cannot wait while schedules are being explored: use `await` there.")
        task = current_task(self)
        if task is not None:
            asyncio.tasks._leave_task(self, task)
        metering = _watchdog.pause_metering()
        try:
            while not done():
                if self._ready:
                    self._run_ready()
                    continue
                when = self._next_timer_time()
                if when is None:
                    raise DeadlockError(self._world._describe_stuck(what) if self._world else what)
                if self.real_time:
                    _real_sleep(max(0.0, when - (_real_monotonic() - self._t0)))
                    self._now = max(self._now, _real_monotonic() - self._t0)
                elif when > self._now:
                    self._now = when
                self._pop_due_timers()
        finally:
            _watchdog.resume_metering(metering)
            if task is not None:
                asyncio.tasks._enter_task(self, task)

    def _start_pumping(self, wall_timeout: float | None, what: str):
        """While pumping, this loop is the thread's running loop and the watchdog watches.
        Returns the loop to put back (`_stop_pumping`). Not a context manager: it is on the path
        of every call a test awaits.

        The host's task (a pytest-asyncio test awaiting a stub) is set aside meanwhile: from
        Python 3.14 (Pyodide's) the running task is one per thread, not one per loop, and no
        task of the world could start while the host's is entered."""
        host_loop = asyncio._get_running_loop()
        host_task = current_task(host_loop) if host_loop is not None else None
        if host_task is not None:
            asyncio.tasks._leave_task(host_loop, host_task)
        self._host_task = host_task
        asyncio._set_running_loop(self)
        self._pumping = True
        if wall_timeout is not None:
            _watchdog.arm(wall_timeout, what)
        return host_loop

    def _stop_pumping(self, host_loop, wall_timeout: float | None) -> None:
        if wall_timeout is not None:
            _watchdog.disarm()
        self._pumping = False
        asyncio._set_running_loop(host_loop)
        host_task, self._host_task = self._host_task, None
        if host_task is not None:
            asyncio.tasks._enter_task(host_loop, host_task)


def _timeout_instead_of(error: BaseException) -> HangTimeout | None:
    """The watchdog's HangTimeout (with its message) to raise instead of an interruption while
    pumping, if the watchdog caused it; None: raise the interruption itself."""
    if isinstance(error, KeyboardInterrupt):
        return _watchdog.take_timeout() if _watchdog.fired() else None
    if not error.args and _watchdog.fired():  # the interrupt landed between two callbacks
        return _watchdog.take_timeout()
    return None
