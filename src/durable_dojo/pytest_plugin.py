"""The pytest plugin (registered through the `pytest11` entry point): the `make_runtime` fixture.

Kept apart from `durable_dojo.testing` so that the test helpers never import pytest.
"""

from __future__ import annotations

import pytest

from ._core.runtime import Runtime

__all__ = ["make_runtime"]


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
