"""The example chat in a real browser: two Chromium pages chat through `dojo serve`, the room is
forced to hibernate in between, and both pages still receive.

Needs Debian's Chromium and the `playwright` package: run it with `make browser-test`, which
installs both if missing and sets DOJO_BROWSER=1; without that variable this test is skipped
(tests/conftest.py), so `make test` never needs a browser. Chromium is launched with that file's
`chromium_launch` options; Playwright downloads nothing. Screenshots go to
tests/browser/artifacts/ (ignored by git).
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path

from durable_dojo._serve.server import ServeProcess

ROOT = Path(__file__).resolve().parents[2]
CHAT = ROOT / "examples" / "chat"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT_MS = 10_000


def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")  # the folder ignores itself
    return ARTIFACTS


def hibernate(server) -> dict:
    req = urllib.request.Request(server.url + "/__dojo/hibernate", method="POST")
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())


async def test_two_pages_chat_and_keep_receiving_after_hibernation(chromium_launch):
    from playwright.async_api import async_playwright, expect

    out = artifacts()
    room = "browser-" + uuid.uuid4().hex[:8]
    with ServeProcess(CHAT, log_path=out / "serve.log") as server:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**chromium_launch)
            try:
                problems: list[str] = []
                elsewhere: list[str] = []
                pages = {}
                for name in ("alice", "bob"):
                    page = await browser.new_page(viewport={"width": 900, "height": 700})
                    page.on("pageerror", lambda error, name=name: problems.append(f"{name}: {error}"))
                    page.on("console", lambda msg, name=name: msg.type == "error" and problems.append(
                        f"{name}: {msg.text}"))
                    page.on("request", lambda request: request.url.startswith(server.url)
                            or request.url.startswith(server.url.replace("http", "ws"))
                            or elsewhere.append(request.url))
                    await page.goto(f"{server.url}/?room={room}&name={name}")
                    await expect(page.locator("#status")).to_have_text("connected", timeout=WAIT_MS)
                    pages[name] = page
                alice, bob = pages["alice"], pages["bob"]
                await expect(alice.locator("#log li.sys").last).to_contain_text("bob joined", timeout=WAIT_MS)

                await alice.fill("#text", "hello bob")
                await alice.press("#text", "Enter")
                for page in (alice, bob):
                    await expect(page.locator("#log li.msg").last).to_contain_text("alice:hello bob", timeout=WAIT_MS)

                result = hibernate(server)
                assert f"ROOMS:{room}" in result["hibernated"], result  # memory dropped, sockets kept

                await bob.fill("#text", "still there after hibernation?")
                await bob.click("#send")
                for page in (alice, bob):
                    last = page.locator("#log li.msg").last
                    await expect(last).to_contain_text("bob:still there after hibernation?", timeout=WAIT_MS)
                    await expect(page.locator("#status")).to_have_text("connected")

                await alice.screenshot(path=str(out / "chat-alice.png"), full_page=True)
                await bob.screenshot(path=str(out / "chat-bob.png"), full_page=True)
                assert await alice.locator("#log li.msg").count() == 2
                assert not problems, problems
                assert not elsewhere, f"the page fetched from elsewhere: {elsewhere}"
            finally:
                await browser.close()

        with urllib.request.urlopen(server.url + "/__dojo/trace?last=all", timeout=10) as response:
            trace = response.read().decode()
    room_lines = [line for line in trace.splitlines() if f"ROOMS {room} " in line]
    assert any(line.rstrip().endswith("hibernate instance 1") for line in room_lines)
    assert any("constructor instance 2" in line for line in room_lines)
