"""The error types the runtime raises.

A JavaScript error reaches a Python Worker as `pyodide.ffi.JsException` (Pyodide's FFI), with
the JS error's `name` and `message`; `str(error)` is `"<name>: <message>"`. The emulator's JS
errors are that class, keeping workerd's messages word for word: `RangeError`, `DataCloneError`
and `JsError` (a plain JS `Error`) are `JsException`s named after the JS error, and a JS
`TypeError` thrown by a platform API arrives as a `JsException` named "TypeError" (see `ffi`).
None of them is a Python `TypeError` or `ValueError`: `except TypeError` does not catch them,
as on the platform.

A Python exception that leaves an object (an RPC method, `fetch`, the constructor) goes the other
way: Pyodide rejects the call's promise with a `PythonError`, whose message is the formatted
traceback, and workerd's RPC keeps that name and message (measured with workerd 1.20261117.1: a
thrown Error named "PythonError" reaches the caller with `name` "PythonError" and the same
message). So the caller catches `JsException` named "PythonError", not the `ValueError` raised.
"""

from __future__ import annotations

import traceback as _traceback


class JsException(Exception):
    """`pyodide.ffi.JsException`: a JavaScript error, as Python code receives it.

    `name` is the JS error's name ("TypeError", "RangeError", "Error", ...), `message` its
    message; `str(error)` is `"<name>: <message>"`, as in Pyodide.
    """

    def __init__(self, name: str, message: str = "", stack: str = ""):
        super().__init__(name, message)
        self.name = name
        self.message = message
        self.stack = stack

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"

    def __reduce__(self):
        return (JsException, (self.name, self.message, self.stack), self.__dict__)


PYTHON_ERROR = "PythonError"


def python_error(exc: BaseException) -> JsException:
    """The error a Python exception `exc` raised in an object is when it reaches the caller: a
    `JsException` named "PythonError" whose message is the traceback (from the frames `exc`
    carries: prune them first), ending with the exception's own line, e.g. "ValueError: bad"."""
    text = "".join(_traceback.format_exception(exc))
    if not text.startswith("Traceback"):  # no frame of the learner's: Pyodide's always has its own
        text = "Traceback (most recent call last):\n" + text
    return JsException(PYTHON_ERROR, text)


def python_error_line(error: BaseException) -> str | None:
    """For a "PythonError" from another object, the last line of its traceback (`ValueError:
    bad amount`): what the learner raised. None for any other error."""
    if not isinstance(error, JsException) or error.name != PYTHON_ERROR:
        return None
    lines = error.message.rstrip().splitlines()
    return lines[-1] if lines else None


class _NamedJsError(JsException):
    """A JS error of one kind, raised by the emulator as `Kind("message")`."""

    js_name = "Error"

    def __init__(self, message: str = ""):
        Exception.__init__(self, message)  # args == (message,): `type(e)(*e.args)` copies it
        self.name = self.js_name
        self.message = message
        self.stack = ""

    def __reduce__(self):
        return (type(self), (self.message,), self.__dict__)


class JsError(_NamedJsError):
    """A plain JavaScript `Error` thrown by the runtime (for example a SQL error)."""

    js_name = "Error"


class RangeError(_NamedJsError):
    """JavaScript's `RangeError`: a value outside the allowed range (sizes, counts)."""

    js_name = "RangeError"


class DataCloneError(_NamedJsError):
    """A value that the structured clone algorithm cannot copy (a function, a class instance)."""

    js_name = "DataCloneError"


# A traceback names the class as Pyodide does on the platform (`pyodide.ffi.JsException:
# RangeError: ...`): the emulator's JS error kinds are one class to the learner.
for _kind in (JsException, JsError, RangeError, DataCloneError):
    _kind.__module__ = "pyodide.ffi"
    _kind.__qualname__ = "JsException"


def error_name(error: BaseException) -> str:
    """The class name a Python Worker's traceback shows for `error`: every JavaScript error is
    `JsException` (its JS name follows in `str(error)`), never the emulator's subclass."""
    return "JsException" if isinstance(error, JsException) else type(error).__name__


def sdk_type_error(message: str) -> TypeError:
    """A Python `TypeError` that the SDK raises itself, in Python, before JavaScript sees a
    value (`<class 'tuple'> cannot be sent over RPC.`): it stays a `TypeError`."""
    error = TypeError(message)
    error.raised_by_python_sdk = True
    return error


class DurableObjectAbort(BaseException):
    """Raised by `ctx.abort()` inside the object: a BaseException, so `except Exception`
    in user code cannot swallow the reset (as in the Python Workers SDK)."""


class DojoError(Exception):
    """An error of the emulator itself rather than of the platform (a misuse of the world)."""


class DeadlockError(DojoError):
    """Awaited work can never finish: nothing that is scheduled in the world can resolve it."""


class HangTimeout(DojoError):
    """Code inside the world ran longer than the hang timeout in wall time."""


def mark_remote(
    exc: BaseException,
    *,
    remote: bool = True,
    retryable: bool = False,
    overloaded: bool = False,
    reset: bool = False,
) -> BaseException:
    """Give an exception the properties the platform sets on errors crossing a stub."""
    exc.remote = remote
    exc.retryable = retryable
    exc.overloaded = overloaded
    exc.durableObjectReset = reset
    return exc
