"""`dojo review`: the seed's review checklist as a static review of Durable Object code.

The review reads Python source (with `ast`; nothing is imported or run) and reports findings as
`file:line: CODE message`. Each rule is one small class below with a `code` (`DO1xx`
architecture, `DO2xx` lifecycle, `DO3xx` state, `DO4xx` performance, `DO5xx` WebSockets), the
checklist `category`, a one-line `message`, an `explanation` that cites the platform rule and the
Cloudflare docs page, and `check(module)`, which yields the offending nodes.

What the review knows about the code:

* Durable Object classes are subclasses of `DurableObject` (imported from `workers`, under any
  alias, or `workers.DurableObject`), directly or through another class of the same file. Worker
  entrypoints are subclasses of `WorkerEntrypoint` (their `fetch`), or a module-level `on_fetch`.
* Handlers are found by name (`fetch`, `alarm`, `webSocketMessage`, `webSocketClose`,
  `webSocketError`); every other public method is an RPC method. `__init__` is the constructor.
* Storage is anything reached through an attribute named `storage` (`self.ctx.storage`,
  `ctx.storage`), a name or a field bound to it, or the `txn` of a `transaction()` callback.

* Awaits open the input gate when they are known to (`fetch`, a stub or binding call, a timer, a
  helper method or function that does one of these); unknown awaits are treated as closed.
* The compatibility date (for the close handshake) comes from the nearest `wrangler.toml` /
  `wrangler.jsonc` above the file, up to the repository root; without one, a current date.

Precision comes first: a rule that cannot tell stays silent. A finding can be silenced on its
line with `# dojo: ignore[DO301]` (several codes: `# dojo: ignore[DO301,DO302]`; every code:
`# dojo: ignore`). `review_paths(paths)`, `review_files(files)`, `review_source(source, path)`,
`explain(code)` and `render_checklist_markdown()` are the entry points; `RULES` is the rule list.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator

from .._core.runtime import AUTO_REPLY_TO_CLOSE_FROM  # the date from which the runtime answers close frames

DOCS = "https://developers.cloudflare.com"

CATEGORIES = {
    "architecture": "Architecture",
    "lifecycle": "Lifecycle",
    "state": "State",
    "performance": "Performance",
    "websockets": "WebSockets",
}
CHECKLIST_QUESTIONS = {
    "architecture": "DO vs KV/R2 chosen well? The right id strategy (named, hex, unique)? One DO per what "
                    "(user, room, resource)?",
    "lifecycle": "Constructor synchronous? Async initialisation done safely? Cleanup in close handlers?",
    "state": "Persisted to storage? Not relying on in-memory state? Transactions for atomic changes?",
    "performance": "The event loop never blocked? Requests handled quickly? Alarms for scheduled work?",
    "websockets": "Connections tracked? Cleaned up on close? Broadcast efficient?",
}

HANDLER_NAMES = frozenset({"fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError"})
WS_HANDLERS = frozenset({"webSocketMessage", "webSocketClose", "webSocketError"})
KV_ASYNC_METHODS = frozenset({"get", "put", "delete", "list", "deleteAll", "getAlarm", "setAlarm", "deleteAlarm",
                              "transaction", "sync"})
KV_READS = frozenset({"get", "list", "getAlarm"})
KV_WRITES = frozenset({"put", "delete"})
HEAVY_LOOP_ITERATIONS = 10_000  # a constant range() at least this long is heavy work for a constructor
HEAVY_CALLS = frozenset({"hashlib.pbkdf2_hmac", "hashlib.scrypt", "bcrypt.hashpw", "bcrypt.kdf"})
CLOCK_CALLS = frozenset({"time.time", "time.monotonic", "time.perf_counter", "time.time_ns", "time.monotonic_ns",
                         "time.perf_counter_ns", "js.Date.now", "Date.now", "datetime.datetime.now",
                         "datetime.datetime.utcnow"})
MIN_TIMER_SECONDS = 1.0  # asyncio.sleep(n) with a constant n below this is a yield or simulated work, not a timer
LONG_TIMER_SECONDS = 60.0  # a request handler that sleeps this long is waiting for a schedule, not for a retry
MUTATING_METHODS = frozenset({"append", "add", "update", "extend", "insert", "setdefault", "pop", "popitem",
                              "remove", "discard", "clear", "appendleft", "extendleft", "popleft", "sort",
                              "reverse"})
REMOVING_METHODS = frozenset({"discard", "remove", "pop", "popitem", "clear", "popleft"})
SQL_WRITE = re.compile(r"^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"
                       r"[\"`\[]?(\w+)", re.IGNORECASE)
SQL_READ = re.compile(r"^\s*SELECT\b.*?\bFROM\s+[\"`\[]?(\w+)", re.IGNORECASE | re.DOTALL)
IGNORE_COMMENT = re.compile(r"#\s*dojo:\s*ignore(?:\[([A-Za-z0-9_,\s]*)\])?")

FunctionNode = (ast.FunctionDef, ast.AsyncFunctionDef)
ScopeNode = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


# ======================================================================================
# Findings
# ======================================================================================


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place: `path:line: CODE message`."""

    path: str
    line: int
    col: int
    code: str
    message: str
    category: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)


class ReviewError(Exception):
    """A file that cannot be reviewed (missing, or not Python that parses)."""


# ======================================================================================
# AST helpers
# ======================================================================================


def _pos(node: ast.AST) -> tuple[int, int]:
    return (node.lineno, node.col_offset)


def _end(node: ast.AST) -> tuple[int, int]:
    return (node.end_lineno or node.lineno, node.end_col_offset or 0)


def walk_scope(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node` (not `node` itself) without entering nested functions, lambdas and
    classes (their code runs at another time)."""
    stack = list(ast.iter_child_nodes(node))
    stack.reverse()
    while stack:
        child = stack.pop()
        yield child
        if isinstance(child, ScopeNode):
            continue
        grandchildren = list(ast.iter_child_nodes(child))
        grandchildren.reverse()
        stack.extend(grandchildren)


def body_nodes(fn: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's own body (a lambda's expression), nested scopes excluded."""
    if isinstance(fn, ast.Lambda):
        yield fn.body
        yield from walk_scope(fn.body)
        return
    for stmt in fn.body:
        yield stmt
        if not isinstance(stmt, ScopeNode):
            yield from walk_scope(stmt)


def is_self_attr(node: ast.AST, attr: str | None = None) -> bool:
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
            and (attr is None or node.attr == attr))


def self_field(node: ast.AST) -> str | None:
    """`self.x` -> "x"."""
    return node.attr if is_self_attr(node) else None


def base_self_field(node: ast.AST) -> str | None:
    """The field at the root of `self.x[...]`, `self.x.y`: "x"."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        if is_self_attr(node):
            return node.attr
        node = node.value
    return None


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def mentions_self_field(node: ast.AST, field: str) -> bool:
    return any(is_self_attr(n, field) for n in ast.walk(node))


def const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def const_number(node: ast.AST | None) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp):
        left, right = const_number(node.left), const_number(node.right)
        if left is not None and right is not None:
            try:
                return float(eval(compile(ast.Expression(node), "<const>", "eval"), {"__builtins__": {}}))  # noqa: S307
            except Exception:  # noqa: BLE001
                return None
    return None


def key_of(node: ast.AST) -> str:
    return ast.dump(node)


class Parents:
    """Parent links of a function's nodes, to tell whether two nodes can both run."""

    def __init__(self, root: ast.AST):
        self.parent: dict[int, tuple[ast.AST, str]] = {}
        for node in ast.walk(root):
            for field, value in ast.iter_fields(node):
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.AST):
                            self.parent[id(item)] = (node, field)
                elif isinstance(value, ast.AST):
                    self.parent[id(value)] = (node, field)

    def of(self, node: ast.AST) -> ast.AST | None:
        entry = self.parent.get(id(node))
        return entry[0] if entry else None

    def chain(self, node: ast.AST) -> list[tuple[ast.AST, str, ast.AST]]:
        """(ancestor, field of the ancestor that holds the path, child on the path), nearest first."""
        out = []
        while id(node) in self.parent:
            parent, field = self.parent[id(node)]
            out.append((parent, field, node))
            node = parent
        return out

    def ancestors(self, node: ast.AST) -> list[ast.AST]:
        return [a for a, _, _ in self.chain(node)]

    def exclusive(self, a: ast.AST, b: ast.AST) -> bool:
        """True if `a` and `b` sit on branches of which at most one runs (if/else, try/except, match)."""
        chain_a = {id(anc): (field, child) for anc, field, child in self.chain(a)}
        for anc, field_b, child_b in self.chain(b):
            if id(anc) in chain_a:
                field_a, child_a = chain_a[id(anc)]
                if isinstance(anc, (ast.If, ast.IfExp)) and field_a != field_b and "test" not in (field_a, field_b):
                    return True
                if isinstance(anc, ast.Try) and field_a != field_b and "finalbody" not in (field_a, field_b):
                    return True
                if isinstance(anc, ast.Try) and field_a == field_b == "handlers" and child_a is not child_b:
                    return True
                if isinstance(anc, ast.Match) and field_a == field_b == "cases" and child_a is not child_b:
                    return True
                return False
        return False

    def flows_to(self, a: ast.AST, b: ast.AST) -> bool:
        """False when, after `a`, a `return`/`raise` always ends the function before `b` (a write in
        an `if` branch that returns, then code after the `if`)."""
        chain_b = {id(anc): child for anc, _field, child in self.chain(b)}
        for anc, field, child in self.chain(a):
            block = getattr(anc, field, None)
            if isinstance(block, list) and child in block:
                after = block[block.index(child) + 1:]
                if id(anc) in chain_b:  # the common block: only what lies between a and b counts
                    other = chain_b[id(anc)]
                    if other in block and block.index(other) > block.index(child):
                        after = block[block.index(child) + 1:block.index(other)]
                    elif other in block:
                        return True
                    else:
                        after = []
                if any(isinstance(stmt, (ast.Return, ast.Raise)) for stmt in after):
                    return False
            if id(anc) in chain_b:
                return True
        return True

    def inside(self, node: ast.AST, kinds, stop: ast.AST | None = None) -> bool:
        for anc in self.ancestors(node):
            if anc is stop:
                return False
            if isinstance(anc, kinds):
                return True
        return False


# ======================================================================================
# The model of a file: imports, Durable Object classes, Worker entrypoints
# ======================================================================================


def _resolve_callback(cls: "ClassInfo", local_defs: dict[str, ast.AST], node: ast.AST) -> ast.AST | None:
    """The function a callback argument stands for: a lambda, a function defined in the method (by
    its name in `local_defs`), or `self.method`; None when it is something else."""
    if isinstance(node, ast.Lambda):
        return node
    if isinstance(node, ast.Name) and node.id in local_defs:
        return local_defs[node.id]
    if is_self_attr(node) and node.attr in cls.methods:
        return cls.methods[node.attr]
    return None


class ClassInfo:
    """A Durable Object class (or a Worker entrypoint) and what the rules need to know of it."""

    def __init__(self, module: "Module", node: ast.ClassDef, kind: str):
        self.module = module
        self.node = node
        self.kind = kind  # "do" or "worker"
        self.name = node.name
        self.methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {
            stmt.name: stmt for stmt in node.body if isinstance(stmt, FunctionNode)
        }
        self.init = self.methods.get("__init__")
        self.storage_fields: set[str] = set()  # self.x = ctx.storage
        self.sql_fields: set[str] = set()  # self.x = ctx.storage.sql
        self.kv_fields: set[str] = set()  # self.x = ctx.storage.kv
        if self.init is not None:
            for node_ in walk_scope(self.init):
                if isinstance(node_, ast.Assign):
                    for target in node_.targets:
                        field = self_field(target)
                        if field is None:
                            continue
                        kind_ = _storage_object_kind(node_.value, set(), set(), set(), self)
                        if kind_ == "storage":
                            self.storage_fields.add(field)
                        elif kind_ == "sql":
                            self.sql_fields.add(field)
                        elif kind_ == "kv":
                            self.kv_fields.add(field)
        self.protected_fns: set[int] = set()  # ids of callbacks of blockConcurrencyWhile / transaction
        self.protected_kind: dict[int, str] = {}
        self.protected_callback: dict[int, ast.AST] = {}  # id of a blockConcurrencyWhile/transaction call: its callback
        self.txn_params: dict[int, str] = {}
        self._find_protected()
        self.calls: dict[str, set[str]] = {name: set() for name in self.methods}  # method: self-methods it names
        for name, _node, owner in self.self_method_refs():
            self.calls[owner.name].add(name)
        self.init_only = self._init_only_methods()
        self.alarm_only = self._only_reached_from("alarm")
        self.socket_adds: dict[str, ast.AST] = {}  # field: the first node that adds a socket to it
        self._find_socket_adds()
        self.socket_fields = set(self.socket_adds)
        self._opens_gate_memo: dict[str, bool | None] = {}

    # ----- structure -----

    @property
    def handler_methods(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        """Every method that runs for a request, an alarm or a socket event (not the constructor)."""
        return [m for name, m in self.methods.items() if name != "__init__" and name not in self.init_only]

    @property
    def public_methods(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        return [m for name, m in self.methods.items() if not name.startswith("_")]

    def self_method_refs(self) -> Iterator[tuple[str, ast.AST, ast.FunctionDef | ast.AsyncFunctionDef]]:
        """(method name, the `self.m` node, the method it appears in) for every reference."""
        for owner in self.methods.values():
            for node in ast.walk(owner):
                if is_self_attr(node) and node.attr in self.methods:
                    yield node.attr, node, owner

    def _find_protected(self) -> None:
        """Callbacks passed to `blockConcurrencyWhile` and `transaction` run with the gate closed."""
        for method in self.methods.values():
            local_defs = {n.name: n for n in ast.walk(method) if isinstance(n, FunctionNode) and n is not method}
            for call in ast.walk(method):
                if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute) or not call.args:
                    continue
                attr = call.func.attr
                if attr not in ("blockConcurrencyWhile", "transaction", "transactionSync"):
                    continue
                if attr != "blockConcurrencyWhile" and not _is_storage_object(call.func.value, self):
                    continue
                fn = _resolve_callback(self, local_defs, call.args[0])
                if fn is None:
                    continue
                self.protected_callback[id(call)] = fn
                self.protected_fns.add(id(fn))
                self.protected_kind[id(fn)] = "bcw" if attr == "blockConcurrencyWhile" else "transaction"
                args = fn.args.args
                params = [a.arg for a in args if a.arg != "self"]
                if attr == "transaction" and params:
                    self.txn_params[id(fn)] = params[0]

    def reach(self, starts: Iterable[str]) -> set[str]:
        """The methods among `starts`, and every method they call through `self`, directly or not."""
        seen: set[str] = set()
        todo = list(starts)
        while todo:
            name = todo.pop()
            if name not in seen and name in self.methods:
                seen.add(name)
                todo.extend(self.calls[name])
        return seen

    def _init_only_methods(self) -> set[str]:
        """Private methods reached from the constructor and from no handler (loaders, migrations)."""
        if self.init is None:
            return set()
        from_handlers = self.reach(n for n in self.methods if not n.startswith("_"))
        from_init = self.reach(self.calls["__init__"])
        return {n for n in from_init - from_handlers if n.startswith("_") and not n.startswith("__")}

    def _only_reached_from(self, root: str) -> set[str]:
        """`root` and the private methods only it reaches (an alarm handler and its helpers)."""
        if root not in self.methods:
            return set()
        others = self.reach(n for n in self.methods if not n.startswith("_") and n != root)
        return {root} | {n for n in self.reach({root}) - others if n.startswith("_")}

    def _find_socket_adds(self) -> None:
        """Fields that hold WebSockets (a socket is added to them, as an element, key or value)."""
        for method in self.methods.values():
            for fn in [method] + [n for n in ast.walk(method) if isinstance(n, (*FunctionNode, ast.Lambda))
                                  and n is not method]:
                sockets = socket_names(fn, self, method)
                if not sockets:
                    continue
                for node in body_nodes(fn):
                    field = socket_collection_add(node, sockets)
                    if field:
                        self.socket_adds.setdefault(field, node)

    # ----- the input gate -----

    def method_opens_gate(self, name: str, depth: int = 0) -> bool:
        """Whether calling `self.name()` awaits something that opens the input gate."""
        if name in self._opens_gate_memo:
            return bool(self._opens_gate_memo[name])
        self._opens_gate_memo[name] = None  # cycle guard
        method = self.methods.get(name)
        result = False
        if method is not None and depth < 8:
            scope = FunctionScope(self.module, self, method)
            result = any(scope.await_opens_gate(a, depth + 1) for a in scope.awaits)
        self._opens_gate_memo[name] = result
        return result


class Module:
    """One parsed file."""

    def __init__(self, path: str, source: str, compatibility_date: str | None = None,
                 compatibility_flags: Iterable[str] | None = None):
        self.path = path
        self.source = source
        if compatibility_date is None and compatibility_flags is None:
            compatibility_date, compatibility_flags = find_compatibility(path)
        self.compatibility_date = compatibility_date
        self.compatibility_flags = set(compatibility_flags or ())
        # the runtime answers a client's close frame itself (semantics 7.9): a current date, or none known
        self.auto_close_reply = (
            compatibility_date is None or compatibility_date >= AUTO_REPLY_TO_CLOSE_FROM
            or "web_socket_auto_reply_to_close" in self.compatibility_flags
        ) and "web_socket_manual_reply_to_close" not in self.compatibility_flags
        try:
            self.tree = ast.parse(source, filename=path)
        except SyntaxError as exc:
            raise ReviewError(f"{path}:{exc.lineno}: cannot parse: {exc.msg}") from exc
        self._parents: dict[int, Parents] = {}
        self.imports: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                        alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        self.functions = {n.name: n for n in self.tree.body if isinstance(n, FunctionNode)}
        self.constants = {
            t.id: n.value.value for n in self.tree.body if isinstance(n, ast.Assign)
            for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)
        }
        self.do_classes: list[ClassInfo] = []
        self.worker_classes: list[ClassInfo] = []
        do_names: set[str] = set()
        worker_names: set[str] = set()
        for node in self.tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {self.resolve(b) for b in node.bases}
            if bases & {"workers.DurableObject"} or {b for b in bases if b in do_names}:
                do_names.add(node.name)
                self.do_classes.append(ClassInfo(self, node, "do"))
            elif bases & {"workers.WorkerEntrypoint"} or {b for b in bases if b in worker_names}:
                worker_names.add(node.name)
                self.worker_classes.append(ClassInfo(self, node, "worker"))
        self.ignores = self._ignores()

    def resolve(self, node: ast.AST | None) -> str | None:
        """The dotted name an expression stands for, through the file's imports."""
        if isinstance(node, ast.Name):
            return self.imports.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return None if base is None else f"{base}.{node.attr}"
        return None

    def parents(self, fn: ast.AST) -> Parents:
        """The parent links of `fn`'s nodes, built once per function of the file."""
        found = self._parents.get(id(fn))
        if found is None:
            found = self._parents[id(fn)] = Parents(fn)
        return found

    def call_name(self, call: ast.AST) -> str | None:
        return self.resolve(call.func) if isinstance(call, ast.Call) else None

    def worker_fetches(self) -> list[ast.AST]:
        out = [c.methods["fetch"] for c in self.worker_classes if "fetch" in c.methods]
        if "on_fetch" in self.functions:
            out.append(self.functions["on_fetch"])
        return out

    def _ignores(self) -> dict[int, set[str] | None]:
        out: dict[int, set[str] | None] = {}
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(self.source).readline))
        except (tokenize.TokenError, SyntaxError):
            return out
        for tok in tokens:
            if tok.type != tokenize.COMMENT:
                continue
            match = IGNORE_COMMENT.search(tok.string)
            if not match:
                continue
            codes = match.group(1)
            line = tok.start[0]
            if codes is None or not codes.strip():
                out[line] = None
            elif line not in out or out[line] is not None:
                out[line] = (out.get(line) or set()) | {c.strip().upper() for c in codes.split(",") if c.strip()}
        return out

    def ignored(self, line: int, code: str) -> bool:
        if line not in self.ignores:
            return False
        codes = self.ignores[line]
        return codes is None or code in codes


def find_compatibility(path: str) -> tuple[str | None, list[str] | None]:
    """The compatibility date and flags of the nearest wrangler config above `path` (the search
    stops at the repository root: a folder with `.git` or `pyproject.toml`)."""
    if not path or path.startswith("<"):
        return None, None
    from .._core.wrangler import CONFIG_NAMES

    folder = os.path.dirname(os.path.abspath(path))
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                data = _read_wrangler(candidate)
                if data is not None:
                    date = data.get("compatibility_date")
                    flags = data.get("compatibility_flags") or []
                    return (date if isinstance(date, str) else None), [f for f in flags if isinstance(f, str)]
        if any(os.path.exists(os.path.join(folder, marker)) for marker in (".git", "pyproject.toml")):
            return None, None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None, None
        folder = parent


def _read_wrangler(path: str) -> dict | None:
    from .._core.wrangler import parse_config

    try:
        with open(path, encoding="utf-8") as handle:
            return parse_config(handle.read(), path)
    except Exception:  # noqa: BLE001 - a config we cannot read tells us nothing
        return None


# ----- storage, sockets -----


def _is_storage_object(node: ast.AST, cls: ClassInfo | None, names: set[str] = frozenset()) -> bool:
    return _storage_object_kind(node, names, set(), set(), cls) == "storage"


def _storage_object_kind(node: ast.AST, storage_names: set[str], sql_names: set[str], kv_names: set[str],
                         cls: ClassInfo | None) -> str | None:
    """"storage" for `ctx.storage` and aliases, "sql" for `ctx.storage.sql`, "kv" for `ctx.storage.kv`."""
    if isinstance(node, ast.Attribute):
        if node.attr == "storage":
            return "storage"
        if node.attr in ("sql", "kv") and _storage_object_kind(node.value, storage_names, sql_names, kv_names,
                                                               cls) == "storage":
            return node.attr
        field = self_field(node)
        if field is not None and cls is not None:
            if field in cls.storage_fields:
                return "storage"
            if field in cls.sql_fields:
                return "sql"
            if field in cls.kv_fields:
                return "kv"
        return None
    if isinstance(node, ast.Name):
        if node.id in storage_names:
            return "storage"
        if node.id in sql_names:
            return "sql"
        if node.id in kv_names:
            return "kv"
    return None


def socket_names(fn: ast.AST, cls: ClassInfo | None, method: ast.AST | None = None) -> set[str]:
    """Names that hold a server WebSocket in `fn`: ends of a `WebSocketPair`, the `ws` parameter of
    the Hibernation API handlers, and names copied from those."""
    module = cls.module if cls is not None else None
    out: set[str] = set()
    if isinstance(fn, FunctionNode) and fn.name in WS_HANDLERS:
        params = [a.arg for a in fn.args.args if a.arg != "self"]
        if params:
            out.add(params[0])
    pairs: set[str] = set()
    scopes = [fn] if method is None or method is fn else [method, fn]
    for scope in scopes:
        for node in body_nodes(scope):
            if not isinstance(node, ast.Assign):
                continue
            value = node.value
            is_pair = isinstance(value, ast.Call) and module is not None and (
                (module.call_name(value) or "").endswith("WebSocketPair.new")
                or (module.call_name(value) or "").endswith("WebSocketPair"))
            from_pair = (isinstance(value, ast.Name) and value.id in pairs) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and value.func.attr in ("object_values", "values") and names_in(value) & pairs)
            for target in node.targets:
                if isinstance(target, (ast.Tuple, ast.List)) and (is_pair or from_pair):
                    out.update(e.id for e in target.elts if isinstance(e, ast.Name))
                elif isinstance(target, ast.Name):
                    if is_pair:
                        pairs.add(target.id)
                    elif isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) \
                            and value.value.id in pairs:
                        out.add(target.id)
                    elif isinstance(value, ast.Name) and value.id in out:
                        out.add(target.id)
    return out


def _contains_socket(node: ast.AST, sockets: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in sockets
    if isinstance(node, (ast.Dict, ast.Tuple, ast.List, ast.Set)):
        return any(isinstance(n, ast.Name) and n.id in sockets for n in ast.walk(node))
    if isinstance(node, ast.Call):  # Session(ws=server), dict(ws=server)
        return any(_contains_socket(a, sockets) for a in node.args) or any(
            _contains_socket(k.value, sockets) for k in node.keywords)
    return False


def socket_collection_add(node: ast.AST, sockets: set[str]) -> str | None:
    """The field a socket is put into by `node`: `self.x.add(ws)`, `self.x[k] = ws`, `self.x[ws] = v`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in ("add", "append", "insert", "appendleft", "update", "setdefault", "extend"):
        field = base_self_field(node.func.value)
        if field and any(_contains_socket(a, sockets) for a in node.args):
            return field
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Subscript):
                field = base_self_field(target.value)
                if field and (_contains_socket(node.value, sockets) or _contains_socket(target.slice, sockets)):
                    return field
    return None


# ======================================================================================
# One function's view: its storage names, awaits, reads and writes
# ======================================================================================


@dataclass
class StorageOp:
    call: ast.Call
    api: str  # "kv", "sql", "synckv"
    method: str
    keys: list[str] | None  # dumped key expressions, or ("sql", table); None when unknown
    awaited: bool


class FunctionScope:
    def __init__(self, module: Module, cls: ClassInfo | None, fn: ast.AST):
        self.module = module
        self.cls = cls
        self.fn = fn
        self.storage_names: set[str] = set()
        self.sql_names: set[str] = set()
        self.kv_names: set[str] = set()
        self.stub_names: set[str] = set()
        if cls is not None and id(fn) in cls.txn_params:
            self.storage_names.add(cls.txn_params[id(fn)])
        nodes = list(body_nodes(fn))
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                kind = self.object_kind(node.value)
                if kind == "storage":
                    self.storage_names.add(name)
                elif kind == "sql":
                    self.sql_names.add(name)
                elif kind == "kv":
                    self.kv_names.add(name)
                elif self._is_stub_expr(node.value):
                    self.stub_names.add(name)
        self.nodes = nodes
        self.parents = module.parents(fn)
        self.awaits = [n for n in nodes if isinstance(n, ast.Await)]
        self.ops = [op for op in (self.storage_op(n) for n in nodes if isinstance(n, ast.Call)) if op is not None]

    def object_kind(self, node: ast.AST) -> str | None:
        return _storage_object_kind(node, self.storage_names, self.sql_names, self.kv_names, self.cls)

    def _is_stub_expr(self, node: ast.AST) -> bool:
        """`env.X.getByName(...)`, `self.env.X.get(id)`: a stub of another object."""
        if isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("get", "getByName"):
            return self._through_env(node.func.value)
        return False

    def _through_env(self, node: ast.AST) -> bool:
        while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
            if isinstance(node, ast.Attribute) and node.attr == "env":
                return True
            node = node.func if isinstance(node, ast.Call) else node.value
        return isinstance(node, ast.Name) and (node.id == "env" or self.module.imports.get(node.id) == "workers.env")

    def storage_op(self, call: ast.Call) -> StorageOp | None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        kind = self.object_kind(func.value)
        awaited = isinstance(self.parents.of(call), ast.Await)
        if kind == "storage" and func.attr in KV_ASYNC_METHODS | {"transactionSync", "deleteAll"}:
            return StorageOp(call, "kv", func.attr, self._kv_keys(func.attr, call), awaited)
        if kind == "kv" and func.attr in ("get", "put", "delete", "list"):
            return StorageOp(call, "synckv", func.attr, self._kv_keys(func.attr, call), awaited)
        if kind == "sql" and func.attr == "exec":
            query = const_str(call.args[0]) if call.args else None
            if query is None:
                return StorageOp(call, "sql", "exec", None, awaited)
            write = SQL_WRITE.match(query)
            read = SQL_READ.match(query)
            if write:
                return StorageOp(call, "sql", "write", [f"sql:{write.group(1).lower()}"], awaited)
            if read:
                return StorageOp(call, "sql", "read", [f"sql:{read.group(1).lower()}"], awaited)
            return StorageOp(call, "sql", "exec", None, awaited)
        return None

    @staticmethod
    def _kv_keys(method: str, call: ast.Call) -> list[str] | None:
        if method not in ("get", "put", "delete") or not call.args:
            return None
        first = call.args[0]
        if isinstance(first, ast.Dict):
            if all(k is not None for k in first.keys):
                return [key_of(k) for k in first.keys]
            return None
        if isinstance(first, (ast.List, ast.Tuple)):
            return [key_of(e) for e in first.elts]
        return [key_of(first)]

    def is_read(self, op: StorageOp) -> bool:
        return (op.api in ("kv", "synckv") and op.method == "get") or (op.api == "sql" and op.method == "read")

    def is_write(self, op: StorageOp) -> bool:
        return (op.api in ("kv", "synckv") and op.method in KV_WRITES) or (op.api == "sql" and op.method == "write")

    # ----- what an await does to the input gate -----

    def await_opens_gate(self, node: ast.Await, depth: int = 0) -> bool:
        """True only when the awaited thing is known to let other events in (fetch, another
        object, a timer, a binding, a helper that does one of these). Unknown awaits: False."""
        return self.expr_opens_gate(node.value, depth)

    def expr_opens_gate(self, value: ast.AST, depth: int = 0) -> bool:
        if isinstance(value, ast.Call):
            func = value.func
            if self.storage_op(value) is not None:
                return False
            name = self.module.call_name(value) or ""
            if name in ("workers.fetch", "fetch", "js.fetch"):
                return True
            if name in ("asyncio.sleep", "js.scheduler.wait", "scheduler.wait"):
                return True
            if name in ("asyncio.gather", "asyncio.wait"):
                return any(self.expr_opens_gate(a, depth) for a in value.args)
            if name == "asyncio.wait_for":
                return bool(value.args) and self.expr_opens_gate(value.args[0], depth)
            if isinstance(func, ast.Attribute):
                if func.attr in ("blockConcurrencyWhile",):
                    return False
                if func.attr == "fetch":
                    return True
                if self._through_env(func.value):
                    return True
                if isinstance(func.value, ast.Name) and func.value.id in self.stub_names:
                    return True
                if self._is_stub_expr(func.value):
                    return True
                if is_self_attr(func) and self.cls is not None and func.attr in self.cls.methods:
                    return self.cls.method_opens_gate(func.attr, depth)
            if isinstance(func, ast.Name) and func.id in self.module.functions and depth < 8:
                scope = FunctionScope(self.module, None, self.module.functions[func.id])
                return any(scope.await_opens_gate(a, depth + 1) for a in scope.awaits)
        return False


# ======================================================================================
# Rules
# ======================================================================================


class Rule:
    code = ""
    category = ""
    title = ""  # the checklist item, a few words
    message = ""
    explanation = ""

    def check(self, module: Module) -> Iterable[tuple[ast.AST, str | None]]:
        raise NotImplementedError

    def findings(self, module: Module) -> list[Finding]:
        out = []
        seen = set()
        for node, detail in self.check(module):
            line = getattr(node, "lineno", 1)
            col = getattr(node, "col_offset", 0)
            if module.ignored(line, self.code) or (line, col) in seen:
                continue
            seen.add((line, col))
            message = self.message if not detail else f"{self.message} ({detail})"
            out.append(Finding(module.path, line, col + 1, self.code, message, self.category))
        return out


RULES: list[Rule] = []


def rule(cls):
    RULES.append(cls())
    return cls


def _all_code_functions(module: Module) -> Iterator[tuple[ClassInfo | None, ast.AST]]:
    """Functions of DO classes, Worker entrypoints and `on_fetch`: the code that runs on the platform."""
    for cls in module.do_classes + module.worker_classes:
        for method in cls.methods.values():
            yield cls, method
    if "on_fetch" in module.functions:
        yield None, module.functions["on_fetch"]


def _platform_functions(module: Module) -> list[ast.AST]:
    """Methods of DO classes and Worker entrypoints, `on_fetch`, and the module's functions they
    call (by name): the code that runs on the platform, not a test or a script in the same file."""
    out: list[ast.AST] = []
    for cls in module.do_classes + module.worker_classes:
        out.extend(cls.methods.values())
    if "on_fetch" in module.functions:
        out.append(module.functions["on_fetch"])
    seen = {id(f) for f in out}
    todo = list(out)
    while todo:
        fn = todo.pop()
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in module.functions:
                helper = module.functions[node.func.id]
                if id(helper) not in seen:
                    seen.add(id(helper))
                    out.append(helper)
                    todo.append(helper)
    return out


def _unconditional(parents: Parents, node: ast.AST, fn: ast.AST) -> bool:
    for anc, field, _child in parents.chain(node):
        if anc is fn:
            return True
        if isinstance(anc, (ast.If, ast.IfExp, ast.For, ast.AsyncFor, ast.While, ast.Match, ast.ExceptHandler,
                            ast.BoolOp, ast.comprehension, ast.ListComp, ast.SetComp, ast.DictComp,
                            ast.GeneratorExp, ast.Lambda, *FunctionNode)):
            if isinstance(anc, (ast.If, ast.While)) and field == "test":
                continue
            return False
        if isinstance(anc, ast.Try) and field != "body" and field != "finalbody":
            return False
    return True


# ----- DO1xx architecture -----


@rule
class NewUniqueIdPerRequest(Rule):
    code = "DO101"
    category = "architecture"
    title = "newUniqueId() per request"
    message = "newUniqueId() used only to reach an object: every call creates a new, empty object"
    explanation = (
        "`newUniqueId()` returns an id that was never used before, so `get(newUniqueId())` reaches a brand-new "
        "object with empty storage every time: the state written by one request is never seen by the next, and "
        "each call leaves one more object behind. A unique id is for an object you create once and find again "
        "later, so its `toString()` must be kept somewhere (returned to the client, stored, put in a URL) and "
        "read back with `idFromString()`; to reach the same object by a natural key, use `idFromName(key)` or "
        "`getByName(key)`. Platform rule: one id is one object, and a unique id is never handed out twice "
        "(semantics 1.4, 1.13). Docs: " + DOCS + "/durable-objects/api/namespace/ and "
        + DOCS + "/durable-objects/api/id/"
    )

    def check(self, module):
        for fn in _platform_functions(module):
            parents = module.parents(fn)
            nodes = list(body_nodes(fn))
            for call in nodes:
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "newUniqueId"):
                    continue
                parent = parents.of(call)
                if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) \
                        and parent.func.attr == "get" and call in parent.args:
                    if not self._stub_id_used(parent, parents, nodes):
                        yield call, None
                    continue
                if isinstance(parent, ast.Assign) and len(parent.targets) == 1 \
                        and isinstance(parent.targets[0], ast.Name):
                    name = parent.targets[0].id
                    uses = [n for n in nodes if isinstance(n, ast.Name) and n.id == name
                            and isinstance(n.ctx, ast.Load)]
                    if not uses:
                        continue
                    only_get = True
                    for use in uses:
                        user = parents.of(use)
                        if not (isinstance(user, ast.Call) and isinstance(user.func, ast.Attribute)
                                and user.func.attr == "get" and use in user.args
                                and not self._stub_id_used(user, parents, nodes)):
                            only_get = False
                    if only_get:
                        yield call, None

    @staticmethod
    def _stub_id_used(get_call, parents, nodes) -> bool:
        holder = parents.of(get_call)
        if isinstance(holder, ast.Attribute) and holder.attr == "id":
            return True
        if isinstance(holder, ast.Assign) and len(holder.targets) == 1 and isinstance(holder.targets[0], ast.Name):
            stub = holder.targets[0].id
            return any(isinstance(n, ast.Attribute) and n.attr == "id" and isinstance(n.value, ast.Name)
                       and n.value.id == stub for n in nodes)
        return False


def _is_passthrough(fn: ast.AST, cls: ClassInfo) -> tuple[bool, str | None]:
    """A method whose whole body is one storage call on its parameters or constants."""
    body = list(fn.body)
    if body and isinstance(body[0], ast.Expr) and const_str(body[0].value) is not None:
        body = body[1:]  # docstring
    if not body or len(body) > 2:
        return False, None
    scope = FunctionScope(cls.module, cls, fn)
    calls = [n for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Call)]
    ops = [scope.storage_op(c) for c in calls]
    if len(calls) != 1 or ops[0] is None or ops[0].api not in ("kv", "synckv"):
        return False, None
    op = ops[0]
    if op.method not in ("get", "put", "delete", "list"):
        return False, None
    params = {a.arg for a in fn.args.args} - {"self"}
    for arg in list(op.call.args) + [k.value for k in op.call.keywords]:
        if not all(isinstance(n, (ast.Name, ast.Constant, ast.Load, ast.Dict, ast.List, ast.Tuple))
                   for n in ast.walk(arg)):
            return False, None
        if names_in(arg) - params:
            return False, None
    for stmt in body:
        if not isinstance(stmt, (ast.Return, ast.Expr, ast.Assign)):
            return False, None
    return True, op.method


@rule
class DurableObjectAsKeyValueStore(Rule):
    code = "DO102"
    category = "architecture"
    title = "a DO used as a key-value store"
    message = "Durable Object that only gets and puts keys: Workers KV fits this better"
    explanation = (
        "Every public method of this class is a single storage call on its arguments: the object coordinates "
        "nothing, it is a remote key-value store. A Durable Object is for state that needs strong consistency "
        "and coordination (one place that decides, single-threaded); using one object per key, or one object "
        "as a generic store, costs a request, in-memory duration and a round-trip to wherever the object lives "
        "for each lookup, and every key's traffic lands on one single-threaded instance. When eventual "
        "consistency is fine (caches, configuration, sessions, approximate limits) Workers KV serves reads "
        "from the edge for less; keep the Durable Object for the logic that must see and change the data "
        "atomically. Docs: " + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/ and "
        + DOCS + "/kv/"
    )

    def check(self, module):
        for cls in module.do_classes:
            if set(cls.methods) & HANDLER_NAMES:
                continue
            public = [m for m in cls.public_methods]
            if not public:
                continue
            kinds = []
            for method in public:
                ok, kind = _is_passthrough(method, cls)
                if not ok:
                    break
                kinds.append(kind)
            else:
                if {"get", "list"} & set(kinds) and {"put", "delete"} & set(kinds):
                    yield cls.node, None


@rule
class GlobalSingletonOnHotPath(Rule):
    code = "DO103"
    category = "architecture"
    title = "a global singleton on a hot path"
    message = "every request goes to one object named by a constant: a global singleton on the hot path"
    explanation = (
        "The Worker's `fetch` reaches `getByName(\"...\")` / `idFromName(\"...\")` with a constant name on every "
        "request, so all traffic, from everywhere, is serialised through one single-threaded object in one "
        "location. One object handles roughly 500-1,000 simple requests per second (200-500 when each one "
        "writes storage) and answers `overloaded` beyond that. Cloudflare's rate-limiter example calls a "
        "global limiter \"typically considered an anti-pattern\". Name the object after what the request is "
        "about (the user, the room, the tenant: `getByName(f\"user:{user_id}\")`), or shard a hot counter over N "
        "objects and aggregate. Keep a singleton for rare, genuinely global coordination, off the hot path. "
        "Docs: " + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/ and "
        + DOCS + "/durable-objects/examples/build-a-rate-limiter/"
    )

    def check(self, module):
        for fn in module.worker_fetches():
            parents = module.parents(fn)
            for call in body_nodes(fn):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr in ("getByName", "idFromName") and call.args):
                    continue
                arg = call.args[0]
                name = const_str(arg)
                if name is None and isinstance(arg, ast.Name) and isinstance(module.constants.get(arg.id), str):
                    name = module.constants[arg.id]
                if name is None:
                    continue
                if _unconditional(parents, call, fn):
                    yield call, f'"{name}"'


# ----- DO2xx lifecycle -----


def _init_code(cls: ClassInfo) -> Iterator[ast.AST]:
    """Nodes the constructor runs itself (not the callbacks it hands to blockConcurrencyWhile)."""
    if cls.init is None:
        return iter(())
    return (n for n in body_nodes(cls.init))


@rule
class StorageInConstructor(Rule):
    code = "DO201"
    category = "lifecycle"
    title = "storage calls in __init__ outside blockConcurrencyWhile"
    message = "async storage call in the constructor outside blockConcurrencyWhile"
    explanation = (
        "The constructor is synchronous and cannot await, so an async storage call there (`get`, `put`, "
        "`list`, `setAlarm`...) starts an operation nobody waits for: the first request can run before the "
        "value arrives, a value read this way is a promise, not the data, and an error is lost. The platform's "
        "pattern is `ctx.blockConcurrencyWhile(load)` in the constructor: no event (request, alarm, socket "
        "message) is delivered until `load` has finished, so state is initialised before anything uses it. "
        "(The synchronous SQL API, `ctx.storage.sql.exec`, and `ctx.storage.kv` are fine in the constructor.) "
        "Docs: " + DOCS + "/durable-objects/api/state/ (blockConcurrencyWhile) and "
        + DOCS + "/durable-objects/concepts/durable-object-lifecycle/"
    )

    def check(self, module):
        for cls in module.do_classes:
            if cls.init is None:
                continue
            scope = FunctionScope(module, cls, cls.init)
            for op in scope.ops:
                if op.api == "kv" and op.method not in ("transactionSync",):
                    yield op.call, f"{op.method}()"


@rule
class AsyncWorkInConstructor(Rule):
    code = "DO202"
    category = "lifecycle"
    title = "async work started in the constructor"
    message = "async work started in the constructor without blockConcurrencyWhile"
    explanation = (
        "The constructor starts a coroutine (a task, `ensure_future`, `waitUntil`, or an `async def` helper "
        "called without `await`) and returns: the object starts taking requests while that work is still "
        "running, so requests see half-initialised state, and a failure in it goes unnoticed. Async "
        "initialisation belongs in `ctx.blockConcurrencyWhile(self._load)`, which holds every event back until "
        "it is done and resets the object if it throws. Docs: " + DOCS + "/durable-objects/api/state/ "
        "(blockConcurrencyWhile) and " + DOCS + "/durable-objects/concepts/durable-object-lifecycle/"
    )
    STARTERS = {"asyncio.create_task", "asyncio.ensure_future", "asyncio.run", "asyncio.run_coroutine_threadsafe"}

    def check(self, module):
        for cls in module.do_classes:
            if cls.init is None:
                continue
            async_methods = {n for n, m in cls.methods.items() if isinstance(m, ast.AsyncFunctionDef)}
            parents = module.parents(cls.init)
            for node in _init_code(cls):
                if not isinstance(node, ast.Call):
                    continue
                name = module.call_name(node) or ""
                func = node.func
                if name in self.STARTERS or (isinstance(func, ast.Attribute) and func.attr in (
                        "create_task", "ensure_future", "waitUntil", "wait_until", "run_until_complete")):
                    yield node, None
                elif is_self_attr(func) and func.attr in async_methods \
                        and not isinstance(parents.of(node), (ast.Await, ast.Call)):
                    yield node, f"self.{func.attr}() is a coroutine"


@rule
class HeavyConstructor(Rule):
    code = "DO203"
    category = "lifecycle"
    title = "heavy work in the constructor"
    message = "heavy work in the constructor, which runs again at every wake-up"
    explanation = (
        "The constructor (and what it runs under `blockConcurrencyWhile`) runs again every time the object "
        "comes back into memory: after idle eviction, after hibernation (for a socket message), after a reset "
        "or a deploy. Long loops (a constant range of 10,000 iterations or more, nested loops counted "
        "together) and expensive computations (key derivation) there delay the first event of every "
        "wake-up and are billed each time. Load only what the next request needs (a few keys, or nothing "
        "with the SQL API), compute lazily on first use and cache the result in storage, and keep one-time "
        "migrations guarded by a stored schema version. Docs: "
        + DOCS + "/durable-objects/concepts/durable-object-lifecycle/ and "
        + DOCS + "/durable-objects/reference/in-memory-state/"
    )

    def check(self, module):
        for cls in module.do_classes:
            if cls.init is None:
                continue
            functions = [cls.init]
            for inner in ast.walk(cls.init):
                if id(inner) in cls.protected_fns:
                    functions.append(inner)
            for name in cls.init_only:
                functions.append(cls.methods[name])
            for fn in functions:
                yield from self._heavy(module, cls, fn)

    def _heavy(self, module, cls, fn):
        scope = FunctionScope(module, cls, fn)
        parents = scope.parents
        for node in scope.nodes:
            if isinstance(node, ast.Call):
                name = module.call_name(node) or ""
                if name in HEAVY_CALLS:
                    yield node, name
            if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                if parents.inside(node, (ast.For, ast.AsyncFor, ast.comprehension), stop=fn):
                    continue  # counted with its outermost loop
                iterations = _loop_iterations(node, parents, fn)
                if iterations is not None and iterations >= HEAVY_LOOP_ITERATIONS:
                    yield (node.iter if isinstance(node, ast.comprehension) else node), \
                        f"loops of {iterations:,} iterations"


def _range_size(node: ast.AST) -> int | None:
    """The length of `range(<constants>)`, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and 1 <= len(node.args) <= 3):
        return None
    values = [const_number(a) for a in node.args]
    if any(v is None for v in values):
        return None
    start, stop, step = (0.0, values[0], 1.0) if len(values) == 1 else (values[0], values[1], values[2] if
                                                                          len(values) == 3 else 1.0)
    if step == 0:
        return None
    return max(0, int((stop - start) / step))


def _loop_iterations(loop: ast.AST, parents: Parents, fn: ast.AST) -> int | None:
    """How many times the innermost body of a loop nest over constant ranges runs (None: unknown)."""
    size = _range_size(loop.iter)
    if size is None:
        return None
    inner = [n for n in ast.walk(loop) if n is not loop and isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension))]
    deepest = 1
    for node in inner:
        sizes = [_range_size(n.iter) for n in [node] + [a for a in parents.ancestors(node)
                                                        if isinstance(a, (ast.For, ast.AsyncFor, ast.comprehension))
                                                        and a is not loop and any(x is a for x in inner)]]
        if all(v is not None for v in sizes):
            product = 1
            for v in sizes:
                product *= v
            deepest = max(deepest, product)
    return size * deepest


@rule
class NoSocketCleanup(Rule):
    code = "DO204"
    category = "lifecycle"
    title = "no cleanup in close handlers"
    message = "sockets are added to a collection that nothing removes them from"
    explanation = (
        "Every connection is added to an in-memory collection, and no close or error handler (or anything "
        "else) ever removes it: the collection grows with every reconnect, broadcasts go on trying closed "
        "sockets, and the object holds memory for clients long gone. Remove the socket in `webSocketClose` "
        "and `webSocketError` (or the `close`/`error` listeners of the standard API), and close it back. "
        "Better, with the Hibernation API the runtime tracks the sockets for you: `ctx.getWebSockets()` only "
        "returns connected ones. Docs: " + DOCS + "/durable-objects/best-practices/websockets/"
    )

    def check(self, module):
        for cls in module.do_classes:
            for field in sorted(cls.socket_fields):
                if not _field_is_cleaned(cls, field):
                    yield cls.socket_adds[field], f"self.{field}"


def _field_is_cleaned(cls: ClassInfo, field: str) -> bool:
    for name, method in cls.methods.items():
        for node in ast.walk(method):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in REMOVING_METHODS and base_self_field(node.func.value) == field:
                return True
            if isinstance(node, ast.Delete) and any(base_self_field(t) == field for t in node.targets):
                return True
            if name != "__init__" and isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(self_field(t) == field for t in targets):
                    return True
    return False


# ----- DO3xx state -----


def _fresh_value(node: ast.AST, module: Module) -> bool:
    """A literal a field starts from: 0, "", None, [], {}, set(), dict(), defaultdict(int)..."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.List, ast.Dict, ast.Set, ast.Tuple)):
        return all(isinstance(n, (ast.Constant, ast.List, ast.Dict, ast.Set, ast.Tuple, ast.Load))
                   for n in ast.walk(node))
    if isinstance(node, ast.Call) and not node.args[1:]:
        name = module.call_name(node) or ""
        return name in ("set", "dict", "list", "collections.defaultdict", "collections.Counter",
                        "collections.deque", "collections.OrderedDict", "defaultdict", "Counter", "deque",
                        "OrderedDict", "int", "float") and all(
            isinstance(a, (ast.Name, ast.Constant)) for a in node.args)
    return False


def _mutations(fn: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(field, node) for in-place changes of `self.field`: `+=`, `self.x = self.x + 1`, `self.x[k] = v`,
    `self.x.append(v)`, `del self.x[k]`."""
    for node in body_nodes(fn):
        if isinstance(node, ast.AugAssign):
            field = base_self_field(node.target)
            if field:
                yield field, node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    field = base_self_field(target)
                    if field:
                        yield field, node
                else:
                    field = self_field(target)
                    if field and mentions_self_field(node.value, field):
                        yield field, node
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in MUTATING_METHODS:
            field = base_self_field(node.func.value)
            if field:
                yield field, node
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    field = base_self_field(target)
                    if field:
                        yield field, node


@rule
class FieldNeverPersisted(Rule):
    code = "DO301"
    category = "state"
    title = "instance fields mutated but never persisted"
    message = "instance field changed by a handler but never written to storage: lost at eviction"
    explanation = (
        "The handler changes a field of the instance (`self.count += 1`, `self.items.append(...)`) and no code "
        "ever writes that field to storage. An instance lives only as long as the runtime keeps it in memory: "
        "idle eviction (70-140 s without events), hibernation (10 s with only hibernatable sockets), a deploy, "
        "a reset or a crash drop every field, and the next request meets a fresh constructor. "
        "\"Single-threaded\" makes the field race-free, not durable. Keep the truth in storage (`put` it, or "
        "use SQL) and treat fields as a cache that is loaded from storage (for example under "
        "`blockConcurrencyWhile` in the constructor). Not flagged: fields loaded from storage, fields named "
        "as caches (`cache`, `memo`), and counters a method both raises and lowers (requests in flight). Docs: "
        + DOCS + "/durable-objects/reference/in-memory-state/ and "
        + DOCS + "/durable-objects/concepts/durable-object-lifecycle/"
    )

    def check(self, module):
        for cls in module.do_classes:
            if cls.init is None:
                continue
            fresh: set[str] = set()
            for stmt in cls.init.body:
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    for target in targets:
                        field = self_field(target)
                        if field and stmt.value is not None and _fresh_value(stmt.value, module):
                            fresh.add(field)
            candidates = {f for f in fresh - cls.socket_fields if not CACHE_NAME.search(f)}
            candidates -= _balanced_counters(cls)
            if not candidates:
                continue
            persisted, loaded = _persisted_and_loaded_fields(cls)
            first: dict[str, ast.AST] = {}
            for method in cls.handler_methods:
                fns = [method] + [n for n in ast.walk(method) if isinstance(n, (*FunctionNode, ast.Lambda))
                                  and n is not method]
                for fn in fns:
                    for field, node in _mutations(fn):
                        if field in candidates and field not in persisted and field not in loaded:
                            if field not in first or _pos(node) < _pos(first[field]):
                                first[field] = node
            for field, node in sorted(first.items(), key=lambda kv: _pos(kv[1])):
                yield node, f"self.{field}"


CACHE_NAME = re.compile(r"cache|memo", re.IGNORECASE)  # a field named as a cache says it may be lost


def _balanced_counters(cls: ClassInfo) -> set[str]:
    """Fields a method both increments and decrements (`+= 1` ... `-= 1`): in-flight bookkeeping,
    which is right to start from zero in a new instance."""
    out = set()
    for method in cls.methods.values():
        ups, downs = set(), set()
        for node in ast.walk(method):
            if isinstance(node, ast.AugAssign):
                field = self_field(node.target)
                if field and isinstance(node.op, ast.Add):
                    ups.add(field)
                elif field and isinstance(node.op, ast.Sub):
                    downs.add(field)
        out |= ups & downs
    return out


def _persisted_and_loaded_fields(cls: ClassInfo) -> tuple[set[str], set[str]]:
    """Fields that some storage write mentions, and fields assigned from storage reads."""
    persisted: set[str] = set()
    loaded: set[str] = set()
    for method in cls.methods.values():
        fns = [method] + [n for n in ast.walk(method) if isinstance(n, (*FunctionNode, ast.Lambda))
                          and n is not method]
        for fn in fns:
            scope = FunctionScope(cls.module, cls, fn)
            tainted: set[str] = set()  # local names holding what storage returned
            write_args: list[ast.AST] = []
            for op in scope.ops:
                if op.method in ("put", "write", "exec", "setAlarm") or (op.api == "sql"):
                    write_args.extend(list(op.call.args) + [k.value for k in op.call.keywords])
            for call in scope.nodes:  # ws.serializeAttachment(self.x) keeps it with the socket
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                        and call.func.attr == "serializeAttachment":
                    write_args.extend(call.args)
            for arg in write_args:
                for n in ast.walk(arg):
                    field = base_self_field(n) if isinstance(n, (ast.Attribute, ast.Subscript)) else None
                    if field:
                        persisted.add(field)
            op_calls = {id(op.call) for op in scope.ops if op.method not in ("put", "delete", "setAlarm",
                                                                                "deleteAlarm", "deleteAll")}
            for node in scope.nodes:
                if isinstance(node, ast.Assign):
                    from_storage = any(id(n) in op_calls for n in ast.walk(node.value)) or (
                        names_in(node.value) & tainted)
                    if not from_storage:
                        continue
                    for target in node.targets:
                        for t in ast.walk(target):
                            if isinstance(t, ast.Name):
                                tainted.add(t.id)
                        field = base_self_field(target)
                        if field:
                            loaded.add(field)
                elif isinstance(node, (ast.For, ast.AsyncFor)) and (
                        any(id(n) in op_calls for n in ast.walk(node.iter)) or names_in(node.iter) & tainted):
                    tainted |= names_in(node.target)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in MUTATING_METHODS and (
                            any(id(n) in op_calls for a in node.args for n in ast.walk(a))
                            or any(names_in(a) & tainted for a in node.args)):
                    field = base_self_field(node.func.value)
                    if field:
                        loaded.add(field)
    return persisted, loaded


def _handler_scopes(module: Module, *, skip: tuple[str, ...] = ("bcw", "transaction")
                    ) -> Iterator[tuple[ClassInfo, FunctionScope]]:
    """A scope for each method of a DO class that runs per event, and each function nested in one,
    without the callbacks of the kinds in `skip` ("bcw": blockConcurrencyWhile, "transaction")."""
    for cls in module.do_classes:
        skipped_methods = set()
        for name, method in cls.methods.items():
            if cls.protected_kind.get(id(method)) in skip:
                refs = [(n, owner) for ref, n, owner in cls.self_method_refs() if ref == name]
                if all(_ref_in_protected(cls, n, owner) for n, owner in refs):
                    skipped_methods.add(name)
        for method in cls.handler_methods:
            if method.name in skipped_methods:
                continue
            yield cls, FunctionScope(module, cls, method)
            for inner in ast.walk(method):
                if inner is not method and isinstance(inner, (*FunctionNode, ast.Lambda)):
                    if cls.protected_kind.get(id(inner)) in skip:
                        continue
                    yield cls, FunctionScope(module, cls, inner)


def _ref_in_protected(cls: ClassInfo, node: ast.AST, owner: ast.AST) -> bool:
    parents = cls.module.parents(owner)
    parent = parents.of(node)
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and node in parent.args \
            and parent.func.attr in ("blockConcurrencyWhile", "transaction", "transactionSync"):
        return True
    return any(id(a) in cls.protected_fns for a in parents.ancestors(node))


@rule
class MultiKeyUpdateWithoutTransaction(Rule):
    code = "DO302"
    category = "state"
    title = "multi-key updates without transaction"
    message = "one change written as separate commits: a failure in between keeps half of it"
    explanation = (
        "The code changes several keys as one update, but the writes are committed separately. Two forms: "
        "(1) `put`/`delete` calls on different keys each awaited (or with another storage await between "
        "them): writes with no `await` between them are coalesced into one atomic batch, awaiting each one "
        "turns that off, so a reset or a machine failure between them keeps the first and loses the second "
        "(the docs' example: the debit is stored, the credit is lost); (2) a write, then an outside call (a "
        "`fetch`, another object), then the rest of the update, with nothing that undoes the first write if "
        "the call fails or the object dies while it is in flight. Make the update one commit: "
        "`ctx.storage.put({k1: v1, k2: v2})`, writes with no await between them, `ctx.storage.transaction()` "
        "or `transactionSync()`, or SQL statements with no await between them; do the outside call before "
        "the update (then re-read what it depends on), or undo the first write when the call fails. "
        "Platform rule: write coalescing and transactions (semantics 3.10, 3.11, 3.15). Docs: "
        + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/ (write coalescing) and "
        + DOCS + "/durable-objects/api/storage-api/ (transaction)"
    )

    def check(self, module):
        for cls, scope in _handler_scopes(module, skip=("transaction",)):
            writes = [op for op in scope.ops if op.api == "kv" and op.method in KV_WRITES]
            openers = [a for a in scope.awaits if scope.await_opens_gate(a)]
            for i, first in enumerate(writes):
                hit = None
                for second in writes[i + 1:]:
                    if scope.parents.exclusive(first.call, second.call) or not scope.parents.flows_to(
                            first.call, second.call):
                        continue
                    if first.keys is not None and second.keys is not None and set(first.keys) & set(second.keys):
                        continue
                    between = [a for a in scope.awaits if _end(first.call) <= _pos(a) < _pos(second.call)
                               and a is not scope.parents.of(second.call)]
                    gap = [a for a in between if a in openers]
                    if not gap:
                        # after an outside call, separate commits are checkpoints of its outcome: not flagged
                        checkpoint = any(_end(a) <= _pos(first.call) for a in openers)
                        if (first.awaited or between) and not checkpoint:
                            hit = (second.call, f"after the write on line {first.call.lineno}")
                    elif first.keys is not None and not self._undone(scope, first, gap[0], writes):
                        hit = (second.call, f"the write on line {first.call.lineno} is committed before the "
                                            f"await on line {gap[0].lineno}, and nothing undoes it")
                    if hit:
                        break
                if hit:
                    yield hit
                    break

    @staticmethod
    def _undone(scope, first, opener, writes) -> bool:
        """Some code after the outside call writes the first write's key again (a compensation)."""
        return any(w is not first and w.keys is not None and set(w.keys) & set(first.keys)
                   and _pos(w.call) >= _end(opener) for w in writes)


@rule
class ReadModifyWriteAcrossAwait(Rule):
    code = "DO303"
    category = "state"
    title = "read-modify-write across a non-storage await"
    message = "read-modify-write across an await that lets other requests in: a lost update"
    explanation = (
        "The code reads a key, then awaits something that is not storage (a `fetch`, another object, a "
        "binding, `asyncio.sleep`), then writes the same key from what it read. Storage awaits keep the "
        "object's input gate closed, but these awaits open it: another request can read the same old value "
        "in the meantime, and one of the two writes is lost (or an item is processed twice). Fixes: re-read "
        "and compare before writing (check-and-set), do the outside call first and the read-modify-write "
        "after it with only storage awaits, or, when nothing else works, hold the gate with "
        "`blockConcurrencyWhile` (which blocks every request for the whole round-trip). Platform rule: input "
        "gates (semantics 4.2-4.5). Docs: "
        + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/ (avoid race conditions with "
        "non-storage I/O)"
    )

    def check(self, module):
        for cls, scope in _handler_scopes(module):
            if _method_of(cls, scope.fn) in cls.alarm_only:
                continue  # alarm() never runs alongside itself: a race needs another writer, can't tell
            reads = [op for op in scope.ops if scope.is_read(op) and op.keys]
            writes = [op for op in scope.ops if scope.is_write(op) and op.keys and op.method != "delete"]
            if not reads or not writes:
                continue
            openers = [a for a in scope.awaits if scope.await_opens_gate(a)]
            done = False
            for write in writes:
                if done:
                    break
                for read in reads:
                    common = set(read.keys) & set(write.keys)
                    if not common or _pos(read.call) >= _pos(write.call):
                        continue
                    if scope.parents.exclusive(read.call, write.call) or not scope.parents.flows_to(
                            read.call, write.call):
                        continue
                    if not _value_depends_on(scope, read, write):
                        continue  # the written value is not computed from what was read
                    gap = [a for a in openers if _end(read.call) <= _pos(a) and _end(a) <= _pos(write.call)
                           and not scope.parents.exclusive(a, write.call)
                           and not scope.parents.exclusive(read.call, a)]
                    if not gap:
                        continue
                    opener = gap[-1]
                    reread = [r for r in reads if set(r.keys) & common and _end(opener) <= _pos(r.call)
                              < _pos(write.call)]
                    if reread:
                        continue
                    yield write.call, f"read on line {read.call.lineno}, await on line {opener.lineno}"
                    done = True
                    break


def _method_of(cls: ClassInfo, fn: ast.AST) -> str | None:
    for name, method in cls.methods.items():
        if fn is method or any(inner is fn for inner in ast.walk(method)):
            return name
    return None


def _read_names(scope: FunctionScope, read: StorageOp) -> set[str]:
    """Local names that hold what `read` returned, or something computed from it."""
    names: set[str] = set()
    statement = read.call
    while statement is not None and not isinstance(statement, ast.stmt):
        statement = scope.parents.of(statement)
    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            names |= names_in(target)
    if not names:
        return names
    for _ in range(3):  # a few rounds of x = f(v): enough for straight-line handler code
        for node in scope.nodes:
            if isinstance(node, ast.Assign) and _pos(node) > _pos(read.call) and names_in(node.value) & names:
                for target in node.targets:
                    names |= names_in(target)
    return names


def _value_depends_on(scope: FunctionScope, read: StorageOp, write: StorageOp) -> bool:
    names = _read_names(scope, read)
    if not names:
        return False
    call = write.call
    if write.api == "sql":
        values = list(call.args[1:])
    elif call.args and isinstance(call.args[0], ast.Dict):
        values = list(call.args[0].values)
    else:
        values = list(call.args[1:2])
    values += [k.value for k in call.keywords]
    return any(names_in(v) & names for v in values)


@rule
class StoredValueMutatedNotWritten(Rule):
    code = "DO304"
    category = "state"
    title = "a value read from storage changed but not written back"
    message = "value read from storage is changed but never written back: storage keeps the old one"
    explanation = (
        "`get()` returns a copy (a structured clone), not a live view of what is stored: changing the dict or "
        "list it returned changes nothing in storage until it is `put()` again. Here the value is modified "
        "and the function never writes it back, so the change is lost when the function returns. Write it "
        "back (`await ctx.storage.put(key, value)`), or use SQL to update the stored row in place. Platform "
        "rule: values are stored and read as structured-clone copies (semantics 3.9). Docs: "
        + DOCS + "/durable-objects/api/storage-api/ and " + DOCS + "/durable-objects/api/legacy-kv-storage-api/"
    )

    def check(self, module):
        for cls, scope in _handler_scopes(module, skip=()):
            for op in scope.ops:
                if not (op.api in ("kv", "synckv") and op.method == "get" and op.keys and len(op.keys) == 1
                        and op.call.args and not isinstance(op.call.args[0], (ast.List, ast.Tuple))):
                    continue
                holder = scope.parents.of(op.call)
                if isinstance(holder, ast.Await):
                    holder = scope.parents.of(holder)
                if not (isinstance(holder, ast.Assign) and len(holder.targets) == 1
                        and isinstance(holder.targets[0], ast.Name)):
                    continue
                var = holder.targets[0].id
                mutation = None
                escapes = False
                for node in scope.nodes:
                    if not (isinstance(node, ast.Name) and node.id == var and isinstance(node.ctx, ast.Load)):
                        continue
                    user = scope.parents.of(node)
                    if isinstance(user, ast.Subscript) and user.value is node:
                        above = scope.parents.of(user)
                        if isinstance(above, (ast.Assign, ast.AugAssign, ast.Delete)) and (
                                user in getattr(above, "targets", []) or getattr(above, "target", None) is user):
                            mutation = mutation or above
                            continue
                        if isinstance(user.ctx, ast.Load):
                            continue
                    if isinstance(user, ast.Attribute) and user.value is node:
                        above = scope.parents.of(user)
                        if isinstance(above, ast.Call) and above.func is user and user.attr in MUTATING_METHODS:
                            mutation = mutation or above
                            continue
                        if isinstance(user.ctx, ast.Store):
                            mutation = mutation or scope.parents.of(user)
                            continue
                        if isinstance(above, ast.Call) and above.func is user:
                            continue  # v.get("x"), v.keys(): reads
                        continue
                    if isinstance(user, (ast.Compare, ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.FormattedValue,
                                         ast.If, ast.IfExp)):
                        continue
                    escapes = True  # returned, stored, passed on, written back: can't tell, stay silent
                rebound = any(isinstance(n, ast.Name) and n.id == var and isinstance(n.ctx, ast.Store)
                              and n is not holder.targets[0] for n in scope.nodes)
                if mutation is not None and not escapes and not rebound:
                    yield mutation, f"{var} from get({ast.unparse(op.call.args[0])})"


@rule
class ClearingStorageKeyByKey(Rule):
    code = "DO305"
    category = "state"
    title = "clearing storage key by key"
    message = "every key listed and deleted one by one: use deleteAll()"
    explanation = (
        "The code lists every key of the object and deletes them one at a time (or in batches). That costs a "
        "read and a write per key, is not atomic (a failure halfway leaves half the data), and leaves the "
        "alarm behind. `ctx.storage.deleteAll()` removes all the object's storage in one atomic operation, "
        "and from compatibility date 2026-02-24 it deletes the alarm too (before it, call `deleteAlarm()` "
        "as well); once storage is empty the object stops existing. Docs: "
        + DOCS + "/durable-objects/api/storage-api/ (deleteAll) and "
        + DOCS + "/durable-objects/best-practices/access-durable-objects-storage/"
    )

    def check(self, module):
        for cls, scope in _handler_scopes(module, skip=()):
            full_lists = {id(op.call) for op in scope.ops if op.method == "list" and op.api in ("kv", "synckv")
                          and not op.call.args and not op.call.keywords}
            if not full_lists:
                continue
            tainted: set[str] = set()
            for node in scope.nodes:
                if isinstance(node, ast.Assign) and (any(id(n) in full_lists for n in ast.walk(node.value))
                                                     or names_in(node.value) & tainted):
                    for target in node.targets:
                        tainted |= names_in(target)
            deletes = [op for op in scope.ops if op.method == "delete" and op.api in ("kv", "synckv")]
            for node in scope.nodes:
                if isinstance(node, (ast.For, ast.AsyncFor)) and (
                        any(id(n) in full_lists for n in ast.walk(node.iter)) or names_in(node.iter) & tainted):
                    loop_names = names_in(node.target)
                    if any(names_in(d.call) & loop_names and scope.parents.inside(d.call, (ast.For, ast.AsyncFor))
                           for d in deletes if any(a is node for a in scope.parents.ancestors(d.call))):
                        yield node, None
                        break
            else:
                for d in deletes:
                    if d.call.args and (names_in(d.call.args[0]) & tainted
                                        or any(id(n) in full_lists for n in ast.walk(d.call.args[0]))):
                        yield d.call, None
                        break


SQL_TRANSACTION_STATEMENT = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|END)\b", re.IGNORECASE)


@rule
class SqlTransactionStatements(Rule):
    code = "DO306"
    category = "state"
    title = "BEGIN/COMMIT in sql.exec"
    message = "transaction statement in sql.exec(): the platform refuses it, use transactionSync()"
    explanation = (
        "A Durable Object's SQLite database runs every statement inside the object's own implicit "
        "transaction, committed with the other writes of the event; `sql.exec(\"BEGIN\")`, `COMMIT`, "
        "`ROLLBACK` and `SAVEPOINT` are refused with an error telling you to \"use the "
        "state.storage.transaction() or state.storage.transactionSync() APIs\". For an all-or-nothing group "
        "of statements, run them in `ctx.storage.transactionSync(fn)`: if `fn` raises, every statement it "
        "ran is rolled back and the exception goes on to the caller; nested calls use savepoints. SQL "
        "statements with no await between them are atomic already. Docs: "
        + DOCS + "/durable-objects/api/sqlite-storage-api/ and " + DOCS + "/durable-objects/api/storage-api/"
    )

    def check(self, module):
        for cls in module.do_classes:
            for method in cls.methods.values():
                scope = FunctionScope(module, cls, method)
                for op in scope.ops:
                    if op.api == "sql" and op.call.args:
                        query = const_str(op.call.args[0])
                        match = SQL_TRANSACTION_STATEMENT.match(query or "")
                        if match:
                            yield op.call, match.group(1).upper()


# ----- DO4xx performance -----


@rule
class BlockingSleep(Rule):
    code = "DO401"
    category = "performance"
    title = "time.sleep in handlers"
    message = "time.sleep() blocks the object's only thread"
    explanation = (
        "A Durable Object runs one event at a time on one thread. `time.sleep()` stops that thread: no other "
        "request, alarm or socket message can run meanwhile, the wall time counts against the request, and "
        "in Python Workers (Pyodide) it does not even sleep properly. To wait inside a request use `await "
        "asyncio.sleep(...)` (which lets other events in); to do something later, set an alarm with "
        "`ctx.storage.setAlarm(...)`, which also survives eviction. Docs: "
        + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/ and "
        + DOCS + "/durable-objects/platform/limits/"
    )

    def check(self, module):
        for _cls, fn in _all_code_functions(module):
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and module.call_name(node) == "time.sleep":
                    yield node, None


@rule
class BusyLoop(Rule):
    code = "DO402"
    category = "performance"
    title = "busy loops"
    message = "busy loop that never awaits: it holds the object and burns CPU"
    explanation = (
        "A `while` loop that never awaits and spins on the clock (`while time.time() < deadline`) or forever "
        "(`while True` with no `break`/`return`) keeps the object's single thread: every other request, "
        "alarm and socket message waits, the CPU time is billed, and past the CPU limit (30 s by default per "
        "invocation) the object is reset. Wait with `await asyncio.sleep(...)` or, for anything longer than a "
        "request, an alarm. Docs: " + DOCS + "/durable-objects/platform/limits/ and "
        + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/"
    )

    def check(self, module):
        for _cls, fn in _all_code_functions(module):
            for node in ast.walk(fn):
                if not isinstance(node, ast.While):
                    continue
                inner = list(walk_scope(node))
                if any(isinstance(n, ast.Await) for n in inner):
                    continue
                clock = any(isinstance(n, ast.Call) and module.call_name(n) in CLOCK_CALLS for n in ast.walk(node.test))
                forever = isinstance(node.test, ast.Constant) and bool(node.test.value) and not any(
                    isinstance(n, (ast.Break, ast.Return, ast.Raise)) for n in inner)
                if clock or forever:
                    yield node, "spins on the clock" if clock else "while True without a way out"


@rule
class BlockConcurrencyPerRequest(Rule):
    code = "DO403"
    category = "performance"
    title = "blockConcurrencyWhile in every request"
    message = "blockConcurrencyWhile() on every request around storage-only work: input gates already do this"
    explanation = (
        "`blockConcurrencyWhile` holds back every other event of the object until its callback finishes, and "
        "here it runs on every request around code that only awaits storage. Storage awaits already keep the "
        "input gate closed, so a storage read-modify-write is atomic without it: all it adds is a cap on "
        "throughput (about 200 requests/s if each takes 5 ms) and a reset of the object if the callback "
        "throws. Use it in the constructor to initialise, and per request only to protect a read-modify-write "
        "that must span a non-storage await (and even then prefer check-and-set). Docs: "
        + DOCS + "/durable-objects/api/state/ (blockConcurrencyWhile) and "
        + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/"
    )

    def check(self, module):
        for call, opens in _per_request_bcw(module):
            if not opens:
                yield call, None


def _per_request_bcw(module: Module) -> Iterator[tuple[ast.Call, bool]]:
    """Each `blockConcurrencyWhile` a request handler reaches unconditionally (not a lazy one-time
    initialisation behind an `if`), and whether its callback awaits something that opens the gate."""
    for cls in module.do_classes:
        for method in cls.handler_methods:
            if method.name == "alarm":
                continue
            parents = module.parents(method)
            for call in body_nodes(method):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "blockConcurrencyWhile" and call.args):
                    continue
                if not _unconditional(parents, call, method):
                    continue
                callback = cls.protected_callback.get(id(call))
                if callback is None:
                    continue
                scope = FunctionScope(module, cls, callback)
                if isinstance(callback, ast.Lambda):
                    opens = scope.expr_opens_gate(callback.body)
                else:
                    opens = any(scope.await_opens_gate(a) for a in scope.awaits)
                yield call, opens


@rule
class TimerInsteadOfAlarm(Rule):
    code = "DO404"
    category = "performance"
    title = "timers instead of alarms"
    message = "timer used for scheduled work: lost at eviction, use an alarm"
    explanation = (
        "Waiting with `asyncio.sleep(...)` in a background task (`create_task`, `ctx.waitUntil`), or for a "
        "minute or more, or with `call_later`, `setTimeout`, `setInterval`, to do work later keeps the work "
        "in the instance's memory: an eviction, a deploy or a crash drops it silently, a "
        "pending timer keeps the object from hibernating, and the wait is billed as duration. Alarms are the "
        "platform's scheduler: `ctx.storage.setAlarm(when)` is stored, survives eviction, wakes the object, "
        "and is retried with exponential back-off if `alarm()` throws. Store what is to be done, set the "
        "alarm, and do it in `alarm()`. (A short back-off inside a request whose caller waits for the answer "
        "is not flagged: the caller learns of any failure.) Docs: " + DOCS + "/durable-objects/api/alarms/ and "
        + DOCS + "/durable-objects/concepts/durable-object-lifecycle/"
    )

    def check(self, module):
        for cls in module.do_classes:
            background = _background_methods(cls)
            for name, method in cls.methods.items():
                for node in ast.walk(method):
                    if not isinstance(node, ast.Call):
                        continue
                    call = module.call_name(node) or ""
                    if call == "asyncio.sleep":
                        seconds = const_number(node.args[0]) if node.args else 0.0
                        if seconds is not None and seconds < MIN_TIMER_SECONDS:
                            continue  # a yield or simulated work
                        if name in background or _in_background_def(cls, method, node):
                            yield node, "asyncio.sleep in a background task"
                        elif seconds is not None and seconds >= LONG_TIMER_SECONDS:
                            yield node, f"asyncio.sleep({ast.unparse(node.args[0])})"
                    elif call in ("js.setTimeout", "js.setInterval", "setTimeout", "setInterval", "threading.Timer"):
                        yield node, call.rsplit(".", 1)[-1]
                    elif isinstance(node.func, ast.Attribute) and node.func.attr in ("call_later", "call_at"):
                        yield node, node.func.attr


BACKGROUND_STARTERS = frozenset({"create_task", "ensure_future", "waitUntil", "wait_until", "run_coroutine_threadsafe"})


def _background_calls(cls: ClassInfo) -> Iterator[tuple[ast.AST, ast.AST]]:
    """(method, coroutine expression) for each coroutine started in the background: a task,
    `ensure_future`, `ctx.waitUntil`: work that outlives the event that started it."""
    for method in cls.methods.values():
        for node in ast.walk(method):
            if isinstance(node, ast.Call) and node.args and (
                    (isinstance(node.func, ast.Attribute) and node.func.attr in BACKGROUND_STARTERS)
                    or (isinstance(node.func, ast.Name) and node.func.id in BACKGROUND_STARTERS)):
                yield method, node.args[0]


def _background_methods(cls: ClassInfo) -> set[str]:
    """Methods that run as background tasks, and the methods they call."""
    roots = set()
    for _method, coro in _background_calls(cls):
        if isinstance(coro, ast.Call) and is_self_attr(coro.func) and coro.func.attr in cls.methods:
            roots.add(coro.func.attr)
    return cls.reach(roots)


def _in_background_def(cls: ClassInfo, method: ast.AST, node: ast.AST) -> bool:
    """`node` sits in a function nested in `method` that `method` starts in the background."""
    started = {coro.func.id for owner, coro in _background_calls(cls)
               if owner is method and isinstance(coro, ast.Call) and isinstance(coro.func, ast.Name)}
    parents = cls.module.parents(method)
    return any(isinstance(a, FunctionNode) and a.name in started for a in parents.ancestors(node))


@rule
class OneAlarmPerJob(Rule):
    code = "DO405"
    category = "performance"
    title = "one alarm per object, used as one timer per job"
    message = "the alarm used as one timer per job: an object has one alarm, each setAlarm() replaces the last"
    explanation = (
        "A Durable Object has exactly one alarm. Code that treats `setAlarm` like `setTimeout` (one call per "
        "job: twice in a row, in a loop, or on every request that stores a job keyed by its due time, without "
        "looking at "
        "`getAlarm()`), or an `alarm()` that looks its job up by `alarmInfo.scheduledTime`, loses jobs: each "
        "call overwrites the previous time and only the last one fires. Keep the jobs in storage as a queue "
        "(keys that sort by due time, or a SQL table), set the alarm only when the new job is due before the "
        "current alarm (`getAlarm()`), and in `alarm()` run everything that is due and set the alarm again "
        "for the next one. Docs: " + DOCS + "/durable-objects/api/alarms/"
    )

    def check(self, module):
        for cls in module.do_classes:
            for method in cls.methods.values():
                scope = FunctionScope(module, cls, method)
                sets = [op for op in scope.ops if op.method == "setAlarm" and op.api == "kv"]
                consults = any(op.method == "getAlarm" for op in scope.ops)
                for op in sets:
                    loop = next((a for a in scope.parents.ancestors(op.call)
                                 if isinstance(a, (ast.For, ast.AsyncFor, ast.While))), None)
                    if loop is not None:
                        if not self._leaves_after(scope, op.call, loop) and not self._single_item(scope, loop):
                            yield op.call, "in a loop"
                        continue
                    if method.name != "alarm" and not consults and op.call.args and self._per_job(scope, op):
                        yield op.call, "one per stored job"
                        continue
                    earlier = [o for o in sets if _pos(o.call) < _pos(op.call)
                               and not scope.parents.exclusive(o.call, op.call)
                               and scope.parents.flows_to(o.call, op.call)]
                    if earlier and not consults:
                        yield op.call, f"replaces the alarm set on line {earlier[-1].call.lineno}"
                if method.name == "alarm":
                    params = [a.arg for a in method.args.args if a.arg != "self"]
                    if not params:
                        continue
                    keyed = self._names_from_scheduled_time(scope, params[0])
                    for op in scope.ops:
                        if op.method in ("get", "delete") and op.call.args and (
                                names_in(op.call.args[0]) & keyed
                                or any(isinstance(n, ast.Attribute) and n.attr == "scheduledTime"
                                       for n in ast.walk(op.call.args[0]))):
                            yield op.call, "alarm() finds its job by scheduledTime"
                            break

    @staticmethod
    def _leaves_after(scope, call, loop) -> bool:
        """A `return`/`break`/`raise` follows the call inside the loop: it sets the alarm once."""
        for anc, field, child in scope.parents.chain(call):
            block = getattr(anc, field, None)
            if isinstance(block, list) and child in block:
                if any(isinstance(stmt, (ast.Return, ast.Break, ast.Raise)) for stmt in block[block.index(child) + 1:]):
                    return True
            if anc is loop:
                return False
        return False

    @staticmethod
    def _single_item(scope, loop) -> bool:
        """`for x in (await storage.list({"limit": 1})).values()`: one iteration at most."""
        for node in ast.walk(getattr(loop, "iter", loop)):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if const_str(key) == "limit" and const_number(value) == 1:
                        return True
        source = getattr(loop, "iter", None)
        if isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute):
            source = source.func.value
        if isinstance(source, ast.Name):
            for node in scope.nodes:
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == source.id
                                                        for t in node.targets):
                    for inner in ast.walk(node.value):
                        if isinstance(inner, ast.Dict) and any(
                                const_str(k) == "limit" and const_number(v) == 1
                                for k, v in zip(inner.keys, inner.values)):
                            return True
        return False

    @staticmethod
    def _per_job(scope, op) -> bool:
        """The function stores a job under a key built from the same value the alarm is set to."""
        when = names_in(op.call.args[0])
        if not when:
            return False
        for other in scope.ops:
            if other.method == "put" and other.call.args:
                first = other.call.args[0]
                keys = first.keys if isinstance(first, ast.Dict) else [first]
                if any(k is not None and names_in(k) & when and not isinstance(k, ast.Name) for k in keys):
                    return True
        return False

    @staticmethod
    def _names_from_scheduled_time(scope, info: str) -> set[str]:
        names: set[str] = set()
        for node in scope.nodes:
            if isinstance(node, ast.Assign) and any(
                    isinstance(n, ast.Attribute) and n.attr == "scheduledTime" and isinstance(n.value, ast.Name)
                    and n.value.id == info for n in ast.walk(node.value)):
                for target in node.targets:
                    names |= names_in(target)
        return names


@rule
class BlockConcurrencyAcrossIo(Rule):
    code = "DO406"
    category = "performance"
    title = "blockConcurrencyWhile held across outside I/O"
    message = "blockConcurrencyWhile() held across a network call on every request: all requests wait for it"
    explanation = (
        "On every request, `blockConcurrencyWhile` holds the object's gate while its callback awaits a "
        "`fetch`, another object or a binding: every other request, alarm and socket message of the object "
        "waits for that round-trip, so throughput is one request per round-trip (10 requests/s at 100 ms), "
        "and a slow or hanging service stalls the object (after 30 s it is reset). Keep the critical "
        "section to storage work, where the input gate already keeps other requests out: reserve or number "
        "first and store it, make the outside call after (the output gate commits the write before the "
        "request leaves), and re-read or undo afterwards if the call fails. If the read-modify-write "
        "truly must span the call, this is the price: say so with `# dojo: ignore[DO406]`. Docs: "
        + DOCS + "/durable-objects/api/state/ (blockConcurrencyWhile) and "
        + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/"
    )

    def check(self, module):
        for call, opens in _per_request_bcw(module):
            if opens:
                yield call, None


# ----- DO5xx WebSockets -----


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
        "the client answers, and, before compatibility date 2026-04-07, those whose client sent a close the "
        "handler has not answered. Skip sockets whose `readyState` is not OPEN and wrap each send in "
        "`try`/`except`, so one bad socket costs only its own message. (A `getWebSockets()` broadcast in an "
        "object that never closes sockets itself, on a current compatibility date, is not flagged.) Docs: "
        + DOCS + "/durable-objects/best-practices/websockets/ and "
        + DOCS + "/durable-objects/examples/websocket-hibernation-server/"
    )

    def check(self, module):
        for cls in module.do_classes:
            runtime_list_risky = _closes_sockets_itself(cls) or not module.auto_close_reply
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
        "1000 for those). Before compatibility date 2026-04-07 (the `web_socket_auto_reply_to_close` flag) "
        "the runtime does not answer for you: the socket stays half-closed and the client ends with an "
        "abnormal 1006 instead of its own code. The review reads the compatibility date from the nearest "
        "`wrangler.toml`/`wrangler.jsonc` above the file and stays silent when there is none or it is "
        "current; closing back is harmless either way. Docs: "
        + DOCS + "/durable-objects/best-practices/websockets/ and "
        + DOCS + "/durable-objects/api/base/ (webSocketClose)"
    )

    def check(self, module):
        if module.auto_close_reply:
            return
        for cls in module.do_classes:
            handler = cls.methods.get("webSocketClose")
            if handler is not None:
                params = [a.arg for a in handler.args.args if a.arg != "self"]
                if params and not _closes_param(cls, handler, params[0], set()):
                    yield handler, None
            for method in cls.methods.values():
                local_defs = {n.name: n for n in ast.walk(method) if isinstance(n, FunctionNode) and n is not method}
                for call in ast.walk(method):
                    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                            and call.func.attr == "addEventListener" and len(call.args) >= 2
                            and const_str(call.args[0]) == "close"):
                        continue
                    socket = call.func.value
                    listener = call.args[1]
                    fn = _resolve_callback(cls, local_defs, listener)
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


RULES_BY_CODE = {r.code: r for r in RULES}


# ======================================================================================
# Running the review
# ======================================================================================


def review_source(source: str, path: str = "<string>", select: Iterable[str] | None = None, *,
                  compatibility_date: str | None = None,
                  compatibility_flags: Iterable[str] | None = None) -> list[Finding]:
    """Findings for one file's source, sorted by line. The compatibility date (which some rules
    depend on) is found in the nearest wrangler config above `path` unless given."""
    module = Module(path, source, compatibility_date, compatibility_flags)
    wanted = set(select) if select else None
    out: list[Finding] = []
    for r in RULES:
        if wanted is not None and r.code not in wanted:
            continue
        out.extend(r.findings(module))
    return sorted(out, key=lambda f: (f.path, f.line, f.col, f.code))


SKIP_DIRS = {".venv", "venv", "__pycache__", ".git", "node_modules", ".cache", ".tox", "build", "dist"}


def python_files(paths: Iterable[str | os.PathLike]) -> list[str]:
    """The .py files named, and those under the folders named (hidden and virtualenv folders skipped)."""
    out: list[str] = []
    for raw in paths:
        path = os.fspath(raw)
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                out.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
        elif os.path.isfile(path):
            out.append(path)
        else:
            raise ReviewError(f"{path}: no such file or folder")
    return out


def review_paths(paths: Iterable[str | os.PathLike], select: Iterable[str] | None = None) -> list[Finding]:
    """Findings for every Python file under `paths`."""
    return review_files(python_files(paths), select)


def review_files(files: Iterable[str], select: Iterable[str] | None = None) -> list[Finding]:
    """Findings for each of `files` (as `python_files` lists them), file by file."""
    out: list[Finding] = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        out.extend(review_source(source, path, select))
    return out


def explain(code: str) -> str:
    """The paragraph `dojo review --explain CODE` prints."""
    r = RULES_BY_CODE.get(code.upper())
    if r is None:
        raise KeyError(code)
    return f"{r.code} ({CATEGORIES[r.category]}): {r.message}\n\n{r.explanation}\n"


def render_checklist_markdown() -> str:
    """The review-checklist page of the docs site, generated from the rule list."""
    lines = [
        "# The review checklist",
        "",
        "The reviewer's checklist for Durable Objects, and the `dojo review` rule that checks each item "
        "automatically. Run it on your code:",
        "",
        "```sh",
        "dojo review src/              # file:line: CODE message; exit 1 if anything is found",
        "dojo review --explain DO301   # why, and what to do instead",
        "dojo review --format json src/",
        "dojo review --run my_workload:scenario   # advice from a workload's metrics",
        "```",
        "",
        "Silence one finding on its line with `# dojo: ignore[DO301]`. The review reads code without "
        "running it and stays silent when it cannot tell; the dynamic advice (`durable_dojo.advise(rt)`) "
        "reads what a workload actually did.",
        "",
    ]
    for category, title in CATEGORIES.items():
        rules = [r for r in RULES if r.category == category]
        lines += [f"## {title}", "", f"*{CHECKLIST_QUESTIONS[category]}*", "",
                  "| code | checks | finding |", "| --- | --- | --- |"]
        for r in rules:
            lines.append(f"| [{r.code}](#{r.code.lower()}) | {r.title} | {r.message} |")
        lines.append("")
        for r in rules:
            lines += [f"### {r.code}", "", f"**{r.title}**: {r.message}.", "", r.explanation, ""]
    return "\n".join(lines).rstrip() + "\n"


def write_checklist(path: str | os.PathLike | None = None) -> str:
    """Write the checklist page (default `site/review-checklist.md` of the repository); returns the path."""
    if path is None:
        path = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "site", "review-checklist.md")
    path = os.path.normpath(os.fspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_checklist_markdown())
    return path
