"""Checks of chapter 1 (lifecycle): load once per instance under blockConcurrencyWhile; memory is
a cache of storage, rebuilt when a new instance starts."""

from __future__ import annotations

import asyncio

from .._core.explore import explore
from .framework import (NotYet, attempt, checks, describe_error, excerpt, make_world, module_state_unchanged,
                        require_class, world)

LOAD_TRACE = ("constructor", "rpc:start", "rpc:end", "fetch:", "gate:", "evict")


class RatesService:
    """The exchange-rate API: answers after 50 ms, counts its calls; the rate can change."""

    def __init__(self, rate: float):
        self.rate = rate
        self.calls = 0

    async def __call__(self, request):
        from workers import Response

        self.calls += 1
        await asyncio.sleep(0.05)
        return Response.from_json({"EUR": self.rate})


@checks("01-load-once")
async def load_once(PriceList) -> str:
    from workers import DurableObject

    require_class(PriceList, "PriceList", "price", base=DurableObject)
    rates = RatesService(0.9)
    with module_state_unchanged(PriceList), world({"PRICES": PriceList}, outbound=rates) as rt:
        shop = rt.env.PRICES.getByName("shop")
        try:
            first = await attempt("Three price() calls arriving together", asyncio.gather(
                shop.price(10), shop.price(20), shop.price(30)), PriceList, rt)
        except NotYet as error:
            raise NotYet(f"{error}\nA request started while the rates were still loading: the input gate opens "
                         "while the object waits for the rates API. Hold every request back until the load "
                         "is done.") from None
        if list(first) != [9.0, 18.0, 27.0]:
            raise NotYet(f"With 1 USD = 0.9 EUR, price(10), price(20), price(30) arriving together returned "
                         f"{list(first)}; expected [9.0, 18.0, 27.0].\nTrace:\n" + excerpt(rt, *LOAD_TRACE))
        if rates.calls == 0:
            raise NotYet("The rates API (https://rates.example.com/) was never called: the rates change, so "
                         "they must come from the API.")
        if rates.calls != 1:
            raise NotYet(f"Three requests reached one fresh instance and the rates API was called {rates.calls} "
                         "times: load the rates once per instance, not once per request (each call costs 50 ms, "
                         "and the API counts them).\nTrace:\n" + excerpt(rt, *LOAD_TRACE))
        await rt.evict(shop)
        rates.rate = 0.8  # the rates changed while the object was out of memory
        second = await attempt("Two price() calls after an eviction", asyncio.gather(
            shop.price(10), shop.price(100)), PriceList, rt)
        if list(second) != [8.0, 80.0] or rates.calls != 2:
            raise NotYet(
                f"The object was evicted and the rate is now 0.8. The next two requests, arriving together, "
                f"got {list(second)} (expected [8.0, 80.0]), and the API has been called {rates.calls} times in all "
                "(expected 2: once per instance). A new instance must load again, before any request uses "
                "what it loads.\nTrace:\n" + excerpt(rt, *LOAD_TRACE))
        third = await attempt("price(50)", shop.price(50), PriceList, rt)
        if third != 40.0 or rates.calls != 2:
            raise NotYet(f"One more request to the same instance: price(50) = {third!r} (expected 40.0), API calls "
                         f"{rates.calls} (expected still 2).")
    return ("The rates are loaded once per instance, and no request runs before they are there: "
            "concurrent first requests all waited, and a new instance loaded fresh rates.")


@checks("01-rebuild-the-cache")
async def rebuild_the_cache(Leaderboard) -> str:
    from workers import DurableObject

    require_class(Leaderboard, "Leaderboard", "record", "top", base=DurableObject)
    trace = ("constructor", "rpc:start", "storage:", "evict", "hibernate")
    with module_state_unchanged(Leaderboard), world({"BOARD": Leaderboard}) as rt:
        board = rt.env.BOARD.getByName("chess")
        for player, score in [("ada", 50), ("bob", 70), ("cy", 60), ("dan", 40), ("ada", 30)]:
            await attempt(f"record({player!r}, {score})", board.record(player, score), Leaderboard, rt)
        top = await attempt("top(4)", board.top(4), Leaderboard, rt)
        if list(top or []) != ["bob", "cy", "ada", "dan"]:
            raise NotYet(f"ada scored 50, bob 70, cy 60, dan 40, then ada 30 (her best stays 50): top(4) returned "
                         f"{top!r}, expected ['bob', 'cy', 'ada', 'dan'].\nTrace:\n" + excerpt(rt, *trace))
        other = await attempt("top(3) of another board", rt.env.BOARD.getByName("go").top(3), Leaderboard, rt)
        if list(other or []):
            raise NotYet(f"Nobody played on the board 'go', but its top(3) is {other!r}: each board is its own object.")
        await rt.evict(board)
        after = await attempt("top(4)", board.top(4), Leaderboard, rt)
        if list(after or []) != ["bob", "cy", "ada", "dan"]:
            raise NotYet(
                f"After an eviction top(4) returned {after!r}, expected ['bob', 'cy', 'ada', 'dan']. The new "
                "instance's memory started empty: a field is only a cache of what is stored, and a new instance "
                "has to fill it from storage before it answers.\nTrace:\n" + excerpt(rt, *trace))
        await rt.advance(150)  # idle: the object hibernates
        await attempt("record('ada', 45)", board.record("ada", 45), Leaderboard, rt)
        await attempt("record('eve', 48)", board.record("eve", 48), Leaderboard, rt)
        await rt.evict(board)
        final = await attempt("top(5)", board.top(5), Leaderboard, rt)
        if list(final or []) != ["bob", "cy", "ada", "eve", "dan"]:
            raise NotYet(
                f"After 150 idle seconds (the object hibernated) ada scored 45, below her best of 50, and eve 48. "
                f"top(5) is {final!r}, expected ['bob', 'cy', 'ada', 'eve', 'dan']: record() of the new instance "
                "compared ada's 45 with an empty cache and overwrote her stored best. Every decision a new "
                "instance makes must see what is stored.\nTrace:\n" + excerpt(rt, *trace))
        # A new instance whose first two requests arrive together, in every order they could run in.

        async def first_requests_together(world):
            board = world.env.BOARD.getByName("chess")
            for player, score in [("ada", 50), ("bob", 70), ("cy", 48)]:
                await board.record(player, score)
            await world.evict(board)
            await asyncio.gather(board.record("ada", 45), board.top(3))
            ranked = await board.top(3)
            assert list(ranked or []) == ["bob", "ada", "cy"], (
                f"top(3) is {ranked!r}, expected ['bob', 'ada', 'cy']")

        found = await explore(first_requests_together, make_runtime=make_world({"BOARD": Leaderboard}))
    if found.failures:
        failure = found.failures[0]
        error = failure.exception
        what = str(error) if isinstance(error, AssertionError) else describe_error("a call", error, Leaderboard)
        raise NotYet(
            "ada scored 50, bob 70 and cy 48; the object was evicted, and the new instance's first two requests, "
            "record('ada', 45) and top(3), arrived together. In one order the platform could run them in "
            f"(schedule {failure.schedule}, found among {found.schedules_run} tried): {what}. "
            "A request ran before the cache was filled from storage, and decided on an empty cache. Fill it "
            "before any request can run (blockConcurrencyWhile in the constructor), or in the request itself.\n"
            f"Trace of that order (replay it with Runtime(..., schedule={failure.schedule!r})):\n"
            + excerpt(failure.trace, "constructor", "rpc:start", "storage:", "evict", last=12))
    return ("The scores live in storage and every new instance answers from what is stored, even to requests "
            "that arrive together: evictions and hibernation lose nothing, and no best score is overwritten by "
            "a worse one.")


@checks("01-let-it-hibernate")
async def let_it_hibernate(Presence) -> str:
    from workers import DurableObject

    require_class(Presence, "Presence", "ping", "is_online", base=DurableObject)
    trace = ("constructor", "rpc:start", "storage:", "hibernate", "evict")
    with module_state_unchanged(Presence), world({"PRESENCE": Presence}) as rt:
        room = rt.env.PRESENCE.getByName("room")
        await attempt("ping('bob')", room.ping("bob"), Presence, rt)
        await rt.advance(120)
        billed = rt.metrics("PRESENCE")["durationSeconds"]
        if billed > 0:
            raise NotYet(
                f"bob pinged once and then nothing happened for 2 minutes, and the object was billed {billed:g} s "
                "of duration for it. Work left waiting in memory (a timer in a background task) keeps the object "
                "from hibernating, and every second it stays is billed. Store when each user was last seen and "
                "decide when asked: then nothing waits, and the idle object hibernates without costing "
                "anything.\nTrace:\n" + excerpt(rt, *trace, last=8))
        seen = []

        async def online(when: str) -> None:
            seen.append((when, await attempt("is_online('ada')", room.is_online("ada"), Presence, rt)))

        await attempt("ping('ada')", room.ping("ada"), Presence, rt)
        await rt.advance(20)
        await online("20 s after her ping")
        await attempt("ping('ada')", room.ping("ada"), Presence, rt)
        await rt.advance(15)
        await online("15 s after her second ping")
        await rt.evict(room)
        await online("just after an eviction, 15 s after her second ping")
        await rt.advance(14)
        await online("29 s after her second ping")
        await rt.advance(2)
        await online("31 s after her second ping")
        got = [bool(answer) for _, answer in seen]
        expected = [True, True, True, True, False]
        if got != expected:
            shown = "\n".join(f"  {when}: is_online('ada') -> {answer!r} (expected {wanted})"
                              for (when, answer), wanted in zip(seen, expected))
            if not got[0]:
                why = ("She was offline 20 s after her ping, with no eviction: an idle object hibernates after "
                       "10 s, and its memory goes with it. What decides must be stored.")
            elif got[1] and not got[2]:
                why = "The eviction made her offline: what decides must be stored, a field is gone with the instance."
            elif not got[1]:
                why = ("She was offline 15 s after pinging: something from her first ping (a timer?) took her "
                       "offline although she pinged again.")
            elif got[4]:
                why = "She is still online 31 s after her last ping: online means pinged in the last 30 s."
            elif not got[3]:
                why = "She went offline before 30 s had passed since her last ping: online means pinged in the last 30 s."
            else:
                why = "Decide from the time of her last ping, stored."
            raise NotYet("A user is online for 30 s after their last ping. ada pinged, and again 20 s later:\n"
                         f"{shown}\n{why}\nTrace:\n" + excerpt(rt, *trace))
    return ("Online status is decided from what is stored, so it survives evictions and follows the "
            "latest ping, and an idle object hibernates at once: no duration is billed while nobody asks.")
