"""Alarms: one per object, delivered at least once, retried with back-off (semantics §6).

The alarm time lives in the object's storage (so a transaction that rolls back un-sets it and a
persisted world re-arms it); `AlarmClock` turns it into a housekeeping timer on the virtual
clock. When it fires, the object gets an `alarm(alarm_info)` event (constructing an instance
first if needed). While the handler runs, `getAlarm()` answers None. If the handler fails and
did not set a new alarm, it is retried after 2, 4, 8, 16, 32, 64 s plus a seeded 0-25 % jitter
(workerd's schedule), 7 attempts in all, then the alarm is deleted.
"""

from __future__ import annotations

import asyncio

from .trace import Kind


ALARM_MAX_RETRIES = 6  # 7 attempts in all
ALARM_RETRY_START_SECONDS = 2
ALARM_RETRY_JITTER = 0.25


class AlarmInfo:
    """What `alarm(alarm_info)` receives: which attempt this is and when it was due."""

    __slots__ = ("retryCount", "isRetry", "scheduledTime")

    def __init__(self, retry_count: int, scheduled_time: int):
        self.retryCount = retry_count
        self.isRetry = retry_count > 0
        self.scheduledTime = scheduled_time

    def __repr__(self) -> str:
        return f"AlarmInfo(retryCount={self.retryCount}, isRetry={self.isRetry}, scheduledTime={self.scheduledTime})"


class AlarmClock:
    """The timer behind one object's alarm, and the state of the run in progress."""

    __slots__ = ("host", "running", "rearmed", "timer")

    def __init__(self, host):
        self.host = host
        self.running: int | None = None  # the scheduled time of the alarm being delivered
        self.rearmed = False  # setAlarm/deleteAlarm was called while it ran
        self.timer = None

    def reschedule(self) -> None:
        """Arm the timer from the committed alarm time (after a commit changed it)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.running is not None:
            return  # the running handler's end decides (see _finished)
        scheduled = self.host.store.get_alarm()
        if scheduled is None:
            return
        self._arm(scheduled, scheduled, 0)

    def set_during_run(self, ms) -> None:
        """Storage saw setAlarm (ms) or deleteAlarm (None): note it if the handler is running."""
        if self.running is not None:
            self.rearmed = ms is not None

    def hides(self, value) -> bool:
        """`getAlarm()` answers None for the alarm that is running (unless it was set again)."""
        return value is not None and value == self.running and not self.rearmed

    def _arm(self, at_ms: float, scheduled: int, retry_count: int) -> None:
        world = self.host.world
        loop = world.loop
        when = max(world._loop_time_of(at_ms), loop.time())
        self.timer = loop.call_housekeeping_at(when, self.fire, scheduled, retry_count)

    def fire(self, scheduled: int, retry_count: int) -> None:
        """Deliver the alarm event now (the timer calls this; so does run_durable_object_alarm)."""

        self.timer = None
        if self.running is not None:
            return  # the running handler's end looks at the stored alarm again
        self.running = scheduled
        self.rearmed = False
        host = self.host
        world = host.world
        info = AlarmInfo(retry_count, scheduled)
        event = host.submit("alarm", "alarm", (info,), f"alarm(retryCount={retry_count})", trace_kind=Kind.ALARM_FIRE,
                            detail=retry_count, now=True)
        world._counters.alarm_fired(host, retry_count)
        event.reply.add_done_callback(lambda fut: self._finished(scheduled, retry_count, fut))

    def _finished(self, scheduled: int, retry_count: int, reply: asyncio.Future) -> None:
        self.running = None
        host = self.host
        failed = reply.cancelled() or reply.exception() is not None  # retrieved: the trace has it
        stored = host.store.get_alarm()
        if stored != scheduled or (self.rearmed and stored is not None):
            self.rearmed = False
            self.reschedule()  # the handler set or deleted the alarm: that wins, no retry
            return
        world = host.world
        if failed and retry_count < ALARM_MAX_RETRIES:
            delay = (ALARM_RETRY_START_SECONDS << retry_count) * (1 + world._alarm_jitter() * ALARM_RETRY_JITTER)
            world.trace.record(Kind.ALARM_RETRY, host, detail=f"retryCount={retry_count + 1} in {delay:.3f}s")
            self._arm(world.now() + delay * 1000, scheduled, retry_count + 1)
            return
        if failed:
            world.trace.record(Kind.ALARM_GAVE_UP, host, detail=f"after {retry_count + 1} attempts")
        host.store.set_alarm(None)
        instance = host.instance
        if instance is not None and instance.alive:
            instance.output_gate.note_write()
        else:
            host.storage.commit()
