"""Errors as a learner sees them: their own file and line, never the emulator's frames.

The handler lives in a file of its own (written to a temporary folder), so that line numbers
are real ones and the output is checked the way a learner reads it: pytest's report.
"""

import subprocess
import sys
import textwrap
import traceback

import pytest

from pyodide.ffi import JsException

HANDLER = textwrap.dedent('''\
    import asyncio
    from workers import DurableObject


    class Boom(DurableObject):
        async def boom(self, *args):
            await self.ctx.storage.put("k", 1)
            raise ValueError("boom in the handler")

        async def stuck(self):
            await asyncio.get_running_loop().create_future()
''')
RAISES_AT = "handler.py:8"
STUCK_AT = "handler.py:11"

TESTS = textwrap.dedent('''\
    from handler import Boom


    async def test_raises(make_runtime):
        rt = make_runtime(durable_objects={"B": Boom})
        await rt.env.B.getByName("a").boom()


    async def test_stuck(make_runtime):
        rt = make_runtime(durable_objects={"B": Boom})
        await rt.env.B.getByName("a").stuck()


    async def test_unclonable(make_runtime):
        rt = make_runtime(durable_objects={"B": Boom})
        await rt.env.B.getByName("a").boom(object())
''')


@pytest.fixture
def handler_module(tmp_path, monkeypatch):
    (tmp_path / "handler.py").write_text(HANDLER)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("handler", None)
    import handler

    yield handler
    sys.modules.pop("handler", None)


@pytest.fixture(scope="module")
def pytest_report(tmp_path_factory) -> dict[str, str]:
    """One pytest run over the three failing tests; each test's section of the report."""
    folder = tmp_path_factory.mktemp("learner")
    (folder / "handler.py").write_text(HANDLER)
    (folder / "test_handler.py").write_text(TESTS)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto", "-W", "ignore",
         "test_handler.py"],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )
    sections, name = {}, None
    for line in run.stdout.splitlines():
        if line.startswith("____") and line.rstrip("_ ").strip("_ "):
            name = line.strip("_ ")
            sections[name] = ""
        elif line.startswith("===="):
            name = None
        elif name is not None:
            sections[name] += line + "\n"
    return sections


def assert_no_emulator_frame(text: str) -> None:
    for marker in ("durable_dojo/", "_core", "site-packages/asyncio", "workers/__init__"):
        assert marker not in text, f"an emulator frame ({marker}) in:\n{text}"


def test_a_handlers_error_points_at_the_learners_line_and_no_emulator_frame(pytest_report):
    report = pytest_report["test_raises"]
    assert f"{RAISES_AT}: ValueError" in report
    assert_no_emulator_frame(report)


def test_an_await_that_can_never_finish_names_the_learners_line(pytest_report):
    report = pytest_report["test_stuck"]
    assert f"waiting: stuck ({STUCK_AT})" in report
    assert_no_emulator_frame(report)


def test_an_unclonable_argument_shows_the_call_and_no_codec_frame(pytest_report):
    report = pytest_report["test_unclonable"]
    assert "DataCloneError" in report and "test_handler.py:16" in report
    assert_no_emulator_frame(report)


def test_the_original_error_keeps_only_the_learners_frames(make_runtime, handler_module):
    """What a notebook or a script prints: the cause is the error as raised, in the learner's file."""
    rt = make_runtime(durable_objects={"B": handler_module.Boom})
    with pytest.raises(JsException) as caught:  # a PythonError (test_stubs.py); its cause is the ValueError
        rt.run(rt.env.B.getByName("a").boom())
    frames = traceback.extract_tb(caught.value.__cause__.__traceback__)
    assert [(f.filename.rsplit("/", 1)[-1], f.lineno) for f in frames] == [("handler.py", 8)]
