"""A Worker's `scheduled()` handler, invoked as a Cron Trigger invokes it (`run_scheduled`).

The platform calls `scheduled(controller, env, ctx)` on the Worker (a `WorkerEntrypoint` method,
or a module-level `on_scheduled` in older Python Workers), relaxed like its other handlers: the
`controller` has `cron`, `type` ("scheduled"), `scheduledTime` (ms) and `noRetry()`; the event
lasts until what the handler hands to `ctx.waitUntil()` is done. Cloudflare's
python-workers-examples/08-cron is written `async def scheduled(self, controller)`.
"""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from durable_dojo.testing import load_project, run_scheduled
from pyodide.ffi import JsException
from workers import DurableObject, Response, WorkerEntrypoint


class Log(DurableObject):
    async def add(self, entry):
        entries = await self.ctx.storage.get("entries") or []
        await self.ctx.storage.put("entries", [*entries, entry])

    async def entries(self):
        return await self.ctx.storage.get("entries") or []


class Cron(WorkerEntrypoint):
    """As in the docs: `scheduled(self, controller, env, ctx)`."""

    async def scheduled(self, controller, env, ctx):
        log = env.LOG.getByName("log")
        await log.add([controller.type, controller.cron, controller.scheduledTime])
        if controller.cron == "fail":
            raise RuntimeError("the nightly job failed")
        ctx.waitUntil(self.a_minute_later(log))
        if controller.cron == "once":
            controller.noRetry()


    async def a_minute_later(self, log):
        await asyncio.sleep(60)
        await log.add("a minute after the handler")


class TerseCron(WorkerEntrypoint):
    """As in python-workers-examples/08-cron: `scheduled(self, controller)`."""

    async def scheduled(self, controller):
        await self.env.LOG.getByName("log").add(controller.cron)


class FetchOnly(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("no cron here")


@pytest.fixture
def world(make_runtime):
    return lambda worker: make_runtime(durable_objects={"LOG": Log}, worker=worker)


async def test_the_handler_gets_the_triggers_cron_and_time_and_its_wait_until_is_done(world):
    rt = world(Cron)
    started = rt.now()
    result = await run_scheduled(rt, "*/5 * * * *", scheduled_time=1_767_225_600_000)
    assert (result.outcome, result.noRetry) == ("ok", False)
    assert rt.now() - started >= 60_000  # the event lasted until its waitUntil was done
    assert await rt.env.LOG.getByName("log").entries() == [
        ["scheduled", "*/5 * * * *", 1_767_225_600_000], "a minute after the handler"]


async def test_the_scheduled_time_is_the_worlds_now_unless_given(world):
    rt = world(Cron)
    await rt.advance(90)
    now = rt.now()
    await run_scheduled(rt, "* * * * *")
    entries = await rt.env.LOG.getByName("log").entries()
    assert entries[0][2] == now > 0


async def test_a_handler_taking_only_the_controller_is_called_relaxed(world):
    rt = world(TerseCron)
    await run_scheduled(rt, "0 * * * *")
    assert await rt.env.LOG.getByName("log").entries() == ["0 * * * *"]


async def test_no_retry_is_reported(world):
    rt = world(Cron)
    assert (await run_scheduled(rt, "once")).noRetry is True


async def test_what_the_handler_raised_is_raised_to_the_test(world):
    rt = world(Cron)
    with pytest.raises(RuntimeError, match="the nightly job failed"):
        await run_scheduled(rt, "fail")


async def test_a_worker_without_a_scheduled_handler_gets_workerds_error(world):
    rt = world(FetchOnly)
    with pytest.raises(JsException) as caught:
        run_scheduled(rt, "* * * * *")
    assert (caught.value.name, caught.value.message) == ("Error", "Handler does not export a scheduled() function.")


async def test_a_module_level_on_scheduled_handler_runs(tmp_path):
    folder = tmp_path / f"crontest_{tmp_path.name}".replace("-", "_")
    folder.mkdir()
    (folder / "wrangler.toml").write_text(textwrap.dedent("""\
        name = "crontest"
        main = "entry.py"
        compatibility_date = "2026-11-01"

        [triggers]
        crons = ["*/10 * * * *"]

        [[kv_namespaces]]
        binding = "RUNS"
        id = "runs"
    """))
    (folder / "entry.py").write_text(textwrap.dedent("""\
        from workers import Response, handler

        @handler
        async def on_fetch(request, env):
            return Response(await env.RUNS.get("last") or "never")

        @handler
        async def on_scheduled(controller, env, ctx):
            await env.RUNS.put("last", controller.cron)
    """))
    rt = load_project(folder)
    try:
        await run_scheduled(rt, "*/10 * * * *")
        assert await (await rt.fetch("https://example.com/")).text() == "*/10 * * * *"
    finally:
        rt.close()
