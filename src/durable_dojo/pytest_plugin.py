"""The pytest plugin (registered through the `pytest11` entry point): the `make_runtime` and
`make_project` fixtures.

Kept apart from `durable_dojo.testing` so that the test helpers never import pytest.
"""

from __future__ import annotations

import pytest

from ._core.project import load_project
from ._core.runtime import Runtime

__all__ = ["make_project", "make_runtime"]

ASYNCIO_LOOP_SCOPE = "asyncio_default_fixture_loop_scope"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """A project that has not chosen pytest-asyncio's fixture loop scope gets "function" (the
    value pytest-asyncio will default to), so a first test file runs without a deprecation
    warning. A project's own setting always wins."""
    try:
        if ASYNCIO_LOOP_SCOPE in config._parser._inidict and not config.getini(ASYNCIO_LOOP_SCOPE):
            config._inicache[ASYNCIO_LOOP_SCOPE] = "function"
    except (AttributeError, ValueError):  # another pytest or pytest-asyncio: leave it as it is
        pass


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


@pytest.fixture
def make_project():
    """A factory for worlds running a Python Workers project: `rt = make_project("path/to/project")`
    reads its Wrangler config and main module (see `durable_dojo.testing.load_project`); closed
    after the test."""
    worlds: list[Runtime] = []

    def factory(path=".", **options) -> Runtime:
        world = load_project(path, **options)
        worlds.append(world)
        return world

    yield factory
    for world in worlds:
        world.close()
