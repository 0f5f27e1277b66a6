"""`dojo review`: every rule on a bad example (flagged, exact code and line) and a good one (clean),
the ignore comment, the text and JSON formats, exit codes, `--explain`, the generated checklist
page, and the kata cross-check (solutions clean, each learner file flagged with its anti-pattern).

In the examples, `# expect: DO301` marks the line where a finding must be; a bad example must
produce exactly the marked findings, no more, no less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from durable_dojo._review.review import review_paths, review_source
from durable_dojo._review.rules import CATEGORIES, RULES, RULES_BY_CODE, explain, render_checklist_markdown
from durable_dojo._review.cli import add_review_command, main as review_main

REPO = Path(__file__).resolve().parents[1]
EXPECT = re.compile(r"\bexpect:\s*([A-Z0-9, ]+)")

HEADER = """\
import asyncio
import time
import uuid
from workers import DurableObject, Response, WorkerEntrypoint, fetch
from js import WebSocketPair, Date
"""


def expected(source: str) -> list[tuple[str, int]]:
    out = []
    for number, line in enumerate(source.splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            out.extend((code.strip(), number) for code in match.group(1).split(",") if code.strip())
    return sorted(out)


def found(source: str, select=None, **options) -> list[tuple[str, int]]:
    return sorted((f.code, f.line) for f in review_source(source, "example.py", select, **options))


def src(body: str) -> str:
    return HEADER + textwrap.dedent(body)


# ----------------------------------------------------------------------------------------
# One bad and one good example per rule
# ----------------------------------------------------------------------------------------

CASES: dict[str, tuple[str, str]] = {}

CASES["DO101"] = (
    """
    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            stub = self.env.CART.get(self.env.CART.newUniqueId())  # expect: DO101
            return await stub.fetch(request)

    class Api(WorkerEntrypoint):
        async def fetch(self, request):
            cart_id = self.env.CART.newUniqueId()  # expect: DO101
            return await self.env.CART.get(cart_id).fetch(request)
    """,
    """
    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            if request.method == "POST":
                cart_id = self.env.CART.newUniqueId()       # a new cart, handed to the client
                await self.env.CART.get(cart_id).init()
                return Response(cart_id.toString(), status=201)
            cart_id = self.env.CART.idFromString(request.headers.get("x-cart"))
            return await self.env.CART.get(cart_id).fetch(request)

    class Rooms(WorkerEntrypoint):
        async def fetch(self, request):
            stub = self.env.ROOM.get(self.env.ROOM.newUniqueId())
            await stub.open()
            return Response(stub.id.toString())
    """,
)

CASES["DO102"] = (
    """
    class Settings(DurableObject):  # expect: DO102
        async def get_value(self, key):
            \"\"\"Read one setting.\"\"\"
            return await self.ctx.storage.get(key)

        async def set_value(self, key, value):
            await self.ctx.storage.put(key, value)
    """,
    """
    class Settings(DurableObject):
        async def get_value(self, key):
            return await self.ctx.storage.get(key)

        async def set_value(self, key, value):
            if not isinstance(value, str):
                raise TypeError("settings are strings")
            old = await self.ctx.storage.get(key)
            self.ctx.storage.put(key, value)
            self.ctx.storage.put("history", [key, old, value])
    """,
)

CASES["DO103"] = (
    """
    GLOBAL = "global"

    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            limiter = self.env.LIMITER.getByName("global")  # expect: DO103
            if not await limiter.allow():
                return Response("slow down", status=429)
            return Response("ok")

    async def on_fetch(request, env):
        stub = env.COUNTER.get(env.COUNTER.idFromName(GLOBAL))  # expect: DO103
        return await stub.fetch(request)
    """,
    """
    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            ip = request.headers.get("cf-connecting-ip")
            limiter = self.env.LIMITER.getByName(f"ip:{ip}")
            if not await limiter.allow():
                return Response("slow down", status=429)
            if request.url.endswith("/admin/config"):
                return await self.env.CONFIG.getByName("global").fetch(request)  # rare path
            return Response("ok")
    """,
)

CASES["DO201"] = (
    """
    class Counter(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.count = ctx.storage.get("count")  # expect: DO201
            self.ctx.storage.setAlarm(Date.now() + 1000)  # expect: DO201

        async def alarm(self, info):
            pass
    """,
    """
    class Counter(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.count = 0
            ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (at INTEGER)")

            async def load():
                self.count = await ctx.storage.get("count") or 0

            ctx.blockConcurrencyWhile(load)
            ctx.blockConcurrencyWhile(lambda: self.ctx.storage.get("other"))
    """,
)

CASES["DO202"] = (
    """
    class Cache(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.data = {}
            asyncio.create_task(self._warm())  # expect: DO202
            self._load()  # expect: DO202

        async def _warm(self):
            self.data = await self.ctx.storage.list()

        async def _load(self):
            self.data = await self.ctx.storage.get("data")
    """,
    """
    class Cache(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.data = {}
            ctx.blockConcurrencyWhile(self._load)

        async def _load(self):
            self.data = await self.ctx.storage.list()
    """,
)

CASES["DO203"] = (
    """
    import hashlib

    class Pricing(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.table = [i * i for i in range(1_000_000)]  # expect: DO203
            self.key = hashlib.pbkdf2_hmac("sha256", b"secret", b"salt", 600_000)  # expect: DO203
            ctx.blockConcurrencyWhile(self._load)

        async def _load(self):
            self.grid = {}
            for x in range(300):  # expect: DO203
                for y in range(300):
                    self.grid[x, y] = 0
    """,
    """
    class Pricing(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.rates = None
            ctx.blockConcurrencyWhile(self._load)

        async def _load(self):
            self.rates = await self.ctx.storage.get("rates")
            if self.rates is None:   # loading from a service before any event: the platform's pattern
                response = await fetch("https://rates.example.com/today")
                self.rates = await response.json()
                await self.ctx.storage.put("rates", self.rates)
            for row in self.rates:
                for cell in row:
                    pass
            for i in range(3):
                pass

        async def rebuild(self):
            self.table = [i * i for i in range(1_000_000)]   # on request, not at every wake-up
    """,
)

CASES["DO204"] = (
    """
    class Room(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.clients = []

        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            self.clients.append(server)  # expect: DO204, DO502
            return Response(None, status=101, web_socket=client)

        async def webSocketClose(self, ws, code, reason, wasClean):
            ws.close(code, reason)
    """,
    """
    class Room(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.clients = []

        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            self.clients.append(server)  # dojo: ignore[DO502]
            return Response(None, status=101, web_socket=client)

        async def webSocketClose(self, ws, code, reason, wasClean):
            self.clients.remove(ws)
            ws.close(code, reason)
    """,
)

CASES["DO301"] = (
    """
    class Counter(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.count = 0
            self.seen = set()

        async def increment(self, who):
            self.count += 1  # expect: DO301
            self.seen.add(who)  # expect: DO301
            return self.count
    """,
    """
    class Counter(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.count = 0
            self.seen = set()
            self.last_caller = None

            async def load():
                self.seen = set(await ctx.storage.get("seen") or [])
            ctx.blockConcurrencyWhile(load)

        async def increment(self, who):
            self.count += 1
            await self.ctx.storage.put("count", self.count)
            self.seen.add(who)
            self.last_caller = who       # plain overwrite: a deliberate in-memory hint
            return self.count
    """,
)

CASES["DO302"] = (
    """
    class Bank(DurableObject):
        async def transfer(self, src, dst, amount):
            a = await self.ctx.storage.get(src)
            await self.ctx.storage.put(src, a - amount)
            await fetch("https://risk.example.com/checks", method="POST")
            b = await self.ctx.storage.get(dst)
            await self.ctx.storage.put(dst, b + amount)  # expect: DO302

        async def pay_out(self, account, amount):
            balance = await self.ctx.storage.get(account)
            await self.ctx.storage.put(account, balance - amount)
            await fetch("https://bank.example.com/payouts", method="POST")
            await self.ctx.storage.put(f"payout:{Date.now()}", amount)  # expect: DO302
    """,
    """
    class Bank(DurableObject):
        async def transfer(self, src, dst, amount):
            a = await self.ctx.storage.get(src)
            b = await self.ctx.storage.get(dst)
            self.ctx.storage.put(src, a - amount)      # no await between: one atomic batch
            self.ctx.storage.put(dst, b + amount)

        async def transfer_awaited(self, src, dst, amount):
            a = await self.ctx.storage.get(src)
            b = await self.ctx.storage.get(dst)
            await self.ctx.storage.put(src, a - amount)   # only storage awaits between: still one commit
            await self.ctx.storage.put(dst, b + amount)

        async def transfer2(self, src, dst, amount):
            async def move(txn):
                a = await txn.get(src)
                await txn.put(src, a - amount)
                await txn.put(dst, (await txn.get(dst)) + amount)
            await self.ctx.storage.transaction(move)

        async def transfer3(self, src, dst, amount):
            a, b = await self.ctx.storage.get(src), await self.ctx.storage.get(dst)
            await self.ctx.storage.put({src: a - amount, dst: b + amount})

        async def reset(self, key, flag):
            if flag:
                await self.ctx.storage.put(key, 0)
            else:
                await self.ctx.storage.delete("other")

        async def reserve_then_charge(self, qty):
            stock = await self.ctx.storage.get("stock")
            await self.ctx.storage.put("stock", stock - qty)
            response = await fetch("https://payments.example.com/charges", method="POST")
            if response.status != 200:
                current = await self.ctx.storage.get("stock")
                await self.ctx.storage.put("stock", current + qty)   # undone when the call fails
                return "declined"
            await self.ctx.storage.put(f"order:{Date.now()}", qty)
            return "confirmed"

        async def steps(self, job):
            await fetch("https://mail.example.com/send", method="POST")
            await self.ctx.storage.put("mailed", True)            # checkpoints after an outside call
            await self.ctx.storage.put("done", job)
    """,
)

CASES["DO303"] = (
    """
    class Orders(DurableObject):
        async def settle(self, order_id):
            order = await self.ctx.storage.get(order_id)
            if order["status"] != "pending":
                return order
            await fetch("https://payments.example.com/charge", method="POST")
            order["status"] = "paid"
            await self.ctx.storage.put(order_id, order)  # expect: DO303
            return order

        async def bump(self):
            n = self.ctx.storage.sql.exec("SELECT n FROM counters WHERE id = 1").one()["n"]
            await self.env.AUDIT.getByName("log").record(n)
            self.ctx.storage.sql.exec("UPDATE counters SET n = ? WHERE id = 1", n + 1)  # expect: DO303
    """,
    """
    class Orders(DurableObject):
        async def settle(self, order_id):
            order = await self.ctx.storage.get(order_id)
            if order["status"] != "pending":
                return order
            await fetch("https://payments.example.com/charge", method="POST")
            current = await self.ctx.storage.get(order_id)   # check-and-set: re-read after the await
            if current["status"] == "pending":
                current["status"] = "paid"
                await self.ctx.storage.put(order_id, current)
            return current

        async def count(self):
            n = (await self.ctx.storage.get("n") or 0) + 1
            await self.ctx.storage.put("n", n)               # storage awaits only: input gate
            await fetch("https://example.com/notify")
            return n

        async def guarded(self, order_id):
            async def critical():
                order = await self.ctx.storage.get(order_id)
                await fetch("https://payments.example.com/charge")
                await self.ctx.storage.put(order_id, order)
            await self.ctx.blockConcurrencyWhile(critical)  # dojo: ignore[DO406]

        async def send_next(self):
            job = await self.ctx.storage.get("next")
            await fetch("https://push.example.com/", method="POST")
            await self.ctx.storage.delete("next")            # a delete writes nothing read
            await self.ctx.storage.put("sent_at", Date.now())  # not computed from the read

        async def bump(self):
            self.ctx.storage.sql.exec("SELECT n FROM counters WHERE id = 1").one()
            await fetch("https://example.com/audit")
            self.ctx.storage.sql.exec("UPDATE counters SET n = n + 1 WHERE id = 1")  # atomic in SQL

        async def alarm(self, info):
            state = await self.ctx.storage.get("state")       # alarm() never runs alongside itself
            await fetch("https://example.com/report")
            state["reported"] += 1
            await self.ctx.storage.put("state", state)
    """,
)

CASES["DO304"] = (
    """
    class Profile(DurableObject):
        async def add_tag(self, tag):
            profile = await self.ctx.storage.get("profile")
            profile["tags"].append(tag)
            profile["updated"] = Date.now()  # expect: DO304
            return len(profile["tags"])
    """,
    """
    class Profile(DurableObject):
        async def add_tag(self, tag):
            profile = await self.ctx.storage.get("profile")
            profile["tags"].append(tag)
            await self.ctx.storage.put("profile", profile)
            return len(profile["tags"])

        async def view(self):
            profile = await self.ctx.storage.get("profile")
            profile["viewed_at"] = Date.now()
            return profile                                # a changed copy for the caller only
    """,
)

CASES["DO305"] = (
    """
    class Session(DurableObject):
        async def wipe(self):
            entries = await self.ctx.storage.list()
            for key in entries.keys():  # expect: DO305
                await self.ctx.storage.delete(key)
    """,
    """
    class Session(DurableObject):
        async def wipe(self):
            await self.ctx.storage.deleteAll()

        async def expire_carts(self):
            carts = await self.ctx.storage.list({"prefix": "cart:"})
            for key in carts:
                await self.ctx.storage.delete(key)
    """,
)

CASES["DO307"] = (
    """
    SEEN = {}
    NAMES = []
    TOTAL = 0

    class Counter(DurableObject):
        async def increment(self):
            key = self.ctx.id.toString()
            SEEN[key] = SEEN.get(key, 0) + 1  # expect: DO307
            return SEEN[key]

    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            global TOTAL
            TOTAL += 1  # expect: DO307
            NAMES.append(request.url)  # expect: DO307
            return Response("ok")
    """,
    """
    PLANS = {"free": 2, "pro": 1000}   # read, never changed: configuration
    SKUS = ["A1", "A2"]

    class Counter(DurableObject):
        async def increment(self, plan):
            seen = {}                       # a local that shadows nothing
            seen[plan] = PLANS[plan]
            count = (await self.ctx.storage.get("count") or 0) + 1
            await self.ctx.storage.put("count", count)
            return count + len(SKUS)

    def helper_for_a_script():
        PLANS["trial"] = 5                  # not called by any handler
    """,
)

CASES["DO308"] = (
    """
    async def charge(customer, amount, idempotency_key=None):
        await fetch("https://pay.example.com/charges", method="POST")

    class Subscription(DurableObject):
        async def alarm(self, info):
            price = await self.ctx.storage.get("price")
            await charge(self.ctx.id.name, price)  # expect: DO308
            await self.ctx.storage.setAlarm(Date.now() + 1000)

    class Renewal(DurableObject):
        async def alarm(self, info):
            await charge(self.ctx.id.name, 100, f"renewal-{Date.now()}")  # expect: DO308

    class Mailer(DurableObject):
        async def alarm(self, info):
            await self._mail()  # expect: DO308

        async def _mail(self):
            await fetch("https://mail.example.com/send", method="POST")
    """,
    """
    async def charge(customer, amount, idempotency_key=None):
        await fetch("https://pay.example.com/charges", method="POST")

    class Subscription(DurableObject):
        async def alarm(self, info):
            period = await self.ctx.storage.get("period")
            done = await self.ctx.storage.get(f"charged:{period}")
            if done is None:                                     # a progress record
                await charge(self.ctx.id.name, 100)
                await self.ctx.storage.put(f"charged:{period}", True)
            await charge(self.ctx.id.name, 100, f"renewal-{period}")   # a key that is the same on a retry

    class Outbox(DurableObject):
        async def alarm(self, info):
            queued = await self.ctx.storage.list({"prefix": "out:"})
            for key, message in queued.items():                  # the stored queue, each sent once
                await fetch("https://mail.example.com/send", method="POST")
                await self.ctx.storage.delete(key)
            await fetch("https://status.example.com/")           # a GET changes nothing
    """,
)

CASES["DO401"] = (
    """
    class Throttle(DurableObject):
        async def fetch(self, request):
            time.sleep(0.5)  # expect: DO401
            return Response("ok")
    """,
    """
    class Throttle(DurableObject):
        async def fetch(self, request):
            await asyncio.sleep(0.5)
            return Response("ok")

    def offline_tool():
        time.sleep(1)   # not Durable Object code
    """,
)

CASES["DO402"] = (
    """
    class Waiter(DurableObject):
        async def wait_a_bit(self):
            deadline = time.time() + 2
            while time.time() < deadline:  # expect: DO402
                pass

        async def forever(self):
            while True:  # expect: DO402
                self.ticks = 1
    """,
    """
    class Waiter(DurableObject):
        async def drain(self):
            while True:
                item = await self.ctx.storage.get("next")
                if item is None:
                    break

        async def poll(self):
            while Date.now() < 10:
                await asyncio.sleep(0.1)
    """,
)

CASES["DO403"] = (
    """
    class Counter(DurableObject):
        async def increment(self):
            async def bump():
                n = (await self.ctx.storage.get("n") or 0) + 1
                await self.ctx.storage.put("n", n)
                return n
            return await self.ctx.blockConcurrencyWhile(bump)  # expect: DO403

        async def fetch(self, request):
            await self.ctx.blockConcurrencyWhile(lambda: self.ctx.storage.get("n"))  # expect: DO403
            return Response("ok")
    """,
    """
    class Counter(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.loaded = False
            ctx.blockConcurrencyWhile(self._load)

        async def _load(self):
            self.n = await self.ctx.storage.get("n")

        async def fetch(self, request):
            if not self.loaded:
                await self.ctx.blockConcurrencyWhile(self._load)
                self.loaded = True
            return Response("ok")

        async def reserve(self, seat):
            async def book():
                taken = await self.ctx.storage.get(seat)
                await fetch("https://payments.example.com/hold")   # spans a non-storage await
                await self.ctx.storage.put(seat, not taken)
            await self.ctx.blockConcurrencyWhile(book)  # dojo: ignore[DO406]
    """,
)

CASES["DO404"] = (
    """
    class Webhooks(DurableObject):
        async def fetch(self, request):
            self.ctx.waitUntil(self._deliver(await request.json()))
            return Response("accepted", status=202)

        async def _deliver(self, event):
            for attempt in range(5):
                try:
                    return await fetch(event["url"], method="POST")
                except Exception:
                    await asyncio.sleep(2 ** attempt)  # expect: DO404

        async def later(self):
            await asyncio.sleep(3600)  # expect: DO404
            await self.ctx.storage.delete("session")
    """,
    """
    class Webhooks(DurableObject):
        async def deliver(self, event):
            await self.ctx.storage.put(f"event:{event['id']}", event)
            await self.ctx.storage.setAlarm(Date.now())
            await asyncio.sleep(0.01)   # a short yield, not a schedule

        async def call_now(self, url):
            for attempt in range(3):     # a back-off the caller waits for: it sees any failure
                response = await fetch(url, method="POST")
                if response.ok:
                    return True
                await asyncio.sleep(2 ** attempt)
            return False

        async def alarm(self, info):
            events = await self.ctx.storage.list({"prefix": "event:"})
            for key, event in events.items():
                await fetch(event["url"], method="POST")
                await self.ctx.storage.delete(key)
    """,
)

CASES["DO405"] = (
    """
    class Reminders(DurableObject):
        async def schedule_all(self, reminders):
            for reminder in reminders:
                await self.ctx.storage.put(f"r:{reminder['at']}", reminder)
                await self.ctx.storage.setAlarm(reminder["at"])  # expect: DO405

        async def schedule(self, text, at):
            await self.ctx.storage.put(f"reminder:{at}", text)
            await self.ctx.storage.setAlarm(at)  # expect: DO405

        async def open(self, end):
            await self.ctx.storage.setAlarm(end)
            await self.ctx.storage.setAlarm(end - 120_000)  # expect: DO405

        async def alarm(self, info):
            text = await self.ctx.storage.get(f"reminder:{info.scheduledTime}")  # expect: DO405
    """,
    """
    class Reminders(DurableObject):
        async def schedule(self, reminders):
            for reminder in reminders:
                self.ctx.storage.put(f"r:{reminder['at']:015d}", reminder)
            earliest = min(r["at"] for r in reminders)
            current = await self.ctx.storage.getAlarm()
            if current is None or earliest < current:
                await self.ctx.storage.setAlarm(earliest)

        async def touch(self):
            await self.ctx.storage.put("last_seen", Date.now())
            await self.ctx.storage.setAlarm(Date.now() + 86_400_000)   # a TTL pushed forward

        async def alarm(self, info):
            due = await self.ctx.storage.list({"prefix": "r:", "end": f"r:{Date.now() + 1:015d}"})
            for key in due:
                await self.ctx.storage.delete(key)
            following = await self.ctx.storage.list({"prefix": "r:", "limit": 1})
            for reminder in following.values():
                await self.ctx.storage.setAlarm(reminder["at"])
            for retry in range(3):
                if await self.ctx.storage.get("ok"):
                    await self.ctx.storage.setAlarm(Date.now() + 1000)
                    return
    """,
)

CASES["DO406"] = (
    """
    class Invoices(DurableObject):
        async def issue(self, amount):
            async def number_and_file():
                number = (await self.ctx.storage.get("last") or 0) + 1
                await fetch("https://accounting.example.com/invoices", method="POST")
                await self.ctx.storage.put({"last": number, f"invoice:{number}": amount})
                return number
            return await self.ctx.blockConcurrencyWhile(number_and_file)  # expect: DO406
    """,
    """
    class Invoices(DurableObject):
        async def issue(self, amount):
            number = (await self.ctx.storage.get("last") or 0) + 1
            await self.ctx.storage.put({"last": number, f"invoice:{number}": amount})
            await fetch("https://accounting.example.com/invoices", method="POST")
            return number

        async def migrate(self):
            if await self.ctx.storage.get("schema") != 2:
                await self.ctx.blockConcurrencyWhile(self._upgrade)   # once, behind a check

        async def _upgrade(self):
            rows = await fetch("https://schema.example.com/v2")
            await self.ctx.storage.put("schema", 2)
    """,
)

CASES["DO306"] = (
    """
    class Wallet(DurableObject):
        def transfer(self, src, dst, amount):
            self.ctx.storage.sql.exec("BEGIN TRANSACTION")  # expect: DO306
            try:
                self.ctx.storage.sql.exec("UPDATE accounts SET balance = balance - ? WHERE name = ?", amount, src)
                self.ctx.storage.sql.exec("UPDATE accounts SET balance = balance + ? WHERE name = ?", amount, dst)
                self.ctx.storage.sql.exec("COMMIT")  # expect: DO306
            except Exception:
                self.ctx.storage.sql.exec("  rollback")  # expect: DO306
                raise
    """,
    """
    class Wallet(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.sql = ctx.storage.sql
            self.sql.exec("CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, balance INTEGER)")

        def transfer(self, src, dst, amount):
            def move():
                self.sql.exec("UPDATE accounts SET balance = balance - ? WHERE name = ?", amount, src)
                self.sql.exec("UPDATE accounts SET balance = balance + ? WHERE name = ?", amount, dst)
            self.ctx.storage.transactionSync(move)

        def begin_label(self):
            return self.sql.exec("SELECT 'BEGIN' AS word").one()
    """,
)

CASES["DO501"] = (
    """
    class Echo(DurableObject):
        async def fetch(self, request):
            client, server = WebSocketPair.new()
            server.accept()  # expect: DO501
            server.addEventListener("message", lambda event: server.send(event.data))
            server.addEventListener("close", lambda event: server.close(1000, "bye"))
            return Response(None, status=101, web_socket=client)
    """,
    """
    class Echo(DurableObject):
        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)

        async def connect_upstream(self):
            response = await fetch("https://upstream.example.com/ws", headers={"Upgrade": "websocket"})
            upstream = response.webSocket
            upstream.accept()   # an outbound socket: the standard API is the only one
    """,
)

CASES["DO502"] = (
    """
    class Room(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.names = {}

        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)

        async def webSocketMessage(self, ws, message):
            if message.startswith("/nick "):
                self.names[ws] = message[6:]  # expect: DO502

        async def webSocketClose(self, ws, code, reason, wasClean):
            self.names.pop(ws, None)
            ws.close(code, reason)
    """,
    """
    class Room(DurableObject):
        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server, ["room"])
            server.serializeAttachment({"name": "anonymous"})
            return Response(None, status=101, web_socket=client)

        async def webSocketMessage(self, ws, message):
            if message.startswith("/nick "):
                ws.serializeAttachment({"name": message[6:]})

        async def webSocketClose(self, ws, code, reason, wasClean):
            ws.close(code, reason)
    """,
)

CASES["DO503"] = (
    """
    class Room(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.sessions = set()

        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            self.sessions.add(server)  # expect: DO502
            return Response(None, status=101, web_socket=client)

        async def webSocketMessage(self, ws, message):
            for other in self.sessions:
                other.send(message)  # expect: DO503

        async def webSocketClose(self, ws, code, reason, wasClean):
            self.sessions.discard(ws)
            ws.close(code, reason)

    class Team(DurableObject):
        async def kick(self, name):
            for ws in self.ctx.getWebSockets(f"user:{name}"):
                ws.close(4003, "removed")          # closing sockets stay in getWebSockets()
            for ws in self.ctx.getWebSockets():
                ws.send(f"{name} was removed")  # expect: DO503
    """,
    """
    class Room(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.sessions = set()

        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            self.sessions.add(server)  # dojo: ignore[DO502]
            return Response(None, status=101, web_socket=client)

        async def webSocketMessage(self, ws, message):
            for other in list(self.sessions):
                try:
                    other.send(message)
                except Exception:
                    self.sessions.discard(other)
            for other in self.ctx.getWebSockets():   # never closes sockets itself: nothing closing
                other.send(message)

        async def webSocketClose(self, ws, code, reason, wasClean):
            self.sessions.discard(ws)
            ws.close(code, reason)

    class Team(DurableObject):
        async def kick(self, name):
            for ws in self.ctx.getWebSockets(f"user:{name}"):
                ws.close(4003, "removed")
            for ws in self.ctx.getWebSockets():
                if ws.readyState == 1:
                    ws.send(f"{name} was removed")
    """,
)

CASES["DO504"] = (
    """
    class Room(DurableObject):
        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)

        async def webSocketClose(self, ws, code, reason, wasClean):  # expect: DO504
            await self.ctx.storage.put("last_close", code)
            self._announce(ws)

        def _announce(self, ws):
            for other in self.ctx.getWebSockets():
                if other is not ws and other.readyState == 1:
                    other.send("someone left")

    class Legacy(DurableObject):
        async def fetch(self, request):
            client, server = WebSocketPair.new()
            server.accept()  # expect: DO501
            server.addEventListener("close", lambda event: print("gone"))  # expect: DO504
            return Response(None, status=101, web_socket=client)
    """,
    """
    class Room(DurableObject):
        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)

        async def webSocketClose(self, ws, code, reason, wasClean):
            await self.ctx.storage.put("last_close", code)
            self._goodbye(ws, code)

        def _goodbye(self, socket, code):
            socket.close(1000 if code in (1005, 1006, 1015) else code, "bye")
    """,
)

# The compatibility date a case is reviewed with (DO504 matters only before 2026-04-07).
CASE_OPTIONS = {"DO504": {"compatibility_date": "2026-01-01"}}


def test_every_rule_has_a_bad_and_a_good_example():
    assert sorted(CASES) == sorted(r.code for r in RULES)
    assert len(RULES) >= 15


@pytest.mark.parametrize("code", sorted(CASES))
def test_bad_example_is_flagged_at_the_marked_lines(code):
    source = src(CASES[code][0])
    marks = expected(source)
    assert any(c == code for c, _ in marks), "a bad example flags its own rule"
    assert found(source, **CASE_OPTIONS.get(code, {})) == marks


@pytest.mark.parametrize("code", sorted(CASES))
def test_good_example_is_clean(code):
    source = src(CASES[code][1])
    assert found(source, **CASE_OPTIONS.get(code, {})) == []


def _do504_lines(source, **options):
    return sorted(line for code, line in found(source, **options) if code == "DO504")


def test_close_reciprocation_is_needed_with_hibernation_at_every_date_and_with_a_listener_before_2026_04_07(tmp_path):
    # The Hibernation API never answers a client's close for the object (workerd 1.20261117.1 at
    # 2026-04-06 and 2026-04-07: the socket stays CLOSING in webSocketClose); the runtime answers a
    # standard-API socket's close by itself from 2026-04-07 (web_socket_auto_reply_to_close).
    bad = src(CASES["DO504"][0])
    handler_line, listener_line = _do504_lines(bad, compatibility_date="2026-04-06")
    assert "webSocketClose" in bad.splitlines()[handler_line - 1]
    assert "addEventListener" in bad.splitlines()[listener_line - 1]
    assert found(bad, compatibility_date="2026-04-06") == expected(bad)
    for current in ({"compatibility_date": "2026-04-07"}, {},  # no wrangler config: a current date
                    {"compatibility_date": "2026-01-01", "compatibility_flags": ["web_socket_auto_reply_to_close"]}):
        assert _do504_lines(bad, **current) == [handler_line], current
    # the date is found in the nearest wrangler config above the file, up to the repository root
    project = tmp_path / "worker"
    (project / "src" / "rooms").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    (project / "wrangler.toml").write_text('compatibility_date = "2026-01-01"\n')
    path = project / "src" / "rooms" / "room.py"
    path.write_text(bad)
    assert sorted(f.line for f in review_paths([path]) if f.code == "DO504") == [handler_line, listener_line]
    (project / "wrangler.toml").unlink()
    (project / "wrangler.jsonc").write_text('{\n  // current\n  "compatibility_date": "2026-11-01"\n}\n')
    assert [f.line for f in review_paths([path]) if f.code == "DO504"] == [handler_line]


def test_rules_are_grouped_by_category_and_fully_described():
    prefix = {"architecture": "DO1", "lifecycle": "DO2", "state": "DO3", "performance": "DO4", "websockets": "DO5"}
    for r in RULES:
        assert r.code.startswith(prefix[r.category]), r.code
        assert r.message and "\n" not in r.message
        assert "developers.cloudflare.com/" in r.explanation, r.code
        assert len(r.explanation) > 200, r.code
    assert len({r.code for r in RULES}) == len(RULES)


# ----------------------------------------------------------------------------------------
# What counts as Durable Object code
# ----------------------------------------------------------------------------------------


def test_classes_are_durable_objects_through_aliases_module_imports_and_subclasses():
    source = textwrap.dedent("""\
        import time
        import workers
        from workers import DurableObject as DO

        class A(workers.DurableObject):
            async def f(self):
                time.sleep(1)

        class B(DO):
            async def f(self):
                time.sleep(1)

        class C(B):
            async def f(self):
                time.sleep(1)

        class NotADurableObject:
            async def f(self):
                time.sleep(1)
        """)
    assert found(source) == [("DO401", 7), ("DO401", 11), ("DO401", 15)]


def test_a_durable_object_base_with_the_same_name_from_elsewhere_is_not_one():
    source = textwrap.dedent("""\
        import time
        from mylib import DurableObject

        class A(DurableObject):
            async def f(self):
                time.sleep(1)
        """)
    assert found(source) == []


def test_from_time_import_sleep_is_resolved():
    source = textwrap.dedent("""\
        from time import sleep as nap
        from workers import DurableObject

        class A(DurableObject):
            async def fetch(self, request):
                nap(1)
        """)
    assert found(source) == [("DO401", 6)]


def test_storage_reached_through_a_field_or_a_name_is_storage():
    source = src("""
    class Bank(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.storage = ctx.storage
            self.storage.put("opened", True)  # expect: DO201

        async def transfer(self, a, b):
            store = self.ctx.storage
            await store.put(a, 1)
            await fetch("https://audit.example.com/", method="POST")
            await self.storage.put(b, 2)  # expect: DO302
    """)
    assert found(source) == expected(source)


def test_a_helper_that_fetches_opens_the_gate_for_the_read_modify_write_rule():
    source = src("""
    class Stock(DurableObject):
        async def reserve(self, sku):
            left = await self.ctx.storage.get(sku)
            await self._notify(sku)
            await self.ctx.storage.put(sku, left - 1)  # expect: DO303

        async def _notify(self, sku):
            await fetch("https://warehouse.example.com/", method="POST")
    """)
    assert found(source) == expected(source)


def test_a_helper_that_only_touches_storage_keeps_the_gate_closed():
    source = src("""
    class Stock(DurableObject):
        async def reserve(self, sku):
            left = await self.ctx.storage.get(sku)
            await self._log(sku)
            await self.ctx.storage.put(sku, left - 1)

        async def _log(self, sku):
            self.ctx.storage.put(f"log:{sku}", Date.now())
    """)
    assert found(source) == []


def test_unknown_awaits_stay_silent():
    source = src("""
    from mylib import enrich

    class Stock(DurableObject):
        async def reserve(self, sku):
            left = await self.ctx.storage.get(sku)
            await enrich(sku)
            await self.ctx.storage.put(sku, left - 1)
    """)
    assert found(source) == []


def test_only_code_that_runs_on_the_platform_is_reviewed_for_ids():
    source = src("""
    def test_fresh_objects_start_empty(ns):
        assert ns.get(ns.newUniqueId()) is not None       # a test, not platform code

    def audit_stub(env):
        return env.AUDIT.get(env.AUDIT.newUniqueId())  # expect: DO101

    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            await audit_stub(self.env).log(request.url)
            return Response("ok")
    """)
    assert found(source) == expected(source)


def test_fields_that_may_start_from_scratch_are_not_state():
    source = src("""
    class Proxy(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.in_flight = 0
            self.response_cache = {}
            self.hits = 0

        async def fetch(self, request):
            self.in_flight += 1
            try:
                if request.url not in self.response_cache:
                    self.response_cache[request.url] = await (await fetch(request.url)).text()
                self.hits += 1  # expect: DO301
                return Response(self.response_cache[request.url])
            finally:
                self.in_flight -= 1
    """)
    assert found(source) == expected(source)


# ----------------------------------------------------------------------------------------
# The ignore comment
# ----------------------------------------------------------------------------------------


def test_ignore_comment_silences_the_named_code_on_its_line_only():
    source = src("""
    class Counter(DurableObject):
        def __init__(self, ctx, env):
            super().__init__(ctx, env)
            self.count = 0
            self.hits = 0

        async def increment(self):
            self.count += 1  # dojo: ignore[DO301]
            self.hits += 1  # dojo: ignore[DO999] expect: DO301
            time.sleep(0.1)  # dojo: ignore[DO301, DO401]
            time.sleep(0.1)  # dojo: ignore
            return self.count
    """)
    assert found(source) == expected(source)


# ----------------------------------------------------------------------------------------
# The command: formats, exit codes, --explain
# ----------------------------------------------------------------------------------------


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "counter.py"
    path.write_text(src(CASES["DO301"][0]))
    return path


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "counter_ok.py"
    path.write_text(src(CASES["DO301"][1]))
    return path


def run_cli(args, capsys):
    code = review_main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_text_format_is_file_line_code_message_and_exit_1(bad_file, capsys):
    code, out, _ = run_cli([str(bad_file)], capsys)
    assert code == 1
    lines = out.strip().splitlines()
    (_, first), (_, second) = expected(bad_file.read_text())
    assert lines[0] == f"{bad_file}:{first}: DO301 {RULES_BY_CODE['DO301'].message} (self.count)"
    assert lines[1] == f"{bad_file}:{second}: DO301 {RULES_BY_CODE['DO301'].message} (self.seen)"
    assert "2 findings" in lines[-1]


def test_clean_code_exits_0(good_file, capsys):
    code, out, _ = run_cli([str(good_file)], capsys)
    assert code == 0
    assert "no findings" in out


def test_folders_are_reviewed_recursively(bad_file, good_file, capsys):
    code, out, _ = run_cli([str(bad_file.parent)], capsys)
    assert code == 1
    assert str(bad_file) in out and str(good_file) not in out


def test_json_format(bad_file, capsys):
    code, out, _ = run_cli(["--format", "json", str(bad_file)], capsys)
    assert code == 1
    data = json.loads(out)
    assert data["findings"][0] == {
        "path": str(bad_file), "line": expected(bad_file.read_text())[0][1], "col": 9, "code": "DO301", "category": "state",
        "message": RULES_BY_CODE["DO301"].message + " (self.count)",
    }
    assert data["summary"] == {"files": 1, "findings": 2, "advice": 0}
    assert data["advice"] == []


def test_json_format_when_clean(good_file, capsys):
    code, out, _ = run_cli(["--format", "json", str(good_file)], capsys)
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_explain_prints_the_paragraph(capsys):
    code, out, _ = run_cli(["--explain", "do303"], capsys)
    assert code == 0
    assert out.startswith("DO303 (State): ")
    assert "developers.cloudflare.com/durable-objects/best-practices/rules-of-durable-objects/" in out
    assert explain("DO303") == out


def test_explain_unknown_code_is_a_usage_error(capsys):
    code, _, err = run_cli(["--explain", "DO999"], capsys)
    assert code == 2
    assert "DO999" in err and "DO101" in err


@pytest.mark.parametrize("args", [[], ["/no/such/file.py"], ["--run", "no-colon"]])
def test_usage_errors_exit_2(args, capsys):
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert err


def test_unparsable_file_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("class (:\n")
    code, _, err = run_cli([str(path)], capsys)
    assert code == 2
    assert "broken.py:1" in err


def test_bad_format_choice_exits_2_through_argparse(capsys):
    with pytest.raises(SystemExit) as exc:
        review_main(["--format", "xml", "x.py"])
    assert exc.value.code == 2


def test_add_review_command_wires_a_subcommand():
    parser = argparse.ArgumentParser(prog="dojo")
    subparsers = parser.add_subparsers(dest="command")
    add_review_command(subparsers)
    args = parser.parse_args(["review", "--format", "json", "a.py", "b.py"])
    assert args.command == "review"
    assert args.paths == ["a.py", "b.py"] and args.format == "json"
    assert callable(args.func)


def test_add_review_command_runs_through_the_parser(bad_file, capsys):
    parser = argparse.ArgumentParser(prog="dojo")
    add_review_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["review", str(bad_file)])
    assert args.func(args) == 1
    assert "DO301" in capsys.readouterr().out


def test_run_prints_the_advice_of_a_scenario(tmp_path, monkeypatch, capsys):
    (tmp_path / "hot_workload.py").write_text(textwrap.dedent("""\
        from durable_dojo import Runtime
        from workers import DurableObject

        class Counter(DurableObject):
            async def hit(self):
                n = (await self.ctx.storage.get("n") or 0) + 1
                await self.ctx.storage.put("n", n)

        async def scenario():
            rt = Runtime(durable_objects={"COUNTER": Counter})
            for i in range(300):
                await rt.env.COUNTER.getByName("global").hit()
                await rt.advance(0.002)
            return rt

        def quiet():
            return Runtime(durable_objects={"COUNTER": Counter})
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run_cli(["--run", "hot_workload:scenario"], capsys)
    assert code == 1
    assert "SHARD" in out and "COUNTER" in out
    code, out, _ = run_cli(["--run", "hot_workload:quiet", "--format", "json"], capsys)
    assert code == 0
    assert json.loads(out)["advice"] == []
    code, _, err = run_cli(["--run", "hot_workload:missing"], capsys)
    assert code == 2 and "missing" in err


# ----------------------------------------------------------------------------------------
# The checklist page
# ----------------------------------------------------------------------------------------


def test_checklist_page_mentions_every_rule_and_every_category():
    page = render_checklist_markdown()
    assert page.startswith("# The review checklist\n")
    for r in RULES:
        assert f"### {r.code}" in page
        assert r.explanation in page
    for title in CATEGORIES.values():
        assert f"## {title}" in page


def test_site_page_is_up_to_date_with_the_rules():
    """`site/review-checklist.md` is generated: regenerate with
    `python -c "from durable_dojo._review.rules import write_checklist; write_checklist()"`."""
    page = REPO / "site" / "review-checklist.md"
    assert page.read_text() == render_checklist_markdown()


# ----------------------------------------------------------------------------------------
# The kata cross-check: solutions are clean, every learner file shows its anti-pattern
# ----------------------------------------------------------------------------------------

def _shipped_katas() -> Path:
    """The katas as shipped (git HEAD), not the learner's working copy: solving katas must not
    turn `make test` red. Without git or a packaged copy, the working copy is all there is."""
    from durable_dojo._kata.pristine import PristineNotFound, shipped_katas_dir

    try:
        return shipped_katas_dir(REPO)
    except PristineNotFound:
        return REPO / "katas"


SHIPPED_KATAS = _shipped_katas()
MANIFEST = Path(os.environ.get("DOJO_REVIEW_MANIFEST", SHIPPED_KATAS / "katas.toml"))
EXPECTATIONS = tomllib.loads((REPO / "tests" / "review_expectations.toml").read_text())


def _katas() -> list[dict]:
    if not MANIFEST.exists():
        return []
    data = tomllib.loads(MANIFEST.read_text())
    katas = data.get("kata") or data.get("katas") or []
    return [k for k in katas if isinstance(k, dict)]


def _kata_id(kata: dict) -> str:
    return str(kata.get("id") or kata.get("name") or kata.get("dir"))


def _paths(kata: dict, key: str, root: str) -> list[Path]:
    value = kata.get(key) or kata.get(f"{key}_file") or kata.get(f"{key}_files")
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        path = Path(v)
        if not path.is_absolute() and not (REPO / path).exists():
            path = Path(root) / _kata_id(kata) / path
        out.append(SHIPPED_KATAS.joinpath(*path.parts[1:]) if path.parts[0] == "katas" else REPO / path)
    return out


KATAS = _katas()
needs_katas = pytest.mark.skipif(not KATAS, reason="katas/katas.toml is not there yet: the cross-check runs once it lands")


@needs_katas
@pytest.mark.parametrize("kata", KATAS, ids=_kata_id)
def test_solution_files_have_no_findings(kata):
    files = _paths(kata, "solution", "solutions")
    assert files, f"kata {_kata_id(kata)}: the manifest names no solution file"
    findings = review_paths([f for f in files if f.suffix == ".py"])
    known = EXPECTATIONS.get("kata", {}).get(_kata_id(kata), {}).get("solution_findings", [])
    for entry in known:
        assert entry.get("reason"), f"kata {_kata_id(kata)}: a listed solution finding needs its reason"
        match = [f for f in findings if f.code == entry["code"] and f.line == entry["line"]]
        assert match, f"kata {_kata_id(kata)}: {entry['code']} on line {entry['line']} is gone: remove its entry"
        findings = [f for f in findings if f not in match]
    assert [f.format() for f in findings] == []


@needs_katas
@pytest.mark.parametrize("kata", KATAS, ids=_kata_id)
def test_learner_files_show_the_katas_anti_pattern(kata):
    kata_id = _kata_id(kata)
    entry = EXPECTATIONS.get("kata", {}).get(kata_id)
    assert entry is not None, (
        f"kata {kata_id} has no entry in tests/review_expectations.toml: add [kata.\"{kata_id}\"] with the "
        "codes its learner file must produce, or static = false with the reason and the dynamic advice")
    files = [f for f in _paths(kata, "learner", "katas") if f.suffix == ".py"]
    assert files, f"kata {kata_id}: the manifest names no learner file"
    codes = {f.code for f in review_paths(files)}
    if entry.get("static", True):
        assert set(entry["codes"]) <= codes, f"kata {kata_id}: expected {entry['codes']}, review found {sorted(codes)}"
        assert codes, f"kata {kata_id}: the learner file produces no finding"
    else:
        assert entry.get("reason") and entry.get("advice"), f"kata {kata_id}: say why, and which advice catches it"


def test_expectations_name_real_codes_and_advice():
    from durable_dojo._review.advice import ADVICE_CODES

    for kata_id, entry in EXPECTATIONS.get("kata", {}).items():
        for code in entry.get("codes", []):
            assert code in RULES_BY_CODE, f"{kata_id}: unknown rule {code}"
        for code in entry.get("advice", []) if isinstance(entry.get("advice"), list) else [entry.get("advice")]:
            if code:
                assert code in ADVICE_CODES, f"{kata_id}: unknown advice {code}"


# ----------------------------------------------------------------------------------------
# The reviewer agrees with the workbook: correct kata fixes that were flagged
# ----------------------------------------------------------------------------------------


def test_awaited_puts_with_only_storage_between_are_one_commit_kata_06():
    """Chapter 2 shows three awaited puts making one commit: numbering an invoice with two awaited puts,
    then filing it, is not a half-written change (it was DO302 on kata 06 line 29)."""
    source = src("""
    class InvoiceBook(DurableObject):
        async def issue(self, customer, amount):
            number = (await self.ctx.storage.get("last_number") or 0) + 1
            await self.ctx.storage.put("last_number", number)
            await self.ctx.storage.put(f"invoice:{number:08d}", {"customer": customer, "amount": amount})
            await fetch("https://accounting.example.com/invoices", method="POST")
            return number
    """)
    assert found(source) == []


def test_a_job_stored_with_awaited_puts_is_not_flagged_kata_08():
    """Kata 08: the last id and the reminder stored by two awaited puts, then the alarm (it was DO302 on
    line 29)."""
    source = src("""
    class Reminders(DurableObject):
        async def remind_me(self, text, delay):
            reminder_id = (await self.ctx.storage.get("last_id") or 0) + 1
            due = Date.now() + int(delay * 1000)
            await self.ctx.storage.put("last_id", reminder_id)
            await self.ctx.storage.put(f"reminder:{due:015d}", {"id": reminder_id, "text": text})
            current = await self.ctx.storage.getAlarm()
            if current is None or due < current:
                await self.ctx.storage.setAlarm(due)
            return {"id": reminder_id, "due": due}
    """)
    assert found(source) == []


def test_a_late_bid_stored_by_two_awaited_puts_is_not_flagged_kata_10():
    """Kata 10: the bid, then the moved end, each awaited, with only storage in between (it was DO302 on
    line 43)."""
    source = src("""
    class Auction(DurableObject):
        async def bid(self, user, amount):
            auction = await self.ctx.storage.get(["end", "bidders"])
            end, now = auction["end"], Date.now()
            await self.ctx.storage.put({"best": {"user": user, "amount": amount}, "bidders": auction["bidders"]})
            if end - now < 300_000:
                end = now + 300_000
                await self.ctx.storage.put("end", end)
                await self.ctx.storage.setAlarm(end)
            return {"accepted": True, "end": end}
    """)
    assert found(source) == []


def test_a_progress_record_stored_between_outside_calls_is_not_flagged_kata_09():
    """Kata 09 asks for this: the charge id stored as soon as the charge answers, before the receipt is
    mailed (it was DO302 on line 59), and a record written when a read found none."""
    source = src("""
    async def charge_card(customer, amount, idempotency_key=None):
        return await fetch("https://pay.example.com/charges", method="POST")

    async def mail_receipt(email, charge_id):
        await fetch("https://mail.example.com/receipts", method="POST")

    class Subscription(DurableObject):
        async def alarm(self, info):
            sub = await self.ctx.storage.get(["email", "price", "period"])
            period = sub["period"]
            key = await self.ctx.storage.get(f"key:{period}")
            if key is None:
                key = f"renewal-{period}"
                await self.ctx.storage.put(f"key:{period}", key)
            charge_id = await self.ctx.storage.get(f"charge:{period}")
            if charge_id is None:
                charge_id = await charge_card(self.ctx.id.name, sub["price"], key)
                await self.ctx.storage.put(f"charge:{period}", charge_id)
            if not await self.ctx.storage.get(f"mailed:{period}"):
                await mail_receipt(sub["email"], charge_id)
                await self.ctx.storage.put(f"mailed:{period}", True)
            await self.ctx.storage.put({f"invoice:{period}": charge_id, "period": period + 1})
    """)
    assert found(source) == []


def test_a_read_modify_write_inside_block_concurrency_while_is_not_a_lost_update():
    """No other event runs while blockConcurrencyWhile's callback does, so a fetch inside it cannot let a
    second order read the same stock: no DO303 (DO406 says what it costs instead)."""
    source = src("""
    class Product(DurableObject):
        async def order(self, order_id, quantity):
            return await self.ctx.blockConcurrencyWhile(lambda: self._order(order_id, quantity))  # expect: DO406

        async def _order(self, order_id, quantity):
            stock = await self.ctx.storage.get("stock") or 0
            if stock < quantity:
                return "sold_out"
            await fetch("https://payments.example.com/charges", method="POST")
            await self.ctx.storage.put("stock", stock - quantity)
            return "confirmed"
    """)
    assert found(source) == expected(source)


def test_a_helper_called_both_inside_and_outside_block_concurrency_while_is_still_checked():
    source = src("""
    class Product(DurableObject):
        async def order(self, quantity):
            return await self._order(quantity)

        async def order_locked(self, quantity):
            return await self.ctx.blockConcurrencyWhile(lambda: self._order(quantity))  # expect: DO406

        async def _order(self, quantity):
            stock = await self.ctx.storage.get("stock") or 0
            await fetch("https://payments.example.com/charges", method="POST")
            await self.ctx.storage.put("stock", stock - quantity)  # expect: DO303
    """)
    assert found(source) == expected(source)


def test_every_explanation_names_its_docs_and_the_coalescing_it_describes_is_the_workbooks():
    """DO302's explanation must not say that awaiting each put turns coalescing off: chapter 2 shows
    three awaited puts making one commit."""
    text = explain("DO302")
    assert "turns that off" not in text and "awaiting each one" not in text
    assert "three awaited `put`s making one commit" in text
    for r in RULES:
        assert DOCS_URL in r.explanation, f"{r.code} cites no docs page"


DOCS_URL = "https://developers.cloudflare.com/"


def test_a_constant_name_in_a_helper_the_worker_calls_on_every_request_is_a_singleton():
    source = src("""
    class Shop(WorkerEntrypoint):
        async def fetch(self, request):
            if request.method == "OPTIONS":
                return Response("", status=204)
            cart = self.cart_for(request.headers.get("X-User"))
            if request.url.endswith("/admin"):
                return await self.admin()
            return Response(str(await cart.items()))

        def cart_for(self, user):
            return self.env.CARTS.getByName("carts")  # expect: DO103

        async def admin(self):
            return await self.env.CARTS.getByName("admin").report()   # not on every request

        def unused(self):
            return self.env.CARTS.getByName("other")
    """)
    assert found(source) == expected(source)
