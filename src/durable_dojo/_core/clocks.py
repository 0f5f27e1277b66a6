"""Python's clocks on the world's clock.

On the platform, code in a Worker or a Durable Object reads the time of the request it is
handling, in an isolate whose time zone is UTC. Here that time is the world's virtual clock, so
`time.time() + 3600` passed to `setAlarm` fires after `advance(3600)`, and `datetime.now()` is the
same instant `Date.now()` gives.

Two mechanisms, both scoped to code running inside a world (the `current_world` context
variable is set there and nowhere else), so the test runner's own code keeps the real clock:

* `time.time`, `time.time_ns`, `time.localtime`, `time.gmtime`, `time.ctime`, `time.asctime`,
  `time.strftime` and `time.mktime` of the `time` module are replaced, once, by functions that ask
  the running world first and fall back to the real ones. Every caller that looks them up on the
  module (`time.time()`, libraries included) gets the world's time inside the world.
* `datetime.datetime` and `datetime.date` cannot be patched (they are immutable C types), and
  replacing them in the `datetime` module would change every datetime of the process (pickling
  of datetimes breaks, for one). So modules executed for an isolate (`isolates.py`) import
  `world_datetime_module()` under the name `datetime`: the same module, except that its
  `datetime` and `date` answer `now()`, `utcnow()`, `today()` and `fromtimestamp()` from the
  world's clock, and treat naive datetimes as UTC (the platform's zone), whatever the host's.

`time.monotonic()`, `time.perf_counter()` and their `_ns` forms read the world's clock too. In a
Python Worker they come from `performance.now()` (Pyodide's clocks are Emscripten's), which the
platform freezes while code runs and advances only when the Worker does I/O, as `Date.now()` (the
Spectre mitigation; docs: /workers/runtime-apis/performance/); the world's virtual clock moves the
same way, so timing a CPU-bound loop inside an object gives 0 here as in production, and timing an
`await` gives its virtual duration. (Local workerd lets them tick; the emulator follows production.)
The emulator's own timeouts keep the real clocks: loop.py and watchdog.py hold the real functions.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as _datetime
import time as _time
import types

from .loop import current_world

_real = types.SimpleNamespace(
    time=_time.time, time_ns=_time.time_ns, localtime=_time.localtime, gmtime=_time.gmtime,
    ctime=_time.ctime, asctime=_time.asctime, strftime=_time.strftime, mktime=_time.mktime,
    datetime=_datetime.datetime, date=_datetime.date,
    monotonic=_time.monotonic, monotonic_ns=_time.monotonic_ns,
    perf_counter=_time.perf_counter, perf_counter_ns=_time.perf_counter_ns,
)
_UTC = _datetime.timezone.utc


def world_seconds():
    """Seconds since the epoch on the running world's clock, or None outside any world."""
    world = current_world.get()
    if world is None:
        return None
    return (world.start_ms + world.loop._now * 1000.0) / 1000.0


# ----- the `time` module -----

def _time_time() -> float:
    seconds = world_seconds()
    return _real.time() if seconds is None else seconds


def _time_time_ns() -> int:
    world = current_world.get()
    if world is None:
        return _real.time_ns()
    return world.start_ms * 1_000_000 + round(world.loop._now * 1e9)


def _time_gmtime(secs=None):
    if secs is None:
        secs = world_seconds()
    return _real.gmtime(secs)


def _time_localtime(secs=None):
    """Inside the world the local zone is UTC, as in the platform's isolates."""
    if current_world.get() is None:
        return _real.localtime(secs)
    return _real.gmtime(world_seconds() if secs is None else secs)


def _time_ctime(secs=None):
    if current_world.get() is None:
        return _real.ctime(secs)
    return _real.asctime(_time_localtime(secs))


def _time_asctime(t=None):
    if t is None and current_world.get() is not None:
        t = _time_localtime()
    return _real.asctime() if t is None else _real.asctime(t)


def _time_strftime(format, t=None):  # noqa: A002 - the stdlib's parameter name
    if t is None and current_world.get() is not None:
        t = _time_localtime()
    return _real.strftime(format) if t is None else _real.strftime(format, t)


def _time_mktime(t):
    if current_world.get() is None:
        return _real.mktime(t)
    return float(calendar.timegm(tuple(t)[:6] + (0, 0, 0)))


def _in_world_code() -> bool:
    """Code of the world runs in its context *and* on its loop; an event loop of the host (a
    server's, a test's) measuring its own timers keeps the real clock even in that context."""
    world = current_world.get()
    return world is not None and asyncio._get_running_loop() is world.loop


def _time_monotonic() -> float:
    """Inside the world, the virtual clock in seconds (frozen while code runs, as on the platform)."""
    return world_seconds() if _in_world_code() else _real.monotonic()


def _time_monotonic_ns() -> int:
    return _time_time_ns() if _in_world_code() else _real.monotonic_ns()


def _time_perf_counter() -> float:
    return world_seconds() if _in_world_code() else _real.perf_counter()


def _time_perf_counter_ns() -> int:
    return _time_time_ns() if _in_world_code() else _real.perf_counter_ns()


_TIME_FUNCTIONS = {
    "monotonic": _time_monotonic, "monotonic_ns": _time_monotonic_ns,
    "perf_counter": _time_perf_counter, "perf_counter_ns": _time_perf_counter_ns,
    "time": _time_time, "time_ns": _time_time_ns, "gmtime": _time_gmtime, "localtime": _time_localtime,
    "ctime": _time_ctime, "asctime": _time_asctime, "strftime": _time_strftime, "mktime": _time_mktime,
}


def install() -> None:
    """Put the world-aware functions into the `time` module (once; idempotent)."""
    for name, function in _TIME_FUNCTIONS.items():
        if getattr(_time, name) is not function:
            function.__name__ = name
            function.__qualname__ = name
            setattr(_time, name, function)


# ----- the `datetime` module, as isolate code imports it -----

class _RealTypeCheck(type):
    """`isinstance(x, datetime)` inside isolate code is true for every datetime of the process."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls.__mro__[1])

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls.__mro__[1])


class WorldDatetime(_real.datetime, metaclass=_RealTypeCheck):
    """`datetime.datetime` in Worker and object code: the world's clock, naive means UTC."""

    @classmethod
    def now(cls, tz=None):
        seconds = world_seconds()
        if seconds is None:
            return cls._from(_real.datetime.now(tz))
        aware = _real.datetime.fromtimestamp(seconds, _UTC)
        return cls._from(aware.replace(tzinfo=None) if tz is None else aware.astimezone(tz))

    @classmethod
    def utcnow(cls):
        return cls.now(_UTC).replace(tzinfo=None)

    @classmethod
    def today(cls):
        return cls.now()

    @classmethod
    def fromtimestamp(cls, t, tz=None):
        if tz is None and current_world.get() is not None:
            return cls._from(_real.datetime.fromtimestamp(t, _UTC).replace(tzinfo=None))
        return cls._from(_real.datetime.fromtimestamp(t, tz))

    @classmethod
    def _from(cls, value):
        return cls(value.year, value.month, value.day, value.hour, value.minute, value.second,
                   value.microsecond, value.tzinfo, fold=value.fold)

    def timestamp(self) -> float:
        if self.tzinfo is None:
            return _real.datetime.timestamp(self.replace(tzinfo=_UTC))
        return _real.datetime.timestamp(self)

    def astimezone(self, tz=None):
        source = self.replace(tzinfo=_UTC) if self.tzinfo is None else self
        return _real.datetime.astimezone(source, _UTC if tz is None else tz)

    def __reduce_ex__(self, protocol):
        """Pickled and copied as a plain datetime (this class is not importable by name)."""
        return _real.datetime(self.year, self.month, self.day, self.hour, self.minute, self.second,
                              self.microsecond, self.tzinfo, fold=self.fold).__reduce_ex__(protocol)


class WorldDate(_real.date, metaclass=_RealTypeCheck):
    """`datetime.date` in Worker and object code: `today()` is the world's UTC date."""

    @classmethod
    def today(cls):
        now = WorldDatetime.now()
        return cls(now.year, now.month, now.day)

    @classmethod
    def fromtimestamp(cls, t):
        if current_world.get() is None:
            value = _real.date.fromtimestamp(t)
        else:
            value = _real.datetime.fromtimestamp(t, _UTC)
        return cls(value.year, value.month, value.day)

    def __reduce_ex__(self, protocol):
        return _real.date(self.year, self.month, self.day).__reduce_ex__(protocol)


for _cls, _name in ((WorldDatetime, "datetime"), (WorldDate, "date")):
    _cls.__module__ = "datetime"
    _cls.__name__ = _cls.__qualname__ = _name

_world_datetime = None


def world_datetime_module() -> types.ModuleType:
    """The `datetime` module as isolate code sees it (one for the process: it reads whichever
    world is running)."""
    global _world_datetime
    if _world_datetime is None:
        module = types.ModuleType("datetime", _datetime.__doc__)
        module.__dict__.update({k: v for k, v in vars(_datetime).items() if not k.startswith("__")})
        module.datetime = WorldDatetime
        module.date = WorldDate
        _world_datetime = module
    return _world_datetime
