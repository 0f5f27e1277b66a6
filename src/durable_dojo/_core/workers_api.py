"""The entrypoint classes and helpers behind the `workers` module.

They mirror `workers-runtime-sdk`: `DurableObject.__init__(ctx, env)` keeps `self.ctx` and
`self.env`; `fetch()` leaves the world through the caller's output gate; `env` is the env of
the world whose code is running (`from workers import env` works at import time, because the
lookup happens when an attribute is read). The type names (`Context`, `Body`, `BlobValue`,
`FormDataValue`, `FetchKwargs`, `RequestInitCfProperties`) are annotations only, as in the SDK.
`tests/test_sdk_parity.py` checks these names and signatures against the SDK's source.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from http import HTTPMethod
from typing import Any, Protocol, TypeAlias, TypedDict

from . import codec as _codec
from .errors import DojoError
from .http import Blob, File, FormData, Headers  # noqa: F401 - names the annotations below use
from .http import as_request
from .values import js_string


class DurableObject:
    """Base class of a Durable Object. Handlers: `fetch`, `alarm`, `webSocketMessage`,
    `webSocketClose`, `webSocketError`; every other public method is callable over RPC."""

    def __init__(self, ctx, env):
        self.ctx = ctx
        self.env = env


class WorkerEntrypoint:
    """Base class of a Worker: `async def fetch(self, request)` receives every request."""

    def __init__(self, ctx, env):
        self.ctx = ctx
        self.env = env


class Context(Protocol):
    """The type of a handler's `ctx` argument, as the SDK declares it (for annotations only):
    anything with `waitUntil(awaitable)`."""

    def waitUntil(self, other: Awaitable[Any]) -> None: ...


# The SDK's body and value types. As in the SDK they are strings, for annotations only. They
# name what the emulator accepts, which has no JavaScript objects (no js.Blob, no ReadableStream).
Body: TypeAlias = "str | bytes | FormData | Blob"
BlobValue: TypeAlias = "str | bytes | Blob | File"
FormDataValue: TypeAlias = "str | Blob"


class RequestInitCfProperties(TypedDict, total=False):
    """The `cf=` options of a Request, as the SDK types them. The emulator keeps `cf` on the
    request (`request.cf`) but has no cache, image service or other Cloudflare feature that
    would act on them."""

    apps: bool | None
    cacheEverything: bool | None
    cacheKey: str | None
    cacheTags: list[str] | None
    cacheTtl: int
    cacheTtlByStatus: dict[str, int]
    image: Any | None
    mirage: bool | None
    polish: str | None
    resolveOverride: str | None
    scrapeShield: bool | None
    webp: bool | None


class FetchKwargs(TypedDict, total=False):
    """The keyword arguments of `Request(...)` and `fetch(...)`, for `**kwargs: Unpack[FetchKwargs]`.

    The SDK's version also has `fetcher` (a JavaScript fetch function that service-binding stubs
    pass internally); there is no JavaScript here, so it is left out.
    """

    headers: Headers | dict[str, str] | list[tuple[str, str]] | None
    body: str | bytes | FormData | Blob | None
    method: HTTPMethod | str | None
    redirect: str | None
    cf: RequestInitCfProperties | None


def _world():
    from .runtime import latest_world

    world = latest_world()
    if world is None:
        raise DojoError("No Runtime exists yet: create durable_dojo.Runtime(...) first.")
    return world


async def fetch(resource, **other_options):
    """Send an HTTP request out of the world (see `Runtime(outbound=...)`) and return its
    `FetchResponse`. Like the SDK's `fetch`, this is a coroutine function: nothing is sent until
    it is awaited. `resource` is a URL or a `Request`; `other_options` are the `Request`
    options (`method=`, `headers=`, `body=`, `redirect=`, `cf=`). Inside a Durable Object the
    call opens the input gate while it waits."""
    from .runtime import outbound_fetch

    if "body" in other_options:
        other_options = {**other_options, "body": _fetch_body(other_options["body"])}
    return await outbound_fetch(_world(), as_request(resource, other_options))


def _fetch_body(body):
    """The body JavaScript's `fetch()` sends for `body`, as the SDK's `fetch` hands it over
    (Pyodide's `pyfetch` converts the options with `to_js`): a list is a JS Array, which workerd
    reads as a stream of chunks, sending its strings (UTF-8) and byte arrays one after the other
    and dropping other items, with no Content-Type (`["a", 1, b"b"]` sends "ab"); a dict is a
    JS object and a number or bool a JS primitive, sent as their `String()` text ("[object
    Object]", "42", "true"). Checked on workerd 1.20261117.1."""
    if isinstance(body, (list, tuple)):
        chunks = []
        for item in body:
            if isinstance(item, str):
                chunks.append(js_string(item).encode())
            elif isinstance(item, (bytes, bytearray, memoryview)):
                chunks.append(bytes(item))
            elif hasattr(item, "to_bytes") and not isinstance(item, int):  # a Uint8Array proxy
                chunks.append(item.to_bytes())
        return b"".join(chunks)
    if isinstance(body, dict):
        return "[object Object]"
    if isinstance(body, (bool, int, float)):
        return js_string(body)
    return body


def handler(func):
    """Decorator for module-level handlers (`on_fetch(request, env)`), as in the SDK.

    On the platform it turns a JavaScript Request into `workers.Request` and wraps `env` so
    bindings work from Python. In the emulator arguments are already Python objects, so the
    wrapper calls `func` unchanged. The emulator runs handlers of a `WorkerEntrypoint` class
    (`Runtime(worker=...)`), not module-level `on_fetch` functions.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def wait_until(awaitable) -> None:
    """Keep the current Durable Object alive until `awaitable` settles."""
    from .loop import current_scope

    scope = current_scope.get()
    if scope is None:
        _world().loop.create_task(awaitable)
        return
    scope.instance.wait_until(awaitable)


waitUntil = wait_until


class _EnvProxy:
    """`from workers import env`: the bindings of the world whose code is running."""

    def __getattr__(self, name):
        return getattr(_world().env, name)

    def __repr__(self) -> str:
        try:
            return repr(_world().env)
        except DojoError:
            return "<env: no Runtime yet>"


env = _EnvProxy()


def python_to_rpc(value):
    """What a value becomes when it crosses RPC: a structured-clone copy, mapped as the SDK maps
    Python to JavaScript (dict -> object, read back as `JsDict`; tuple, bytearray and awaitables
    refused with TypeError). See `durable_dojo._core.codec`."""
    return _codec.clone(value)


def python_from_rpc(obj):
    """The SDK turns JavaScript values received over RPC into Python ones. Everything in the
    emulator is Python already (what crossed was copied by `python_to_rpc`), so `obj` is
    returned as it is."""
    return obj
