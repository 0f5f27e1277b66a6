"""The world's trace: what happened, when (virtual time), to which object, for which request.

Notebooks draw it and kata failures quote it, so a record is small and readable:
`TraceEvent(time=12.5, kind="storage:put", binding="COUNTER", object="alice", request=7,
detail="count")`. The trace is a bounded ring (old events fall off) so a long run stays small.

Every kind of record is named once, in `Kind` (with what it means in `Kind.MEANING`): the core
records them, and the widgets, the advice, the tests and the docs read them from there.
"""

from __future__ import annotations

import array
import itertools
import struct
import sys
from typing import Iterable, NamedTuple

from .loop import current_scope


class Kind:
    """The kinds of trace records. Each is a plain string ("storage:put"), so `trace.select()`
    and comparisons take either the constant or its text."""

    # Events into an object: "<event>:<phase>" for fetch, rpc, alarm, ws (Hibernation API
    # handlers), run (run_in_durable_object) and call (standard-API socket listeners).
    EVENTS = ("fetch", "rpc", "alarm", "ws", "run", "call")

    CONSTRUCTOR = "constructor"
    CONSTRUCTOR_ERROR = "constructor:error"
    FETCH_CALL, FETCH_START, FETCH_END, FETCH_ERROR = "fetch:call", "fetch:start", "fetch:end", "fetch:error"
    RPC_CALL, RPC_START, RPC_END, RPC_ERROR = "rpc:call", "rpc:start", "rpc:end", "rpc:error"
    FETCH_OUT = "fetch:out"
    STORAGE_GET, STORAGE_PUT, STORAGE_DELETE = "storage:get", "storage:put", "storage:delete"
    STORAGE_LIST, STORAGE_DELETE_ALL = "storage:list", "storage:deleteAll"
    COMMIT = "commit"
    COMMIT_FAILED = "commit:failed"
    GATE_CLOSE = "gate:close"
    GATE_OPEN = "gate:open"
    ALARM_SET, ALARM_DELETE, ALARM_FIRE = "alarm:set", "alarm:delete", "alarm:fire"
    ALARM_START, ALARM_END, ALARM_ERROR = "alarm:start", "alarm:end", "alarm:error"
    ALARM_RETRY, ALARM_GAVE_UP = "alarm:retry", "alarm:gave-up"
    WS_ACCEPT, WS_SEND, WS_CLOSE = "ws:accept", "ws:send", "ws:close"
    WS_EVENT, WS_START, WS_END, WS_ERROR = "ws:event", "ws:start", "ws:end", "ws:error"
    WS_EVENT_TIMEOUT, WS_AUTO_RESPONSE, WS_UNANSWERED_CLOSE = "ws:event-timeout", "ws:auto-response", \
        "ws:unanswered-close"
    KV_GET, KV_PUT, KV_DELETE, KV_LIST = "kv:get", "kv:put", "kv:delete", "kv:list"
    EVICT = "evict"
    HIBERNATE = "hibernate"
    RESET = "reset"
    CRASH = "crash"
    CHAOS = "chaos"
    ISOLATE_RESTART = "isolate:restart"
    OVERLOADED = "overloaded"

    MEANING = {
        CONSTRUCTOR: "a new instance: the constructor ran",
        CONSTRUCTOR_ERROR: "the constructor raised; the caller gets the error",
        FETCH_OUT: "the object called fetch() to the outside",
        "<event>:call": "a caller sent an event (fetch, rpc, run) to the object",
        "<event>:start": "the object's handler started",
        "<event>:end": "the handler finished and its reply left",
        "<event>:error": "the handler raised, or the object was reset under it",
        STORAGE_GET: "storage get()", STORAGE_PUT: "storage put()", STORAGE_DELETE: "storage delete()",
        STORAGE_LIST: "storage list()", STORAGE_DELETE_ALL: "storage deleteAll()",
        COMMIT: "pending writes became durable", COMMIT_FAILED: "a commit failed: the object is reset",
        GATE_CLOSE: "blockConcurrencyWhile or a transaction closed the input gate",
        GATE_OPEN: "the section ended: the gate opened",
        ALARM_SET: "setAlarm()", ALARM_DELETE: "deleteAlarm()", ALARM_FIRE: "the alarm fired",
        ALARM_RETRY: "the alarm handler failed: a retry is scheduled", ALARM_GAVE_UP: "all 7 attempts failed",
        WS_ACCEPT: "a WebSocket was accepted", WS_SEND: "a WebSocket message was sent",
        WS_CLOSE: "a WebSocket was closed", WS_EVENT: "a Hibernation API event was delivered",
        WS_EVENT_TIMEOUT: "a socket event handler ran past its time limit",
        WS_AUTO_RESPONSE: "the auto-response answered without waking the object",
        WS_UNANSWERED_CLOSE: "the handler did not close back: the client sees 1006",
        KV_GET: "Workers KV get", KV_PUT: "Workers KV put", KV_DELETE: "Workers KV delete",
        KV_LIST: "Workers KV list",
        EVICT: "the instance left memory (storage kept)", HIBERNATE: "the instance hibernated: idle with nothing pending (sockets kept)",
        RESET: "the instance was reset: unconfirmed writes lost, callers failed",
        CRASH: "the machine under the object died", CHAOS: "chaos eviction at an event boundary",
        ISOLATE_RESTART: "the isolate restarted: module state lost",
        OVERLOADED: "the object's queue was full: the request was shed as overloaded",
    }


KINDS = frozenset(
    {value for name, value in vars(Kind).items() if name.isupper() and isinstance(value, str)}
    | {f"{event}:{phase}" for event in Kind.EVENTS for phase in ("start", "end", "error")}
    | {f"{event}:call" for event in ("fetch", "rpc", "run")}  # alarms fire, socket events are delivered
)


# Kinds are stored as small numbers (one byte an event); names in sorted order.
_KIND_NAMES = tuple(sorted(KINDS))
_KIND_CODES = {kind: code for code, kind in enumerate(_KIND_NAMES)}
assert len(_KIND_NAMES) <= 256
_intern = sys.intern


def _known_kind(kind: str) -> bool:
    return kind in KINDS or (kind.endswith(":") and any(k.startswith(kind) for k in KINDS))


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


DEFAULT_MAXLEN = 200_000  # events a world's trace keeps (the oldest fall off)
_BATCH = 256  # events staged before they move into the ring
_FIELDS = 5  # what the staging list holds of each event: time, kind number, request, names, detail
_STAGED_LIMIT = _BATCH * _FIELDS


def _array(typecode: str, values: list) -> array.array:
    """`values` as an array of `typecode`, packed by struct: array's own conversion parses each
    item as an argument list, three times slower, and the trace moves every event this way."""
    packed = array.array(typecode)
    packed.frombytes(struct.pack(f"{len(values)}{typecode}", *values))
    return packed


class Trace:
    """Every event of a world, in order. Filter with `select(...)`, print with `str(trace)`.

    A bounded ring of `maxlen` events, kept compact because a long-running world fills it: each
    event is a few machine words in parallel arrays (time, kind number, request id, a reference
    to its object's names, shared by all of that object's events, and its detail), about 40 bytes instead of the ~150 of a tuple. Recording is on every hot path, so
    events are first staged, their five fields one after the other in one flat list, and moved
    into the arrays a batch at a time (and whenever the trace is read): each array takes every
    fifth item of the list at once. `TraceEvent`s are made when read.
    """

    def __init__(self, world, maxlen: int = DEFAULT_MAXLEN):
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, not {maxlen!r}")
        self._loop = world.loop
        self.maxlen = maxlen
        self._moved = 0  # events moved into the ring so far, fallen off or not
        self.clear()

    def clear(self) -> None:
        self._staged: list = []  # time, kind number, request, names, detail of each event not in the ring yet
        self._head = 0  # once the ring is full: the slot of the oldest event, overwritten next
        self._times = array.array("d")  # virtual ms
        self._kinds = bytearray()  # index into _KIND_NAMES
        self._requests = array.array("q")  # request id, 0 for none
        self._objects: list = []  # (binding, name, full id) of the object, or None (the world)
        self._details: list = []

    @property
    def recorded(self) -> int:
        """Events ever recorded, fallen off or not (a mark for `objects_since`)."""
        return self._moved + len(self._staged) // _FIELDS

    def record(self, kind: str, host=None, *, request=None, instance=None, detail=None) -> None:
        code = _KIND_CODES.get(kind)
        if code is None:
            raise AssertionError(f"trace kind {kind!r} is not in trace.Kind")
        if host is None:
            names = None
        else:
            if request is None:
                scope = current_scope.get()  # attribute the event to the request that caused it
                if scope is not None and scope.event is not None:
                    request = scope.event.request_id
            names = host.trace_names  # made again when the object learns its name
            if names is None:
                names = host.trace_names = (host.binding, host.label, host.key)
        if instance is not None:
            detail = _intern(f"instance {instance}" if detail is None else f"instance {instance}: {detail}")
        staged = self._staged
        staged += (self._loop._now * 1000.0, code, request or 0, names, detail)
        if len(staged) >= _STAGED_LIMIT:
            self._flush()

    def _flush(self) -> None:
        """Move the staged events into the ring (the oldest fall off once it is full)."""
        staged = self._staged
        if not staged:
            return
        self._staged = []
        count = len(staged) // _FIELDS
        self._moved += count
        maxlen = self.maxlen
        if count > maxlen:
            staged = staged[-maxlen * _FIELDS:]
            count = maxlen
        times, kinds, requests, objects, details = (staged[field::_FIELDS] for field in range(_FIELDS))
        kinds = bytes(kinds)
        room = maxlen - len(self._details)
        if room:
            self._times += _array("d", times[:room])
            self._kinds += kinds[:room]
            self._requests += _array("q", requests[:room])
            self._objects += objects[:room]
            self._details += details[:room]
        done = min(room, count)
        while done < count:  # overwrite the oldest, from the head, wrapping at the end
            head = self._head
            end = min(maxlen, head + count - done)
            part = slice(done, done + end - head)
            self._times[head:end] = _array("d", times[part])
            self._kinds[head:end] = kinds[part]
            self._requests[head:end] = _array("q", requests[part])
            self._objects[head:end] = objects[part]
            self._details[head:end] = details[part]
            done += end - head
            self._head = 0 if end == maxlen else end

    def _slots(self, last: int | None = None) -> Iterable[int]:
        """The ring's slots, oldest event first (only the `last` ones if given)."""
        self._flush()
        size = len(self._details)
        count = size if last is None else max(0, min(last, size))
        first = (self._head + size - count) % size if size else 0
        if first + count <= size:
            return range(first, first + count)
        return itertools.chain(range(first, size), range(0, first + count - size))

    def _event(self, slot: int) -> TraceEvent:
        names = self._objects[slot]
        request = self._requests[slot]
        binding, name, object_id = names if names is not None else (None, None, None)
        return TraceEvent(self._times[slot], _KIND_NAMES[self._kinds[slot]], binding, name,
                          request if request else None, self._details[slot], object_id)

    def objects_since(self, mark: int) -> set[str] | None:
        """Full ids of the objects named in the events recorded after `mark` (an earlier value
        of `recorded`), or None if some of those events have fallen off the ring."""
        count = self.recorded - mark
        slots = self._slots(count)
        if count > len(self._details):
            return None
        objects = self._objects
        return {objects[slot][2] for slot in slots if objects[slot] is not None}

    def __iter__(self):
        event = self._event
        return (event(slot) for slot in self._slots())

    def __len__(self) -> int:
        self._flush()
        return len(self._details)

    def __getitem__(self, index):
        return list(self)[index]

    def select(self, kind: str | None = None, *, object: str | None = None, binding: str | None = None,
               request: int | None = None) -> list[TraceEvent]:
        """Events matching every given filter; `kind` may be a prefix ending in ':' ("storage:")."""
        if kind is not None and not _known_kind(kind):
            raise ValueError(f"no trace event is of kind {kind!r}; the kinds are: {', '.join(sorted(KINDS))}")
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
        return f"<Trace {len(self)} events>"
