"""`dojo serve`: the example chat behind real HTTP (http.client) and real WebSockets (the
`websockets` client), in a child process on a free loopback port; and the Wrangler config reader.

Every server here listens on 127.0.0.1 only and is stopped at the end of its fixture, whatever
happened. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from durable_dojo._serve.server import ServeProcess, _is_loopback
from durable_dojo._core.wrangler import ConfigError, find_entrypoint, read_config, strip_jsonc

ROOT = Path(__file__).resolve().parent.parent
CHAT = ROOT / "examples" / "chat"
WAIT = 10.0  # seconds: the longest any single step may take


# ----- helpers -----


def request(server, method: str, path: str, body: bytes | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


async def next_event(ws, kind: str, **fields) -> dict:
    """The next JSON event of this type with these fields (other events in between are skipped)."""
    async def wait():
        while True:
            event = json.loads(await ws.recv())
            if event["type"] == kind and all(event.get(k) == v for k, v in fields.items()):
                return event
    return await asyncio.wait_for(wait(), WAIT)


def join(server, room: str, name: str):
    return connect(f"ws://127.0.0.1:{server.port}/rooms/{room}?name={name}", open_timeout=WAIT, close_timeout=WAIT)


def listening_addresses(port: int) -> list[str]:
    """The local addresses with a listening TCP socket on `port` (from /proc/net/tcp{,6})."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state = fields[1], fields[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:
                    found.append(address)
    return found


@pytest.fixture(scope="module")
def chat(tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "chat.log"
    server = ServeProcess(CHAT, log_path=log).start()
    try:
        yield server
    finally:
        server.stop()
        assert server.process.poll() is not None, "dojo serve did not stop"


def room_name() -> str:
    return "t-" + uuid.uuid4().hex[:10]


# ----- the chat example -----


def test_the_page_is_served_at_the_root(chat):
    status, headers, body = request(chat, "GET", "/")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert b"new WebSocket(" in body and b"<script src" not in body  # plain JS, nothing fetched elsewhere


def test_the_server_listens_on_loopback_only(chat):
    addresses = listening_addresses(chat.port)
    assert addresses == ["0100007F"]  # 127.0.0.1, and no 0.0.0.0 / :: socket
    assert _is_loopback({"client": ("127.0.0.1", 5)}) and _is_loopback({"client": ("::1", 5)})
    assert not _is_loopback({"client": ("192.0.2.7", 5)})


def test_the_dojo_command_is_installed():
    assert shutil.which("dojo", path=os.path.dirname(sys.executable))


async def test_two_clients_chat_through_hibernation(chat):
    room = room_name()
    async with join(chat, room, "alice") as alice, join(chat, room, "bob") as bob:
        assert (await next_event(alice, "history"))["messages"] == []
        assert (await next_event(bob, "history"))["messages"] == []

        await alice.send("hello bob")
        for ws in (alice, bob):
            event = await next_event(ws, "message")
            assert (event["name"], event["text"]) == ("alice", "hello bob")

        status, _, body = request(chat, "POST", "/__dojo/hibernate")
        assert status == 200
        assert f"ROOMS:{room}" in json.loads(body)["hibernated"]  # sockets open, memory dropped

        await bob.send("still here?")
        for ws in (alice, bob):
            event = await next_event(ws, "message")
            assert (event["name"], event["text"]) == ("bob", "still here?")  # the name came from the attachment

    status, _, trace = request(chat, "GET", "/__dojo/trace?last=all")
    lines = [line for line in trace.decode().splitlines() if f"ROOMS {room} " in line]
    hibernated_at = next(i for i, line in enumerate(lines) if line.rstrip().endswith("hibernate instance 1"))
    assert any("constructor instance 2" in line for line in lines[hibernated_at:])  # woken by bob's message


async def test_history_is_replayed_to_newcomers_and_served_over_http(chat):
    room = room_name()
    async with join(chat, room, "carol") as carol:
        await next_event(carol, "history")
        for text in ("one", "two", "three"):
            await carol.send(text)
            await next_event(carol, "message")
    request(chat, "POST", "/__dojo/hibernate")
    async with join(chat, room, "dave") as dave:
        history = (await next_event(dave, "history"))["messages"]
    assert [(m["name"], m["text"]) for m in history] == [("carol", "one"), ("carol", "two"), ("carol", "three")]
    assert [m["id"] for m in history] == sorted(m["id"] for m in history)

    status, headers, body = request(chat, "GET", f"/rooms/{room}/history")
    assert status == 200 and headers["content-type"] == "application/json"
    assert [m["text"] for m in json.loads(body)["messages"]] == ["one", "two", "three"]


async def test_leaving_is_announced_to_the_others(chat):
    room = room_name()
    async with join(chat, room, "erin") as erin:
        await next_event(erin, "history")
        async with join(chat, room, "frank") as frank:
            await next_event(frank, "history")
            assert (await next_event(erin, "join", name="frank"))["online"] == 2
        leave = await next_event(erin, "leave")
        assert (leave["name"], leave["online"]) == ("frank", 1)


def test_bad_routes_get_the_workers_answers(chat):
    assert request(chat, "GET", "/rooms/no%20spaces")[0] == 400
    assert request(chat, "GET", "/nowhere")[0] == 404
    assert request(chat, "GET", f"/rooms/{room_name()}")[0] == 426  # a room needs a WebSocket
    assert request(chat, "GET", "/__dojo/nothing")[0] == 404
    assert request(chat, "GET", "/__dojo/hibernate")[0] == 405


# ----- errors in user code -----

PROBE_WORKER = '''
import json

from js import WebSocketPair
from workers import DurableObject, Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[-1]
        if path == "divide":
            return Response(str(1 / 0))
        if path == "object":
            return Response(str(await self.env.THINGS.getByName("a").explode()))
        if path.startswith("ws-broken"):
            raise RuntimeError("no sockets today")
        if path.startswith("ws"):
            return await self.env.THINGS.getByName(path).fetch(request)
        if path.startswith("last-close/"):
            thing = self.env.THINGS.getByName(path.split("/")[1])
            return Response(json.dumps(await thing.last_close()))
        if path == "remembered":
            return Response(json.dumps(await self.env.THINGS.getByName("cron").remembered()))
        return Response("fine: " + self.env.GREETING)

    async def scheduled(self, controller, env, ctx):
        if controller.cron == "fail":
            raise RuntimeError("the nightly job failed")
        await env.THINGS.getByName("cron").remember([controller.cron, controller.scheduledTime])


class Thing(DurableObject):
    def explode(self):
        return {}["missing"]

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        if request.url.endswith("/ws-standard"):
            server.accept()  # the standard API: pins the object in memory
            server.addEventListener("message", lambda event: server.send("standard " + event.data))
        else:
            self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        if message == "crash":
            raise ValueError("handler blew up")
        if message == "close me":
            ws.close(4001, "as you wish")
            return
        ws.send("echo " + message)

    async def webSocketClose(self, ws, code, reason, wasClean):
        await self.ctx.storage.put("last_close", [code, reason, wasClean])

    async def last_close(self):
        return await self.ctx.storage.get("last_close")

    async def remember(self, value):
        await self.ctx.storage.put("remembered", value)

    async def remembered(self):
        return await self.ctx.storage.get("remembered")
'''

PROBE_CONFIG = '''
// wrangler.jsonc: comments and trailing commas, as Wrangler allows
{
  "name": "probe", /* the Worker's name */
  "main": "src/worker.py",
  "compatibility_date": "2026-11-01",
  "durable_objects": {
    "bindings": [{"name": "THINGS", "class_name": "Thing",},],
  },
  "migrations": [{"tag": "v1", "new_classes": ["Thing"]},],
  "vars": {"GREETING": "https://example.com/ // not a comment"},
}
'''


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    folder = tmp_path_factory.mktemp("probe-app")
    (folder / "src").mkdir()
    (folder / "src" / "worker.py").write_text(PROBE_WORKER)
    (folder / "wrangler.jsonc").write_text(PROBE_CONFIG)
    server = ServeProcess(folder, log_path=folder / "console.log").start()
    try:
        yield server
    finally:
        server.stop()
        assert server.process.poll() is not None


async def test_errors_in_user_code_are_500s_with_the_traceback_in_the_console(probe):
    status, _, body = request(probe, "GET", "/divide")
    assert status == 500 and b"ZeroDivisionError: division by zero" in body
    status, _, body = request(probe, "GET", "/object")
    assert status == 500 and b"KeyError" in body

    console = probe.log()
    assert "[dojo] ERROR GET /divide: ZeroDivisionError" in console
    assert 'worker.py", line 12, in fetch' in console  # the user's line
    assert 'worker.py", line 34, in explode' in console  # inside the object, across the stub

    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{probe.port}/ws-broken", open_timeout=WAIT):
            pass
    assert refused.value.response.status_code == 500

    async with connect(f"ws://127.0.0.1:{probe.port}/ws-echo", open_timeout=WAIT) as ws:
        await ws.send("crash")  # the handler raises: printed, and the socket stays open
        await ws.send("ping")
        assert await asyncio.wait_for(ws.recv(), WAIT) == "echo ping"
    assert "uncaught error in Thing.webSocketMessage(): ValueError: handler blew up" in probe.log()

    # ...and the server keeps serving.
    status, _, body = request(probe, "GET", "/")
    assert (status, body) == (200, b"fine: https://example.com/ // not a comment")


def test_the_scheduled_handler_runs_as_under_wrangler_dev(probe, chat):
    status, _, body = request(probe, "GET", "/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*&time=1767225600000")
    assert (status, body) == (200, b"ok")
    assert json.loads(request(probe, "GET", "/remembered")[2]) == ["*/5 * * * *", 1767225600000]

    status, _, body = request(probe, "GET", "/cdn-cgi/handler/scheduled?cron=fail")
    assert (status, body) == (500, b"exception")
    assert "RuntimeError: the nightly job failed" in probe.log()
    assert request(probe, "GET", "/cdn-cgi/handler/scheduled?time=soon")[0] == 400

    status, _, body = request(chat, "GET", "/cdn-cgi/handler/scheduled")  # the chat has no scheduled()
    assert (status, body) == (500, b"exception")
    assert "Handler does not export a scheduled() function." in chat.log()


def test_the_jsonc_config_was_read_with_its_storage_backend(probe):
    assert "env.THINGS: Thing (kv)" in probe.log()
    assert "env.GREETING" in probe.log()


async def last_close(server, thing: str) -> list:
    """What the object's webSocketClose() received, once it has run (polled, bounded)."""
    for _ in range(100):
        status, _, body = request(server, "GET", f"/last-close/{thing}")
        if status == 200 and json.loads(body) is not None:
            return json.loads(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"webSocketClose() never ran for {thing}")


async def test_close_codes_cross_the_bridge_both_ways(probe):
    url = f"ws://127.0.0.1:{probe.port}"
    async with connect(f"{url}/ws-clean", open_timeout=WAIT) as ws:
        await ws.close(4000, "done here")
    assert await last_close(probe, "ws-clean") == [4000, "done here", True]

    async with connect(f"{url}/ws-away", open_timeout=WAIT) as ws:
        await ws.close(1001, "tab closed")  # valid on the wire, refused by JS close(): still delivered
    assert await last_close(probe, "ws-away") == [1001, "tab closed", True]

    ws = await connect(f"{url}/ws-dropped", open_timeout=WAIT)
    ws.transport.abort()  # no close frame: the connection is just gone
    assert await last_close(probe, "ws-dropped") == [1006, "WebSocket disconnected without sending Close frame.",
                                                      False]

    async with connect(f"{url}/ws-server-closes", open_timeout=WAIT) as ws:
        await ws.send("close me")
        await asyncio.wait_for(ws.wait_closed(), WAIT)
        assert (ws.close_code, ws.close_reason) == (4001, "as you wish")


async def test_forced_hibernation_spares_objects_pinned_by_standard_sockets(probe):
    url = f"ws://127.0.0.1:{probe.port}"
    async with connect(f"{url}/ws-standard", open_timeout=WAIT) as std, \
            connect(f"{url}/ws-hibernatable", open_timeout=WAIT) as hib:
        await std.send("one")
        assert await asyncio.wait_for(std.recv(), WAIT) == "standard one"
        await hib.send("one")
        assert await asyncio.wait_for(hib.recv(), WAIT) == "echo one"
        status, _, body = request(probe, "POST", "/__dojo/hibernate")
        result = json.loads(body)
        assert "THINGS:ws-standard" in result["pinned"] and "THINGS:ws-hibernatable" in result["hibernated"]
        await std.send("two")
        assert await asyncio.wait_for(std.recv(), WAIT) == "standard two"
        await hib.send("two")
        assert await asyncio.wait_for(hib.recv(), WAIT) == "echo two"


def test_persist_to_keeps_the_rooms_across_restarts(tmp_path):
    async def say(server, room, text):
        async with join(server, room, "gina") as ws:
            await next_event(ws, "history")
            await ws.send(text)
            await next_event(ws, "message", text=text)

    room = room_name()
    data = tmp_path / "state"
    with ServeProcess(CHAT, args=["--persist-to", str(data)], log_path=tmp_path / "first.log") as server:
        asyncio.run(say(server, room, "written before the restart"))
    assert list(data.rglob("*.sqlite")), "nothing was persisted"
    with ServeProcess(CHAT, args=["--persist-to", str(data)], log_path=tmp_path / "second.log") as server:
        status, _, body = request(server, "GET", f"/rooms/{room}/history")
    assert status == 200
    assert [m["text"] for m in json.loads(body)["messages"]] == ["written before the restart"]


# ----- the Wrangler config reader -----


def test_strip_jsonc_keeps_strings_and_drops_comments_and_trailing_commas():
    text = '{"a": "x // y /* z */", // c\n "b": [1, 2, /* c */ ], }'
    assert json.loads(strip_jsonc(text)) == {"a": "x // y /* z */", "b": [1, 2]}
    assert json.loads(strip_jsonc('{"q": "say \\"hi\\", // ok",}')) == {"q": 'say "hi", // ok'}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_the_example_config_declares_one_sqlite_room_class():
    config = read_config(CHAT / "wrangler.toml")
    assert config.name == "dojo-chat"
    assert config.main == str(CHAT / "src" / "entry.py")
    assert [(b.name, b.class_name, b.storage) for b in config.durable_objects] == [("ROOMS", "ChatRoom", "sqlite")]
    assert config.storage == "sqlite" and not config.notes


def test_migrations_decide_the_storage_backend(tmp_path):
    config = read_config(write(tmp_path, "wrangler.toml", """
        main = "src/entry.py"
        [[durable_objects.bindings]]
        name = "A"
        class_name = "Alpha"
        [[durable_objects.bindings]]
        name = "B"
        class_name = "Beta"
        [[durable_objects.bindings]]
        name = "C"
        class_name = "Gamma"
        [[kv_namespaces]]
        binding = "CACHE"
        id = "abc"
        [[migrations]]
        tag = "v1"
        new_classes = ["Alpha"]
        new_sqlite_classes = ["Old"]
        [[migrations]]
        tag = "v2"
        renamed_classes = [{from = "Old", to = "Beta"}]
    """))
    assert [(b.class_name, b.storage) for b in config.durable_objects] == [
        ("Alpha", "kv"), ("Beta", "sqlite"), ("Gamma", "sqlite")]
    assert config.kv_namespaces == ["CACHE"]
    assert config.storage == "kv"  # one backend per world: classes that disagree run KV-backed
    assert any("Gamma" in note and "migration" in note for note in config.notes)
    assert any("disagree" in note for note in config.notes)


def test_config_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(ConfigError, match='"main" is missing'):
        read_config(write(tmp_path, "wrangler.toml", 'name = "x"\n'))
    with pytest.raises(ConfigError, match="script_name"):
        read_config(write(tmp_path, "wrangler.jsonc", """
            {"main": "a.py", "durable_objects": {"bindings": [
              {"name": "X", "class_name": "X", "script_name": "other"}]}}
        """))


def test_the_entrypoint_is_default_or_the_only_one():
    import types

    from workers import WorkerEntrypoint

    class Default(WorkerEntrypoint):
        pass

    class Other(WorkerEntrypoint):
        pass

    assert find_entrypoint(types.SimpleNamespace(Default=Default, Other=Other, __name__="m")) is Default
    assert find_entrypoint(types.SimpleNamespace(Other=Other, __name__="m")) is Other
    with pytest.raises(ConfigError, match="none is named Default"):
        find_entrypoint(types.SimpleNamespace(A=Other, B=type("B", (WorkerEntrypoint,), {}), __name__="m"))
