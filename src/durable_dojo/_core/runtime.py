"""`Runtime`: one world of Durable Objects on one virtual clock.

A world owns everything: the namespaces and their objects, all storage (one SQLite database),
the event loop and its clock, the trace and the metrics. Two worlds share nothing, so each test
can have its own. With the same seed and the same calls, a world produces the same trace.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import datetime
import inspect
import itertools
import logging
import os
import random
import time
import weakref

from .errors import DojoError, HangTimeout, JsException
from .ffi import call_relaxed
from . import clocks
from .faults import Faults
from .explore import replaying
from .gates import leave_caller
from .http import Response, as_request
from .ids import IdFactory
from .isolates import DEFAULT_ISOLATES, Isolates
from .overload import DEFAULT_MAX_QUEUED_REQUESTS
from .lifecycle import PENDING_IO_KEEPS_ALIVE_FROM
from .kvstore import KvStore, SharedDb
from .loop import VirtualLoop, current_scope, current_world
from .metrics import Metrics, monthly_cost
from .durable_object import ObjectHost
from .stubs import DurableObjectNamespace, WorldCall
from .trace import Kind, Trace
from .tracebacks import where_waiting
from .watchdog import DEFAULT_CPU_LIMIT_MS, check_cpu_limit
from .websockets import disconnect_all

log = logging.getLogger("durable_dojo")

DEFAULT_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: a fixed start keeps traces reproducible
DEFAULT_COMPATIBILITY_DATE = "2026-11-26"
DELETE_ALL_DELETES_ALARM_FROM = "2026-02-24"
AUTO_REPLY_TO_CLOSE_FROM = "2026-04-07"  # compat flag web_socket_auto_reply_to_close
BLOB_BINARY_TYPE_FROM = "2026-03-17"  # compat flag websocket_standard_binary_type
PROD_IDLE_EVICTION = (70.0, 140.0)
KEPT_EVICTED_RECORDS = 1000  # evicted objects whose record stays in the world's table
COMPACT_AFTER = 4096  # records forgotten before the world's tables are copied to their new size


class Env:
    """`env`: the bindings of a world, as attributes (`env.COUNTER`, `env.CACHE`)."""

    def __init__(self):
        self._bindings: dict[str, object] = {}

    def _bind(self, name: str, value) -> None:
        self._bindings[name] = value
        setattr(self, name, value)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        known = ", ".join(sorted(self._bindings)) or "none"
        raise AttributeError(f"env has no binding {name!r} (bindings: {known})")

    def __repr__(self) -> str:
        return f"<Env {', '.join(sorted(self._bindings))}>"


# Each switch: (attribute, the date it turns on, its enable flag, its disable flag), as in
# workerd's compatibility-date.capnp (the flag names are in workerd 1.20261117.1).
COMPATIBILITY_SWITCHES = (
    ("delete_all_deletes_alarm", DELETE_ALL_DELETES_ALARM_FROM, "delete_all_deletes_alarm",
     "delete_all_preserves_alarm"),
    ("web_socket_auto_reply_to_close", AUTO_REPLY_TO_CLOSE_FROM, "web_socket_auto_reply_to_close",
     "web_socket_manual_reply_to_close"),
    ("websocket_standard_binary_type", BLOB_BINARY_TYPE_FROM, "websocket_standard_binary_type",
     "no_websocket_standard_binary_type"),
    ("pending_io_keeps_alive", PENDING_IO_KEEPS_ALIVE_FROM, "durable_object_io_tasks_prevent_eviction",
     "durable_object_io_tasks_do_not_prevent_eviction"),
)


class Compatibility:
    """The behaviour switches that depend on the compatibility date, and the compatibility
    flags that turn one on before its date or off after it (a Wrangler config's
    `compatibility_flags`, applied by `project.configure_world`). Flags the emulator has no
    switch for (`python_workers`, ...) change nothing here."""

    def __init__(self, date: str, flags=()):
        datetime.date.fromisoformat(date)  # validates the format
        self.date = date
        self.flags = tuple(flags)
        for attribute, since, enable, disable in COMPATIBILITY_SWITCHES:
            if enable in self.flags and disable in self.flags:
                raise ValueError(f"Compatibility flags are mutually contradictory: {enable} vs {disable}")
            on = (date >= since or enable in self.flags) and disable not in self.flags
            setattr(self, attribute, on)


class ExecutionContext:
    """The `ctx` a Worker entrypoint receives."""

    def __init__(self, world):
        self._world = world

    def waitUntil(self, awaitable) -> None:
        """Let `awaitable` finish after the response (calls already run: they are eager)."""
        if inspect.iscoroutine(awaitable):
            self._world.loop.create_task(awaitable)

    def passThroughOnException(self) -> None:
        pass


class Runtime:
    """A world of Durable Objects: bindings, storage, a virtual clock, a trace.

    ```python
    rt = Runtime(durable_objects={"COUNTER": Counter})
    stub = rt.env.COUNTER.getByName("a")
    await stub.increment()
    ```

    Options name the real knobs: `storage="sqlite"` (default) or `"kv"` for the legacy
    KV-backed limits; `hibernation_timeout=10` and `idle_eviction=(70, 140)` seconds, after which
    an idle object that may hibernate hibernates and one that may not is evicted (None turns either
    off; see lifecycle.py); `isolates=4` isolates for module state (isolates.py);
    `max_queued_requests=1000` requests per object before it sheds load as overloaded (overload.py);
    `unique_keys={"COUNTER": "..."}` to derive the same IDs as a given workerd namespace;
    `compatibility_date` for date-gated behaviour; `outbound` (a function from Request to
    Response) for `fetch()` calls that leave the world, each taking `outbound_latency` virtual
    seconds; `hang_timeout` wall seconds before stuck code is stopped with a clear error;
    `cpu_limit_ms` the CPU time each event may use (the platform's 30,000 ms by default, up to
    300,000 like `limits.cpu_ms`; None turns it off): past it the object is reset;
    `persist_to="DIR"` keeps every object's storage and alarm in `DIR/<unique key>/<id>.sqlite`
    (like `wrangler dev --persist-to`), so a restarted kernel or another process sees the same data.
    `schedule="s1a"` runs the world in one schedule that `durable_dojo.explore` reported.
    `kv_namespaces=["CACHE"]` adds Workers KV bindings, eventually consistent on the virtual clock
    (`kv_cache_ttl`, default 60 s, is how stale another location may be).
    """

    def __init__(
        self,
        durable_objects: dict | None = None,
        *,
        worker=None,
        kv_namespaces=None,
        seed: int = 0,
        unique_keys: dict[str, str] | None = None,
        storage: str = "sqlite",
        idle_eviction: tuple[float, float] | float | None = PROD_IDLE_EVICTION,
        compatibility_date: str = DEFAULT_COMPATIBILITY_DATE,
        outbound=None,
        outbound_latency: float = 0.01,
        hang_timeout: float | None = 10.0,
        cpu_limit_ms: float | None = DEFAULT_CPU_LIMIT_MS,
        start_time_ms: int | None = None,
        persist_to: str | os.PathLike | None = None,
        hibernation_timeout: float | None = 10.0,
        real_time: bool = False,
        kv_cache_ttl: float = 60.0,
        kv_home_location: str = "IAD",
        kv_write_limit: bool = True,
        log_errors: bool = True,
        isolates: int = DEFAULT_ISOLATES,
        max_queued_requests: int | None = DEFAULT_MAX_QUEUED_REQUESTS,
        schedule: str | None = None,
    ):
        if storage not in ("sqlite", "kv"):
            raise ValueError(f'storage must be "sqlite" or "kv", not {storage!r}')
        clocks.install()  # time.time() inside the world reads its clock
        self.seed = seed
        self.storage_backend = storage
        self.compat = Compatibility(compatibility_date)
        if start_time_ms is None:  # a fixed start keeps runs reproducible; real time starts now
            start_time_ms = int(time.time() * 1000) if real_time else DEFAULT_START_MS
        self.start_ms = start_time_ms
        self.hang_timeout = hang_timeout
        self.outbound = outbound
        self.outbound_latency = outbound_latency
        self.loop = VirtualLoop(self, real_time=real_time)
        self.cpu_limit_ms = cpu_limit_ms
        self.loop.cpu_limit = check_cpu_limit(cpu_limit_ms)
        self.trace = Trace(self)
        self._counters = Metrics(self)
        self.faults = Faults(self)
        self.isolates = Isolates(self, isolates, seed)
        self._db = SharedDb(reuse=True)  # committed storage of every object, unless persisted to files
        self.persist_to = None if persist_to is None else os.fspath(persist_to)
        self._foreign_files: set[str] = set()  # files in persist_to already warned about
        self.env = Env()
        self._rngs: dict[str, random.Random] = {}  # seeded on first use (see _rng)
        if idle_eviction is not None and not isinstance(idle_eviction, tuple):
            idle_eviction = (float(idle_eviction), float(idle_eviction))
        self.idle_eviction = idle_eviction
        self.hibernation_timeout = hibernation_timeout
        self.max_queued_requests = max_queued_requests  # per object, then "overloaded" (overload.py)
        self.log_errors = log_errors  # log errors of handlers nobody awaits (alarms, socket events)
        self.kv_cache_ttl = kv_cache_ttl  # how long a location keeps what it read from Workers KV
        self.kv_home_location = kv_home_location  # where Worker code and tests read KV from
        self.kv_write_limit = kv_write_limit  # Workers KV's 1 write per second per key
        # the next event's request id, 1, 2, ... (a C-level counter: every call takes one)
        self._next_request_id = itertools.count(1).__next__
        self._hosts: dict[tuple[str, str], ObjectHost] = {}
        # Objects that left memory with nothing to keep (no socket, alarm, or database of their
        # own in memory): their record goes once no stub holds it; storage has what matters.
        self._dormant = _Dormant()
        self._evicted: collections.OrderedDict = collections.OrderedDict()  # keys, oldest eviction first
        self._forgotten = 0  # records forgotten since the tables were last compacted
        self._namespaces: dict[str, DurableObjectNamespace] = {}
        self._root_context = contextvars.Context()
        self._root_context.run(current_world.set, self)
        self.worker = worker
        global _latest
        _latest = weakref.ref(self)
        unique_keys = unique_keys or {}
        for binding, cls in (durable_objects or {}).items():
            self._add_namespace(binding, cls, unique_keys.get(binding, cls.__name__))
        if self.persist_to is not None:
            self._restore_alarms()
        for name in kv_namespaces or ():
            from .workers_kv import KVNamespace  # noqa: PLC0415 - optional part of the world

            self.env._bind(name, KVNamespace(self, name))
        if schedule is not None:  # replay one schedule that explore() reported, by its id
            replaying(self, schedule)

    def _add_namespace(self, binding: str, cls, unique_key: str) -> None:
        if not isinstance(cls, type):
            raise TypeError(f"durable_objects[{binding!r}] must be a class, not {cls!r}")
        if self.persist_to is not None:
            _check_folder_name(binding, unique_key)
        ids = IdFactory(unique_key, self._random_id_bytes)
        namespace = DurableObjectNamespace(self, binding, cls, unique_key, ids)
        self._namespaces[binding] = namespace
        self.env._bind(binding, namespace)

    # ----- objects -----

    def _host_for(self, namespace: DurableObjectNamespace, id_) -> ObjectHost:
        key = (namespace.unique_key, id_.toString())
        host = self._hosts.get(key)
        if host is None:
            host = self._dormant.pop(key, None)  # a stub may still hold it: that record comes back
            if host is not None:
                self._hosts[key] = host
        if host is None:
            db = self._db if self.persist_to is None else SharedDb(self._object_file(*key), own=True)
            store = KvStore(db, namespace.unique_key, key[1], legacy_limits=self.storage_backend == "kv")
            host = self._hosts[key] = ObjectHost(namespace, id_, store)
        elif host.id.name is None and id_.name is not None:
            host.learn_name(id_.name)
        return host

    def _rng(self, purpose: str) -> random.Random:
        """The world's random generator for `purpose` ("ids", "eviction", "alarm-jitter"), seeded
        from the world's seed when first used: seeding one costs about as much as the rest of a
        small world's set-up, and most worlds never draw from most of them (explore() makes a
        world per schedule). The draws are the same as with generators made up front."""
        rng = self._rngs.get(purpose)
        if rng is None:
            rng = self._rngs[purpose] = random.Random(f"{self.seed}:{purpose}")
        return rng

    def _random_id_bytes(self, n: int) -> bytes:
        return self._rng("ids").randbytes(n)

    def _object_file(self, unique_key: str, hex_id: str) -> str:
        """One SQLite file per object, laid out like workerd's: <dir>/<unique key>/<id>.sqlite."""
        return os.path.join(self.persist_to, unique_key, hex_id + ".sqlite")

    def _persisted_ids(self, namespace: DurableObjectNamespace) -> list[str]:
        """The ids of the namespace's objects on disk. A file that is not one (a stray
        `notes.sqlite`, an id of another namespace) is skipped with a warning."""
        folder = os.path.join(self.persist_to, namespace.unique_key) if self.persist_to else None
        if folder is None or not os.path.isdir(folder):
            return []
        ids = []
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".sqlite"):
                continue
            try:
                namespace._ids.from_string(name[:-7])
            except TypeError as error:
                path = os.path.join(folder, name)
                if path not in self._foreign_files:
                    self._foreign_files.add(path)
                    log.warning("Skipping %s: not the storage of a %s object (%s)", path, namespace.binding, error)
                continue
            ids.append(name[:-7])
        return ids

    def _restore_alarms(self) -> None:
        """A world reopened on a persist directory re-arms the alarms stored there."""
        for namespace in self._namespaces.values():
            for hex_id in self._persisted_ids(namespace):
                self._host_for(namespace, namespace._ids.from_string(hex_id)).alarms.reschedule()  # no-op without one

    def _left_memory(self, host: ObjectHost) -> None:
        """An object was evicted. The last `KEPT_EVICTED_RECORDS` evicted objects keep their
        record in the world's table (the widgets show them as evicted); older ones leave it,
        unless something of them must stay in memory, so 100,000 evicted objects do not keep
        100,000 records. Their storage keeps what matters; a stub that still holds a record
        brings that same record back."""
        key = (host.namespace.unique_key, host.key)
        evicted = self._evicted
        evicted[key] = None
        evicted.move_to_end(key)
        while len(evicted) > KEPT_EVICTED_RECORDS:
            old_key, _ = evicted.popitem(last=False)
            old = self._hosts.get(old_key)
            if old is not None and self._can_forget(old):
                del self._hosts[old_key]
                self._dormant.add(old_key, old)
                self._forgotten += 1
        if self._forgotten > COMPACT_AFTER and self._forgotten > len(self._hosts):
            self._hosts = dict(self._hosts)  # a dict keeps the table of its largest size: shrink it
            self._forgotten = 0

    def _can_forget(self, host: ObjectHost) -> bool:
        """Nothing of the object needs its record in memory: no instance, no socket or socket
        setting, no alarm, nothing uncommitted, no SQL database that lives only in memory (a
        file-backed one is closed: it opens again when used)."""
        if (host.instance is not None or host.sockets or host.auto_response is not None
                or host.ws_event_timeout is not None or host.storage.has_uncommitted()
                or host.store.get_alarm() is not None):
            return False
        db = host.store.db
        return db is self._db or (getattr(db, "_is_file", False) and db.close_idle())

    def _hosts_in(self, binding: str | None = None) -> list[ObjectHost]:
        return [h for h in self._hosts.values() if binding is None or h.namespace.binding == binding]

    # ----- time -----

    def now(self) -> int:
        """Virtual time in ms since the epoch (what `Date.now()` returns inside the world)."""
        return self.start_ms + int(self.loop._now * 1000.0 + 1e-6)

    def _loop_time_of(self, epoch_ms: float) -> float:
        return (epoch_ms - self.start_ms) / 1000.0

    def _idle_eviction_delay(self) -> float | None:
        if self.idle_eviction is None:
            return None
        low, high = self.idle_eviction
        return low if low == high else self._rng("eviction").uniform(low, high)

    def _alarm_jitter(self) -> float:
        return self._rng("alarm-jitter").random()

    # ----- pumping the world from the outside -----

    def _inside(self) -> bool:
        return asyncio._get_running_loop() is self.loop

    def _wait_for(self, future: asyncio.Future, what: str) -> None:
        """Run the world until `future` is done (called from outside the world)."""
        self.loop.run_until(future.done, wall_timeout=self.hang_timeout, what=what)

    # ----- real time (`dojo serve`) -----

    async def run_real_time(self) -> None:
        """Drive the world on the wall clock from the host's event loop, until cancelled.

        `dojo serve` runs this as a background task: requests and socket messages submitted by
        the server wake it; timers (alarms, hibernation, sleeps) fire when they are due."""
        if not self.loop.real_time:
            raise DojoError("run_real_time() needs Runtime(real_time=True).")
        wakeup = asyncio.Event()
        self.loop.on_ready = wakeup.set
        try:
            while True:
                wakeup.clear()
                try:
                    delay = self.loop.run_due()
                except HangTimeout as error:  # the stuck object was reset; keep serving the rest
                    log.error("%s", error)
                    delay = 0.0
                if delay == 0.0:
                    await asyncio.sleep(0)
                    continue
                try:
                    await asyncio.wait_for(wakeup.wait(), timeout=0.25 if delay is None else min(delay, 0.25))
                except asyncio.TimeoutError:
                    pass
        finally:
            self.loop.on_ready = None

    def _bridge(self, future: asyncio.Future) -> asyncio.Future:
        """A future of the host's loop that settles with a world future (real-time mode)."""
        host_future = asyncio.get_running_loop().create_future()
        if future.done():
            _copy_outcome(future, host_future)
        else:
            future.add_done_callback(lambda done: _copy_outcome(done, host_future), context=self._root_context)
        return host_future

    def _task_created(self, task: asyncio.Task, scope) -> None:
        if scope is not None and scope.instance.alive:
            scope.instance.tasks.add(task)
            task.add_done_callback(scope.instance.task_finished)

    def _describe_stuck(self, what: str) -> str:
        """Why nothing can finish, and where each piece of user code is waiting."""
        lines = [f"{what} can never finish: everything in the world is waiting and nothing is scheduled "
                 "that could wake it (a future nobody resolves, or an event that never comes)."]
        for task in asyncio.all_tasks(self.loop):
            where = where_waiting(task)
            if where is not None:
                lines.append(f"  waiting: {where}")
        return "\n".join(lines)

    def run(self, main):
        """Run `main` (a coroutine, an async function or a call on a stub) to completion, from
        synchronous code: the entry point for scripts and REPLs. Returns its result."""
        __tracebackhide__ = True  # noqa: F841 - pytest and IPython leave this frame out
        if isinstance(main, _WorldStep):
            return main()
        if isinstance(main, WorldCall):
            return self._finish(main._future, repr(main), main)
        if inspect.iscoroutine(main):
            task = self.loop.create_task(main, context=self._root_context.copy())
            return self._finish(task, f"run({getattr(main, '__qualname__', 'main')})")
        if callable(main):
            return self.run(main())
        if inspect.isawaitable(main):
            async def wrap():
                return await main
            return self.run(wrap())
        raise TypeError(f"run() takes a coroutine, an async function or a stub call, not {main!r}")

    def _finish(self, future, what, call=None):
        __tracebackhide__ = True  # noqa: F841
        try:
            self._wait_for(future, what)
        except DojoError as error:  # a deadlock or a hang: the message says where, not the pump's frames
            raise error.with_traceback(None)
        if call is not None:
            return call._outcome()
        return future.result()

    def advance(self, seconds: float) -> "_WorldStep":
        """Move the virtual clock forward, running everything that falls due (alarms, timers)."""
        if seconds < 0:
            raise ValueError("advance() takes a number of seconds >= 0")

        def outside():
            self.loop.run_until(lambda: False, horizon=self.loop.time() + seconds,
                                wall_timeout=self.hang_timeout, what=f"advance({seconds})")

        return _WorldStep(self, outside, lambda: asyncio.sleep(seconds))

    def run_until_idle(self) -> "_WorldStep":
        """Run until no request, task or timer of user code is pending (alarms and idle
        eviction further ahead do not count: use `advance()` to reach them)."""

        def outside():
            self.loop.run_until(lambda: False, stop_at_housekeeping=True, wall_timeout=self.hang_timeout,
                                what="run_until_idle()")

        return _WorldStep(self, outside, None)

    def evict(self, stub) -> "_WorldStep":
        """Evict the stub's object from memory (its storage stays), once its requests are done."""
        return self._leave_memory(stub, hibernate=False)

    def hibernate(self, stub) -> "_WorldStep":
        """Hibernate the stub's object now: memory dropped, hibernatable WebSockets kept open
        (what the platform does to an idle object with nothing pending after 10 s)."""
        return self._leave_memory(stub, hibernate=True)

    def _leave_memory(self, stub, *, hibernate: bool) -> "_WorldStep":
        host = stub._host

        def outside():
            instance = host.instance
            if instance is None:
                return
            self.loop.run_until(lambda: host.instance is None or not host.instance.busy,
                                wall_timeout=self.hang_timeout, what=f"evict({host!r})")
            if host.instance is not None:
                host.instance.evict(hibernate=hibernate)

        def inside():
            outside_now(host, hibernate=hibernate)
            return asyncio.sleep(0)

        return _WorldStep(self, outside, inside)

    def evict_all(self) -> "_WorldStep":
        """Evict every object in memory, as an idle period or a restart of the machine would."""

        def outside():
            self.loop.run_until(lambda: not any(h.instance and h.instance.busy for h in self._hosts.values()),
                                wall_timeout=self.hang_timeout, what="evict_all()")
            for host in list(self._hosts.values()):
                if host.instance is not None:
                    host.instance.evict()
            self.isolates.restart_all("evict_all()")

        return _WorldStep(self, outside, None)

    def deploy(self) -> "_WorldStep":
        """A new version of the code goes live: once the requests in flight are answered, every
        isolate restarts (module state gone, module files read again), every object leaves
        memory (work it left pending, `waitUntil` included, dies with it) and every WebSocket is
        disconnected, hibernated ones included."""

        def outside():
            self.loop.run_until(lambda: not any(h.instance and h.instance.handling for h in self._hosts.values()),
                                wall_timeout=self.hang_timeout, what="deploy()")
            self.isolates.restart_all("deploy()")
            for host in list(self._hosts.values()):
                disconnect_all(host)

        return _WorldStep(self, outside, None)

    # ----- the Worker entrypoint -----

    def fetch(self, input, **init) -> WorldCall:
        """Send an HTTP request to the Worker (`worker=` class), which may route it to objects."""
        if self.worker is None:
            raise DojoError("This Runtime has no Worker: pass worker=YourEntrypoint to Runtime(...).")
        request = as_request(input, init)
        if request._cf is None and "cf" not in init:
            # A request from the internet always carries `cf`; `wrangler dev` gives a stand-in.
            request._cf = incoming_cf()
        label = f"worker.fetch({request.method} {request.url})"
        reply = self.loop.create_task(self._worker_fetch(request), context=self._root_context.copy())
        return WorldCall(self, reply, label)

    async def _worker_fetch(self, request):
        entrypoint = self.isolates.worker_class(self.worker)(ExecutionContext(self), self.env)
        response = call_relaxed(entrypoint.fetch, request)  # `async def fetch(self)` works, as on workerd
        if inspect.isawaitable(response):
            response = await response
        if not isinstance(response, Response):
            raise JsException("TypeError", "Incorrect type for Promise: the Promise did not resolve to 'Response'.")
        return response._detached_copy()

    # ----- observation -----

    def metrics(self, binding: str) -> dict:
        """Counters for one binding since the world began, named as in Cloudflare's dashboard.
        Times are on the world's virtual clock except CPU time, which is measured.

        For a Durable Object namespace:

        - `activeObjects` (objects): instances in memory now, running or idle (not evicted or hibernated).
        - `objectsCreated` (objects): distinct objects that have had an instance at some point.
        - `requests` (count): invocations delivered to the objects: fetch, RPC calls, WebSocket
          events and alarm runs (each retry counts again).
        - `requestsPerSecond` (requests per virtual second): `requests` over `observedSeconds`
          (the plain count while no time has passed).
        - `cpuTimeP50` (ms): median CPU time of one handler run (process time, measured), over the
          most recent 100,000 runs.
        - `cpuTimeP95` (ms): the 95th percentile of the same.
        - `storageReads` (rows): rows read by get, list and the synchronous KV API (a read that
          finds nothing counts one).
        - `storageWrites` (rows): rows written by put and setAlarm.
        - `storageDeletes` (rows): keys deleted by delete (each key of a list counts) and by
          deleteAll (one per call).
        - `rowsRead` (rows): `storageReads` plus the rows SQL queries read, Cloudflare's billing unit.
        - `rowsWritten` (rows): `storageWrites` and `storageDeletes` plus the rows SQL queries wrote.
        - `alarmsFired` (count): alarm handler runs, retries included.
        - `alarmsRetried` (count): those runs that were retries of an alarm that had thrown.
        - `durationSeconds` (virtual seconds): billed time in memory, summed over instances: while
          handling events, or idle but unable to hibernate; idle time that could hibernate is free.
        - `observedSeconds` (virtual seconds): time since the namespace's first request.

        For a Workers KV binding (all its locations together):

        - `reads` (operations): get and getWithMetadata calls (a bulk get counts one).
        - `writes` (operations): put calls that were accepted.
        - `deletes` (operations): delete calls.
        - `lists` (operations): list calls.
        - `cacheHits` (keys): keys a read served from its location's cache.
        - `cacheMisses` (keys): keys a read had to fetch from the central store.
        - `rateLimited` (operations): puts refused for writing one key more than once a second.
        """
        binding_object = self.env._bindings.get(binding)
        if binding_object is None:
            known = ", ".join(sorted(self.env._bindings)) or "none"
            raise DojoError(f"no binding {binding!r} in this world (bindings: {known})")
        if hasattr(binding_object, "stats"):
            return binding_object.stats()
        return self._counters.snapshot(binding)

    def estimate_cost(self, binding: str, multiplier: float = 1.0) -> dict:
        """What this workload would cost per month at Cloudflare's published prices, if the
        traffic seen so far ran all month, `multiplier` times over."""
        return monthly_cost(self._counters.snapshot(binding), multiplier)

    def close(self) -> None:
        """End the world: pending tasks are cancelled (quietly), storage is closed."""
        loop = self.loop
        if loop.is_closed():
            return
        for _ in range(3):  # code a cancelled task runs on its way out may start new tasks
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if not pending or loop._pumping:
                break
            for host in self._hosts.values():  # cancelled tasks must not wait behind a gate
                if host.instance is not None:
                    host.instance.input_gate.sections.clear()
            try:
                loop.run_until(lambda: all(t.done() for t in pending), wall_timeout=2.0, what="close()")
            except Exception:  # noqa: BLE001 - closing is best effort
                break
        for task in asyncio.all_tasks(loop):
            coroutine = task.get_coro()
            if inspect.iscoroutine(coroutine) and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                coroutine.close()  # never started (an outgoing WebSocket's handshake): nothing to warn about
        loop.close()
        for host in self._hosts.values():
            if host.store.db is not self._db:
                host.store.db.close()
        self._db.close()

    def __repr__(self) -> str:
        return f"<Runtime {', '.join(self._namespaces)} at {self.now()} ms, {len(self._hosts)} objects>"


class _Dormant:
    """Records the world forgot that a stub may still hold, by key (a stub that calls again brings
    its record back). An entry goes when its record does; the table is copied to its size once
    most entries went, since a dict keeps the table of its largest size."""

    __slots__ = ("_refs", "_gone", "__weakref__")

    def __init__(self):
        self._refs: dict = {}
        self._gone = 0

    def add(self, key, host) -> None:
        me = weakref.ref(self)

        def went(ref, key=key):
            dormant = me()
            if dormant is not None:
                dormant._went(key, ref)

        self._refs[key] = weakref.ref(host, went)

    def pop(self, key, default=None):
        ref = self._refs.pop(key, None)
        host = None if ref is None else ref()
        return default if host is None else host

    def _went(self, key, ref) -> None:
        if self._refs.get(key) is ref:
            del self._refs[key]
        self._gone += 1
        if self._gone > COMPACT_AFTER and self._gone > len(self._refs):
            self._refs = dict(self._refs)
            self._gone = 0

    def __len__(self) -> int:
        return len(self._refs)


def _check_folder_name(binding: str, unique_key: str) -> None:
    """A namespace's storage lives in `persist_to/<unique key>/`: the key must name one folder
    right inside it, never a path that leaves it."""
    separators = {os.sep, os.altsep or os.sep, "\0"}
    if (not isinstance(unique_key, str) or unique_key in ("", ".", "..")
            or any(sep in unique_key for sep in separators)):
        raise ValueError(
            f"The namespace key {unique_key!r} of binding {binding} cannot be used with persist_to: "
            "its storage goes in a folder of that name inside the persist directory, so it must be "
            "a plain folder name (no '/', no '..')."
        )


def outside_now(host, *, hibernate: bool = False) -> None:
    instance = host.instance
    if instance is None:
        return
    if instance.busy:
        raise DojoError(f"{host!r} is handling requests; it can be evicted once it is idle.")
    instance.evict(hibernate=hibernate)


class _WorldStep:
    """The awaitable that `advance`, `evict` and friends return: works outside and inside the world."""

    __slots__ = ("_world", "_outside", "_inside")

    def __init__(self, world, outside, inside):
        self._world = world
        self._outside = outside
        self._inside = inside

    def __await__(self):
        if self._world._inside():
            if self._inside is None:
                raise DojoError("This is for code outside the world (a test or a notebook cell), "
                                "not for code running in a Durable Object or Worker.")
            return (yield from self._inside().__await__())
        return self._outside()

    def __call__(self):
        """Synchronous form, for plain scripts: `rt.advance(60)()`."""
        return self._outside()


def outbound_fetch(world: Runtime, request) -> WorldCall:
    """`fetch()` from code in the world: through the caller's output gate, then to `outbound`.

    The call takes `outbound_latency` virtual seconds and opens the caller's input gate while
    it is in flight, as any non-storage I/O does on the platform.
    """
    leave_caller()
    label = f"fetch({request.method} {request.url})"
    scope = current_scope.get()
    caller = scope.instance.host if scope is not None else None
    world.trace.record(Kind.FETCH_OUT, caller, detail=label)  # the trace finds the caller's request itself

    async def go():
        await asyncio.sleep(world.outbound_latency)
        if world.outbound is None:
            raise DojoError(
                f"{label} has nowhere to go: the emulator has no network. Pass outbound=handler to "
                "Runtime(...): a function (sync or async) that takes a Request and returns a Response."
            )
        response = world.outbound(request)
        if inspect.isawaitable(response):
            response = await response
        if not isinstance(response, Response):
            raise TypeError(f"outbound handler must return a Response, not {response!r}")
        return response._detached_copy(url=request.url)

    # A request that has left the object is not recalled if the object dies meanwhile: the
    # caller waits on a copy of the outcome, so cancelling the caller does not cancel `go()`.
    task = world.loop.create_task(go(), context=world._root_context.copy())
    outcome = world.loop.create_future()
    task.add_done_callback(lambda done: _copy_outcome(done, outcome), context=world._root_context)
    return WorldCall(world, outcome, label)


def _copy_outcome(done: asyncio.Future, target: asyncio.Future) -> None:
    """Settle `target` as `done` settled; if `target` was already settled (its waiter is gone),
    mark `done`'s error as retrieved."""
    if target.done():
        if not done.cancelled():
            done.exception()
        return
    if done.cancelled():
        target.cancel()
    elif done.exception() is not None:
        target.set_exception(done.exception())
    else:
        target.set_result(done.result())


# The most recently created world, for code outside any world (a notebook cell's
# `from workers import env`): one weak reference per process, so it keeps no world alive.
_latest = None


def latest_world() -> Runtime | None:
    """The world whose code is running, else the most recently created one (for notebooks)."""
    world = current_world.get()
    if world is not None:
        return world
    return _latest() if _latest is not None else None


def incoming_cf() -> dict:
    """The `request.cf` of a request the Worker receives from `rt.fetch(url)` without `cf=`: the
    stand-in that `wrangler dev` (Miniflare 4's `fallbackCf`) gives offline, a request from
    Austin, Texas, served by the DFW data centre. On the platform the values are the client's."""
    return {
        "asOrganization": "", "asn": 395747, "colo": "DFW", "city": "Austin", "region": "Texas",
        "regionCode": "TX", "metroCode": "635", "postalCode": "78701", "country": "US", "continent": "NA",
        "timezone": "America/Chicago", "latitude": "30.27130", "longitude": "-97.74260", "clientTcpRtt": 0,
        "httpProtocol": "HTTP/1.1", "requestPriority": "weight=192;exclusive=0",
        "tlsCipher": "AEAD-AES128-GCM-SHA256", "tlsVersion": "TLSv1.3", "edgeRequestKeepAliveStatus": 0,
        "clientTrustScore": 99,
    }
