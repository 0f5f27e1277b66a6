"""Kata 11: the webhook processor that acknowledges nothing durably.

The payment provider's events go through the Worker to one object, "billing", which must record
each of them in the ledger exactly once. The ledger is the test's `outbound` handler: it can be
down for a while (503), and it records every entry it accepts. Time is virtual: a crash at 5 s
and a five-minute outage take no real time.
"""

from __future__ import annotations

import json

import pytest
from workers import Response

KATA = "11-webhook-lost-events"
HOOK_URL = "https://hooks.example.com/webhooks/billing"


class Ledger:
    """The ledger service: refuses writes with 503 until `up_at` (virtual seconds), then records them."""

    def __init__(self, up_at: float = 0.0):
        self.rt = None
        self.up_at = up_at
        self.entries: list[str] = []
        self.refused = 0

    async def __call__(self, request):
        if self.rt.loop.time() < self.up_at:
            self.refused += 1
            return Response("ledger is down for maintenance", status=503)
        self.entries.append((await request.json())["event"])
        return Response("recorded", status=201)


@pytest.fixture
def make_world(load_kata, make_runtime):
    def make(up_at: float = 0.0):
        module = load_kata(KATA, "webhooks.py")
        ledger = Ledger(up_at)
        rt = make_runtime(durable_objects={"BILLING": module.BillingWebhooks}, worker=module.Default,
                          outbound=ledger)
        ledger.rt = rt
        return rt, ledger

    return make


def event(n: int, kind: str = "invoice.paid") -> dict:
    return {"id": f"evt_{n}", "type": kind, "amount": 1000 * n}


async def deliver(rt, evt) -> int:
    """The provider POSTs one event; returns the status it got."""
    response = await rt.fetch(HOOK_URL, method="POST", headers={"content-type": "application/json"},
                              body=json.dumps(evt))
    return response.status


def story(rt, last=12) -> str:
    events = [e for e in rt.trace if e.object == "billing" or e.kind == "fetch:out"]
    interesting = [e for e in events if not e.kind.startswith(("storage:", "gate:", "commit"))]
    return rt.trace.format(interesting, last=last)


def check_recorded_once(rt, ledger, ids, what):
    missing = [i for i in ids if i not in ledger.entries]
    if missing:
        pytest.fail(
            f"{what}: the provider got 202 Accepted for {len(ids)} events, so it will never send them "
            f"again, but {len(missing)} never reached the ledger: {missing}. An acknowledged event must stay "
            f"in storage until the ledger has it: through crashes and evictions of the object, and through "
            f"outages longer than any fixed number of retries.\n"
            f"Ledger entries: {ledger.entries} ({ledger.refused} writes refused while it was down).\n"
            f"The object's story:\n{story(rt)}",
            pytrace=False,
        )
    doubled = sorted({i for i in ledger.entries if ledger.entries.count(i) > 1})
    if doubled:
        pytest.fail(f"{what}: {doubled} were recorded more than once ({ledger.entries}); each event must "
                    f"be recorded exactly once, even when the provider delivers it again.\n{story(rt)}",
                    pytrace=False)


async def test_acknowledged_events_survive_a_crash(make_world):
    rt, ledger = make_world(up_at=30)  # the ledger is down for the first 30 s
    statuses = [await deliver(rt, event(n)) for n in (1, 2, 3)]
    assert statuses == [202, 202, 202], f"every event should be acknowledged with 202, got {statuses}"
    rt.faults.crash_after(rt.env.BILLING.getByName("billing"), 5)  # the machine restarts at 5 s
    await rt.advance(1800)
    check_recorded_once(rt, ledger, ["evt_1", "evt_2", "evt_3"], "A crash 5 s after the events arrived")


async def test_a_long_ledger_outage_delays_entries_but_loses_none(make_world):
    rt, ledger = make_world(up_at=300)  # five minutes of maintenance
    for n in (1, 2):
        assert await deliver(rt, event(n)) == 202
    await rt.advance(3600)
    check_recorded_once(rt, ledger, ["evt_1", "evt_2"], "A five-minute ledger outage")


async def test_a_redelivered_event_is_recorded_once(make_world):
    rt, ledger = make_world()
    assert await deliver(rt, event(1)) == 202
    assert await deliver(rt, event(1)) == 202  # the provider sent it twice
    assert await deliver(rt, event(2, "charge.refunded")) == 202
    await rt.advance(600)
    assert await deliver(rt, event(1)) == 202  # and once more, ten minutes later
    await rt.advance(600)
    check_recorded_once(rt, ledger, ["evt_1", "evt_2"], "Redelivered events")


async def test_events_are_acknowledged_at_once_even_while_the_ledger_is_down(make_world):
    rt, ledger = make_world(up_at=20)
    for n in (1, 2, 3):
        started = rt.loop.time()
        status = await deliver(rt, event(n))
        waited = rt.loop.time() - started
        if status != 202 or waited > 1:
            pytest.fail(f"evt_{n} got {status} after {waited:.1f} s; the provider needs 202 Accepted right "
                        f"away (it times out and retries otherwise), whatever the ledger is doing.\n{story(rt)}",
                        pytrace=False)
    await rt.advance(3600)
    check_recorded_once(rt, ledger, ["evt_1", "evt_2", "evt_3"], "Events sent during an outage")
