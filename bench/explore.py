"""Schedule exploration benchmarks: schedules per second, and the time to cover every schedule
of 3 concurrent requests with 4 awaits each.

Run with `make bench` (or `.venv/bin/python bench/explore.py`). Each figure is measured in
this one run (the median of a few rounds); nothing here is asserted by `make test`.

* `cover`: three concurrent requests to one object, each doing 4 outgoing `fetch`es with a
  storage read and write between them (every await opens the input gate). Exhaustive search
  covers every order of their continuations: with the virtual clock, the three fetches of a
  round come back at the same instant, so the space is (3!)^4 = 1,296 schedules. Target: under 2 s.
  Printed with wall and CPU time (the machine may be shared), and against the floor: the same
  scenario run 1,296 times in fresh worlds without exploring.
* `independent`: the same three requests to three objects that never talk to each other; with
  the partial-order reduction one schedule covers them, without it every order is run.
* `scenarios`: schedules to cover each race scenario of tests/test_explore.py, and two relays
  forwarding to a shared sink (objects that talk), with and without the reduction.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from durable_dojo import Runtime, explore
from workers import DurableObject, Response, fetch

ROUNDS = 3
AWAITS = 4


class Busy(DurableObject):
    async def work(self, n):
        for i in range(n):
            seen = await self.ctx.storage.get("count") or 0
            await self.ctx.storage.put("count", seen + 1)
            await fetch(f"https://api.example/{i}")
        return await self.ctx.storage.get("count")


def busy_world():
    return Runtime(durable_objects={"BUSY": Busy}, outbound=lambda request: Response("ok"))


async def one_object(rt):
    busy = rt.env.BUSY.getByName("one")
    await asyncio.gather(*(busy.work(AWAITS) for _ in range(3)))


async def three_objects(rt):
    await asyncio.gather(*(rt.env.BUSY.getByName(name).work(AWAITS) for name in ("a", "b", "c")))


def timed(make, rounds=ROUNDS):
    """Median wall and CPU seconds of `asyncio.run(make())`, and its last result."""
    walls, cpus, result = [], [], None
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        result = asyncio.run(make())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


async def plain_runs(count):
    for _ in range(count):
        rt = busy_world()
        await one_object(rt)
        rt.close()


def main() -> None:
    wall, cpu, found = timed(lambda: explore(one_object, make_runtime=busy_world, max_schedules=5000))
    print(f"cover: 3 requests x {AWAITS} awaits on one object: {found.schedules_run} schedules, "
          f"complete={found.complete}, {wall:.2f} s wall, {cpu:.2f} s CPU (target < 2 s), "
          f"{found.schedules_run / cpu:,.0f} schedules per CPU second")
    floor_wall, floor_cpu, _ = timed(lambda: plain_runs(found.schedules_run))
    print(f"floor: the same scenario run {found.schedules_run} times without exploring: {floor_cpu:.2f} s CPU; "
          f"exploring costs {cpu / floor_cpu:.2f}x that")
    for reduction in (True, False):
        wall, cpu, found = timed(lambda: explore(three_objects, make_runtime=busy_world, max_schedules=2000,
                                                 reduction=reduction), rounds=1)
        print(f"independent: 3 objects, reduction={reduction}: {found.schedules_run} schedules, "
              f"complete={found.complete}, {cpu:.2f} s CPU")
    sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
    import test_explore as races  # noqa: PLC0415 - the scenarios live with their tests

    for scenario, world in [(races.interest_and_deposit, races.wallet_world()),
                            (races.two_buyers, races.stock_world()),
                            (races.alarm_and_request, races.reminder_world()),
                            (races._outcome_of_relays, races.relay_world)]:
        counts = []
        for reduction in (True, False):
            found = asyncio.run(explore(scenario, make_runtime=world, reduction=reduction))
            counts.append(f"{found.schedules_run} schedules ({'complete' if found.complete else 'bounded'}, "
                          f"{len(found.failures)} failing)")
        print(f"scenarios: {scenario.__name__}: with reduction {counts[0]}; without {counts[1]}")


if __name__ == "__main__":
    main()
