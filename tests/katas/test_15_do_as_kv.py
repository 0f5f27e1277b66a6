"""Kata 15: a Durable Object per key as a key-value store for read-heavy global data.

Feature flags are read on every page view, everywhere, and change a few times a week. The
storefront keeps each flag in its own Durable Object, so every page view makes one request per
flag to objects that each live in one place. The world binds both a Durable Object namespace
(`FLAG_STORE`, if the module still defines `FlagStore`) and a Workers KV namespace (`FLAGS`);
the test reads `rt.metrics()` for both after a burst of page views.

The second test documents the trade-off of KV: a change made at one location may take up to
60 s to be seen at another (the Worker's location is `rt.kv_home_location`).
"""

from __future__ import annotations

import asyncio

import pytest

KATA = "15-do-as-kv"
SHOP = "https://shop.example.com"
PAGE_VIEWS = 200


@pytest.fixture
def world(load_kata, make_runtime):
    module = load_kata(KATA, "flags.py")
    objects = {"FLAG_STORE": module.FlagStore} if hasattr(module, "FlagStore") else {}
    return make_runtime(durable_objects=objects, kv_namespaces=["FLAGS"], worker=module.Default)


def object_metrics(rt) -> dict:
    """The FLAG_STORE namespace's metrics; zeros once the module no longer defines FlagStore."""
    if not hasattr(rt.env, "FLAG_STORE"):
        return {"requests": 0, "activeObjects": 0}
    return rt.metrics("FLAG_STORE")


async def set_flag(rt, name, value):
    response = await rt.fetch(f"{SHOP}/admin/flags/{name}", method="PUT", body=value)
    assert response.status == 200, f"setting {name}={value} answered {response.status}: {await response.text()}"


async def page_flags(rt, path="/") -> dict:
    response = await rt.fetch(f"{SHOP}{path}")
    assert response.status == 200, f"GET {path} answered {response.status}"
    return dict((await response.json())["flags"])


async def test_page_views_read_flags_without_touching_durable_objects(world):
    rt = world
    await set_flag(rt, "new_checkout", "on")
    await set_flag(rt, "dark_mode", "off")
    await rt.advance(1)
    before = object_metrics(rt)
    pages = []
    for _ in range(PAGE_VIEWS // 50):
        pages += await asyncio.gather(*(page_flags(rt, f"/product/{n}") for n in range(50)))
        await rt.advance(1)
    expected = {"new_checkout": "on", "dark_mode": "off", "holiday_banner": "off"}
    wrong = [p for p in pages if p != expected]
    assert not wrong, f"pages rendered with the wrong flags, e.g. {wrong[0]} instead of {expected}"
    after, kv = object_metrics(rt), rt.metrics("FLAGS")
    object_requests = after["requests"] - before["requests"]
    if kv["reads"] == 0 and object_requests < PAGE_VIEWS:
        pytest.fail(
            f"{PAGE_VIEWS} page views made {object_requests} Durable Object requests and read no flag from "
            f"Workers KV: they were answered from the Worker's memory. A Worker runs in many isolates in many "
            f"locations, each with its own memory: a flag flipped through one of them never reaches the "
            f"others, and a new isolate starts empty. Read the flags from Workers KV (env.FLAGS), which caches "
            f"them in every location for you.",
            pytrace=False,
        )
    if object_requests > 0:
        reads = [e for e in rt.trace.select(binding="FLAG_STORE") if e.kind == "rpc:start"]
        pytest.fail(
            f"{PAGE_VIEWS} page views made {object_requests} Durable Object requests to "
            f"{after['activeObjects']} objects and {kv['reads']} Workers KV reads. A Durable Object lives in "
            f"one place, so every page view anywhere in the world waits for a round trip to it, and every "
            f"read is a billed request. Flags are read-mostly global data where a change may take a minute "
            f"to spread: serve page views from Workers KV (env.FLAGS), which caches them in every location.\n"
            f"{rt.trace.format(reads, last=6)}",
            pytrace=False,
        )
    assert after["activeObjects"] == 0, f"Durable Objects still in memory: {after['activeObjects']}"


async def test_a_flag_change_reaches_every_location_within_a_minute(world):
    # The price of KV's speed: a location that read a flag keeps its copy for up to 60 s.
    rt = world
    await set_flag(rt, "holiday_banner", "on")
    rt.kv_home_location = "SFO"  # a shopper in San Francisco
    assert (await page_flags(rt))["holiday_banner"] == "on"
    rt.kv_home_location = "IAD"  # the admin, in Virginia, turns the banner off
    await rt.advance(5)
    await set_flag(rt, "holiday_banner", "off")
    assert (await page_flags(rt))["holiday_banner"] == "off", "the admin's own location sees the change at once"
    rt.kv_home_location = "SFO"
    right_after = (await page_flags(rt))["holiday_banner"]  # may still be "on": SFO's copy is fresh
    await rt.advance(61)
    later = (await page_flags(rt))["holiday_banner"]
    assert later == "off", (f"a minute after the change San Francisco still sees the banner "
                            f"(right after the change: {right_after!r}, a minute later: {later!r})")


async def test_a_flag_that_was_never_set_is_off(world):
    rt = world
    assert await page_flags(rt) == {"new_checkout": "off", "dark_mode": "off", "holiday_banner": "off"}
    await set_flag(rt, "dark_mode", "on")
    assert (await page_flags(rt))["dark_mode"] == "on"
