"""One Durable Object: its lasting identity and its in-memory instances.

`ObjectHost` is the object as the platform keeps it: an ID, its storage and its alarm. It
outlives evictions and resets. `Instance` is one incarnation in memory: the constructor ran once
for it, its fields live on the user's object, and it ends with eviction (memory dropped, storage
kept) or reset (memory dropped *and* unconfirmed writes discarded, callers failed).

Every event (a fetch, an RPC call, an alarm, a socket message, a test's run) enters through
`ObjectHost.submit`, which applies the caller's output gate, counts and traces it, and hands it
to the current instance (constructing one first if needed). The instance's input and output
gates are in gates.py; its storage and transactions in storage.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import types
import logging

from . import codec as _codec
from . import lifecycle as _lifecycle
from . import overload as _overload
from . import websockets as _websockets
from . import tracebacks as _tracebacks
from . import watchdog as _watchdog
from .errors import DurableObjectAbort, HangTimeout, JsError, JsException, error_name, mark_remote, python_error
from .alarms import AlarmClock
from .events import Event
from .ffi import call_relaxed, js_api, require_function
from .http import FetchResponse, Request, Response
from .ids import DurableObjectId, name_seen_inside
from .gates import InputGate, OutputGate, Scope, leave_caller
from .loop import current_scope
from .storage import DurableObjectStorage, ObjectStore
from .stubs import rpc_externalizer
from .values import datetime_from_ms, through_js
from .trace import Kind

log = logging.getLogger("durable_dojo")
_Coroutine = types.CoroutineType

MAX_BCW_DEPTH = 64
BCW_TIMEOUT_SECONDS = 30.0
WAIT_UNTIL_LIMIT_SECONDS = 15 * 60
BCW_TIMEOUT_MESSAGE = (
    "A call to blockConcurrencyWhile() in a Durable Object waited for too long. "
    "The call was canceled and the Durable Object was reset."
)
_LABEL = object()  # submit(): the trace's detail is the event's label
# The trace kinds of an event's phases, made once (an f-string per event would be a new string each time).
_START, _END, _ERROR = ({kind: f"{kind}:{phase}" for kind in Kind.EVENTS} for phase in ("start", "end", "error"))
_ITS_OWN_COPY = frozenset((type(None), bool, int))  # values whose RPC copy is the value itself
RPC_RESERVED = frozenset({"fetch", "connect", "dup", "constructor", "alarm", "webSocketMessage", "webSocketClose",
                          "webSocketError"})


def remote_copy(exc: BaseException, *, reset: bool = False, overloaded: bool = False,
                python: bool = True) -> BaseException:
    """The exception as the caller sees it across the stub: a copy, marked `remote`.

    A JavaScript error keeps its name and message (semantics 8.4). A Python exception becomes
    what Pyodide makes of it, a "PythonError" whose message is its traceback (errors.py says
    why); with `python=False` (a test's own code run inside the object) it keeps its type.
    The original error is attached as the cause, its traceback pruned to the learner's frames,
    since learners need to see where it was raised.
    """
    cls = type(exc)
    if isinstance(exc, DurableObjectAbort):
        copy = JsError(str(exc))
    elif cls.__module__.startswith("durable_dojo") or isinstance(exc, JsException) or (
            not python and cls.__module__ == "builtins"):
        try:
            copy = cls(*exc.args)
        except Exception:
            copy = JsError(f"{cls.__name__}: {exc}")
    elif python:
        copy = python_error(_tracebacks.prune(exc))
    else:
        copy = JsError(f"{cls.__name__}: {exc}")
    if getattr(exc, "durableObjectReset", False):
        reset = True
    mark_remote(copy, reset=reset, overloaded=overloaded or getattr(exc, "overloaded", False),
                retryable=getattr(exc, "retryable", False))
    if copy is not exc:
        copy.__cause__ = _tracebacks.prune(exc)
    return copy


@js_api(calls_python=("blockConcurrencyWhile",))
class DurableObjectState:
    """`ctx` as a Durable Object sees it (the JS `DurableObjectState`, camelCase names)."""

    def __init__(self, instance: "Instance"):
        self._instance = instance
        host = instance.host
        self.id = DurableObjectId(host.id._raw, name_seen_inside(host.id))
        self.storage = DurableObjectStorage(instance)

    def blockConcurrencyWhile(self, callback=None):
        """Run `callback` (an async or sync function) while no other event reaches the object."""
        require_function(callback, "blockConcurrencyWhile", "DurableObjectState")
        return self._instance.block_concurrency_while(callback)

    def waitUntil(self, awaitable) -> None:
        """Keep the object alive until `awaitable` settles (at most 15 minutes); no response waits."""
        if not hasattr(awaitable, "__await__") and not isinstance(awaitable, asyncio.Future):
            return  # workerd makes any other value a resolved promise: nothing to wait for
        self._instance.wait_until(awaitable)

    def abort(self, reason: str | None = None):
        """Reset the object now. Raises `DurableObjectAbort` so the calling code stops."""
        error = JsError(reason if reason is not None else "Application called abort() to reset Durable Object.")
        self._instance.reset(error)
        raise DurableObjectAbort(reason or "Durable Object abort requested")

    # ----- WebSockets: the Hibernation API -----

    def acceptWebSocket(self, ws, tags=None) -> None:
        """Accept the server end of a pair for the Hibernation API, with up to 10 tags."""
        _websockets.accept_websocket(self._instance, ws, tags)

    def getWebSockets(self, tag: str | None = None) -> list:
        """The object's hibernatable sockets that are not closed (optionally with this tag)."""
        return _websockets.get_websockets(self._instance, tag)

    def getTags(self, ws) -> list:
        return _websockets.get_tags(ws)

    def setWebSocketAutoResponse(self, pair=None) -> None:
        """Answer one exact text message without waking the object (no argument removes it)."""
        _websockets.set_auto_response(self._instance, pair)

    def getWebSocketAutoResponse(self):
        return self._instance.host.auto_response

    def getWebSocketAutoResponseTimestamp(self, ws):
        """When `ws` last sent the auto-response (a datetime), or None."""
        ms = _websockets.auto_response_timestamp(ws)
        return None if ms is None else datetime_from_ms(ms)

    def setHibernatableWebSocketEventTimeout(self, ms=None) -> None:
        _websockets.set_event_timeout(self._instance, ms)

    def getHibernatableWebSocketEventTimeout(self):
        return self._instance.host.ws_event_timeout


class Instance:
    """One in-memory incarnation of an object (from constructor to eviction or reset)."""

    __slots__ = ("host", "world", "number", "alive", "obj", "input_gate", "output_gate", "in_flight",
                 "wait_untils", "tasks", "in_constructor", "context", "ctx", "reset_error", "standard_sockets")

    def __init__(self, host: "ObjectHost", number: int):
        self.host = host
        self.world = host.world
        self.number = number  # how many instances this object has had, 1-based
        self.alive = True
        self.obj = None
        self.input_gate = InputGate(self)
        self.output_gate = OutputGate(self)
        self.in_flight: set[Event] = set()
        self.wait_untils = 0
        self.tasks: set[asyncio.Task] = set()
        self.in_constructor = False
        self.reset_error: BaseException | None = None
        self.standard_sockets: set = set()  # standard-API sockets: they pin the instance in memory
        self.context = host.world._root_context.copy()
        self.context.run(current_scope.set, Scope(self, None, None))
        self.ctx = DurableObjectState(self)

    # ----- running code in this instance -----

    def scoped_context(self, section, event) -> contextvars.Context:
        ctx = self.context.copy()
        ctx.run(current_scope.set, Scope(self, section, event))
        return ctx

    def construct(self) -> None:
        """Run the user's constructor synchronously (it cannot await; it may start a section)."""
        host = self.host
        self.in_constructor = True
        try:
            cls = self.world.isolates.object_class(host)  # the class as the object's isolate ran it
            self.obj = self.context.run(cls, self.ctx, host.namespace.env)
        finally:
            self.in_constructor = False
        self.world.trace.record(Kind.CONSTRUCTOR, host, instance=self.number)

    def start(self, event: Event) -> None:
        self.in_flight.add(event)
        _lifecycle.became_active(self.host)
        self.world.loop.create_task(self._run_event(event), context=self.scoped_context(None, event))

    async def _run_event(self, event: Event):
        world = self.world
        trace = world.trace
        trace.record(_START[event.kind], self.host, request=event.request_id, detail=event.label)
        cpu_start = _watchdog.cpu_clock_at_start(event)
        try:
            result = invoke_method(self, event)
            if type(result) is _Coroutine or inspect.isawaitable(result):  # (an async method's coroutine: no call)
                result = await result
            result = self.host.reply_value(self, event, result)
            if self.alive:
                self.output_gate.wait()
            if not self.alive:
                raise self.reset_error
        except (asyncio.CancelledError, DurableObjectAbort):
            if self.reset_error is None:
                event.fail(JsError("canceled"))
            else:
                event.fail(_as_seen_by(event, remote_copy(self.reset_error, reset=_is_reset(self.reset_error))))
            trace.record(_ERROR[event.kind], self.host, request=event.request_id, detail="reset")
        except BaseException as exc:  # noqa: BLE001 - everything crosses to the caller
            if isinstance(exc, HangTimeout):
                exc = _watchdog.timeout_error(event.label)  # the watchdog raises the bare class
                event.fail(remote_copy(exc))
                # retrieved (once set: a stub's fetch hands it over a turn later): the pump
                # reported it to whoever waited
                event.reply.add_done_callback(_retrieve)
                trace.record(_ERROR[event.kind], self.host, request=event.request_id, detail="HangTimeout")
                return
            if self.alive:
                try:
                    self.output_gate.wait()  # exceptions wait for the output gate too (workerd PR #585)
                except BaseException:
                    pass
            reset = self.reset_error is not None and exc is self.reset_error
            error = remote_copy(exc, reset=reset, python=event.kind != "run")
            event.fail(_as_seen_by(event, error) if reset else error)
            if event.kind in ("alarm", "ws", "call") and world.log_errors:  # nobody awaits these: say it
                log.warning("%s raised in %r (%s)", type(exc).__name__, self.host, event.label, exc_info=exc)
            trace.record(_ERROR[event.kind], self.host, request=event.request_id,
                         detail=f"{error_name(exc)}: {exc}")
        else:
            event.succeed(result)
            trace.record(_END[event.kind], self.host, request=event.request_id)
        finally:
            world._counters.handler_cpu(self.host.binding, _watchdog.cpu_clock_at_end(event) - cpu_start)
            self.in_flight.discard(event)
            self.maybe_idle()

    # ----- blockConcurrencyWhile and transactions: sections of the input gate -----

    def block_concurrency_while(self, callback):
        return self.open_section_for(callback, critical=True)

    def open_section_for(self, callback, *, critical: bool):
        """Start `callback` in a new section that holds back all other events of the object.
        The section nests inside the caller's, if the caller runs in a section of this instance.

        With `critical`, a throw resets the object and a 30 s wait resets it as overloaded
        (blockConcurrencyWhile). Without it (transaction), a throw only propagates.
        """
        scope = current_scope.get()
        event = parent = None
        if scope is not None:
            event = scope.event
            if scope.instance is self:
                parent = scope.section
        if critical and parent is not None and parent.depth >= MAX_BCW_DEPTH:
            raise JsError("blockConcurrencyWhile() calls are nested too deeply.")
        section = self.input_gate.close(parent, "blockConcurrencyWhile" if critical else "transaction")
        loop = self.world.loop
        result = loop.create_future()
        task = loop.create_task(self._guarded(callback) if critical else _call_async(callback),
                                context=self.scoped_context(section, event))
        timeout = None
        if critical:
            timeout = loop.call_housekeeping_at(loop.time() + BCW_TIMEOUT_SECONDS, self._bcw_timed_out, task)

        def finished(t: asyncio.Task) -> None:
            # Resolve first, then open the gate: the caller's continuation runs before any
            # held event, as a JS microtask would.
            if timeout is not None:
                timeout.cancel()
            if not self.alive:
                if not result.done():
                    result.set_exception(self.reset_error)
            elif t.cancelled():
                result.cancel()
            elif t.exception() is not None:
                exc = t.exception()
                if critical:
                    mark_remote(exc, remote=getattr(exc, "remote", False), reset=True)
                    self.reset(exc)
                if not result.done():
                    result.set_exception(exc)
            elif not result.done():
                result.set_result(through_js(t.result()))  # the callback's value went to JS and back
            self.input_gate.reopen(section)

        task.add_done_callback(finished, context=self.world._root_context)  # infrastructure: never gated
        if critical:
            # The platform's pattern does not await it in the constructor; a throw reaches the
            # callers as the reset error, so nobody needs to be told again.
            result.add_done_callback(_retrieve, context=self.world._root_context)
        return result

    async def _guarded(self, callback):
        """Run a blockConcurrencyWhile callback; a throw resets the object at once, in the same
        turn, so writes the callback made are discarded before any flush (as on workerd, where
        the rejection is a microtask and the commit comes after the turn)."""
        try:
            return await _call_async(callback)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            if self.alive:
                mark_remote(exc, remote=getattr(exc, "remote", False), reset=True)
                self.reset(exc)
            raise

    def _bcw_timed_out(self, task: asyncio.Task) -> None:
        if task.done() or not self.alive:
            return
        error = JsError(BCW_TIMEOUT_MESSAGE)
        mark_remote(error, remote=False, overloaded=True, reset=True)
        self.reset(error)

    # ----- lifetime -----

    def wait_until(self, awaitable) -> None:
        loop = self.world.loop
        future = asyncio.ensure_future(awaitable, loop=loop)
        self.wait_untils += 1
        limit = loop.call_housekeeping_at(loop.time() + WAIT_UNTIL_LIMIT_SECONDS, self._wait_until_expired, future)

        def settled(_):
            limit.cancel()
            self._wait_until_done()

        future.add_done_callback(settled, context=self.world._root_context)

    def _wait_until_expired(self, future) -> None:
        future.cancel()

    def _wait_until_done(self) -> None:
        self.wait_untils -= 1
        self.maybe_idle()

    @property
    def busy(self) -> bool:
        return bool(self.in_flight or self.input_gate.queued or self.wait_untils or self.input_gate.closed)

    @property
    def handling(self) -> bool:
        """Handling a request or event (running, queued at the gate, or inside a section)."""
        gate = self.input_gate
        return bool(self.in_flight or gate.queued or gate.sections)  # (gate.sections: gate.closed without the call)

    def maybe_idle(self) -> None:
        if not self.alive or self.handling:
            return
        if not self.wait_untils and self.world.faults._plan.chaos_evicts_now():  # not busy (handling nothing)
            self.world.trace.record(Kind.CHAOS, self.host, detail="evicting at an event boundary")
            self.evict()
            self.world.isolates.restart_if_idle(self.host, "chaos")
        else:
            _lifecycle.became_idle(self.host)

    def task_finished(self, task: asyncio.Task) -> None:
        """A task of this instance ended: if the object is idle, its pending I/O may have too."""
        self.tasks.discard(task)
        if self.alive and _lifecycle.may_end_pending_io(self.host) and not self.handling:
            _lifecycle.became_idle(self.host)

    def crash(self, message: str) -> None:
        """The machine under the object died: like a reset, but callers may retry."""
        error = JsError(message)
        mark_remote(error, remote=False, retryable=True)
        self.world.trace.record(Kind.CRASH, self.host, detail=message)
        self.reset(error)

    def reset(self, error: BaseException) -> None:
        """Drop this instance: unconfirmed writes are lost, every caller gets `error`."""
        if not self.alive:
            return
        self.alive = False
        self.reset_error = error
        host = self.host
        host.storage.discard()
        if host.instance is self:
            host.instance = None
        host.cancel_idle_timer()
        self.world.trace.record(Kind.RESET, host, instance=self.number, detail=str(error))
        _websockets.disconnect_all(host)
        self._cut_standard_sockets(_websockets.RESET_MESSAGE)
        remote = remote_copy(error, reset=_is_reset(error))
        queued = self.input_gate.queued
        for event in list(queued) + list(self.in_flight):
            event.fail(_as_seen_by(event, remote))
        queued.clear()
        self._drop_tasks()
        self.world._counters.object_stopped(host)

    def exceeded_time_limit(self) -> None:
        """Code of this instance hung past the hang timeout: like the CPU limit, a reset."""
        error = JsError("Durable Object exceeded its time limit (stuck code) and was reset.")
        mark_remote(error, remote=False, reset=True)
        self.reset(error)

    def evict(self, hibernate: bool = False) -> None:
        """Drop this idle instance from memory; storage stays. `hibernate`: the platform did it
        because the object was idle and hibernatable (traced as a hibernation)."""
        if not self.alive:
            return
        self.output_gate.confirm()
        self.alive = False
        self.reset_error = JsError("Durable Object was evicted")
        host = self.host
        if host.instance is self:
            host.instance = None
        host.cancel_idle_timer()
        host.idle_state = None
        hibernating = hibernate or any(ws.readyState != _websockets.CLOSED for ws in host.sockets)
        self.world.trace.record(Kind.HIBERNATE if hibernating else Kind.EVICT, host, instance=self.number)
        self._cut_standard_sockets("Durable Object was evicted.")
        self._drop_tasks()
        self.world._counters.object_stopped(host)
        self.world._left_memory(host)

    def _cut_standard_sockets(self, reason: str) -> None:
        """Standard-API sockets live in the instance's memory: they go with it."""
        for ws in list(self.standard_sockets):
            ws._cut(reason)
        self.standard_sockets.clear()

    def _drop_tasks(self) -> None:
        self.input_gate.release_held()
        for task in list(self.tasks):
            task.cancel()


def _retrieve(future: asyncio.Future) -> None:
    """Replies nobody awaits (socket events): their errors are in the trace already."""
    if not future.cancelled():
        future.exception()


def _as_seen_by(event: Event, error: BaseException) -> BaseException:
    """A reset reaches an RPC caller as an error of the runtime (`remote` false) and an HTTP
    caller as an error of the object (`remote` true), as workerd reports them."""
    if event.kind == "rpc" and getattr(error, "remote", False):
        copy = remote_copy(error, reset=getattr(error, "durableObjectReset", False))
        copy.remote = False
        return copy
    return error


def _is_reset(error: BaseException) -> bool:
    """Errors that end an instance are resets, except a crash (a lost connection)."""
    return getattr(error, "durableObjectReset", True)


async def _call_async(callback):
    result = callback()
    if inspect.isawaitable(result):
        result = await result
    return result


def invoke_method(instance: Instance, event: Event):
    """Call the handler an event names on the user's object; returns its (maybe awaitable) result."""
    obj = instance.obj
    kind = event.kind
    if kind == "rpc":
        if event.name is None:  # a call of a function this object sent over RPC (stubs.RpcFunction)
            function, args = event.args
            return function(*args)
        method = rpc_method(obj, event.name)
        return method(*event.args)  # the stub copied them when the call was made; only this event holds them
    if kind == "run":
        return event.args[0](obj, instance.ctx)
    if kind == "call":
        return event.args[0](*event.args[1])
    if kind == "ws" and event.name == "webSocketClose":
        event.args[0].close_event_started()
    handler = getattr(obj, event.name, None)
    if handler is None:
        if kind == "ws" and event.name in ("webSocketClose", "webSocketError"):
            return None  # a class without these handlers just gets no such event
        if kind == "alarm":  # the Python entrypoint proxy's answer (python-entrypoint-helper.ts)
            raise JsException("TypeError", f"Method {event.name} does not exist")
        raise JsError(f"Handler does not export a {event.name}() function.")
    return call_relaxed(handler, *event.args)  # fetch, alarm, webSocket*: as workerd calls them


def rpc_method(obj, name: str):
    """What `stub.<name>(...)` calls on the object `obj`, as workerd finds it for a Python
    Durable Object, else the platform's TypeError (a JsException).

    Reserved names fail first (workerd's worker-rpc.c++, `isReservedName`). Then workerd asks
    the Python entrypoint proxy (`makeEntrypointProxyHandler` in its python-entrypoint-helper),
    which answers every other name and calls `obj.<name>` if it is callable, whatever it is: a
    method (also one whose name starts with `_`), a static method, a callable attribute. If it
    is missing or not callable (a property's value, a number), the proxy throws
    `TypeError: Method <name> does not exist`."""
    if name in RPC_RESERVED:
        raise JsException("TypeError", f"'{name}' is a reserved method and cannot be called over RPC.")
    method = getattr(obj, name, None) if not name.startswith("__") else None
    if method is None or not callable(method):
        raise JsException("TypeError", f"Method {name} does not exist")
    return method


class ObjectHost:
    """A Durable Object as the platform keeps it: ID, storage and alarm, across instances."""

    __slots__ = ("namespace", "world", "cls", "id", "key", "binding", "label", "store", "storage", "instance",
                 "instances_made", "alarms", "idle_timer", "cancelled_idle_timer", "idle_state", "sockets",
                 "auto_response", "ws_event_timeout", "trace_names", "__weakref__")

    def __init__(self, namespace, id_: DurableObjectId, store):
        self.namespace = namespace
        self.world = namespace.world
        self.cls = namespace.cls
        self.id = DurableObjectId(id_._raw, id_.name)
        self.key = id_.toString()
        self.binding = namespace.binding
        self.label = id_.name if id_.name is not None else self.key[:12]  # how the trace names it
        self.store = store  # the KvStore: committed keys, the pending batch, the alarm
        self.storage = ObjectStore(self, store)  # that, the SQL database and their transactions
        self.instance: Instance | None = None
        self.instances_made = 0
        self.alarms = AlarmClock(self)  # the object's one alarm, its timer and its retries
        self.idle_timer = None
        self.cancelled_idle_timer = None  # the idle timer the last event's start cancelled (lifecycle.became_active)
        self.idle_state = None  # why an idle instance is still in memory (lifecycle.py), None if active
        self.sockets: list = []  # hibernatable WebSockets: they belong to the object, not the instance
        self.auto_response = None
        self.ws_event_timeout = None
        self.trace_names = None  # (binding, label, key): shared by the trace's events of this object

    def __repr__(self) -> str:
        return f"<{self.binding} {self.label}>"

    def learn_name(self, name: str) -> None:
        """The object was first reached by ID and is now reached by name: label it by name."""
        self.id.name = name
        self.label = name
        self.trace_names = None  # the trace's events from now on name it by name

    # ----- events -----

    def deliver(self, event: Event) -> None:
        """Hand an event to the current instance, constructing one first if needed."""
        instance = self.instance
        if instance is None:
            instance = self._new_instance(event)
            if instance is None:
                return
        elif _overload.shed(instance, event):
            return
        if instance.input_gate.admit(event):
            instance.start(event)
        else:
            _lifecycle.became_active(self)

    def _new_instance(self, event: Event) -> Instance | None:
        self.instances_made += 1
        instance = Instance(self, self.instances_made)
        self.instance = instance
        self.world._counters.object_started(self)
        try:
            instance.construct()
        except BaseException as exc:  # noqa: BLE001 - the caller gets it, marked remote
            instance.alive = False
            instance.reset_error = exc
            if self.instance is instance:
                self.instance = None
            self.storage.discard()
            self.world.trace.record(Kind.CONSTRUCTOR_ERROR, self, detail=f"{error_name(exc)}: {exc}")
            event.fail(remote_copy(exc))
            return None
        return instance if instance.alive else None

    def submit(self, kind: str, name: str | None, args, label: str, *, trace_kind: str | None = None,
               detail=_LABEL, count: bool = True, awaited: bool = True, now: bool = False,
               reply: asyncio.Future | None = None) -> Event:
        """The one way an event enters this object (RPC, fetch, alarm, WebSocket event, a test's
        run, a socket listener): the caller's output gate first, then a request id, the trace's
        record and the request count, then delivery. With `now`, deliver in this turn (the world
        itself is the caller: a timer, a socket); else on the loop's next turn, which keeps a call
        made from outside the world (a test) eager without running user code inside the call.
        Without `awaited`, nobody waits for the reply: its error is only traced (and logged).
        `reply`: the future the reply goes to (a redirect's next hop settles the first hop's)."""
        world = self.world
        leave_caller()  # the caller's output gate: its writes are confirmed first
        if reply is None:
            reply = world.loop.create_future()
        if not awaited:
            reply.add_done_callback(_retrieve, context=world._root_context)
        event = Event(kind, name, args, reply, world._next_request_id(), label)
        if trace_kind is not None:
            world.trace.record(trace_kind, self, request=event.request_id, detail=label if detail is _LABEL else detail)
        if count:
            world._counters.request(self)
        if now:
            self.deliver(event)
        else:
            world.loop.call_soon(self.deliver, event, context=world._root_context)
        return event

    def websocket_event(self, handler: str, args) -> asyncio.Future:
        """Deliver a Hibernation API event (waking the object if it hibernated)."""
        event = self.submit("ws", handler, args, f"{handler}()", trace_kind=Kind.WS_EVENT, detail=handler,
                            awaited=False, now=True)
        if self.ws_event_timeout is not None:
            loop = self.world.loop
            loop.call_housekeeping_at(loop.time() + self.ws_event_timeout / 1000, self._ws_event_timed_out, event)
        return event.reply

    def _ws_event_timed_out(self, event: Event) -> None:
        if not event.reply.done():
            self.world.trace.record(Kind.WS_EVENT_TIMEOUT, self, request=event.request_id)
            event.fail(JsError("WebSocket event handler exceeded its allowed execution time"))

    def call_in_object(self, instance: Instance, fn, args, label: str) -> None:
        """Run `fn(*args)` as an event of this instance (standard-API listeners). Not counted
        again: the socket message that triggers it is the request."""
        if self.instance is not instance or not instance.alive:
            return
        self.submit("call", None, (fn, args), label, count=False, awaited=False, now=True)

    def reply_value(self, instance: Instance, event: Event, result):
        """What the caller receives when the handler returned `result`: a fetch's Response as it
        leaves over HTTP, an RPC result copied as RPC copies it."""
        if event.kind == "fetch":
            if not isinstance(result, Response):
                raise JsException("TypeError", "Incorrect type for Promise: the Promise did not resolve to 'Response'.")
            if result.web_socket is not None:
                result.web_socket._coupled = True
            copy = result._detached_copy()
            if event.args[0].method == "HEAD":
                copy._body = None  # a response to HEAD carries no body over HTTP
            return copy
        if event.kind == "rpc":
            return _copy_result(result, instance)
        if event.kind == "run":
            return result  # run_in_durable_object: same process, no copy (as in vitest-pool-workers)
        return None

    # ----- idleness and eviction -----

    def cancel_idle_timer(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None


def _copy_result(value, instance):
    """An RPC result as the caller receives it: structured-clone copy, HTTP objects detached,
    functions and stubs passed as RPC passes them."""
    if type(value) in _ITS_OWN_COPY:  # a counter's int: codec.clone(value) would give it back as it is
        return value
    if isinstance(value, (FetchResponse, Request)):
        return value._detached_copy()
    if _codec.is_small_scalar(value):  # a short str, a float: a plain copy, nothing to bound
        return _codec.clone(value)
    return _codec.rpc_copy(value, rpc_externalizer(instance.world, instance))
