"""Kata 07, money that vanishes: a transfer changes two balances, together or not at all.

Writes with an `await` of something else between them (a fetch, a timer) are committed
separately: a failure or a crash in between leaves half a transfer. `ctx.storage.transaction()`
makes a group of writes atomic, and writes with no await between them are coalesced into one
atomic batch.
"""

import asyncio

import pytest

from workers import Response

KATA = "07-vanishing-money"
RISK_LATENCY = 0.01
OPENING = {"mum": 10_000, "kid": 2_500}
TOTAL = sum(OPENING.values())


@pytest.fixture
def wallet(load_kata):
    return load_kata(KATA, "wallet.py")


class Risk:
    """The risk service: refuses transfers to 'casino', allows the rest."""

    def __init__(self):
        self.checked = []

    async def __call__(self, request):
        body = await request.json()
        self.checked.append((body["from"], body["to"], body["amount"]))
        if body["to"] == "casino":
            return Response.from_json({"verdict": "refuse"}, status=403)
        return Response.from_json({"verdict": "allow"})


@pytest.fixture
def world(wallet, make_runtime):
    risk = Risk()
    rt = make_runtime(durable_objects={"WALLETS": wallet.Wallet}, outbound=risk, outbound_latency=RISK_LATENCY)
    return rt, risk


async def open_family(rt, *extra):
    stub = rt.env.WALLETS.getByName("family-okafor")
    for name, cents in {**OPENING, **dict(extra)}.items():
        await stub.open_account(name, cents)
    return stub


def excerpt(rt, *kinds, last=12):
    events = [e for e in rt.trace if any(e.kind == k or (k.endswith(":") and e.kind.startswith(k)) for k in kinds)]
    return rt.trace.format(events, last=last) or "(no such events)"


async def test_a_transfer_moves_money(world):
    rt, risk = world
    family = await open_family(rt)
    result = await family.transfer("mum", "kid", 1_000)
    assert result == {"mum": 9_000, "kid": 3_500}, f"transfer() should answer the new balances, not {result}."
    assert await family.balances() == {"mum": 9_000, "kid": 3_500}, "1000 cents moved from mum to kid."
    assert risk.checked == [("mum", "kid", 1_000)], f"Every transfer is checked by the risk service: {risk.checked}"


async def test_a_transfer_without_the_money_moves_nothing(world):
    rt, risk = world
    family = await open_family(rt)
    with pytest.raises(Exception, match="insufficient funds"):
        await family.transfer("kid", "mum", 5_000)
    assert await family.balances() == OPENING, "A refused transfer leaves both balances alone."


async def test_two_transfers_at_once_cannot_overdraw(world):
    rt, risk = world
    family = await open_family(rt)
    rt.trace.clear()
    results = await asyncio.gather(family.transfer("kid", "mum", 2_000), family.transfer("kid", "mum", 2_000),
                                   return_exceptions=True)
    balances = await family.balances()
    done = [r for r in results if not isinstance(r, BaseException)]
    assert len(done) == 1 and balances == {"mum": 12_000, "kid": 500}, (
        f"The kid has 2500 cents and sent 2000 to mum twice at the same moment: exactly one transfer "
        f"can succeed. transfer() answered {results}, and the balances are {balances}.\n"
        "A balance read before the risk check may be stale after it: other transfers ran meanwhile.\n"
        "Trace:\n" + excerpt(rt, "rpc:start", "storage:", "fetch:out"))


async def test_a_refused_transfer_moves_no_money(world):
    rt, risk = world
    family = await open_family(rt, ("casino", 0))
    await family.transfer("mum", "kid", 1_000)
    rt.trace.clear()
    try:
        answer = await family.transfer("kid", "casino", 2_000)
    except Exception as exc:  # noqa: BLE001 - the refusal is expected
        answer = exc
    if not (isinstance(answer, Exception) and "refused" in str(answer)):
        pytest.fail(
            f"The risk service refused the kid's transfer to the casino, and transfer() answered {answer!r} "
            "instead of raising the refusal: the caller believes the money moved. A refused transfer must "
            "fail, so the app can tell the kid.\n" + excerpt(rt, "rpc:", "fetch:out"), pytrace=False)
    balances = await family.balances()
    total = sum(balances.values()) if isinstance(balances, dict) else None
    assert balances == {"mum": 9_000, "kid": 3_500, "casino": 0}, (
        f"The risk service refused the kid's transfer to the casino, so no balance may change; "
        f"the balances are now {balances} (total {total}, it was {TOTAL}): money was destroyed.\n"
        "A write made before the exception stays written: an exception does not undo it, so a "
        "debit followed by a refusal is money gone.\n"
        "Trace:\n" + excerpt(rt, "rpc:start", "rpc:error", "storage:", "fetch:out", "commit"))


async def test_a_crash_mid_transfer_neither_creates_nor_destroys_money(world):
    rt, risk = world
    family = await open_family(rt)
    await family.transfer("mum", "kid", 1_000)
    rt.trace.clear()
    transfer = family.transfer("mum", "kid", 4_000)
    rt.faults.crash_after(family, RISK_LATENCY / 2)  # the machine dies while the risk check is in flight
    with pytest.raises(Exception, match="Network connection lost"):
        await transfer
    fresh = rt.env.WALLETS.getByName("family-okafor")  # a crash breaks the old stub; retry with a new one
    balances = await fresh.balances()
    before, after = {"mum": 9_000, "kid": 3_500}, {"mum": 5_000, "kid": 7_500}
    assert balances in (before, after), (
        f"The object crashed in the middle of a 4000-cent transfer. Afterwards the balances must be "
        f"as before ({before}) or as after ({after}), never half of each; they are {balances} "
        f"(total {sum(balances.values())}, it was {TOTAL}).\n"
        "Writes separated by a fetch (or any await that is not storage) are committed separately: "
        "here the debit was committed before the risk check went out, and the credit never came.\n"
        "Trace:\n" + excerpt(rt, "rpc:start", "storage:", "fetch:out", "commit", "crash"))


async def test_money_is_never_created_or_destroyed_in_any_order(wallet):
    from durable_dojo import Runtime, explore  # every order the platform could run them in

    transfers = [("kid", "mum", 2_000), ("mum", "kid", 1_000), ("kid", "casino", 500)]

    async def three_transfers_at_once(rt):
        family = await open_family(rt, ("casino", 0))
        results = await asyncio.gather(*(family.transfer(*t) for t in transfers), return_exceptions=True)
        expected = {**OPENING, "casino": 0}
        for (source, target, amount), result in zip(transfers, results):
            if not isinstance(result, BaseException):
                expected[source] -= amount
                expected[target] += amount
        balances = await family.balances()
        assert balances == expected, f"transfer() answered {results}, so the balances should be {expected}: {balances}"

    found = await explore(three_transfers_at_once, make_runtime=lambda: Runtime(
        durable_objects={"WALLETS": wallet.Wallet}, outbound=Risk(), outbound_latency=RISK_LATENCY))
    for failure in found.failures:
        pytest.fail(f"Three transfers at once (one refused by the risk service): in one of the {found.schedules_run} "
                    f"orders the platform could run them in (schedule {failure.schedule}), {failure.exception}.\n"
                    "Trace of that run:\n" + failure.trace.format(last=14))
    assert found.complete


async def test_no_order_of_two_transfers_overdraws(wallet):
    from durable_dojo import Runtime, explore  # every order the platform could run them in

    async def two_transfers_at_once(rt):
        family = await open_family(rt)
        results = await asyncio.gather(family.transfer("kid", "mum", 2_000), family.transfer("kid", "mum", 2_000),
                                       return_exceptions=True)
        balances = await family.balances()
        done = [r for r in results if not isinstance(r, BaseException)]
        assert len(done) == 1 and balances == {"mum": 12_000, "kid": 500}, (
            f"{len(done)} of the two transfers went through and the balances are {balances}")

    found = await explore(two_transfers_at_once, make_runtime=lambda: Runtime(
        durable_objects={"WALLETS": wallet.Wallet}, outbound=Risk(), outbound_latency=RISK_LATENCY))
    for failure in found.failures:
        pytest.fail(
            f"The kid has 2500 cents and sends 2000 to mum twice at the same moment. In one of the "
            f"{found.schedules_run} orders the platform could run the two transfers in (schedule "
            f"{failure.schedule}), {failure.exception}: exactly one transfer can succeed. A balance read "
            "before the risk check may be stale after it: other transfers ran meanwhile.\n"
            + failure.trace.format([e for e in failure.trace if e.kind.startswith(("rpc:", "storage:", "fetch:"))],
                                   last=14), pytrace=False)
    assert found.complete, f"only {found.schedules_run} schedules were explored"
