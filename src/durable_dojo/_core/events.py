"""An event: one request into an object (fetch, RPC, alarm, WebSocket message, a test's run).

Every way into an object builds one of these and hands it to the object's host, so the input
gate, counting and tracing treat them all alike.
"""

from __future__ import annotations

import asyncio


class Event:
    """A request into an object: what to run there and where the reply goes."""

    __slots__ = ("kind", "name", "args", "reply", "request_id", "label", "cpu_seconds", "fetch_reply")

    def __init__(self, kind: str, name: str | None, args, reply: asyncio.Future, request_id: int, label: str):
        self.kind = kind  # "fetch" | "rpc" | "alarm"
        self.name = name
        self.args = args
        self.reply = reply
        self.request_id = request_id
        self.label = label
        self.cpu_seconds = 0.0  # CPU time its callbacks used so far (the CPU limit is per event)
        self.fetch_reply = None  # a stub's fetch: its `stubs.FetchCall` hands the outcome over

    def succeed(self, value) -> None:
        reply = self.reply
        if not reply.done():
            if self.fetch_reply is None:
                reply.set_result(value)
            else:
                self.fetch_reply.arrived(value, None)

    def fail(self, exc: BaseException) -> None:
        reply = self.reply
        if not reply.done():
            if self.fetch_reply is None:
                reply.set_exception(exc)
            else:
                self.fetch_reply.arrived(None, exc)
