"""WebSockets in the world: pairs, the standard API, and the Hibernation API (semantics §7).

A `WebSocketPair` is two connected `WebSocket` ends. The object keeps the *server* end and
returns the *client* end in a 101 response; whoever holds the client end (a test client, or a
real browser through `dojo serve`) talks to the object through it.

The two ways an object can accept its end differ in the way that matters most on the platform:

* `server.accept()` (the standard API): messages reach `addEventListener` callbacks of *this
  instance*. The socket pins the instance in memory: it is never evicted or hibernated while the
  socket is open, and it is billed all that time.
* `ctx.acceptWebSocket(server, tags)` (the Hibernation API): messages reach the class's
  `webSocketMessage` / `webSocketClose` / `webSocketError` handlers. The socket belongs to the
  *object*, not the instance: after 10 s with nothing else to do the object hibernates (memory
  dropped, constructor runs again on the next message) and the socket, its tags and its
  attachment stay connected.

Every message crosses as an event of the receiving object, through its input gate, so a handler
never interleaves with another except at an await.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping

from . import codec as _codec
from . import gates as _gates
from .errors import JsError, JsException, RangeError
from .ffi import js_api
from .http import Blob
from .kvstore import js_int, js_uint32
from .trace import Kind
from .values import js_argument_string, js_string

CONNECTING, OPEN, CLOSING, CLOSED = 0, 1, 2, 3
MAX_TAGS = 10
MAX_TAG_LENGTH = 256  # UTF-8 bytes
MAX_CLOSE_REASON_BYTES = 123  # a Close frame's body is at most 125 bytes, 2 of them the code
CLOSE_REASON_TOO_LONG = "WebSocket close reason must not be longer than 123 bytes when UTF-8 encoded."
_RESERVED_CLOSE_CODES = frozenset((1004, 1005, 1006, 1015))
MAX_ATTACHMENT = 16 * 1024
MAX_AUTO_RESPONSE = 2048
MAX_EVENT_TIMEOUT_MS = 604_800_000
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
RESET_MESSAGE = "Durable Object connection closed because the object was reset."
DISCONNECTED_REASON = "WebSocket disconnected without sending Close frame."
CONNECT_FAILED_REASON = "Failed to establish websocket connection"
SEND_BEFORE_ACCEPT = ("You must call one of accept() or state.acceptWebSocket() on this WebSocket before "
                      "sending messages.")


class Event:
    """What an `open` or `error` listener receives."""

    __slots__ = ("type", "message")

    def __init__(self, type_: str, message: str = ""):
        self.type = type_
        self.message = message


class MessageEvent:
    """What a standard-API `message` listener receives."""

    __slots__ = ("data", "type")

    def __init__(self, data):
        self.type = "message"
        self.data = data


class CloseEvent:
    """What a standard-API `close` listener receives."""

    __slots__ = ("code", "reason", "wasClean", "type")

    def __init__(self, code: int, reason: str, was_clean: bool):
        self.type = "close"
        self.code = code
        self.reason = reason
        self.wasClean = was_clean


@js_api
class WebSocket:
    """One end of a WebSocket pair, with the JS API (`send`, `close`, `accept`, `readyState`...)."""

    CONNECTING, OPEN, CLOSING, CLOSED = CONNECTING, OPEN, CLOSING, CLOSED

    def __init__(self, world, role: str):
        self._world = world
        self.role = role  # "client" or "server"
        self.peer: WebSocket | None = None
        self._state = OPEN
        self._accepted: str | None = None  # None, "standard" or "hibernatable"
        self._coupled = False  # used in a Response
        self._listeners: dict[str, list] = {}
        self._owner = None  # the Instance (standard) or ObjectHost (hibernatable) it belongs to
        self._tags: list[str] = []
        self._attachment: bytes | None = None
        self._auto_response_at: int | None = None
        self._close_sent = False
        self._close_received = False
        self._early: list = []  # messages that arrived before accept()
        # what a standard-API `message` event carries for a binary message: from 2026-03-17
        # (websocket_standard_binary_type) a Blob, as the WHATWG standard says; before, bytes
        self._binary_type = "blob" if world.compat.websocket_standard_binary_type else "arraybuffer"
        self.on_receive = None  # for client ends: the test client or the server bridge
        self._url = None  # set for a socket made by `new WebSocket(url)` (`connect()`)
        self._protocol = ""
        self._close_when_open = None  # close(code, reason) called while CONNECTING
        self._state_at_close_event = None  # a hibernatable socket's state once webSocketClose runs

    @property
    def url(self):
        """The URL a socket made by `new WebSocket(url)` connects to; None for a pair's end."""
        return self._url

    @property
    def protocol(self) -> str:
        """The subprotocol the server chose ("" if none)."""
        return self._protocol

    @property
    def extensions(self) -> str:
        return ""

    @property
    def binaryType(self) -> str:  # noqa: N802 - the JS name
        """"blob" or "arraybuffer": how `message` listeners receive binary messages
        (webSocketMessage always receives bytes)."""
        return self._binary_type

    @binaryType.setter
    def binaryType(self, value) -> None:  # noqa: N802
        value = js_string(value)
        if value in ("blob", "arraybuffer"):  # WebIDL: another value is ignored
            self._binary_type = value

    def _event_data(self, message):
        """A received message as a standard-API listener gets it."""
        if isinstance(message, bytes) and self._binary_type == "blob":
            return Blob([message])
        return message

    @property
    def readyState(self) -> int:  # noqa: N802 - the JS name
        return self._state

    @readyState.setter
    def readyState(self, state: int) -> None:  # noqa: N802
        self._state = state
        if state == CLOSED and self._accepted == "hibernatable":
            sockets = self._owner.sockets  # a closed socket leaves its object's list: no leak
            if self in sockets:
                sockets.remove(self)

    def __repr__(self) -> str:
        state = ("CONNECTING", "OPEN", "CLOSING", "CLOSED")[self.readyState]
        return f"<WebSocket {self.role} {state}>"

    # ----- the standard API -----

    def accept(self) -> None:
        """Accept the server end with the standard API (pins the object in memory)."""
        if self._accepted == "hibernatable":
            raise TypeError("Can't accept() WebSocket after enabling hibernation.")
        if self._accepted:
            return  # workerd: a second accept() does nothing
        from .loop import current_scope

        scope = current_scope.get()
        self._accepted = "standard"
        if scope is not None:
            self._owner = scope.instance
            scope.instance.standard_sockets.add(self)
        early, self._early = self._early, []
        for kind, args in early:
            if kind == "message":
                args = (MessageEvent(self._event_data(args[0].data)),)
            self._dispatch_standard(kind, args)

    def addEventListener(self, kind: str, handler) -> None:
        self._listeners.setdefault(kind, []).append(handler)

    def send(self, message) -> None:
        """Send a str or bytes message to the other end."""
        if self.role == "server" and not self._accepted or self._state == CONNECTING:
            raise TypeError(SEND_BEFORE_ACCEPT)
        if self._close_sent or self.readyState == CLOSED:
            raise TypeError("Can't call WebSocket send() after close().")
        if isinstance(message, (bytearray, memoryview)):
            message = bytes(message)
        if not isinstance(message, (str, bytes)):
            # jsg turns anything else into its string, as String() does: 5 sends "5"
            message = "[object Object]" if isinstance(message, Mapping) else js_string(message)
        _gates.leave_caller()  # the output gate holds socket sends too
        self._world.trace.record(Kind.WS_SEND, self._owner_host(), detail=_preview(message))
        self._world.loop.call_soon(self.peer._received, message, context=self._world._root_context)

    def close(self, code: int | None = None, reason: str = "") -> None:
        """Start (or answer) the close handshake. A second call is a no-op, but the code and
        reason are checked first, as workerd does (the WHATWG order)."""
        if code is not None:
            code = js_int(code)  # jsg's `int`: close("x") is close(0)
        if reason is None:
            reason = ""
        elif not isinstance(reason, str):
            reason = js_string(reason)
        # workerd (without the pedantic WPT flag) takes 1000-4999 except the four codes RFC 6455
        # keeps out of Close frames; both errors are DOMExceptions
        if code is not None and not (1000 <= code < 5000 and code not in _RESERVED_CLOSE_CODES):
            raise JsException("InvalidAccessError", f"Invalid WebSocket close code: {code}.")
        if len(reason.encode("utf-8", "surrogatepass")) > MAX_CLOSE_REASON_BYTES:
            raise JsException("SyntaxError", CLOSE_REASON_TOO_LONG)
        if self._close_sent or self.readyState == CLOSED:
            return
        if self._state == CONNECTING:  # sent once the connection is open
            self._close_when_open = (1005 if code is None else code, reason)
            return
        self._send_close(1005 if code is None else code, reason)

    def attach(self, callback) -> None:
        """Give a client end its receiver (a test client, a server bridge) and hand it what
        arrived before: the object may send from fetch(), before anyone listens."""
        self.on_receive = callback
        early, self._early = self._early, []
        for kind, args in early:
            if kind == "message":
                callback("message", args[0].data)
            else:
                self._close_frame(*args)

    def _send_close(self, code: int, reason: str) -> None:
        """Send a close frame with any wire code (1001 going away, 1012...): the runtime's own
        replies and bridges use it; user code goes through close() and its JS checks."""
        if self._close_sent or self.readyState == CLOSED:
            return
        self._close_sent = True
        self.readyState = CLOSED if self._close_received else CLOSING
        if self.readyState == CLOSED:
            self._finished()
        self._world.trace.record(Kind.WS_CLOSE, self._owner_host(), detail=f"{self.role} sent {code}")
        self._world.loop.call_soon(self.peer._close_frame, code, reason, context=self._world._root_context)

    # ----- attachments (Hibernation API) -----

    def to_py(self, *, depth: int = -1, default_converter=None) -> "WebSocket":
        """Itself: Pyodide's `to_py` converts only arrays, Maps, Sets and plain objects."""
        return self

    def serializeAttachment(self, value) -> None:
        """Keep a structured-clone copy of `value` with the socket (survives hibernation)."""
        data = _codec.serialize(value)
        if len(data) > MAX_ATTACHMENT:
            raise JsError(
                f"A WebSocket 'attachment' cannot be larger than {MAX_ATTACHMENT} bytes."
                f"'attachment' was {len(data)} bytes."
            )
        self._attachment = data

    def deserializeAttachment(self):
        """A copy of the last attachment, or None."""
        return None if self._attachment is None else _codec.deserialize(self._attachment)

    # ----- delivery -----

    def _owner_host(self):
        owner = self._owner
        return getattr(owner, "host", owner)

    def _received(self, message) -> None:
        """A message arrived at this end from its peer."""
        if self.readyState == CLOSED or self._close_received:
            return
        size = len(message.encode() if isinstance(message, str) else message)
        if size > MAX_MESSAGE_BYTES and self.role == "server":
            # The runtime refuses it and drops the connection: both ends see 1009.
            self._disconnect(1009, "Message is too big.")
            self.peer._disconnect(1009, "Message is too big.")
            return
        if self.on_receive is not None:
            self.on_receive("message", message)
        elif self._accepted == "hibernatable":
            host = self._owner
            pair = host.auto_response
            if pair is not None and isinstance(message, str) and message == pair.request:
                self._auto_response_at = self._world.now()
                self._world.trace.record(Kind.WS_AUTO_RESPONSE, host, detail=_preview(message))
                self.send(pair.response)
                return
            host.websocket_event("webSocketMessage", (self, message))
        elif self._accepted == "standard":
            self._dispatch_standard("message", (MessageEvent(self._event_data(message)),))
        else:
            self._early.append(("message", (MessageEvent(message),)))

    def _close_frame(self, code: int, reason: str) -> None:
        """The peer sent a close frame."""
        if self._close_received or self.readyState == CLOSED:
            return
        if self.role == "client" and self.on_receive is None and not self._accepted:
            self._early.append(("close", (code, reason)))  # nobody listens yet: attach() replays it
            return
        self._close_received = True
        if self.on_receive is not None:
            if not self._close_sent:
                self._send_close(code, reason)  # a client answers at once
            self.readyState = CLOSED
            self._finished()
            self.on_receive("close", (code, reason, True))
            return
        # From 2026-04-07 the runtime answers a Close frame itself, for sockets of the standard
        # API only: a hibernatable socket is CLOSING in webSocketClose at every date and its
        # handler must close back (measured on workerd; cloudflare/partykit#393)
        auto_reply = self._accepted != "hibernatable" and self._world.compat.web_socket_auto_reply_to_close
        if auto_reply and not self._close_sent:
            self._send_close(code, reason)
        state = CLOSED if self._close_sent else CLOSING
        if self._accepted == "hibernatable":
            # frames are handled in order: the socket is OPEN for the messages queued before
            # the close, and CLOSING once webSocketClose starts (close_event_started)
            self._state_at_close_event = state
        else:
            self.readyState = state
            if state == CLOSED:
                self._finished()
        self._deliver_close(code, reason, True, require_reply=not auto_reply)

    def close_event_started(self) -> None:
        """webSocketClose is about to run: the close frame that caused it now shows."""
        state, self._state_at_close_event = self._state_at_close_event, None
        if state is not None and self.readyState != CLOSED:
            self.readyState = state

    def _deliver_close(self, code: int, reason: str, clean: bool, *, require_reply: bool) -> None:
        if self._accepted == "hibernatable":
            host = self._owner
            reply = host.websocket_event("webSocketClose", (self, code, reason, clean))
            if require_reply and reply is not None:
                reply.add_done_callback(lambda _: self._abandon_if_unanswered(), context=self._world._root_context)
        elif self._accepted == "standard":
            self._dispatch_standard("close", (CloseEvent(code, reason, clean),))
            if require_reply:
                self._world.loop.call_soon(self._abandon_if_unanswered, context=self._world._root_context)

    def _abandon_if_unanswered(self) -> None:
        """The handler did not close back: the client is left to see an abnormal closure."""
        if not self._close_sent and self.readyState != CLOSED:
            self.readyState = CLOSED
            self._finished()
            self._world.trace.record(Kind.WS_UNANSWERED_CLOSE, self._owner_host())
            peer = self.peer
            if peer.on_receive is not None and peer.readyState != CLOSED:
                peer.readyState = CLOSED
                peer.on_receive("close", (1006, "", False))

    def _cut(self, reason: str = DISCONNECTED_REASON) -> None:
        """This end goes away without a close frame (a dropped client, a reset, an eviction): it is
        closed now, and its peer sees 1006 with `reason` on the loop's next turn."""
        self.readyState = CLOSED
        peer = self.peer
        if peer is not None:
            peer._world.loop.call_soon(peer._disconnect, 1006, reason, context=peer._world._root_context)

    def _disconnect(self, code: int, reason: str) -> None:
        """The connection is gone without a close handshake (from this end's point of view)."""
        if self.readyState == CLOSED:
            return
        self.readyState = CLOSED
        self._finished()
        if self.on_receive is not None:
            self.on_receive("close", (code, reason, False))
        else:
            self._deliver_close(code, reason, False, require_reply=False)

    def _finished(self) -> None:
        owner = self._owner
        if self._accepted == "standard" and owner is not None:
            owner.standard_sockets.discard(self)
            owner.maybe_idle()

    def _dispatch_standard(self, kind: str, args) -> None:
        instance = self._owner
        if instance is None:  # accepted by Worker code (the end a Worker got from stub.fetch)
            for handler in list(self._listeners.get(kind, ())):
                self._world.loop.call_soon(_call_listener, handler, args, context=self._world._root_context)
            return
        if not instance.alive:
            return
        for handler in list(self._listeners.get(kind, ())):
            instance.host.call_in_object(instance, handler, args, f"ws {kind} listener")


def _call_listener(handler, args) -> None:
    """A listener of a socket held by Worker code: a coroutine listener runs as a task."""
    result = handler(*args)
    if inspect.isawaitable(result):
        asyncio.ensure_future(result)


# ----- `new WebSocket(url)`: a client socket the code opens itself (js.WebSocket) -----


def _constructor_error(text: str) -> JsException:
    return JsException("SyntaxError", f"WebSocket Constructor: {text}")


def client_socket(world, url, protocols=None) -> WebSocket:
    """A socket in the CONNECTING state, checked as workerd checks `new WebSocket(url,
    protocols)` (its messages word for word); `connected()` or `connect_failed()` ends the
    handshake. Accepted with the standard API by the code that made it (it pins an object)."""
    from .http import _TOKEN_CHARS, _parse_url

    url = js_string(url)
    try:
        parsed = _parse_url(url, "invalid")
    except TypeError:
        raise _constructor_error("The url is invalid.") from None
    if parsed.partition(":")[0] not in ("ws", "wss"):
        raise _constructor_error("The url scheme must be ws or wss.")
    if "#" in parsed:
        raise _constructor_error("The url fragment must be empty.")
    if protocols is None:
        protocols = []
    elif isinstance(protocols, str):
        protocols = [protocols]
    else:
        protocols = [js_string(p) for p in protocols]
    for i, protocol in enumerate(protocols):
        if not protocol or any(c not in _TOKEN_CHARS for c in protocol):
            raise _constructor_error("The protocol header token is invalid.")
        if protocol in protocols[:i]:
            raise _constructor_error("The protocols header cannot have repeating values.")
    end = WebSocket(world, "client")
    end._state = CONNECTING
    end._url = parsed
    end.accept()
    return end, protocols


def connected(end: WebSocket, theirs: WebSocket, protocol: str) -> None:
    """The upgrade succeeded: `end` takes the place of `theirs` (the client end of the server's
    pair) and is OPEN; what the server already sent is delivered after `open`."""
    server = theirs.peer
    end.peer, server.peer = server, end
    theirs._coupled = True
    end._protocol = protocol
    end._state = OPEN
    end._dispatch_standard("open", (Event("open"),))
    early, theirs._early = theirs._early, []
    for kind, args in early:
        if kind == "message":
            end._received(args[0].data)
        else:
            end._close_frame(*args)
    if end._close_when_open is not None:
        end._send_close(*end._close_when_open)


def connect_failed(end: WebSocket, message: str) -> None:
    """The upgrade failed (no 101 answer): `error`, then `close` with 1006, as workerd does."""
    end._state = CLOSED
    end._finished()
    end._dispatch_standard("error", (Event("error", message),))
    end._dispatch_standard("close", (CloseEvent(1006, CONNECT_FAILED_REASON, False),))


class WebSocketPairResult(tuple):
    """What `WebSocketPair.new()` returns: unpacks as `client, server`; `.object_values()` too."""

    def object_values(self):
        return tuple(self)


def new_pair(world) -> WebSocketPairResult:
    client = WebSocket(world, "client")
    server = WebSocket(world, "server")
    client.peer, server.peer = server, client
    return WebSocketPairResult((client, server))


class WebSocketRequestResponsePair:
    """An auto-response: a socket answers `request` with `response` without waking the object."""

    def __init__(self, request: str, response: str):
        self.request = request
        self.response = response

    @classmethod
    def new(cls, request: str, response: str) -> "WebSocketRequestResponsePair":
        return cls(request, response)

    def __repr__(self) -> str:
        return f"WebSocketRequestResponsePair({self.request!r}, {self.response!r})"


# ----- ctx methods (called by DurableObjectState) -----


def _not_of_type(method: str, position: int, type_name: str) -> TypeError:
    """jsg's TypeError for an argument of the wrong type."""
    return TypeError(f"Failed to execute '{method}' on 'DurableObjectState': "
                     f"parameter {position} is not of type '{type_name}'.")


def accept_websocket(instance, ws: WebSocket, tags=None) -> None:
    if not isinstance(ws, WebSocket):
        raise _not_of_type("acceptWebSocket", 1, "WebSocket")
    if tags is not None:
        if isinstance(tags, (str, bytes)) or not isinstance(tags, (list, tuple)):
            raise _not_of_type("acceptWebSocket", 2, "Array")
        tags = [js_string(tag) for tag in tags]  # jsg turns each tag into a string, as String() does
    if ws._accepted:
        raise JsError("Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`")
    if ws.peer._coupled or ws.peer._accepted:
        raise JsError(
            "Cannot call `acceptWebSocket()` on this WebSocket because its pair has already been "
            "accepted or used in a Response."
        )
    distinct: list[str] = []
    for tag in tags or ():
        if len(distinct) >= MAX_TAGS:
            raise JsError(f"a Hibernatable WebSocket cannot have more than {MAX_TAGS} tags")
        if len(tag.encode("utf-8", "surrogatepass")) > MAX_TAG_LENGTH:  # bytes, whatever the message says
            raise JsError(f'"{tag}" is longer than the max tag length ({MAX_TAG_LENGTH} characters).')
        if tag not in distinct:
            distinct.append(tag)
    host = instance.host
    ws._accepted = "hibernatable"
    ws._owner = host
    ws._tags = distinct
    host.sockets.append(ws)
    instance.world.trace.record(Kind.WS_ACCEPT, host, detail=",".join(distinct) or None)
    early, ws._early = ws._early, []
    for kind, args in early:
        ws._received(args[0].data)


def get_websockets(instance, tag=None) -> list[WebSocket]:
    host = instance.host
    if tag is None:  # workerd lists all of an object's sockets newest first
        return [ws for ws in reversed(host.sockets) if ws.readyState != CLOSED]
    tag = js_argument_string(tag)  # getWebSockets(tag="t") passes {tag: "t"}: "[object Object]"
    return [ws for ws in host.sockets if ws.readyState != CLOSED and tag in ws._tags]


def get_tags(ws: WebSocket) -> list[str]:
    if not isinstance(ws, WebSocket):
        raise _not_of_type("getTags", 1, "WebSocket")
    if not ws._accepted:
        raise JsError("you must call 'acceptWebSocket()' before attempting to access the tags of a WebSocket.")
    if ws._accepted != "hibernatable":
        raise JsError("only hibernatable websockets can have tags.")
    return list(ws._tags)


def auto_response_timestamp(ws):
    """The virtual ms of `ws`'s last auto-response, or None."""
    if not isinstance(ws, WebSocket):
        raise _not_of_type("getWebSocketAutoResponseTimestamp", 1, "WebSocket")
    return ws._auto_response_at


def set_auto_response(instance, pair: WebSocketRequestResponsePair | None = None) -> None:
    if pair is not None and not isinstance(pair, WebSocketRequestResponsePair):
        raise _not_of_type("setWebSocketAutoResponse", 1, "WebSocketRequestResponsePair")
    if pair is not None:
        for what, text in (("Request", pair.request), ("Response", pair.response)):
            size = len(text.encode())
            if size > MAX_AUTO_RESPONSE:
                raise RangeError(
                    f"{what} cannot be larger than {MAX_AUTO_RESPONSE} bytes. "
                    f"A {what.lower()} of size {size} was provided."
                )
    instance.host.auto_response = pair


def set_event_timeout(instance, ms=None) -> None:
    if ms is not None:
        ms = js_uint32(ms)  # jsg's `uint32_t`: "5" is 5
    if ms is None or ms == 0:
        instance.host.ws_event_timeout = None
        return
    if ms > MAX_EVENT_TIMEOUT_MS:
        raise JsError(f"Event timeout should not exceed {MAX_EVENT_TIMEOUT_MS} ms.")
    instance.host.ws_event_timeout = ms


def disconnect_all(host, reason: str = RESET_MESSAGE) -> None:
    """The object was reset: every socket it has, hibernated ones included, is cut."""
    for ws in list(host.sockets):
        if ws.readyState != CLOSED:
            ws._cut(reason)
    host.sockets = [ws for ws in host.sockets if ws.readyState != CLOSED]


def _preview(message) -> str:
    text = message if isinstance(message, str) else f"<{len(message)} bytes>"
    return text if len(text) <= 40 else text[:37] + "..."

