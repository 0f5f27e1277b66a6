"""The in-browser path's start times, in Debian's Chromium on the built site (site-build/,
served on 127.0.0.1): how long a reader waits for a kata's verdict.

* `cold`: a fresh browser profile (empty HTTP cache, nothing in memory), the kata page open,
  then the first Run (`dojo.runKata` with the file as shipped) until its verdict: the page
  starts the worker, which downloads and starts Pyodide, unpacks the wheels and the project,
  imports pytest and runs the tests. Split into `load` (`dojo.ready()`: Python loaded) and the
  first run. Target: under 15 s.
* `warm`: the next Runs in the same page (Python loaded, the modules imported). Target: under 3 s.
* `reload`: the page opened again in the same profile (the HTTP cache full), then a Run:
  what a reader who comes back waits for.

Medians of ROUNDS rounds (each round a new browser profile). The machine is shared and noisy:
these are figures for one run, to compare, not guarantees. Beside the wall time, the CPU time
the browser's processes used (all of Chromium's processes of that profile, from /proc): on a
machine whose CPUs are busy with other work, wall time is mostly waiting for a CPU. Needs the built site and Chromium
(`make site-test` installs both); run with:

    .venv/bin/python bench/browser_start.py [KATA] [--rounds N]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import statistics
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "site-build"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
COLD_TARGET, WARM_TARGET = 15.0, 3.0
WARM_RUNS = 3


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def shipped(kata_id: str) -> str:
    html = (SITE / "katas" / kata_id / "index.html").read_text(encoding="utf-8")
    data = re.search(r'<script type="application/json" class="dojo-kata-data">(.*?)</script>', html, re.S)
    return json.loads(data.group(1))["source"]


def timed(page, script: str, arg=None) -> float:
    started = time.perf_counter()
    page.evaluate(script, arg)
    return time.perf_counter() - started


def browser_cpu(profile: str) -> float:
    """CPU seconds used so far by the Chromium processes running with this profile."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if profile.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    return total / ticks


def one_round(playwright, url: str, kata_id: str, source: str) -> dict[str, float]:
    run = "([id, source]) => dojo.runKata(id, source)"
    with tempfile.TemporaryDirectory(prefix="dojo-bench-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                               args=FLAGS)
        try:
            page = context.new_page()
            page.goto(url + f"katas/{kata_id}/")
            page.wait_for_function("() => window.dojo")
            cpu = browser_cpu(profile)
            load = timed(page, "() => dojo.ready()")
            first = timed(page, run, [kata_id, source])
            cold_cpu = browser_cpu(profile) - cpu
            warm = [timed(page, run, [kata_id, source]) for _ in range(WARM_RUNS)]
            page.close()
            page = context.new_page()  # the same profile: the HTTP cache holds Python now
            page.goto(url + f"katas/{kata_id}/")
            page.wait_for_function("() => window.dojo")
            reload = timed(page, run, [kata_id, source])
        finally:
            context.close()
    return {"load": load, "first run": first, "cold": load + first, "cold cpu": cold_cpu,
            "warm": statistics.median(warm), "reload": reload}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kata", nargs="?", default="01-counter-forgets")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (SITE / "assets" / "dojo" / "runner-worker.js").is_file():
        print("site-build/ has no in-browser runner: build the site first (make site)")
        return 1
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    source = shipped(args.kata)
    rounds = []
    try:
        with sync_playwright() as playwright:
            for number in range(args.rounds):
                rounds.append(one_round(playwright, url, args.kata, source))
                print(f"round {number + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in rounds[-1].items()), flush=True)
    finally:
        server.shutdown()
    median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    load = os.getloadavg()[0]
    print(f"\nkata {args.kata}, medians of {len(rounds)} rounds (Chromium, site on 127.0.0.1; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs):")
    print(f"  cold start (empty cache: load Python, then the first Run)  {median['cold']:6.2f} s   "
          f"target < {COLD_TARGET:g} s  ({'met' if median['cold'] < COLD_TARGET else 'NOT met'})")
    print(f"    CPU time of the browser's processes for it               {median['cold cpu']:6.2f} s")
    print(f"    of which loading Python (dojo.ready)                     {median['load']:6.2f} s")
    print(f"    of which the first Run                                   {median['first run']:6.2f} s")
    print(f"  warm run (Python loaded, the next Run)                     {median['warm']:6.2f} s   "
          f"target < {WARM_TARGET:g} s  ({'met' if median['warm'] < WARM_TARGET else 'NOT met'})")
    print(f"  page opened again, HTTP cache full, first Run              {median['reload']:6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
