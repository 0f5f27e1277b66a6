"""Kata 05, stock sold twice: a read-modify-write must not span an outgoing fetch.

Storage awaits keep the input gate closed, so a read-modify-write made only of storage calls is
atomic. A `fetch()` (or any non-storage await) opens it: other requests run meanwhile, and a
value read before the fetch may be stale after it.
"""

import asyncio

import pytest

from workers import Response

KATA = "05-oversold-stock"
PRICE = 4900
DECLINED = "declined-card"  # the payment service declines this customer's card
N_PARALLEL = 20
CHARGE_ROUND_TRIP_MS = 40  # outbound_latency 0.02 s each way


@pytest.fixture
def inventory(load_kata):
    return load_kata(KATA, "inventory.py")


class Payments:
    """The payment service: charges (declining DECLINED's card) and refunds, per order."""

    def __init__(self):
        self.net = {}  # order -> cents charged minus refunded

    async def __call__(self, request):
        body = await request.json()
        order = body["order"]
        if request.url.endswith("/charges"):
            if body["customer"] == DECLINED:
                return Response.from_json({"error": "card declined"}, status=402)
            self.net[order] = self.net.get(order, 0) + body["amount"]
            return Response.from_json({"paid": order})
        if request.url.endswith("/refunds"):
            self.net[order] = 0  # the full charge goes back
            return Response.from_json({"refunded": order})
        return Response("Not found", status=404)

    def charged(self):
        return {order: cents for order, cents in self.net.items() if cents}


@pytest.fixture
def world(inventory, make_runtime):
    payments = Payments()
    rt = make_runtime(durable_objects={"PRODUCTS": inventory.Product}, outbound=payments, outbound_latency=0.02)
    return rt, payments, rt.env.PRODUCTS.getByName("sneaker-limited-42")


def excerpt(rt, *kinds, head=10, tail=6):
    """The trace events of these kinds, the first `head` and the last `tail` of them."""
    events = [e for e in rt.trace if any(e.kind == k or (k.endswith(":") and e.kind.startswith(k)) for k in kinds)]
    lines = rt.trace.format(events).splitlines()
    if len(lines) > head + tail:
        lines = lines[:head] + [f"     ... {len(lines) - head - tail} more events ..."] + lines[-tail:]
    return "\n".join(lines) or "(no such events)"


def statuses(results):
    return {r["order"]: r["status"] for r in results if isinstance(r, dict)}


async def test_an_order_takes_stock_and_charges_once(world):
    rt, payments, product = world
    await product.restock(5, PRICE)
    result = await product.order("o-1", "ada", 2)
    assert result == {"order": "o-1", "status": "confirmed"}, f"order() answered {result}."
    assert await product.stock() == 3, "5 in stock, 2 sold: 3 should be left."
    assert payments.charged() == {"o-1": 2 * PRICE}, f"Ada should be charged once for 2 pairs: {payments.charged()}"
    assert set(await product.orders()) == {"o-1"}, "The confirmed order should be recorded."
    assert (await product.order("o-2", "bob", 4))["status"] == "sold_out", "Only 3 left: 4 must be sold out."


async def test_a_declined_card_gives_the_items_back(world):
    rt, payments, product = world
    await product.restock(3, PRICE)
    rt.trace.clear()  # keep only what the orders did
    results = await asyncio.gather(product.order("o-1", DECLINED, 2), product.order("o-2", "bob", 1))
    trace = excerpt(rt, "rpc:start", "rpc:end", "storage:", "fetch:out")
    assert statuses(results) == {"o-1": "payment_declined", "o-2": "confirmed"}, f"order() answered {results}."
    left = await product.stock()
    assert left == 2, (
        f"3 in stock; a declined order for 2 and a paid order for 1 ran at the same time, and "
        f"{left} are left instead of 2: the declined order must give back exactly what it took, "
        "and the paid one must keep its item.\n"
        "Trace:\n" + trace)
    assert payments.charged() == {"o-2": PRICE}, f"Only Bob pays: {payments.charged()}"


async def test_two_buyers_of_the_last_pair_cannot_both_get_it(world):
    rt, payments, product = world
    await product.restock(1, PRICE)
    rt.trace.clear()  # keep only what the orders did
    results = await asyncio.gather(product.order("o-1", "ada", 1), product.order("o-2", "bob", 1))
    trace = excerpt(rt, "rpc:start", "rpc:end", "storage:", "fetch:out", head=20)
    confirmed = [order for order, status in statuses(results).items() if status == "confirmed"]
    left = await product.stock()
    assert len(confirmed) == 1 and left == 0, (
        f"One pair was in stock and two customers ordered it at the same moment: "
        f"{len(confirmed)} orders were confirmed and the stock now says {left}. "
        f"(order() answered {results}.)\n"
        "Both orders read stock = 1, then waited for the payment service. That fetch opened the "
        "input gate, so the second order ran while the first waited; each then wrote 1 - 1 = 0 "
        "from the value it had read before the wait.\n"
        "Trace:\n" + trace)
    unpaid = {order: cents for order, cents in payments.charged().items() if order not in confirmed}
    assert not unpaid, f"Customers were charged for orders they did not get: {unpaid} (cents)."


async def test_a_burst_of_orders_never_oversells(world):
    rt, payments, product = world
    await product.restock(5, PRICE)
    rt.trace.clear()  # keep only what the orders did
    results = await asyncio.gather(*(product.order(f"o-{n}", f"fan-{n}", 1) for n in range(12)))
    trace = excerpt(rt, "rpc:start", "storage:", "fetch:out")
    by_status = statuses(results)
    confirmed = sorted(order for order, status in by_status.items() if status == "confirmed")
    left = await product.stock()
    recorded = await product.orders() or {}
    assert len(confirmed) == 5 and left == 0 and len(recorded) == 5, (
        f"5 pairs in stock, 12 fans ordered one each at the same moment: {len(confirmed)} orders "
        f"were confirmed, {len(recorded)} recorded, and the stock says {left}. Expected 5 "
        "confirmed and 0 left: every confirmed order is a pair that must exist.\n"
        "Trace (the first and the last events of the burst):\n" + trace)
    unpaid = {order: cents for order, cents in payments.charged().items() if order not in confirmed}
    assert not unpaid, f"Fans were charged for orders they did not get: {unpaid} (cents)."
    assert all(payments.charged().get(order) == PRICE for order in confirmed), (
        f"Each confirmed order is charged exactly once: {payments.charged()}")


async def test_no_order_of_the_payment_replies_sells_what_is_not_there(inventory):
    from durable_dojo import Runtime, explore  # every order the platform could run them in

    async def three_buyers_two_pairs(rt):
        product = rt.env.PRODUCTS.getByName("sneaker-limited-42")
        await product.restock(2, PRICE)
        results = await asyncio.gather(product.order("o-1", DECLINED, 1), product.order("o-2", "ada", 1),
                                       product.order("o-3", "bob", 1))
        confirmed = sorted(order for order, status in statuses(results).items() if status == "confirmed")
        left = await product.stock()
        assert len(confirmed) + left == 2, f"2 pairs: {len(confirmed)} confirmed and {left} left ({results})"
        assert sorted(rt.outbound.charged()) == confirmed, f"charged {rt.outbound.charged()}, confirmed {confirmed}"

    found = await explore(three_buyers_two_pairs, make_runtime=lambda: Runtime(
        durable_objects={"PRODUCTS": inventory.Product}, outbound=Payments(), outbound_latency=0.02))
    for failure in found.failures:
        pytest.fail(f"Three orders for two pairs, one card declined: in one of the {found.schedules_run} orders the "
                    f"platform could run them in (schedule {failure.schedule}), {failure.exception}.\n"
                    "Trace of that run:\n" + excerpt_of(failure.trace))
    assert found.complete


def excerpt_of(trace, last=14):
    events = [e for e in trace if e.kind.startswith(("rpc:", "storage:", "fetch:"))]
    return trace.format(events, last=last) or "(no such events)"


async def test_orders_are_taken_in_parallel(world):
    rt, payments, product = world
    await product.restock(100, PRICE)
    await product.stock()  # the object is awake
    rt.trace.clear()
    started = rt.now()
    results = await asyncio.gather(*(product.order(f"o-{n}", f"fan-{n}", 1) for n in range(N_PARALLEL)))
    elapsed = rt.now() - started
    confirmed = [order for order, status in statuses(results).items() if status == "confirmed"]
    assert len(confirmed) == N_PARALLEL, f"100 pairs in stock: all {N_PARALLEL} orders are confirmed: {results}"
    one_charge = CHARGE_ROUND_TRIP_MS
    assert elapsed <= 3 * one_charge, (
        f"{N_PARALLEL} fans ordered at the same moment, with plenty of stock. Each order needs one "
        f"{one_charge} ms call to the payment service, and they took {elapsed} ms of virtual time: about "
        f"{elapsed / one_charge:.0f} calls one after the other, when they could all overlap. At this pace "
        f"the sale takes at most {1000 / one_charge:.0f} orders per second, however many fans arrive.\n"
        "Holding the object for the whole order (blockConcurrencyWhile around it) keeps every other order "
        "out while one waits for the payment service. The input gate already makes the storage part safe: "
        "reserve the items with storage calls only, then charge outside any critical section.\n"
        "Trace:\n" + excerpt(rt, "gate:", "rpc:start", "fetch:out"))
