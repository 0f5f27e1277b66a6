"""Checks of chapter 1 (lifecycle): load once per instance under blockConcurrencyWhile; memory is
a cache of storage, rebuilt when a new instance starts."""

from __future__ import annotations

import asyncio

from .framework import NotYet, attempt, checks, excerpt, module_state_unchanged, require_class, world

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
            first = await attempt("three price() calls arriving together", asyncio.gather(
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
        second = await attempt("two price() calls after an eviction", asyncio.gather(
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
    return ("The scores live in storage and the cache is rebuilt for every new instance: evictions and "
            "hibernation lose nothing, and no best score is overwritten by a worse one.")
