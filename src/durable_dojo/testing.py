"""Test helpers, mirroring Cloudflare's `@cloudflare/vitest-pool-workers`, and pytest fixtures.

```python
from durable_dojo.testing import run_in_durable_object, run_durable_object_alarm

async def test_counter(make_runtime):
    rt = make_runtime(durable_objects={"COUNTER": Counter})
    stub = rt.env.COUNTER.getByName("a")
    await stub.increment()
    assert await run_in_durable_object(stub, lambda obj, ctx: ctx.storage.get("count")) == 1
```

`make_runtime` (a fixture, registered automatically when durable-dojo is installed) gives each
test its own world and closes it afterwards. It lives in `durable_dojo.pytest_plugin`, so importing
this module never imports pytest.
"""

import functools
import inspect
import os

from ._core.explore import explore as _explore
from ._core.project import load_project, run_scheduled, run_test_entry
from ._core.runtime import Runtime as _Runtime
from ._core.stubs import WorldCall as _WorldCall

__all__ = ["WebSocketClient", "connect", "every_schedule", "list_durable_object_ids", "load_project", "make_runtime",
           "run_durable_object_alarm", "run_in_durable_object", "run_scheduled", "run_test_entry"]


def run_in_durable_object(stub, fn) -> _WorldCall:
    """Run `fn(instance, ctx)` inside the stub's object, as one more event (the constructor runs
    first if needed, the input gate applies). Returns an awaitable of `fn`'s (awaited) result."""
    host = stub._host
    event = host.submit("run", None, (fn,), f"run_in_durable_object({host.label})", trace_kind="run:call", detail=None)
    return _WorldCall(host.world, event.reply, event.label)


def run_durable_object_alarm(stub) -> _WorldCall:
    """Run the object's alarm now if one is set. The awaitable gives True if an alarm ran."""
    world = stub._namespace.world
    host = stub._host
    result = world.loop.create_future()

    def start():
        scheduled = host.store.get_alarm()
        alarms = host.alarms
        if scheduled is None or alarms.running is not None:
            result.set_result(False)
            return
        if alarms.timer is not None:
            alarms.timer.cancel()  # fire() clears it
        alarms.fire(scheduled, 0)
        done = host.instance.in_flight if host.instance is not None else ()
        pending = [e.reply for e in done if e.kind == "alarm"]
        if not pending:
            result.set_result(True)
            return
        pending[0].add_done_callback(lambda _: result.done() or result.set_result(True))

    world.loop.call_soon(start, context=world._root_context)
    return _WorldCall(world, result, f"run_durable_object_alarm({host.label})")


def list_durable_object_ids(namespace) -> list:
    """The IDs of every object of the namespace that has been created (run or stored data)."""
    world = namespace.world
    stored = set(world._db.object_ids(namespace.unique_key)) | set(world._persisted_ids(namespace))
    ids = {h.key: h.id for h in world._hosts_in(namespace.binding) if h.instances_made or h.key in stored}
    for hex_id in stored - set(ids):
        ids[hex_id] = namespace.idFromString(hex_id)
    return [ids[k] for k in sorted(ids)]


class WebSocketClient:
    """The client end of a WebSocket to an object, for tests and notebooks.

    ```python
    ws = await connect(stub, "http://do/chat")
    ws.send("hello")
    assert await ws.receive() == "echo: hello"
    ws.close(1000, "bye")
    ```
    `receive()` waits (in virtual time) for the next message; `messages` keeps every message;
    `close_info` is `(code, reason, wasClean)` once the connection is closed.
    """

    def __init__(self, world, end):
        self._world = world
        self._end = end
        self._inbox: list = []
        self._waiters: list = []
        self._close_waiters: list = []
        self.messages: list = []
        self.close_info: tuple | None = None
        end.attach(self._on_receive)

    def _on_receive(self, kind: str, payload) -> None:
        if kind == "message":
            self.messages.append(payload)
            self._inbox.append(payload)
        else:
            self.close_info = payload
            for waiter in self._close_waiters:
                if not waiter.done():
                    waiter.set_result(payload)
            self._close_waiters.clear()
        while self._waiters and (self._inbox or self.close_info is not None):
            waiter = self._waiters.pop(0)
            if not waiter.done():
                self._settle(waiter)

    def _settle(self, waiter) -> None:
        if self._inbox:
            waiter.set_result(self._inbox.pop(0))
        else:
            code, reason, clean = self.close_info
            waiter.set_exception(ConnectionError(f"WebSocket closed: {code} {reason!r} (wasClean={clean})"))

    @property
    def readyState(self) -> int:
        return self._end.readyState

    def send(self, message) -> None:
        self._end.send(message)

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._end.close(code, reason)

    def drop(self) -> None:
        """Cut the connection without a close frame (a browser tab killed, a network failure)."""
        self._end._cut()

    def receive(self) -> _WorldCall:
        """The next message (str or bytes). Raises ConnectionError once the socket is closed."""
        future = self._world.loop.create_future()
        if self._inbox or self.close_info is not None:
            self._settle(future)
        else:
            self._waiters.append(future)
        return _WorldCall(self._world, future, "WebSocketClient.receive()")

    def closed(self) -> _WorldCall:
        """Wait until the connection is closed; gives `(code, reason, wasClean)`."""
        future = self._world.loop.create_future()
        if self.close_info is not None:
            future.set_result(self.close_info)
        else:
            self._close_waiters.append(future)
        return _WorldCall(self._world, future, "WebSocketClient.closed()")


async def connect(target, url: str = "http://do/websocket", headers: dict | None = None) -> WebSocketClient:
    """Open a WebSocket to an object (`target` a stub) or through the Worker (`target` a Runtime)."""
    headers = {"Upgrade": "websocket", **(headers or {})}
    world = target if isinstance(target, _Runtime) else target._namespace.world
    response = await target.fetch(url, headers=headers)
    if response.status != 101 or response.web_socket is None:
        body = await response.text()
        raise ConnectionError(f"WebSocket upgrade refused: {response.status} {body!r}")
    return WebSocketClient(world, response.web_socket)


def every_schedule(*, max_schedules: int = 1000, strategy: str = "exhaustive", seed: int = 0, make_runtime=None,
                   **world):
    """Run an async test once per schedule of its world (see `durable_dojo.explore`).

    ```python
    @every_schedule(durable_objects={"COUNTER": Counter}, max_schedules=200)
    async def test_no_lost_update(rt):
        counter = rt.env.COUNTER.getByName("a")
        await asyncio.gather(counter.bump(), counter.bump())
        assert await counter.value() == 2
    ```

    The test's first parameter is a fresh `Runtime(**world)` in each schedule (other parameters
    are fixtures as usual); pass `make_runtime=` (a function returning a new Runtime) instead
    when each world needs fresh parts of its own, such as a stateful `outbound` handler. A failing schedule fails the test with its id and the command that
    replays it; with `DOJO_SCHEDULE=<id>` in the environment the test runs only that schedule
    and raises its error as it is.
    """

    def decorate(test):
        signature = inspect.signature(test)
        params = list(signature.parameters.values())
        if not params:
            raise TypeError(f"{test.__name__} must take the world as its first parameter")

        @functools.wraps(test)
        async def run(*args, **fixtures):
            async def scenario(rt):
                await test(rt, *args, **fixtures)

            def make_world():
                return _Runtime(**world) if make_runtime is None else make_runtime()

            replay = os.environ.get("DOJO_SCHEDULE")
            if replay:
                await _explore(scenario, make_runtime=make_world, replay=replay)
                return
            found = await _explore(scenario, make_runtime=make_world, max_schedules=max_schedules,
                                   strategy=strategy, seed=seed)
            if found.failures:
                failure = found.failures[0]
                where = os.environ.get("PYTEST_CURRENT_TEST", test.__qualname__).rsplit(" (", 1)[0]
                raise AssertionError(
                    f"fails in schedule {failure.schedule} ({found.schedules_run} schedules tried): "
                    f"{type(failure.exception).__name__}: {failure.exception}\n"
                    f"replay it: DOJO_SCHEDULE={failure.schedule} python -m pytest '{where}'"
                ) from failure.exception

        run.__signature__ = signature.replace(parameters=params[1:])
        return run

    return decorate


def __getattr__(name: str):
    """`make_runtime` is the pytest fixture; it loads pytest only when asked for."""
    if name == "make_runtime":
        from .pytest_plugin import make_runtime

        return make_runtime
    raise AttributeError(f"module 'durable_dojo.testing' has no attribute {name!r}")
