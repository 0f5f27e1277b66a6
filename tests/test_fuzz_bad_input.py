"""Generated bad calls, answered like the platform (property-based, with hypothesis).

Each example is a list of calls with odd arguments (wrong types, huge and tiny numbers, odd
strings, nested containers) across the storage API, alarms, SQL, ids, the Hibernation API and
Workers KV, made inside one object. For every call that fails:

* the error is one the platform raises on purpose (raised by a `raise` of the emulator, of a
  platform type), never an accident of its insides (an AttributeError, a TypeError from
  comparing a str with an int, a RecursionError...);
* the object's storage (keys, alarm, SQL schema and rows) is what it was before the call;
* the object was not reset.

After each example the world still works: the same object answers an RPC call and a write
reads back. The run is derandomized (the same calls every time) and prints how many calls it
made and how many broke a rule: `make fuzz` (over 10,000 calls), or a quick sample in `make test`.
"""

from __future__ import annotations

import datetime
import functools
import linecache
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from durable_dojo import Runtime
from durable_dojo.testing import run_in_durable_object
from js import WebSocketPair
from workers import DurableObject

pytestmark = pytest.mark.fuzz

#: `make test` runs a quick sample; `make fuzz` runs 230 lists of 40-50 calls: over 10,000 calls.
EXAMPLES = int(os.environ.get("DOJO_FUZZ_EXAMPLES", "25"))
FULL_RUN = 230
PLATFORM_TYPES = ("TypeError", "RangeError", "JsError", "DataCloneError", "JsException", "SyntaxError")
SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Target(DurableObject):
    alarms_run = 0  # an alarm may fire while a batch awaits: its deletion is not the call's doing

    async def alarm(self, info=None):
        Target.alarms_run += 1

    async def ping(self):
        return "pong"


# ----- what a careless (or hostile) caller passes -----

odd_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "\0", "\ud800", "_cf_KV", "x" * 3000, "../..", "SELECT", "😀", "\uffff", "eu"]),
)
class Huge(int):
    """An integer of 5,001 digits (its repr stays short: Python refuses to print it)."""

    def __repr__(self) -> str:
        return "10**5000"


odd_number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1e19, -1e19, Huge(10**5000), 2**63, 2**53 + 1, 604_800_001, 0.5]),
    st.floats(allow_nan=True, allow_infinity=True),
)
odd_scalar = st.one_of(
    st.none(), st.booleans(), odd_number, odd_text, st.binary(max_size=8),
    st.datetimes(min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime.max),
    st.sampled_from([object(), print, functools.partial(print), (1, 2), {1, 2}, bytearray(b"x"), Ellipsis, type]),
)
odd_value = st.recursive(
    odd_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.one_of(odd_text, odd_number), inner, max_size=4)),
    max_leaves=8,
)
list_options = st.one_of(
    odd_value,
    st.dictionaries(st.sampled_from(["start", "startAfter", "end", "prefix", "reverse", "limit", "noCache"]),
                    odd_value, max_size=4),
)


def nested(depth: int):
    value = current = []
    for _ in range(depth):
        current.append([])
        current = current[0]
    return value


sql_text = st.one_of(
    odd_text,
    st.sampled_from([
        "SELECT ?", "SELECT * FROM t WHERE x = ?", "INSERT INTO t VALUES (?)", "BEGIN", "SAVEPOINT a",
        "SELECT * FROM _cf_KV", "ALTER TABLE t RENAME TO _cf_x", "ALTER TABLE t RENAME TO \"_CF_y\"",
        "DROP TABLE t", "PRAGMA user_version = 3", "ATTACH 'x' AS y", "SELECT 1; SELECT 2", ";", "-- c",
        "SELECT sqlite_version()", "CREATE TABLE _cf_z(x)", "SELECT 1\0 garbage",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 3000) SELECT count(*) FROM c",
    ]),
)

# (area, call) where call(obj, ctx, args) makes one call; each strategy gives its arguments.
CALLS = {
    "storage.get": (st.tuples(st.one_of(odd_value, st.lists(odd_value, max_size=5))),
                    lambda o, c, a: c.storage.get(*a)),
    "storage.put": (st.tuples(odd_value, odd_value), lambda o, c, a: c.storage.put(*a)),
    "storage.put(entries)": (st.tuples(odd_value), lambda o, c, a: c.storage.put(*a)),
    "storage.delete": (st.tuples(st.one_of(odd_value, st.lists(odd_value, max_size=5))),
                       lambda o, c, a: c.storage.delete(*a)),
    "storage.list": (st.tuples(list_options), lambda o, c, a: c.storage.list(*a)),
    "storage.kv.get": (st.tuples(odd_value), lambda o, c, a: c.storage.kv.get(*a)),
    "storage.kv.put": (st.tuples(odd_value, odd_value), lambda o, c, a: c.storage.kv.put(*a)),
    "storage.kv.list": (st.tuples(list_options), lambda o, c, a: list(c.storage.kv.list(*a))),
    "storage.transactionSync": (st.tuples(odd_value), lambda o, c, a: c.storage.transactionSync(*a)),
    "alarm.setAlarm": (st.tuples(odd_value), lambda o, c, a: c.storage.setAlarm(*a)),
    "alarm.getAlarm": (st.tuples(odd_value), lambda o, c, a: c.storage.getAlarm(*a)),
    "sql.exec": (st.tuples(sql_text, st.lists(odd_value, max_size=3)),
                 lambda o, c, a: c.storage.sql.exec(a[0], *a[1]).toArray()),
    "sql.one": (st.tuples(sql_text), lambda o, c, a: c.storage.sql.exec(a[0]).one()),
    "ids.idFromName": (st.tuples(odd_value), lambda o, c, a: o.env.T.idFromName(*a)),
    "ids.idFromString": (st.tuples(odd_value), lambda o, c, a: o.env.T.idFromString(*a)),
    "ids.newUniqueId": (st.tuples(odd_value), lambda o, c, a: o.env.T.newUniqueId(*a)),
    "ids.get": (st.tuples(odd_value), lambda o, c, a: o.env.T.get(*a)),
    "ids.jurisdiction": (st.tuples(odd_value), lambda o, c, a: o.env.T.jurisdiction(*a)),
    "ws.acceptWebSocket": (st.tuples(st.one_of(st.just("pair"), odd_value), odd_value),
                           lambda o, c, a: c.acceptWebSocket(server_end() if a[0] == "pair" else a[0], a[1])),
    "ws.getTags": (st.tuples(odd_value), lambda o, c, a: c.getTags(*a)),
    "ws.getWebSockets": (st.tuples(odd_value), lambda o, c, a: c.getWebSockets(*a)),
    "ws.setHibernatableWebSocketEventTimeout": (st.tuples(odd_value),
                                                lambda o, c, a: c.setHibernatableWebSocketEventTimeout(*a)),
    "ws.setWebSocketAutoResponse": (st.tuples(odd_value), lambda o, c, a: c.setWebSocketAutoResponse(*a)),
    "ws.close": (st.tuples(odd_value, odd_value), lambda o, c, a: accepted_end(c).close(*a)),
    "ws.send": (st.tuples(odd_value), lambda o, c, a: accepted_end(c).send(*a)),
    "ws.serializeAttachment": (st.tuples(odd_value), lambda o, c, a: accepted_end(c).serializeAttachment(*a)),
    "kv.put": (st.tuples(odd_value, odd_value, odd_value), lambda o, c, a: o.env.KV.put(*a)),
    "kv.put(metadata)": (st.tuples(st.sampled_from([nested(5000), nested(50), {"a": "b" * 2000}])),
                         lambda o, c, a: o.env.KV.put("m", "v", {"metadata": a[0]})),
    "kv.get": (st.tuples(odd_value, odd_value), lambda o, c, a: o.env.KV.get(*a)),
    "kv.list": (st.tuples(odd_value), lambda o, c, a: o.env.KV.list(*a)),
    "kv.delete": (st.tuples(odd_value), lambda o, c, a: o.env.KV.delete(*a)),
}
NAMES = sorted(CALLS)
#: Calls that act and then fail, as on the platform: `exec("DROP TABLE t").one()` drops the
#: table, then one() finds no row. Their failure may follow a change.
ACTS_THEN_FAILS = {"sql.one"}


def server_end():
    client, server = WebSocketPair.new()
    return server


def accepted_end(ctx):
    server = server_end()
    ctx.acceptWebSocket(server)
    return server


a_call = st.sampled_from(NAMES).flatmap(lambda name: st.tuples(st.just(name), CALLS[name][0]))


# ----- the rules -----


def raised_on_purpose(exc: BaseException) -> bool:
    """The innermost frame of the traceback is a `raise` of the emulator or the SDK: an error
    written for the caller, not one that escaped from Python's insides."""
    if type(exc).__name__ == "JsException" and exc.__context__ is not None:
        exc = exc.__context__  # a Python TypeError the FFI turned into the JS one: judge the original
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    if not code.co_filename.startswith(SOURCE) or "/tests/" in code.co_filename:
        return False
    line = linecache.getline(code.co_filename, tb.tb_lineno).strip()
    if line.startswith("raise"):
        return True
    # The caller's own callback raised it: a callable written in C (`type`, passed as the callback
    # of transactionSync) has no frame of its own, so the emulator's call of it is innermost. The
    # platform calls it too (Pyodide hands it to JavaScript as a function) and its error comes back.
    callback = tb.tb_frame.f_locals.get("callback")
    return "callback(" in line and callback is not None and not hasattr(callback, "__code__")


def platform_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & set(PLATFORM_TYPES)) and raised_on_purpose(exc)


def stable(value):
    """A comparable form of a stored value (ints as hex: Python refuses to print huge ones)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return ("int", hex(value))
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, (list, tuple)):
        return tuple(stable(v) for v in value)
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((stable(k), stable(v)) for k, v in value.items()), key=repr)))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(map(repr, map(stable, value)))))
    if isinstance(value, memoryview):
        return ("bytes", value.tobytes())
    return (type(value).__name__, repr(value) if isinstance(value, (str, bytes, datetime.datetime)) else str(type(value)))


async def snapshot(ctx):
    tables = ctx.storage.sql.exec(
        "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").toArray()
    rows = ctx.storage.sql.exec("SELECT * FROM t").toArray() if any(r["name"] == "t" for r in tables) else []
    return (stable(sorted((await ctx.storage.list()).items())), await ctx.storage.getAlarm(),
            stable(tables), stable(rows))


class Tally:
    calls = 0
    failures = 0
    violations: list = []


def run_calls(rt, calls) -> list:
    """Make the calls in the object; returns the broken rules."""
    found: list = []

    async def go(obj, ctx):
        before = await snapshot(ctx)
        for name, args in calls:
            alarms = Target.alarms_run
            Tally.calls += 1
            try:
                result = CALLS[name][1](obj, ctx, args)
                if hasattr(result, "__await__"):
                    await result
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - every error is examined
                Tally.failures += 1
                if not platform_error(exc):
                    found.append((name, args, f"{type(exc).__name__}: {exc}"[:300]))
                after = await snapshot(ctx)
                if Target.alarms_run != alarms or name.startswith("kv."):
                    # an await let a due alarm run (and delete itself): not the call's doing
                    before = before[:1] + after[1:2] + before[2:]
                if after != before and name not in ACTS_THEN_FAILS:
                    found.append((name, args, "storage changed by a failed call"))
                before = after
            else:
                before = await snapshot(ctx)
        return True

    rt.run(run_in_durable_object(rt.env.T.getByName("fuzz"), go))
    Tally.violations += found
    return found


@pytest.fixture(scope="module")
def world():
    rt = Runtime(durable_objects={"T": Target}, kv_namespaces=["KV"], kv_write_limit=False, log_errors=False)
    rt.run(run_in_durable_object(rt.env.T.getByName("fuzz"),
                                 lambda obj, ctx: ctx.storage.sql.exec("CREATE TABLE t(x)").toArray()))
    yield rt
    rt.close()


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(calls=st.lists(a_call, min_size=40, max_size=50))
def test_generated_bad_calls_get_platform_errors_and_change_nothing(world, calls):
    instance = world.env.T.getByName("fuzz")._host.instance
    found = run_calls(world, calls)
    stub = world.env.T.getByName("fuzz")
    assert world.run(stub.ping()) == "pong"  # the world still works
    assert stub._host.instance is instance or instance is None, "a bad call reset the object"
    assert not found, found[:5]


def test_the_fuzz_made_enough_calls():
    print(f"\nfuzz: {Tally.calls} calls, {Tally.failures} failed, {len(Tally.violations)} violations")
    if EXAMPLES >= FULL_RUN:
        assert Tally.calls >= 10_000
    assert not Tally.violations
