"""The world: virtual time, determinism, the Worker entrypoint, entry points, stuck code."""

import asyncio
import subprocess
import sys
import textwrap
import time

import pytest

from durable_dojo import DeadlockError, DojoError, HangTimeout, Runtime
from js import Date
from workers import DurableObject, Response, WorkerEntrypoint, env


class Sleeper(DurableObject):
    async def nap(self, seconds):
        before = Date.now()
        await asyncio.sleep(seconds)
        return Date.now() - before

    async def stamp(self):
        return Date.now()

    async def make_id(self):
        return self.env.SLEEPER.newUniqueId().toString()

    async def wait_forever(self):
        await asyncio.get_running_loop().create_future()

    def spin(self):
        while True:
            pass

    def block(self):
        time.sleep(60)

    async def endless(self):
        while True:
            await asyncio.sleep(0)


# Principle 2: asyncio.sleep inside an object is virtual: an hour passes at once.
async def test_an_hour_long_sleep_in_an_object_completes_at_once_on_the_virtual_clock(make_runtime):
    rt = make_runtime(durable_objects={"SLEEPER": Sleeper})
    assert await rt.env.SLEEPER.getByName("s").nap(3600) == 3_600_000  # wall time: bench/core.py
    assert rt.now() - rt.start_ms == 3_600_000


async def test_date_now_inside_the_world_follows_advance(make_runtime):
    rt = make_runtime(durable_objects={"SLEEPER": Sleeper})
    stub = rt.env.SLEEPER.getByName("s")
    first = await stub.stamp()
    await rt.advance(90.5)
    assert await stub.stamp() - first == 90_500
    assert Date.now() == rt.now()


def _scripted_world(seed):
    rt = Runtime(durable_objects={"SLEEPER": Sleeper}, seed=seed)

    async def script():
        stubs = [rt.env.SLEEPER.getByName(f"s{i}") for i in range(3)]
        ids = await asyncio.gather(*(s.make_id() for s in stubs))
        await asyncio.gather(*(s.nap(i * 0.3) for i, s in enumerate(stubs)))
        return ids

    ids = rt.run(script())
    rt.run(rt.advance(500))
    trace = [(e.time, e.kind, e.object, e.request) for e in rt.trace]
    rt.close()
    return ids, trace


def test_same_seed_gives_the_same_ids_and_the_same_trace():
    assert _scripted_world(7) == _scripted_world(7)
    assert _scripted_world(7)[0] != _scripted_world(8)[0]


def test_runtime_run_is_the_entry_point_for_synchronous_code():
    rt = Runtime(durable_objects={"SLEEPER": Sleeper})
    assert rt.run(rt.env.SLEEPER.getByName("s").nap(5)) == 5000
    rt.close()


def test_a_script_with_no_event_loop_can_drive_the_world():
    script = textwrap.dedent("""
        from durable_dojo import Runtime
        from workers import DurableObject

        class Counter(DurableObject):
            async def increment(self):
                n = (await self.ctx.storage.get("n") or 0) + 1
                await self.ctx.storage.put("n", n)
                return n

        rt = Runtime(durable_objects={"COUNTER": Counter})
        stub = rt.env.COUNTER.getByName("x")
        print(rt.run(stub.increment()), rt.run(stub.increment()))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "1 2", out.stderr


async def test_run_until_idle_finishes_timers_but_does_not_jump_to_far_alarms(make_runtime):
    rt = make_runtime(durable_objects={"SLEEPER": Sleeper})
    call = rt.env.SLEEPER.getByName("s").nap(42)
    await rt.run_until_idle()
    assert call.done() and rt.now() - rt.start_ms == 42_000  # idle eviction is still ahead


# Stuck code ends with a clear error, never a hung terminal.
async def test_awaiting_something_that_never_happens_is_reported_as_a_deadlock(make_runtime):
    rt = make_runtime(durable_objects={"SLEEPER": Sleeper})
    with pytest.raises(DeadlockError, match=r"SLEEPER\.wait_forever\(\) can never finish"):
        await rt.env.SLEEPER.getByName("s").wait_forever()


@pytest.mark.parametrize("method", ["spin", "block", "endless"])
async def test_code_that_never_yields_is_stopped_with_a_clear_timeout(make_runtime, method):
    rt = make_runtime(durable_objects={"SLEEPER": Sleeper}, hang_timeout=0.5)
    with pytest.raises(HangTimeout, match=rf"SLEEPER\.{method}\(\) did not finish within 0\.5 s of real time"):
        await getattr(rt.env.SLEEPER.getByName("s"), method)()


class Router(WorkerEntrypoint):
    async def fetch(self, request):
        name = request.url.rsplit("/", 1)[-1]
        stub = env.ROOMS.getByName(name)  # `from workers import env`, as on the platform
        return await stub.fetch(request)


class Room(DurableObject):
    async def fetch(self, request):
        n = (await self.ctx.storage.get("visits") or 0) + 1
        await self.ctx.storage.put("visits", n)
        return Response(f"{self.ctx.id.name}: {n}")


async def test_the_worker_routes_requests_to_objects(make_runtime):
    rt = make_runtime(durable_objects={"ROOMS": Room}, worker=Router)
    assert await (await rt.fetch("https://chat.example.com/rooms/lobby")).text() == "lobby: 1"
    assert await (await rt.fetch("https://chat.example.com/rooms/lobby")).text() == "lobby: 2"
    assert await (await rt.fetch("https://chat.example.com/rooms/garden")).text() == "garden: 1"


async def test_runtime_without_worker_says_how_to_add_one(make_runtime):
    rt = make_runtime(durable_objects={"ROOMS": Room})
    with pytest.raises(DojoError, match="pass worker=YourEntrypoint"):
        rt.fetch("https://example.com/")


class Caller(DurableObject):
    async def call_out(self):
        from workers import fetch

        response = await fetch("https://api.example.com/x")
        return await response.text()


async def test_outbound_fetch_without_a_handler_explains_there_is_no_network(make_runtime):
    rt = make_runtime(durable_objects={"C": Caller})
    with pytest.raises(DojoError, match="has nowhere to go: the emulator has no network"):
        await rt.env.C.getByName("c").call_out()


async def test_outbound_fetch_goes_to_the_given_handler_after_the_latency(make_runtime):
    seen = []

    def handler(request):
        seen.append(request.url)
        return Response("from outside")

    rt = make_runtime(durable_objects={"C": Caller}, outbound=handler, outbound_latency=0.25)
    assert await rt.env.C.getByName("c").call_out() == "from outside"
    assert seen == ["https://api.example.com/x"] and rt.now() - rt.start_ms == 250


async def test_env_lists_bindings_when_one_is_missing(make_runtime):
    rt = make_runtime(durable_objects={"ROOMS": Room})
    with pytest.raises(AttributeError, match=r"env has no binding 'ROOM' \(bindings: ROOMS\)"):
        rt.env.ROOM


async def test_host_helpers_refuse_to_run_inside_the_world(make_runtime):
    class Meddler(DurableObject):
        async def meddle(self):
            await rt.run_until_idle()

    rt = make_runtime(durable_objects={"M": Meddler})
    with pytest.raises(DojoError, match="not for code running in a Durable Object"):
        await rt.env.M.getByName("m").meddle()


def test_metrics_count_requests_objects_and_storage():
    rt = Runtime(durable_objects={"ROOMS": Room}, worker=Router)
    for name in ["a", "b", "a"]:
        rt.run(rt.fetch(f"https://x/rooms/{name}"))
    m = rt.metrics("ROOMS")
    assert (m["activeObjects"], m["requests"], m["storageReads"], m["storageWrites"]) == (2, 3, 3, 3)
    assert m["cpuTimeP95"] >= m["cpuTimeP50"] > 0
    rt.close()
