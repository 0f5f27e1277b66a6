"""Structured clone, written in V8's own wire format.

Durable Object storage values, RPC arguments and results, and WebSocket attachments are all
copied with V8's structured clone (`ValueSerializer`, format version 15). This codec writes the
same bytes V8 does, so the serialized size of a value here is the size workerd measures, and a
size limit that the platform enforces trips at the same value in the emulator.

Python values are first mapped to JavaScript the way the Python Workers SDK and Pyodide do it
(`python_to_rpc` in `workers/rpc.py`, Pyodide's python2js), and read back the way Pyodide's
js2python and the SDK's `python_from_rpc` hand them to a Python Worker:

    Python                   JavaScript            read back as
    None                     null                  None
    bool                     true / false          bool
    int (|n| < 2**53 - 1)    number                int
    int (larger)             BigInt                int
    float                    number (double)       int if a safe integer (3.0 -> 3, -0.0 -> 0),
                                                   else float (1.5, nan, inf, 2.0**53)
    str                      string                str
    bytes, memoryview        ArrayBuffer           memoryview
    list                     Array                 list
    dict                     Object                JsDict, keys always str
    set, frozenset           Set                   set
    datetime.datetime        Date                  naive datetime in UTC, ms precision
    Exception                Error                 Exception("Error: <message>")

Dict keys become property keys as `Object.fromEntries` makes them: `1` -> "1", `True` -> "true",
`None` -> "null", `1.5` -> "1.5". Keys that are array indices ("0", "1", ...) come first, in
ascending order, as in every JavaScript object.

`serialize` first copies the value as the SDK does (`sdk_copy`): dicts and lists are rebuilt
without a memo, so a list reached twice is stored twice and a cycle fails with `RecursionError`.
`v8_serialize` writes a value as the JavaScript value it stands for, shared references and
cycles kept (what JavaScript code could store); `deserialize` reads both.

Limits of the copy, as on the platform: a `Date` holds whole milliseconds, so microseconds
below 1 ms are lost; a naive datetime is UTC (the isolate's zone), whatever this machine's zone
is; V8 also stores an Error's stack trace, which the emulator has no equivalent of, so an Error
is a little smaller here than on the platform.

Reading never runs code: it builds only plain data (None, bool, int, float, str, memoryview,
list, JsDict, set, datetime, Exception). Malformed input raises `ValueError`.
"""

from __future__ import annotations

import datetime as _dt
import math
import struct
from collections.abc import Awaitable, Callable, Iterator
from types import CoroutineType, GeneratorType

from .errors import DataCloneError, JsError, RangeError, sdk_type_error
from .values import datetime_from_ms, js_number_string, js_number_to_python, js_string

__all__ = ["HostObjects", "JsDict", "MAX_DEPTH", "RPC_MESSAGE_LIMIT", "clone", "is_small_scalar", "rpc_copy",
           "rpc_copy_arguments", "deserialize", "sdk_copy", "serialize", "serialized_size", "v8_serialize"]

FORMAT_VERSION = 15
_OLDEST_READABLE_VERSION = 13
_HEADER = bytes((0xFF, FORMAT_VERSION))

MAX_DEPTH = 10_000
"""Deepest nesting of lists, dicts and sets that serialize and deserialize accept."""

# Serialization tags of V8's value-serializer.cc.
_PADDING = 0x00
_VERIFY_OBJECT_COUNT = ord("?")
_THE_HOLE = ord("-")
_UNDEFINED = ord("_")
_NULL = ord("0")
_TRUE = ord("T")
_FALSE = ord("F")
_INT32 = ord("I")
_UINT32 = ord("U")
_DOUBLE = ord("N")
_BIGINT = ord("Z")
_UTF8_STRING = ord("S")
_ONE_BYTE_STRING = ord('"')
_TWO_BYTE_STRING = ord("c")
_OBJECT_REFERENCE = ord("^")
_BEGIN_JS_OBJECT = ord("o")
_END_JS_OBJECT = ord("{")
_BEGIN_SPARSE_JS_ARRAY = ord("a")
_END_SPARSE_JS_ARRAY = ord("@")
_BEGIN_DENSE_JS_ARRAY = ord("A")
_END_DENSE_JS_ARRAY = ord("$")
_DATE = ord("D")
_TRUE_OBJECT = ord("y")
_FALSE_OBJECT = ord("x")
_NUMBER_OBJECT = ord("n")
_BIGINT_OBJECT = ord("z")
_STRING_OBJECT = ord("s")
_BEGIN_JS_MAP = ord(";")
_END_JS_MAP = ord(":")
_BEGIN_JS_SET = ord("'")
_END_JS_SET = ord(",")
_ARRAY_BUFFER = ord("B")
_ARRAY_BUFFER_VIEW = ord("V")
_ERROR = ord("r")
_HOST_OBJECT = ord("\\")  # an object the embedder (workerd) writes: here, an entry of a side table

# Sub-tags inside an Error record (V8's ErrorTag).
_ERROR_PROTOTYPES = {
    ord("E"): "EvalError",
    ord("R"): "RangeError",
    ord("F"): "ReferenceError",
    ord("S"): "SyntaxError",
    ord("T"): "TypeError",
    ord("U"): "URIError",
}
_ERROR_MESSAGE = ord("m")
_ERROR_CAUSE = ord("c")
_ERROR_STACK = ord("s")
_ERROR_END = ord(".")

# Sub-tags of an ArrayBuffer view (typed arrays and DataView).
_VIEW_SUBTAGS = frozenset(b"bBCwWdDhfFqQ?")

_KEY_TAGS = frozenset((_ONE_BYTE_STRING, _TWO_BYTE_STRING, _UTF8_STRING, _INT32, _UINT32, _DOUBLE))

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_MAX_ARRAY_INDEX = 2**32 - 2
_MAX_BIGINT_BITS = 1 << 30  # V8's BigInt::kMaxLengthBits
_MAX_SAFE_INTEGER = 2**53 - 1  # Number.MAX_SAFE_INTEGER
_MAX_TIME_MS = 8.64e15  # the range of a JavaScript Date
_MAX_SPARSE_LENGTH = 1 << 20  # a sparse array is read into a list of this many items at most
_CO_ITERABLE_COROUTINE = 0x100  # inspect.CO_ITERABLE_COROUTINE, without importing inspect

_DOUBLE_FORMAT = struct.Struct("<d")
_SMALL_VARINTS = [bytes((n,)) for n in range(0x80)]
_IMMUTABLE_SCALARS = frozenset((type(None), bool, int, float, str, bytes))
_UNCHANGED_SCALARS = frozenset((type(None), bool, int, str))  # a round trip gives the same value


class JsDict(dict):
    """A dict that also allows attribute access to its keys, like the Python Workers SDK's.

    JavaScript objects read back as a `JsDict`: `d.name` reads `d["name"]` (a missing key raises
    `AttributeError`) and `d.name = 1` sets the key. Keys named like a dict method (`items`,
    `keys`, ...) are reachable only with `d["items"]`.
    """

    def __getattr__(self, name: str) -> object:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: object) -> None:
        self[name] = value


# --------------------------------------------------------------------------- public functions


def serialize(value: object, host_objects: HostObjects | None = None) -> bytes:
    """Serialize a Python Worker's value: the SDK's copy (`sdk_copy`), which is what reaches
    JavaScript, written as V8 structured-clone bytes (`v8_serialize`)."""
    if type(value) is int and _INT32_MIN <= value <= _INT32_MAX:  # counters: the bytes _Writer writes
        return _INT32_PREFIX + _varint((value << 1) ^ (value >> 31))
    if isinstance(value, (dict, list)):
        value = sdk_copy(value)
    return v8_serialize(value, host_objects)


class HostObjects:
    """What RPC passes besides data: workerd writes stubs and functions into a message as host
    objects, which the receiver gets as new stubs. `externalize(value)` gives the object the
    receiver gets for a value that is not data (or None: not cloneable), or raises the
    platform's error; `objects` holds them, in order, for `deserialize`."""

    __slots__ = ("externalize", "objects")

    def __init__(self, externalize: Callable[[object], object | None]):
        self.externalize = externalize
        self.objects: list[object] = []


def v8_serialize(value: object, host_objects: HostObjects | None = None) -> bytes:
    """Write `value`, taken as the JavaScript value it stands for, as V8 structured-clone
    bytes (format version 15). Shared references and cycles are kept, as V8 keeps them."""
    try:
        return _serialize(value, host_objects)
    except (TypeError, DataCloneError):
        # The SDK checks the whole value for types that RPC refuses before it converts anything,
        # so such a type wins over any other problem, wherever it sits in the value.
        refused = _find_refused_type(value)
        if refused is not None:
            raise refused from None
        raise


_SMALL_SCALARS: dict[bytes, object] = {}  # bytes of small immutable values -> the value
_SMALL_LIMIT = 24
_SMALL_CACHE_SIZE = 4096


def deserialize(data: bytes | bytearray | memoryview, host_objects: HostObjects | None = None) -> object:
    """Read a value back from structured-clone bytes; raise `ValueError` if they are malformed."""
    if host_objects is not None:
        return _deserialize(data, host_objects)
    if type(data) is bytes and len(data) <= _SMALL_LIMIT:
        # Counters, flags and short strings are most of what objects store: reading the same
        # bytes again gives an equal immutable value, so a small cache skips the parser.
        cached = _SMALL_SCALARS.get(data, _SMALL_SCALARS)
        if cached is not _SMALL_SCALARS:
            return cached
        value = _int32_of(data)
        if value is None:
            value = _deserialize(data)
        if type(value) in _IMMUTABLE_SCALARS:
            if len(_SMALL_SCALARS) >= _SMALL_CACHE_SIZE:
                _SMALL_SCALARS.clear()
            _SMALL_SCALARS[data] = value
        return value
    return _deserialize(data)


_INT32_PREFIX = _HEADER + bytes((_INT32,))


def _int32_of(data: bytes) -> int | None:
    """The int32 that `data` holds if it is exactly a current header and one int32 record (what
    `serialize` writes for a counter), read without the general reader; else None."""
    if not data.startswith(_INT32_PREFIX):
        return None
    zigzag = shift = 0
    for position in range(3, len(data)):
        byte = data[position]
        zigzag |= (byte & 0x7F) << shift
        if byte < 0x80:
            if position != len(data) - 1 or zigzag > 0xFFFFFFFF:
                return None  # trailing bytes or out of range: the reader says what is wrong
            return (zigzag >> 1) ^ -(zigzag & 1)
        shift += 7
    return None


def _deserialize(data, host_objects: HostObjects | None = None) -> object:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"deserialize() needs bytes, not {type(data).__name__}")
    reader = _Reader(bytes(data), host_objects)
    try:
        return reader.read_root()
    except (IndexError, KeyError, OverflowError, struct.error) as exc:
        raise _malformed(f"{type(exc).__name__}: {exc}") from exc


def clone(value: object, externalize: Callable[[object], object | None] | None = None) -> object:
    """Copy `value` as structured clone does: `deserialize(serialize(value))`.

    Immutable scalars (None, bool, int, float, str, bytes) are returned as they are, since
    their round trip gives an equal value of the same type. With `externalize` (RPC), a value
    that is not data becomes what `externalize` gives for it (see `HostObjects`).
    """
    kind = type(value)
    if kind in _UNCHANGED_SCALARS:
        return value
    if kind is float:
        return js_number_to_python(value)
    if kind is bytes:
        return memoryview(value)
    if externalize is None:
        return deserialize(serialize(value))
    host_objects = HostObjects(externalize)
    return deserialize(serialize(value, host_objects), host_objects)


RPC_MESSAGE_LIMIT = 32 * 1024 * 1024  # workerd's bound on one RPC call's arguments, or its result
_SMALL_TEXT = 1 << 16


def is_small_scalar(value: object) -> bool:
    """A value whose RPC copy needs no size check and no host objects: a number, a boolean,
    None, or a short str or bytes."""
    kind = type(value)
    if kind in _SMALL_NUMBERS:
        return True
    return (kind is str or kind is bytes) and len(value) < _SMALL_TEXT


_SMALL_NUMBERS = frozenset((type(None), bool, int, float))


def _check_rpc_size(size: int) -> None:
    if size > RPC_MESSAGE_LIMIT:
        raise JsError("Serialized RPC arguments or return values are limited to 32MiB, but the size of this "
                      f"value was: {size} bytes.")


def rpc_copy(value: object, externalize: Callable[[object], object | None]) -> object:
    """An RPC result as the caller receives it: its structured-clone copy, functions and stubs
    passed as `externalize` says, refused past workerd's 32 MiB."""
    host_objects = HostObjects(externalize)
    data = serialize(value, host_objects)
    _check_rpc_size(len(data))
    return deserialize(data, host_objects)


def rpc_copy_arguments(args: tuple, externalize: Callable[[object], object | None]) -> tuple:
    """An RPC call's arguments as the receiver gets them. The SDK converts each one on its own
    (so nothing is shared between two arguments); workerd sends them as one array, whose size
    is bounded like a result's."""
    host_objects = HostObjects(externalize)
    encoded = [serialize(arg, host_objects) for arg in args]
    count = len(_varint(len(args)))
    header = len(_HEADER)
    # the array: header, 'A', its length, the items without their headers, '$', 0, its length
    _check_rpc_size(header + 1 + count + sum(len(data) - header for data in encoded) + 2 + count)
    return tuple(deserialize(data, host_objects) for data in encoded)


def sdk_copy(value: object) -> object:
    """The copy the SDK's `python_to_rpc` makes before JavaScript sees a value.

    `_replace_none_with_jsnull` in `workers/rpc.py` rebuilds every dict and list recursively,
    with no memo: a list reached twice becomes two lists (shared references split), and a
    cycle recurses until Python raises `RecursionError`, as it does on the platform. Sets and
    other values are kept as they are (the SDK does not descend into them).
    """
    if isinstance(value, dict):
        return {key: sdk_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [sdk_copy(item) for item in value]
    return value


def serialized_size(value: object) -> int:
    """The number of bytes V8 uses for `value`: what the platform's size limits measure."""
    return len(serialize(value))


# --------------------------------------------------------------------------- errors


def _not_cloneable(value: object) -> DataCloneError:
    return DataCloneError(f"{value!r} could not be cloned.")


def _malformed(reason: str) -> ValueError:
    return ValueError(f"Malformed structured clone data: {reason}")


def _too_deep() -> RangeError:
    return RangeError(
        f"Maximum call stack size exceeded: the value nests deeper than {MAX_DEPTH} levels"
    )


def _is_awaitable(value: object) -> bool:
    """`inspect.isawaitable`, without importing inspect."""
    if isinstance(value, CoroutineType):
        return True
    if isinstance(value, GeneratorType):
        return bool(value.gi_code.co_flags & _CO_ITERABLE_COROUTINE)
    return isinstance(value, Awaitable)


def _refused_type_error(value: object) -> TypeError | None:
    """The SDK's error for a type that RPC refuses outright (`_raise_on_disabled_type`).

    The SDK raises it in Python, before JavaScript sees the value, so it is a Python
    `TypeError` (marked so that `ffi.js_api` passes it on unchanged)."""
    if isinstance(value, (tuple, bytearray)):
        return sdk_type_error(f"{type(value)} cannot be sent over RPC.")
    if _is_awaitable(value):
        return sdk_type_error(f"Awaitable {type(value)} cannot be sent over RPC.")
    return None


def _find_refused_type(value: object) -> TypeError | None:
    """The error for the first refused type in `value`, in the order the SDK checks them.

    The SDK walks list items, set items and dict values (not keys) depth first.
    """
    seen: set[int] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        error = _refused_type_error(item)
        if error is not None:
            return error
        if isinstance(item, (list, dict, set, frozenset)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            children = list(item.values() if isinstance(item, dict) else item)
            children.reverse()
            pending.extend(children)
    return None


# --------------------------------------------------------------------------- numbers and keys


def _varint(n: int) -> bytes:
    """Base-128 varint, least significant group first."""
    if n < 0x80:
        return _SMALL_VARINTS[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _property_key(key: object) -> str:
    """The JavaScript property key that `Object.fromEntries` makes of a Python dict key."""
    if type(key) is str:
        return key
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return js_string(int(key))  # String(n), however many digits (a BigInt key)
    if isinstance(key, float):
        return js_number_string(key)
    if key is None:
        return "null"
    raise _not_cloneable(key)


def _array_index(key: str) -> int | None:
    """The array index a property key names ("0" .. "4294967294" in canonical form), or None."""
    if not key or not "0" <= key[0] <= "9" or len(key) > 10:
        return None
    if not (key.isascii() and key.isdigit()) or (key[0] == "0" and len(key) > 1):
        return None
    index = int(key)
    return index if index <= _MAX_ARRAY_INDEX else None


def _property_entries(mapping: dict) -> list[tuple[str, object]]:
    """A dict's entries as JavaScript object properties, in JavaScript's property order.

    Keys are coerced like `Object.fromEntries` (a later duplicate wins but keeps the first
    position); array-index keys come first, ascending, then the rest in insertion order.
    """
    properties: dict[str, object] = {}
    for key, value in mapping.items():
        properties[_property_key(key)] = value
    index_keys = [key for key in properties if _array_index(key) is not None]
    if not index_keys:
        return list(properties.items())
    index_keys.sort(key=int)
    ordered = [(key, properties.pop(key)) for key in index_keys]
    ordered.extend(properties.items())
    return ordered


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def datetime_ms(value: _dt.datetime) -> int:
    """Whole milliseconds since the epoch (a naive datetime is UTC), truncated toward zero as
    the SDK's `Date.new(timestamp() * 1000)` truncates (1969-12-31 23:59:59.9995 is the epoch),
    in exact integer arithmetic: `timestamp() * 1000` rounds near year 9999 into a Date no
    datetime can hold."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    microseconds = (value - _EPOCH) // _dt.timedelta(microseconds=1)
    whole_ms = abs(microseconds) // 1000
    return whole_ms if microseconds >= 0 else -whole_ms


def _time_clip(ms: float) -> float:
    """JavaScript's TimeClip: whole milliseconds toward zero, NaN outside a Date's range."""
    if not math.isfinite(ms) or abs(ms) > _MAX_TIME_MS:
        return math.nan
    return float(math.trunc(ms))


def _datetime_from_ms(ms: float) -> _dt.datetime:
    """What the SDK makes of a Date: `datetime.fromtimestamp(ms / 1000)` in the isolate, whose
    time zone is UTC: a naive datetime in UTC, whatever this machine's zone is."""
    try:
        return datetime_from_ms(ms)
    except (ValueError, OverflowError, OSError):
        raise _malformed(f"a Date of {ms!r} ms has no datetime.datetime equivalent") from None


def _error_to_string(name: str, message: str | None) -> str:
    """JavaScript's `Error.prototype.toString()`."""
    if not message:
        return name
    return f"{name}: {message}"


# --------------------------------------------------------------------------- writing


def _serialize(value: object, host_objects: HostObjects | None = None) -> bytes:
    """Write `value` depth first with an explicit stack, so deep nesting needs no recursion."""
    writer = _Writer(host_objects)
    open_containers: list[Iterator[object]] = []
    children = writer.write(value)
    while True:
        if children is not None:
            if len(open_containers) >= MAX_DEPTH:
                raise _too_deep()
            open_containers.append(children)
        if not open_containers:
            return bytes(writer.out)
        try:
            child = next(open_containers[-1])
        except StopIteration:
            open_containers.pop()
            children = None
            continue
        children = writer.write(child)


class _Writer:
    """Appends V8 records to `out` and numbers objects in the order V8 does."""

    __slots__ = ("out", "_ids", "_next_id", "_host_objects")

    def __init__(self, host_objects: HostObjects | None = None) -> None:
        self.out = bytearray(_HEADER)
        self._host_objects = host_objects
        self._ids: dict[int, int] = {}  # id() of a list, dict or set -> its object id
        self._next_id = 0

    def write(self, value: object) -> Iterator[object] | None:
        """Write `value`. For a container, write its opening record and return an iterator over
        the children still to write; it writes the closing record once exhausted."""
        out = self.out
        if value is None:
            out.append(_NULL)
        elif value is True:
            out.append(_TRUE)
        elif value is False:
            out.append(_FALSE)
        elif isinstance(value, int):
            self._write_int(value)
        elif isinstance(value, float):
            out.append(_DOUBLE)
            out += _DOUBLE_FORMAT.pack(value)
        elif isinstance(value, str):
            self._write_string(value)
        elif isinstance(value, (list, dict, set, frozenset)):
            return self._write_container(value)
        elif isinstance(value, (bytes, memoryview)):
            self._write_array_buffer(value)
        elif isinstance(value, _dt.datetime):
            self._write_date(value)
        elif isinstance(value, Exception):
            self._write_error(value)
        else:
            refused = _refused_type_error(value)
            if refused is not None:
                raise refused
            if not self._write_host_object(value):
                raise _not_cloneable(value)
        return None

    def _write_host_object(self, value: object) -> bool:
        host_objects = self._host_objects
        if host_objects is None:
            return False
        passed = host_objects.externalize(value)
        if passed is None:
            return False
        self._new_object_id()
        self.out.append(_HOST_OBJECT)
        self.out += _varint(len(host_objects.objects))
        host_objects.objects.append(passed)
        return True

    def _new_object_id(self) -> int:
        object_id = self._next_id
        self._next_id += 1
        return object_id

    def _write_int(self, n: int) -> None:
        out = self.out
        if _INT32_MIN <= n <= _INT32_MAX:
            out.append(_INT32)
            out += _varint((n << 1) ^ (n >> 31))  # zigzag
            return
        if -_MAX_SAFE_INTEGER < n < _MAX_SAFE_INTEGER:
            # Pyodide makes a JS Number of it (python2js.c), which V8 writes as a double.
            out.append(_DOUBLE)
            out += _DOUBLE_FORMAT.pack(float(n))
            return
        magnitude = -n if n < 0 else int(n)
        if magnitude.bit_length() > _MAX_BIGINT_BITS:
            raise RangeError("Maximum BigInt size exceeded")
        digits_length = (magnitude.bit_length() + 63) // 64 * 8  # whole 64-bit digits
        out.append(_BIGINT)
        out += _varint(digits_length << 1 | (n < 0))
        out += magnitude.to_bytes(digits_length, "little")

    def _write_string(self, s: str) -> None:
        out = self.out
        try:
            data = str.encode(s, "latin-1")
        except UnicodeEncodeError:
            data = str.encode(s, "utf-16-le", "surrogatepass")
            length = _varint(len(data))
            # V8 keeps two-byte payloads at even offsets, padding before the tag if needed.
            if (len(out) + 1 + len(length)) & 1:
                out.append(_PADDING)
            out.append(_TWO_BYTE_STRING)
            out += length
            out += data
            return
        out.append(_ONE_BYTE_STRING)
        out += _varint(len(data))
        out += data

    def _write_property_key(self, key: str) -> None:
        """V8 writes array-index keys as numbers and every other key as a string."""
        index = _array_index(key)
        if index is None:
            self._write_string(key)
        elif index <= _INT32_MAX:
            self.out.append(_INT32)
            self.out += _varint(index << 1)
        else:
            self.out.append(_DOUBLE)
            self.out += _DOUBLE_FORMAT.pack(float(index))

    def _write_container(self, value: list | dict | set | frozenset) -> Iterator[object] | None:
        object_id = self._ids.get(id(value))
        if object_id is not None:
            self.out.append(_OBJECT_REFERENCE)
            self.out += _varint(object_id)
            return None
        self._ids[id(value)] = self._new_object_id()
        if isinstance(value, list):
            self.out.append(_BEGIN_DENSE_JS_ARRAY)
            self.out += _varint(len(value))
            return self._array_items(value, len(value))
        if isinstance(value, dict):
            entries = _property_entries(value)
            self.out.append(_BEGIN_JS_OBJECT)
            return self._object_properties(entries)
        self.out.append(_BEGIN_JS_SET)
        return self._set_items(value, len(value))

    def _array_items(self, items: list, length: int) -> Iterator[object]:
        yield from items
        self.out.append(_END_DENSE_JS_ARRAY)
        self.out += _varint(0)  # no extra properties
        self.out += _varint(length)

    def _object_properties(self, entries: list[tuple[str, object]]) -> Iterator[object]:
        for key, value in entries:
            self._write_property_key(key)
            yield value
        self.out.append(_END_JS_OBJECT)
        self.out += _varint(len(entries))

    def _set_items(self, items: set | frozenset, length: int) -> Iterator[object]:
        yield from items
        self.out.append(_END_JS_SET)
        self.out += _varint(length)

    def _write_array_buffer(self, value: bytes | memoryview) -> None:
        data = value.tobytes() if isinstance(value, memoryview) else value
        self._new_object_id()
        self.out.append(_ARRAY_BUFFER)
        self.out += _varint(len(data))
        self.out += data

    def _write_date(self, value: _dt.datetime) -> None:
        ms = _time_clip(float(datetime_ms(value)))  # exact: timestamp() rounds and fails at the ends
        if not math.isnan(ms):
            try:
                _datetime_from_ms(ms)
            except ValueError:  # a Date that could not be read back is refused now, not at the next get()
                raise DataCloneError(f"{value!r} cannot be stored: read back, it would be out of datetime's range.") from None
        self._new_object_id()
        self.out.append(_DATE)
        self.out += _DOUBLE_FORMAT.pack(ms)

    def _write_error(self, error: Exception) -> None:
        message = str(error)
        self._new_object_id()
        self.out.append(_ERROR)  # no prototype sub-tag: a plain Error
        self.out.append(_ERROR_MESSAGE)
        self._write_string(message)
        self.out.append(_ERROR_END)


# --------------------------------------------------------------------------- reading

_UNDER_CONSTRUCTION = object()  # the object-table slot of an Error still being read


class _Reader:
    """Reads V8 records. A container reader is a generator: it yields to ask for its next child
    value and returns the finished container, so nesting never uses the Python stack."""

    __slots__ = ("data", "pos", "version", "objects", "buffer_ids", "host_objects")

    def __init__(self, data: bytes, host_objects: HostObjects | None = None) -> None:
        self.data = data
        self.host_objects = host_objects
        self.pos = 0
        self.version = 0
        self.objects: list[object] = []  # object id -> the value read for it
        self.buffer_ids: set[int] = set()  # object ids of ArrayBuffers (a view may follow)

    def read_root(self) -> object:
        self._read_header()
        value = self._read_nested()
        if self.pos != len(self.data):
            raise _malformed(f"{len(self.data) - self.pos} trailing bytes after the value")
        return value

    def _read_header(self) -> None:
        if self._read_byte() != 0xFF:
            raise _malformed("the version header (0xFF) is missing")
        version = self._read_varint()
        if not _OLDEST_READABLE_VERSION <= version <= FORMAT_VERSION:
            raise _malformed(f"format version {version} is not supported")
        self.version = version

    def _read_nested(self) -> object:
        open_containers: list[GeneratorType] = []
        value = self._read_value()
        while True:
            if isinstance(value, GeneratorType):
                if len(open_containers) >= MAX_DEPTH:
                    raise _too_deep()
                open_containers.append(value)
                reply = None
            elif not open_containers:
                return value
            else:
                reply = value
            try:
                open_containers[-1].send(reply)
            except StopIteration as finished:
                open_containers.pop()
                value = finished.value
                continue
            value = self._read_value()

    # ---- bytes, varints, tags

    def _read_byte(self) -> int:
        if self.pos >= len(self.data):
            raise _malformed("unexpected end of data")
        byte = self.data[self.pos]
        self.pos += 1
        return byte

    def _read_bytes(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise _malformed("unexpected end of data")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def _read_varint(self) -> int:
        pos = self.pos
        if pos < len(self.data) and self.data[pos] < 0x80:  # the common one-byte case
            self.pos = pos + 1
            return self.data[pos]
        result = 0
        shift = 0
        while True:
            byte = self._read_byte()
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise _malformed("a varint is longer than 64 bits")

    def _read_uint32(self) -> int:
        value = self._read_varint()
        if value > 0xFFFFFFFF:
            raise _malformed("a 32-bit varint is out of range")
        return value

    def _read_length(self) -> int:
        """A byte or item count, which cannot exceed the bytes that are left."""
        length = self._read_varint()
        if length > len(self.data) - self.pos:
            raise _malformed(f"a length of {length} runs past the end of the data")
        return length

    def _read_double(self) -> float:
        return _DOUBLE_FORMAT.unpack(self._read_bytes(8))[0]

    def _read_number(self) -> int | float:
        """A JavaScript Number as Pyodide hands it to Python: a safe integer (3.0, -0.0,
        2**40) becomes an `int`, anything else (1.5, NaN, Infinity, 2**60) a `float`."""
        return js_number_to_python(self._read_double())

    def _peek_tag(self) -> int | None:
        """The next tag (skipping padding), not consumed; None at the end of the data."""
        data, pos = self.data, self.pos
        while pos < len(data):
            if data[pos] != _PADDING:
                self.pos = pos
                return data[pos]
            pos += 1
        self.pos = pos
        return None

    def _expect_tag(self, tag: int) -> None:
        if self._peek_tag() != tag:
            raise _malformed(f"expected tag {chr(tag)!r} at offset {self.pos}")
        self.pos += 1

    # ---- values

    def _read_value(self) -> object:
        """Read one value: a finished value, or a generator for a container to fill."""
        tag = self._peek_tag()
        while tag == _VERIFY_OBJECT_COUNT:  # a count that V8 no longer checks
            self.pos += 1
            self._read_varint()
            tag = self._peek_tag()
        if tag is None:
            raise _malformed("unexpected end of data")
        read = _VALUE_READERS.get(tag)
        if read is None:
            raise _malformed(f"unknown or unsupported tag {chr(tag)!r} at offset {self.pos}")
        self.pos += 1
        return read(self)

    def _read_undefined(self) -> None:
        return None

    def _read_true(self) -> bool:
        return True

    def _read_false(self) -> bool:
        return False

    def _read_int32(self) -> int:
        zigzag = self._read_uint32()
        return (zigzag >> 1) ^ -(zigzag & 1)

    def _read_bigint(self) -> int:
        bitfield = self._read_varint()
        magnitude = int.from_bytes(self._read_bytes(bitfield >> 1), "little")
        return -magnitude if bitfield & 1 else magnitude

    def _read_one_byte_string(self) -> str:
        return self._read_bytes(self._read_length()).decode("latin-1")

    def _read_two_byte_string(self) -> str:
        length = self._read_length()
        if length % 2:
            raise _malformed("a two-byte string has an odd byte length")
        return self._read_bytes(length).decode("utf-16-le", "surrogatepass")

    def _read_utf8_string(self) -> str:
        return self._read_bytes(self._read_length()).decode("utf-8", "replace")

    def _read_string(self) -> str:
        value = self._read_value()
        if not isinstance(value, str):
            raise _malformed("expected a string")
        return value

    def _read_property_key(self) -> str:
        """A property key: a string, or a number that V8 wrote for an array index."""
        if self._peek_tag() not in _KEY_TAGS:
            raise _malformed(f"a property key must be a string or a number (offset {self.pos})")
        key = self._read_value()
        if isinstance(key, str):
            return key
        if isinstance(key, int):
            return str(key)
        return js_number_string(key)

    def _remember(self, value: object) -> object:
        self.objects.append(value)
        return value

    def _read_reference(self) -> object:
        object_id = self._read_varint()
        if object_id >= len(self.objects) or self.objects[object_id] is _UNDER_CONSTRUCTION:
            raise _malformed(f"a reference to unknown object {object_id}")
        value = self.objects[object_id]
        if object_id in self.buffer_ids:
            return self._read_view_if_any(value)
        return value

    def _read_host_object(self) -> object:
        index = self._read_varint()
        if self.host_objects is None or index >= len(self.host_objects.objects):
            raise _malformed(f"a host object ({index}) that this message does not carry")
        return self._remember(self.host_objects.objects[index])

    def _read_date(self) -> _dt.datetime:
        return self._remember(_datetime_from_ms(self._read_double()))

    def _read_array_buffer(self) -> memoryview:
        data = memoryview(self._read_bytes(self._read_length()))
        self.buffer_ids.add(len(self.objects))
        self._remember(data)
        return self._read_view_if_any(data)

    def _read_view_if_any(self, buffer: memoryview) -> memoryview:
        """A typed array or DataView over `buffer` follows it directly; read it as its bytes.

        Pyodide hands an ArrayBuffer or a typed array to Python as a `memoryview`."""
        if self._peek_tag() != _ARRAY_BUFFER_VIEW:
            return buffer
        self.pos += 1
        subtag = self._read_byte()
        offset = self._read_varint()
        length = self._read_varint()
        if self.version >= 14:
            self._read_varint()  # flags
        if subtag not in _VIEW_SUBTAGS:
            raise _malformed(f"unknown array buffer view type {chr(subtag)!r}")
        if offset + length > len(buffer):
            raise _malformed("an array buffer view runs past its buffer")
        return self._remember(buffer[offset : offset + length])

    def _read_primitive_object(self, read: Callable[[_Reader], object]) -> object:
        """`new Number(1)` and friends: an object wrapping a primitive; read as the primitive."""
        return self._remember(read(self))

    # ---- containers (generators)

    def _read_properties(
        self, end_tag: int, store: Callable[[str, object], None]
    ) -> Iterator[None]:
        """Key/value pairs up to `end_tag`; returns how many were read."""
        count = 0
        while self._peek_tag() != end_tag:
            key = self._read_property_key()
            store(key, (yield))
            count += 1
        self.pos += 1
        return count

    def _check_count(self, what: str, expected: int, found: int) -> None:
        if expected != found:
            raise _malformed(f"{what} announces {expected} entries but holds {found}")

    def _read_object(self) -> Iterator[None]:
        result = self._remember(JsDict())
        count = yield from self._read_properties(_END_JS_OBJECT, result.__setitem__)
        self._check_count("an object", self._read_varint(), count)
        return result

    def _read_dense_array(self) -> Iterator[None]:
        length = self._read_length()
        result = self._remember([])
        for _ in range(length):
            if self._peek_tag() == _THE_HOLE:
                self.pos += 1
                result.append(None)
            else:
                result.append((yield))
        extra = yield from self._read_properties(_END_DENSE_JS_ARRAY, _ignore_property)
        self._check_count("an array's extra properties", self._read_varint(), extra)
        self._check_count("an array", self._read_varint(), length)
        return result

    def _read_sparse_array(self) -> Iterator[None]:
        length = self._read_uint32()
        if length > _MAX_SPARSE_LENGTH:
            raise _malformed(f"a sparse array of length {length} is too long to read")
        result = self._remember([None] * length)

        def store(key: str, value: object) -> None:
            index = _array_index(key)
            if index is not None and index < length:
                result[index] = value

        count = yield from self._read_properties(_END_SPARSE_JS_ARRAY, store)
        self._check_count("a sparse array", self._read_varint(), count)
        self._check_count("a sparse array's length", self._read_varint(), length)
        return result

    def _read_set(self) -> Iterator[None]:
        result = self._remember(set())
        count = 0
        while self._peek_tag() != _END_JS_SET:
            result.add(_hashable((yield)))
            count += 1
        self.pos += 1
        self._check_count("a Set", self._read_varint(), count)
        return result

    def _read_map(self) -> Iterator[None]:
        result = self._remember(JsDict())
        count = 0
        while self._peek_tag() != _END_JS_MAP:
            key = _hashable((yield))
            result[key] = yield
            count += 2
        self.pos += 1
        self._check_count("a Map", self._read_varint(), count)
        return result

    def _read_error(self) -> Iterator[None]:
        object_id = len(self.objects)
        self._remember(_UNDER_CONSTRUCTION)
        name, message = "Error", None
        while True:
            sub_tag = self._read_varint()
            if sub_tag in _ERROR_PROTOTYPES:
                name = _ERROR_PROTOTYPES[sub_tag]
            elif sub_tag == _ERROR_MESSAGE:
                message = self._read_string()
            elif sub_tag == _ERROR_STACK:
                self._read_string()  # the JavaScript stack trace has no Python meaning
            elif sub_tag == _ERROR_CAUSE:
                yield  # read and drop the cause, as the SDK's Exception(error.toString()) does
            elif sub_tag == _ERROR_END:
                break
            else:
                raise _malformed(f"unknown Error field {sub_tag}")
        error = Exception(_error_to_string(name, message))
        self.objects[object_id] = error
        return error


def _ignore_property(key: str, value: object) -> None:
    """Properties set on an array besides its items: JavaScript-only, not kept."""


def _hashable(value: object) -> object:
    """A Set item or Map key as a Python set item or dict key."""
    if isinstance(value, set):
        return frozenset(value)
    try:
        hash(value)
    except TypeError:
        raise _malformed(f"a {type(value).__name__} cannot be a Set item or a Map key") from None
    return value


_VALUE_READERS: dict[int, Callable[[_Reader], object]] = {
    _UNDEFINED: _Reader._read_undefined,
    _NULL: _Reader._read_undefined,
    _TRUE: _Reader._read_true,
    _FALSE: _Reader._read_false,
    _INT32: _Reader._read_int32,
    _UINT32: _Reader._read_uint32,
    _DOUBLE: _Reader._read_number,
    _BIGINT: _Reader._read_bigint,
    _ONE_BYTE_STRING: _Reader._read_one_byte_string,
    _TWO_BYTE_STRING: _Reader._read_two_byte_string,
    _UTF8_STRING: _Reader._read_utf8_string,
    _OBJECT_REFERENCE: _Reader._read_reference,
    _BEGIN_JS_OBJECT: _Reader._read_object,
    _BEGIN_DENSE_JS_ARRAY: _Reader._read_dense_array,
    _BEGIN_SPARSE_JS_ARRAY: _Reader._read_sparse_array,
    _BEGIN_JS_SET: _Reader._read_set,
    _BEGIN_JS_MAP: _Reader._read_map,
    _DATE: _Reader._read_date,
    _ARRAY_BUFFER: _Reader._read_array_buffer,
    _ERROR: _Reader._read_error,
    _HOST_OBJECT: _Reader._read_host_object,
    _TRUE_OBJECT: lambda reader: reader._read_primitive_object(_Reader._read_true),
    _FALSE_OBJECT: lambda reader: reader._read_primitive_object(_Reader._read_false),
    _NUMBER_OBJECT: lambda reader: reader._read_primitive_object(_Reader._read_number),
    _BIGINT_OBJECT: lambda reader: reader._read_primitive_object(_Reader._read_bigint),
    _STRING_OBJECT: lambda reader: reader._read_primitive_object(_Reader._read_string),
}
