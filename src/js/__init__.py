"""`js`: the JavaScript globals Python Worker code takes from Pyodide's `js` module.

`Object`, `Date`, `JSON`, `URL`, `Response`, `Request`, `Headers`, `WebSocketPair`, `WebSocket`,
`console`, `fetch`, `setTimeout`, `clearTimeout`, `Uint8Array`, `Array`, `Error` and `Promise`,
with the JavaScript spelling (`Date.new(ms)`, `Object.fromEntries(pairs)`, `JSON.stringify(value)`,
`WebSocket.new(url)`). `Date.now()` reads the world's virtual clock, so code that timestamps with it
behaves the same when `rt.advance(3600)` jumps an hour.
"""

from __future__ import annotations

import asyncio as _asyncio
import datetime as _dt
import inspect as _inspect
import itertools
import weakref
import json as _json
import math
import secrets as _secrets
import time as _time
from urllib.parse import parse_qsl, urljoin, urlsplit

from durable_dojo._core.errors import JsError as _JsError
from durable_dojo._core.errors import JsException as _JsException
from durable_dojo._core.http import Headers as _Headers
from durable_dojo._core.http import JsBodyObject as _JsBodyObject
from durable_dojo._core.http import JsObject
from durable_dojo._core.http import Request as _Request
from durable_dojo._core.http import Response as _Response
from durable_dojo._core.http import Uint8Array as _Uint8Array
from durable_dojo._core.values import check_json_nesting
from durable_dojo._core.values import js_number_string as _js_number_string
from durable_dojo._core.workers_api import fetch


def _now_ms() -> int:
    from durable_dojo._core.runtime import latest_world

    world = latest_world()
    return world.now() if world is not None else int(_time.time() * 1000)


class Object:
    """JavaScript's `Object`: `Object.fromEntries(pairs)` makes a plain object (the
    `dict_converter` the SDK passes to `to_js`), `Object.keys/values/entries`, `Object.new()`."""

    @staticmethod
    def new() -> JsObject:
        return JsObject()

    @staticmethod
    def fromEntries(entries) -> JsObject:
        return JsObject((str(key) if not isinstance(key, str) else key, value) for key, value in entries)

    @staticmethod
    def keys(obj) -> list:
        return list(obj)

    @staticmethod
    def values(obj) -> list:
        return list(obj.values())

    @staticmethod
    def entries(obj) -> list:
        return [[key, value] for key, value in obj.items()]


class Date(_dt.datetime):
    """JavaScript's `Date`: `Date.now()` (ms on the world's clock), `Date.new(ms)` (a Date that
    is also an aware `datetime` in UTC, so storage and `setAlarm` take it), `getTime()`,
    `toISOString()`."""

    @staticmethod
    def now() -> int:  # type: ignore[override]  - JavaScript's Date.now(), not datetime.now()
        """Milliseconds since the epoch on the world's clock (real time outside any world)."""
        return _now_ms()

    @classmethod
    def new(cls, ms: float | str | None = None) -> Date:
        """`new Date()`, `new Date(ms)` or `new Date("2026-05-01T12:00:00Z")` (an ISO 8601
        string; without an offset it is UTC, the isolate's zone)."""
        if ms is None:
            ms = _now_ms()
        elif isinstance(ms, str):
            ms = _iso_ms(ms)
        moment = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(milliseconds=int(ms))
        return cls(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                   moment.microsecond, tzinfo=_dt.UTC)

    def getTime(self) -> int:
        return round(self.timestamp() * 1000)

    def toISOString(self) -> str:
        utc = self.astimezone(_dt.UTC)
        return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _iso_ms(text: str) -> int:
    """Milliseconds since the epoch of an ISO 8601 date or date-time, as `Date.parse` reads it."""
    try:
        moment = _dt.datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        from durable_dojo._core.errors import JsException

        raise JsException("RangeError", f"Invalid time value: {text!r} (use an ISO 8601 date, "
                                        "such as 2026-05-01T12:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return round(moment.timestamp() * 1000)


class JSON:
    """JavaScript's `JSON`: `stringify` writes JSON as JavaScript does (compact, numbers in
    JavaScript's form: `3.0` is `3`, `1e-7` is `1e-7`, NaN and Infinity are `null`), `parse`
    gives plain objects whose properties read as attributes."""

    @staticmethod
    def stringify(value, replacer=None, space=None) -> str:
        indent = space if isinstance(space, int) and space > 0 else None
        separators = (",", ":") if indent is None else (",", ": ")
        numbers: list[str] = []  # numbers Python would write differently, put in afterwards
        marker = f"\ue000{_secrets.token_hex(8)}:"

        def convert(item):
            if isinstance(item, float):
                if not math.isfinite(item):
                    return None  # JSON.stringify(NaN) is "null"
                if item.is_integer() and abs(item) < 2**53:
                    return int(item)  # -0.0 and 3.0 are written 0 and 3
                text = _js_number_string(item)
                if text == repr(item):
                    return item
                numbers.append(text)
                return f"{marker}{len(numbers) - 1}"
            if isinstance(item, dict):
                return {key: convert(value) for key, value in item.items()}
            if isinstance(item, (list, tuple)):
                return [convert(value) for value in item]
            return item

        written = _json.dumps(convert(value), ensure_ascii=False, separators=separators, indent=indent)
        for i, text in enumerate(numbers):
            written = written.replace(f'"{marker}{i}"', text, 1)
        return written

    @staticmethod
    def parse(text: str):
        check_json_nesting(text)  # RecursionError, never a dead interpreter under Pyodide (values.py)
        return _json.loads(text, object_hook=JsObject)


class URL:
    """JavaScript's `URL` (`URL.new(url, base)`): `href`, `origin`, `protocol`, `host`,
    `hostname`, `port`, `pathname`, `search`, `hash` and `searchParams.get(name)`."""

    def __init__(self, url: str, base: str | None = None):
        from durable_dojo._core.http import Request

        href = urljoin(base, url) if base is not None else url
        try:
            href = Request(href).url  # the emulator's URL parsing and normalisation
        except Exception as error:  # noqa: BLE001 - the platform's error names the URL
            from durable_dojo._core.errors import JsException

            raise JsException("TypeError", f"Invalid URL: {url}") from error
        self.href = href
        parts = urlsplit(href)
        self.protocol = parts.scheme + ":"
        self.hostname = parts.hostname or ""
        self.port = str(parts.port) if parts.port is not None else ""
        self.host = self.hostname + (f":{self.port}" if self.port else "")
        self.origin = f"{parts.scheme}://{self.host}"
        self.pathname = parts.path or "/"
        self.search = f"?{parts.query}" if parts.query else ""
        self.hash = f"#{parts.fragment}" if parts.fragment else ""
        self.searchParams = _SearchParams(parts.query)

    @classmethod
    def new(cls, url: str, base: str | None = None) -> URL:
        return cls(url, base)

    def toString(self) -> str:
        return self.href

    def __str__(self) -> str:
        return self.href


class _SearchParams:
    def __init__(self, query: str):
        self._pairs = parse_qsl(query, keep_blank_values=True)

    def get(self, name: str):
        return next((value for key, value in self._pairs if key == name), None)

    def getAll(self, name: str) -> list:
        return [value for key, value in self._pairs if key == name]

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self._pairs)


class Response:
    """JavaScript's `Response`: `Response.new(body, status=..., headers=...)` gives a
    `workers.Response`; `Response.json(data)` one with a JSON body."""

    @staticmethod
    def new(body=None, status=None, statusText="", headers=None, webSocket=None) -> _Response:
        return _Response(body, status=status, status_text=statusText, headers=headers, web_socket=webSocket)

    @staticmethod
    def json(data, status=200, headers=None) -> _Response:
        return _Response.from_json(data, status=status, headers=headers)


class console:  # noqa: N801 - JavaScript's name
    """`console.log(...)` and friends print their arguments, as `wrangler dev` shows them."""

    @staticmethod
    def log(*args) -> None:
        print(*args)

    info = debug = log

    @staticmethod
    def warn(*args) -> None:
        import sys

        print(*args, file=sys.stderr)

    error = warn


# Timer id -> its pending task, held weakly: the world's loop keeps a pending timer's task alive,
# and a closed world takes its timers with it.
_timers: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_timer_ids = itertools.count(1)


def setTimeout(callback, delay=0, *args) -> int:  # noqa: N802 - JavaScript's name
    """`setTimeout(create_once_callable(fn), ms)`: call `fn(*args)` after `ms` milliseconds of
    the world's clock; returns the timer's id for `clearTimeout`. Inside a Durable Object the
    pending timer is the object's pending work: the object does not hibernate while it waits
    (and, from compatibility date 2026-10-01, is kept alive by it), as on the platform."""
    from durable_dojo._core.loop import current_world

    world = current_world.get()
    if world is None:
        raise RuntimeError("setTimeout needs code running in a durable_dojo world (an object or the Worker).")
    if not callable(callback):
        from durable_dojo._core.errors import JsException

        raise JsException("TypeError", f'The "callback" argument must be of type function. {_received(callback)}')
    seconds = max(0.0, float(delay or 0)) / 1000
    timer_id = next(_timer_ids)

    async def fire():
        try:
            await _asyncio.sleep(seconds)
        finally:
            _timers.pop(timer_id, None)
        result = callback(*args)
        if _inspect.isawaitable(result):
            await result

    _timers[timer_id] = world.loop.create_task(fire())  # in this context: the object's own task
    return timer_id


def _received(value) -> str:
    """How workerd's Node-style argument errors describe the value given ("Received ...")."""
    if value is None:
        return "Received null"
    if isinstance(value, bool):
        return f"Received type boolean ({'true' if value else 'false'})"
    if isinstance(value, (int, float)):
        return f"Received type number ({_js_number_string(float(value)) if isinstance(value, float) else value})"
    if isinstance(value, str):
        return f"Received type string ('{value}')"
    return f"Received an instance of {type(value).__name__}"


def clearTimeout(timer_id) -> None:  # noqa: N802 - JavaScript's name
    """Cancel a pending `setTimeout`; an unknown or fired id is ignored, as in JavaScript."""
    task = _timers.pop(timer_id, None)
    if task is not None:
        task.cancel()


class WebSocketPair:
    """`WebSocketPair.new()` gives `(client, server)`: two connected WebSocket ends."""

    @staticmethod
    def new():
        from durable_dojo._core.runtime import latest_world
        from durable_dojo._core.websockets import new_pair

        world = latest_world()
        if world is None:
            raise RuntimeError("WebSocketPair needs a durable_dojo.Runtime: create one first.")
        return new_pair(world)


class WebSocket:
    """JavaScript's `WebSocket`: `WebSocket.new(url, protocols)` opens an outgoing connection
    (`ws://` or `wss://`), as `new WebSocket(url)` does in a Worker. The handshake leaves the
    world as any `fetch()` does, through `Runtime(outbound=...)` (which can hand it to an
    object: `outbound=lambda request: env.ROOM.getByName("r").fetch(request)`), or, in a world
    without `outbound`, to its own Worker's fetch handler (`Runtime(worker=...)`). The socket is
    CONNECTING until the answer comes: then `open` (a 101 with a WebSocket), or `error` and
    `close` with 1006 (anything else). Listen with `addEventListener`; `send()` before `open`
    raises, as on the platform."""

    CONNECTING, OPEN, CLOSING, CLOSED = 0, 1, 2, 3

    @staticmethod
    def new(url, protocols=None):
        from durable_dojo._core.runtime import latest_world, outbound_fetch
        from durable_dojo._core.websockets import client_socket, connect_failed, connected
        from durable_dojo._core.http import Request

        world = latest_world()
        if world is None:
            raise RuntimeError("WebSocket needs a durable_dojo.Runtime: create one first.")
        end, protocols = client_socket(world, url, protocols)
        headers = {"upgrade": "websocket"}
        if protocols:
            headers["sec-websocket-protocol"] = ", ".join(protocols)
        request = Request("http" + end.url[2:], headers=headers)  # the handshake is an HTTP request

        async def handshake():
            try:
                if world.outbound is None and world.worker is not None:
                    response = await world.fetch(request)
                else:
                    response = await outbound_fetch(world, request)
            except Exception as error:  # noqa: BLE001 - a failed handshake is an error event
                connect_failed(end, str(error))
                return
            if response.status != 101 or response.web_socket is None:
                connect_failed(end, f"the server answered {response.status}, not 101")
                return
            connected(end, response.web_socket, response.headers.get("sec-websocket-protocol") or "")

        world.loop.create_task(handshake(), context=world._root_context.copy())
        return end


class Headers:
    """JavaScript's `Headers`: `Headers.new(init)` from a dict or `(name, value)` pairs (what the
    SDK's `_to_js_headers` passes), with `get`, `set`, `append`, `has`, `delete`."""

    @staticmethod
    def new(init=None) -> _Headers:
        return _Headers(init)


class Request:
    """JavaScript's `Request`: `Request.new(url, method=..., headers=..., body=...)` gives a
    JS request (what `workers.Request(js_request)` wraps, and what `fetch` and `stub.fetch` take)."""

    @staticmethod
    def new(input, method=None, headers=None, body=None, redirect=None, cf=None):
        if isinstance(input, _JsBodyObject):
            input = input._owner
        return _Request(input, method=method, headers=headers, body=body, redirect=redirect, cf=cf).js_object


class Uint8Array:
    """JavaScript's `Uint8Array`: `Uint8Array.new(bytes)` copies the bytes, `Uint8Array.new(n)`
    is n zero bytes; `Uint8Array.from_(iterable)` (Pyodide's spelling of `from`)."""

    @staticmethod
    def new(source=0) -> _Uint8Array:
        if isinstance(source, int) and not isinstance(source, bool):
            return _Uint8Array(bytes(source))
        if hasattr(source, "to_bytes") and not isinstance(source, int):
            return _Uint8Array(source.to_bytes())
        return _Uint8Array(bytes(source))

    @staticmethod
    def from_(iterable) -> _Uint8Array:
        return _Uint8Array(bytes(int(item) & 0xFF for item in iterable))


class _JsArray(list):
    """A JavaScript Array seen from Python (Pyodide's JsArray): a list with `push`, `length`,
    `to_py()`."""

    def push(self, *items) -> int:
        self.extend(items)
        return len(self)

    @property
    def length(self) -> int:
        return len(self)

    def to_py(self, *, depth: int = -1, default_converter=None) -> list:
        return list(self)


class Array:
    """JavaScript's `Array`: `Array.new(*items)` (`Array.new(n)` is n empty slots, None here),
    `Array.from_(iterable)`, `Array.of(*items)`, `Array.isArray(value)`."""

    @staticmethod
    def new(*items) -> _JsArray:
        if len(items) == 1 and isinstance(items[0], int) and not isinstance(items[0], bool):
            if items[0] < 0:
                raise _JsException("RangeError", "Invalid array length")
            return _JsArray([None] * items[0])
        return _JsArray(items)

    @staticmethod
    def of(*items) -> _JsArray:
        return _JsArray(items)

    @staticmethod
    def from_(iterable) -> _JsArray:
        return _JsArray(iterable)

    @staticmethod
    def isArray(value) -> bool:  # noqa: N802 - JavaScript's name
        return isinstance(value, (list, tuple))


class Error:
    """JavaScript's `Error`: `Error.new(message)` is a `JsException` named "Error", which Python
    code can raise (as Pyodide makes every JS error object a JsException)."""

    @staticmethod
    def new(message="") -> _JsException:
        return _JsError("" if message is None else str(message))


class Promise:
    """JavaScript's `Promise`: `Promise.new(executor)`, `Promise.resolve(value)`,
    `Promise.reject(error)` and `Promise.all(awaitables)`, as awaitables of the running loop."""

    @staticmethod
    def _future():
        try:
            return _asyncio.get_running_loop().create_future()
        except RuntimeError:
            from durable_dojo._core.runtime import latest_world

            world = latest_world()
            if world is None:
                raise RuntimeError("Promise needs a durable_dojo.Runtime: create one first.") from None
            return world.loop.create_future()

    @staticmethod
    def new(executor):
        future = Promise._future()

        def resolve(value=None):
            if not future.done():
                future.set_result(value)

        def reject(reason=None):
            if not future.done():
                future.set_exception(reason if isinstance(reason, BaseException)
                                     else _JsException("Error", "" if reason is None else str(reason)))

        try:
            executor(resolve, reject)
        except Exception as error:  # noqa: BLE001 - a throwing executor rejects the promise
            reject(error)
        return future

    @staticmethod
    def resolve(value=None):
        if _inspect.isawaitable(value):
            return _asyncio.ensure_future(value)
        return Promise.new(lambda resolve, reject: resolve(value))

    @staticmethod
    def reject(reason=None):
        return Promise.new(lambda resolve, reject: reject(reason))

    @staticmethod
    def all(awaitables):
        async def gather():
            return _JsArray([await item if _inspect.isawaitable(item) else item for item in awaitables])

        return _asyncio.ensure_future(gather())


from durable_dojo._core.websockets import WebSocketRequestResponsePair  # noqa: E402

__all__ = ["JSON", "URL", "Array", "Date", "Error", "Headers", "Object", "Promise", "Request", "Response",
           "Uint8Array", "WebSocket", "WebSocketPair", "WebSocketRequestResponsePair", "clearTimeout", "console",
           "fetch", "setTimeout"]
