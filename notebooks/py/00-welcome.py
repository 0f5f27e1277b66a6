# %% [markdown]
# # 0. Welcome to Durable Dojo
#
# A **Durable Object** (DO) is a small stateful server that Cloudflare runs for you. Each one has
# an **ID**; there is at most **one instance** of an ID in the whole world at a time, it handles
# its requests **one event at a time** (single-threaded), and it has its own private, strongly
# consistent **storage**. Every request for that ID, from anywhere, reaches that same instance.
# That is what lets a counter, a chat room or a rate limiter stay correct without locks.
#
# This workbook runs real Cloudflare **Python Workers** code (`from workers import DurableObject`)
# on `durable_dojo`, an in-process emulator of the Durable Objects runtime: gates, eviction,
# alarms, WebSockets and workerd's error messages behave as on the platform. What passes here
# deploys unchanged.
#
# **How to use it.** Run every cell in order (Shift+Enter). Cells use top-level `await`, as
# notebooks allow (never `asyncio.run()` in a notebook: the kernel already runs an event loop).
# Time in the emulator is **virtual**: an hour passes in an instant when you ask for it, and the
# same seed always gives the same run.
#
# **Proof cells.** A cell that starts with `# NBVAL_CHECK_OUTPUT` proves a claim: `make test`
# runs it again and fails if its output changes. If you change the emulator or a cell and a proof
# breaks, the claim it proved no longer holds.

# %% [markdown]
# ## A first Durable Object
#
# A DO is a class. Its public methods are callable over RPC; `fetch(request)` answers HTTP. The
# count lives in `self.ctx.storage`, not in a field: why that matters is chapter 1.

# %%
# NBVAL_CHECK_OUTPUT
from durable_dojo import Runtime
from durable_dojo.widgets import Inspector, Timeline
from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    """One counter per name. The count lives in storage, not in memory."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        print(f"  (constructor of {ctx.id.name!r})")

    async def increment(self):
        count = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put("count", count)
        return count

    async def fetch(self, request):
        return Response(f"count is {await self.increment()}")


rt = Runtime(durable_objects={"COUNTER": Counter})   # a world: bindings, storage, a virtual clock
alice = rt.env.COUNTER.getByName("alice")            # a stub: a handle to the object named "alice"
print(await alice.increment(), await alice.increment(), await alice.increment())

# %% [markdown]
# `rt.env.COUNTER` is the **namespace binding** a Worker would see as `env.COUNTER`.
# `getByName("alice")` returns a **stub** at once, without creating anything: the object is
# constructed when the first call reaches it, and the constructor ran once for three calls.
#
# One ID, one object: a second stub for the same name, made anywhere, reaches the *same*
# instance and the same storage. Another name is another object.

# %%
# NBVAL_CHECK_OUTPUT
again = rt.env.COUNTER.getByName("alice")           # another stub, same name: same object
print("alice via a second stub:", await again.increment())
bob = rt.env.COUNTER.getByName("bob")
print("bob:", await bob.increment())
response = await alice.fetch("http://counter/")      # HTTP into the object's fetch()
print("alice over HTTP:", response.status, await response.text())

# %% [markdown]
# ## Memory is temporary, storage is durable
#
# The platform may **evict** an idle object at any time: its memory is dropped, its storage stays.
# Here the emulator does it on demand. Because `Counter` keeps its count in storage, nothing is
# lost; the constructor simply runs again on the next call.

# %%
# NBVAL_CHECK_OUTPUT
await rt.evict(alice)
print("after eviction:", await alice.increment())

# %% [markdown]
# ### Exercise: a guest book that keeps its guests
#
# Each chapter has exercises like this one: a cell marked **Exercise** (it carries the cell tag
# `exercise`) that you edit, and the check cell below it. The check runs your code on the
# emulator, the way the platform would treat it (several requests, evictions, idle time), then
# says what is wrong, with the part of the trace that shows it, or that it is right. Edit, run
# the exercise cell, run the check, repeat. If you are stuck after an honest try, the reference
# answers are in the repository's `solutions/workbook/` folder, one file per exercise.
#
# `Guestbook` keeps its guests in a field, so an eviction forgets them all. Make `sign(who)` and
# `names()` keep the list in `self.ctx.storage` (the first cell's `Counter` shows how).

# %% tags=["exercise"]
# Exercise: keep the guest list in storage, so that it survives the instance.
from workers import DurableObject


class Guestbook(DurableObject):
    """One guest book per name: sign(who) adds a guest and returns how many have signed."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.guests = []                              # memory: gone with the instance

    async def sign(self, who):
        self.guests.append(who)
        return len(self.guests)

    async def names(self):
        return self.guests

# %%
from durable_dojo.workbook import check

await check("00-guestbook", Guestbook)

# %% [markdown]
# ## Virtual time
#
# `rt.advance(seconds)` moves the world's clock; whatever falls due meanwhile runs (alarms,
# timers, objects leaving memory). A year takes no real time. As in production, an idle object
# leaves memory by itself: it *hibernates* 10 s after its last event when nothing is pending in
# it (no timer, no call in flight), and is evicted after 70-140 s otherwise (chapter 1):

# %%
# NBVAL_CHECK_OUTPUT
import time

started = time.perf_counter()
await rt.advance(365 * 24 * 3600)
print(f"virtual time now: {(rt.now() - rt.start_ms) / 86400_000:.0f} days later")
print(f"it took {time.perf_counter() - started:.3f} s of wall time")
print(rt.trace.format(rt.trace.select("hibernate")))

# %% [markdown]
# ## When to use a Durable Object, and when not
#
# | you need | use | why |
# | --- | --- | --- |
# | one place that decides: a counter, a booking, a rate limit, a chat room, a game | a **Durable Object** | one instance per ID, single-threaded, storage that is always up to date |
# | data read everywhere, written rarely, where a minute of staleness is fine (configuration, feature flags, cached pages) | **Workers KV** | global, cheap reads from a cache near the user; but eventually consistent, no atomic read-modify-write, 1 write/s per key |
# | stateless work: routing, transforming, calling APIs | a plain **Worker** | no coordination needed; scales out with no single object in the path |
#
# The difference between KV and a DO is easiest to see. Below, a flag is written at the home
# location and read from San Francisco: SFO keeps serving the value it cached for up to 60 s.
# The same flag in a Durable Object is never stale, because every read goes to the one object.

# %%
# NBVAL_CHECK_OUTPUT
class Flags(DurableObject):
    async def set(self, name, value):
        await self.ctx.storage.put(name, value)

    async def get(self, name):
        return await self.ctx.storage.get(name)


world = Runtime(durable_objects={"FLAGS": Flags}, kv_namespaces=["CACHE"])
kv_home, kv_sfo = world.env.CACHE, world.env.CACHE.at("SFO")
flags = world.env.FLAGS.getByName("flags")

await kv_home.put("beta", "off")
await flags.set("beta", "off")
print("SFO reads the flag once:", await kv_sfo.get("beta"))
await world.advance(1)
await kv_home.put("beta", "on")                      # switch it on
await flags.set("beta", "on")
for _ in range(4):
    t = (world.now() - world.start_ms) / 1000
    print(f"t={t:5.1f}s  KV at home: {await kv_home.get('beta'):<3}  KV at SFO: {await kv_sfo.get('beta'):<3}  "
          f"Durable Object: {await flags.get('beta')}")
    await world.advance(20)

# %% [markdown]
# And the plain Worker: most requests need no object at all. A Worker routes the few that need
# coordination to the right object, by name:

# %%
# NBVAL_CHECK_OUTPUT
class Edge(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path == "hello":
            return Response("hello: no Durable Object needed")
        if path.startswith("count/"):
            stub = self.env.COUNTER.getByName(path.removeprefix("count/"))
            return Response(f"{await stub.increment()}")
        return Response("not found", status=404)


site = Runtime(durable_objects={"COUNTER": Counter}, worker=Edge)
for url in ["https://app.example.com/hello", "https://app.example.com/count/carol",
            "https://app.example.com/count/carol", "https://app.example.com/nothing"]:
    answer = await site.fetch(url)
    print(answer.status, await answer.text())

# %% [markdown]
# ### Exercise: one object per name
#
# This Worker counts visits per name at `/count/<name>`, but every name lands on the same
# object, so ada and bob share one count. Send each name to its own object: the object that any
# Worker in the world reaches with that name.

# %% tags=["exercise"]
# Exercise: send /count/<name> to the counter object of that name.
from workers import Response, WorkerEntrypoint


class Edge(WorkerEntrypoint):
    """https://app.example.com/count/<name> counts a visit of <name>; any other path is a 404."""

    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path.startswith("count/"):
            name = path.removeprefix("count/")
            stub = self.env.COUNTER.getByName("counter")
            return Response(f"{await stub.increment()}")
        return Response("not found", status=404)

# %%
await check("00-route-by-name", Edge)

# %% [markdown]
# ## Seeing inside a world
#
# Two views come with the workbook (`durable_dojo.widgets`):
#
# * `Inspector(rt)`: the objects of a world, their state (in memory, hibernated, evicted),
#   their storage, alarm and sockets, with buttons to evict, hibernate, fire an alarm and
#   advance the clock. Try the buttons: every one calls an ordinary method
#   (`inspector.evict("alice")`, `inspector.advance(10)`) that you can also call from code.
# * `Timeline(rt)`: the world's trace drawn as lanes, one per object (or per request), so you
#   can see which request did what, and in which order.

# %%
inspector = Inspector(rt)
inspector

# %% [markdown]
# Their text form is what the proof cells compare (the widgets draw the same thing):

# %%
# NBVAL_CHECK_OUTPUT
print(Inspector(rt, timeline=None).text())
print()
print(Timeline(rt, object="alice", last=9).text())

# %% [markdown]
# ## How the workbook and the katas fit together
#
# The **chapters** show each behaviour by running it, with **checked exercises** along the way
# (cells marked *Exercise*, checked in place by `await check(...)`, as above); the **katas** are
# broken Durable Objects with failing tests, each one a mistake from real code reviews, that you
# fix. Each chapter ends with the katas that practise it.
#
# | chapter | what it shows |
# | --- | --- |
# | [1. Lifecycle](01-lifecycle.ipynb) | constructor, eviction, hibernation, resets, `abort`: what survives |
# | [2. Storage](02-storage.ipynb) | the KV API, copies, limits, transactions, write coalescing, SQL, persistence |
# | [3. Concurrency](03-concurrency.ipynb) | input and output gates, the race across `fetch`, `blockConcurrencyWhile` |
# | [4. IDs and topology](04-ids-and-topology.ipynb) | named, hex and unique IDs; one object per what; sharding; RPC and errors |
# | [5. Alarms](05-alarms.ipynb) | one alarm per object, retries and back-off, idempotency, work queues |
# | [6. WebSockets](06-websockets.ipynb) | the standard API vs the Hibernation API, broadcast, tags, attachments |
# | [7. Patterns and review](07-patterns-and-review.ipynb) | rate limiter, sessions, webhook queue, sharded counter, metrics, the review checklist |
#
# Katas live in `katas/` (one folder per kata, with a README). Run them with the `dojo` command
# in a terminal (`dojo` watches your edits and re-runs the tests; `dojo hint NAME` gives the next
# hint; `dojo check --all` checks every kata against your files). The first one is
# [01-counter-forgets](../katas/01-counter-forgets/README.md): a counter kept in a field. The
# choice between a Durable Object and KV is
# [15-do-as-kv](../katas/15-do-as-kv/README.md).

# %% [markdown]
# ## Self-check
#
# 1. Two Workers in different countries call `env.COUNTER.getByName("alice").increment()` at the
#    same moment. How many instances of the object exist, and can the two calls lose an update?
# 2. Why did `alice` keep counting after `rt.evict(alice)`? What would a count kept in
#    `self.count` have done?
# 3. A product page is read a million times a day and edited twice a week. DO, KV or a plain
#    Worker? And a "seats left" number for a concert?
#
# <details><summary>Answers</summary>
#
# 1. One instance, and no: every call reaches that single instance, which handles events one at
#    a time (chapter 3 shows exactly where that guarantee ends).
# 2. The count is in storage, which eviction keeps. A field is memory: it would start from zero
#    again (chapter 1 shows it).
# 3. The product page belongs in KV (read-heavy, staleness is fine). The seat count needs one
#    place that decides: a Durable Object per concert.
# </details>
