"""The error types the runtime raises.

A JavaScript error reaches a Python Worker as `pyodide.ffi.JsException` (Pyodide's FFI), with
the JS error's `name` and `message`; `str(error)` is `"<name>: <message>"`. The emulator's JS
errors are that class, keeping workerd's messages word for word: `RangeError`, `DataCloneError`
and `JsError` (a plain JS `Error`) are `JsException`s named after the JS error, and a JS
`TypeError` thrown by a platform API arrives as a `JsException` named "TypeError" (see `ffi`).
None of them is a Python `TypeError` or `ValueError`: `except TypeError` does not catch them,
as on the platform.
"""

from __future__ import annotations


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
