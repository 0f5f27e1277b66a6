"""Kata runner benchmarks: a cold `dojo check NAME`, and the whole kata suite against solutions.

Run with `make bench` (or `.venv/bin/python bench/katas.py [NAME]`). Medians, because these
machines are noisy:

* `check`: `python -m durable_dojo._kata.cli check NAME` from a cold process (a new
  interpreter: imports, the manifest, a child pytest on the kata's tests against the learner
  file, the verdict), median of 5, for NAME (default: the first kata). Target: under 1.5 s.
  Then one cold check of every kata, to show the slowest; for any at or over the target, how
  much of it the kata's tests take themselves (a learner file that blocks on purpose, such as
  a `time.sleep` retry loop, is slow by design) and how much is the runner.
* `suite`: `pytest tests/katas` (every kata test against solutions/, as `make test` runs them),
  median of 3. Target: under 20 s on the 2-core machine.

Progress goes to a temporary folder (DOJO_STATE_DIR), so the benchmark leaves .dojo/ alone.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKS = 5
SUITES = 3
CHECK_TARGET = 1.5
SUITE_TARGET = 20.0


def timed(cmd: list[str], env: dict) -> tuple[float, int]:
    started = time.perf_counter()
    out = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return time.perf_counter() - started, out.returncode


def verdict(seconds: float, target: float) -> str:
    return f"{'within' if seconds < target else 'OVER'} the target of {target:g} s"


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(REPO / "src"))
    from durable_dojo._kata.manifest import load_manifest
    from durable_dojo._kata.run import check_kata

    manifest = load_manifest(REPO)
    if not manifest.katas:
        print("katas/katas.toml lists no katas: nothing to measure.")
        return
    kata = manifest.find(argv[0]) if argv else manifest.katas[0]
    with tempfile.TemporaryDirectory() as state:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOJO_")} | {"DOJO_STATE_DIR": state}
        check = [sys.executable, "-m", "durable_dojo._kata.cli", "check"]
        timed(check + [kata.id], env)  # warm the file cache and pytest's rewritten-test cache
        runs = [timed(check + [kata.id], env)[0] for _ in range(CHECKS)]
        median = statistics.median(runs)
        print(f"Cold `dojo check {kata.id}` (new process, learner file), median of {CHECKS}:")
        print(f"  {median:6.2f} s   {verdict(median, CHECK_TARGET)}   (min {min(runs):.2f}, max {max(runs):.2f})")
        each = sorted(((timed(check + [k.id], env)[0], k.id) for k in manifest.katas), reverse=True)
        print(f"Cold `dojo check` of each of the {len(each)} katas, once:")
        print(f"  slowest {each[0][1]}: {each[0][0]:.2f} s; median {statistics.median(s for s, _ in each):.2f} s; "
              f"{sum(s >= CHECK_TARGET for s, _ in each)} at or over {CHECK_TARGET:g} s")
        for seconds, kata_id in sorted(each, key=lambda pair: pair[1]):  # docs/start-here.md quotes these
            print(f"    {kata_id:<30} {seconds:5.2f} s")
        for seconds, kata_id in each:
            if seconds >= CHECK_TARGET:  # how much of it is the kata's own tests (a learner file that blocks)
                own = sum(t.duration for t in check_kata(manifest, manifest.find(kata_id)).tests)
                print(f"    {kata_id}: {seconds:.2f} s, of which its tests themselves take {own:.2f} s "
                      f"(runner overhead {seconds - own:.2f} s)")

        suite = [sys.executable, "-m", "pytest", "tests/katas", "-q", "-p", "no:cacheprovider", "-p", "no:nbval"]
        results = [timed(suite, env) for _ in range(SUITES)]
        seconds = statistics.median(s for s, _ in results)
        failed = sum(code != 0 for _, code in results)
        print(f"Kata suite against solutions (`pytest tests/katas`), median of {SUITES}:")
        print(f"  {seconds:6.2f} s   {verdict(seconds, SUITE_TARGET)}"
              + (f"   ({failed} run(s) had failing tests!)" if failed else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
