"""A real Python Workers project loaded into a world in one call: its Wrangler config, its main
module (a WorkerEntrypoint class or module-level handlers, called as workerd calls them) and its
`test()` entry, run the way workerd's test runner runs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from durable_dojo._core.project import call_relaxed
from durable_dojo._core.wrangler import ConfigError
from durable_dojo.testing import load_project, run_test_entry

ROOT = Path(__file__).resolve().parent.parent
VISITS = ROOT / "examples" / "visits"

WRANGLER = """\
name = "{name}"
main = "entry.py"
compatibility_date = "{date}"
{extra}
[[durable_objects.bindings]]
name = "BOX"
class_name = "Box"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Box"]
"""

BOX = """\
from workers import DurableObject


class Box(DurableObject):
    async def put(self, value):
        await self.ctx.storage.put("v", value)

    async def get(self):
        return await self.ctx.storage.get("v")
"""


def make_project(tmp_path: Path, entry: str, *, date: str = "2026-11-01", extra: str = "") -> Path:
    """A project folder with a Wrangler config and `entry.py`; a fresh module name each time."""
    name = f"proj_{tmp_path.name}".replace("-", "_")
    folder = tmp_path / name
    folder.mkdir()
    (folder / "wrangler.toml").write_text(WRANGLER.format(name=name, date=date, extra=extra))
    (folder / "entry.py").write_text(BOX + textwrap.dedent(entry))
    return folder


async def test_the_example_project_serves_requests_from_its_module_level_handler():
    rt = load_project(VISITS)
    try:
        first = await rt.fetch("https://example.com/pricing")
        again = await rt.fetch("https://example.com/pricing")
        assert await first.text() == "Hello: /pricing has 1 visits"  # GREETING from [vars]
        assert await again.text() == "Hello: /pricing has 2 visits"
    finally:
        rt.close()


async def test_the_example_projects_test_entry_passes():
    rt = load_project(VISITS / "wrangler.toml")  # the config file itself works as well as its folder
    try:
        assert await run_test_entry(rt) is None
    finally:
        rt.close()


async def test_a_failing_test_entry_raises_its_assertion(tmp_path):
    folder = make_project(tmp_path, """
        async def on_fetch(request):
            return None

        async def test(ctrl, env, ctx):
            box = env.BOX.getByName("a")
            await box.put(41)
            assert await box.get() == 42, "the box should hold 42"
    """)
    rt = load_project(folder)
    try:
        with pytest.raises(AssertionError, match="the box should hold 42"):
            await run_test_entry(rt)
    finally:
        rt.close()


async def test_the_test_entry_gets_the_controller_env_and_ctx(tmp_path):
    folder = make_project(tmp_path, """
        async def on_fetch(request):
            return None

        async def test(ctrl, env, ctx):
            ctx.waitUntil(env.BOX.getByName("a").put("from test"))
            return (ctrl.scheduledTime, type(ctx).__name__, hasattr(env, "BOX"))
    """)
    rt = load_project(folder)
    try:
        when, ctx_type, has_binding = await run_test_entry(rt)
        assert (when, ctx_type, has_binding) == (rt.now(), "ExecutionContext", True)
        await rt.run_until_idle()
        assert await rt.env.BOX.getByName("a").get() == "from test"
    finally:
        rt.close()


def test_handlers_are_called_with_as_many_arguments_as_they_take():
    """Pyodide's callRelaxed: (request, env, ctx) cut to the function's positional parameters."""
    assert call_relaxed(lambda: "none", 1, 2, 3) == "none"
    assert call_relaxed(lambda request: request, 1, 2, 3) == 1
    assert call_relaxed(lambda request, env: (request, env), 1, 2, 3) == (1, 2)
    assert call_relaxed(lambda request, env, ctx: (request, env, ctx), 1, 2, 3) == (1, 2, 3)
    assert call_relaxed(lambda *args: args, 1, 2, 3) == (1, 2, 3)


async def test_a_handler_that_takes_env_and_ctx_gets_them(tmp_path):
    folder = make_project(tmp_path, """
        from workers import Response

        async def on_fetch(request, env, ctx):
            await env.BOX.getByName("a").put(request.url)
            return Response(f"{type(ctx).__name__} {await env.BOX.getByName('a').get()}")
    """)
    rt = load_project(folder)
    try:
        response = await rt.fetch("https://example.com/x")
        assert await response.text() == "ExecutionContext https://example.com/x"
    finally:
        rt.close()


async def test_an_imported_fetch_is_not_taken_for_a_handler(tmp_path):
    """`from workers import fetch` is the outgoing fetch, not the module's request handler."""
    folder = make_project(tmp_path, """
        from workers import fetch
    """)
    with pytest.raises(ConfigError, match="defines no Worker"):
        load_project(folder)


async def test_module_level_handlers_keep_module_state_per_isolate(tmp_path):
    """The handler runs in the Worker's isolate: its module globals live until the isolate is
    recycled (a deploy), as on the platform."""
    folder = make_project(tmp_path, """
        from workers import Response

        seen = []

        async def on_fetch(request):
            seen.append(request.url)
            return Response(str(len(seen)))
    """)
    rt = load_project(folder)
    try:
        assert [await (await rt.fetch("https://e.com/")).text() for _ in range(3)] == ["1", "2", "3"]
        await rt.deploy()
        assert await (await rt.fetch("https://e.com/")).text() == "1"
    finally:
        rt.close()


async def test_the_config_sets_the_compatibility_date_and_cpu_limit(tmp_path):
    folder = make_project(tmp_path, "async def on_fetch(request):\n    return None\n",
                          date="2026-03-01", extra="[limits]\ncpu_ms = 50\n")
    rt = load_project(folder)
    try:
        assert (rt.compat.date, rt.cpu_limit_ms) == ("2026-03-01", 50)
    finally:
        rt.close()
    rt = load_project(folder, cpu_limit_ms=10)  # the caller's options win
    try:
        assert rt.cpu_limit_ms == 10
    finally:
        rt.close()


def test_the_example_projects_own_pytest_suite_passes():
    """A Python Workers project tests its objects with plain pytest and the make_project fixture."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(VISITS)],
                            cwd=VISITS, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
