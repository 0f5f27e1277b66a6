"""The error types the runtime raises.

JavaScript errors map to the nearest Python type, and keep workerd's messages word for word:
JS `TypeError` is Python's `TypeError`, `RangeError` is `RangeError` (a `ValueError`),
`DataCloneError` is a `TypeError` subclass, and a plain JS `Error` is `JsError`.
"""

from __future__ import annotations


class JsError(Exception):
    """A plain JavaScript `Error` thrown by the runtime (for example a SQL error)."""


class RangeError(ValueError):
    """JavaScript's `RangeError`: a value outside the allowed range (sizes, counts)."""


class DataCloneError(TypeError):
    """A value that the structured clone algorithm cannot copy (a function, a class instance)."""


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
