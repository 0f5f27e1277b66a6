"""What every rule is: a `Rule` with a `code`, a checklist `category` and `title`, a one-line
`message`, an `explanation` (what the platform does, what the workbook shows, the docs page) and
`check(module)`, which yields the offending nodes. `@rule` adds a rule to `RULES`, in the order
the category modules are imported. Also the questions several rules ask of a file: which
functions run on the platform, and whether a node always runs."""

from __future__ import annotations

import ast
from typing import Iterable, Iterator

from ..model import ClassInfo, Finding, FunctionNode, Module, Parents

DOCS = "https://developers.cloudflare.com"
# Calls that read the clock: a busy loop on them spins, a key made from them is new on every retry.
CLOCK_CALLS = frozenset({"time.time", "time.monotonic", "time.perf_counter", "time.time_ns", "time.monotonic_ns",
                         "time.perf_counter_ns", "js.Date.now", "Date.now", "datetime.datetime.now",
                         "datetime.datetime.utcnow"})


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
