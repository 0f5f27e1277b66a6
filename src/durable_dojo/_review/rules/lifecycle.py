"""DO2xx: lifecycle. A synchronous constructor, initialisation done safely, cleanup when sockets close."""

from __future__ import annotations

import ast
from typing import Iterator

from ..model import (
    ClassInfo,
    FunctionScope,
    Parents,
    base_self_field,
    body_nodes,
    const_number,
    is_self_attr,
    self_field,
)
from .base import DOCS, Rule, rule

HEAVY_LOOP_ITERATIONS = 10_000  # a constant range() at least this long is heavy work for a constructor
HEAVY_CALLS = frozenset({"hashlib.pbkdf2_hmac", "hashlib.scrypt", "bcrypt.hashpw", "bcrypt.kdf"})
REMOVING_METHODS = frozenset({"discard", "remove", "pop", "popitem", "clear", "popleft"})


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
