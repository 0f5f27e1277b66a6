"""Checks of chapter 7 (patterns and review): payments made idempotent with keys kept in storage;
a session store reviewed for cost with advise() and estimate_cost()."""

from __future__ import annotations

import asyncio

from .framework import NotYet, attempt, checks, excerpt, module_state_unchanged, require_class, world


@checks("07-idempotent-payments")
async def idempotent_payments(Wallet) -> str:
    from workers import DurableObject

    require_class(Wallet, "Wallet", "deposit", "pay", "balance", base=DurableObject)
    with module_state_unchanged(Wallet), world({"WALLET": Wallet}) as rt:
        ada = rt.env.WALLET.getByName("ada")

        async def pay(key, amount, story):
            return await attempt(f"pay({key!r}, {amount}) {story}", ada.pay(key, amount), Wallet, rt)

        async def balance_is(expected, story, why=""):
            balance = await attempt("balance()", ada.balance(), Wallet, rt)
            if balance != expected:
                raise NotYet(f"{story} The balance is {balance!r}, expected {expected}.{why}\nTrace:\n"
                             + excerpt(rt, "rpc:start", "storage:put", "evict", "constructor", last=10))

        await attempt("deposit(100)", ada.deposit(100), Wallet, rt)
        first = await pay("order-1", 30, "")
        if not isinstance(first, dict) or first.get("balance") != 70:
            raise NotYet(f"ada had 100 and paid 30 for order-1: pay() returned {first!r}, expected a receipt "
                         "like {'key': 'order-1', 'amount': 30, 'balance': 70}.")
        again = await pay("order-1", 30, "(the shop's retry after a timeout)")
        await balance_is(70, "ada paid 30 for order-1 and the shop retried the same call (same key).",
                         " The retry charged her again. Store each order's receipt under its key, in the same write "
                         "as the new balance, and return it when the key comes back.")
        if again != first:
            raise NotYet(f"The retry of order-1 returned {again!r}; the first call returned {first!r}. A retry must "
                         "get the same receipt: the shop cannot tell a retry's answer from the first one's, so "
                         "store the receipt under the key and return it.")
        await rt.evict(ada)
        await pay("order-1", 30, "(a retry after the object was evicted)")
        await balance_is(70, "order-1 was retried again after the object had been evicted.",
                         " The new instance did not know order-1 any more: what a retry must find has to be in "
                         "storage, not in a field.")
        second = await pay("order-2", 30, "")
        await balance_is(40, "After order-1 (30), a new order, order-2, paid 30.")
        results = await asyncio.gather(ada.pay("order-3", 10), ada.pay("order-3", 10), return_exceptions=True)
        await balance_is(30, "Two copies of order-3 (10) arrived at the same time.")
        if results[0] != results[1]:
            raise NotYet(f"Two copies of order-3 arrived at the same time and got different answers: {results!r}.")
        try:
            refused = await ada.pay("order-4", 500)
        except Exception:  # noqa: BLE001 - refused, as it should be: 30 is not enough
            pass
        else:
            raise NotYet(f"ada has 30 and pay('order-4', 500) returned {refused!r} instead of raising an error: a "
                         "payment larger than the balance must be refused (raise an error), as the exercise cell "
                         "does, so that the shop does not ship the order.")
        await attempt("deposit(1000)", ada.deposit(1000), Wallet, rt)
        fourth = await pay("order-4", 500, "(after a deposit: the refused order, tried again)")
        if not isinstance(fourth, dict) or fourth.get("balance") != 530:
            raise NotYet(f"order-4 (500) was refused for lack of funds; after a deposit of 1000 the shop tried it "
                         f"again and pay() returned {fourth!r}, expected a receipt with balance 530. Record a key "
                         "only with the payment it stands for: a refused payment has not happened.")
        await rt.advance(150)
        late = await pay("order-2", 30, "(a late retry, 150 s later)")
        await balance_is(530, "order-2 was retried 150 s later.")
        if late != second:
            raise NotYet(f"A late retry of order-2 returned {late!r}, the first call {second!r}. A retry must get "
                         "the first call's receipt, whenever it comes: store the receipt under the key and return "
                         "it as stored.")
    return ("Each order key charged once, across retries, an eviction, concurrent copies and a quiet spell, "
            "each retry got the first receipt back, and a refused payment did not use up its key.")


# ----- 07-session-costs -----

MINUTE = 60
SESSIONS, MINUTES_ACTIVE = 20, 12
EXPIRY_MINUTES = 30
SCALE = 1000  # the production traffic, as a multiple of the check's


@checks("07-session-costs")
async def session_costs(Sessions) -> str:
    from workers import DurableObject

    from .. import advise  # the public face: a tool does not import another tool

    require_class(Sessions, "Sessions", "save", "load", base=DurableObject)
    with world({"SESSIONS": Sessions}) as rt:
        stubs = [rt.env.SESSIONS.getByName(f"session-{n}") for n in range(SESSIONS)]
        for minute in range(MINUTES_ACTIVE):  # every session loads and saves a page a minute
            for n, stub in enumerate(stubs):
                await attempt("load('page')", stub.load("page"), Sessions, rt)
                await attempt(f"save('page', {minute})", stub.save("page", minute), Sessions, rt)
            await rt.advance(MINUTE)
        # minute 12: all idle. Session 0 comes back at minute 37, 26 minutes after its last use.
        await rt.advance(25 * MINUTE)
        kept = await attempt("load('page')", stubs[0].load("page"), Sessions, rt)
        if kept != MINUTES_ACTIVE - 1:
            raise NotYet(f"session-0 was used every minute until minute 11, then came back at minute 37 (26 minutes "
                         f"later) and load('page') returned {kept!r}, expected {MINUTES_ACTIVE - 1}: a session "
                         f"expires {EXPIRY_MINUTES} minutes after its last use, not after its first.\nTrace:\n"
                         + excerpt(rt, "alarm:", "storage:delete", last=6))
        await rt.advance(10 * MINUTE)  # minute 47: the others are 36 minutes idle
        left = [n for n in range(1, SESSIONS) if await attempt("load('page')", stubs[n].load("page"), Sessions, rt)
                is not None]
        if left:
            raise NotYet(f"{len(left)} sessions last used at minute 11 still have their data at minute 47, more than "
                         f"{EXPIRY_MINUTES} minutes later: expired sessions must be deleted.\nTrace:\n"
                         + excerpt(rt, "alarm:", "storage:delete", "evict", last=6))
        await rt.advance(13 * MINUTE)  # minute 60: session-0 was read at minute 37, saved last at minute 11
        still = await attempt("load('page')", stubs[0].load("page"), Sessions, rt)
        if still != MINUTES_ACTIVE - 1:
            raise NotYet(f"session-0 was last saved at minute 11 and read at minute 37; at minute 60 load('page') "
                         f"returned {still!r}, expected {MINUTES_ACTIVE - 1}: a load is a use too, and a session "
                         f"expires {EXPIRY_MINUTES} minutes after its last use, a save or a load.\nTrace:\n"
                         + excerpt(rt, "alarm:", "storage:delete", last=6))
        await rt.advance(2 * 3600)
        advice = advise(rt, multiplier=SCALE)
        if advice:
            found = "\n".join(f"  {a.code}: {a.message}" for a in advice)
            raise NotYet("The sessions work; now the review. advise(world), the workbook's adviser, read this workload's "
                         f"metrics and trace and says:\n{found}")
        duration = rt.metrics("SESSIONS")["durationSeconds"]
        dollars = rt.estimate_cost("SESSIONS", multiplier=SCALE)["dollars"]["durationGbSeconds"]
        if duration > 60:
            raise NotYet(
                f"The sessions work, but the objects were billed {duration:,.0f} s of duration between requests "
                f"(${dollars:,.2f} a month at {SCALE:,} times this traffic, says rt.estimate_cost). An object with "
                "a timer pending (asyncio.sleep) stays in memory, billed, until the timer fires; an object whose "
                "next job is an alarm may hibernate and costs nothing meanwhile. Expire sessions with "
                "setAlarm().\nTrace:\n" + excerpt(rt, "hibernate", "evict", "alarm:", last=6))
    return (f"Sessions expire {EXPIRY_MINUTES} minutes after their last use, advise(world) has nothing to say, "
            f"and idle sessions cost no duration (${dollars:,.2f} a month at {SCALE:,} times the traffic).")
