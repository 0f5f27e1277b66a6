"""Kata 06, one invoice at a time: blockConcurrencyWhile around every request.

`blockConcurrencyWhile` holds back *every* other event while its callback runs, outgoing calls
included. Around each request it makes the object serve one request per round trip: with a
5 ms call, about 200 requests per second, however many arrive. Input gates already make a
storage-only critical section safe; the slow call belongs outside it.
"""

import asyncio

import pytest

from workers import Response

KATA = "06-one-invoice-at-a-time"
ROUND_TRIP = 0.005  # the accounting service answers in 5 ms
N = 20


@pytest.fixture
def invoices(load_kata):
    return load_kata(KATA, "invoices.py")


class Accounting:
    """The accounting service: files invoices, fails for the customers in `broken`."""

    def __init__(self, broken=()):
        self.filed = []
        self.broken = set(broken)

    async def __call__(self, request):
        body = await request.json()
        if body["customer"] in self.broken:
            return Response("ledger unavailable", status=503)
        self.filed.append(body["number"])
        return Response.from_json({"filed": body["number"]}, status=201)


@pytest.fixture
def world(invoices, make_runtime):
    def build(broken=()):
        accounting = Accounting(broken)
        rt = make_runtime(durable_objects={"INVOICES": invoices.InvoiceBook}, outbound=accounting,
                          outbound_latency=ROUND_TRIP)
        return rt, accounting, rt.env.INVOICES.getByName("acme-gmbh")
    return build


def excerpt(rt, *kinds, head=8, tail=6):
    events = [e for e in rt.trace if any(e.kind == k or (k.endswith(":") and e.kind.startswith(k)) for k in kinds)]
    lines = rt.trace.format(events).splitlines()
    if len(lines) > head + tail:
        lines = lines[:head] + [f"     ... {len(lines) - head - tail} more events ..."] + lines[-tail:]
    return "\n".join(lines) or "(no such events)"


async def test_concurrent_invoices_get_unique_numbers(world):
    rt, accounting, book = world()
    numbers = await asyncio.gather(*(book.issue(f"customer-{n}", 1000 + n) for n in range(N)))
    assert sorted(numbers, key=lambda n: (n is None, n or 0)) == list(range(1, N + 1)), (
        f"{N} invoices issued at the same moment must get the numbers 1..{N}, each once; issue() "
        f"answered {numbers}.\n"
        "Storage awaits keep other requests out (the input gate), but a fetch between reading "
        "last_number and writing the next one lets them in: they read the same number.\n"
        "Trace:\n" + excerpt(rt, "rpc:start", "storage:", "fetch:out"))
    assert sorted(accounting.filed) == list(range(1, N + 1)), (
        f"Accounting should have received invoices 1..{N} once each, got {sorted(accounting.filed)}.")
    stored = [invoice["number"] for invoice in await book.invoices()]
    assert stored == list(range(1, N + 1)), f"invoices() should list 1..{N} in order, got {stored}."


async def test_invoices_are_issued_in_parallel(world):
    rt, accounting, book = world()
    await book.invoices()  # the object is awake
    rt.trace.clear()
    start = rt.now()
    numbers = await asyncio.gather(*(book.issue(f"customer-{n}", 1000 + n) for n in range(N)))
    elapsed = rt.now() - start
    assert sorted(n for n in numbers if isinstance(n, int)) == list(range(1, N + 1)), (
        f"issue() should answer the numbers 1..{N}: {numbers}")
    assert len(accounting.filed) == N, f"Accounting should have received {N} invoices, got {len(accounting.filed)}."
    one_call = ROUND_TRIP * 1000
    assert elapsed <= 3 * one_call, (
        f"{N} invoices were issued at the same moment, each needing one {one_call:.0f} ms call to "
        f"accounting. They took {elapsed} ms of virtual time: about {elapsed / one_call:.0f} round "
        f"trips, one after the other, when they could all have overlapped (about {one_call:.0f} ms). "
        f"At this pace the object issues at most {1000 / one_call:.0f} invoices per second, however "
        "many arrive.\n"
        "blockConcurrencyWhile kept every other request out while one waited on accounting "
        "(each 'gate:close' .. 'gate:open' pair below is one request holding the whole object):\n"
        + excerpt(rt, "gate:", "rpc:start", "fetch:out"))


async def test_one_failed_filing_does_not_fail_other_invoices(world):
    rt, accounting, book = world(broken={"ledger-down-co"})
    customers = ["customer-a", "customer-b", "ledger-down-co", "customer-c", "customer-d"]
    results = await asyncio.gather(*(book.issue(c, 500) for c in customers), return_exceptions=True)
    failed = {c: r for c, r in zip(customers, results) if isinstance(r, BaseException)}
    assert set(failed) == {"ledger-down-co"}, (
        f"Accounting could not file the invoice of ledger-down-co (503). Only that call should "
        f"fail; these failed: {', '.join(f'{c} ({type(e).__name__}: {e})' for c, e in failed.items()) or 'none'}.\n"
        "When the callback of blockConcurrencyWhile throws, the platform resets the whole object: "
        "every request that was waiting behind it fails too.\n"
        "Trace:\n" + excerpt(rt, "rpc:start", "rpc:error", "gate:", "reset", head=12))
    numbers = sorted(r for r in results if isinstance(r, int))
    assert len(numbers) == 4 and len(set(numbers)) == 4, f"The other four invoices get unique numbers: {numbers}"


async def test_no_order_of_three_invoices_shares_a_number(invoices):
    from durable_dojo import Runtime, explore  # every order the platform could run them in

    async def three_at_once(rt):
        book = rt.env.INVOICES.getByName("acme-gmbh")
        numbers = await asyncio.gather(*(book.issue(f"customer-{n}", 100 + n) for n in range(3)))
        assert sorted(numbers) == [1, 2, 3], f"issue() answered {numbers}"
        assert [i["number"] for i in await book.invoices()] == [1, 2, 3]

    found = await explore(three_at_once, make_runtime=lambda: Runtime(
        durable_objects={"INVOICES": invoices.InvoiceBook}, outbound=Accounting(), outbound_latency=ROUND_TRIP))
    for failure in found.failures:
        pytest.fail(
            f"Three invoices issued at the same moment must get 1, 2 and 3. In one of the {found.schedules_run} "
            f"orders the platform could run them in (schedule {failure.schedule}), {failure.exception}.\n"
            "Storage awaits keep other requests out (the input gate), but a fetch between reading "
            "last_number and writing the next one lets them in: they read the same number.\n"
            + failure.trace.format([e for e in failure.trace if e.kind.startswith(("rpc:", "storage:", "fetch:"))],
                                   last=14), pytrace=False)
    assert found.complete, f"only {found.schedules_run} schedules were explored"
