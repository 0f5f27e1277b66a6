"""A Python Workers project as workerd runs it: its Wrangler config, its main module's classes,
its module-level handlers (`on_fetch`) and its `test()` entry.

`load_project(folder)` reads `wrangler.toml` / `wrangler.jsonc` the way `dojo serve` does and
builds a world (virtual clock) with the project's bindings, variables, compatibility date and CPU
limit. A main module without a `WorkerEntrypoint` class may serve requests from module-level
handlers, as older Python Workers do:

```python
@handler
async def on_fetch(request, env, ctx):
    ...
```

workerd calls a module-level handler with Pyodide's `callRelaxed`: the request, `env` and `ctx`,
as many of them as the function takes. Its test runner calls a module-level
`test(ctrl, env, ctx)` the same way; `run_test_entry(rt)` does what it does. A Cron Trigger
calls the Worker's `scheduled(controller, env, ctx)` (a method of the Worker class, or a
module-level `on_scheduled`); `run_scheduled(rt, cron)` does what the trigger does.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sys

from .errors import JsException
from .ffi import call_relaxed
from .http import Response
from .loop import current_world
from .runtime import Compatibility, ExecutionContext, Runtime
from .stubs import WorldCall
from .workers_api import WorkerEntrypoint
from .wrangler import ConfigError, LoadedWorker, find_config, load_worker, read_config

# Module-level handler names workerd's Python entrypoint looks up for a request (`on_` + the
# event), and the newer spelling without the prefix (a function defined in the module itself).
FETCH_HANDLER_NAMES = ("on_fetch", "fetch")
SCHEDULED_HANDLER_NAMES = ("on_scheduled", "scheduled")
# workerd's error for an event the Worker has no handler for.
NO_SCHEDULED_HANDLER = "Handler does not export a scheduled() function."


def _defined_here(module, name: str):
    """`module.name` if it is a function the module defines (not one it imported, such as
    `from workers import fetch`, which is the outgoing fetch)."""
    value = getattr(module, name, None)
    if not callable(value) or isinstance(value, type):
        return None
    return value if getattr(value, "__module__", None) == module.__name__ else None


def fetch_handler_name(module, names=FETCH_HANDLER_NAMES) -> str | None:
    """The name of the module-level fetch handler (or another event's, given its `names`), if
    the module has one."""
    for name in names:
        if _defined_here(module, name) is not None:
            return name
    return None


def _isolate_copy(module):
    """The module as the Worker's isolate runs it (its own copy of the module state)."""
    world = current_world.get()
    return world.isolates.worker_module(module) if world is not None else module


def module_entrypoint(module) -> type | None:
    """A Worker entrypoint that serves requests from the module's module-level fetch handler,
    or None when the module has none."""
    name = fetch_handler_name(module)
    if name is None:
        return None

    class ModuleHandlers(WorkerEntrypoint):
        __doc__ = f"The module-level handlers of {module.__name__} ({name})."
        project_module = module

        async def fetch(self, request):
            handler = getattr(_isolate_copy(module), name)
            response = call_relaxed(handler, request, self.env, self.ctx)
            if inspect.isawaitable(response):
                response = await response
            return response

    ModuleHandlers.__qualname__ = ModuleHandlers.__name__ = f"{module.__name__}.{name}"
    return ModuleHandlers


def runtime_options(config) -> dict:
    """The `Runtime` options a Wrangler config asks for (bindings and flags are added by
    `configure_world`): its compatibility date, CPU limit, Workers KV namespaces and storage."""
    options: dict = {"kv_namespaces": list(config.kv_namespaces), "storage": config.storage}
    if config.compatibility_date:
        options["compatibility_date"] = str(config.compatibility_date)
    if config.cpu_ms is not None:
        options["cpu_limit_ms"] = config.cpu_ms  # [limits] cpu_ms, as on the platform
    return options


def load(path: str | os.PathLike = ".") -> LoadedWorker:
    """Read the project's Wrangler config (a folder, or the config file itself) and import
    its main module: the Worker may be a `WorkerEntrypoint` class or module-level handlers."""
    path = os.fspath(path)
    config = read_config(path if os.path.isfile(path) else find_config(path))
    return load_worker(config, fallback=module_entrypoint)


def load_project(path: str | os.PathLike = ".", **options) -> Runtime:
    """A world running the project at `path`: its Worker, its Durable Object classes, its Workers
    KV namespaces and `vars`, its compatibility date and CPU limit, on the virtual clock.
    `options` are passed to `Runtime` and win over the config's."""
    worker = load(path)
    config = worker.config
    settings = runtime_options(config)
    settings.update(options)
    try:
        rt = Runtime(durable_objects=dict(worker.durable_objects), worker=worker.entrypoint, **settings)
    except ValueError as error:
        raise ConfigError(f"{config.path}: {error}") from None
    return configure_world(rt, config)


def configure_world(rt: Runtime, config) -> Runtime:
    """Give a new world what its Wrangler config adds to the Runtime options: the `vars`, and
    the `compatibility_flags` that move a date-gated switch (`Compatibility`); both flags of one
    switch are refused as workerd refuses them."""
    try:
        rt.compat = Compatibility(rt.compat.date, config.compatibility_flags)
    except ValueError as error:
        raise ConfigError(f"{config.path}: {error}") from None
    for name, value in config.vars.items():
        rt.env._bind(name, value)
    return rt


class TestController:
    """The `ctrl` argument of a `test()` entry, as workerd's test runner passes it."""

    __test__ = False  # not a pytest test class

    def __init__(self, world):
        self.scheduledTime = world.now()
        self.cron = ""


def _project_module(rt: Runtime):
    worker = rt.worker
    if worker is None:
        raise ConfigError("This world has no Worker, so it has no test() entry to run.")
    module = getattr(worker, "project_module", None)
    if module is None:
        module = sys.modules.get(worker.__module__)
    if module is None:
        raise ConfigError(f"Cannot find the module that defines {worker.__qualname__}.")
    return module


def run_test_entry(rt: Runtime) -> WorldCall:
    """Run the project's `test()` entry inside the world, as workerd's test runner does: the
    Worker class's `test(self, ctrl)` method if it has one (`python_no_global_handlers`), else
    the module-level `test(ctrl, env, ctx)`; both called relaxed (they may take fewer
    arguments). Awaiting it raises what the test raised (an `AssertionError` for a failed
    `assert`)."""
    module = _project_module(rt)
    worker = rt.worker
    on_class = callable(getattr(worker, "test", None)) and not hasattr(worker, "project_module")
    if not on_class and _defined_here(module, "test") is None:
        where = getattr(module, "__file__", module.__name__)
        raise ConfigError(f"{where} has no test() entry: add `async def test(ctrl, env, ctx)`, "
                          "or a `test(self, ctrl)` method on its WorkerEntrypoint class.")

    async def run():
        result = await _call_handler(rt, worker if on_class else None, module, "test", TestController(rt),
                                     ExecutionContext(rt))
        if isinstance(result, Response):
            return result._detached_copy()
        return result

    return _in_world(rt, run(), f"test() of {module.__name__}")


async def _call_handler(rt: Runtime, worker: type | None, module, name: str, controller, ctx):
    """Call a handler as workerd does, relaxed, with `controller`, `env` and `ctx`: the method
    `name` of the Worker class `worker` (an instance made with `ctx`), or without a class the
    module-level function `name`, each as the Worker's isolate ran it; its result, awaited."""
    if worker is not None:
        entry = getattr(rt.isolates.worker_class(worker)(ctx, rt.env), name)
    else:
        entry = getattr(_isolate_copy(module), name)
    result = call_relaxed(entry, controller, rt.env, ctx)
    return await result if inspect.isawaitable(result) else result


def _in_world(rt: Runtime, coro, label: str) -> WorldCall:
    """Run `coro` as the world's own task (no object's scope); await the call for its outcome."""
    return WorldCall(rt, rt.loop.create_task(coro, context=rt._root_context.copy()), label)


class ScheduledController:
    """The `controller` a `scheduled()` handler receives: the Cron Trigger that fired and when."""

    __test__ = False  # not a pytest test class
    type = "scheduled"

    def __init__(self, cron: str, scheduled_time: float):
        self.cron = cron
        self.scheduledTime = scheduled_time  # ms since the epoch, on the world's clock
        self.retry = True

    def noRetry(self) -> None:
        """Ask the platform not to retry this invocation if it fails."""
        self.retry = False


class ScheduledResult:
    """What a scheduled event ended with, as Miniflare's `scheduled()` reports it."""

    __slots__ = ("outcome", "noRetry")

    def __init__(self, no_retry: bool):
        self.outcome = "ok"
        self.noRetry = no_retry

    def __repr__(self) -> str:
        return f"ScheduledResult(outcome={self.outcome!r}, noRetry={self.noRetry})"


class _EventContext(ExecutionContext):
    """The `ctx` of one scheduled event: the event lasts until what it hands to `waitUntil` is done."""

    def __init__(self, world):
        super().__init__(world)
        self.pending: list = []

    def waitUntil(self, awaitable) -> None:
        if inspect.isawaitable(awaitable):
            self.pending.append(asyncio.ensure_future(awaitable, loop=self._world.loop))


def run_scheduled(rt: Runtime, cron: str = "", scheduled_time: float | None = None) -> WorldCall:
    """Invoke the Worker's `scheduled()` handler as a Cron Trigger does (`wrangler dev` does the
    same at `/cdn-cgi/handler/scheduled?cron=...`): the Worker class's `scheduled(self,
    controller, env, ctx)` method, else a module-level `on_scheduled(controller, env, ctx)`,
    both called relaxed. `scheduled_time` (ms) defaults to the world's now. The event lasts
    until every `ctx.waitUntil()` is done; awaiting it gives a `ScheduledResult` (`outcome`
    "ok", `noRetry`), or raises what the handler or a `waitUntil` raised. A Worker without a
    handler fails with workerd's error."""
    worker = rt.worker
    module = getattr(worker, "project_module", None)  # module-level handlers, not a Worker class
    on_class = worker is not None and module is None
    if on_class:
        name = "scheduled"
        found = callable(getattr(worker, name, None))
    else:
        name = fetch_handler_name(module, SCHEDULED_HANDLER_NAMES) if module is not None else None
        found = name is not None
    if not found:
        raise JsException("Error", NO_SCHEDULED_HANDLER)
    controller = ScheduledController(cron, rt.now() if scheduled_time is None else scheduled_time)

    async def run():
        ctx = _EventContext(rt)
        await _call_handler(rt, worker if on_class else None, module, name, controller, ctx)
        while ctx.pending:  # what was handed to waitUntil, including what that hands on
            await ctx.pending.pop(0)
        return ScheduledResult(no_retry=not controller.retry)

    return _in_world(rt, run(), f"scheduled({cron!r})")
