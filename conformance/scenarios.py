"""Conformance twin, Python side: the same Durable Objects and scenarios as conformance/worker.js,
written as Cloudflare Python Workers code (`from workers import DurableObject`) and run on the
emulator.

Each JS class has a Python twin with the same (snake_case) method names, and each scenario has a
JS driver (a route in worker.js, or a step function below for the multi-step ones) and a Python
driver here. Both return the same JSON-able result in the encoding below; run.py compares them.

Encoding: the value as a Python program holds it, type included. None is null; bool and str are
themselves; an int is {"int": n}; a float {"float": x} (with "NaN", "Infinity", "-Infinity", "-0"
as strings); bytes {"bytes": [..]}, a memoryview {"memoryview": [..]}; a datetime {"datetime":
its ISO text} (naive or with its offset, as it is); lists are lists; dicts (and other mappings)
{"obj": [[k, v], ...]} in their order; sets {"set": [...]} sorted by JSON text; errors {"type",
"message"} where the type is the JS name (TypeError, RangeError, Error, DataCloneError; a Python
`Exception` is an `Error`).

workerd's side is encoded as JavaScript sees it (worker.js), then run.py's `python_view` applies
the rules by which a Python Worker receives JS values (Pyodide's conversions and the SDK's, see
../shared/reference/python-boundary.md): a safe-integer Number is an int, any other Number a
float; a BigInt an int; an ArrayBuffer or typed array a memoryview; a Date a naive datetime in
UTC. So the two sides are compared as a Python Worker would see them, and nothing hides a type.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import inspect
import json
import math
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import js
from js import Date, WebSocketPair
from pyodide.ffi import JsException
from workers import DurableObject, Response, fetch

from durable_dojo import DataCloneError, JsError, RangeError, Runtime

# The emulator is configured as the workerd run is (conformance/config.capnp).
COMPATIBILITY_DATE = "2026-11-17"
UNIQUE_KEYS = {"TEST": "oracle-test-do", "OTHER": "oracle-other-do",
               "NOALARM": "conformance-noalarm-do", "CTOR": "conformance-ctor-do",
               "CONFB": "conformance-confb-do"}
WORKERD_IDLE_EVICTION_S = 10  # workerd evicts an idle object after 10 s (production: 70-140 s)
EVICTION_WAIT_S = 11.5        # the one real wait of the suite, on workerd only

# ------------------------------------------------------------------ encoding

_SAFE = 2**53


def enc(v):
    if v is None:
        return None
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, int):
        return {"int": v}
    if isinstance(v, float):
        if math.isnan(v):
            return {"float": "NaN"}
        if math.isinf(v):
            return {"float": "Infinity" if v > 0 else "-Infinity"}
        if v == 0 and math.copysign(1.0, v) < 0:
            return {"float": "-0"}
        return {"float": v}
    if isinstance(v, memoryview):
        return {"memoryview": list(v.tobytes())}
    if isinstance(v, bytes):
        return {"bytes": list(v)}
    if isinstance(v, bytearray):
        return {"bytearray": list(v)}
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return {"set": sorted((enc(x) for x in v), key=lambda x: json.dumps(x, separators=(",", ":")))}
    if isinstance(v, Mapping):
        return {"obj": [[k if isinstance(k, str) else enc(k), enc(x)] for k, x in v.items()]}
    if isinstance(v, BaseException):
        return {"error": err_of(v)}
    if hasattr(v, "__iter__") and not isinstance(v, (str, bytes)):
        return [enc(x) for x in v]
    return {"other": type(v).__name__}


def err_type(e: BaseException) -> str:
    if isinstance(e, JsException):  # a JS error, as Pyodide hands it to Python: its JS name
        return e.name
    if isinstance(e, DataCloneError):
        return "DataCloneError"
    if isinstance(e, RangeError):
        return "RangeError"
    if isinstance(e, JsError) or type(e) is Exception:
        return "Error"
    return "py:" + type(e).__name__


def err_of(e: BaseException) -> dict:
    return {"type": err_type(e), "message": e.message if isinstance(e, JsException) else str(e)}


def err_user(e: BaseException) -> dict:
    """An error the scenario's own code raised: a Python `TypeError` is the twin of the JS
    `TypeError` the JS scenario throws (both pass through the runtime unchanged)."""
    if type(e) is TypeError:
        return {"type": "TypeError", "message": str(e)}
    return err_of(e)


def err_flags(e: BaseException) -> dict:
    out = err_of(e)
    out["remote"] = bool(getattr(e, "remote", False))
    out["durableObjectReset"] = bool(getattr(e, "durableObjectReset", False))
    return out


async def cap(fn, err=err_of):
    """{"ok": fn()'s value, encoded} or {"err": err(the exception)}: errors are results."""
    try:
        v = fn()
        if inspect.isawaitable(v):
            v = await v
        return {"ok": enc(v)}
    except Exception as e:  # noqa: BLE001 - the error is the result
        return {"err": err(e)}


def cap_s(fn, err=err_of):
    try:
        return {"ok": enc(fn())}
    except Exception as e:  # noqa: BLE001
        return {"err": err(e)}


async def listed(storage, options=None):
    """The keys storage.list(options) gives, or the error it raises, as cap records them."""
    return await cap(lambda: _keys_after(storage.list(options)))


def pairs(m) -> list:
    return [[k, enc(v)] for k, v in m.items()]


def keys_of(m) -> list:
    return list(m)


ORDER_KEYS = ["b", "a", "B", "A", "aa", "a\0", "ab", "10", "9", "2", "é", "e", "z", "\u00ff",
              "\U0001F600", "\uFFFF", " ", "a/b", "a:b", "a.b", "_x", "~"]


def ab(values) -> bytes:
    return bytes(values)


# ------------------------------------------------------------------ the Durable Objects


class TestDO(DurableObject):
    def _rows(self, query, *bindings):
        """The rows of a SQL statement, or its error, as the SQL scenarios compare them."""
        return cap_s(lambda: self.ctx.storage.sql.exec(query, *bindings).toArray())

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.rand = str(uuid.uuid4())  # changes whenever the constructor runs again
        self.log = []
        self.field = None

    # ----- bench and helpers
    async def fetch(self, request):
        path = urlsplit(request.url).path
        if path == "/increment":
            return Response(str(await self.increment()))
        if path == "/bcw-throw":
            await self.bcw_throw()
            return Response("unreachable")
        if path == "/not-a-response":
            return "just a string"
        if path == "/echo-url":
            return Response(request.url)
        return Response("not found", status=404)

    async def increment(self):
        s = self.ctx.storage
        n = (await s.get("n") or 0) + 1
        await s.put("n", n)
        return n

    async def who(self):
        return {"id": self.ctx.id.toString(), "name": self.ctx.id.name}

    async def rand_of(self):
        return self.rand

    async def put_value(self, key, value):
        await self.ctx.storage.put(key, value)

    async def get_value(self, key):
        return enc(await self.ctx.storage.get(key))

    async def throw_python_error(self):
        raise ValueError("amount must be positive")

    async def throw_error(self):
        raise js.Error.new("handler boom")  # the twin of JS `throw new Error(...)`

    # ----- list order and options
    async def fill(self, keys):
        await self.ctx.storage.deleteAll()
        await self.ctx.storage.put({k: i for i, k in enumerate(keys)})

    async def list_order(self):
        s = self.ctx.storage
        await self.fill(ORDER_KEYS)
        return {"keys": keys_of(await s.list()), "reverse": keys_of(await s.list({"reverse": True}))}

    async def list_options(self):
        s = self.ctx.storage
        await self.fill(ORDER_KEYS)
        L = functools.partial(listed, s)

        return {
            "limit3": await L({"limit": 3}),
            "reverse_limit3": await L({"reverse": True, "limit": 3}),
            "prefix_a": await L({"prefix": "a"}),
            "prefix_a_reverse_limit2": await L({"prefix": "a", "reverse": True, "limit": 2}),
            "start_b_end_z": await L({"start": "b", "end": "z"}),
            "start_after_a_limit4": await L({"startAfter": "a", "limit": 4}),
            "start_after_a_end_b_reverse": await L({"startAfter": "a", "end": "b", "reverse": True}),
            "end_before_start": await L({"start": "z", "end": "a"}),
            "end_equals_start": await L({"start": "b", "end": "b"}),
            "prefix_and_start": await L({"prefix": "a", "start": "ab"}),
            "prefix_and_end": await L({"prefix": "a", "end": "a/"}),
            "prefix_empty": await L({"prefix": "", "limit": 2}),
            "prefix_no_match": await L({"prefix": "q"}),
            "limit_float": await L({"limit": 2.7}),
            "limit_string": await L({"limit": "2"}),
            "limit_true": await L({"limit": True}),
            "limit_big": await L({"limit": 1000}),
            "allow_concurrency": await L({"allowConcurrency": True, "limit": 2}),
            "no_cache": await L({"noCache": True, "limit": 2}),
            "unknown_option": await L({"bogus": 1, "limit": 1}),
            "values": await cap(lambda: _items_after(s.list({"prefix": "a", "limit": 3}))),
        }

    async def list_errors(self):
        s = self.ctx.storage
        await self.fill(["a", "b"])
        L = functools.partial(listed, s)

        return {
            "limit0": await L({"limit": 0}),
            "limit_neg": await L({"limit": -1}),
            "limit_nan_string": await L({"limit": "abc"}),
            "start_and_start_after": await L({"start": "a", "startAfter": "a"}),
            "not_options": await L("prefix"),
        }

    async def list_scenario13(self):
        s = self.ctx.storage
        await self.fill(["a", "b", "c", "d"])
        L = functools.partial(listed, s)

        return {
            "start_after_a_end_d": await L({"startAfter": "a", "end": "d"}),
            "reverse_limit1": await L({"reverse": True, "limit": 1}),
            "prefix_b": await L({"prefix": "b"}),
            "start_a_start_after_a": await L({"start": "a", "startAfter": "a"}),
            "limit0": await L({"limit": 0}),
        }

    async def list_prefix_unicode(self):
        s = self.ctx.storage
        await self.fill(["\uFFFF", "\uFFFFa", "\U0001F600", "\U0001F600a", "\uFFFE", "é", "e", "\U0010FFFF"])
        L = functools.partial(listed, s)

        return {
            "all": await L(),
            "prefix_ffff": await L({"prefix": "\uFFFF"}),
            "prefix_emoji": await L({"prefix": "\U0001F600"}),
            "start_ffff": await L({"start": "\uFFFF"}),
            "end_emoji": await L({"end": "\U0001F600"}),
            "start_after_emoji_reverse": await L({"startAfter": "\U0001F600", "reverse": True}),
        }

    # ----- values
    async def roundtrip(self, vals):
        s = self.ctx.storage
        out = {}
        for k, v in vals.items():
            await s.put("v:" + k, v)
            out[k] = enc(await s.get("v:" + k))
        return out

    async def values_primitives(self):
        return await self.roundtrip({
            "nul": None, "t": True, "f": False, "int": 7, "neg": -5, "zero": 0, "int32_max": 2147483647,
            "over_int32": 2147483648, "safe_max": 9007199254740991, "float": 42.5, "tiny": 1e-300, "huge": 1e300,
            "empty_str": "", "str": "hello", "unicode": "h\u00e9llo \U0001F600 \uFFFF", "nul_char": "a\0b",
        })

    async def values_special_floats(self):
        return await self.roundtrip({"neg_zero": -0.0, "nan": math.nan, "inf": math.inf, "neg_inf": -math.inf,
                                     "in_list": [-0.0, math.nan, math.inf]})

    async def values_bytes(self):
        return await self.roundtrip({
            "small": ab([1, 2, 255]), "empty": ab([]), "all_bytes": ab(range(256)), "nested": {"b": ab([0])},
            "in_list": [ab([7]), ab([8, 9])],
        })

    async def values_containers(self):
        deep = "bottom"
        for _ in range(30):
            deep = [deep]
        return await self.roundtrip({
            "list": [1, "x", None, [2]], "dict": {"a": 1, "nested": {"b": [1, 2]}}, "empty_list": [],
            "empty_dict": {}, "key_order": {"b": 1, "2": 2, "a": 3, "1": 4}, "deep": deep,
            "mixed": [{"k": [{"j": True}]}, []],
        })

    async def values_bigint_date_set(self):
        utc = datetime.timezone.utc
        return await self.roundtrip({
            "bigint": 12345678901234567890, "neg_bigint": -12345678901234567890,
            "date": datetime.datetime.fromtimestamp(1700000000, tz=utc),
            "date_ms": datetime.datetime.fromtimestamp(1700000000.123, tz=utc),
            "set": {1, "a"}, "empty_set": set(),
        })

    async def values_not_cloneable(self):
        s = self.ctx.storage

        def t(r):
            return {"err_type": r["err"]["type"]} if "err" in r else r

        return {
            "put_a": t(await cap(lambda: s.put("nc", lambda: 1))),
            "put_b": t(await cap(lambda: s.put("nc", object()))),
            "nested": t(await cap(lambda: s.put("nc", {"f": lambda: 1}))),
            "stored": enc(await s.get("nc")),
        }

    # ----- put / get / delete
    async def get_many(self):
        s = self.ctx.storage
        await self.fill(["x", "y", "z"])
        return {
            "some_missing": pairs(await s.get(["z", "missing", "x"])),
            "empty": pairs(await s.get([])),
            "duplicates": pairs(await s.get(["y", "y"])),
            "all_missing": pairs(await s.get(["q"])),
        }

    async def put_get_delete_returns(self):
        s = self.ctx.storage
        await s.deleteAll()
        r = {}
        r["put"] = enc(await s.put("a", 1))
        r["put_many"] = enc(await s.put({"b": 2, "c": 3}))
        r["put_with_options"] = enc(await s.put("d", 4, {"allowUnconfirmed": True, "noCache": True}))
        r["get_missing"] = enc(await s.get("nope"))
        r["delete_existing"] = enc(await s.delete("a"))
        r["delete_missing"] = enc(await s.delete("a"))
        r["delete_many"] = enc(await s.delete(["b", "c", "nope"]))
        r["delete_many_empty"] = enc(await s.delete([]))
        r["delete_all"] = enc(await s.deleteAll())
        r["after"] = keys_of(await s.list())
        return r

    async def put_errors(self):
        s = self.ctx.storage
        await s.deleteAll()
        return {
            "put_undefined_value": await cap(lambda: s.put("k")),
            "put_no_args": await cap(lambda: s.put()),
            "put_entries_then_value": await cap(lambda: s.put({"a": 1}, "x")),
            "get_no_args": await cap(lambda: s.get()),
            "delete_no_args": await cap(lambda: s.delete()),
            "stored": keys_of(await s.list()),
        }

    async def key_coercion(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put(5, "five")
        await s.put(1.5, "one and a half")
        await s.put(True, "yes")
        await s.put("", "empty key")
        return {
            "get_str": enc(await s.get("5")),
            "get_num": enc(await s.get(5)),
            "get_float": enc(await s.get("1.5")),
            "get_bool": enc(await s.get("true")),
            "get_empty": enc(await s.get("")),
            "keys": keys_of(await s.list()),
        }

    async def read_your_writes(self):
        s = self.ctx.storage
        await s.deleteAll()
        r = {}
        s.put("ryw", 1)
        r["after_put"] = enc(await s.get("ryw"))
        s.delete("ryw")
        r["after_delete"] = enc(await s.get("ryw"))
        await s.put("z", 1)
        s.deleteAll()
        r["after_delete_all"] = enc(await s.get("z"))
        s.put({"m1": 1, "m2": 2})
        r["after_put_many"] = pairs(await s.list())
        return r

    async def sqlite_no_legacy_limits(self):
        s = self.ctx.storage
        await s.deleteAll()

        def many(n, p):
            return {f"{p}{i}": i for i in range(n)}

        async def get_129():
            return len(await s.get(list(many(129, "m"))))

        return {
            "key_2049": await cap(lambda: s.put("k" * 2049, 1)),
            "get_key_2049": await cap(lambda: s.get("k" * 2049)),
            "value_200k": await cap(lambda: s.put("v", "x" * (200 * 1024))),
            "value_200k_len": len(await s.get("v")),
            "put_129": await cap(lambda: s.put(many(129, "m"))),
            "get_129": await cap(get_129),
            "delete_129": await cap(lambda: s.delete(list(many(129, "m")))),
            "value_1_9mb": await cap(lambda: s.put("big", "x" * 1_900_000)),
        }

    async def sqlite_value_over_2mb(self):
        s = self.ctx.storage
        await s.deleteAll()
        return {
            "value_2_1mb": await cap(lambda: s.put("big", "x" * 2_100_000)),
            "value_3mib": await cap(lambda: s.put("big", "x" * (3 * 1024 * 1024))),
        }

    # ----- transactions
    async def txn_throw_rollback(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put({"x": 1, "y": 1})
        self.field = "set before"
        r = {}

        async def body(txn):
            await txn.put("x", 2)
            await txn.delete("y")
            await txn.put("z", 3)
            r["inside"] = pairs(await txn.get(["x", "y", "z"]))
            raise Exception("boom")

        r["caught"] = await cap(lambda: s.transaction(body))
        r["after"] = pairs(await s.get(["x", "y", "z"]))
        r["field"] = self.field
        return r

    async def txn_explicit_rollback(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put("t", 3)
        r = {}

        async def body(txn):
            await txn.put("t", 4)
            txn.rollback()
            r["put_after"] = await cap(lambda: txn.put("t", 5))
            r["get_after"] = await cap(lambda: txn.get("t"))
            r["delete_after"] = await cap(lambda: txn.delete("t"))
            r["rollback_again"] = cap_s(lambda: txn.rollback())
            return "returned after rollback"

        r["result"] = await cap(lambda: s.transaction(body))
        r["t"] = enc(await s.get("t"))
        return r

    async def txn_commit(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put({"x": 1, "y": 1})
        r = {}

        async def body(txn):
            await txn.put("x", 10)
            await txn.put("w", 0)
            return {
                "inside": await txn.get("x"),
                "outside_view": await s.get("x"),
                "list_inside": keys_of(await txn.list()),
            }

        r["result"] = await cap(lambda: s.transaction(body))
        r["after"] = pairs(await s.list())
        return r

    async def txn_nested(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put("t", 3)
        r = {}

        async def inner(txn2):
            await txn2.put("t", 7)
            await asyncio.sleep(0.005)
            return "inner committed"

        async def outer(txn):
            await txn.put("t", 6)
            r["inner"] = await cap(lambda: s.transaction(inner))
            r["seen_in_outer"] = enc(await txn.get("t"))
            txn.rollback()
            return "outer rolled back"

        r["outer"] = await cap(lambda: s.transaction(outer))
        r["t"] = enc(await s.get("t"))

        async def nested_inner(t2):
            await t2.put("n", 1)
            return "nested ok"

        async def nested_outer(_txn):
            return await s.transaction(nested_inner)

        r["nested_ok"] = await cap(lambda: s.transaction(nested_outer))
        r["n"] = enc(await s.get("n"))
        return r

    async def txn_after_commit(self):
        s = self.ctx.storage
        await s.deleteAll()
        saved = []

        async def body(txn):
            saved.append(txn)
            await txn.put("k", 1)

        await s.transaction(body)
        return {
            "put": await cap(lambda: saved[0].put("k", 2)),
            "get": await cap(lambda: saved[0].get("k")),
            "k": enc(await s.get("k")),
        }

    async def txn_delete_all_inside(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put("k", 1)
        r = {}

        async def body(txn):
            r["txn_delete_all"] = await cap(lambda: txn.deleteAll())
            r["storage_delete_all"] = await cap(lambda: s.deleteAll())
            return "done"

        r["result"] = await cap(lambda: s.transaction(body))
        r["k"] = enc(await s.get("k"))
        return r

    async def txn_sync_savepoints(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put("i", 1)
        r = {}

        def inner():
            s.put("i", 3)
            s.put("j", 3)
            raise Exception("inner boom")

        def outer():
            s.put("i", 2)
            r["inner"] = cap_s(lambda: s.transactionSync(inner))
            return "outer ok"

        r["outer"] = cap_s(lambda: s.transactionSync(outer))
        r["after"] = pairs(await s.get(["i", "j"]))

        def outer_throw():
            s.put("i", 9)
            raise Exception("outer boom")

        r["outer_throw"] = cap_s(lambda: s.transactionSync(outer_throw))
        r["after_outer_throw"] = enc(await s.get("i"))
        return r

    async def txn_sync_return_throw(self):
        s = self.ctx.storage

        def type_error():
            raise TypeError("bad type")

        return {
            "number": cap_s(lambda: s.transactionSync(lambda: 5)),
            "none": cap_s(lambda: s.transactionSync(lambda: None)),
            "list": cap_s(lambda: s.transactionSync(lambda: [1, "a"])),
            "type_error": cap_s(lambda: s.transactionSync(type_error), err_user),
        }

    async def txn_sync_rollback_alarm(self):
        s = self.ctx.storage
        await s.deleteAlarm()
        r = {}

        def body():
            s.setAlarm(Date.now() + 60000)
            raise Exception("bar")

        r["result"] = cap_s(lambda: s.transactionSync(body))
        r["alarm"] = enc(await s.getAlarm())
        return r

    # ----- input gate
    async def reset_ctr(self):
        await self.ctx.storage.delete("ctr")

    async def read_ctr(self):
        return enc(await self.ctx.storage.get("ctr"))

    async def incr(self, mode):
        s = self.ctx.storage
        v = await s.get("ctr") or 0
        if mode == "timer":
            await asyncio.sleep(0.01)
        if mode == "fetch":
            await (await fetch("http://self/noop")).text()
        if mode == "rpc":
            await self.env.OTHER.getByName("peer").ping()
        await s.put("ctr", v + 1)
        return v + 1

    async def incr_bcw(self, mode):
        return await self.ctx.blockConcurrencyWhile(lambda: self.incr(mode))

    async def ping(self):
        await asyncio.sleep(0.005)
        return "pong"

    # ----- blockConcurrencyWhile
    async def reset_log(self):
        self.log = []

    async def bcw_a(self, use_bcw, ms):
        self.log.append("A:start")
        if use_bcw:
            async def critical():
                self.log.append("A:bcw-enter")
                await asyncio.sleep(ms / 1000)
                self.log.append("A:bcw-exit")
                return "bcw-return-value"

            res = await self.ctx.blockConcurrencyWhile(critical)
            self.log.append("A:after-bcw:" + res)
        else:
            await asyncio.sleep(ms / 1000)
            self.log.append("A:after-sleep")
        return list(self.log)

    async def bcw_b(self):
        self.log.append("B:run")
        return list(self.log)

    async def bcw_values(self):
        bcw = self.ctx.blockConcurrencyWhile

        async def async_value():
            await asyncio.sleep(0.005)
            return "v"

        async def nothing():
            pass

        async def inner():
            return "inner"

        async def outer():
            return await bcw(inner)

        async def storage_inside():
            await self.ctx.storage.put("b", 1)
            return await self.ctx.storage.get("b")

        return {
            "async_value": enc(await bcw(async_value)),
            "sync_value": enc(await bcw(lambda: 42)),
            "none_value": enc(await bcw(nothing)),
            "nested": enc(await bcw(outer)),
            "storage_inside": enc(await bcw(storage_inside)),
        }

    async def bcw_throw(self):
        async def boom():
            raise js.Error.new("bcw boom")  # the twin of JS `throw new Error(...)`

        await self.ctx.blockConcurrencyWhile(boom)
        return "unreachable"

    async def bcw_throw_after_write(self):
        self.ctx.storage.put("before-bcw", 1)  # not awaited: is it committed before the reset?

        async def boom():
            self.ctx.storage.put("inside-bcw", 1)
            raise js.Error.new("bcw boom")  # the twin of JS `throw new Error(...)`

        await self.ctx.blockConcurrencyWhile(boom)
        return "unreachable"

    # ----- alarms
    async def alarm(self, info):
        s = self.ctx.storage
        cfg = await s.get("alarm_cfg") or {"fail": 0, "mode": "log"}
        log = await s.get("alarm_log") or []
        st = getattr(info, "scheduledTime", None)
        if isinstance(st, datetime.datetime):
            st = round(st.timestamp() * 1000)
        log.append({
            "now": Date.now(),
            "retryCount": info.retryCount if info is not None else None,
            "isRetry": info.isRetry if info is not None else None,
            "scheduledTime": st,
            "getAlarm": await s.getAlarm(),
            "rand": self.rand,
        })
        await s.put("alarm_log", log)
        if cfg["mode"] == "delete_set_delete":
            await s.deleteAlarm()
            await s.setAlarm(Date.now() + 50)
            await s.deleteAlarm()
        if cfg["mode"] == "rearm" and len(log) == 1:
            nxt = Date.now() + 600000
            await s.setAlarm(nxt)
            await s.put("rearmed_to", nxt)
            await s.put("get_after_rearm", await s.getAlarm())
        # conf-a: deleteAlarm() / setAlarm() inside a run that then fails
        if cfg["mode"] == "delete_then_fail" and len(log) == 1:
            await s.deleteAlarm()
        if cfg["mode"] == "set_then_fail" and len(log) == 1:
            nxt = Date.now() + 600000
            await s.setAlarm(nxt)
            await s.put("rearmed_to", nxt)
            await s.put("get_after_rearm", await s.getAlarm())
        if len(log) <= cfg["fail"]:
            raise Exception(f"alarm failure #{len(log)}")

    async def alarm_setup(self, fail, delay_ms, mode):
        s = self.ctx.storage
        await s.deleteAll()
        await s.deleteAlarm()
        when = Date.now() + delay_ms
        await s.put("alarm_cfg", {"fail": fail, "mode": mode, "when": when})
        await s.setAlarm(when)
        return {"when": when, "get_equals_set": (await s.getAlarm()) == when}

    async def alarm_report(self):
        s = self.ctx.storage
        return {
            "cfg": await s.get("alarm_cfg"),
            "log": await s.get("alarm_log") or [],
            "get_alarm": await s.getAlarm(),
            "rearmed_to": await s.get("rearmed_to"),
            "get_after_rearm": await s.get("get_after_rearm"),
        }

    async def alarm_get_set(self):
        s = self.ctx.storage
        await s.deleteAlarm()
        r = {}
        r["none"] = enc(await s.getAlarm())
        t = Date.now() + 3600_000
        r["set_returns"] = enc(await s.setAlarm(t))
        r["get_equals"] = (await s.getAlarm()) == t
        r["get_type"] = "number" if type(await s.getAlarm()) in (int, float) else type(await s.getAlarm()).__name__
        d = (Date.now() // 1000) * 1000 + 7200_000
        await s.setAlarm(datetime.datetime.fromtimestamp(d / 1000, tz=datetime.timezone.utc))
        r["date_equals"] = (await s.getAlarm()) == d
        await s.setAlarm(t + 0.7)
        g = await s.getAlarm()
        r["float_truncated"] = g == t
        r["float_is_int"] = isinstance(g, int) or (isinstance(g, float) and g.is_integer())
        r["delete_returns"] = enc(await s.deleteAlarm())
        r["delete_again"] = enc(await s.deleteAlarm())
        r["after_delete"] = enc(await s.getAlarm())
        return r

    async def alarm_set_errors(self):
        s = self.ctx.storage
        t = Date.now() + 3600_000
        await s.setAlarm(t)
        r = {
            "string": await cap(lambda: s.setAlarm(str(t))),
            "nan": await cap(lambda: s.setAlarm(math.nan)),
            "infinity": await cap(lambda: s.setAlarm(math.inf)),
            "null": await cap(lambda: s.setAlarm(None)),
            "no_arg": await cap(lambda: s.setAlarm()),
            "bool": await cap(lambda: s.setAlarm(True)),
            "negative": await cap(lambda: s.setAlarm(-1)),
            "zero": await cap(lambda: s.setAlarm(0)),
        }
        r["still_set"] = (await s.getAlarm()) == t
        await s.deleteAlarm()
        return r

    async def alarm_delete_all(self):
        s = self.ctx.storage
        await s.setAlarm(Date.now() + 3600_000)
        await s.put("k", 1)
        r = {"delete_all": enc(await s.deleteAll())}
        r["alarm"] = enc(await s.getAlarm())
        r["keys"] = keys_of(await s.list())
        return r

    async def alarm_past_time(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put("alarm_cfg", {"fail": 0, "mode": "log"})
        past = Date.now() - 60000
        r = {"set": await cap(lambda: s.setAlarm(past))}
        g = await s.getAlarm()
        r["get_is_past_value"] = g == past
        r["get_clamped_to_now"] = g is not None and abs(g - Date.now()) < 1000
        await asyncio.sleep(0.2)
        log = await s.get("alarm_log") or []
        r["ran_during_sleep"] = [[e["retryCount"], e["scheduledTime"] == g, e["getAlarm"]] for e in log]
        r["get_after_run"] = enc(await s.getAlarm())
        return r

    # ----- SQL (ctx.storage.sql, being integrated into the emulator)
    async def sql_cursor(self):
        sql = self.ctx.storage.sql

        def X(q, *b):
            def run():
                c = sql.exec(q, *b)
                rows = c.toArray()
                return {"rows": rows, "columnNames": c.columnNames, "rowsRead": c.rowsRead,
                        "rowsWritten": c.rowsWritten}
            return cap_s(run)

        def iterate():
            return [row for row in sql.exec("SELECT id, name FROM t")]

        return {
            "create": X("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)"),
            "insert": X("INSERT INTO t (name, score, data) VALUES (?, ?, ?), (?, ?, ?)", "alice", 1.5,
                        ab([1, 2, 3]), "bob", None, None),
            "select": X("SELECT * FROM t ORDER BY id"),
            "select_where": X("SELECT name FROM t WHERE id = ?", 2),
            "expressions": X("SELECT 1 + 1 AS two, 'a' || 'b' AS ab, 1.5 * 2 AS three, NULL AS n, "
                             "x'00ff' AS blob, 7 / 2 AS idiv"),
            "update": X("UPDATE t SET score = 9 WHERE name IS NOT NULL"),
            "delete": X("DELETE FROM t WHERE id = 2"),
            "after": X("SELECT id, name, score FROM t"),
            "iterate": cap_s(iterate),
            "multi_statement": X("INSERT INTO t (name) VALUES ('c'); SELECT id, name FROM t ORDER BY id"),
        }

    async def sql_rows_read_aggregate(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE IF NOT EXISTS agg (v INTEGER)")
        sql.exec("INSERT INTO agg VALUES (1), (2)")
        c = sql.exec("SELECT count(*) AS n FROM agg")
        rows = c.toArray()
        return {"rows": rows, "rowsRead": c.rowsRead}

    async def sql_one(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE IF NOT EXISTS o (name TEXT)")
        sql.exec("INSERT INTO o VALUES ('a'), ('b')")
        return {
            "one_row": cap_s(lambda: sql.exec("SELECT 123 AS foo, 'abc' AS bar").one()),
            "where_one": cap_s(lambda: sql.exec("SELECT name FROM o WHERE name = ?", "a").one()),
            "no_rows": cap_s(lambda: sql.exec("SELECT name FROM o WHERE name = ?", "zz").one()),
            "multiple_rows": cap_s(lambda: sql.exec("SELECT name FROM o").one()),
            "union_all": cap_s(lambda: sql.exec("SELECT 1 UNION ALL SELECT 2").one()),
        }

    async def sql_raw_dup_columns(self):
        sql = self.ctx.storage.sql
        return {
            "raw": cap_s(lambda: list(sql.exec("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'").raw())),
            "dup_to_array": cap_s(lambda: sql.exec("SELECT 1 AS a, 2 AS a").toArray()),
            "dup_raw": cap_s(lambda: list(sql.exec("SELECT 1 AS a, 2 AS a").raw())),
            "dup_column_names": cap_s(lambda: sql.exec("SELECT 1 AS a, 2 AS a").columnNames),
            "no_alias_names": cap_s(lambda: sql.exec("SELECT 1, 'x', 1 + 2").columnNames),
        }

    async def sql_errors(self):
        await self.ctx.storage.put("kvkey", "kvval")

        X = self._rows

        return {
            "begin": X("BEGIN TRANSACTION"),
            "savepoint": X("SAVEPOINT sp1"),
            "read_cf_kv": X("SELECT * FROM _cf_KV"),
            "read_cf_kv_value": X("SELECT value FROM _cf_KV"),
            "create_cf_table": X("CREATE TABLE _cf_mine (x)"),
            "sqlite_version": X("SELECT sqlite_version() AS v"),
            "pragma_journal": X("PRAGMA journal_mode"),
            "attach": X("ATTACH DATABASE 'x.db' AS x"),
            "too_few_bindings": X("SELECT ?, ?", 1),
            "too_many_bindings": X("SELECT ?", 1, 2),
            "syntax": X("SELEC nonsense"),
            "missing_table": X("SELECT * FROM nope"),
            "empty": X(""),
            "comment_only": X("-- nothing"),
        }

    async def sql_bindings(self):
        sql = self.ctx.storage.sql

        def B(v):
            def run():
                row = sql.exec("SELECT ? AS v, typeof(?) AS t", v, v).one()
                return [row["v"], row["t"]]
            return cap_s(run)

        return {
            "bool_true": B(True),
            "bool_false": B(False),
            "none": B(None),
            "int": B(42),
            "float": B(2.5),
            "str": B("hé"),
            "bytes": B(ab([0, 1])),
            "int_division": cap_s(lambda: sql.exec("SELECT ? / 2 AS v", 7).one()["v"]),
        }

    async def sql_txn_sync(self):
        s = self.ctx.storage
        sql = s.sql

        def table_count():
            return sql.exec("SELECT count(*) AS c FROM sqlite_master WHERE name = 't_sync'").one()["c"]

        r = {}

        def throwing():
            sql.exec("CREATE TABLE t_sync (v INTEGER)")
            sql.exec("INSERT INTO t_sync VALUES (1)")
            raise Exception("sync boom")

        r["throw"] = cap_s(lambda: s.transactionSync(throwing))
        r["table_after_throw"] = table_count()

        def ok():
            sql.exec("CREATE TABLE t_sync (v INTEGER)")
            sql.exec("INSERT INTO t_sync VALUES (2)")
            return "ok"

        r["ok"] = cap_s(lambda: s.transactionSync(ok))
        r["table_after_ok"] = table_count()
        # scenario 7: savepoints
        sql.exec("CREATE TABLE s7 (i INTEGER)")
        sql.exec("INSERT INTO s7 VALUES (1)")

        def i():
            return sql.exec("SELECT i FROM s7").one()["i"]

        def inner():
            sql.exec("UPDATE s7 SET i = 3")
            raise Exception("inner")

        def outer():
            sql.exec("UPDATE s7 SET i = 2")
            r["inner"] = cap_s(lambda: s.transactionSync(inner))
            r["i_after_inner"] = i()
            return "outer"

        r["outer"] = cap_s(lambda: s.transactionSync(outer))
        r["i_after_outer"] = i()
        return r

    async def sql_delete_all_clears(self):
        s = self.ctx.storage
        s.sql.exec("CREATE TABLE gone (x)")
        s.sql.exec("INSERT INTO gone VALUES (1)")
        await s.put("k", 1)
        await s.deleteAll()
        return {
            "select": cap_s(lambda: s.sql.exec("SELECT * FROM gone").toArray()),
            "k": enc(await s.get("k")),
        }

    async def sql_database_size(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE big (x TEXT)")
        before = sql.databaseSize
        for _ in range(200):
            sql.exec("INSERT INTO big VALUES (?)", "x" * 1000)
        after = sql.databaseSize
        return {
            "is_int": isinstance(before, int) or (isinstance(before, float) and before.is_integer()),
            "positive": before > 0,
            "page_multiple": before % 4096 == 0,
            "grows": after > before,
            "grows_by_at_least_200kb": after - before >= 200000,
        }

    # ----- eviction
    async def evict_info(self, bump):
        s = self.ctx.storage
        if bump:
            await s.put("counter", (await s.get("counter") or 0) + 1)
        return {"rand": self.rand, "counter": await s.get("counter")}


    # ---- edges: WebIDL coercion and validation of arguments, as a Python Worker passes them
    async def edge_list_arguments(self):
        s = self.ctx.storage
        await self.fill(ORDER_KEYS)
        L = functools.partial(listed, s)
        return {
            "limit_int32_max": await L({"limit": 2147483647}),
            "limit_over_int32": await L({"limit": 2147483648}),
            "limit_negative": await L({"limit": -1}),
            "limit_zero": await L({"limit": 0}),
            "limit_nan": await L({"limit": float("nan")}),
            "limit_text": await L({"limit": "abc"}),
            "limit_null": await L({"limit": None, "prefix": "a"}),
            "options_number": await L(5),
            "options_string": await L("x"),
            "options_array": await L([]),
            "prefix_number": await L({"prefix": 1}),
            "start_number": await L({"start": 2, "limit": 2}),
            "reverse_text": await L({"reverse": "yes", "limit": 1}),
        }

    async def edge_key_arguments(self):
        s = self.ctx.storage
        await s.put({"a": 1, "b": 2})
        many = [f"k{i}" for i in range(129)]
        return {
            "get_empty_list": await cap(lambda: _items_after(s.get([]))),
            "get_duplicates": await cap(lambda: _items_after(s.get(["b", "a", "b"]))),
            "get_129_keys": await cap(lambda: _items_after(s.get(many))),
            "get_128_keys": await cap(lambda: _items_after(s.get(many[:128]))),
            "delete_empty_list": await cap(lambda: s.delete([])),
            "delete_some": await cap(lambda: s.delete(["a", "zz"])),
            "delete_129_keys": await cap(lambda: s.delete(many)),
            "put_129_entries": await cap(lambda: s.put({k: 1 for k in many})),
            "get_number_key": await cap(lambda: s.get(5)),
            "put_number_key": await cap(lambda: s.put(7, "seven")),
            "get_it_as_text": await cap(lambda: s.get("7")),
            "put_null": await cap(lambda: s.put("u", None)),
            "left": await cap(lambda: _keys_after(s.list())),
        }

    async def edge_surrogate_keys(self):
        s = self.ctx.storage
        for k, v in [("\ud800", 1), ("a\udc00b", 2), ("\uffff", 3), ("\U00010000", 4), ("\ue000", 5)]:
            await s.put(k, v)
        return {
            "keys": await listed(s, {}),
            "get_lone": await cap(lambda: s.get("\ud800")),
            "prefix_lone": await listed(s, {"prefix": "\ud800"}),
            "sql_bound": cap_s(lambda: s.sql.exec("SELECT ? AS t, hex(?) AS h", "\ud800", "\ud800").toArray()),
        }

    async def edge_callbacks(self):
        s = self.ctx.storage
        self.mark = "kept"

        async def after():
            await s.put("after", 1)
            return await s.get("after")

        return {
            "bcw_number": await cap(lambda: self.ctx.blockConcurrencyWhile(5)),
            "bcw_nothing": await cap(lambda: self.ctx.blockConcurrencyWhile()),
            "transaction_number": await cap(lambda: s.transaction(5)),
            "transaction_sync_number": cap_s(lambda: s.transactionSync(5)),
            "transaction_sync_value": cap_s(lambda: s.transactionSync(lambda: 42)),
            "mark": self.mark,
            "storage_works": await cap(after),
        }

    async def edge_alarm_arguments(self):
        s = self.ctx.storage
        far = Date.now() + 86400000

        async def fraction_read():
            return (await s.getAlarm()) - far

        out = {
            "text": await cap(lambda: s.setAlarm("x")),
            "nan": await cap(lambda: s.setAlarm(float("nan"))),
            "infinity": await cap(lambda: s.setAlarm(float("inf"))),
            "nothing": await cap(lambda: s.setAlarm()),
            "object": await cap(lambda: s.setAlarm({})),
            "fraction": await cap(lambda: s.setAlarm(far + 0.75)),
            "fraction_read": await cap(fraction_read),
        }
        await s.deleteAlarm()
        out["deleted"] = await cap(lambda: s.getAlarm())
        return out

    # ---- edges: WebSockets inside an object
    async def edge_websockets(self):
        ctx = self.ctx

        def close_with(code, reason):
            def run():
                _, server = WebSocketPair.new()
                server.accept()
                server.close(code, reason)
                return "closed"
            return cap_s(run)

        out = {}
        for code in [1000, 1001, 1004, 1005, 1006, 1015, 2999, 3000, 4999, 5000]:
            out[f"close_{code}"] = close_with(code, "r")
        out["reason_123_bytes"] = close_with(1000, "\u00e9" * 61 + "a")
        out["reason_124_bytes"] = close_with(1000, "\u00e9" * 62)
        out["reason_124_ascii"] = close_with(1000, "a" * 124)

        def tagged(tag):
            def run():
                _, server = WebSocketPair.new()
                ctx.acceptWebSocket(server, [tag])
                return [len(t) for t in ctx.getTags(server)]
            return cap_s(run)

        out["tag_256_chars"] = tagged("a" * 256)
        out["tag_257_chars"] = tagged("a" * 257)
        out["tag_256_bytes_wide"] = tagged("\u00e9" * 128)
        out["tag_258_bytes_wide"] = tagged("\u00e9" * 129)
        for n in ["c", "a", "b"]:
            _, server = WebSocketPair.new()
            ctx.acceptWebSocket(server, ["order", n])
        out["order"] = cap_s(lambda: [ctx.getTags(w)[1] for w in ctx.getWebSockets("order")])

        def send_of(v):
            def run():
                _, server = WebSocketPair.new()
                server.accept()
                server.send(v)
                return "sent"
            return cap_s(run)

        out["send_number"] = send_of(5)
        out["send_object"] = send_of({"a": 1})
        out["send_bytes"] = send_of(bytes([1, 2]))
        out["send_null"] = send_of(None)

        def timeout(v):
            def run():
                ctx.setHibernatableWebSocketEventTimeout(v)
                return ctx.getHibernatableWebSocketEventTimeout()
            return cap_s(run)

        out["timeout_5000"] = timeout(5000)
        out["timeout_0"] = timeout(0)
        out["timeout_negative"] = timeout(-1)
        out["timeout_week"] = timeout(604800000)
        out["timeout_over_week"] = timeout(604800001)
        out["timeout_text"] = timeout("x")
        out["timeout_null"] = timeout(None)
        return out

    # ---- edges: SQL cursor protocol, PRAGMAs, errors, text
    async def edge_sql_cursor_end(self):
        sql = self.ctx.storage.sql
        two = "SELECT 1 AS a UNION ALL SELECT 2"
        c1, c2, c3, c4 = sql.exec(two), sql.exec(two), sql.exec(two), sql.exec(two)
        c5 = sql.exec("SELECT 1 AS a WHERE 0")
        c6, c7 = sql.exec(two), sql.exec(two)

        def one_after_next():
            c7.next()
            return c7.one()

        def one_of_insert():
            sql.exec("CREATE TABLE ce (x)")
            return sql.exec("INSERT INTO ce VALUES (1)").one()

        return {
            "next_1": cap_s(lambda: c1.next()),
            "next_2": cap_s(lambda: c1.next()),
            "next_3": cap_s(lambda: c1.next()),
            "next_4": cap_s(lambda: c1.next()),
            "to_array_after_next": cap_s(lambda: c1.toArray()),
            "to_array_1": cap_s(lambda: c2.toArray()),
            "to_array_2": cap_s(lambda: c2.toArray()),
            "rows_read_after": cap_s(lambda: c2.rowsRead),
            "iterated": cap_s(lambda: list(c3)),
            "raw_after_iteration": cap_s(lambda: list(c3.raw())),
            "names_after_iteration": cap_s(lambda: c3.columnNames),
            "raw_next_1": cap_s(lambda: c4.raw().next()),
            "rest_as_objects": cap_s(lambda: c4.toArray()),
            "raw_next_after": cap_s(lambda: c4.raw().next()),
            "one_zero": cap_s(lambda: c5.one()),
            "after_one_zero": cap_s(lambda: c5.toArray()),
            "one_two": cap_s(lambda: c6.one()),
            "after_one_two": cap_s(lambda: c6.toArray()),
            "one_after_next": cap_s(one_after_next),
            "one_of_insert": cap_s(one_of_insert),
            "dup_names": cap_s(lambda: sql.exec("SELECT 1 AS x, 2 AS X, 3 AS x").columnNames),
            "dup_names_rows": cap_s(lambda: sql.exec("SELECT 1 AS x, 2 AS X, 3 AS x").toArray()),
            "star_join_names": cap_s(lambda: sql.exec("SELECT * FROM ce AS p, ce AS q").columnNames),
        }

    async def edge_sql_pragmas(self):
        sql = self.ctx.storage.sql
        await self.ctx.storage.put("kv", 1)
        sql.exec("CREATE TABLE pt (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x', n REAL)")
        sql.exec("CREATE INDEX pt_name ON pt (name)")

        X = self._rows

        return {
            "table_info": X("PRAGMA table_info(pt)"),
            "table_xinfo": X("PRAGMA table_xinfo(pt)"),
            "index_list": X("PRAGMA index_list(pt)"),
            "index_info": X("PRAGMA index_info(pt_name)"),
            "foreign_keys": X("PRAGMA foreign_keys"),
            "foreign_keys_on": X("PRAGMA foreign_keys = ON"),
            "foreign_keys_after": X("PRAGMA foreign_keys"),
            "quick_check": X("PRAGMA quick_check"),
            "user_version": X("PRAGMA user_version"),
            "page_size": X("PRAGMA page_size"),
            "cache_size": X("PRAGMA cache_size"),
            "function_list": cap_s(lambda: len(sql.exec("PRAGMA function_list").toArray()) > 0),
            "table_info_function": X("SELECT name FROM pragma_table_info('pt') ORDER BY cid"),
        }

    async def edge_sql_internal_tables(self):
        sql = self.ctx.storage.sql
        await self.ctx.storage.put("kv", 1)
        await self.ctx.storage.setAlarm(Date.now() + 3600000)
        sql.exec("CREATE TABLE it (v)")

        X = self._rows

        return {
            "table_list": X("PRAGMA table_list"),
            "table_list_kv": X("PRAGMA table_list(_cf_KV)"),
            "schema": X("SELECT type, name FROM sqlite_master ORDER BY name"),
        }

    async def edge_sql_errors(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE c (id INTEGER PRIMARY KEY, u TEXT UNIQUE, nn TEXT NOT NULL, ck INTEGER CHECK (ck > 0))")
        sql.exec("CREATE TABLE ch (p INTEGER REFERENCES c(id))")
        sql.exec("INSERT INTO c VALUES (1, 'a', 'x', 1)")

        X = self._rows

        return {
            "unique": X("INSERT INTO c VALUES (2, 'a', 'x', 1)"),
            "primary_key": X("INSERT INTO c VALUES (1, 'b', 'x', 1)"),
            "not_null": X("INSERT INTO c VALUES (3, 'c', NULL, 1)"),
            "check": X("INSERT INTO c VALUES (4, 'd', 'x', 0)"),
            "named_check": X("CREATE TABLE nc (v INTEGER CONSTRAINT positive CHECK (v > 0))"),
            "named_check_fails": X("INSERT INTO nc VALUES (-1)"),
            "foreign_key_on": X("PRAGMA foreign_keys = ON"),
            "foreign_key": X("INSERT INTO ch VALUES (99)"),
            "partial_multi_row": X("INSERT INTO c VALUES (5, 'e', 'x', 1), (6, 'a', 'x', 1)"),
            "rows_after": X("SELECT id FROM c ORDER BY id"),
            "no_column": X("SELECT nosuch FROM c"),
            "no_column_later": X("SELECT id,\n  nosuch FROM c"),
            "no_function": X("SELECT nofunc(1)"),
            "near_token": X("SELECT * FROM c WHERE"),
            "unrecognized": X("SELECT 1 2"),
            "second_statement": X("SELECT 1; SELECT nosuch FROM c"),
            "datatype_mismatch": X("INSERT INTO c VALUES ('x', 'f', 'x', 1)"),
            "strict_table": X("CREATE TABLE st (v INTEGER) STRICT"),
            "strict_mismatch": X("INSERT INTO st VALUES ('abc')"),
            "raise_abort": X("SELECT RAISE(ABORT, 'mine')"),
            "division_by_zero": X("SELECT 1 / 0 AS v"),
            "bad_json": X("SELECT json('{')"),
        }

    async def edge_sql_text(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE tx (v TEXT)")
        sql.exec("INSERT INTO tx VALUES (CAST(x'61ff62' AS TEXT))")

        X = self._rows

        return {
            "cast_ff": X("SELECT CAST(x'ff' AS TEXT) AS t"),
            "cast_mid": X("SELECT CAST(x'61ff62' AS TEXT) AS t"),
            "cast_truncated": X("SELECT CAST(x'61c3' AS TEXT) AS t"),
            "cast_surrogate": X("SELECT CAST(x'eda080' AS TEXT) AS t"),
            "cast_nul": X("SELECT CAST(x'610062' AS TEXT) AS t"),
            "length": X("SELECT length(CAST(x'61ff62' AS TEXT)) AS n"),
            "stored": X("SELECT v, typeof(v) AS t, hex(v) AS h FROM tx"),
            "bound_nul": X("SELECT ? AS t, length(?) AS n", "a\x00b", "a\x00b"),
            "emoji_length": X("SELECT length(?) AS n, hex(?) AS h", "\U0001f600", "\U0001f600"),
        }

    async def edge_sql_new_functions(self):

        X = self._rows

        return {
            "unhex": X("SELECT unhex('6869') AS v"),
            "concat": X("SELECT concat('a', NULL, 1) AS v"),
            "concat_ws": X("SELECT concat_ws('-', 'a', 'b') AS v"),
            "string_agg": X("SELECT string_agg(x, ',') AS v FROM (SELECT 'a' AS x UNION ALL SELECT 'b')"),
            "subsec": X("SELECT typeof(unixepoch('now', 'subsec')) AS v"),
            "jsonb": X("SELECT typeof(jsonb('[1]')) AS v"),
            "octet_length": X("SELECT octet_length('é') AS v"),
        }

    # ---- section: sqlite ----
    # SQL parity (issue 18 item 5): twins of worker.js's section of the same name.
    def _sql_counts(self, q, *b):
        sql = self.ctx.storage.sql

        def run():
            c = sql.exec(q, *b)
            rows = c.toArray()
            return {"rows": rows, "rowsRead": c.rowsRead, "rowsWritten": c.rowsWritten}
        return cap_s(run)

    async def sqlp_functions_3_54(self):

        X = self._rows
        return {
            "subsec": X("SELECT unixepoch('2026-01-01 00:00:00.250', 'subsec') AS v"),
            "timediff": X("SELECT timediff('2026-03-01', '2026-01-01') AS v"),
            "format": X("SELECT format('%d-%s-%.2f', 7, 'x', 2.5) AS v"),
            "iif2": X("SELECT iif(0, 'yes') AS v"),
            "concat_ws_null": X("SELECT concat_ws(',', 'a', NULL, 'b') AS v"),
            "string_agg_order": X("SELECT string_agg(v, '+' ORDER BY v DESC) AS v FROM (SELECT 'a' AS v UNION ALL SELECT 'b')"),
            "jsonb_roundtrip": X("SELECT json(jsonb('{\"a\":[1,2]}')) AS v"),
            "jsonb_extract": X("SELECT jsonb_extract(jsonb('{\"a\":5}'), '$.a') AS v"),
            "json_pretty": X("SELECT json_pretty('[1]') AS v"),
            "real_text": X("SELECT CAST(9007199254740991.0 AS TEXT) AS v, CAST(0.1 AS TEXT) AS w"),
            "octet_length": X("SELECT octet_length('日本') AS v"),
            "unhex_bad": X("SELECT unhex('zz') IS NULL AS v"),
        }

    async def sqlp_counts_insert_indexes(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE ci (id INTEGER PRIMARY KEY, a TEXT, b TEXT UNIQUE, c INTEGER)")
        sql.exec("CREATE INDEX ci_a ON ci (a)")
        sql.exec("CREATE INDEX ci_ac ON ci (a, c)")
        return {
            "one": self._sql_counts("INSERT INTO ci (a, b, c) VALUES ('x', 'b1', 1)"),
            "three": self._sql_counts("INSERT INTO ci (a, b, c) VALUES ('y', 'b2', 2), ('z', 'b3', 3), ('x', 'b4', 4)"),
            "plain_table": self._sql_counts("CREATE TABLE cp (v); INSERT INTO cp VALUES (1), (2)"),
        }

    async def sqlp_counts_update_indexes(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE cu (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c INTEGER)")
        sql.exec("CREATE INDEX cu_a ON cu (a)")
        sql.exec("INSERT INTO cu (a, b, c) VALUES ('x', 'p', 1), ('y', 'q', 2), ('z', 'r', 3)")
        return {
            "unindexed_by_id": self._sql_counts("UPDATE cu SET b = 'n' WHERE id = 2"),
            "indexed_by_id": self._sql_counts("UPDATE cu SET a = 'w' WHERE id = 2"),
            "unindexed_all": self._sql_counts("UPDATE cu SET c = c + 1"),
            "indexed_all": self._sql_counts("UPDATE cu SET a = a || '!'"),
        }

    async def sqlp_counts_delete_indexes(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE cd (id INTEGER PRIMARY KEY, a TEXT, b TEXT UNIQUE)")
        sql.exec("CREATE INDEX cd_a ON cd (a)")
        sql.exec("INSERT INTO cd (a, b) VALUES ('x', '1'), ('y', '2'), ('z', '3'), ('w', '4')")
        return {
            "by_id": self._sql_counts("DELETE FROM cd WHERE id = 1"),
            "all": self._sql_counts("DELETE FROM cd"),
        }

    async def sqlp_counts_reads(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE cr (id INTEGER PRIMARY KEY, a TEXT, n INTEGER)")
        sql.exec("CREATE INDEX cr_a ON cr (a)")
        sql.exec("CREATE TABLE ce (v)")
        sql.exec("INSERT INTO cr (a, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('x', 4), ('w', 5)")
        return {
            "empty_table": self._sql_counts("SELECT * FROM ce"),
            "full_scan": self._sql_counts("SELECT * FROM cr"),
            "scan_filter": self._sql_counts("SELECT id FROM cr WHERE n = 3"),
            "by_rowid": self._sql_counts("SELECT n FROM cr WHERE id = 4"),
            "count": self._sql_counts("SELECT count(*) AS c FROM cr"),
            "max": self._sql_counts("SELECT max(n) AS m FROM cr"),
            "order_by": self._sql_counts("SELECT n FROM cr ORDER BY n DESC"),
            "where_order_by": self._sql_counts("SELECT n FROM cr WHERE n > 1 ORDER BY n DESC"),
            "count_empty": self._sql_counts("SELECT count(*) AS c FROM ce"),
            "no_from": self._sql_counts("SELECT 1 AS one"),
            "by_rowid_miss": self._sql_counts("SELECT n FROM cr WHERE id = 99"),
            "update_miss": self._sql_counts("UPDATE cr SET n = 0 WHERE id = 99"),
            "insert_explicit_ids": self._sql_counts("INSERT INTO cr (id, a, n) VALUES (100, 'q', 0), (101, 'r', 1)"),
        }

    async def sqlp_database_size_growth(self):
        sql = self.ctx.storage.sql
        sizes = {"start": sql.databaseSize}
        sql.exec("CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT)")
        sizes["table"] = sql.databaseSize
        for _ in range(40):
            sql.exec("INSERT INTO big (body) VALUES (?)", "x" * 1000)
        sizes["rows"] = sql.databaseSize
        sql.exec("CREATE INDEX big_body ON big (body)")
        sizes["index"] = sql.databaseSize
        sql.exec("DELETE FROM big WHERE id > 20")
        sizes["deleted"] = sql.databaseSize
        await self.ctx.storage.put("k", "v" * 5000)
        sizes["kv"] = sql.databaseSize
        await self.ctx.storage.deleteAll()
        sizes["delete_all"] = sql.databaseSize
        return sizes

    async def sqlp_pragma_allow_list(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE pg (id INTEGER PRIMARY KEY, p INTEGER REFERENCES pg(id))")
        sql.exec("CREATE INDEX pg_p ON pg (p)")
        out = {}
        for q in [
            "PRAGMA data_version", "PRAGMA page_size", "PRAGMA page_size = 8192", "PRAGMA foreign_keys",
            "PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = maybe", "PRAGMA case_sensitive_like = 1",
            "PRAGMA defer_foreign_keys = true", "PRAGMA recursive_triggers = 'yes'",
            "PRAGMA foreign_key_check", "PRAGMA foreign_key_check(pg)", "PRAGMA foreign_key_list(pg)",
            "PRAGMA index_list(pg)", "PRAGMA index_info(pg_p)", "PRAGMA index_xinfo(pg_p)",
            "PRAGMA quick_check", "PRAGMA quick_check(5)", "PRAGMA quick_check(pg)", "PRAGMA optimize",
            "PRAGMA optimize = 0x10002", "PRAGMA table_info(pg)", "PRAGMA table_xinfo(pg)",
            "PRAGMA table_info(_cf_KV)", "PRAGMA index_list(_cf_KV)", "PRAGMA journal_mode",
            "PRAGMA user_version", "PRAGMA integrity_check", "PRAGMA compile_options",
            "PRAGMA function_list", "PRAGMA pragma_list", "PRAGMA main.foreign_keys", "PRAGMA FOREIGN_KEYS",
            "PRAGMA cache_size", "PRAGMA writable_schema = 1", "SELECT * FROM pragma_table_info('pg')",
            "SELECT * FROM pragma_index_list('pg')",
        ]:
            out[q] = cap_s(lambda q=q: len(sql.exec(q).toArray()))
        sql.exec("PRAGMA foreign_keys = ON")
        return out

    async def sqlp_function_allow_list(self):
        sql = self.ctx.storage.sql
        out = {}
        for q in [
            "SELECT sqlite_version()", "SELECT sqlite_source_id()", "SELECT sqlite_compileoption_used('FTS5')",
            "SELECT sqlite_offset(1)", "SELECT load_extension('x')", "SELECT jsonb_object('a', 1)",
            "SELECT jsonb_group_array(1)", "SELECT json_group_object('a', 1)", "SELECT percentile(1, 50)",
            "SELECT median(1)", "SELECT randomblob(4)", "SELECT likelihood(1, 0.5)", "SELECT soundex('x')",
            "SELECT fts5(1)", "SELECT readfile('x')", "SELECT printf('%s', 1)", "SELECT changes()",
            "SELECT last_insert_rowid()", "SELECT zeroblob(2)", "SELECT unistr('a')", "SELECT if(1, 2)",
            "SELECT json_pretty('[]')", "SELECT timediff('2026-01-02', '2026-01-01')", "SELECT stddev(1)",
        ]:
            out[q] = cap_s(lambda q=q: len(sql.exec(q).toArray()))
        return out

    async def sqlp_error_codes(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE ep (id INTEGER PRIMARY KEY)")
        sql.exec("CREATE TABLE ec (id INTEGER PRIMARY KEY, p INTEGER NOT NULL REFERENCES ep(id), "
                 "s TEXT CHECK (length(s) < 3), u INTEGER UNIQUE)")
        sql.exec("CREATE TABLE es (i INTEGER, t TEXT) STRICT")
        sql.exec("CREATE TABLE et (v)")
        sql.exec("CREATE TRIGGER et_no BEFORE INSERT ON et WHEN NEW.v < 0 BEGIN SELECT RAISE(ABORT, 'negative'); END")
        sql.exec("INSERT INTO ep VALUES (1)")
        sql.exec("INSERT INTO ec VALUES (1, 1, 'a', 1)")

        X = self._rows
        return {
            "foreign_key": X("INSERT INTO ec VALUES (2, 5, 'b', 2)"),
            "not_null": X("INSERT INTO ec VALUES (2, NULL, 'b', 2)"),
            "check": X("INSERT INTO ec VALUES (2, 1, 'long', 2)"),
            "unique": X("INSERT INTO ec VALUES (2, 1, 'b', 1)"),
            "primary_key": X("INSERT INTO ec VALUES (1, 1, 'b', 3)"),
            "strict_int": X("INSERT INTO es VALUES ('abc', 't')"),
            "strict_text": X("INSERT INTO es VALUES (1, x'00')"),
            "trigger_raise": X("INSERT INTO et VALUES (-1)"),
            "fk_parent_delete": X("DELETE FROM ep WHERE id = 1"),
            "after": X("SELECT count(*) AS n FROM ec"),
        }

    async def sqlp_error_offsets(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE eo (a, b)")

        X = self._rows
        return {
            "syntax_end": X("SELECT a FROM eo WHERE"),
            "syntax_mid": X("SELECT a FROM eo WHERE a = = 1"),
            "no_column": X("SELECT a, nope FROM eo"),
            "no_column_second": X("SELECT nope FROM eo WHERE nope = 1"),
            "unicode_before": X("SELECT 'héllo', nope FROM eo"),
            "no_function": X("SELECT a, nofunc(b) FROM eo"),
            "wrong_args": X("SELECT a, substr() FROM eo"),
            "second_statement": X("SELECT 1;   SELECT nope FROM eo"),
            "no_table": X("SELECT * FROM nope_table"),
            "ambiguous": X("SELECT a FROM eo AS x, eo AS y"),
            "unrecognized": X("SELECT a FROM eo WHERE a = #"),
            "dq_string": X('SELECT "nope" FROM eo'),
            "too_many_params": X("SELECT ?, ?, ?", 1),
        }

    async def sqlp_cursor_protocol(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE cp3 (v)")
        sql.exec("INSERT INTO cp3 VALUES (1), (2), (3)")
        r = {}
        c = sql.exec("SELECT v FROM cp3")
        r["after_exec"] = [c.rowsRead, c.rowsWritten]
        r["first"] = cap_s(lambda: c.next())
        r["after_first"] = c.rowsRead
        r["rest"] = c.toArray()
        r["after_rest"] = c.rowsRead
        r["next_done"] = cap_s(lambda: c.next())
        r["next_again"] = cap_s(lambda: c.next())
        r["to_array_done"] = c.toArray()
        r["raw_done"] = list(c.raw())
        r["column_names_done"] = c.columnNames
        r["one_done"] = cap_s(lambda: c.one())
        d = sql.exec("SELECT v FROM cp3 ORDER BY v")
        r["raw_next"] = cap_s(lambda: d.raw().next())
        r["then_dict"] = cap_s(lambda: d.next())
        r["then_raw_rest"] = list(d.raw())
        e = sql.exec("SELECT v FROM cp3 ORDER BY v")
        r["spread_iter"] = list(e)
        f = sql.exec("SELECT v FROM cp3 WHERE v > 5")
        r["empty_next"] = cap_s(lambda: f.next())
        r["empty_columns"] = f.columnNames
        return r

    async def sqlp_raw_one_columns(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE rc (id INTEGER PRIMARY KEY, v TEXT)")
        X = cap_s
        return {
            "insert_columns": X(lambda: sql.exec("INSERT INTO rc (v) VALUES ('a')").columnNames),
            "insert_raw": X(lambda: list(sql.exec("INSERT INTO rc (v) VALUES ('b')").raw())),
            "insert_one": X(lambda: sql.exec("INSERT INTO rc (v) VALUES ('c')").one()),
            "returning_one": X(lambda: sql.exec("INSERT INTO rc (v) VALUES ('d') RETURNING id, v").one()),
            "returning_raw": X(lambda: list(sql.exec("UPDATE rc SET v = v || '!' WHERE id <= 2 RETURNING id, v").raw())),
            "star_columns": X(lambda: sql.exec("SELECT *, id AS id FROM rc").columnNames),
            "expr_columns": X(lambda: sql.exec('SELECT id + 1, upper(v), v AS "a b" FROM rc LIMIT 1').columnNames),
            "raw_dup": X(lambda: list(sql.exec("SELECT id, id FROM rc ORDER BY id LIMIT 2").raw())),
            "one_returning_many": X(lambda: sql.exec("DELETE FROM rc RETURNING id").one()),
            "after": X(lambda: sql.exec("SELECT count(*) AS n FROM rc").one()),
        }

    async def sqlp_bindings_every_type(self):
        sql = self.ctx.storage.sql

        def B(v):
            def run():
                row = sql.exec("SELECT ? AS v, typeof(?) AS t", v, v).one()
                return [row["v"], row["t"]]
            return cap_s(run)
        return {
            "zero": B(0),
            "negative": B(-7),
            "max_safe": B(9007199254740991),
            "fraction": B(0.1),
            "nan": B(math.nan),
            "infinity": B(math.inf),
            "empty_string": B(""),
            "emoji": B("😀"),
            "nul_inside": B("a\u0000b"),
            "empty_bytes": B(ab([])),
            "bytes": B(ab([255, 0, 127])),
            "array": B([1, "a", None]),
            "nested_array": B([[1, 2], [3]]),
            "object": B({"a": 1}),
            "date": B(datetime.datetime(1970, 1, 2)),
            "bool_in_array": B([True, False]),
            "too_few": cap_s(lambda: sql.exec("SELECT ? AS a, ? AS b", 1).toArray()),
            "too_many": cap_s(lambda: sql.exec("SELECT ? AS a", 1, 2).toArray()),
            "numbered": cap_s(lambda: sql.exec("SELECT ?2 AS a, ?1 AS b", "x", "y").toArray()),
        }

    async def sqlp_blob_results(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE bl (b BLOB)")
        sql.exec("INSERT INTO bl VALUES (?), (x''), (zeroblob(3)), (NULL)", ab([1, 2, 250]))

        X = self._rows
        return {
            "rows": X("SELECT b, typeof(b) AS t, length(b) AS n FROM bl"),
            "raw": cap_s(lambda: list(sql.exec("SELECT b FROM bl").raw())),
            "literal": X("SELECT x'cafe' AS b"),
            "randomblob_len": X("SELECT length(randomblob(5)) AS n"),
            "cast_text_blob": X("SELECT CAST('hé' AS BLOB) AS b"),
            "unhex": X("SELECT unhex('00ff') AS b"),
            "blob_compare": X("SELECT x'01' < x'02' AS lt, x'' = x'' AS eq"),
        }

    async def sqlp_numbers(self):

        X = self._rows
        return {
            "ints": X("SELECT 1 AS a, -1 AS b, 9007199254740993 AS c, 9223372036854775807 AS d"),
            "reals": X("SELECT 1.0 AS a, -0.0 AS b, 1e300 * 1e10 AS c, 0.5 AS d, 3.0 / 2 AS e"),
            "int_div": X("SELECT 7 / 2 AS a, 7 % 3 AS b, -7 / 2 AS c"),
            "overflow": X("SELECT 9223372036854775807 + 1 AS a"),
            "abs_min": X("SELECT abs(-9223372036854775808) AS a"),
        }

    async def sqlp_json_window(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE jw (g TEXT, v INTEGER, j TEXT)")
        sql.exec("INSERT INTO jw VALUES ('a', 1, '{\"x\":1}'), ('a', 2, '{\"x\":[2,3]}'), ('b', 3, '{}')")

        X = self._rows
        return {
            "arrows": X("SELECT j -> '$.x' AS a, j ->> '$.x' AS b FROM jw ORDER BY v"),
            "each": X("SELECT key, value, type FROM jw, json_each(jw.j) ORDER BY v, key"),
            "group": X("SELECT g, json_group_array(v) AS vs FROM jw GROUP BY g ORDER BY g"),
            "window": X("SELECT v, sum(v) OVER (ORDER BY v) AS running, rank() OVER (PARTITION BY g ORDER BY v DESC) AS r FROM jw ORDER BY v"),
            "bad_json": X("SELECT json('{') AS v"),
        }

    async def sqlp_virtual_tables(self):

        X = self._rows
        return {
            "fts_create": X("CREATE VIRTUAL TABLE docs USING fts5(title, body)"),
            "fts_insert": X("INSERT INTO docs VALUES ('one', 'the quick brown fox'), ('two', 'lazy dogs sleep')"),
            "fts_match": X("SELECT title, highlight(docs, 1, '[', ']') AS h FROM docs WHERE docs MATCH 'quick' ORDER BY rank"),
            "rtree_create": X("CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx, miny, maxy)"),
            "rtree_insert": X("INSERT INTO boxes VALUES (1, 0, 10, 0, 10), (2, 5, 15, 5, 15)"),
            "rtree_query": X("SELECT id FROM boxes WHERE maxx >= 12 ORDER BY id"),
            "rtree_upper": X("CREATE VIRTUAL TABLE boxes2 USING RTREE_I32(id, a, b)"),
            "refused_module": X("CREATE VIRTUAL TABLE s USING dbstat"),
            "cf_name": X("CREATE VIRTUAL TABLE _cf_docs USING fts5(x)"),
        }

    async def sqlp_schema_changes(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE sc (a INTEGER, b TEXT)")

        X = self._rows
        return {
            "add_column": X("ALTER TABLE sc ADD COLUMN c REAL DEFAULT 1.5"),
            "rename_column": X("ALTER TABLE sc RENAME COLUMN b TO bb"),
            "drop_column": X("ALTER TABLE sc DROP COLUMN c"),
            "rename_table": X("ALTER TABLE sc RENAME TO sc2"),
            "rename_to_cf": X("ALTER TABLE sc2 RENAME TO _cf_x"),
            "create_view": X("CREATE VIEW scv AS SELECT a FROM sc2"),
            "create_index": X("CREATE INDEX sc2_a ON sc2 (a)"),
            "drop_index": X("DROP INDEX sc2_a"),
            "drop_view": X("DROP VIEW scv"),
            "temp_table": X("CREATE TEMP TABLE tt (x)"),
            "temp_view": X("CREATE TEMP VIEW tv AS SELECT 1"),
            "attach": X("ATTACH DATABASE ':memory:' AS other"),
            "columns": X("SELECT name, type FROM pragma_table_info('sc2') ORDER BY cid"),
            "drop_table": X("DROP TABLE sc2"),
        }

    async def sqlp_limits(self):
        sql = self.ctx.storage.sql

        def X(q, *b):
            return cap_s(lambda: len(sql.exec(q, *b).toArray()))

        def cols(n):
            return ", ".join(f"c{i}" for i in range(n))
        return {
            "columns_100": X(f"CREATE TABLE w100 ({cols(100)})"),
            "columns_101": X(f"CREATE TABLE w101 ({cols(101)})"),
            "compound_5": X("SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5"),
            "compound_6": X("SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6"),
            "like_50": X("SELECT 'a' LIKE ?", "%" * 50),
            "like_51": X("SELECT 'a' LIKE ?", "%" * 51),
            "glob_51": X("SELECT 'a' GLOB ?", "*" * 51),
            "function_args_32": X("SELECT max(" + ", ".join(["1"] * 32) + ")"),
            "expr_depth": X("SELECT " + "(" * 101 + "1" + ")" * 101),
            "blob_ok": X("SELECT length(zeroblob(1999999))"),
        }

    async def sqlp_transactions_refused(self):

        X = self._rows
        return {
            "begin": X("BEGIN"),
            "begin_immediate": X("BEGIN IMMEDIATE"),
            "commit": X("COMMIT"),
            "rollback": X("ROLLBACK"),
            "savepoint": X("SAVEPOINT s1"),
            "release": X("RELEASE s1"),
            "end": X("END"),
            "in_batch": X("SELECT 1; BEGIN; SELECT 2"),
        }

    async def sqlp_multi_statement_counts(self):
        sql = self.ctx.storage.sql
        c = sql.exec("CREATE TABLE ms (v); INSERT INTO ms VALUES (1), (2), (3); SELECT v FROM ms")
        rows = c.toArray()
        d = sql.exec("UPDATE ms SET v = v * 10; DELETE FROM ms WHERE v = 20; SELECT count(*) AS n FROM ms")
        return {
            "rows": rows, "rowsRead": c.rowsRead, "rowsWritten": c.rowsWritten,
            "second": d.toArray(), "secondRead": d.rowsRead, "secondWritten": d.rowsWritten,
            "params_earlier": cap_s(lambda: sql.exec("SELECT ?; SELECT 1", 1).toArray()),
            "trailing_comment": cap_s(lambda: sql.exec("SELECT 1 AS a; -- done").toArray()),
            "only_comment": cap_s(lambda: sql.exec("-- nothing").toArray()),
        }

    async def sqlp_rows_read_seeks(self):
        # Row counts of index seeks, a sorter with LIMIT and schema changes (the counting SQLite).
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE rs (id INTEGER PRIMARY KEY, a TEXT, n INTEGER)")
        sql.exec("CREATE INDEX rs_a ON rs (a)")
        sql.exec("INSERT INTO rs (a, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('x', 4), ('w', 5)")
        return {
            "delete_by_index": self._sql_counts("DELETE FROM rs WHERE a = 'y'"),
            "select_by_index": self._sql_counts("SELECT n FROM rs WHERE a = 'x'"),
            "order_limit": self._sql_counts("SELECT n FROM rs ORDER BY n DESC LIMIT 2"),
            "add_column": self._sql_counts("ALTER TABLE rs ADD COLUMN c REAL"),
            "create_index": self._sql_counts("CREATE INDEX rs_n ON rs (n)"),
            "drop_table": self._sql_counts("DROP TABLE rs"),
        }

    async def sqlp_kv_and_sql_tables(self):
        s = self.ctx.storage
        sql = s.sql

        X = self._rows
        r = {}
        r["before_put"] = X("SELECT name FROM sqlite_master ORDER BY name")
        r["before_size"] = sql.databaseSize
        await s.put("a", 1)
        r["after_put"] = X("SELECT name FROM sqlite_master ORDER BY name")
        r["kv_info"] = X("PRAGMA table_info(_cf_KV)")
        r["read_kv"] = X("SELECT * FROM _cf_KV")
        r["write_kv"] = X("INSERT INTO _cf_KV VALUES ('x', x'00')")
        r["drop_kv"] = X("DROP TABLE _cf_KV")
        r["rename_kv"] = X("ALTER TABLE _cf_KV RENAME TO kv2")
        r["index_on_kv"] = X("CREATE INDEX kvi ON _cf_KV (value)")
        r["trigger_on_kv"] = X("CREATE TRIGGER kvt AFTER INSERT ON _cf_KV BEGIN SELECT 1; END")
        r["view_of_kv"] = X("CREATE VIEW kvv AS SELECT * FROM _cf_KV")
        r["lower_case"] = X("SELECT * FROM _CF_kv")
        await s.setAlarm(Date.now() + 3600000)
        r["after_alarm"] = X("SELECT name FROM sqlite_master ORDER BY name")
        r["metadata_info"] = X("PRAGMA table_info(_cf_METADATA)")
        await s.deleteAlarm()
        r["after_delete_alarm"] = X("SELECT name FROM sqlite_master ORDER BY name")
        await s.deleteAll()
        r["after_delete_all"] = X("SELECT name FROM sqlite_master ORDER BY name")
        r["list_after"] = list((await s.list()).keys())
        return r
    # ---- end section: sqlite ----

    # ---- section: sqlcount ----
    # rowsRead / rowsWritten of every kind of statement, as workerd's SQLite counts them (issue 18
    # item 5): index seeks and range scans, sorters with LIMIT, joins, writes through indexes,
    # UPDATE/DELETE ... LIMIT, schema changes, virtual tables. Twins of worker.js's sqlcount section.
    async def sqlc_index_reads(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE ir (id INTEGER PRIMARY KEY, a TEXT, n INTEGER, t TEXT)")
        sql.exec("CREATE INDEX ir_a ON ir (a)")
        sql.exec("CREATE INDEX ir_n ON ir (n)")
        sql.exec("INSERT INTO ir (a, n, t) VALUES ('x', 1, 'p'), ('y', 2, 'q'), ('z', 3, 'r'), ('x', 4, 's'), ('w', 5, 't'), ('v', 6, 'u'), ('x', 7, 'v'), ('u', 8, 'w')")
        r = {}
        r["range_two"] = self._sql_counts("SELECT a FROM ir WHERE n BETWEEN 3 AND 4")
        r["range_none"] = self._sql_counts("SELECT a FROM ir WHERE n BETWEEN 100 AND 200")
        r["range_open"] = self._sql_counts("SELECT a FROM ir WHERE n > 5")
        r["range_below"] = self._sql_counts("SELECT a FROM ir WHERE n < 3")
        r["eq_three"] = self._sql_counts("SELECT n FROM ir WHERE a = 'x'")
        r["eq_miss"] = self._sql_counts("SELECT n FROM ir WHERE a = 'nope'")
        r["eq_miss_between"] = self._sql_counts("SELECT n FROM ir WHERE a = 'xa'")
        r["in_list"] = self._sql_counts("SELECT n FROM ir WHERE a IN ('w', 'z', 'nope')")
        r["rowid_range"] = self._sql_counts("SELECT a FROM ir WHERE id > 5")
        r["rowid_in"] = self._sql_counts("SELECT a FROM ir WHERE id IN (2, 4, 99)")
        r["covering_scan"] = self._sql_counts("SELECT a FROM ir ORDER BY a")
        r["order_index_limit"] = self._sql_counts("SELECT n FROM ir ORDER BY n DESC LIMIT 2")
        r["order_sorter_limit"] = self._sql_counts("SELECT t FROM ir ORDER BY t DESC LIMIT 3")
        r["order_sorter_offset"] = self._sql_counts("SELECT t FROM ir ORDER BY t LIMIT 2 OFFSET 3")
        r["min_index"] = self._sql_counts("SELECT min(n) AS m FROM ir")
        r["max_index"] = self._sql_counts("SELECT max(n) AS m FROM ir")
        r["count_where"] = self._sql_counts("SELECT count(*) AS c FROM ir WHERE a = 'x'")
        r["group_by"] = self._sql_counts("SELECT t, count(*) AS c FROM ir GROUP BY t")
        r["group_by_index"] = self._sql_counts("SELECT a, count(*) AS c FROM ir GROUP BY a")
        r["distinct"] = self._sql_counts("SELECT DISTINCT t FROM ir")
        r["like"] = self._sql_counts("SELECT n FROM ir WHERE t LIKE 'q%'")
        r["limit_scan"] = self._sql_counts("SELECT * FROM ir LIMIT 3")

        def stepping():
            c = sql.exec("SELECT a FROM ir WHERE n BETWEEN 2 AND 5")
            seen = [c.rowsRead]
            for _ in c:
                seen.append(c.rowsRead)
            return seen

        def interleaved():
            c = sql.exec("SELECT a FROM ir WHERE n BETWEEN 2 AND 5")
            c.next()
            sql.exec("SELECT * FROM ir").toArray()
            sql.exec("INSERT INTO ir (a, n, t) VALUES ('k', 100, 'k')")
            self.ctx.storage.kv.put("between", 1)
            c.toArray()
            return [c.rowsRead, c.rowsWritten]
        r["stepping"] = cap_s(stepping)
        r["interleaved"] = cap_s(interleaved)
        return r

    async def sqlc_joins(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE jp (id INTEGER PRIMARY KEY, name TEXT)")
        sql.exec("CREATE TABLE jc (id INTEGER PRIMARY KEY, pid INTEGER, v INTEGER)")
        sql.exec("CREATE INDEX jc_pid ON jc (pid)")
        sql.exec("CREATE TABLE jn (k INTEGER, w TEXT)")
        sql.exec("INSERT INTO jp (name) VALUES ('a'), ('b'), ('c'), ('d')")
        sql.exec("INSERT INTO jc (pid, v) VALUES (1, 10), (1, 11), (2, 20), (4, 40), (4, 41), (4, 42)")
        sql.exec("INSERT INTO jn (k, w) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (9, 'nine')")
        r = {}
        r["join_index"] = self._sql_counts("SELECT jp.name, jc.v FROM jp JOIN jc ON jc.pid = jp.id")
        r["join_rowid"] = self._sql_counts("SELECT jp.name, jc.v FROM jc JOIN jp ON jp.id = jc.pid")
        r["left_join"] = self._sql_counts("SELECT jp.name, jc.v FROM jp LEFT JOIN jc ON jc.pid = jp.id")
        r["join_autoindex"] = self._sql_counts("SELECT jp.name, jn.w FROM jp JOIN jn ON jn.k = jp.id")
        r["in_subquery"] = self._sql_counts("SELECT name FROM jp WHERE id IN (SELECT pid FROM jc WHERE v > 15)")
        r["exists"] = self._sql_counts("SELECT name FROM jp WHERE EXISTS (SELECT 1 FROM jc WHERE jc.pid = jp.id)")
        r["correlated"] = self._sql_counts("SELECT name, (SELECT count(*) FROM jc WHERE jc.pid = jp.id) AS c FROM jp")
        r["union"] = self._sql_counts("SELECT name AS x FROM jp UNION SELECT w FROM jn")
        r["union_all"] = self._sql_counts("SELECT name AS x FROM jp UNION ALL SELECT w FROM jn")
        r["recursive_cte"] = self._sql_counts("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5) SELECT i FROM c")
        r["window"] = self._sql_counts("SELECT v, sum(v) OVER (PARTITION BY pid ORDER BY v) AS s FROM jc")
        r["group_join"] = self._sql_counts("SELECT jp.name, sum(jc.v) AS s FROM jp JOIN jc ON jc.pid = jp.id GROUP BY jp.name ORDER BY s DESC")
        return r

    async def sqlc_writes(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE wp (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        sql.exec("CREATE TABLE wc (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES wp(id) ON DELETE CASCADE, a TEXT, n INTEGER)")
        sql.exec("CREATE INDEX wc_a ON wc (a)")
        sql.exec("CREATE INDEX wc_pid ON wc (pid)")
        sql.exec("CREATE TABLE wlog (msg TEXT)")
        sql.exec("CREATE TRIGGER wc_log AFTER UPDATE OF n ON wc BEGIN INSERT INTO wlog VALUES ('n ' || new.n); END")
        sql.exec("INSERT INTO wp (name) VALUES ('p1'), ('p2'), ('p3')")
        sql.exec("INSERT INTO wc (pid, a, n) VALUES (1, 'x', 1), (1, 'y', 2), (2, 'x', 3), (2, 'z', 4), (3, 'x', 5), (3, 'w', 6)")
        r = {}
        r["update_by_index"] = self._sql_counts("UPDATE wc SET a = 'q' WHERE a = 'z'")
        r["update_by_index_miss"] = self._sql_counts("UPDATE wc SET a = 'q' WHERE a = 'nope'")
        r["update_trigger"] = self._sql_counts("UPDATE wc SET n = n + 10 WHERE a = 'x'")
        r["delete_by_index"] = self._sql_counts("DELETE FROM wc WHERE a = 'y'")
        r["delete_range"] = self._sql_counts("DELETE FROM wc WHERE n > 14")
        r["update_limit"] = self._sql_counts("UPDATE wc SET a = 'l' WHERE n > 0 ORDER BY n LIMIT 2")
        r["delete_limit"] = self._sql_counts("DELETE FROM wc WHERE a = 'l' LIMIT 1")
        r["insert_select"] = self._sql_counts("INSERT INTO wc (pid, a, n) SELECT pid, a || '2', n + 100 FROM wc WHERE pid = 2")
        r["upsert"] = self._sql_counts("INSERT INTO wp (id, name) VALUES (1, 'p1') ON CONFLICT (name) DO UPDATE SET name = 'p1b'")
        r["replace_unique"] = self._sql_counts("INSERT OR REPLACE INTO wp (id, name) VALUES (9, 'p3')")
        r["insert_fk_check"] = self._sql_counts("INSERT INTO wc (pid, a, n) VALUES (2, 'f', 0)")
        r["delete_cascade"] = self._sql_counts("DELETE FROM wp WHERE name = 'p2'")
        r["insert_returning"] = self._sql_counts("INSERT INTO wlog VALUES ('r') RETURNING msg")
        r["update_returning"] = self._sql_counts("UPDATE wlog SET msg = msg || '!' WHERE msg = 'r' RETURNING msg")
        r["delete_scan"] = self._sql_counts("DELETE FROM wlog WHERE msg > 'n 12'")
        r["delete_all"] = self._sql_counts("DELETE FROM wlog")
        return r

    async def sqlc_schema(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE sd (id INTEGER PRIMARY KEY, a TEXT, n INTEGER)")
        sql.exec("INSERT INTO sd (a, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('x', 4), ('w', 5), ('v', 6)")
        r = {}
        r["create_index"] = self._sql_counts("CREATE INDEX sd_n ON sd (n)")
        r["create_unique_index"] = self._sql_counts("CREATE UNIQUE INDEX sd_an ON sd (a, n)")
        r["create_index_exists"] = self._sql_counts("CREATE INDEX IF NOT EXISTS sd_n ON sd (n)")
        r["create_partial_index"] = self._sql_counts("CREATE INDEX sd_p ON sd (a) WHERE n > 3")
        r["drop_index"] = self._sql_counts("DROP INDEX sd_p")
        r["add_column"] = self._sql_counts("ALTER TABLE sd ADD COLUMN c TEXT")
        r["rename_column"] = self._sql_counts("ALTER TABLE sd RENAME COLUMN c TO d")
        r["drop_column"] = self._sql_counts("ALTER TABLE sd DROP COLUMN d")
        r["rename_table"] = self._sql_counts("ALTER TABLE sd RENAME TO sd2")
        r["create_as_select"] = self._sql_counts("CREATE TABLE sd3 AS SELECT a, n FROM sd2 WHERE n > 2")
        r["create_view"] = self._sql_counts("CREATE VIEW sdv AS SELECT a FROM sd2")
        r["select_view"] = self._sql_counts("SELECT a FROM sdv")
        r["create_trigger"] = self._sql_counts("CREATE TRIGGER sdt AFTER INSERT ON sd3 BEGIN SELECT 1; END")
        r["drop_view"] = self._sql_counts("DROP VIEW sdv")
        r["drop_table"] = self._sql_counts("DROP TABLE sd3")
        r["analyze"] = self._sql_counts("ANALYZE")
        r["pragma_table_info"] = self._sql_counts("PRAGMA table_info(sd2)")
        return r

    async def sqlc_virtual(self):
        sql = self.ctx.storage.sql
        sql.exec("CREATE VIRTUAL TABLE fv USING fts5(body)")
        sql.exec("INSERT INTO fv (body) VALUES ('alpha beta'), ('beta gamma'), ('gamma delta'), ('alpha omega')")
        sql.exec("CREATE VIRTUAL TABLE rv USING rtree(id, x0, x1)")
        sql.exec("INSERT INTO rv VALUES (1, 0, 1), (2, 2, 3), (3, 4, 5)")
        r = {}
        r["fts_match"] = self._sql_counts("SELECT body FROM fv WHERE fv MATCH 'alpha'")
        r["fts_scan"] = self._sql_counts("SELECT body FROM fv")
        r["fts_insert"] = self._sql_counts("INSERT INTO fv (body) VALUES ('epsilon')")
        r["fts_delete"] = self._sql_counts("DELETE FROM fv WHERE rowid = 1")
        r["rtree_query"] = self._sql_counts("SELECT id FROM rv WHERE x0 >= 2")
        r["rtree_insert"] = self._sql_counts("INSERT INTO rv VALUES (4, 6, 7)")
        return r
    # ---- end section: sqlcount ----

    # ---- section: conf-a ----
    # Storage API arguments (WebIDL coercion as a Python Worker passes them), values round-tripped
    # as a Python Worker sees them, RPC and alarms. Each method's JS twin has the same name in
    # worker.js's conf-a section.
    async def st_list_limit_coercion(self):
        s = self.ctx.storage
        await self.fill(["a", "b", "c", "d"])

        async def L(limit):
            return await listed(s, {"limit": limit})

        return {
            "int32_max": await L(2147483647), "over_int32": await L(2147483648), "int32_min": await L(-2147483648),
            "under_int32_min": await L(-2147483649), "fraction_1_9": await L(1.9), "fraction_0_5": await L(0.5),
            "fraction_neg": await L(-0.5), "infinity": await L(math.inf), "neg_infinity": await L(-math.inf),
            "text_3": await L("3"), "text_spaces": await L(" 2 "), "text_hex": await L("0x2"), "text_empty": await L(""),
            "empty_list": await L([]), "list_2": await L([2]), "bool_true": await L(True), "bool_false": await L(False),
            "bigint": await L(2**64), "object": await L({}),
            "left": keys_of(await s.list()),
        }

    async def st_list_range_combos(self):
        s = self.ctx.storage
        await self.fill(["a", "aa", "ab", "b", "ba", "c"])
        L = functools.partial(listed, s)
        return {
            "start_after_end": await L({"startAfter": "a", "end": "b"}),
            "start_after_prefix": await L({"startAfter": "aa", "prefix": "a"}),
            "start_outside_prefix": await L({"start": "b", "prefix": "a"}),
            "end_inside_prefix": await L({"end": "ab", "prefix": "a"}),
            "end_before_prefix": await L({"end": "a", "prefix": "b"}),
            "start_empty": await L({"start": "", "limit": 2}),
            "end_empty": await L({"end": ""}),
            "start_after_empty": await L({"startAfter": "", "limit": 2}),
            "start_after_past_prefix": await L({"startAfter": "az", "prefix": "a"}),
            "reverse_start_after_limit": await L({"startAfter": "a", "reverse": True, "limit": 2}),
            "reverse_start_end": await L({"start": "aa", "end": "ba", "reverse": True}),
            "reverse_start_after_end": await L({"startAfter": "b", "end": "c", "reverse": True}),
            "reverse_end_before_start": await L({"start": "c", "end": "a", "reverse": True}),
            "start_equals_start_after": await L({"start": "b", "startAfter": "b"}),
            "start_after_equals_end": await L({"startAfter": "b", "end": "b"}),
        }

    async def st_list_option_types(self):
        s = self.ctx.storage
        await self.fill(["a", "b", "null", "true", "5"])
        L = functools.partial(listed, s)
        return {
            "null_options": await L(None),
            "empty_options": await L({}),
            "reverse_zero": await L({"reverse": 0, "limit": 1}),
            "reverse_one": await L({"reverse": 1, "limit": 1}),
            "reverse_empty_text": await L({"reverse": "", "limit": 1}),
            "reverse_null": await L({"reverse": None, "limit": 1}),
            "prefix_null": await L({"prefix": None}),
            "start_null": await L({"start": None}),
            "end_null": await L({"end": None}),
            "start_after_null": await L({"startAfter": None}),
            "prefix_true": await L({"prefix": True}),
            "prefix_number": await L({"prefix": 5}),
            "allow_concurrency_text": await L({"allowConcurrency": "x", "limit": 1}),
            "no_cache_number": await L({"noCache": 1, "limit": 1}),
            "options_true": await L(True),
            "options_list": await L([1]),
        }

    async def st_options_not_objects(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put("a", 1)
        t = Date.now() + 3600000

        r = {
            "get_number": await cap(lambda: s.get("a", 5)),
            "get_text": await cap(lambda: s.get("a", "x")),
            "get_true": await cap(lambda: s.get("a", True)),
            "get_null": await cap(lambda: s.get("a", None)),
            "get_concurrency": await cap(lambda: s.get("a", {"allowConcurrency": True, "noCache": True})),
            "get_many_number": await cap(lambda: _items_after(s.get(["a"], 5))),
            "put_number": await cap(lambda: s.put("p1", 1, 5)),
            "put_text": await cap(lambda: s.put("p2", 1, "x")),
            "put_null": await cap(lambda: s.put("p3", 1, None)),
            "put_unconfirmed": await cap(lambda: s.put("p4", 1, {"allowUnconfirmed": "yes"})),
            "put_entries_number": await cap(lambda: s.put({"p5": 1}, 5)),
            "put_entries_null": await cap(lambda: s.put({"p6": 1}, None)),
            "delete_number": await cap(lambda: s.delete("a", 5)),
            "delete_many_text": await cap(lambda: s.delete(["a"], "x")),
            "delete_all_number": await cap(lambda: s.deleteAll(5)),
            "get_alarm_number": await cap(lambda: s.getAlarm(5)),
            "set_alarm_number": await cap(lambda: s.setAlarm(t, 5)),
            "delete_alarm_text": await cap(lambda: s.deleteAlarm("x")),
        }
        r["left"] = pairs(await s.list())
        r["alarm"] = enc(await s.getAlarm())
        await s.deleteAlarm()
        return r

    async def st_key_types(self):
        s = self.ctx.storage
        await s.deleteAll()

        r = {
            "put_null": await cap(lambda: s.put(None, "n")),
            "get_null": await cap(lambda: s.get(None)),
            "put_true": await cap(lambda: s.put(True, "t")),
            "put_whole_float": await cap(lambda: s.put(1.0, "one")),
            "put_neg_zero": await cap(lambda: s.put(-0.0, "zero")),
            "put_1e21": await cap(lambda: s.put(1e21, "big")),
            "put_bigint": await cap(lambda: s.put(2**64, "bigint")),
            "put_nan": await cap(lambda: s.put(math.nan, "nan")),
            "put_list_key": await cap(lambda: s.put(["l1", "l2"], 1)),
            "get_nested_list": await cap(lambda: _items_after(s.get([["l1", "l2"], "zero"]))),
            "get_mixed_list": await cap(lambda: _items_after(s.get([None, True, 1, 1e21]))),
            "delete_nested": await cap(lambda: s.delete([["1", "0"]])),
        }
        r["keys"] = keys_of(await s.list())
        return r

    async def st_many_keys_duplicates(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put({"a": 1, "b": 2})
        unique128 = [f"u{i}" for i in range(128)]

        async def get_size(keys):
            return len(await s.get(keys))

        return {
            "get_129_same": await cap(lambda: _items_after(s.get(["a"] * 129))),
            "get_128_same": await cap(lambda: _items_after(s.get(["a"] * 128))),
            "get_128_unique_plus_dup": await cap(lambda: get_size([*unique128, "u0"])),
            "delete_129_same": await cap(lambda: s.delete(["b"] * 129)),
            "delete_128_same": await cap(lambda: s.delete(["b"] * 128)),
            "left": keys_of(await s.list()),
        }

    async def st_callback_types(self):
        s = self.ctx.storage
        await s.deleteAll()
        before = self.rand

        async def after():
            await s.put("after", 1)
            return await s.get("after")

        r = {
            "bcw_text": await cap(lambda: self.ctx.blockConcurrencyWhile("f")),
            "bcw_object": await cap(lambda: self.ctx.blockConcurrencyWhile({})),
            "bcw_list": await cap(lambda: self.ctx.blockConcurrencyWhile([])),
            "txn_null": await cap(lambda: s.transaction(None)),
            "txn_text": await cap(lambda: s.transaction("x")),
            "txn_object": await cap(lambda: s.transaction({})),
            "txn_sync_null": cap_s(lambda: s.transactionSync(None)),
            "txn_sync_text": cap_s(lambda: s.transactionSync("x")),
        }
        r["same_instance"] = self.rand == before
        r["storage_works"] = await cap(after)
        return r

    async def st_bcw_uncaught(self, v):
        await self.ctx.blockConcurrencyWhile(v)
        return "unreachable"

    async def st_bcw_caught(self):
        async def boom():
            raise js.Error.new("inside bcw")  # the twin of JS `throw new Error(...)`

        try:
            await self.ctx.blockConcurrencyWhile(boom)
            return "not thrown"
        except Exception as e:  # noqa: BLE001
            return "caught: " + (e.message if isinstance(e, JsException) else str(e))

    async def st_callback_results(self):
        s = self.ctx.storage
        vals = {"whole": 3.0, "neg_zero": -0.0, "half": 2.5, "big": 2**60, "nan": math.nan, "inf": math.inf,
                "text": "s", "none": None}
        out = {}
        for k, v in vals.items():
            async def value(*_args, v=v):
                return v

            out[k] = [
                await cap(lambda: self.ctx.blockConcurrencyWhile(value)),
                await cap(lambda: s.transaction(value)),
                cap_s(lambda v=v: s.transactionSync(lambda: v)),
            ]
        return out

    async def st_txn_nested_rollback(self):
        s = self.ctx.storage
        await s.deleteAll()
        r = {}

        async def inner_throws(t2):
            await t2.put("y", 1)
            raise Exception("inner")

        async def outer1(t):
            await t.put("x", 1)
            r["inner_error"] = await cap(lambda: s.transaction(inner_throws))
            return "outer ok"

        r["inner_throw"] = await cap(lambda: s.transaction(outer1))
        r["after_inner_throw"] = pairs(await s.get(["x", "y"]))

        async def inner_rolls_back(t2):
            await t2.put("b", 1)
            t2.rollback()

        async def outer2(t):
            await t.put("a", 1)
            await s.transaction(inner_rolls_back)
            return "outer ok"

        r["inner_rollback"] = await cap(lambda: s.transaction(outer2))
        r["after_inner_rollback"] = pairs(await s.get(["a", "b"]))

        async def inner_commits(t2):
            await t2.put("c", 1)

        async def outer3(t):
            await s.transaction(inner_commits)
            t.rollback()
            return "rolled back"

        r["outer_rollback"] = await cap(lambda: s.transaction(outer3))
        r["after_outer_rollback"] = enc(await s.get("c"))

        async def outer4(t):
            await t.put("o", 5)

            async def inner(t2):
                return await t2.get("o")

            return await s.transaction(inner)

        r["inner_sees_outer"] = await cap(lambda: s.transaction(outer4))

        async def outer5(t):
            async def inner(_t2):
                await t.put("u", 1)
                return await t.get("u")

            return await s.transaction(inner)

        r["outer_txn_used_inside"] = await cap(lambda: s.transaction(outer5))
        r["left"] = keys_of(await s.list())
        return r

    async def st_txn_sync_in_async(self):
        s = self.ctx.storage
        await s.deleteAll()
        r = {}

        def sync_body():
            s.put("b", 2)
            return "sync"

        async def outer1(t):
            await t.put("a", 1)
            return s.transactionSync(sync_body)

        r["sync_inside_async"] = await cap(lambda: s.transaction(outer1))

        def sync_throws():
            s.put("d", 2)
            raise Exception("sync boom")

        async def outer2(t):
            await t.put("c", 1)
            r["inner"] = cap_s(lambda: s.transactionSync(sync_throws))
            return "outer"

        r["sync_inside_async_throw"] = await cap(lambda: s.transaction(outer2))
        r["left"] = pairs(await s.list())
        return r

    async def st_put_failed_unchanged(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put("keep", 1)

        def t(c):
            return {"err_type": c["err"]["type"]} if "err" in c else c

        async def txn_body(tx):
            await tx.put("t1", 1)
            await tx.put("t2", lambda: 1)

        r = {
            "entries_with_function": t(await cap(lambda: s.put({"a": 1, "b": lambda: 1}))),
            "value_function": t(await cap(lambda: s.put("keep", lambda: 2))),
            "nested_function": t(await cap(lambda: s.put("keep", {"ok": 1, "f": [lambda: 2]}))),
            "txn_with_function": t(await cap(lambda: s.transaction(txn_body))),
        }
        r["left"] = pairs(await s.list())
        return r

    async def st_sync_kv_edges(self):
        s = self.ctx.storage
        await s.deleteAll()
        kv = s.kv
        r = {
            "put_whole_float": cap_s(lambda: kv.put("k", 3.0)),
            "get_whole_float": cap_s(lambda: kv.get("k")),
            "put_no_value": cap_s(lambda: kv.put("u")),
            "put_null_key": cap_s(lambda: kv.put(None, 1)),
            "get_null_key": cap_s(lambda: kv.get("null")),
            "get_missing": cap_s(lambda: kv.get("missing")),
            "delete_missing": cap_s(lambda: kv.delete("missing")),
            "delete_existing": cap_s(lambda: kv.delete("null")),
            "list_prefix": cap_s(lambda: list(kv.list({"prefix": "k"}))),
            "list_limit0": cap_s(lambda: list(kv.list({"limit": 0}))),
            "list_reverse_limit1": cap_s(lambda: list(kv.list({"reverse": True, "limit": 1}))),
            "list_options_number": cap_s(lambda: list(kv.list(5))),
            "get_list_key": cap_s(lambda: kv.get(["k"])),
        }
        r["left"] = pairs(await s.list())
        return r

    async def st_alarm_replace(self):
        s = self.ctx.storage
        await s.deleteAlarm()
        t1 = Date.now() + 3600000
        t2 = t1 + 60000
        r = {}
        await s.setAlarm(t1)
        await s.setAlarm(t2)
        r["later_replaces"] = (await s.getAlarm()) == t2
        r["same_again"] = await cap(lambda: s.setAlarm(t2))
        await s.setAlarm(t1)
        r["earlier_replaces"] = (await s.getAlarm()) == t1
        r["get_with_options"] = (await s.getAlarm({"allowConcurrency": True})) == t1
        r["set_unconfirmed"] = await cap(lambda: s.setAlarm(t2, {"allowUnconfirmed": True}))
        r["after_unconfirmed"] = (await s.getAlarm()) == t2
        r["delete"] = enc(await s.deleteAlarm())
        r["delete_again"] = enc(await s.deleteAlarm())
        r["after"] = enc(await s.getAlarm())
        return r

    async def st_txn_alarm_rollback(self):
        s = self.ctx.storage
        await s.deleteAlarm()
        t1 = Date.now() + 3600000
        r = {}

        async def set_then_throw(t):
            await t.setAlarm(t1)
            r["seen_inside"] = (await t.getAlarm()) == t1
            r["outside_sees_it"] = (await s.getAlarm()) == t1
            raise Exception("undo")

        r["set_then_throw"] = await cap(lambda: s.transaction(set_then_throw))
        r["after_throw"] = enc(await s.getAlarm())
        await s.setAlarm(t1)

        async def delete_then_rollback(t):
            await t.deleteAlarm()
            r["deleted_inside"] = enc(await t.getAlarm())
            t.rollback()
            return "rolled back"

        r["delete_then_rollback"] = await cap(lambda: s.transaction(delete_then_rollback))
        r["after_rollback_is_t1"] = (await s.getAlarm()) == t1

        async def set_commit(t):
            await t.setAlarm(t1 + 1000)

        r["set_commit"] = await cap(lambda: s.transaction(set_commit))
        r["after_commit"] = (await s.getAlarm()) == t1 + 1000
        await s.deleteAlarm()
        return r

    async def alm_time_bounds(self):
        s = self.ctx.storage
        await s.deleteAlarm()

        async def S(v):
            return await cap(lambda: s.setAlarm(v))

        r = {
            "max_2189": await S(9223372036854),
            "max_2189_read": enc(await s.getAlarm()),
            "over_2189": await S(9223372036855),
            "date_max": await S(8.64e15),
            "over_date_max": await S(8.64e15 + 1),
            "neg_date_max": await S(-8.64e15),
            "neg_half": await S(-0.5),
            "bigint": await S(2**64),
            "list": await S([Date.now() + 3600000]),
            "after_errors": enc(await s.getAlarm()),
            "one": await S(1),
            "half": await S(0.5),
            "almost_one": await S(0.9999),
        }
        await s.deleteAlarm()
        return r

    async def alm_datetime_forms(self):
        s = self.ctx.storage
        await s.deleteAlarm()
        utc = datetime.timezone.utc

        async def set_(d):
            c = await cap(lambda: s.setAlarm(d))
            if "err" in c:
                return c
            return {"ok": enc(await s.getAlarm())}

        r = {
            "naive": await set_(datetime.datetime(2100, 1, 1)),
            "aware_plus_2": await set_(datetime.datetime(2100, 1, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))),
            "microseconds": await set_(datetime.datetime(2100, 1, 1, 0, 0, 0, 999999, tzinfo=utc)),
            "epoch": await set_(datetime.datetime(1970, 1, 1)),
            "before_epoch": await set_(datetime.datetime(1960, 1, 1, tzinfo=utc)),
            "sub_ms_before_epoch": await set_(datetime.datetime(1969, 12, 31, 23, 59, 59, 999500)),
            "after_errors": enc(await s.getAlarm()),
        }
        await s.deleteAlarm()
        return r

    # values, as a Python Worker sees them once stored and read back
    async def val_whole_floats(self):
        return await self.roundtrip({
            "three": 3.0, "neg_zero": -0.0, "e20": 1e20, "two_53": 2.0**53, "safe_max": 9007199254740991.0,
            "neg_safe": -9007199254740991.0, "point3": 0.1 + 0.2, "list": [1.0, 2.5], "dict": {"f": 4.0},
            "float_key": {1.0: "k"}, "set": {1.0, 2.5},
        })

    async def val_big_ints(self):
        return await self.roundtrip({
            "safe_max": 2**53 - 1, "two_53": 2**53, "neg_two_53": -(2**53), "two_63": 2**63,
            "neg_two_64_5": -(2**64) - 5, "ten_30": 10**30, "in_list": [2**70], "in_dict": {"b": -(2**60)},
        })

    async def val_bytes_views(self):
        s = self.ctx.storage
        out = await self.roundtrip({
            "bytes": b"\x01\x02\x03", "view_slice": memoryview(b"\x01\x02\x03\x04")[1:3], "empty": b"",
            "nested": {"d": {"b": b"\x09"}}, "in_list": [b"\x01", memoryview(b"\x02")],
        })
        await s.put("v:big", bytes([7]) * 70000)
        big = await s.get("v:big")
        out["big_length"] = len(big)
        out["big_last"] = big[69999]
        return out

    async def val_datetimes(self):
        utc = datetime.timezone.utc
        base = datetime.datetime(2020, 1, 1)
        return await self.roundtrip({
            "naive": base,
            "aware_plus_0530": datetime.datetime(2020, 1, 1, 5, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))),
            "microseconds": datetime.datetime(2021, 6, 1, 12, 0, 0, 123456, tzinfo=utc),
            "pre_epoch": datetime.datetime(1960, 6, 1), "pre_epoch_sub_ms": datetime.datetime(1969, 12, 31, 23, 59, 59, 999500),
            "epoch": datetime.datetime(1970, 1, 1, tzinfo=utc),
            "year_1": datetime.datetime(1, 1, 1), "year_9999": datetime.datetime(9999, 12, 31, 23, 59, 59, 999000),
            "in_list": [base], "in_dict": {"d": base},
        })

    async def val_none_nested(self):
        return await self.roundtrip({
            "none": None, "list": [None, 1], "dict": {"a": None}, "nested": {"a": [None]}, "deep": [[None]], "set": {None},
        })

    async def val_errors(self):
        return await self.roundtrip({
            "plain": Exception("boom"), "type_error": TypeError("t"), "empty": Exception(""),
            "in_list": [Exception("in list")], "in_dict": {"e": ValueError("v")},
        })

    async def val_dict_keys(self):
        d = {2: "a", True: "b", None: "c", 2.5: "d", "z": 1, "0": 2, 10: 3, -1: 4, "01": 5, 4294967295: 6, 4294967294: 7}
        return await self.roundtrip({"keys": d})

    async def val_list_get_paths(self):
        s = self.ctx.storage
        await s.deleteAll()
        await s.put({"w": 3.0, "b": b"\x01", "d": datetime.datetime(2020, 1, 1), "n": None, "z": -0.0, "f": 1.5})
        return {
            "list": pairs(await s.list()),
            "get_many": pairs(await s.get(["z", "w", "n", "f", "d", "b"])),
        }

    async def val_shared_refs(self):
        s = self.ctx.storage
        shared_list, shared_set, shared_dict = [1], {1}, {"k": 1}
        await s.put("shared", {"a": shared_list, "b": shared_list, "s1": shared_set, "s2": shared_set,
                               "d": [shared_dict, shared_dict]})
        r = await s.get("shared")
        return {"lists_same": r["a"] is r["b"], "sets_same": r["s1"] is r["s2"], "dicts_same": r["d"][0] is r["d"][1],
                "value": enc(r)}

    async def rpc_shared(self):
        shared_list, shared_set = [1], {1}
        return {"a": shared_list, "b": shared_list, "s1": shared_set, "s2": shared_set}

    # RPC
    async def rpc_echo(self, *args):
        return {"seen": [enc(a) for a in args], "back": list(args)}

    async def rpc_call_back(self, fn, x):
        return await fn(x)

    async def rpc_call_twice(self, fn, x):
        a = await fn(x)
        b = await fn(a)
        return [a, b]

    async def rpc_make_counter(self, start):
        n = [start]

        def inc(k):
            n[0] += k
            return n[0]

        return inc

    async def rpc_make_tools(self, start):
        n = [start]

        def inc(k):
            n[0] += k
            return n[0]

        async def get():
            await asyncio.sleep(0.001)
            return n[0]

        return {"label": "tools", "inc": inc, "get": get}

    async def rpc_call_stub(self, other):
        return await other.ping()

    async def _rpc_private(self):
        return "private reached"

    @staticmethod
    def rpc_static():
        return "static reached"

    async def rpc_keep_fn(self, fn):
        self.kept_fn = fn
        return "kept"

    async def rpc_call_kept(self, x):
        return await self.kept_fn(x)

    async def rpc_length(self, text):
        return len(text)

    async def rpc_peer_stub(self):
        return {"peer": self.env.OTHER.getByName("peer"), "label": "peer"}

    async def rpc_errors_as_values(self):
        return {"plain": Exception("boom"), "list": [ValueError("in list")], "empty": Exception("")}

    async def rpc_big(self, n):
        return "x" * n
    # ---- end section: conf-a ----

class OtherDO(TestDO):
    pass


class NoAlarmDO(DurableObject):
    """A class without an alarm() handler."""

    async def try_set_alarm(self):
        s = self.ctx.storage
        return {
            "set": await cap(lambda: s.setAlarm(Date.now() + 60000)),
            "get": await cap(lambda: s.getAlarm()),
            "delete": await cap(lambda: s.deleteAlarm()),
        }


class CtorDO(DurableObject):
    """blockConcurrencyWhile in the constructor: it finishes before the first event."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.ready = None

        async def init():
            prev = await ctx.storage.get("ctor_count") or 0
            await ctx.storage.put("ctor_count", prev + 1)
            await asyncio.sleep(0.02)
            self.ready = {"prev": prev}

        ctx.blockConcurrencyWhile(init)

    async def state(self):
        return {"ready": self.ready, "count": await self.ctx.storage.get("ctor_count")}


async def _keys_after(awaitable):
    return list(await awaitable)


async def _items_after(awaitable):
    return list((await awaitable).items())


# ------------------------------------------------------------------ the emulator world


async def _outbound(request):
    """`fetch()` leaving the world (the JS twin fetches its own Worker's /noop)."""
    return Response("ok")


def new_runtime(compatibility_date: str = COMPATIBILITY_DATE, **options) -> Runtime:
    return Runtime(
        durable_objects={"TEST": TestDO, "OTHER": OtherDO, "NOALARM": NoAlarmDO, "CTOR": CtorDO,
                         "CONFB": ConfBDO},
        unique_keys=UNIQUE_KEYS,
        compatibility_date=compatibility_date,
        idle_eviction=WORKERD_IDLE_EVICTION_S,
        outbound=_outbound,
        **options,
    )


# ------------------------------------------------------------------ Python drivers (twins of SCENARIOS in worker.js)
#
# A "world" driver runs inside the emulator, as the JS driver runs inside the Worker; a "host"
# driver runs outside it (a test's view) and may move virtual time with `await rt.advance(s)`.


def lower_hex64(s: str) -> bool:
    return len(s) == 64 and all(c in "0123456789abcdef" for c in s)


async def ids_from_name(env):
    id_ = env.TEST.idFromName("foo")
    s = id_.toString()
    return {
        "foo": s,
        "lower_hex_64": lower_hex64(s),
        "deterministic": env.TEST.idFromName("foo").toString() == s,
        "equals_same": id_.equals(env.TEST.idFromName("foo")),
        "equals_other": id_.equals(env.TEST.idFromName("bar")),
        "name": id_.name,
        "empty": cap_s(lambda: env.TEST.idFromName("").toString()),
        "unicode": cap_s(lambda: env.TEST.idFromName("h\u00e9llo\U0001F600").toString()),
        "number_is_string": env.TEST.idFromName(123).toString() == env.TEST.idFromName("123").toString(),
        "number_name": env.TEST.idFromName(123).name,
        "other_namespace": env.OTHER.idFromName("foo").toString(),
        "stub_name": env.TEST.get(id_).name,
        "stub_id": env.TEST.get(id_).id.toString(),
        "get_by_name_id": env.TEST.getByName("foo").id.toString(),
    }


async def ids_from_string_errors(env):
    s = env.TEST.idFromName("foo").toString()
    bad = {
        "empty": "", "short": "abc", "non_hex_64": "z" * 64, "hex63": s[:63], "hex65": s + "0",
        "flipped_last": s[:63] + ("1" if s[63] == "0" else "0"),
        "flipped_first": ("1" if s[0] == "0" else "0") + s[1:],
        "other_namespace": env.OTHER.idFromName("foo").toString(),
        "all_zeros": "0" * 64, "leading_space": " " + s[1:],
    }
    r = {k: cap_s(lambda v=v: env.TEST.idFromString(v).toString()) for k, v in bad.items()}
    r["number"] = cap_s(lambda: env.TEST.idFromString(123).toString())
    r["no_argument"] = cap_s(lambda: env.TEST.idFromString().toString())
    return r


async def ids_from_string_valid(env):
    id_ = env.TEST.idFromName("foo")
    s = id_.toString()
    back = env.TEST.idFromString(s)
    upper = env.TEST.idFromString(s.upper())
    return {
        "str": back.toString(),
        "equals": back.equals(id_),
        "name": back.name,
        "upper_accepted": upper.toString(),
        "upper_equals": upper.equals(id_),
    }


async def ids_new_unique(env):
    a = env.TEST.newUniqueId()
    b = env.TEST.newUniqueId()
    return {
        "lower_hex_64": lower_hex64(a.toString()) and lower_hex64(b.toString()),
        "differ": a.toString() != b.toString(),
        "equals": a.equals(b),
        "name": a.name,
        "parses_back": env.TEST.idFromString(a.toString()).equals(a),
        "rejected_by_other_namespace": cap_s(lambda: env.OTHER.idFromString(a.toString()).toString()),
        "jurisdiction_eu": cap_s(lambda: env.TEST.newUniqueId({"jurisdiction": "eu"}).toString()),
        "jurisdiction_null": cap_s(lambda: lower_hex64(env.TEST.newUniqueId({"jurisdiction": None}).toString())),
    }


async def ids_name_inside(env):
    by_name = await env.TEST.getByName("named").who()
    by_id = await env.TEST.get(env.TEST.idFromName("named2")).who()
    from_string = await env.TEST.get(env.TEST.idFromString(env.TEST.idFromName("by-string").toString())).who()
    uid = env.TEST.newUniqueId()
    unique = await env.TEST.get(uid).who()
    return {
        "by_name": by_name,
        "by_id_from_name": by_id,
        "by_id_from_string": from_string,
        "unique_name": unique["name"],
        "unique_id_matches": unique["id"] == uid.toString(),
    }


async def edge_request_urls(env):
    stub = env.TEST.getByName("edge-urls")

    async def seen(url):
        return await cap(lambda: _text_of(stub.fetch(url)))

    return {
        "dot_segments": await seen("http://do/a/../echo-url"),
        "dot": await seen("http://do/./echo-url"),
        "port_80": await seen("http://do:80/echo-url"),
        "port_443": await seen("https://do:443/echo-url"),
        "port_other": await seen("http://do:8080/echo-url"),
        "fragment": await seen("http://do/echo-url#x"),
        "upper_host": await seen("http://DO.Example/echo-url"),
        "query": await seen("http://do/echo-url?b=1&a=2"),
        "space_in_query": await seen("http://do/echo-url?q=a b"),
        "no_path": await seen("http://do?x=1"),
        "status_text_through_stub": await cap(lambda: _status_line_of(stub.fetch("http://do/not-found"))),
    }


async def _status_line_of(response_awaitable):
    r = await response_awaitable
    await r.text()
    return [r.status, r.status_text]


async def _text_of(response_awaitable):
    return await (await response_awaitable).text()


async def edge_responses(env):
    def made(body, status):
        def run():
            r = Response(body, status=status)
            return [r.status, r.status_text, r.ok]
        return cap_s(run)

    return {
        "status_201": made(None, 201),
        "status_599": made(None, 599),
        "status_200_body": made("x", 200),
        "status_418": made(None, 418),
        "status_101_body": made("x", 101),
        "status_204_body": made("x", 204),
        "status_204_null": made(None, 204),
        "status_205_empty": made("", 205),
        "status_600": made(None, 600),
        "status_199": made(None, 199),
    }


async def edge_ids_rpc(env):
    id_ = env.TEST.idFromName("a")
    stub = env.TEST.getByName("edge-rpc")
    return {
        "equals_string": cap_s(lambda: id_.equals(id_.toString())),
        "equals_null": cap_s(lambda: id_.equals(None)),
        "equals_object": cap_s(lambda: id_.equals({})),
        "equals_same": cap_s(lambda: id_.equals(env.TEST.idFromName("a"))),
        "equals_other_namespace": cap_s(lambda: id_.equals(env.OTHER.idFromName("a"))),
        "unique_empty_options": cap_s(lambda: lower_hex64(env.TEST.newUniqueId({}).toString())),
        "unique_number": cap_s(lambda: lower_hex64(env.TEST.newUniqueId(5).toString())),
        "unique_jurisdiction_number": cap_s(lambda: env.TEST.newUniqueId({"jurisdiction": 5}).toString()),
        "rpc_alarm": await cap(lambda: stub.alarm()),
        "rpc_web_socket_message": await cap(lambda: stub.webSocketMessage(None, "x")),
        # a missing method: rpc_unknown_method and rpc_python_entrypoint (the Python entrypoint's message)
        "rpc_works_after": await cap(lambda: stub.who()),
    }


async def ids_long_name(env):
    exact = "x" * 1024
    long = "x" * 1025
    wide = "\u00e9" * 513  # 1026 UTF-8 bytes

    async def inside(n):
        return (await env.TEST.getByName(n).who())["name"]

    return {
        "exact_1024_inside": (await inside(exact)) == exact,
        "long_1025_inside": await inside(long),
        "wide_1026_bytes_inside": await inside(wide),
        "long_stub_name": env.TEST.getByName(long).name == long,
        "long_id_name": env.TEST.idFromName(long).name == long,
    }


def rpc(name, method, *args):
    async def driver(env):
        return await getattr(env.TEST.getByName(name), method)(*args)
    return driver


def gate(name, method, mode, n):
    async def driver(env):
        stub = env.TEST.getByName(name)
        await stub.reset_ctr()
        rs = await asyncio.gather(*(getattr(stub, method)(mode) for _ in range(n)))
        return {"results": sorted(rs), "final": await stub.read_ctr()}
    return driver


def bcw_ordering(name, use_bcw):
    async def driver(env):
        stub = env.TEST.getByName(name)
        await stub.reset_log()
        pa = stub.bcw_a(use_bcw, 200)
        await asyncio.sleep(0.05)
        pb = stub.bcw_b()
        a, b = await asyncio.gather(pa, pb)
        return {"a": a, "b": b}
    return driver


async def bcw_throw_resets(env):
    stub = env.TEST.getByName("bcw-throw")
    await stub.put_value("survives", 1)
    before = await stub.rand_of()
    res = await cap(stub.bcw_throw, err_flags)
    fresh = env.TEST.getByName("bcw-throw")
    after = await fresh.rand_of()
    return {
        "result": res,
        "constructor_ran_again": before != after,
        "stored_value_survives": await fresh.get_value("survives"),
    }


async def bcw_write_then_throw(env):
    stub = env.TEST.getByName("bcw-write-throw")
    res = await cap(stub.bcw_throw_after_write, err_flags)
    fresh = env.TEST.getByName("bcw-write-throw")
    return {
        "result": res,
        "before_bcw": await fresh.get_value("before-bcw"),
        "inside_bcw": await fresh.get_value("inside-bcw"),
    }


async def bcw_throw_resets_fetch(env):
    stub = env.TEST.getByName("bcw-throw-fetch")
    before = await stub.rand_of()
    try:
        resp = await stub.fetch("http://do/bcw-throw")
        res = {"ok": {"status": resp.status, "body": await resp.text()}}
    except Exception as e:  # noqa: BLE001
        res = {"err": err_flags(e)}
    after = await env.TEST.getByName("bcw-throw-fetch").rand_of()
    return {"result": res, "constructor_ran_again": before != after}


async def rpc_unknown_method(env):
    return await cap(lambda: env.TEST.getByName("rpc-unknown").no_such_method(1), err_flags)


def fetch_status(binding, name, url):
    """A driver that fetches url from the object and records the status, or the error with its flags."""
    async def driver(env):
        try:
            resp = await getattr(env, binding).getByName(name).fetch(url)
            return {"ok": {"status": resp.status}}
        except Exception as e:  # noqa: BLE001 - the error is the result
            return {"err": err_flags(e)}
    return driver


async def bcw_constructor(env):
    stub = env.CTOR.getByName("ctor")
    a, b = await asyncio.gather(stub.state(), stub.state())
    return {"a": a, "b": b}


async def handler_throw_no_reset(env):
    stub = env.TEST.getByName("handler-throw")
    before = await stub.rand_of()
    res = await cap(stub.throw_error, err_flags)
    return {"result": res, "same_instance": (await stub.rand_of()) == before}


async def python_exception_crosses_as_python_error(env):
    """A Python exception leaving an object: Pyodide throws a PythonError (message: the traceback)
    and workerd's RPC keeps its name and message. The JS twin throws such an error itself."""
    try:
        await env.TEST.getByName("python-error").throw_python_error()
    except Exception as e:  # noqa: BLE001 - the error is the result
        lines = e.message.rstrip().splitlines()
        return {"type": err_type(e), "first_line": lines[0], "last_line": lines[-1],
                "remote": bool(getattr(e, "remote", False)), "is_value_error": isinstance(e, ValueError)}
    return "no error"


async def alarm_no_handler(env):
    return await env.NOALARM.getByName("no-handler").try_set_alarm()


# ----- multi-step scenarios: a summary both sides compute from raw observations

ALARM_GAP_RANGES = [(2.0, 2.5), (4.0, 5.0)]  # 2 s and 4 s back-off plus 0-25% jitter
# workerd runs alarms in real time, so on a busy machine (CI runs with its CPUs loaded) an attempt
# may start late: its side gets this slack, in seconds, (early, late) for the first attempt and
# each gap. A late start never makes a back-off shorter, so the lower bounds stay tight and still
# tell 2 s from 4 s. The emulator's clock is virtual and exact: its side gets no slack at all.
REAL_TIME_SLACK = (0.05, 2.0)
NO_SLACK = (0.0, 0.0)


def summarize_alarm(setup, rep, slack=NO_SLACK) -> dict:
    early, late = slack
    log = list(rep["log"])
    when = setup["when"]
    times = [e["now"] for e in log]
    gaps = [(b - a) / 1000.0 for a, b in zip(times, times[1:])]
    return {
        "get_equals_set": setup["get_equals_set"],
        "attempts": len(log),
        "retry_counts": [e["retryCount"] for e in log],
        "is_retry": [e["isRetry"] for e in log],
        "get_alarm_inside_handler": [enc(e["getAlarm"]) for e in log],
        "scheduled_time_is_set_time": [e["scheduledTime"] == when for e in log],
        "first_attempt_on_time": bool(times) and 0 <= times[0] - when < 1000 * (1 + late),
        "same_instance": len({e["rand"] for e in log}) <= 1,
        "gaps_in_range": [lo - early <= g <= hi + late
                          for g, (lo, hi) in zip(gaps, ALARM_GAP_RANGES)],
        "get_alarm_after_is_null": rep["get_alarm"] is None,
        "rearm_get_inside_is_new_time": rep["rearmed_to"] is not None and rep["get_after_rearm"] == rep["rearmed_to"],
        "rearm_get_after_is_new_time": rep["rearmed_to"] is not None and rep["get_alarm"] == rep["rearmed_to"],
    }


def _alarm_path(step, name, **q):
    extra = "".join(f"&{k}={v}" for k, v in q.items())
    return f"/sc/alarm_steps?step={step}&name={name}{extra}"


def js_alarm(name, fail, delay_ms, mode, attempts, settle_s, timeout_s=25.0):
    """JS driver: set the alarm, poll until `attempts` ran and nothing is left (bounded), settle."""

    def driver(client):
        setup = client.get_json(_alarm_path("setup", name, fail=fail, delay=delay_ms, mode=mode))
        deadline = time.monotonic() + timeout_s
        rep = None
        while time.monotonic() < deadline:
            time.sleep(0.1)
            rep = client.get_json(_alarm_path("report", name))
            if len(rep["log"]) >= attempts and (rep["get_alarm"] is None or mode == "rearm"):
                break
        time.sleep(settle_s)  # would a further (wrong) attempt come?
        rep = client.get_json(_alarm_path("report", name))
        return summarize_alarm(setup, rep, REAL_TIME_SLACK)

    return driver


def py_alarm(name, fail, delay_ms, mode, advance_s):
    async def driver(rt):
        stub = rt.env.TEST.getByName(name)
        setup = await stub.alarm_setup(fail, delay_ms, mode)
        await rt.advance(advance_s)
        return summarize_alarm(setup, await stub.alarm_report())

    return driver


def summarize_eviction(a, a2, b) -> dict:
    return {
        "same_instance_while_active": a["rand"] == a2["rand"],
        "rand_changed_after_idle": a2["rand"] != b["rand"],
        "counter_before": a["counter"],
        "counter_after": b["counter"],
    }


def js_eviction(client):
    a = client.get_json("/sc/eviction_steps?bump=1")
    a2 = client.get_json("/sc/eviction_steps?bump=0")
    time.sleep(EVICTION_WAIT_S)  # the one real idle wait (workerd evicts after 10 s)
    b = client.get_json("/sc/eviction_steps?bump=0")
    return summarize_eviction(a, a2, b)


async def py_eviction(rt):
    stub = rt.env.TEST.getByName("evict")
    a = await stub.evict_info(True)
    a2 = await stub.evict_info(False)
    await rt.advance(WORKERD_IDLE_EVICTION_S + 1)
    b = await stub.evict_info(False)
    return summarize_eviction(a, a2, b)


# ------------------------------------------------------------------ the scenario list


@dataclass
class Scenario:
    name: str
    py: object            # async fn(env) run in the world, or async fn(rt) run on the host (host=True)
    host: bool = False
    js: object = None     # fn(client) -> result; default: GET /sc/<name>
    slow: bool = False    # run the JS side in a background thread (real waits)
    expected_diff: str | None = None  # key of a row in DIFFERENCES.md
    date: str | None = None  # a compatibility date other than COMPATIBILITY_DATE (section conf-b)
    options: dict | None = None  # more Runtime options for the emulator's side (section conf-b)


def S(name, py, **kw) -> Scenario:
    return Scenario(name, py, **kw)


def R(name, obj, method, **kw) -> Scenario:
    """A scenario that is one method of TestDO on the object `obj`: the method is the twin on each
    side; worker.js routes /rpc/<obj>/<method> to it, so the pair is listed here only."""
    return Scenario(name, rpc(obj, method), js=lambda client: client.get_json(f"/rpc/{obj}/{method}"), **kw)


def alarm_scenario(name, obj, fail, delay_ms, mode, *, advance_s, attempts, settle_s) -> Scenario:
    """An alarm run, stated once: the emulator advances its clock, workerd is polled in real time."""
    return Scenario(name, py_alarm(obj, fail, delay_ms, mode, advance_s), host=True, slow=True,
                    js=js_alarm(obj, fail, delay_ms, mode, attempts=attempts, settle_s=settle_s))


SCENARIOS: list[Scenario] = [
    # IDs
    S("ids_from_name", ids_from_name),
    S("ids_from_string_errors", ids_from_string_errors),
    S("ids_from_string_valid", ids_from_string_valid),
    S("ids_new_unique", ids_new_unique),
    S("ids_name_inside", ids_name_inside),
    S("ids_long_name", ids_long_name),
    S("edge_ids_rpc", edge_ids_rpc),
    S("edge_request_urls", edge_request_urls),
    S("edge_responses", edge_responses),
    # list
    R("list_order", "list-order", "list_order"),
    R("list_options", "list-options", "list_options"),
    R("list_errors", "list-errors", "list_errors"),
    R("list_scenario13", "list-13", "list_scenario13"),
    R("list_prefix_unicode", "list-unicode", "list_prefix_unicode"),
    # values
    R("values_primitives", "values", "values_primitives"),
    R("values_special_floats", "values", "values_special_floats"),
    R("values_bytes", "values", "values_bytes"),
    R("values_containers", "values", "values_containers"),
    R("values_bigint_date_set", "values", "values_bigint_date_set"),
    R("values_not_cloneable", "values-nc", "values_not_cloneable"),
    # edges: arguments as a Python Worker passes them, checked as WebIDL checks them
    R("edge_list_arguments", "edge-list", "edge_list_arguments"),
    R("edge_key_arguments", "edge-keys", "edge_key_arguments"),
    R("edge_surrogate_keys", "edge-surrogates", "edge_surrogate_keys"),
    R("edge_callbacks", "edge-callbacks", "edge_callbacks"),
    R("edge_alarm_arguments", "edge-alarm", "edge_alarm_arguments"),
    R("edge_websockets", "edge-websockets", "edge_websockets"),
    R("edge_sql_cursor_end", "edge-sql-cursor", "edge_sql_cursor_end"),
    R("edge_sql_pragmas", "edge-sql-pragmas", "edge_sql_pragmas"),
    R("edge_sql_internal_tables", "edge-sql-internal", "edge_sql_internal_tables"),
    R("edge_sql_errors", "edge-sql-errors", "edge_sql_errors"),
    R("edge_sql_text", "edge-sql-text", "edge_sql_text"),
    R("edge_sql_new_functions", "edge-sql-new", "edge_sql_new_functions"),
    # put / get / delete
    R("get_many", "get-many", "get_many"),
    R("put_get_delete_returns", "pgd", "put_get_delete_returns"),
    R("put_errors", "put-errors", "put_errors"),
    R("key_coercion", "keys", "key_coercion"),
    R("read_your_writes", "ryw", "read_your_writes"),
    R("sqlite_no_legacy_limits", "limits", "sqlite_no_legacy_limits"),
    R("sqlite_value_over_2mb", "limits-2mb", "sqlite_value_over_2mb", expected_diff="sqlite-value-limit"),
    # transactions
    R("txn_throw_rollback", "txn-throw", "txn_throw_rollback"),
    R("txn_explicit_rollback", "txn-rollback", "txn_explicit_rollback"),
    R("txn_commit", "txn-commit", "txn_commit"),
    R("txn_nested", "txn-nested", "txn_nested"),
    R("txn_after_commit", "txn-after", "txn_after_commit"),
    R("txn_delete_all_inside", "txn-da", "txn_delete_all_inside"),
    R("txn_sync_savepoints", "txn-sync", "txn_sync_savepoints"),
    R("txn_sync_return_throw", "txn-sync-rt", "txn_sync_return_throw"),
    R("txn_sync_rollback_alarm", "txn-sync-alarm", "txn_sync_rollback_alarm"),
    # input gate (scenarios 1-3)
    S("gate_storage_only", gate("gate-plain", "incr", "plain", 5)),
    S("gate_timer_lost_update", gate("gate-timer", "incr", "timer", 2)),
    S("gate_fetch_lost_update", gate("gate-fetch", "incr", "fetch", 2)),
    S("gate_rpc_lost_update", gate("gate-rpc", "incr", "rpc", 2)),
    S("gate_bcw_restores", gate("gate-bcw", "incr_bcw", "timer", 2)),
    # blockConcurrencyWhile
    S("bcw_ordering", bcw_ordering("bcw-order", True)),
    S("bcw_no_bcw_ordering", bcw_ordering("bcw-order-2", False)),
    R("bcw_return_values", "bcw-values", "bcw_values"),
    S("bcw_throw_resets", bcw_throw_resets),
    S("bcw_throw_resets_fetch", bcw_throw_resets_fetch),
    S("bcw_write_then_throw", bcw_write_then_throw),
    S("bcw_constructor", bcw_constructor),
    # errors crossing a stub
    S("handler_throw_no_reset", handler_throw_no_reset),
    S("python_exception_crosses_as_python_error", python_exception_crosses_as_python_error),
    S("rpc_unknown_method", rpc_unknown_method, expected_diff="python-entrypoint-rpc"),
    S("fetch_without_handler", fetch_status("NOALARM", "no-fetch", "http://do/")),
    S("fetch_non_response", fetch_status("TEST", "non-response", "http://do/not-a-response")),
    # alarms
    R("alarm_get_set", "alarm-get-set", "alarm_get_set"),
    R("alarm_set_errors", "alarm-errors", "alarm_set_errors"),
    S("alarm_no_handler", alarm_no_handler, expected_diff="python-entrypoint-alarm"),
    R("alarm_delete_all", "alarm-delete-all", "alarm_delete_all"),
    R("alarm_past_time", "alarm-past", "alarm_past_time"),
    alarm_scenario("alarm_basic_run", "alarm-basic", 0, 50, "log", advance_s=2, attempts=1, settle_s=0.5),
    alarm_scenario("alarm_retries", "alarm-retries", 2, 100, "log", advance_s=10, attempts=3, settle_s=0.3),
    alarm_scenario("alarm_delete_set_delete", "alarm-dsd", 0, 50, "delete_set_delete",
                   advance_s=2, attempts=1, settle_s=0.6),
    alarm_scenario("alarm_rearm_in_handler", "alarm-rearm", 0, 50, "rearm", advance_s=2, attempts=1, settle_s=0.3),
    # SQL (ctx.storage.sql)
    R("sql_cursor", "sql-cursor", "sql_cursor"),
    R("sql_one", "sql-one", "sql_one"),
    R("sql_rows_read_aggregate", "sql-agg", "sql_rows_read_aggregate"),
    R("sql_raw_dup_columns", "sql-raw", "sql_raw_dup_columns"),
    R("sql_errors", "sql-errors", "sql_errors"),
    R("sql_bindings", "sql-bindings", "sql_bindings"),
    R("sql_txn_sync", "sql-txn", "sql_txn_sync"),
    R("sql_delete_all_clears", "sql-da", "sql_delete_all_clears"),
    R("sql_database_size", "sql-size", "sql_database_size"),
    # ---- section: sqlite ----
    R("sqlp_functions_3_54", "sqlp-functions-3-54", "sqlp_functions_3_54"),
    R("sqlp_counts_insert_indexes", "sqlp-counts-insert-indexes", "sqlp_counts_insert_indexes"),
    R("sqlp_counts_update_indexes", "sqlp-counts-update-indexes", "sqlp_counts_update_indexes"),
    R("sqlp_counts_delete_indexes", "sqlp-counts-delete-indexes", "sqlp_counts_delete_indexes"),
    R("sqlp_counts_reads", "sqlp-counts-reads", "sqlp_counts_reads"),
    R("sqlp_database_size_growth", "sqlp-database-size-growth", "sqlp_database_size_growth"),
    R("sqlp_pragma_allow_list", "sqlp-pragma-allow-list", "sqlp_pragma_allow_list"),
    R("sqlp_function_allow_list", "sqlp-function-allow-list", "sqlp_function_allow_list"),
    R("sqlp_error_codes", "sqlp-error-codes", "sqlp_error_codes"),
    R("sqlp_error_offsets", "sqlp-error-offsets", "sqlp_error_offsets"),
    R("sqlp_cursor_protocol", "sqlp-cursor-protocol", "sqlp_cursor_protocol"),
    R("sqlp_raw_one_columns", "sqlp-raw-one-columns", "sqlp_raw_one_columns"),
    R("sqlp_bindings_every_type", "sqlp-bindings-every-type", "sqlp_bindings_every_type"),
    R("sqlp_blob_results", "sqlp-blob-results", "sqlp_blob_results"),
    R("sqlp_numbers", "sqlp-numbers", "sqlp_numbers"),
    R("sqlp_json_window", "sqlp-json-window", "sqlp_json_window"),
    R("sqlp_virtual_tables", "sqlp-virtual-tables", "sqlp_virtual_tables"),
    R("sqlp_schema_changes", "sqlp-schema-changes", "sqlp_schema_changes"),
    R("sqlp_limits", "sqlp-limits", "sqlp_limits"),
    R("sqlp_transactions_refused", "sqlp-transactions-refused", "sqlp_transactions_refused"),
    R("sqlp_multi_statement_counts", "sqlp-multi-statement-counts", "sqlp_multi_statement_counts"),
    R("sqlp_rows_read_seeks", "sqlp-rows-read-seeks", "sqlp_rows_read_seeks"),
    R("sqlp_kv_and_sql_tables", "sqlp-kv-and-sql-tables", "sqlp_kv_and_sql_tables"),
    # ---- end section: sqlite ----
    # ---- section: sqlcount ----
    R("sqlc_index_reads", "sqlc-index-reads", "sqlc_index_reads"),
    R("sqlc_joins", "sqlc-joins", "sqlc_joins"),
    R("sqlc_writes", "sqlc-writes", "sqlc_writes"),
    R("sqlc_schema", "sqlc-schema", "sqlc_schema"),
    R("sqlc_virtual", "sqlc-virtual", "sqlc_virtual"),
    # ---- end section: sqlcount ----
    # eviction
    S("eviction", py_eviction, host=True, slow=True, js=js_eviction),
]


# ---- section: conf-b ----
# WebSockets, HTTP, lifecycle and the compatibility-date matrix (twins of worker.js's conf-b
# section). ConfBDO is this section's object (binding CONFB); `B` rows call one of its methods.
# A scenario with `date` runs on workerd's service for that compatibility date (config.capnp,
# /at/<date>/...) and on an emulator built with the same `compatibility_date`.

from js import WebSocketRequestResponsePair  # noqa: E402
from workers import Blob  # noqa: E402

COMPAT_DATES = ("2026-02-23", "2026-02-24", "2026-03-16", "2026-03-17", "2026-04-06", "2026-04-07", "2026-09-30", "2026-10-01")


def ws_recorder(ws) -> list:
    """What a WebSocket's receiving end saw, in arrival order: text as is, binary encoded."""
    got = []
    def on_message(e):
        if isinstance(e.data, str):
            got.append(e.data)
        elif isinstance(e.data, Blob):
            got.append({"blob_size": enc(e.data.size)})
        else:
            got.append(enc(memoryview(e.data)))

    ws.addEventListener("message", on_message)
    ws.addEventListener("close", lambda e: got.append({"close": enc([e.code, e.reason, e.wasClean])}))
    return got


async def closed_within(ws, seconds):
    """The close event `ws` sees within `seconds` (virtual), or "no close event"."""
    loop = asyncio.get_running_loop()
    seen = loop.create_future()

    def on_close(e):
        if not seen.done():
            seen.set_result(enc({"code": e.code, "reason": e.reason, "wasClean": e.wasClean}))

    ws.addEventListener("close", on_close)
    try:
        return await asyncio.wait_for(seen, seconds)
    except asyncio.TimeoutError:
        return "no close event"


def new_pair():
    client, server = WebSocketPair.new()
    return client, server


class ConfBDO(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.events = []
        self.rand = str(uuid.uuid4())  # changes whenever the constructor runs again

    async def fetch(self, request):
        url = urlsplit(request.url)
        q = dict(parse_qsl(url.query))
        if url.path == "/ws":
            client, server = new_pair()
            self.ctx.acceptWebSocket(server, [q.get("tag", "t")])
            return Response(None, status=101, web_socket=client)
        if url.path == "/ws-standard":
            client, server = new_pair()
            server.accept()
            server.addEventListener("close", lambda e: self.events.append(
                ["close", enc(e.code), e.reason, e.wasClean, enc(server.readyState)]))
            return Response(None, status=101, web_socket=client)
        if url.path == "/ws-hib":
            client, server = new_pair()
            self.ctx.acceptWebSocket(server, ["hib", "room"])
            server.serializeAttachment({"n": 1, "rand": self.rand})
            return Response(None, status=101, web_socket=client)
        if url.path == "/headers":
            return Response(json.dumps([[k, v] for k, v in request.headers.items()]))
        if url.path == "/misc":
            return Response(json.dumps({
                "cf": request.cf.to_py() if request.cf is not None else None, "redirect": request.redirect,
                "method": str(request.method), "body_is_null": request.body is None,
                "headers": [[k, v] for k, v in request.headers.items()], "url": request.url}))
        if url.path == "/body":
            return Response(json.dumps(await read_body(request, q.get("mode"))))
        if url.path == "/respond":
            return respond_with(q.get("kind"))
        return Response(json.dumps({"url": request.url, "method": str(request.method)}, separators=(",", ":")))

    async def start_pending(self, ms):
        async def later():
            await asyncio.sleep(ms / 1000)
            await self.ctx.storage.put("pending-done", True)

        asyncio.get_running_loop().create_task(later())
        return self.rand

    async def start_wait_until_15s(self):
        async def later():
            await asyncio.sleep(15)
            await self.ctx.storage.put("pending-done", True)

        self.ctx.waitUntil(later())
        return self.rand

    async def pending_report(self):
        return {"rand": self.rand, "done": (await self.ctx.storage.get("pending-done")) or False}

    async def tick(self):
        return 1

    async def start_pending_15s(self):
        return await self.start_pending(15000)

    async def hold_hib(self):
        resp = await self.env.CONFB.getByName("hib-target").fetch("http://do/ws-hib", headers={"Upgrade": "websocket"})
        self.ws = resp.web_socket
        self.ws.accept()
        self.got = []
        self.ws.addEventListener("message", lambda e: self.got.append(e.data))
        return self.rand

    async def ask_who(self):
        self.ws.send("who")
        for _ in range(100):
            if self.got:
                break
            await asyncio.sleep(0.02)
        return self.got.pop(0) if self.got else None

    async def webSocketMessage(self, ws, message):
        if not isinstance(message, str) and len(message) > 1024:
            ws.send(f"got {len(message)}")
            return
        if message == "who":
            ws.send(json.dumps({"rand": self.rand, "attachment": ws.deserializeAttachment(),
                                "tags": self.ctx.getTags(ws), "sockets": len(self.ctx.getWebSockets())}))
            return
        self.events.append(["message", message if isinstance(message, str) else enc(memoryview(message)),
                            enc(ws.readyState)])
        if message == "close-me":
            ws.close(4001, "asked")

    async def webSocketClose(self, ws, code, reason, was_clean):
        self.events.append(["close", enc(code), reason, was_clean, enc(ws.readyState)])

    async def webSocketError(self, ws, error):
        self.events.append(["error", err_of(error)])

    async def events_seen(self, n):
        for _ in range(50):
            if len(self.events) >= n:
                break
            await asyncio.sleep(0.02)
        return self.events

    async def delete_all_alarm(self):
        s = self.ctx.storage
        when = Date.now() + 3600000
        await s.setAlarm(when)
        await s.put("k", 1)
        out = {"delete_all": enc(await s.deleteAll())}
        alarm = await s.getAlarm()
        out["alarm_kept"] = alarm == when
        out["alarm_null"] = alarm is None
        out["keys"] = list(await s.list())
        await s.deleteAlarm()
        return out

    async def alarm(self, info=None):
        pass

    async def ws_tag_counts(self):
        ctx = self.ctx

        def tagged(tags):
            def run():
                _, server = new_pair()
                ctx.acceptWebSocket(server, tags)
                return ctx.getTags(server)
            return cap_s(run)

        ten = [f"t{i}" for i in range(10)]
        return {
            "ten": tagged(ten),
            "eleven": tagged([*ten, "t10"]),
            "ten_then_duplicate": tagged([*ten, "t0"]),
            "duplicates_kept_once": tagged(["b", "a", "b", "c", "a"]),
            "none": tagged(None),
            "empty": tagged([]),
            "empty_string": tagged([""]),
            "numbers": tagged([5, 1.5]),
            "wide_128": tagged(["\U0001F600" * 64]),
            "wide_129": tagged(["\U0001F600" * 65]),
        }

    async def ws_get_websockets(self):
        ctx = self.ctx

        def accept(tags):
            client, server = new_pair()
            ctx.acceptWebSocket(server, tags)
            return server

        a, b, c, d = accept(["x", "y"]), accept(["y"]), accept([]), accept(["x"])
        names = {id(a): "a", id(b): "b", id(c): "c", id(d): "d"}

        def seen(*tag):
            return cap_s(lambda: [names.get(id(w)) for w in ctx.getWebSockets(*tag)])

        out = {"all": seen(), "x": seen("x"), "y": seen("y"), "missing": seen("zz"), "empty_tag": seen("")}
        b.close(1000, "bye")
        out["after_close_all"] = seen()
        out["closed_state"] = enc(b.readyState)
        out["tags_of_closed"] = cap_s(lambda: ctx.getTags(b))

        def plain():
            _, s2 = new_pair()
            s2.accept()
            return ctx.getTags(s2)

        def unaccepted():
            _, s2 = new_pair()
            return ctx.getTags(s2)

        out["get_tags_plain"] = cap_s(plain)
        out["get_tags_unaccepted"] = cap_s(unaccepted)
        return out

    async def ws_send_values(self):
        client, server = new_pair()
        client.accept()
        got = ws_recorder(client)
        server.accept()
        out = {}
        for k, v in [("text", "hi"), ("empty", ""), ("int", 5), ("float", 1.5), ("true", True),
                     ("bytes", bytes([0, 1, 255])), ("empty_bytes", b""), ("unicode", "h\u00e9\U0001F600")]:
            out[k] = cap_s(lambda v=v: (server.send(v), "sent")[1])
        await asyncio.sleep(0.02)
        out["received"] = got
        return out

    async def ws_binary_type(self):
        client, server = new_pair()
        out = {"default": client.binaryType}
        client.accept()
        got = ws_recorder(client)
        server.accept()
        server.send(bytes([1, 2, 3]))
        await asyncio.sleep(0.02)
        client.binaryType = "arraybuffer"
        out["set_arraybuffer"] = client.binaryType
        server.send(bytes([4, 5]))
        await asyncio.sleep(0.02)
        client.binaryType = "nonsense"
        out["set_nonsense"] = client.binaryType
        client.binaryType = "blob"
        out["set_blob"] = client.binaryType
        server.send(bytes([6]))
        await asyncio.sleep(0.02)
        out["received"] = got
        c2, s2 = new_pair()
        self.ctx.acceptWebSocket(s2)
        c2.accept()
        c2.send(bytes([9, 9]))
        await asyncio.sleep(0.02)
        out["handler_got"] = self.events
        return out

    async def ws_after_close(self):
        client, server = new_pair()
        client.accept()
        got = ws_recorder(client)
        server.accept()
        server.send("before")
        server.close(1000, "done")
        out = {
            "state_after_close": enc(server.readyState),
            "send_after_close": cap_s(lambda: server.send("after")),
            "close_again": cap_s(lambda: (server.close(1000, "again"), "ok")[1]),
            "close_again_bad_code": cap_s(lambda: (server.close(1, "x"), "ok")[1]),
        }
        await asyncio.sleep(0.02)
        out["client_received"] = got
        out["client_state"] = enc(client.readyState)
        out["server_state"] = enc(server.readyState)

        def send_unaccepted():
            _, s2 = new_pair()
            s2.send("x")

        out["send_unaccepted"] = cap_s(send_unaccepted)
        return out

    async def ws_close_without_code(self):
        async def run(fn):
            client, server = new_pair()
            client.accept()
            got = ws_recorder(client)
            server.accept()
            fn(server)
            await asyncio.sleep(0.02)
            return got

        return {
            "no_arguments": await run(lambda s: s.close()),
            "code_only": await run(lambda s: s.close(1000)),
            "reason_undefined": await run(lambda s: s.close(3000, None)),
            "code_as_text": await run(lambda s: s.close("4000", "t")),
        }

    async def ws_attachments(self):
        _, server = new_pair()
        self.ctx.acceptWebSocket(server)

        def attach(v):
            def run():
                server.serializeAttachment(v)
                return server.deserializeAttachment()
            return cap_s(run)

        def copy_not_live():
            v = {"n": 1}
            server.serializeAttachment(v)
            v["n"] = 2
            return server.deserializeAttachment()

        return {
            "fresh": cap_s(lambda: server.deserializeAttachment()),
            "object": attach({"a": 1, "b": [1, 2], "c": "x"}),
            "number": attach(2.5),
            "date": attach(Date.new(86400000)),
            "map": attach({"k": 1}),
            "null_value": attach(None),
            "limit_string": attach("a" * 16380),
            "over_limit": attach("a" * 16381),
            "after_failed": cap_s(lambda: server.deserializeAttachment()),
            "copy_not_live": cap_s(copy_not_live),
        }

    async def ws_auto_response(self):
        ctx = self.ctx
        out = {"unset": cap_s(lambda: ctx.getWebSocketAutoResponse())}
        out["too_big_request"] = cap_s(lambda: ctx.setWebSocketAutoResponse(
            WebSocketRequestResponsePair.new("a" * 2049, "b")))
        out["too_big_response_wide"] = cap_s(lambda: ctx.setWebSocketAutoResponse(
            WebSocketRequestResponsePair.new("ping", "\u00e9" * 1025)))
        out["exact_2048"] = cap_s(lambda: ctx.setWebSocketAutoResponse(
            WebSocketRequestResponsePair.new("a" * 2048, "b")))
        ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))

        def pair():
            p = ctx.getWebSocketAutoResponse()
            return [p.request, p.response]

        out["pair"] = cap_s(pair)
        client, server = new_pair()
        ctx.acceptWebSocket(server)
        client.accept()
        got = ws_recorder(client)
        out["timestamp_before"] = cap_s(lambda: ctx.getWebSocketAutoResponseTimestamp(server))
        before = Date.now()
        client.send("ping")
        client.send("PING")
        client.send("ping ")
        await asyncio.sleep(0.05)
        out["client_received"] = got
        out["handler_saw"] = [e[1] for e in self.events]
        out["timestamp_is_date"] = cap_s(lambda: isinstance(ctx.getWebSocketAutoResponseTimestamp(server), datetime.datetime))
        out["timestamp_not_before_send"] = cap_s(
            lambda: ctx.getWebSocketAutoResponseTimestamp(server).timestamp() * 1000 >= before - 1000)
        ctx.setWebSocketAutoResponse()
        out["removed"] = cap_s(lambda: ctx.getWebSocketAutoResponse())
        out["timestamp_kept_after_removal"] = cap_s(
            lambda: isinstance(ctx.getWebSocketAutoResponseTimestamp(server), datetime.datetime))
        client.send("ping")
        await asyncio.sleep(0.05)
        out["handler_saw_after_removal"] = [e[1] for e in self.events]
        out["not_a_socket"] = cap_s(lambda: ctx.getWebSocketAutoResponseTimestamp({}))
        return out

    async def ws_event_timeouts(self):
        ctx = self.ctx

        def timeout(*v):
            def run():
                ctx.setHibernatableWebSocketEventTimeout(*v)
                return ctx.getHibernatableWebSocketEventTimeout()
            return cap_s(run)

        return {
            "unset": cap_s(lambda: ctx.getHibernatableWebSocketEventTimeout()),
            "numeric_text": timeout("250"),
            "fraction": timeout(1500.9),
            "nothing": timeout(),
            "one": timeout(1),
            "two_pow_32": timeout(4294967296),
            "two_pow_32_plus_7": timeout(4294967303),
            "nan": timeout(math.nan),
            "bool": timeout(True),
        }

    async def ws_accept_errors(self):
        ctx = self.ctx

        def after_accept():
            _, s = new_pair()
            s.accept()
            ctx.acceptWebSocket(s)

        def twice():
            _, s = new_pair()
            ctx.acceptWebSocket(s)
            ctx.acceptWebSocket(s)

        def peer_accepted():
            c, s = new_pair()
            c.accept()
            ctx.acceptWebSocket(s)

        def accept_after_hibernatable():
            _, s = new_pair()
            ctx.acceptWebSocket(s)
            s.accept()

        def accept_twice():
            _, s = new_pair()
            s.accept()
            s.accept()
            return "ok"

        def both_ends():
            c, s = new_pair()
            c.accept()
            s.accept()
            return [c.readyState, s.readyState]

        return {name: cap_s(fn) for name, fn in [
            ("after_accept", after_accept), ("twice", twice), ("peer_accepted", peer_accepted),
            ("accept_after_hibernatable", accept_after_hibernatable), ("accept_twice", accept_twice),
            ("both_ends", both_ends)]}


async def read_body(request, mode):
    """The request body read as `mode` says, or the error that gave."""
    out = {"body_is_null": request.body is None, "used_before": request.body_used}
    try:
        if mode == "reader":
            reader = request.body.getReader()
            chunks = b""
            while True:
                result = await reader.read()
                if result.done:
                    break
                chunks += result.value.to_bytes()
            out["value"] = enc(memoryview(chunks))
        elif mode == "text":
            out["value"] = await request.text()
        elif mode == "bytes":
            out["value"] = enc(memoryview(await request.bytes()))
        elif mode == "json":
            out["value"] = enc(await request.json())
        elif mode == "twice":
            out["value"] = await request.text()
            out["again"] = await request.text()
    except Exception as e:  # noqa: BLE001 - the error is the result
        out["error"] = {"type": "py:" + type(e).__name__, "message": str(e)} if isinstance(e, OSError) else err_of(e)
    out["used_after"] = request.body_used
    return out


def respond_with(kind):
    """A response of the given kind (ConfBDO's /respond)."""
    if kind == "headers":
        return Response("ok", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Y", "1"), ("x-y", "2"), ("X-A", "z")])
    if kind == "status-text":
        return Response("x", status=299, status_text="Fine")
    if kind == "teapot":
        return Response("x", status=418)
    if kind == "empty-text":
        return Response("x", status=201, status_text="")
    if kind == "redirect":
        return Response.redirect("http://do/landed", 302)
    if kind == "no-content":
        return Response(None, status=204)
    if kind == "not-modified":
        return Response(None, status=304)
    if kind == "json":
        return Response.json({"a": [1, 2]})
    return Response("unknown kind", status=400)


async def urls_seen(env, name, urls):
    """What the object saw as request.url (or the error stub.fetch raised), for each URL."""
    stub = env.CONFB.getByName(name)
    out = {}
    for k, u in urls.items():
        async def seen(u=u):
            return json.loads(await (await stub.fetch(u)).text())["url"]
        out[k] = await cap(seen)
    return out


async def ws_close_reply_standard(env):
    name = "close-reply-standard"
    resp = await env.CONFB.getByName(name).fetch("http://do/ws-standard", headers={"Upgrade": "websocket"})
    ws = resp.web_socket
    ws.accept()
    closed = asyncio.ensure_future(closed_within(ws, 1.0))
    ws.close(4000, "client bye")
    seen = await closed
    events = await env.CONFB.getByName(name).events_seen(1)
    return {"client_saw": seen, "client_state": enc(ws.readyState), "listener_events": events}


async def ws_close_codes_from_client(env):
    out = {}
    for k, args in {"none": (), "code_1000": (1000,), "code_3000_reason": (3000, "r\u00e9"), "code_4999": (4999, "")}.items():
        name = "close-codes-" + k
        _, ws = await open_socket(env, name)
        ws.close(*args)
        out[k] = await env.CONFB.getByName(name).events_seen(1)
    return out


async def http_url_paths(env):
    return await urls_seen(env, "urls", {
        "space": "http://do/a b", "unicode": "http://do/\u00e9", "encoded_kept": "http://do/%41%2f",
        "dot_dot_encoded": "http://do/a/%2e%2E/b", "dots": "http://do/a/./b/../c", "backslashes": "http://do\\a\\b",
        "double_slash": "http://do/a//b", "empty_query": "http://do/x?", "query_unicode": "http://do/x?a=\u00e9&b=%20",
        "fragment": "http://do/x#frag", "query_and_fragment": "http://do/x?q=a#f", "bad_escape": "http://do/%zz",
        "specials": "http://do/`{}|^", "query_quote": "http://do/x?q='\"<>",
    })


async def http_url_hosts(env):
    return await urls_seen(env, "hosts", {
        "upper_scheme_host": "HTTP://DO.EXAMPLE/x", "ipv4_port_80": "http://127.0.0.1:80/x", "ipv6": "http://[::1]:8080/x",
        "userinfo": "http://u:p@do/x", "trailing_dot": "http://do./x", "port_leading_zeros": "http://do:0080/x",
        "https_443_no_path": "https://do:443", "http_443": "http://do:443/x", "idna": "http://\u00e9xample.com/x",
    })


async def http_url_invalid(env):
    return await urls_seen(env, "bad-urls", {
        "relative": "do/x", "no_host": "http://", "port_too_big": "http://do:99999/", "space_in_host": "http://a b/",
        "empty": "",
    })


async def http_methods(env):
    stub = env.CONFB.getByName("methods")
    out = {}
    for m in ["post", "patch", "Delete", "put", "options", "FOO", "get", "head"]:
        async def seen(m=m):
            r = await stub.fetch("http://do/m", method=m)
            t = await r.text()
            return json.loads(t)["method"] if t else [r.status, t]
        out[m] = await cap(seen)
    out["get_with_body"] = await cap(lambda: stub.fetch("http://do/m", method="GET", body="x"))
    return out


async def http_request_headers(env):
    r = await env.CONFB.getByName("headers").fetch("http://do/headers", method="POST", body="b", headers=[
        ("X-B", "1"), ("x-a", "2"), ("X-A", "3"), ("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("Content-Type", "text/plain")])
    return {"pairs": json.loads(await r.text())}


async def http_request_misc(env):
    stub = env.CONFB.getByName("misc")

    async def seen(**init):
        return json.loads(await (await stub.fetch("http://do/misc?x=1", **init)).text())

    return {
        "get": await seen(),
        "manual": await seen(redirect="manual"),
        "cf_given": await seen(cf={"colo": "AMS"}),
        "delete_empty_body": await seen(method="DELETE", body=""),
    }


async def http_response_headers(env):
    r = await env.CONFB.getByName("respond").fetch("http://do/respond?kind=headers")
    return {
        "pairs": [[k, v] for k, v in r.headers.items()],
        "get_set_cookie": r.headers.get("set-cookie"),
        "get_x_y": r.headers.get("X-Y"),
        "has_x_a": r.headers.has("x-a"),
        "missing": r.headers.get("nope"),
    }


async def http_status_text(env):
    stub = env.CONFB.getByName("respond")
    out = {}
    for kind in ["status-text", "teapot", "empty-text", "json"]:
        r = await stub.fetch("http://do/respond?kind=" + kind)
        out[kind] = [enc(r.status), r.status_text, await r.text()]

    def made(text):
        return cap_s(lambda: Response(None, status=200, status_text=text).status_text)

    out["constructed_default"] = Response(None).status_text
    out["constructed_newline"] = made("a\nb")
    out["constructed_latin1"] = made("\u00e9t\u00e9")
    out["constructed_euro"] = made("\u20ac")
    return out


async def http_redirects(env):
    r = await env.CONFB.getByName("respond").fetch("http://do/respond?kind=redirect")
    out = {"followed": [enc(r.status), r.redirected, r.url, r.headers.get("location"), await r.text()]}
    manual = await env.CONFB.getByName("respond").fetch("http://do/respond?kind=redirect", redirect="manual")
    out["manual"] = [enc(manual.status), manual.redirected, manual.headers.get("location")]

    def made(url, status):
        def run():
            x = Response.redirect(url, status)
            return [x.status, x.headers.get("location")]
        return cap_s(run)

    out["made_301"] = made("http://do/a b", 301)
    out["made_300"] = made("http://do/", 300)
    out["made_relative"] = made("/x", 302)
    return out


async def http_null_bodies(env):
    stub = env.CONFB.getByName("respond")
    out = {}
    for kind in ["no-content", "not-modified"]:
        r = await stub.fetch("http://do/respond?kind=" + kind)
        out[kind] = [enc(r.status), r.body is None, await r.text()]
    return out


async def http_request_body(env):
    stub = env.CONFB.getByName("body")

    async def post(mode, body):
        return json.loads(await (await stub.fetch("http://do/body?mode=" + mode, method="POST", body=body)).text())

    return {
        "reader": await post("reader", "h\u00e9llo"),
        "text": await post("text", "h\u00e9llo"),
        "bytes": await post("bytes", "h\u00e9llo"),
        "json": await post("json", '{"a": [1, 2.5, null]}'),
        "twice": await post("twice", "x"),
        "get_has_no_body": json.loads(await (await stub.fetch("http://do/body?mode=none")).text()),
        "empty_post": await post("text", ""),
    }


async def http_response_body_twice(env):
    stub = env.CONFB.getByName("respond")
    r = await stub.fetch("http://do/respond?kind=json")
    out = {"first": await cap(lambda: r.json(), err_user), "used": r.body_used}
    out["second"] = await cap(lambda: r.text(), err_user)
    r2 = await stub.fetch("http://do/respond?kind=status-text")
    c = r2.clone()
    out["clone_both"] = [await r2.text(), await c.text()]
    out["clone_after_read"] = await cap(lambda: r2.clone(), err_user)
    return out


async def overload_burst(env):
    stub = env.CONFB.getByName("burst")
    results = await asyncio.gather(*(stub.tick() for _ in range(1100)), return_exceptions=True)
    errors = {}
    for r in results:
        if isinstance(r, BaseException):
            errors[str(r)] = errors.get(str(r), 0) + 1
    return {"ok": enc(sum(1 for r in results if not isinstance(r, BaseException))), "errors": enc(errors)}


async def ws_client(env):
    from js import WebSocket

    out = {}
    for k, args in {"ftp": ("ftp://x/",), "https": ("https://x/",), "relative": ("/rel",), "fragment": ("ws://x/#f",),
                    "dup_protocols": ("ws://x/", ["a", "a"]), "bad_protocol": ("ws://x/", "a b")}.items():
        out[k] = cap_s(lambda args=args: WebSocket.new(*args).url)
    ws = WebSocket.new("ws://127.0.0.1:1/x?y")
    out["initial"] = [enc(ws.readyState), ws.url, ws.protocol, ws.extensions, ws.binaryType]
    out["send_connecting"] = cap_s(lambda: ws.send("x"), err_user)
    events = []
    for k in ["open", "error", "close", "message"]:
        ws.addEventListener(k, lambda e, k=k: events.append([k, enc(e.code), e.reason, e.wasClean] if k == "close" else [k]))
    for _ in range(100):
        if any(e[0] == "close" for e in events):
            break
        await asyncio.sleep(0.02)
    out["events"] = events
    out["state_after"] = enc(ws.readyState)
    out["close_after"] = cap_s(lambda: (ws.close(), "ok")[1])
    return out


async def ws_message_size(env):
    out = {}
    for size in [1048577, 33554432, 33554433]:
        _, ws = await open_socket(env, f"size-{size}")
        ev = []
        ws.addEventListener("message", lambda e, ev=ev: ev.append(e.data))
        ws.addEventListener("close", lambda e, ev=ev: ev.append(["close", enc(e.code), e.reason, e.wasClean]))
        ws.send(bytes(size))
        for _ in range(100):
            if ev:
                break
            await asyncio.sleep(0.02)
        out[str(size)] = {"events": ev, "state": enc(ws.readyState)}
    return out


async def ws_close_handler_order(env):
    name = "close-order"
    _, ws = await open_socket(env, name)
    ws.send("a")
    ws.close(1000, "done")
    late = cap_s(lambda: ws.send("b"), err_user)
    return {"late_send": late, "client_state": enc(ws.readyState),
            "handler_events": await env.CONFB.getByName(name).events_seen(2)}


def summarize_hibernation(holder_rand, before, after) -> dict:
    b, a = json.loads(before), json.loads(after)
    return {"target_constructor_ran_again": a["rand"] != b["rand"], "attachment_kept": a["attachment"] == b["attachment"],
            "attachment_from_first_instance": a["attachment"]["rand"] == b["rand"], "tags_after": a["tags"],
            "sockets_after": a["sockets"], "holder_alive": bool(holder_rand)}


HIBERNATION_WAIT_S = 12.5  # workerd hibernates an idle object 10 s after its last event (2.5 s margin for a loaded machine)


def js_hibernation(client):
    holder = client.get_json("/confb/hib-holder/hold_hib")
    before = client.get_json("/confb/hib-holder/ask_who")
    time.sleep(HIBERNATION_WAIT_S)  # real time, on workerd only (in a background thread)
    return summarize_hibernation(holder, before, client.get_json("/confb/hib-holder/ask_who"))


async def py_hibernation(rt):
    stub = rt.env.CONFB.getByName("hib-holder")
    holder = await stub.hold_hib()
    before = await stub.ask_who()
    await rt.advance(HIBERNATION_WAIT_S)
    return summarize_hibernation(holder, before, await stub.ask_who())


PENDING_WAIT_S = 12.5  # workerd evicts an idle object 10 s after its last request (the timers run 15 s)


def summarize_pending(first_rand, report) -> dict:
    return {"same_instance": report["rand"] == first_rand, "timer_ran": report["done"]}


def js_pending(start):
    """JS driver: start the pending work (`start` names the method), wait in real time, report."""
    def driver(client):
        first = client.get_json(f"/confb/pending-{start}/{start}")
        time.sleep(PENDING_WAIT_S)  # real time, on workerd only (in a background thread)
        return summarize_pending(first, client.get_json(f"/confb/pending-{start}/pending_report"))
    return driver


def py_pending(start):
    async def driver(rt):
        stub = rt.env.CONFB.getByName(f"pending-{start}")
        first = await getattr(stub, start)()
        await rt.advance(PENDING_WAIT_S)
        return summarize_pending(first, await stub.pending_report())
    return driver


async def open_socket(env, name):
    """A socket to ConfBDO `name` through its fetch handler (a hibernatable server end there)."""
    resp = await env.CONFB.getByName(name).fetch("http://do/ws", headers={"Upgrade": "websocket"})
    ws = resp.web_socket
    ws.accept()
    return resp.status, ws


async def ws_close_reply(env):
    name = "close-reply"
    status, ws = await open_socket(env, name)
    closed = asyncio.ensure_future(closed_within(ws, 1.0))
    ws.close(4000, "client bye")
    seen = await closed
    events = await env.CONFB.getByName(name).events_seen(1)
    return {"status": enc(status), "client_saw": seen, "client_state": enc(ws.readyState),
            "handler_events": events}


async def ws_upgrade_messages(env):
    name = "upgrade-messages"
    status, ws = await open_socket(env, name)
    got = ws_recorder(ws)
    ws.send("hello")
    ws.send(bytes([7, 8]))
    ws.send("close-me")
    await asyncio.sleep(0.1)
    events = await env.CONFB.getByName(name).events_seen(3)
    return {"status": enc(status), "client_got": got, "client_state": enc(ws.readyState),
            "handler_events": events}


def B(name, obj, method, **kw) -> Scenario:
    """A scenario that is one method of ConfBDO on the object `obj` (worker.js: /confb/<obj>/<method>)."""
    async def driver(env):
        return await getattr(env.CONFB.getByName(obj), method)()
    return Scenario(name, driver, js=lambda client: client.get_json(f"/confb/{obj}/{method}"), **kw)


def at_date(sc: Scenario, date: str) -> Scenario:
    """`sc` run at compatibility date `date` on both sides, named `<name>@<date>`."""
    js = sc.js if sc.js is not None else (lambda client, name=sc.name: client.get_json("/sc/" + name))
    return Scenario(f"{sc.name}@{date}", sc.py, host=sc.host, js=js, slow=sc.slow,
                    expected_diff=sc.expected_diff, date=date, options=sc.options)


SCENARIOS += [
    # the compatibility-date matrix: each side of each date where a behaviour flips
    at_date(B("delete_all_alarm", "da-alarm", "delete_all_alarm"), "2026-02-23"),  # the alarm stays
    at_date(B("delete_all_alarm", "da-alarm", "delete_all_alarm"), "2026-02-24"),  # deleted with the data
    S("ws_close_reply", ws_close_reply),
    at_date(S("ws_close_reply", ws_close_reply), "2026-04-06"),
    at_date(S("ws_close_reply", ws_close_reply), "2026-04-07"),
    # WebSockets
    S("ws_upgrade_messages", ws_upgrade_messages),
    B("ws_tag_counts", "ws-tags", "ws_tag_counts"),
    B("ws_get_websockets", "ws-get", "ws_get_websockets"),
    B("ws_send_values", "ws-send", "ws_send_values"),
    B("ws_after_close", "ws-after-close", "ws_after_close"),
    B("ws_binary_type", "ws-binary-type", "ws_binary_type"),
    at_date(B("ws_binary_type", "ws-binary-type", "ws_binary_type"), "2026-03-16"),
    at_date(B("ws_binary_type", "ws-binary-type", "ws_binary_type"), "2026-03-17"),
    B("ws_close_without_code", "ws-close-nocode", "ws_close_without_code"),
    B("ws_attachments", "ws-attach", "ws_attachments"),
    B("ws_auto_response", "ws-auto", "ws_auto_response"),
    B("ws_event_timeouts", "ws-timeouts", "ws_event_timeouts"),
    B("ws_accept_errors", "ws-accept-errors", "ws_accept_errors"),
    S("ws_close_reply_standard", ws_close_reply_standard),
    at_date(S("ws_close_reply_standard", ws_close_reply_standard), "2026-04-06"),
    at_date(S("ws_close_reply_standard", ws_close_reply_standard), "2026-04-07"),
    S("ws_close_codes_from_client", ws_close_codes_from_client),
    S("ws_client", ws_client),
    S("ws_close_handler_order", ws_close_handler_order),
    S("ws_message_size", ws_message_size, expected_diff="ws-message-size"),
    Scenario("ws_hibernation_wakes", py_hibernation, host=True, slow=True, js=js_hibernation),
    # HTTP
    S("http_url_paths", http_url_paths),
    S("http_url_hosts", http_url_hosts),
    S("http_url_invalid", http_url_invalid),
    S("http_methods", http_methods),
    S("http_request_headers", http_request_headers),
    S("http_response_headers", http_response_headers),
    S("http_status_text", http_status_text),
    S("http_redirects", http_redirects),
    S("http_null_bodies", http_null_bodies),
    S("http_request_body", http_request_body),
    S("http_response_body_twice", http_response_body_twice),
    # overload: workerd has no queue limit; the emulator's model (max_queued_requests) is set off
    S("overload_burst", overload_burst, options={"max_queued_requests": None}),
    # lifecycle: a pending timer and eviction, each side of 2026-10-01 (real waits on workerd)
    at_date(Scenario("pending_io_keeps_alive", py_pending("start_pending_15s"), host=True, slow=True,
                     js=js_pending("start_pending_15s"), expected_diff="pending-io-before-2026-10-01"), "2026-09-30"),
    at_date(Scenario("pending_io_keeps_alive", py_pending("start_pending_15s"), host=True, slow=True,
                     js=js_pending("start_pending_15s")), "2026-10-01"),
    at_date(Scenario("wait_until_keeps_alive", py_pending("start_wait_until_15s"), host=True, slow=True,
                     js=js_pending("start_wait_until_15s"), expected_diff="pending-io-before-2026-10-01"),
            "2026-09-30"),
    at_date(Scenario("wait_until_keeps_alive", py_pending("start_wait_until_15s"), host=True, slow=True,
                     js=js_pending("start_wait_until_15s")), "2026-10-01"),
    S("http_request_misc", http_request_misc),
]
# ---- end section: conf-b ----

# ---- section: conf-a ----
# Worker-level twins of worker.js's CONF_A_SCENARIOS, and the conf-a scenario list.


async def st_bcw_non_function_no_reset(env):
    stub = env.TEST.getByName("st-bcw-uncaught")
    await stub.put_value("survives", 1)
    before = await stub.rand_of()
    return {
        "number": await cap(lambda: stub.st_bcw_uncaught(5), err_flags),
        "text": await cap(lambda: stub.st_bcw_uncaught("f"), err_flags),
        "same_instance": (await stub.rand_of()) == before,
        "stored": await stub.get_value("survives"),
    }


async def st_bcw_caught_throw(env):
    stub = env.TEST.getByName("st-bcw-caught")
    before = await stub.rand_of()
    res = await cap(stub.st_bcw_caught, err_flags)
    after = await env.TEST.getByName("st-bcw-caught").rand_of()
    return {"result": res, "constructor_ran_again": before != after}


async def val_shared_refs_rpc(env):
    r = await env.TEST.getByName("val-shared-rpc").rpc_shared()
    return {"lists_same": r["a"] is r["b"], "sets_same": r["s1"] is r["s2"], "value": enc(r)}


async def rpc_values(env):
    stub = env.TEST.getByName("rpc-values")
    r = await stub.rpc_echo(3.0, -0.0, math.nan, math.inf, 2**60, b"\x01\x02", datetime.datetime(2020, 1, 1),
                            {"a": 1.0, "n": None}, [None, 2.0], {1.0}, 1.5, "s", True)
    return {"seen": r["seen"], "back": enc(r["back"])}


async def rpc_keyword_arguments(env):
    stub = env.TEST.getByName("rpc-kwargs")

    async def seen(call):
        return (await call)["seen"]

    return {
        "positional_and_keywords": await seen(stub.rpc_echo(1, x=2, y=None)),
        "keywords_only": await seen(stub.rpc_echo(x=1)),
        "nothing": await seen(stub.rpc_echo()),
        "none_argument": await seen(stub.rpc_echo(None)),
    }


async def rpc_function_argument(env):
    stub = env.TEST.getByName("rpc-fn-arg")
    count = [0]

    async def plus_one(n):
        await asyncio.sleep(0.001)
        return n + 1

    def bump(_):
        count[0] += 1
        return count[0]

    r = {
        "sync_fn": await cap(lambda: stub.rpc_call_back(lambda n: n * 2, 21)),
        "async_fn": await cap(lambda: stub.rpc_call_back(plus_one, 1)),
        "text_fn": await cap(lambda: stub.rpc_call_twice(lambda s: s + "!", "a")),
        "closure_state": await cap(lambda: stub.rpc_call_twice(bump, None)),
    }
    r["count_after"] = count[0]
    r["fraction_result"] = await cap(lambda: stub.rpc_call_back(lambda n: n + 0.5, 1))
    return r


async def rpc_function_result(env):
    stub = env.TEST.getByName("rpc-fn-result")
    inc = await stub.rpc_make_counter(10)
    tools = await stub.rpc_make_tools(100)

    async def other_counter():
        return await (await stub.rpc_make_counter(0))(7)

    return {
        "first": await cap(lambda: inc(1)),
        "second": await cap(lambda: inc(5)),
        "label": tools["label"],
        "tools_inc": await cap(lambda: tools["inc"](2)),
        "tools_get": await cap(lambda: tools["get"]()),
        "other_counter": await cap(other_counter),
    }


async def rpc_stub_argument(env):
    stub = env.TEST.getByName("rpc-stub-arg")

    async def id_seen():
        return (await stub.rpc_echo(env.TEST.idFromName("x")))["seen"]

    return {
        "stub_as_argument": await cap(lambda: stub.rpc_call_stub(env.OTHER.getByName("peer"))),
        "id_as_argument": await cap(id_seen),
    }


async def rpc_reserved_and_private(env):
    stub = env.TEST.getByName("rpc-reserved")

    async def works_after():
        return type(await stub.rand_of()).__name__.replace("str", "string")

    return {
        "web_socket_close": await cap(lambda: stub.webSocketClose(None, 1000, "", True)),
        "web_socket_error": await cap(lambda: stub.webSocketError(None, None)),
        "private_method": await cap(lambda: stub._rpc_private()),
        "works_after": await cap(works_after),
    }


async def rpc_python_entrypoint(env):
    stub = env.TEST.getByName("rpc-entrypoint")
    return {
        "missing": await cap(lambda: stub.no_such_method(), err_flags),
        "attribute_not_callable": await cap(lambda: stub.field(), err_flags),
        "static_method": await cap(lambda: stub.rpc_static()),
        "works_after": await cap(lambda: stub.rpc_static()),
    }


async def rpc_function_after_call(env):
    stub = env.TEST.getByName("rpc-fn-after")
    kept = await stub.rpc_keep_fn(lambda n: n + 1)
    return {"kept": kept, "call_after": await cap(lambda: stub.rpc_call_kept(1), err_flags)}


async def rpc_size_limit(env):
    stub = env.TEST.getByName("rpc-size")
    mib = 1024 * 1024

    async def length_of(call):
        return len(await call)

    return {
        "arg_under": await cap(lambda: stub.rpc_length("x" * (32 * mib - 64))),
        "arg_over": await cap(lambda: stub.rpc_length("x" * (32 * mib + 1)), err_flags),
        "result_under": await cap(lambda: length_of(stub.rpc_big(32 * mib - 64))),
        "result_over": await cap(lambda: length_of(stub.rpc_big(32 * mib + 1)), err_flags),
    }


async def rpc_stub_result(env):
    stub = env.TEST.getByName("rpc-stub-result")
    r = await stub.rpc_peer_stub()

    async def in_dict():
        return len((await stub.rpc_echo({"s": env.OTHER.getByName("p2")}))["seen"])

    return {
        "label": r["label"],
        "call_returned_stub": await cap(lambda: r["peer"].ping()),
        "stub_in_argument_dict": await cap(in_dict),
    }


async def rpc_error_values(env):
    stub = env.TEST.getByName("rpc-error-values")
    r = await stub.rpc_errors_as_values()
    seen = await stub.rpc_echo(Exception("as argument"))
    return {"result": enc(r), "seen": seen["seen"]}


async def id_new_unique_arguments(env):
    def U(o):
        return cap_s(lambda: lower_hex64(env.TEST.newUniqueId(o).toString()))

    return {
        "none": U(None),
        "text": U("eu"),
        "bool": U(True),
        "list": U([]),
        "jurisdiction_fedramp": U({"jurisdiction": "fedramp"}),
        "jurisdiction_empty": U({"jurisdiction": ""}),
        "unknown_option": U({"other": 1}),
        "namespace_jurisdiction": cap_s(lambda: "object" if env.TEST.jurisdiction("eu") is not None else None),
    }


async def id_odd_names(env):
    def hex_(n):
        return cap_s(lambda: env.TEST.idFromName(n).toString())

    def same(a, b):
        return cap_s(lambda: env.TEST.idFromName(a).toString() == env.TEST.idFromName(b).toString())

    return {
        "none_is_undefined": same(None, "undefined"),
        "none_name": cap_s(lambda: env.TEST.idFromName(None).name),
        "bool": same(True, "true"),
        "float_1_5": same(1.5, "1.5"),
        "whole_float": same(2.0, "2"),
        "neg_zero": same(-0.0, "0"),
        "bigint": same(2**64, "18446744073709551616"),
        "nul_char": hex_("a\0b"),
        "space": hex_(" "),
        "emoji_name": cap_s(lambda: env.TEST.idFromName("\U0001F600").name),
    }


async def id_from_string_odd(env):
    s = env.TEST.idFromName("foo").toString()

    def parse(v):
        return cap_s(lambda: env.TEST.idFromString(v).toString())

    return {
        "none": parse(None),
        "bool": parse(True),
        "mixed_case": parse(s[:32].upper() + s[32:]),
        "trailing_newline": parse(s + "\n"),
        "fullwidth_digits": parse("\uff10" * 64),
        "name_of_parsed": cap_s(lambda: env.TEST.idFromString(s).name),
    }


async def id_get_across(env):
    other = env.OTHER.idFromName("x")
    mine = env.TEST.idFromName("x")

    async def call_other():
        return (await env.TEST.get(other).who())["id"] == other.toString()

    return {
        "get_other_namespace": cap_s(lambda: env.TEST.get(other).id.toString() == other.toString()),
        "call_other_namespace": await cap(call_other),
        "get_string": cap_s(lambda: env.TEST.get(mine.toString()).id.toString()),
        "get_none": cap_s(lambda: env.TEST.get(None).id.toString()),
        "get_location_hint": cap_s(lambda: env.TEST.get(mine, {"locationHint": "enam"}).id.equals(mine)),
        "get_bad_hint": cap_s(lambda: env.TEST.get(mine, {"locationHint": "mars"}).id.equals(mine)),
        "get_options_number": cap_s(lambda: env.TEST.get(mine, 5).id.equals(mine)),
        "get_by_name_none": cap_s(lambda: env.TEST.getByName(None).name),
        "get_by_name_number": cap_s(lambda: env.TEST.getByName(5).name),
    }


async def id_equals_and_text(env):
    id_ = env.TEST.idFromName("x")
    return {
        "str_is_hex": str(id_) == id_.toString(),
        "equals_from_string": cap_s(lambda: id_.equals(env.TEST.idFromString(id_.toString()))),
        "equals_stub_id": cap_s(lambda: id_.equals(env.TEST.get(id_).id)),
        "stub_id_equals": cap_s(lambda: env.TEST.get(id_).id.equals(id_)),
        "equals_number": cap_s(lambda: id_.equals(5)),
        "equals_nothing": cap_s(lambda: id_.equals()),
        "equals_stub": cap_s(lambda: id_.equals(env.TEST.get(id_))),
        "stub_name_from_string": cap_s(lambda: env.TEST.get(env.TEST.idFromString(id_.toString())).name),
        "stub_name_from_name": cap_s(lambda: env.TEST.get(id_).name),
    }


def js_alarm_runs(name, fail, delay_ms, mode, attempts, settle_s, timeout_s=20.0):
    """JS driver of an alarm run that may end with an alarm still set: poll until `attempts` ran
    (bounded), then wait `settle_s` for a further (wrong) attempt."""

    def driver(client):
        setup = client.get_json(_alarm_path("setup", name, fail=fail, delay=delay_ms, mode=mode))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if len(client.get_json(_alarm_path("report", name))["log"]) >= attempts:
                break
        time.sleep(settle_s)
        return summarize_alarm(setup, client.get_json(_alarm_path("report", name)), REAL_TIME_SLACK)

    return driver


def alarm_runs(name, obj, fail, delay_ms, mode, *, advance_s, attempts, settle_s) -> Scenario:
    return Scenario(name, py_alarm(obj, fail, delay_ms, mode, advance_s), host=True, slow=True,
                    js=js_alarm_runs(obj, fail, delay_ms, mode, attempts=attempts, settle_s=settle_s))


SCENARIOS += [
    # storage API: WebIDL coercion and validation of arguments; storage unchanged after a failure
    R("st_list_limit_coercion", "st-list-limit", "st_list_limit_coercion"),
    R("st_list_range_combos", "st-list-range", "st_list_range_combos"),
    R("st_list_option_types", "st-list-options", "st_list_option_types"),
    R("st_options_not_objects", "st-options", "st_options_not_objects"),
    R("st_key_types", "st-key-types", "st_key_types"),
    R("st_many_keys_duplicates", "st-many-keys", "st_many_keys_duplicates"),
    R("st_callback_types", "st-callbacks", "st_callback_types"),
    S("st_bcw_non_function_no_reset", st_bcw_non_function_no_reset),
    S("st_bcw_caught_throw", st_bcw_caught_throw),
    R("st_callback_results", "st-callback-results", "st_callback_results"),
    R("st_txn_nested_rollback", "st-txn-nested", "st_txn_nested_rollback"),
    R("st_txn_sync_in_async", "st-txn-sync-async", "st_txn_sync_in_async"),
    R("st_put_failed_unchanged", "st-put-failed", "st_put_failed_unchanged"),
    R("st_sync_kv_edges", "st-sync-kv", "st_sync_kv_edges"),
    R("st_alarm_replace", "st-alarm-replace", "st_alarm_replace"),
    R("st_txn_alarm_rollback", "st-txn-alarm", "st_txn_alarm_rollback"),
    # values as a Python Worker sees them
    R("val_whole_floats", "val-floats", "val_whole_floats"),
    R("val_big_ints", "val-ints", "val_big_ints"),
    R("val_bytes_views", "val-bytes", "val_bytes_views"),
    R("val_datetimes", "val-dates", "val_datetimes"),
    R("val_none_nested", "val-none", "val_none_nested"),
    R("val_errors", "val-errors", "val_errors"),
    R("val_dict_keys", "val-keys", "val_dict_keys"),
    R("val_list_get_paths", "val-paths", "val_list_get_paths"),
    R("val_shared_refs", "val-shared", "val_shared_refs"),
    S("val_shared_refs_rpc", val_shared_refs_rpc),
    # ids
    S("id_odd_names", id_odd_names),
    S("id_from_string_odd", id_from_string_odd),
    S("id_get_across", id_get_across),
    S("id_equals_and_text", id_equals_and_text),
    # RPC
    S("rpc_values", rpc_values),
    S("rpc_keyword_arguments", rpc_keyword_arguments),
    S("rpc_function_argument", rpc_function_argument),
    S("rpc_function_result", rpc_function_result),
    S("rpc_stub_argument", rpc_stub_argument),
    S("rpc_reserved_and_private", rpc_reserved_and_private),
    # alarms
    R("alm_time_bounds", "alm-bounds", "alm_time_bounds"),
    R("alm_datetime_forms", "alm-datetimes", "alm_datetime_forms"),
    S("rpc_python_entrypoint", rpc_python_entrypoint, expected_diff="python-entrypoint-rpc"),
    S("rpc_function_after_call", rpc_function_after_call),
    S("rpc_size_limit", rpc_size_limit),
    S("rpc_stub_result", rpc_stub_result),
    S("rpc_error_values", rpc_error_values),
    S("id_new_unique_arguments", id_new_unique_arguments),
    alarm_runs("alm_delete_then_fail", "alm-delete-fail", 1, 50, "delete_then_fail",
               advance_s=10, attempts=1, settle_s=3.0),
    alarm_runs("alm_set_then_fail", "alm-set-fail", 1, 50, "set_then_fail", advance_s=10, attempts=1, settle_s=3.0),
]
# ---- end section: conf-a ----


# ---- section: perf-caller ----
async def call_reply_order(env):
    stub = env.CONFB.getByName("reply-order")
    await stub.tick()  # the object exists before the calls race
    send = {
        "fetch": lambda: stub.fetch("http://do/respond?kind=teapot"),
        "manual": lambda: stub.fetch("http://do/respond?kind=teapot", redirect="manual"),
        "rpc": lambda: stub.tick(),
        "redirected": lambda: stub.fetch("http://do/respond?kind=redirect"),
    }

    async def settle(name, call, order):
        await call
        order.append(name)

    out = {}
    for calls in [["fetch", "rpc"], ["rpc", "fetch"], ["manual", "fetch"], ["fetch", "manual"],
                  ["fetch", "rpc", "manual"], ["redirected", "rpc"], ["rpc", "redirected", "fetch"]]:
        order = []
        sent = [(name, send[name]()) for name in calls]  # all sent before any is awaited, as in JS
        await asyncio.gather(*(settle(name, call, order) for name, call in sent))
        out[",".join(calls)] = order
    return out


async def call_error_order(env):
    stub = env.TEST.getByName("error-order")
    await stub.who()
    send = {
        "fetch": lambda: stub.fetch("http://do/echo-url"),
        "fetch_error": lambda: stub.fetch("http://do/not-a-response"),
        "manual_error": lambda: stub.fetch("http://do/not-a-response", redirect="manual"),
        "rpc": lambda: stub.who(),
        "rpc_error": lambda: stub.throw_error(),
    }

    async def settle(name, call, order):
        try:
            await call
        except Exception:  # noqa: BLE001 - only the order is compared
            pass
        order.append(name)

    out = {}
    for calls in [["fetch_error", "rpc"], ["fetch_error", "fetch"], ["fetch", "fetch_error"],
                  ["manual_error", "fetch"], ["fetch_error", "manual_error"], ["fetch", "rpc_error"],
                  ["rpc_error", "fetch_error"]]:
        order = []
        sent = [(name, send[name]()) for name in calls]
        await asyncio.gather(*(settle(name, call, order) for name, call in sent))
        out[",".join(calls)] = order
    return out


SCENARIOS += [
    S("call_reply_order", call_reply_order),
    S("call_error_order", call_error_order),
]
# ---- end section: perf-caller ----
