"""Kata 04, a retry loop that freezes the object: never block a Durable Object's thread.

An object runs on one thread. Code that blocks it (a busy loop, `time.sleep()`) stops every
other request to the object, and even its own timers, until it returns. Waiting is done with
an `await` (`asyncio.sleep`, an alarm), which gives the thread back.

The emulator stops code that blocks for more than `hang_timeout` seconds of real time (0.25 s
here) with `HangTimeout`; these tests turn that into an explanation.
"""

import json

import pytest

from durable_dojo import HangTimeout
from workers import Response

KATA = "04-frozen-relay"
ENDPOINT = "https://hooks.customer.example/orders"
RELAY_NAME = "hooks.customer.example"  # one relay object per customer endpoint
EVENT = {"type": "order.paid", "order": "o-1042"}
HANG = object()


@pytest.fixture
def relay(load_kata):
    return load_kata(KATA, "relay.py")


class Endpoint:
    """The customer's endpoint: answers the given statuses in turn (then 200), and records
    when (virtual ms since the start) each attempt arrived and what it carried."""

    def __init__(self, rt_box, statuses=()):
        self.rt_box = rt_box
        self.statuses = list(statuses)
        self.attempts = []

    async def __call__(self, request):
        rt = self.rt_box[0]
        self.attempts.append((rt.now() - rt.start_ms, await request.text()))
        status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok" if status < 400 else "unavailable", status=status)


@pytest.fixture
def world(relay, make_runtime):
    def build(statuses=()):
        box = []
        endpoint = Endpoint(box, statuses)
        rt = make_runtime(durable_objects={"RELAY": relay.WebhookRelay}, outbound=endpoint,
                          outbound_latency=0.01, hang_timeout=0.25)
        box.append(rt)
        return rt, endpoint, rt.env.RELAY.getByName(RELAY_NAME)
    return build


def excerpt(rt, *kinds, last=12):
    events = [e for e in rt.trace if any(e.kind == k or (k.endswith(":") and e.kind.startswith(k)) for k in kinds)]
    return rt.trace.format(events, last=last) or "(no such events)"


async def cut_short(rt, call, what):
    """The watchdog stopped the object: collect the call's error (so asyncio does not warn
    about it later) and explain what happened."""
    try:
        await call
    except BaseException:  # noqa: BLE001 - the remote copy of the HangTimeout
        pass
    pytest.fail(
        f"{what} never got an answer: deliver() blocked the object's only thread for more than "
        "0.25 s of real time, and the emulator's watchdog stopped it (HangTimeout).\n"
        "A Durable Object runs one piece of code at a time. While time.sleep() or a busy loop "
        "runs, nothing else can: not stats(), not other deliveries, not even this request's own "
        "timers. Every caller of the object waits, and on Cloudflare the blocked time also counts "
        "as CPU time against the request's limit.\n"
        "Trace (the last things that ran):\n" + excerpt(rt, "rpc:", "fetch:out", "reset"),
        pytrace=False)


async def test_a_healthy_endpoint_gets_the_event_at_once(world):
    rt, endpoint, stub = world()
    result = await stub.deliver(ENDPOINT, EVENT)
    assert result == {"outcome": "delivered", "attempts": 1, "status": 200}, (
        f"The endpoint answered 200 at the first attempt; deliver() answered {result}.")
    assert [json.loads(body) for _, body in endpoint.attempts] == [EVENT], (
        f"The endpoint should have received the event once, got {endpoint.attempts}.")
    assert await stub.stats() == {"delivered": 1, "rejected": 0, "failed": 0}


async def test_retries_are_spaced_out(world):
    rt, endpoint, stub = world(statuses=[503, 503])
    delivery = stub.deliver(ENDPOINT, EVENT)
    try:
        result = await delivery
    except HangTimeout:
        result = HANG
    if result is HANG:
        await cut_short(rt, delivery, "deliver()")
    assert (result or {}).get("outcome") == "delivered" and result.get("attempts") == 3, (
        f"The endpoint was down for two attempts and up for the third: deliver() should answer "
        f"delivered after 3 attempts, not {result}.")
    times = [t for t, _ in endpoint.attempts]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 2 and gaps[0] >= 1000 and gaps[1] >= 2000, (
        f"The attempts reached the endpoint at {times} ms: the waits between them should be at "
        f"least 1000 ms and then 2000 ms of (virtual) time, not {gaps}. An endpoint that is "
        "down needs time to recover; hammering it makes things worse.\n"
        "Trace:\n" + excerpt(rt, "rpc:", "fetch:out"))


async def test_other_calls_are_answered_while_a_delivery_waits(world):
    rt, endpoint, stub = world(statuses=[503, 503])
    delivery = stub.deliver(ENDPOINT, EVENT)
    try:
        await rt.advance(0.1)  # the endpoint has answered 503 and the relay waits to retry
        frozen = False
    except HangTimeout:
        frozen = True
    if frozen:
        await cut_short(rt, delivery, "The status page's stats() call, made while the delivery waited,")
    stats = await stub.stats()
    stats_at = rt.now() - rt.start_ms
    result = await delivery
    finished_at = rt.now() - rt.start_ms
    assert stats == {"delivered": 0, "rejected": 0, "failed": 0}, (
        f"At 100 ms the endpoint had refused the first attempt and the relay should still be "
        f"waiting (1 s) before retrying, so no delivery can have finished; stats() answered {stats}.")
    assert (result or {}).get("outcome") == "delivered", f"The delivery should succeed in the end: {result}."
    assert stats_at < 1000 < finished_at, (
        f"stats() was asked at 100 ms, while the delivery waited to retry, and was answered at "
        f"{stats_at} ms; the delivery finished at {finished_at} ms. The status page must not "
        "wait for a retry loop to finish.\n"
        "Trace:\n" + excerpt(rt, "rpc:", "fetch:out"))
