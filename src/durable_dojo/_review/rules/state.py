"""DO3xx: state. Persisted to storage, not kept in memory; atomic changes where they must be."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from ..model import (
    KV_WRITES,
    ClassInfo,
    FunctionNode,
    FunctionScope,
    Module,
    StorageOp,
    base_self_field,
    body_nodes,
    const_str,
    end_of,
    mentions_self_field,
    names_in,
    self_field,
    start_of,
)
from .base import DOCS, Rule, rule

MUTATING_METHODS = frozenset({"append", "add", "update", "extend", "insert", "setdefault", "pop", "popitem",
                              "remove", "discard", "clear", "appendleft", "extendleft", "popleft", "sort",
                              "reverse"})


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
                            if field not in first or start_of(node) < start_of(first[field]):
                                first[field] = node
            for field, node in sorted(first.items(), key=lambda kv: start_of(kv[1])):
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
                    between = [a for a in scope.awaits if end_of(first.call) <= start_of(a) < start_of(second.call)
                               and a is not scope.parents.of(second.call)]
                    gap = [a for a in between if a in openers]
                    if not gap:
                        # after an outside call, separate commits are checkpoints of its outcome: not flagged
                        checkpoint = any(end_of(a) <= start_of(first.call) for a in openers)
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
                   and start_of(w.call) >= end_of(opener) for w in writes)


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
                    if not common or start_of(read.call) >= start_of(write.call):
                        continue
                    if scope.parents.exclusive(read.call, write.call) or not scope.parents.flows_to(
                            read.call, write.call):
                        continue
                    if not _value_depends_on(scope, read, write):
                        continue  # the written value is not computed from what was read
                    gap = [a for a in openers if end_of(read.call) <= start_of(a) and end_of(a) <= start_of(write.call)
                           and not scope.parents.exclusive(a, write.call)
                           and not scope.parents.exclusive(read.call, a)]
                    if not gap:
                        continue
                    opener = gap[-1]
                    reread = [r for r in reads if set(r.keys) & common and end_of(opener) <= start_of(r.call)
                              < start_of(write.call)]
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
            if isinstance(node, ast.Assign) and start_of(node) > start_of(read.call) and names_in(node.value) & names:
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
