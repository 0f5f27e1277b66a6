"""The HTTP types of the `workers` module: `Request`, `Response`, `FetchResponse`, `Headers`,
`FormData`, `Blob` and `File`.

Cloudflare's Python Workers SDK (`workers-runtime-sdk`) defines these names as thin wrappers
around JavaScript objects, so it only runs inside Pyodide. Durable Dojo re-creates them in plain
Python with the same names, signatures and behaviour, so that code written against the dojo
deploys to Cloudflare unchanged. Where the Python SDK leaves the behaviour to JavaScript, we
follow workerd (the Workers runtime) and the Fetch standard, and keep workerd's error messages
word for word. The SDK turns the JavaScript errors of these constructors into Python ones
(`_to_python_exception` in `workers/utils.py`): a `TypeError` stays a `TypeError`, a
`RangeError` becomes a `ValueError`.

Bodies are held as `bytes`. As on the platform, `request.body` / `response.body` is a
JavaScript `ReadableStream` (read with `getReader()`, or `async for chunk in body`, each chunk
a `Uint8Array` with `to_bytes()`), `request.js_object` is the JavaScript `Request` (camelCase
names), and `request.cf` is a JavaScript object or None. A body can be read only once. The emulator passes a request or a response to the other side of a stub with
`_detached_copy()`, which gives a fresh, unread object with the same data, like a real HTTP hop.
"""

from __future__ import annotations

import functools

import os
from collections.abc import MutableMapping
from enum import StrEnum
from http import HTTPMethod, HTTPStatus

from .codec import JsDict
from .values import check_json_nesting, check_nesting, js_string

__all__ = [
    "Blob",
    "BlobEnding",
    "FetchResponse",
    "File",
    "FormData",
    "Headers",
    "Request",
    "Response",
    "body_to_bytes",
]

# workerd's messages, word for word.
BODY_USED_MESSAGE = (
    "Body has already been used. It can only be used once. Use tee() first if you need to read it twice."
)
GET_WITH_BODY_MESSAGE = "Request with a GET or HEAD method cannot have a body."
USED_REQUEST_MESSAGE = "Cannot reconstruct a Request with a used body."
STATUS_RANGE_MESSAGE = (
    "Responses may only be constructed with status codes in the range 200 to 599, inclusive."
)
WEBSOCKET_STATUS_MESSAGE = "Responses with a WebSocket must have status code 101."
NULL_BODY_MESSAGE = "Response with null body status (101, 204, 205, or 304) cannot have a body."
CLONE_WEBSOCKET_MESSAGE = "Cannot clone a response to a WebSocket handshake."
CLONE_USED_MESSAGE = "This ReadableStream is currently locked to a reader,"  # sic: workerd's text
INVALID_HEADER_NAME_MESSAGE = "Invalid header name."
INVALID_HEADER_VALUE_MESSAGE = "Invalid header value."
HEADER_PAIR_MESSAGE = (
    "To initialize a Headers object from a sequence, each inner sequence must have exactly two elements."
)
INVALID_REDIRECT_MODE_MESSAGE = (
    'Invalid redirect value, must be one of "follow" or "manual" ("error" won\'t be implemented '
    'since it does not make sense at the edge; use "manual" and check the response status code).'
)
FORM_NO_CONTENT_TYPE_MESSAGE = "Parsing a Body as FormData requires a Content-Type header."
FORM_BAD_CONTENT_TYPE_MESSAGE = (
    "Unrecognized Content-Type header value. FormData can only parse the following MIME types: "
    "multipart/form-data, application/x-www-form-urlencoded"
)
FORM_NO_BOUNDARY_MESSAGE = (
    "No boundary string in Content-Type header. The multipart/form-data MIME type requires a "
    "boundary parameter, e.g. 'Content-Type: multipart/form-data; boundary=\"abcd\"'. "
    "See RFC 7578, section 4."
)
FORM_NO_INITIAL_BOUNDARY_MESSAGE = "No initial boundary string (or you have a truncated message)."
FORM_NO_NEXT_BOUNDARY_MESSAGE = "No subsequent boundary string after multipart message."
FORM_BAD_PART_HEADERS_MESSAGE = "FormData part had invalid headers."
FORM_NO_DISPOSITION_MESSAGE = "No valid Content-Disposition header found in FormData part."
FORM_NO_NAME_MESSAGE = "Content-Disposition header in FormData part is missing a name."
# The Python SDK's own message for a headers argument of the wrong type.
HEADERS_TYPE_MESSAGE = "Received unexpected type for headers argument"

TEXT_CONTENT_TYPE = "text/plain;charset=UTF-8"
JSON_CONTENT_TYPE = "application/json"
NULL_BODY_STATUSES = frozenset({101, 204, 205, 304})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Methods a Request accepts. workerd upper-cases every method (the `upper_case_all_http_methods`
# compatibility flag) and the SDK returns `request.method` as an `http.HTTPMethod`, so we accept
# the members of that enum. CONNECT is not a method a Request can carry.
_METHODS = {m.value: m for m in HTTPMethod if m is not HTTPMethod.CONNECT}
_GET, _HEAD = HTTPMethod.GET, HTTPMethod.HEAD  # read once: an enum member read from its class goes through a descriptor
_NO_BODY_METHODS = (_GET, _HEAD)

# RFC 9110 token characters: the only characters allowed in a header name.
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_HTTP_WHITESPACE = " \t\r\n"
_SPECIAL_SCHEMES = {"http": "80", "https": "443", "ws": "80", "wss": "443"}

# workerd's default status texts (RFC 7231 wording, which differs from http.HTTPStatus in places).
_STATUS_TEXTS = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
    200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
    204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
    208: "Already Reported", 226: "IM Used",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
    411: "Length Required", 412: "Precondition Failed", 413: "Payload Too Large",
    414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
    417: "Expectation Failed", 418: "I'm a teapot", 421: "Misdirected Request",
    422: "Unprocessable Entity", 423: "Locked", 424: "Failed Dependency",
    426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
    510: "Not Extended", 511: "Network Authentication Required",
}


def _default_status_text(status: int) -> str:
    text = _STATUS_TEXTS.get(status)
    if text is not None:
        return text
    return {2: "Successful", 3: "Redirection", 4: "Client Error", 5: "Server Error"}.get(
        status // 100, ""
    )


# --------------------------------------------------------------------------------------------
# Headers


_new_object = object.__new__  # an instance without its __init__: copies and fast paths set the fields themselves

_VALID_HEADER_NAMES: dict[str, str] = {}  # a valid name as given -> lower-cased: the few names a workload uses
_VALID_HEADER_NAMES_MAX = 1024


def _header_name(name: str) -> str:
    """Validate a header name and return it lower-cased (a name seen before is looked up)."""
    if type(name) is str:
        known = _VALID_HEADER_NAMES.get(name)
        if known is not None:
            return known
    given = name
    name = js_string(name)
    if not name or not _TOKEN_CHARS.issuperset(name):
        raise TypeError(INVALID_HEADER_NAME_MESSAGE)
    lowered = name.lower()
    if type(given) is str and len(_VALID_HEADER_NAMES) < _VALID_HEADER_NAMES_MAX:
        _VALID_HEADER_NAMES[given] = lowered
    return lowered


def _header_value(value: str) -> str:
    """Trim HTTP whitespace from a header value and reject NUL, CR and LF inside it."""
    value = js_string(value).strip(_HTTP_WHITESPACE)
    if "\0" in value or "\r" in value or "\n" in value:
        raise TypeError(INVALID_HEADER_VALUE_MESSAGE)
    return value


class Headers:
    """HTTP headers with the semantics of the Fetch standard's `Headers`.

    Names are case-insensitive and stored lower-cased. `get()` joins repeated values with
    `", "` and returns None for a missing name. Iteration yields `(name, value)` pairs sorted by
    name; `Set-Cookie` values are never joined and come out one pair each. `headers[name]`
    reads like `get()` (None when missing), as on the `http.client.HTTPMessage` that the Python
    SDK gives for `request.headers`.

    Construct from a dict, a list of `(name, value)` pairs, or another `Headers`.
    """

    def __init__(self, init: Headers | dict[str, str] | list[tuple[str, str]] | None = None):
        self._values: dict[str, tuple[str, ...]] = {}  # tuples: a copy of the dict shares them safely
        if init is None:
            return
        if isinstance(init, Headers):
            self._values = init._values.copy()
            return
        pairs = init.items() if hasattr(init, "items") else init
        for pair in pairs:
            if isinstance(pair, (str, bytes)) or len(pair) != 2:
                raise TypeError(HEADER_PAIR_MESSAGE)
            self.append(pair[0], pair[1])

    def _copy(self) -> Headers:
        """An independent copy (what `Headers(self)` makes, without checking the argument)."""
        other = _new_object(Headers)
        other._values = self._values.copy()
        return other

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of `name` (repeated values joined with ", "), or `default` when missing."""
        values = self._values.get(_header_name(name))
        if values is None:
            return default
        return ", ".join(values)

    def get_all(self, name: str, default: list[str] | None = None) -> list[str] | None:
        """Each value of `name` as a separate string, or `default` when missing."""
        values = self._values.get(_header_name(name))
        return list(values) if values is not None else default

    def set(self, name: str, value: str) -> None:
        """Replace every value of `name` with `value`."""
        self._values[_header_name(name)] = (_header_value(value),)

    def append(self, name: str, value: str) -> None:
        """Add `value` to `name`, keeping the values already there."""
        key = _header_name(name)
        value = _header_value(value)
        self._values[key] = (*self._values.get(key, ()), value)

    def delete(self, name: str) -> None:
        """Remove `name` and all its values (no error when it is missing)."""
        self._values.pop(_header_name(name), None)

    def has(self, name: str) -> bool:
        """Whether `name` is present."""
        return _header_name(name) in self._values

    def items(self) -> list[tuple[str, str]]:
        """The `(name, value)` pairs, in iteration order."""
        pairs = []
        for name in sorted(self._values):
            values = self._values[name]
            if name == "set-cookie":
                pairs.extend((name, value) for value in values)
            else:
                pairs.append((name, ", ".join(values)))
        return pairs

    def keys(self) -> list[str]:
        """The lower-cased names, in iteration order."""
        return [name for name, _ in self.items()]

    def values(self) -> list[str]:
        """The values, in iteration order (sorted by name)."""
        return [value for _, value in self.items()]

    def __iter__(self):
        return iter(self.items())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        self.delete(name)

    def __len__(self) -> int:
        return len(self.items())

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"


def _to_headers(headers) -> Headers:
    """A fresh Headers from the `headers=` argument of Request or Response (as the SDK checks it)."""
    if headers is None:
        return Headers()
    if isinstance(headers, (dict, list, Headers)):
        return Headers(headers)
    raise TypeError(HEADERS_TYPE_MESSAGE)


# --------------------------------------------------------------------------------------------
# Blob, File, FormData


class BlobEnding(StrEnum):
    """How `Blob` treats line endings in string parts."""

    TRANSPARENT = "transparent"
    NATIVE = "native"


def _normalize_blob_type(content_type: str | None) -> str:
    # File API: a type with a character outside U+0020..U+007E becomes "", else it is lower-cased.
    if not content_type:
        return ""
    if any(not (" " <= c <= "~") for c in content_type):
        return ""
    return content_type.lower()


def _blob_part_bytes(part, endings) -> bytes:
    if isinstance(part, str):
        if endings == BlobEnding.NATIVE:
            part = part.replace("\r\n", "\n").replace("\r", "\n")
        return part.encode("utf-8")
    if isinstance(part, Blob):
        return part._data
    try:
        return bytes(memoryview(part))
    except TypeError:
        raise TypeError(f"Don't know how to handle {type(part)} for Blob()") from None


class Blob:
    """Immutable binary data with a content type, like the web `Blob`.

    `blob_parts` is one part or an iterable of parts: str (encoded as UTF-8), bytes-like
    objects, or other Blobs.
    """

    def __init__(self, blob_parts, content_type: str | None = None, endings: BlobEnding | str | None = None):
        if isinstance(blob_parts, (str, bytes, bytearray, memoryview, Blob)) or not hasattr(
            blob_parts, "__iter__"
        ):
            # A single part: a Blob passes its content type on.
            if not content_type and isinstance(blob_parts, Blob):
                content_type = blob_parts.content_type
            blob_parts = [blob_parts]
        endings = str(endings) if endings else None
        self._data: bytes = b"".join(_blob_part_bytes(part, endings) for part in blob_parts)
        self._type: str = _normalize_blob_type(content_type)

    @property
    def size(self) -> int:
        """The length in bytes."""
        return len(self._data)

    @property
    def content_type(self) -> str:
        """The MIME type, lower-cased; "" when unknown."""
        return self._type

    @property
    def js_object(self) -> Blob:
        """The object itself: the emulator has no JavaScript object behind it."""
        return self

    async def text(self) -> str:
        """The data decoded as UTF-8."""
        return _decode_utf8(self._data)

    async def bytes(self) -> bytes:
        """The data."""
        return self._data

    def slice(self, start: int | None = None, end: int | None = None, content_type: str | None = None) -> Blob:
        """A new Blob of bytes `start` to `end` (negative counts from the end). Its type is
        `content_type`, or "" when not given, as in JavaScript."""
        return Blob([self._data[start:end]], content_type)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, content_type={self._type!r})"


class File(Blob):
    """A `Blob` with a file name and a last-modified time (milliseconds since the epoch)."""

    def __init__(
        self,
        blob_parts,
        filename: str,
        content_type: str | None = None,
        endings: BlobEnding | str | None = None,
        last_modified: int | None = None,
    ):
        if not last_modified and isinstance(blob_parts, File):
            last_modified = blob_parts.last_modified
        super().__init__(blob_parts, content_type, endings)
        self._name = str(filename)
        if last_modified is None:
            import time

            last_modified = int(time.time() * 1000)
        self._last_modified = int(last_modified)

    @property
    def name(self) -> str:
        """The file name."""
        return self._name

    @property
    def last_modified(self) -> int:
        """When the file was last modified, in milliseconds since the epoch."""
        return self._last_modified

    def __repr__(self) -> str:
        return f"File(name={self._name!r}, size={self.size}, content_type={self._type!r})"


def _form_value(value, filename: str | None):
    """Store a value as JavaScript's FormData does: a Blob becomes a File, anything else a str
    (`String(value)`)."""
    if isinstance(value, Blob):
        if isinstance(value, File) and filename is None:
            return value
        name = filename if filename is not None else getattr(value, "name", "blob")
        last_modified = value.last_modified if isinstance(value, File) else None
        return File(value, name, value.content_type, last_modified=last_modified)
    return js_string(value)


class FormData(MutableMapping):
    """Form fields: an ordered list of `(name, value)` entries where a name may repeat.

    Values are str or `File` (a `Blob` is stored as a `File` named "blob"). `form[name]` and
    `get(name)` give the first value, or None when the name is missing; `get_all(name)` gives
    every value. `form[name] = value` replaces all values of `name`.
    """

    def __init__(self, form_data: FormData | dict | None = None):
        self._entries: list[tuple[str, str | File]] = []
        if not form_data:
            return
        if isinstance(form_data, FormData):
            self._entries = list(form_data._entries)
        elif isinstance(form_data, dict):
            for key, value in form_data.items():
                self.append(key, value)
        else:
            raise TypeError("Expected form_data to be a dict or an instance of FormData")

    def __getitem__(self, key: str) -> str | File | None:
        return self.get(key)

    def get(self, key: str, default=None) -> str | File | None:
        """The first value of `key`, or `default` when missing."""
        for name, value in self._entries:
            if name == key:
                return value
        return default

    def get_all(self, key: str) -> list[str | File]:
        """Every value of `key`, in order."""
        return [value for name, value in self._entries if name == key]

    def __setitem__(self, key: str, value) -> None:
        if isinstance(value, list):
            raise TypeError("Expected single item in arguments to FormData.__setitem__")
        value = _form_value(value, None)
        # As in JavaScript: the first entry of `key` takes the value, the others go.
        entries, replaced = [], False
        for name, old in self._entries:
            if name != key:
                entries.append((name, old))
            elif not replaced:
                entries.append((name, value))
                replaced = True
        if not replaced:
            entries.append((key, value))
        self._entries = entries

    def append(self, key: str, value, filename: str | None = None) -> None:
        """Add an entry, keeping the entries of `key` already there."""
        self._entries.append((js_string(key), _form_value(value, filename)))

    def delete(self, key: str) -> None:
        """Remove every entry of `key`."""
        self._entries = [(name, value) for name, value in self._entries if name != key]

    def __delitem__(self, key: str) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return any(name == key for name, _ in self._entries)

    def keys(self):
        """The names of the entries, in order (a name repeats when it has several values)."""
        for name, _ in self._entries:
            yield name

    def values(self):
        """The values of the entries, in order."""
        for _, value in self._entries:
            yield value

    def items(self):
        """The `(name, value)` entries, in order."""
        yield from self._entries

    def __iter__(self):
        return self.keys()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def js_object(self) -> FormData:
        """The object itself: the emulator has no JavaScript object behind it."""
        return self

    def __repr__(self) -> str:
        return f"FormData({self._entries!r})"

    def _encode(self) -> tuple[bytes, str]:
        """Serialise as multipart/form-data; returns the bytes and the Content-Type."""
        boundary = os.urandom(16).hex()
        out = []
        for name, value in self._entries:
            disposition = f'Content-Disposition: form-data; name="{_escape_form_name(name)}"'
            if isinstance(value, File):
                disposition += f'; filename="{_escape_form_name(value.name)}"'
                content_type = value.content_type or "application/octet-stream"
                head = f"--{boundary}\r\n{disposition}\r\nContent-Type: {content_type}\r\n\r\n"
                data = value._data
            else:
                head = f"--{boundary}\r\n{disposition}\r\n\r\n"
                data = value.encode("utf-8")
            out += [head.encode("utf-8"), data, b"\r\n"]
        out.append(f"--{boundary}--".encode("ascii"))
        return b"".join(out), f"multipart/form-data; boundary={boundary}"


def _escape_form_name(name: str) -> str:
    # The HTML standard's escaping of names and file names in multipart/form-data.
    return name.replace("\n", "%0A").replace("\r", "%0D").replace('"', "%22")


def _split_params(text: str) -> tuple[str, dict[str, str]]:
    """Split `value; a=1; b="x;y"` into ("value", {"a": "1", "b": "x;y"}): quotes removed,
    the value and the parameter names lower-cased."""
    parts, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    params = {}
    for part in parts[1:]:
        name, sep, value = part.partition("=")
        if sep:
            params[name.strip().lower()] = value.strip()
    return parts[0].strip().lower(), params


def _parse_form_data(data: bytes, content_type: str) -> FormData:
    mime, params = _split_params(content_type)
    if mime == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl

        form = FormData()
        for key, value in parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True):
            form.append(key, value)
        return form
    if mime == "multipart/form-data":
        boundary = params.get("boundary")
        if not boundary:
            raise TypeError(FORM_NO_BOUNDARY_MESSAGE)
        return _parse_multipart(data, boundary)
    raise TypeError(FORM_BAD_CONTENT_TYPE_MESSAGE)


def _parse_multipart(data: bytes, boundary: str) -> FormData:
    delimiter = b"--" + boundary.encode("utf-8")
    form = FormData()
    start = data.find(delimiter)
    if start < 0:
        raise TypeError(FORM_NO_INITIAL_BOUNDARY_MESSAGE)
    pos = start + len(delimiter)
    while not data.startswith(b"--", pos):
        # The rest of the delimiter line, then the part's headers up to an empty line.
        line_end = data.find(b"\r\n", pos)
        headers_end = data.find(b"\r\n\r\n", line_end)
        if line_end < 0 or headers_end < 0:
            raise TypeError(FORM_NO_NEXT_BOUNDARY_MESSAGE)
        content_start = headers_end + 4
        content_end = data.find(b"\r\n" + delimiter, headers_end)
        if content_end < 0:
            raise TypeError(FORM_NO_NEXT_BOUNDARY_MESSAGE)
        content_start = min(content_start, content_end)
        name, filename, part_type = _parse_part_headers(data[line_end + 2 : headers_end])
        content = data[content_start:content_end]
        if filename is None:
            form.append(name, _decode_utf8(content))
        else:
            form.append(name, File([content], filename, part_type))
        pos = content_end + 2 + len(delimiter)
    return form


def _parse_part_headers(raw: bytes) -> tuple[str, str | None, str | None]:
    """The field name, the file name (None for a plain field) and the Content-Type of a part."""
    disposition = part_type = None
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise TypeError(FORM_BAD_PART_HEADERS_MESSAGE)
        name = name.strip().lower()
        if name == "content-disposition":
            disposition = value
        elif name == "content-type":
            part_type = value.strip()
    if disposition is None:
        raise TypeError(FORM_NO_DISPOSITION_MESSAGE)
    kind, params = _split_params(disposition)
    if kind != "form-data":
        raise TypeError(FORM_NO_DISPOSITION_MESSAGE)
    if "name" not in params:
        raise TypeError(FORM_NO_NAME_MESSAGE)
    return params["name"], params.get("filename"), part_type


# --------------------------------------------------------------------------------------------
# Bodies


def _decode_utf8(data: bytes) -> str:
    # The Fetch standard's "UTF-8 decode": drop a leading BOM, replace invalid sequences.
    # (What the "utf-8-sig" codec does, without its lookup and Python-level decode function.)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    return data.decode("utf-8", "replace")


def body_to_bytes(body, owner: str = "Response") -> tuple[bytes | None, str | None]:
    """Turn the body given to a Request or a Response into bytes, with the Content-Type it implies.

    Accepts None, str (UTF-8, `text/plain;charset=UTF-8`), bytes, FormData (multipart) and Blob
    (its own type, if any). Anything else raises `TypeError("Unsupported type in <owner>: <type>")`,
    the SDK's message: a dict is not a body, use `Response.from_json()`.
    """
    if body is None:
        return None, None
    if isinstance(body, str):
        return body.encode("utf-8"), TEXT_CONTENT_TYPE
    if isinstance(body, bytes):
        return bytes(body), None
    if isinstance(body, FormData):
        return body._encode()
    if isinstance(body, Blob):
        return body._data, body.content_type or None
    raise TypeError(f"Unsupported type in {owner}: {type(body).__name__}")


class _BodyMixin:
    """The body of a Request or a Response: bytes (or None) that can be read once.

    Every read goes through `_read_once()`. A missing body reads as empty, any number of times,
    as in JavaScript, where `bodyUsed` stays false for a null body.
    """

    _body: bytes | None
    _body_used: bool
    _headers: Headers

    @property
    def headers(self) -> Headers:
        """The headers (a live `Headers` object)."""
        return self._headers

    @property
    def body(self) -> ReadableStream | None:
        """The body as a JavaScript `ReadableStream`, or None when there is none (as on the
        platform). Reading it uses the body up; `await request.bytes()` is simpler."""
        if self._body is None:
            return None
        return ReadableStream(self)

    @property
    def body_used(self) -> bool:
        """Whether the body has been read."""
        return self._body_used

    @property
    def js_object(self) -> JsBodyObject:
        """The JavaScript object behind this one (a JS `Request` or `Response`): camelCase
        names (`bodyUsed`, `arrayBuffer()`), the method as a str, `body` as a stream."""
        return JsBodyObject(self)

    def _check_unused(self) -> None:
        if self._body_used:
            raise TypeError(BODY_USED_MESSAGE)

    def _read_once(self) -> bytes:
        """Return the body and mark it used; raise the workerd TypeError on a second read."""
        if self._body is None:
            return b""
        self._check_unused()
        self._body_used = True
        return self._body

    def _duplicate(self):
        """A fresh, unread object of the same class with the same data and its own headers."""
        if self._body_used:
            self._check_unused()  # raises the error of this class (Request's differs)
        other = _new_object(type(self))
        other.__dict__ = self.__dict__.copy()
        other._headers = self._headers._copy()
        other._body_used = False
        return other

    async def text(self) -> str:
        """The body decoded as UTF-8."""
        data = self._body  # _read_once() and _decode_utf8(), written out: every response read goes here
        if data is None:
            return ""
        if self._body_used:
            self._check_unused()
        self._body_used = True
        if data[:3] == b"\xef\xbb\xbf":
            data = data[3:]
        return data.decode("utf-8", "replace")

    async def json(self, **kwargs):
        """The body parsed as JSON; keyword arguments go to `json.loads`."""
        import json

        text = _decode_utf8(self._read_once())
        check_json_nesting(text)  # json's own guard fails under Pyodide (see values.py)
        return json.loads(text, **kwargs)

    async def bytes(self) -> bytes:
        """The body as bytes."""
        return self._read_once()

    async def buffer(self) -> ArrayBuffer:
        """The body as a JavaScript `ArrayBuffer` (what the SDK's `buffer()` returns: the result
        of `arrayBuffer()`, a JsBuffer proxy): `.to_bytes()` gives bytes, as `bytes()` does."""
        return ArrayBuffer(self._read_once())

    async def blob(self) -> Blob:
        """The body as a Blob typed with the Content-Type header."""
        return Blob([self._read_once()], self._headers.get("content-type"))

    async def form_data(self) -> FormData:
        """The body parsed as multipart/form-data or application/x-www-form-urlencoded."""
        if self._body is not None:
            self._check_unused()
        content_type = self._headers.get("content-type")
        if content_type is None:
            raise TypeError(FORM_NO_CONTENT_TYPE_MESSAGE)
        return _parse_form_data(self._read_once(), content_type)


class JsObject(JsDict):
    """A plain JavaScript object seen from Python (a JsProxy, such as `request.cf`): its
    properties read as attributes; `to_py()` gives a Python dict."""

    def to_py(self, *, depth: int = -1, default_converter=None) -> dict:
        import copy

        return {key: copy.deepcopy(value) for key, value in self.items()}


class _JsBytes:
    """What a JavaScript `Uint8Array` and `ArrayBuffer` both give Python (JsBuffers): the bytes
    as `to_bytes()`, `to_memoryview()`, `to_py()` (a memoryview) and `to_string()`."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes):
        self._data = data

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    def to_py(self, *, depth: int = -1, default_converter=None) -> memoryview:
        return memoryview(self._data)

    def to_memoryview(self) -> memoryview:
        return memoryview(self._data)

    def to_string(self, encoding: str | None = None) -> str:
        return self._data.decode(encoding or "utf-8")


class Uint8Array(_JsBytes):
    """A JavaScript `Uint8Array` seen from Python (a JsBuffer): `to_bytes()`, `to_py()`
    (a memoryview), `length`, `byteLength`, indexing."""

    __slots__ = ()

    @property
    def length(self) -> int:
        return len(self._data)

    byteLength = length

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, index: int) -> int:
        return self._data[index]

    def __repr__(self) -> str:
        return f"[object Uint8Array] ({len(self._data)} bytes)"


class ArrayBuffer(_JsBytes):
    """A JavaScript `ArrayBuffer` seen from Python (a JsBuffer, as `arrayBuffer()` and the SDK's
    `buffer()` give it): `byteLength`, `to_bytes()`, `to_memoryview()`, `to_py()` (a memoryview),
    `to_string()`. Unlike a Uint8Array it has no items: read it through one of those."""

    __slots__ = ()

    @property
    def byteLength(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"[object ArrayBuffer] ({len(self._data)} bytes)"


class ReadResult:
    """What `reader.read()` resolves to: `done` and `value` (a Uint8Array, or None at the end)."""

    __slots__ = ("done", "value")

    def __init__(self, done: bool, value: Uint8Array | None):
        self.done = done
        self.value = value


class ReadableStream:
    """A body as a JavaScript `ReadableStream` (a JsProxy): `getReader()` gives a reader whose
    `await reader.read()` yields the body as one chunk, then `done`; `async for chunk in body`
    does the same. Reading uses the body up (`bodyUsed` becomes true)."""

    __slots__ = ("_owner", "_reader")

    def __init__(self, owner: _BodyMixin):
        self._owner = owner
        self._reader = None

    def to_py(self, *, depth: int = -1, default_converter=None) -> ReadableStream:
        """Itself: Pyodide's `to_py` converts only arrays, Maps, Sets and plain objects."""
        return self

    @property
    def locked(self) -> bool:
        return self._reader is not None

    def getReader(self, options=None) -> ReadableStreamDefaultReader:
        if self._reader is not None:
            raise TypeError("This ReadableStream is currently locked to a reader.")
        self._reader = ReadableStreamDefaultReader(self)
        return self._reader

    async def __aiter__(self):
        reader = self.getReader()
        while True:
            result = await reader.read()
            if result.done:
                return
            yield result.value

    def __repr__(self) -> str:
        return "[object ReadableStream]"


class ReadableStreamDefaultReader:
    """The reader of a `ReadableStream`."""

    __slots__ = ("_stream", "_data")

    def __init__(self, stream: ReadableStream):
        self._stream = stream
        owner = stream._owner
        owner._check_unused()
        owner._body_used = True
        self._data = owner._body

    async def read(self) -> ReadResult:
        data, self._data = self._data, None
        if not data:
            return ReadResult(True, None)
        return ReadResult(False, Uint8Array(data))

    def releaseLock(self) -> None:
        self._stream._reader = None

    async def cancel(self, reason=None) -> None:
        self._data = None


class JsBodyObject:
    """The JavaScript `Request` or `Response` behind a `workers` one (its `js_object`)."""

    __slots__ = ("_owner",)

    def __init__(self, owner: _BodyMixin):
        self._owner = owner

    @property
    def constructor(self):
        return _Constructor(type(self._owner).__name__ if isinstance(self._owner, Request) else "Response")

    @property
    def body(self) -> ReadableStream | None:
        return self._owner.body

    @property
    def bodyUsed(self) -> bool:
        return self._owner._body_used

    @property
    def headers(self) -> Headers:
        return self._owner._headers

    def __getattr__(self, name: str):
        owner = object.__getattribute__(self, "_owner")
        if name in ("url", "redirect", "status", "ok", "redirected", "type"):
            return getattr(owner, name)
        if name == "method":
            return str(owner.method.value)
        if name == "statusText":
            return owner.status_text
        if name == "cf":
            return owner.cf
        raise AttributeError(name)

    async def text(self) -> str:
        return await self._owner.text()

    async def json(self):
        return await self._owner.json()

    async def arrayBuffer(self) -> ArrayBuffer:
        return ArrayBuffer(await self._owner.bytes())

    async def formData(self) -> FormData:
        return await self._owner.form_data()

    async def blob(self) -> Blob:
        return await self._owner.blob()

    def clone(self) -> JsBodyObject:
        return JsBodyObject(self._owner.clone())

    def __repr__(self) -> str:
        return f"[object {self.constructor.name}]"


class _Constructor:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


# --------------------------------------------------------------------------------------------
# Request


@functools.lru_cache(maxsize=4096)
def _parse_url(url: str, message: str) -> str:
    """Check that `url` is absolute and normalise it a little as the WHATWG URL parser does
    (lower-case scheme and host, no default port, "/" as the path of an http(s) URL).
    Cached: the same few URLs come back on every request of a workload."""
    from urllib.parse import quote, urlsplit, urlunsplit

    url = url.strip()
    scheme = url.partition(":")[0].lower()
    if scheme in _SPECIAL_SCHEMES:
        # a backslash is a slash before the query of a special URL (`http://do\\a` is `http://do/a`)
        before, mark, after = _split_at_query(url)
        url = before.replace("\\", "/") + mark + after
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TypeError(message) from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise TypeError(message)
    netloc, path = parts.netloc, parts.path
    # urlsplit forgets an empty query or fragment; the URL keeps its "?" (and "#")
    has_query = "?" in url.partition("#")[0]
    if scheme in _SPECIAL_SCHEMES:
        if not parts.hostname:
            raise TypeError(message)
        userinfo = netloc.rpartition("@")[0]
        host = _host(parts.hostname, message)
        netloc = (userinfo + "@" if userinfo else "") + host
        if port is not None and str(port) != _SPECIAL_SCHEMES[scheme]:
            netloc += f":{port}"
        path = _remove_dot_segments(quote(path or "/", safe=_PATH_SAFE))
        query = quote(parts.query, safe=_QUERY_SAFE)
        return _unsplit(scheme, netloc, path, query, parts.fragment, has_query, "#" in url)
    return _unsplit(scheme, netloc, path, parts.query, parts.fragment, has_query, "#" in url)


def _split_at_query(url: str) -> tuple[str, str, str]:
    """`url` cut at its first "?" or "#": (before, the mark, after)."""
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    return url[:cut], url[cut:cut + 1], url[cut + 1:]


def _unsplit(scheme, netloc, path, query, fragment, has_query, has_fragment) -> str:
    text = f"{scheme}://{netloc}{path}" if netloc or scheme in _SPECIAL_SCHEMES else f"{scheme}:{path}"
    if query or has_query:
        text += "?" + query
    if fragment or has_fragment:
        text += "#" + fragment
    return text


# Characters the WHATWG URL parser refuses in a host (its "forbidden domain code points" that
# urlsplit lets through).
_FORBIDDEN_HOST_CHARS = frozenset(" \t\n\r#%/<>?@\\^|") | frozenset(chr(c) for c in range(0x20)) | {"\x7f"}


def _host(hostname: str, message: str) -> str:
    """The host as the URL parser writes it: lower-case, an IPv6 address in brackets, a
    non-ASCII name in Punycode (`éxample.com` is `xn--xample-9ua.com`)."""
    if ":" in hostname:
        return f"[{hostname}]"
    if any(c in _FORBIDDEN_HOST_CHARS for c in hostname):
        raise TypeError(message)
    if not hostname.isascii():
        try:
            hostname = hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise TypeError(message) from None
    return hostname.lower()


# What the WHATWG URL parser leaves as it is in an http(s) URL's path and query (it
# percent-encodes spaces, quotes, `<`, `>`, controls and non-ASCII as UTF-8: `?q=a b` is `?q=a%20b`).
_PATH_SAFE = "!$%&'()*+,-./:;=@[\\]_|~"
_QUERY_SAFE = "!$%&()*+,-./:;=?@[\\]^_`{|}~"


def _remove_dot_segments(path: str) -> str:
    """`/a/../b` is `/b` and `/./b` is `/b`, as the WHATWG URL parser resolves them (also
    written `%2e`: `/a/%2e%2E/b` is `/b`)."""
    if "." not in path and "%2e" not in path.lower():
        return path
    kept: list[str] = []
    segments = path.split("/")[1:]
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        lowered = segment.lower()
        if lowered in (".", "%2e"):
            if last:
                kept.append("")
        elif lowered in ("..", ".%2e", "%2e.", "%2e%2e"):
            if kept:
                kept.pop()
            if last:
                kept.append("")
        else:
            kept.append(segment)
    return "/" + "/".join(kept)


def _parse_method(method) -> HTTPMethod:
    value = method.value if isinstance(method, HTTPMethod) else str(method)
    found = _METHODS.get(value.upper())
    if found is None:
        raise TypeError(f"Invalid HTTP method string: {value}")
    return found


class Request(_BodyMixin):
    """An HTTP request, like the web `Request`, with the Python SDK's names.

    `input` is a URL or another Request. A Request given as `input` is copied; when no new
    `body` is given, its body moves to the new request and the old one counts as used.
    A body can be str, bytes, FormData or Blob (see `body_to_bytes`); `body=None` means no new
    body. GET and HEAD requests cannot have one. `method` is returned as an `http.HTTPMethod`, which compares equal to its
    name ("GET").
    """

    def __init__(
        self,
        input: Request | str,
        *,
        method: HTTPMethod | str | None = None,
        headers: Headers | dict[str, str] | list[tuple[str, str]] | None = None,
        body=None,
        redirect: str | None = None,
        cf: dict | None = None,
    ):
        if isinstance(input, JsBodyObject) and isinstance(input._owner, Request):
            # The SDK wraps a js.Request as it is (workers/request.py): the same request, shared.
            if (method, headers, body, redirect, cf) != (None, None, None, None, None):
                raise ValueError("Expected no options when constructing Request from a js.Request")
            self.__dict__ = input._owner.__dict__
            return
        inherited_body = None
        if isinstance(input, Request):
            self._url = input._url
            self._method = input._method
            self._headers = Headers(input._headers)
            self._redirect = input._redirect
            self._cf = _copy_cf(input._cf)
            if body is None and input._body is not None:
                if input._body_used:
                    raise TypeError(USED_REQUEST_MESSAGE)
                inherited_body = input
        else:
            url = str(input)
            self._url = _parse_url(url, f"Invalid URL: {url}")
            self._method = _GET
            self._headers = Headers()
            self._redirect = "follow"
            self._cf = None

        if method is not None:
            self._method = _parse_method(method)
        if headers is not None:
            self._headers = _to_headers(headers)
        if cf is not None:
            self._cf = _copy_cf(cf)
        if redirect is not None:
            redirect = str(redirect).lower()
            if redirect not in ("follow", "manual"):
                raise TypeError(INVALID_REDIRECT_MODE_MESSAGE)
            self._redirect = redirect

        no_body_allowed = self._method in _NO_BODY_METHODS
        self._body_used = False
        if body is not None:
            data, content_type = body_to_bytes(body, "Request")
            if no_body_allowed:
                raise TypeError(GET_WITH_BODY_MESSAGE)
            self._body = data
            if content_type is not None and not self._headers.has("content-type"):
                self._headers.set("content-type", content_type)
        elif inherited_body is not None:
            if no_body_allowed and method is not None:
                raise TypeError(GET_WITH_BODY_MESSAGE)
            self._body = inherited_body._body
            inherited_body._body_used = True
        else:
            self._body = None

    @property
    def url(self) -> str:
        """The URL, normalised (for example "https://example.com" becomes "https://example.com/")."""
        return self._url

    @property
    def method(self) -> HTTPMethod:
        """The method, upper-cased, as an `http.HTTPMethod` (equal to the str "GET" etc.)."""
        return self._method

    @property
    def redirect(self) -> str:
        """The redirect mode: "follow" (the default) or "manual"."""
        return self._redirect

    @property
    def cf(self) -> JsObject | None:
        """Cloudflare's properties of the request, a JavaScript object (`request.cf.colo`,
        `request.cf.to_py()`); None when there are none (as the SDK documents for a request
        constructed without `cf`)."""
        return None if self._cf is None else JsObject(self._cf)

    def clone(self) -> Request:
        """An independent copy whose body can be read separately."""
        return self._duplicate()

    def _detached_copy(self) -> Request:
        """A fresh, unread copy to hand to the other side of a stub, as an HTTP hop would."""
        return self._duplicate()

    def _check_unused(self) -> None:
        # The SDK's Request checks `bodyUsed` itself before asking JavaScript
        # (`_raise_if_failed` in workers/request.py) and raises this OSError.
        if self._body_used:
            raise OSError("Body already used")

    def _duplicate(self) -> Request:
        other = super()._duplicate()
        other._cf = _copy_cf(self._cf)
        return other

    def __repr__(self) -> str:
        return f"Request(method={self._method.value!r}, url={self._url!r})"


def as_request(input, init: dict) -> Request:
    """The Request that `fetch(input, **init)` sends: a fresh copy of a Request given alone,
    otherwise `Request(input, **init)`; without its fragment, which no HTTP hop carries."""
    if type(input) is str and not init:
        return get_request(hop_url_of(input))
    if isinstance(input, Request) and not init:
        request = input._detached_copy()
    elif isinstance(input, JsBodyObject) and isinstance(input._owner, Request):
        return as_request(input._owner, init)  # a js.Request (`request.js_object`), as JS fetch() takes it
    else:
        request = Request(input, **init)
    request._url = _hop_url(request._url)
    if request._body is not None and not request._headers.has("content-length"):
        request._headers.set("content-length", str(len(request._body)))
    return request


def hop_url_of(url: str) -> str:
    """The URL a request made from the string `url` carries over an HTTP hop: normalised
    (`Request(url).url`), without fragment and credentials. Raises TypeError for an invalid URL."""
    return _hop_url(_parse_url(url, f"Invalid URL: {url}"))


def get_request(url: str) -> Request:
    """`Request(url)` for a URL already normalised: a GET without headers or body (the usual
    `fetch(url)`), with the fields the constructor sets, built directly."""
    request = _new_object(Request)
    request._url = url
    request._method = _GET
    request._headers = headers = _new_object(Headers)
    headers._values = {}
    request._redirect = "follow"
    request._cf = None
    request._body_used = False
    request._body = None
    return request


@functools.lru_cache(maxsize=4096)
def _hop_url(url: str) -> str:
    """A normalised URL as an HTTP hop carries it: no fragment, no credentials. Cached like `_parse_url`."""
    url = url.partition("#")[0]
    scheme, sep, rest = url.partition("://")
    authority = rest.split("/", 1)[0]
    if "@" in authority:
        url = f"{scheme}{sep}{rest.partition('@')[2]}"
    return url


# The headers that describe a body, dropped when a redirect turns the request into a GET.
_REQUEST_BODY_HEADERS = frozenset(("content-encoding", "content-language", "content-location", "content-type",
                                   "content-length"))


def redirect_request(request: Request, status: int, location: str) -> Request:
    """The request that follows a redirect (the Fetch standard's rules): `location` resolved
    against the request's URL; a 303, or a 301/302 after a POST, becomes a GET without a body."""
    from urllib.parse import urljoin

    url = _parse_url(urljoin(request.url, location), f"Invalid URL: {location}")
    if status == 303 and request.method not in (HTTPMethod.GET, HTTPMethod.HEAD) or (
            status in (301, 302) and request.method == HTTPMethod.POST):
        headers = Headers([(k, v) for k, v in request.headers.items() if k not in _REQUEST_BODY_HEADERS])
        return as_request(url, {"method": "GET", "headers": headers})
    return as_request(url, {"method": request.method, "headers": request.headers, "body": request._body})


def _copy_cf(cf):
    if cf is None:
        return None
    import copy

    return copy.deepcopy(cf)


# --------------------------------------------------------------------------------------------
# Responses


class FetchResponse(_BodyMixin):
    """A response as `fetch()` and `stub.fetch()` return it.

    `status`, `status_text`, `ok`, `headers`, `url`, `redirected` and the body readers
    (`text()`, `json()`, `bytes()`, `buffer()`, `blob()`, `form_data()`), which can be used once.
    `web_socket` holds the WebSocket of an accepted upgrade (status 101), else None.
    The emulator builds these; learner code builds a `Response`.
    """

    def __init__(
        self,
        url: str = "",
        *,
        body=None,
        status: int = 200,
        status_text: str | None = None,
        headers: Headers | dict[str, str] | list[tuple[str, str]] | None = None,
        redirected: bool = False,
        web_socket=None,
    ):
        headers = Headers(headers)
        data, content_type = body_to_bytes(body)
        if content_type is not None and not headers.has("content-type"):
            headers.set("content-type", content_type)
        self._fill(url, data, int(status), status_text, headers, redirected, web_socket)

    def _fill(self, url: str, data: bytes | None, status: int, status_text: str | None, headers: Headers,
              redirected: bool, web_socket) -> None:
        """Set the fields from a body and headers already prepared (`headers` is kept, not copied)."""
        self._headers = headers
        self._body = data
        self._body_used = False
        self._status = status
        self._status_text = status_text or None
        self._url = url
        self._redirected = redirected
        self.web_socket = web_socket

    @property
    def status(self) -> int:
        """The status code."""
        return self._status

    @property
    def status_text(self) -> str:
        """The status text: as given to a constructed Response ("" by default); a response that
        came over HTTP or through a stub has workerd's text for its status ("OK", "Not Found")."""
        if self._status_text is not None:
            return self._status_text
        return _default_status_text(self._status)

    @property
    def ok(self) -> bool:
        """Whether the status is in 200..299."""
        return 200 <= self._status <= 299

    @property
    def url(self) -> str:
        """The URL the response came from; "" for a response built in code."""
        return self._url

    @property
    def redirected(self) -> bool:
        """Whether fetch followed a redirect to get this response."""
        return self._redirected

    @property
    def type(self) -> str:
        """The response type; always "default" in Workers."""
        return "default"

    def json(self, *args, **kwargs):
        """`await response.json()` parses the body as JSON (keyword arguments go to `json.loads`).

        Called on the class, `Response.json(data, ...)` is `Response.from_json(data, ...)`, as
        the SDK allows for compatibility.
        """
        if isinstance(self, FetchResponse):
            return _BodyMixin.json(self, **kwargs)
        return Response.from_json(self, *args, **kwargs)

    def raise_for_status(self) -> None:
        """Raise `OSError` for a 4xx or 5xx status (Pyodide's `FetchResponse` behaviour)."""
        if 400 <= self._status < 500:
            kind = "Client Error"
        elif 500 <= self._status < 600:
            kind = "Server Error"
        else:
            return
        raise OSError(f"{self._status} {kind}: {self.status_text} for url: {self._url}")

    def clone(self):
        """An independent copy whose body can be read separately."""
        if self.web_socket is not None:
            raise TypeError(CLONE_WEBSOCKET_MESSAGE)
        if self._body_used:
            raise TypeError(CLONE_USED_MESSAGE)
        return self._duplicate()

    def _detached_copy(self, *, url: str | None = None):
        """A fresh, unread copy to hand to the other side of a stub, as an HTTP hop would.

        The WebSocket, if any, is shared, not copied. `url` sets the copy's `url` (what fetch
        reports as the URL of the response). The copy has the fields of a response (`_fill`'s),
        not a subclass's own attributes: the other side of a hop gets a plain response. Every
        stub fetch makes one, so it is built field by field (no `__dict__` copy, whose object
        reads its fields more slowly).
        """
        if self._body_used:
            self._check_unused()
        other = _new_object(type(self))
        # an empty status text becomes None: the receiver sees the status's phrase ("Not Found")
        other._fill(self._url if url is None else url, self._body, self._status, self._status_text,
                    self._headers._copy(), self._redirected, self.web_socket)
        return other

    def replace_body(self, body) -> Response:
        """A new Response with this one's status, status text and headers and a new body."""
        return Response(
            body,
            status=self._status,
            status_text=self._status_text or "",
            headers=Headers(self._headers),
            web_socket=self.web_socket,
        )

    @staticmethod
    def redirect(url: str, status: HTTPStatus | int = HTTPStatus.FOUND) -> Response:
        """A redirect to the absolute URL `url` with status 301, 302 (default), 303, 307 or 308."""
        status = int(status)
        if status not in REDIRECT_STATUSES:
            raise ValueError(
                f"{status} is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308."
            )
        location = _parse_url(str(url), f"Unable to parse URL: {url}")
        return Response(None, status=status, headers={"location": location})

    @staticmethod
    def from_json(
        data,
        status: HTTPStatus | int = HTTPStatus.OK,
        status_text: str = "",
        headers: Headers | dict[str, str] | list[tuple[str, str]] | None = None,
    ) -> Response:
        """A Response whose body is `data` serialised with `json.dumps`, with Content-Type
        `application/json` unless `headers` sets one."""
        import json

        headers = _to_headers(headers)
        if not headers.has("content-type"):
            headers.set("content-type", JSON_CONTENT_TYPE)
        check_nesting(data)  # json's own guard fails under Pyodide (see values.py)
        return Response(json.dumps(data), status=status, status_text=status_text, headers=headers)

    def __repr__(self) -> str:
        parts = [f"status={self._status}"]
        if self._status_text:
            parts.append(f"status_text={self._status_text!r}")
        content_type = self._headers.get("content-type")
        if content_type is not None:
            parts.append(f"content_type={content_type!r}")
        if self._url:
            parts.append(f"url={self._url!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class Response(FetchResponse):
    """The response to an HTTP request, like the web `Response`, with the Python SDK's signature.

    `body` is None, str, bytes, FormData or Blob. `status` defaults to 200 and must be in
    200..599, or 101 together with a `web_socket` (an accepted WebSocket upgrade). A null-body
    status (101, 204, 205, 304) cannot have a body.
    """

    def __init__(
        self,
        body=None,
        status: HTTPStatus | int | None = None,
        status_text: str = "",
        headers: Headers | dict[str, str] | list[tuple[str, str]] | None = None,
        web_socket=None,
    ):
        if type(body) is str and status is None and headers is None and web_socket is None and not status_text:
            # the usual `Response("text")`: what the general path below gives, without its checks
            self._headers = plain = _new_object(Headers)
            plain._values = {"content-type": (TEXT_CONTENT_TYPE,)}
            self._body = body.encode("utf-8")  # the fields _fill() sets, written out
            self._body_used = False
            self._status = 200
            self._status_text = ""
            self._url = ""
            self._redirected = False
            self.web_socket = None
            return
        if isinstance(body, JsBodyObject) and not isinstance(body._owner, Request):
            # The SDK wraps a js.Response as it is (workers/response.py): the same response, shared.
            if status is not None or status_text or headers is not None:
                raise ValueError("Expected no options when constructing Response from a js.Response")
            self.__dict__ = body._owner.__dict__
            return
        data, content_type = body_to_bytes(body, "Response")
        status = int(status) if status else 200
        headers = _to_headers(headers)

        if web_socket is None:
            if not 200 <= status <= 599:
                raise ValueError(STATUS_RANGE_MESSAGE)
        elif status != 101:
            raise ValueError(WEBSOCKET_STATUS_MESSAGE)
        if status_text and any(ord(c) < 0x20 for c in status_text):
            raise TypeError("Invalid statusText")

        if data is not None and status in NULL_BODY_STATUSES:
            if data:
                raise TypeError(NULL_BODY_MESSAGE)
            # workerd still accepts an empty body here and treats it as no body.
            data = content_type = None
        if content_type is not None and not headers.has("content-type"):
            headers.set("content-type", content_type)

        self._fill("", data, status, status_text, headers, False, web_socket)
        # a constructed Response's statusText is what was given, "" by default (the Fetch
        # standard; workerd agrees); the HTTP hop of a stub fills in the status's phrase
        self._status_text = status_text or ""
