"""Isolates: where module-level state lives.

On the platform a Worker's module runs once per isolate. The objects one isolate hosts share its
module globals (a module-level dict is visible to all of them), objects in other isolates have
their own, and everything at module level is gone when the isolate is recycled: a deploy, a
resource limit, a restart of the machine. Keeping state there is therefore not a fix for state
lost on eviction, and the emulator makes that visible:

* Each world has `count` isolates (4 by default). An object is placed in one of them, chosen by
  the world's seed when the object is first used, so objects with different names may land in
  different isolates. The Worker entrypoint runs in isolate 0.
* An isolate runs the module that defines each class it needs *again*, in a fresh module object
  (never registered in `sys.modules`): `Counter` inside an isolate is that isolate's copy, with
  that isolate's module globals. The module's code is compiled once per process (and again when
  its file changes, which is what `Runtime.deploy()` picks up).
* Restarting an isolate (`Runtime.deploy()`, `evict_all()`, `faults.restart_isolate(stub)`,
  chaos eviction) evicts the objects it hosts and drops its modules; the next event runs the
  module again. The trace records each `isolate:restart`.

A class that cannot be run again from its source (defined in a notebook cell or inside a
function) is used as it is: its module state is then shared by the whole process, as before.
Code executed for an isolate imports `datetime` as `clocks.world_datetime_module()`, so
`datetime.now()` there reads the world's clock.
"""

from __future__ import annotations

import builtins
import logging
import os
import random
import sys
import types

from .clocks import world_datetime_module
from .trace import Kind

log = logging.getLogger("durable_dojo")

DEFAULT_ISOLATES = 4
_EMULATOR_PACKAGES = ("durable_dojo", "workers", "js", "pyodide")
_compiled: dict[str, tuple[tuple, types.CodeType]] = {}  # file -> ((mtime, size), code)
_builtins: dict | None = None


def _isolate_builtins() -> dict:
    """Builtins for isolate code: the same, except that `import datetime` gives the world's clock."""
    global _builtins
    if _builtins is None:
        real_import = builtins.__import__

        def __import__(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A001, A002
            if level == 0 and name == "datetime":
                return world_datetime_module()
            return real_import(name, globals, locals, fromlist, level)

        _builtins = dict(vars(builtins))
        _builtins["__import__"] = __import__
    return _builtins


def _module_code(module: types.ModuleType) -> types.CodeType | None:
    """The module's code, compiled from its source file (cached until the file changes)."""
    path = getattr(module, "__file__", None)
    if not path or not path.endswith(".py"):
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _compiled.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    try:
        with open(path, encoding="utf-8") as source:
            code = compile(source.read(), path, "exec", dont_inherit=True)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    _compiled[path] = (version, code)
    return code


def _reloadable_module(cls: type) -> types.ModuleType | None:
    """The module an isolate can run again to get its own copy of `cls`, if there is one."""
    name = cls.__module__
    if name == "__main__" or "<locals>" in cls.__qualname__ or name.split(".")[0] in _EMULATOR_PACKAGES:
        return None
    module = sys.modules.get(name)
    if module is None or _lookup(module, cls.__qualname__) is not cls:
        return None  # made at run time (a subclass built by a tool): not the module's own class
    return module


def _lookup(namespace, qualname: str):
    for part in qualname.split("."):
        namespace = getattr(namespace, part, None)
    return namespace


class Isolate:
    """One isolate: the modules it has run (fresh copies) and its place among the world's."""

    __slots__ = ("index", "generation", "modules")

    def __init__(self, index: int, generation: int):
        self.index = index
        self.generation = generation  # how many times this slot has started, 1-based
        self.modules: dict[str, types.ModuleType | None] = {}

    def copy_of(self, cls: type) -> type:
        """This isolate's copy of `cls` (its module run once here), or `cls` if it has none."""
        original = _reloadable_module(cls)
        if original is None:
            return cls
        found = _lookup(self.copy_of_module(original), cls.__qualname__)
        return found if isinstance(found, type) else cls

    def copy_of_module(self, original: types.ModuleType) -> types.ModuleType:
        """This isolate's copy of a module (run once here), or the module itself if it cannot be
        run again."""
        name = original.__name__
        if name not in self.modules:
            self.modules[name] = self._run_module(original)
        return self.modules[name] or original

    def _run_module(self, original: types.ModuleType) -> types.ModuleType | None:
        code = _module_code(original)
        if code is None:
            return None
        module = types.ModuleType(original.__name__, original.__doc__)
        module.__dict__.update(
            __file__=original.__file__, __spec__=getattr(original, "__spec__", None),
            __loader__=getattr(original, "__loader__", None), __package__=getattr(original, "__package__", None),
            __builtins__=_isolate_builtins(),
        )
        try:
            exec(code, module.__dict__)  # noqa: S102 - the user's own module, as the platform runs it
        except Exception:  # noqa: BLE001 - it ran once already; fall back to the shared module
            log.debug("isolate could not run %s again; its module state is shared", original.__name__,
                      exc_info=True)
            return None
        return module


class Isolates:
    """The isolates of one world: which object is placed where, started lazily, restarted on demand."""

    def __init__(self, world, count: int = DEFAULT_ISOLATES, seed=0):
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"isolates must be a whole number >= 1, not {count!r}")
        self._world = world
        self.count = count
        self._rng = random.Random(f"{seed}:isolates")
        self._placement: dict[str, int] = {}  # object key -> isolate index
        self._running: dict[int, Isolate] = {}
        self._generations = [0] * count
        self.restarts = 0

    def index_of(self, host) -> int:
        """The isolate an object lives in (chosen with the world's seed on first use)."""
        index = self._placement.get(host.key)
        if index is None:
            index = self._placement[host.key] = self._rng.randrange(self.count)
        return index

    def of(self, stub) -> int:
        """Which isolate the stub's object lives in (0 to count - 1)."""
        return self.index_of(stub._host)

    def isolate(self, index: int) -> Isolate:
        isolate = self._running.get(index)
        if isolate is None:
            self._generations[index] += 1
            isolate = self._running[index] = Isolate(index, self._generations[index])
        return isolate

    def object_class(self, host) -> type:
        """The class to construct an instance of `host` from: its isolate's copy."""
        return self.isolate(self.index_of(host)).copy_of(host.namespace.cls)

    def worker_class(self, cls: type) -> type:
        return self.isolate(0).copy_of(cls)

    def worker_module(self, module: types.ModuleType) -> types.ModuleType:
        """The Worker's isolate's copy of a module: where module-level handlers run."""
        if module.__name__ == "__main__" or module.__name__.split(".")[0] in _EMULATOR_PACKAGES:
            return module
        return self.isolate(0).copy_of_module(module)

    def hosts_in(self, index: int) -> list:
        return [h for h in self._world._hosts_in() if self._placement.get(h.key) == index]

    def restart_if_idle(self, host, reason: str) -> bool:
        """Recycle the object's isolate if none of its objects is handling anything."""
        index = self.index_of(host)
        if any(h.instance is not None and h.instance.busy for h in self.hosts_in(index)):
            return False
        self.restart(index, reason)
        return True

    def restart(self, index: int, reason: str) -> None:
        """Recycle one isolate: its objects leave memory (idle ones evicted, busy ones crash as
        a machine failure would; pending background work dies with them), its module state is
        gone, the next event runs the module again."""
        from .faults import CRASH_MESSAGE  # noqa: PLC0415 - faults is a leaf; keeps this module's imports small

        isolate = self._running.pop(index, None)
        self.restarts += 1
        self._world.trace.record(Kind.ISOLATE_RESTART, detail=f"{self._label(isolate, index)}: {reason}")
        for host in self.hosts_in(index):
            instance = host.instance
            if instance is None:
                continue
            if instance.handling:
                instance.crash(CRASH_MESSAGE)
            else:
                instance.evict()

    def restart_all(self, reason: str) -> None:
        for index in range(self.count):
            if index in self._running or any(h.instance is not None for h in self.hosts_in(index)):
                self.restart(index, reason)

    def _label(self, isolate: Isolate | None, index: int | None = None) -> str:
        if isolate is None:
            return f"isolate {index}"
        return f"isolate {isolate.index} (start {isolate.generation})"
