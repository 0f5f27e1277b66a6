"""Durable Object IDs, derived exactly as workerd derives them (semantics 1.1-1.13).

An ID is 32 bytes. The first 16 are random (`newUniqueId`) or the first 16 bytes of
HMAC-SHA256(key, name) (`idFromName`); the last 16 are HMAC-SHA256(key, first 16)[:16], a MAC
that lets `idFromString` reject IDs of other namespaces. `key` is SHA-256 of the namespace's
unique key, so `Runtime(unique_keys={"NS": "oracle-test-do"})` gives the oracle's IDs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from .errors import JsError
from .ffi import js_api
from .values import js_argument_string

_BASE_LENGTH = 16
_MAX_NAME_BYTES_FOR_CTX = 1024
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


@js_api
class DurableObjectId:
    """The identity of one Durable Object: 64 lowercase hex digits, plus the name it was made from."""

    __slots__ = ("_raw", "_hex", "name", "jurisdiction")

    def __init__(self, raw: bytes, name: str | None = None):
        self._raw = raw
        self._hex = raw.hex()
        self.name = name
        self.jurisdiction = None

    def to_py(self, *, depth: int = -1, default_converter=None) -> "DurableObjectId":
        """Itself: Pyodide's `to_py` converts only arrays, Maps, Sets and plain objects."""
        return self

    def toString(self) -> str:
        return self._hex

    def equals(self, other: "DurableObjectId" = None) -> bool:
        """Compares the 32 raw bytes, as the platform does (the name is not compared). Anything
        but an id (its hex string, None) is WebIDL's TypeError there, not False."""
        if not isinstance(other, DurableObjectId):
            raise TypeError("Failed to execute 'equals' on 'DurableObjectId': "
                            "parameter 1 is not of type 'DurableObjectId'.")
        return other._raw == self._raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DurableObjectId) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __str__(self) -> str:
        return self._hex

    def __repr__(self) -> str:
        if self.name is not None:
            return f"DurableObjectId({self._hex[:12]}…, name={self.name!r})"
        return f"DurableObjectId({self._hex[:12]}…)"


class IdFactory:
    """Makes and checks the IDs of one namespace."""

    __slots__ = ("_key", "_random_bytes")

    def __init__(self, unique_key: str, random_bytes):
        self._key = hashlib.sha256(unique_key.encode()).digest()
        self._random_bytes = random_bytes

    def _mac(self, base: bytes) -> bytes:
        return hmac.new(self._key, base, hashlib.sha256).digest()[:_BASE_LENGTH]

    def from_name(self, name) -> DurableObjectId:
        name = js_argument_string(name)
        base = hmac.new(self._key, name.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()[:_BASE_LENGTH]
        return DurableObjectId(base + self._mac(base), name)

    def new_unique(self, options=None) -> DurableObjectId:
        if isinstance(options, list):
            options = None  # an array is an object to WebIDL, without a jurisdiction member
        if options is not None and not isinstance(options, Mapping):
            raise TypeError("Failed to execute 'newUniqueId' on 'DurableObjectNamespace': "
                            "parameter 1 is not of type 'NewUniqueIdOptions'.")
        if options is not None and options.get("jurisdiction") is not None:
            raise JsError("Jurisdiction restrictions are not implemented in workerd.")
        base = self._random_bytes(_BASE_LENGTH)
        return DurableObjectId(base + self._mac(base))

    def from_string(self, text) -> DurableObjectId:
        text = js_argument_string(text)
        if len(text) != 64 or not _HEX_DIGITS.issuperset(text):
            raise TypeError("Invalid Durable Object ID: must be 64 hex digits")
        raw = bytes.fromhex(text)
        if not hmac.compare_digest(self._mac(raw[:_BASE_LENGTH]), raw[_BASE_LENGTH:]):
            raise TypeError("Durable Object ID is not valid for this namespace.")
        return DurableObjectId(raw)


def name_seen_inside(id_: DurableObjectId) -> str | None:
    """`ctx.id.name` inside the object: the name, unless it is longer than 1,024 bytes."""
    name = id_.name
    if name is None or len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES_FOR_CTX:
        return None
    return name
