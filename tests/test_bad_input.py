"""Bad input is answered like the platform: its error type and message, storage unchanged, no
reset. Each case here used to end in an error from the emulator's insides (AttributeError,
ValueError from Python's int-to-str guard, RecursionError...) or was accepted and broke later."""

from __future__ import annotations

import datetime
import functools

import pytest

from durable_dojo import Runtime
from durable_dojo.testing import run_in_durable_object
from js import WebSocketPair
from workers import DurableObject


class Thing(DurableObject):
    async def alarm(self, info=None):
        pass

    async def ping(self):
        return "pong"

    partial_method = functools.partial(print, "not a function")


@pytest.fixture
def rt():
    world = Runtime(durable_objects={"THING": Thing}, kv_namespaces=["KV"])
    yield world
    world.close()


def inside(rt, fn):
    """Run fn(obj, ctx) in the object; return its result or the exception it raised."""
    async def go(obj, ctx):
        try:
            result = fn(obj, ctx)
            if hasattr(result, "__await__"):
                result = await result
            return result
        except Exception as exc:  # noqa: BLE001
            return exc
    return rt.run(run_in_durable_object(rt.env.THING.getByName("a"), go))


def server_end():
    client, server = WebSocketPair.new()
    return server


def snapshot(rt):
    async def go(obj, ctx):
        return dict(await ctx.storage.list()), await ctx.storage.getAlarm()
    return rt.run(run_in_durable_object(rt.env.THING.getByName("a"), go))


CASES = [
    ("getTags('x')", lambda o, c: c.getTags("x"), "TypeError",
     "Failed to execute 'getTags' on 'DurableObjectState': parameter 1 is not of type 'WebSocket'."),
    ("acceptWebSocket('x')", lambda o, c: c.acceptWebSocket("x"), "TypeError",
     "Failed to execute 'acceptWebSocket' on 'DurableObjectState': parameter 1 is not of type 'WebSocket'."),
    ("ws.close('x')", lambda o, c: server_end().close("x"), "InvalidAccessError", "Invalid WebSocket close code: 0."),
    ("setHibernatableWebSocketEventTimeout('x')", lambda o, c: c.setHibernatableWebSocketEventTimeout("x"),
     "TypeError", "The value cannot be converted because it is not an integer."),
    ("setHibernatableWebSocketEventTimeout(-1)", lambda o, c: c.setHibernatableWebSocketEventTimeout(-1),
     "TypeError", "The value cannot be converted because it is negative and this API expects a positive number."),
    ("setAlarm(1e19)", lambda o, c: c.storage.setAlarm(1e19), "TypeError", "This API doesn't support dates after 2189."),
    ("setAlarm(datetime(1,1,1))", lambda o, c: c.storage.setAlarm(datetime.datetime(1, 1, 1)), "TypeError",
     "This API doesn't support dates before 1687."),
    ("ALTER TABLE RENAME TO _cf_x", lambda o, c: (c.storage.sql.exec("CREATE TABLE IF NOT EXISTS t(x)"),
                                                 c.storage.sql.exec("ALTER TABLE t RENAME /* */ TO \"_CF_x\"")),
     "Error", "not authorized: SQLITE_AUTH"),
]


@pytest.mark.parametrize("label,call,kind,message", CASES, ids=[c[0] for c in CASES])
def test_bad_calls_get_the_platforms_error_and_change_nothing(rt, label, call, kind, message):
    inside(rt, lambda o, c: c.storage.put("keep", 1))
    before = snapshot(rt)
    error = inside(rt, call)
    # The JS API's TypeError reaches Python as pyodide.ffi.JsException with its name and message.
    assert (error.name, error.message) == (kind, message), repr(error)
    assert type(error).__module__.split(".")[0] in ("builtins", "durable_dojo", "pyodide")
    assert snapshot(rt) == before
    assert rt.run(rt.env.THING.getByName("a").ping()) == "pong"  # not reset, still serving


def test_new_unique_id_takes_an_options_object(rt):
    with pytest.raises(Exception, match="TypeError: .*parameter 1 is not of type 'NewUniqueIdOptions'"):
        rt.env.THING.newUniqueId("eu")


def test_values_js_converts_are_accepted(rt):
    def accept(o, c):
        ws = server_end()
        c.acceptWebSocket(ws, [1, "a"])  # jsg turns each tag into a string
        c.setHibernatableWebSocketEventTimeout("5")
        return c.getTags(ws), c.getHibernatableWebSocketEventTimeout()
    assert inside(rt, accept) == (["1", "a"], 5)


def test_integers_of_any_size_are_keys(rt):
    huge = 10**5000
    inside(rt, lambda o, c: c.storage.put(huge, "v"))
    assert inside(rt, lambda o, c: c.storage.get(huge)) == "v"
    from durable_dojo._core.values import js_string
    assert inside(rt, lambda o, c: c.storage.get(js_string(huge))) == "v"  # String(key)


def test_datetimes_at_both_ends_of_pythons_range_are_stored_and_read_back(rt):
    inside(rt, lambda o, c: c.storage.put("max", datetime.datetime.max))
    inside(rt, lambda o, c: c.storage.put("min", datetime.datetime(1, 1, 1)))
    # readable, not "Malformed structured clone data"; a Date keeps whole milliseconds
    latest = inside(rt, lambda o, c: c.storage.get("max"))  # fromtimestamp(ms / 1000), as the SDK reads it
    assert abs(latest - datetime.datetime(9999, 12, 31, 23, 59, 59, 999000)) < datetime.timedelta(milliseconds=1)
    assert inside(rt, lambda o, c: c.storage.get("min")) == datetime.datetime(1, 1, 1)
    assert isinstance(inside(rt, lambda o, c: c.storage.list()), dict)


def test_a_nul_ends_the_sql_text_as_in_c(rt):
    assert inside(rt, lambda o, c: c.storage.sql.exec("SELECT 1 AS x\0 garbage").one()) == {"x": 1}


def test_any_callable_attribute_is_callable_over_rpc_as_through_the_python_entrypoint(rt):
    # workerd's Python entrypoint proxy calls whatever callable the name gives (here a partial)
    assert rt.run(rt.env.THING.getByName("a").partial_method()) is None


def test_workers_kv_metadata_too_deep_for_json_is_a_range_error(rt):
    deep = current = []
    for _ in range(5000):
        current.append([])
        current = current[0]
    with pytest.raises(Exception, match="RangeError: Maximum call stack size exceeded"):
        rt.run(rt.env.KV.put("k", "v", {"metadata": deep}))
    assert rt.run(rt.env.KV.get("k")) is None
