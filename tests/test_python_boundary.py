"""What a Python Worker sees where Python meets JavaScript, one test per rule.

Each rule is read from the source that makes it on the platform, cited in the test:
Cloudflare's Python SDK (`workers-runtime-sdk` 1.9.5, `workers/rpc.py`, `entrypoints.py`,
`request.py`), Pyodide's conversions (python2js / js2python, `pyodide.ffi`), and workerd
(`worker-rpc.c++`, `python-entrypoint-helper.ts`, `build/python_metadata.bzl`).
"""

from __future__ import annotations

import datetime
import math
import time

import pytest

import pyodide
from durable_dojo import Runtime
from durable_dojo._core.codec import JsDict
from durable_dojo.testing import run_in_durable_object
from pyodide.ffi import JsException, JsProxy, create_once_callable, create_proxy, run_sync, to_js
from workers import DurableObject, Request


class Box(DurableObject):
    async def echo(self, *args):
        return list(args)

    async def divide(self, a, b):
        return a / b

    async def raw(self):
        return b"ab"

    async def alarm(self, alarm_info):
        pass


async def inside(rt: Runtime, body):
    """`await body(ctx)` run inside one object; its result, not copied by RPC."""
    box = []

    async def run(obj, ctx):
        box.append(await body(ctx))

    await run_in_durable_object(rt.env.BOX.getByName("b"), run)
    return box[0]


@pytest.fixture
def rt(make_runtime):
    return make_runtime(durable_objects={"BOX": Box})


# --------------------------------------------------------------------------- values (Pyodide)


async def test_a_whole_float_comes_back_as_an_int_and_other_numbers_as_float(rt):
    # js2python: a Number that Number.isSafeInteger accepts becomes int.
    async def body(ctx):
        await ctx.storage.put({"three": 3.0, "negzero": -0.0, "half": 1.5, "big": 2.0**60})
        return await ctx.storage.get(["three", "negzero", "half", "big"])

    got = await inside(rt, body)
    assert [(v, type(v)) for v in got.values()] == [(2.0**60, float), (1.5, float), (0, int), (3, int)]
    echoed = await rt.env.BOX.getByName("b").echo(3.0, -0.0)
    assert [type(v) for v in echoed] == [int, int]


async def test_a_bare_rpc_result_arrives_as_the_python_value_of_its_js_value(rt):
    box = rt.env.BOX.getByName("b")
    assert [(v, type(v)) for v in (await box.divide(6, 2), await box.divide(1, 2), await box.divide(7, 1))] == [
        (3, int), (0.5, float), (7, int)]  # a whole float made in the object arrives as an int
    assert type(await box.raw()) is memoryview


async def test_bytes_and_blobs_come_back_as_memoryview(rt):
    async def body(ctx):
        await ctx.storage.put("k", b"\x00\x01")
        ctx.storage.sql.exec("CREATE TABLE t (b BLOB)")
        ctx.storage.sql.exec("INSERT INTO t VALUES (?)", b"\x02")
        return await ctx.storage.get("k"), ctx.storage.sql.exec("SELECT b FROM t").one()["b"]

    stored, blob = await inside(rt, body)
    assert (type(stored), stored.tobytes()) == (memoryview, b"\x00\x01")
    assert (type(blob), blob.tobytes()) == (memoryview, b"\x02")


async def test_get_of_many_keys_and_list_give_the_sdks_mapping(rt):
    # python_from_rpc: _replace_jsnull_with_none turns every dict into the SDK's JsDict.
    async def body(ctx):
        await ctx.storage.put({"a": 1, "b": {"c": 2}})
        return await ctx.storage.get(["a", "b"]), await ctx.storage.list()

    many, listed = await inside(rt, body)
    assert type(many) is JsDict and type(listed) is JsDict
    assert listed.b.c == 2 and many["a"] == 1


async def test_naive_datetimes_are_utc_both_ways_whatever_the_host_zone(rt, monkeypatch):
    # rpc.py: Date.new(obj.timestamp() * 1000) and datetime.fromtimestamp(ms / 1000), both run
    # in the isolate, whose zone is UTC.
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset()")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        noon = datetime.datetime(2026, 7, 1, 12, 0)

        async def body(ctx):
            await ctx.storage.put("when", noon)
            await ctx.storage.setAlarm(noon)
            return await ctx.storage.get("when"), await ctx.storage.getAlarm()

        when, alarm_ms = await inside(rt, body)
        assert when == noon and when.tzinfo is None
        assert alarm_ms == 1782907200000  # 2026-07-01T12:00:00Z, not 16:00Z
    finally:
        monkeypatch.undo()
        time.tzset()


async def test_none_inside_a_container_crosses_as_null(rt):
    # rpc.py: _replace_none_with_jsnull, read back by _replace_jsnull_with_none.
    assert await rt.env.BOX.getByName("b").echo({"a": None}, [None]) == [{"a": None}, [None]]


async def test_an_exception_crosses_as_a_js_error(rt):
    # rpc.py: Exception -> js.Error.new(str(obj)); back: Exception(value.toString()), so an
    # exception sent and sent back gains one "Error: " per crossing.
    async def body(ctx):
        await ctx.storage.put("e", ValueError("bad"))
        return await ctx.storage.get("e")

    stored = await inside(rt, body)
    assert type(stored) is Exception and stored.args == ("Error: bad",)
    [echoed] = await rt.env.BOX.getByName("b").echo(ValueError("bad"))
    assert echoed.args == ("Error: Error: bad",)


# --------------------------------------------------------------------------- the SDK's refusals


@pytest.mark.parametrize("value", [(1, 2), bytearray(b"x"), {"nested": (1,)}])
async def test_tuples_and_bytearrays_are_refused_by_the_sdk_in_python(rt, value):
    # rpc.py: _raise_on_disabled_type raises a Python TypeError before JavaScript sees the value.
    kind = bytearray if isinstance(value, bytearray) else tuple
    with pytest.raises(TypeError) as caught:
        rt.env.BOX.getByName("b").echo(value)
    assert str(caught.value) == f"{kind} cannot be sent over RPC."
    assert not isinstance(caught.value, JsException)

    async def body(ctx):
        try:
            ctx.storage.put("k", value)
        except TypeError as error:
            return str(error), await ctx.storage.get("k")

    assert await inside(rt, body) == (f"{kind} cannot be sent over RPC.", None)


async def test_a_coroutine_is_refused_as_an_awaitable(rt):
    async def later():
        return 1

    coroutine = later()
    with pytest.raises(TypeError, match=r"^Awaitable <class 'coroutine'> cannot be sent over RPC\.$"):
        rt.env.BOX.getByName("b").echo(coroutine)
    coroutine.close()


async def test_shared_references_split_and_cycles_fail_in_the_sdks_copy(rt):
    # rpc.py copies dicts and lists recursively with no memo.
    shared = {"n": 1}
    first, second = (await rt.env.BOX.getByName("b").echo([shared, shared]))[0]
    assert first == second and first is not second
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(RecursionError):
        rt.env.BOX.getByName("b").echo(cycle)


# --------------------------------------------------------------------------- JS errors and calls


async def test_a_storage_error_is_a_js_exception_not_a_python_type_error(rt):
    # entrypoints.py: _BindingWrapper does not translate errors; Pyodide raises JsException.
    async def body(ctx):
        try:
            await ctx.storage.setAlarm("tomorrow")
        except TypeError:
            return "caught as TypeError"
        except JsException as error:
            return error.name, error.message, str(error)

    assert await inside(rt, body) == (
        "TypeError",
        "Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'date'.",
        "TypeError: Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'date'.",
    )


async def test_keyword_arguments_to_a_js_method_are_one_trailing_options_object(rt):
    # Pyodide: f(a, x=1) calls f(a, {x: 1}).
    async def body(ctx):
        await ctx.storage.put({"a": 1, "b": 2, "c": 3})
        await ctx.storage.put("d", 4, allowUnconfirmed=True)
        newest = await ctx.storage.list(reverse=True, limit=1)
        return list(newest), await ctx.storage.get("d", allowConcurrency=True)

    assert await inside(rt, body) == (["d"], 4)


async def test_rpc_reserved_names_fail_with_workerds_message(rt):
    # worker-rpc.c++: JSG_REQUIRE(!isReservedName(name), TypeError, "'<name>' is a reserved ...").
    with pytest.raises(JsException) as caught:
        await rt.env.BOX.getByName("b").alarm()
    assert str(caught.value) == "TypeError: 'alarm' is a reserved method and cannot be called over RPC."


# --------------------------------------------------------------------------- request.py


async def test_request_body_is_a_stream_and_cf_a_js_object():
    request = Request("https://example.com/", method="POST", body="hi", cf={"colo": "LHR"})
    assert isinstance(request.body, JsProxy) and isinstance(request.cf, JsProxy)
    assert request.cf.colo == "LHR"
    reader = request.body.getReader()
    chunk = await reader.read()
    assert chunk.value.to_bytes() == b"hi" and (await reader.read()).done
    with pytest.raises(OSError, match="^Body already used$"):  # request.py: _raise_if_failed
        await request.text()
    assert Request("https://example.com/").cf is None  # request.py: _jsnull_to_none


# --------------------------------------------------------------------------- pyodide.ffi


def test_pyodide_version_is_the_one_workerd_runs_for_current_compatibility_dates():
    # workerd build/python_metadata.bzl: python_workers_20250116 (implied from 2025-09-29) is 0.28.2.
    assert pyodide.__version__ == "0.28.2"


def test_to_js_makes_arrays_of_tuples_and_uses_the_dict_converter():
    from js import Object

    converted = to_js({"t": (1, 2), "b": b"x", "n": None}, dict_converter=Object.fromEntries)
    assert converted == {"t": [1, 2], "b": b"x", "n": None}
    assert type(converted["t"]) is list and type(converted["b"]) is memoryview


def test_create_proxy_until_destroy_and_create_once_callable_once():
    proxy = create_proxy(lambda x: x + 1)
    assert proxy(1) == 2
    proxy.destroy()
    with pytest.raises(JsException, match="^Error: Object has already been destroyed"):
        proxy(1)
    once = create_once_callable(lambda: "ran")
    assert once() == "ran"
    with pytest.raises(JsException):
        once()


async def test_run_sync_gives_a_storage_result_from_synchronous_code(rt):
    async def body(ctx):
        ctx.storage.put("k", "v")
        return run_sync(ctx.storage.get("k"))

    assert await inside(rt, body) == "v"


async def test_nan_stays_nan_and_infinity_stays_float(rt):
    values = await rt.env.BOX.getByName("b").echo(math.nan, math.inf)
    assert math.isnan(values[0]) and values[1] == math.inf and type(values[1]) is float
