"""The synchronous storage engine under `ctx.storage`: keys, values, alarms and batches.

Everything here is synchronous and knows nothing about asyncio. Keys are `str`; values
arrive already serialized as `bytes` (another module does the structured clone).

**One shared SQLite connection.** `SharedDb` is a single connection (`sqlite_driver`: apsw,
or the standard `sqlite3`) that holds the *committed* data of every object in a world, in two
tables keyed by `(namespace, object id, ...)`. A connection per object would be the obvious
model of "each DO has its own SQLite database", but it costs about 35 KB and 0.2 ms per object:
100,000 objects took 3.5 GB and 20 s. With one connection an object costs a small Python
object and its rows, and all objects share SQLite's page cache. An object that uses the SQL
API, and every object persisted to a file, has a database of its own instead, laid out as
workerd lays it out (`_cf_KV`, `_cf_METADATA`; see "two table layouts" below).

Keys are `TEXT` holding the key's WTF-8 bytes, compared with SQLite's BINARY collation, i.e.
memcmp of those bytes. That is the platform's key order (workerd's `_cf_KV` table does the
same), and it equals Python's code-point order of `str` (lone surrogates included), so the
Python side can merge and sort with plain `sorted()`.

**The pending batch.** `KvStore` is one object's view. Its writes do not touch SQLite at
once: they go into an in-memory overlay, the *pending batch*:

* `_pending`: `{key: bytes}` for puts and `{key: None}` for deletes (tombstones),
  `None` while empty so that an idle object allocates nothing;
* `_cleared`: a "delete all" marker that hides every committed row;
* `_alarm`: a pending alarm change (`_UNSET` while there is none).

Reads merge the overlay over the committed rows, so an object sees its own writes at once
(read-your-writes). `commit()` applies the whole batch in one SQLite transaction, and
`discard()` drops it. This models workerd's write coalescing and output gate: every write
made between two awaits lands together or not at all, a crash before the flush loses the
batch and nothing else, and other objects only ever see committed data.

`savepoint()` / `rollback_to()` / `release()` snapshot the overlay for `transaction()`,
with SQLite's savepoint semantics (nesting works; an outer rollback undoes released inner
savepoints too).
"""

from __future__ import annotations

import collections
import math
import os
from typing import Any, Mapping

from .errors import DojoError, JsError, RangeError
from .values import becomes_bigint, js_string
from . import sqlite_driver as driver

__all__ = [
    "KvStore",
    "SharedDb",
    "SQLITE_MAX_KEY_PLUS_VALUE",
    "coerce_key",
    "parse_list_options",
]

# ---------------------------------------------------------------------------------------
# Limits

#: KV-backed (legacy) objects: workerd's ActorCache limits (spec §3.7).
LEGACY_MAX_KEY_SIZE = 2048
LEGACY_MAX_VALUE_SIZE = 131072
LEGACY_VALUE_CUSHION = 34  # room for the V8 serialization header
LEGACY_MAX_KEYS = 128

#: SQLite-backed objects: "Key and value combined cannot exceed 2 MB" (Cloudflare limits
#: page). The same page counts storage in decimal units (1 GB = 1,000,000,000 bytes), so
#: 2 MB is read as 2,000,000 bytes of UTF-8 key plus serialized value. Production reports
#: a too-big row as `Error: string or blob too big: SQLITE_TOOBIG`; local workerd sets a
#: 4 MiB SQLite length limit and accepted a 3 MiB value in the oracle run. The emulator
#: follows production.
SQLITE_MAX_KEY_PLUS_VALUE = 2_000_000

# ---------------------------------------------------------------------------------------
# SQL: two table layouts
#
# A database of its own (an object that uses the SQL API, or a file under `persist_to`) is laid
# out as workerd lays out an object's database (util/sqlite-kv.h, util/sqlite-metadata.h):
# `_cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID`, created at the first write, and
# `_cf_METADATA (key INTEGER PRIMARY KEY, value BLOB)`, created when an alarm is first set, the
# alarm in row 1 as nanoseconds since the epoch (NULL once deleted). So `PRAGMA table_list`,
# `sqlite_master` and `databaseSize` read as there.
#
# The world's shared in-memory database holds every other object, keyed by namespace and id.
#
# Keys are TEXT holding the key's WTF-8 bytes, as workerd stores a JS string: UTF-8, except
# that a lone surrogate keeps its 3-byte form (ED A0 80 for U+D800). A str key with no lone
# surrogate binds as itself; any other goes in as those bytes through CAST(? AS TEXT), and keys
# read back as bytes (CAST(key AS BLOB)), decoded with `surrogatepass`, so the Python str is the
# key exactly; `as_read()` gives what a Worker reads back (U+FFFD per bad byte, as V8 decodes).


class _Layout:
    """The statements of one table layout; `head` parameters (namespace, id) come first."""

    def __init__(self, kv: str, scope: str, scope_cols: str, scope_params: str, alarms: dict) -> None:
        where = f"{scope} AND " if scope else ""
        key = "CAST(? AS TEXT)"
        self.kv_table = kv
        self.get = f"SELECT value FROM {kv} WHERE {where}key={key}"
        if scope:
            self.put = f"INSERT OR REPLACE INTO {kv} ({scope_cols}key, value) VALUES ({scope_params}{key}, ?)"
        else:  # workerd's stmtPut
            self.put = f"INSERT INTO {kv} VALUES({key}, ?) ON CONFLICT DO UPDATE SET value = excluded.value"
        self.delete = f"DELETE FROM {kv} WHERE {where}key={key}"
        self.delete_all = f"DELETE FROM {kv}" + (f" WHERE {scope}" if scope else "")
        self.all_rows = f"SELECT CAST(key AS BLOB), value FROM {kv}" + (f" WHERE {scope}" if scope else "")
        self.in_prefix = f"SELECT CAST(key AS BLOB), value FROM {kv} WHERE {where}key IN ("
        self.in_sql = {n: self.in_prefix + ",".join([key] * n) + ")" for n in (1, _IN_CHUNK)}
        self.list_sql = {}
        for lo_kind, lo_sql in ((0, ""), (1, f" AND key>={key}"), (2, f" AND key>{key}")):
            for has_hi in (False, True):
                for rev in (False, True):
                    self.list_sql[lo_kind, has_hi, rev] = (
                        f"SELECT CAST(key AS BLOB), value FROM {kv} WHERE {scope or '1'}"
                        + lo_sql
                        + (f" AND key<{key}" if has_hi else "")
                        + (" ORDER BY key DESC" if rev else " ORDER BY key")
                        + " LIMIT ?"
                    )
        self.get_alarm = alarms["get"]
        self.set_alarm = alarms["set"]
        self.delete_alarm = alarms["delete"]

    def in_query(self, n: int) -> str:
        sql = self.in_sql.get(n)
        if sql is None:
            sql = self.in_prefix + ",".join(["CAST(? AS TEXT)"] * n) + ")"
        return sql


# get_many / delete_many look keys up with `key IN (...)` in chunks of this many.
_IN_CHUNK = 200

_SHARED_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS _cf_kv ("
    " ns TEXT NOT NULL, obj TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY (ns, obj, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS _cf_alarms ("
    " ns TEXT NOT NULL, obj TEXT NOT NULL, time INTEGER NOT NULL,"
    " PRIMARY KEY (ns, obj)) WITHOUT ROWID",
)
SHARED = _Layout(
    "_cf_kv", "ns=? AND obj=?", "ns, obj, ", "?, ?, ",
    {
        "get": "SELECT time FROM _cf_alarms WHERE ns=? AND obj=?",
        "set": "INSERT OR REPLACE INTO _cf_alarms (ns, obj, time) VALUES (?, ?, ?)",
        "delete": "DELETE FROM _cf_alarms WHERE ns=? AND obj=?",
    },
)
#: workerd's statements, word for word where the emulator runs the same one.
_CREATE_KV = "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"
_CREATE_METADATA = "CREATE TABLE IF NOT EXISTS _cf_METADATA (key INTEGER PRIMARY KEY, value BLOB)"
OWN = _Layout(
    "_cf_KV", "", "", "",
    {
        "get": "SELECT value FROM _cf_METADATA WHERE key = 1",
        "set": "INSERT INTO _cf_METADATA VALUES(1, ?) ON CONFLICT DO UPDATE SET value = excluded.value",
        "delete": "INSERT INTO _cf_METADATA VALUES(1, NULL) ON CONFLICT DO UPDATE SET value = excluded.value",
    },
)
_SQL_OBJECT_IDS = (
    "SELECT DISTINCT obj FROM _cf_kv WHERE ns=? UNION SELECT obj FROM _cf_alarms WHERE ns=? ORDER BY obj"
)
_SQL_ALARMS = "SELECT ns, obj, time FROM _cf_alarms ORDER BY time, ns, obj"
_SQL_ALARMS_NS = "SELECT ns, obj, time FROM _cf_alarms WHERE ns=? ORDER BY time, obj"
_SQL_TABLES = "SELECT name FROM sqlite_master WHERE type='table' AND name IN ('_cf_KV', '_cf_METADATA')"
_NS_PER_MS = 1_000_000


def _key_param(key: str):
    """A key as a statement parameter (see the layouts above)."""
    return key if key.isascii() else key.encode("utf-8", "surrogatepass")


def _key_of(raw: bytes) -> str:
    """A key read back as bytes, as the str it was written from."""
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # not written by us (a file from elsewhere): read it as JS would
        return raw.decode("utf-8", "replace")


def as_read(key: str) -> str:
    """A key as a Worker reads it back from storage: the stored WTF-8 decoded as UTF-8, so a
    lone surrogate comes back as U+FFFD for each of its three bytes (V8's decoding)."""
    if key.isascii():
        return key
    try:
        key.encode()
    except UnicodeEncodeError:
        return key.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return key


_UNSET: Any = object()  # "no pending alarm change"


# ---------------------------------------------------------------------------------------
# SharedDb


# A world's shared in-memory database (committed KV storage and alarms; an object that uses SQL
# has a database of its own), emptied when its world closes, for the next world to take.
# Connecting and creating the schema costs more than the rest of a world's set-up, and
# `explore()` makes a world per schedule. Only small ones are kept: SQLite keeps the pages a
# DELETE freed.
_SPARE_WORLD_DBS: list = []
_SPARE_LIMIT = 2
_SPARE_MAX_PAGES = 64
_SHARED_TABLES = {"_cf_kv", "_cf_alarms"}


def _emptied(conn, cur) -> bool:
    """Empty a closing world's database for reuse; False if it cannot be (then it is closed)."""
    try:
        if conn.in_transaction:
            return False
        if cur.execute("PRAGMA page_count").fetchone()[0] > _SPARE_MAX_PAGES:
            return False
        if {row[0] for row in cur.execute("SELECT name FROM sqlite_schema").fetchall()} != _SHARED_TABLES:
            return False
        cur.execute("DELETE FROM _cf_kv")
        cur.execute("DELETE FROM _cf_alarms")
        return True
    except Exception:  # noqa: BLE001 - whatever went wrong, a fresh database is made instead
        return False


class SharedDb:
    """The committed storage of every object of a world, in one SQLite connection.

    `path` is `":memory:"` (the default) or a file. A file uses WAL journaling with
    `synchronous=NORMAL`: a commit is atomic and survives a crash of the process.

    The connection is in autocommit mode (`isolation_level=None`); `KvStore.commit()`
    issues BEGIN/COMMIT itself. Calls must not overlap (the world runs on one event
    loop), so one connection and one cursor are shared by every `KvStore`.

    **Open files are bounded.** With `persist_to` every object has its own file, and an open
    SQLite file costs three descriptors (database, WAL, shared memory). At most
    `MAX_OPEN_FILES` file connections stay open: opening one more closes the least recently
    used one that is idle (no transaction, no unfinished SQL cursor), and a closed one opens
    again on its next use. `on_open(conn)` / `on_close(conn)` let the SQL API set up its guard
    rails on every new connection.
    """

    __slots__ = (
        "path", "own", "layout", "has_kv", "has_metadata", "_conn", "_cur", "on_open", "on_close",
        "keep_open", "_reuse", "_is_file", "__weakref__",
    )

    def __init__(self, path: str = ":memory:", *, own: bool = False, reuse: bool = False) -> None:
        """`own=True`: the database of one object, laid out as workerd lays it out (see the
        layouts above); otherwise the world's shared database of many objects. `reuse`: a
        world's shared in-memory database, handed on when it closes (see _SPARE_WORLD_DBS)."""
        self.path = path
        self._is_file = path != ":memory:" and not path.startswith("file::memory:")  # read on every statement
        self.own = own
        self._reuse = reuse and not own and path == ":memory:"
        self.layout = OWN if own else SHARED
        self.has_kv = not own  # own: whether _cf_KV exists (made at the first write)
        self.has_metadata = not own  # own: whether _cf_METADATA exists (made by the first alarm)
        self._conn: driver.Connection | None = None
        self._cur: object | None = None
        self.on_open = None  # called with each new connection
        self.on_close = None  # called with a connection about to be closed
        self.keep_open = None  # returns True while the connection must not be closed
        if path != ":memory:" and not path.startswith("file:"):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._open()

    def _open(self) -> driver.Connection:
        if self._reuse and _SPARE_WORLD_DBS:
            self._conn, self._cur = _SPARE_WORLD_DBS.pop()
            return self._conn
        if self._is_file:
            _make_room_for_a_file()
        conn = driver.connect(self.path)
        cur = conn.cursor()
        if self._is_file:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        if self.own:
            if cur.execute("PRAGMA page_count").fetchone()[0] == 0:
                # workerd's new database has its first page (databaseSize 4096 before any table)
                cur.execute("BEGIN IMMEDIATE")
                cur.execute("COMMIT")
            _upgrade_legacy_layout(cur)
            self._conn, self._cur = conn, cur
            self.refresh_tables()
        else:
            for stmt in _SHARED_SCHEMA:
                cur.execute(stmt)
            self._conn, self._cur = conn, cur
        if self._is_file:
            _OPEN_FILES[id(self)] = self
        if self.on_open is not None:
            self.on_open(conn)
        return conn

    @property
    def conn(self) -> driver.Connection:
        conn = self._conn
        if conn is None:
            return self._open()
        if self._is_file:
            _OPEN_FILES.move_to_end(id(self))
        return conn

    @property
    def cur(self) -> object:
        if self._conn is None:
            self._open()
        elif self._is_file:
            _OPEN_FILES.move_to_end(id(self))
        return self._cur

    def refresh_tables(self) -> None:
        """Read which of _cf_KV and _cf_METADATA exist (after a rollback may have undone one)."""
        if self.own and self._conn is not None:
            names = {row[0] for row in self._cur.execute(_SQL_TABLES).fetchall()}
            self.has_kv = "_cf_KV" in names
            self.has_metadata = "_cf_METADATA" in names

    def ensure_kv(self) -> None:
        if not self.has_kv:
            self.cur.execute(_CREATE_KV)
            self.has_kv = True

    def ensure_metadata(self) -> None:
        if not self.has_metadata:
            self.cur.execute(_CREATE_METADATA)
            self.has_metadata = True

    def drop_tables(self, *, metadata: bool) -> None:
        """An own database's deleteAll(): _cf_KV goes (and _cf_METADATA too if `metadata`), as
        workerd's reset of the whole database leaves none of them until the next write."""
        cur = self.cur
        cur.execute("DROP TABLE IF EXISTS _cf_KV")
        self.has_kv = False
        if metadata:
            cur.execute("DROP TABLE IF EXISTS _cf_METADATA")
            self.has_metadata = False

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def can_close(self) -> bool:
        conn = self._conn
        return conn is not None and not conn.in_transaction and not (self.keep_open is not None and self.keep_open())

    def close_idle(self) -> bool:
        """Close the connection if nothing needs it now (it opens again when used); True if closed."""
        if not self.can_close():
            return False
        self.close()
        return True

    def object_ids(self, ns: str) -> list[str]:
        """Ids of the objects in namespace `ns` with at least one committed key or an alarm."""
        return [r[0] for r in self.cur.execute(_SQL_OBJECT_IDS, (ns, ns)).fetchall()]

    def alarms(self, ns: str | None = None) -> list[tuple[str, str, int]]:
        """Committed alarms as `(ns, obj, time_ms)`, earliest first (for a scheduler reload)."""
        if ns is None:
            return self.cur.execute(_SQL_ALARMS).fetchall()
        return self.cur.execute(_SQL_ALARMS_NS, (ns,)).fetchall()

    def close(self) -> None:
        """Close the connection. Uncommitted batches of live `KvStore`s are lost."""
        conn = self._conn
        if conn is None:
            return
        _OPEN_FILES.pop(id(self), None)
        if self.on_close is not None:
            self.on_close(conn)
        cur, self._conn, self._cur = self._cur, None, None
        if self._reuse and len(_SPARE_WORLD_DBS) < _SPARE_LIMIT and _emptied(conn, cur):
            _SPARE_WORLD_DBS.append((conn, cur))
            return
        conn.close()

    def __repr__(self) -> str:
        return f"SharedDb({self.path!r}{', own=True' if self.own else ''})"


def _upgrade_legacy_layout(cur) -> None:
    """A file written by an earlier version of the emulator (`_cf_kv(ns, obj, key, value)` and
    `_cf_alarms(ns, obj, time)`) is rewritten in workerd's layout, in one transaction."""
    columns = [row[1] for row in cur.execute("PRAGMA table_info(_cf_kv)").fetchall()]
    if columns[:2] != ["ns", "obj"]:
        return
    rows = cur.execute("SELECT CAST(key AS BLOB), value FROM _cf_kv").fetchall()
    alarm = cur.execute("SELECT time FROM _cf_alarms").fetchone()
    cur.execute("BEGIN")
    cur.execute("DROP TABLE _cf_kv")
    cur.execute("DROP TABLE IF EXISTS _cf_alarms")
    if rows:
        cur.execute(_CREATE_KV)
        cur.executemany(OWN.put, rows)
    if alarm is not None:
        cur.execute(_CREATE_METADATA)
        cur.execute(OWN.set_alarm, (alarm[0] * _NS_PER_MS,))
    cur.execute("COMMIT")


#: At most this many object files are open at once (3 descriptors each): 96 descriptors,
#: so 10,000 persisted objects run under `ulimit -n 256`.
MAX_OPEN_FILES = 32
_OPEN_FILES: "collections.OrderedDict[int, SharedDb]" = collections.OrderedDict()


def _make_room_for_a_file() -> None:
    """Before a file opens: close least recently used idle files until one more fits."""
    if len(_OPEN_FILES) < MAX_OPEN_FILES:
        return
    for db in list(_OPEN_FILES.values()):
        if db.close_idle() and len(_OPEN_FILES) < MAX_OPEN_FILES:
            return


# ---------------------------------------------------------------------------------------
# Key coercion and list options


def coerce_key(key: Any) -> str:
    """A storage key as workerd receives it: String(key), except that a str keeps any lone
    surrogate (workerd stores such a key as WTF-8 bytes, where a name or an id gets U+FFFD)."""
    if type(key) is str:
        return key
    if isinstance(key, str):
        return str.__str__(key)
    return js_string(key)


def js_to_number(value: Any) -> float | int:
    """JS ToNumber of a value a Python Worker passes (2.7 → 2.7, "2" → 2, "x" → NaN)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and becomes_bigint(value):
        raise TypeError("Cannot convert a BigInt value to a number")  # Pyodide sent a BigInt
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return js_to_number(js_string(value))  # ToNumber(array) reads String(array): [2] is 2
    if value is None:
        return 0  # ToNumber(null)
    if isinstance(value, str):
        s = value.strip()
        if s == "":
            return 0.0
        if "_" in s or (s.lstrip("+-") != "Infinity" and any(c in s.lower() for c in "ni")):
            return math.nan  # Python's float() accepts 1_000, "inf" and "nan"; JS's Number() does not
        try:
            return float(int(s, 0)) if s[:2].lower() in ("0x", "0o", "0b") else float(s)
        except ValueError:
            return math.nan
    return math.nan


def js_int(value: Any) -> int:
    """An `int` parameter as jsg takes it: ToNumber; NaN and infinities give 0; outside the
    32-bit range a TypeError; otherwise truncated toward zero."""
    n = js_to_number(value)
    if isinstance(n, float):
        if not math.isfinite(n):
            return 0
        n = math.trunc(n)
    if not -(2**31) <= n <= 2**31 - 1:
        raise TypeError("Value out of range. Must be between -2147483648 and 2147483647 (inclusive).")
    return int(n)


def js_uint32(value: Any) -> int:
    """A `uint32_t` parameter as jsg takes it: ToNumber, then finite, not negative, in range."""
    n = js_to_number(value)
    if isinstance(n, float) and not math.isfinite(n):
        raise TypeError("The value cannot be converted because it is not an integer.")
    if n < 0:
        raise TypeError("The value cannot be converted because it is negative and this API expects a positive number.")
    if n > 2**32 - 1:
        raise TypeError("Value out of range. Must be less than or equal to 4294967295.")
    return int(n)


_LIST_OPTION_NAMES = {"start": "start", "startAfter": "start_after", "end": "end", "prefix": "prefix"}


def parse_list_options(options: Mapping[str, Any] | None,
                       interface: str = "DurableObjectStorage") -> dict[str, Any]:
    """Validate the options a learner passes to `storage.list({...})`; return `list()` kwargs.

    Takes JS names (`start`, `startAfter`, `end`, `prefix`, `reverse`, `limit`,
    `allowConcurrency`, `noCache`) and ignores unknown keys. `None` is JS `null` (the SDK's
    conversion): WebIDL makes it the key "null", `reverse` false and `limit` 0. Raises workerd's TypeErrors for a non-dict argument, both `start` and
    `startAfter`, a limit outside int32 and a limit that is not positive.
    """
    if options is None:
        return {}
    if isinstance(options, (list, tuple)):
        # A JS array is an object to WebIDL: its only ListOptions member is `reverse`
        # (Array.prototype.reverse, a function, so true): workerd lists everything backwards.
        return {"reverse": True}
    if not isinstance(options, Mapping):
        raise TypeError(
            f"Failed to execute 'list' on '{interface}': parameter 1 is not of type 'ListOptions'."
        )
    out: dict[str, Any] = {}
    for js_name, py_name in _LIST_OPTION_NAMES.items():
        if js_name in options:  # None is JS null (the SDK's conversion), which WebIDL makes "null"
            out[py_name] = coerce_key(options[js_name])
    if "start" in out and "start_after" in out:
        raise TypeError("list() cannot be called with both start and startAfter values.")
    rev = options.get("reverse")
    if rev is not None:
        out["reverse"] = bool(rev)
    if "limit" in options:
        n = js_int(options["limit"])  # None is JS null (the SDK's conversion): 0 to WebIDL's int
        if n <= 0:
            raise TypeError("List limit must be positive.")
        out["limit"] = n
    return out


def _prefix_end(prefix: str) -> str | None:
    """The smallest string above every string that starts with `prefix` (None: no bound)."""
    p = prefix.rstrip("\U0010ffff")
    if not p:
        return None
    # Code point order is the keys' WTF-8 byte order, lone surrogates (U+D800..U+DFFF) included.
    return p[:-1] + chr(ord(p[-1]) + 1)


# ---------------------------------------------------------------------------------------
# KvStore


class KvStore:
    """The storage of one Durable Object: committed rows in a `SharedDb` plus a pending batch.

    All methods are synchronous. Keys must already be `str` (see `coerce_key`; a lone
    surrogate is kept, as workerd keeps it); values are serialized `bytes`. With
    `legacy_limits=True` the KV-backed limits apply (2048-byte keys, 131072-byte values, 128
    keys per `get_many`); otherwise the SQLite-backed limit applies (`SQLITE_MAX_KEY_PLUS_VALUE`).

    **Write-through.** Once the object uses the SQL API (`write_through(on_write)`), its KV
    writes go straight into its database, inside the implicit SQL transaction that commits
    them together at the end of the turn, as workerd's SQLite-backed storage does: user SQL
    then sees `_cf_KV` appear at the first put, and `databaseSize` counts the rows at once.
    The pending batch then only holds the alarm.

    It keeps no counters: `DurableObjectStorage` reports reads, writes and deletes to the
    world's metrics.
    """

    __slots__ = (
        "_db",
        "ns",
        "obj",
        "legacy_limits",
        "_pending",
        "_cleared",
        "_alarm",
        "_savepoints",
        "_on_write",
        "_head",
    )

    def __init__(self, db: SharedDb, ns: str, obj: str, *, legacy_limits: bool = False) -> None:
        self.ns = ns
        self.obj = obj
        self._use(db)
        self.legacy_limits = legacy_limits
        self._pending: dict[str, bytes | None] | None = None
        self._cleared = False
        self._alarm: Any = _UNSET
        self._savepoints: list[tuple[Any, bool, Any]] | None = None
        self._on_write = None  # set by write_through(): called before each direct write

    def __repr__(self) -> str:
        return f"KvStore({self.ns!r}, {self.obj!r}, pending={self.has_pending()})"

    def _use(self, db: SharedDb) -> None:
        """Keep this object's rows in `db` from now on."""
        self._db = db
        # The leading statement parameters that pick this object's rows in its database.
        self._head = () if db.own else (self.ns, self.obj)

    # -- validation -------------------------------------------------------------------

    @staticmethod
    def _check_legacy_key(key: str) -> None:
        if len(key) * 4 > LEGACY_MAX_KEY_SIZE:
            size = len(key.encode("utf-8", "surrogatepass"))
            if size > LEGACY_MAX_KEY_SIZE:
                raise RangeError(
                    f"Keys cannot be larger than {LEGACY_MAX_KEY_SIZE} bytes. "
                    f"A key of size {size} was provided."
                )

    def _check_put(self, key: str, value: bytes) -> None:
        if self.legacy_limits:
            self._check_legacy_key(key)
            if len(value) > LEGACY_MAX_VALUE_SIZE + LEGACY_VALUE_CUSHION:
                raise RangeError(
                    f"Values cannot be larger than {LEGACY_MAX_VALUE_SIZE} bytes. "
                    f"A value of size {len(value)} was provided."
                )
        elif len(key) * 4 + len(value) > SQLITE_MAX_KEY_PLUS_VALUE:
            ksize = len(key.encode("utf-8", "surrogatepass"))
            total = ksize + len(value)
            if total > SQLITE_MAX_KEY_PLUS_VALUE:
                raise JsError(
                    "string or blob too big: SQLITE_TOOBIG (a SQLite-backed Durable Object "
                    f"stores at most {SQLITE_MAX_KEY_PLUS_VALUE:,} bytes of key plus value; "
                    f"this key is {ksize} bytes and the serialized value {len(value)} bytes)"
                )

    # -- reads ------------------------------------------------------------------------

    def _lookup(self, key: str) -> bytes | None:
        """The visible value of `key`."""
        p = self._pending
        if p is not None and key in p:
            return p[key]
        db = self._db
        if self._cleared or not db.has_kv:
            return None
        param = key if key.isascii() else _key_param(key)  # (_key_param's first case, without the call)
        row = db.cur.execute(db.layout.get, (*self._head, param)).fetchone()
        return None if row is None else row[0]

    def get(self, key: str) -> bytes | None:
        """The value of `key` (pending writes first), or None."""
        if self.legacy_limits:
            self._check_legacy_key(key)
        return self._lookup(key)

    def _lookup_many(self, keys: set[str]) -> dict[str, bytes]:
        """Visible values of `keys` that exist."""
        found: dict[str, bytes] = {}
        p = self._pending
        rest = []
        for k in keys:
            if p is not None and k in p:
                v = p[k]
                if v is not None:
                    found[k] = v
            elif not self._cleared:
                rest.append(k)
        db = self._db
        if not rest or not db.has_kv:
            return found
        cur = db.cur
        head = self._head
        layout = db.layout
        for i in range(0, len(rest), _IN_CHUNK):
            chunk = rest[i : i + _IN_CHUNK]
            params = head + tuple(map(_key_param, chunk))
            for raw, value in cur.execute(layout.in_query(len(chunk)), params).fetchall():
                found[_key_of(raw)] = value
        return found

    def get_many(self, keys: list[str]) -> list[tuple[str, bytes]]:
        """`(key, value)` for each of `keys` that exists, ascending by key, each key once; keys
        as a Worker reads them back (`as_read`)."""
        if self.legacy_limits:
            if len(keys) > LEGACY_MAX_KEYS:
                raise RangeError(
                    f"Maximum number of key value pairs is {LEGACY_MAX_KEYS}. "
                    f"{len(keys)} pairs were provided."
                )
            for k in keys:
                self._check_legacy_key(k)
        return [(as_read(k), v) for k, v in sorted(self._lookup_many(set(keys)).items())]

    def list(
        self,
        *,
        start: str | None = None,
        start_after: str | None = None,
        end: str | None = None,
        prefix: str | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> list[tuple[str, bytes]]:
        """Visible `(key, value)` pairs in a key range, in UTF-8 byte order (spec §3.5), keys as
        a Worker reads them back (`as_read`).

        `start` is inclusive, `start_after` exclusive, `end` exclusive; `prefix` clamps the
        range; `reverse` gives descending order and `limit` then counts from the top.
        """
        if start is not None and start_after is not None:
            raise TypeError("list() cannot be called with both start and startAfter values.")
        if limit is not None and limit <= 0:
            raise TypeError("List limit must be positive.")
        # The range as [lo, hi) with lo inclusive (lo_kind 1) or exclusive (lo_kind 2).
        lo_kind, lo = (1, start) if start is not None else (0, None)
        if start_after is not None:
            lo_kind, lo = 2, start_after
        hi = end
        if prefix:
            if lo is None or lo < prefix:
                lo_kind, lo = 1, prefix
            pe = _prefix_end(prefix)
            if pe is not None and (hi is None or pe < hi):
                hi = pe
        if hi is not None and lo is not None and hi <= lo:
            return []

        p = self._pending
        if p:
            # Overlay entries inside the range; each tombstone may hide one committed row.
            over: dict[str, bytes | None] = {}
            tombstones = 0
            for k, v in p.items():
                if (lo is None or (k >= lo if lo_kind == 1 else k > lo)) and (hi is None or k < hi):
                    over[k] = v
                    if v is None:
                        tombstones += 1
        else:
            over = {}
            tombstones = 0

        db = self._db
        if self._cleared or not db.has_kv:
            rows: list[tuple[str, bytes]] = []
        else:
            params: list[Any] = list(self._head)
            if lo is not None:
                params.append(_key_param(lo))
            if hi is not None:
                params.append(_key_param(hi))
            params.append(-1 if limit is None else limit + tombstones)
            sql = db.layout.list_sql[lo_kind, hi is not None, bool(reverse)]
            rows = [(_key_of(raw), value) for raw, value in db.cur.execute(sql, params).fetchall()]

        if over:
            merged = dict(rows)
            for k, v in over.items():
                if v is None:
                    merged.pop(k, None)
                else:
                    merged[k] = v
            rows = sorted(merged.items(), reverse=bool(reverse))
            if limit is not None:
                del rows[limit:]
        return [(as_read(k), v) for k, v in rows]

    # -- writes -----------------------------------------------------------------------

    def write_through(self, on_write) -> None:
        """From now on write straight into the database (see the class docstring);
        `on_write()` runs before each write (it opens the implicit transaction). The pending
        batch so far goes in first."""
        self._on_write = on_write
        if self._pending or self._cleared or self._alarm is not _UNSET:
            on_write()
            self._apply(self._db.cur, self._pending, self._cleared, delete_alarm=self._cleared and self._alarm is None)
            if self._alarm is not _UNSET:  # stays pending too: the scheduler learns of it at the commit
                self._write_alarm(self._db.cur, self._alarm)
            self._pending = None
            self._cleared = False

    @property
    def writes_through(self) -> bool:
        return self._on_write is not None

    def _write_now(self, items: dict[str, bytes | None]) -> None:
        self._on_write()
        self._apply(self._db.cur, items, False, delete_alarm=False)

    def put(self, key: str, value: bytes) -> None:
        """Write `key` into the pending batch."""
        if type(value) is not bytes:
            value = bytes(value)
        self._check_put(key, value)
        if self._on_write is not None:
            self._write_now({key: value})
            return
        p = self._pending
        if p is None:
            self._pending = {key: value}
        else:
            p[key] = value

    def put_many(self, items: list[tuple[str, bytes]]) -> None:
        """Write every `(key, value)`; all are validated first, so a bad one changes nothing."""
        checked = []
        for k, v in items:
            if type(v) is not bytes:
                v = bytes(v)
            self._check_put(k, v)
            checked.append((k, v))
        if self._on_write is not None:
            self._write_now(dict(checked))
            return
        if self._pending is None:
            self._pending = {}
        self._pending.update(checked)

    def delete(self, key: str) -> bool:
        """Delete `key`; True if it existed."""
        if self.legacy_limits:
            self._check_legacy_key(key)
        existed = self._lookup(key) is not None
        if existed:
            self._tombstone(key)
        return existed

    def _tombstone(self, key: str) -> None:
        if self._on_write is not None:
            self._write_now({key: None})
            return
        p = self._pending
        if self._cleared:
            # Committed rows are hidden already, so the key lives only in the overlay.
            if p is not None:
                p.pop(key, None)
        elif p is None:
            self._pending = {key: None}
        else:
            p[key] = None

    def delete_many(self, keys: list[str]) -> int:
        """Delete `keys`; how many of them existed (a key listed twice counts once)."""
        if self.legacy_limits:
            for k in keys:
                self._check_legacy_key(k)
        existing = self._lookup_many(set(keys))
        if self._on_write is not None and existing:
            self._write_now(dict.fromkeys(existing))
            return len(existing)
        for k in existing:
            self._tombstone(k)
        return len(existing)

    def delete_all(self, delete_alarm: bool = False) -> None:
        """Delete every key of this object, committed and pending.

        `delete_alarm=True` also deletes the alarm (compatibility date ≥ 2026-02-24,
        flag `delete_all_deletes_alarm`); otherwise the alarm is kept.
        """
        if self._on_write is not None:
            self._on_write()
            self._apply(self._db.cur, None, True, delete_alarm=delete_alarm)
            if delete_alarm:
                self._alarm = None
            return
        self._pending = None
        self._cleared = True
        if delete_alarm:
            self._alarm = None

    # -- alarms -----------------------------------------------------------------------

    def get_alarm(self) -> int | None:
        """The alarm time in ms since the epoch (a pending change first), or None."""
        if self._alarm is not _UNSET:
            return self._alarm
        db = self._db
        if not db.has_metadata:
            return None
        row = db.cur.execute(db.layout.get_alarm, self._head).fetchone()
        if row is None or row[0] is None:
            return None
        return row[0] // _NS_PER_MS if db.own else row[0]

    def set_alarm(self, ms: int | None) -> None:
        """Set the alarm (None deletes it) in the pending batch. The caller validates `ms`."""
        self._alarm = None if ms is None else int(ms)
        if self._on_write is not None:
            self._on_write()
            self._write_alarm(self._db.cur, self._alarm)

    def _write_alarm(self, cur, alarm: int | None) -> None:
        db = self._db
        if not db.own:
            if alarm is None:
                cur.execute(SHARED.delete_alarm, self._head)
            else:
                cur.execute(SHARED.set_alarm, (*self._head, alarm))
        elif alarm is None:
            if db.has_metadata:  # workerd keeps the row, with NULL
                cur.execute(OWN.delete_alarm)
        else:
            db.ensure_metadata()
            cur.execute(OWN.set_alarm, (alarm * _NS_PER_MS,))

    # -- batches ----------------------------------------------------------------------

    def has_pending(self) -> bool:
        """True if the pending batch holds any change."""
        return bool(self._pending) or self._cleared or self._alarm is not _UNSET

    def _apply(self, cur, p: dict | None, cleared: bool, *, delete_alarm: bool, fail=None) -> None:
        """Write a batch's keys (not its alarm) with `cur`, inside the caller's transaction."""
        db = self._db
        head = self._head
        layout = db.layout
        if cleared:
            if db.own:
                db.drop_tables(metadata=delete_alarm)
            else:
                cur.execute(layout.delete_all, head)
        if not p:
            return
        puts = []
        dels = []
        for k, v in p.items():  # one loop, not two comprehensions: a batch is often one key
            param = k if k.isascii() else _key_param(k)  # (_key_param's first case, without the call)
            if v is None:
                dels.append((*head, param))
            else:
                puts.append((*head, param, v))
        if puts and not db.has_kv:
            db.ensure_kv()
        if fail is not None and puts:
            cur.execute(layout.put, puts[0])  # part of the batch, then the fault
            raise fail
        if len(puts) == 1:
            cur.execute(layout.put, puts[0])
        elif puts:
            cur.executemany(layout.put, puts)
        if dels and db.has_kv:
            if len(dels) == 1:
                cur.execute(layout.delete, dels[0])
            else:
                cur.executemany(layout.delete, dels)

    def commit(self, fail: BaseException | None = None) -> None:
        """Apply the pending batch atomically in one SQLite transaction, then drop it.

        On any exception the transaction is rolled back, the committed state is unchanged,
        the batch is dropped and the exception re-raised. `fail` is a fault hook: the
        transaction starts, applies part of the batch, then raises `fail`.

        If the connection is already inside a transaction (an object's implicit SQL
        transaction), the batch is applied inside it and the owner of that transaction
        commits or rolls back both together.
        """
        if self._savepoints:
            raise DojoError("commit() called while a storage savepoint is open")
        p = self._pending
        cleared = self._cleared
        alarm = self._alarm
        if not p and not cleared and alarm is _UNSET and fail is None:
            return
        self._pending = None
        self._cleared = False
        self._alarm = _UNSET
        db = self._db
        cur = db.cur
        # A batch of one key (a counter's increment) is one statement, atomic on its own in
        # autocommit mode: it needs no BEGIN/COMMIT around it.
        one_statement = fail is None and not cleared and alarm is _UNSET and len(p) == 1 and db.has_kv
        begin = not one_statement and not db.conn.in_transaction  # else: inside the caller's transaction
        if begin:
            cur.execute("BEGIN")
        try:
            self._apply(cur, p, cleared, delete_alarm=cleared and alarm is None, fail=fail)
            if fail is not None:
                raise fail
            if alarm is not _UNSET and self._on_write is None:  # written through already
                self._write_alarm(cur, alarm)
            if begin:
                cur.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                cur.execute("ROLLBACK")
                db.refresh_tables()
            raise

    def move_to(self, db: "SharedDb") -> None:
        """Move this object's committed keys and alarm into another database (its own, when
        it starts using SQL), so that the KV and SQL APIs share one database and commit
        together."""
        if db is self._db:
            return
        head = self._head
        source = self._db
        rows = source.cur.execute(source.layout.all_rows, head).fetchall() if source.has_kv else []
        keep_pending = self._alarm
        self._alarm = _UNSET
        alarm = self.get_alarm()  # the committed one (a pending change stays pending)
        target = db.cur
        target.execute("BEGIN")
        self._use(db)
        if rows:
            db.ensure_kv()
            target.executemany(db.layout.put, [(*self._head, raw, v) for raw, v in rows])
        if alarm is not None:
            self._write_alarm(target, alarm)
        target.execute("COMMIT")
        self._alarm = keep_pending
        if not source.own:
            source.cur.execute("BEGIN")
            source.cur.execute(SHARED.delete_all, head)
            source.cur.execute(SHARED.delete_alarm, head)
            source.cur.execute("COMMIT")

    @property
    def _cur(self):
        return self._db.cur  # the file may have been closed and opened again meanwhile

    @property
    def db(self) -> "SharedDb":
        return self._db

    def discard(self) -> None:
        """Drop the pending batch and any savepoints (a crash before the flush)."""
        self._pending = None
        self._cleared = False
        self._alarm = _UNSET
        self._savepoints = None

    # -- savepoints -------------------------------------------------------------------

    def savepoint(self) -> int:
        """Remember the pending state; returns the new savepoint's depth (1 for the outermost)."""
        p = self._pending
        snap = (dict(p) if p else None, self._cleared, self._alarm)
        if self._savepoints is None:
            self._savepoints = [snap]
        else:
            self._savepoints.append(snap)
        return len(self._savepoints)

    def _check_depth(self, depth: int) -> list[tuple[Any, bool, Any]]:
        sps = self._savepoints
        if not sps or not 1 <= depth <= len(sps):
            raise DojoError(f"no storage savepoint at depth {depth}")
        return sps

    def rollback_to(self, depth: int) -> None:
        """Return the pending state to savepoint `depth`. As in SQLite, savepoints above it
        are dropped and savepoint `depth` itself stays open (release it afterwards)."""
        sps = self._check_depth(depth)
        p, self._cleared, self._alarm = sps[depth - 1]
        self._pending = dict(p) if p else None
        del sps[depth:]

    def release(self, depth: int) -> None:
        """Close savepoint `depth` and those above it, keeping their changes in the batch
        (an enclosing savepoint can still roll them back)."""
        sps = self._check_depth(depth)
        del sps[depth - 1 :]
        if not sps:
            self._savepoints = None

    @property
    def savepoint_depth(self) -> int:
        """How many savepoints are open."""
        return len(self._savepoints) if self._savepoints else 0
