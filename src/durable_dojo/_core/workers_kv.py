"""Workers KV (`env.CACHE`): the eventually consistent contrast case to Durable Objects.

`Runtime(kv_namespaces=["CACHE"])` binds a `KVNamespace` as `env.CACHE`. Its methods have the
JavaScript names and the Python calling style of the Python Workers SDK:

```python
await env.CACHE.put("greeting", "hello", {"expirationTtl": 120, "metadata": {"v": 1}})
await env.CACHE.put("greeting", "hello", expirationTtl=120)      # keywords work too
await env.CACHE.get("greeting")                                  # "hello" (or None)
await env.CACHE.get("config", "json")                            # JsDict / list / number
await env.CACHE.get("blob", {"type": "arrayBuffer", "cacheTtl": 300})   # memoryview
await env.CACHE.getWithMetadata("greeting")   # {"value", "metadata", "cacheStatus"}
await env.CACHE.delete("greeting")
await env.CACHE.list({"prefix": "user:", "limit": 10, "cursor": c})
#   -> {"keys": [{"name", "expiration"?, "metadata"?}], "list_complete", "cursor"?, "cacheStatus"}
```

Every call returns an awaitable (`WorldCall`) that resolves after `KV_LATENCY` virtual seconds.
Inside a Durable Object, awaiting it opens the input gate like any non-storage I/O (semantics
4.3): other requests may run meanwhile, so a read-modify-write through KV can lose updates.
Awaiting works the same from a Durable Object, a Worker, a test or a notebook cell.

The consistency model (semantics 10.1, scenario 25), deterministic on the virtual clock:

* One **central store** holds the truth. Each **location** (`LOCATIONS`, real colo codes) has
  an edge cache of what it last read or wrote, with the time it got it.
* Code runs *somewhere*. A Durable Object sits at a fixed location derived from its ID and the
  world seed (`location_of(stub)`). Worker code, tests and notebooks run at the world's home
  location (`Runtime.kv_home_location`, `HOME_LOCATION` unless set). `env.CACHE.at("SFO")` is a
  view of the namespace pinned to another location, for tests and notebooks.
* A write (put or delete) goes to the central store and refreshes the writer's own cache, so the
  writer sees it at once.
* A read uses the location's cached entry while it is younger than the cache TTL: the read's
  `cacheTtl` option (at least 60) or else the world default (`Runtime.kv_cache_ttl`, 60 s).
  Misses are cached too (negative caching). Otherwise it reads the central store and caches
  what it found. `cacheStatus` says "HIT" or "MISS".
* So another location that read the key recently sees the old value (or the old miss) until its
  copy is older than the TTL: up to 60 s. Simplifications: a location that never read the key
  sees a write at once (on the platform propagation can take longer even then); there is no
  background refresh of hot keys; `list()` always reads the central store.

Limits and their errors follow workerd's `api/kv.c++` (checks done in the runtime) and
miniflare's KV validator (checks the KV service does). Client-side errors (key name, value
type) fail the returned awaitable at once; service errors (`KV PUT failed: 413 ...`) arrive
after the latency, as a failed response would. `1 write per second per key` is enforced
strictly at the central store: a second `put` of the same key less than `WRITE_INTERVAL`
virtual seconds after the last accepted one fails with `KV PUT failed: 429 Too Many Requests`
(turn it off with `Runtime.kv_write_limit = False`).

Every operation is recorded in the trace (`kv:get`, `kv:put`, `kv:delete`, `kv:list`, with the
namespace, key, location and cache status in `detail`) and counted in `stats()`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import math

from .codec import JsDict, _property_entries
from . import gates as _gates
from .errors import JsError, RangeError, sdk_type_error
from .ffi import js_api
from .loop import current_scope
from .stubs import WorldCall
from .values import check_json_nesting, js_number_string, js_string
from .trace import Kind

__all__ = ["KVNamespace", "KVReadableStream", "LOCATIONS", "HOME_LOCATION", "KV_LATENCY", "object_location"]

KV_LATENCY = 0.005  # virtual seconds every KV operation takes (a round trip to the edge)
LOCATIONS = ("IAD", "SFO", "LHR", "FRA", "NRT", "SIN", "SYD", "GRU")  # Cloudflare colo codes
HOME_LOCATION = "IAD"  # where Worker code, tests and notebooks run unless told otherwise

# Limits ([docs:/kv/platform/limits/], [workerd:api/kv.c++], miniflare `workers/kv/constants.ts`).
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 25 * 1024 * 1024
MAX_METADATA_BYTES = 1024
MIN_CACHE_TTL = 60  # the docs' minimum; newer miniflare and the live limits page say 30
MIN_EXPIRATION_TTL = 60
MAX_LIST_KEYS = 1000
MAX_BULK_GET_KEYS = 100
WRITE_INTERVAL = 1.0  # "Writes to same key: 1 per second"
_MAX_SAFE_INTEGER = 2**53 - 1
_STREAM_CHUNK = 64 * 1024

PUT_TYPE_MESSAGE = "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."
UNKNOWN_TYPE_MESSAGE = 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'
RATE_LIMITED_MESSAGE = "KV PUT failed: 429 Too Many Requests"


# --------------------------------------------------------------------------- locations


def object_location(world, object_key: str) -> str:
    """The location of a Durable Object: a hash of its hex ID and the world seed."""
    digest = hashlib.sha256(f"{world.seed}:{object_key}".encode()).digest()
    return LOCATIONS[int.from_bytes(digest[:8], "big") % len(LOCATIONS)]


def _canonical_location(location) -> str:
    name = str(location).upper()
    if name not in LOCATIONS:
        raise ValueError(f"Unknown KV location {location!r}: choose one of {', '.join(LOCATIONS)}.")
    return name


# --------------------------------------------------------------------------- stored data


class _Entry:
    """One key in the central store. Immutable: a put replaces it, so caches can share it."""

    __slots__ = ("value", "metadata", "expiration")

    def __init__(self, value: bytes, metadata: str | None, expiration: int | None):
        self.value = value  # the bytes KV stores
        self.metadata = metadata  # JSON text, or None
        self.expiration = expiration  # seconds since the epoch, or None

    def expired(self, now_ms: int) -> bool:
        return self.expiration is not None and now_ms >= self.expiration * 1000


class _Cached:
    """What one location remembers about a key: an entry, or None for a cached miss."""

    __slots__ = ("entry", "fetched_at")

    def __init__(self, entry: _Entry | None, fetched_at: float):
        self.entry = entry
        self.fetched_at = fetched_at  # virtual loop seconds


class _Store:
    """The state one namespace shares between all its views (`at(...)`)."""

    def __init__(self):
        self.central: dict[str, _Entry] = {}
        self.caches: dict[str, dict[str, _Cached]] = {}
        self.last_write: dict[str, float] = {}
        self.counts = {"reads": 0, "writes": 0, "deletes": 0, "lists": 0, "cacheHits": 0, "cacheMisses": 0,
                       "rateLimited": 0}


class KVReadableStream:
    """What `get(key, "stream")` returns: the value as an async iterable of byte chunks.

    A stand-in for the JavaScript `ReadableStream`: `async for chunk in stream` reads it once.
    It can also be passed back to `put()` as a value, as a ReadableStream can.
    """

    def __init__(self, data: bytes):
        self._data = data
        self.locked = False

    def __aiter__(self):
        if self.locked:
            raise TypeError("This ReadableStream is currently locked to a reader.")
        self.locked = True
        return self._chunks()

    async def _chunks(self):
        data = self._data
        for start in range(0, len(data), _STREAM_CHUNK):
            yield data[start:start + _STREAM_CHUNK]

    def __repr__(self) -> str:
        return f"<ReadableStream {len(self._data)} bytes{' (read)' if self.locked else ''}>"


# --------------------------------------------------------------------------- the binding


@js_api(returns_promises=True)
class KVNamespace:
    """`env.CACHE`: a Workers KV namespace, eventually consistent across locations.

    `get`, `getWithMetadata`, `put`, `delete` and `list` return awaitables. `at(location)` gives
    a view bound to one location; `location_of(stub)` says where a Durable Object reads from;
    `stats()` counts operations; `peek(key)` shows the central value and every location's cache.
    """

    def __init__(self, world, name: str, *, location: str | None = None, _store: _Store | None = None):
        self._world = world
        self.name = name
        self._location = None if location is None else _canonical_location(location)
        self._store = _store if _store is not None else _Store()

    def __repr__(self) -> str:
        where = f" at {self._location}" if self._location else ""
        return f"<KVNamespace {self.name}{where}>"

    # JavaScript objects are neither iterable nor sized; the SDK says so in these words.
    def __iter__(self):
        raise TypeError("'KvNamespace' object is not iterable")

    def __len__(self):
        raise TypeError("'KvNamespace' object has no len()")

    # ----- locations -----

    def at(self, location: str) -> "KVNamespace":
        """A view of this namespace whose calls run at `location` (one of `LOCATIONS`)."""
        return KVNamespace(self._world, self.name, location=location, _store=self._store)

    @property
    def location(self) -> str | None:
        """The location this view is pinned to (None: wherever the calling code runs)."""
        return self._location

    def location_of(self, target) -> str:
        """Where a Durable Object reads KV from: give a stub, an ID, or a 64-hex ID string."""
        key = getattr(getattr(target, "_host", None), "key", None) or getattr(target, "key", None)
        if key is None:
            key = target.toString() if hasattr(target, "toString") else str(target)
        return object_location(self._world, key)

    def current_location(self) -> str:
        """The location a call made right now, from the running code, would use."""
        if self._location is not None:
            return self._location
        scope = current_scope.get()
        if scope is not None:
            return object_location(self._world, scope.instance.host.key)
        return _canonical_location(self._world.kv_home_location)

    # ----- the API -----

    def get(self, key, options=None, **kwargs) -> WorldCall:
        """The value of `key` (None if missing). `options`: a type ("text", "json",
        "arrayBuffer", "stream") or `{"type": ..., "cacheTtl": seconds}`. A list of keys gives
        a dict of values (bulk read, "text" or "json" only)."""
        return self._get_any(key, options, kwargs, with_metadata=False)

    def getWithMetadata(self, key, options=None, **kwargs) -> WorldCall:
        """`{"value", "metadata", "cacheStatus"}` for `key`; options as for `get`."""
        return self._get_any(key, options, kwargs, with_metadata=True)

    def put(self, key, value, options=None, **kwargs) -> WorldCall:
        """Store `value` (str, bytes, memoryview or a stream) under `key`. Options:
        `expiration` (epoch seconds), `expirationTtl` (seconds, at least 60), `metadata`
        (JSON-serialisable, at most 1024 bytes)."""
        if isinstance(value, (tuple, bytearray)):  # the SDK refuses these before calling KV
            raise sdk_type_error(f"{type(value)} cannot be sent over RPC.")
        label = f"{self.name}.put()"
        try:
            key = _key_name("PUT", key)
            label = f"{self.name}.put({key!r})"
            opts = _options(options, kwargs, "put")
            metadata_json = None
            if opts.get("metadata") is not None:
                metadata_json = _json_stringify(opts["metadata"])
            body = _put_body(value)
        except Exception as exc:  # noqa: BLE001 - a rejected promise, as in workerd
            return self._failed(exc, label)
        expiration = opts.get("expiration")
        expiration_ttl = opts.get("expirationTtl")

        def serve(loc, host, request):
            store = self._store
            world = self._world
            now_ms = world.now()
            now_s = now_ms // 1000
            when = None
            if expiration_ttl is not None:
                ttl = _to_int(expiration_ttl)
                if ttl <= 0:
                    raise JsError(f"KV PUT failed: 400 Invalid expiration_ttl of {ttl}. "
                                  "Please specify integer greater than 0.")
                if ttl < MIN_EXPIRATION_TTL:
                    raise JsError(f"KV PUT failed: 400 Invalid expiration_ttl of {ttl}. "
                                  f"Expiration TTL must be at least {MIN_EXPIRATION_TTL}.")
                when = now_s + ttl
            elif expiration is not None:
                when = _to_int(expiration)
                if when <= now_s:
                    raise JsError(f"KV PUT failed: 400 Invalid expiration of {when}. Please specify integer "
                                  "greater than the current number of seconds since the UNIX epoch.")
                if when < now_s + MIN_EXPIRATION_TTL:
                    raise JsError(f"KV PUT failed: 400 Invalid expiration of {when}. Expiration times must "
                                  f"be at least {MIN_EXPIRATION_TTL} seconds in the future.")
            if metadata_json is not None:
                size = len(metadata_json.encode())
                if size > MAX_METADATA_BYTES:
                    raise JsError(f"KV PUT failed: 413 Metadata length of {size} exceeds limit of "
                                  f"{MAX_METADATA_BYTES}.")
            if len(body) > MAX_VALUE_BYTES:
                raise JsError(f"KV PUT failed: 413 Value length of {len(body)} exceeds limit of {MAX_VALUE_BYTES}.")
            now = world.loop.time()
            last = store.last_write.get(key)
            if (last is not None and now - last < WRITE_INTERVAL
                    and world.kv_write_limit):
                store.counts["rateLimited"] += 1
                self._trace(Kind.KV_PUT, host, request, f"{self.name} {key!r} @{loc}: 429 (1 write/s per key)")
                raise JsError(RATE_LIMITED_MESSAGE)
            entry = _Entry(body, metadata_json, when)
            store.central[key] = entry
            store.caches.setdefault(loc, {})[key] = _Cached(entry, now)
            store.last_write[key] = now
            store.counts["writes"] += 1
            self._trace(Kind.KV_PUT, host, request, f"{self.name} {key!r} @{loc}: stored")
            return None

        return self._submit(label, serve, leaving=True)

    def delete(self, key) -> WorldCall:
        """Remove `key` (nothing happens if it is missing)."""
        label = f"{self.name}.delete()"
        try:
            key = _key_name("DELETE", key)
            label = f"{self.name}.delete({key!r})"
        except Exception as exc:  # noqa: BLE001
            return self._failed(exc, label)

        def serve(loc, host, request):
            store = self._store
            now = self._world.loop.time()
            store.central.pop(key, None)
            store.caches.setdefault(loc, {})[key] = _Cached(None, now)
            store.counts["deletes"] += 1
            self._trace(Kind.KV_DELETE, host, request, f"{self.name} {key!r} @{loc}: deleted")
            return None

        return self._submit(label, serve, leaving=True)

    def list(self, options=None, **kwargs) -> WorldCall:
        """Keys in UTF-8 byte order: `{"keys": [...], "list_complete": bool, "cursor"?: str,
        "cacheStatus": None}`. Options: `prefix`, `limit` (1..1000, default 1000), `cursor`."""
        label = f"{self.name}.list()"
        try:
            opts = _options(options, kwargs, "list")
            prefix = opts.get("prefix")
            prefix = None if prefix is None else js_string(prefix)
            cursor = opts.get("cursor")
            cursor = None if cursor is None else js_string(cursor)
            limit = opts.get("limit")
            limit = None if limit is None else _to_int(limit)
        except Exception as exc:  # noqa: BLE001
            return self._failed(exc, label)
        if limit is not None and limit <= 0:
            limit = None  # workerd sends the limit only when it is positive

        def serve(loc, host, request):
            store = self._store
            if limit is not None and limit > MAX_LIST_KEYS:
                raise JsError(f"KV GET failed: 400 Invalid key_count_limit of {limit}. "
                              f"Please specify an integer less than {MAX_LIST_KEYS}.")
            if prefix is not None:
                _check_key_length("GET", prefix)
            after = None
            if cursor:
                after = _decode_cursor(cursor)
            now_ms = self._world.now()
            self._purge_expired(now_ms)
            names = sorted(store.central, key=lambda k: k.encode())
            matching = [k for k in names
                        if (prefix is None or k.startswith(prefix)) and (after is None or k.encode() > after)]
            page_size = MAX_LIST_KEYS if limit is None else limit
            page = matching[:page_size]
            keys = []
            for name in page:
                entry = store.central[name]
                item = JsDict(name=name)
                if entry.expiration is not None:
                    item["expiration"] = entry.expiration
                if entry.metadata is not None:
                    metadata = _json_parse(entry.metadata)
                    if metadata is not None:
                        item["metadata"] = metadata
                keys.append(item)
            result = JsDict(keys=keys, list_complete=len(matching) <= page_size)
            if not result["list_complete"]:
                result["cursor"] = _encode_cursor(page[-1])
            result["cacheStatus"] = None
            store.counts["lists"] += 1
            self._trace(Kind.KV_LIST, host, request,
                        f"{self.name} prefix={prefix!r} @{loc}: {len(keys)} keys"
                        + ("" if result["list_complete"] else ", more"))
            return result

        return self._submit(label, serve)

    # ----- observation -----

    def stats(self) -> dict:
        """Operation counts for this namespace (all views): reads, writes, deletes, lists, and
        cacheHits / cacheMisses per key read, rateLimited puts."""
        return dict(self._store.counts)

    def peek(self, key) -> dict:
        """What the central store and each location's cache hold for `key`, without an operation:
        `{"central": value, "SFO": {"value": ..., "age": seconds, "fresh": bool}, ...}`
        (values as text, None for a missing key or a cached miss)."""
        key = js_string(key)
        world = self._world
        now_ms = world.now()
        now = world.loop.time()
        ttl = float(world.kv_cache_ttl)

        def text(entry):
            if entry is None or entry.expired(now_ms):
                return None
            return entry.value.decode("utf-8", "replace")

        out: dict = {"central": text(self._store.central.get(key))}
        for loc in LOCATIONS:
            cached = self._store.caches.get(loc, {}).get(key)
            if cached is not None:
                age = now - cached.fetched_at
                out[loc] = {"value": text(cached.entry), "age": age, "fresh": age < ttl}
        return out

    # ----- internals -----

    def _get_any(self, key, options, kwargs, *, with_metadata: bool) -> WorldCall:
        if isinstance(key, (tuple, bytearray)):  # the SDK refuses these before calling KV
            raise TypeError(f"{type(key)} cannot be sent over RPC.")
        if isinstance(key, list):
            return self._get_bulk(key, options, kwargs, with_metadata=with_metadata)
        return self._get(key, options, kwargs, with_metadata=with_metadata)

    def _get(self, key, options, kwargs, *, with_metadata: bool) -> WorldCall:
        method = "getWithMetadata" if with_metadata else "get"
        label = f"{self.name}.{method}()"
        try:
            key = _key_name("GET", key)
            label = f"{self.name}.{method}({key!r})"
            type_, cache_ttl = _get_options(options, kwargs)
        except Exception as exc:  # noqa: BLE001
            return self._failed(exc, label)

        def serve(loc, host, request):
            ttl = self._cache_ttl(cache_ttl, "GET")
            entry, status = self._read(loc, key, ttl)
            self._store.counts["reads"] += 1
            shown = "missing" if entry is None else "found"
            self._trace(Kind.KV_GET, host, request, f"{self.name} {key!r} @{loc}: {status}, {shown}")
            value = None if entry is None else _decode_value(entry.value, type_)
            if not with_metadata:
                return value
            metadata = None
            if entry is not None and entry.metadata is not None:
                metadata = _json_parse(entry.metadata)
            return JsDict(value=value, metadata=metadata, cacheStatus=status)

        return self._submit(label, serve)

    def _get_bulk(self, keys, options, kwargs, *, with_metadata: bool) -> WorldCall:
        method = "getWithMetadata" if with_metadata else "get"
        label = f"{self.name}.{method}([{len(keys)} keys])"
        try:
            names = [js_string(k) for k in keys]
            type_, cache_ttl = _get_options(options, kwargs)
        except Exception as exc:  # noqa: BLE001
            return self._failed(exc, label)

        def serve(loc, host, request):
            if type_ not in ("text", "json"):
                raise JsError(f'KV GET_BULK failed: 400 "{type_}" is not a valid type. Use "json" or "text"')
            if len(names) > MAX_BULK_GET_KEYS:
                raise JsError(f"KV GET_BULK failed: 400 You can request a maximum of {MAX_BULK_GET_KEYS} keys")
            if not names:
                raise JsError("KV GET_BULK failed: 400 You must request a minimum of 1 key")
            for name in names:
                _check_key_service("GET_BULK", name)
            ttl = self._cache_ttl(cache_ttl, "GET_BULK")
            out = JsDict()
            statuses = []
            for name in names:
                entry, status = self._read(loc, name, ttl)
                statuses.append(status)
                if entry is None:
                    out[name] = None
                    continue
                text = entry.value.decode("utf-8", "replace")
                if type_ == "json":
                    try:
                        value = _json_parse(text)
                    except JsError:
                        raise JsError("KV GET_BULK failed: 400 At least one of the requested keys "
                                      "corresponds to a non-json value") from None
                else:
                    value = text
                if with_metadata:
                    metadata = None if entry.metadata is None else _json_parse(entry.metadata)
                    out[name] = JsDict(value=value, metadata=metadata)
                else:
                    out[name] = value
            self._store.counts["reads"] += 1  # a bulk read is one operation
            self._trace(Kind.KV_GET, host, request, f"{self.name} {names!r} @{loc}: {', '.join(statuses)}")
            return out

        return self._submit(label, serve)

    def _cache_ttl(self, cache_ttl, method: str) -> float:
        if cache_ttl is None:
            return float(self._world.kv_cache_ttl)
        ttl = _to_int(cache_ttl)
        if ttl < MIN_CACHE_TTL:
            raise JsError(f"KV {method} failed: 400 Invalid cache_ttl of {ttl}. "
                          f"Cache TTL must be at least {MIN_CACHE_TTL}.")
        return float(ttl)

    def _read(self, loc: str, key: str, ttl: float) -> tuple[_Entry | None, str]:
        """One key read at `loc`: from its cache while fresh, else from the central store."""
        store = self._store
        world = self._world
        now = world.loop.time()
        now_ms = world.now()
        cache = store.caches.setdefault(loc, {})
        cached = cache.get(key)
        if cached is not None and now - cached.fetched_at < ttl:
            entry, status = cached.entry, "HIT"
            store.counts["cacheHits"] += 1
        else:
            entry = store.central.get(key)
            if entry is not None and entry.expired(now_ms):
                del store.central[key]
                entry = None
            cache[key] = _Cached(entry, now)
            status = "MISS"
            store.counts["cacheMisses"] += 1
        if entry is not None and entry.expired(now_ms):
            entry = None
        return entry, status

    def _purge_expired(self, now_ms: int) -> None:
        central = self._store.central
        for name in [k for k, e in central.items() if e.expired(now_ms)]:
            del central[name]

    def _caller(self):
        scope = current_scope.get()
        if scope is None:
            return None, None
        event = scope.event
        return scope.instance.host, getattr(event, "request_id", None)

    def _trace(self, kind: str, host, request, detail: str) -> None:
        self._world.trace.record(kind, host, request=request, detail=detail)

    def _submit(self, label: str, serve, *, leaving: bool = False) -> WorldCall:
        """Send one operation: it is served `KV_LATENCY` later, outside any object's gate."""
        world = self._world
        loc = self.current_location()
        host, request = self._caller()
        if leaving:
            _gates.leave_caller()  # KV writes wait for the caller's output gate (workerd)
        future = world.loop.create_future()

        def complete():
            if future.done():
                return
            try:
                result = serve(loc, host, request)
            except Exception as exc:  # noqa: BLE001 - the caller gets it when it awaits
                future.set_exception(exc)
            else:
                future.set_result(result)

        world.loop.call_later(KV_LATENCY, complete, context=world._root_context)
        return WorldCall(world, future, label)

    def _failed(self, exc: BaseException, label: str) -> WorldCall:
        future = self._world.loop.create_future()
        future.set_exception(exc)
        return WorldCall(self._world, future, label)


# --------------------------------------------------------------------------- argument checks


def _key_name(method: str, key) -> str:
    """workerd's `validateKeyName`: the checks the runtime does before any request."""
    key = js_string(key)
    if key == "":
        raise TypeError("Key name cannot be empty.")
    if key == ".":
        raise TypeError('"." is not allowed as a key name.')
    if key == "..":
        raise TypeError('".." is not allowed as a key name.')
    _check_key_length(method, key)
    return key


def _check_key_length(method: str, key: str) -> None:
    size = len(key.encode())
    if size > MAX_KEY_BYTES:
        raise JsError(f"KV {method} failed: 414 UTF-8 encoded length of {size} exceeds key length limit "
                      f"of {MAX_KEY_BYTES}.")


def _check_key_service(method: str, key: str) -> None:
    """The KV service's own key checks (bulk reads skip the runtime's)."""
    if key == "":
        raise JsError(f"KV {method} failed: 400 Key names must not be empty")
    if key in (".", ".."):
        raise JsError(f'KV {method} failed: 400 Illegal key name "{key}". Please use a different name.')
    _check_key_length(method, key)


def _options(options, kwargs: dict, method: str) -> dict:
    if options is None:
        merged = {}
    elif isinstance(options, dict):
        merged = dict(options)
    else:
        raise TypeError(f"{method}() options must be a dict (or keyword arguments), not {type(options).__name__}")
    merged.update(kwargs)
    return merged


def _get_options(options, kwargs: dict) -> tuple[str, object]:
    if isinstance(options, str):
        opts = {"type": options}
        opts.update(kwargs)
    else:
        opts = _options(options, kwargs, "get")
    type_ = opts.get("type")
    type_ = "text" if type_ is None else js_string(type_)
    return type_, opts.get("cacheTtl")


def _to_int(value) -> int:
    """A number option as workerd receives it (an integer; NaN becomes 0)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0
    if not math.isfinite(number):
        return 0
    return int(number)


def _put_body(value) -> bytes:
    if isinstance(value, str):
        return js_string(value).encode()
    if isinstance(value, (bytes, memoryview)):
        return bytes(value)
    if isinstance(value, KVReadableStream):
        if value.locked:
            raise TypeError("This ReadableStream is disturbed (has already been read from), and cannot be "
                            "used as a body.")
        value.locked = True
        return value._data
    if value is None or isinstance(value, (bool, int, float)):
        return js_string(value).encode()  # JavaScript turns a primitive into its string
    raise TypeError(PUT_TYPE_MESSAGE)


def _decode_value(data: bytes, type_: str):
    if type_ == "text":
        return data.decode("utf-8", "replace")
    if type_ == "json":
        return _json_parse(data.decode("utf-8", "replace"))
    if type_ == "arrayBuffer":
        return memoryview(data)  # what the Python SDK gives for an ArrayBuffer
    if type_ == "stream":
        return KVReadableStream(data)
    raise TypeError(UNKNOWN_TYPE_MESSAGE)


def _encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise JsError("KV GET failed: 400 Invalid cursor") from None


# --------------------------------------------------------------------------- JSON, as JavaScript does it


def _js_number(value: float):
    """A JSON number as the Python SDK hands it over: safe integers become int."""
    if value.is_integer() and abs(value) <= _MAX_SAFE_INTEGER:
        return int(value)
    return value


def _refuse_constant(name: str):
    raise ValueError(name)


def _json_parse(text: str):
    """`JSON.parse`, then the SDK's conversion: objects are JsDicts, safe integers ints."""
    check_json_nesting(text)  # json's own guard fails under Pyodide (see values.py)
    try:
        return json.loads(text, object_pairs_hook=JsDict, parse_float=lambda s: _js_number(float(s)),
                          parse_int=lambda s: _js_number(float(s)), parse_constant=_refuse_constant)
    except ValueError as exc:
        raise JsError(_json_error_message(text, exc)) from None


def _json_error_message(text: str, exc: ValueError) -> str:
    """V8's wording for a JSON.parse failure (SyntaxError), close enough to recognise."""
    if not text.strip():
        return "SyntaxError: Unexpected end of JSON input"
    pos = getattr(exc, "pos", None)
    if pos is None:  # NaN, Infinity, -Infinity: valid in Python's json, not in JavaScript's
        pos = max(text.find(str(exc)), 0)
    if pos >= len(text):
        return "SyntaxError: Unexpected end of JSON input"
    shown = text if len(text) <= 40 else text[:37] + "..."
    return f"SyntaxError: Unexpected token '{text[pos]}', \"{shown}\" is not valid JSON"


def _json_stringify(value) -> str:
    """`JSON.stringify` of a Python value after the SDK turned it into JavaScript. Nesting too
    deep for the stack gives V8's RangeError, as JSON.stringify does."""
    try:
        return _json_stringify_walk(value)
    except RecursionError:
        raise RangeError("Maximum call stack size exceeded") from None


def _json_stringify_walk(value) -> str:
    seen: set[int] = set()

    def walk(v) -> str | None:
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            if abs(v) > _MAX_SAFE_INTEGER:  # Pyodide makes it a BigInt
                raise TypeError("Do not know how to serialize a BigInt")
            return str(v)
        if isinstance(v, float):
            return js_number_string(v) if math.isfinite(v) else "null"
        if isinstance(v, str):
            return json.dumps(js_string(v), ensure_ascii=False)
        if isinstance(v, _dt.datetime):
            moment = v if v.tzinfo is not None else v.replace(tzinfo=_dt.timezone.utc)  # the isolate's zone
            utc = moment.astimezone(_dt.timezone.utc)
            return f'"{utc.strftime("%Y-%m-%dT%H:%M:%S")}.{utc.microsecond // 1000:03d}Z"'
        if isinstance(v, (tuple, bytearray)):
            raise TypeError(f"{type(v)} cannot be sent over RPC.")
        if isinstance(v, (bytes, memoryview, set, frozenset)):
            return "{}"  # an ArrayBuffer or a Set has no enumerable properties
        if isinstance(v, (list, dict)):
            if id(v) in seen:
                raise TypeError("Converting circular structure to JSON")
            seen.add(id(v))
            try:
                if isinstance(v, list):
                    # a list, not a generator: plain Python calls (check_nesting in values.py)
                    return "[" + ",".join([walk(item) or "null" for item in v]) + "]"
                parts = []
                for key, item in _property_entries(v):
                    text = walk(item)
                    if text is not None:
                        parts.append(json.dumps(key, ensure_ascii=False) + ":" + text)
                return "{" + ",".join(parts) + "}"
            finally:
                seen.discard(id(v))
        if callable(v):
            return None  # JSON.stringify skips functions
        raise TypeError(f"KV metadata must be JSON-serialisable; {type(v).__name__} is not")

    out = walk(value)
    return "null" if out is None else out
