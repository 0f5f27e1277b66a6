"""Input gates, output gates and blockConcurrencyWhile (semantics §4, scenarios 1-3, 9, 24).

Each of scenarios 1-3 is a test that a naive asyncio emulator fails: one that yields on every
storage await loses the update in scenario 1, and one that serialises whole requests never
loses it in scenario 2.
"""

import asyncio

import pytest

from durable_dojo import JsError
from js import Date
from workers import DurableObject, Response, fetch


async def outbound_ok(request):
    return Response("ok")


class Racer(DurableObject):
    """The read-modify-write of scenarios 1-3, with a choice of what happens in between."""

    async def bump(self, between: str):
        async def body():
            v = await self.ctx.storage.get("n") or 0
            if between == "fetch":
                await fetch("https://api.example.com/")
            elif between == "sleep":
                await asyncio.sleep(0.01)
            elif between == "rpc":
                await self.env.OTHER.getByName("x").ping()
            await self.ctx.storage.put("n", v + 1)
            return v + 1

        return await body()

    async def bump_locked(self, between: str):
        return await self.ctx.blockConcurrencyWhile(lambda: self.bump(between))

    async def value(self):
        return await self.ctx.storage.get("n")


class Other(DurableObject):
    async def ping(self):
        await asyncio.sleep(0.005)
        return "pong"


@pytest.fixture
def racer(make_runtime):
    rt = make_runtime(durable_objects={"RACER": Racer, "OTHER": Other}, outbound=outbound_ok)
    return rt, rt.env.RACER.getByName("r")


# Scenario 1 / 4.4: storage awaits keep the gate closed.
async def test_concurrent_read_modify_write_with_only_storage_awaits_loses_nothing(racer):
    rt, stub = racer
    results = await asyncio.gather(*(stub.bump("nothing") for _ in range(10)))
    assert sorted(results) == list(range(1, 11))
    assert await stub.value() == 10


# Scenario 2 / 4.3 / 4.5: fetch, timers and RPC to other objects open the gate.
@pytest.mark.parametrize("between", ["fetch", "sleep", "rpc"])
async def test_an_outside_await_between_read_and_write_loses_an_update(racer, between):
    rt, stub = racer
    results = await asyncio.gather(stub.bump(between), stub.bump(between))
    assert results == [1, 1]
    assert await stub.value() == 1


# Scenario 3 / 4.8: blockConcurrencyWhile restores atomicity across outside awaits.
@pytest.mark.parametrize("between", ["fetch", "sleep", "rpc"])
async def test_block_concurrency_while_makes_the_race_atomic_again(racer, between):
    rt, stub = racer
    results = await asyncio.gather(stub.bump_locked(between), stub.bump_locked(between))
    assert sorted(results) == [1, 2]
    assert await stub.value() == 2


class Logger(DurableObject):
    """Records the order in which requests run, as the oracle's blockConcurrencyWhile check."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.log = []

    async def slow(self, locked: bool):
        self.log.append("A:start")

        async def critical():
            self.log.append("A:bcw-enter")
            await asyncio.sleep(0.2)
            self.log.append("A:bcw-exit")
            return "bcw-return-value"

        if locked:
            value = await self.ctx.blockConcurrencyWhile(critical)
            self.log.append(f"A:after-bcw:{value}")
        else:
            await asyncio.sleep(0.2)
            self.log.append("A:after-sleep")

    async def quick(self):
        self.log.append("B:run")

    def read_log(self):
        return self.log


async def _a_then_b(rt, stub, locked):
    async def b_later():
        await asyncio.sleep(0.05)
        await stub.quick()

    async def client():
        await asyncio.gather(stub.slow(locked), b_later())

    rt.run(client())
    return await stub.read_log()


async def test_without_block_concurrency_while_a_second_request_runs_during_a_sleep(make_runtime):
    rt = make_runtime(durable_objects={"LOG": Logger})
    assert await _a_then_b(rt, rt.env.LOG.getByName("x"), locked=False) == ["A:start", "B:run", "A:after-sleep"]


async def test_block_concurrency_while_holds_other_requests_until_it_returns(make_runtime):
    rt = make_runtime(durable_objects={"LOG": Logger})
    assert await _a_then_b(rt, rt.env.LOG.getByName("x"), locked=True) == [
        "A:start", "A:bcw-enter", "A:bcw-exit", "A:after-bcw:bcw-return-value", "B:run"]


class Holder(DurableObject):
    """Request A awaits a slow fetch; request B then enters blockConcurrencyWhile."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.log = []

    async def fetching(self):
        await fetch("https://slow.example.com/")
        self.log.append(["A:fetch-done", Date.now()])

    async def locking(self):
        async def critical():
            self.log.append(["B:bcw-enter", Date.now()])
            await asyncio.sleep(1)
            self.log.append(["B:bcw-exit", Date.now()])

        await self.ctx.blockConcurrencyWhile(critical)

    def read_log(self):
        return self.log


# 4.8: blockConcurrencyWhile also holds back completions of *other* requests' outgoing calls.
async def test_block_concurrency_while_holds_back_replies_to_other_requests_fetches(make_runtime):
    rt = make_runtime(durable_objects={"H": Holder}, outbound=outbound_ok, outbound_latency=0.1)
    stub = rt.env.H.getByName("h")
    start = rt.now()

    async def client():
        a = stub.fetching()
        await asyncio.sleep(0.01)
        await asyncio.gather(a, stub.locking())

    rt.run(client())
    log = [(what, t - start) for what, t in await stub.read_log()]
    # The fetch reply arrived at 100 ms, but A only resumed when B's section closed at 1010 ms.
    assert log == [("B:bcw-enter", 10), ("B:bcw-exit", 1010), ("A:fetch-done", 1010)]


class Nester(DurableObject):
    async def nest(self, depth: int):
        async def level(n):
            if n == depth:
                return n
            return await self.ctx.blockConcurrencyWhile(lambda: level(n + 1))

        return await level(0)


# 4.8: nesting is allowed up to 64 levels, then throws synchronously.
async def test_block_concurrency_while_nests_64_levels(make_runtime):
    rt = make_runtime(durable_objects={"N": Nester})
    assert await rt.env.N.getByName("n").nest(64) == 64


async def test_block_concurrency_while_nested_65_deep_throws_the_workerd_error(make_runtime):
    rt = make_runtime(durable_objects={"N": Nester})
    with pytest.raises(JsError, match=r"^Error: blockConcurrencyWhile\(\) calls are nested too deeply\.$"):
        await rt.env.N.getByName("n").nest(65)


class SyncBcw(DurableObject):
    async def run(self):
        return await self.ctx.blockConcurrencyWhile(lambda: 42)


async def test_block_concurrency_while_accepts_a_synchronous_callback(make_runtime):
    rt = make_runtime(durable_objects={"S": SyncBcw})
    assert await rt.env.S.getByName("s").run() == 42


# ----- output gate (4.6, 4.7, 2.16, scenario 9 and 24) -----


class Writer(DurableObject):
    async def write_and_answer(self, value):
        self.ctx.storage.put("v", value)  # not awaited: the output gate still protects the caller
        return "stored"

    async def write_unconfirmed(self, value):
        self.ctx.storage.put("v", value, {"allowUnconfirmed": True})
        return "sent before confirmation"

    async def write_two(self):
        self.ctx.storage.put("a", 1)
        self.ctx.storage.put("b", 2)
        return "ok"

    async def read(self, key="v"):
        return await self.ctx.storage.get(key)


@pytest.fixture
def writer(make_runtime):
    rt = make_runtime(durable_objects={"W": Writer})
    return rt, rt.env.W.getByName("w")


async def test_unawaited_write_is_committed_before_the_response_leaves(writer):
    rt, stub = writer
    assert await stub.write_and_answer(7) == "stored"
    kinds = [e.kind for e in rt.trace.select(object="w") if e.kind in ("commit", "rpc:end")]
    assert kinds == ["commit", "rpc:end"]
    assert await rt.env.W.getByName("w").read() == 7


async def test_failed_write_never_confirms_the_response_and_resets_the_object(writer):
    rt, stub = writer
    await stub.write_and_answer(1)
    rt.faults.fail_next_flush(stub)
    with pytest.raises(JsError) as caught:
        await stub.write_and_answer(2)
    assert caught.value.durableObjectReset is True
    assert "injected storage failure" in str(caught.value)
    assert await rt.env.W.getByName("w").read() == 1  # the failed batch stored nothing
    assert [e.kind for e in rt.trace.select("reset")] == ["reset"]


async def test_allow_unconfirmed_lets_the_response_out_before_the_write_is_confirmed(writer):
    rt, stub = writer
    rt.faults.fail_next_flush(stub)
    assert await stub.write_unconfirmed(3) == "sent before confirmation"
    await rt.run_until_idle()
    assert [e.kind for e in rt.trace.select("reset")] == ["reset"]
    assert await rt.env.W.getByName("w").read() is None


async def test_writes_without_an_await_between_them_commit_together_or_not_at_all(writer):
    rt, stub = writer
    rt.faults.fail_next_flush(stub)
    with pytest.raises(JsError):
        await stub.write_two()
    fresh = rt.env.W.getByName("w")
    assert (await fresh.read("a"), await fresh.read("b")) == (None, None)
    assert await fresh.write_two() == "ok"
    assert (await fresh.read("a"), await fresh.read("b")) == (1, 2)


class Caller(DurableObject):
    async def write_then_call(self):
        self.ctx.storage.put("before-call", True)
        return await self.env.W.getByName("target").read("anything")


# 4.6: outgoing calls wait for the output gate too.
async def test_an_outgoing_call_leaves_only_after_the_callers_writes_are_confirmed(make_runtime):
    rt = make_runtime(durable_objects={"C": Caller, "W": Writer})
    await rt.env.C.getByName("c").write_then_call()
    kinds = [(e.object, e.kind) for e in rt.trace if e.kind in ("commit", "rpc:call")]
    assert kinds[:3] == [("c", "rpc:call"), ("c", "commit"), ("target", "rpc:call")]


class Ledger(DurableObject):
    """4.1/4.7: the input gate keeps an event's code between its awaits to itself: no other event
    of the object runs there while it awaits only storage, or anything inside blockConcurrencyWhile."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.running = None  # which call is between its first and last line
        self.interleaved = []

    async def critical(self, n, between):
        async def body():
            self.running = n
            await self.ctx.storage.put(f"k{n}", n)
            if between == "sleep":
                await asyncio.sleep(0.001)
            await self.ctx.storage.get(f"k{n}")
            await self.ctx.storage.list({"limit": 2})
            if self.running != n:
                self.interleaved.append(n)
            self.running = None

        if between == "sleep":
            return await self.ctx.blockConcurrencyWhile(body)
        return await body()

    def interleavings(self):
        return self.interleaved


@pytest.mark.parametrize("between", ["storage only", "sleep"])
async def test_no_other_event_runs_while_one_is_behind_the_input_gate(make_runtime, between):
    rt = make_runtime(durable_objects={"L": Ledger})
    stub = rt.env.L.getByName("l")
    await asyncio.gather(*(stub.critical(n, between) for n in range(20)))
    assert await stub.interleavings() == []


class AllowConcurrency(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.log = []

    async def reader(self, allow: bool):
        self.log.append("reader:start")
        await self.ctx.storage.get("k", {"allowConcurrency": allow})
        self.log.append("reader:end")

    async def other(self):
        self.log.append("other")

    def read_log(self):
        return self.log


# 3.13: allowConcurrency on a read leaves the input gate open while it is in flight.
@pytest.mark.parametrize("allow, expected", [
    (False, ["reader:start", "reader:end", "other"]),
    (True, ["reader:start", "other", "reader:end"]),
])
async def test_allow_concurrency_lets_other_events_in_during_a_read(make_runtime, allow, expected):
    rt = make_runtime(durable_objects={"A": AllowConcurrency})
    stub = rt.env.A.getByName("a")
    await asyncio.gather(stub.reader(allow), stub.other())
    assert await stub.read_log() == expected


# ----- many requests waiting behind one busy object -----

class BusyCounter(DurableObject):
    """Each increment holds the input gate for 2 ms, as chapter 4's overloaded counter does."""

    async def increment(self):
        await self.ctx.blockConcurrencyWhile(lambda: asyncio.sleep(0.002))
        count = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put("count", count)
        return count


async def gate_questions_for_a_queue_of(make_runtime, monkeypatch, n: int) -> int:
    """How many times the object's input gate is asked about a waiting callback while `n`
    increments, sent at once, take their turns; each must count once, in the order sent."""
    from durable_dojo._core.gates import InputGate

    asked = 0
    holds = InputGate.holds

    def counting_holds(gate, handle, scope):
        nonlocal asked
        asked += 1
        return holds(gate, handle, scope)

    monkeypatch.setattr(InputGate, "holds", counting_holds)
    rt = make_runtime(durable_objects={"COUNTER": BusyCounter}, max_queued_requests=None)
    counter = rt.env.COUNTER.getByName("hot")
    started = rt.now()
    counts = await asyncio.gather(*(counter.increment() for _ in range(n)))
    assert counts == list(range(1, n + 1))  # admitted in the order they were sent
    assert rt.now() - started == 2 * n  # one at a time behind the gate, 2 ms each
    monkeypatch.undo()
    return asked


async def test_requests_queued_behind_a_shut_gate_are_not_each_reexamined_every_time_it_opens(
        make_runtime, monkeypatch):
    # Each time the gate opens, one waiting request goes in and shuts it again. If every waiting
    # request were asked again at each opening, N requests would cost about N*N/2 questions:
    # 200 requests 16 times the questions of 50. Parked in order, it is about 4 times.
    small = await gate_questions_for_a_queue_of(make_runtime, monkeypatch, 50)
    large = await gate_questions_for_a_queue_of(make_runtime, monkeypatch, 200)
    assert large <= 6 * small, f"{small} questions for 50 queued requests, {large} for 200"
