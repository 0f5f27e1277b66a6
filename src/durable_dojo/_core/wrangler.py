"""Reading a Worker's `wrangler.toml` / `wrangler.jsonc` the way Python Workers declare it.

```toml
name = "chat"
main = "src/entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "ROOMS"
class_name = "ChatRoom"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["ChatRoom"]

[[kv_namespaces]]
binding = "CACHE"
id = "..."

[vars]
GREETING = "hello"
```

`read_config(path)` parses the file into a `WorkerConfig`; `load_worker(config)` imports `main`
(its folder goes first on `sys.path`, as the Worker's `src/` is the root of its module tree on
the platform) and finds the classes: the entrypoint is the `WorkerEntrypoint` subclass named
`Default`, or the only one; each Durable Object binding names its class by `class_name`.
The migrations decide each class's storage backend (`new_sqlite_classes` or `new_classes`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import sys
import tomllib

from .errors import DojoError

CONFIG_NAMES = ("wrangler.toml", "wrangler.jsonc", "wrangler.json")


class ConfigError(DojoError):
    """The configuration file is missing, malformed, or names something that does not exist."""


@dataclasses.dataclass
class DurableObjectBinding:
    name: str  # the binding: env.NAME
    class_name: str
    storage: str  # "sqlite" (new_sqlite_classes) or "kv" (new_classes)


@dataclasses.dataclass
class WorkerConfig:
    path: str  # the configuration file
    name: str
    main: str  # absolute path of the entry module
    compatibility_date: str | None
    compatibility_flags: list[str]
    durable_objects: list[DurableObjectBinding]
    kv_namespaces: list[str]
    vars: dict
    notes: list[str]  # things the reader had to decide (shown by `dojo serve` at start)
    cpu_ms: int | None = None  # [limits] cpu_ms: CPU time per event (None: the platform's 30,000)

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)

    @property
    def storage(self) -> str:
        """The one storage backend a Runtime gets: "sqlite" when every class is SQLite-backed."""
        backends = {b.storage for b in self.durable_objects}
        return "sqlite" if backends <= {"sqlite"} else "kv"


@dataclasses.dataclass
class LoadedWorker:
    config: WorkerConfig
    module: object
    entrypoint: type
    durable_objects: dict[str, type]  # binding -> class


def find_config(folder: str | os.PathLike = ".") -> str:
    """The path of the Wrangler configuration in `folder` (toml first, then jsonc, then json)."""
    for name in CONFIG_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return os.path.abspath(path)
    raise ConfigError(
        f"No Wrangler configuration in {os.path.abspath(folder)}: expected one of {', '.join(CONFIG_NAMES)} "
        "(or pass --config FILE)."
    )


# ----- JSONC -----


def strip_jsonc(text: str) -> str:
    """JSON with comments (`//`, `/* */`) and trailing commas, as Wrangler accepts it, made into
    plain JSON. Strings are copied untouched, so `"https://..."` keeps its slashes."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                raise ConfigError("Unterminated /* comment */ in the JSONC configuration.")
            out.append(" ")
            i = end + 2
        elif c == ",":
            j = i + 1
            while j < n:  # look past whitespace and comments for a closing bracket
                if text[j].isspace():
                    j += 1
                elif text.startswith("//", j):
                    end = text.find("\n", j)
                    j = n if end == -1 else end
                elif text.startswith("/*", j):
                    end = text.find("*/", j + 2)
                    j = n if end == -1 else end + 2
                else:
                    break
            if j < n and text[j] in "]}":
                i += 1  # a trailing comma: drop it
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_jsonc(text: str, where: str = "wrangler.jsonc") -> dict:
    try:
        data = json.loads(strip_jsonc(text))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{where}: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the configuration must be an object.")
    return data


# ----- reading -----


def parse_config(text: str, where: str) -> dict:
    """The contents of the configuration file `where` names: TOML for `.toml`, else JSONC."""
    if where.endswith(".toml"):
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{where}: {error}") from None
    return parse_jsonc(text, where)


def read_config(path: str | os.PathLike) -> WorkerConfig:
    """Parse a `wrangler.toml`, `wrangler.jsonc` or `wrangler.json` into a WorkerConfig."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise ConfigError(f"No such configuration file: {path}")
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8" if path.endswith(".toml") else "utf-8-sig")
    return config_from_dict(parse_config(text, os.path.basename(path)), path)


def _list_of(data, key: str, where: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{where}: {key} must be a list.")
    return value


def config_from_dict(data: dict, path: str) -> WorkerConfig:
    where = os.path.basename(path)
    folder = os.path.dirname(path)
    notes: list[str] = []
    main = data.get("main")
    if not isinstance(main, str) or not main:
        raise ConfigError(f'{where}: "main" is missing; a Python Worker names its entry module, e.g. main = "src/entry.py".')
    main_path = os.path.normpath(os.path.join(folder, main))
    if not main_path.endswith(".py"):
        raise ConfigError(f'{where}: main = "{main}" is not a Python module (.py); dojo serve runs Python Workers.')

    storage = _storage_by_class(_list_of(data, "migrations", where), where)

    durable_objects: list[DurableObjectBinding] = []
    do_section = data.get("durable_objects", {}) or {}
    if not isinstance(do_section, dict):
        raise ConfigError(f"{where}: durable_objects must be a table with a bindings list.")
    for entry in _list_of(do_section, "bindings", where):
        name, class_name = entry.get("name"), entry.get("class_name")
        if not name or not class_name:
            raise ConfigError(f"{where}: each [[durable_objects.bindings]] needs name and class_name, got {entry}.")
        if entry.get("script_name"):
            raise ConfigError(
                f'{where}: binding {name} uses script_name = "{entry["script_name"]}" (a class of another Worker); '
                "dojo serve runs one Worker, so the class must live in this one."
            )
        backend = storage.get(class_name)
        if backend is None:
            backend = "sqlite"
            notes.append(f"no [[migrations]] entry creates class {class_name}: treated as new_sqlite_classes "
                         "(deploying needs a migration for it).")
        durable_objects.append(DurableObjectBinding(name, class_name, backend))
    backends = {b.storage for b in durable_objects}
    if len(backends) > 1:
        kinds = ", ".join(f"{b.class_name}: {b.storage}" for b in durable_objects)
        notes.append(f"classes disagree on storage ({kinds}); the emulator has one backend per world, "
                     'so all of them run KV-backed (storage="kv").')

    kv_namespaces = []
    for entry in _list_of(data, "kv_namespaces", where):
        binding = entry.get("binding")
        if not binding:
            raise ConfigError(f"{where}: each [[kv_namespaces]] needs a binding, got {entry}.")
        kv_namespaces.append(binding)

    variables = data.get("vars", {}) or {}
    if not isinstance(variables, dict):
        raise ConfigError(f"{where}: vars must be a table of names and values.")
    flags = data.get("compatibility_flags", []) or []
    limits = data.get("limits", {}) or {}
    cpu_ms = limits.get("cpu_ms") if isinstance(limits, dict) else None
    if cpu_ms is not None and (isinstance(cpu_ms, bool) or not isinstance(cpu_ms, int) or not 0 < cpu_ms <= 300_000):
        raise ConfigError(f"{where}: limits.cpu_ms must be a whole number of milliseconds from 1 to 300000, "
                          f"not {cpu_ms!r}.")
    return WorkerConfig(
        path=path,
        name=str(data.get("name") or os.path.basename(folder) or "worker"),
        main=main_path,
        compatibility_date=data.get("compatibility_date"),
        compatibility_flags=list(flags),
        durable_objects=durable_objects,
        kv_namespaces=kv_namespaces,
        vars=dict(variables),
        notes=notes,
        cpu_ms=cpu_ms,
    )


def _storage_by_class(migrations: list, where: str) -> dict[str, str]:
    """Replay the migrations in order: which classes exist, and on which backend."""
    storage: dict[str, str] = {}
    for migration in migrations:
        if not isinstance(migration, dict):
            raise ConfigError(f"{where}: each [[migrations]] entry must be a table.")
        for name in migration.get("new_sqlite_classes", []) or []:
            storage[name] = "sqlite"
        for name in migration.get("new_classes", []) or []:
            storage[name] = "kv"
        for rename in migration.get("renamed_classes", []) or []:
            old, new = rename.get("from"), rename.get("to")
            if old in storage and new:
                storage[new] = storage.pop(old)
        for moved in migration.get("transferred_classes", []) or []:
            new = moved.get("to")
            if new and new not in storage:
                storage[new] = "sqlite"
        for name in migration.get("deleted_classes", []) or []:
            storage.pop(name, None)
    return storage


# ----- loading the code -----


def load_module(path: str, name: str | None = None):
    """Import the Worker's entry module from its file; its folder goes first on sys.path so
    that it imports its sibling modules as top-level modules, as on the platform."""
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = name or os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"Cannot import {path}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def find_entrypoint(module) -> type:
    """The module's `WorkerEntrypoint` subclass named `Default`, or its only one."""
    from .workers_api import WorkerEntrypoint

    found = [value for value in vars(module).values()
             if isinstance(value, type) and issubclass(value, WorkerEntrypoint) and value is not WorkerEntrypoint]
    for cls in found:
        if cls.__name__ == "Default":
            return cls
    if len(found) == 1:
        return found[0]
    where = getattr(module, "__file__", module.__name__)
    if not found:
        raise ConfigError(f"{where} defines no Worker: add `class Default(WorkerEntrypoint)` with an "
                          "`async def fetch(self, request)`.")
    names = ", ".join(sorted(c.__name__ for c in found))
    raise ConfigError(f"{where} defines several WorkerEntrypoint classes ({names}) and none is named Default.")


def load_worker(config: WorkerConfig, fallback=None) -> LoadedWorker:
    """Import `main` and resolve the entrypoint and the Durable Object classes. `fallback(module)`
    may supply an entrypoint for a module with no `WorkerEntrypoint` class (module-level
    handlers: `project.module_entrypoint`)."""
    from .workers_api import DurableObject

    if not os.path.isfile(config.main):
        raise ConfigError(f"main = {os.path.relpath(config.main, config.folder)} does not exist "
                          f"(looked for {config.main}).")
    module = load_module(config.main)
    try:
        entrypoint = find_entrypoint(module)
    except ConfigError:
        entrypoint = fallback(module) if fallback is not None else None
        if entrypoint is None:
            raise
    classes: dict[str, type] = {}
    for binding in config.durable_objects:
        cls = getattr(module, binding.class_name, None)
        if not isinstance(cls, type):
            raise ConfigError(f"Binding {binding.name} names class_name = \"{binding.class_name}\", but "
                              f"{os.path.basename(config.main)} has no such class.")
        if not issubclass(cls, DurableObject):
            config.notes.append(f"{binding.class_name} does not extend workers.DurableObject "
                                "(RPC methods need it on the platform).")
        classes[binding.name] = cls
    return LoadedWorker(config, module, entrypoint, classes)
