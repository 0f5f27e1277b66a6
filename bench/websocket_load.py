"""Load: many WebSocket clients in one chat room of `dojo serve`, broadcasting.

Starts `dojo serve` on the example chat (examples/chat) on a free 127.0.0.1 port, connects
`--clients` WebSocket clients (default 500) to one room, then runs `--rounds` rounds (default 5)
in each of which `--senders` clients (default 10) each send one message. The room broadcasts
every message to every client. A round ends when every client has received every message of
the round. At the end every client must hold every message exactly once, in the same order as
everybody else (the room is one object: one order).

Prints: the time to connect everyone, messages delivered per second (one message to one client
is one delivery) during the rounds, and the server's peak resident memory (VmHWM in
/proc/<pid>/status). Traffic stays on loopback; the run is bounded by `--timeout` seconds and
always stops the server.

    .venv/bin/python bench/websocket_load.py [--clients 500] [--rounds 5] [--senders 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

from websockets.asyncio.client import connect

from durable_dojo._serve.server import ServeProcess

ROOT = Path(__file__).resolve().parent.parent
CHAT = ROOT / "examples" / "chat"


def memory_kb(pid: int) -> dict:
    """VmHWM (peak resident set) and VmRSS of a process, in kB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0])
    return out


class Client:
    def __init__(self, index: int):
        self.index = index
        self.name = f"c{index}"
        self.ws = None
        self.received: list[str] = []  # texts of chat messages, in arrival order
        self.changed = asyncio.Event()
        self.reader: asyncio.Task | None = None

    async def open(self, url: str, timeout: float) -> None:
        self.ws = await connect(f"{url}?name={self.name}", open_timeout=timeout, close_timeout=5,
                                ping_interval=None, max_queue=None)
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            event = json.loads(raw)
            if event["type"] == "message":
                self.received.append(event["text"])
                self.changed.set()

    async def _wait_for(self, count: int) -> None:
        while len(self.received) < count:
            self.changed.clear()
            await self.changed.wait()


async def run(url: str, clients: int, rounds: int, senders: int, timeout: float) -> dict:
    room_url = url.replace("http://", "ws://") + f"/rooms/load-{uuid.uuid4().hex[:8]}"
    people = [Client(i) for i in range(clients)]
    started = time.perf_counter()
    gate = asyncio.Semaphore(64)  # connections in flight at once

    async def open_one(client):
        async with gate:
            await client.open(room_url, timeout)

    await asyncio.gather(*(open_one(c) for c in people))
    connect_seconds = time.perf_counter() - started

    sent: list[str] = []
    round_seconds = []
    try:
        for r in range(rounds):
            t0 = time.perf_counter()
            batch = [people[(r * senders + s) % clients] for s in range(senders)]
            texts = [f"round {r} from {c.name}" for c in batch]
            await asyncio.gather(*(c.ws.send(text) for c, text in zip(batch, texts)))
            sent.extend(texts)
            await asyncio.gather(*(c.wait_for(len(sent)) for c in people))
            round_seconds.append(time.perf_counter() - t0)
    finally:
        for c in people:
            if c.reader is not None:
                c.reader.cancel()
        await asyncio.gather(*(c.ws.close() for c in people if c.ws is not None), return_exceptions=True)

    order = people[0].received
    complete = all(len(c.received) == len(sent) and c.received == order for c in people)
    assert sorted(order) == sorted(sent), "the room's order is not a permutation of what was sent"
    assert complete, "some client missed, duplicated or reordered a message"
    deliveries = len(sent) * clients
    busy = sum(round_seconds)
    return {
        "clients": clients,
        "rounds": rounds,
        "senders_per_round": senders,
        "messages_sent": len(sent),
        "deliveries": deliveries,
        "lost": 0,
        "connect_seconds": round(connect_seconds, 3),
        "round_seconds": [round(s, 3) for s in round_seconds],
        "deliveries_per_second": round(deliveries / busy, 1),
        "broadcasts_per_second": round(len(sent) / busy, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=240.0, help="wall seconds for the whole run")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)

    with ServeProcess(CHAT, args=["--log-level", "warning"]) as server:
        base = memory_kb(server.pid)
        try:
            result = asyncio.run(asyncio.wait_for(
                run(server.url, args.clients, args.rounds, args.senders, args.timeout), args.timeout))
        except (asyncio.TimeoutError, TimeoutError):
            print(f"websocket_load: not done within {args.timeout} s", file=sys.stderr)
            print(server.log()[-3000:], file=sys.stderr)
            return 1
        peak = memory_kb(server.pid)
    result["server_rss_at_start_mb"] = round(base["VmRSS"] / 1024, 1)
    result["server_peak_rss_mb"] = round(peak["VmHWM"] / 1024, 1)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['clients']} WebSocket clients in one room, {result['rounds']} rounds x "
              f"{result['senders_per_round']} senders = {result['messages_sent']} broadcasts, "
              f"{result['deliveries']} deliveries, {result['lost']} lost")
        print(f"  connect everyone:    {result['connect_seconds']:.2f} s")
        print(f"  rounds:              {', '.join(f'{s:.2f}' for s in result['round_seconds'])} s")
        print(f"  delivered:           {result['deliveries_per_second']:,.0f} messages/s "
              f"({result['broadcasts_per_second']:.1f} broadcasts/s)")
        print(f"  server memory:       {result['server_rss_at_start_mb']} MB at start, "
              f"{result['server_peak_rss_mb']} MB peak (VmHWM)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
