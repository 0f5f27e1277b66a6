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
test its own world and closes it afterwards.
"""

from __future__ import annotations

import pytest

from ._object import Event
from ._runtime import Runtime
from ._stubs import WorldCall

__all__ = ["list_durable_object_ids", "make_runtime", "run_durable_object_alarm", "run_in_durable_object"]


def run_in_durable_object(stub, fn) -> WorldCall:
    """Run `fn(instance, ctx)` inside the stub's object, as one more event (the constructor runs
    first if needed, the input gate applies). Returns an awaitable of `fn`'s (awaited) result."""
    world = stub._namespace.world
    reply = world.loop.create_future()
    event = Event("run", None, (fn,), reply, world.next_request_id(), f"run_in_durable_object({stub._host.label})")
    world.trace.record("run:call", stub._host, request=event.request_id)
    world.loop.call_soon(stub._host.deliver, event, context=world.root_context)
    return WorldCall(world, reply, event.label)


def run_durable_object_alarm(stub) -> WorldCall:
    """Run the object's alarm now if one is set. The awaitable gives True if an alarm ran."""
    world = stub._namespace.world
    host = stub._host
    result = world.loop.create_future()

    def start():
        scheduled = host.store.get_alarm()
        if scheduled is None or host.running_alarm is not None:
            result.set_result(False)
            return
        if host.alarm_timer is not None:
            host.alarm_timer.cancel()
            host.alarm_timer = None
        host._alarm_due(scheduled, 0)
        done = host.instance.in_flight if host.instance is not None else ()
        pending = [e.reply for e in done if e.kind == "alarm"]
        if not pending:
            result.set_result(True)
            return
        pending[0].add_done_callback(lambda _: result.done() or result.set_result(True))

    world.loop.call_soon(start, context=world.root_context)
    return WorldCall(world, result, f"run_durable_object_alarm({host.label})")


def list_durable_object_ids(namespace) -> list:
    """The IDs of every object of the namespace that has been created (run or stored data)."""
    world = namespace.world
    stored = set(world.db.object_ids(namespace.unique_key)) | set(world.persisted_ids(namespace))
    ids = {h.key: h.id for h in world.hosts(namespace.binding) if h.instances_made or h.key in stored}
    for hex_id in stored - set(ids):
        ids[hex_id] = namespace.idFromString(hex_id)
    return [ids[k] for k in sorted(ids)]


@pytest.fixture
def make_runtime():
    """A factory for worlds: `rt = make_runtime(durable_objects={...})`; closed after the test."""
    worlds: list[Runtime] = []

    def factory(*args, **kwargs) -> Runtime:
        world = Runtime(*args, **kwargs)
        worlds.append(world)
        return world

    yield factory
    for world in worlds:
        world.close()
