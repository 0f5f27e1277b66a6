"""`pyodide.ffi`: Pyodide's foreign function interface, as Python Worker code uses it.

* `JsException`: what a JavaScript error becomes in Python, with the JS error's `name` and
  `message` (`str(error)` is `"TypeError: ..."`). Errors thrown by `ctx.storage`, `ctx`, SQL,
  WebSockets, namespaces, ids and Workers KV arrive as this class, so catch `JsException` and
  look at `error.name`; `except TypeError` does not catch them, on the platform as here.
* `JsProxy`: the type of JavaScript objects seen from Python (a WebSocket, a Durable Object
  id, a request's body stream, `request.js_object`). What the SDK converts (storage results,
  RPC results) is plain Python: a `JsDict`, a list, a `memoryview`.
* `to_js(value, dict_converter=..., default_converter=...)`: the JavaScript value Pyodide
  makes of a Python one (tuples become arrays, bytes a `Uint8Array`).
* `create_proxy(fn)` / `create_once_callable(fn)`: a Python function handed to JavaScript.
* `run_sync(awaitable)`: the result of an awaitable, from synchronous code.

The emulator has no JavaScript engine: JavaScript values are the Python values the emulator
uses for them, and these functions follow Pyodide's rules for what crosses.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Awaitable, Callable
from typing import Any

from durable_dojo._core.errors import JsException
from durable_dojo._core.http import ArrayBuffer, JsBodyObject, JsObject, ReadableStream, Uint8Array
from durable_dojo._core.ids import DurableObjectId
from durable_dojo._core.websockets import WebSocket

__all__ = [
    "JsBuffer",
    "JsException",
    "JsMap",
    "JsProxy",
    "create_once_callable",
    "create_proxy",
    "destroy_proxies",
    "jsnull",
    "run_sync",
    "to_js",
]


class JsProxy(ABC):  # noqa: B024 - a marker type, as `isinstance(x, JsProxy)` uses it
    """The type of a JavaScript object seen from Python."""


for _js_type in (WebSocket, DurableObjectId, ReadableStream, Uint8Array, ArrayBuffer, JsBodyObject, JsObject):
    JsProxy.register(_js_type)


class JsBuffer(JsProxy):  # noqa: B024 - a marker type
    """A JavaScript buffer (a `Uint8Array`) seen from Python: `to_bytes()`, `to_py()` (a memoryview)."""


JsBuffer.register(Uint8Array)
JsBuffer.register(ArrayBuffer)


class _JsNull:
    """JavaScript's `null` as Pyodide gives it where it is not turned into None. The SDK turns it
    into None in everything it converts (`python_from_rpc`), and so does the emulator: no API
    here returns `jsnull`, so `value is jsnull` is False as it is for those results on the
    platform."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "jsnull"


jsnull = _JsNull()


_DESTROYED = "Object has already been destroyed"


class _PyProxy:
    """A Python callable handed to JavaScript (`create_proxy`): callable until `destroy()`."""

    __slots__ = ("_function", "_once")

    def __init__(self, function: Callable, *, once: bool = False):
        self._function = function
        self._once = once

    def __call__(self, *args, **kwargs):
        function = self._function
        if function is None:
            raise JsException("Error", _DESTROYED)
        if self._once:
            self._function = None
        return function(*args, **kwargs)

    def destroy(self) -> None:
        """Release the Python function; calling the proxy afterwards raises `JsException`."""
        self._function = None

    def __repr__(self) -> str:
        return f"<PyProxy of {self._function!r}>"


def create_proxy(obj: Callable, /, *, capture_this: bool = False, roundtrip: bool = True) -> _PyProxy:
    """A proxy for a Python function, to pass to JavaScript (an event listener, a callback).
    It stays callable until `.destroy()`."""
    return _PyProxy(obj)


def destroy_proxies(proxies, /) -> None:
    """Destroy each proxy of the list (`create_proxy` results), as Pyodide does."""
    for proxy in proxies:
        proxy.destroy()


def create_once_callable(obj: Callable, /) -> _PyProxy:
    """A proxy that may be called once; the call releases it."""
    return _PyProxy(obj, once=True)


def to_js(
    obj: Any,
    /,
    *,
    depth: int = -1,
    pyproxies: Any = None,
    create_pyproxies: bool = True,
    dict_converter: Callable | None = None,
    default_converter: Callable | None = None,
    eager_converter: Callable | None = None,
) -> Any:
    """The JavaScript value Pyodide makes of `obj`.

    Lists and tuples become arrays (lists), dicts become `Map`s (a `JsMap`, Pyodide's default), or what `dict_converter`
    makes of their `(key, value)` pairs (`dict_converter=js.Object.fromEntries` gives a plain
    object), sets become `Set`s, bytes-like objects a `Uint8Array` (a `memoryview` here).
    Numbers, strings, booleans and None pass as they are. Anything else goes to
    `default_converter(value, convert, cache)` if given, else stays a Python object that
    JavaScript sees as a proxy.
    """
    cache: dict[int, Any] = {}

    def convert(value: Any, level: int = 0) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if depth != -1 and level >= depth:
            return value
        key = id(value)
        if key in cache:
            return cache[key]
        if isinstance(value, (list, tuple)):
            result = cache[key] = []
            for item in value:  # a loop, not a generator: deep nesting is a RecursionError in Pyodide too
                result.append(convert(item, level + 1))
            return result
        if isinstance(value, dict):
            entries = [(k, convert(v, level + 1)) for k, v in value.items()]
            result = dict_converter(entries) if dict_converter is not None else JsMap(entries)
            cache[key] = result
            return result
        if isinstance(value, (set, frozenset)):
            result = cache[key] = {convert(item, level + 1) for item in value}
            return result
        if isinstance(value, (bytes, bytearray, memoryview)):
            result = cache[key] = memoryview(bytes(value))
            return result
        if default_converter is not None:
            result = cache[key] = default_converter(value, lambda v: convert(v, level + 1), cache)
            return result
        return value

    return convert(obj)


class JsMap(dict):
    """A JavaScript `Map` seen from Python (what `to_js(dict)` makes by default): a mapping with
    the Map's own members (`size`, `has`, `set`, `delete`) and `to_py()`, which gives a dict."""

    @property
    def size(self) -> int:
        return len(self)

    def has(self, key) -> bool:
        return key in self

    def set(self, key, value) -> "JsMap":
        self[key] = value
        return self

    def delete(self, key) -> bool:
        return self.pop(key, _MISSING) is not _MISSING

    def to_py(self, *, depth: int = -1, default_converter=None) -> dict:
        return {key: _to_py(value, depth - 1 if depth > 0 else depth) for key, value in self.items()}


JsProxy.register(JsMap)
_MISSING = object()


def _to_py(value, depth: int):
    """`to_py` of a value inside a converted Map: Maps and arrays in it are converted too."""
    if depth == 0:
        return value
    if isinstance(value, JsMap):
        return value.to_py(depth=depth)
    if type(value) is list:
        return [_to_py(item, depth - 1 if depth > 0 else depth) for item in value]
    return value


def run_sync(x: Awaitable) -> Any:
    """The result of the awaitable `x`, from synchronous code.

    The platform suspends the WebAssembly stack (JSPI) until `x` settles. In the emulator,
    a storage call's result is settled when the call returns (storage acts when called), so
    `run_sync(ctx.storage.get("k"))` works; an awaitable that would have to wait for another
    event (a timer, a fetch, another object) raises `RuntimeError`: await it instead.
    """
    awaitable = x.__await__()
    try:
        awaitable.send(None)
    except StopIteration as done:
        return done.value
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
    raise RuntimeError(
        "run_sync() needs this awaitable to wait for another event, which the emulator cannot "
        "do from synchronous code: use `await` here."
    )
