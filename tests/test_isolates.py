"""Isolates: module code runs once per isolate; module state is per isolate and dies with it."""

import pytest

from workers import DurableObject

MODULE_RUNS = []  # one entry per time this module's code ran (in this process or an isolate)
MODULE_RUNS.append("ran")
CACHE = {}  # the module-level "fix" a learner reaches for when fields are lost on eviction


class Cached(DurableObject):
    def remember(self, key, value):
        CACHE[key] = value

    def recall(self, key):
        return CACHE.get(key)

    def module_runs(self):
        return len(MODULE_RUNS)


def objects_by_isolate(rt, count=12):
    """Stubs grouped by the isolate their object lives in (placement is seeded)."""
    groups = {}
    for n in range(count):
        stub = rt.env.C.getByName(f"user-{n}")
        groups.setdefault(rt.isolates.of(stub), []).append(stub)
    return groups


@pytest.fixture
def rt(make_runtime):
    return make_runtime(durable_objects={"C": Cached})


async def test_the_module_runs_once_per_isolate_apart_from_the_test_runners_copy(rt):
    stub = rt.env.C.getByName("a")
    await stub.remember("k", "v")
    assert await stub.module_runs() == 1
    assert await stub.recall("k") == "v"
    assert CACHE == {}  # the test's own module is not the isolate's
    assert MODULE_RUNS == ["ran"]


async def test_a_module_level_dict_is_shared_within_an_isolate_but_not_across_isolates(rt):
    groups = objects_by_isolate(rt)
    crowded = next(stubs for stubs in groups.values() if len(stubs) >= 2)
    other = next(stubs[0] for index, stubs in groups.items() if stubs is not crowded)
    writer, neighbour = crowded[:2]
    await writer.remember("k", "from the writer")
    assert await neighbour.recall("k") == "from the writer"  # same isolate: same module globals
    assert await other.recall("k") is None  # another isolate: its own module globals
    assert len(groups) > 1


async def test_objects_are_placed_by_the_worlds_seed(make_runtime):
    def placement(seed):
        rt = make_runtime(durable_objects={"C": Cached}, seed=seed)
        return [rt.isolates.of(rt.env.C.getByName(f"user-{n}")) for n in range(12)]

    assert placement(1) == placement(1)
    assert placement(1) != placement(2)


async def test_the_module_dict_survives_one_objects_eviction_while_its_isolate_lives(rt):
    stub = rt.env.C.getByName("a")
    await stub.remember("k", "v")
    await rt.evict(stub)
    assert await stub.recall("k") == "v"


@pytest.mark.parametrize("restart", ["restart_isolate", "evict_all", "deploy", "chaos"])
async def test_a_module_level_dict_loses_its_state_when_the_isolate_restarts(rt, restart):
    stub = rt.env.C.getByName("a")
    if restart == "chaos":
        rt.faults.chaos_eviction(1.0)
    await stub.remember("k", "v")
    if restart == "restart_isolate":
        rt.faults.restart_isolate(stub)
    elif restart == "evict_all":
        await rt.evict_all()
    elif restart == "deploy":
        await rt.deploy()
    rt.faults.chaos_eviction(0)
    assert await stub.recall("k") is None
    assert await stub.module_runs() == 1  # the module ran again, in a fresh namespace
    restarts = rt.trace.select("isolate:restart")
    assert [e.detail.startswith(f"isolate {rt.isolates.of(stub)}") for e in restarts] == [True]


async def test_with_one_isolate_every_object_shares_the_module_state(make_runtime):
    rt = make_runtime(durable_objects={"C": Cached}, isolates=1)
    await rt.env.C.getByName("a").remember("k", "v")
    assert [await rt.env.C.getByName(f"user-{n}").recall("k") for n in range(5)] == ["v"] * 5


async def test_restarting_an_isolate_crashes_its_busy_objects_and_evicts_idle_ones(make_runtime):
    import asyncio

    class Slow(DurableObject):
        async def nap(self):
            await asyncio.sleep(10)
            return "woke"

    rt = make_runtime(durable_objects={"S": Slow}, isolates=1)
    busy, idle = rt.env.S.getByName("busy"), rt.env.S.getByName("idle")
    await idle.nap()
    call = busy.nap()
    await rt.advance(1)
    rt.faults.restart_isolate(busy)
    with pytest.raises(Exception, match="^Error: Network connection lost.$") as caught:
        await call
    assert caught.value.retryable is True
    assert [e.object for e in rt.trace.select("evict")] == ["idle"]


def test_isolates_must_be_a_positive_count(make_runtime):
    with pytest.raises(ValueError, match="isolates must be a whole number >= 1, not 0"):
        make_runtime(durable_objects={"C": Cached}, isolates=0)


async def test_a_deploy_does_not_wait_for_pending_work_which_dies_with_the_object(make_runtime):
    import asyncio

    class Background(DurableObject):
        async def start(self):
            async def later():
                await asyncio.sleep(600)
                await self.ctx.storage.put("done", True)

            self.ctx.waitUntil(later())

        async def done(self):
            return await self.ctx.storage.get("done")

    rt = make_runtime(durable_objects={"B": Background})
    stub = rt.env.B.getByName("b")
    await stub.start()
    await rt.deploy()
    assert rt.now() == rt.start_ms  # the deploy went out at once
    assert [e.kind for e in rt.trace if e.kind in ("evict", "crash")] == ["evict"]
    await rt.advance(700)
    assert await stub.done() is None
