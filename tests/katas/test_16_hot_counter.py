"""Kata 16: the hot counter.

Every page view increments one global counter object: a single-threaded object takes the whole
site's traffic, and it serves about 1,000 simple requests per second at best. The test sends a
burst of views and reads how the increments spread over the counter objects (from the trace),
then checks that `/stats` still counts every view exactly once.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

KATA = "16-hot-counter"
SITE = "https://news.example.com"
ROUNDS = 10  # one virtual second each
PER_ROUND = 100
PRODUCTION_MULTIPLIER = 50  # a big news day: 50 times this test's traffic
SOFT_LIMIT_RPS = 1000
MAX_SHARE = 0.20


@pytest.fixture(autouse=True)
def seeded_random():
    """A random shard choice gives the same spread on every run (the module's state is restored)."""
    state = random.getstate()
    random.seed(16)
    yield
    random.setstate(state)


@pytest.fixture
def world(load_kata, make_runtime):
    module = load_kata(KATA, "pageviews.py")
    return make_runtime(durable_objects={"VIEWS": module.ViewCounter}, worker=module.Default)


async def view(rt, n):
    response = await rt.fetch(f"{SITE}/articles/{n}")
    assert response.status == 200, f"GET /articles/{n} answered {response.status}"


async def total_views(rt) -> int:
    response = await rt.fetch(f"{SITE}/stats")
    assert response.status == 200, f"GET /stats answered {response.status}"
    return (await response.json())["views"]


def increments_per_object(rt) -> Counter:
    return Counter(e.object for e in rt.trace.select(binding="VIEWS") if e.kind in ("rpc:start", "fetch:start"))


async def test_increments_are_spread_over_many_objects(world):
    rt = world
    started = rt.loop.time()
    for _ in range(ROUNDS):
        await asyncio.gather(*(view(rt, n) for n in range(PER_ROUND)))
        await rt.advance(1)
    seconds = rt.loop.time() - started
    counts = increments_per_object(rt)
    total = sum(counts.values())
    busiest, busiest_count = counts.most_common(1)[0]
    share = busiest_count / total
    busiest_rps = busiest_count / seconds * PRODUCTION_MULTIPLIER
    if share > MAX_SHARE or busiest_rps > SOFT_LIMIT_RPS:
        metrics = rt.metrics("VIEWS")
        sample = [e for e in rt.trace.select(binding="VIEWS") if e.kind in ("rpc:start", "fetch:start")]
        pytest.fail(
            f"One counter object, {busiest!r}, took {busiest_count} of {total} increments ({share:.0%}). On a "
            f"big news day ({PRODUCTION_MULTIPLIER}x this test) it would need {busiest_rps:,.0f} increments per "
            f"second, far above the ~{SOFT_LIMIT_RPS:,} one Durable Object can serve: page views would queue "
            f"up behind each other and fail as overloaded. No counter object may take more than "
            f"{MAX_SHARE:.0%} of the increments.\n"
            f"metrics: activeObjects={metrics['activeObjects']}, requests={metrics['requests']}, "
            f"requestsPerSecond={metrics['requestsPerSecond']:.0f}\n{rt.trace.format(sample, last=6)}",
            pytrace=False,
        )


async def test_the_total_counts_every_view_exactly_once(world):
    rt = world
    await asyncio.gather(*(view(rt, n) for n in range(300)))
    first = await total_views(rt)
    assert first == 300, (f"after 300 views /stats says {first}: the total must add up every counter the views "
                          "went to, each once")
    await rt.evict_all()  # counters live in storage, not in memory
    await asyncio.gather(*(view(rt, n) for n in range(200)))
    await rt.advance(3600)
    got = await total_views(rt)
    assert got == 500, f"after 500 views /stats says {got}: the total must add up every counter, once"
