"""DO1xx: architecture. Is a Durable Object the right tool, reached by the right id, one per the right thing?"""

from __future__ import annotations

import ast

from ..model import (
    HANDLER_NAMES,
    ClassInfo,
    FunctionScope,
    body_nodes,
    const_str,
    is_self_attr,
    names_in,
)
from .base import DOCS, Rule, _platform_functions, _unconditional, rule


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
        for fn in self._hot_path(module):
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

    @staticmethod
    def _hot_path(module):
        """The Worker's fetch, and the methods of its class that fetch calls on every request
        (`cart = self.cart_for(user)`), one level deep."""
        out = list(module.worker_fetches())
        for cls in module.worker_classes:
            fetch = cls.methods.get("fetch")
            if fetch is None:
                continue
            parents = module.parents(fetch)
            for call in body_nodes(fetch):
                if isinstance(call, ast.Call) and is_self_attr(call.func) and call.func.attr in cls.methods \
                        and call.func.attr != "fetch" and _unconditional(parents, call, fetch):
                    helper = cls.methods[call.func.attr]
                    if helper not in out:
                        out.append(helper)
        return out
