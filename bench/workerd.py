"""The emulator against real workerd: one counter increment (read a counter, write it back,
return it), measured three ways in one run.

    .venv/bin/python bench/workerd.py          # or: make bench-workerd

1. workerd: HTTP into a Durable Object (the Worker routes GET /count/bench to the object's fetch
   handler), sequential requests over one keep-alive connection (`http.client`), on 127.0.0.1.
   workerd is installed (pinned, from npm, if missing) and started by this script through
   conformance/launcher.py, with localDisk (SQLite-backed) storage, and stopped at the end.
2. emulator, RPC: `await stub.increment()`.
3. emulator, fetch: `await stub.fetch("http://do/increment")` into the object's fetch handler,
   body read.

The Durable Object code is the conformance twin on both sides (TestDO in conformance/worker.js and
conformance/scenarios.py). The three take turns: each of ROUNDS rounds runs workerd, then RPC, then
fetch, so a machine that speeds up or slows down during the run (a shared CPU, frequency scaling)
weighs on all three alike. Before the rounds each way runs WARMUP calls that are not counted
(workerd's JIT and the emulator's first object, database and caches). Each round is bounded in
count and in time. The script prints the median rates, the ratios emulator / workerd of those
medians (target: at least 15x) and the ratio in each round.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "conformance"))

from launcher import WORKERD_VERSION, Client, Workerd, ensure_workerd, workerd_version  # noqa: E402
from scenarios import TestDO  # noqa: E402

from durable_dojo import Runtime  # noqa: E402

ROUNDS = 7
WARMUP = 300                   # calls of each way before the rounds, not counted
WORKERD_REQUESTS = 2_000       # per round
EMULATOR_CALLS = 5_000         # per round
ROUND_TIME_LIMIT_S = 30.0      # a round stops early past this (the rate counts what was done)
TARGET_RATIO = 15.0  # issue 18: the emulator at least 15x workerd's local rate


class WorkerdWay:
    """HTTP GETs into the object through a running workerd, over one keep-alive connection."""

    def __init__(self, server: Workerd):
        self.client = Client(server.port)
        self.last = 0

    def calls(self, count: int, time_limit: float) -> float:
        """Make up to `count` requests (fewer past `time_limit` seconds); the rate per second."""
        done = 0
        started = time.perf_counter()
        while done < count and time.perf_counter() - started < time_limit:
            n = int(self.client.get_text("/count/bench"))
            done += 1
            if self.last and n != self.last + 1:
                raise AssertionError(f"workerd counter went from {self.last} to {n}")
            self.last = n
        return done / (time.perf_counter() - started)


class EmulatorWay:
    """`await stub.increment()` (path "rpc") or a fetch into the object (path "fetch")."""

    def __init__(self, path: str):
        self.path = path
        self.world = Runtime(durable_objects={"TEST": TestDO}, hang_timeout=None, idle_eviction=None)
        self.stub = self.world.env.TEST.getByName("bench")
        self.last = 0

    def calls(self, count: int, time_limit: float) -> float:
        return asyncio.run(self._calls(count, time_limit))

    async def _calls(self, count: int, time_limit: float) -> float:
        stub = self.stub
        done = 0
        started = time.perf_counter()
        while done < count and time.perf_counter() - started < time_limit:
            if self.path == "rpc":
                n = await stub.increment()
            else:
                n = int(await (await stub.fetch("http://do/increment")).text())
            done += 1
            if n != self.last + 1:
                raise AssertionError(f"emulator counter went from {self.last} to {n}")
            self.last = n
        return done / (time.perf_counter() - started)


def main() -> int:
    binary = ensure_workerd()
    version = f"{workerd_version(binary)} (npm workerd@{WORKERD_VERSION})"
    with Workerd(binary) as server:
        workerd, rpc, fetch = WorkerdWay(server), EmulatorWay("rpc"), EmulatorWay("fetch")
        for way in (workerd, rpc, fetch):
            way.calls(WARMUP, ROUND_TIME_LIMIT_S)
        rounds = [(workerd.calls(WORKERD_REQUESTS, ROUND_TIME_LIMIT_S),
                   rpc.calls(EMULATOR_CALLS, ROUND_TIME_LIMIT_S),
                   fetch.calls(EMULATOR_CALLS, ROUND_TIME_LIMIT_S)) for _ in range(ROUNDS)]
        workerd.client.close()
    rpc.world.close()
    fetch.world.close()
    w, r, f = (statistics.median(column) for column in zip(*rounds))

    print(f"Counter increment (get + put + return), median of {ROUNDS} rounds taken in turn; {version}, "
          f"{os.cpu_count()} CPUs, all in this run:")
    print(f"  workerd   HTTP GET -> Worker -> DO fetch(), keep-alive, sequential "
          f"{w:>10,.0f} /s   ({WORKERD_REQUESTS:,} per round, counter {workerd.last:,})")
    print(f"  emulator  RPC    await stub.increment()                         "
          f"{r:>10,.0f} /s   ({EMULATOR_CALLS:,} per round, counter {rpc.last:,})")
    print(f"  emulator  fetch  await stub.fetch('http://do/increment')        "
          f"{f:>10,.0f} /s   ({EMULATOR_CALLS:,} per round, counter {fetch.last:,})")
    print(f"  emulator RPC   / workerd {r / w:>7.1f}x   (target >= {TARGET_RATIO:.0f}x)")
    print(f"  emulator fetch / workerd {f / w:>7.1f}x   (target >= {TARGET_RATIO:.0f}x)")
    print("  rounds (/s, workerd RPC fetch): " + "; ".join(f"{a:,.0f} {b:,.0f} {c:,.0f}" for a, b, c in rounds))
    print("  ratio in each round, RPC: " + ", ".join(f"{b / a:.1f}x" for a, b, _ in rounds)
          + "; fetch: " + ", ".join(f"{c / a:.1f}x" for a, _, c in rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
