"""Kata 17: `BEGIN TRANSACTION` through `sql.exec`.

A Durable Object's SQLite database refuses transaction statements from `sql.exec()` with the
platform's error ("To execute a transaction, please use the state.storage.transaction() or
state.storage.transactionSync() APIs instead..."). An order books several seats and records one
sale: a failure in the middle (a seat that is already taken) must roll back the seats booked
before it.
"""

from __future__ import annotations

import pytest

KATA = "17-sql-begin-transaction"
CONCERT = "2026-06-12-philharmonie"
PLATFORM_REFUSAL = "To execute a transaction, please use the state.storage.transaction()"


@pytest.fixture
def concert(load_kata, make_runtime):
    module = load_kata(KATA, "tickets.py")
    rt = make_runtime(durable_objects={"CONCERTS": module.Concert})
    return rt, rt.env.CONCERTS.getByName(CONCERT)


def story(rt, last=10) -> str:
    return rt.trace.format(rt.trace.select(object=CONCERT), last=last)


async def book(stub, customer, seats):
    """Place an order; returns (total, None) or (None, the error it raised)."""
    try:
        return await stub.book(customer, seats), None
    except Exception as exc:  # noqa: BLE001 - the tests look at it
        return None, exc


def refused_by_platform(rt, error, what):
    if error is not None and PLATFORM_REFUSAL in str(error):
        pytest.fail(
            f"{what} failed before it started: the platform refuses transaction statements in sql.exec():\n"
            f"  {type(error).__name__}: {error}\n"
            f"BEGIN, COMMIT, ROLLBACK and SAVEPOINT belong to the storage API: run the work as a function "
            f"given to ctx.storage.transactionSync().\n{story(rt)}",
            pytrace=False,
        )


async def test_an_order_books_its_seats_and_records_the_sale(concert):
    rt, stub = concert
    total, error = await book(stub, "ann", ["A1", "A2"])
    refused_by_platform(rt, error, "book('ann', ['A1', 'A2'])")
    assert error is None, f"book('ann', ['A1', 'A2']) raised {type(error).__name__}: {error}"
    assert total == 90
    assert await stub.seating() == {"A1": "ann", "A2": "ann"}
    assert await stub.sales() == [["ann", 2, 90]]


async def test_an_order_that_fails_midway_books_nothing(concert):
    rt, stub = concert
    _, error = await book(stub, "ann", ["A2"])
    refused_by_platform(rt, error, "book('ann', ['A2'])")
    _, error = await book(stub, "bob", ["A1", "A2", "A3"])  # A1 goes in, then A2 is taken
    refused_by_platform(rt, error, "book('bob', ['A1', 'A2', 'A3'])")
    assert error is not None, "A2 is already ann's: bob's order must fail"
    seating, sales = await stub.seating(), await stub.sales()
    if seating != {"A2": "ann"} or sales != [["ann", 1, 45]]:
        pytest.fail(
            f"bob's order failed at its second seat, but what ran before the failure was kept: seating is "
            f"{seating}, sales {sales}. Seats booked for an order that failed are ghost bookings: bob has "
            f"not paid for them, and nobody else can buy them. The seats and the sale must be committed "
            f"together or not at all.\n{story(rt)}",
            pytrace=False,
        )


async def test_after_a_failed_order_the_free_seats_can_still_be_booked(concert):
    rt, stub = concert
    await book(stub, "ann", ["B5"])
    _, error = await book(stub, "bob", ["B4", "B5"])
    refused_by_platform(rt, error, "book('bob', ['B4', 'B5'])")
    assert error is not None, "B5 is already ann's: bob's order must fail"
    total, error = await book(stub, "bob", ["B4", "B6"])
    refused_by_platform(rt, error, "book('bob', ['B4', 'B6']) after a failed order")
    if error is not None:
        pytest.fail(f"bob's second order (B4 and B6, which must both be free: his first order failed) raised "
                    f"{type(error).__name__}: {error}. A failed order must leave no seat behind.\n{story(rt)}",
                    pytrace=False)
    await rt.evict(stub)  # committed to storage, not just in memory
    assert await stub.seating() == {"B5": "ann", "B4": "bob", "B6": "bob"}
    assert await stub.sales() == [["ann", 1, 45], ["bob", 2, 90]]


async def test_an_order_with_a_bad_seat_books_nothing(concert):
    rt, stub = concert
    await book(stub, "ann", ["C10"])
    # Orders that must fail as a whole: a seat that does not exist, or the same seat twice, at
    # different places in the order (checking the taken seats first is not enough).
    bad_orders = [["A3", "Z9"], ["B1", "B2", "A0"], ["C1", "C1"], ["Q1", "A4"], ["A5", "B5", "C5", "A5"]]
    for seats in bad_orders:
        _, error = await book(stub, "bob", seats)
        refused_by_platform(rt, error, f"book('bob', {seats})")
        seating, sales = await stub.seating(), await stub.sales()
        if error is None or seating != {"C10": "ann"} or sales != [["ann", 1, 45]]:
            pytest.fail(
                f"book('bob', {seats}) {'raised' if error is not None else 'did not raise'}"
                f"{f' {type(error).__name__}: {error}' if error is not None else ''}, and left seating {seating}, "
                f"sales {sales}. An order with a bad seat must fail and book nothing: the seats before the bad "
                f"one must not stay booked. Check what you like first, but the seats and the sale must be "
                f"written together or not at all (ctx.storage.transactionSync).\n{story(rt)}",
                pytrace=False,
            )
