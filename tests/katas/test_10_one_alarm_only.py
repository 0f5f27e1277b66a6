"""Kata 10: one alarm per object. An auction has two things to do later, at two times: warn the
bidders two minutes before the end, and close at the end. Calling `setAlarm` once per job keeps
only the job set last: the second `setAlarm` replaces the first.

The notification service is the test's `outbound` handler: it records who was told what, and
when (virtual time). Alarms may run up to a minute late on the platform, so "on time" means at
the due time or at most 60 s after it.
"""

from __future__ import annotations


import pytest
from workers import Response

KATA = "10-one-alarm-only"
HOUR = 3600
LATE_MS = 60_000
ENDING_SOON_MS = 2 * 60_000
EXTENSION_MS = 5 * 60_000


class Notifications:
    """The notification service: records every message with the virtual time it arrived."""

    def __init__(self):
        self.rt = None
        self.sent: list[dict] = []

    async def __call__(self, request):
        body = await request.json()
        self.sent.append({"at": self.rt.now(), "to": body["to"], "text": body["text"]})
        return Response("queued", status=202)

    def to(self, user, containing) -> list[dict]:
        return [m for m in self.sent if m["to"] == user and containing in m["text"]]


@pytest.fixture
def world(load_kata, make_runtime):
    module = load_kata(KATA, "auction.py")
    notifications = Notifications()
    rt = make_runtime(durable_objects={"AUCTIONS": module.Auction}, outbound=notifications)
    notifications.rt = rt
    return rt, notifications


def story(rt, auction, last=12) -> str:
    events = [e for e in rt.trace if (e.object == auction and e.kind.startswith(("alarm:", "rpc:start")))
              or e.kind == "fetch:out"]
    return rt.trace.format(events, last=last) or "(no alarm events at all)"


def at(rt, ms) -> str:
    return f"{(ms - rt.start_ms) / 1000:g} s"


def expect_once_on_time(rt, auction, notes, user, containing, due, what):
    got = notes.to(user, containing)
    if len(got) != 1:
        pytest.fail(
            f"{what}: {user} should get one message containing {containing!r} at {at(rt, due)}, "
            f"but got {len(got)}. Every message sent: {[(at(rt, m['at']), m['to'], m['text']) for m in notes.sent]}.\n"
            f"A Durable Object has one alarm, and each setAlarm() replaces the one set before it: "
            f"every job that is waiting must be covered by that one alarm, and the alarm must be armed "
            f"again after it rings. The auction's alarms and notifications:\n{story(rt, auction)}",
            pytrace=False,
        )
    if not due <= got[0]["at"] <= due + LATE_MS:
        pytest.fail(f"{what}: {user} got {got[0]['text']!r} at {at(rt, got[0]['at'])}, but it was due at "
                    f"{at(rt, due)} (at most a minute late).\n{story(rt, auction)}", pytrace=False)


async def expect_closed(rt, stub, auction, end):
    state = await stub.state()
    if state["status"] != "closed":
        harm = ("the winner never learns that they won and the seller is never paid" if state.get("best") else
                "nobody bid, and the seller never learns that the item did not sell (nor can relist it)")
        pytest.fail(
            f"The auction was due to close at {at(rt, end)}; at {at(rt, rt.now())} it is still {state['status']!r}: "
            f"{harm}. An object has one alarm, and "
            f"each setAlarm() replaces the one before: closing must be one of the jobs the one alarm runs.\n"
            f"{story(rt, auction)}",
            pytrace=False,
        )


async def test_bidders_are_warned_and_the_auction_closes_at_its_end(world):
    rt, notes = world
    lamp = rt.env.AUCTIONS.getByName("lamp")
    end = await lamp.open("art-deco lamp", "sam", HOUR)
    await rt.advance(600)
    assert (await lamp.bid("ann", 100))["accepted"] and (await lamp.bid("bob", 120))["accepted"]
    await rt.evict_all()  # nothing may depend on the object staying in memory
    await rt.advance((end - rt.now()) / 1000 - 60)  # a minute before the end: the warning is out
    await rt.evict_all()  # a deploy between the warning and the close
    await rt.advance(2 * HOUR)
    for user in ("ann", "bob"):
        expect_once_on_time(rt, "lamp", notes, user, "2 minutes left", end - ENDING_SOON_MS,
                            "The ending-soon warning")
    await expect_closed(rt, lamp, "lamp", end)
    expect_once_on_time(rt, "lamp", notes, "bob", "You won art-deco lamp for 120", end, "The winner's message")
    expect_once_on_time(rt, "lamp", notes, "sam", "sold to bob for 120", end, "The seller's message")
    assert not (await lamp.bid("ann", 500))["accepted"], "a bid after the close must be refused"


async def test_a_late_bid_moves_the_end_and_the_warning_with_it(world):
    rt, notes = world
    clock = rt.env.AUCTIONS.getByName("clock")
    end = await clock.open("grandfather clock", "sam", HOUR)
    await rt.advance(600)
    assert (await clock.bid("ann", 300))["accepted"]
    await rt.advance(HOUR - 600 - 4 * 60)  # four minutes before the end, before the warning
    late = await clock.bid("bob", 350)
    new_end = rt.now() + EXTENSION_MS
    assert late == {"accepted": True, "end": new_end}, f"a bid 4 minutes before the end moves the end: {late}"
    await rt.advance(2 * HOUR)
    for user in ("ann", "bob"):
        expect_once_on_time(rt, "clock", notes, user, "2 minutes left", new_end - ENDING_SOON_MS,
                            "After a late bid, the ending-soon warning")
    expect_once_on_time(rt, "clock", notes, "bob", "You won grandfather clock for 350", new_end,
                        "After a late bid, the winner's message")
    await expect_closed(rt, clock, "clock", new_end)
    assert not notes.to("ann", "You won"), f"ann was outbid: {notes.sent}"
    assert end < new_end


async def test_an_auction_without_bids_tells_the_seller(world):
    rt, notes = world
    vase = rt.env.AUCTIONS.getByName("vase")
    end = await vase.open("blue vase", "sam", 30 * 60)
    await rt.advance(HOUR)
    await expect_closed(rt, vase, "vase", end)
    expect_once_on_time(rt, "vase", notes, "sam", "blue vase did not sell", end, "The seller's message")
