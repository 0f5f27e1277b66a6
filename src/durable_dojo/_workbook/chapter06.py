"""Checks of chapter 6 (WebSockets): channels kept in tags and names in attachments, through
hibernation; pings answered without waking the object."""

from __future__ import annotations

from .framework import NotYet, attempt, checks, excerpt, require_class, world

HOUR = 3600


async def _join(rt, stub, Answer, url: str, who: str):
    from ..testing import connect

    return await attempt(f"connecting {who} ({url})", connect(stub, url), Answer, rt)


def _show(inboxes: dict) -> str:
    return ", ".join(f"{name} {messages}" for name, messages in inboxes.items())


@checks("06-team-channels")
async def team_channels(Team) -> str:
    from workers import DurableObject

    require_class(Team, "Team", "fetch", "webSocketMessage", base=DurableObject)
    with world({"TEAM": Team}) as rt:
        team = rt.env.TEAM.getByName("acme")
        people = {"ada": "dev", "bob": "dev", "cy": "design", "dee": "design"}
        clients = {}
        for name, channel in people.items():
            clients[name] = await _join(rt, team, Team, f"http://team/connect?user={name}&channel={channel}", name)
        trace = lambda: "\nTrace:\n" + excerpt(rt, "ws:", "constructor", "hibernate", "evict", last=12)  # noqa: E731

        async def say(who, text, expected):
            marks = {name: len(c.messages) for name, c in clients.items()}
            clients[who].send(text)
            await rt.advance(1)
            got = {name: c.messages[marks[name]:] for name, c in clients.items()}
            if got != expected:
                raise NotYet(f"ada and bob are in #dev, cy and dee in #design. {who} said {text!r}{when}, and "
                             f"then got: {_show(got)}. Expected: {_show(expected)}: everyone else in {who}'s "
                             f"channel gets '{who}: {text}', nobody else, and not the sender."
                             + hint(got, expected, who) + trace())

        def hint(got, expected, who):
            if when:
                return (" After hibernation the instance is new: whatever was kept in fields is gone. Keep each "
                        "socket's name in its attachment (serializeAttachment) and its channel in its tags, and "
                        "find the channel's sockets with getWebSockets(tag).")
            leaked = [n for n in got if got[n] and not expected[n]]
            if who in leaked:
                return f" {who} got their own message back: skip the sender's socket (other is not ws)."
            if leaked:
                return f" {', '.join(leaked)} should not have heard it: getWebSockets(channel) gives one channel's sockets."
            return ""

        when = ""
        await say("ada", "hi", {"ada": [], "bob": ["ada: hi"], "cy": [], "dee": []})
        await say("cy", "lunch?", {"ada": [], "bob": [], "cy": [], "dee": ["cy: lunch?"]})
        await rt.advance(HOUR)  # a quiet hour
        if not rt.trace.select("hibernate"):
            billed = rt.metrics("TEAM")["durationSeconds"]
            raise NotYet(f"Nobody said anything for an hour and the team object stayed in memory ({billed:,.0f} s "
                         "billed). Sockets accepted with server.accept() (the standard API) pin the object; accept "
                         "them with self.ctx.acceptWebSocket(server, tags) so that it can hibernate." + trace())
        when = " after an hour of silence (the object had hibernated)"
        await say("bob", "still there?", {"ada": ["bob: still there?"], "bob": [], "cy": [], "dee": []})
        await say("dee", "yes", {"ada": [], "bob": [], "cy": ["dee: yes"], "dee": []})
    return ("Each message reached its own channel only, with the sender's name, before and after hibernation: "
            "the channel and the name travel with each socket (its tags or its attachment), not in fields.")


@checks("06-ping-without-waking")
async def ping_without_waking(Room) -> str:
    from workers import DurableObject

    require_class(Room, "Room", "fetch", "webSocketMessage", base=DurableObject)
    with world({"ROOM": Room}) as rt:
        room = rt.env.ROOM.getByName("lobby")
        ada = await _join(rt, room, Room, "http://room/connect", "ada")
        bob = await _join(rt, room, Room, "http://room/connect", "bob")
        trace = lambda: "\nTrace:\n" + excerpt(rt, "ws:", "constructor", "hibernate", last=10)  # noqa: E731
        ada.send("hello")
        await rt.advance(1)
        if bob.messages != ["hello"]:
            raise NotYet(f"ada said 'hello'; bob got {bob.messages}, expected ['hello']: the room passes each "
                         "message on to the others, as the exercise cell does." + trace())
        await rt.advance(60)
        before = len(rt.trace.select("constructor"))
        billed_before = rt.metrics("ROOM")["durationSeconds"]
        marks = (len(ada.messages), len(bob.messages))
        for _ in range(15):  # both clients ping every 20 s for 5 minutes
            ada.send("ping")
            bob.send("ping")
            await rt.advance(20)
        pongs = (ada.messages[marks[0]:], bob.messages[marks[1]:])
        if pongs != (["pong"] * 15, ["pong"] * 15):
            raise NotYet(f"ada and bob each sent 'ping' 15 times; ada got {pongs[0][:4]}… ({len(pongs[0])} "
                         f"messages) and bob {pongs[1][:4]}… ({len(pongs[1])}): expected 'pong' for each ping, "
                         "to the client that pinged, and nothing else." + trace())
        woken = len(rt.trace.select("constructor")) - before
        billed = rt.metrics("ROOM")["durationSeconds"] - billed_before
        if woken:
            raise NotYet(f"The pings were answered, but they woke the hibernated object {woken} times (a "
                         "constructor for each, then webSocketMessage): billed duration and CPU for every "
                         "keep-alive. The runtime can answer an exact message itself without waking the object: "
                         "ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new('ping', 'pong'))." + trace())
        if billed > 1:
            raise NotYet(f"No ping woke the object, but it stayed in memory for the {billed:,.0f} s of pings, all "
                         "billed: sockets accepted with server.accept() (the standard API) pin it. Accept them with "
                         "self.ctx.acceptWebSocket(server) and let the runtime answer the pings." + trace())
        ada.send("bye")
        await rt.advance(1)
        if bob.messages[-1:] != ["bye"]:
            raise NotYet(f"After the pings, ada said 'bye'; bob's last messages are {bob.messages[-3:]}, expected "
                         "'bye' to reach him: the room still passes real messages on." + trace())
    return ("30 pings got their pongs with the object hibernated the whole time (no constructor, no duration "
            "billed), and real messages still reach the room.")
