"""What Pyodide's FFI does when a Python Worker calls a JavaScript API of the platform.

On the platform `ctx`, `ctx.storage` (and a transaction's `txn`), `storage.sql` and its cursors,
`storage.kv`, namespaces, ids, WebSockets and Workers KV namespaces are JavaScript objects, and
every call from Python goes through Pyodide's foreign function interface. Two of its rules change
what Python code sees, and `js_api` applies both to every public method of the class it decorates:

* keyword arguments become one trailing options object: `storage.list(reverse=True, limit=1)`
  is `storage.list({reverse: true, limit: 1})`, and `storage.put("k", 1, allowUnconfirmed=True)`
  is `storage.put("k", 1, {allowUnconfirmed: true})`;
* arguments beyond the ones the method takes are ignored, as JavaScript ignores them: so
  `id.toString(x=1)` is `id.toString({x: 1})`, which is `id.toString()`, and a string parameter
  given the options object reads it as JavaScript's `String({...})`, `"[object Object]"`
  (`idFromName(name="x")` is the ID of the name "[object Object]", as in workerd);
* an error the JavaScript API throws reaches Python as `pyodide.ffi.JsException`, carrying the
  JavaScript error's `name` and `message` (`str(error)` is `"TypeError: ..."`). It is not a
  Python `TypeError` or `ValueError`, so `except TypeError` around a storage call does not catch
  it, on the platform as here.

The emulator's APIs raise Python's `TypeError` where workerd throws a JavaScript `TypeError`;
`js_api` turns it into the `JsException` the platform gives. Errors of the emulator's own JS
error types (`RangeError`, `DataCloneError`, `JsError`) are `JsException`s already.
"""

from __future__ import annotations

import functools
import inspect

from .errors import JsException

__all__ = ["call_relaxed", "js_api", "require_function"]


def js_api(cls=None, *, calls_python=(), returns_promises=False):
    """Class decorator: every public method of `cls` takes keyword arguments as a trailing
    options object and raises `JsException` where the platform's JavaScript API throws.

    `calls_python` names methods that run the caller's Python function before they return
    (`transactionSync(fn)`): an error raised there is the caller's own, so it passes unchanged
    (Pyodide hands a Python exception that went through JavaScript back as itself).
    `returns_promises`: the methods return awaitables that may fail when awaited (a rejected
    promise), so the error is translated there too.
    """

    def decorate(cls):
        for name, member in list(vars(cls).items()):
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            setattr(cls, name, _js_method(member, passes_errors=name in calls_python, promises=returns_promises))
        # Methods inherited from an undecorated base class get the same treatment.
        for base in cls.__mro__[1:]:
            if base is object or getattr(base, "__js_api__", False):
                continue
            for name, member in vars(base).items():
                if name.startswith("_") or name in vars(cls) or not inspect.isfunction(member):
                    continue
                setattr(cls, name, _js_method(member, passes_errors=name in calls_python, promises=returns_promises))
        cls.__js_api__ = True
        return cls

    return decorate if cls is None else decorate(cls)


def _js_method(function, *, passes_errors: bool, promises: bool = False):
    # JavaScript ignores arguments beyond a function's parameters: the bound method's `self`
    # and the method's own positional parameters are all it receives.
    code = function.__code__
    takes = None if code.co_flags & inspect.CO_VARARGS else code.co_argcount

    if passes_errors:

        @functools.wraps(function)
        def call_passing_errors(*args, **options):
            if options:
                args = (*args, options)
            if takes is not None and len(args) > takes:
                args = args[:takes]
            return function(*args)

        return call_passing_errors

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def call_async(*args, **options):
            # A JS method that returns a promise: its TypeError arrives when it is awaited.
            if options:
                args = (*args, options)
            if takes is not None and len(args) > takes:
                args = args[:takes]
            try:
                return await function(*args)
            except TypeError as error:
                if getattr(error, "raised_by_python_sdk", False):
                    raise
                raise js_type_error(error) from None

        return call_async

    @functools.wraps(function)
    def call(*args, **options):
        if options:
            args = (*args, options)
        if takes is not None and len(args) > takes:
            args = args[:takes]
        try:
            result = function(*args)
        except TypeError as error:
            if getattr(error, "raised_by_python_sdk", False):
                raise
            raise js_type_error(error) from None
        if promises and hasattr(result, "__await__"):
            return _Promise(result)
        return result

    return call


class _Promise:
    """An awaitable whose `TypeError` on `await` arrives as `JsException` (a rejected JS promise)."""

    __slots__ = ("_awaitable",)

    def __init__(self, awaitable):
        self._awaitable = awaitable

    def __await__(self):
        try:
            return (yield from self._awaitable.__await__())
        except TypeError as error:
            if getattr(error, "raised_by_python_sdk", False):
                raise
            raise js_type_error(error) from None

    def __getattr__(self, name):
        return getattr(self._awaitable, name)

    def __repr__(self) -> str:
        return repr(self._awaitable)


def js_type_error(error: TypeError) -> JsException:
    """The `JsException` a JavaScript `TypeError` with `error`'s message becomes in Python."""
    translated = JsException("TypeError", str(error))
    for flag in ("remote", "retryable", "overloaded", "durableObjectReset"):
        if hasattr(error, flag):
            setattr(translated, flag, getattr(error, flag))
    return translated


def require_function(value, method: str, interface: str) -> None:
    """WebIDL's check of a callback argument: anything but a function is a TypeError, thrown
    before the method does anything (no reset, nothing stored)."""
    if not callable(value):
        raise JsException("TypeError", f"Failed to execute '{method}' on '{interface}': "
                                       "parameter 1 is not of type 'function'.")


def call_relaxed(fn, *args):
    """Call `fn` with as many of `args` as it accepts, as Pyodide's `callRelaxed` does.

    workerd calls a Python Worker's handlers this way (`doPyCallHelper(relaxed=true)` in its
    python-entrypoint-helper.ts, `relaxed_call` in its introspection.py): a Worker's `fetch` and
    `test`, a module-level `on_fetch`, and a Durable Object's `fetch`, `alarm`,
    `webSocketMessage`, `webSocketClose` and `webSocketError`. So `async def alarm(self)` and
    `async def fetch(self)` work on the platform although the runtime passes more arguments.
    RPC methods are called strictly."""
    function = getattr(fn, "__func__", fn)
    code = getattr(function, "__code__", None)
    if code is not None:  # a plain or bound function (the usual handler): read its code object
        if code.co_flags & inspect.CO_VARARGS:
            if not hasattr(function, "__wrapped__"):  # `*args` of its own takes them all
                return fn(*args)
        elif code.co_argcount - (function is not fn) >= len(args):
            return fn(*args)  # takes every argument: the common case, no signature needed
        elif not hasattr(function, "__wrapped__"):
            return fn(*args[: code.co_argcount - (function is not fn)])
    accepts = _positional_parameters(fn)  # a decorated function, a partial, a callable object
    if accepts is not None and accepts < len(args):
        args = args[:accepts]
    return fn(*args)


def _positional_parameters(fn) -> int | None:
    """How many positional arguments `fn` takes, or None if any number (`*args`) or unknown."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)
