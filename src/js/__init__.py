"""`js`: the few names Durable Object code takes from Pyodide's `js` module.

`Date.now()` reads the world's virtual clock, so code that timestamps with it behaves the same
when `rt.advance(3600)` jumps an hour.
"""

from __future__ import annotations

import time as _time


class Date:
    """JavaScript's `Date`, as far as DO code uses it."""

    @staticmethod
    def now() -> int:
        """Milliseconds since the epoch on the world's clock (real time outside any world)."""
        from durable_dojo._core.runtime import latest_world

        world = latest_world()
        return world.now() if world is not None else int(_time.time() * 1000)


class WebSocketPair:
    """`WebSocketPair.new()` gives `(client, server)`: two connected WebSocket ends."""

    @staticmethod
    def new():
        from durable_dojo._core.runtime import latest_world
        from durable_dojo._core.websockets import new_pair

        world = latest_world()
        if world is None:
            raise RuntimeError("WebSocketPair needs a durable_dojo.Runtime: create one first.")
        return new_pair(world)


from durable_dojo._core.websockets import WebSocketRequestResponsePair  # noqa: E402

__all__ = ["Date", "WebSocketPair", "WebSocketRequestResponsePair"]
