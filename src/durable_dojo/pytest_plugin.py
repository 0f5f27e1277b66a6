"""The pytest plugin (registered through the `pytest11` entry point): the `make_runtime` and
`make_project` fixtures.

Kept apart from `durable_dojo.testing` so that the test helpers never import pytest.
"""

from __future__ import annotations

import pytest

from ._core.project import load_project
from ._core.runtime import Runtime

__all__ = ["make_project", "make_runtime"]


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
