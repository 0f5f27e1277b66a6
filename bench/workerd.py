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
conformance/scenarios.py). Each way runs ROUNDS rounds, each bounded in count and in time; the
script prints the median rates and the ratios emulator / workerd (target: at least 15x).
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

ROUNDS = 5
WORKERD_REQUESTS = 2_000       # per round
EMULATOR_CALLS = 5_000         # per round
ROUND_TIME_LIMIT_S = 30.0      # a round stops early past this (the rate counts what was done)
TARGET_RATIO = 15.0  # issue 18: the emulator at least 15x workerd's local rate


def bench_workerd(binary: str) -> tuple[list[float], int, str]:
    rates = []
    with Workerd(binary) as server:
        client = Client(server.port)
        client.get_text("/count/bench")  # creates the object; warms the connection
        last = 1
        for _ in range(ROUNDS):
            done = 0
            started = time.perf_counter()
            while done < WORKERD_REQUESTS and time.perf_counter() - started < ROUND_TIME_LIMIT_S:
                n = int(client.get_text("/count/bench"))
                done += 1
                if n != last + 1:
                    raise AssertionError(f"workerd counter went from {last} to {n}")
                last = n
            rates.append(done / (time.perf_counter() - started))
        client.close()
    return rates, last, f"{workerd_version(binary)} (npm workerd@{WORKERD_VERSION})"


def bench_emulator(path: str) -> tuple[list[float], int]:
    world = Runtime(durable_objects={"TEST": TestDO}, hang_timeout=None, idle_eviction=None)
    stub = world.env.TEST.getByName("bench")
    last = [0]

    async def one_round() -> float:
        done = 0
        started = time.perf_counter()
        while done < EMULATOR_CALLS and time.perf_counter() - started < ROUND_TIME_LIMIT_S:
            if path == "rpc":
                n = await stub.increment()
            else:
                n = int(await (await stub.fetch("http://do/increment")).text())
            done += 1
            if n != last[0] + 1:
                raise AssertionError(f"emulator counter went from {last[0]} to {n}")
            last[0] = n
        return done / (time.perf_counter() - started)

    rates = [asyncio.run(one_round()) for _ in range(ROUNDS)]
    world.close()
    return rates, last[0]


def main() -> int:
    binary = ensure_workerd()
    workerd_rates, workerd_total, version = bench_workerd(binary)
    rpc_rates, rpc_total = bench_emulator("rpc")
    fetch_rates, fetch_total = bench_emulator("fetch")
    w, r, f = (statistics.median(x) for x in (workerd_rates, rpc_rates, fetch_rates))

    print(f"Counter increment (get + put + return), median of {ROUNDS} rounds; {version}, "
          f"{os.cpu_count()} CPUs, all in this run:")
    print(f"  workerd   HTTP GET -> Worker -> DO fetch(), keep-alive, sequential "
          f"{w:>10,.0f} /s   ({WORKERD_REQUESTS:,} per round, counter {workerd_total:,})")
    print(f"  emulator  RPC    await stub.increment()                         "
          f"{r:>10,.0f} /s   ({EMULATOR_CALLS:,} per round, counter {rpc_total:,})")
    print(f"  emulator  fetch  await stub.fetch('http://do/increment')        "
          f"{f:>10,.0f} /s   ({EMULATOR_CALLS:,} per round, counter {fetch_total:,})")
    print(f"  emulator RPC   / workerd {r / w:>7.1f}x   (target >= {TARGET_RATIO:.0f}x)")
    print(f"  emulator fetch / workerd {f / w:>7.1f}x   (target >= {TARGET_RATIO:.0f}x)")
    print("  rounds (/s): workerd " + ", ".join(f"{x:,.0f}" for x in workerd_rates)
          + "; RPC " + ", ".join(f"{x:,.0f}" for x in rpc_rates)
          + "; fetch " + ", ".join(f"{x:,.0f}" for x in fetch_rates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
