"""A value or a JSON text nested thousands of levels deep gets Python's `RecursionError` (or,
where the platform's JavaScript says so, V8's RangeError), never a dead interpreter.

In CPython every conversion at the SDK boundary stops at the recursion limit. Under Pyodide
(the in-browser runner, `make pyodide-test` runs this file there) two things end the whole
interpreter instead (a fatal "Maximum call stack size exceeded" from WebAssembly's stack, the
page's worker dies): recursion that passes through C on every level (a generator expression,
`map`), and the C code of `json` on deep input, whose guard measures a C stack that is not the
one V8 gives WebAssembly. The emulator's conversions recurse in plain Python only and check a
JSON text's or value's nesting before handing it to `json` where json does not guard itself
(`durable_dojo._core.values`; the tests marked `json_unguarded` make CPython take that path too).

The values here are nested past the recursion limit and no deeper than WebAssembly can free
(a list nested ~5,000 deep already ends Pyodide when it is freed, compared or printed: no code
of the emulator is involved then, see tests/pyodide/core_tests.py).
"""

from __future__ import annotations

import sys

import pytest

from durable_dojo import Runtime
from durable_dojo._core import values
from durable_dojo.testing import run_in_durable_object
from js import JSON
from pyodide.ffi import to_js
from workers import DurableObject, Request, Response

DEEP = 3_000  # past the recursion limit (1,000), far below what ends Pyodide
DEEP_TEXT = 100_000  # a JSON text is flat, however deep it nests: json alone would end Pyodide


def nested_lists(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


class Thing(DurableObject):
    pass


@pytest.fixture
def json_unguarded(monkeypatch):
    """json's C code as under Pyodide, where its own guard fails: the emulator checks first."""
    monkeypatch.setattr(values, "JSON_GUARDS_ITSELF", False)


@pytest.fixture
def rt():
    assert sys.getrecursionlimit() < DEEP
    world = Runtime(durable_objects={"THING": Thing}, kv_namespaces=["KV"])
    yield world
    world.close()


def inside(rt, fn):
    """fn(ctx) run in a Durable Object: its result or the exception it raised."""
    async def go(obj, ctx):
        try:
            result = fn(ctx)
            return await result if hasattr(result, "__await__") else result
        except Exception as exc:  # noqa: BLE001
            return exc
    return rt.run(run_in_durable_object(rt.env.THING.getByName("a"), go))


def test_a_storage_value_nested_too_deep_is_a_recursion_error_and_nothing_is_stored(rt):
    error = inside(rt, lambda ctx: ctx.storage.put("k", nested_lists(DEEP)))
    assert isinstance(error, RecursionError)
    assert inside(rt, lambda ctx: ctx.storage.get("k")) is None


def test_a_storage_key_of_lists_nested_too_deep_is_a_recursion_error(rt):
    error = inside(rt, lambda ctx: ctx.storage.put(nested_lists(DEEP), 1))
    assert isinstance(error, RecursionError)
    assert inside(rt, lambda ctx: ctx.storage.list()) == {}


def test_a_sql_binding_of_lists_nested_too_deep_is_a_recursion_error(rt):
    error = inside(rt, lambda ctx: ctx.storage.sql.exec("SELECT ?", nested_lists(DEEP)))
    assert isinstance(error, RecursionError)


def test_kv_metadata_nested_too_deep_is_v8s_range_error_and_nothing_is_written(rt):
    with pytest.raises(Exception, match="RangeError: Maximum call stack size exceeded"):
        rt.run(rt.env.KV.put("k", "v", {"metadata": nested_lists(DEEP)}))
    assert rt.run(rt.env.KV.get("k")) is None


def test_a_kv_value_read_as_json_nested_too_deep_is_a_recursion_error(rt, json_unguarded):
    rt.run(rt.env.KV.put("k", nested_json(DEEP_TEXT)))
    with pytest.raises(RecursionError):
        rt.run(rt.env.KV.get("k", "json"))
    assert rt.run(rt.env.KV.get("k")) == nested_json(DEEP_TEXT)  # the stored text is intact


def test_to_js_of_lists_nested_too_deep_is_a_recursion_error():
    with pytest.raises(RecursionError):
        to_js(nested_lists(DEEP))


def test_json_stringify_and_parse_nested_too_deep_are_recursion_errors(json_unguarded):
    with pytest.raises(RecursionError):
        JSON.stringify(nested_lists(DEEP))
    with pytest.raises(RecursionError):
        JSON.parse(nested_json(DEEP_TEXT))


async def test_a_request_or_response_body_nested_too_deep_is_a_recursion_error(json_unguarded):
    with pytest.raises(RecursionError):
        await Request("https://example.com/", method="POST", body=nested_json(DEEP_TEXT)).json()
    with pytest.raises(RecursionError):
        await Response(nested_json(DEEP_TEXT)).json()
    with pytest.raises(RecursionError):
        Response.json(nested_lists(DEEP))


def test_values_nested_within_the_limit_still_convert():
    shallow = nested_lists(100)
    assert JSON.parse(JSON.stringify(shallow)) == shallow
    assert to_js(shallow) == shallow
    assert values.js_string(nested_lists(3)) == ""


@pytest.mark.parametrize("kind, text", [("array", nested_json(DEEP)), ("object", '{"a":' * DEEP + "1" + "}" * DEEP)])
def test_the_json_text_check_says_what_json_says(kind, text, json_unguarded):
    with pytest.raises(RecursionError, match=f"maximum recursion depth exceeded while decoding a JSON {kind}"):
        values.check_json_nesting(text)


@pytest.mark.parametrize("text", ['["' + "[" * DEEP + '"]', '["\\"' + "[" * DEEP + '"]'],
                         ids=["in-a-string", "after-an-escaped-quote"])
def test_brackets_inside_a_json_string_are_not_nesting(text, json_unguarded):
    values.check_json_nesting(text)
    assert JSON.parse(text) == [text[2:-2].replace('\\"', '"')]
