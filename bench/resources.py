"""Bounded resources: descriptors with many persisted objects, memory after evict_all, sockets.

Prints three figures, each measured in its own child process:

* descriptors: `--persisted` objects (default 10,000), each writing a key and a SQL row in its
  own SQLite file under `persist_to`, then each again, in a process limited to 256 open files
  (`ulimit -n 256`); the most descriptors the process had open at once;
* memory: `--objects` objects (default 100,000) each answer one RPC call that writes a key; then
  `evict_all()`; the Python heap still held (tracemalloc, after a garbage collection; target
  under 50 MB for 100,000 objects) and the peak resident set;
* sockets: `--cycles` (default 20,000) hibernatable WebSockets opened and closed on one object;
  how many stay in its list and the heap they hold.

    .venv/bin/python bench/resources.py [--persisted 10000] [--objects 100000] [--cycles 20000] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap

DESCRIPTORS = textwrap.dedent('''
    import os, resource, sys, json
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    from durable_dojo import Runtime
    from workers import DurableObject

    class Counter(DurableObject):
        async def bump(self):
            n = (await self.ctx.storage.get("n") or 0) + 1
            await self.ctx.storage.put("n", n)
            self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log(at)")
            self.ctx.storage.sql.exec("INSERT INTO log VALUES (?)", n)
            return n

    count = int(sys.argv[2])
    peak = 0
    rt = Runtime(durable_objects={"C": Counter}, persist_to=sys.argv[1], hang_timeout=None)
    for round_ in (1, 2):
        for i in range(count):
            assert rt.run(rt.env.C.getByName(f"c{i}").bump()) == round_
            if i % 500 == 0:
                peak = max(peak, len(os.listdir("/proc/self/fd")))
    rt.close()
    print(json.dumps({"objects": count, "rounds": 2, "nofile_limit": 256, "peak_open_descriptors": peak}))
''')

MEMORY = textwrap.dedent('''
    import gc, json, resource, sys, tracemalloc
    from durable_dojo import Runtime
    from workers import DurableObject

    class Counter(DurableObject):
        async def bump(self):
            await self.ctx.storage.put("n", 1)
            return 1

    count = int(sys.argv[1])
    tracemalloc.start()
    rt = Runtime(durable_objects={"C": Counter}, hang_timeout=None)
    for i in range(count):
        rt.run(rt.env.C.getByName(f"c{i}").bump())
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    rt.evict_all()()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    print(json.dumps({"objects": count, "heap_mb_before_evict_all": round(before / 1e6, 1),
                      "heap_mb_after_evict_all": round(after / 1e6, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
''')

SOCKETS = textwrap.dedent('''
    import asyncio, gc, json, sys, tracemalloc
    from durable_dojo import Runtime
    from durable_dojo.testing import connect
    from js import WebSocketPair
    from workers import DurableObject, Response

    class Room(DurableObject):
        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)

    async def main(cycles):
        rt = Runtime(durable_objects={"R": Room}, hang_timeout=None)
        stub = rt.env.R.getByName("r")
        await connect(stub)
        gc.collect()
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(cycles):
            ws = await connect(stub)
            ws.close(1000, "bye")
            await rt.run_until_idle()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - start
        return {"cycles": cycles, "sockets_in_list": len(stub._host.sockets), "heap_mb_held": round(held / 1e6, 2)}

    print(json.dumps(asyncio.run(main(int(sys.argv[1])))))
''')


MEMORY_TARGET_MB = 50  # issue 12: what 100,000 objects may leave on the heap after evict_all


def child(script: str, *args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\\n")[0])
    parser.add_argument("--persisted", type=int, default=10_000)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--cycles", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dojo-bench-") as folder:
        figures = {"descriptors": child(DESCRIPTORS, folder, str(args.persisted)),
                   "memory": child(MEMORY, str(args.objects)),
                   "sockets": child(SOCKETS, str(args.cycles))}
    if args.json:
        print(json.dumps(figures))
        return
    d, m, s = figures["descriptors"], figures["memory"], figures["sockets"]
    print("descriptors:", d if "error" in d else
          f"{d['objects']:,} persisted objects, twice each, under ulimit -n {d['nofile_limit']}: "
          f"at most {d['peak_open_descriptors']} descriptors open")
    print("memory:     ", m if "error" in m else
          f"{m['objects']:,} objects: heap {m['heap_mb_before_evict_all']} MB, after evict_all "
          f"{m['heap_mb_after_evict_all']} MB (target < {MEMORY_TARGET_MB} MB for 100,000 objects: "
          f"{'met' if m['heap_mb_after_evict_all'] < MEMORY_TARGET_MB else 'NOT met'}) "
          f"(peak RSS {m['peak_rss_mb']} MB)")
    print("sockets:    ", s if "error" in s else
          f"{s['cycles']:,} connect/close cycles: {s['sockets_in_list']} left in the list, "
          f"{s['heap_mb_held']} MB held")


if __name__ == "__main__":
    main()
