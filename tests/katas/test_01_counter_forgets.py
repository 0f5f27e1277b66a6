"""Kata 01, a counter that forgets: the count must live in storage, not in a field.

The platform may drop an object from memory whenever it is idle (eviction, hibernation, a
restart, a code deploy); the next request builds a new instance with the constructor, and only
what was stored is still there.
"""

import asyncio

import pytest

KATA = "01-counter-forgets"


@pytest.fixture
def counter(load_kata):
    return load_kata(KATA, "counter.py")


def excerpt(rt, *kinds, last=12):
    """The trace events of these kinds ("rpc:" matches every rpc event), formatted."""
    events = [e for e in rt.trace if any(e.kind == k or (k.endswith(":") and e.kind.startswith(k)) for k in kinds)]
    return rt.trace.format(events, last=last) or "(no such events)"


async def test_the_counter_counts(counter, make_runtime):
    rt = make_runtime(durable_objects={"COUNTER": counter.Counter})
    page = rt.env.COUNTER.getByName("/pricing")
    counts = [await page.increment() for _ in range(3)]
    assert counts == [1, 2, 3], f"Three page views should count 1, 2, 3; increment() returned {counts}."
    assert await page.views() == 3, f"views() should be 3 after three views, not {await page.views()!r}."
    posted = await (await page.fetch("https://counter.example.com/", method="POST")).text()
    assert posted == "4", f"POST should count a fourth view and answer '4', not {posted!r}."
    got = await (await page.fetch("https://counter.example.com/")).text()
    assert got == "4", f"GET should answer the total '4', not {got!r}."


async def test_each_page_has_its_own_count(counter, make_runtime):
    rt = make_runtime(durable_objects={"COUNTER": counter.Counter})
    pricing, docs = rt.env.COUNTER.getByName("/pricing"), rt.env.COUNTER.getByName("/docs")
    await pricing.increment()
    await pricing.increment()
    await docs.increment()
    seen = (await pricing.views(), await docs.views())
    assert seen == (2, 1), f"/pricing was viewed twice and /docs once, but views() says {seen}."


async def test_views_arriving_together_are_all_counted(counter, make_runtime):
    rt = make_runtime(durable_objects={"COUNTER": counter.Counter})
    page = rt.env.COUNTER.getByName("/launch")
    counts = await asyncio.gather(*(page.increment() for _ in range(10)))
    assert set(counts) == set(range(1, 11)), (
        f"Ten views arrived together; each should get its own number 1..10, got {counts}.\n"
        + excerpt(rt, "rpc:", "storage:"))
    assert await page.views() == 10


async def test_count_survives_eviction(counter, make_runtime):
    rt = make_runtime(durable_objects={"COUNTER": counter.Counter})
    page = rt.env.COUNTER.getByName("/pricing")
    for _ in range(3):
        await page.increment()
    await rt.evict(page)  # what the platform does to an idle object, or on a restart or deploy
    after = await page.views()
    assert after == 3, (
        f"The page had 3 views, the object was evicted from memory, and now views() says {after!r}.\n"
        "Eviction drops everything the instance kept in memory; the next request ran the constructor "
        "again on a brand-new instance. Only what was written to storage survives.\n"
        "Trace (constructor, evict, storage):\n" + excerpt(rt, "constructor", "evict", "storage:", "rpc:start"))
    assert await page.increment() == 4, "The next view after the eviction should be number 4."


async def test_count_survives_idle_eviction(counter, make_runtime):
    rt = make_runtime(durable_objects={"COUNTER": counter.Counter})
    page = rt.env.COUNTER.getByName("/pricing")
    for _ in range(3):
        await page.increment()
    await rt.advance(150)  # two and a half quiet minutes: no page view at all
    evictions = rt.trace.select("hibernate") + rt.trace.select("evict")
    after = await page.views()
    assert after == 3, (
        f"The page had 3 views; after 150 s without traffic views() says {after!r}.\n"
        f"Nobody evicted it on purpose: the platform hibernates an idle object after 10 s (after "
        f"70-140 s if something keeps it from hibernating; the trace shows {len(evictions)} time(s) it "
        "left memory), and the count lived only in that instance.\n"
        "Trace:\n" + excerpt(rt, "constructor", "hibernate", "evict", "storage:", "rpc:start"))


async def test_count_survives_a_restart(counter, make_runtime):
    rt = make_runtime(durable_objects={"COUNTER": counter.Counter})
    pages = {path: rt.env.COUNTER.getByName(path) for path in ("/pricing", "/docs", "/blog")}
    for n, page in enumerate(pages.values(), start=2):
        for _ in range(n):
            await page.increment()
    await rt.evict_all()  # a deploy or a restart of the machine: every object, and its isolate, starts over
    after = {path: await page.views() for path, page in pages.items()}
    assert after == {"/pricing": 2, "/docs": 3, "/blog": 4}, (
        f"Three pages had 2, 3 and 4 views; after a restart (every object evicted, the code loaded "
        f"again) views() says {after}.\n"
        "A restart starts the Worker's code over: instance fields are gone, and so is anything kept "
        "at module level (which is shared by the objects of one isolate and dies with it). Only what "
        "was written to storage survives.\n"
        "Trace:\n" + excerpt(rt, "constructor", "evict", "storage:", "rpc:start"))
