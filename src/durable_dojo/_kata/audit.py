"""The honesty check (`audit()`, run by `tests/test_kata_honesty.py`) and the gutting it uses.

For every kata: its solution passes all its tests; the shipped learner file fails exactly the
tests listed in `failing_tests`; and a gutted learner file (every function and method body
replaced by `return None`) still fails them, so a learner cannot pass by deleting code.
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .frames import last_lines, stuck_where
from .manifest import DEFAULT_TIMEOUT, SOLUTION_TREE, Kata, Manifest, name_matches
from .run import FAILING, TestResult, backstop, run_pytest, short_message


class _Gut(ast.NodeTransformer):
    def _gut(self, node):
        body: list[ast.stmt] = []
        if (node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
                and isinstance(node.body[0].value.value, str)):
            body.append(node.body[0])  # keep the docstring
        if _is_generator(node):
            body += [ast.Return(value=None), ast.Expr(ast.Yield(value=None))]  # still a generator, empty
        else:
            body.append(ast.Return(value=ast.Constant(None)))
        node.body = body
        return node

    visit_FunctionDef = _gut
    visit_AsyncFunctionDef = _gut


def _is_generator(node) -> bool:
    """Whether the function itself yields (a yield in a nested function or lambda does not count)."""
    todo = list(ast.iter_child_nodes(node))
    while todo:
        child = todo.pop()
        if isinstance(child, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(child))
    return False


def gut_source(source: str, filename: str = "<kata>") -> str:
    """The learner file with every function and method body (of every class, nested ones too)
    replaced by `return None`: signatures, decorators, class attributes and imports stay. A
    kata whose failing tests pass on this is a defect: deleting code would solve it."""
    tree = _Gut().visit(ast.parse(source, filename=filename))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


@dataclass
class TreeRun:
    """The per-test results of one tree (solutions, learner files or gutted files)."""

    tree: str
    tests: dict[str, TestResult]
    problems: list[str]  # problems of the run itself (collection errors, hangs, crashes)


def run_tree(manifest: Manifest, katas: list[Kata], kata_root: Path, tree: str, limit: float | None = None) -> TreeRun:
    """Every test of `katas` against one tree, in one child pytest (more if a test hangs: the
    hung test is recorded and the rest is run again without it). `limit` is the run's backstop
    (computed here when not given)."""
    files = list(dict.fromkeys(str(manifest.root / t) for k in katas for t in k.tests))
    test_timeouts = {str(manifest.root / t): k.timeout for k in katas for t in k.tests}
    limit = backstop(manifest, katas) if limit is None else limit
    results: dict[str, TestResult] = {}
    problems: list[str] = []
    args = files
    for _ in range(len(katas) + 2):
        run = run_pytest(manifest.root, args, kata_root, test_timeouts=test_timeouts, backstop=limit)
        problems.extend(f"{tree}: collection error {e}" for e in run.collect_errors)
        for nodeid, test in run.tests.items():
            if test.outcome != "not run" or nodeid == run.hung_test:
                if nodeid == run.hung_test:
                    test.outcome = "hung"
                    where = stuck_where(run.stack, kata_root, manifest.root)
                    test.message = f"did not finish within {test_timeouts.get(str(test.file), DEFAULT_TIMEOUT):g} s" + (
                        f", stuck at {where}" if where else "")
                results[nodeid] = test
        if run.finished:
            if run.returncode not in (0, 1):
                problems.append(f"{tree}: pytest ended with exit code {run.returncode}:\n{last_lines(run.output, 20)}")
            break
        remaining = [n for n in run.collected if n not in results]
        if not run.collected or not remaining or run.hung_test is None:
            if not run.finished:
                problems.append(f"{tree}: pytest stopped early (exit code {run.returncode}):\n"
                                f"{last_lines(run.output, 20)}")
            break
        base = run.rootpath or manifest.root
        args = [str(base / n.split("::", 1)[0]) + "::" + n.split("::", 1)[1] for n in remaining]
    return TreeRun(tree, results, problems)


def _kata_tests(manifest: Manifest, kata: Kata, tests: dict[str, TestResult]) -> list[TestResult]:
    files = {(manifest.root / t).resolve() for t in kata.tests}
    return [t for t in tests.values() if t.file in files]


def audit(manifest: Manifest, katas: list[Kata] | None = None) -> dict[str, dict[str, list[str]]]:
    """The honesty check: for each kata, the problems found under "solution", "learner" and
    "gutted" (empty lists when the kata is honest). Three child pytest runs, in parallel.

    The learner files checked are the ones next to the manifest (`manifest.katas_dir`): give it
    `load_shipped_manifest()` to check the katas as shipped, whatever is in `katas/` now."""
    from concurrent.futures import ThreadPoolExecutor

    katas = manifest.katas if katas is None else katas
    root = manifest.root
    with tempfile.TemporaryDirectory(prefix="dojo-gutted-") as gutted_dir:
        gutted = Path(gutted_dir)
        gut_problems = _build_gutted_tree(manifest, katas, gutted)
        trees = [("solution", root / SOLUTION_TREE), ("learner", manifest.katas_dir), ("gutted", gutted)]
        # The backstop parses the test files: do it once, here. CPython 3.11's ast.parse is not
        # safe to run in several threads at once ("AST constructor recursion depth mismatch").
        limit = backstop(manifest, katas)
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {name: pool.submit(run_tree, manifest, katas, path, name, limit) for name, path in trees}
            runs = {name: future.result() for name, future in futures.items()}

    report: dict[str, dict[str, list[str]]] = {}
    for kata in katas:
        found = report[kata.id] = {"solution": [], "learner": [], "gutted": list(gut_problems.get(kata.id, []))}
        sol = _kata_tests(manifest, kata, runs["solution"].tests)
        if not sol:
            found["solution"].append("no test ran against the solution"
                                     + _run_problems(runs["solution"]))
        for t in sol:
            if t.outcome != "passed":
                found["solution"].append(f"{t.name} {t.outcome} against {kata.solution}: {short_message(t.message)}")

        learner = _kata_tests(manifest, kata, runs["learner"].tests)
        if not learner:
            found["learner"].append("no test ran against the learner file" + _run_problems(runs["learner"]))
        for name in sorted({t.name for t in sol} - {t.name for t in learner}):
            found["learner"].append(f"{name} did not run against the learner file")
        for entry in kata.failing_tests:
            if learner and not any(name_matches(entry, t.name) for t in learner):
                found["learner"].append(f"failing_tests names '{entry}', but no such test ran")
        for t in learner:
            failing = t.outcome in FAILING
            if kata.expected_to_fail(t.name) and not failing:
                found["learner"].append(f"{t.name} should fail against the shipped {kata.learner} "
                                        f"(it is in failing_tests) but {t.outcome}")
            elif not kata.expected_to_fail(t.name) and t.outcome != "passed":
                found["learner"].append(f"{t.name} {t.outcome} against the shipped {kata.learner}, but it is not in "
                                        f"failing_tests: {short_message(t.message)}")

        gut = _kata_tests(manifest, kata, runs["gutted"].tests)
        if not gut and not found["gutted"]:
            found["gutted"].append("no test ran against the gutted learner file" + _run_problems(runs["gutted"]))
        for t in gut:
            if kata.expected_to_fail(t.name) and t.outcome not in FAILING:
                found["gutted"].append(f"{t.name} {t.outcome} when every function body in {kata.learner} is "
                                       "replaced by `return None`: the test does not check the learner's code")
    return report


def _run_problems(run: TreeRun) -> str:
    return (":\n" + "\n".join(run.problems)) if run.problems else ""


def _build_gutted_tree(manifest: Manifest, katas: list[Kata], dest: Path) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for kata in katas:
        source_dir = manifest.katas_dir / kata.id
        shutil.copytree(source_dir, dest / kata.id, ignore=shutil.ignore_patterns("__pycache__"))
        target = dest / kata.id / kata.filename
        try:
            target.write_text(gut_source(target.read_text(encoding="utf-8"), kata.learner), encoding="utf-8")
        except SyntaxError as exc:
            problems[kata.id] = [f"{kata.learner} does not parse, so it cannot be gutted: {exc}"]
    return problems
