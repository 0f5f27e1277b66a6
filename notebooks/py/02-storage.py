# %% [markdown]
# # 2. Storage: the one thing that lasts
#
# Each Durable Object has private storage that nothing else can read, strongly consistent and
# durable. This chapter tours the key-value API (`ctx.storage.get/put/delete/list`), what happens
# to the values you store, the limits, how writes are grouped and committed, transactions,
# the SQL API, and persistence across restarts.
#
# To poke at storage without writing a class for every question, the cells use
# `run_in_durable_object(stub, fn)` from `durable_dojo.testing`: it runs `fn(instance, ctx)`
# *inside* the object as one more event, like Cloudflare's own test helper of the same name.

# %%
import asyncio
import datetime

from durable_dojo import Runtime
from durable_dojo.testing import run_in_durable_object
from durable_dojo.widgets import Inspector, Timeline
from pyodide.ffi import JsException
from workers import DurableObject


class Box(DurableObject):
    """An object with no behaviour of its own: the cells run code inside it."""


rt = Runtime(durable_objects={"BOX": Box})
box = rt.env.BOX.getByName("box")


async def inside(body, stub=box):
    """Run `await body(ctx)` inside the object and return what it returns."""
    result = []

    async def run(obj, ctx):
        result.append(await body(ctx))

    await run_in_durable_object(stub, run)
    return result[0]


# %% [markdown]
# ## The key-value API
#
# Keys are strings. `get` of a missing key is `None`; `get` of a list gives a dict of the keys
# that exist; `delete` says whether the key existed (or, for a list, how many did).

# %%
# NBVAL_CHECK_OUTPUT
async def tour(ctx):
    s = ctx.storage
    print("get missing     ->", await s.get("nobody"))
    await s.put("user:ada", {"name": "Ada", "langs": ["en", "fr"]})
    await s.put({"user:bob": {"name": "Bob"}, "user:cy": {"name": "Cy"}})     # several at once
    print("get one         ->", await s.get("user:ada"))
    print("get list        ->", await s.get(["user:cy", "user:zed", "user:bob"]))
    print("delete existing ->", await s.delete("user:cy"))
    print("delete missing  ->", await s.delete("user:cy"))
    print("delete a list   ->", await s.delete(["user:bob", "user:zed"]))
    print("list            ->", await s.list())


await inside(tour)

# %% [markdown]
# ## Order: UTF-8 bytes, not numbers, not JavaScript
#
# `list()` returns keys in ascending **UTF-8 byte order**. Two consequences:
#
# * numbers stored as text sort as text: `"10"` comes before `"9"`. Zero-pad them (`"0009"`) or
#   use a fixed-width timestamp when the order matters.
# * the order is not JavaScript's default string sort (UTF-16 code units): the two disagree for
#   characters above U+FFFF, such as emoji. Python's `sorted()` on `str` agrees with storage.

# %%
# NBVAL_CHECK_OUTPUT
keys = ["b", "a", "10", "9", "0009", "é", "\uffff", "😀", "B"]


async def order(ctx):
    await ctx.storage.deleteAll()
    await ctx.storage.put({k: True for k in keys})
    return list(await ctx.storage.list())


stored = await inside(order)
print("storage order:         ", stored)
print("Python sorted():       ", sorted(keys))
print("JavaScript's .sort():  ", sorted(keys, key=lambda k: k.encode("utf-16-be")))

# %% [markdown]
# ## `list()` options
#
# `prefix`, `start` (inclusive), `startAfter` (exclusive), `end` (exclusive), `reverse` and
# `limit`. With `reverse`, `start` and `end` keep their meaning and `limit` counts from the top.
# Paging through a large range is `limit` plus `startAfter` the last key of the page before.

# %%
# NBVAL_CHECK_OUTPUT
async def options(ctx):
    await ctx.storage.deleteAll()
    await ctx.storage.put({f"event:{i:04d}": i for i in range(1, 8)} | {"user:ada": 1})
    s = ctx.storage
    print("prefix         ", list(await s.list({"prefix": "event:"})))
    print("start/end      ", list(await s.list({"start": "event:0003", "end": "event:0005"})))
    print("reverse+limit  ", list(await s.list({"prefix": "event:", "reverse": True, "limit": 2})))
    page, after = 1, None
    while True:
        query = {"prefix": "event:", "limit": 3} | ({"startAfter": after} if after else {})
        chunk = list(await s.list(query))
        if not chunk:
            break
        print(f"page {page}         ", chunk)
        page, after = page + 1, chunk[-1]
    for bad in ({"limit": 0}, {"start": "a", "startAfter": "a"}):
        try:
            await s.list(bad)
        except JsException as error:                  # a JavaScript error, see below
            print(f"list({bad}) -> {error.name}: {error.message}")


await inside(options)

# %% [markdown]
# ### Exercise: the latest events, in order
#
# Each chapter has checked exercises: edit the cell marked **Exercise**, run it, then run the
# check below it (chapter 0 explains how they work; the reference answers are in the
# repository's `solutions/workbook/`).
#
# `EventLog` stores each event under its number and lists the newest with `reverse` and
# `limit`. Past event 9 it returns the wrong ones: `"event:10"` sorts before `"event:9"`. Make
# `latest(k)` return the k newest events, newest first, while reading only k rows of storage (the
# check records 150 events of 20 KB each and counts the rows read).

# %% tags=["exercise"]
# Exercise: keys that list in event order, so latest() reads only what it returns.
from workers import DurableObject


class EventLog(DurableObject):
    """record(n, text) stores event number n; latest(k) returns the k latest texts, newest first."""

    async def record(self, n, text):
        await self.ctx.storage.put(f"event:{n}", text)

    async def latest(self, k):
        events = await self.ctx.storage.list({"prefix": "event:", "reverse": True, "limit": k})
        return list(events.values())

# %%
from durable_dojo.workbook import check

await check("02-keys-in-order", EventLog)

# %% [markdown]
# ## Values are copies
#
# Values are stored with the **structured clone** algorithm: what you read back is a new copy,
# and `put` takes its copy when it is called. Changing a value you read does not change what is
# stored; you must `put` it again. Dicts, lists, sets, strings, numbers (big ones too), bytes,
# `datetime` and `None` round-trip. Functions and arbitrary objects do not, and neither do
# tuples (the Python Workers SDK refuses them), a surprise for Python programmers.
#
# A value comes back as JavaScript hands it to Python, which is not always the type you stored:
# a whole float (`3.0`, `-0.0`) is a JavaScript number that is an integer, so it comes back as
# an `int`; bytes come back as a `memoryview` (compare with `==`, or call `.tobytes()`); a dict
# comes back as the SDK's `JsDict` (a dict whose keys also read as attributes); a naive
# `datetime` is taken as UTC, and comes back naive, in UTC.
#
# **Errors.** When a storage call fails, the error comes from JavaScript and reaches Python as
# `pyodide.ffi.JsException`, with the JavaScript error's `name` (`"TypeError"`, `"RangeError"`,
# `"DataCloneError"`, `"Error"`) and `message`. It is not a Python `TypeError`: catch
# `JsException` and look at `error.name`. Only what the Python SDK checks itself, before
# JavaScript sees the value (a tuple, a bytearray), is a Python `TypeError`.

# %%
# NBVAL_CHECK_OUTPUT
async def copies(ctx):
    s = ctx.storage
    cart = {"items": ["apple"]}
    s.put("cart", cart)
    cart["items"].append("pear")                    # after put: not stored
    read = await s.get("cart")
    read["items"].append("plum")                    # a copy: not stored either
    print("stored cart:", await s.get("cart"))
    values = [2**70, 1.5, 3.0, b"\x00\xff", {1, 2}, datetime.datetime(2026, 5, 1, 12, 0), None, [1, {"a": True}]]
    for value in values:
        await s.put("v", value)
        back = await s.get("v")
        print(f"  {type(value).__name__:<8} {value!r:<36} reads back as {type(back).__name__:<10} equal: {back == value}")
    try:
        await s.put("v", (1, 2))
    except TypeError as error:                        # the SDK refuses it in Python
        print(f"  tuple    TypeError: {error}")
    try:
        await s.put("v", object())
    except JsException as error:                      # JavaScript's structured clone refuses it
        print(f"  object   JsException {error.name}: could not be cloned")


await inside(copies)

# %% [markdown]
# ### Exercise: put it back
#
# This `Cart` stores the cart and then adds the item, and every cart stays empty. Make `add`
# store the cart *with* the new item.

# %% tags=["exercise"]
# Exercise: store the cart with the new item in it.
from workers import DurableObject


class Cart(DurableObject):
    """One cart per shopper: add(item) returns how many items the cart holds; items() lists them."""

    async def add(self, item):
        cart = await self.ctx.storage.get("cart") or {"items": []}
        self.ctx.storage.put("cart", cart)       # store the cart...
        cart["items"].append(item)               # ...with the new item
        return len(cart["items"])

    async def items(self):
        cart = await self.ctx.storage.get("cart") or {"items": []}
        return cart["items"]

# %%
await check("02-put-it-back", Cart)

# %% [markdown]
# ## Limits
#
# Objects created today are **SQLite-backed**: a key plus its value may be up to 2 MB, and an
# object up to 10 GB. Older, **KV-backed** objects have tighter limits: keys up to 2,048 bytes,
# values up to 128 KiB, at most 128 keys per `get`. `Runtime(storage="kv")` gives the KV-backed
# limits, with workerd's error messages:

# %%
# NBVAL_CHECK_OUTPUT
async def limits(ctx):
    attempts = {
        "a 200 KiB value": lambda: ctx.storage.put("big", "x" * 200 * 1024),
        "a 3,000-byte key": lambda: ctx.storage.put("k" * 3000, 1),
        "get() of 129 keys": lambda: ctx.storage.get([f"k{i}" for i in range(129)]),
    }
    for what, attempt in attempts.items():
        try:
            await attempt()
            print(f"  {what}: fine")
        except JsException as error:
            print(f"  {what}: {error.name}: {error.message}")


for backend in ("sqlite", "kv"):
    world = Runtime(durable_objects={"BOX": Box}, storage=backend)
    print(f"{backend}-backed:")
    await inside(limits, world.env.BOX.getByName("box"))
    world.close()

# %% [markdown]
# ## Calls act when called: read your own writes
#
# A storage call takes effect when it is *called*, not when it is awaited (like a JavaScript
# promise). A `put` you never await still writes, and a `get` right after it sees the value.
# Awaiting a write only waits for it; the output gate (chapter 3) makes sure nobody outside
# hears about a write before it is stored.

# %%
# NBVAL_CHECK_OUTPUT
async def eager(ctx):
    ctx.storage.put("greeting", "hello")           # not awaited
    print("get right after:", await ctx.storage.get("greeting"))
    ctx.storage.delete("greeting")                 # not awaited either
    print("after the delete:", await ctx.storage.get("greeting"))
    ctx.storage.put("kept", "yes")


await inside(eager)
await rt.evict(box)                                # drop memory: only what was stored is left
print("after eviction:", await inside(lambda ctx: ctx.storage.get("kept")))

# %% [markdown]
# ## Write coalescing: one batch per turn
#
# Writes are not sent one by one. Every write made until the object next yields to the outside
# world (an `await` on something other than storage, or the end of the event) goes into one
# batch, committed **atomically**. The trace shows one `commit` for three writes, and a failed
# commit (injected with `rt.faults.fail_next_flush`) stores none of them: the object is reset
# and the caller gets an error, never a half-written state.

# %%
# NBVAL_CHECK_OUTPUT
class Transfer(DurableObject):
    async def move(self, amount):
        a = await self.ctx.storage.get("a") or 100
        b = await self.ctx.storage.get("b") or 0
        await self.ctx.storage.put("a", a - amount)
        await self.ctx.storage.put("b", b + amount)
        await self.ctx.storage.put("moves", (await self.ctx.storage.get("moves") or 0) + 1)
        return [a - amount, b + amount]             # a list: a tuple cannot cross RPC

    async def balances(self):
        return await self.ctx.storage.get(["a", "b", "moves"])


bank = Runtime(durable_objects={"BANK": Transfer})
accounts = bank.env.BANK.getByName("accounts")
print("move 10:", await accounts.move(10))
print(Timeline(bank, kinds=("storage:put", "commit", "rpc:end")).text())

bank.faults.fail_next_flush(accounts)
try:
    await accounts.move(25)
except Exception as error:
    print(f"move 25: {error}  (durableObjectReset={error.durableObjectReset})")
print("balances:", await bank.env.BANK.getByName("accounts").balances())

# %% [markdown]
# All three writes of the failed move are gone together, so `a + b` is still 100. The caller saw
# an error, not a success: the balance it would have reported was never stored.

# %% [markdown]
# ### Exercise: all or nothing
#
# This `Bank` reports every transfer to the auditors, *between* its two writes. The outgoing
# `fetch` ends the batch: the debit is committed before it leaves, and the credit comes in a
# second batch after the answer. The check crashes the object while it waits for the auditors
# (memory and writes not yet stored are lost, as in a machine failure) and counts the money.
# Make the two writes of a transfer commit together, and keep reporting every transfer.

# %% tags=["exercise"]
# Exercise: make the two writes of a transfer commit together.
from workers import DurableObject, fetch


class Bank(DurableObject):
    """Balances by name; every transfer is reported to the auditors."""

    async def deposit(self, who, amount):
        await self.ctx.storage.put(who, (await self.ctx.storage.get(who) or 0) + amount)

    async def transfer(self, source, target, amount):
        balances = await self.ctx.storage.get([source, target])
        await self.ctx.storage.put(source, (balances.get(source) or 0) - amount)
        await fetch(f"https://audit.example.com/transfer?from={source}&to={target}&amount={amount}")
        await self.ctx.storage.put(target, (balances.get(target) or 0) + amount)

    async def balance(self, who):
        return await self.ctx.storage.get(who) or 0

# %%
await check("02-all-or-nothing", Bank)
#
# ## Transactions
#
# When a change spans several reads and writes with decisions in between, use
# `ctx.storage.transaction(async_fn)`: the function gets a `txn` with the same methods; if it
# throws, **every write in it is rolled back**, and the error reaches your code, which can catch
# it. Unlike a throw in `blockConcurrencyWhile`, this does not reset the object: its memory stays.
# `txn.rollback()` undoes the writes without an exception.

# %%
# NBVAL_CHECK_OUTPUT
class Ledger(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.transfers_seen = 0                     # memory, to show there is no reset

    async def open(self):
        await self.ctx.storage.put({"alice": 100, "bob": 20})

    async def transfer(self, source, target, amount):
        self.transfers_seen += 1

        async def body(txn):
            balance = await txn.get(source)
            await txn.put(source, balance - amount)
            await txn.put(target, await txn.get(target) + amount)
            if balance - amount < 0:
                raise ValueError(f"{source} cannot pay {amount}")
            return "done"

        try:
            return await self.ctx.storage.transaction(body)
        except ValueError as error:
            return f"refused: {error}"

    async def try_then_undo(self):
        async def body(txn):
            await txn.put("alice", 0)
            txn.rollback()
            return "rolled back on purpose"

        return await self.ctx.storage.transaction(body)

    async def state(self):
        return [dict(await self.ctx.storage.list()), self.transfers_seen]


ledger_world = Runtime(durable_objects={"LEDGER": Ledger})
ledger = ledger_world.env.LEDGER.getByName("ledger")
await ledger.open()
print(await ledger.transfer("alice", "bob", 30))
print(await ledger.transfer("bob", "alice", 500))
print(await ledger.try_then_undo())
print("balances and transfers seen:", await ledger.state())

# %% [markdown]
# The refused transfer wrote both balances before it checked, and neither write survived; the
# in-memory counter shows the instance was not reset. (With only storage awaits inside, the
# transaction also runs without interleaving: chapter 3 explains why that already holds for any
# storage-only code.)

# %% [markdown]
# ## Persistence: like `wrangler dev --persist-to`
#
# A `Runtime` keeps storage in memory unless you give it a folder: `persist_to=DIR` stores each
# object in its own SQLite file, `DIR/<class>/<id>.sqlite`, laid out as workerd does. Another
# world (a restarted kernel, another process) opened on the same folder sees the same data, and
# its stored alarms are armed again.

# %%
# NBVAL_CHECK_OUTPUT
import tempfile
from pathlib import Path

folder = tempfile.mkdtemp(prefix="dojo-")
first = Runtime(durable_objects={"LEDGER": Ledger}, persist_to=folder)
await first.env.LEDGER.getByName("ledger").open()
await first.env.LEDGER.getByName("ledger").transfer("alice", "bob", 5)
first.close()                                       # the process ends

files = sorted(p.relative_to(folder).parts[0] + "/<id>.sqlite" for p in Path(folder).rglob("*.sqlite"))
print("files:", files)
second = Runtime(durable_objects={"LEDGER": Ledger}, persist_to=folder)
print("a new world reads:", await second.env.LEDGER.getByName("ledger").state())
second.close()

# %% [markdown]
# ## Seeing storage
#
# The inspector reads each object's storage directly, without running its code:

# %%
Inspector(ledger_world)

# %% [markdown]
# ## The SQL API
#
# SQLite-backed objects also have `ctx.storage.sql`: a SQLite database private to the object.
# `sql.exec(query, *bindings)` runs one statement and returns a cursor (iterate it, or
# `.toArray()`, `.one()`, `.rowsRead`, `.rowsWritten`). Calls are **synchronous**: no `await`,
# so nothing can interleave with them. SQL writes join the same batch as the KV writes of the
# turn and commit together. The constructor is the usual place for the schema.
#
# SQL has its own transaction statements, but the platform refuses `BEGIN`, `COMMIT` and
# `SAVEPOINT`: use `ctx.storage.transactionSync(fn)`, which runs `fn` as one transaction and
# rolls back its SQL *and* KV writes if it raises.

# %%
# NBVAL_CHECK_OUTPUT
class Inventory(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS items (sku TEXT PRIMARY KEY, stock INTEGER NOT NULL CHECK (stock >= 0))")

    def restock(self, sku, amount):
        self.sql.exec("INSERT INTO items VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET stock = stock + excluded.stock",
                      sku, amount)

    def stock(self):
        return {row["sku"]: row["stock"] for row in self.sql.exec("SELECT sku, stock FROM items ORDER BY sku")}

    def sell(self, order):
        def body():
            for sku, quantity in order:
                self.sql.exec("UPDATE items SET stock = stock - ? WHERE sku = ?", quantity, sku)
            self.ctx.storage.kv.put("last_order", order)   # the synchronous KV API, same transaction

        try:
            self.ctx.storage.transactionSync(body)
            return "sold"
        except JsException as error:                   # SQLite's error, from JavaScript
            return f"refused: {error.message}"

    def last_order(self):
        return self.ctx.storage.kv.get("last_order")

    def try_begin(self):
        try:
            self.sql.exec("BEGIN TRANSACTION")
        except JsException as error:
            return f"JsException {error.name}: {error.message}"

    def size(self):
        return [self.sql.exec("SELECT count(*) AS n FROM items").one()["n"], self.sql.databaseSize]


shop = Runtime(durable_objects={"INVENTORY": Inventory})
inventory = shop.env.INVENTORY.getByName("store-1")
await inventory.restock("apple", 10)
await inventory.restock("pear", 3)
print(await inventory.sell([["apple", 2], ["pear", 1]]), await inventory.stock(), await inventory.last_order())
print(await inventory.sell([["apple", 2], ["pear", 5]]))
print("after the refused order:", await inventory.stock(), await inventory.last_order())
print(await inventory.try_begin())
print("items, database size in bytes:", await inventory.size())

# %% [markdown]
# ## Katas
#
# * [07-vanishing-money](../katas/07-vanishing-money/README.md): related writes split by an
#   await or an exception; make them one batch or one transaction.
# * [17-sql-begin-transaction](../katas/17-sql-begin-transaction/README.md): `BEGIN
#   TRANSACTION` in `sql.exec`; use `transactionSync`.
#
# ## Self-check
#
# 1. You store `{"tags": ["a"]}`, read it back, append `"b"` to `tags`, and never call `put`.
#    What does the next `get` return?
# 2. You store events under keys `event:1` … `event:12`. In what order does `list()` return them,
#    and how do you fix it?
# 3. A handler does `put("a", 1)`, `put("b", 2)` with no other await in between, and the commit
#    fails. Which of `a` and `b` can be stored afterwards?
# 4. What is the difference between a throw inside `transaction()` and a throw inside
#    `blockConcurrencyWhile()`?
#
# <details><summary>Answers</summary>
#
# 1. `{"tags": ["a"]}`: what you read is a copy.
# 2. `event:1, event:10, event:11, event:12, event:2, …` (text order). Zero-pad: `event:0001`.
# 3. Neither: writes of one turn commit together or not at all.
# 4. A transaction throw rolls back its writes and reaches your code (catchable, no reset). A
#    `blockConcurrencyWhile` throw resets the object.
# </details>
