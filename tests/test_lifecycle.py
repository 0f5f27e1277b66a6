"""Lifecycle: constructor, hibernation, eviction, pending I/O, reset, abort, waitUntil (semantics §2,
scenarios 10, 20, 21; the documented lifecycle of docs/lifecycle.md)."""

import asyncio
import uuid

import pytest

from durable_dojo import DurableObjectAbort, JsError
from js import Date
from pyodide.ffi import JsException
from workers import DurableObject


class Tracked(DurableObject):
    """A field set in the constructor (a random UUID, as miniflare's eviction test) and a
    stored counter: eviction must change the first and keep the second."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.instance_id = str(uuid.uuid4())
        self.calls = 0

    async def increment(self):
        self.calls += 1
        n = (await self.ctx.storage.get("counter") or 0) + 1
        await self.ctx.storage.put("counter", n)
        return n

    def identity(self):
        return self.instance_id

    def calls_in_memory(self):
        return self.calls

    async def break_it(self):
        self.ctx.storage.put("counter", 888)  # not awaited, never flushed
        self.ctx.abort("test broken")

    async def swallow_abort(self):
        try:
            self.ctx.abort("cannot be swallowed")
        except Exception:  # noqa: BLE001 - the point: Exception does not catch the abort
            return "swallowed"

    def fail(self):
        raise ValueError("plain failure")


def constructions(rt):
    return len(rt.trace.select("constructor"))


@pytest.fixture
def world(make_runtime):
    return make_runtime(durable_objects={"T": Tracked})


# 1.9 / 2.1: get() creates nothing; the constructor runs once, before the first event.
async def test_constructor_runs_once_on_the_first_event_not_when_the_stub_is_made(world):
    stub = world.env.T.getByName("a")
    await world.run_until_idle()
    assert constructions(world) == 0
    await stub.increment()
    await stub.increment()
    assert constructions(world) == 1


# 2.5 / scenario 20: eviction drops memory and keeps storage; the constructor runs again.
async def test_eviction_loses_memory_and_keeps_storage(world):
    stub = world.env.T.getByName("a")
    await stub.increment()
    before = await stub.identity()
    await world.evict(stub)
    assert await stub.increment() == 2
    assert await stub.identity() != before
    assert await stub.calls_in_memory() == 1
    assert constructions(world) == 2


# Lifecycle facts 1-2 (docs/lifecycle.md): an idle object that meets the hibernation criteria
# hibernates after 10 s, with no WebSocket at all; its memory goes, its storage stays.
async def test_an_idle_hibernatable_object_hibernates_after_10_seconds_without_websockets(world):
    stub = world.env.T.getByName("a")
    await stub.increment()
    first = await stub.identity()
    await world.advance(9.9)
    assert await stub.identity() == first
    await world.advance(10.1)
    assert [(e.kind, e.time) for e in world.trace.select("hibernate")] == [("hibernate", 9_900 + 10_000)]
    assert not world.trace.select("evict")
    assert await stub.identity() != first
    assert await stub.increment() == 2


class AlarmAndWait(DurableObject):
    """Sets its alarm, or waits for a gate another call opens (at the same virtual instant)."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.gate = None

    async def touch(self):
        return None

    async def set_alarm_in(self, ms):
        self.ctx.storage.setAlarm(Date.now() + ms)

    async def alarm(self):
        await self.ctx.storage.put("alarm ran", True)

    async def wait(self):
        self.gate = asyncio.get_running_loop().create_future()
        await self.gate
        return "opened"

    def open(self):
        self.gate.set_result(None)


# Every event cancels its object's idle timer; an object idle again at the same instant gets the
# same timer back (loop.revive) only where a new timer would act the same.
async def test_an_alarm_set_for_the_hibernation_instant_runs_first_as_it_was_set_after_the_timer(make_runtime):
    rt = make_runtime(durable_objects={"A": AlarmAndWait})
    stub = rt.env.A.getByName("a")
    await stub.touch()  # idle: hibernation due in 10 s
    await stub.set_alarm_in(10_000)  # same instant: the alarm is due when the hibernation would be
    await rt.advance(10)
    assert [e.kind for e in rt.trace if e.kind in ("alarm:start", "hibernate")] == ["alarm:start"]
    assert len(rt.trace.select("constructor")) == 1  # the alarm found the object in memory
    await rt.advance(10)
    assert [e.kind for e in rt.trace if e.kind in ("alarm:start", "hibernate")] == ["alarm:start", "hibernate"]


async def test_an_object_idle_again_after_waiting_at_the_same_instant_still_hibernates(make_runtime):
    rt = make_runtime(durable_objects={"A": AlarmAndWait})
    stub = rt.env.A.getByName("a")
    await stub.touch()  # idle: hibernation due in 10 s
    waiting = stub.wait()
    await rt.run_until_idle()  # the world has nothing to do but wait for the gate (no time passes)
    await stub.open()
    assert await waiting == "opened"
    await rt.advance(10)
    assert [e.time for e in rt.trace.select("hibernate")] == [10_000]


async def test_hibernation_and_idle_eviction_can_be_turned_off(make_runtime):
    never = make_runtime(durable_objects={"T": Tracked}, hibernation_timeout=None, idle_eviction=None)
    stub = never.env.T.getByName("a")
    first = await stub.identity()
    await never.advance(30 * 86400)
    assert await stub.identity() == first


async def test_evict_all_evicts_every_object_in_memory(world):
    stubs = [world.env.T.getByName(n) for n in "abc"]
    before = [await s.identity() for s in stubs]
    await world.evict_all()
    assert [await s.identity() for s in stubs] != before
    assert world.metrics("T")["activeObjects"] == 3


# Scenario 10 / 2.8 / 2.9 / 2.14: abort discards unflushed writes, resets, breaks the stub.
async def test_abort_discards_unflushed_writes_resets_and_breaks_the_stub(world):
    stub = world.env.T.getByName("a")
    await stub.increment()
    await stub.increment()
    with pytest.raises(JsError) as caught:
        await stub.break_it()
    error = caught.value
    assert error.message == "test broken"
    assert error.durableObjectReset is True
    assert error.remote is False  # over RPC a reset is the runtime's error, not the object's (workerd)
    with pytest.raises(JsError, match="^Error: test broken$"):
        await stub.increment()  # the old stub is broken
    fresh = world.env.T.getByName("a")
    assert await fresh.increment() == 3  # not 889
    assert constructions(world) == 2


async def test_abort_is_a_base_exception_that_except_exception_cannot_swallow(world):
    assert issubclass(DurableObjectAbort, BaseException) and not issubclass(DurableObjectAbort, Exception)
    with pytest.raises(JsError, match="^Error: cannot be swallowed$"):
        await world.env.T.getByName("a").swallow_abort()


# 2.15 / scenario 21: a plain exception is not a reset; the same stub keeps working.
async def test_plain_exception_rejects_only_that_call_and_keeps_memory(world):
    stub = world.env.T.getByName("a")
    await stub.increment()
    identity = await stub.identity()
    with pytest.raises(JsException, match=r"^PythonError: Traceback[\s\S]*\nValueError: plain failure$") as caught:
        await stub.fail()
    assert caught.value.remote is True and caught.value.durableObjectReset is False
    assert await stub.identity() == identity
    assert await stub.calls_in_memory() == 1


class BadInit(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        raise RuntimeError("no good")

    def hello(self):
        return "hi"


# 2.3: a constructor that throws reaches the caller as a remote error; the next call tries again.
async def test_constructor_error_reaches_the_caller_and_the_next_call_constructs_again(make_runtime):
    rt = make_runtime(durable_objects={"B": BadInit})
    stub = rt.env.B.getByName("b")
    for _ in range(2):
        with pytest.raises(JsException, match=r"^PythonError: Traceback[\s\S]*\nRuntimeError: no good$") as caught:
            await stub.hello()
        assert caught.value.remote is True
    assert len(rt.trace.select("constructor:error")) == 2


class LoadsInConstructor(DurableObject):
    """The platform's pattern: load state inside blockConcurrencyWhile in the constructor."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.value = None
        ctx.blockConcurrencyWhile(self.load)

    async def load(self):
        await asyncio.sleep(0.02)
        self.value = await self.ctx.storage.get("value") or "initial"

    def read(self):
        return self.value


# 2.2: blockConcurrencyWhile in the constructor completes before the first event is delivered.
async def test_block_concurrency_while_in_the_constructor_runs_before_any_event(make_runtime):
    rt = make_runtime(durable_objects={"L": LoadsInConstructor})
    stub = rt.env.L.getByName("l")
    assert await asyncio.gather(stub.read(), stub.read()) == ["initial", "initial"]


class ThrowsInInit(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.counter_before = None

        async def boom():
            raise RuntimeError("bcw boom")

        ctx.blockConcurrencyWhile(boom)

    def hello(self):
        return "hi"


# Scenario 21 / 4.9: a throw inside blockConcurrencyWhile resets the object.
async def test_block_concurrency_while_throw_resets_and_the_next_request_constructs_again(make_runtime):
    rt = make_runtime(durable_objects={"X": ThrowsInInit})
    with pytest.raises(JsException, match=r"^PythonError: Traceback[\s\S]*\nRuntimeError: bcw boom$") as caught:
        await rt.env.X.getByName("x").hello()
    assert caught.value.durableObjectReset is True
    assert caught.value.remote is False  # as workerd reports a reset to an RPC caller
    with pytest.raises(JsException, match=r"^PythonError: Traceback[\s\S]*\nRuntimeError: bcw boom$"):
        await rt.env.X.getByName("x").hello()
    assert len(rt.trace.select("constructor")) == 2
    assert len(rt.trace.select("reset")) == 2


class Stuck(DurableObject):
    async def wait_forever_locked(self):
        async def forever():
            await asyncio.sleep(31)

        await self.ctx.blockConcurrencyWhile(forever)


# 4.9: a blockConcurrencyWhile that waits 30 s resets the object with workerd's overloaded error.
async def test_block_concurrency_while_longer_than_30_seconds_resets_as_overloaded(make_runtime):
    rt = make_runtime(durable_objects={"S": Stuck})
    with pytest.raises(JsError) as caught:
        await rt.env.S.getByName("s").wait_forever_locked()
    assert caught.value.message == (
        "A call to blockConcurrencyWhile() in a Durable Object waited for too long. "
        "The call was canceled and the Durable Object was reset.")
    assert caught.value.overloaded is True and caught.value.durableObjectReset is True
    assert rt.trace.select("reset")[0].time == 30_000


class Background(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.born = str(uuid.uuid4())

    async def start(self, seconds: float, keep_alive: bool):
        async def later():
            await asyncio.sleep(seconds)
            await self.ctx.storage.put("done", True)

        if keep_alive:
            self.ctx.waitUntil(later())
        else:
            asyncio.get_running_loop().create_task(later())
        return "started"

    async def done(self):
        return await self.ctx.storage.get("done")


class Pending(DurableObject):
    """Work the object starts and does not await: a timer, waitUntil, a call to another object."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.born = str(uuid.uuid4())

    async def start(self, how: str, seconds: float):
        async def later():
            if how == "call to another object":
                await self.env.SLOW.getByName("slow").nap(seconds)
            else:
                await asyncio.sleep(seconds)
            await self.ctx.storage.put("done", True)

        if how == "waitUntil":
            self.ctx.waitUntil(later())
        else:
            asyncio.get_running_loop().create_task(later())
        return "started"

    async def done(self):
        return await self.ctx.storage.get("done")

    def identity(self):
        return self.born


class Slow(DurableObject):
    async def nap(self, seconds):
        await asyncio.sleep(seconds)


PENDING_IO = ["timer", "waitUntil", "call to another object"]


def pending_world(make_runtime, date):
    return make_runtime(durable_objects={"P": Pending, "SLOW": Slow}, compatibility_date=date)


# Lifecycle fact 4: from 2026-10-01 pending I/O keeps the object in memory until it ends; no
# response waits for it. Then the object is idle and hibernatable: it hibernates 10 s later.
@pytest.mark.parametrize("how", PENDING_IO)
async def test_from_2026_10_01_pending_io_keeps_the_object_alive_until_it_ends(make_runtime, how):
    rt = pending_world(make_runtime, "2026-10-01")
    stub = rt.env.P.getByName("p")
    assert await stub.start(how, 600) == "started"
    assert rt.now() == rt.start_ms  # the response did not wait
    await rt.advance(599)
    assert not rt.trace.select("evict", object="p") and not rt.trace.select("hibernate", object="p")
    await rt.advance(20)
    assert [(e.kind, e.time) for e in rt.trace.select("hibernate", object="p")] == [("hibernate", 610_000)]
    assert await stub.done() is True


# Lifecycle facts 2-3: before 2026-10-01 the same pending work makes the object not hibernatable,
# and nothing keeps it: it is evicted after 70-140 s of idleness, and the work dies with it.
@pytest.mark.parametrize("how", PENDING_IO)
async def test_before_2026_10_01_pending_io_does_not_keep_the_object_and_is_lost(make_runtime, how):
    rt = pending_world(make_runtime, "2026-09-30")
    stub = rt.env.P.getByName("p")
    await stub.start(how, 600)
    await rt.advance(69)
    assert not rt.trace.select("evict", object="p")
    await rt.advance(600)
    (evicted,) = rt.trace.select("evict", object="p")
    assert 70_000 <= evicted.time <= 140_000
    assert not rt.trace.select("hibernate", object="p")  # never hibernatable while the work pended
    assert await stub.done() is None


# 2.7: waitUntil work is cut at 15 minutes; the object is then idle and hibernates.
async def test_wait_until_keeps_the_object_for_15_minutes_at_most(make_runtime):
    rt = pending_world(make_runtime, "2026-10-01")
    stub = rt.env.P.getByName("p")
    await stub.start("waitUntil", 3600)
    await rt.advance(3600)
    assert await stub.done() is None
    assert [e.time for e in rt.trace.select("hibernate", object="p")] == [15 * 60_000 + 10_000]


async def test_the_idle_eviction_delay_is_configurable(make_runtime):
    rt = make_runtime(durable_objects={"P": Pending, "SLOW": Slow}, compatibility_date="2026-09-30",
                      idle_eviction=30)
    stub = rt.env.P.getByName("p")
    await stub.start("timer", 600)
    await rt.advance(31)
    assert [e.time for e in rt.trace.select("evict", object="p")] == [30_000]


class SlowWriter(DurableObject):
    async def write_then_fail(self):
        self.ctx.storage.put("k", "v")
        raise ValueError("after the write")

    async def read(self):
        return await self.ctx.storage.get("k")


# 2.16: an exception is sent only after the output gate opened: its writes are confirmed.
async def test_exception_after_a_write_arrives_after_the_write_is_committed(make_runtime):
    rt = make_runtime(durable_objects={"S": SlowWriter})
    stub = rt.env.S.getByName("s")
    with pytest.raises(JsException, match=r"\nValueError: "):
        await stub.write_then_fail()
    kinds = [e.kind for e in rt.trace.select(object="s") if e.kind in ("commit", "rpc:error")]
    assert kinds == ["commit", "rpc:error"]
    assert await stub.read() == "v"


class WritesAroundAThrow(DurableObject):
    async def write_then_throw(self):
        self.ctx.storage.put("before", 1)  # not awaited: flushed at the end of this turn

        async def boom():
            self.ctx.storage.put("inside", 1)  # same turn as the throw: never flushed
            raise RuntimeError("bcw boom")

        await self.ctx.blockConcurrencyWhile(boom)

    async def read(self):
        return [await self.ctx.storage.get("before"), await self.ctx.storage.get("inside")]


# 4.9 / 2.15 (checked on workerd: conformance scenario bcw_write_then_throw): the reset from a
# throwing blockConcurrencyWhile discards the callback's own unflushed writes; an earlier write,
# flushed at the end of its turn, stays.
async def test_block_concurrency_while_throw_discards_the_callbacks_unflushed_writes(make_runtime):
    rt = make_runtime(durable_objects={"W": WritesAroundAThrow})
    with pytest.raises(JsException, match=r"^PythonError: Traceback[\s\S]*\nRuntimeError: bcw boom$"):
        await rt.env.W.getByName("w").write_then_throw()
    assert await rt.env.W.getByName("w").read() == [1, None]


# Lifecycle fact 5 (the pricing page): an idle object eligible for hibernation is not billed for
# duration, even before it hibernates; one kept in memory by pending work is billed.
async def test_an_idle_hibernatable_object_is_not_billed_for_duration(world):
    stub = world.env.T.getByName("a")
    await stub.increment()
    await world.advance(5)
    assert world.metrics("T")["durationSeconds"] == 0  # not yet hibernated, already not billed
    await world.advance(3600)
    assert world.metrics("T")["durationSeconds"] == 0
    assert world.estimate_cost("T")["dollars"]["durationGbSeconds"] == 0


@pytest.mark.parametrize("date", ["2026-09-30", "2026-10-01"])
async def test_an_object_with_pending_work_is_billed_while_it_stays_in_memory(make_runtime, date):
    rt = pending_world(make_runtime, date)
    await rt.env.P.getByName("p").start("timer", 600)
    await rt.advance(3600)
    left = rt.trace.select("evict", object="p") + rt.trace.select("hibernate", object="p")
    if date == "2026-10-01":
        assert rt.metrics("P")["durationSeconds"] == 600  # kept alive until the timer, then hibernatable
    else:
        assert rt.metrics("P")["durationSeconds"] == left[0].time / 1000  # until its eviction at 70-140 s


async def test_rt_hibernate_hibernates_an_object_without_websockets_as_the_platform_would(world):
    stub = world.env.T.getByName("a")
    await stub.increment()
    await world.hibernate(stub)
    assert [e.kind for e in world.trace if e.kind in ("hibernate", "evict")] == ["hibernate"]
    assert await stub.increment() == 2
