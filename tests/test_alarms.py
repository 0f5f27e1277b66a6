"""Alarms: `setAlarm` / `getAlarm` / `deleteAlarm` and the `alarm()` handler (semantics
§6.1-6.10, scenarios 17-20).

Expected values come from the spec, from what workerd printed (oracle REPORT.md, "Alarms",
SQLite-backed "disk" mode) and from workerd's AlarmScheduler: retries after 2·2^k seconds plus
0-25% jitter, at most 6 retries, the same `scheduledTime` on every attempt. Time is virtual:
`rt.advance()` jumps the clock, and handlers read it with `js.Date.now()`.
"""

from __future__ import annotations

import asyncio
import datetime
import math
import uuid

import pytest
from js import Date
from workers import DurableObject

from durable_dojo.testing import run_durable_object_alarm, run_in_durable_object
from pyodide.ffi import JsException

DAY = 86_400
NOT_A_DATE = "Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'date'."
NOT_POSITIVE = "setAlarm() cannot be called with an alarm time <= 0"


class Alarmed(DurableObject):
    """Logs every alarm attempt in storage. `set_alarm(t, fail)` makes the first `fail`
    attempts throw (a large number: always)."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.instance = uuid.uuid4().hex

    async def alarm(self, alarm_info):
        attempts = await self.record(alarm_info)
        if attempts <= (await self.ctx.storage.get("fail") or 0):
            raise Exception(f"alarm failure {attempts}")

    async def record(self, alarm_info) -> int:
        log = await self.ctx.storage.get("log") or []
        log.append({
            "retryCount": alarm_info.retryCount,
            "isRetry": alarm_info.isRetry,
            "scheduledTime": alarm_info.scheduledTime,
            "at": Date.now(),
            "getAlarm": await self.ctx.storage.getAlarm(),
            "instance": self.instance,
        })
        await self.ctx.storage.put("log", log)
        return len(log)

    # RPC
    async def set_alarm(self, scheduled, fail=0):
        await self.ctx.storage.put("fail", fail)
        await self.ctx.storage.setAlarm(scheduled)

    async def get_alarm(self):
        return await self.ctx.storage.getAlarm()

    async def delete_alarm(self):
        return await self.ctx.storage.deleteAlarm()

    async def log(self):
        return await self.ctx.storage.get("log") or []

    async def now(self):
        return Date.now()


class Rearming(Alarmed):
    """Each of the first `rearm` attempts sets a new alarm 10 s later, then fails if told to."""

    async def alarm(self, alarm_info):
        attempts = await self.record(alarm_info)
        if attempts <= (await self.ctx.storage.get("rearm") or 0):
            await self.ctx.storage.setAlarm(Date.now() + 10_000)
            await self.ctx.storage.put(f"getAlarm-after-set-{attempts}", await self.ctx.storage.getAlarm())
            if await self.ctx.storage.get("fail"):
                raise Exception("failure after setting a new alarm")

    async def set_rearming(self, scheduled, rearm, fail):
        await self.ctx.storage.put({"rearm": rearm, "fail": fail})
        await self.ctx.storage.setAlarm(scheduled)

    async def read(self, key):
        return await self.ctx.storage.get(key)


class DeleteSetDelete(Alarmed):
    """Scenario 19: inside alarm(), deleteAlarm, setAlarm(now + 50), deleteAlarm."""

    async def alarm(self, alarm_info):
        await self.record(alarm_info)
        await self.ctx.storage.deleteAlarm()
        await self.ctx.storage.setAlarm(Date.now() + 50)
        await self.ctx.storage.deleteAlarm()


class Sleeper(Alarmed):
    """An alarm handler that waits 10 s on a timer (which opens the input gate)."""

    async def alarm(self, alarm_info):
        await self.record(alarm_info)
        await asyncio.sleep(10)
        await self.ctx.storage.put("finished-at", Date.now())

    async def read(self, key):
        return await self.ctx.storage.get(key)


class NoHandler(DurableObject):
    """No alarm() handler; sets an alarm in its constructor when told to by its name."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        if ctx.id.name == "ctor":
            ctx.storage.setAlarm(Date.now() + 3_600_000)

    async def set_alarm(self, scheduled):
        await self.ctx.storage.setAlarm(scheduled)

    async def get_alarm(self):
        return await self.ctx.storage.getAlarm()


def world(make_runtime, **kwargs):
    return make_runtime(
        durable_objects={
            "ALARMED": Alarmed,
            "REARMING": Rearming,
            "DSD": DeleteSetDelete,
            "SLEEPER": Sleeper,
            "NOHANDLER": NoHandler,
        },
        **kwargs,
    )


async def error_of(call):
    """The exception of `await call()`, whether the call raises at once or its awaitable does."""
    try:
        await call()
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an error")


async def inside(stub, body):
    """Run `await body(obj, ctx)` inside the object; return its result (boxed, not RPC-copied)."""
    box = []

    async def run(obj, ctx):
        box.append(await body(obj, ctx))

    await run_in_durable_object(stub, run)
    return box[0]


def gaps(log):
    return [b["at"] - a["at"] for a, b in zip(log, log[1:])]


def assert_backoff(gap_list):
    """Gap k (ms) lies in [2·2^k s, 2·2^k s · 1.25] (§6.6: 2 << backoff, plus 0-25% jitter)."""
    for k, gap in enumerate(gap_list):
        base = 2000 << k
        assert base <= gap <= base * 1.25, (k, gap, gap_list)


async def always_failing_run(make_runtime, seed):
    """Attempt times (ms) of an always-throwing alarm in a world with this seed."""
    rt = world(make_runtime, seed=seed)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 1000, 99)
    await rt.advance(DAY)
    return [entry["at"] for entry in await stub.log()]


# --- 6.1 / scenario 17: setAlarm, getAlarm, the handler ----------------------------------------


async def test_get_alarm_is_none_when_no_alarm_is_set(make_runtime):
    stub = world(make_runtime).env.ALARMED.getByName("a")
    assert await stub.get_alarm() is None


async def test_scenario_17_alarm_basics(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 50
    await stub.set_alarm(at)
    assert await stub.get_alarm() == at
    await rt.advance(1)
    (attempt,) = await stub.log()
    assert attempt["getAlarm"] is None  # inside the handler
    assert attempt["retryCount"] == 0
    assert attempt["isRetry"] is False
    assert attempt["scheduledTime"] == at
    assert await stub.get_alarm() is None  # after a successful run


async def test_set_and_get_alarm_return_none_and_the_exact_time(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 123_456

    async def body(obj, ctx):
        return await ctx.storage.setAlarm(at), await ctx.storage.getAlarm()

    assert await inside(stub, body) == (None, at)


async def test_set_alarm_truncates_fractional_milliseconds(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 1000
    await stub.set_alarm(at + 0.7)
    assert await stub.get_alarm() == at


async def test_set_alarm_accepts_a_datetime(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 5123
    when = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(milliseconds=at)
    await inside(stub, lambda obj, ctx: ctx.storage.setAlarm(when))
    assert await stub.get_alarm() == at
    await rt.advance(6)
    (attempt,) = await stub.log()
    assert attempt["scheduledTime"] == at


async def test_alarm_fires_at_or_after_its_time_within_a_minute(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 30_000
    await stub.set_alarm(at)
    await rt.advance(29)
    assert await stub.log() == []
    await rt.advance(61)
    (attempt,) = await stub.log()
    assert at <= attempt["at"] <= at + 60_000


async def test_one_alarm_per_object_the_second_set_alarm_replaces_the_first(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    first, second = rt.now() + 10_000, rt.now() + 20_000
    await stub.set_alarm(first)
    await stub.set_alarm(second)
    assert await stub.get_alarm() == second
    await rt.advance(DAY)
    log = await stub.log()
    assert [entry["scheduledTime"] for entry in log] == [second]
    assert second <= log[0]["at"]


async def test_replacing_with_an_earlier_time_runs_only_the_earlier_alarm(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    late, early = rt.now() + 20_000, rt.now() + 10_000
    await stub.set_alarm(late)
    await stub.set_alarm(early)
    await rt.advance(DAY)
    assert [entry["scheduledTime"] for entry in await stub.log()] == [early]


async def test_delete_alarm_returns_none_can_repeat_and_cancels_the_alarm(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 10_000)
    assert await stub.delete_alarm() is None
    assert await stub.delete_alarm() is None
    assert await stub.get_alarm() is None
    await rt.advance(DAY)
    assert await stub.log() == []
    assert rt.trace.select("alarm:fire") == []


async def test_alarms_of_different_objects_are_independent(make_runtime):
    rt = world(make_runtime)
    a, b = rt.env.ALARMED.getByName("a"), rt.env.ALARMED.getByName("b")
    await a.set_alarm(rt.now() + 10_000)
    await b.set_alarm(rt.now() + 20_000)
    await b.delete_alarm()
    await rt.advance(60)
    assert len(await a.log()) == 1
    assert await b.log() == []


# --- 6.2 setAlarm errors and times in the past --------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1], ids=["zero", "minus-one"])
async def test_set_alarm_at_or_below_zero_throws_and_keeps_the_previous_alarm(make_runtime, bad):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 10_000
    await stub.set_alarm(at)
    err = await error_of(lambda: stub.set_alarm(bad))
    assert (type(err), err.name) == (JsException, "TypeError")
    assert err.message == NOT_POSITIVE
    assert err.remote is True
    assert await stub.get_alarm() == at


@pytest.mark.parametrize("bad", ["123", None], ids=["string", "None"])
async def test_set_alarm_with_a_non_date_throws(make_runtime, bad):
    stub = world(make_runtime).env.ALARMED.getByName("a")
    err = await inside(stub, lambda obj, ctx: error_of(lambda: ctx.storage.setAlarm(bad)))
    assert (type(err), err.name) == (JsException, "TypeError")
    assert err.message == NOT_A_DATE


async def test_set_alarm_without_argument_throws(make_runtime):
    stub = world(make_runtime).env.ALARMED.getByName("a")
    err = await inside(stub, lambda obj, ctx: error_of(lambda: ctx.storage.setAlarm()))
    assert (type(err), err.name) == (JsException, "TypeError")
    assert err.message == NOT_A_DATE


async def test_set_alarm_with_nan_throws(make_runtime):
    stub = world(make_runtime).env.ALARMED.getByName("a")
    err = await inside(stub, lambda obj, ctx: error_of(lambda: ctx.storage.setAlarm(math.nan)))
    assert (type(err), err.name) == (JsException, "TypeError")
    assert err.message == "The value cannot be converted because it is not a valid Date."
    assert await stub.get_alarm() is None


async def test_a_time_in_the_past_is_set_to_now_and_runs_at_once(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await rt.advance(60)
    now = rt.now()
    await stub.set_alarm(now - 5000)
    assert await stub.get_alarm() == now  # workerd fudges past times to Date.now()
    await rt.advance(0.001)
    (attempt,) = await stub.log()
    assert attempt["at"] == now
    assert attempt["scheduledTime"] == now
    assert await stub.get_alarm() is None


# --- 6.3 a class without alarm() -----------------------------------------------------------------


async def test_set_alarm_works_on_a_python_class_without_an_alarm_handler(make_runtime):
    # workerd asks the Python entrypoint proxy for `alarm`, and the proxy answers every name
    # (python-entrypoint-helper.ts), so setAlarm() succeeds; the alarm then fails when it runs,
    # with the proxy's TypeError, and is retried like any failing alarm.
    rt = world(make_runtime)
    stub = rt.env.NOHANDLER.getByName("a")
    at = rt.now() + 1000
    await stub.set_alarm(at)
    assert await stub.get_alarm() == at
    await rt.advance(2)
    failures = [e for e in rt.trace.select("alarm:error")]
    assert failures and "TypeError: Method alarm does not exist" in str(failures[0].detail)
    assert await stub.get_alarm() is not None  # a retry is scheduled


async def test_set_alarm_without_handler_is_allowed_in_the_constructor(make_runtime):
    rt = world(make_runtime)
    start = rt.now()
    stub = rt.env.NOHANDLER.getByName("ctor")
    assert await stub.get_alarm() == start + 3_600_000


# --- 6.4 / 6.5 / 6.6 / scenario 18: retries --------------------------------------------------------


async def test_scenario_18_an_always_failing_alarm_runs_7_times_then_is_deleted(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 1000
    await stub.set_alarm(at, 99)
    await rt.advance(DAY)
    log = await stub.log()
    assert [entry["retryCount"] for entry in log] == [0, 1, 2, 3, 4, 5, 6]
    assert [entry["isRetry"] for entry in log] == [False] + [True] * 6
    assert [entry["scheduledTime"] for entry in log] == [at] * 7
    assert [entry["getAlarm"] for entry in log] == [None] * 7
    assert log[0]["at"] == at
    assert_backoff(gaps(log))
    assert await stub.get_alarm() is None
    await rt.advance(DAY)
    assert len(await stub.log()) == 7
    assert len(rt.trace.select("alarm:fire")) == 7


async def test_retry_gaps_from_the_trace(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 1000, 99)
    await rt.advance(DAY)
    starts = [event.time for event in rt.trace.select("alarm:start")]
    assert len(starts) == 7
    # Trace times are fractional ms; allow 1 ms for the rounding of a retry's start.
    for k, (a, b) in enumerate(zip(starts, starts[1:])):
        base = 2000 << k
        assert base - 1 <= b - a <= base * 1.25 + 1, (k, b - a)


@pytest.mark.parametrize("k", [1, 2, 6])
async def test_success_on_retry_k_stops_the_retries(make_runtime, k):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 1000, k)  # attempts 1..k fail, attempt k+1 succeeds
    await rt.advance(DAY)
    log = await stub.log()
    assert [entry["retryCount"] for entry in log] == list(range(k + 1))
    assert await stub.get_alarm() is None
    await rt.advance(DAY)
    assert len(await stub.log()) == k + 1


async def test_get_alarm_during_backoff_returns_the_original_time(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 1000
    await stub.set_alarm(at, 2)
    await rt.advance(1.5)  # the first attempt failed; the retry is ~2 s away
    assert len(await stub.log()) == 1
    assert await stub.get_alarm() == at
    await rt.advance(3)  # second attempt failed too
    assert len(await stub.log()) == 2
    assert await stub.get_alarm() == at
    await rt.advance(10)  # third attempt succeeds
    assert len(await stub.log()) == 3
    assert await stub.get_alarm() is None


async def test_writes_of_failing_attempts_persist(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 1000, 2)
    await rt.advance(60)
    log = await stub.log()
    assert len(log) == 3  # each attempt appended to the stored log, the two failing ones too
    assert len(rt.trace.select("alarm:error")) == 2
    assert len(rt.trace.select("alarm:start")) == 3


async def test_retries_of_a_short_run_reach_the_same_instance(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 1000, 2)
    await rt.advance(60)
    assert len({entry["instance"] for entry in await stub.log()}) == 1


async def test_delete_alarm_during_backoff_stops_the_retries(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 1000, 99)
    await rt.advance(1.5)  # first attempt failed
    await stub.delete_alarm()
    assert await stub.get_alarm() is None
    await rt.advance(DAY)
    assert len(await stub.log()) == 1


async def test_set_alarm_during_backoff_replaces_the_retry(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    first = rt.now() + 1000
    await stub.set_alarm(first, 1)  # the first attempt fails, later ones succeed
    await rt.advance(1.5)
    new_time = rt.now() + 30_000
    await stub.set_alarm(new_time, 0)
    assert await stub.get_alarm() == new_time
    await rt.advance(DAY)
    log = await stub.log()
    assert [(entry["retryCount"], entry["scheduledTime"]) for entry in log] == [(0, first), (0, new_time)]
    assert log[1]["at"] == new_time


async def test_alarm_info_types(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 1000, 1)
    await rt.advance(60)
    for entry in await stub.log():
        assert type(entry["retryCount"]) is int
        assert type(entry["isRetry"]) is bool
        assert type(entry["scheduledTime"]) is int
        assert entry["isRetry"] == (entry["retryCount"] > 0)


async def test_retry_jitter_is_the_same_for_the_same_seed(make_runtime):
    first = await always_failing_run(make_runtime, seed=3)
    second = await always_failing_run(make_runtime, seed=3)
    assert len(first) == 7
    assert first == second


async def test_retry_jitter_differs_for_another_seed(make_runtime):
    first = await always_failing_run(make_runtime, seed=3)
    other = await always_failing_run(make_runtime, seed=4)
    assert len(other) == 7
    assert first != other


# --- 6.5 / 6.7 setting a new alarm inside the handler ---------------------------------------------


async def test_get_alarm_inside_the_handler_returns_a_newly_set_alarm(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.REARMING.getByName("a")
    at = rt.now() + 1000
    await stub.set_rearming(at, 1, False)
    await rt.advance(2)
    assert await stub.read("getAlarm-after-set-1") == at + 10_000
    assert await stub.get_alarm() == at + 10_000


async def test_a_handler_that_sets_a_new_alarm_runs_again_at_the_new_time(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.REARMING.getByName("a")
    at = rt.now() + 1000
    await stub.set_rearming(at, 2, False)
    await rt.advance(DAY)
    log = await stub.log()
    assert [entry["scheduledTime"] for entry in log] == [at, at + 10_000, at + 20_000]
    assert [entry["retryCount"] for entry in log] == [0, 0, 0]
    assert await stub.get_alarm() is None


async def test_a_failing_handler_that_set_a_new_alarm_is_not_retried(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.REARMING.getByName("a")
    at = rt.now() + 1000
    await stub.set_rearming(at, 1, True)  # first attempt: setAlarm(now + 10 s), then throw
    await rt.advance(DAY)
    log = await stub.log()
    assert [(entry["retryCount"], entry["scheduledTime"], entry["at"]) for entry in log] == [
        (0, at, at),
        (0, at + 10_000, at + 10_000),  # the queued alarm, not a retry after ~2 s
    ]
    assert rt.trace.select("alarm:retry") == []


async def test_scenario_19_delete_set_delete_inside_the_handler(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.DSD.getByName("a")
    await stub.set_alarm(rt.now() + 1000)
    await rt.advance(DAY)
    assert len(await stub.log()) == 1
    assert await stub.get_alarm() is None
    assert len(rt.trace.select("alarm:fire")) == 1


# --- 6.8 an alarm set in a transaction that rolls back -------------------------------------------


async def test_alarm_set_in_a_throwing_transaction_is_not_set(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 1000

    async def body(obj, ctx):
        async def closure(txn):
            await txn.setAlarm(at)
            assert await txn.getAlarm() == at
            raise Exception("bar")

        return await error_of(lambda: ctx.storage.transaction(closure)), await ctx.storage.getAlarm()

    err, alarm = await inside(stub, body)
    assert str(err) == "bar"
    assert alarm is None
    await rt.advance(DAY)
    assert await stub.log() == []


async def test_alarm_set_in_a_rolled_back_transaction_is_not_set(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")

    async def body(obj, ctx):
        async def closure(txn):
            await txn.setAlarm(rt.now() + 1000)
            txn.rollback()

        await ctx.storage.transaction(closure)
        return await ctx.storage.getAlarm()

    assert await inside(stub, body) is None
    await rt.advance(DAY)
    assert await stub.log() == []


async def test_alarm_set_in_a_committed_transaction_runs(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 1000

    async def body(obj, ctx):
        async def closure(txn):
            await txn.setAlarm(at)

        await ctx.storage.transaction(closure)
        return await ctx.storage.getAlarm()

    assert await inside(stub, body) == at
    await rt.advance(2)
    assert [entry["scheduledTime"] for entry in await stub.log()] == [at]


# --- 6.4 / 6.9 / scenario 20: alarms and the object's lifetime ------------------------------------


async def test_scenario_20_an_alarm_wakes_an_evicted_object_constructor_first(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 60_000)
    await rt.evict(stub)
    await rt.advance(61)
    assert len(rt.trace.select("constructor")) == 2
    kinds = [e.kind for e in rt.trace if e.kind in ("constructor", "alarm:start", "evict")]
    assert kinds == ["constructor", "evict", "constructor", "alarm:start"]
    (attempt,) = await stub.log()
    assert attempt["retryCount"] == 0


async def test_an_alarm_runs_while_other_requests_are_served(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.SLEEPER.getByName("a")
    at = rt.now() + 1000
    await stub.set_alarm(at)
    await rt.advance(2)  # the handler started at `at` and is sleeping for 10 s
    assert len(await stub.log()) == 1
    assert await stub.now() == at + 1000  # a request is answered meanwhile
    assert await stub.get_alarm() is None  # the running alarm is not "set" any more
    assert await stub.read("finished-at") is None
    await rt.advance(10)
    assert await stub.read("finished-at") == at + 10_000


async def test_a_one_year_alarm_fires_on_the_virtual_clock(make_runtime):
    """No real waiting: the clock jumps. How long that takes in wall time is in bench/core.py."""
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    at = rt.now() + 365 * DAY * 1000
    await stub.set_alarm(at)
    await rt.advance(366 * DAY)
    (attempt,) = await stub.log()
    assert attempt["at"] == at
    assert await stub.get_alarm() is None


# --- run_durable_object_alarm ---------------------------------------------------------------------


async def test_run_durable_object_alarm_runs_the_alarm_now(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    now = rt.now()
    at = now + 3_600_000
    await stub.set_alarm(at)
    assert await run_durable_object_alarm(stub) is True
    (attempt,) = await stub.log()
    assert attempt["at"] == now  # ran at once: the clock did not move to the alarm time
    assert attempt["retryCount"] == 0
    assert attempt["scheduledTime"] == at
    assert await stub.get_alarm() is None
    assert await run_durable_object_alarm(stub) is False
    await rt.advance(2 * 3600)
    assert len(await stub.log()) == 1


async def test_run_durable_object_alarm_without_an_alarm_is_false(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    assert await run_durable_object_alarm(stub) is False
    assert await stub.log() == []
    assert rt.trace.select("alarm:fire") == []


async def test_run_durable_object_alarm_wakes_an_evicted_object(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.ALARMED.getByName("a")
    await stub.set_alarm(rt.now() + 3_600_000)
    await rt.evict(stub)
    assert await run_durable_object_alarm(stub) is True
    assert len(await stub.log()) == 1
    assert len(rt.trace.select("constructor")) == 2



# 6.2 / 6.7: an alarm re-armed for "now" from inside its own handler runs again (at the same
# virtual millisecond as the one running, which the emulator must not mistake for "unchanged").
class RearmsForNow(DurableObject):
    async def start(self):
        await self.ctx.storage.setAlarm(Date.now())

    async def alarm(self, alarm_info):
        n = (await self.ctx.storage.get("runs") or 0) + 1
        await self.ctx.storage.put("runs", n)
        if n < 3:
            await self.ctx.storage.setAlarm(Date.now())

    async def state(self):
        return [await self.ctx.storage.get("runs"), await self.ctx.storage.getAlarm()]


async def test_an_alarm_re_armed_for_now_inside_its_handler_runs_again(make_runtime):
    rt = make_runtime(durable_objects={"R": RearmsForNow})
    stub = rt.env.R.getByName("r")
    await stub.start()
    await rt.advance(1)
    assert await stub.state() == [3, None]
