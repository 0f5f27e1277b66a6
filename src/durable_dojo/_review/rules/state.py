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
    Parents,
    StorageOp,
    base_self_field,
    body_nodes,
    const_str,
    end_of,
    is_self_attr,
    mentions_self_field,
    names_in,
    self_field,
    start_of,
)
from .base import CLOCK_CALLS, DOCS, Rule, _platform_functions, rule

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
        "hibernation (10 s without events, for an object that can hibernate: chapter 1 shows it), eviction "
        "(70-140 s idle when something kept it from hibernating, on dates before 2026-10-01), a deploy, a "
        "reset or a crash drop every field, and the next request meets a fresh constructor. "
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
            refs = [(n, owner) for ref, n, owner in cls.self_method_refs() if ref == name]
            # A method handed to blockConcurrencyWhile/transaction, or a private helper only ever called
            # from code that runs inside one (`lambda: self._order(...)`), never runs with the gate open
            # around it. (A public method can also be called by RPC, from outside.)
            private_helper = name.startswith("_") and not name.startswith("__") and bool(refs)
            if (cls.protected_kind.get(id(method)) in skip or private_helper) and all(
                    _ref_in_protected(cls, n, owner, skip) for n, owner in refs):
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


def _ref_in_protected(cls: ClassInfo, node: ast.AST, owner: ast.AST,
                      kinds: tuple[str, ...] = ("bcw", "transaction")) -> bool:
    """`self.name` at `node` is handed to, or called inside, a callback of one of these kinds."""
    parents = cls.module.parents(owner)
    parent = parents.of(node)
    names = {"bcw": ("blockConcurrencyWhile",), "transaction": ("transaction", "transactionSync")}
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and node in parent.args \
            and parent.func.attr in {n for kind in kinds for n in names.get(kind, ())}:
        return True
    return any(cls.protected_kind.get(id(a)) in kinds for a in parents.ancestors(node))


@rule
class MultiKeyUpdateWithoutTransaction(Rule):
    code = "DO302"
    category = "state"
    title = "multi-key updates without transaction"
    message = "one change written as separate commits: a failure in between keeps half of it"
    explanation = (
        "The code changes several keys as one update, writes the first part, then awaits something that is "
        "not storage (a `fetch`, another object, a timer) before writing the rest, and nothing undoes the "
        "first write if that call fails or the object dies while it is in flight. Writes made until the "
        "object next awaits something other than storage go into one batch that is committed atomically: "
        "the workbook's chapter 2 shows three awaited `put`s making one commit, and a failed commit storing "
        "none of them. An await on anything else ends the batch: what was written before it is committed on "
        "its own, so a refusal, an exception or a crash during the call leaves half an update (the docs' "
        "example: the debit is stored, the credit is lost; kata 07). Make the update one batch after the "
        "outside call (call first, then re-read what the update depends on and write it all with only storage "
        "awaits in between: `ctx.storage.put({k1: v1, k2: v2})`, `transaction()` or `transactionSync()`), or "
        "undo the first write when the call fails. Not flagged: writes after an outside call that record its "
        "outcome (a progress record, as kata 09 asks for), and a record written only when a read found it "
        "missing. Platform rule: write coalescing and the output gate (semantics 3.10, 3.11, 4.6). Docs: "
        + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/ (write coalescing) and "
        + DOCS + "/durable-objects/api/storage-api/ (transaction)"
    )

    def check(self, module):
        for cls, scope in _handler_scopes(module, skip=("transaction",)):
            writes = [op for op in scope.ops if op.api == "kv" and op.method in KV_WRITES]
            openers = [a for a in scope.awaits if scope.await_opens_gate(a)]
            for i, first in enumerate(writes):
                if first.keys is None or self._records_progress(scope, first, openers):
                    continue
                hit = None
                for second in writes[i + 1:]:
                    if scope.parents.exclusive(first.call, second.call) or not scope.parents.flows_to(
                            first.call, second.call):
                        continue
                    if second.keys is not None and set(first.keys) & set(second.keys):
                        continue
                    # Only storage awaits in between: one batch, one commit (coalescing), not flagged.
                    gap = [a for a in openers if end_of(first.call) <= start_of(a) < start_of(second.call)
                           and a is not scope.parents.of(second.call) and scope.parents.flows_to(a, second.call)]
                    if gap and not self._undone(scope, first, gap[0], writes):
                        hit = (second.call, f"the write on line {first.call.lineno} is committed before the "
                                            f"await on line {gap[0].lineno}, and nothing undoes it")
                        break
                if hit:
                    yield hit
                    break

    @staticmethod
    def _records_progress(scope, write, openers) -> bool:
        """A write that records how far the code got: it comes after an outside call (its outcome), or
        it is made only when a read of the same key found nothing (`if record is None: put(key, ...)`)."""
        if any(end_of(a) <= start_of(write.call) and scope.parents.flows_to(a, write.call) for a in openers):
            return True
        for read in scope.ops:
            if not (scope.is_read(read) and read.keys and set(read.keys) & set(write.keys)
                    and start_of(read.call) < start_of(write.call)):
                continue
            names = _read_names(scope, read)
            for anc in scope.parents.ancestors(write.call):
                if isinstance(anc, ast.If) and names_in(anc.test) & names:
                    return True
        return False

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
                           and not scope.parents.exclusive(read.call, a)
                           and scope.parents.flows_to(a, write.call)]
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


MUTABLE_FACTORIES = frozenset({"dict", "list", "set", "bytearray", "collections.defaultdict", "collections.Counter",
                               "collections.OrderedDict", "collections.deque", "defaultdict", "Counter",
                               "OrderedDict", "deque"})


def _module_state(module: Module) -> set[str]:
    """Names the module binds at its top level to a mutable container ({}, [], set(), defaultdict()...)."""
    out: set[str] = set()
    for stmt in module.tree.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        mutable = isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)) or (
            isinstance(value, ast.Call) and module.call_name(value) in MUTABLE_FACTORIES)
        if mutable:
            out |= {t.id for t in targets if isinstance(t, ast.Name)}
    return out


def _module_state_changes(fn: ast.AST, state: set[str]) -> Iterator[tuple[str, ast.AST]]:
    """(name, node) for each change a function makes to module-level state: an item set or deleted, a
    mutating method called, or a name declared `global` and assigned."""
    declared = {n for node in body_nodes(fn) if isinstance(node, ast.Global) for n in node.names}
    local = {t.id for node in body_nodes(fn) if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
             for t in ([node.target] if not isinstance(node, ast.Assign) else node.targets)
             if isinstance(t, ast.Name)} - declared
    if isinstance(fn, FunctionNode):
        local |= {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    watched = (state - local) | declared
    for node in body_nodes(fn):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                base = target
                while isinstance(base, (ast.Subscript, ast.Attribute)):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in watched and (base is not target or base.id in declared):
                    yield base.id, node
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in MUTATING_METHODS:
            base = node.func.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name) and base.id in watched:
                yield base.id, node


@rule
class ModuleStateWrittenByHandlers(Rule):
    code = "DO307"
    category = "state"
    title = "module-level state written by handlers"
    message = "module-level state changed by a handler: shared by the objects of one isolate, lost when it restarts"
    explanation = (
        "A dict, list or set defined at the top of the module (or a name declared `global`) is changed by "
        "code that runs on requests. Module-level state lives in the isolate, not in the object or in "
        "storage: every object the isolate hosts shares it (a chat room would see another room's sessions, "
        "a counter another page's count), a Worker's requests are spread over many isolates in many "
        "locations that each have their own copy, and it is gone when the isolate is restarted (a deploy, "
        "a crash, a recycled machine), while the object's storage stays. It survives an eviction of one "
        "object, which is why it can look like a fix for lost state: it is not one. Keep per-object state "
        "in `ctx.storage` (or per-connection data in `serializeAttachment`), per-user limits in a Durable "
        "Object per user, and global read-mostly data in Workers KV. Platform rule: module state is per "
        "isolate, shared by the objects it hosts (semantics 10.5; katas 01, 02, 12, 14, 15). Docs: "
        + DOCS + "/durable-objects/reference/in-memory-state/ and "
        + DOCS + "/workers/reference/how-workers-works/"
    )

    def check(self, module):
        state = _module_state(module)
        declared_anywhere = {n for fn in _platform_functions(module) for node in body_nodes(fn)
                             if isinstance(node, ast.Global) for n in node.names}
        if not state and not declared_anywhere:
            return
        reported: set[str] = set()
        for fn in _platform_functions(module):
            for name, node in _module_state_changes(fn, state):
                if name not in reported:
                    reported.add(name)
                    yield node, name


WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FRESH_VALUE_CALLS = frozenset({"uuid.uuid4", "uuid4", "random.random", "random.randrange", "random.randint",
                               "secrets.token_hex", "secrets.token_urlsafe", "crypto.randomUUID"})


def _sends(module: Module, call: ast.Call) -> bool:
    """`fetch(url, method="POST")` (any method but GET/HEAD, given as a constant): a request that changes
    something outside."""
    if not (isinstance(call.func, ast.Name) and (module.call_name(call) or "").endswith("fetch")):
        return False
    method = next((k.value for k in call.keywords if k.arg == "method"), None)
    return (const_str(method) or "GET").upper() in WRITING_METHODS


def _mentions_idempotency(node: ast.AST) -> bool:
    return any("idempot" in (const_str(n) or "").lower() for n in ast.walk(node))


class _SideEffects:
    """The outside effects (non-GET fetches) `alarm()` makes, through module helpers and methods."""

    def __init__(self, module: Module, cls: ClassInfo):
        self.module = module
        self.cls = cls
        self.helper_cache: dict[str, bool] = {}

    def helper_sends(self, name: str, depth: int = 0) -> bool:
        if name not in self.helper_cache:
            self.helper_cache[name] = False  # recursion guard
            fn = self.module.functions[name]
            self.helper_cache[name] = any(
                isinstance(n, ast.Call) and (_sends(self.module, n) or (
                    depth < 3 and isinstance(n.func, ast.Name) and n.func.id in self.module.functions
                    and n.func.id != name and self.helper_sends(n.func.id, depth + 1)))
                for n in ast.walk(fn))
        return self.helper_cache[name]

    def key_argument(self, call: ast.Call) -> ast.AST | None:
        """What the call passes as an idempotency key: an Idempotency-Key header, or the argument for a
        helper's parameter named after one."""
        if _sends(self.module, call):
            headers = next((k.value for k in call.keywords if k.arg == "headers"), None)
            if isinstance(headers, ast.Dict):
                for key, value in zip(headers.keys, headers.values):
                    if key is not None and _mentions_idempotency(key):
                        return value
            return None
        if isinstance(call.func, ast.Name) and call.func.id in self.module.functions:
            params = [a.arg for a in self.module.functions[call.func.id].args.args]
            for index, arg in enumerate(call.args):
                if index < len(params) and "idempot" in params[index].lower():
                    return None if isinstance(arg, ast.Constant) and arg.value is None else arg
            for keyword in call.keywords:
                if keyword.arg and "idempot" in keyword.arg.lower():
                    return None if isinstance(keyword.value, ast.Constant) and keyword.value.value is None \
                        else keyword.value
        return None

    def first_unsafe(self, fn: ast.AST, depth: int = 0, seen: frozenset = frozenset()) -> tuple[ast.AST, str] | None:
        """The first effect in `fn` that a retry repeats: not guarded by anything read from storage, and
        sent without an idempotency key (or with one made from the clock)."""
        scope = FunctionScope(self.module, self.cls, fn)
        parents = scope.parents
        reads = [op for op in scope.ops if scope.is_read(op) or (op.api in ("kv", "synckv") and op.method == "list")]
        read_calls = {id(op.call) for op in reads}
        read_names = set().union(*(_read_names(scope, op) for op in reads)) if reads else set()
        for node in scope.nodes:
            if not isinstance(node, ast.Call):
                continue
            if _sends(self.module, node):
                effect, label = True, "fetch()"
            elif isinstance(node.func, ast.Name) and node.func.id in self.module.functions:
                effect, label = self.helper_sends(node.func.id), f"{node.func.id}()"
            elif is_self_attr(node.func) and node.func.attr in self.cls.methods and node.func.attr not in seen \
                    and depth < 3:
                effect = self.first_unsafe(self.cls.methods[node.func.attr], depth + 1,
                                           seen | {node.func.attr}) is not None
                label = f"self.{node.func.attr}()"
            else:
                continue
            if not effect:
                continue
            key = self.key_argument(node)
            if key is not None:
                made_fresh = [n for n in ast.walk(key) if isinstance(n, ast.Call)
                              and self.module.call_name(n) in CLOCK_CALLS | FRESH_VALUE_CALLS]
                if made_fresh:
                    return node, f"{label}: its idempotency key is new on every run, so a retry is a new request"
                continue
            if self._guarded(parents, node, fn, read_names, read_calls):
                continue
            return node, f"{label} runs again on every retry"
        return None

    @staticmethod
    def _guarded(parents: Parents, node: ast.AST, fn: ast.AST, read_names: set[str], read_calls: set[int]) -> bool:
        """Inside an `if`/`while` that tests something read from storage, or a loop over it."""
        for anc in parents.ancestors(node):
            if anc is fn:
                return False
            tested = anc.test if isinstance(anc, (ast.If, ast.While, ast.IfExp)) else (
                anc.iter if isinstance(anc, (ast.For, ast.AsyncFor)) else None)
            if tested is not None and (names_in(tested) & read_names
                                       or any(id(n) in read_calls for n in ast.walk(tested))):
                return True
        return False


@rule
class NonIdempotentAlarmSideEffect(Rule):
    code = "DO308"
    category = "state"
    title = "outside effects in alarm() without a progress record or idempotency key"
    message = "alarm() makes an outside change that a retry repeats: nothing stored says it was done"
    explanation = (
        "`alarm()` sends a request that changes something outside the object (a `fetch` with POST, PUT, "
        "PATCH or DELETE: a charge, an e-mail, a ledger entry) with nothing that makes running it twice "
        "safe. Alarms are delivered at least once: when `alarm()` throws (a later step fails) or the object "
        "dies while it runs (a crash, a deploy), the platform runs it again, up to 6 retries with back-off, "
        "and the retry repeats every step that is not recorded. Record progress in storage and skip what is "
        "done (`if record is None: ...`, a loop over the stored queue that deletes each item once it is "
        "sent), and for a request whose answer may be lost (a crash while it is in flight), send an "
        "idempotency key that is the same on every retry: computed from the job (its period, its id) or "
        "stored before the request leaves, never made from the clock or a random value. Kata 09 shows the "
        "double charge. Platform rule: alarms are delivered at least once (semantics 6.6, 6.7). Docs: "
        + DOCS + "/durable-objects/api/alarms/ and "
        + DOCS + "/durable-objects/best-practices/rules-of-durable-objects/"
    )

    def check(self, module):
        for cls in module.do_classes:
            alarm = cls.methods.get("alarm")
            if alarm is None:
                continue
            found = _SideEffects(module, cls).first_unsafe(alarm, seen=frozenset({"alarm"}))
            if found is not None:
                yield found
