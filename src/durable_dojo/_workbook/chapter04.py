"""Checks of chapter 4 (IDs and topology): a unique ID found again from its string; a hot count
spread over shards."""

from __future__ import annotations

import asyncio
import math

from .framework import NotYet, attempt, checks, excerpt, module_state_unchanged, require_class, world

URL = "https://docs.example.com"


def _document_class():
    from workers import DurableObject

    class Document(DurableObject):
        """A document: append(text) adds to it and returns the whole text; text() reads it."""

        async def append(self, text):
            whole = (await self.ctx.storage.get("text") or "") + text
            await self.ctx.storage.put("text", whole)
            return whole

        async def text(self):
            return await self.ctx.storage.get("text") or ""

    class Spreadsheet(Document):
        """Another class, so another namespace: its IDs are not DOC's."""

    return Document, Spreadsheet


async def _call(rt, Docs, method: str, path: str, body: str | None = None):
    """One request to the learner's Worker: (status, body text)."""
    init = {"method": method} if body is None else {"method": method, "body": body}
    response = await attempt(f"{method} {path}", rt.fetch(URL + path, **init), Docs, rt)
    return response.status, await response.text()


@checks("04-document-ids")
async def document_ids(Docs) -> str:
    from workers import WorkerEntrypoint

    require_class(Docs, "Docs", "fetch", base=WorkerEntrypoint)
    Document, Spreadsheet = _document_class()
    with module_state_unchanged(Docs), world({"DOC": Document, "SHEET": Spreadsheet}, worker=Docs) as rt:
        made = []
        for _ in range(2):
            status, body = await _call(rt, Docs, "POST", "/docs")
            if status != 201:
                raise NotYet(f"POST /docs answered {status} {body!r}: expected 201 and the new document's ID.")
            made.append(body.strip())
        first, second = made
        for text in made:
            try:
                rt.env.DOC.idFromString(text)
            except Exception:  # noqa: BLE001 - the platform's TypeError: not an ID of this namespace
                raise NotYet(f"POST /docs answered {text!r}: that is not the ID of a DOC object (64 hex "
                             "digits, from env.DOC.newUniqueId().toString()).") from None
        if first == second:
            raise NotYet(f"Two POST /docs answered the same ID, {first[:12]}…: every new document needs a "
                         "new object, and newUniqueId() makes one that never existed before.")
        await _call(rt, Docs, "POST", f"/docs/{first}", "Hello")
        status, body = await _call(rt, Docs, "POST", f"/docs/{first}", ", world")
        stored = await rt.env.DOC.get(rt.env.DOC.idFromString(first)).text()
        if stored != "Hello, world":
            raise NotYet(
                f"POST /docs made the document {first[:12]}…; then 'Hello' and ', world' were appended with "
                f"POST /docs/{first[:12]}…. The object with that ID, env.DOC.get(env.DOC.idFromString(…)), "
                f"holds {stored!r}: your Worker wrote to another object. getByName(text) treats the text as "
                "a name and derives a different ID from it; a unique ID comes back with "
                "idFromString(text).\nTrace (which objects the requests reached):\n"
                + excerpt(rt, "constructor", "rpc:start"))
        if (status, body) != (200, "Hello, world"):
            raise NotYet(f"POST /docs/<id> answered {status} {body!r}: expected 200 and the whole text, "
                         "'Hello, world'.")
        status, body = await _call(rt, Docs, "GET", f"/docs/{first}")
        other_status, other_body = await _call(rt, Docs, "GET", f"/docs/{second}")
        if (status, body) != (200, "Hello, world") or (other_status, other_body) != (200, ""):
            raise NotYet(f"GET /docs/<first> answered {status} {body!r} and GET /docs/<second> {other_status} "
                         f"{other_body!r}: expected 'Hello, world' and '' (each document is its own object).\n"
                         "Trace:\n" + excerpt(rt, "constructor", "rpc:start"))
        before = len(rt.trace.select("constructor"))
        for bad in ("not-an-id", "0" * 64, rt.env.SHEET.newUniqueId().toString()):
            label = bad if len(bad) < 20 else bad[:12] + "…"
            try:
                status, body = await _call(rt, Docs, "GET", f"/docs/{bad}")
            except NotYet as error:
                failure, _, trace = str(error).partition("\nTrace:\n")
                raise NotYet(f"GET /docs/{label} must answer 404, but the request failed: {failure}\n"
                             "idFromString() throws JavaScript's TypeError for text that is not an ID of this "
                             "namespace, and Python sees it as pyodide.ffi.JsException (not Python's TypeError): "
                             "catch that and answer 404." + (f"\nTrace:\n{trace}" if trace else "")) from None
            if status != 404:
                raise NotYet(f"GET /docs/{label} answered {status} {body!r}: expected 404. "
                             + ("That is an ID of another namespace: idFromString() refuses it, and so should you."
                                if label.endswith("…") and not label.startswith("0") else
                                "It is not the ID of any document."))
        if len(rt.trace.select("constructor")) != before:
            raise NotYet("Requests for IDs that are not documents woke an object: refuse them before getting a "
                         "stub.\nTrace:\n" + excerpt(rt, "constructor", "rpc:start", last=4))
    return ("POST /docs makes a new object with newUniqueId(), its ID travels as text and comes back with "
            "idFromString(), and text that is not an ID of this namespace is a 404.")


# ----- 04-sharded-views -----

WORK_S = 0.002  # each add() costs its object 2 ms: one object serves at most 500 a second
HITS, RATE = 500, 2000  # views sent, per second
CAPACITY = 1 / WORK_S


def _busy_counter_class():
    from workers import DurableObject

    class ViewCounter(DurableObject):
        """A counter that costs 2 ms per add(): nothing else runs in the object meanwhile."""

        async def add(self, n):
            await self.ctx.blockConcurrencyWhile(lambda: asyncio.sleep(WORK_S))
            count = (await self.ctx.storage.get("count") or 0) + n
            await self.ctx.storage.put("count", count)
            return count

        async def count(self):
            return await self.ctx.storage.get("count") or 0

    return ViewCounter


@checks("04-sharded-views")
async def sharded_views(PageViews) -> str:
    from workers import WorkerEntrypoint

    require_class(PageViews, "PageViews", "fetch", base=WorkerEntrypoint)
    with world({"COUNTER": _busy_counter_class()}, worker=PageViews) as rt:
        views, per_step = [], 10
        for _ in range(HITS // per_step):  # 10 views every 5 ms: 2,000 a second
            views += [rt.fetch(URL + "/view", method="POST") for _ in range(per_step)]
            await rt.advance(per_step / RATE)
        burst_s = HITS / RATE
        answers = await asyncio.gather(*views, return_exceptions=True)
        failed = [a for a in answers if isinstance(a, BaseException)]
        served: dict[str, int] = {}
        for event in rt.trace.select("rpc:start"):
            if event.binding == "COUNTER" and "add" in str(event.detail):
                served[event.object] = served.get(event.object, 0) + 1
        if failed:
            error = failed[0]
            if getattr(error, "overloaded", False):
                raise NotYet(f"{len(failed)} of {HITS} views failed with 'Durable Object is overloaded': too many "
                             "requests waited for one counter object. Spread the views over more objects.")
            await attempt("POST /view", _raise(error), PageViews, rt)
        if not served:
            raise NotYet(f"{HITS} POST /view reached no counter object: each view must call add(1) on a counter "
                         "of env.COUNTER.")
        busiest, hits = max(served.items(), key=lambda kv: kv[1])
        rate = hits / burst_s
        # Views spread at random land unevenly: a few standard deviations above the mean is chance, not
        # design. The design is wrong when the mean share reaches what one object can serve, or when one
        # object gets far more than chance would give it.
        mean = HITS / len(served)
        chance = max(CAPACITY * burst_s, mean + 4 * math.sqrt(mean))
        if RATE / len(served) >= CAPACITY or hits > chance:
            answered = max(e.time for e in rt.trace.select("rpc:end") if e.object == busiest) / 1000
            raise NotYet(
                f"{HITS} views arrived in {burst_s:g} s ({RATE:,} a second) and went to {len(served)} counter "
                f"object{'s' if len(served) != 1 else ''}. {busiest!r} received {hits} of them: {rate:,.0f} a "
                f"second, but at 2 ms per add() one object serves at most {CAPACITY:,.0f} a second. Its queue only "
                f"grew: its last add() was done {answered:.2f} s after the first view, and on the platform a queue "
                "that grows ends in 'Durable Object is overloaded'. Spread the views evenly over enough shards "
                f"that each gets well under {CAPACITY:,.0f} a second.\nTrace (the end of the busiest object's "
                "queue):\n" + excerpt(rt, "rpc:start", last=4))
        status, body = await _call(rt, PageViews, "GET", "/views")
        if status != 200 or body.strip() != str(HITS):
            counted = sum(served.values())
            raise NotYet(f"{HITS} views were counted by {len(served)} counter objects ({counted} add() calls), but "
                         f"GET /views answered {status} {body!r}, expected {HITS!r}. The total is the sum of every "
                         "shard: read each one (the same names the views went to) and add them up.")
        created_before = rt.metrics("COUNTER")["objectsCreated"]
        await _call(rt, PageViews, "GET", "/views")
        if rt.metrics("COUNTER")["objectsCreated"] > created_before:
            raise NotYet("GET /views created new counter objects: read the shards the views went to, by their names.")
    return (f"{HITS} views at {RATE:,} a second were spread over {len(served)} objects, the busiest at "
            f"{rate:,.0f} a second (under the {CAPACITY:,.0f} one object can serve), and GET /views counted every one.")


async def _raise(error):
    raise error
