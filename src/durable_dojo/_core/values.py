"""How JavaScript turns Python values into strings at the API boundary.

Pyodide passes Python values to the JS API, which applies `String(value)` to a storage key, a
name or an ID string. Keeping these rules in one place keeps keys, names and IDs consistent
with the platform (`idFromName(123)` is `idFromName("123")`).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import operator
import re
import sys


def js_string(key) -> str:
    """Turn a key the way JavaScript's `String(key)` would, as workerd receives it.

    `str` stays (lone surrogates become U+FFFD, as in V8's UTF-8 conversion); `int` gives
    its digits, `bool` gives "true"/"false", `float` is formatted like JS's
    Number-to-String (1.0 → "1", 1.5 → "1.5", 1e21 → "1e+21"), `None` gives "null", a list
    its items joined by commas. Anything else raises `TypeError`.
    """
    if type(key) is str:
        if key.isascii():
            return key
        try:
            key.encode()
        except UnicodeEncodeError:
            return key.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return key
    if isinstance(key, str):
        return js_string(str.__str__(key))
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return _decimal(int(key))
    if isinstance(key, float):
        return js_number_string(key)
    if isinstance(key, list):
        # The SDK sends a list as a JS Array, and String(array) joins its items with commas
        # (null items are empty): put(["a", "b"], 1) writes the key "a,b".
        # a list comprehension, not a generator: each level is then a plain Python call, and
        # nesting past the recursion limit is a RecursionError under Pyodide too (see
        # check_nesting), not a fatal overflow of WebAssembly's stack
        return ",".join(["" if item is None else js_string(item) for item in key])
    raise TypeError(
        f"Expected a string (or a number, bool or None, which JavaScript turns into a "
        f"string), not {type(key).__name__}: {key!r:.60}"
    )


MAX_SAFE_INTEGER = 2**53 - 1  # Number.MAX_SAFE_INTEGER


def becomes_bigint(n: int) -> bool:
    """Whether Pyodide hands the Python int `n` to JavaScript as a BigInt (else a Number)."""
    return not -MAX_SAFE_INTEGER <= n <= MAX_SAFE_INTEGER


def js_number_to_python(x: float) -> int | float:
    """Pyodide's rule for a JS Number reaching Python (`Number.isSafeInteger(x)` gives `int`)."""
    if x.is_integer() and -MAX_SAFE_INTEGER <= x <= MAX_SAFE_INTEGER:
        return int(x)
    return x


def through_js(value):
    """A value a Python callback returns to a JavaScript API, as it comes back to Python: Pyodide
    makes a float a JS Number, which returns as an `int` if it is a safe integer (3.0 -> 3,
    -0.0 -> 0). Other values cross as proxies of themselves and come back unchanged."""
    if type(value) is float:
        return js_number_to_python(value)
    return value


def js_argument_string(value) -> str:
    """`String(value)` of an argument Python passes straight to a JS method, as to a namespace's
    `idFromName()`: Pyodide passes `None` as `undefined`, so it is the text "undefined" (the
    SDK's wrapped bindings, such as `ctx.storage`, send `None` as `null`: "null"). A dict is the
    options object Pyodide makes of keyword arguments (`idFromName(name="x")`), a JS object:
    `String({...})` is "[object Object]"."""
    if value is None:
        return "undefined"
    if isinstance(value, dict):
        return "[object Object]"
    return js_string(value)


def _decimal(n: int) -> str:
    """The digits of `n`, however many: JS prints a BigInt of any size, while Python's str()
    refuses more than 4,300 digits (a guard against slow conversions; the CPU limit is ours)."""
    try:
        return str(n)
    except ValueError:
        if n < 0:
            return "-" + _decimal(-n)
        high, low = divmod(n, 10**4000)
        return _decimal(high) + str(low).zfill(4000)


def js_number_string(x: float) -> str:
    """ECMAScript Number::toString(x) for a float: the shortest round-trip digits."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"  # also -0
    from decimal import Decimal  # only here: loading it costs every `import durable_dojo` a few ms

    sign = "-" if x < 0 else ""
    _, digits_t, exp = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digits_t)).rstrip("0")
    exp += len(digits_t) - len(digits)
    digits = digits.lstrip("0")
    k = len(digits)
    n = exp + k  # x = 0.digits * 10**n
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = ("+" if e >= 0 else "-") + str(abs(e))
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + es
    return sign + s


# A Python Worker's isolate runs in UTC: the SDK's `datetime.fromtimestamp()` sees UTC there,
# whatever zone the machine running the emulator has.


def datetime_from_ms(ms: float) -> _dt.datetime:
    """A JS `Date` as the SDK hands it to Python (`datetime.fromtimestamp(ms / 1000)` in the
    isolate): a naive datetime in UTC."""
    return _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).replace(tzinfo=None)


# ---------------------------------------------------------------------------- deep nesting
#
# CPython's C code that walks a nested value or text (json.dumps, json.loads) guards its recursion
# with a check of the C stack it measures. Under Pyodide (the in-browser runner) that is not the
# stack V8 gives WebAssembly, which runs out first: a few thousand levels end the interpreter
# (a fatal "Maximum call stack size exceeded") instead of raising RecursionError. There, the
# emulator checks the nesting before handing a learner's value or text to json and raises what
# CPython raises, at the recursion limit. Its own recursive conversions recurse in plain Python
# (no generator expression, no map between two levels), which Pyodide stops at the same limit.

JSON_GUARDS_ITSELF = sys.platform != "emscripten"
"""Whether json's C code raises RecursionError on its own (everywhere but under Pyodide)."""

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # an opening bracket 2, a closing one 0


def check_json_nesting(text: str) -> None:
    """Where json does not guard itself, raise `RecursionError` (json's words) if the JSON `text`
    nests arrays and objects deeper than the recursion limit; brackets inside strings do not count."""
    if JSON_GUARDS_ITSELF:
        return
    limit = sys.getrecursionlimit()
    if text.count("[") + text.count("{") <= limit:  # the usual case, counted in C
        return
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    steps = brackets.encode("ascii").translate(_DEPTH_STEPS)
    # the depth after each bracket: the sum of the steps so far less one per bracket (all in C)
    depths = list(map(operator.sub, itertools.accumulate(steps), range(1, len(steps) + 1)))
    if steps and max(depths) > limit:
        kind = "array" if brackets[depths.index(limit + 1)] == "[" else "object"
        raise RecursionError(f"maximum recursion depth exceeded while decoding a JSON {kind} from a unicode string")


def check_nesting(value: object) -> None:
    """Where json does not guard itself, raise `RecursionError` (json's words) if the lists,
    tuples and dicts of `value` nest deeper than the recursion limit. Walks with an explicit stack;
    a cycle is left for json to report ("Circular reference detected")."""
    if JSON_GUARDS_ITSELF or not isinstance(value, _NESTING):
        return
    limit = sys.getrecursionlimit()
    on_path = {id(value)}
    path = [(id(value), _items(value))]
    while path:
        for item in path[-1][1]:
            if isinstance(item, _NESTING) and id(item) not in on_path:
                if len(path) >= limit:
                    raise RecursionError("maximum recursion depth exceeded while encoding a JSON object")
                on_path.add(id(item))
                path.append((id(item), _items(item)))
                break
        else:
            on_path.discard(path.pop()[0])


_NESTING = (list, tuple, dict)


def _items(container):
    return iter(container.values() if isinstance(container, dict) else container)
