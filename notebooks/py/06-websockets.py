# %% [markdown]
# # 6. WebSockets: long connections without a long bill
#
# A Durable Object is a natural home for WebSockets: every client of a chat room, a game or a
# shared document connects to the same object, which sees all messages in order. There are two
# ways to accept a socket, and the difference decides what you pay and what survives:
#
# * the **standard API** (`server.accept()`, `addEventListener`): the socket belongs to the
#   instance. The object can never hibernate while it is open, and you pay for every second.
# * the **Hibernation API** (`ctx.acceptWebSocket(server, tags)`, handler methods
#   `webSocketMessage` / `webSocketClose`): the socket belongs to the *object* and does not keep
#   it in memory. Like any idle object with nothing pending, it hibernates after 10 idle
#   seconds: the instance is dropped, the connections stay open, and the next message wakes it.
#
# Clients here are `durable_dojo.testing.connect(...)`: a WebSocket client end with `send`,
# `await receive()`, `close()` and `drop()`. At the end a real browser connects through
# `dojo serve`.

# %%
from durable_dojo import Runtime
from durable_dojo.testing import connect
from durable_dojo.widgets import Inspector, Timeline
from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response, WorkerEntrypoint

HOUR = 3600

# %% [markdown]
# ## The standard API pins the object in memory
#
# A common chat-room example keeps its sockets in a set on the instance, with the standard API. It
# works, until you look at what it costs: three clients idle for an hour keep the object in
# memory for the whole hour, and the platform bills that time.

# %%
# NBVAL_CHECK_OUTPUT
class PinnedRoom(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sockets = set()                          # the common approach

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        server.accept()                               # standard API
        self.sockets.add(server)

        def on_message(event):
            for ws in self.sockets:
                if ws is not server:
                    ws.send(event.data)

        server.addEventListener("message", on_message)
        server.addEventListener("close", lambda event: self.sockets.discard(server))
        return Response(None, status=101, web_socket=client)


pinned = Runtime(durable_objects={"ROOM": PinnedRoom})
room = pinned.env.ROOM.getByName("lobby")
clients = [await connect(room, "http://room/") for _ in range(3)]
clients[0].send("hello")
print("client 1 got:", await clients[1].receive())
await pinned.advance(HOUR)
print("evictions or hibernations in an hour:", len(pinned.trace.select("evict") + pinned.trace.select("hibernate")))
print(f"billed time in memory: {pinned.metrics('ROOM')['durationSeconds']:,.0f} s")

# %% [markdown]
# ## The Hibernation API
#
# The same room with the Hibernation API. Each socket gets **tags** (here the room and the
# user) and an **attachment**, a small value stored with the connection (up to 16 KiB), for the
# per-connection state that would otherwise live in a field. Broadcast is `getWebSockets(tag)`.

# %%
# NBVAL_CHECK_OUTPUT
class ChatRoom(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.greeted_in_memory = set()                # only to show what hibernation drops

    async def fetch(self, request):
        name = request.url.rsplit("name=", 1)[-1]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, ["room", f"user:{name}"])
        server.serializeAttachment({"name": name, "sent": 0})
        self.greeted_in_memory.add(name)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        me = ws.deserializeAttachment()
        me["sent"] += 1
        ws.serializeAttachment(me)                    # attachments are copies: store it again
        if message == "/whoami":
            ws.send(f"{me['name']}, {me['sent']} messages, in memory: {sorted(self.greeted_in_memory)}")
        elif message.startswith("@"):
            target, text = message[1:].split(" ", 1)
            for other in self.ctx.getWebSockets(f"user:{target}"):
                other.send(f"(private) {me['name']}: {text}")
        else:
            for other in self.ctx.getWebSockets("room"):
                if other is not ws:
                    other.send(f"{me['name']}: {message}")

    async def webSocketClose(self, ws, code, reason, wasClean):
        for other in self.ctx.getWebSockets("room"):
            other.send(f"{ws.deserializeAttachment()['name']} left ({code})")


chat = Runtime(durable_objects={"ROOM": ChatRoom})
lobby = chat.env.ROOM.getByName("lobby")
ada = await connect(lobby, "http://room/?name=ada")
bob = await connect(lobby, "http://room/?name=bob")
cy = await connect(lobby, "http://room/?name=cy")
ada.send("hello all")
print("bob:", await bob.receive(), "| cy:", await cy.receive())
ada.send("@cy just for you")
print("cy:", await cy.receive(), "| bob has", len(bob.messages), "message(s)")
ada.send("/whoami")
print("ada:", await ada.receive())

# %% [markdown]
# Now nobody says anything for an hour. After 10 idle seconds the object hibernates; the
# sockets stay connected, with their tags and attachments. The next message runs the
# constructor again (the in-memory set is empty) and then `webSocketMessage`, which still knows
# who `ada` is from her attachment.

# %%
# NBVAL_CHECK_OUTPUT
await chat.advance(HOUR)
print(chat.trace.format(chat.trace.select("hibernate")))
print(Inspector(chat, timeline=None).text())
ada.send("/whoami")
print("ada:", await ada.receive())
bob.send("still here")
print("ada:", await ada.receive())
print(f"billed time in memory: {chat.metrics('ROOM')['durationSeconds']:,.0f} s")

# %% [markdown]
# No duration billed instead of an hour (an idle object that can hibernate is not billed, even
# before it hibernates), and nothing the room needs was lost. The rule that
# follows: **keep per-connection state in attachments (or storage), and find sockets with
# `getWebSockets(tag)`, never in a field.**

# %% [markdown]
# ### Exercise: channels that survive hibernation
#
# One object per team, several channels in it. A socket joins with `/connect?user=ada&channel=dev`,
# and a message goes to the others in the sender's channel as `ada: <text>`. This version keeps who
# is who in a field: it works until the first quiet spell, when the object hibernates and comes back
# with an empty dict. Put the channel in the socket's tags and the name in its attachment, and find
# a channel's sockets with `getWebSockets(tag)`.

# %% tags=["exercise"]
# Exercise: channels that survive hibernation: tags and attachments instead of fields.
from urllib.parse import parse_qs, urlparse

from js import WebSocketPair
from workers import DurableObject, Response


class Team(DurableObject):
    """One object per team. GET /connect?user=ada&channel=dev opens a socket; a message goes to the
    others in the sender's channel as 'ada: <text>'."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.members = {}                                  # socket -> (user, channel): memory only

    async def fetch(self, request):
        query = parse_qs(urlparse(request.url).query)
        user, channel = query["user"][0], query["channel"][0]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        self.members[server] = (user, channel)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        user, channel = self.members[ws]
        for other, (_, their_channel) in self.members.items():
            if their_channel == channel and other is not ws:
                other.send(f"{user}: {message}")

# %%
from durable_dojo.workbook import check

await check("06-team-channels", Team)

# %% [markdown]
# ## Auto-response: answering pings without waking up
#
# Clients send keep-alive pings. With `ctx.setWebSocketAutoResponse(pair)` the runtime answers an
# exact message itself, without waking a hibernated object:

# %%
# NBVAL_CHECK_OUTPUT
class PingRoom(ChatRoom):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))


pings = Runtime(durable_objects={"ROOM": PingRoom})
client = await connect(pings.env.ROOM.getByName("r"), "http://room/?name=dee")
await pings.advance(60)                               # hibernated
before = len(pings.trace.select("constructor"))
for _ in range(3):
    client.send("ping")
    print(await client.receive(), end=" ")
print("- constructors run by the pings:", len(pings.trace.select("constructor")) - before)

# %% [markdown]
# ### Exercise: pings that do not wake the room
#
# The clients of this room send `ping` every 20 s to keep their connections open. The room answers
# each one from `webSocketMessage`, which wakes the hibernated object (a constructor, then the
# handler) for every ping of every client. Let the runtime answer them instead, and keep passing
# real messages on.

# %% tags=["exercise"]
# Exercise: answer the clients' keep-alive pings without waking the object.
from js import WebSocketPair
from workers import DurableObject, Response


class Room(DurableObject):
    """Passes each message on to everyone else in the room. Clients send 'ping' every 20 s and
    expect 'pong' back."""

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        if message == "ping":
            ws.send("pong")
            return
        for other in self.ctx.getWebSockets():
            if other is not ws:
                other.send(message)

# %%
await check("06-ping-without-waking", Room)

# %% [markdown]
# ## Closing: the handshake, and clients that just vanish
#
# A clean close is a handshake: the client sends a Close frame, the server answers with one.
# For a hibernatable socket, `webSocketClose` **must call `ws.close()`** at every compatibility
# date, or the client ends with code 1006 (abnormal closure): the runtime's automatic answer
# (from 2026-04-07) is for sockets of the standard API (`server.accept()`) only.
# A client that disappears without a Close frame (a closed laptop) also arrives as 1006, with
# `wasClean=False`: that is where you clean up what you keep about the connection.

# %%
# NBVAL_CHECK_OUTPUT
class ForgetfulRoom(ChatRoom):
    async def webSocketClose(self, ws, code, reason, wasClean):
        await self.ctx.storage.put("last_close", [code, reason, wasClean])   # never ws.close()

    async def last_close(self):
        return await self.ctx.storage.get("last_close")


for date in ["2026-11-26", "2026-01-01"]:
    world = Runtime(durable_objects={"ROOM": ForgetfulRoom}, compatibility_date=date)
    stub = world.env.ROOM.getByName("r")
    ws = await connect(stub, "http://room/?name=eve")
    ws.close(1000, "bye")
    print(f"compatibility date {date}: the client sees {await ws.closed()}")

world = Runtime(durable_objects={"ROOM": ForgetfulRoom})
stub = world.env.ROOM.getByName("r")
ws = await connect(stub, "http://room/?name=fay")
ws.drop()                                             # no Close frame at all
await world.run_until_idle()
print("a dropped client, as webSocketClose saw it:", await stub.last_close())

# %% [markdown]
# And when the object is **reset** (a failed write, `abort()`, a deploy), every socket is
# disconnected, hibernated ones included. Clients must reconnect:

# %%
# NBVAL_CHECK_OUTPUT
client = await connect(chat.env.ROOM.getByName("lobby"), "http://room/?name=gus")
chat.faults.crash(chat.env.ROOM.getByName("lobby"))
print("gus:", await client.closed())
print("ada:", await ada.closed())

# %% [markdown]
# ## The guard rails
#
# The Hibernation API has limits, with workerd's messages: at most 10 tags per socket, 256
# characters per tag, 16 KiB per attachment.

# %%
# NBVAL_CHECK_OUTPUT
class Rails(DurableObject):
    def attempt(self, what):
        client, server = WebSocketPair.new()
        try:
            if what == "11 tags":
                self.ctx.acceptWebSocket(server, [f"t{i}" for i in range(11)])
            elif what == "20 KB attachment":
                self.ctx.acceptWebSocket(server)
                server.serializeAttachment("x" * 20_000)
            elif what == "accept() then acceptWebSocket()":
                server.accept()
                self.ctx.acceptWebSocket(server)
            return "fine"
        except Exception as error:
            return f"{type(error).__name__}: {error}"


rails = Runtime(durable_objects={"R": Rails}).env.R.getByName("r")
for what in ["11 tags", "20 KB attachment", "accept() then acceptWebSocket()"]:
    print(f"{what:<32} {await rails.attempt(what)}")

# %% [markdown]
# ## Through a Worker, and from a real browser
#
# In an application the browser connects to your **Worker**, which forwards the upgrade request
# to the right room. The forwarding is one line: pass the request to the stub's `fetch`.

# %%
# NBVAL_CHECK_OUTPUT
class Edge(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]           # e.g. "room/lobby?name=ada"
        if path.startswith("room/") and request.headers.get("Upgrade") == "websocket":
            room_name = path.split("/")[1].split("?")[0]
            return await self.env.ROOM.getByName(room_name).fetch(request)
        return Response("connect a WebSocket to /room/<name>?name=<you>", status=400)


app = Runtime(durable_objects={"ROOM": ChatRoom}, worker=Edge)
hal = await connect(app, "https://chat.example.com/room/lobby?name=hal")
ivy = await connect(app, "https://chat.example.com/room/lobby?name=ivy")
hal.send("hi ivy")
print("ivy:", await ivy.receive())

# %% [markdown]
# `dojo serve` runs a Worker and its objects on `http://127.0.0.1:8787` with real HTTP and real
# WebSockets, in real time, like `wrangler dev`: it reads the Worker's `wrangler.toml` in the
# current folder. The project has a complete chat built like the room above (Hibernation API,
# names in attachments, messages in SQLite) in `examples/chat`. In a terminal:
#
# ```sh
# cd examples/chat
# ../../.venv/bin/dojo serve
# ```
#
# Open `http://127.0.0.1:8787/?room=lobby&name=alice` in one browser tab and
# `http://127.0.0.1:8787/?room=lobby&name=bob` in another, and chat. Then make the room
# hibernate now instead of after 10 idle seconds, and look at the trace:
#
# ```sh
# curl -X POST http://127.0.0.1:8787/__dojo/hibernate
# curl http://127.0.0.1:8787/__dojo/trace
# ```
#
# Chat again: the room's constructor runs a second time, and neither tab notices. From the
# browser's developer console you can also talk to it directly:
#
# ```js
# const ws = new WebSocket("ws://127.0.0.1:8787/rooms/lobby?name=console");
# ws.onmessage = (event) => console.log(event.data);
# ws.onopen = () => ws.send("hello from the console");
# ```

# %% [markdown]
# ## Try it
#
# The chat world from above, after the reset. Connect a client in a new cell
# (`dan = await connect(lobby, "http://room/?name=dan")`), advance the clock by 11 s, and watch
# the state turn to *hibernated* while the socket count stays.

# %%
Inspector(chat)

# %% [markdown]
# ## Katas
#
# * [12-chat-room-amnesia](../katas/12-chat-room-amnesia/README.md): a chat room that keeps its
#   users in fields and forgets them at hibernation; use tags and attachments.
# * [13-close-and-closed-sockets](../katas/13-close-and-closed-sockets/README.md): a close handler
#   that never closes back, and sends to sockets that are closing.
#
# ## Self-check
#
# 1. Your room stores each user's name in `self.names[ws]`. What does `webSocketMessage` find
#    there after the object hibernated?
# 2. Why does a room with 10,000 idle clients on the standard API cost more than the same room on
#    the Hibernation API?
# 3. How do you send a message to one user in a room without keeping a dict of sockets?
#
# <details><summary>Answers</summary>
#
# 1. Nothing: the dict was memory. Use `ws.serializeAttachment(...)` / `deserializeAttachment()`.
# 2. The standard API keeps the object in memory, billed, for as long as a socket is open. The
#    Hibernation API lets it leave memory after 10 idle seconds.
# 3. Tag the socket when accepting it (`["room", f"user:{name}"]`) and use
#    `ctx.getWebSockets(f"user:{name}")`.
# </details>
