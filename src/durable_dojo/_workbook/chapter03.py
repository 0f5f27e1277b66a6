"""Checks of chapter 3 (concurrency): no outside await inside a read-modify-write, in every order
the platform could run the requests in (`explore`), and no `blockConcurrencyWhile` on the hot path."""

from __future__ import annotations

import asyncio

from .._core.explore import explore
from .framework import (NotYet, attempt, checks, describe_error, excerpt, make_world, module_state_unchanged,
                        require_class, world)

RACE_TRACE = ("rpc:start", "rpc:end", "storage:", "fetch:")
INTEREST_PERCENT = 4  # not a round number: a hard-coded rate gives other balances


class Services:
    """The fraud check and the rates service: both answer after 10 ms. Remembers the balances the
    rates service was asked about."""

    def __init__(self):
        self.quoted: list[str] = []

    async def __call__(self, request):
        from workers import Response

        await asyncio.sleep(0.01)
        if "rates" in request.url:
            if "balance=" not in request.url:
                return Response("the rates service needs ?balance=<amount>: the rate depends on the balance",
                                status=400)
            self.quoted.append(request.url.split("balance=", 1)[1].split("&", 1)[0])
            return Response.from_json({"percent": INTEREST_PERCENT})
        return Response("ok")


def _schedules(found) -> str:
    return f"{found.schedules_run} order{'s' if found.schedules_run != 1 else ''}"


@checks("03-interest")
async def interest(Savings) -> str:
    from workers import DurableObject

    require_class(Savings, "Savings", "deposit", "add_interest", "balance", base=DurableObject)
    make = lambda: make_world({"SAVINGS": Savings}, outbound=Services())()  # noqa: E731 - a fresh service per world

    with module_state_unchanged(Savings):
        rt = make()
        rates = rt.outbound
        try:
            account = rt.env.SAVINGS.getByName("ada")
            await attempt("deposit(100)", account.deposit(100), Savings, rt)
            await attempt("add_interest()", account.add_interest(), Savings, rt)
            alone = await attempt("balance()", account.balance(), Savings, rt)
        finally:
            rt.close()
        if alone != 100 + INTEREST_PERCENT:
            raise NotYet(f"ada deposited 100, then add_interest() ran alone with the rates service saying "
                         f"{INTEREST_PERCENT} %: the balance is {alone!r}, expected {100 + INTEREST_PERCENT}. The "
                         "interest is balance * percent // 100, with the percent the rates service answers.")
        if rates.quoted != ["100"]:
            raise NotYet(f"ada deposited 100, then add_interest() ran alone: the rates service was asked about the "
                         f"balance {' and '.join(rates.quoted) or 'never'}, expected 100. The rate depends on the "
                         "balance, so the service must be told the balance the account really has (here it "
                         "answers 4 % whatever you send; a real one would not).")

        interest_first = 100 + INTEREST_PERCENT + 50
        deposit_first = 150 + 150 * INTEREST_PERCENT // 100

        async def interest_and_deposit(world):
            account = world.env.SAVINGS.getByName("ada")
            await account.deposit(100)
            await asyncio.gather(account.add_interest(), account.deposit(50))
            balance = await account.balance()
            assert balance in (interest_first, deposit_first), (
                f"the balance is {balance}, not {interest_first} (interest, then the deposit) or {deposit_first} "
                "(the deposit, then interest)")

        found = await explore(interest_and_deposit, make_runtime=make)
    if found.failures:
        failure = found.failures[0]
        error = failure.exception
        what = str(error) if isinstance(error, AssertionError) else describe_error("a call", error, Savings)
        raise NotYet(
            f"ada had 100; add_interest() and deposit(50) arrived together. Run in each of the {_schedules(found)} "
            f"the platform could interleave them in, one order (schedule {failure.schedule}) ends wrong: {what}. "
            "One request read the balance, waited for a service (the input gate opened meanwhile), and then "
            "wrote from what it had read, over the other's write or without it. The rates service needs the "
            "balance, so you cannot ask it first: read the balance again after the call, and write with "
            "nothing but storage between that read and the write.\n"
            f"Trace of that order (replay it with Runtime(..., schedule={failure.schedule!r})):\n"
            + excerpt(failure.trace, *RACE_TRACE, last=14))
    if not found.complete:
        raise NotYet(f"There are more orders than the check can try ({found.schedules_run} tried): keep the "
                     "requests short, with one outside call each.")
    return (f"Interest and a deposit arriving together end right in every one of the {_schedules(found)} the "
            "platform could run them in: no update is lost, whichever service answers first.")


STADIUM_SEATS = 15  # fewer than the 20 fans: whoever is told 'sold out' must not have paid


class Payments:
    """The card processor: charges after 20 ms; card 0000 is declined. Remembers the charges."""

    LATENCY = 0.02

    def __init__(self):
        self.charged: list[str] = []

    async def __call__(self, request):
        from workers import Response

        await asyncio.sleep(self.LATENCY)
        card = request.url.rsplit("card=", 1)[-1]
        if card == "0000":
            return Response("declined", status=402)
        self.charged.append(card)
        return Response("ok")


@checks("03-no-lock")
async def no_lock(Concert) -> str:
    from workers import DurableObject

    require_class(Concert, "Concert", "open", "buy", "seats_left", base=DurableObject)

    async def three_fans_two_seats(world):
        concert = world.env.CONCERT.getByName("gig")
        await concert.open(2)
        answers = await asyncio.gather(concert.buy("bob", "0000"), concert.buy("ada", "1111"),
                                       concert.buy("cy", "2222"))
        left = await concert.seats_left()
        booked = answers.count("booked")
        assert answers[0] != "booked", f"bob's card was declined but buy() answered 'booked' ({answers})"
        assert booked + left <= 2, (f"buy() answered {answers} and seats_left() is {left}: {booked + left} seats "
                                    "for 2 that exist. A count read before a wait was written back after it, "
                                    "over what the others had written meanwhile")
        assert booked + left == 2, (f"buy() answered {answers} and seats_left() is {left}: a seat was taken and "
                                    "never given back (the declined card's?)")
        charged = sorted(world.outbound.charged)
        fans = sorted(card for card, answer in zip(("0000", "1111", "2222"), answers) if answer == "booked")
        assert charged == fans, f"the cards charged are {charged}, but the booked fans paid with {fans}"

    with module_state_unchanged(Concert):
        found = await explore(three_fans_two_seats, make_runtime=lambda: make_world(
            {"CONCERT": Concert}, outbound=Payments())())
        if found.failures:
            failure = found.failures[0]
            error = failure.exception
            what = str(error) if isinstance(error, AssertionError) else describe_error("a call", error, Concert)
            raise NotYet(
                "2 seats; bob (whose card is declined), ada and cy buy at the same moment. In one of the "
                f"{_schedules(found)} the platform could run them in (schedule {failure.schedule}): {what}.\n"
                "While a buyer waits for the card processor, the input gate lets the others in. Change the "
                "seats with nothing but storage between a read and its write: reserve a seat first, then "
                "charge, and if the card is declined give the seat back, reading the count again.\n"
                f"Trace of that order (replay it with Runtime(..., schedule={failure.schedule!r})):\n"
                + excerpt(failure.trace, *RACE_TRACE, last=16))

        payments = Payments()
        rt = make_world({"CONCERT": Concert}, outbound=payments)()
        try:
            concert = rt.env.CONCERT.getByName("stadium")
            await attempt(f"open({STADIUM_SEATS})", concert.open(STADIUM_SEATS), Concert, rt)
            rt.trace.clear()
            started = rt.now()
            answers = await attempt("20 buy() calls at once", asyncio.gather(
                *(concert.buy(f"fan-{n}", f"4{n:03d}") for n in range(20))), Concert, rt)
            elapsed = rt.now() - started
            gate = excerpt(rt, "gate:", "rpc:start", "fetch:out", last=8)
            left = await attempt("seats_left()", concert.seats_left(), Concert, rt)
        finally:
            rt.close()
        booked = [f"4{n:03d}" for n, answer in enumerate(answers) if answer == "booked"]
        if len(booked) != STADIUM_SEATS or answers.count("sold out") != 20 - STADIUM_SEATS or left != 0:
            raise NotYet(f"{STADIUM_SEATS} seats and 20 fans with good cards buying at once: buy() answered "
                         f"{answers} and seats_left() is {left!r}; expected {STADIUM_SEATS} 'booked', "
                         f"{20 - STADIUM_SEATS} 'sold out' and 0 seats left.")
        if sorted(payments.charged) != booked:
            unpaid = sorted(set(payments.charged) - set(booked))
            raise NotYet(f"{STADIUM_SEATS} seats and 20 fans with good cards buying at once: the cards "
                         f"{', '.join(unpaid) or '(none)'} were charged, but their fans got no ticket (the cards "
                         f"of the booked fans are {booked}). Take the seat before charging the card: a fan told "
                         "'sold out' must not have paid.")
        one_charge = round(Payments.LATENCY * 1000)
        if elapsed > 3 * one_charge:
            raise NotYet(
                f"Every answer is right in every order, but 20 fans buying at once took {elapsed} ms of virtual "
                f"time, when one charge takes {one_charge} ms: the charges ran one after the other, so the "
                f"concert sells at most {1000 // one_charge} tickets per second however many fans arrive. "
                "blockConcurrencyWhile around the purchase holds every other request out while one waits for "
                "the card processor. Keep the storage part short (the input gate already makes it atomic) and "
                "charge outside any lock.\nTrace:\n" + gate)
    return (f"In every one of the {_schedules(found)} the platform could run three fans in, nobody oversells, "
            f"keeps a declined card's seat or charges a fan without a ticket, and 20 fans for {STADIUM_SEATS} "
            f"seats are served in {elapsed} ms: their charges overlap.")


class Mailer:
    """The mail service: records every notification that left the object."""

    def __init__(self):
        self.sent: list[str] = []

    async def __call__(self, request):
        from workers import Response

        self.sent.append(request.url)
        return Response("sent")


@checks("03-confirm-what-is-stored")
async def confirm_what_is_stored(Orders) -> str:
    from workers import DurableObject

    require_class(Orders, "Orders", "place", "status", base=DurableObject)
    mailer = Mailer()
    trace = ("rpc:start", "rpc:end", "rpc:error", "storage:", "commit", "fetch:", "reset")
    with module_state_unchanged(Orders), world({"ORDERS": Orders}, outbound=mailer) as rt:
        shop = rt.env.ORDERS.getByName("shop")
        answers = await attempt("Three place() calls at once", asyncio.gather(
            shop.place("o-1"), shop.place("o-2"), shop.place("o-3")), Orders, rt)
        await rt.evict(shop)  # what status() reads next must come from storage
        stored = [await attempt(f"status({o!r})", shop.status(o), Orders, rt) for o in ("o-1", "o-2", "o-3")]
        mailed = sorted(url.rsplit("order=", 1)[-1] for url in mailer.sent)
        if list(answers) != ["o-1 confirmed", "o-2 confirmed", "o-3 confirmed"] or stored != ["placed"] * 3 \
                or mailed != ["o-1", "o-2", "o-3"]:
            raise NotYet(f"Three orders placed at once: place() answered {list(answers)}, status() after an "
                         f"eviction reads {stored}, and the customers were mailed about {mailed}. Expected each "
                         "order confirmed, stored as 'placed' (in storage: a new instance reads it) and mailed "
                         "once.\nTrace:\n" + excerpt(rt, *trace, "evict", "constructor"))
        never = await attempt("status('o-99')", shop.status("o-99"), Orders, rt)
        if never is not None:
            raise NotYet(f"Nobody placed order o-99, but status('o-99') reads {never!r}: status() must read what "
                         "is stored (None for an order that is not).")
        rt.trace.clear()
        mailer.sent.clear()
        rt.faults.fail_next_flush(shop)  # the disk fails: the next write is not stored
        try:
            heard = repr(await shop.place("o-4"))
        except Exception as error:  # noqa: BLE001 - an error is the right answer here
            heard = f"an error ({error})"
        await rt.run_until_idle()
        status = await attempt("status('o-4')", rt.env.ORDERS.getByName("shop").status("o-4"), Orders, rt)
        if status is None and (mailer.sent or not heard.startswith("an error")):
            told = []
            if mailer.sent:
                told.append(f"the customer was mailed ({mailer.sent[0]})")
            if not heard.startswith("an error"):
                told.append(f"the caller heard {heard}")
            raise NotYet(
                f"The write of order o-4 failed (the check made it fail, as a failing disk would), so o-4 was never stored; yet {' and '.join(told)}. "
                "Nothing may leave the object about a write before that write is stored: the output gate holds "
                "responses and outgoing requests until the writes made before them are committed, unless a write "
                "opts out (allowUnconfirmed) or is made after they leave.\nTrace:\n" + excerpt(rt, *trace))
    return ("No confirmation and no mail ever leaves for an order that was not stored: the output gate "
            "holds them until the write is committed, and a failed write becomes an error for the caller.")
