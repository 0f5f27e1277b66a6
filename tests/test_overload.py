"""Overload: a hot object sheds requests with the platform's error; sharding spreads the load."""

import asyncio

import pytest

from durable_dojo import JsError
from workers import DurableObject


class Hot(DurableObject):
    async def hit(self):
        count = (await self.ctx.storage.get("hits") or 0) + 1
        await self.ctx.storage.put("hits", count)
        await asyncio.sleep(0.5)  # a slow downstream call: requests pile up meanwhile
        return count

    async def hits(self):
        return await self.ctx.storage.get("hits")


async def burst(stubs, n):
    return await asyncio.gather(*(stubs[i % len(stubs)].hit() for i in range(n)), return_exceptions=True)


async def test_a_hot_singleton_sheds_requests_beyond_its_queue_as_overloaded(make_runtime):
    rt = make_runtime(durable_objects={"HOT": Hot}, max_queued_requests=100)
    singleton = rt.env.HOT.getByName("global")
    results = await burst([singleton], 130)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 30 and all(isinstance(e, JsError) for e in errors)
    assert {e.message for e in errors} == {"Durable Object is overloaded. Too many requests queued."}
    assert all(e.overloaded is True and e.remote is False and e.retryable is False
               and e.durableObjectReset is False for e in errors)
    assert await singleton.hits() == 100  # the shed requests changed nothing
    assert len(rt.trace.select("overloaded")) == 30
    assert await singleton.hit() == 101  # the queue drained: the same stub works again


async def test_the_same_burst_sharded_over_several_objects_is_not_shed(make_runtime):
    rt = make_runtime(durable_objects={"HOT": Hot}, max_queued_requests=100)
    shards = [rt.env.HOT.getByName(f"shard-{n}") for n in range(4)]
    results = await burst(shards, 130)
    assert not [r for r in results if isinstance(r, Exception)]


async def test_the_queue_bound_defaults_to_1000_and_can_be_turned_off(make_runtime):
    default = make_runtime(durable_objects={"HOT": Hot})
    results = await burst([default.env.HOT.getByName("global")], 1001)
    assert [type(r) for r in results if isinstance(r, Exception)] == [JsError]
    unbounded = make_runtime(durable_objects={"HOT": Hot}, max_queued_requests=None)
    results = await burst([unbounded.env.HOT.getByName("global")], 1500)
    assert not [r for r in results if isinstance(r, Exception)]
