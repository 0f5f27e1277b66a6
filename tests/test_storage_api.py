"""The key-value storage API, `ctx.storage`, used from inside objects (semantics §3.1-3.17,
scenarios 4-8 and 11-15).

Expected values and messages come from the spec and from what workerd printed (oracle
REPORT.md, "Storage get/put/delete/list" and "Transactions"). The SQLite-only synchronous KV
API (`storage.kv`, §3.18) and `sql.exec` are out of scope here.
"""

from __future__ import annotations

import asyncio
import datetime
import math

import pytest
from workers import DurableObject

from durable_dojo import DataCloneError, JsError, RangeError
from durable_dojo.testing import run_in_durable_object
from pyodide.ffi import JsException
from durable_dojo._core.errors import python_error_line

# The order workerd listed these keys in (oracle REPORT.md): UTF-8 byte order.
ORACLE_ORDER = [
    " ", "10", "2", "9", "A", "B", "_x", "a", "a\0", "a.b", "a/b", "a:b", "aa", "ab",
    "b", "e", "z", "~", "é", "ÿ", "\uFFFF", "😀",
]  # fmt: skip

PUT_OVERLOAD_PREFIX = (
    "put() may only be called with a single key-value pair and optional options as "
    "put(key, value, options) or with multiple key-value pairs "
)
ALREADY_COMMITTED = (
    "Cannot call put() on transaction that has already committed: did you move `txn` outside of the closure?"
)


class Store(DurableObject):
    """A plain object: tests run code in it with `inside()`, or call its RPC methods."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.field = None

    async def alarm(self, alarm_info):
        await self.ctx.storage.put("alarm-ran", True)

    # scenario 4
    async def prepare_t(self):
        await self.ctx.storage.put("t", 3)
        self.field = "set before the transaction"

    async def failing_transaction(self):
        async def body(txn):
            await txn.put("t", 5)
            await self.ctx.storage.put("seen-inside", await txn.get("t"))  # rolled back too
            self.field_inside = await txn.get("t")
            raise Exception("txn failure")

        await self.ctx.storage.transaction(body)

    async def catch_failing_transaction(self):
        try:
            await self.failing_transaction()
        except Exception as exc:  # the calling code inside the object catches it
            return str(exc)
        return "no error"

    async def state(self):
        return {
            "t": await self.ctx.storage.get("t"),
            "seen-inside": await self.ctx.storage.get("seen-inside"),
            "field": self.field,
            "field_inside": getattr(self, "field_inside", None),
        }

    # 3.15: a transaction is a critical section
    async def slow_transaction(self):
        async def body(txn):
            await txn.put("x", 1)
            await asyncio.sleep(5)
            await txn.put("x", 2)
            return "committed"

        return await self.ctx.storage.transaction(body)

    async def read(self, key):
        return await self.ctx.storage.get(key)

    async def put_value(self, key, value):
        await self.ctx.storage.put(key, value)


def world(make_runtime, **kwargs):
    return make_runtime(durable_objects={"STORE": Store}, **kwargs)


def a_stub(make_runtime, name="s", **kwargs):
    return world(make_runtime, **kwargs).env.STORE.getByName(name)


async def inside(stub, body):
    """Run `await body(obj, ctx)` inside the object and return its result as seen there (no
    RPC copy). The result travels back in a box: `run_in_durable_object`'s own return value is
    checked separately, in test_run_in_durable_object_returns_the_result."""
    box = []

    async def run(obj, ctx):
        box.append(await body(obj, ctx))

    await run_in_durable_object(stub, run)
    return box[0]


async def error_of(call):
    """The exception of `await call()`, whether the call raises at once or its awaitable does."""
    try:
        await call()
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an error")


async def called(fn, *args):
    """`fn(*args)` as an awaitable, for `error_of` on a synchronous call (transactionSync)."""
    return fn(*args)


async def put_all(ctx, keys):
    await ctx.storage.put({k: k for k in keys})


# --- test helpers ----------------------------------------------------------------------------


async def test_run_in_durable_object_returns_the_result(make_runtime):
    stub = a_stub(make_runtime)
    await stub.put_value("n", 41)
    assert await run_in_durable_object(stub, lambda obj, ctx: ctx.storage.get("n")) == 41
    assert await run_in_durable_object(stub, lambda obj, ctx: "plain") == "plain"


async def test_errors_inside_run_in_durable_object_reach_the_caller_marked_remote(make_runtime):
    stub = a_stub(make_runtime)
    err = await error_of(lambda: run_in_durable_object(stub, lambda obj, ctx: ctx.storage.put("k")))
    assert (type(err), err.name) == (JsException, "TypeError")
    assert err.message == "put() called with undefined value."
    assert err.remote is True


# --- 3.1 get ---------------------------------------------------------------------------------


async def test_get_of_a_missing_key_is_none(make_runtime):
    stub = a_stub(make_runtime)
    assert await inside(stub, lambda obj, ctx: ctx.storage.get("missing")) is None


async def test_get_of_a_list_returns_only_existing_keys_in_key_order(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put({"😀": 4, "b": 2, "\uffff": 3, "a": 1})
        return await ctx.storage.get(["😀", "missing", "b", "\uffff", "a"])

    got = await inside(stub, body)
    assert isinstance(got, dict)
    assert list(got.items()) == [("a", 1), ("b", 2), ("\uffff", 3), ("😀", 4)]


async def test_get_of_a_list_of_missing_keys_is_an_empty_dict(make_runtime):
    stub = a_stub(make_runtime)
    assert await inside(stub, lambda obj, ctx: ctx.storage.get(["x", "y"])) == {}


async def test_get_over_rpc_returns_the_value(make_runtime):
    stub = a_stub(make_runtime)
    await stub.put_value("k", {"a": [1, 2]})
    assert await stub.read("k") == {"a": [1, 2]}


# --- 3.2 put ---------------------------------------------------------------------------------


async def test_put_of_a_dict_writes_every_entry(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        assert await ctx.storage.put({"a": 1, "b": 2}) is None
        return await ctx.storage.get(["a", "b"])

    assert await inside(stub, body) == {"a": 1, "b": 2}


async def test_put_returns_none(make_runtime):
    stub = a_stub(make_runtime)
    assert await inside(stub, lambda obj, ctx: ctx.storage.put("k", 1)) is None


async def test_put_overwrites(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put("k", 1)
        await ctx.storage.put("k", "two")
        return await ctx.storage.get("k")

    assert await inside(stub, body) == "two"


async def test_put_without_a_value_throws(make_runtime):
    stub = a_stub(make_runtime)
    err = await inside(stub, lambda obj, ctx: error_of(lambda: ctx.storage.put("k")))
    assert (type(err), err.name) == (JsException, "TypeError")
    assert err.message == "put() called with undefined value."


async def test_put_without_arguments_throws(make_runtime):
    stub = a_stub(make_runtime)
    err = await inside(stub, lambda obj, ctx: error_of(lambda: ctx.storage.put()))
    assert (type(err), err.name) == (JsException, "TypeError")
    assert err.message == (
        "Failed to execute 'put' on 'DurableObjectStorage': parameter 1 is not of type 'string or object'."
    )


@pytest.mark.parametrize("second", [5, "x", True], ids=["number", "string", "bool"])
async def test_put_of_a_dict_with_a_non_options_second_argument_throws(make_runtime, second):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        err = await error_of(lambda: ctx.storage.put({"a": 1}, second))
        return err, await ctx.storage.get("a")

    err, stored = await inside(stub, body)
    assert (type(err), err.name) == (JsException, "TypeError")
    assert err.message.startswith(PUT_OVERLOAD_PREFIX)
    assert stored is None


async def test_put_accepts_options_and_ignores_unknown_ones(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put("k", 1, {"bogus": 1, "allowUnconfirmed": True, "noCache": True})
        await ctx.storage.put({"a": 1}, {"allowConcurrency": True})
        return await ctx.storage.get(["k", "a"])

    assert await inside(stub, body) == {"a": 1, "k": 1}


async def test_keys_are_coerced_to_strings_and_the_empty_key_is_allowed(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put(5, "five")
        await ctx.storage.put("", "empty")
        found = await ctx.storage.get("5"), await ctx.storage.get(5), await ctx.storage.get("")
        return (*found, await ctx.storage.list())

    by_string, by_number, empty, listed = await inside(stub, body)
    assert (by_string, by_number, empty) == ("five", "five", "empty")
    assert list(listed) == ["", "5"]


# --- 3.3 delete ------------------------------------------------------------------------------


async def test_delete_returns_whether_the_key_existed(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put("k", 1)
        return await ctx.storage.delete("k"), await ctx.storage.delete("k"), await ctx.storage.get("k")

    assert await inside(stub, body) == (True, False, None)


async def test_delete_of_a_list_returns_how_many_existed(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put({"a": 1, "b": 2, "c": 3})
        count = await ctx.storage.delete(["a", "b", "missing"])
        return count, await ctx.storage.list()

    count, left = await inside(stub, body)
    assert count == 2
    assert left == {"c": 3}


# --- 3.4 deleteAll ---------------------------------------------------------------------------


async def test_delete_all_removes_every_key_and_returns_none(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await put_all(ctx, ["a", "b", "c"])
        result = await ctx.storage.deleteAll()
        return result, await ctx.storage.list(), await ctx.storage.get("a")

    assert await inside(stub, body) == (None, {}, None)


async def test_delete_all_removes_committed_keys_for_later_requests(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.STORE.getByName("s")
    await stub.put_value("a", 1)
    await inside(stub, lambda obj, ctx: ctx.storage.deleteAll())
    await rt.evict(stub)
    assert await stub.read("a") is None


def put_set_alarm_then_delete_all(at):
    """Scenario 12's body: a key and an alarm, then deleteAll(); returns (getAlarm(), get("k"))."""

    async def body(obj, ctx):
        await ctx.storage.put("k", 1)
        await ctx.storage.setAlarm(at)
        await ctx.storage.deleteAll()
        return await ctx.storage.getAlarm(), await ctx.storage.get("k")

    return body


async def test_scenario_12_delete_all_deletes_the_alarm_on_current_dates(make_runtime):
    rt = world(make_runtime)  # default compatibility date, after 2026-02-24
    stub = rt.env.STORE.getByName("s")
    at = rt.now() + 60_000
    assert await inside(stub, put_set_alarm_then_delete_all(at)) == (None, None)
    assert await inside(stub, lambda obj, ctx: ctx.storage.getAlarm()) is None
    await rt.advance(120)
    assert await stub.read("alarm-ran") is None
    assert rt.trace.select("alarm:fire") == []


async def test_scenario_12_delete_all_keeps_the_alarm_before_2026_02_24(make_runtime):
    rt = world(make_runtime, compatibility_date="2026-01-01")
    stub = rt.env.STORE.getByName("s")
    at = rt.now() + 60_000
    assert await inside(stub, put_set_alarm_then_delete_all(at)) == (at, None)
    assert await inside(stub, lambda obj, ctx: ctx.storage.getAlarm()) == at
    await rt.advance(120)
    assert await stub.read("alarm-ran") is True


async def test_delete_all_is_refused_on_a_transaction(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        async def closure(txn):
            await txn.put("x", 1)
            return await error_of(lambda: txn.deleteAll())

        err = await ctx.storage.transaction(closure)
        return err, await ctx.storage.get("x")

    err, x = await inside(stub, body)
    assert type(err) is JsError
    assert err.message == "Cannot call deleteAll() within a transaction"
    assert x == 1  # the throw was caught inside the closure, so the transaction committed


# --- 3.5 / 3.6 / scenario 13: list -----------------------------------------------------------


async def list_of(stub, keys, options=None, *, as_items=False):
    """Store each key with itself as value, then list with `options` (keys only by default)."""

    async def body(obj, ctx):
        await put_all(ctx, keys)
        result = await ctx.storage.list(options) if options is not None else await ctx.storage.list()
        return list(result.items()) if as_items else list(result)

    return await inside(stub, body)


async def test_list_is_in_utf8_byte_order(make_runtime):
    stub = a_stub(make_runtime)
    shuffled = sorted(ORACLE_ORDER, key=lambda k: k.encode("utf-16-be"))  # JS order: differs at the end
    assert shuffled != ORACLE_ORDER
    assert await list_of(stub, shuffled) == ORACLE_ORDER


async def test_list_returns_the_values(make_runtime):
    stub = a_stub(make_runtime)
    assert await list_of(stub, ["b", "a"], as_items=True) == [("a", "a"), ("b", "b")]


async def test_list_of_an_empty_object_is_empty(make_runtime):
    stub = a_stub(make_runtime)
    assert await inside(stub, lambda obj, ctx: ctx.storage.list()) == {}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({"reverse": True}, ORACLE_ORDER[::-1], id="reverse"),
        pytest.param({"limit": 3}, ORACLE_ORDER[:3], id="limit-3"),
        pytest.param({"prefix": "a"}, ["a", "a\0", "a.b", "a/b", "a:b", "aa", "ab"], id="prefix-a"),
        pytest.param({"start": "b", "end": "z"}, ["b", "e"], id="start-inclusive-end-exclusive"),
        pytest.param({"startAfter": "a"}, ORACLE_ORDER[ORACLE_ORDER.index("a") + 1 :], id="startAfter-exclusive"),
        pytest.param({"start": "z", "end": "b"}, [], id="start-after-end"),
        pytest.param({"start": "b", "end": "b"}, [], id="start-equals-end"),
        pytest.param({"prefix": "a", "start": "ab"}, ["ab"], id="prefix-and-start"),
        pytest.param({"prefix": "a", "start": "b"}, [], id="prefix-below-start"),
        pytest.param({"prefix": "b", "end": "a"}, [], id="prefix-above-end"),
        pytest.param({"limit": 2.7}, ORACLE_ORDER[:2], id="limit-2.7-truncated"),
        pytest.param({"limit": "2"}, ORACLE_ORDER[:2], id="limit-string-2"),
        pytest.param({"prefix": "zz"}, [], id="prefix-without-match"),
        pytest.param({"noCache": True, "allowConcurrency": True}, ORACLE_ORDER, id="hints"),
    ],
)
async def test_list_options_on_the_oracle_keys(make_runtime, options, expected):
    stub = a_stub(make_runtime)
    assert await list_of(stub, ORACLE_ORDER, options) == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({"startAfter": "a", "end": "d"}, ["b", "c"], id="startAfter-end"),
        pytest.param({"reverse": True, "limit": 1}, ["d"], id="reverse-limit"),
        pytest.param({"prefix": "b"}, ["b"], id="prefix"),
        pytest.param({"start": "b", "end": "d", "reverse": True}, ["c", "b"], id="reverse-keeps-bounds"),
        pytest.param({"start": "b", "end": "d", "reverse": True, "limit": 1}, ["c"], id="reverse-limit-from-top"),
        pytest.param({"start": "b", "limit": 2}, ["b", "c"], id="start-limit"),
        pytest.param({"end": "c"}, ["a", "b"], id="end-only"),
    ],
)
async def test_scenario_13_list_options(make_runtime, options, expected):
    stub = a_stub(make_runtime)
    assert await list_of(stub, ["d", "b", "a", "c"], options) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"start": "a", "startAfter": "a"},
                     "list() cannot be called with both start and startAfter values.", id="start-and-startAfter"),
        pytest.param({"limit": 0}, "List limit must be positive.", id="limit-0"),
        pytest.param({"limit": -1}, "List limit must be positive.", id="limit-minus-1"),
        pytest.param("prefix", "Failed to execute 'list' on 'DurableObjectStorage': parameter 1 is not of type "
                     "'ListOptions'.", id="string-argument"),
    ],
)
async def test_list_option_errors(make_runtime, options, message):
    stub = a_stub(make_runtime)
    err = await inside(stub, lambda obj, ctx: error_of(lambda: ctx.storage.list(options)))
    assert (type(err), err.name) == (JsException, "TypeError")
    assert err.message == message


async def test_list_sees_unflushed_writes_and_deletes(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.STORE.getByName("s")
    await inside(stub, lambda obj, ctx: put_all(ctx, ["a", "b", "c"]))

    async def body(obj, ctx):
        ctx.storage.delete("b")  # not awaited
        ctx.storage.put("bb", "bb")
        return list(await ctx.storage.list())

    assert await inside(stub, body) == ["a", "bb", "c"]


# --- 3.7 / 3.8 / scenario 15: limits ----------------------------------------------------------


async def test_scenario_15_kv_backed_get_of_129_keys(make_runtime):
    stub = a_stub(make_runtime, storage="kv")
    err = await inside(stub, lambda obj, ctx: error_of(lambda: ctx.storage.get([f"k{i}" for i in range(129)])))
    assert type(err) is RangeError
    assert err.message == "Maximum number of key value pairs is 128. 129 pairs were provided."


async def test_kv_backed_get_of_128_keys_is_fine(make_runtime):
    stub = a_stub(make_runtime, storage="kv")
    assert await inside(stub, lambda obj, ctx: ctx.storage.get([f"k{i}" for i in range(128)])) == {}


async def test_kv_backed_put_and_delete_of_129_entries_are_fine(make_runtime):
    stub = a_stub(make_runtime, storage="kv")

    async def body(obj, ctx):
        await ctx.storage.put({f"k{i:03}": i for i in range(129)})
        return len(await ctx.storage.list()), await ctx.storage.delete([f"k{i:03}" for i in range(129)])

    assert await inside(stub, body) == (129, 129)


@pytest.mark.parametrize(
    ("key", "size"),
    [pytest.param("k" * 2049, 2049, id="ascii-2049"), pytest.param("é" * 1025, 2050, id="utf8-2050-bytes")],
)
async def test_scenario_15_kv_backed_key_too_large_on_put_and_get(make_runtime, key, size):
    stub = a_stub(make_runtime, storage="kv")

    async def body(obj, ctx):
        return await error_of(lambda: ctx.storage.put(key, 1)), await error_of(lambda: ctx.storage.get(key))

    for err in await inside(stub, body):
        assert type(err) is RangeError
        assert err.message == f"Keys cannot be larger than 2048 bytes. A key of size {size} was provided."


async def test_kv_backed_key_of_2048_bytes_is_fine(make_runtime):
    stub = a_stub(make_runtime, storage="kv")
    key = "é" * 1024

    async def body(obj, ctx):
        await ctx.storage.put(key, 1)
        return await ctx.storage.get(key)

    assert await inside(stub, body) == 1


async def test_scenario_15_kv_backed_value_of_200_kib(make_runtime):
    stub = a_stub(make_runtime, storage="kv")

    async def body(obj, ctx):
        err = await error_of(lambda: ctx.storage.put("big", "x" * 204800))
        return err, await ctx.storage.get("big")

    err, stored = await inside(stub, body)
    assert type(err) is RangeError
    assert err.message == "Values cannot be larger than 131072 bytes. A value of size 204806 was provided."
    assert stored is None


async def test_scenario_15_kv_backed_value_error_reaches_the_rpc_caller(make_runtime):
    stub = a_stub(make_runtime, storage="kv")
    err = await error_of(lambda: stub.put_value("big", "x" * 204800))
    assert type(err) is RangeError and err.name == "RangeError"
    assert not isinstance(err, ValueError)  # a JsException, as on the platform
    assert err.message == "Values cannot be larger than 131072 bytes. A value of size 204806 was provided."
    assert err.remote is True


async def test_kv_backed_value_limit_has_a_34_byte_cushion(make_runtime):
    stub = a_stub(make_runtime, storage="kv")
    # A one-byte string of n >= 16384 characters serializes to n + 6 bytes (header, tag, length).

    async def body(obj, ctx):
        await ctx.storage.put("ok", "x" * 131100)  # 131,106 bytes = 131,072 + 34
        return await error_of(lambda: ctx.storage.put("too-big", "x" * 131101)), len(await ctx.storage.get("ok"))

    err, stored_len = await inside(stub, body)
    assert stored_len == 131100
    assert type(err) is RangeError
    assert err.message == "Values cannot be larger than 131072 bytes. A value of size 131107 was provided."


async def test_sqlite_backed_has_none_of_the_kv_limits(make_runtime):
    stub = a_stub(make_runtime)  # default storage: SQLite-backed
    big_key = "k" * 2049

    async def body(obj, ctx):
        await ctx.storage.put("big", "x" * 204800)
        await ctx.storage.put(big_key, 1)
        many = await ctx.storage.get([f"k{i}" for i in range(129)])
        return len(await ctx.storage.get("big")), await ctx.storage.get(big_key), many

    assert await inside(stub, body) == (204800, 1, {})


# --- 3.9 values: structured clone ------------------------------------------------------------

ROUND_TRIPS = [
    pytest.param(None, id="None"),
    pytest.param(True, id="True"),
    pytest.param(False, id="False"),
    pytest.param(0, id="int-0"),
    pytest.param(-42, id="int-neg"),
    pytest.param(2**40, id="int-2**40"),
    pytest.param(2**70, id="int-bigint"),
    pytest.param(1.5, id="float"),
    pytest.param(float("inf"), id="inf"),
    pytest.param(float("-inf"), id="-inf"),
    pytest.param("", id="str-empty"),
    pytest.param("héllo 😀", id="str-unicode"),
    pytest.param([1, "two", [3.5, None]], id="list"),
    pytest.param({"a": 1, "b": {"c": [True]}}, id="dict"),
    pytest.param({1, "two"}, id="set"),
    pytest.param(datetime.datetime(2026, 3, 4, 5, 6, 7, 890000), id="datetime"),
]


@pytest.mark.parametrize("value", ROUND_TRIPS)
async def test_value_round_trips(make_runtime, value):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put("v", value)
        return await ctx.storage.get("v")

    got = await inside(stub, body)
    assert got == value
    assert isinstance(got, type(value))


async def test_bytes_read_back_as_a_memoryview(make_runtime):
    # Pyodide hands a stored ArrayBuffer / Uint8Array to Python as a memoryview.
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put("v", b"\x00\xffbytes")
        return await ctx.storage.get("v")

    got = await inside(stub, body)
    assert type(got) is memoryview and got == b"\x00\xffbytes" and got.tobytes() == b"\x00\xffbytes"


async def test_nan_stays_a_float_and_whole_floats_read_back_as_ints(make_runtime):
    # A JS Number that is a safe integer reaches Python as an int: 3.0 and -0.0 read back as 3 and 0.
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put({"nan": float("nan"), "negzero": -0.0, "three": 3.0})
        return await ctx.storage.get(["nan", "negzero", "three"])

    got = await inside(stub, body)
    assert isinstance(got["nan"], float) and math.isnan(got["nan"])
    assert (got["negzero"], type(got["negzero"])) == (0, int)
    assert (got["three"], type(got["three"])) == (3, int)


async def test_a_dict_reads_back_with_attribute_access(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put("d", {"name": "ada", "n": 1})
        return await ctx.storage.get("d")

    got = await inside(stub, body)
    assert got.name == "ada"
    assert got["n"] == 1


async def test_shared_references_split_and_a_cycle_fails_before_anything_is_stored(make_runtime):
    # The SDK's python_to_rpc copies dicts and lists without a memo: a shared dict is stored
    # twice, and a cycle recurses until RecursionError, before the value reaches storage.
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        loop = [1]
        loop.append(loop)
        shared = {"x": 1}
        await ctx.storage.put("shared", [shared, shared])
        try:
            ctx.storage.put("loop", loop)
        except RecursionError:
            failed = True
        return failed, await ctx.storage.get("loop"), await ctx.storage.get("shared")

    failed, loop, shared = await inside(stub, body)
    assert failed and loop is None
    assert shared == [{"x": 1}, {"x": 1}] and shared[0] is not shared[1]


async def test_a_value_read_back_is_a_copy(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put("d", {"items": [1]})
        first = await ctx.storage.get("d")
        first["items"].append(2)
        first["new"] = True
        second = await ctx.storage.get("d")
        return first is second, second

    same, second = await inside(stub, body)
    assert same is False
    assert second == {"items": [1]}


async def test_a_value_is_copied_when_put(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        original = {"items": [1]}
        ctx.storage.put("d", original)  # not awaited: the copy is taken at the call
        original["items"].append(2)
        return await ctx.storage.get("d")

    assert await inside(stub, body) == {"items": [1]}


def _a_function():
    return 1


@pytest.mark.parametrize(
    "make_value",
    [
        pytest.param(lambda: _a_function, id="function"),
        pytest.param(lambda: object(), id="object"),
    ],
)
async def test_uncloneable_values_throw_data_clone_error(make_runtime, make_value):
    stub = a_stub(make_runtime)
    value = make_value()

    async def body(obj, ctx):
        err = await error_of(lambda: ctx.storage.put("v", value))
        return err, await ctx.storage.get("v")

    err, stored = await inside(stub, body)
    assert isinstance(err, DataCloneError) and err.name == "DataCloneError"
    assert isinstance(err, JsException) and not isinstance(err, TypeError)
    assert err.message == f"{value!r} could not be cloned."
    assert stored is None


async def test_an_uncloneable_value_nested_in_a_list(make_runtime):
    stub = a_stub(make_runtime)
    value = object()
    err = await inside(stub, lambda obj, ctx: error_of(lambda: ctx.storage.put("v", [1, {"x": value}])))
    assert isinstance(err, DataCloneError)
    assert err.message == f"{value!r} could not be cloned."


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        pytest.param((1, 2), "<class 'tuple'>", id="tuple"),
        pytest.param({"nested": [(1,)]}, "<class 'tuple'>", id="nested-tuple"),
        pytest.param(bytearray(b"ab"), "<class 'bytearray'>", id="bytearray"),
    ],
)
async def test_types_rpc_refuses_cannot_be_stored(make_runtime, value, type_name):
    stub = a_stub(make_runtime)
    err = await inside(stub, lambda obj, ctx: error_of(lambda: ctx.storage.put("v", value)))
    assert type(err) is TypeError
    assert str(err) == f"{type_name} cannot be sent over RPC."


# --- 3.11 / 3.12 / scenario 11: read-your-writes ---------------------------------------------


async def test_scenario_11_unawaited_put_then_get(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        ctx.storage.put("k", "v")  # not awaited
        return await ctx.storage.get("k")

    assert await inside(stub, body) == "v"


async def test_scenario_11_unawaited_delete_all_then_get(make_runtime):
    stub = a_stub(make_runtime)
    await stub.put_value("k", "committed")

    async def body(obj, ctx):
        ctx.storage.put("other", 1)
        ctx.storage.deleteAll()  # not awaited
        return await ctx.storage.get("k"), await ctx.storage.get("other")

    assert await inside(stub, body) == (None, None)
    assert await stub.read("k") is None


async def test_unawaited_delete_then_get(make_runtime):
    stub = a_stub(make_runtime)
    await stub.put_value("k", "committed")

    async def body(obj, ctx):
        ctx.storage.delete("k")  # not awaited
        return await ctx.storage.get("k")

    assert await inside(stub, body) is None


async def test_unawaited_writes_are_persisted(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.STORE.getByName("s")

    async def body(obj, ctx):
        ctx.storage.put("a", 1)
        ctx.storage.put({"b": 2})
        ctx.storage.delete("a")

    await inside(stub, body)
    await rt.evict(stub)
    assert await inside(stub, lambda obj, ctx: ctx.storage.list()) == {"b": 2}


# --- 3.12 / 3.13 read and write options are hints ---------------------------------------------


async def test_read_options_do_not_change_what_is_read(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        await ctx.storage.put("k", "v")
        return (
            await ctx.storage.get("k", {"noCache": True}),
            await ctx.storage.get("k", {"allowConcurrency": True}),
            await ctx.storage.get(["k"], {"noCache": True, "allowConcurrency": True}),
        )

    assert await inside(stub, body) == ("v", "v", {"k": "v"})


async def test_allow_unconfirmed_writes_are_stored(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.STORE.getByName("s")

    async def body(obj, ctx):
        await ctx.storage.put("k", "v", {"allowUnconfirmed": True})
        await ctx.storage.put("gone", 1)
        assert await ctx.storage.delete("gone", {"allowUnconfirmed": True}) is True
        return await ctx.storage.get("k")

    assert await inside(stub, body) == "v"
    await rt.evict(stub)
    assert await inside(stub, lambda obj, ctx: ctx.storage.list()) == {"k": "v"}


# --- 3.14 sync --------------------------------------------------------------------------------


async def test_sync_resolves_when_nothing_is_pending(make_runtime):
    stub = a_stub(make_runtime)
    assert await inside(stub, lambda obj, ctx: ctx.storage.sync()) is None


async def test_sync_resolves_after_unconfirmed_writes_and_they_last(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.STORE.getByName("s")

    async def body(obj, ctx):
        ctx.storage.put("k", "v", {"allowUnconfirmed": True})
        return await ctx.storage.sync()

    assert await inside(stub, body) is None
    await rt.evict(stub)
    assert await stub.read("k") == "v"


# --- 3.15 transaction() ----------------------------------------------------------------------


async def test_transaction_commits_and_resolves_to_the_closure_value(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        async def closure(txn):
            await txn.put("a", 1)
            await txn.put({"b": 2})
            return "result"

        result = await ctx.storage.transaction(closure)
        return result, await ctx.storage.list()

    assert await inside(stub, body) == ("result", {"a": 1, "b": 2})


async def test_txn_reads_see_the_transactions_own_writes(make_runtime):
    stub = a_stub(make_runtime)
    await stub.put_value("a", 1)

    async def body(obj, ctx):
        async def closure(txn):
            await txn.put("b", 2)
            await txn.delete("a")
            return await txn.get("b"), await txn.get("a"), await txn.list()

        return await ctx.storage.transaction(closure)

    assert await inside(stub, body) == (2, None, {"b": 2})


async def ctx_storage_view_inside_a_transaction(stub):
    """Oracle `op_txn` "commit": txn.put x=10, then txn.get and ctx.storage.get inside the closure."""
    await stub.put_value("x", 1)

    async def body(obj, ctx):
        async def closure(txn):
            await txn.put("x", 10)
            return await txn.get("x"), await ctx.storage.get("x")

        return await ctx.storage.transaction(closure), await ctx.storage.get("x")

    return await inside(stub, body)


async def test_sqlite_backed_storage_calls_inside_the_closure_see_the_transaction(make_runtime):
    # 3.16: on SQLite-backed objects ctx.storage calls in the closure belong to the transaction.
    stub = a_stub(make_runtime)
    assert await ctx_storage_view_inside_a_transaction(stub) == ((10, 10), 10)


async def test_kv_backed_storage_calls_inside_the_closure_do_not_see_the_transaction(make_runtime):
    stub = a_stub(make_runtime, storage="kv")
    assert await ctx_storage_view_inside_a_transaction(stub) == ((10, 1), 10)


async def test_txn_delete_return_values(make_runtime):
    stub = a_stub(make_runtime)
    await inside(stub, lambda obj, ctx: ctx.storage.put({"a": 1, "b": 2}))

    async def body(obj, ctx):
        async def closure(txn):
            return await txn.delete("a"), await txn.delete("a"), await txn.delete(["b", "zz"])

        return await ctx.storage.transaction(closure)

    assert await inside(stub, body) == (True, False, 1)


async def test_a_throw_in_a_transaction_rolls_back_every_write(make_runtime):
    stub = a_stub(make_runtime)
    await inside(stub, lambda obj, ctx: ctx.storage.put({"x": 1, "y": 1}))

    async def body(obj, ctx):
        async def closure(txn):
            await txn.put("x", 2)
            await txn.delete("y")
            await txn.put("z", 3)
            raise Exception("boom")

        err = await error_of(lambda: ctx.storage.transaction(closure))
        return err, await ctx.storage.list()

    err, listed = await inside(stub, body)
    assert str(err) == "boom"
    assert listed == {"x": 1, "y": 1}


async def test_scenario_4_throw_inside_transaction(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.STORE.getByName("s")
    await stub.prepare_t()
    err = await error_of(stub.failing_transaction)
    assert python_error_line(err) == "Exception: txn failure"
    assert err.remote is True
    assert await stub.state() == {
        "t": 3,
        "seen-inside": None,  # written inside the transaction: rolled back as well
        "field": "set before the transaction",  # no reset: in-memory fields stay
        "field_inside": 5,  # get("t") inside the transaction saw 5
    }
    assert len(rt.trace.select("constructor")) == 1
    assert rt.trace.select("reset") == []


async def test_scenario_4_code_in_the_object_catches_the_transaction_error(make_runtime):
    stub = a_stub(make_runtime)
    await stub.prepare_t()
    assert await stub.catch_failing_transaction() == "txn failure"
    state = await stub.state()
    assert (state["t"], state["field"]) == (3, "set before the transaction")


async def test_scenario_5_rollback(make_runtime):
    stub = a_stub(make_runtime)
    await stub.put_value("t", 3)

    async def body(obj, ctx):
        async def closure(txn):
            await txn.put("t", 4)
            txn.rollback()
            err = await error_of(lambda: txn.put("t", 9))
            return "v", err

        result = await ctx.storage.transaction(closure)
        return result, await ctx.storage.get("t")

    (value, err), t = await inside(stub, body)
    assert value == "v"
    assert t == 3
    assert type(err) is JsError
    assert err.message == "Cannot put() on rolled back transaction"


async def test_after_rollback_every_txn_method_names_itself(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        async def closure(txn):
            txn.rollback()
            txn.rollback()  # twice is allowed
            calls = {
                "get()": lambda: txn.get("k"),
                "delete()": lambda: txn.delete("k"),
                "list()": lambda: txn.list(),
                "getAlarm()": lambda: txn.getAlarm(),
                "setAlarm()": lambda: txn.setAlarm(4 * 10**12),
                "deleteAlarm()": lambda: txn.deleteAlarm(),
            }
            return {op: await error_of(call) for op, call in calls.items()}

        return await ctx.storage.transaction(closure)

    errors = await inside(stub, body)
    for op, err in errors.items():
        assert type(err) is JsError, op
        assert err.message == f"Cannot {op} on rolled back transaction"


async def test_using_txn_after_the_transaction_committed(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        kept = []

        async def closure(txn):
            kept.append(txn)
            await txn.put("a", 1)

        await ctx.storage.transaction(closure)
        return await error_of(lambda: kept[0].put("b", 2)), await ctx.storage.list()

    err, listed = await inside(stub, body)
    assert type(err) is JsError
    assert err.message == ALREADY_COMMITTED
    assert listed == {"a": 1}


async def test_a_transaction_is_a_critical_section(make_runtime):
    stub = a_stub(make_runtime)
    txn = stub.slow_transaction()  # sleeps 5 virtual seconds between its two writes
    read = stub.read("x")  # arrives while the transaction is open
    assert await txn == "committed"
    assert await read == 2


async def test_scenario_6_nested_transactions_outer_rollback(make_runtime):
    stub = a_stub(make_runtime)
    await stub.put_value("t", 3)

    async def body(obj, ctx):
        seen = {}

        async def inner(txn):
            await txn.put("t", 7)
            await asyncio.sleep(0.01)
            return "inner committed"

        async def outer(txn):
            await txn.put("t", 6)
            seen["inner"] = await ctx.storage.transaction(inner)
            seen["after inner"] = await txn.get("t")
            txn.rollback()

        await ctx.storage.transaction(outer)
        return seen, await ctx.storage.get("t")

    seen, t = await inside(stub, body)
    assert seen == {"inner": "inner committed", "after inner": 7}
    assert t == 3


async def test_nested_transaction_inner_throw_rolls_back_only_the_inner(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        async def inner(txn):
            await txn.put("inner", 1)
            raise Exception("inner failure")

        async def outer(txn):
            await txn.put("outer", 1)
            return await error_of(lambda: ctx.storage.transaction(inner))

        err = await ctx.storage.transaction(outer)
        return str(err), await ctx.storage.list()

    assert await inside(stub, body) == ("inner failure", {"outer": 1})


# --- 3.17 transactionSync (SQLite-backed) ----------------------------------------------------


async def test_transaction_sync_returns_the_result_and_commits(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        def fn():
            ctx.storage.put("a", 1)
            return "done"

        return ctx.storage.transactionSync(fn), await ctx.storage.get("a")

    assert await inside(stub, body) == ("done", 1)


async def test_transaction_sync_throw_rolls_back_and_propagates(make_runtime):
    stub = a_stub(make_runtime)
    await stub.put_value("a", 1)

    async def body(obj, ctx):
        def fn():
            ctx.storage.put("a", 2)
            ctx.storage.put("b", 2)
            raise Exception("bar")

        err = await error_of(lambda: called(ctx.storage.transactionSync, fn))
        return str(err), await ctx.storage.list()

    assert await inside(stub, body) == ("bar", {"a": 1})


async def test_scenario_7_transaction_sync_savepoints(make_runtime):
    stub = a_stub(make_runtime)

    async def body(obj, ctx):
        seen = {}

        def inner():
            ctx.storage.put("i", 3)
            raise Exception("inner")

        def outer():
            ctx.storage.put("i", 2)
            try:
                ctx.storage.transactionSync(inner)
            except Exception as exc:
                seen["error"] = str(exc)
            seen["after inner"] = ctx.storage.get("i")  # a read made now, awaited later
            return "outer"

        result = ctx.storage.transactionSync(outer)
        return result, seen["error"], await seen["after inner"], await ctx.storage.get("i")

    assert await inside(stub, body) == ("outer", "inner", 2, 2)


async def test_scenario_8_alarm_set_in_a_throwing_transaction_sync_is_not_set(make_runtime):
    rt = world(make_runtime)
    stub = rt.env.STORE.getByName("s")
    at = rt.now() + 60_000

    async def body(obj, ctx):
        def fn():
            ctx.storage.setAlarm(at)
            raise Exception("bar")

        err = await error_of(lambda: called(ctx.storage.transactionSync, fn))
        return str(err), await ctx.storage.getAlarm()

    assert await inside(stub, body) == ("bar", None)
    await rt.advance(120)
    assert rt.trace.select("alarm:fire") == []


async def test_transaction_sync_is_not_available_on_kv_backed_objects(make_runtime):
    stub = a_stub(make_runtime, storage="kv")
    err = await inside(stub, lambda obj, ctx: error_of(lambda: called(ctx.storage.transactionSync, lambda: 1)))
    assert type(err) is JsError
    assert err.message == "Durable Object is not backed by SQL."


# 3.15 on KV-backed objects: the transaction keeps its own writes until it commits.
class LegacyTxn(DurableObject):
    async def run(self, how):
        await self.ctx.storage.put({"a": 1, "b": 1, "c": 1})

        async def closure(txn):
            await txn.put("a", 2)
            await txn.delete("b")
            await txn.put("d", 4)
            seen = [await txn.get("a"), await txn.get("b"), list(await txn.list({"limit": 3})),
                    [list(item) for item in (await txn.list({"reverse": True, "limit": 2})).items()],
                    await txn.get(["a", "b", "d"]), await self.ctx.storage.get("a")]
            if how == "throw":
                raise ValueError("txn failure")
            if how == "rollback":
                txn.rollback()
            return seen

        try:
            seen = await self.ctx.storage.transaction(closure)
        except ValueError as error:
            seen = str(error)
        after = await self.ctx.storage.list()
        return [seen, dict(after)]


@pytest.mark.parametrize("how, after", [
    ("commit", {"a": 2, "c": 1, "d": 4}),
    ("throw", {"a": 1, "b": 1, "c": 1}),
    ("rollback", {"a": 1, "b": 1, "c": 1}),
])
async def test_kv_backed_transaction_layers_its_writes_until_commit(make_runtime, how, after):
    rt = make_runtime(durable_objects={"T": LegacyTxn}, storage="kv")
    seen, stored = await rt.env.T.getByName("t").run(how)
    assert stored == after
    if how == "throw":
        assert seen == "txn failure"
    else:
        assert seen == [2, None, ["a", "c", "d"], [["d", 4], ["c", 1]], {"a": 2, "d": 4}, 1]
