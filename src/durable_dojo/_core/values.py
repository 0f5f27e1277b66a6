"""How JavaScript turns Python values into strings at the API boundary.

Pyodide passes Python values to the JS API, which applies `String(value)` to a storage key, a
name or an ID string. Keeping these rules in one place keeps keys, names and IDs consistent
with the platform (`idFromName(123)` is `idFromName("123")`).
"""

from __future__ import annotations

import datetime as _dt
import math


def js_string(key) -> str:
    """Turn a key the way JavaScript's `String(key)` would, as workerd receives it.

    `str` stays (lone surrogates become U+FFFD, as in V8's UTF-8 conversion); `int` gives
    its digits, `bool` gives "true"/"false", `float` is formatted like JS's
    Number-to-String (1.0 → "1", 1.5 → "1.5", 1e21 → "1e+21"), `None` gives "null".
    Anything else raises `TypeError`.
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
    raise TypeError(
        f"Expected a string (or a number, bool or None, which JavaScript turns into a "
        f"string), not {type(key).__name__}: {key!r:.60}"
    )


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
