"""DO5xx: WebSockets. Connections the platform can keep through hibernation, and closed properly."""

from __future__ import annotations

import ast

from ..model import (
    ClassInfo,
    FunctionNode,
    base_self_field,
    body_nodes,
    const_str,
    is_self_attr,
    names_in,
    resolve_callback,
    socket_names,
)
from .base import DOCS, Rule, rule


@rule
class StandardWebSocketApi(Rule):
    code = "DO501"
    category = "websockets"
    title = "the standard WebSocket API where the Hibernation API fits"
    message = "server.accept() (standard WebSocket API) pins the object in memory: use ctx.acceptWebSocket()"
    explanation = (
        "A socket accepted with `server.accept()` belongs to this instance: while it is open the object can "
        "never hibernate or be evicted, so it is billed for duration the whole time the client is connected, "
        "even when nobody speaks. With the Hibernation API, `ctx.acceptWebSocket(server, tags)`, the runtime "
        "holds the connection: after 10 s without events the object leaves memory, the client stays "
        "connected, and the next message wakes it into `webSocketMessage(ws, message)`. Per-connection data "
        "goes in `ws.serializeAttachment(...)` (16 KiB), and `ctx.getWebSockets(tag)` finds the sockets. "
        "Keep `accept()` for outbound sockets (a WebSocket the object opened itself), which cannot hibernate. "
        "Docs: " + DOCS + "/durable-objects/best-practices/websockets/ and "
        + DOCS + "/durable-objects/examples/websocket-hibernation-server/"
    )

    def check(self, module):
        for cls in module.do_classes:
            for method in cls.methods.values():
                sockets = socket_names(method, cls)
                if not sockets:
                    continue
                for node in body_nodes(method):
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                            and node.func.attr == "accept" and isinstance(node.func.value, ast.Name) \
                            and node.func.value.id in sockets:
                        yield node, None


@rule
class SocketsInMemory(Rule):
    code = "DO502"
    category = "websockets"
    title = "sockets kept in an in-memory set"
    message = "WebSockets kept in an instance field: the field is empty after hibernation or eviction"
    explanation = (
        "The object keeps its connections (or data keyed by them) in a field. Fields do not survive "
        "hibernation, eviction or a reset: after one, the set is empty while clients are still connected "
        "(with the Hibernation API) and broadcasts reach nobody; with the standard API, keeping the sockets "
        "means the object can never leave memory. Let the runtime track them: `ctx.acceptWebSocket(ws, "
        "[tags])`, then `ctx.getWebSockets(tag)` to find them and `ws.serializeAttachment(...)` / "
        "`ws.deserializeAttachment()` for per-connection data. Docs: "
        + DOCS + "/durable-objects/best-practices/websockets/ and "
        + DOCS + "/durable-objects/concepts/durable-object-lifecycle/"
    )

    def check(self, module):
        for cls in module.do_classes:
            for field in sorted(cls.socket_fields):
                yield cls.socket_adds[field], f"self.{field}"


@rule
class BroadcastToClosedSockets(Rule):
    code = "DO503"
    category = "websockets"
    title = "broadcast that does not skip closed sockets"
    message = "broadcast sends to every socket without skipping closed ones: one dead socket stops it"
    explanation = (
        "The loop sends to every socket with no `try`/`except` around `send()` and no `readyState` check. "
        "`send()` on a socket that is closing or closed raises (\"Can't call WebSocket send() after "
        "close()\"), which ends the loop: the remaining clients miss the message and the handler fails. "
        "Sockets kept in a field go stale whenever a client leaves; `ctx.getWebSockets()` leaves out closed "
        "sockets but still returns *closing* ones: those the object closed itself (a kick, a timeout) until "
        "the client answers, and those whose client sent a close that `webSocketClose` has not answered (the "
        "Hibernation API never answers for you). Skip sockets whose `readyState` is not OPEN and wrap each "
        "send in `try`/`except`, so one bad socket costs only its own message. (A `getWebSockets()` broadcast "
        "in an object that never closes sockets itself and answers every close in `webSocketClose` is not "
        "flagged.) Docs: "
        + DOCS + "/durable-objects/best-practices/websockets/ and "
        + DOCS + "/durable-objects/examples/websocket-hibernation-server/"
    )

    def check(self, module):
        for cls in module.do_classes:
            # getWebSockets() returns CLOSING sockets: those the object closed itself until the client
            # answers, and those whose client's close the handler leaves unanswered (the Hibernation
            # API never answers a close for the object, at any compatibility date).
            runtime_list_risky = _closes_sockets_itself(cls) or not _answers_close(cls)
            for method in cls.methods.values():
                parents = module.parents(method)
                for loop in ast.walk(method):
                    if not isinstance(loop, (ast.For, ast.AsyncFor)):
                        continue
                    in_field = any(base_self_field(n) in cls.socket_fields for n in ast.walk(loop.iter)
                                   if isinstance(n, (ast.Attribute, ast.Subscript)))
                    from_runtime = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                                       and n.func.attr == "getWebSockets" for n in ast.walk(loop.iter))
                    if not (in_field or (from_runtime and runtime_list_risky)):
                        continue
                    if any(isinstance(n, ast.Attribute) and n.attr == "readyState" for n in ast.walk(loop)):
                        continue
                    targets = names_in(loop.target)
                    for call in ast.walk(loop):
                        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                                and call.func.attr == "send" and names_in(call.func.value) & targets:
                            guarded = any(isinstance(a, ast.Try) and a.handlers for a in parents.ancestors(call))
                            if not guarded:
                                yield call, None
                                break


def _socket_param(handler) -> str | None:
    """The name `webSocketClose` gives its socket: its first parameter after `self`."""
    params = [a.arg for a in handler.args.args if a.arg != "self"]
    return params[0] if params else None


def _answers_close(cls: ClassInfo) -> bool:
    """`webSocketClose` closes its socket back, so a client's close never leaves it CLOSING."""
    handler = cls.methods.get("webSocketClose")
    socket = _socket_param(handler) if handler is not None else None
    return socket is not None and _closes_param(cls, handler, socket, set())


def _closes_sockets_itself(cls: ClassInfo) -> bool:
    """The object starts closes (outside the close/error handlers, where a close is the answer to the
    client's): those sockets stay CLOSING, and in getWebSockets(), until the client answers."""
    for name, method in cls.methods.items():
        if name in ("webSocketClose", "webSocketError"):
            continue
        sockets = socket_names(method, cls)
        loops = {n for loop in ast.walk(method) if isinstance(loop, (ast.For, ast.AsyncFor))
                 and any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "getWebSockets"
                         for c in ast.walk(loop.iter)) for n in names_in(loop.target)}
        for node in ast.walk(method):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "close" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in sockets | loops:
                return True
    return False


@rule
class NoCloseReciprocation(Rule):
    code = "DO504"
    category = "websockets"
    title = "no close reciprocation"
    message = "close handler does not close the socket back: the client sees 1006 instead of a clean close"
    explanation = (
        "When a client closes, the object receives the close frame (`webSocketClose`, or the `close` "
        "listener of the standard API) and must answer with its own close frame to finish the handshake: "
        "`ws.close(code, reason)` (1005, 1006 and 1015 only report what happened and may not be sent: answer "
        "1000 for those). With the Hibernation API (`webSocketClose`) the runtime never answers for you, "
        "at any compatibility date: the socket stays half-closed and the client ends with an abnormal 1006 "
        "instead of its own code. For the standard API (`server.accept()` and a `close` listener) the "
        "runtime answers by itself from compatibility date 2026-04-07 (the `web_socket_auto_reply_to_close` "
        "flag): the review reads the compatibility date from the nearest `wrangler.toml`/`wrangler.jsonc` "
        "above the file and flags a listener only before that date. Closing back is harmless either way. "
        "Docs: "
        + DOCS + "/durable-objects/best-practices/websockets/ and "
        + DOCS + "/durable-objects/api/base/ (webSocketClose)"
    )

    def check(self, module):
        for cls in module.do_classes:
            handler = cls.methods.get("webSocketClose")
            if handler is not None and _socket_param(handler) is not None and not _answers_close(cls):
                yield handler, None
            if module.auto_close_reply:
                continue  # the standard API's close is answered by the runtime from 2026-04-07
            for method in cls.methods.values():
                local_defs = {n.name: n for n in ast.walk(method) if isinstance(n, FunctionNode) and n is not method}
                for call in ast.walk(method):
                    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                            and call.func.attr == "addEventListener" and len(call.args) >= 2
                            and const_str(call.args[0]) == "close"):
                        continue
                    socket = call.func.value
                    listener = call.args[1]
                    fn = resolve_callback(cls, local_defs, listener)
                    if fn is None:
                        continue
                    closes = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                                 and n.func.attr == "close" for n in ast.walk(fn))
                    if not closes and not any(isinstance(n, ast.Call) and is_self_attr(n.func) for n in ast.walk(fn)):
                        yield call, f"{ast.unparse(socket)}.addEventListener(\"close\")"


def _closes_param(cls: ClassInfo, fn: ast.AST, param: str, seen: set[str]) -> bool:
    """`fn` calls `param.close(...)`, itself or through a helper method it hands `param` to."""
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "close" and isinstance(node.func.value, ast.Name) and node.func.value.id == param:
            return True
        if is_self_attr(node.func) and node.func.attr in cls.methods and node.func.attr not in seen:
            helper = cls.methods[node.func.attr]
            params = [a.arg for a in helper.args.args if a.arg != "self"]
            for index, arg in enumerate(node.args):
                if isinstance(arg, ast.Name) and arg.id == param and index < len(params):
                    if _closes_param(cls, helper, params[index], seen | {node.func.attr}):
                        return True
            for keyword in node.keywords:
                if isinstance(keyword.value, ast.Name) and keyword.value.id == param and keyword.arg in params:
                    if _closes_param(cls, helper, keyword.arg, seen | {node.func.attr}):
                        return True
    return False
