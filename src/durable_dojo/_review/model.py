"""The model of a file that `dojo review` reads: its imports, Durable Object classes and Worker
entrypoints, and, for one function, its storage names, awaits, reads and writes.

Nothing here knows a rule. The rules (`rules/`) ask the model questions; it reads Python source
with `ast` (nothing is imported or run).

What the model knows about the code:

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
* A finding can be silenced on its line with `# dojo: ignore[DO301]` (several codes:
  `# dojo: ignore[DO301,DO302]`; every code: `# dojo: ignore`); `Module.ignored` reads them.
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

HANDLER_NAMES = frozenset({"fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError"})
WS_HANDLERS = frozenset({"webSocketMessage", "webSocketClose", "webSocketError"})
KV_ASYNC_METHODS = frozenset({"get", "put", "delete", "list", "deleteAll", "getAlarm", "setAlarm", "deleteAlarm",
                              "transaction", "sync"})
KV_READS = frozenset({"get", "list", "getAlarm"})
KV_WRITES = frozenset({"put", "delete"})
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


def start_of(node: ast.AST) -> tuple[int, int]:
    return (node.lineno, node.col_offset)


def end_of(node: ast.AST) -> tuple[int, int]:
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


def resolve_callback(cls: "ClassInfo", local_defs: dict[str, ast.AST], node: ast.AST) -> ast.AST | None:
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
                fn = resolve_callback(self, local_defs, call.args[0])
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
