"""`ctx.storage`: the Durable Object storage API (KV methods, transactions, alarms).

Every method acts when it is *called*, like a JS promise, not when it is awaited: an un-awaited
`put` still writes, and a `get` right after it sees the value. Each method therefore does its
work synchronously on the object's `KvStore` and returns an already-completed future. Awaiting a
completed future does not yield to the loop, which is exactly the input gate's promise for
storage: no other event can slip in between `await get()` and `await put()`.

Writes land in the store's pending batch and are committed at the end of the turn or before
anything leaves the object (see `Instance.confirm_writes`). Values are copied with the
structured-clone codec: a value read back is a copy, and mutating it changes nothing stored.
"""

from __future__ import annotations

import datetime
import math

from . import codec as _codec
from .errors import JsError
from .kvstore import parse_list_options
from .values import js_string

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
        return [js_string(k) for k in keys]
    return js_string(keys)


def alarm_time_ms(value) -> int:
    """The ms timestamp `setAlarm` accepts: a number or a datetime, checked like workerd."""
    if isinstance(value, datetime.datetime):
        value = value.timestamp() * 1000
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            "Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'date'."
        )
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise TypeError("The value cannot be converted because it is not a valid Date.")
    if value <= 0:
        raise TypeError("setAlarm() cannot be called with an alarm time <= 0")
    return int(value)


class _StorageOperations:
    """The methods `ctx.storage` and a transaction's `txn` share."""

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
        future = loop.create_future()
        if options and isinstance(options, dict) and options.get("allowConcurrency"):
            # allowConcurrency leaves the input gate open while the read is in flight.
            loop.call_soon(future.set_result, value)
        else:
            future.set_result(value)
        return future

    def _wrote(self, options=None) -> None:
        unconfirmed = bool(options and isinstance(options, dict) and options.get("allowUnconfirmed"))
        self._instance.note_write(confirmed=not unconfirmed)

    def _trace(self, op: str, keys) -> None:
        self._world.trace.record(f"storage:{op}", self._host, detail=keys)

    # ----- KV methods -----

    def get(self, keys=_MISSING, options=None):
        """A value (or None), or for a list of keys a dict of the keys that exist, in key order."""
        store = self._usable("get()")
        keys = _keys_argument("get", keys)
        self._trace("get", keys)
        metrics = self._world.counters
        if isinstance(keys, list):
            rows = store.get_many(keys)
            metrics.storage_read(self._host, max(len(rows), 1))
            value = {key: _codec.deserialize(raw) for key, raw in rows}
        else:
            raw = store.get(keys)
            metrics.storage_read(self._host, 1)
            value = None if raw is None else _codec.deserialize(raw)
        return self._done(value, options)

    def put(self, key_or_entries=_MISSING, value=_MISSING, options=None):
        """Write one key, or every entry of a dict. Resolves at once; committed at the turn's end."""
        store = self._usable("put()")
        if isinstance(key_or_entries, dict):
            if value is not _MISSING and value is not None and not isinstance(value, dict):
                raise TypeError(PUT_OVERLOAD_MESSAGE)
            if isinstance(value, dict):
                options = value
            items = [(js_string(k), _codec.serialize(v)) for k, v in key_or_entries.items()]
            store.put_many(items)
            self._trace("put", [k for k, _ in items])
            self._world.counters.storage_write(self._host, len(items))
        else:
            if key_or_entries is _MISSING:
                raise TypeError(
                    "Failed to execute 'put' on 'DurableObjectStorage': parameter 1 is not of type "
                    "'string or object'."
                )
            if value is _MISSING:
                raise TypeError("put() called with undefined value.")
            key = js_string(key_or_entries)
            store.put(key, _codec.serialize(value))
            self._trace("put", key)
            self._world.counters.storage_write(self._host, 1)
        self._wrote(options)
        return self._done(None)

    def delete(self, keys=_MISSING, options=None):
        """True if the key existed; for a list of keys, how many existed."""
        store = self._usable("delete()")
        keys = _keys_argument("delete", keys)
        if isinstance(keys, list):
            result = store.delete_many(keys)
            self._world.counters.storage_delete(self._host, len(keys))
        else:
            result = store.delete(keys)
            self._world.counters.storage_delete(self._host, 1)
        self._trace("delete", keys)
        self._wrote(options)
        return self._done(result)

    def list(self, options=None):
        """A dict of the keys in range, in UTF-8 byte order (see semantics §3.5 for the options)."""
        store = self._usable("list()")
        kwargs = parse_list_options(options)
        rows = store.list(**kwargs)
        self._trace("list", kwargs.get("prefix") or kwargs.get("start") or "")
        self._world.counters.storage_read(self._host, max(len(rows), 1))
        return self._done({key: _codec.deserialize(raw) for key, raw in rows}, options)

    # ----- alarms -----

    def getAlarm(self, options=None):
        """The scheduled time in ms, or None (also None while the alarm handler runs)."""
        store = self._usable("getAlarm()")
        value = store.get_alarm()
        if self._host.alarms.hides(value):
            value = None  # the alarm that is running is no longer "set"
        return self._done(value, options)

    def setAlarm(self, scheduled_time=_MISSING, options=None):
        """Replace the object's one alarm. A time in the past means "as soon as possible"."""
        store = self._usable("setAlarm()")
        ms = alarm_time_ms(None if scheduled_time is _MISSING else scheduled_time)
        instance = self._instance
        if not instance.in_constructor and not hasattr(type(instance.obj), "alarm"):
            raise TypeError("Your Durable Object class must have an alarm() handler in order to call setAlarm()")
        ms = max(ms, self._world.now())
        store.set_alarm(ms)
        self._host.alarm_dirty = True
        self._host.alarms.set_during_run(ms)
        self._world.trace.record("alarm:set", self._host, detail=ms)
        self._world.counters.storage_write(self._host, 1)
        self._wrote(options)
        return self._done(None)

    def deleteAlarm(self, options=None):
        store = self._usable("deleteAlarm()")
        store.set_alarm(None)
        self._host.alarm_dirty = True
        self._host.alarms.set_during_run(None)
        self._world.trace.record("alarm:delete", self._host)
        self._wrote(options)
        return self._done(None)


class DurableObjectStorage(_StorageOperations):
    """`ctx.storage`."""

    @property
    def sql(self):
        """The SQL API over the object's own SQLite database (SQLite-backed classes only)."""
        self._usable("sql")
        if self._world.storage_backend != "sqlite":
            raise JsError(SQL_NOT_AVAILABLE)
        return self._host.sql_storage()

    @property
    def kv(self) -> "SyncKvStorage":
        """The synchronous KV API (SQLite-backed classes only): plain values, no awaits."""
        if self._world.storage_backend != "sqlite":
            raise JsError(SYNC_KV_NOT_AVAILABLE)
        return SyncKvStorage(self)

    def deleteAll(self, options=None):
        """Delete every key (and, from compatibility date 2026-02-24, the alarm) atomically."""
        store = self._usable("deleteAll()")
        if self._host.storage_txn_depth:
            raise JsError("Cannot call deleteAll() within a transaction")
        deletes_alarm = self._world.compat.delete_all_deletes_alarm
        store.delete_all(deletes_alarm)
        self._host.sql_delete_all()  # on SQLite-backed objects the whole database goes
        if deletes_alarm:
            self._host.alarm_dirty = True
        self._trace("deleteAll", None)
        self._world.counters.storage_delete(self._host, 1)
        self._wrote(options)
        return self._done(None)

    def transaction(self, closure, options=None):
        """Run `closure(txn)` atomically and alone: a throw rolls back every write, no reset."""
        self._usable("transaction()")
        instance = self._instance
        host = self._host

        if self._world.storage_backend != "sqlite":
            return self._legacy_transaction(closure)

        async def run():
            savepoint = host.txn_savepoint()
            host.storage_txn_depth += 1
            txn = DurableObjectTransaction(instance, savepoint)
            try:
                result = closure(txn)
                if hasattr(result, "__await__"):
                    result = await result
            except BaseException:
                if instance.alive:
                    host.txn_rollback(savepoint)
                txn._finished = True
                raise
            finally:
                host.storage_txn_depth -= 1
            if instance.alive:
                host.txn_release(savepoint)  # after txn.rollback() the savepoint is empty: releasing keeps nothing
            txn._finished = True
            if not host.storage_txn_depth:
                instance.note_write()
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
            host.storage_txn_depth += 1  # for deleteAll's check; flushes go on meanwhile
            try:
                result = closure(txn)
                if hasattr(result, "__await__"):
                    result = await result
            finally:
                host.storage_txn_depth -= 1
                txn._finished = True
            if instance.alive and not txn._rolled_back and layer.apply():
                instance.note_write()
            return result

        return instance.open_section_for(run, critical=False)

    def transactionSync(self, callback):
        """Run a synchronous `callback` atomically; nested calls use savepoints."""
        self._usable("transactionSync()")
        if self._world.storage_backend != "sqlite":
            raise JsError("Durable Object is not backed by SQL.")
        host = self._host
        host.sql_storage()  # a SQLite-only API: the object's own database takes part
        savepoint = host.txn_savepoint()
        host.storage_txn_depth += 1
        try:
            result = callback()
        except BaseException:
            host.txn_rollback(savepoint)
            raise
        else:
            host.txn_release(savepoint)
        finally:
            host.storage_txn_depth -= 1
        if not self._host.storage_txn_depth:
            self._instance.note_write()
        return result

    def sync(self):
        """Resolves once every pending write, `allowUnconfirmed` ones included, is durable."""
        self._usable("sync()")
        self._instance.confirm_writes()
        return self._done(None)


class DurableObjectTransaction(_StorageOperations):
    """The `txn` a `transaction()` closure receives."""

    _OPS = ("get", "put", "delete", "list", "getAlarm", "setAlarm", "deleteAlarm")

    def __init__(self, instance, savepoint=None, layer=None):
        super().__init__(instance)
        self._savepoint = savepoint  # SQLite-backed objects: from ObjectHost.txn_savepoint
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
            self._host.txn_rollback(self._savepoint, release=False)
        self._rolled_back = True

    def deleteAll(self, options=None):
        raise JsError("Cannot call deleteAll() within a transaction")


class SyncKvStorage:
    """`ctx.storage.kv`: the same keys as the async KV methods, but synchronous (SQLite-backed
    objects only). No await, so nothing can interleave with it at all."""

    def __init__(self, storage: DurableObjectStorage):
        self._storage = storage

    def get(self, key):
        store = self._storage._usable("get()")
        raw = store.get(js_string(key))
        self._storage._world.counters.storage_read(self._storage._host, 1)
        return None if raw is None else _codec.deserialize(raw)

    def put(self, key, value=_MISSING) -> None:
        store = self._storage._usable("put()")
        if value is _MISSING:
            raise TypeError("put() called with undefined value.")
        store.put(js_string(key), _codec.serialize(value))
        self._storage._world.counters.storage_write(self._storage._host, 1)
        self._storage._wrote()

    def delete(self, key) -> bool:
        store = self._storage._usable("delete()")
        existed = store.delete(js_string(key))
        self._storage._world.counters.storage_delete(self._storage._host, 1)
        self._storage._wrote()
        return existed

    def list(self, options=None):
        """An iterator of `[key, value]` pairs in key order (same options as `storage.list`)."""
        store = self._storage._usable("list()")
        rows = store.list(**parse_list_options(options))
        self._storage._world.counters.storage_read(self._storage._host, max(len(rows), 1))
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
