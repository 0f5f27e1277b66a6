"""`pyodide.ffi.run_sync`: waiting for an awaitable from synchronous code.

On the platform `run_sync` suspends the Python stack with JSPI until the awaitable settles, and
the isolate's event loop goes on meanwhile (workerd's and the SDK's own Durable Object tests call
`run_sync(sleep(0.01))` in a plain `def` method). Here the running callback pumps the world from
where it stands, so the same code runs unchanged: the clock moves, other events of the object run
in between, errors come back as raised, and the time spent suspended is not the event's CPU time.
"""

from __future__ import annotations

import asyncio
import time

import pytest

import js
from durable_dojo import Runtime
from durable_dojo._core.watchdog import CPU_LIMIT_MESSAGE
from pyodide.ffi import run_sync
from workers import DurableObject


def burn(seconds: float) -> None:
    """Use `seconds` of this thread's CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def fail_later():
    await asyncio.sleep(0.5)
    raise ValueError("settled with an error")


class Waiter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.log = []

    def jspi_method(self, arg):  # workerd's tests/python/durable-object, as written there
        run_sync(asyncio.sleep(0.01))
        return arg + 1

    def clock_across(self, seconds):
        before = js.Date.now()
        run_sync(asyncio.sleep(seconds))
        return js.Date.now() - before

    def slow(self):
        self.log.append("slow starts")
        run_sync(asyncio.sleep(1))
        self.log.append("slow ends")
        return list(self.log)

    async def quick(self):
        self.log.append("quick")

    def catches(self):
        try:
            run_sync(fail_later())
        except ValueError as error:
            return f"caught {error}"

    def asks(self, name):
        return run_sync(self.env.WAITER.getByName(name).jspi_method(1))

    def nested(self):
        async def outer():
            await asyncio.sleep(0.1)
            return self.jspi_method(40) + 1  # a synchronous method that waits in turn

        return run_sync(outer())

    def waits_forever(self):
        return run_sync(asyncio.get_running_loop().create_future())

    def sleeps_then_spins(self):
        run_sync(asyncio.sleep(0.01))
        while True:
            pass

    def waits_for_work_elsewhere(self, seconds):
        for name in ("w1", "w2"):
            run_sync(self.env.WAITER.getByName(name).work(seconds))
        self.log.append("waited")

    async def history(self):
        return self.log

    async def work(self, seconds):
        burn(seconds)
        return seconds

    async def stored(self):
        self.ctx.storage.put("k", "v")
        return run_sync(self.ctx.storage.get("k"))


@pytest.fixture
def rt(make_runtime):
    return make_runtime(durable_objects={"WAITER": Waiter})


async def test_a_synchronous_method_waits_with_run_sync_as_in_workerds_own_test(rt):
    assert await rt.env.WAITER.getByName("A").jspi_method(9) == 10


async def test_the_world_clock_moves_by_what_run_sync_waited(rt):
    assert await rt.env.WAITER.getByName("a").clock_across(2.5) == 2500


async def test_other_events_of_the_object_run_while_run_sync_waits(rt):
    stub = rt.env.WAITER.getByName("a")
    slow = stub.slow()
    quick = stub.quick()
    assert await slow == ["slow starts", "quick", "slow ends"]
    await quick


async def test_run_sync_raises_what_the_awaitable_raised(rt):
    assert await rt.env.WAITER.getByName("a").catches() == "caught settled with an error"


async def test_run_sync_waits_for_a_call_to_another_object(rt):
    assert await rt.env.WAITER.getByName("a").asks("b") == 2


async def test_run_sync_nests_inside_what_run_sync_waits_for(rt):
    assert await rt.env.WAITER.getByName("a").nested() == 42


async def test_a_settled_storage_result_comes_back_at_once(rt):
    assert await rt.env.WAITER.getByName("a").stored() == "v"


async def test_run_sync_that_can_never_finish_says_so(rt):
    with pytest.raises(Exception, match=r"run_sync\(\) can never finish"):
        await rt.env.WAITER.getByName("a").waits_forever()


async def test_run_sync_outside_the_worlds_code_asks_for_await():
    sleeping = asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="use `await` instead"):
        run_sync(sleeping)
    assert sleeping.cr_frame is None  # closed: no "never awaited" warning later


def test_the_cpu_limit_still_holds_after_run_sync_returns():
    rt = Runtime(durable_objects={"WAITER": Waiter}, cpu_limit_ms=100, hang_timeout=30.0)
    with pytest.raises(Exception) as caught:
        rt.run(rt.env.WAITER.getByName("a").sleeps_then_spins())
    assert caught.value.message == CPU_LIMIT_MESSAGE
    rt.close()


def test_time_suspended_in_run_sync_is_not_the_events_cpu_time():
    # Each call to another object burns 0.2 s of CPU there, within that event's own budget of
    # 0.3 s; the caller is suspended for both (0.4 s), which must not count against its own.
    rt = Runtime(durable_objects={"WAITER": Waiter}, cpu_limit_ms=300, hang_timeout=30.0)
    stub = rt.env.WAITER.getByName("a")
    rt.run(stub.waits_for_work_elsewhere(0.2))
    assert rt.run(stub.history()) == ["waited"]  # the same instance: it was not reset for its CPU time
    rt.close()


async def test_run_sync_waits_on_the_wall_clock_in_a_real_time_world():
    rt = Runtime(durable_objects={"WAITER": Waiter}, real_time=True)
    driver = asyncio.get_running_loop().create_task(rt.run_real_time())
    try:
        started = time.monotonic()  # the test's own code: the machine's clock
        waited = await rt.env.WAITER.getByName("a").clock_across(0.05)
        assert waited >= 50 and time.monotonic() - started >= 0.05  # a lower bound: never flaky
    finally:
        driver.cancel()
        rt.close()


async def test_run_sync_that_has_to_wait_is_refused_while_schedules_are_explored():
    from durable_dojo import explore

    async def scenario(rt):
        await rt.env.WAITER.getByName("a").jspi_method(9)

    found = await explore(scenario, make_runtime=lambda: Runtime(durable_objects={"WAITER": Waiter}))
    assert found.failures
    assert "cannot wait while schedules are being explored" in str(found.failures[0].exception)
