"""Rules of the Python–JavaScript boundary that a Python Worker meets on every JS-facing object.

Expected values were run on workerd 1.20261117.1 (the oracle: the same calls written in
JavaScript, with the trailing options object that Pyodide makes of keyword arguments), or read
in Pyodide's and Cloudflare's Python SDK source (`workers-runtime-sdk` 1.9.5), cited per test.
"""

from __future__ import annotations

import inspect

import pytest

import js
from durable_dojo import Runtime
from durable_dojo.testing import run_in_durable_object
from pyodide.ffi import JsException
from workers import DurableObject, Request, Response, WorkerEntrypoint


class Box(DurableObject):
    async def echo(self, *args):
        return list(args)


@pytest.fixture
def rt(make_runtime):
    return make_runtime(durable_objects={"BOX": Box}, kv_namespaces=["CACHE"])


async def inside(rt: Runtime, body):
    """`body(ctx)` run inside one object; its result as it is (not copied by RPC)."""
    box = []

    async def run(obj, ctx):
        result = body(ctx)
        box.append(await result if inspect.isawaitable(result) else result)

    await run_in_durable_object(rt.env.BOX.getByName("b"), run)
    return box[0]


# --------------------------------------------------------------------------- keyword arguments
# Pyodide calls a JS function `f(a, x=1)` as `f(a, {x: 1})`. What the JS method then does with
# that object is JavaScript's rule: a string parameter reads it as String({...}), which is
# "[object Object]", and an argument beyond the method's parameters is ignored.


def test_a_name_given_as_a_keyword_is_the_name_object_object(rt):
    # workerd: NS.idFromName({name: "x"}).equals(NS.idFromName("[object Object]")) is true, and
    # getByName({name: "x"}) is the same object.
    ns = rt.env.BOX
    assert ns.idFromName(name="x") == ns.idFromName("[object Object]") != ns.idFromName("x")
    assert ns.getByName(name="x").id == ns.idFromName("[object Object]")
    with pytest.raises(JsException, match="^TypeError: Invalid Durable Object ID: must be 64 hex digits$"):
        ns.idFromString(id=ns.idFromName("x").toString())  # workerd: same error for {id: "..."}


def test_arguments_beyond_a_methods_parameters_are_ignored(rt):
    # workerd: NS.idFromName("x", {a: 1}) equals idFromName("x"); id.toString({x: 1}) is the id.
    ns = rt.env.BOX
    assert ns.idFromName("x", a=1) == ns.idFromName("x")
    id_ = ns.idFromName("x")
    assert id_.toString(x=1) == id_.toString()


async def test_keyword_arguments_on_the_state_and_its_sockets_are_an_options_object(rt):
    # workerd, in a Durable Object: ctx.getWebSockets({tag: "t"}) is [] (the tag
    # "[object Object]"); acceptWebSocket(ws, ["a"], {x: 1}) tags "a"; getTags(ws, {x: 1}) and
    # ws.accept({x: 1}) ignore the object; waitUntil({x: 1}) returns undefined; ws.close({code:
    # 1000}) reads the code as ToNumber({...}): "Invalid WebSocket close code: 0.".
    def body(ctx):
        tagged = js.WebSocketPair.new()
        ctx.acceptWebSocket(tagged[1], ["t"], x=1)
        untagged = js.WebSocketPair.new()
        untagged[0].accept(x=1)
        seen = {
            "by_tag_keyword": ctx.getWebSockets(tag="t"),
            "by_tag": len(ctx.getWebSockets("t")),
            "tags": ctx.getTags(tagged[1], x=1),
            "wait_until": ctx.waitUntil(x=1),
        }
        with pytest.raises(JsException, match=r"^InvalidAccessError: Invalid WebSocket close code: 0\.$"):
            untagged[0].close(code=1000)
        return seen

    assert await inside(rt, body) == {"by_tag_keyword": [], "by_tag": 1, "tags": ["t"], "wait_until": None}


async def test_keyword_arguments_on_storage_kv_and_sql_are_an_options_object(rt):
    # workerd (SQLite-backed object): storage.kv.get("k", {x: 1}) and kv.put("k", 1, {x: 1})
    # ignore the object; transactionSync(fn, {x: 1}) runs fn; sql.exec("SELECT ? AS v", {x: 1})
    # binds "[object Object]"; setAlarm({scheduledTime: 1}) fails as a date parameter.
    def body(ctx):
        storage = ctx.storage
        storage.kv.put("k", 1, x=1)
        seen = {
            "kv": storage.kv.get("k", x=1),
            "txn": storage.transactionSync(lambda: 7, x=1),
            "sql": storage.sql.exec("SELECT ? AS v", x=1).one()["v"],
        }
        with pytest.raises(JsException, match="parameter 1 is not of type 'date'"):
            storage.setAlarm(scheduledTime=1)
        return seen

    assert await inside(rt, body) == {"kv": 1, "txn": 7, "sql": "[object Object]"}


def js_facing_classes():
    """Every class of the emulator whose methods are JavaScript methods on the platform."""
    import pkgutil
    import importlib

    import durable_dojo._core as core

    found = {}
    for module in pkgutil.iter_modules(core.__path__):
        for value in vars(importlib.import_module(f"durable_dojo._core.{module.name}")).values():
            if inspect.isclass(value) and vars(value).get("__js_api__"):
                found[value.__qualname__] = value
    return found


def test_the_js_facing_classes_are_the_platforms_objects():
    # If one of these lost its JS calling rules (or a new one came without them), the walk
    # below would not cover it.
    assert set(js_facing_classes()) >= {
        "DurableObjectNamespace", "DurableObjectId", "DurableObjectState", "DurableObjectStorage",
        "DurableObjectTransaction", "SyncKvStorage", "SqlStorage", "SqlStorageCursor", "WebSocket",
        "KVNamespace",
    }


async def test_every_js_method_takes_a_trailing_options_object_as_javascript_does(rt):
    # Walk every public method of every JS-facing object: `m(*args, extra=1)` must do what
    # `m(*args)` does when the method has no parameter left for the options object (JS ignores
    # it), and what `m(*args, {"extra": 1})` does otherwise. Never a Python "takes N positional
    # arguments" error, which the platform cannot give.
    skip = {"abort"}  # resets the object: checked with keyword arguments in test_python_boundary

    def outcome(call):
        try:
            result = call()
        except Exception as error:  # noqa: BLE001 - the error is the outcome compared
            return ("error", type(error).__name__, str(error))
        if inspect.isawaitable(result):
            result.close() if inspect.iscoroutine(result) else None
            return ("awaitable",)
        return ("value", type(result).__name__)

    async def body(ctx):
        instances = {
            "DurableObjectNamespace": rt.env.BOX,
            "DurableObjectId": ctx.id,
            "DurableObjectState": ctx,
            "DurableObjectStorage": ctx.storage,
            "SyncKvStorage": ctx.storage.kv,
            "SqlStorage": ctx.storage.sql,
            "SqlStorageCursor": ctx.storage.sql.exec("SELECT 1 AS one"),
            "WebSocket": js.WebSocketPair.new()[0],
            "KVNamespace": rt.env.CACHE,
        }
        mismatches, walked = [], 0
        for name, cls in js_facing_classes().items():
            instance = instances.get(name)
            if instance is None:
                continue
            for method in sorted(m for m in vars(cls) if not m.startswith("_") and inspect.isfunction(vars(cls)[m])):
                if method in skip:
                    continue
                wrapped = inspect.unwrap(vars(cls)[method])
                parameters = [p for p in list(inspect.signature(wrapped).parameters.values())[1:]
                              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
                takes_options = any(p.kind is p.VAR_POSITIONAL for p in inspect.signature(wrapped).parameters.values())
                filled = tuple("k" for p in parameters if p.default is inspect.Parameter.empty)
                bound = getattr(instance, method)
                with_keyword = outcome(lambda: bound(*filled, extra=1))
                if len(filled) == len(parameters) and not takes_options:
                    expected = outcome(lambda: bound(*filled))  # JS ignores the trailing object
                else:
                    expected = outcome(lambda: bound(*filled, {"extra": 1}))
                walked += 1
                if with_keyword != expected or "positional argument" in str(with_keyword):
                    mismatches.append((name, method, with_keyword, expected))
        return walked, mismatches

    walked, mismatches = await inside(rt, body)
    assert walked > 50 and mismatches == []


# --------------------------------------------------------------------------- request.cf


class CfWorker(WorkerEntrypoint):
    async def fetch(self, request):
        made_here = Request("https://example.com/")
        return Response.json({"country": request.cf.country, "colo": request.cf.colo,
                              "made_here": made_here.cf})


async def test_the_workers_incoming_request_always_carries_cf(make_runtime):
    # The SDK's Request.cf is `_jsnull_to_none(js_object.cf)`: a JsProxy when the runtime gives
    # an object. A request from the internet always has one (wrangler dev: a stand-in from
    # Austin, served by DFW); a Request made in code has none (workerd: `new Request(u).cf` is
    # undefined, so None).
    rt = make_runtime(worker=CfWorker)
    response = await rt.fetch("https://example.com/")
    assert await response.json() == {"country": "US", "colo": "DFW", "made_here": None}
    response = await rt.fetch("https://example.com/", cf={"country": "GB", "colo": "LHR"})
    assert await response.json() == {"country": "GB", "colo": "LHR", "made_here": None}


# --------------------------------------------------------------------------- bodies


@pytest.mark.parametrize(("body", "sent", "content_type"), [
    # workerd 1.20261117.1, `fetch(url, {method: "POST", body})` to an echo Worker:
    (["a", "b", "c"], b"abc", None),                  # an Array is a stream of its chunks
    (["a", 1, "b"], b"ab", None),                     # items that are not text or bytes are dropped
    ([1, 2], b"", None),
    ([b"AB", "c", "é"], "ABcé".encode(), None),       # bytes become a Uint8Array chunk
    ({"x": 1}, b"[object Object]", "text/plain;charset=UTF-8"),  # String() of a JS object
    (42, b"42", "text/plain;charset=UTF-8"),
    (1.5, b"1.5", "text/plain;charset=UTF-8"),
    (True, b"true", "text/plain;charset=UTF-8"),
])
async def test_fetch_sends_a_body_as_javascripts_fetch_sends_what_the_sdk_converts(body, sent, content_type):
    # The SDK's fetch hands its options to Pyodide's pyfetch, which converts them with to_js
    # (a list becomes an Array, a dict an Object) for JS fetch(); Cloudflare's "Use the Alarms
    # API" Python example posts `body=list(...)`.
    from workers import fetch

    seen = []

    async def outbound(request):
        seen.append((await request.bytes(), request.headers.get("content-type")))
        return Response("ok")

    class Sender(DurableObject):
        async def send(self):
            return await (await fetch("https://example.com/", method="POST", body=body)).text()

    rt = Runtime(durable_objects={"SENDER": Sender}, outbound=outbound)
    try:
        assert await rt.env.SENDER.getByName("s").send() == "ok"
    finally:
        rt.close()
    assert seen == [(sent, content_type)]


def test_response_refuses_a_list_body_with_the_sdks_message():
    # workers/response.py: `raise TypeError(f"Unsupported type in Response: {type(body).__name__}")`.
    with pytest.raises(TypeError, match="^Unsupported type in Response: list$"):
        Response(["x"])


async def test_buffer_gives_a_js_array_buffer_as_the_sdk_does():
    # workers/request.py: `buffer()` returns `await js_object.arrayBuffer()` (a JsBuffer proxy)
    # and `bytes()` is `(await self.buffer()).to_bytes()`.
    from pyodide.ffi import JsBuffer

    buffer = await Request("https://example.com/", method="POST", body="hé").buffer()
    assert isinstance(buffer, JsBuffer) and buffer.byteLength == 3
    assert buffer.to_bytes() == "hé".encode() and bytes(buffer.to_memoryview()) == "hé".encode()
    assert (await Response(b"\x00\x01").buffer()).to_bytes() == b"\x00\x01"


async def test_request_and_response_wrap_their_js_objects_as_the_sdk_does():
    # workers/request.py and response.py: a js.Request / js.Response is wrapped as it is (the
    # same object: reading one reads the other), and any option is a ValueError.
    request = Request("https://example.com/a", method="POST", body="hi")
    wrapped = Request(request.js_object)
    assert (wrapped.url, wrapped.method) == ("https://example.com/a", "POST")
    assert await wrapped.text() == "hi" and request.body_used
    with pytest.raises(ValueError, match="^Expected no options when constructing Request from a js.Request$"):
        Request(request.js_object, method="GET")

    response = Response("body", status=201, headers={"x-a": "1"})
    again = Response(response.js_object)
    assert (again.status, again.headers["x-a"], await again.text()) == (201, "1", "body")
    assert response.body_used
    with pytest.raises(ValueError, match="^Expected no options when constructing Response from a js.Response$"):
        Response(response.js_object, status=200)


# --------------------------------------------------------------------------- to_py / to_js


async def test_to_py_leaves_objects_that_are_not_plain_data_as_they_are(rt):
    # Pyodide's JsProxy.to_py converts Arrays, Maps, Sets and objects whose constructor is
    # Object; any other object (a stream, a WebSocket, an ID) is returned as it is.
    stream = Request("https://example.com/", method="POST", body="x").body
    assert stream.to_py() is stream
    id_ = rt.env.BOX.idFromName("a")
    assert id_.to_py() is id_

    def body(ctx):
        ws = js.WebSocketPair.new()[0]
        return ws.to_py() is ws

    assert await inside(rt, body) is True


def test_to_js_makes_a_dict_a_map_by_default():
    # pyodide.ffi.to_js: dict -> Map unless a dict_converter is given; JsMap.to_py() is a dict.
    from pyodide.ffi import JsMap, JsProxy, to_js

    converted = to_js({"a": {"b": [1, {"c": 2}]}})
    assert isinstance(converted, JsMap) and isinstance(converted, JsProxy)
    assert converted.size == 1 and converted.has("a") and isinstance(converted["a"], JsMap)
    plain = converted.to_py()
    assert plain == {"a": {"b": [1, {"c": 2}]}} and type(plain["a"]) is dict and type(plain["a"]["b"][1]) is dict
    assert type(to_js({"a": 1}, dict_converter=js.Object.fromEntries)) is not JsMap


# --------------------------------------------------------------------------- js names


def test_js_error_new_is_a_js_exception_python_can_raise():
    # Pyodide: a JS Error object is a JsException; workerd's Python tests do `js.Error.new("message")`.
    error = js.Error.new("message")
    assert isinstance(error, JsException) and (error.name, error.message) == ("Error", "message")
    with pytest.raises(JsException, match="^Error: message$"):
        raise error


def test_js_headers_uint8array_and_array():
    headers = js.Headers.new([("a", "1")])  # what the SDK's _to_js_headers passes: pairs
    headers.append("b", "2")
    assert (headers.get("a"), headers.get("b"), headers.has("c")) == ("1", "2", False)
    assert js.Uint8Array.new(b"ab").to_bytes() == b"ab" and js.Uint8Array.new(3).to_bytes() == b"\0\0\0"
    assert js.Uint8Array.from_([1, 2]).to_bytes() == b"\x01\x02"
    array = js.Array.new()
    assert array.push("x", "y") == 2 and array.length == 2 and array.to_py() == ["x", "y"]
    assert js.Array.from_("ab") == ["a", "b"] and js.Array.new(2) == [None, None] and js.Array.isArray(array)


class Echo(DurableObject):
    async def fetch(self, request):
        return Response(f"{request.method} {await request.text()}")


async def test_a_js_request_goes_to_fetch_and_into_a_workers_request(make_runtime):
    # workerd's Python tests call handlers with `js.Request.new(url)`; fetch() takes a js.Request.
    rt = make_runtime(durable_objects={"ECHO": Echo})
    request = js.Request.new("https://example.com/", method="PUT", body="hi")
    assert Request(request).url == "https://example.com/"
    response = await rt.env.ECHO.getByName("e").fetch(js.Request.new("https://example.com/", method="PUT", body="hi"))
    assert await response.text() == "PUT hi"


async def test_js_promise_resolves_rejects_and_gathers(rt):
    def body(ctx):
        async def run():
            made = js.Promise.new(lambda resolve, reject: resolve(5))
            values = await js.Promise.all([js.Promise.resolve(1), made, 3])
            with pytest.raises(JsException, match="^Error: no$"):
                await js.Promise.reject(js.Error.new("no"))
            return values

        return run()

    assert await inside(rt, body) == [1, 5, 3]


# --------------------------------------------------------------------------- closing a world


class Dialer(DurableObject):
    """Opens an outgoing WebSocket on every request; with no `outbound`, the handshake comes back
    to the Worker, which routes it here again (python-workers-examples 14 does this offline)."""

    async def fetch(self, request):
        js.WebSocket.new("wss://example.com/stream")
        return Response("dialing")


class DialerWorker(WorkerEntrypoint):
    async def fetch(self, request):
        return await self.env.DIALER.getByName("d").fetch(request)


async def test_closing_a_world_with_a_websocket_handshake_pending_warns_nothing(make_runtime, caplog):
    import gc
    import warnings

    rt = make_runtime(durable_objects={"DIALER": Dialer}, worker=DialerWorker)
    assert await (await rt.fetch("https://example.com/")).text() == "dialing"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rt.close()
        gc.collect()
    assert [str(w.message) for w in caught] == [] and "destroyed but it is pending" not in caplog.text
