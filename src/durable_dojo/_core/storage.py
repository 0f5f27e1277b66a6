"""`ctx.storage`: the Durable Object storage API (KV methods, transactions, alarms).

Every method acts when it is *called*, like a JS promise, not when it is awaited: an un-awaited
`put` still writes, and a `get` right after it sees the value. Each method therefore does its
work synchronously on the object's `KvStore` and returns an already-completed future. Awaiting a
completed future does not yield to the loop, which is exactly the input gate's promise for
storage: no other event can slip in between `await get()` and `await put()`.

Writes land in the store's pending batch and are committed at the end of the turn or before
anything leaves the object (see gates.py, `OutputGate`). Values are copied with the
structured-clone codec: a value read back is a copy, and mutating it changes nothing stored.
"""

from __future__ import annotations

import asyncio
import datetime
import math
from collections.abc import Mapping

from . import codec as _codec
from .errors import JsError
from .ffi import js_api, require_function
from .kvstore import coerce_key, parse_list_options
from .values import becomes_bigint, through_js
from .trace import Kind

_MISSING = object()

SQL_NOT_AVAILABLE = (
    "This Durable Object is not backed by SQLite storage, so the SQL API is not available. "
    "SQL can be enabled on a new Durable Object class by using the `new_sqlite_classes` instead of "
    "`new_classes` under `[[migrations]]` in your wrangler.toml, but an already-deployed class cannot be "
    "converted to SQLite (except by deleting the existing data)."
)
SYNC_KV_NOT_AVAILABLE = (
    "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects, but this "
    "object's namespace is not declared to use SQLite. You can use the older, asynchronous interface via "
    "methods of `storage` itself (e.g. `storage.get()`). Alternatively, to enable SQLite, change "
    "`new_classes` to `new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or "
    "wrangler.toml file."
)

PUT_OVERLOAD_MESSAGE = (
    "put() may only be called with a single key-value pair and optional options as "
    "put(key, value, options) or with multiple key-value pairs and optional options as "
    "put(entries, options)"
)


def _keys_argument(method: str, keys):
    if keys is _MISSING:
        raise TypeError(
            f"Failed to execute '{method}' on 'DurableObjectStorage': parameter 1 is not of type "
            "'string or Array'."
        )
    if isinstance(keys, (list, tuple)):
        return [coerce_key(k) for k in keys]
    return coerce_key(keys)


def _options_argument(options, method: str, position: int, dictionary: str,
                      interface: str = "DurableObjectStorage") -> None:
    """WebIDL's check of an options dictionary: null (None), an object or an array passes;
    a number, string or boolean is a TypeError, before the method does anything."""
    if options is None or isinstance(options, (Mapping, list)) or callable(options):
        return
    raise TypeError(f"Failed to execute '{method}' on '{interface}': parameter {position} is not of type "
                    f"'{dictionary}'.")


def alarm_time_ms(value) -> int:
    """The ms timestamp `setAlarm` accepts: a number or a datetime, checked like workerd."""
    if isinstance(value, datetime.datetime):
        value = _codec.datetime_ms(value)  # naive is UTC, as in the isolate; ms toward zero, as Date
    elif (isinstance(value, bool) or not isinstance(value, (int, float))
          or (isinstance(value, int) and becomes_bigint(value))):  # a BigInt is not a date either
        raise TypeError(
            "Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'date'."
        )
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise TypeError("The value cannot be converted because it is not a valid Date.")
    # jsg's kj::Date holds nanoseconds in 64 bits (semantics: jsg DateWrapper).
    if value * 1_000_000 >= 2**63 - 1:
        raise TypeError("This API doesn't support dates after 2189.")
    if value * 1_000_000 <= -(2**63):
        raise TypeError("This API doesn't support dates before 1687.")
    ms = math.trunc(value)  # whole milliseconds: 0.5 is the epoch itself
    if ms <= 0:
        raise TypeError("setAlarm() cannot be called with an alarm time <= 0")
    return ms




class ObjectStore:
    """One object's storage as the platform keeps it, across its instances: the KV batch of its
    `KvStore`, its own SQLite database once it uses the SQL API, and its alarm, with the implicit
    transaction that commits them together (or not at all) and the explicit ones nested in it.

    Transactions are the storage layer's business: `ctx.storage.transaction()` and
    `transactionSync()` open them here; the output gate (gates.py) asks `commit()` at the turn's
    end; a reset asks `discard()`.
    """

    __slots__ = ("_host", "kv", "sql", "txn_depth", "alarm_changed", "_sql_savepoints", "_sql_wrote")

    def __init__(self, host, kv):
        self._host = host
        self.kv = kv  # the object's KvStore: its committed keys, pending batch and alarm
        self.sql = None  # the SqlStorage, once the object touched ctx.storage.sql
        self.txn_depth = 0  # explicit transactions open (deleteAll() is refused inside one)
        self.alarm_changed = False  # setAlarm/deleteAlarm since the last commit
        self._sql_savepoints = 0
        self._sql_wrote = False  # the implicit transaction wrote rows (or changed the schema)

    # ----- the SQL API's database -----

    def sql_storage(self):
        """`ctx.storage.sql`. The first use gives the object a database of its own (its file when
        persisted), moves its KV data there, and locks user SQL out of the emulator's tables."""
        if self.sql is None:
            from .kvstore import SharedDb
            from .sql import SqlStorage

            db = self.kv.db
            if db is self._host.world._db:
                db = SharedDb(":memory:", own=True)
                self.kv.move_to(db)
            # Only statements through SqlStorage are user SQL. It gets the database, not its
            # connection: a persisted object's file may be closed while idle and opened again.
            self.sql = SqlStorage(db, before_statement=self._before_sql, counters=_SqlCounters(self),
                                  trusted_by_default=True)
            if self.txn_depth == 0:  # inside a transaction, from its commit on (the KV savepoints hold its writes)
                self.kv.write_through(self._before_kv_write)
        return self.sql

    def _before_kv_write(self) -> None:
        """A KV write of an object that uses SQL goes into the implicit SQL transaction."""
        self._begin_sql()
        self._sql_wrote = True

    def _before_sql(self) -> None:
        """Every SQL statement runs in the object's implicit transaction, committed at the end of
        the turn (or before a response leaves) together with the KV batch."""
        self._begin_sql()
        instance = self._host.instance
        if instance is not None and instance.alive:
            instance.output_gate.note_write()

    def _begin_sql(self) -> None:
        conn = self.kv.db.conn
        if not conn.in_transaction:
            conn.execute("BEGIN")
            self._sql_wrote = False

    def _in_sql_transaction(self) -> bool:
        return self.sql is not None and self.kv.db.conn.in_transaction

    def delete_all_sql(self) -> None:
        """deleteAll() on a SQLite-backed object: the whole database goes."""
        if self.sql is not None:
            self._begin_sql()
            self.sql.reset_database()

    # ----- explicit transactions (savepoints of the implicit one) -----

    def begin(self, instance) -> tuple:
        """Open a transaction of `instance`: a savepoint of the KV batch and, if the object uses
        SQL, of its database. Returns what `rollback` and `end` take."""
        sql = None
        if self.sql is not None:
            self._begin_sql()
            self._sql_savepoints += 1
            sql = self._sql_savepoints
            self.kv.db.conn.execute(f"SAVEPOINT _cf_sync_savepoint_{sql}")
        self.txn_depth += 1
        return instance, self.kv.savepoint(), sql

    def rollback(self, savepoint: tuple) -> None:
        """Undo the writes made since `begin` (the transaction stays open: `txn.rollback()`)."""
        _, depth, sql = savepoint
        self.kv.rollback_to(depth)
        if sql is not None and self._in_sql_transaction():
            self.kv.db.conn.execute(f"ROLLBACK TO _cf_sync_savepoint_{sql}")
            self.kv.db.refresh_tables()  # a rolled-back write may have made _cf_KV

    def end(self, savepoint: tuple, *, keep: bool) -> None:
        """Close a transaction, keeping its writes (an enclosing one can still undo them) or not."""
        instance, depth, sql = savepoint
        self.txn_depth = max(0, self.txn_depth - 1)
        if not instance.alive:
            return  # its reset discarded the whole batch already
        if not keep:
            self.rollback(savepoint)
        self.kv.release(depth)
        if sql is not None and self._in_sql_transaction():
            self.kv.db.conn.execute(f"RELEASE _cf_sync_savepoint_{sql}")
            self._sql_savepoints = sql - 1

    # ----- the implicit transaction -----

    def has_uncommitted(self) -> bool:
        return self.kv.has_pending() or (self.sql is not None and self._in_sql_transaction())

    def commit(self) -> tuple[bool, bool]:
        """Commit the KV batch and the SQL implicit transaction together, or neither (a failure
        discards both and raises). Returns whether anything was written (a read-only SQL
        transaction commits nothing) and whether the alarm changed."""
        conn = self.kv.db.conn if self.sql is not None else None
        wrote = self.kv.has_pending()
        try:
            self.kv.commit()
            if conn is not None and conn.in_transaction:
                wrote = wrote or self._sql_wrote
                conn.execute("COMMIT")
        except BaseException:
            self.discard()
            raise
        if self.sql is not None and not self.kv.writes_through:
            self.kv.write_through(self._before_kv_write)
        alarm_changed, self.alarm_changed = self.alarm_changed, False
        return wrote, alarm_changed

    def discard(self) -> None:
        """A crash or reset before the commit: the batch and the SQL transaction are both lost."""
        self.kv.discard()
        self._sql_savepoints = 0
        self.txn_depth = 0
        self.alarm_changed = False
        if self._in_sql_transaction():
            self.kv.db.conn.execute("ROLLBACK")
            self.kv.db.refresh_tables()


class _SqlCounters:
    """Feeds the SQL API's row counts into the namespace's metrics."""

    __slots__ = ("_store",)

    def __init__(self, store: ObjectStore):
        self._store = store

    def rows_read(self, n: int) -> None:
        host = self._store._host
        host.world._counters.sql_rows(host, n, 0)

    def rows_written(self, n: int) -> None:
        if n:
            self._store._sql_wrote = True
        host = self._store._host
        host.world._counters.sql_rows(host, 0, n)


class _StorageOperations:
    """The methods `ctx.storage` and a transaction's `txn` share."""

    _interface = "DurableObjectStorage"  # the JS interface its WebIDL errors name

    def __init__(self, instance):
        self._instance = instance
        self._host = instance.host
        self._world = instance.world

    # ----- plumbing -----

    def _usable(self, op: str):
        """The store, once this object may still touch it."""
        instance = self._instance
        if not instance.alive:
            raise JsError(
                f"Cannot {op}: this Durable Object instance was reset or evicted, so its storage "
                "can no longer be used from here."
            )
        return self._host.store

    def _done(self, value, options=None):
        loop = self._world.loop
        future = asyncio.Future(loop=loop)  # what loop.create_future() makes, one call less: every storage call makes one
        if options and isinstance(options, dict) and options.get("allowConcurrency"):
            # allowConcurrency leaves the input gate open while the read is in flight.
            loop.call_soon(future.set_result, value)
        else:
            future.set_result(value)
        return future

    def _wrote(self, options=None) -> None:
        unconfirmed = bool(options and isinstance(options, dict) and options.get("allowUnconfirmed"))
        self._instance.output_gate.note_write(confirmed=not unconfirmed)

    def _trace(self, op: str, keys) -> None:
        self._world.trace.record(f"storage:{op}", self._host, detail=keys)

    # ----- KV methods -----

    def get(self, keys=_MISSING, options=None):
        """A value (or None), or for a list of keys a dict of the keys that exist, in key order."""
        if options is not None:  # (an omitted options argument needs no check: get() is hot)
            _options_argument(options, "get", 2, "GetOptions", self._interface)
        store = self._usable("get()")
        if type(keys) is not str:  # (a str key is used as it is: the check written out)
            keys = _keys_argument("get", keys)
        self._world.trace.record(Kind.STORAGE_GET, self._host, detail=keys)  # _trace("get", ...), one call less
        metrics = self._world._counters
        if isinstance(keys, list):
            rows = store.get_many(keys)
            metrics.storage_read(self._host, max(len(rows), 1))
            value = _codec.JsDict((key, _codec.deserialize(raw)) for key, raw in rows)  # the SDK's mapping
        else:
            raw = store.get(keys)
            metrics.storage_read(self._host, 1)
            value = None if raw is None else _codec.deserialize(raw)
        return self._done(value, options)

    def put(self, key_or_entries=_MISSING, value=_MISSING, options=None):
        """Write one key, or every entry of a dict. Resolves at once; committed at the turn's end."""
        if options is not None and not isinstance(key_or_entries, dict):
            _options_argument(options, "put", 3, "PutOptions", self._interface)
        store = self._usable("put()")
        if isinstance(key_or_entries, dict):
            if value is not _MISSING and value is not None and not isinstance(value, dict):
                raise TypeError(PUT_OVERLOAD_MESSAGE)
            if isinstance(value, dict):
                options = value
            items = [(coerce_key(k), _codec.serialize(v)) for k, v in key_or_entries.items()]
            store.put_many(items)
            self._trace("put", [k for k, _ in items])
            self._world._counters.storage_write(self._host, len(items))
        else:
            if key_or_entries is _MISSING:
                raise TypeError(
                    "Failed to execute 'put' on 'DurableObjectStorage': parameter 1 is not of type "
                    "'string or object'."
                )
            if value is _MISSING:
                raise TypeError("put() called with undefined value.")
            key = key_or_entries if type(key_or_entries) is str else coerce_key(key_or_entries)  # (coerce_key's first line)
            store.put(key, _codec.serialize(value))
            self._world.trace.record(Kind.STORAGE_PUT, self._host, detail=key)  # _trace("put", ...), one call less
            self._world._counters.storage_write(self._host, 1)
        if options is None:
            self._instance.output_gate.note_write()  # _wrote(None), one call less
        else:
            self._wrote(options)
        return self._done(None)

    def delete(self, keys=_MISSING, options=None):
        """True if the key existed; for a list of keys, how many existed."""
        _options_argument(options, "delete", 2, "PutOptions", self._interface)
        store = self._usable("delete()")
        keys = _keys_argument("delete", keys)
        if isinstance(keys, list):
            result = store.delete_many(keys)
            self._world._counters.storage_delete(self._host, len(keys))
        else:
            result = store.delete(keys)
            self._world._counters.storage_delete(self._host, 1)
        self._trace("delete", keys)
        self._wrote(options)
        return self._done(result)

    def list(self, options=None):
        """A dict of the keys in range, in UTF-8 byte order (see semantics §3.5 for the options)."""
        store = self._usable("list()")
        kwargs = parse_list_options(options, self._interface)
        rows = store.list(**kwargs)
        self._trace("list", kwargs.get("prefix") or kwargs.get("start") or "")
        self._world._counters.storage_read(self._host, max(len(rows), 1))
        return self._done(_codec.JsDict((key, _codec.deserialize(raw)) for key, raw in rows), options)

    # ----- alarms -----

    def getAlarm(self, options=None):
        """The scheduled time in ms, or None (also None while the alarm handler runs)."""
        _options_argument(options, "getAlarm", 1, "GetAlarmOptions", self._interface)
        store = self._usable("getAlarm()")
        value = store.get_alarm()
        if self._host.alarms.hides(value):
            value = None  # the alarm that is running is no longer "set"
        return self._done(value, options)

    def setAlarm(self, scheduled_time=_MISSING, options=None):
        """Replace the object's one alarm. A time in the past means "as soon as possible"."""
        ms = alarm_time_ms(None if scheduled_time is _MISSING else scheduled_time)
        _options_argument(options, "setAlarm", 2, "SetAlarmOptions", self._interface)
        store = self._usable("setAlarm()")
        # No check for an alarm() handler: workerd asks the Python entrypoint proxy, which
        # answers every name (python-entrypoint-helper.ts), so setAlarm() always works and a
        # class without alarm() fails when the alarm runs ("Method alarm does not exist").
        ms = max(ms, self._world.now())
        store.set_alarm(ms)
        self._host.storage.alarm_changed = True
        self._host.alarms.set_during_run(ms)
        self._world.trace.record(Kind.ALARM_SET, self._host, detail=ms)
        self._world._counters.storage_write(self._host, 1)
        self._wrote(options)
        return self._done(None)

    def deleteAlarm(self, options=None):
        _options_argument(options, "deleteAlarm", 1, "SetAlarmOptions", self._interface)
        store = self._usable("deleteAlarm()")
        store.set_alarm(None)
        self._host.storage.alarm_changed = True
        self._host.alarms.set_during_run(None)
        self._world.trace.record(Kind.ALARM_DELETE, self._host)
        self._wrote(options)
        return self._done(None)


@js_api(calls_python=("transactionSync",))
class DurableObjectStorage(_StorageOperations):
    """`ctx.storage`."""

    @property
    def sql(self):
        """The SQL API over the object's own SQLite database (SQLite-backed classes only)."""
        self._usable("sql")
        if self._world.storage_backend != "sqlite":
            raise JsError(SQL_NOT_AVAILABLE)
        return self._host.storage.sql_storage()

    @property
    def kv(self) -> "SyncKvStorage":
        """The synchronous KV API (SQLite-backed classes only): plain values, no awaits."""
        if self._world.storage_backend != "sqlite":
            raise JsError(SYNC_KV_NOT_AVAILABLE)
        return SyncKvStorage(self)

    def deleteAll(self, options=None):
        """Delete every key (and, from compatibility date 2026-02-24, the alarm) atomically."""
        _options_argument(options, "deleteAll", 1, "PutOptions")
        store = self._usable("deleteAll()")
        if self._host.storage.txn_depth:
            raise JsError("Cannot call deleteAll() within a transaction")
        deletes_alarm = self._world.compat.delete_all_deletes_alarm
        store.delete_all(deletes_alarm)
        self._host.storage.delete_all_sql()  # on SQLite-backed objects the whole database goes
        if deletes_alarm:
            self._host.storage.alarm_changed = True
        self._trace("deleteAll", None)
        self._world._counters.storage_delete(self._host, 1)
        self._wrote(options)
        return self._done(None)

    def transaction(self, closure=None, options=None):
        """Run `closure(txn)` atomically and alone: a throw rolls back every write, no reset."""
        require_function(closure, "transaction", "DurableObjectStorage")
        self._usable("transaction()")
        instance = self._instance
        host = self._host

        if self._world.storage_backend != "sqlite":
            return self._legacy_transaction(closure)

        async def run():
            storage = host.storage
            savepoint = storage.begin(instance)
            txn = DurableObjectTransaction(instance, savepoint)
            try:
                result = closure(txn)
                if hasattr(result, "__await__"):
                    result = await result
            except BaseException:
                storage.end(savepoint, keep=False)
                raise
            else:
                storage.end(savepoint, keep=True)  # after txn.rollback() the savepoint is empty
            finally:
                txn._finished = True
            if not storage.txn_depth:
                instance.output_gate.note_write()
            return result

        return instance.open_section_for(run, critical=False)

    def _legacy_transaction(self, closure):
        """A KV-backed object's transaction, as workerd's ActorCache runs it: the closure's
        writes stay in the transaction's own layer (`ctx.storage` does not see them) until it
        commits; a throw or `txn.rollback()` drops the layer."""
        instance = self._instance
        host = self._host

        async def run():
            layer = _TransactionLayer(host.store)
            txn = DurableObjectTransaction(instance, None, layer)
            host.storage.txn_depth += 1  # for deleteAll's check; flushes go on meanwhile
            try:
                result = closure(txn)
                if hasattr(result, "__await__"):
                    result = await result
            finally:
                host.storage.txn_depth -= 1
                txn._finished = True
            if instance.alive and not txn._rolled_back and layer.apply():
                instance.output_gate.note_write()
            return result

        return instance.open_section_for(run, critical=False)

    def transactionSync(self, callback=None):
        """Run a synchronous `callback` atomically; nested calls use savepoints."""
        require_function(callback, "transactionSync", "DurableObjectStorage")
        self._usable("transactionSync()")
        if self._world.storage_backend != "sqlite":
            raise JsError("Durable Object is not backed by SQL.")
        if not callable(callback):
            raise TypeError("Failed to execute 'transactionSync' on 'DurableObjectStorage': "
                            "parameter 1 is not of type 'Function'.")
        storage = self._host.storage
        storage.sql_storage()  # a SQLite-only API: the object's own database takes part
        savepoint = storage.begin(self._instance)
        try:
            result = callback()
        except BaseException:
            storage.end(savepoint, keep=False)
            raise
        storage.end(savepoint, keep=True)
        if not storage.txn_depth:
            self._instance.output_gate.note_write()
        return through_js(result)  # the callback's value went to JavaScript and back

    def sync(self):
        """Resolves once every pending write, `allowUnconfirmed` ones included, is durable."""
        self._usable("sync()")
        self._instance.output_gate.confirm()
        return self._done(None)


@js_api
class DurableObjectTransaction(_StorageOperations):
    """The `txn` a `transaction()` closure receives."""

    _OPS = ("get", "put", "delete", "list", "getAlarm", "setAlarm", "deleteAlarm")
    _interface = "DurableObjectTransaction"

    def __init__(self, instance, savepoint=None, layer=None):
        super().__init__(instance)
        self._savepoint = savepoint  # SQLite-backed objects: from ObjectStore.begin
        self._layer = layer  # KV-backed objects: the transaction's own writes
        self._rolled_back = False
        self._finished = False

    def _usable(self, op: str):
        if self._rolled_back:
            raise JsError(f"Cannot {op} on rolled back transaction")
        if self._finished:
            raise JsError(
                f"Cannot call {op} on transaction that has already committed: did you move `txn` "
                "outside of the closure?"
            )
        store = super()._usable(op)
        return store if self._layer is None else self._layer

    def rollback(self) -> None:
        """Discard this transaction's writes; the transaction still resolves normally."""
        if self._rolled_back:
            return
        if self._finished:
            self._usable("rollback()")
        if self._layer is not None:
            self._layer.clear()
        else:
            self._host.storage.rollback(self._savepoint)
        self._rolled_back = True

    def deleteAll(self, options=None):
        raise JsError("Cannot call deleteAll() within a transaction")


@js_api
class SyncKvStorage:
    """`ctx.storage.kv`: the same keys as the async KV methods, but synchronous (SQLite-backed
    objects only). No await, so nothing can interleave with it at all."""

    def __init__(self, storage: DurableObjectStorage):
        self._storage = storage

    def get(self, key):
        store = self._storage._usable("get()")
        raw = store.get(coerce_key(key))
        self._storage._world._counters.storage_read(self._storage._host, 1)
        return None if raw is None else _codec.deserialize(raw)

    def put(self, key, value=_MISSING) -> None:
        if value is _MISSING:
            raise TypeError("Failed to execute 'put' on 'SyncKvStorage': parameter 2 is not of type 'Value'.")
        store = self._storage._usable("put()")
        store.put(coerce_key(key), _codec.serialize(value))
        self._storage._world._counters.storage_write(self._storage._host, 1)
        self._storage._wrote()

    def delete(self, key) -> bool:
        store = self._storage._usable("delete()")
        existed = store.delete(coerce_key(key))
        self._storage._world._counters.storage_delete(self._storage._host, 1)
        self._storage._wrote()
        return existed

    def list(self, options=None):
        """An iterator of `[key, value]` pairs in key order (same options as `storage.list`)."""
        store = self._storage._usable("list()")
        rows = store.list(**parse_list_options(options, "SyncKvStorage"))
        self._storage._world._counters.storage_read(self._storage._host, max(len(rows), 1))
        return iter([[key, _codec.deserialize(raw)] for key, raw in rows])


_NO_ALARM_CHANGE = object()


class _TransactionLayer:
    """The writes of a KV-backed object's transaction, over the object's store: reads through
    `txn` see them first; nothing reaches the store before `apply()`. It answers the store
    methods `_StorageOperations` calls, with the store's own checks and limits."""

    def __init__(self, store):
        self._store = store
        self._writes: dict[str, bytes | None] = {}
        self._alarm = _NO_ALARM_CHANGE

    def clear(self) -> None:
        self._writes.clear()
        self._alarm = _NO_ALARM_CHANGE

    def get(self, key: str):
        if key in self._writes:
            return self._writes[key]
        return self._store.get(key)

    def get_many(self, keys: list[str]):
        found = dict(self._store.get_many(keys))  # the store checks the 128-key limit
        for key in keys:
            if key in self._writes:
                value = self._writes[key]
                if value is None:
                    found.pop(key, None)
                else:
                    found[key] = value
        return sorted(found.items())

    def put(self, key: str, value: bytes) -> None:
        self._store._check_put(key, value)
        self._writes[key] = value

    def put_many(self, items) -> None:
        for key, value in items:
            self._store._check_put(key, value)
        self._writes.update(items)

    def delete(self, key: str) -> bool:
        existed = self.get(key) is not None
        self._writes[key] = None
        return existed

    def delete_many(self, keys: list[str]) -> int:
        unique = list(dict.fromkeys(keys))
        existed = sum(1 for key in unique if self.get(key) is not None)
        for key in unique:
            self._writes[key] = None
        return existed

    def list(self, *, reverse: bool = False, limit: int | None = None, **bounds):
        # Everything in range from the store, then this layer's writes in the same range
        # (a key is in range when the store's own range filter keeps it).
        rows = dict(self._store.list(**bounds))
        for key, value in self._writes.items():
            if value is None:
                rows.pop(key, None)
            elif _in_range(key, **bounds):
                rows[key] = value
        ordered = sorted(rows.items(), reverse=reverse)
        return ordered if limit is None else ordered[:limit]

    def get_alarm(self):
        return self._store.get_alarm() if self._alarm is _NO_ALARM_CHANGE else self._alarm

    def set_alarm(self, ms) -> None:
        self._alarm = ms

    def apply(self) -> bool:
        """Commit into the object's pending batch; returns whether anything was written."""
        puts = [(k, v) for k, v in self._writes.items() if v is not None]
        deletes = [k for k, v in self._writes.items() if v is None]
        if puts:
            self._store.put_many(puts)
        if deletes:
            self._store.delete_many(deletes)
        if self._alarm is not _NO_ALARM_CHANGE:
            self._store.set_alarm(self._alarm)
        return bool(puts or deletes or self._alarm is not _NO_ALARM_CHANGE)


def _in_range(key: str, *, start=None, start_after=None, end=None, prefix=None) -> bool:
    """Whether `list()` with these options would include `key` (semantics 3.5)."""
    if start is not None and key < start:
        return False
    if start_after is not None and key <= start_after:
        return False
    if end is not None and key >= end:
        return False
    return prefix is None or key.startswith(prefix)
