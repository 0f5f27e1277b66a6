"""Fault injection: failed writes, crashes, chaos eviction (semantics 2.13, 2.15, 4.6, scenario 24)."""

import asyncio

import pytest

from durable_dojo import JsError
from workers import DurableObject


class Account(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.cached_balance = 0  # the anti-pattern: truth kept in memory

    async def deposit_in_memory(self, amount):
        self.cached_balance += amount
        return self.cached_balance

    async def deposit(self, amount):
        balance = (await self.ctx.storage.get("balance") or 0) + amount
        await self.ctx.storage.put("balance", balance)
        return balance

    async def slow_deposit(self, amount):
        balance = (await self.ctx.storage.get("balance") or 0) + amount
        self.ctx.storage.put("pending", True)
        await asyncio.sleep(1)  # a crash lands here
        await self.ctx.storage.put("balance", balance)
        return balance

    async def read(self, key="balance"):
        return await self.ctx.storage.get(key)


@pytest.fixture
def world(make_runtime):
    return make_runtime(durable_objects={"ACCOUNT": Account})


async def test_crash_mid_request_loses_memory_keeps_committed_storage_and_is_retryable(world):
    stub = world.env.ACCOUNT.getByName("acct")
    await stub.deposit(10)
    call = stub.slow_deposit(5)
    world.faults.crash_after(stub, 0.5)
    with pytest.raises(JsError, match=r"^Error: Network connection lost\.$") as caught:
        await call
    assert caught.value.retryable is True and caught.value.durableObjectReset is False
    fresh = world.env.ACCOUNT.getByName("acct")
    assert await fresh.read() == 10
    assert await fresh.read("pending") is True  # committed at the end of its turn, before the crash
    with pytest.raises(JsError, match="Network connection lost"):
        await stub.read()  # the old stub is broken: retry with a new one
    assert [e.kind for e in world.trace.select("crash")] == ["crash"]


async def test_crash_now_resets_an_idle_object(world):
    stub = world.env.ACCOUNT.getByName("acct")
    assert await stub.deposit_in_memory(3) == 3
    world.faults.crash(stub)
    assert await world.env.ACCOUNT.getByName("acct").deposit_in_memory(3) == 3


async def test_chaos_eviction_catches_a_counter_kept_in_memory(world):
    world.faults.chaos_eviction(0.5, seed=3)
    stub = world.env.ACCOUNT.getByName("acct")
    in_memory = [await stub.deposit_in_memory(1) for _ in range(20)]
    stored = [await stub.deposit(1) for _ in range(20)]
    assert in_memory != list(range(1, 21))  # the in-memory total went back to 1 at least once
    assert stored == list(range(1, 21))  # storage is the truth: chaos changes nothing
    assert len(world.trace.select("chaos")) > 0


async def test_chaos_eviction_is_reproducible_for_a_seed(make_runtime):
    async def run(seed):
        rt = make_runtime(durable_objects={"ACCOUNT": Account})
        rt.faults.chaos_eviction(0.3, seed=seed)
        stub = rt.env.ACCOUNT.getByName("a")
        return [await stub.deposit_in_memory(1) for _ in range(30)]

    assert await run(5) == await run(5)
    assert await run(5) != await run(6)


async def test_random_write_failures_never_confirm_a_lost_write(world):
    world.faults.fail_flushes(0.3, seed=11)
    confirmed = 0
    for _ in range(40):
        try:
            confirmed = await world.env.ACCOUNT.getByName("acct").deposit(1)
        except JsError as error:
            assert error.durableObjectReset is True
    world.faults.clear()
    # Every success the caller saw is stored; every failure stored nothing.
    assert await world.env.ACCOUNT.getByName("acct").read() == confirmed
    assert 0 < confirmed < 40
