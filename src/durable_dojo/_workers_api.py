"""The entrypoint classes and helpers behind the `workers` module.

They mirror `workers-runtime-sdk`: `DurableObject.__init__(ctx, env)` keeps `self.ctx` and
`self.env`; `fetch()` leaves the world through the caller's output gate; `env` is the env of
the world whose code is running (`from workers import env` works at import time, because the
lookup happens when an attribute is read).
"""

from __future__ import annotations

from . import _codec
from ._errors import DojoError


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


Context = object  # the SDK's type alias for a handler's context; only used in annotations


def _world():
    from ._runtime import latest_world

    world = latest_world()
    if world is None:
        raise DojoError("No Runtime exists yet: create durable_dojo.Runtime(...) first.")
    return world


def fetch(input, **init):
    """Send an HTTP request out of the world (see `Runtime(outbound=...)`). Returns an awaitable
    `FetchResponse`. Inside a Durable Object this opens the input gate while it waits."""
    from ._http import Request
    from ._runtime import outbound_fetch

    request = input._detached_copy() if isinstance(input, Request) and not init else Request(input, **init)
    return outbound_fetch(_world(), request)


def wait_until(awaitable) -> None:
    """Keep the current Durable Object alive until `awaitable` settles."""
    from ._loop import current_scope

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
    """What a value becomes when it crosses RPC: a structured-clone copy."""
    return _codec.clone(value)


def python_from_rpc(value):
    return value
