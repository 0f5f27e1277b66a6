"""Requests queued behind one object: the cost of each request as the queue grows.

Run with `make bench` (or `.venv/bin/python bench/queue.py`; `--profile` adds a cProfile of the
largest queue). Everything is measured in this one run; nothing here is asserted by `make test`.

The scenario is chapter 4's overload demo made to queue: a counter whose every increment holds
the object's input gate for 2 ms of virtual time (`blockConcurrencyWhile`), and N increments sent
at once to that one object, so N - 1 of them wait behind its gate. The queue bound is off
(`max_queued_requests=None`) so that none is shed. Printed: wall and CPU time for N = 250, 500,
1,000 and 2,000, the CPU microseconds per request, and the ratio of the per-request cost at
N = 2,000 to that at N = 250: about 1x if the cost of a request does not depend on how many
wait behind it, 8x if it grows with the queue (quadratic in total).
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import statistics
import sys
import time

from durable_dojo import Runtime
from workers import DurableObject

SIZES = (250, 500, 1_000, 2_000)
ROUNDS = 3


class BusyCounter(DurableObject):
    async def increment(self):
        await self.ctx.blockConcurrencyWhile(lambda: asyncio.sleep(0.002))  # 2 ms of work, gate shut
        count = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put("count", count)
        return count


async def queue_behind_one_object(n: int) -> None:
    rt = Runtime(durable_objects={"COUNTER": BusyCounter}, max_queued_requests=None)
    counter = rt.env.COUNTER.getByName("hot")
    counts = await asyncio.gather(*(counter.increment() for _ in range(n)))
    assert sorted(counts) == list(range(1, n + 1)), "every queued increment must count once"
    rt.close()


def timed(n: int) -> tuple[float, float]:
    """Median wall and CPU seconds of one burst of `n` requests, over ROUNDS fresh worlds."""
    walls, cpus = [], []
    for _ in range(ROUNDS):
        wall, cpu = time.perf_counter(), time.process_time()
        asyncio.run(queue_behind_one_object(n))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    per_request = {}
    for n in SIZES:
        wall, cpu = timed(n)
        per_request[n] = cpu / n
        print(f"queue: {n:>5} requests behind one object: {wall:.3f} s wall, {cpu:.3f} s CPU, "
              f"{per_request[n] * 1e6:,.0f} us CPU per request")
    ratio = per_request[SIZES[-1]] / per_request[SIZES[0]]
    print(f"queue: per-request cost at N={SIZES[-1]} / at N={SIZES[0]}: {ratio:.2f}x "
          f"(linear ~1x, quadratic ~{SIZES[-1] // SIZES[0]}x)")
    if "--profile" in sys.argv:
        profile = cProfile.Profile()
        profile.runcall(asyncio.run, queue_behind_one_object(SIZES[-1]))
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
