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
