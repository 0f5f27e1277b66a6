"""DO4xx: performance. The event loop never blocked, requests short, alarms for scheduled work."""

from __future__ import annotations

import ast
from typing import Iterator

from ..model import (
    ClassInfo,
    FunctionNode,
    FunctionScope,
    Module,
    body_nodes,
    const_number,
    const_str,
    is_self_attr,
    names_in,
    start_of,
    walk_scope,
)
from .base import CLOCK_CALLS, DOCS, Rule, _all_code_functions, _unconditional, rule

MIN_TIMER_SECONDS = 1.0  # asyncio.sleep(n) with a constant n below this is a yield or simulated work, not a timer
LONG_TIMER_SECONDS = 60.0  # a request handler that sleeps this long is waiting for a schedule, not for a retry


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
        "in the instance's memory: a deploy, a crash or (before compatibility date 2026-10-01) an idle "
        "eviction drops it silently, a pending timer keeps the object from hibernating, and the whole wait is "
        "billed as duration (chapter 1). Alarms are the "
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
                    earlier = [o for o in sets if start_of(o.call) < start_of(op.call)
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
