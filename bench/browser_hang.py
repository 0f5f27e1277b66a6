"""What a hang costs a reader in the browser: from Run to the hung verdict, and the Run after it.

Kata 01 with `while True: pass` in a handler (its timeout: 10 s), on the built site in Debian's
Chromium, three ways:

* `isolated`: the page served with the cross-origin isolation headers (site/serve.py): the page
  interrupts Python through a SharedArrayBuffer at the timeout;
* `clock`: served without them: the worker interrupts itself on its own clock;
* `clock/sleep`: the same with `time.sleep(3600)` instead of the loop (slept in slices);
* `terminated`: code stuck in C (an endless iterator consumed by `collections.deque`), which
  Python never leaves to look at the interrupt buffer: after a 5 s grace the page ends the worker
  and starts a fresh one, as every hang did before the interrupt buffer.

For each: `hang` (Run to the hung verdict, the worker warm before it), `next` (the Run after it,
with the kata's solution: warm in the same worker, or a fresh worker's cold start), and whether
the verdict names the learner's line. Figures of one run on a shared machine, not guarantees.
Needs the built site and Chromium (`make site-test` installs both):

    .venv/bin/python bench/browser_hang.py
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "site-build"
sys.path.insert(0, str(REPO / "site"))
import serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
KATA = "01-counter-forgets"
BODIES = {
    "loop": "        while True:\n            pass\n",
    "sleep": "        import time\n        time.sleep(3600)\n",
    "in C": "        import collections, itertools\n        collections.deque(itertools.count(), maxlen=0)\n",
}


def shipped() -> str:
    html = (SITE / "katas" / KATA / "index.html").read_text(encoding="utf-8")
    data = re.search(r'<script type="application/json" class="dojo-kata-data">(.*?)</script>', html, re.S)
    return json.loads(data.group(1))["source"]


def with_body(body: str) -> str:
    return re.sub(r"(    async def increment\(self\):\n)", lambda m: m.group(1) + body, shipped(), count=1)


def server(isolated: bool):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), serve.handler(SITE, isolated=isolated, quiet=True))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def measure(browser, url: str, body: str) -> dict:
    context = browser.new_context()
    context.set_default_timeout(300_000)
    page = context.new_page()
    page.goto(url + f"katas/{KATA}/")
    run = "([id, source]) => dojo.runKata(id, source)"
    solution = (REPO / "solutions" / KATA / "counter.py").read_text(encoding="utf-8")
    page.evaluate(run, [KATA, shipped()])  # Python loaded, the worker warm
    workers = page.evaluate("() => DojoRunner.runner.started")
    started = time.perf_counter()
    hung = page.evaluate(run, [KATA, with_body(body)])
    hang = time.perf_counter() - started
    started = time.perf_counter()
    page.evaluate(run, [KATA, solution])
    after = time.perf_counter() - started
    result = {"hang": hang, "next": after, "mode": page.evaluate("() => DojoRunner.runner.interrupt"),
              "same worker": page.evaluate("() => DojoRunner.runner.started") == workers,
              "names the line": f"{KATA}/counter.py:" in hung["output"]}
    context.close()
    return result


def main() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        rows = []
        for name, isolated, body in [("isolated", True, "loop"), ("clock", False, "loop"),
                                     ("clock/sleep", False, "sleep"), ("terminated", False, "in C")]:
            httpd, url = server(isolated)
            try:
                rows.append((name, measure(browser, url, BODIES[body])))
            finally:
                httpd.shutdown()
                httpd.server_close()
        browser.close()
    print(f"kata {KATA}, timeout 10 s: from Run to the hung verdict, then the next Run (the solution)")
    for name, row in rows:
        print(f"  {name:<11} hang {row['hang']:5.1f} s  next run {row['next']:5.1f} s  "
              f"same worker: {'yes' if row['same worker'] else 'no '}  line named: "
              f"{'yes' if row['names the line'] else 'no'}  (interrupt: {row['mode']})")


if __name__ == "__main__":
    main()
