"""Checks of chapter 0 (welcome): storage outlives the instance; a name reaches one object."""

from __future__ import annotations

from .framework import NotYet, attempt, checks, excerpt, module_state_unchanged, require_class, world

URL = "https://app.example.com"


@checks("00-guestbook")
async def guestbook(Guestbook) -> str:
    from workers import DurableObject

    require_class(Guestbook, "Guestbook", "sign", "names", base=DurableObject)
    with module_state_unchanged(Guestbook), world({"BOOK": Guestbook}) as rt:
        party = rt.env.BOOK.getByName("party")
        first = ["cy", "ada", "bob"]  # not in alphabetical order: the book keeps the order of signing
        counts = [await attempt(f"sign({who!r})", party.sign(who), Guestbook, rt) for who in first]
        if counts != [1, 2, 3]:
            raise NotYet(f"Three guests signed the book 'party': sign() returned {counts}, expected [1, 2, 3] "
                         "(the number of signatures so far).")
        again = rt.env.BOOK.getByName("party")  # another stub for the same name: the same object
        names = await attempt("names()", again.names(), Guestbook, rt)
        if list(names or []) != first:
            raise NotYet(f"cy, ada and bob signed 'party', in this order; names() through another stub for "
                         f"'party' returned {names!r}, expected {first!r} (the guests in the order they "
                         "signed). Every stub for one name reaches the same object.")
        other = await attempt("names()", rt.env.BOOK.getByName("wedding").names(), Guestbook, rt)
        if list(other or []):
            raise NotYet(f"Nobody signed the book 'wedding', but its names() returned {other!r}: each name is "
                         "its own object with its own storage, and the guests of 'party' belong to 'party' only.")
        await rt.evict(party)
        after = await attempt("names()", party.names(), Guestbook, rt)
        if list(after or []) != first:
            raise NotYet(
                f"The book had cy, ada and bob. The object was evicted (the platform drops idle objects from "
                f"memory whenever it likes) and names() now returns {after!r}. The next call ran the constructor "
                "on a new instance: only what was written to self.ctx.storage is still there.\nTrace:\n"
                + excerpt(rt, "constructor", "evict", "storage:", "rpc:start"))
        await rt.advance(150)  # idle: it hibernates after 10 s by itself
        later = ["dan", "eve", "fay", "gus", "hal", "ivy", "jo", "kim", "lee"]  # 12 guests in all: past 9
        counts = [await attempt(f"sign({who!r})", party.sign(who), Guestbook, rt) for who in later]
        names = await attempt("names()", party.names(), Guestbook, rt)
        if counts != list(range(4, 13)) or list(names or []) != first + later:
            shuffled = sorted(names or []) == sorted(first + later)
            raise NotYet(f"After 150 quiet seconds, 9 more guests signed ({', '.join(later)}): sign() returned "
                         f"{counts}, expected 4 to 12, and names() returned {names!r}, expected all 12 in the "
                         "order they signed." + (" Storage lists keys in the order of their text, where "
                                                 "'guest:10' comes before 'guest:2': a number in a key needs "
                                                 "zeros in front (chapter 2)." if shuffled else "")
                         + "\nTrace:\n" + excerpt(rt, "constructor", "hibernate", "evict", "storage:", "rpc:start"))
    return ("The guest list lives in the object's storage: it survived an eviction and an idle "
            "hibernation, and every stub for 'party' reached the same list.")


def _counter_class():
    from workers import DurableObject

    class Counter(DurableObject):
        async def increment(self):
            count = (await self.ctx.storage.get("count") or 0) + 1
            await self.ctx.storage.put("count", count)
            return count

    return Counter


@checks("00-route-by-name")
async def route_by_name(Edge) -> str:
    from workers import WorkerEntrypoint

    require_class(Edge, "Edge", "fetch", base=WorkerEntrypoint)
    Counter = _counter_class()
    with module_state_unchanged(Edge), world({"COUNTER": Counter}, worker=Edge) as rt:
        answers = []
        for path in ("/count/ada", "/count/ada", "/count/bob", "/count/ada"):
            response = await attempt(f"GET {path}", rt.fetch(URL + path), Edge, rt)
            answers.append((path, response.status, await response.text()))
        counts = [text for _, _, text in answers]
        if counts != ["1", "2", "1", "3"]:
            shown = "\n".join(f"  GET {path} -> {status} {text!r}" for path, status, text in answers)
            hint = ""
            if counts == ["1", "2", "3", "4"]:
                hint = ("\nada and bob share one count: every request went to the same object, whatever the "
                        "name in the URL. Each name needs its own object: getByName(name).")
            elif counts == ["1", "1", "1", "1"]:
                hint = ("\nEvery request got a brand-new object, so every count starts at 1: a new unique id per "
                        "request is a new object each time. Derive the object from the name in the URL.")
            raise NotYet("ada visited three times and bob once, in this order:\n" + shown +
                         "\nexpected the counts 1, 2, 1, 3 (each name counts its own visits)." + hint +
                         "\nTrace (which object each request reached):\n" + excerpt(rt, "rpc:start", "constructor"))
        direct = await attempt("increment() on the object named 'ada'",
                               rt.env.COUNTER.getByName("ada").increment(), Edge, rt)
        if direct != 4:
            raise NotYet(f"After three visits to /count/ada, the Durable Object named 'ada' "
                         f"(env.COUNTER.getByName('ada')) counted {direct - 1} of them. The count must live in "
                         "that object, the one every Worker in the world reaches with the name 'ada'.\nTrace:\n"
                         + excerpt(rt, "rpc:start", "constructor"))
        before = len(rt.trace.select("constructor"))
        missing = await attempt("GET /nothing", rt.fetch(URL + "/nothing"), Edge, rt)
        if missing.status != 404:
            raise NotYet(f"GET /nothing answered {missing.status}: expected 404, as the exercise cell had it.")
        if len(rt.trace.select("constructor")) != before:
            raise NotYet("GET /nothing created a Durable Object: a request that needs no object should not "
                         "wake one.\nTrace:\n" + excerpt(rt, "rpc:start", "constructor", last=4))
    return ("Each name reaches its own object, the same one from any Worker, and requests that need "
            "no object never wake one.")
