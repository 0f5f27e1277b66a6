"""Kata 12: a chat room on the Hibernation API that keeps its sockets and names in memory.

After 10 idle seconds the room hibernates: the instance is dropped, the sockets stay connected,
and the next message runs the constructor again. Whatever lived in instance fields is gone.
`rt.advance(11)` makes the room hibernate; the test clients stay connected throughout.
"""

from __future__ import annotations

import pytest

from durable_dojo.testing import connect

KATA = "12-chat-room-amnesia"
ROOM = "lobby"


@pytest.fixture
def room(load_kata, make_runtime):
    module = load_kata(KATA, "chat.py")
    rt = make_runtime(durable_objects={"ROOMS": module.ChatRoom})
    return rt, rt.env.ROOMS.getByName(ROOM)


async def join(rt, stub, name):
    ws = await connect(stub, f"https://chat.example.com/rooms/{ROOM}?name={name}")
    await rt.run_until_idle()
    return ws


def story(rt, last=12) -> str:
    return rt.trace.format(rt.trace.select(object=ROOM), last=last)


async def hibernate(rt):
    """Let the room sit idle until it hibernates (and check that it did)."""
    before = len(rt.trace.select("hibernate", object=ROOM))
    await rt.advance(11)
    if len(rt.trace.select("hibernate", object=ROOM)) == before:
        pytest.fail("The room did not hibernate after 11 idle seconds. A room whose sockets were accepted "
                    "with ctx.acceptWebSocket() and that has nothing else to do (no alarm, no standard-API "
                    f"socket) hibernates after 10 s.\n{story(rt)}", pytrace=False)


def expect(rt, client, who, message, why):
    if message not in client.messages:
        pytest.fail(f"{who} never received {message!r} ({why}). {who} got: {client.messages}.\n"
                    f"The room's story:\n{story(rt)}", pytrace=False)


async def test_messages_reach_everyone_after_the_room_hibernates(room):
    rt, stub = room
    alice, bob, carol = [await join(rt, stub, n) for n in ("alice", "bob", "carol")]
    alice.send("before the nap")
    await rt.run_until_idle()
    expect(rt, bob, "bob", "alice: before the nap", "the room was awake")
    await hibernate(rt)
    alice.send("anyone still here?")
    await rt.run_until_idle()
    for name, client in (("bob", bob), ("carol", carol)):
        expect(rt, client, name, "alice: anyone still here?",
               "the room hibernated, but every socket is still connected")


async def test_who_lists_everyone_after_hibernation(room):
    rt, stub = room
    alice, bob = [await join(rt, stub, n) for n in ("alice", "bob")]
    await hibernate(rt)
    bob.send("/who")
    await rt.run_until_idle()
    expect(rt, bob, "bob", "online: alice, bob", "both are connected; their names must survive hibernation")


async def test_joins_and_leaves_after_hibernation_are_announced_by_name(room):
    rt, stub = room
    alice, bob = [await join(rt, stub, n) for n in ("alice", "bob")]
    await hibernate(rt)
    dave = await join(rt, stub, "dave")
    expect(rt, alice, "alice", "* dave joined", "dave joined after the room had hibernated")
    expect(rt, bob, "bob", "* dave joined", "dave joined after the room had hibernated")
    await hibernate(rt)
    bob.close(1000, "gotta go")
    await rt.run_until_idle()
    expect(rt, alice, "alice", "* bob left", "bob left; his name must be known after hibernation")
    expect(rt, dave, "dave", "* bob left", "bob left; his name must be known after hibernation")


async def test_the_room_still_hibernates_and_nobody_is_disconnected(room):
    rt, stub = room
    alice, bob = [await join(rt, stub, n) for n in ("alice", "bob")]
    await hibernate(rt)  # a fix that pins the room in memory (standard API, a timer) fails here
    if (alice.readyState, bob.readyState) != (1, 1) or alice.close_info or bob.close_info:
        pytest.fail(f"Hibernation must not disconnect anyone: alice {alice.close_info}, bob {bob.close_info}.\n"
                    f"{story(rt)}", pytrace=False)


async def test_each_room_hears_only_its_own_members(load_kata, make_runtime):
    module = load_kata(KATA, "chat.py")
    rt = make_runtime(durable_objects={"ROOMS": module.ChatRoom}, isolates=1)  # both rooms in one isolate
    stub, kitchen = rt.env.ROOMS.getByName(ROOM), rt.env.ROOMS.getByName("kitchen")
    alice, bob = [await join(rt, stub, n) for n in ("alice", "bob")]
    zed = await connect(kitchen, "https://chat.example.com/rooms/kitchen?name=zed")
    await rt.run_until_idle()
    alice.send("lobby only")
    await rt.run_until_idle()
    expect(rt, bob, "bob", "alice: lobby only", "bob is in the lobby with alice")
    leaked = [m for m in zed.messages if "alice" in m or "bob" in m]
    if leaked:
        pytest.fail(f"zed, in the kitchen, received {leaked}: what was said in the lobby reached zed in another "
                    "room. Each room is its own object; whatever is kept at module level is shared by every room "
                    f"that the isolate hosts.\nThe lobby's story:\n{story(rt)}", pytrace=False)


async def test_names_are_known_after_a_restart(room):
    rt, stub = room
    alice, bob = [await join(rt, stub, n) for n in ("alice", "bob")]
    await rt.evict_all()  # a restart: the code is loaded again; hibernatable sockets stay connected
    await rt.run_until_idle()
    bob.send("/who")
    await rt.run_until_idle()
    expect(rt, bob, "bob", "online: alice, bob",
           "after a restart the room's code starts over, module-level dicts included; the names must come "
           "from what the runtime keeps with each socket")
