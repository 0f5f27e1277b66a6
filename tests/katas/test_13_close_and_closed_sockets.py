"""Kata 13: closing the handshake, and not sending to sockets that are closing.

The room's sockets use the Hibernation API, for which the runtime never answers a client's close
frame for the object, at any compatibility date (its automatic reply from 2026-04-07 is for the
standard API's sockets): a `webSocketClose` handler that does not call `ws.close()` leaves the
member with 1006. And `getWebSockets()` also returns sockets that
are closing: a broadcast that sends to one of them throws
`TypeError: Can't call WebSocket send() after close().` and stops for everyone after it.
"""

from __future__ import annotations

import pytest

from durable_dojo.testing import connect

KATA = "13-close-and-closed-sockets"
ROOM = "ops"
COMPATIBILITY_DATE = "2026-01-01"
REMOVED = "* bob was removed by a moderator"


@pytest.fixture
def room(load_kata, make_runtime):
    module = load_kata(KATA, "room.py")
    rt = make_runtime(durable_objects={"ROOMS": module.TeamRoom}, compatibility_date=COMPATIBILITY_DATE)
    return rt, rt.env.ROOMS.getByName(ROOM)


async def members(rt, stub, *names):
    clients = []
    for name in names:
        clients.append(await connect(stub, f"https://team.example.com/rooms/{ROOM}?name={name}"))
        await rt.run_until_idle()
    return clients


def story(rt, last=12) -> str:
    return rt.trace.format(rt.trace.select(object=ROOM), last=last)


async def test_a_member_who_leaves_gets_a_clean_close(room):
    rt, stub = room
    # Apps close with a code of their own, or with none at all (the room then receives 1005).
    leaving = (("bob", 1000, "see you tomorrow"), ("carol", None, ""), ("dave", 4001, "switching rooms"))
    for name, code, reason in leaving:
        alice, member = await members(rt, stub, "alice", name)
        member.close(code, reason)  # None: a close frame without a status code
        got, got_reason, clean = await member.closed()
        if got == 1006 or not clean:
            sent = f"with {code} {reason!r}" if code is not None else "without a code"
            pytest.fail(
                f"{name} closed the connection {sent} and waited for the room's answer, but the app saw "
                f"{got} {got_reason!r} (wasClean={clean}): an abnormal closure, as if the network had failed. "
                f"With the Hibernation API the runtime never answers a client's close frame for you: "
                f"webSocketClose must, with a code that may be sent (1000, or 3000-4999; 1005, 1006 and 1015 "
                f"only describe a close).\nThe room's story:\n{story(rt)}",
                pytrace=False,
            )


async def test_the_others_hear_that_a_member_left(room):
    rt, stub = room
    alice, bob, carol = await members(rt, stub, "alice", "bob", "carol")
    bob.close(1000, "bye")
    await rt.run_until_idle()
    for name, client in (("alice", alice), ("carol", carol)):
        if "* bob left" not in client.messages:
            pytest.fail(f"{name} never heard that bob left; got {client.messages}.\n{story(rt)}", pytrace=False)


async def test_removing_a_member_tells_everyone_still_in_the_room(room):
    rt, stub = room
    alice, bob, carol, dave = await members(rt, stub, "alice", "bob", "carol", "dave")
    error = None
    try:
        await stub.remove("bob")
    except Exception as exc:  # noqa: BLE001 - reported below
        error = exc
    await rt.run_until_idle()
    missed = [name for name, client in (("alice", alice), ("carol", carol), ("dave", dave))
              if REMOVED not in client.messages]
    if missed or error is not None:
        failure = f"remove('bob') failed with {type(error).__name__}: {str(error).rstrip('.')}. " if error else ""
        pytest.fail(
            f"{failure}{' and '.join(missed) or 'Nobody'} never heard {REMOVED!r}. remove() closes bob's "
            f"socket, which then is CLOSING until bob answers, and getWebSockets() still returns it: "
            f"sending to it throws, and the broadcast stops there for everyone after bob. Skip sockets "
            f"that are not OPEN, and do not let one failed send stop the rest.\n"
            f"The room's story:\n{story(rt)}",
            pytrace=False,
        )


async def test_the_removed_member_is_disconnected_with_4003(room):
    rt, stub = room
    alice, bob = await members(rt, stub, "alice", "bob")
    try:
        await stub.remove("bob")
    except Exception:  # noqa: BLE001 - another test reports it
        pass
    assert await bob.closed() == (4003, "removed by a moderator", True), story(rt)
    alice.send("is bob gone?")
    await rt.run_until_idle()
    assert "alice: is bob gone?" not in bob.messages


async def test_a_dropped_connection_does_not_break_the_room(room):
    rt, stub = room
    alice, bob, carol = await members(rt, stub, "alice", "bob", "carol")
    carol.drop()  # her laptop lid closed: no close frame at all
    await rt.run_until_idle()
    alice.send("standup in 5")
    await rt.run_until_idle()
    assert "* carol left" in alice.messages and "* carol left" in bob.messages, story(rt)
    assert "alice: standup in 5" in bob.messages, story(rt)
