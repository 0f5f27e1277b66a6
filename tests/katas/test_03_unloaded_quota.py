"""Kata 03, state that is not loaded yet: initialise before the first event, not beside it.

The constructor cannot await. Loading state in a background task lets requests run against a
half-built object; loading it lazily in each method races when two first requests arrive
together. `ctx.blockConcurrencyWhile(load)` in the constructor holds every event until the
load is done.
"""

import asyncio
import random

import pytest

from workers import Response

KATA = "03-unloaded-quota"
PLANS = {"acme": {"plan": "pro", "monthly_calls": 1000}, "tinyco": {"plan": "free", "monthly_calls": 2}}
# More customers, with allowances only the billing service knows: code that hard-codes plans fails.
_draw = random.Random(3)
for _n in range(4):
    PLANS[f"customer-{_draw.randrange(10_000):04d}"] = {"plan": "team", "monthly_calls": _draw.randrange(20, 5000)}
CUSTOMERS = [name for name in PLANS if name != "tinyco"]  # the ones with room for a few calls
BILLING_LATENCY = 0.05  # the billing service takes 50 ms to answer


@pytest.fixture
def quota(load_kata):
    return load_kata(KATA, "quota.py")


class Billing:
    """The billing service: answers plans and counts how often it was asked."""

    def __init__(self):
        self.lookups = []

    def __call__(self, request):
        customer = request.url.rstrip("/").rsplit("/", 1)[-1]
        self.lookups.append(customer)
        if customer not in PLANS:
            return Response("unknown customer", status=404)
        return Response.from_json(PLANS[customer])


@pytest.fixture
def world(quota, make_runtime):
    billing = Billing()
    rt = make_runtime(durable_objects={"QUOTA": quota.Quota}, outbound=billing, outbound_latency=BILLING_LATENCY)
    return rt, billing


def excerpt(rt, *kinds, last=12):
    events = [e for e in rt.trace if any(e.kind == k or (k.endswith(":") and e.kind.startswith(k)) for k in kinds)]
    return rt.trace.format(events, last=last) or "(no such events)"


async def test_a_warm_quota_counts_calls_against_the_plan(world):
    rt, billing = world
    acme, tinyco = rt.env.QUOTA.getByName("acme"), rt.env.QUOTA.getByName("tinyco")
    await acme.remaining()  # wake both objects and give them a second to settle
    await tinyco.remaining()
    await rt.advance(1)
    got = [await acme.consume() for _ in range(3)]
    assert got == [{"allowed": True, "remaining": r} for r in (999, 998, 997)], (
        f"acme is on the 1000-call plan: three calls should leave 999, 998, 997. consume() said {got}.")
    assert await acme.remaining() == 997, "remaining() should agree with consume(): 997."
    tiny = [await tinyco.consume() for _ in range(3)]
    assert [t["allowed"] for t in tiny] == [True, True, False], (
        f"tinyco's plan allows 2 calls a month: the third must be refused. consume() said {tiny}.")


async def test_first_calls_after_a_wake_are_judged_by_the_plan(world):
    rt, billing = world
    for customer in CUSTOMERS:
        allowance = PLANS[customer]["monthly_calls"]
        stub = rt.env.QUOTA.getByName(customer)
        first, second = await asyncio.gather(stub.consume(), stub.consume())
        answers = [first, second]
        assert sorted((a or {}).get("remaining", -1) for a in answers) == [allowance - 2, allowance - 1] and all(
                (a or {}).get("allowed") for a in answers), (
            f"{customer} ({allowance} calls a month, none used) made two API calls as the object woke up, "
            f"and consume() answered {answers}: a paying customer was refused or miscounted.\n"
            "The requests ran before the plan had arrived: a background task started in the "
            "constructor does not hold back the events that are waiting for the object, and a plan "
            "written into the code is not the one the billing service has.\n"
            "Trace (note when the requests ran and when the billing call went out):\n"
            + excerpt(rt, "constructor", "fetch:out", "rpc:", "storage:"))


async def test_remaining_is_right_as_the_first_call_after_a_wake(world):
    rt, billing = world
    for used, customer in enumerate(CUSTOMERS, start=3):
        allowance = PLANS[customer]["monthly_calls"]
        stub = rt.env.QUOTA.getByName(customer)
        await stub.remaining()
        await rt.advance(1)
        for _ in range(used):
            await stub.consume()
        await rt.evict(stub)  # the object goes to sleep; its usage is in storage
        left = await stub.remaining()
        assert left == allowance - used, (
            f"{customer} used {used} of {allowance} calls; after the object was evicted, the first call "
            f"was remaining() and it answered {left!r} instead of {allowance - used}.\n"
            "Whatever loads the object's state must have finished before *any* method runs, "
            "including the ones that only read.\n"
            "Trace:\n" + excerpt(rt, "constructor", "evict", "fetch:out", "rpc:start", "rpc:end", "storage:"))


async def test_the_plan_is_fetched_once_per_wake(world):
    rt, billing = world
    acme = rt.env.QUOTA.getByName("acme")
    await acme.remaining()
    await rt.advance(1)
    await rt.evict(acme)
    before = len(billing.lookups)
    await asyncio.gather(*(acme.consume() for _ in range(5)))
    await rt.run_until_idle()  # let any load still in flight reach the billing service
    lookups = len(billing.lookups) - before
    assert lookups == 1, (
        f"Five API calls arrived together as the object woke up, and the billing service was "
        f"asked for the plan {lookups} times (it allows one lookup per wake-up).\n"
        "Each request that found the plan missing started its own load, and the outgoing fetch "
        "let the other requests in while it was in flight.\n"
        "Trace:\n" + excerpt(rt, "constructor", "fetch:out", "rpc:start"))


async def test_the_first_calls_are_judged_by_the_plan_in_every_order(quota):
    from durable_dojo import Runtime, explore  # every order the platform could run them in

    async def two_first_calls(rt):
        acme = rt.env.QUOTA.getByName("acme")
        answers = await asyncio.gather(acme.consume(), acme.consume())
        assert sorted((a or {}).get("remaining", -1) for a in answers) == [998, 999], f"consume() answered {answers}"

    found = await explore(two_first_calls, make_runtime=lambda: Runtime(
        durable_objects={"QUOTA": quota.Quota}, outbound=Billing(), outbound_latency=BILLING_LATENCY))
    for failure in found.failures:
        pytest.fail(f"Two first calls as the object wakes: in one of the {found.schedules_run} orders the platform "
                    f"could run them in (schedule {failure.schedule}), {failure.exception}.\n"
                    "Trace of that run:\n" + failure.trace.format(last=12))
    assert found.complete
