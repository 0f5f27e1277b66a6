"""The platform's CPU limit and the wall-clock guard: code that never yields still ends.

A busy loop or a runaway SQL query used to hold the world (and `dojo serve`) forever: SQLite's C
code never returned to the watchdog. Budgets here are small so that the tests are quick; they
check what happened (the error, the reset, the lost writes), never how long it took.
"""

from __future__ import annotations

import time
import uuid

import pytest

from durable_dojo import Runtime
from durable_dojo._core import watchdog
from durable_dojo._core.errors import HangTimeout
from durable_dojo._core.events import Event
from durable_dojo._core.watchdog import CPU_LIMIT_MESSAGE, CpuLimitExceeded
from durable_dojo._core.wrangler import ConfigError, read_config
from workers import DurableObject

RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"


def burn(seconds: float) -> None:
    """Use `seconds` of this thread's CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class Busy(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.incarnation = uuid.uuid4().hex  # which instance answered

    async def spin(self):
        self.ctx.storage.put("lost", "written before the loop")
        while True:
            pass

    async def runaway(self):
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t(x)")
        self.ctx.storage.sql.exec("INSERT INTO t VALUES (1)")
        return self.ctx.storage.sql.exec(RUNAWAY).one()

    async def swallow(self):
        self.ctx.storage.put("lost", "written before the query")
        try:
            self.ctx.storage.sql.exec(RUNAWAY).one()
        except BaseException as exc:  # noqa: BLE001 - what a careless learner writes
            self.caught = exc
        while True:  # and carries on
            pass

    async def work(self, seconds):
        burn(seconds)
        await self.ctx.storage.put("done", seconds)
        return self.incarnation

    async def state(self):
        rows = self.ctx.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 't'").toArray()
        return {"lost": await self.ctx.storage.get("lost"), "table": len(rows), "incarnation": self.incarnation}


def world(**options) -> Runtime:
    options.setdefault("hang_timeout", 60.0)  # only a safety net here: the CPU limit must act first
    options.setdefault("isolates", 1)  # Busy.constructed counts constructions of every object: one module
    return Runtime(durable_objects={"BUSY": Busy}, **options)


@pytest.mark.parametrize("method", ["spin", "runaway", "swallow"])
def test_code_past_the_cpu_limit_resets_the_object_with_the_platforms_error(method):
    rt = world(cpu_limit_ms=100)
    stub = rt.env.BUSY.getByName("a")
    before = rt.run(stub.state())["incarnation"]
    with pytest.raises(Exception) as caught:
        rt.run(getattr(stub, method)())
    assert caught.value.message == CPU_LIMIT_MESSAGE
    assert caught.value.durableObjectReset is True
    after = rt.run(rt.env.BUSY.getByName("a").state())
    assert after["lost"] is None and after["table"] == 0  # the unconfirmed writes are gone
    assert after["incarnation"] != before  # a new instance: the constructor ran again
    other = rt.env.BUSY.getByName("b")
    assert rt.run(other.work(0))  # the rest of the world goes on
    rt.close()


def test_the_code_that_ran_out_of_cpu_sees_the_python_workers_exception():
    rt = world(cpu_limit_ms=100)
    stub = rt.env.BUSY.getByName("a")

    async def probe(obj, ctx):
        try:
            obj.ctx.storage.sql.exec(RUNAWAY).one()
        except BaseException as exc:  # noqa: BLE001
            return exc

    from durable_dojo.testing import run_in_durable_object

    with pytest.raises(Exception, match="exceeded its CPU time limit"):
        rt.run(run_in_durable_object(stub, probe))
    assert issubclass(CpuLimitExceeded, BaseException) and not issubclass(CpuLimitExceeded, Exception)


def test_each_event_has_its_own_cpu_budget():
    rt = world(cpu_limit_ms=400)
    stub = rt.env.BUSY.getByName("a")
    # Three events of 150 ms each: 450 ms in all, more than one budget, yet none is over its own.
    incarnations = {rt.run(stub.work(0.15)) for _ in range(3)}
    assert len(incarnations) == 1  # one instance served them all: no reset


class _Callback:
    """A metered callback in which `event`'s handler ends (as `_run_event`'s last step does), or not."""

    def __init__(self, event, handler_ends: bool):
        self.event, self.handler_ends = event, handler_ends

    def _run(self):
        if self.handler_ends:
            watchdog.cpu_clock_at_end(self.event)


def test_an_event_is_charged_from_its_callbacks_start_to_its_handlers_end_reading(monkeypatch):
    readings = iter([10.0, 10.5, 20.0, 21.0, 40.0, 42.0])
    monkeypatch.setattr(watchdog, "_cpu_now", lambda: next(readings))
    event = Event("rpc", "m", (), None, 1, "m()")
    watchdog.run_metered(_Callback(event, handler_ends=True), event, None, 30.0)
    assert event.cpu_seconds == 0.5  # 10.0 -> 10.5, the handler's end: no third reading
    watchdog.run_metered(_Callback(event, handler_ends=False), event, None, 30.0)
    assert event.cpu_seconds == 1.5  # + 20.0 -> 21.0: a callback where nothing ended reads the clock itself
    watchdog.run_metered(_Callback(event, handler_ends=False), event, None, 30.0)
    assert event.cpu_seconds == 3.5  # + 40.0 -> 42.0: the earlier end reading is not taken twice


def test_without_a_cpu_limit_nothing_is_metered():
    rt = world(cpu_limit_ms=None)
    assert rt.run(rt.env.BUSY.getByName("a").work(0.05))


def test_a_cpu_limit_signal_arriving_as_the_callback_ends_stays_out_of_the_code_driving_the_loop():
    """On a busy machine the watchdog's signal can reach the main thread just after the metered
    callback returned. It must not escape into whatever drives the loop (under `dojo serve`
    that was uvicorn, which answered a bare 500); the object is still reset."""
    from durable_dojo._core import watchdog

    class Event:
        cpu_seconds = 0.0

    class Instance:
        alive = True
        reset_with = None

        def reset(self, error):
            self.alive, self.reset_with = False, error

    class EndsAsTheSignalArrives:
        def _run(self):
            # what the watchdog thread does once the budget is gone, and the handler's raise
            # landing as this callback returns, outside the code it ran
            watchdog._state.cpu_fired = watchdog._state.cpu_run
            raise CpuLimitExceeded("landed in the frame that runs the callback")

    instance = Instance()
    watchdog.run_metered(EndsAsTheSignalArrives(), Event(), instance, 0.1)  # must not raise
    assert instance.reset_with is not None and CPU_LIMIT_MESSAGE in str(instance.reset_with)
    assert watchdog._state.cpu_fired == 0 and watchdog._state.cpu_deadline is None


def test_the_cpu_limit_is_validated():
    for bad in (0, -1, 300_001, "30000", True):
        with pytest.raises(ValueError, match="CPU limit"):
            Runtime(durable_objects={"BUSY": Busy}, cpu_limit_ms=bad)
    assert Runtime(durable_objects={"BUSY": Busy}).cpu_limit_ms == 30_000  # the platform's default


def test_the_hang_timeout_stops_a_runaway_sql_query():
    rt = world(cpu_limit_ms=None, hang_timeout=1.0)
    with pytest.raises(HangTimeout, match="did not finish within 1 s"):
        rt.run(rt.env.BUSY.getByName("a").runaway())
    assert rt.run(rt.env.BUSY.getByName("a").state())["table"] == 0  # reset: the table was not committed
    rt.close()


def test_wrangler_limits_cpu_ms_is_read_and_checked(tmp_path):
    (tmp_path / "worker.py").write_text("")
    config = tmp_path / "wrangler.toml"
    config.write_text('name = "w"\nmain = "worker.py"\n[limits]\ncpu_ms = 250\n')
    assert read_config(str(config)).cpu_ms == 250
    config.write_text('name = "w"\nmain = "worker.py"\n')
    assert read_config(str(config)).cpu_ms is None
    config.write_text('name = "w"\nmain = "worker.py"\n[limits]\ncpu_ms = 900000\n')
    with pytest.raises(ConfigError, match="limits.cpu_ms"):
        read_config(str(config))


# ----- dojo serve: the CPU limit from the Wrangler config, and stopping whatever runs -----

SERVE_WORKER = '''
from workers import DurableObject, Response, WorkerEntrypoint

RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[-1]
        if path == "runaway":
            return Response(str(await self.env.THINGS.getByName("a").runaway()))
        if path == "spin":
            return Response(str(await self.env.THINGS.getByName("b").spin()))
        return Response("fine")


class Thing(DurableObject):
    def runaway(self):
        return self.ctx.storage.sql.exec(RUNAWAY).one()

    def spin(self):
        while True:
            pass
'''


def serve_app(folder, cpu_ms: int):
    from durable_dojo._serve.server import ServeProcess

    (folder / "worker.py").write_text(SERVE_WORKER)
    (folder / "wrangler.toml").write_text(
        'name = "busy"\nmain = "worker.py"\ncompatibility_date = "2026-11-01"\n'
        f"[limits]\ncpu_ms = {cpu_ms}\n"
        '[[durable_objects.bindings]]\nname = "THINGS"\nclass_name = "Thing"\n'
        '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Thing"]\n'
    )
    return ServeProcess(folder, log_path=folder / "console.log")


def get(server, path: str, timeout: float = 30.0):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_serve_applies_limits_cpu_ms_and_keeps_serving(tmp_path):
    with serve_app(tmp_path, cpu_ms=100) as server:
        for path in ("/runaway", "/spin"):
            status, body = get(server, path)
            # the server's console goes with a failure: it holds the traceback behind any bare 500
            assert status == 500 and CPU_LIMIT_MESSAGE in body, (path, body, server.log()[-4000:])
            assert get(server, "/") == (200, "fine"), server.log()[-4000:]


@pytest.mark.parametrize("path", ["/runaway", "/spin"])
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_serve_stops_on_a_signal_whatever_its_objects_are_doing(tmp_path, sig, path):
    import signal
    import socket
    import subprocess

    server = serve_app(tmp_path, cpu_ms=300_000).start()  # no limit will stop the object
    try:
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.5)  # let the object start its endless work
        assert server.process.poll() is None
        server.process.send_signal(getattr(signal, sig))
        try:
            server.process.wait(8)  # the hang guard of dojo serve (10 s) has not fired
        except subprocess.TimeoutExpired:
            pytest.fail(f"dojo serve ignored {sig} while an object ran {path}")
        conn.close()
        assert "did not finish within" not in server.log()
    finally:
        server.stop()


# ----- dojo serve: slow and large clients, and the development endpoints -----


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits-app")
    server = serve_app(folder, cpu_ms=1000)
    server.args = ["--max-body-mb", "0.01", "--header-timeout", "0.5", "--idle-timeout", "0.5"]
    with server:  # __enter__ starts it (server.start() here would start a second process)
        yield server


def raw_exchange(server, data: bytes, *, then: bytes = b"") -> bytes:
    """Send `data`, wait for the server to answer or hang up (bounded), return what came back."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as conn:
        conn.sendall(data)
        received = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            received += chunk
        return received


def test_serve_refuses_bodies_over_the_cap(small_server):
    big = b"x" * 20_000  # the cap is 0.01 MB = 10,485 bytes
    declared = raw_exchange(small_server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" + big)
    assert declared.startswith(b"HTTP/1.1 413"), declared[:80]
    chunked = b"".join(b"%x\r\n%s\r\n" % (4000, b"y" * 4000) for _ in range(5)) + b"0\r\n\r\n"
    streamed = raw_exchange(small_server, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    assert streamed.startswith(b"HTTP/1.1 413"), streamed[:80]
    assert get(small_server, "/") == (200, "fine")


def test_serve_drops_clients_that_send_headers_or_bodies_too_slowly(small_server):
    # Headers that never end, and a body that never comes: each connection is answered 408 and
    # closed by the server (raw_exchange returns only once the server hangs up).
    assert raw_exchange(small_server, b"GET / HTTP/1.1\r\nHost: x\r\n").startswith(b"HTTP/1.1 408")
    assert raw_exchange(small_server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc").startswith(
        b"HTTP/1.1 408")
    assert get(small_server, "/") == (200, "fine")


@pytest.mark.parametrize("query", ["last=abc", "last=-5", "last=1.5", "last=", "last=%C2%B2"])
def test_the_trace_endpoint_refuses_bad_parameters(small_server, query):
    status, body = get(small_server, f"/__dojo/trace?{query}")
    assert status == 400 and "last must be" in body


def test_the_trace_endpoint_answers_good_parameters(small_server):
    get(small_server, "/")
    assert get(small_server, "/__dojo/trace?last=2")[0] == 200
    assert get(small_server, "/__dojo/trace?last=all")[0] == 200
    assert get(small_server, "/__dojo/trace?last=0")[0] == 200
