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

import asyncio
from abc import ABC
from collections.abc import Awaitable, Callable
from typing import Any

from durable_dojo._core.errors import JsException
from durable_dojo._core.http import ArrayBuffer, JsBodyObject, JsObject, ReadableStream, Uint8Array
from durable_dojo._core.ids import DurableObjectId
from durable_dojo._core.loop import VirtualLoop
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

    The platform suspends the WebAssembly stack (JSPI) until `x` settles, and the event loop
    goes on meanwhile: other events of the object may run before `run_sync` returns (as they may
    at an `await`). Here: an awaitable that is settled at once (a storage call) returns its
    result at once; one that has to wait (`asyncio.sleep`, a fetch, a call to another object)
    runs the world from this point until it settles. Outside the world's code (no event is
    running) there is nothing to suspend: an awaitable that has to wait raises `RuntimeError`.
    """
    steps = x.__await__()
    try:
        pending = steps.send(None)
    except StopIteration as done:
        return done.value
    loop = asyncio._get_running_loop()
    if not isinstance(loop, VirtualLoop) or not loop.is_running():
        close = getattr(steps, "close", None)
        if close is not None:
            close()
        raise RuntimeError(
            "run_sync() can only wait inside a Worker's or a Durable Object's code; here, use "
            "`await` instead."
        )
    task = loop.create_task(_go_on(steps, pending))
    loop.run_nested(task.done, "run_sync()")
    return task.result()


async def _go_on(steps, pending):
    """The rest of an awaitable whose first step already ran (it yielded `pending`)."""
    return await _Resume(steps, pending)


class _Resume:
    """An awaitable that yields `pending` first, then goes on with `steps` (an `__await__`
    iterator that has already been started)."""

    __slots__ = ("_steps", "_pending")

    def __init__(self, steps, pending):
        self._steps = steps
        self._pending = pending

    def __await__(self):
        steps = self._steps
        pending = self._pending
        while True:
            try:
                sent = yield pending
            except BaseException as error:  # a cancellation thrown into the task goes on to `steps`
                try:
                    pending = steps.throw(error)
                except StopIteration as done:
                    return done.value
                continue
            try:
                pending = steps.send(sent)
            except StopIteration as done:
                return done.value
