"""`dojo serve`: a Worker and its Durable Objects behind real HTTP and real WebSockets.

Like `wrangler dev`, on the wall clock. The ASGI server is uvicorn and the WebSocket protocol is
the `websockets` library (through uvicorn's sans-I/O adapter); this module only translates.

* HTTP: each request becomes a `Request` into the Worker (`Runtime.fetch`) and its `Response`
  goes back. An exception in user code becomes a 500 whose traceback is printed on the console;
  the server keeps serving.
* WebSockets: the upgrade request goes to the Worker like any request. When the answer is a 101
  with a WebSocket, the connection is accepted and *bridged*: frames from the browser are sent
  into the client end of the pair (`end.send`), messages and closes the object sends come back
  out through `end.on_receive`.
* Dev endpoints, for teaching and tests, answered only to loopback clients:
  `POST /__dojo/hibernate` (evict every idle object now: objects whose only ties are
  hibernatable WebSockets hibernate, the sockets stay open) and `GET /__dojo/trace?last=N`
  (the world's trace as text); and, as under `wrangler dev`, `/cdn-cgi/handler/scheduled?cron=...&time=...`
  runs the Worker's `scheduled()` handler as a Cron Trigger would (answer: "ok", or "exception"
  with a 500 and the traceback on the console).

The world runs on its own event loop (`VirtualLoop` in real-time mode), pumped from the server's
loop by `Runtime.run_real_time()`. Callbacks such as `on_receive` run while the world is being
pumped, where the running loop is the world's: they hand items to the server's loop with
`server_loop.call_soon` and never await.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import ipaddress
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from urllib.parse import parse_qs

from .._core.project import run_scheduled
from .._core.websockets import CLOSED

DEV_PREFIX = "/__dojo/"
SCHEDULED_PATH = "/cdn-cgi/handler/scheduled"  # wrangler dev's (Miniflare's) trigger for scheduled()
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade",
                        "proxy-connection", "te", "trailer"})
WS_HANDSHAKE = frozenset({"sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol",
                          "upgrade", "connection", "content-length", "transfer-encoding"})
HANDLERS_WITHOUT_CALLER = ("alarm", "webSocketMessage", "webSocketClose", "webSocketError")
#: The platform's request body limit (100 MB on the Free and Pro plans); larger bodies get 413.
MAX_BODY_BYTES = 100 * 1024 * 1024
#: How long a client may take to send a request's headers, and to send each next piece of its body.
HEADER_TIMEOUT_SECONDS = 10.0
IDLE_TIMEOUT_SECONDS = 30.0
WEBSOCKET_IN_PLAIN_RESPONSE = ('Worker tried to return a WebSocket in a response to a request which did not '
                               'contain the header "Upgrade: websocket".')


# ----- the console -----


def report_error(what: str, exc: BaseException, stream=None) -> None:
    """Print an error of user code with its traceback (and the object's, for remote errors)."""
    stream = stream or sys.stderr
    print(f"\n[dojo] ERROR {what}: {type(exc).__name__}: {exc}", file=stream)
    traceback.print_exception(exc, file=stream)
    stream.flush()


def _with_console_errors(cls: type) -> type:
    """A subclass of the Durable Object class whose handlers that no caller awaits (alarm, the
    WebSocket handlers) print their exceptions on the console before raising them on. Behaviour
    is otherwise unchanged: same name, same methods, same errors."""
    wrappers = {}
    for name in HANDLERS_WITHOUT_CALLER:
        fn = inspect.getattr_static(cls, name, None)
        if not inspect.isfunction(fn):
            continue
        label = f"{cls.__name__}.{name}()"
        if inspect.iscoroutinefunction(fn):
            async def handler(self, *args, _fn=fn, _label=label):
                try:
                    return await _fn(self, *args)
                except Exception as exc:
                    report_error(f"uncaught error in {_label}", exc)
                    raise
        else:
            def handler(self, *args, _fn=fn, _label=label):
                try:
                    return _fn(self, *args)
                except Exception as exc:
                    report_error(f"uncaught error in {_label}", exc)
                    raise
        wrappers[name] = functools.wraps(fn)(handler)
    if not wrappers:
        return cls
    wrappers.update(__module__=cls.__module__, __qualname__=cls.__qualname__, __doc__=cls.__doc__)
    return type(cls.__name__, (cls,), wrappers)


# ----- the world -----


def build_runtime(worker, *, persist_to=None, seed: int | None = None):
    """A real-time Runtime for a loaded Worker (`_wrangler.load_worker`)."""
    from .._core.project import configure_world, runtime_options
    from .._core.runtime import Runtime
    from .._core.wrangler import ConfigError

    config = worker.config
    options = runtime_options(config)  # compatibility date, CPU limit, KV namespaces, storage
    try:
        rt = Runtime(
            durable_objects={binding: _with_console_errors(cls) for binding, cls in worker.durable_objects.items()},
            worker=worker.entrypoint,
            seed=random.SystemRandom().getrandbits(62) if seed is None else seed,
            start_time_ms=int(time.time() * 1000),  # Date.now() is the wall clock here
            real_time=True,
            persist_to=persist_to,
            idle_eviction=(70.0, 140.0),
            hibernation_timeout=10.0,
            **options,
        )
    except ValueError as error:
        raise ConfigError(f"{config.path}: {error}") from None
    return configure_world(rt, config)  # its vars and compatibility flags


def _is_loopback(scope) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return client[0] == "localhost"


def _request_url(scope) -> str:
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    host = None
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope.get("path", "/")
    query = scope.get("query_string", b"")
    return f"{scheme}://{host}{path}" + (f"?{query.decode('latin-1')}" if query else "")


def _request_headers(scope) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope.get("headers", ())]


def _close_reason(reason: str) -> str:
    """A close reason fits in 123 bytes of UTF-8 on the wire."""
    data = (reason or "").encode("utf-8")
    return data[:123].decode("utf-8", "ignore")


class DojoApp:
    """The ASGI application of `dojo serve`. `make_runtime()` builds the world at startup."""

    def __init__(self, make_runtime, *, on_ready=None, stream=None, max_body_bytes: int = MAX_BODY_BYTES,
                 idle_timeout: float = IDLE_TIMEOUT_SECONDS):
        self._make_runtime = make_runtime
        self.max_body_bytes = max_body_bytes
        self.idle_timeout = idle_timeout
        self._on_ready = on_ready
        self._stream = stream
        self.rt = None
        self._driver: asyncio.Task | None = None
        self._stopping = False
        self._restarts: list[float] = []

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    # ----- lifespan: the world starts and stops with the server -----

    async def _lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.rt = self._make_runtime()
                    self._start_driver()
                except Exception as exc:  # noqa: BLE001 - reported, and the server does not start
                    report_error("the Worker could not start", exc, self._stream)
                    await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
                if self._on_ready is not None:
                    self._on_ready()
            elif message["type"] == "lifespan.shutdown":
                await self._stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _start_driver(self) -> None:
        self._driver = asyncio.get_running_loop().create_task(self.rt.run_real_time(), name="dojo world")
        self._driver.add_done_callback(self._driver_ended)

    def _driver_ended(self, task: asyncio.Task) -> None:
        if self._stopping or task.cancelled():
            return
        exc = task.exception()
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < 10.0] + [now]
        if len(self._restarts) > 5:
            report_error("the world's driver keeps failing; the server cannot go on", exc or RuntimeError("stopped"),
                         self._stream)
            signal.raise_signal(signal.SIGTERM)  # uvicorn shuts down gracefully
            return
        if exc is not None:
            report_error("the world's driver stopped (restarting it)", exc, self._stream)
        self._start_driver()

    async def _stop(self) -> None:
        self._stopping = True
        if self._driver is not None:
            self._driver.cancel()
            try:
                await self._driver
            except BaseException:  # noqa: BLE001 - cancelled on purpose
                pass
        if self.rt is not None:
            try:
                self.rt.close()
            except Exception as exc:  # noqa: BLE001 - closing is best effort
                report_error("closing the world", exc, self._stream)

    # ----- HTTP -----

    async def _http(self, scope, receive, send):
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        method = scope["method"]
        if scope["path"].startswith(DEV_PREFIX):
            await self._dev_endpoint(scope, method, send)
            return
        if scope["path"] == SCHEDULED_PATH and _is_loopback(scope):
            await self._scheduled(scope, send)
            return
        try:
            response = await self.rt.fetch(
                _request_url(scope),
                method=method,
                headers=_request_headers(scope),
                body=body if body and method not in ("GET", "HEAD") else None,
            )
            if response.web_socket is not None:
                self._drop_end(response.web_socket)
                raise TypeError(WEBSOCKET_IN_PLAIN_RESPONSE)
            data = await response.bytes()
        except Exception as exc:  # noqa: BLE001 - user code: a 500, and the server goes on
            report_error(f"{method} {scope['path']}", exc, self._stream)
            await self._plain(send, 500, f"Internal Server Error\n\n{type(exc).__name__}: {exc}\n"
                                         "(the traceback is in the dojo serve console)\n")
            return
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response.headers.items()
                   if n not in HOP_BY_HOP]
        headers.append((b"content-length", str(len(data)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def _read_body(self, scope, receive, send) -> bytes | None:
        """The request body, or None once the request was answered (too large: 413; a client that
        stops sending: 408) or the client went away."""
        limit = self.max_body_bytes
        declared = dict(scope.get("headers", ())).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._too_large(send)
            return None
        chunks, size = [], 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.idle_timeout)
            except asyncio.TimeoutError:
                await self._plain(send, 408, f"Request Timeout: no part of the body came for {self.idle_timeout:g} s\n",
                                  close=True)
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(send)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, send) -> None:
        await self._plain(send, 413, f"Payload Too Large: request bodies are limited to {self.max_body_bytes:,} bytes\n",
                          close=True)

    @staticmethod
    async def _plain(send, status: int, text: str, content_type: str = "text/plain; charset=utf-8", close=False):
        data = text.encode("utf-8")
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(data)).encode())]
        if close:  # the rest of the request will not be read: the connection cannot be reused
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def _scheduled(self, scope, send):
        """Run the Worker's scheduled() handler; answer its outcome as Miniflare does."""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        cron = query.get("cron", [""])[-1]
        time_ms = query.get("time", [""])[-1]
        if time_ms and not (time_ms.isascii() and time_ms.isdigit()):
            await self._plain(send, 400, f"time must be milliseconds since the epoch, not {time_ms!r}\n")
            return
        try:
            await run_scheduled(self.rt, cron, int(time_ms) if time_ms else None)
        except Exception as exc:  # noqa: BLE001 - user code: the outcome, and the server goes on
            report_error(f"scheduled({cron!r})", exc, self._stream)
            await self._plain(send, 500, "exception")
            return
        await self._plain(send, 200, "ok")

    # ----- dev endpoints -----

    async def _dev_endpoint(self, scope, method: str, send):
        path = scope["path"]
        if not _is_loopback(scope):
            await self._plain(send, 404, "Not Found\n")
            return
        if path == "/__dojo/hibernate":
            if method != "POST":
                await self._plain(send, 405, "POST /__dojo/hibernate evicts every idle object.\n")
                return
            result = await self.hibernate_idle()
            await self._plain(send, 200, json.dumps(result) + "\n", "application/json")
        elif path == "/__dojo/trace":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            last = query.get("last", ["1000"])[-1]
            if last != "all" and not (last.isascii() and last.isdigit()):
                await self._plain(send, 400, f"last must be a whole number of events or all, not {last!r}\n")
                return
            text = self.rt.trace.format(last=None if last == "all" else int(last))
            await self._plain(send, 200, text + "\n")
        else:
            await self._plain(send, 404, "dev endpoints: POST /__dojo/hibernate, GET /__dojo/trace?last=N\n")

    async def hibernate_idle(self) -> dict:
        """Evict every idle object now, inside the world, as idle timeouts would. Objects whose
        sockets are hibernatable hibernate (the sockets stay open); busy objects, and objects
        pinned in memory by standard-API (`accept()`) sockets, are left alone."""
        rt = self.rt
        done = rt.loop.create_future()

        def evict_idle():
            result = {"hibernated": [], "evicted": [], "busy": [], "pinned": []}
            for host in rt._hosts_in():
                instance = host.instance
                if instance is None or not instance.alive:
                    continue
                label = f"{host.binding}:{host.label}"
                if instance.busy:
                    result["busy"].append(label)
                    continue
                if instance.standard_sockets:  # accept()ed sockets keep an object in memory
                    result["pinned"].append(label)
                    continue
                sockets = any(ws.readyState != CLOSED for ws in host.sockets)
                instance.evict()
                result["hibernated" if sockets else "evicted"].append(label)
            done.set_result(result)

        rt.loop.call_soon(evict_idle, context=rt._root_context)
        return await rt._bridge(done)

    # ----- WebSockets -----

    async def _websocket(self, scope, receive, send):
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        path = scope.get("path", "/")
        try:
            response = await self.rt.fetch(_request_url(scope), method="GET", headers=_request_headers(scope))
            end = response.web_socket
            if end is None or response.status != 101:
                body = await response.bytes()
                await self._refuse(scope, send, response.status, body, response.headers.items())
                return
        except Exception as exc:  # noqa: BLE001 - user code: refused with a 500
            report_error(f"WebSocket {path}", exc, self._stream)
            await self._refuse(scope, send, 500, f"Internal Server Error\n\n{type(exc).__name__}: {exc}\n".encode(),
                               [("content-type", "text/plain; charset=utf-8")])
            return
        bridge = Bridge(self.rt, end, asyncio.get_running_loop())  # attach before any await
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response.headers.items()
                   if n not in WS_HANDSHAKE]
        subprotocol = response.headers.get("sec-websocket-protocol")
        accept = {"type": "websocket.accept", "headers": headers}
        if subprotocol:
            accept["subprotocol"] = subprotocol.split(",")[0].strip()
        await send(accept)
        await bridge.run(receive, send)

    @staticmethod
    async def _refuse(scope, send, status: int, body: bytes, headers):
        """Answer an upgrade request with a plain HTTP response (or a bare refusal)."""
        if "websocket.http.response" in scope.get("extensions", {}):
            await send({"type": "websocket.http.response.start", "status": status,
                        "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers
                                    if n not in HOP_BY_HOP]})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})

    def _drop_end(self, end) -> None:
        """A WebSocket nobody will ever connect to: the object sees it disconnect."""
        end._cut()


class Bridge:
    """One browser WebSocket (ASGI) joined to the client end of a pair in the world."""

    def __init__(self, rt, end, server_loop: asyncio.AbstractEventLoop):
        self.rt = rt
        self.end = end
        self.server_loop = server_loop
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.client_gone = False
        end.attach(self._on_receive)  # replays what the object sent from fetch(), in order
        if end.readyState == CLOSED and self.outbox.empty():
            closed_cleanly = getattr(end, "_close_received", False)
            self.outbox.put_nowait(("close", (1000, "", True) if closed_cleanly else (1006, "", False)))

    def _on_receive(self, kind: str, payload) -> None:
        # Runs while the world is pumped (its loop is the running one): hand over, never await.
        self.server_loop.call_soon(self.outbox.put_nowait, (kind, payload))

    async def run(self, receive, send) -> None:
        sender = asyncio.get_running_loop().create_task(self._send_out(send))
        try:
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.receive":
                    data = message.get("text")
                    if data is None:
                        data = message.get("bytes") or b""
                    try:
                        self.end.send(data)
                    except TypeError:
                        pass  # our end is closed: the close is on its way to the browser
                elif kind == "websocket.disconnect":
                    self._browser_closed(message)
                    break
        finally:
            self.client_gone = True
            if not sender.done():
                sender.cancel()
            try:
                await sender
            except BaseException:  # noqa: BLE001 - cancelled on purpose, or the browser left
                pass

    async def _send_out(self, send) -> None:
        while True:
            kind, payload = await self.outbox.get()
            if self.client_gone:
                return
            try:
                if kind == "message":
                    if isinstance(payload, str):
                        await send({"type": "websocket.send", "text": payload})
                    else:
                        await send({"type": "websocket.send", "bytes": bytes(payload)})
                else:
                    code, reason, clean = payload
                    if not clean or code in (1005, 1006):
                        # A close frame cannot carry 1005/1006: an abnormal end (a reset object,
                        # say) reaches the browser as 1011 with the reason; "no status" as 1000.
                        code = 1011 if not clean else 1000
                    await send({"type": "websocket.close", "code": code, "reason": _close_reason(reason)})
                    return
            except OSError:  # uvicorn's ClientDisconnected: the browser is gone
                return

    def _browser_closed(self, message) -> None:
        """The browser closed (or vanished): tell the object, as the platform would."""
        end = self.end
        if end.readyState == CLOSED:
            return  # the object closed first and our end already answered
        code = message.get("code", 1005)
        reason = message.get("reason") or ""
        # uvicorn's sans-I/O adapter reports a lost TCP connection as 1005 without a "reason"
        # key, and a received close frame always with one; 1006 never comes in a frame.
        if code == 1006 or (code == 1005 and "reason" not in message):
            end._cut()
        elif code == 1005:
            end.close()
        elif code == 1000 or 3000 <= code <= 4999:
            end.close(code, reason)
        else:
            # 1001 (going away), 1012 (server restart)...: valid on the wire but refused by the JS
            # close(), so the frame goes out with the wire-level send.
            end._send_close(code, reason)


# ----- the server -----


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _protocol_with_header_timeout(base, seconds: float):
    """uvicorn's HTTP protocol, with a limit on how long a client may take to send its request
    headers (uvicorn's keep-alive timeout covers a silent client, not a slow one)."""
    import h11

    class HeaderTimeoutProtocol(base):
        _header_timer = None
        _cycle_when_armed = None

        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm_header_timer()

        def on_response_complete(self):
            super().on_response_complete()
            self._arm_header_timer()

        def connection_lost(self, exc):
            if self._header_timer is not None:
                self._header_timer.cancel()
            super().connection_lost(exc)

        def _arm_header_timer(self):
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._cycle_when_armed = self.cycle
            self._header_timer = self.loop.call_later(seconds, self._headers_too_slow)

        def _headers_too_slow(self):
            self._header_timer = None
            transport = self.transport
            if transport.is_closing() or transport.get_protocol() is not self or self.cycle is not self._cycle_when_armed:
                return  # a request came in time, or the connection became a WebSocket
            if self.conn.their_state is h11.SEND_BODY:
                return
            transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            transport.close()

    return HeaderTimeoutProtocol


def serve(worker, *, host: str = "127.0.0.1", port: int = 8787, persist_to=None, log_level: str = "info",
          seed: int | None = None, stream=None, max_body_bytes: int = MAX_BODY_BYTES,
          header_timeout: float = HEADER_TIMEOUT_SECONDS, idle_timeout: float = IDLE_TIMEOUT_SECONDS) -> int:
    """Run `dojo serve` for a loaded Worker until interrupted (SIGINT or SIGTERM)."""
    import uvicorn

    stream = stream or sys.stdout
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host

    def ready():
        print(f"[dojo] Ready on http://{shown_host}:{bound_port}", file=stream, flush=True)

    app = DojoApp(lambda: build_runtime(worker, persist_to=persist_to, seed=seed), on_ready=ready,
                  max_body_bytes=max_body_bytes, idle_timeout=idle_timeout)
    from uvicorn.protocols.http.h11_impl import H11Protocol
    config = uvicorn.Config(
        app,
        lifespan="on",
        ws="websockets-sansio",
        loop="asyncio",
        http=_protocol_with_header_timeout(H11Protocol, header_timeout),
        log_level=log_level,
        timeout_graceful_shutdown=1,
        server_header=False,
    )
    server = _stopping_server_class(uvicorn.Server)(config)
    server.dojo_app = app
    try:
        asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


#: After SIGINT or SIGTERM the process is gone within this many seconds, whatever objects do.
STOP_DEADLINE_SECONDS = 1.5


def _stopping_server_class(base):
    """uvicorn's server, whose SIGINT/SIGTERM also stops the code running in the world.

    uvicorn's own handler only sets a flag that its loop reads between requests; an object in a
    busy loop or a long SQL query never lets it run. So the handler also stops SQL statements
    (the progress handler sees it), interrupts Python code of the world if it is running, and
    arms a last resort that ends the process if the graceful stop has not finished in time
    (committed storage is safe: every commit is a SQLite transaction)."""

    class StoppingServer(base):
        dojo_app = None
        _deadline_armed = False

        def handle_exit(self, sig, frame):
            super().handle_exit(sig, frame)
            from .._core import watchdog

            watchdog.stop_sql()
            if not self._deadline_armed:
                self._deadline_armed = True
                timer = threading.Timer(STOP_DEADLINE_SECONDS, _exit_now)
                timer.daemon = True
                timer.start()
            rt = getattr(self.dojo_app, "rt", None)
            if rt is not None and rt.loop.is_running():  # the signal landed in the world's code
                raise KeyboardInterrupt

    return StoppingServer


def _exit_now() -> None:
    print("[dojo] stopped (an object was still running)", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(1)


# ----- a server in a child process (tests, benchmarks, notebooks) -----


class ServeProcess:
    """`dojo serve` in a child process on a free loopback port; a context manager that always
    stops it.

    ```python
    with ServeProcess("examples/chat") as server:
        urllib.request.urlopen(server.url + "/")
    ```
    The console output goes to `log_path` (a temporary file by default): `server.log()`.
    """

    READY = "[dojo] Ready on http://"

    def __init__(self, folder, *, args=(), host: str = "127.0.0.1", log_path=None, ready_timeout: float = 30.0,
                 env=None):
        self.folder = os.fspath(folder)
        self.args = list(args)
        self.host = host
        if log_path is None:
            handle, log_path = tempfile.mkstemp(prefix="dojo-serve-", suffix=".log")
            os.close(handle)
        self.log_path = os.fspath(log_path)
        self.ready_timeout = ready_timeout
        self.env = env
        self.process = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def start(self) -> "ServeProcess":
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("this dojo serve is already running; stop() it first")
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        command = [sys.executable, "-m", "durable_dojo.cli", "serve", "--host", self.host, "--port", "0", *self.args]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout
        pattern = re.compile(re.escape(self.READY) + r"\S+:(\d+)")
        while time.monotonic() < deadline:
            found = pattern.search(self.log())
            if found:
                self.port = int(found.group(1))
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dojo serve did not start in {self.folder}:\n{self.log()}")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGINT (a graceful stop, like Ctrl-C), then SIGKILL if it has not exited in `timeout` s."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(5)

    def __enter__(self) -> "ServeProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
