"""Kata 09, the alarm that charged twice: alarm handlers must be idempotent.

Alarms are delivered at least once: a run that throws, or is cut off by a crash, runs again.
Every side effect of the handler must be safe to repeat: record progress in storage, and give
outside services an idempotency key that was stored *before* the call went out.
"""

import asyncio
import json

import pytest

from durable_dojo.testing import run_in_durable_object
from workers import Response

KATA = "09-double-charge"
DAY = 24 * 3600
PERIOD = 30 * DAY
PRICE = 1_200
LATENCY = 0.01  # network time to reach a service
PROCESSING = 0.05  # the payment service takes 50 ms to answer a charge


@pytest.fixture
def billing(load_kata):
    return load_kata(KATA, "billing.py")


class Outside:
    """The payment service (honours Idempotency-Key, like Stripe) and the mail service (down
    for its first `mail_failures` requests)."""

    def __init__(self, mail_failures=0):
        self.charges = []  # (charge id, customer, amount): money actually taken
        self.by_key = {}  # idempotency key -> charge id
        self.receipts = []  # (to, charge, period)
        self.mail_failures = mail_failures

    async def __call__(self, request):
        body = json.loads(await request.text())
        if request.url.endswith("/charges"):
            key = request.headers.get("idempotency-key")
            if key is not None and key in self.by_key:
                return Response.from_json({"charge": self.by_key[key]})
            charge_id = f"ch_{len(self.charges) + 1}"
            self.charges.append((charge_id, body["customer"], body["amount"]))  # the money is taken
            if key is not None:
                self.by_key[key] = charge_id
            await asyncio.sleep(PROCESSING)  # ... and the answer takes a while to come back
            return Response.from_json({"charge": charge_id})
        if request.url.endswith("/receipts"):
            if self.mail_failures:
                self.mail_failures -= 1
                return Response("mail service unavailable", status=503)
            self.receipts.append((body["to"], body["charge"], body["period"]))
            return Response.from_json({"queued": True}, status=202)
        return Response("Not found", status=404)


@pytest.fixture
def world(billing, make_runtime):
    def build(mail_failures=0):
        outside = Outside(mail_failures)
        rt = make_runtime(durable_objects={"SUBSCRIPTIONS": billing.Subscription}, outbound=outside,
                          outbound_latency=LATENCY)
        return rt, outside, rt.env.SUBSCRIPTIONS.getByName("cus_ada")
    return build


def excerpt(rt, *kinds, last=14):
    events = [e for e in rt.trace if any(e.kind == k or (k.endswith(":") and e.kind.startswith(k)) for k in kinds)]
    return rt.trace.format(events, last=last) or "(no such events)"


def next_alarm(sub):
    return run_in_durable_object(sub, lambda obj, ctx: ctx.storage.getAlarm())


async def test_a_renewal_charges_once_and_mails_a_receipt(world):
    rt, outside, sub = world()
    start = rt.now()
    await sub.subscribe("ada@example.com", PRICE)
    await rt.advance(PERIOD + 60)
    assert [(c, a) for _, c, a in outside.charges] == [("cus_ada", PRICE)], (
        f"After 30 days the card is charged once: {outside.charges}")
    assert outside.receipts == [("ada@example.com", "ch_1", 1)], f"One receipt for period 1: {outside.receipts}"
    assert await sub.invoices() == [{"period": 1, "charge": "ch_1", "amount": PRICE}], "One invoice booked."
    assert await next_alarm(sub) == start + 2 * PERIOD * 1000, "The next renewal is 30 days after the first."


async def test_every_month_is_charged_once(world):
    rt, outside, sub = world()
    await sub.subscribe("ada@example.com", PRICE)
    await rt.advance(3 * PERIOD + 60)
    assert len(outside.charges) == 3, (
        f"Three renewals, one every 30 days, should take three charges, one per period; the "
        f"payment service took {outside.charges or 'none'}. (If the charges carry an "
        "Idempotency-Key, each renewal needs its own key: a repeated key means 'the same charge'.)")
    assert [period for _, _, period in outside.receipts] == [1, 2, 3], f"One receipt per period: {outside.receipts}"
    assert [i["period"] for i in await sub.invoices()] == [1, 2, 3]


async def test_a_failed_receipt_does_not_charge_twice(world):
    rt, outside, sub = world(mail_failures=1)
    await sub.subscribe("ada@example.com", PRICE)
    await rt.advance(PERIOD + 120)
    assert len(outside.charges) == 1, (
        f"The mail service was down for the first receipt of period 1, and Ada's card was charged "
        f"{len(outside.charges)} times: {outside.charges}.\n"
        "alarm() charged the card, then the receipt failed and the handler threw. The platform "
        "retried the alarm (at-least-once delivery), and the retry charged again: nothing stored "
        "said the charge had already happened.\n"
        "Trace:\n" + excerpt(rt, "alarm:", "fetch:out", "storage:put"))
    assert [(to, period) for to, _, period in outside.receipts] == [("ada@example.com", 1)], (
        f"The receipt must go out once the mail service is back (the alarm's retry), exactly once; "
        f"the mail service received {outside.receipts or 'nothing'}. Note that a failed run is "
        "retried only if it did not set a new alarm before failing.\n"
        "Trace:\n" + excerpt(rt, "alarm:", "fetch:out"))
    assert [i["period"] for i in await sub.invoices()] == [1], "The renewal is booked once."


async def test_a_crash_while_charging_does_not_charge_twice(world):
    rt, outside, sub = world()
    await sub.subscribe("ada@example.com", PRICE)
    await rt.advance(PERIOD - 0.001)  # a millisecond before the renewal
    # The charge reaches the payment service 10 ms after the renewal starts and is answered
    # 50 ms later; the machine under the object dies in between.
    rt.faults.crash_after(sub, 0.001 + LATENCY + PROCESSING / 2)
    await rt.advance(120)
    assert len(outside.charges) == 1, (
        f"The object crashed while the charge request for period 1 was on its way to the payment "
        f"service, and Ada's card was charged {len(outside.charges)} times: {outside.charges}.\n"
        "The request reached the payment service, but its answer never came back. The alarm was "
        "retried after the crash, and the retry could not know whether the first charge had "
        "happened. Only something stored before the request left (and sent with it, so the "
        "payment service can recognise the repeat) makes the retry safe.\n"
        "Trace:\n" + excerpt(rt, "alarm:", "fetch:out", "storage:put", "commit", "crash"))
    assert [(to, period) for to, _, period in outside.receipts] == [("ada@example.com", 1)], (
        f"One receipt for period 1: {outside.receipts}")
    assert [i["period"] for i in await sub.invoices()] == [1], "The renewal is booked once."
