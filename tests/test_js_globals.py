"""The JavaScript globals Python Worker code takes from `js`, and `pyodide.http.pyfetch`.

The expected values are what JavaScript gives for the same call (each was run in Node 20,
whose `JSON`, `URL` and `Date` are V8's, as workerd's are; the isolate's zone is UTC).
"""

from __future__ import annotations

import math

import pytest

import js
from durable_dojo import Runtime
from durable_dojo.testing import run_in_durable_object
from pyodide.ffi import JsException
from pyodide.http import pyfetch
from workers import DurableObject, Response


# --------------------------------------------------------------------------- JSON


def test_json_stringify_writes_numbers_as_javascript_does():
    # A Python float crosses as a JS Number: 3.0 is 3, -0.0 is 0, NaN and Infinity are null,
    # and the exponent form starts below 1e-6 and at 1e21, with no leading zero in the exponent.
    value = {"a": [3.0, math.nan, math.inf, 1e-7, 0.5, True, None, 123456789012345680000.0, 1.5e-5, -0.0,
                   1e21, 2.0**53, 2.0**53 + 2, 5e-324, -2.5e-8, 0.000001, 1e300]}
    assert js.JSON.stringify(value) == (
        '{"a":[3,null,null,1e-7,0.5,true,null,123456789012345680000,0.000015,0,1e+21,9007199254740992,'
        '9007199254740994,5e-324,-2.5e-8,0.000001,1e+300]}'
    )


def test_json_stringify_is_compact_and_indents_with_a_space_count():
    assert js.JSON.stringify({"name": "é", "n": [1, 2]}) == '{"name":"é","n":[1,2]}'
    assert js.JSON.stringify({"a": 1e-7}, None, 2) == '{\n  "a": 1e-7\n}'


def test_json_parse_gives_objects_whose_properties_read_as_attributes():
    parsed = js.JSON.parse('{"user": {"name": "ada", "tags": ["x"]}, "n": 1.5}')
    assert parsed.user.name == "ada" and parsed["user"]["tags"] == ["x"] and parsed.n == 1.5
    assert parsed.to_py() == {"user": {"name": "ada", "tags": ["x"]}, "n": 1.5}


# --------------------------------------------------------------------------- URL


def test_url_normalises_as_the_whatwg_parser_does():
    url = js.URL.new("https://Example.com:443/a/../b?x=1&y=2#frag")
    assert (url.href, url.host, url.port, url.pathname, url.search, url.hash, url.origin) == (
        "https://example.com/b?x=1&y=2#frag", "example.com", "", "/b", "?x=1&y=2", "#frag", "https://example.com")
    spaced = js.URL.new("http://h:8080/p q")
    assert (spaced.href, spaced.host, spaced.port, spaced.pathname) == ("http://h:8080/p%20q", "h:8080", "8080", "/p%20q")
    assert str(spaced) == spaced.toString() == spaced.href


def test_url_resolves_against_a_base():
    assert js.URL.new("/rel?q=1", "https://a.com/dir/file").href == "https://a.com/rel?q=1"
    assert js.URL.new("../x", "https://a.com/dir/sub/file").href == "https://a.com/dir/x"


def test_url_search_params_decode_as_javascript_does():
    params = js.URL.new("https://a.com/?a=1&a=2&b=&c=%20x+y").searchParams
    assert (params.get("a"), params.getAll("a"), params.get("b"), params.get("c")) == ("1", ["1", "2"], "", " x y")
    assert params.get("missing") is None and params.has("b") and not params.has("missing")


def test_an_invalid_url_is_a_javascript_type_error():
    with pytest.raises(JsException) as caught:
        js.URL.new("not a url")
    assert caught.value.name == "TypeError" and "Invalid URL" in caught.value.message


# --------------------------------------------------------------------------- Date


def test_date_new_reads_iso_strings_as_date_parse_does():
    assert js.Date.new("2026-05-01T12:00:00Z").getTime() == 1777636800000
    assert js.Date.new("2026-05-01T12:00:00.123+02:00").getTime() == 1777629600123
    assert js.Date.new("2026-05-01").toISOString() == "2026-05-01T00:00:00.000Z"  # a date alone is UTC
    assert js.Date.new("2026-05-01T12:00:00").toISOString() == "2026-05-01T12:00:00.000Z"  # the isolate's zone
    assert js.Date.new(0).toISOString() == "1970-01-01T00:00:00.000Z"


def test_a_date_string_that_is_not_iso_is_refused_with_a_range_error():
    with pytest.raises(JsException) as caught:
        js.Date.new("yesterday")
    assert caught.value.name == "RangeError"


async def test_date_now_and_new_date_read_the_worlds_clock():
    class Clock(DurableObject):
        async def now(self):
            return [js.Date.now(), js.Date.new().getTime()]

    rt = Runtime(durable_objects={"CLOCK": Clock})
    try:
        await rt.advance(90)
        assert await rt.env.CLOCK.getByName("c").now() == [rt.now(), rt.now()] == [1767225690000] * 2
    finally:
        rt.close()


# --------------------------------------------------------------------------- console, pyfetch


def test_console_log_prints_its_arguments_and_warn_goes_to_stderr(capsys):
    js.console.log("count", 3)
    js.console.error("bad")
    out, err = capsys.readouterr()
    assert out == "count 3\n" and err == "bad\n"


async def test_pyfetch_leaves_the_world_through_outbound():
    seen = []

    def outbound(request):
        seen.append((request.method, request.url, request.headers.get("x-key")))
        return Response('{"ok": true}', headers={"content-type": "application/json"})

    class Caller(DurableObject):
        async def call(self):
            response = await pyfetch("https://api.example.com/v1", method="POST", headers={"x-key": "k"}, body="{}")
            return [response.status, response.ok, await response.json()]

    rt = Runtime(durable_objects={"CALLER": Caller}, outbound=outbound)
    try:
        assert await rt.env.CALLER.getByName("c").call() == [200, True, {"ok": True}]
        assert seen == [("POST", "https://api.example.com/v1", "k")]
    finally:
        rt.close()


async def test_js_response_new_takes_the_init_as_keyword_arguments():
    class Maker(DurableObject):
        async def fetch(self, request):
            return js.Response.new("made", status=201, headers={"x-made": "yes"})

    rt = Runtime(durable_objects={"MAKER": Maker})
    try:
        response = await rt.env.MAKER.getByName("m").fetch("https://do/")
        assert (response.status, response.headers.get("x-made"), await response.text()) == (201, "yes", "made")
        stub = rt.env.MAKER.getByName("m")
        assert await run_in_durable_object(stub, lambda obj, ctx: js.JSON.stringify({"n": 2.0})) == '{"n":2}'
    finally:
        rt.close()


# --------------------------------------------------------------------------- pyodide.ffi names


async def test_a_body_chunk_is_a_js_buffer_whose_to_py_is_a_memoryview():
    from pyodide.ffi import JsBuffer, JsProxy
    from workers import Request

    chunk = (await Request("https://e.com/", method="POST", body="hi").body.getReader().read()).value
    assert isinstance(chunk, JsBuffer) and isinstance(chunk, JsProxy)
    assert type(chunk.to_py()) is memoryview and chunk.to_bytes() == b"hi"
    assert not isinstance(b"hi", JsBuffer) and not isinstance(memoryview(b"hi"), JsBuffer)


async def test_jsnull_is_falsy_and_converted_results_give_none_instead():
    from pyodide.ffi import jsnull

    class Box(DurableObject):
        async def read(self):
            return await self.ctx.storage.get("missing")

    rt = Runtime(durable_objects={"BOX": Box})
    try:
        missing = await rt.env.BOX.getByName("b").read()
        assert missing is None and missing is not jsnull  # the SDK's python_from_rpc: jsnull -> None
        assert not jsnull and repr(jsnull) == "jsnull"
    finally:
        rt.close()


def test_destroy_proxies_destroys_each_proxy():
    from pyodide.ffi import create_proxy, destroy_proxies

    proxies = [create_proxy(lambda: 1), create_proxy(lambda: 2)]
    destroy_proxies(proxies)
    for proxy in proxies:
        with pytest.raises(JsException, match="already been destroyed"):
            proxy()


# --------------------------------------------------------------------------- setTimeout


class Reminder(DurableObject):
    """Sets a JavaScript timer, the way a Python Worker does it through Pyodide."""

    async def remind_in(self, ms):
        from pyodide.ffi import create_once_callable

        async def write():
            await self.ctx.storage.put("reminded at", js.Date.now())

        return js.setTimeout(create_once_callable(write), ms)

    async def cancel(self, timer_id):
        js.clearTimeout(timer_id)

    async def reminded_at(self):
        return await self.ctx.storage.get("reminded at")


async def test_set_timeout_calls_back_after_its_delay_on_the_worlds_clock():
    rt = Runtime(durable_objects={"REMINDER": Reminder})
    try:
        stub = rt.env.REMINDER.getByName("r")
        first = await stub.remind_in(5000)
        await rt.advance(4.9)
        assert await stub.reminded_at() is None
        await rt.advance(0.2)
        assert await stub.reminded_at() == 1767225605000
        assert await stub.remind_in(1) > first  # a fresh id each time
    finally:
        rt.close()


async def test_clear_timeout_cancels_a_pending_timer_and_ignores_unknown_ids():
    rt = Runtime(durable_objects={"REMINDER": Reminder})
    try:
        stub = rt.env.REMINDER.getByName("r")
        timer = await stub.remind_in(5000)
        await stub.cancel(timer)
        await stub.cancel(timer)  # already cleared: nothing happens, as in JavaScript
        await stub.cancel(123456)
        await rt.advance(60)
        assert await stub.reminded_at() is None
    finally:
        rt.close()


async def test_a_pending_timer_keeps_the_object_from_hibernating():
    """docs/lifecycle.md fact 2: an object with a pending setTimeout does not meet the hibernation
    criteria; once the timer has fired it hibernates 10 s later."""
    rt = Runtime(durable_objects={"REMINDER": Reminder})
    try:
        stub = rt.env.REMINDER.getByName("r")
        await stub.remind_in(60_000)
        await rt.advance(30)
        assert rt.metrics("REMINDER")["activeObjects"] == 1  # idle 30 s, still in memory
        await rt.advance(31)  # the timer fires at 60 s
        await rt.advance(11)
        assert rt.metrics("REMINDER")["activeObjects"] == 0
        assert await stub.reminded_at() == 1767225660000
    finally:
        rt.close()


async def test_set_timeout_with_something_not_callable_is_workerds_type_error():
    class Wrong(DurableObject):
        async def set(self, callback):
            try:
                js.setTimeout(callback, 10)
            except JsException as error:
                return [error.name, error.message]

    rt = Runtime(durable_objects={"WRONG": Wrong})
    try:
        # workerd 1.20261117.1: setTimeout(5, 10)
        assert await rt.env.WRONG.getByName("w").set(5) == [
            "TypeError", 'The "callback" argument must be of type function. Received type number (5)']
    finally:
        rt.close()


def test_set_timeout_outside_a_world_says_what_it_needs():
    with pytest.raises(RuntimeError, match="durable_dojo world"):
        js.setTimeout(lambda: None, 10)


async def test_a_world_closed_with_a_timer_pending_is_not_kept_alive_by_it():
    import gc
    import weakref

    rt = Runtime(durable_objects={"REMINDER": Reminder})
    await rt.env.REMINDER.getByName("r").remind_in(3_600_000)
    world = weakref.ref(rt)
    rt.close()
    del rt
    gc.collect()
    assert world() is None
