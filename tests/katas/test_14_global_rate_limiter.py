"""Kata 14: the global singleton rate limiter.

One object behind `idFromName("global")` counts the requests of every user: all traffic of the
API goes through one single-threaded object, which serves about 1,000 simple requests per
second at best. The test sends traffic from many users and reads how it spread over the
limiter objects: from the trace (`rpc:start` / `fetch:start` per object) and `rt.metrics()`.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

KATA = "14-global-rate-limiter"
API = "https://api.example.com/search?q=durable+objects"
USERS = [f"u{n:03d}" for n in range(40)]
ROUNDS = 10  # one virtual second each
PER_ROUND = 2  # requests per user per second
PRODUCTION_MULTIPLIER = 50  # production traffic is 50 times what this test sends
SOFT_LIMIT_RPS = 1000  # a Durable Object serves about 500-1,000 simple requests per second
MAX_SHARE = 0.10


@pytest.fixture
def world(load_kata, make_runtime):
    module = load_kata(KATA, "ratelimit.py")
    return make_runtime(durable_objects={"LIMITER": module.RateLimiter}, worker=module.Default)


async def call(rt, user):
    response = await rt.fetch(API, headers={"X-User": user})
    return response.status


def per_object(rt) -> Counter:
    """Requests each limiter object started, from the trace."""
    return Counter(e.object for e in rt.trace.select(binding="LIMITER")
                   if e.kind in ("rpc:start", "fetch:start"))


async def test_no_single_limiter_carries_the_whole_api(world):
    rt = world
    started = rt.loop.time()
    for _ in range(ROUNDS):
        statuses = await asyncio.gather(*(call(rt, user) for user in USERS for _ in range(PER_ROUND)))
        assert set(statuses) == {200}, f"every user is under the limit, yet some got {Counter(statuses)}"
        await rt.advance(1)
    seconds = rt.loop.time() - started
    counts = per_object(rt)
    if not counts:
        pytest.fail(
            f"{len(USERS)} users made {len(USERS) * PER_ROUND * ROUNDS} requests and no limiter object received "
            "any of them: the limit is counted somewhere else, in the Worker's memory. A Worker runs as many "
            "isolates in many locations, each with its own memory: a user's requests spread over them are "
            "never counted together. A limit must be counted in one place per user: a Durable Object.",
            pytrace=False)
    total = sum(counts.values())
    busiest, busiest_count = counts.most_common(1)[0]
    share = busiest_count / total
    busiest_rps = busiest_count / seconds * PRODUCTION_MULTIPLIER
    metrics = rt.metrics("LIMITER")
    if share > MAX_SHARE or busiest_rps > SOFT_LIMIT_RPS:
        sample = rt.trace.select("rpc:start", binding="LIMITER") + rt.trace.select("fetch:start", binding="LIMITER")
        pytest.fail(
            f"One limiter object, {busiest!r}, handled {busiest_count} of {total} requests ({share:.0%}) from "
            f"{len(USERS)} users. At production traffic ({PRODUCTION_MULTIPLIER}x this test) it would need "
            f"{busiest_rps:,.0f} requests per second, far above the ~{SOFT_LIMIT_RPS:,} a single Durable Object "
            f"can serve: every user would be slowed down by everyone else. No limiter may take more than "
            f"{MAX_SHARE:.0%} of the traffic.\n"
            f"metrics: activeObjects={metrics['activeObjects']}, requests={metrics['requests']}, "
            f"requestsPerSecond={metrics['requestsPerSecond']:.0f}\n"
            f"{rt.trace.format(sorted(sample, key=lambda e: e.time), last=6)}",
            pytrace=False,
        )
    assert metrics["activeObjects"] >= len(USERS) * MAX_SHARE * 2, metrics


async def test_each_user_gets_their_own_limit(world):
    rt = world
    heavy = [await call(rt, "heavy") for _ in range(105)]
    light = [await call(rt, "light") for _ in range(3)]
    assert Counter(heavy) == {200: 100, 429: 5}, f"heavy user: {Counter(heavy)} (limit is 100 per minute)"
    assert light == [200, 200, 200], f"a light user is limited by someone else's traffic: {light}"


async def test_the_limit_resets_in_the_next_minute(world):
    rt = world
    statuses = [await call(rt, "eager") for _ in range(101)]
    assert statuses[-1] == 429, "the 101st request in a minute must be refused"
    await rt.advance(60)
    assert await call(rt, "eager") == 200, "a new minute must allow requests again"
    assert await call(rt, "nobody-header-check") == 200
