"""Load: many concurrent HTTP clients against `dojo serve`, with latency percentiles.

Starts `dojo serve` on the example chat (examples/chat) on a free 127.0.0.1 port, then opens
`--clients` keep-alive HTTP/1.1 connections (default 200) that each send `--requests` requests
(default 25) one after the other to `GET /rooms/<one of 20 rooms>/history`, which reaches a
Durable Object. Every answer must be a 200.

Prints: requests per second, p50 and p99 latency (ms, one request from send to last byte) and
the server's peak resident memory (VmHWM). Traffic stays on loopback; the run is bounded by
`--timeout` seconds and always stops the server.

    .venv/bin/python bench/http_load.py [--clients 200] [--requests 25] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from durable_dojo._serve.server import ServeProcess

ROOT = Path(__file__).resolve().parent.parent
CHAT = ROOT / "examples" / "chat"


def peak_memory_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def client(port: int, index: int, requests: int, latencies: list, errors: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for n in range(requests):
            request = f"GET /rooms/load-{index % 20}/history HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
            started = time.perf_counter()
            writer.write(request)
            status = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


async def run(port: int, clients: int, requests: int) -> dict:
    latencies: list[float] = []
    errors: list = []
    started = time.perf_counter()
    results = await asyncio.gather(*(client(port, i, requests, latencies, errors) for i in range(clients)),
                                   return_exceptions=True)
    elapsed = time.perf_counter() - started
    errors += [repr(r) for r in results if isinstance(r, BaseException)]
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(quantiles[49] * 1000, 2),
        "p99_ms": round(quantiles[98] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=25, help="requests per client")
    parser.add_argument("--timeout", type=float, default=120.0, help="the whole run stops after this many seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with ServeProcess(CHAT, args=["--log-level", "warning"]) as server:
        figures = asyncio.run(asyncio.wait_for(run(server.port, args.clients, args.requests), args.timeout))
        figures["server_peak_memory_mb"] = round(peak_memory_mb(server.pid), 1)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{figures['clients']} clients, {figures['requests']} requests, {figures['errors']} errors: "
              f"{figures['requests_per_second']} req/s, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
              f"server peak memory {figures['server_peak_memory_mb']} MB")


if __name__ == "__main__":
    main()
