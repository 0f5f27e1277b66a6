"""Namespaces (`env.COUNTER`), stubs and the calls that cross them (RPC and fetch).

A call through a stub is eager, like a JS promise: it is submitted to the world when it is made,
and awaiting it only waits for the reply. That is what makes
`await asyncio.gather(stub.a(), stub.b())` deliver two concurrent requests to the object, from a
test on the host's event loop just as from code inside the world.

`WorldCall` is the awaitable a call returns. Inside the world it waits like any future (which
opens the caller's input gate: other events may run meanwhile). On the host (a test, a notebook
cell, plain synchronous code through `Runtime.run`), awaiting it pumps the world until the reply
is there.
"""

from __future__ import annotations

import asyncio
import functools

from . import codec as _codec
from . import tracebacks as _tracebacks
from .errors import DataCloneError, DojoError, JsError, JsException
from .ffi import js_api
from .http import REDIRECT_STATUSES, as_request, get_request, hop_url_of, redirect_request
from .ids import DurableObjectId
from .loop import current_scope

MAX_REDIRECTS = 20  # the Fetch standard's bound

_MISSING = object()


class WorldCall:
    """A call in flight in the world; `await` it for the result (or the remote error)."""

    __slots__ = ("_world", "_future", "_label", "_on_error")

    def __init__(self, world, future: asyncio.Future, label: str, on_error=None):
        self._world = world
        self._future = future
        self._label = label
        self._on_error = on_error

    def __await__(self):
        __tracebackhide__ = True  # noqa: F841 - pytest and IPython leave this frame out
        future = self._future
        world = self._world
        if asyncio._get_running_loop() is world.loop:
            yield from future.__await__() if not future.done() else ()
        elif world.loop.real_time:
            if not future.done():
                try:
                    yield from world._bridge(future).__await__()
                except BaseException:
                    pass  # the outcome below raises it, with the stub's bookkeeping
        else:
            try:
                world._wait_for(future, self._label)
            except DojoError as error:  # a deadlock or a hang: the message says where, not the pump's frames
                raise error.with_traceback(None)
        return self._outcome()

    def _outcome(self):
        __tracebackhide__ = True  # noqa: F841
        future = self._future
        if future.cancelled():
            raise asyncio.CancelledError()
        exc = future.exception()
        if exc is not None:
            if self._on_error is not None:
                self._on_error(exc)
            raise exc
        return future.result()

    def done(self) -> bool:
        return self._future.done()

    def __repr__(self) -> str:
        state = "done" if self._future.done() else "pending: await it"
        return f"<{self._label} ({state})>"


class DurableObjectStub:
    """A client for one Durable Object. Any attribute is an RPC method; `fetch` is HTTP."""

    __slots__ = ("_namespace", "_host", "id", "name", "_broken", "__weakref__")

    def __init__(self, namespace, host, id_: DurableObjectId):
        self._namespace = namespace
        self._host = host
        self.id = id_
        self.name = id_.name
        self._broken = None

    def __repr__(self) -> str:
        return f"<DurableObjectStub {self._namespace.binding} {self._host.label}>"

    def _note_error(self, exc: BaseException) -> None:
        if getattr(exc, "durableObjectReset", False) or getattr(exc, "retryable", False):
            self._broken = exc  # the platform breaks the stub: use a new one to retry

    def fetch(self, input, **init) -> FetchCall:
        """Send an HTTP request into the object's `fetch(request)` handler. A redirect it answers
        is followed (through this stub again) unless `redirect="manual"`."""
        if type(input) is str and not init:  # the usual stub.fetch(url): a GET, following redirects
            url = _fetchable_urls.get(input)
            if url is None:
                url = _fetchable_url(input)
            request = get_request(url)
            label = f"{self._namespace.binding}.fetch(GET {url})"
        else:
            try:
                request = as_request(input, init)
                _require_absolute_url(request._url)
            except TypeError as error:  # stub.fetch is JavaScript's: its TypeError reaches Python as JsException
                raise JsException("TypeError", str(error)) from None
            label = f"{self._namespace.binding}.fetch({request._method._value_} {request._url})"
        call = FetchCall(self, request, label)
        call._send(request, label)
        return call

    def __getattr__(self, name: str):
        """`stub.<name>`: the RPC method `name` (an RPC call starts here)."""
        if name.startswith("__"):
            raise AttributeError(name)
        label = self._namespace.call_label(name)

        def rpc(*args, **kwargs):
            if kwargs:
                # Pyodide passes keyword arguments as one trailing options object: the method
                # receives `stub.m(1, x=2)` as `m(1, {"x": 2})`.
                args = (*args, kwargs)
            __tracebackhide__ = True  # noqa: F841
            sent = None
            if args:
                try:
                    if all(map(_codec.is_small_scalar, args)):
                        args = tuple([_codec.clone(arg) for arg in args])
                    else:
                        sent = []  # the functions this call sends: disposed when it completes
                        externalize = functools.partial(rpc_externalize, self._namespace.world, None, sent=sent)
                        args = _codec.rpc_copy_arguments(args, externalize)
                except Exception as error:  # DataCloneError: the learner's call is the place to show
                    raise _tracebacks.prune(error)
            world = self._namespace.world
            if self._broken is None:
                reply = self._host.submit("rpc", name, args, label, trace_kind="rpc:call").reply
                call = WorldCall(world, reply, label, self._note_error)
            else:  # a reset broke the stub: use a new one to retry
                reply = world.loop.create_future()
                reply.set_exception(self._broken)
                call = WorldCall(world, reply, label)
            if sent:
                call._future.add_done_callback(_dispose_all(sent))
            return call

        rpc.__name__ = name
        return rpc  # not kept on the stub: the pair would be a reference cycle per stub


class FetchCall(WorldCall):
    """A `stub.fetch()` in flight. Its outcome reaches the caller a turn of the loop after the
    handler's, and a redirect is followed unless the call said `redirect="manual"`.

    workerd hands a stub fetch's response (or error) to the caller a step later than an RPC
    call's result, whether or not it follows redirects (conformance `call_reply_order`,
    `call_error_order`): here each hop's event gives its outcome to `arrived`, which settles
    the call's future on the loop's next turn, in the world's own context. A redirect is
    followed there (workerd follows one from an object as fetch() does: a new request to where
    it points, and the final response says `redirected`); the next hop's event settles the same
    future, so the caller waits on one future however many hops there are.
    """

    __slots__ = ("_stub", "_request", "_follow", "_hops")

    def __init__(self, stub: DurableObjectStub, request, label: str):
        # WorldCall's fields set here too (one call less per fetch)
        self._world = world = stub._namespace.world
        self._future = world.loop.create_future()  # every hop's event settles this one
        self._label = label
        self._on_error = stub._note_error
        self._stub = stub
        self._request = request  # the request of the hop in flight
        self._follow = request._redirect == "follow"
        self._hops = 0

    def _send(self, request, label: str) -> None:
        """Send one hop: its event's reply is the call's future."""
        request._redirect = "manual"  # what a fetch handler sees: the mode of a received request
        stub = self._stub
        if stub._broken is not None:  # a reset broke the stub: the hop fails as a call would
            self.arrived(None, stub._broken)
            return
        event = stub._host.submit("fetch", "fetch", (request,), label, trace_kind="fetch:call", reply=self._future)
        event.fetch_reply = self  # (the event is delivered on the loop's next turn: in time)

    def arrived(self, response, error: BaseException | None) -> None:
        """A hop's outcome (`Event.succeed` or `Event.fail`): the caller gets it next turn."""
        world = self._world
        world.loop.call_soon(self._hand_over, response, error, context=world._root_context)

    def _hand_over(self, response, error: BaseException | None) -> None:
        reply = self._future
        if reply.done():
            return  # the caller cancelled the call: no further hop
        if error is not None:
            reply.set_exception(error)
            return
        if self._follow and response._status in REDIRECT_STATUSES and self._hops < MAX_REDIRECTS and (
                location := response._headers.get("location")) is not None:
            target = redirect_request(self._request, response._status, location)
            self._request = target
            self._hops += 1
            self._send(target, f"{self._stub._namespace.binding}.fetch({target.method} {target.url})")
            return
        if self._hops:
            response._redirected = True
            response._url = self._request._url
        reply.set_result(response)


def _dispose_all(functions):
    """A done-callback that disposes the function stubs a call sent (workerd disposes the stubs
    among a call's arguments when the call completes)."""

    def dispose(_future) -> None:
        for function in functions:
            function._disposed = True

    return dispose


def rpc_externalize(world, instance, value, sent=None):
    """What RPC passes besides data (`codec.HostObjects`), as workerd passes it: a stub stays a
    stub to the same object; a Python function becomes a function the receiver can call, which
    runs where it was made (`RpcFunction`); a Durable Object ID cannot be sent; anything else is
    not cloneable (None). `instance` is the object whose code made the value (None: the one
    whose code is running now, if any); the functions made are added to `sent`, if given."""
    if isinstance(value, (DurableObjectStub, RpcFunction)):
        return value
    if isinstance(value, DurableObjectId):
        raise DataCloneError('Could not serialize object of type "DurableObjectId". This type does not '
                             "support serialization.")
    if callable(value) and not isinstance(value, type):
        if instance is None:
            scope = current_scope.get()
            instance = scope.instance if scope is not None else None
        function = RpcFunction(world, value, instance)  # the SDK's create_proxy(fn), sent as a stub
        if sent is not None:
            sent.append(function)
        return function
    return None


def rpc_externalizer(world, instance=None):
    """`rpc_externalize` for values made by `instance`, as `codec.clone` takes it."""
    return functools.partial(rpc_externalize, world, instance)


class RpcFunction:
    """A Python function sent over RPC (an argument or a result), as the receiver holds it.

    On the platform the SDK wraps the function in a JS proxy, and RPC sends it as a stub:
    calling it sends a call back to where the function was made, and returns a promise. Here a
    call is an event of the object whose code made the function (so it waits its turn at that
    object's input gate), or, for a function a Worker made, a task of the world. Arguments and
    the result are copied as RPC copies them.
    """

    __slots__ = ("_world", "_function", "_instance", "_disposed")

    def __init__(self, world, function, instance):
        self._world = world
        self._function = function
        self._instance = instance  # the object instance whose code made it, or None (a Worker)
        self._disposed = False  # an argument's stub is disposed when its call completes

    def __repr__(self) -> str:
        return f"<RPC stub of {getattr(self._function, '__qualname__', self._function)!r}>"

    def __call__(self, *args, **kwargs) -> WorldCall:
        __tracebackhide__ = True  # noqa: F841
        if kwargs:
            args = (*args, kwargs)  # keyword arguments are one trailing options object
        world = self._world
        name = getattr(self._function, "__name__", "function")
        label = f"{name}() over RPC"
        try:
            copied = _codec.rpc_copy_arguments(args, rpc_externalizer(world))
        except Exception as error:  # noqa: BLE001 - DataCloneError: the caller's line is the place
            raise _tracebacks.prune(error)
        instance = self._instance
        if self._disposed:
            reply = world.loop.create_future()
            reply.set_exception(JsError("RPC stub used after being disposed."))
            return WorldCall(world, reply, label)
        if instance is None:
            reply = world.loop.create_future()
            world.loop.create_task(self._run_in_worker(copied, reply), context=world._root_context)
            return WorldCall(world, reply, label)
        host = instance.host
        if host.instance is not instance or not instance.alive:
            reply = world.loop.create_future()
            reply.set_exception(JsError("RPC stub used after being disposed."))
            return WorldCall(world, reply, label)
        event = host.submit("rpc", None, (self._function, copied), label, trace_kind="rpc:call")
        return WorldCall(world, event.reply, label)

    async def _run_in_worker(self, args, reply) -> None:
        try:
            result = self._function(*args)
            if hasattr(result, "__await__"):
                result = await result
            result = _codec.rpc_copy(result, rpc_externalizer(self._world))
        except BaseException as error:  # noqa: BLE001 - the caller gets it
            if not reply.done():
                reply.set_exception(error)
            return
        if not reply.done():
            reply.set_result(result)


def _stub_options(options, method: str) -> None:
    """WebIDL's check of the options dictionary (`locationHint`, ...): None, a dict or a list
    passes; a number, string or boolean is a TypeError."""
    if options is None or isinstance(options, (dict, list)):
        return
    raise TypeError(f"Failed to execute '{method}' on 'DurableObjectNamespace': parameter 2 is not of type "
                    "'GetDurableObjectOptions'.")


_fetchable_urls: dict[str, str] = {}  # a URL string given to stub.fetch -> the URL its request carries
_FETCHABLE_URLS_MAX = 1024


def _fetchable_url(url: str) -> str:
    """The URL the request of `stub.fetch(url)` carries (the string checked as fetch checks it:
    JsException TypeError if it is not an absolute URL); remembered for the next call."""
    try:
        carried = hop_url_of(url)
        _require_absolute_url(carried)
    except TypeError as error:  # stub.fetch is JavaScript's: its TypeError reaches Python as JsException
        raise JsException("TypeError", str(error)) from None
    if len(_fetchable_urls) < _FETCHABLE_URLS_MAX:
        _fetchable_urls[url] = carried
    return carried


@functools.lru_cache(maxsize=1024)  # a pure check of the same few URLs: every general stub.fetch makes it
def _require_absolute_url(url: str) -> None:
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme or not rest or rest.startswith("/"):
        raise TypeError(f"Fetch API cannot load: {url}")


@js_api
class DurableObjectNamespace:
    """`env.BINDING`: makes IDs and stubs for one Durable Object class."""

    def __init__(self, world, binding: str, cls, unique_key: str, ids):
        self.world = world
        self.binding = binding
        self.cls = cls
        self.unique_key = unique_key
        self._ids = ids
        self.env = world.env
        self._call_labels: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<DurableObjectNamespace {self.binding} ({self.cls.__name__})>"

    def call_label(self, method: str) -> str:
        """How the trace names an RPC call of `method` ("COUNTER.increment()"): one string per
        method, shared by every call's trace events, not a new one per call."""
        label = self._call_labels.get(method)
        if label is None:
            label = f"{self.binding}.{method}()"
            if len(self._call_labels) < 1024:
                self._call_labels[method] = label
        return label

    def idFromName(self, name) -> DurableObjectId:
        """The same name always gives the same ID in this namespace."""
        return self._ids.from_name(name)

    def newUniqueId(self, options=None) -> DurableObjectId:
        """A fresh random ID (seeded by the world: same seed, same IDs)."""
        return self._ids.new_unique(options)

    def idFromString(self, text=_MISSING) -> DurableObjectId:
        """Parse `id.toString()` back; IDs of other namespaces are rejected."""
        if text is _MISSING:
            raise TypeError(
                "Failed to execute 'idFromString' on 'DurableObjectNamespace': parameter 1 is not of type 'string'."
            )
        return self._ids.from_string(text)

    def get(self, id_=_MISSING, options=None) -> DurableObjectStub:
        """A stub for the object with this ID. No I/O: the object is created on the first call."""
        if not isinstance(id_, DurableObjectId):
            raise TypeError(
                "Failed to execute 'get' on 'DurableObjectNamespace': parameter 1 is not of type 'DurableObjectId'."
            )
        _stub_options(options, "get")
        return DurableObjectStub(self, self.world._host_for(self, id_), id_)

    def getByName(self, name, options=None) -> DurableObjectStub:
        """Same as `get(idFromName(name))`."""
        _stub_options(options, "getByName")
        return self.get(self.idFromName(name), options)

    def jurisdiction(self, name: str) -> "DurableObjectNamespace":
        """A jurisdiction-restricted namespace; like workerd, jurisdictions are not implemented."""
        self._ids.new_unique({"jurisdiction": name})
        return self  # pragma: no cover - the line above always raises
