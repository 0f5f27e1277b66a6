"""Emulator core benchmarks: RPC increments per second, and 100,000 objects by name.

Run with `make bench` (or `.venv/bin/python bench/core.py`). Everything is measured in this one
run and printed as medians and ratios, because these machines are noisy:

* `rpc`: a stub call into a Durable Object that reads a counter and writes it back
  (`await stub.increment()`), against the bare-Python floor: a direct method call doing the
  same SQLite read and write and commit. Targets: >= 20,000 increments/s, within 10x of the floor.
* `objects`: 100,000 objects created by name, one put each, in a child process so that its peak
  memory is its own. Targets: under 10 s and under 1.5 GB.
* `isolates`: a fresh world whose first calls reach 8 objects, with the class from a module file
  (each isolate the objects land in runs the module again, as the platform does) against the
  same class defined in `__main__` (which no isolate can run again). Printed as the two times and
  their ratio: the price of module state per isolate, paid once per isolate start.
* `alarms`: a one-year alarm, an alarm that fails all 7 attempts (2..64 s back-off), and an
  object's `asyncio.sleep(3600)`, each from a fresh world to done. Target: each under 50 ms of wall time (virtual time jumps).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import time

from durable_dojo import Runtime
from workers import DurableObject

ROUNDS = 7
INCREMENTS = 5_000
OBJECTS = 100_000


class Counter(DurableObject):
    async def increment(self):
        n = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", n)
        return n


class FloorCounter:
    """The same work with nothing of the platform: a method call, a SQLite read, write, commit."""

    def __init__(self):
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.execute("CREATE TABLE kv(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")

    def increment(self):
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", ("n",)).fetchone()
        n = (int(row[0]) if row else 0) + 1
        self.db.execute("BEGIN")
        self.db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", ("n", str(n).encode()))
        self.db.execute("COMMIT")
        return n


def rate(seconds: float, n: int) -> float:
    return n / seconds


def bench_rpc() -> dict:
    world = Runtime(durable_objects={"COUNTER": Counter}, hang_timeout=None)
    stub = world.env.COUNTER.getByName("bench")
    floor = FloorCounter()

    async def emulator_round():
        for _ in range(INCREMENTS):
            await stub.increment()

    emulator, bare = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        asyncio.run(emulator_round())
        emulator.append(rate(time.perf_counter() - started, INCREMENTS))
        started = time.perf_counter()
        for _ in range(INCREMENTS):
            floor.increment()
        bare.append(rate(time.perf_counter() - started, INCREMENTS))
    assert world.run(stub.increment()) == ROUNDS * INCREMENTS + 1
    world.close()
    emulator_median, floor_median = statistics.median(emulator), statistics.median(bare)
    return {
        "emulator_increments_per_s": round(emulator_median),
        "floor_increments_per_s": round(floor_median),
        "floor_over_emulator": round(floor_median / emulator_median, 2),
        "rounds": ROUNDS,
        "increments_per_round": INCREMENTS,
    }


class YearAlarm(DurableObject):
    async def schedule(self, seconds):
        from js import Date

        await self.ctx.storage.setAlarm(Date.now() + seconds * 1000)

    async def alarm(self, info):
        await self.ctx.storage.put("fired", info.retryCount)

    async def nap(self, seconds):
        await asyncio.sleep(seconds)


class FailingAlarm(YearAlarm):
    async def alarm(self, info):
        await self.ctx.storage.put("attempts", info.retryCount + 1)
        raise RuntimeError("always fails")


def bench_alarms() -> dict:
    def year():
        world = Runtime(durable_objects={"A": YearAlarm}, idle_eviction=None)
        stub = world.env.A.getByName("a")
        world.run(stub.schedule(365 * 86400))
        world.run(world.advance(365 * 86400 + 1))
        assert len(world.trace.select("alarm:fire")) == 1
        world.close()

    def retries():
        world = Runtime(durable_objects={"A": FailingAlarm}, idle_eviction=None, log_errors=False)
        world.run(world.env.A.getByName("a").schedule(1))
        world.run(world.advance(200))
        assert len(world.trace.select("alarm:fire")) == 7 and len(world.trace.select("alarm:gave-up")) == 1
        world.close()

    def hour_sleep():
        world = Runtime(durable_objects={"A": YearAlarm}, idle_eviction=None)
        world.run(world.env.A.getByName("a").nap(3600))
        assert world.now() - world.start_ms == 3_600_000
        world.close()

    out = {}
    for name, fn in (("one_year_alarm_ms", year), ("seven_attempt_retry_ms", retries),
                     ("hour_sleep_ms", hour_sleep)):
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        out[name] = round(statistics.median(times), 2)
    return out


def bench_isolates() -> dict:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_core_as_module", __file__)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)  # the same Counter, now in a module an isolate can run again

    def first_calls(cls):
        world = Runtime(durable_objects={"C": cls})

        async def calls():
            for n in range(8):
                await world.env.C.getByName(f"c{n}").increment()

        world.run(calls())
        assert world.isolates._running  # the isolates started
        world.close()

    out = {}
    for name, cls in (("shared_module_ms", Counter), ("module_per_isolate_ms", module.Counter)):
        times = []
        for _ in range(ROUNDS * 5):
            started = time.perf_counter()
            first_calls(cls)
            times.append((time.perf_counter() - started) * 1000)
        out[name] = round(statistics.median(times), 2)
    out["ratio"] = round(out["module_per_isolate_ms"] / out["shared_module_ms"], 2)
    return out


def objects_child() -> None:
    """Runs in a child process: create OBJECTS objects by name, one put each."""
    world = Runtime(durable_objects={"COUNTER": Counter}, hang_timeout=None, idle_eviction=None)

    async def create_all():
        namespace = world.env.COUNTER
        for i in range(OBJECTS):
            await namespace.getByName(f"user:{i}").increment()

    started = time.perf_counter()
    world.run(create_all())
    seconds = time.perf_counter() - started
    assert world.metrics("COUNTER")["objectsCreated"] == OBJECTS
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"objects": OBJECTS, "seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb)}))


def bench_objects() -> dict:
    out = subprocess.run([sys.executable, __file__, "objects-child"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:] == ["objects-child"]:
        objects_child()
        return
    rpc = bench_rpc()
    print(f"RPC increment (stub call + storage get/put), median of {rpc['rounds']} rounds x "
          f"{rpc['increments_per_round']}:")
    print(f"  emulator          {rpc['emulator_increments_per_s']:>9,} increments/s   (target >= 20,000)")
    print(f"  bare-Python floor {rpc['floor_increments_per_s']:>9,} increments/s")
    print(f"  floor / emulator  {rpc['floor_over_emulator']:>9}x                (target <= 10x)")
    alarms = bench_alarms()
    print(f"Alarms, median of {ROUNDS} fresh worlds (target < 50 ms each):")
    print(f"  one-year alarm            {alarms['one_year_alarm_ms']:>7} ms wall")
    print(f"  7 failing attempts        {alarms['seven_attempt_retry_ms']:>7} ms wall")
    print(f"  an hour's asyncio.sleep   {alarms['hour_sleep_ms']:>7} ms wall")
    isolates = bench_isolates()
    print(f"A fresh world's first calls to 8 objects, median of {ROUNDS * 5}:")
    print(f"  class in __main__ (module shared)          {isolates['shared_module_ms']:>7} ms wall")
    print(f"  class in a module file (run per isolate)   {isolates['module_per_isolate_ms']:>7} ms wall"
          f"   ({isolates['ratio']}x)")
    objects = bench_objects()
    print(f"{objects['objects']:,} objects by name, one put each:")
    print(f"  {objects['seconds']} s (target < 10 s), peak RSS {objects['peak_rss_mb']} MB (target < 1,536 MB)")


if __name__ == "__main__":
    main()
