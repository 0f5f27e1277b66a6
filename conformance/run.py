"""Differential conformance: every scenario runs on real workerd (conformance/worker.js) and on the
emulator (conformance/scenarios.py); the two results must be equal.

    .venv/bin/python conformance/run.py                 # everything (make conformance)
    .venv/bin/python conformance/run.py --only list_order,txn_nested
    .venv/bin/python conformance/run.py --json out.json # also write both sides' results

Prints one line per scenario (`ok` / `DIFF`, with both values on a difference), then
`N scenarios agree` (and `M differ`). Differences listed in conformance/DIFFERENCES.md (the
platform documents them between production and workerd, and the emulator follows production) are
reported as `expected` and do not fail the run; any other difference exits non-zero.

workerd is started once, on 127.0.0.1 with a free port and localDisk storage in a temp dir, and is
stopped in a `finally` (SIGTERM, then SIGKILL after 10 s). The scenarios that need real time on
workerd (alarm retries, idle eviction) run in background threads while the others run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import sys
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from launcher import Client, Workerd, ensure_workerd, workerd_version  # noqa: E402
from scenarios import COMPATIBILITY_DATE, SCENARIOS, Scenario, new_runtime  # noqa: E402

SLOW_JOIN_TIMEOUT_S = 60.0
SHOW_CHARS = 2500


class DatedClient(Client):
    """A client of the Worker running at another compatibility date: every path goes through
    /at/<date>/ (config.capnp has one service per date of the matrix)."""

    def __init__(self, port: int, date: str):
        super().__init__(port)
        self.prefix = f"/at/{date}"

    def request(self, path: str) -> tuple[int, bytes]:
        return super().request(self.prefix + path)


def run_js(sc: Scenario, port: int):
    client = Client(port) if sc.date is None else DatedClient(port, sc.date)
    try:
        if sc.js is not None:
            return sc.js(client)
        return client.get_json("/sc/" + sc.name)
    except Exception as exc:  # noqa: BLE001 - reported as the scenario's result
        return {"driver_exception": f"{type(exc).__name__}: {exc}"}
    finally:
        client.close()


def run_py(sc: Scenario):
    rt = new_runtime(sc.date or COMPATIBILITY_DATE, **(sc.options or {}))
    try:
        if sc.host:
            return asyncio.run(sc.py(rt))
        return rt.run(sc.py(rt.env))
    except BaseException as exc:  # noqa: BLE001 - reported as the scenario's result
        if isinstance(exc, KeyboardInterrupt):
            raise
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
        return {"python_exception": f"{type(exc).__name__}: {exc}{where}"}
    finally:
        try:
            rt.close()
        except Exception:  # noqa: BLE001
            pass


_MAX_SAFE_INTEGER = 2**53 - 1
_UTC = datetime.timezone.utc


def _number(v):
    """A JS Number as a Python Worker receives it: Pyodide makes a safe integer an int (so -0 is
    0), anything else a float."""
    if v in ("NaN", "Infinity", "-Infinity"):
        return {"float": v}
    if v == "-0":
        return {"int": 0}
    if float(v).is_integer() and abs(v) <= _MAX_SAFE_INTEGER:
        return {"int": int(v)}
    return {"float": float(v)}


_TAGS = {
    "num": _number,
    "bigint": lambda v: {"int": int(v)},  # a BigInt becomes a Python int
    "bytes": lambda v: {"memoryview": v},  # ArrayBuffer and typed arrays become memoryview
    # the SDK's converter: datetime.fromtimestamp(ms / 1000), naive, in the isolate's zone (UTC)
    "date": lambda v: {"datetime": datetime.datetime.fromtimestamp(v / 1000, _UTC).replace(tzinfo=None).isoformat()},
    "obj": lambda v: {"obj": [[k if isinstance(k, str) else python_view(k), python_view(x)] for k, x in v]},
    "set": lambda v: {"set": sorted((python_view(x) for x in v), key=lambda x: json.dumps(x, separators=(",", ":")))},
}


def python_view(x):
    """workerd's result (worker.js's encoding of JS values) as a Python Worker would see it."""
    if isinstance(x, dict):
        if len(x) == 1:
            (tag, value), = x.items()
            if tag in _TAGS:
                return _TAGS[tag](value)
        return {k: python_view(v) for k, v in x.items()}
    if isinstance(x, list):
        return [python_view(v) for v in x]
    return x


def dumps(x) -> str:
    return json.dumps(x, sort_keys=True, ensure_ascii=True, default=repr)


def differing_keys(a, b) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [k for k in sorted(set(a) | set(b), key=str) if dumps(a.get(k, "<missing>")) != dumps(b.get(k, "<missing>"))]
    return []


def short(x, keys=None) -> str:
    if keys and isinstance(x, dict):
        x = {k: x.get(k, "<missing>") for k in keys}
    text = dumps(x)
    return text if len(text) <= SHOW_CHARS else text[:SHOW_CHARS] + f"... ({len(text)} chars)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="comma-separated scenario names")
    ap.add_argument("--json", default="", help="write both sides' results to this file")
    args = ap.parse_args()
    started = time.monotonic()

    chosen = SCENARIOS
    if args.only:
        wanted = [n for n in args.only.split(",") if n]
        unknown = set(wanted) - {sc.name for sc in SCENARIOS}
        if unknown:
            print("unknown scenarios: " + ", ".join(sorted(unknown)), file=sys.stderr)
            return 2
        chosen = [sc for sc in SCENARIOS if sc.name in wanted]

    binary = ensure_workerd()
    js: dict[str, object] = {}
    py: dict[str, object] = {}
    with Workerd(binary) as server:
        print(f"{workerd_version(binary)} on 127.0.0.1:{server.port} (localDisk, started in "
              f"{server.startup_s * 1000:.0f} ms); {len(chosen)} scenarios", flush=True)
        slow_threads = []
        for sc in (s for s in chosen if s.slow):
            t = threading.Thread(target=lambda sc=sc: js.__setitem__(sc.name, run_js(sc, server.port)),
                                 name=sc.name, daemon=True)
            t.start()
            slow_threads.append((sc, t))
        for sc in (s for s in chosen if not s.slow):
            js[sc.name] = run_js(sc, server.port)
        for sc in chosen:  # the emulator side, while the slow workerd scenarios wait in real time
            py[sc.name] = run_py(sc)
        deadline = time.monotonic() + SLOW_JOIN_TIMEOUT_S
        for sc, t in slow_threads:
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                js[sc.name] = {"driver_exception": f"no result within {SLOW_JOIN_TIMEOUT_S:.0f} s"}

    agree, differ, expected = [], [], []
    for sc in chosen:
        a, b = python_view(js.get(sc.name)), py.get(sc.name)
        same = dumps(a) == dumps(b)
        if same and not sc.expected_diff:
            agree.append(sc.name)
            print(f"ok    {sc.name}")
            continue
        if same:
            agree.append(sc.name)
            print(f"ok    {sc.name}  (documented difference '{sc.expected_diff}' did not show)")
            continue
        keys = differing_keys(a, b)
        if sc.expected_diff:
            expected.append(sc.name)
            print(f"expected DIFF {sc.name}  (documented in DIFFERENCES.md: {sc.expected_diff})")
        else:
            differ.append(sc.name)
            print(f"DIFF  {sc.name}" + (f"  (keys: {', '.join(keys)})" if keys else ""))
        print(f"      workerd:  {short(a, keys)}")
        print(f"      emulator: {short(b, keys)}")

    if args.json:
        Path(args.json).write_text(json.dumps({"workerd": js, "emulator": py}, indent=1, sort_keys=True,
                                              default=repr))
    print()
    line = f"{len(agree)} scenarios agree"
    if differ:
        line += f", {len(differ)} differ ({', '.join(differ)})"
    if expected:
        line += f", {len(expected)} expected (documented) differences"
    print(line)
    print(f"wall time {time.monotonic() - started:.1f} s; workerd exited with {server.returncode}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
