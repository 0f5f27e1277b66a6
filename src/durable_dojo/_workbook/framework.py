"""Running a check, and the verdict a learner reads.

A check is an async function registered for an exercise id with `@checks("02-put-it-back")`. It
gets the learner's answer (the class or function the exercise cell defines), runs it on the
emulator (several requests, evictions, restarts, every schedule with `explore`), and either
raises `NotYet("what is wrong, in plain words, with the trace")` or returns a sentence of praise
that says what the passing run proved. Anything else the learner's code raises is worded here:
the exception, and the line of the learner's cell it came from, never the emulator's frames.

Helpers for checks: `world()` (a fresh world that is closed afterwards and does not log
the learner's errors), `attempt()` (await a call; a failure becomes a `NotYet` naming the call),
`excerpt()` (trace lines, as a kata failure quotes them), `require_class()`, and
`module_state_unchanged()` (the truth kept outside the object fails).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import linecache
import traceback
import types
from dataclasses import dataclass

from .._core.errors import DeadlockError, HangTimeout, JsException, python_error_line
from .._core.runtime import Runtime
from .manifest import Exercise, exercises, find

HANG_SECONDS = 10.0  # wall seconds before learner code that never gives control back is stopped (generous: CI is busy)

_CHECKS: dict = {}


class NotYet(Exception):
    """A check found the answer wrong; the message says what, in the learner's words."""


def checks(exercise_id: str):
    """Register the decorated async function as the check of `exercise_id`."""

    def register(fn):
        _CHECKS[exercise_id] = fn
        return fn

    return register


def _check_of(exercise: Exercise):
    module = "chapter" + exercise.chapter[:2]
    importlib.import_module(f"{__package__}.{module}")
    return _CHECKS.get(exercise.id)


@dataclass
class Verdict:
    exercise: str
    passed: bool
    message: str

    def __str__(self) -> str:
        if self.passed:
            return f"✓ {self.exercise}: well done. {self.message}"
        return f"✗ {self.exercise}: not yet.\n{self.message}"


async def judge(exercise_id: str, answer) -> Verdict:
    """Run the check of `exercise_id` on `answer`; never raises for anything the answer does."""
    exercise = find(exercise_id)
    if exercise is None:
        known = ", ".join(e.id for e in exercises())
        return Verdict(exercise_id, False, f"There is no exercise called {exercise_id!r}. The exercises are: {known}.")
    try:
        check = _check_of(exercise)
    except ImportError:
        check = None
    if check is None:
        return Verdict(exercise_id, False, f"The check of {exercise_id!r} is missing (a mistake in the workbook).")
    try:
        praise = await check(answer)
    except NotYet as verdict:
        return Verdict(exercise_id, False, str(verdict))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - whatever the learner's code did, the cell reports it
        return Verdict(exercise_id, False, describe_error(f"Running your {exercise.answer}", error, answer))
    return Verdict(exercise_id, True, praise)


async def check(exercise_id: str, answer) -> None:
    """Check your answer to an exercise: prints what is wrong, or that it is right."""
    print(await judge(exercise_id, answer))


# ----- helpers for checks -----

@contextlib.contextmanager
def world(durable_objects: dict, **options):
    """A fresh world for one run of a check, closed afterwards. Errors that no caller receives
    are not logged (the check reports what matters), and stuck code stops after a few seconds."""
    options.setdefault("log_errors", False)
    options.setdefault("hang_timeout", HANG_SECONDS)
    rt = Runtime(durable_objects=durable_objects, **options)
    try:
        yield rt
    finally:
        rt.close()


def make_world(durable_objects: dict, **options):
    """A function that makes such a world, for `explore(..., make_runtime=...)` (which closes it)."""
    options.setdefault("log_errors", False)
    options.setdefault("hang_timeout", HANG_SECONDS)
    return lambda: Runtime(durable_objects=durable_objects, **options)


def excerpt(trace, *kinds: str, last: int = 12) -> str:
    """The trace events of these kinds ("rpc:" matches every rpc event), one per line, indented."""
    trace = getattr(trace, "trace", trace)  # a world or its trace
    events = [e for e in trace if not kinds or any(e.kind == k or (k.endswith(":") and e.kind.startswith(k))
                                                    for k in kinds)]
    text = trace.format(events, last=last)
    return "\n".join("  " + line for line in text.splitlines()) if text else "  (no such events)"


async def attempt(what: str, awaitable, answer, trace=None):
    """Await a call into the learner's code; if it fails, say which call and where."""
    try:
        return await awaitable
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001
        message = describe_error(what, error, answer)
        if trace is not None:
            message += "\nTrace:\n" + excerpt(trace, "constructor", "rpc:", "storage:", "fetch:", "evict", "hibernate",
                                              "reset")
        raise NotYet(message) from None


def describe_error(what: str, error: BaseException, answer) -> str:
    """`what` failed with `error`, in words, with the learner's line if the error came from it."""
    if isinstance(error, HangTimeout):
        return (f"{what} never finished: your code kept running for more than {HANG_SECONDS:g} seconds of real "
                "time. Is there an infinite loop, or a blocking call such as time.sleep()? (An object runs one "
                "thing at a time: while it is stuck, every request to it waits.)" + _where(error, answer))
    if isinstance(error, DeadlockError):
        return (f"{what} never finished: it awaits something that nothing will ever complete (a future nobody "
                "resolves, or a request waiting for itself)." + _where(error, answer))
    raised = python_error_line(error)
    if raised is not None:  # a Python exception raised in the object: the line it ends with says which
        shown = raised
    elif isinstance(error, JsException):  # a JavaScript error, as Python code receives it (chapter 2)
        shown = f"a JavaScript error, pyodide.ffi.JsException {error}"
    else:
        shown = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return f"{what} raised {shown}" + _where(error, answer)


def _answer_files(answer) -> set[str]:
    functions = []
    if inspect.isclass(answer):
        for value in vars(answer).values():
            value = getattr(value, "__func__", value)  # staticmethod, classmethod
            if isinstance(value, property):
                value = value.fget
            if inspect.isfunction(value):
                functions.append(value)
    elif inspect.isfunction(answer):
        functions.append(answer)
    return {fn.__code__.co_filename for fn in functions}


def learner_lines(error: BaseException, answer) -> list[str]:
    """The frames of `error` (and the errors it came from) that are in the learner's cell."""
    files = _answer_files(answer)
    lines, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        for frame in traceback.extract_tb(error.__traceback__):
            if frame.filename in files:
                code = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
                lines.append(f"line {frame.lineno} in {frame.name}" + (f": {code}" if code else ""))
        error = error.__cause__ or error.__context__
    return lines


def _where(error: BaseException, answer) -> str:
    lines = learner_lines(error, answer)
    return ("\nIn your code: " + lines[-1]) if lines else "."


def require_class(answer, name: str, *methods: str, base=None) -> None:
    """The answer is a class (a subclass of `base`, if given) with these methods."""
    if not inspect.isclass(answer):
        raise NotYet(f"check() needs your class {name}, the one the exercise cell defines, not {answer!r}.")
    if base is not None and not issubclass(answer, base):
        raise NotYet(f"{name} must be a subclass of {base.__name__} (class {name}({base.__name__}): ...).")
    missing = [m for m in methods if not callable(getattr(answer, m, None))]
    if missing:
        raise NotYet(f"{name} has no method {', '.join(m + '()' for m in missing)}: the exercise asks for it.")


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _outside_state(answer) -> dict:
    """What the learner's code can change outside an instance: the module-level variables its
    methods name, and the class's own attributes (shared by every instance)."""
    state = {}
    if not inspect.isclass(answer):
        return state
    for name, value in vars(answer).items():
        if not name.startswith("__") and not callable(value) and not isinstance(value, (staticmethod, classmethod,
                                                                                       property)):
            state[f"{answer.__name__}.{name}"] = _fingerprint(value)
    for value in vars(answer).values():
        function = getattr(value, "__func__", value)
        if not inspect.isfunction(function):
            continue
        for code in _code_objects(function.__code__):
            for name in code.co_names:
                if name in function.__globals__:
                    held = function.__globals__[name]
                    if not (inspect.ismodule(held) or inspect.isclass(held) or callable(held)):
                        state[name] = _fingerprint(held)
    return state


def _fingerprint(value) -> tuple:
    try:
        return id(value), repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails is compared by identity only
        return id(value), None


@contextlib.contextmanager
def module_state_unchanged(answer):
    """Fail if the learner's code kept its data in a module-level variable or a class attribute:
    both outlive an eviction here and in one isolate, and are lost at a deploy or a restart."""
    before = _outside_state(answer)
    yield
    after = _outside_state(answer)
    changed = sorted(name for name in before if after.get(name) != before[name])
    if changed:
        names = ", ".join(changed)
        if not any(base.__name__ == "DurableObject" for base in inspect.getmro(answer)):  # the Worker
            raise NotYet(
                f"Your Worker changed {names}, which lives at module level. It looks like it works, because the "
                "requests one isolate runs share it; but the platform runs a Worker in many isolates, each with "
                "its own copy, and a deploy or a restart starts it from scratch. A Worker keeps nothing between "
                "requests: keep the data in a Durable Object's storage.")
        where = " and ".join(["on the class, shared by all its objects"] * any("." in n for n in changed)
                             + ["at module level"] * any("." not in n for n in changed))
        raise NotYet(
            f"Your code changed {names}, which lives outside the object ({where}). It looks like it works: it "
            "survives an eviction, because the objects of one isolate share it. But every object of that isolate "
            "sees the same variable, an object in another isolate does not see it at all, and a deploy or a "
            "restart starts it from scratch. Keep the data in self.ctx.storage.")

