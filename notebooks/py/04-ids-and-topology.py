# %% [markdown]
# # 4. IDs and topology: which object, and how many
#
# Every design with Durable Objects starts with two questions: **one object per what?** (per
# user, per room, per document, one for everything?) and **how do requests find it?** (by name,
# by an ID handed out earlier). This chapter covers the three kinds of ID, the shapes that follow
# from them, the limits that push you to shard, and what crosses a stub: calls, copies, errors.

# %%
import asyncio
import random

from durable_dojo import Runtime
from durable_dojo.widgets import Inspector
from pyodide.ffi import JsException
from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    async def increment(self):
        n = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", n)
        return n

    async def read(self):
        return await self.ctx.storage.get("n") or 0


class Room(Counter):
    pass


rt = Runtime(durable_objects={"COUNTER": Counter, "ROOM": Room})


def short(id_):
    return id_.toString()[:16] + "…"


# %% [markdown]
# ## Named IDs: `idFromName`
#
# `idFromName(name)` derives the ID from the name (an HMAC with the namespace's key), so the same
# name always gives the same 64-hex-digit ID in that namespace: any Worker anywhere can find
# "the object for alice" without a lookup table. `getByName(name)` is `get(idFromName(name))`.
# The same name in another namespace is another object.

# %% [markdown]
# <!-- diagram: ids -->
# <figure class="dojo-diagram" id="diagram-ids"><img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA4MjAgMzAwIiB3aWR0aD0iODIwIiBoZWlnaHQ9IjMwMCIgcm9sZT0iaW1nIj48dGl0bGU+QSBuYW1lIGJlY29tZXMgb25lIElEIGFuZCBvbmUgaW5zdGFuY2U8L3RpdGxlPjxkZWZzPjxtYXJrZXIgaWQ9ImFycm93IiB2aWV3Qm94PSIwIDAgMTAgMTAiIHJlZlg9IjkiIHJlZlk9IjUiIG1hcmtlcldpZHRoPSI3IiBtYXJrZXJIZWlnaHQ9IjciIG9yaWVudD0iYXV0by1zdGFydC1yZXZlcnNlIj48cGF0aCBkPSJNMCwwIEwxMCw1IEwwLDEwIHoiIGZpbGw9IiMxZjI5MzciLz48L21hcmtlcj48L2RlZnM+PHJlY3Qgd2lkdGg9IjgyMCIgaGVpZ2h0PSIzMDAiIGZpbGw9IiNmZmZmZmYiLz48cmVjdCB4PSIyMCIgeT0iMzAiIHdpZHRoPSIxOTAiIGhlaWdodD0iNjAiIHJ4PSI4IiBmaWxsPSIjZmZmZmZmIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS4zIi8+PHRleHQgeD0iMTE1LjAiIHk9IjU2LjUiIGZvbnQtc2l6ZT0iMTIiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+V29ya2VyIGluIExvbmRvbjwvdGV4dD48dGV4dCB4PSIxMTUuMCIgeT0iNzEuNSIgZm9udC1zaXplPSIxMiIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5pZEZyb21OYW1lKCZxdW90O3Jvb20tNDImcXVvdDspPC90ZXh0PjxyZWN0IHg9IjIwIiB5PSIyMDAiIHdpZHRoPSIxOTAiIGhlaWdodD0iNjAiIHJ4PSI4IiBmaWxsPSIjZmZmZmZmIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS4zIi8+PHRleHQgeD0iMTE1LjAiIHk9IjIyNi41IiBmb250LXNpemU9IjEyIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPldvcmtlciBpbiBUb2t5bzwvdGV4dD48dGV4dCB4PSIxMTUuMCIgeT0iMjQxLjUiIGZvbnQtc2l6ZT0iMTIiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+aWRGcm9tTmFtZSgmcXVvdDtyb29tLTQyJnF1b3Q7KTwvdGV4dD48cmVjdCB4PSIzMDAiIHk9IjExNSIgd2lkdGg9IjIwMCIgaGVpZ2h0PSI2MCIgcng9IjgiIGZpbGw9IiNmZmUyYjgiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjMiLz48dGV4dCB4PSI0MDAuMCIgeT0iMTQxLjUiIGZvbnQtc2l6ZT0iMTIiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiMxZjI5MzciIGZvbnQtd2VpZ2h0PSJib2xkIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+b25lIElEPC90ZXh0Pjx0ZXh0IHg9IjQwMC4wIiB5PSIxNTYuNSIgZm9udC1zaXplPSIxMiIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj4xYTJi4oCmKDY0IGhleCBkaWdpdHMpPC90ZXh0PjxyZWN0IHg9IjYwMCIgeT0iMTA1IiB3aWR0aD0iMjAwIiBoZWlnaHQ9IjgwIiByeD0iOCIgZmlsbD0iI2RiZTlmZiIgc3Ryb2tlPSIjMWYyOTM3IiBzdHJva2Utd2lkdGg9IjEuMyIvPjx0ZXh0IHg9IjcwMC4wIiB5PSIxMzQuMCIgZm9udC1zaXplPSIxMiIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj5vbmUgaW5zdGFuY2U8L3RleHQ+PHRleHQgeD0iNzAwLjAiIHk9IjE0OS4wIiBmb250LXNpemU9IjEyIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0iYm9sZCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPmluIG9uZSBwbGFjZSBpbiB0aGUgd29ybGQsPC90ZXh0Pjx0ZXh0IHg9IjcwMC4wIiB5PSIxNjQuMCIgZm9udC1zaXplPSIxMiIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9ImJvbGQiIHN0eWxlPSJmb250LWZhbWlseTpzeXN0ZW0tdWksLWFwcGxlLXN5c3RlbSwnU2Vnb2UgVUknLFJvYm90byxzYW5zLXNlcmlmIj53aXRoIGl0cyBzdG9yYWdlPC90ZXh0PjxsaW5lIHgxPSIyMTAiIHkxPSI2MCIgeDI9IjMwMCIgeTI9IjEzNSIgc3Ryb2tlPSIjMWYyOTM3IiBzdHJva2Utd2lkdGg9IjEuNCIgbWFya2VyLWVuZD0idXJsKCNhcnJvdykiLz48dGV4dCB4PSIyNTUuMCIgeT0iODUuNSIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzFmMjkzNyIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPnNhbWUgbmFtZSwgc2FtZSBJRDwvdGV4dD48bGluZSB4MT0iMjEwIiB5MT0iMjMwIiB4Mj0iMzAwIiB5Mj0iMTYwIiBzdHJva2U9IiMxZjI5MzciIHN0cm9rZS13aWR0aD0iMS40IiBtYXJrZXItZW5kPSJ1cmwoI2Fycm93KSIvPjxsaW5lIHgxPSI1MDAiIHkxPSIxNDUiIHgyPSI2MDAiIHkyPSIxNDUiIHN0cm9rZT0iIzFmMjkzNyIgc3Ryb2tlLXdpZHRoPSIxLjQiIG1hcmtlci1lbmQ9InVybCgjYXJyb3cpIi8+PHRleHQgeD0iNTUwLjAiIHk9IjEzOS4wIiBmb250LXNpemU9IjExIiB0ZXh0LWFuY2hvcj0ibWlkZGxlIiBmaWxsPSIjMWYyOTM3IiBmb250LXdlaWdodD0ibm9ybWFsIiBzdHlsZT0iZm9udC1mYW1pbHk6c3lzdGVtLXVpLC1hcHBsZS1zeXN0ZW0sJ1NlZ29lIFVJJyxSb2JvdG8sc2Fucy1zZXJpZiI+Z2V0KGlkKTwvdGV4dD48dGV4dCB4PSI0MTAiIHk9IjI4NSIgZm9udC1zaXplPSIxMSIgdGV4dC1hbmNob3I9Im1pZGRsZSIgZmlsbD0iIzZiNzI4MCIgZm9udC13ZWlnaHQ9Im5vcm1hbCIgc3R5bGU9ImZvbnQtZmFtaWx5OnN5c3RlbS11aSwtYXBwbGUtc3lzdGVtLCdTZWdvZSBVSScsUm9ib3RvLHNhbnMtc2VyaWYiPkV2ZXJ5IHJlcXVlc3QgZm9yIHRoZSBuYW1lLCBmcm9tIGFueXdoZXJlLCByZWFjaGVzIHRoZSBzYW1lIG9iamVjdDogaXQgcnVucyBvbmUgZXZlbnQgYXQgYSB0aW1lLjwvdGV4dD48L3N2Zz4K" alt="A name is hashed to one ID, the same from every Worker, and the ID to one instance in the world." style="max-width:100%;height:auto"><figcaption>A name is hashed to one ID, the same from every Worker, and the ID to one instance in the world.</figcaption></figure>

# %%
# NBVAL_CHECK_OUTPUT
a1, a2 = rt.env.COUNTER.idFromName("alice"), rt.env.COUNTER.idFromName("alice")
print("same name, same ID:      ", a1.equals(a2), short(a1), len(a1.toString()), "hex digits")
print("another name:            ", short(rt.env.COUNTER.idFromName("bob")))
print("same name, other class:  ", short(rt.env.ROOM.idFromName("alice")))
print("id.name:                 ", repr(a1.name))
await rt.env.COUNTER.get(a1).increment()
print("getByName reaches it too:", await rt.env.COUNTER.getByName("alice").read())

# %% [markdown]
# ## Unique IDs: `newUniqueId`
#
# `newUniqueId()` makes a random ID that never existed before: a brand-new object. It is for
# things that are *created* (a document, a game, a support ticket), whose ID you then store or
# hand out. Called on every request, it is a classic mistake: every request creates, and
# abandons, a new empty object.

# %%
# NBVAL_CHECK_OUTPUT
class Edge(WorkerEntrypoint):
    async def fetch(self, request):
        stub = self.env.COUNTER.get(self.env.COUNTER.newUniqueId())   # the mistake
        return Response(f"visits: {await stub.increment()}")


site = Runtime(durable_objects={"COUNTER": Counter}, worker=Edge)
for _ in range(3):
    print(await (await site.fetch("https://app.example.com/")).text())
print("objects created:", site.metrics("COUNTER")["objectsCreated"])

# %% [markdown]
# ## Hex IDs: `idFromString`
#
# `id.toString()` gives the 64 hex digits; `idFromString` turns them back into an ID. That is how
# a unique ID travels: in a URL, a cookie, a database row. The string is checked: it must be 64
# hex digits *and* carry this namespace's signature, so an ID from another class, or made up, is
# refused. The name is not part of the ID: `idFromString` gives it back without one.

# %%
# NBVAL_CHECK_OUTPUT
doc_id = rt.env.COUNTER.newUniqueId()
url = f"https://docs.example.com/d/{doc_id.toString()}"
await rt.env.COUNTER.get(doc_id).increment()

parsed = rt.env.COUNTER.idFromString(url.rsplit("/", 1)[1])
print("round trip:", parsed.equals(doc_id), "- count:", await rt.env.COUNTER.get(parsed).read())
print("a named ID back from its string has no name:",
      repr(rt.env.COUNTER.idFromString(rt.env.COUNTER.idFromName("alice").toString()).name))
for text in ["not-hex", rt.env.ROOM.idFromName("alice").toString()]:
    try:
        rt.env.COUNTER.idFromString(text)
    except JsException as error:                     # JavaScript's TypeError, as Python sees it
        print(f"idFromString({text[:10]}…): {error.name}: {error.message}")

# %% [markdown]
# ### Exercise: one new object per document, found again from its ID
#
# A document editor makes a new document with `POST /docs` and hands its ID out as text; later
# requests bring the text back in the URL (`POST /docs/<id>` appends, `GET /docs/<id>` reads). The
# Worker below makes the ID right, but finds the document again with `getByName(text)`, which
# treats the text as a *name* and so reaches another object. Turn the text back into the same ID,
# and answer 404 for text that is not the ID of a document (made up, or from another namespace).
# The check brings its own `Document` class: `append(text)` returns the whole text, `text()` reads it.

# %% tags=["exercise"]
# Exercise: a new document gets a new object, found again from its ID.
from workers import Response, WorkerEntrypoint


class Docs(WorkerEntrypoint):
    """POST /docs makes a document (201, its ID); POST /docs/<id> appends the body and answers the
    whole text; GET /docs/<id> reads it; an <id> that is not a document's is a 404."""

    async def fetch(self, request):
        parts = request.url.split("/", 3)[3].split("/")      # ["docs"] or ["docs", "<id>"]
        if parts == ["docs"] and request.method == "POST":
            doc_id = self.env.DOC.newUniqueId()
            return Response(doc_id.toString(), status=201)
        if len(parts) == 2 and parts[0] == "docs":
            doc = self.env.DOC.getByName(parts[1])
            if request.method == "POST":
                return Response(await doc.append(await request.text()))
            return Response(await doc.text())
        return Response("not found", status=404)

# %%
from durable_dojo.workbook import check

await check("04-document-ids", Docs)

# %% [markdown]
# ## One object per what?
#
# | shape | ID | good for | watch out |
# | --- | --- | --- | --- |
# | per user | `getByName(f"user:{user_id}")` | profile, cart, per-user limits | a very active user is one object's worth of throughput |
# | per room / per resource | `getByName(f"room:{room}")`, or a stored unique ID | chat rooms, documents, games, auctions | everything in the room goes through one object: keep rooms a human size |
# | singleton | `getByName("global")` | small global coordination, a leader | every request in the world goes through one object |
# | sharded | `getByName(f"counter:{random.randrange(N)}")` | high-volume counting, spreading load | reads must visit all N shards |
# | per key, as a cache | one object per cache key | almost never | Workers KV does this cheaper (chapter 7) |
#
# An object runs one thing at a time, so it has a ceiling: about 1,000 simple requests per second
# (fewer when each one does more work). Past that, requests queue, and when the queue is too long
# the platform refuses new ones with `Durable Object is overloaded. Too many requests queued.`
# That soft limit is why a singleton is a design decision, not a default.
#
# Below, each hit costs the object 2 ms of work, so one object can serve at most 500 hits per
# second. (The emulator's clock does not move while Python computes, so the work is stood for
# by holding the object's input gate for 2 ms of virtual time: nothing else runs in the object
# meanwhile, which is what busy code does.) Hits arrive at 2,000 a second, sent first to a
# singleton. How many requests may wait for one object the platform does not publish; the
# emulator's model lets 1,000 wait by default, and this world lets 200 wait, so that the queue
# fills in a fraction of a second and the cell runs quickly.

# %%
# NBVAL_CHECK_OUTPUT
class BusyCounter(Counter):
    async def increment(self):
        await self.ctx.blockConcurrencyWhile(lambda: asyncio.sleep(0.002))   # 2 ms of work
        return await super().increment()


async def burst(shards, hits=600):
    """Send `hits` increments at 2,000 a second to `shards` objects; what failed, what counted."""
    world = Runtime(durable_objects={"COUNTER": BusyCounter}, max_queued_requests=200)
    pick = random.Random(7)
    calls = []
    for _ in range(hits // 10):                       # 10 hits every 5 ms
        calls += [world.env.COUNTER.getByName(f"hits:{pick.randrange(shards)}").increment() for _ in range(10)]
        await world.advance(0.005)
    results = await asyncio.gather(*calls, return_exceptions=True)
    failed = [r for r in results if isinstance(r, Exception)]
    counted = sum([await world.env.COUNTER.getByName(f"hits:{i}").read() for i in range(shards)])
    return failed, counted


failed, counted = await burst(shards=1)
print(f"singleton: {len(failed)} of 600 hits failed, {counted} counted")
error = failed[0]
print(f"the first failure: JsException {error.name}: {error.message}")
print(f"  overloaded={error.overloaded}  retryable={error.retryable}  remote={error.remote}")

# %% [markdown]
# The queue grew by 1,500 hits a second (2,000 in, 500 served). Once 200 were waiting, after
# about 0.13 s, the object refused every hit it had no room for, and no refused hit was counted.
# (With the default queue of 1,000 the same happens after two thirds of a second.) The same
# traffic over 8 shards gives each object about 250 hits a second, half of what it can serve:

# %%
# NBVAL_CHECK_OUTPUT
failed, counted = await burst(shards=8)
print(f"8 shards: {len(failed)} of 600 hits failed, {counted} counted")

# %% [markdown]
# Nothing failed, and the total is the sum of the shards (a read now costs eight calls, which is
# the trade). Retrying an `overloaded` error only adds to the queue: the fix is fewer requests
# per object. Chapter 7 builds a complete sharded counter.

# %% [markdown]
# ### Exercise: shard the page views
#
# Every page view of a site goes to one counter object. The check sends 500 views at 2,000 a
# second; its counter objects cost 2 ms per `add()`, like the `BusyCounter` above, so one of them
# serves at most 500 a second. Spread the views over enough shards that none gets more than that,
# and make `GET /views` add all the shards up.

# %% tags=["exercise"]
# Exercise: spread the page views over shards, and add them up on read.
from workers import Response, WorkerEntrypoint


class PageViews(WorkerEntrypoint):
    """POST /view counts one view; GET /views answers the total number of views."""

    async def fetch(self, request):
        counter = self.env.COUNTER.getByName("views")          # every view of the site: one object
        if request.method == "POST" and request.url.endswith("/view"):
            await counter.add(1)
            return Response("counted")
        if request.url.endswith("/views"):
            return Response(str(await counter.count()))
        return Response("not found", status=404)

# %%
await check("04-sharded-views", PageViews)

# %% [markdown]
# ## Stubs and RPC
#
# A stub turns method calls into messages. The rules, as the platform applies them:
#
# * every method is callable, sync or async, and always returns something to `await`, even one
#   whose name starts with `_` (RPC has no private methods: keep what callers must not reach
#   out of the class); a name that is not callable on the object fails with
#   "Method <name> does not exist";
# * the handler names are not (`fetch` is HTTP; `alarm`, `webSocketMessage`... are for the
#   runtime: "'alarm' is a reserved method");
# * JavaScript has no keyword arguments: Pyodide passes them as **one trailing dict**, so
#   `stub.keep(value={"a": 1})` calls `keep({"value": {"a": 1}})`;
# * arguments travel as **structured-clone copies**, both ways: the object never shares a
#   Python object with you;
# * errors the platform raises come from JavaScript and arrive as `pyodide.ffi.JsException`
#   (with `.name` and `.message`); only what the Python SDK refuses itself (a tuple) is a
#   Python `TypeError`.

# %%
# NBVAL_CHECK_OUTPUT
class Profile(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.kept = None

    def keep(self, value):
        value["seen_by_object"] = True              # changes the object's copy only
        self.kept = value
        return value

    def _secret(self):
        return "private"

    async def fetch(self, request):
        return Response(f"{request.method} {request.url}")


world = Runtime(durable_objects={"PROFILE": Profile})
profile = world.env.PROFILE.getByName("ada")
mine = {"name": "Ada"}
theirs = await profile.keep(mine)
print("my dict after the call:  ", mine)
print("what came back:          ", theirs)
print("keyword arguments:       ", await profile.keep(value={"a": 1}))  # arrive as one trailing dict
print("_secret() is callable:   ", await profile._secret())
for attempt in [lambda: profile.alarm(), lambda: profile.keep((1, 2))]:
    try:
        await attempt()
    except TypeError as error:                       # the Python SDK refuses a tuple itself
        print(f"TypeError (the SDK, in Python): {error}")
    except JsException as error:                     # the platform's errors come from JavaScript
        print(f"JsException {error.name}: {error.message}")
response = await profile.fetch("http://profile/ada", method="PUT")
print("fetch is HTTP:           ", await response.text())

# %% [markdown]
# ## Errors across the stub
#
# An exception thrown in the object reaches the caller **as a copy**, marked `remote=True`, and
# it does **not** keep its Python class: Pyodide hands a Python exception to JavaScript as a
# `PythonError` whose message is the traceback, and that is what crosses the stub. The caller
# catches a `JsException` named `"PythonError"`; the message's last line says what was raised
# (`Overdrawn: balance 100 < 500`). So `except Overdrawn:` around a call never catches anything,
# here as on Cloudflare: when the caller must act on an outcome, **return it as a value**.
# Three more flags tell you what to do next:
#
# | flag | meaning | what to do |
# | --- | --- | --- |
# | `durableObjectReset` | the object was reset (chapter 1) | the stub is broken: retry with a **new stub** if the call is safe to repeat |
# | `retryable` | the connection was lost (the machine died) | retry with a new stub, with back-off, if the call is idempotent |
# | `overloaded` | the object has too much to do | do **not** retry: that makes it worse; shed load or shard |

# %%
# NBVAL_CHECK_OUTPUT
class Overdrawn(Exception):
    pass


class Wallet(DurableObject):
    async def pay(self, amount):
        balance = await self.ctx.storage.get("balance") or 100
        if amount > balance:
            raise Overdrawn(f"balance {balance} < {amount}")
        if amount < 0:
            raise ValueError("amount must be positive")
        await self.ctx.storage.put("balance", balance - amount)
        return balance - amount

    async def slow_pay(self, amount):
        await asyncio.sleep(1)                      # the machine dies meanwhile
        return await self.pay(amount)


bank = Runtime(durable_objects={"WALLET": Wallet})
wallet = bank.env.WALLET.getByName("ada")
for amount in [500, -1]:
    try:
        await wallet.pay(amount)
    except JsException as error:                     # not Overdrawn, not ValueError
        raised = error.message.splitlines()[-1]      # the traceback's last line
        print(f"{error.name} ({raised})  remote={error.remote} retryable={error.retryable}")

call = wallet.slow_pay(10)
bank.faults.crash_after(wallet, 0.5)
try:
    await call
except Exception as error:
    print(f"{type(error).__name__}: {error}  retryable={error.retryable}")
try:
    await wallet.pay(10)
except Exception as error:
    print("the same stub again:", error)


async def call_with_retry(namespace, name, method, *args, attempts=3):
    """Retry idempotent calls on retryable errors, with a new stub each time."""
    for attempt in range(attempts):
        stub = namespace.getByName(name)
        try:
            return await getattr(stub, method)(*args)
        except Exception as error:
            if not getattr(error, "retryable", False) or getattr(error, "overloaded", False):
                raise
            await asyncio.sleep(0.1 * 2**attempt)    # back off (virtual time here)
    raise RuntimeError("gave up")


print("with a new stub:", await call_with_retry(bank.env.WALLET, "ada", "pay", 10))

# %% [markdown]
# Retrying `pay` blindly is only safe because the crash happened before it wrote anything. A
# call that may have taken effect needs an idempotency key (chapter 5 and 7 show the pattern).

# %% [markdown]
# ## Try it
#
# Every object made in this chapter's first world, named and unique; unique ones are labelled
# by the first 12 hex digits of their ID.

# %%
Inspector(rt)

# %% [markdown]
# ## Katas
#
# * [02-cart-never-found](../katas/02-cart-never-found/README.md): `newUniqueId()` on every
#   request finds a new, empty object each time.
# * [14-global-rate-limiter](../katas/14-global-rate-limiter/README.md): one global object for
#   traffic that should be per user.
# * [16-hot-counter](../katas/16-hot-counter/README.md): one object for every page view; shard it.
#
# ## Self-check
#
# 1. A chat app stores each room's messages in the object `getByName(room_name)`. A user shares
#    the link `…/room/secret-plans`. Can someone who guesses the name read the room? What changes
#    with `newUniqueId()` and `idFromString`?
# 2. You count page views for a site with 5,000 views per second. One object? How many?
# 3. A call fails with `durableObjectReset=True`. Why does retrying on the same stub fail again?
#
# <details><summary>Answers</summary>
#
# 1. Named IDs are derivable: anyone who can call your Worker with that name reaches the object,
#    so your Worker must check access. A unique ID is unguessable (but still check access: an ID
#    is not a password).
# 2. Not one (about 1,000 req/s per object). Shard: at least 5-10 shards, more for headroom;
#    or count approximately in Workers KV / Analytics if exactness is not needed.
# 3. The platform breaks a stub after such an error; every later call on it fails at once. Make a
#    new stub with `getByName`/`get`.
# </details>
