"""Checks of chapter 2 (storage): values are copies taken when `put` is called; the writes of one
turn commit together, and an outside await between related writes splits them."""

from __future__ import annotations

import asyncio

from .framework import NotYet, attempt, checks, excerpt, module_state_unchanged, require_class, world


@checks("02-put-it-back")
async def put_it_back(Cart) -> str:
    from workers import DurableObject

    require_class(Cart, "Cart", "add", "items", base=DurableObject)
    trace = ("constructor", "rpc:start", "storage:", "evict")
    with module_state_unchanged(Cart), world({"CART": Cart}) as rt:
        cart = rt.env.CART.getByName("ada")
        counts = [await attempt(f"add({item!r})", cart.add(item), Cart, rt) for item in ("apple", "pear", "apple")]
        items = await attempt("items()", cart.items(), Cart, rt)
        if counts != [1, 2, 3] or list(items or []) != ["apple", "pear", "apple"]:
            raise NotYet(
                f"ada added apple, pear, apple: add() returned {counts} (expected [1, 2, 3]) and items() "
                f"{items!r} (expected ['apple', 'pear', 'apple']). What get() gives you is a copy, and put() "
                "stores a copy of the value as it is when put() is called: a change made after the put(), or "
                "to a value read and never put back, is not stored.\nTrace:\n" + excerpt(rt, *trace))
        together = await attempt("Five add() calls arriving together",
                                 asyncio.gather(*(cart.add(f"item-{n}") for n in range(5))), Cart, rt)
        if sorted(together) != [4, 5, 6, 7, 8]:
            raise NotYet(f"Five items added at the same moment got the counts {sorted(together)}, expected 4 to 8: "
                         "an add() was lost.\nTrace:\n" + excerpt(rt, *trace))
        await rt.evict(cart)
        count = await attempt("add('plum')", cart.add("plum"), Cart, rt)
        items = list(await attempt("items()", cart.items(), Cart, rt) or [])
        if count != 9 or items[:3] != ["apple", "pear", "apple"] or items[-1:] != ["plum"] or len(items) != 9:
            raise NotYet(f"After an eviction, add('plum') returned {count!r} (expected 9) and items() {items!r}: "
                         "the cart must be in storage, whole.\nTrace:\n" + excerpt(rt, *trace))
        other = await attempt("items() of bob's cart", rt.env.CART.getByName("bob").items(), Cart, rt)
        if list(other or []):
            raise NotYet(f"bob added nothing, but his cart holds {other!r}: each cart is its own object.")
    return "The cart goes back into storage whole, with every item, and survives an eviction."


class AuditLog:
    """The auditors' API: records each transfer it is told about; can crash the object while it
    waits for the answer (a machine failure in the middle of a request)."""

    def __init__(self):
        self.entries: list[str] = []
        self.crash = None  # a function that crashes the object, armed for the next call

    async def __call__(self, request):
        from workers import Response

        body = await request.text()  # a report may be in the URL or in a POST body
        self.entries.append(request.url + (f" {body}" if body else ""))
        if self.crash is not None:
            crash, self.crash = self.crash, None
            crash()
        return Response("recorded")


@checks("02-all-or-nothing")
async def all_or_nothing(Bank) -> str:
    from workers import DurableObject

    require_class(Bank, "Bank", "deposit", "transfer", "balance", base=DurableObject)
    audit = AuditLog()
    trace = ("constructor", "rpc:", "storage:", "commit", "fetch:", "crash")
    with module_state_unchanged(Bank), world({"BANK": Bank}, outbound=audit) as rt:
        bank = rt.env.BANK.getByName("bank")
        await attempt("deposit('alice', 100)", bank.deposit("alice", 100), Bank, rt)
        await attempt("transfer('alice', 'bob', 30)", bank.transfer("alice", "bob", 30), Bank, rt)
        balances = [await attempt(f"balance({who!r})", bank.balance(who), Bank, rt) for who in ("alice", "bob")]
        if balances != [70, 30]:
            raise NotYet(f"alice had 100 and sent 30 to bob: the balances are {balances}, expected [70, 30].\n"
                         "Trace:\n" + excerpt(rt, *trace))
        if len(audit.entries) != 1 or "30" not in audit.entries[0]:
            raise NotYet(f"Every transfer must be reported to the auditors (https://audit.example.com/...), with "
                         f"its amount (30) in the URL or the body; they received {audit.entries}.")
        # Now the machine fails while the object waits for the auditors' answer.
        audit.crash = lambda: rt.faults.crash(bank)
        try:
            await bank.transfer("alice", "bob", 25)
        except Exception:  # noqa: BLE001 - the caller is told the transfer failed: fine
            pass
        crashed = excerpt(rt, *trace)  # the transfer and the crash, before the balances are read
        fresh = rt.env.BANK.getByName("bank")
        after = {who: await attempt(f"balance({who!r})", fresh.balance(who), Bank, rt) for who in ("alice", "bob")}
        total = sum(v or 0 for v in after.values())
        if total != 100:
            raise NotYet(
                f"alice sent bob 25 more, and the object crashed while it waited for the auditors' answer (a machine "
                f"failure: memory and every write not yet stored are lost). Now alice has {after['alice']} and bob "
                f"{after['bob']}: {total} in all, not 100. One of the two writes was stored before the outgoing "
                "fetch and the other was to come after it: an outside await ends the batch, so the writes on "
                "either side of it commit separately. Make both writes with no outside await between them.\n"
                "Trace:\n" + crashed)
        if len(audit.entries) != 2:
            raise NotYet(f"The second transfer was not reported to the auditors: they received {audit.entries}.")
        # Two transfers at once: each waits for the auditors while the other runs.
        a, b = after["alice"] or 0, after["bob"] or 0
        await attempt("transfer('alice', 'bob', 10) and transfer('bob', 'alice', 5) at once", asyncio.gather(
            fresh.transfer("alice", "bob", 10), fresh.transfer("bob", "alice", 5)), Bank, rt)
        balances = [await attempt(f"balance({who!r})", fresh.balance(who), Bank, rt) for who in ("alice", "bob")]
        if balances != [a - 5, b + 5]:
            raise NotYet(
                f"alice had {a} and bob {b}; then alice sent bob 10 while bob sent alice 5, at the same moment. The "
                f"balances are {balances}, expected {[a - 5, b + 5]}. While one transfer awaits something outside "
                "the object (the auditors), the other one runs: balances read before that await are out of date "
                "after it. Read and write with no outside await between them.\nTrace:\n" + excerpt(rt, *trace))
        if len(audit.entries) != 4:
            raise NotYet(f"Not every transfer was reported to the auditors: they received {audit.entries}.")
    return ("Both writes of a transfer commit together or not at all: a crash in the middle of a "
            "transfer creates or loses no money, and every transfer is still reported.")


EVENTS = 150  # past 99, so that two digits of padding are not enough
GROWN = 1_050  # then small events up to here: past 999, so that three digits are not enough either
PAYLOAD = "x" * 20_000  # each event carries 20 KB (a webhook's body): 3 MB in all


@checks("02-keys-in-order")
async def keys_in_order(EventLog) -> str:
    from workers import DurableObject

    require_class(EventLog, "EventLog", "record", "latest", base=DurableObject)
    trace = ("rpc:start", "storage:", "evict")
    with module_state_unchanged(EventLog), world({"LOG": EventLog}) as rt:
        log = rt.env.LOG.getByName("webhooks")
        for n in range(1, EVENTS + 1):
            await attempt(f"record({n}, <event {n}, 20 KB>)", log.record(n, f"event {n} " + PAYLOAD), EventLog, rt)
        for k in (3, 12):
            reads_before = rt.metrics("LOG")["rowsRead"]
            latest = await attempt(f"latest({k})", log.latest(k), EventLog, rt)
            rows = rt.metrics("LOG")["rowsRead"] - reads_before
            names = [str(text).split(" x", 1)[0] if isinstance(text, str) else repr(text)[:40] for text in latest or []]
            expected = [f"event {n}" for n in range(EVENTS, EVENTS - k, -1)]
            if names != expected:
                raise NotYet(
                    f"Events 1 to {EVENTS} were recorded; latest({k}) returned {names} (each text cut after its "
                    f"number), expected {expected}. list() returns keys in text order, where 'event:10' comes "
                    "before 'event:9': numbers in keys sort as text. Pad the number with zeros to a fixed width "
                    "that no event number will exceed.\nTrace:\n" + excerpt(rt, *trace, last=6))
            if rows > k + 2:
                raise NotYet(
                    f"latest({k}) returned the right events but read {rows} rows of storage to find {k}. Every row "
                    "read is billed, and the log only grows. Let storage do the ordering: keys that sort in "
                    "event order, and list() with reverse and limit reads just the rows it returns.")
        await rt.evict(log)
        latest = await attempt("latest(3)", log.latest(3), EventLog, rt)
        if [str(t).split(" x", 1)[0] for t in latest or []] != ["event 150", "event 149", "event 148"]:
            raise NotYet("After an eviction latest(3) changed: the events must be read from storage.")
        for n in range(EVENTS + 1, GROWN + 1):  # the log keeps growing (small events now)
            await attempt(f"record({n}, 'event {n}')", log.record(n, f"event {n}"), EventLog, rt)
        latest = await attempt("latest(3)", log.latest(3), EventLog, rt)
        names = [str(t).split(" x", 1)[0] for t in latest or []]
        expected = [f"event {n}" for n in range(GROWN, GROWN - 3, -1)]
        if names != expected:
            raise NotYet(f"The log kept growing, to event {GROWN:,}: latest(3) returned {names}, expected {expected}. "
                         "A width of zeros that the numbers outgrow sorts 'event:1000' before 'event:999' again: "
                         "pick a width no event number will ever exceed.")
    return (f"{EVENTS} events of 20 KB each, then more up to {GROWN:,}, one key per event, in an order storage "
            "keeps: latest(k) reads exactly the k rows it returns.")
