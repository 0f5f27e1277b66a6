"""The world's trace: what happened, when (virtual time), to which object, for which request.

Notebooks draw it and kata failures quote it, so a record is small and readable:
`TraceEvent(time=12.5, kind="storage:put", binding="COUNTER", object="alice", request=7,
detail="count")`. The trace is a bounded ring (old events fall off) so a long run stays small.
"""

from __future__ import annotations

import collections
from typing import Iterable, NamedTuple

from .loop import current_scope


class TraceEvent(NamedTuple):
    time: float  # virtual ms since the world started
    kind: str
    binding: str | None
    object: str | None  # the object's name, or the start of its hex ID
    request: int | None
    detail: object
    object_id: str | None = None  # the object's full 64-hex-digit ID

    def line(self) -> str:
        where = f"{self.binding} {self.object}" if self.binding else "world"
        req = f"#{self.request}" if self.request is not None else ""
        detail = "" if self.detail is None else f" {self.detail}"
        return f"{self.time / 1000:>10.3f}s {req:>5} {where:<24} {self.kind}{detail}"


class Trace:
    """Every event of a world, in order. Filter with `select(...)`, print with `str(trace)`."""

    def __init__(self, world, maxlen: int = 200_000):
        self._loop = world.loop
        self._events: collections.deque[tuple] = collections.deque(maxlen=maxlen)

    def record(self, kind: str, host=None, *, request=None, instance=None, detail=None) -> None:
        if request is None and host is not None:
            scope = current_scope.get()  # attribute the event to the request that caused it
            if scope is not None and scope.event is not None:
                request = scope.event.request_id
        if instance is not None:
            detail = f"instance {instance}" if detail is None else f"instance {instance}: {detail}"
        # Plain tuples here (TraceEvents are built when read): recording is on every hot path.
        if host is None:
            self._events.append((self._loop._now * 1000.0, kind, None, None, request, detail, None))
        else:
            self._events.append((self._loop._now * 1000.0, kind, host.binding, host.label, request, detail,
                                 host.key))

    def __iter__(self):
        make = TraceEvent._make
        return (make(raw) for raw in self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index):
        return list(self)[index]

    def clear(self) -> None:
        self._events.clear()

    def select(self, kind: str | None = None, *, object: str | None = None, binding: str | None = None,
               request: int | None = None) -> list[TraceEvent]:
        """Events matching every given filter; `kind` may be a prefix ending in ':' ("storage:")."""
        out = []
        for event in self:
            if kind is not None and not (event.kind == kind or (kind.endswith(":") and event.kind.startswith(kind))):
                continue
            if object is not None and event.object != object:
                continue
            if binding is not None and event.binding != binding:
                continue
            if request is not None and event.request != request:
                continue
            out.append(event)
        return out

    def kinds(self, events: Iterable[TraceEvent] | None = None) -> list[str]:
        return [e.kind for e in (self if events is None else events)]

    def format(self, events: Iterable[TraceEvent] | None = None, last: int | None = None) -> str:
        events = list(self if events is None else events)
        if last is not None:
            events = events[-last:]
        return "\n".join(e.line() for e in events)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"<Trace {len(self._events)} events>"
