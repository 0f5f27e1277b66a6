"""Handlers called as workerd calls a Python Worker's handlers: with as many arguments as they take.

workerd's Python entrypoint (python-entrypoint-helper.ts, `doPyCallHelper(relaxed=true)`, and
introspection.py's `wrapper_func`, which uses Pyodide's `relaxed_call`) calls a Worker's `fetch`
and `test`, and a Durable Object's `fetch`, `alarm`, `webSocketMessage`, `webSocketClose` and
`webSocketError`, dropping the arguments the method does not take. Cloudflare's own examples rely
on it (python-workers-examples/08-cron: `async def fetch(self)`), and so does the common
`async def alarm(self)`. RPC methods are called strictly.
"""

from __future__ import annotations

import functools
import textwrap

import pytest

from durable_dojo import Runtime
from durable_dojo._core.ffi import call_relaxed
from durable_dojo.testing import connect, load_project, run_test_entry
from js import WebSocketPair
from pyodide.ffi import JsException
from workers import DurableObject, Response, WorkerEntrypoint


class Terse(DurableObject):
    """Every handler takes fewer arguments than the runtime passes."""

    async def fetch(self):
        if await self.ctx.storage.get("sockets"):
            client, server = WebSocketPair.new().object_values()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)
        return Response("fetch without a request")

    async def alarm(self):
        await self.ctx.storage.put("alarm ran", True)

    async def webSocketMessage(self, ws):
        ws.send("message seen")

    async def webSocketClose(self, ws):
        await self.ctx.storage.put("closed", True)
        ws.close(1000, "bye")

    async def arm(self):
        await self.ctx.storage.setAlarm(self.ctx.storage.getAlarm and 1767225601000)

    async def take_sockets(self):
        await self.ctx.storage.put("sockets", True)

    async def read(self, key):
        return await self.ctx.storage.get(key)

    async def no_arguments(self):
        return "called"


class TerseWorker(WorkerEntrypoint):
    async def fetch(self):
        return Response("worker fetch without a request")


@pytest.fixture
def rt():
    world = Runtime(durable_objects={"TERSE": Terse}, worker=TerseWorker)
    yield world
    world.close()


async def test_a_durable_objects_fetch_may_take_no_request(rt):
    response = await rt.env.TERSE.getByName("a").fetch("https://example.com/")
    assert (response.status, await response.text()) == (200, "fetch without a request")


async def test_a_workers_fetch_may_take_no_request(rt):
    response = await rt.fetch("https://example.com/")
    assert (response.status, await response.text()) == (200, "worker fetch without a request")


async def test_an_alarm_handler_may_take_no_alarm_info(rt):
    stub = rt.env.TERSE.getByName("a")
    await stub.arm()
    await rt.advance(2)
    assert await stub.read("alarm ran") is True


async def test_websocket_handlers_may_take_fewer_arguments(rt):
    stub = rt.env.TERSE.getByName("a")
    await stub.take_sockets()
    client = await connect(stub, "http://do/ws")
    client.send("hello")
    assert await client.receive() == "message seen"
    client.close(1000, "done")
    assert await client.closed() == (1000, "bye", True)
    assert await stub.read("closed") is True


async def test_rpc_methods_are_still_called_strictly(rt):
    """Only the platform's handlers are called relaxed: an extra RPC argument is the method's
    own TypeError, as workerd's `wrapper_func(relaxed=False)` raises it (reaching the caller as
    the PythonError of that TypeError)."""
    with pytest.raises(JsException, match=r"PythonError: Traceback[\s\S]*\nTypeError: .*no_arguments"):
        await rt.env.TERSE.getByName("a").no_arguments("extra")


def test_call_relaxed_counts_the_parameters_of_every_kind_of_callable():
    class Handlers:
        def method(self, request):
            return request

        @classmethod
        def on_class(cls, request, env):
            return (request, env)

        def __call__(self, request):
            return request

    def three(a, b, c):
        return (a, b, c)

    assert call_relaxed(Handlers().method, 1, 2, 3) == 1
    assert call_relaxed(Handlers.on_class, 1, 2, 3) == (1, 2)
    assert call_relaxed(Handlers(), 1, 2, 3) == 1
    assert call_relaxed(functools.partial(three, 0), 1, 2, 3) == (0, 1, 2)
    assert call_relaxed(lambda a, b=5, *rest: (a, b, rest), 1, 2, 3) == (1, 2, (3,))
    assert call_relaxed(lambda: "none", 1, 2, 3) == "none"


WRANGLER = """\
name = "classtest"
main = "entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers", "python_no_global_handlers"]

[[durable_objects.bindings]]
name = "ns"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""


def _project(tmp_path, entry: str):
    folder = tmp_path / f"classtest_{tmp_path.name}".replace("-", "_")
    folder.mkdir()
    (folder / "wrangler.toml").write_text(WRANGLER)
    (folder / "entry.py").write_text(textwrap.dedent(entry))
    return folder


async def test_a_worker_classs_test_method_is_the_test_entry(tmp_path):
    """workerd's own Python tests are written this way: `class Default(WorkerEntrypoint)` with
    `async def test(self, ctrl)` (its tests/python/durable-object/worker.py)."""
    folder = _project(tmp_path, """
        from workers import DurableObject, WorkerEntrypoint

        class Counter(DurableObject):
            async def bump(self):
                n = (await self.ctx.storage.get("n") or 0) + 1
                await self.ctx.storage.put("n", n)
                return n

        class Default(WorkerEntrypoint):
            async def test(self, ctrl):
                counter = self.env.ns.getByName("A")
                assert await counter.bump() == 1
                assert await counter.bump() == 3, "the second bump gives 2"
    """)
    rt = load_project(folder)
    try:
        with pytest.raises(AssertionError, match="the second bump gives 2"):
            await run_test_entry(rt)
    finally:
        rt.close()


async def test_a_worker_class_without_a_test_method_or_function_says_how_to_add_one(tmp_path):
    folder = _project(tmp_path, """
        from workers import DurableObject, WorkerEntrypoint

        class Counter(DurableObject):
            pass

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return None
    """)
    rt = load_project(folder)
    try:
        with pytest.raises(Exception, match=r"test\(self, ctrl\)"):
            run_test_entry(rt)
    finally:
        rt.close()


async def test_an_error_thrown_by_the_platform_inside_a_relaxed_handler_is_still_a_js_exception(rt):
    """Dropping arguments changes nothing else: the platform's errors reach the handler as before."""
    class Strict(DurableObject):
        async def fetch(self):
            try:
                await self.ctx.storage.get()
            except JsException as error:
                return Response(error.name)
            return Response("no error")

    world = Runtime(durable_objects={"STRICT": Strict})
    try:
        response = await world.env.STRICT.getByName("a").fetch("https://example.com/")
        assert await response.text() == "TypeError"
    finally:
        world.close()
