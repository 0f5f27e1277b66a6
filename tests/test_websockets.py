"""WebSockets: the standard API, the Hibernation API, hibernation itself (semantics §7, scenario 23)."""

import asyncio

import pytest

from durable_dojo import JsError, RangeError
from durable_dojo.testing import connect
from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response, WorkerEntrypoint
from pyodide.ffi import JsException


class Room(DurableObject):
    """A chat room on the Hibernation API: sockets, tags and attachments survive hibernation."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.in_memory_names = set()  # lost at hibernation: kata material

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        name = request.url.rsplit("=", 1)[-1]
        self.ctx.acceptWebSocket(server, ["room", f"user:{name}"])
        server.serializeAttachment({"name": name, "seen": 0})
        self.in_memory_names.add(name)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        info = ws.deserializeAttachment()
        info["seen"] += 1
        ws.serializeAttachment(info)
        if message == "who":
            ws.send(f"{info['name']} seen={info['seen']} memory={sorted(self.in_memory_names)}")
            return
        for other in self.ctx.getWebSockets("room"):
            if other is not ws:
                other.send(f"{info['name']}: {message}")

    async def webSocketClose(self, ws, code, reason, wasClean):
        self.ctx.storage.put("last_close", [code, reason, wasClean, ws.readyState])

    async def last_close(self):
        return await self.ctx.storage.get("last_close")

    def count(self, tag=None):
        return len(self.ctx.getWebSockets(tag))


@pytest.fixture
def room(make_runtime):
    rt = make_runtime(durable_objects={"ROOM": Room})
    return rt, rt.env.ROOM.getByName("lobby")


# 7.2: messages go to webSocketMessage; broadcast through getWebSockets(tag).
async def test_hibernation_api_broadcasts_to_the_other_sockets(room):
    rt, stub = room
    alice = await connect(stub, "http://do/?name=alice")
    bob = await connect(stub, "http://do/?name=bob")
    alice.send("hello")
    assert await bob.receive() == "alice: hello"
    assert alice.messages == []
    assert await stub.count("user:bob") == 1 and await stub.count() == 2


# 7.2 / 2.5: after 10 s idle the object hibernates; sockets, tags and attachments survive,
# fields do not; the next message runs the constructor, then the handler.
async def test_object_hibernates_after_10_idle_seconds_and_keeps_its_sockets(room):
    rt, stub = room
    alice = await connect(stub, "http://do/?name=alice")
    alice.send("who")
    assert await alice.receive() == "alice seen=1 memory=['alice']"
    await rt.advance(11)
    assert [e.kind for e in rt.trace.select("hibernate")] == ["hibernate"]
    alice.send("who")
    assert await alice.receive() == "alice seen=2 memory=[]"
    assert rt.trace.kinds(rt.trace.select(object="lobby"))[-8:].count("constructor") == 1


# 7.1: the standard API pins the object in memory.
class EchoStandard(DurableObject):
    async def fetch(self, request):
        client, server = WebSocketPair.new()
        server.accept()
        server.addEventListener("message", lambda event: server.send(f"echo {event.data}"))
        return Response(None, status=101, web_socket=client)


async def test_standard_api_socket_keeps_the_object_in_memory(make_runtime):
    rt = make_runtime(durable_objects={"E": EchoStandard})
    ws = await connect(rt.env.E.getByName("e"))
    ws.send("1")
    assert await ws.receive() == "echo 1"
    await rt.advance(3600)
    assert not rt.trace.select("evict") and not rt.trace.select("hibernate")
    ws.send("2")
    assert await ws.receive() == "echo 2"
    assert rt.metrics("E")["durationSeconds"] >= 3600  # billed all that time


# 7.9: a hibernatable socket is CLOSING in webSocketClose at every compatibility date, and the
# runtime does not answer for it (web_socket_auto_reply_to_close covers the standard API only;
# measured on workerd 1.20261117.1, conformance scenario ws_close_reply): a handler that does not
# close back leaves the client with an abnormal closure.
async def test_client_close_reaches_web_socket_close_and_a_silent_handler_leaves_1006(room):
    rt, stub = room
    alice = await connect(stub, "http://do/?name=alice")
    alice.close(1000, "client-bye")
    assert await alice.closed() == (1006, "", False)
    await rt.run_until_idle()
    assert await stub.last_close() == [1000, "client-bye", True, 2]


class NoCloseBack(Room):
    async def webSocketClose(self, ws, code, reason, wasClean):
        self.ctx.storage.put("last_close", [code, reason, wasClean, ws.readyState])  # never ws.close()


# 7.9: before 2026-04-07 a handler that does not close back leaves the client with 1006.
async def test_before_2026_04_07_not_closing_back_leaves_the_client_with_1006(make_runtime):
    rt = make_runtime(durable_objects={"ROOM": NoCloseBack}, compatibility_date="2026-01-01")
    alice = await connect(rt.env.ROOM.getByName("lobby"), "http://do/?name=alice")
    alice.close(1000, "bye")
    assert await alice.closed() == (1006, "", False)
    assert await rt.env.ROOM.getByName("lobby").last_close() == [1000, "bye", True, 2]


async def test_a_dropped_client_is_reported_as_1006_without_a_close_frame(room):
    rt, stub = room
    alice = await connect(stub, "http://do/?name=alice")
    alice.drop()
    await rt.run_until_idle()
    assert await stub.last_close() == [1006, "WebSocket disconnected without sending Close frame.", False, 3]


async def test_sending_after_close_is_refused_with_workerds_message(make_runtime):
    class Closer(DurableObject):
        async def fetch(self, request):
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            server.close(4001, "server-bye")
            try:
                server.send("late")
            except JsException as error:  # a JS TypeError reaches Python as JsException
                self.ctx.storage.put("error", [error.name, error.message])
            return Response(None, status=101, web_socket=client)

        async def error(self):
            return await self.ctx.storage.get("error")

    rt = make_runtime(durable_objects={"C": Closer})
    ws = await connect(rt.env.C.getByName("c"))
    assert await ws.closed() == (4001, "server-bye", True)
    assert await rt.env.C.getByName("c").error() == ["TypeError", "Can't call WebSocket send() after close()."]


# 7.6: auto-response answers without waking the object.
class Pinger(Room):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))

    def stamp(self):
        ws = self.ctx.getWebSockets()[0]
        return [self.ctx.getWebSocketAutoResponseTimestamp(ws) is not None,
                self.ctx.getWebSocketAutoResponse().response]


async def test_auto_response_answers_pings_without_waking_a_hibernated_object(make_runtime):
    rt = make_runtime(durable_objects={"P": Pinger})
    stub = rt.env.P.getByName("p")
    ws = await connect(stub, "http://do/?name=a")
    await rt.advance(11)
    constructors = len(rt.trace.select("constructor"))
    ws.send("ping")
    assert await ws.receive() == "pong"
    assert len(rt.trace.select("constructor")) == constructors  # still hibernated
    assert await stub.stamp() == [True, "pong"]


# Scenario 23 and 7.3-7.7: the guard rails, with workerd's messages.
class Rails(DurableObject):
    def check(self, what):
        client, server = WebSocketPair.new()
        if what == "eleven_tags":
            self.ctx.acceptWebSocket(server, [f"t{i}" for i in range(11)])
        elif what == "long_tag":
            self.ctx.acceptWebSocket(server, ["x" * 257])
        elif what == "duplicate_tags":
            self.ctx.acceptWebSocket(server, ["a", "a"])
            return self.ctx.getTags(server)
        elif what == "big_attachment":
            self.ctx.acceptWebSocket(server)
            server.serializeAttachment("x" * 20_000)
        elif what == "fresh_attachment":
            self.ctx.acceptWebSocket(server)
            return server.deserializeAttachment()
        elif what == "timeout_too_long":
            self.ctx.setHibernatableWebSocketEventTimeout(604_800_001)
        elif what == "accepted_twice":
            server.accept()
            self.ctx.acceptWebSocket(server)
        elif what == "tags_of_standard":
            server.accept()
            return self.ctx.getTags(server)
        elif what == "big_auto_response":
            self.ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("p" * 2049, "q"))


@pytest.mark.parametrize("what, error, message", [
    ("eleven_tags", JsError, "a Hibernatable WebSocket cannot have more than 10 tags"),
    ("long_tag", JsError, '"' + "x" * 257 + '" is longer than the max tag length (256 characters).'),
    ("big_attachment", JsError, "A WebSocket 'attachment' cannot be larger than 16384 bytes.'attachment' was "
                                "20006 bytes."),
    ("timeout_too_long", JsError, "Event timeout should not exceed 604800000 ms."),
    ("accepted_twice", JsError, "Cannot call `acceptWebSocket()` if the WebSocket was already accepted via "
                                "`accept()`"),
    ("tags_of_standard", JsError, "only hibernatable websockets can have tags."),
    ("big_auto_response", RangeError, "Request cannot be larger than 2048 bytes. A request of size 2049 was "
                                      "provided."),
])
async def test_hibernation_api_guard_rails(make_runtime, what, error, message):
    rt = make_runtime(durable_objects={"R": Rails})
    with pytest.raises(error) as caught:
        await rt.env.R.getByName("r").check(what)
    assert caught.value.message == message


async def test_duplicate_tags_are_stored_once_and_a_fresh_attachment_is_none(make_runtime):
    rt = make_runtime(durable_objects={"R": Rails})
    assert await rt.env.R.getByName("r").check("duplicate_tags") == ["a"]
    assert await rt.env.R.getByName("r").check("fresh_attachment") is None


# 7.10: a reset disconnects every socket, hibernated ones included.
async def test_a_reset_disconnects_hibernatable_sockets(room):
    rt, stub = room
    alice = await connect(stub, "http://do/?name=alice")
    rt.faults.crash(stub)
    assert await alice.closed() == (1006, "Durable Object connection closed because the object was reset.", False)


# Pricing: an idle object that can hibernate is not billed for duration, even before it does.
async def test_an_idle_hibernatable_room_bills_no_duration(room):
    rt, stub = room
    await connect(stub, "http://do/?name=alice")
    await rt.advance(3600)
    assert rt.metrics("ROOM")["durationSeconds"] == 0.0


# 7.8: a received message may be up to 32 MiB; a bigger one ends the connection (1009).
async def test_a_message_over_32_mib_closes_the_connection_with_1009(room):
    rt, stub = room
    alice = await connect(stub, "http://do/?name=alice")
    alice.send("x" * (32 * 1024 * 1024 + 1))
    assert await alice.closed() == (1009, "Message is too big.", False)


class Edges(DurableObject):
    """workerd's checks on close(), send() and tags, called from inside an object."""

    def close_with(self, code, reason="r"):
        _, server = WebSocketPair.new()
        server.accept()
        try:
            server.close(code, reason)
            return "closed"
        except JsException as error:
            return [error.name, error.message]

    async def send_and_receive(self, value):
        client, server = WebSocketPair.new()
        server.accept()
        got = []
        client.accept()
        client.addEventListener("message", lambda event: got.append(event.data))
        server.send(value)
        for _ in range(10):
            if got:
                break
            await asyncio.sleep(0)
        return got

    def tag_length(self, tag):
        _, server = WebSocketPair.new()
        try:
            self.ctx.acceptWebSocket(server, [tag])
            return len(self.ctx.getTags(server)[0])
        except JsException as error:
            return error.message.rsplit('" ', 1)[-1]


@pytest.mark.parametrize("code, outcome", [
    (1000, "closed"), (1001, "closed"), (2999, "closed"), (3000, "closed"), (4999, "closed"),
    (1004, ["InvalidAccessError", "Invalid WebSocket close code: 1004."]),
    (1005, ["InvalidAccessError", "Invalid WebSocket close code: 1005."]),
    (1006, ["InvalidAccessError", "Invalid WebSocket close code: 1006."]),
    (1015, ["InvalidAccessError", "Invalid WebSocket close code: 1015."]),
    (999, ["InvalidAccessError", "Invalid WebSocket close code: 999."]),
    (5000, ["InvalidAccessError", "Invalid WebSocket close code: 5000."]),
])
async def test_close_codes_as_workerd_takes_them(make_runtime, code, outcome):
    # conformance scenario edge_websockets: 1000-4999 less the four codes RFC 6455 reserves
    rt = make_runtime(durable_objects={"E": Edges})
    assert await rt.env.E.getByName("e").close_with(code) == outcome


async def test_close_reason_is_limited_to_123_utf8_bytes(make_runtime):
    stub = make_runtime(durable_objects={"E": Edges}).env.E.getByName("e")
    too_long = ["SyntaxError", "WebSocket close reason must not be longer than 123 bytes when UTF-8 encoded."]
    assert await stub.close_with(1000, "\u00e9" * 61 + "a") == "closed"  # 123 bytes, 62 characters
    assert await stub.close_with(1000, "\u00e9" * 62) == too_long  # 124 bytes, 62 characters
    assert await stub.close_with(1000, "a" * 124) == too_long


async def test_send_turns_other_values_into_their_string(make_runtime):
    stub = make_runtime(durable_objects={"E": Edges}).env.E.getByName("e")
    assert await stub.send_and_receive(5) == ["5"]
    assert await stub.send_and_receive(None) == ["null"]
    assert await stub.send_and_receive({"a": 1}) == ["[object Object]"]


async def test_tag_length_is_counted_in_utf8_bytes(make_runtime):
    stub = make_runtime(durable_objects={"E": Edges}).env.E.getByName("e")
    assert await stub.tag_length("\u00e9" * 128) == 128  # 256 bytes
    assert await stub.tag_length("\u00e9" * 129) == "is longer than the max tag length (256 characters)."


# ----- edges held to workerd (conformance scenarios ws_*): exact messages and orders


class WsEdges(DurableObject):
    """Runs a piece of WebSocket code inside the object and returns what it gave or raised."""

    async def run(self, what):
        client, server = WebSocketPair.new()
        try:
            return await getattr(self, what)(client, server)
        except JsException as error:
            return [error.name, error.message]

    async def accept_after_hibernatable(self, client, server):
        self.ctx.acceptWebSocket(server)
        server.accept()

    async def accept_twice(self, client, server):
        server.accept()
        server.accept()
        return "no error"

    async def accept_websocket_twice(self, client, server):
        self.ctx.acceptWebSocket(server)
        self.ctx.acceptWebSocket(server)

    async def send_unaccepted(self, client, server):
        server.send("x")

    async def timestamp_of_non_socket(self, client, server):
        self.ctx.getWebSocketAutoResponseTimestamp({})

    async def order(self, client, server):
        names = {}
        for name, tags in [("a", ["x"]), ("b", []), ("c", ["x"])]:
            _, end = WebSocketPair.new()
            self.ctx.acceptWebSocket(end, tags)
            names[id(end)] = name
        return [[names[id(w)] for w in self.ctx.getWebSockets()], [names[id(w)] for w in self.ctx.getWebSockets("x")]]

    async def binary_type(self, client, server):
        got = []
        client.accept()
        client.addEventListener("message", lambda e: got.append(e.data))
        server.accept()
        client.binaryType = "arraybuffer"
        server.send(b"a")
        client.binaryType = "nonsense"  # WebIDL: an unknown value is ignored
        server.send(b"b")
        await asyncio.sleep(0.01)
        return [client.binaryType, got]

    async def client_end_events(self, client, server):
        got = []
        client.accept()
        client.addEventListener("message", lambda e: got.append(e.data))
        client.addEventListener("close", lambda e: got.append([e.code, e.reason, e.wasClean]))
        server.accept()
        server.send("hi")
        server.close(1000, "done")
        await asyncio.sleep(0.01)
        return [got, client.readyState, server.readyState]


@pytest.mark.parametrize("what, result", [
    ("accept_after_hibernatable", ["TypeError", "Can't accept() WebSocket after enabling hibernation."]),
    ("accept_twice", "no error"),
    ("accept_websocket_twice",
     ["Error", "Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`"]),
    ("send_unaccepted", ["TypeError", "You must call one of accept() or state.acceptWebSocket() on this "
                                      "WebSocket before sending messages."]),
    ("timestamp_of_non_socket", ["TypeError", "Failed to execute 'getWebSocketAutoResponseTimestamp' on "
                                              "'DurableObjectState': parameter 1 is not of type 'WebSocket'."]),
    ("order", [["c", "b", "a"], ["a", "c"]]),  # all: newest first; by tag: in acceptance order
    ("binary_type", ["arraybuffer", [b"a", b"b"]]),
    ("client_end_events", [["hi", [1000, "done", True]], 3, 3]),  # the client end answers the close
])
async def test_websocket_edges_as_workerd_gives_them(make_runtime, what, result):
    rt = make_runtime(durable_objects={"E": WsEdges})
    assert await rt.env.E.getByName("e").run(what) == result


def test_a_socket_held_by_worker_code_gets_its_listeners_called(make_runtime):
    """The end a Worker gets from stub.fetch() and accepts: its listeners run (there is no object
    around it) and it answers the object's close."""
    rt = make_runtime(durable_objects={"ROOM": Room})

    async def worker():
        resp = await rt.env.ROOM.getByName("lobby").fetch("http://do/?name=w")
        ws = resp.web_socket
        ws.accept()
        got = []
        ws.addEventListener("message", lambda e: got.append(e.data))
        ws.addEventListener("close", lambda e: got.append([e.code, e.reason, e.wasClean]))
        other = await connect(rt.env.ROOM.getByName("lobby"), "http://do/?name=v")
        other.send("hello")
        await asyncio.sleep(0.01)
        return got

    assert rt.run(worker()) == ["v: hello"]


# ----- new WebSocket(url): an outgoing client socket (js.WebSocket)


class EchoServer(DurableObject):
    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        server.send(f"welcome {request.headers.get('sec-websocket-protocol')}")  # before anyone listens
        return Response(None, status=101, web_socket=client, headers={"sec-websocket-protocol": "chat"})

    async def webSocketMessage(self, ws, message):
        ws.send("echo " + message)

    async def webSocketClose(self, ws, code, reason, wasClean):
        ws.close(code, reason)


class Caller(DurableObject):
    async def talk(self, url):
        from js import WebSocket

        ws = WebSocket.new(url, ["chat", "v2"])
        got = [ws.readyState, ws.url]
        opened = asyncio.get_running_loop().create_future()

        def on_open(event):
            got.append([event.type, ws.readyState, ws.protocol])
            opened.set_result(None)

        ws.addEventListener("open", on_open)
        ws.addEventListener("message", lambda e: got.append(e.data))
        ws.addEventListener("close", lambda e: got.append([e.code, e.reason, e.wasClean]))
        try:
            ws.send("too early")
        except JsException as error:  # a JavaScript TypeError
            got.append(error.message)
        await opened
        ws.send("hi")
        await asyncio.sleep(0.1)
        ws.close(1000, "bye")
        await asyncio.sleep(0.1)
        got.append(ws.readyState)
        return got

    async def refused(self, url):
        from js import WebSocket

        ws = WebSocket.new(url)
        got = []
        ws.addEventListener("open", lambda e: got.append("open"))
        ws.addEventListener("error", lambda e: got.append(e.type))
        ws.addEventListener("close", lambda e: got.append([e.code, e.reason, e.wasClean]))
        await asyncio.sleep(1)
        return got + [ws.readyState]


TALKED = [0, "wss://echo.example/room",
          "You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.",
          ["open", 1, "chat"], "welcome chat, v2", "echo hi", [1000, "bye", True], 3]


def test_new_websocket_reaches_an_object_through_outbound(make_runtime):
    rt = make_runtime(durable_objects={"ECHO": EchoServer, "CALLER": Caller},
                      outbound=lambda request: rt.env.ECHO.getByName("e").fetch(request))
    assert rt.run(rt.env.CALLER.getByName("c").talk("wss://echo.example/room")) == TALKED


def test_new_websocket_reaches_the_worker_fetch_handler_without_outbound(make_runtime):
    class Gateway(WorkerEntrypoint):
        async def fetch(self, request):
            return await self.env.ECHO.getByName("e").fetch(request)

    rt = make_runtime(durable_objects={"ECHO": EchoServer, "CALLER": Caller}, worker=Gateway)
    assert rt.run(rt.env.CALLER.getByName("c").talk("wss://echo.example/room")) == TALKED


def test_a_handshake_without_101_gives_error_then_close_1006(make_runtime):
    rt = make_runtime(durable_objects={"CALLER": Caller}, outbound=lambda request: Response("no", status=404))
    assert rt.run(rt.env.CALLER.getByName("c").refused("ws://example.com/")) == [
        "error", [1006, "Failed to establish websocket connection", False], 3]


@pytest.mark.parametrize("url, protocols, message", [
    ("ftp://x/", None, "The url scheme must be ws or wss."),
    ("https://x/", None, "The url scheme must be ws or wss."),
    ("/relative", None, "The url is invalid."),
    ("ws://x/#f", None, "The url fragment must be empty."),
    ("ws://x/", ["a", "a"], "The protocols header cannot have repeating values."),
    ("ws://x/", "a b", "The protocol header token is invalid."),
])
def test_new_websocket_checks_its_arguments_as_workerd_does(make_runtime, url, protocols, message):
    from js import WebSocket

    make_runtime(durable_objects={"CALLER": Caller})
    with pytest.raises(JsException) as error:
        WebSocket.new(url, protocols)
    assert (error.value.name, error.value.message) == ("SyntaxError", f"WebSocket Constructor: {message}")


class Ordered(DurableObject):
    """Records the socket's state as each handler starts."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.log = []

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        self.log.append([message, ws.readyState])

    async def webSocketClose(self, ws, code, reason, wasClean):
        self.log.append(["close", ws.readyState])
        ws.close(code, reason)

    def seen(self):
        return self.log


async def test_a_message_sent_before_the_close_is_handled_while_the_socket_is_open(make_runtime):
    """Frames are handled in order (workerd, conformance ws_close_handler_order): the close that
    follows a message shows only once webSocketClose runs."""
    rt = make_runtime(durable_objects={"O": Ordered})
    stub = rt.env.O.getByName("o")
    client = await connect(stub, "http://do/")
    client.send("a")
    client.close(1000, "done")
    assert await client.closed() == (1000, "done", True)
    assert await stub.seen() == [["a", 1], ["close", 2]]
