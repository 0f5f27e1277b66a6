"""Katas: the manifest, the learner's progress, and running a kata's tests in a child process.

`katas/katas.toml` is the one manifest (DESIGN.md, principle 4): the `dojo` runner, the honesty
check, the docs site and CI read it through `load_manifest()`. Everything here is import-light
(no pytest at module level) because `dojo` starts cold for every command.

Running a kata's tests
    `run_pytest()` starts `python -m pytest <tests> -p durable_dojo._kata.runner` with
    `DOJO_KATA_ROOT` pointing at the tree under test (`katas/`, `solutions/`, or a gutted copy).
    This module is also that pytest plugin: the hooks at the bottom write one JSON line per
    event (collected, test started, phase report) to the file in `DOJO_REPORT`, flushed at once,
    so the parent knows every finished test even if the child has to be killed. No JUnit XML:
    it is written only at the end of the session, which a hung run never reaches.

Hangs
    Learner code that never returns (a busy loop, `time.sleep`, an await nothing resolves) must
    end with a clear verdict within the kata's timeout. The child arms
    `faulthandler.dump_traceback_later(exit=True)` just before the deadline: it writes the
    stacks of the stuck process (which names the learner's line) and exits; the parent kills the
    process group at the deadline as a backstop. The emulator's own `DeadlockError` and
    `HangTimeout` messages are quoted in the verdict when the tests raised them.

Pristine learner files (for `dojo reset`)
    No copies are kept in the repository. A wheel ships `katas/` as package data
    (`durable_dojo/_katas_data`, a hatch `force-include`); it is used when its `katas.toml`
    is the checkout's. Otherwise, in a git checkout, the file is read from git
    (`git show HEAD:./katas/...`). If neither exists, `PristineNotFound` says so.

The honesty check (`audit()`, run by `tests/test_kata_honesty.py`)
    For every kata: its solution passes all its tests; the shipped learner file fails exactly
    the tests listed in `failing_tests`; and a gutted learner file (every function and method
    body replaced by `return None`) still fails them, so a learner cannot pass by deleting code.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from .pristine import PristineNotFound, shipped_file, shipped_katas_dir  # noqa: F401

MANIFEST_PATH = Path("katas") / "katas.toml"
LEARNER_TREE = "katas"
SOLUTION_TREE = "solutions"
STATE_FILE = "progress.json"
HINT_LEVELS = 3
DEFAULT_TIMEOUT = 10.0
# How long a child pytest may take to start and collect before its tests' timeout begins.
STARTUP_ALLOWANCE = 60.0

LIKELY_HANG_CAUSE = (
    "an infinite loop or a blocking call (time.sleep) in a handler, or an await that never completes"
)

# ---------------------------------------------------------------------------------------------
# The manifest
# ---------------------------------------------------------------------------------------------


class ManifestError(Exception):
    """The manifest is wrong; `problems` lists each problem, naming the kata and the field."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s) in the kata manifest:\n{lines}")


class ProjectNotFound(Exception):
    """No `katas/katas.toml` above the working directory."""


class KataNotFound(LookupError):
    """A kata name that matches no kata, or more than one."""


@dataclass(frozen=True)
class Kata:
    id: str
    title: str
    order: int
    difficulty: int | str  # a number (1 = easiest) or a label ("intro", "core", "advanced")
    concepts: tuple[str, ...]
    learner: str
    solution: str
    tests: tuple[str, ...]
    failing_tests: tuple[str, ...]
    timeout: float
    rule: str
    docs: tuple[str, ...]
    hints: tuple[str, ...]
    explanation: str  # the text, or the path of a Markdown file (ends in .md)

    @property
    def explanation_file(self) -> str | None:
        text = self.explanation.strip()
        return text if text.endswith(".md") and "\n" not in text else None

    def explanation_text(self, root: Path) -> str:
        path = self.explanation_file
        return (root / path).read_text(encoding="utf-8") if path else self.explanation

    @property
    def filename(self) -> str:
        """The learner file's name: the kata's tests call `load_kata(id, filename)`."""
        return Path(self.learner).name

    def expected_to_fail(self, test_name: str) -> bool:
        """Whether `test_name` (the part of a node id after `::`) is one of `failing_tests`."""
        return any(_name_matches(entry, test_name) for entry in self.failing_tests)


def _name_matches(entry: str, name: str) -> bool:
    # "test_x" names test_x and all its parametrizations ("test_x[a]"); "TestA" a whole class.
    return name == entry or name.startswith(entry + "[") or name.startswith(entry + "::")


@dataclass
class Manifest:
    root: Path  # the project: tests/, solutions/, and the learner's own files under katas/
    version: int
    default_timeout: float
    katas: list[Kata]
    katas_dir: Path | None = None  # where katas.toml was read, with the kata files it ships

    def __post_init__(self):
        if self.katas_dir is None:
            self.katas_dir = self.root / LEARNER_TREE

    @property
    def path(self) -> Path:
        return self.katas_dir / MANIFEST_PATH.name

    def shipped(self, kata: Kata) -> Path:
        """The kata's learner file next to this manifest (as shipped, for a shipped manifest)."""
        return self.katas_dir / kata.id / kata.filename

    def find(self, name: str | int) -> Kata:
        """A kata by its id, its number (`3`, `03`), a unique prefix or a unique part of its id."""
        text = str(name).strip()
        for kata in self.katas:
            if kata.id == text:
                return kata
        if text.isdigit():
            for kata in self.katas:
                if kata.order == int(text):
                    return kata
        for matches in ([k for k in self.katas if k.id.startswith(text)],
                        [k for k in self.katas if text.lower() in k.id.lower()]):
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                names = ", ".join(k.id for k in matches)
                raise KataNotFound(f"'{text}' matches several katas: {names}. Give more of the name.")
        import difflib

        close = difflib.get_close_matches(text, [k.id for k in self.katas], n=3, cutoff=0.4)
        hint = f" Did you mean {' or '.join(close)}?" if close else " `dojo list` shows them all."
        raise KataNotFound(f"No kata named '{text}'.{hint}")

    def after(self, kata: Kata) -> Kata | None:
        index = self.katas.index(kata)
        return self.katas[index + 1] if index + 1 < len(self.katas) else None


_FIELDS = ("id", "title", "order", "difficulty", "concepts", "learner", "solution", "tests",
           "failing_tests", "timeout", "rule", "docs", "hints", "explanation")
_OPTIONAL = {"timeout"}
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def find_project_root(start: Path | str | None = None) -> Path:
    """The project whose katas to use: `$DOJO_PROJECT`, else the first folder at or above
    `start` (the working directory) that has `katas/katas.toml`, else the checkout this
    package runs from."""
    env = os.environ.get("DOJO_PROJECT")
    if env:
        root = Path(env).resolve()
        if not (root / MANIFEST_PATH).is_file():
            raise ProjectNotFound(f"DOJO_PROJECT={env}, but {root / MANIFEST_PATH} does not exist.")
        return root
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST_PATH).is_file():
            return folder
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / MANIFEST_PATH).is_file():
        return checkout
    raise ProjectNotFound(
        f"No {MANIFEST_PATH} in {here} or any folder above it. Run dojo inside your Durable Dojo "
        "checkout (the folder with katas/, solutions/ and tests/), or set DOJO_PROJECT."
    )


def load_manifest(root: Path | str | None = None, *, check_tests: bool = True,
                  katas_dir: Path | str | None = None) -> Manifest:
    """Read and validate `katas/katas.toml`. Raises `ManifestError` listing every problem.

    `katas_dir`: read the manifest and check the learner files in this folder instead of
    `<root>/katas` (`load_shipped_manifest` passes the shipped copy).

    Validation: the `[meta]` table, every field of every `[[kata]]` (type, presence, no unknown
    keys), unique ids and orders, the learner, solution and test files exist and follow the
    `katas/<id>/<file>` / `solutions/<id>/<file>` layout that `load_kata` relies on, and (with
    `check_tests`) every name in `failing_tests` is a test defined in the kata's test files.
    """
    root = Path(root).resolve() if root is not None else find_project_root()
    katas_dir = Path(katas_dir).resolve() if katas_dir is not None else root / LEARNER_TREE
    path = katas_dir / MANIFEST_PATH.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(path, [f"{path} does not exist"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, [f"not valid TOML: {exc}"]) from None

    problems: list[str] = []
    meta = data.get("meta")
    version, default_timeout = 1, DEFAULT_TIMEOUT
    if not isinstance(meta, dict):
        problems.append("[meta]: missing table (version = 1, default_timeout = 10)")
    else:
        version = meta.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            problems.append("[meta] field 'version': must be an integer")
        default_timeout = meta.get("default_timeout", DEFAULT_TIMEOUT)
        if not _is_number(default_timeout) or default_timeout <= 0:
            problems.append("[meta] field 'default_timeout': must be a positive number of seconds")
            default_timeout = DEFAULT_TIMEOUT
        for key in set(meta) - {"version", "default_timeout"}:
            problems.append(f"[meta]: unknown field '{key}'")
    for key in set(data) - {"meta", "kata"}:
        problems.append(f"unknown top-level key '{key}' (expected [meta] and [[kata]] entries)")

    entries = data.get("kata", [])
    if not isinstance(entries, list):
        problems.append("'kata' must be an array of tables: write each kata as [[kata]]")
        entries = []
    katas: list[Kata] = []
    seen_ids: dict[str, int] = {}
    seen_orders: dict[int, str] = {}
    for number, entry in enumerate(entries, 1):
        kata_problems: list[str] = []
        kata = _parse_entry(entry, default_timeout, kata_problems)
        label = f"kata '{entry.get('id')}'" if isinstance(entry.get("id"), str) else f"kata entry #{number}"
        if kata is not None:
            if kata.id in seen_ids:
                kata_problems.append(f"field 'id': duplicate id (entry #{seen_ids[kata.id]} has it too)")
            seen_ids.setdefault(kata.id, number)
            if kata.order in seen_orders:
                kata_problems.append(f"field 'order': {kata.order} is also the order of '{seen_orders[kata.order]}'")
            seen_orders.setdefault(kata.order, kata.id)
            _check_files(root, katas_dir, kata, kata_problems, check_tests)
            katas.append(kata)
        problems.extend(f"{label}: {p}" for p in kata_problems)
    if problems:
        raise ManifestError(path, problems)
    katas.sort(key=lambda k: k.order)
    return Manifest(root=root, version=version, default_timeout=float(default_timeout), katas=katas,
                    katas_dir=katas_dir)


def load_shipped_manifest(root: Path | str | None = None, *, check_tests: bool = True) -> Manifest:
    """The manifest as shipped (git `HEAD` or the installed package), with the shipped learner
    files next to it: what the honesty check and the review expectations read, so that what a
    learner does in `katas/` never changes them. Raises `PristineNotFound` without a shipped copy."""
    root = Path(root).resolve() if root is not None else find_project_root()
    return load_manifest(root, check_tests=check_tests, katas_dir=shipped_katas_dir(root))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse_entry(entry, default_timeout, problems: list[str]) -> Kata | None:
    if not isinstance(entry, dict):
        problems.append("must be a table")
        return None
    for key in entry:
        if key not in _FIELDS:
            problems.append(f"unknown field '{key}' (the fields are: {', '.join(_FIELDS)})")
    for key in _FIELDS:
        if key not in entry and key not in _OPTIONAL:
            problems.append(f"field '{key}': missing")
    values = {}

    def text(key, *, many=False, exact=None, nonempty=True):
        value = entry.get(key)
        if value is None:
            return () if many else ""
        if many and isinstance(value, str):
            value = [value]
        if many:
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                problems.append(f"field '{key}': must be a list of non-empty strings")
                return ()
            if nonempty and not value:
                problems.append(f"field '{key}': must not be empty")
            if exact is not None and len(value) != exact:
                problems.append(f"field '{key}': must have exactly {exact} entries, has {len(value)}")
            return tuple(value)
        if not isinstance(value, str) or (nonempty and not value.strip()):
            problems.append(f"field '{key}': must be a non-empty string")
            return ""
        return value

    for key in ("id", "title", "learner", "solution", "rule", "explanation"):
        values[key] = text(key)
    if values["id"] and not _ID_RE.match(values["id"]):
        problems.append("field 'id': use letters, digits, '-', '_' or '.' (it is a folder name)")
    order = entry.get("order")
    if "order" in entry and (not isinstance(order, int) or isinstance(order, bool) or order < 0):
        problems.append("field 'order': must be a non-negative integer")
    values["order"] = order if isinstance(order, int) else 0
    difficulty = entry.get("difficulty")
    if "difficulty" in entry and not (
            (isinstance(difficulty, int) and not isinstance(difficulty, bool) and difficulty >= 0)
            or (isinstance(difficulty, str) and difficulty.strip())):
        problems.append("field 'difficulty': must be a non-negative integer or a label such as \"core\"")
    values["difficulty"] = difficulty if isinstance(difficulty, (int, str)) else 0
    values["concepts"] = text("concepts", many=True)
    values["tests"] = text("tests", many=True)
    values["failing_tests"] = text("failing_tests", many=True)
    values["docs"] = text("docs", many=True)
    values["hints"] = text("hints", many=True, exact=HINT_LEVELS)
    timeout = entry.get("timeout", default_timeout)
    if not _is_number(timeout) or timeout <= 0:
        problems.append("field 'timeout': must be a positive number of seconds")
        timeout = default_timeout
    values["timeout"] = float(timeout)
    return Kata(**values) if values["id"] else None


def _check_files(root: Path, katas_dir: Path, kata: Kata, problems: list[str], check_tests: bool) -> None:
    def where(rel: str) -> Path:  # files under katas/ are read next to the manifest
        parts = Path(rel).parts
        return katas_dir.joinpath(*parts[1:]) if parts[:1] == (LEARNER_TREE,) else root / rel

    for key, tree in (("learner", LEARNER_TREE), ("solution", SOLUTION_TREE)):
        rel = getattr(kata, key)
        if not rel:
            continue
        if not where(rel).is_file():
            problems.append(f"field '{key}': file {rel} does not exist")
        parts = Path(rel).parts
        if len(parts) != 3 or parts[0] != tree or parts[1] != kata.id:
            problems.append(f"field '{key}': must be {tree}/{kata.id}/<file> (the kata tests load "
                            f"<root>/{kata.id}/<file>), not {rel}")
    if kata.explanation_file and not where(kata.explanation_file).is_file():
        problems.append(f"field 'explanation': file {kata.explanation_file} does not exist")
    if kata.learner and kata.solution and Path(kata.learner).name != Path(kata.solution).name:
        problems.append(f"fields 'learner' and 'solution': the file names differ "
                        f"({Path(kata.learner).name} vs {Path(kata.solution).name})")
    defined: set[str] = set()
    missing = False
    for rel in kata.tests:
        test_path = root / rel
        if not test_path.is_file():
            problems.append(f"field 'tests': file {rel} does not exist")
            missing = True
            continue
        if check_tests:
            try:
                defined |= test_names(test_path)
            except SyntaxError as exc:
                problems.append(f"field 'tests': {rel} does not parse: {exc}")
                return
    if check_tests and kata.tests and not missing:
        for name in kata.failing_tests:
            if name.split("[", 1)[0] not in defined:
                problems.append(f"field 'failing_tests': no test named '{name}' in {', '.join(kata.tests)}")


def test_names(path: Path) -> set[str]:
    """Test names defined in a test file: `test_x`, `TestA`, `TestA::test_y` (static, by AST)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names.add(node.name)
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    names.add(f"{node.name}::{item.name}")
    return names


test_names.__test__ = False  # not a test, whatever its name

# ---------------------------------------------------------------------------------------------
# Progress: .dojo/progress.json
# ---------------------------------------------------------------------------------------------


class Progress:
    """The learner's progress, kept in `.dojo/progress.json` at the project root (or in
    `$DOJO_STATE_DIR`): per kata, whether it ever passed, the last verdict, the hint level."""

    def __init__(self, path: Path):
        self.path = path
        self.warning = ""
        self.data = {"version": 1, "katas": {}}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and isinstance(loaded.get("katas"), dict):
                self.data = loaded
            else:
                raise ValueError("unexpected content")
        except FileNotFoundError:
            pass
        except (ValueError, OSError) as exc:
            backup = path.with_suffix(".json.bad")
            try:
                path.replace(backup)
            except OSError:
                pass
            self.warning = f"{path} could not be read ({exc}); starting afresh (old file kept as {backup.name})."

    @classmethod
    def for_project(cls, root: Path) -> Progress:
        folder = os.environ.get("DOJO_STATE_DIR")
        return cls(Path(folder) / STATE_FILE if folder else root / ".dojo" / STATE_FILE)

    def entry(self, kata_id: str) -> dict:
        return self.data["katas"].setdefault(kata_id, {})

    def passed(self, kata_id: str) -> bool:
        return bool(self.data["katas"].get(kata_id, {}).get("passed"))

    def last(self, kata_id: str) -> str | None:
        return self.data["katas"].get(kata_id, {}).get("last")

    def hint_level(self, kata_id: str) -> int:
        return int(self.data["katas"].get(kata_id, {}).get("hints", 0))

    def next_hint(self, kata: Kata) -> int:
        """Show one more hint level (up to the last); returns the level now reached."""
        level = min(self.hint_level(kata.id) + 1, len(kata.hints))
        self.entry(kata.id)["hints"] = level
        return level

    def record(self, verdict: Verdict) -> None:
        entry = self.entry(verdict.kata.id)
        entry["last"] = verdict.status
        entry["runs"] = int(entry.get("runs", 0)) + 1
        if verdict.passed and not entry.get("passed"):
            entry["passed"] = True
            entry["passed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    def forget_pass(self, kata_id: str) -> None:
        entry = self.entry(kata_id)
        for key in ("passed", "passed_at", "last"):
            entry.pop(key, None)

    def current(self, manifest: Manifest) -> Kata | None:
        """The kata to work on: the first, in order, that has not passed."""
        return next((k for k in manifest.katas if not self.passed(k.id)), None)

    def done(self, manifest: Manifest) -> int:
        return sum(self.passed(k.id) for k in manifest.katas)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


# ---------------------------------------------------------------------------------------------
# Running tests in a child pytest
# ---------------------------------------------------------------------------------------------

FAILING = ("failed", "error", "hung")


@dataclass
class TestResult:
    nodeid: str
    file: Path
    name: str
    outcome: str = "not run"  # passed | failed | error | skipped | hung | not run
    message: str = ""  # the exception's message, as pytest reports it
    where: str = ""  # "katas/01-x/counter.py:12 in increment" when the learner's code raised
    duration: float = 0.0

    __test__ = False


@dataclass
class RunResult:
    """One child pytest run: per-test results and how the run ended."""

    tests: dict[str, TestResult] = field(default_factory=dict)
    collected: list[str] = field(default_factory=list)
    collect_errors: list[str] = field(default_factory=list)
    returncode: int | None = None
    finished: bool = False  # the session ended normally
    hung_test: str | None = None  # the node id that was running when time ran out
    stack: str = ""  # faulthandler's dump of the stuck process
    output: str = ""  # the tail of the child's stdout and stderr
    seconds: float = 0.0
    rootpath: Path | None = None

    @property
    def hung(self) -> bool:
        return not self.finished and (self.hung_test is not None or self.returncode is None or bool(self.stack))


def _pytest_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", *args, "-q", "--tb=short", "-p", "no:cacheprovider",
            "-p", "no:nbval", "-p", "durable_dojo._kata.runner"]


def run_pytest(root: Path, args: list[str], kata_root: Path, *, timeout: float | None = None,
               test_timeouts: dict[str, float] | None = None, backstop: float | None = None) -> RunResult:
    """Run pytest on `args` (test files or node ids) in a child process, with `DOJO_KATA_ROOT` =
    `kata_root`, and collect per-test results.

    `timeout`: the whole run must end within this many seconds: shortly before, the child dumps
    its stacks and exits; at the deadline its process group is killed. `test_timeouts` (test
    file path -> seconds) instead limits each test of a file on its own (the audit runs many
    katas in one process). `backstop` bounds the wait in that case.
    """
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="dojo-run-"))
    report, trace = workdir / "report.jsonl", workdir / "stack.txt"
    env = dict(os.environ, DOJO_KATA_ROOT=str(kata_root), DOJO_REPORT=str(report), DOJO_TRACE=str(trace))
    env.pop("PYTEST_ADDOPTS", None)
    if timeout is not None:
        # The timeout counts the tests' own time: the child arms it once its tests are collected,
        # so a slow start of pytest on a busy machine never uses it up.
        env["DOJO_TIMEOUT"] = repr(timeout)
    if test_timeouts:
        env["DOJO_TEST_TIMEOUTS"] = json.dumps({str(Path(k).resolve()): v for k, v in test_timeouts.items()})
    # The parent's limit is only a backstop for a child that cannot end itself.
    limit = timeout + STARTUP_ALLOWANCE if timeout is not None else backstop
    popen_extra = {"start_new_session": True} if os.name == "posix" else {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    proc = subprocess.Popen(_pytest_command(args), cwd=root, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen_extra)
    tail: deque[bytes] = deque()
    reader = threading.Thread(target=_keep_tail, args=(proc.stdout, tail), daemon=True)
    reader.start()
    killed = False
    try:
        remaining = None if limit is None else max(0.0, limit - (time.monotonic() - started))
        proc.wait(timeout=remaining)
    except subprocess.TimeoutExpired:
        killed = True
        _kill_group(proc)
        proc.wait()
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    reader.join(timeout=2)
    result = RunResult(returncode=None if killed else proc.returncode)
    result.output = b"".join(tail).decode("utf-8", "replace")
    result.seconds = time.monotonic() - started
    _read_report(report, result)
    if trace.exists():
        result.stack = trace.read_text(encoding="utf-8", errors="replace")
    shutil.rmtree(workdir, ignore_errors=True)
    if result.hung_test and result.hung_test in result.tests:
        result.tests[result.hung_test].outcome = "hung"
    return result


def _keep_tail(stream, tail: deque, limit: int = 64 * 1024) -> None:
    size = 0
    for chunk in iter(lambda: stream.read1(8192), b""):
        tail.append(chunk)
        size += len(chunk)
        while size > limit and len(tail) > 1:
            size -= len(tail.popleft())


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _read_report(path: Path, result: RunResult) -> None:
    if not path.exists():
        return
    running: str | None = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        kind = event.get("event")
        if kind == "session":
            result.rootpath = Path(event["rootpath"])
        elif kind == "collected":
            result.collected = event["nodeids"]
        elif kind == "collect_error":
            result.collect_errors.append(f"{event['nodeid'] or 'collection'}: {event['message']}")
        elif kind == "start":
            running = event["nodeid"]
            _test(result, running)
        elif kind == "report":
            test = _test(result, event["nodeid"])
            when, outcome = event["when"], event["outcome"]
            test.duration += event.get("duration", 0.0)
            if outcome == "failed":
                if when == "call":
                    test.outcome = "failed"
                elif test.outcome not in FAILING:
                    test.outcome = "error"
                if not test.message:
                    prefix = "" if when == "call" else f"(in test {when}) "
                    test.message = prefix + event.get("message", "")
                    test.where = event.get("where", "") or test.where
            elif outcome == "skipped" and test.outcome not in FAILING:
                test.outcome = "skipped"
                test.message = event.get("message", "")
            elif outcome == "passed" and when == "call" and test.outcome == "not run":
                test.outcome = "passed"
        elif kind == "where":
            test = _test(result, event["nodeid"])
            test.where = test.where or event["where"]
        elif kind == "finish":
            running = None
        elif kind == "end":
            result.finished = True
    result.hung_test = None if result.finished else running


def _test(result: RunResult, nodeid: str) -> TestResult:
    test = result.tests.get(nodeid)
    if test is None:
        file_part, _, name = nodeid.partition("::")
        base = result.rootpath or Path.cwd()
        test = result.tests[nodeid] = TestResult(nodeid, (base / file_part).resolve(), name)
    return test


# ---------------------------------------------------------------------------------------------
# Verdicts: one kata, checked the way `dojo check` does
# ---------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    kata: Kata
    status: str  # passed | failed | hung | error
    tests: list[TestResult]
    seconds: float
    message: str = ""  # for hung / error: what happened, in words
    notes: list[str] = field(default_factory=list)  # the emulator's own hang/deadlock messages

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def check_kata(manifest: Manifest, kata: Kata, kata_root: Path | None = None) -> Verdict:
    """Run one kata's tests against the learner tree (`katas/`), within the kata's timeout."""
    root = manifest.root
    kata_root = kata_root or root / LEARNER_TREE
    run = run_pytest(root, list(kata.tests), kata_root, timeout=kata.timeout)
    return verdict_from_run(manifest, kata, run, kata_root)


def verdict_from_run(manifest: Manifest, kata: Kata, run: RunResult, kata_root: Path) -> Verdict:
    for nodeid in run.collected:  # tests a hang kept from running
        _test(run, nodeid)
    tests = list(run.tests.values())
    notes = _emulator_notes(tests, run.output)
    if run.hung:
        where = _stuck_where(run.stack, kata_root, manifest.root)
        running = run.tests.get(run.hung_test) if run.hung_test else None
        lines = [f"Kata {kata.id} did not finish within its timeout of {kata.timeout:g} s and was stopped."]
        stuck = f"Stuck in {running.name}" if running is not None else "Stuck"
        if where:
            location, _, code = where.partition(": ")
            lines.append(f"{stuck}, at {location}" + (f":\n    {code}" if code else ""))
        elif running is not None:
            lines.append(f"{stuck}.")
        lines.append(f"Likely cause: {LIKELY_HANG_CAUSE}.")
        return Verdict(kata, "hung", tests, run.seconds, "\n".join(lines), notes)
    if run.collect_errors:
        message = "The kata's tests could not be collected:\n" + "\n".join(run.collect_errors)
        return Verdict(kata, "error", tests, run.seconds, message, notes)
    if not tests:
        message = f"pytest ran no tests (exit code {run.returncode}). Its output ends with:\n{_last_lines(run.output, 15)}"
        return Verdict(kata, "error", tests, run.seconds, message, notes)
    if any(t.outcome in FAILING or t.outcome == "not run" for t in tests) or run.returncode not in (0, None):
        if notes:
            notes.append(f"Likely cause: {LIKELY_HANG_CAUSE}.")
        return Verdict(kata, "failed", tests, run.seconds, "", notes)
    return Verdict(kata, "passed", tests, run.seconds, "", notes)


_EMULATOR_ERROR = re.compile(r"\b(HangTimeout|DeadlockError): ([^\n]+)")


def _emulator_notes(tests: list[TestResult], output: str) -> list[str]:
    notes: list[str] = []
    for text in [t.message for t in tests] + [output]:
        for kind, message in _EMULATOR_ERROR.findall(text):
            note = f"{kind}: {message.strip()}"
            if note not in notes:
                notes.append(note)
    return notes[:3]


# A frame in faulthandler's dump ("line 8 in nap") or in a Python traceback ("line 8, in nap").
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+),? in (?P<func>\S+)', re.M)


def _stuck_where(stack: str, kata_root: Path, project: Path) -> str:
    """From faulthandler's dump: the innermost frame in the learner's file, with its line."""
    frames = [(Path(m["path"]), int(m["line"]), m["func"]) for m in _FRAME.finditer(stack)]
    kata_root = kata_root.resolve()
    for path, line, func in frames:  # most recent call first
        if path.resolve().is_relative_to(kata_root):
            return _describe_line(path, line, func, project)
    return ""


def _describe_line(path: Path, line: int, func: str, project: Path) -> str:
    import linecache

    shown = path.resolve()
    try:
        shown = shown.relative_to(project)
    except ValueError:
        pass
    code = linecache.getline(str(path), line).strip()
    return f"{shown}:{line} in {func}" + (f": {code}" if code else "")


def _last_lines(text: str, n: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])


def short_message(message: str, *, max_lines: int = 6, max_chars: int = 600) -> str:
    """A test failure message as a learner wants it: the kata test's own words, no pytest
    assertion rewriting, no module paths on exception names."""
    lines = message.strip().splitlines()
    if lines and lines[0].startswith("Failed: "):  # pytest.fail("...")
        lines[0] = lines[0][len("Failed: "):]
    if lines and lines[0].startswith("AssertionError: "):
        lines[0] = lines[0][len("AssertionError: "):]
        cut = next((i for i, l in enumerate(lines) if i and l.startswith("assert ")), None)
        if cut:
            lines = lines[:cut]
    elif lines and lines[0] == "AssertionError":
        lines = lines[1:] or ["the test's assertion failed"]
    if lines:
        lines[0] = re.sub(r"^(?:[A-Za-z_][\w]*\.)+(?=[A-Z]\w*(?:Error|Exception|Timeout|Abort)\b)", "", lines[0])
    text = "\n".join(l.rstrip() for l in lines[:max_lines])
    if len(lines) > max_lines:
        text += "\n…"
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Pristine learner files, for `dojo reset`
# ---------------------------------------------------------------------------------------------


def pristine_source(manifest: Manifest, kata: Kata) -> tuple[bytes, str]:
    """The learner file as shipped, and where it came from (for the message)."""
    return shipped_file(manifest.root, kata.learner)


# ---------------------------------------------------------------------------------------------
# The honesty check
# ---------------------------------------------------------------------------------------------


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


def run_tree(manifest: Manifest, katas: list[Kata], kata_root: Path, tree: str) -> TreeRun:
    """Every test of `katas` against one tree, in one child pytest (more if a test hangs: the
    hung test is recorded and the rest is run again without it)."""
    files = list(dict.fromkeys(str(manifest.root / t) for k in katas for t in k.tests))
    test_timeouts = {str(manifest.root / t): k.timeout for k in katas for t in k.tests}
    backstop = sum(k.timeout for k in katas) + 60
    results: dict[str, TestResult] = {}
    problems: list[str] = []
    args = files
    for _ in range(len(katas) + 2):
        run = run_pytest(manifest.root, args, kata_root, test_timeouts=test_timeouts, backstop=backstop)
        problems.extend(f"{tree}: collection error {e}" for e in run.collect_errors)
        for nodeid, test in run.tests.items():
            if test.outcome != "not run" or nodeid == run.hung_test:
                if nodeid == run.hung_test:
                    test.outcome = "hung"
                    where = _stuck_where(run.stack, kata_root, manifest.root)
                    test.message = f"did not finish within {test_timeouts.get(str(test.file), DEFAULT_TIMEOUT):g} s" + (
                        f", stuck at {where}" if where else "")
                results[nodeid] = test
        if run.finished:
            if run.returncode not in (0, 1):
                problems.append(f"{tree}: pytest ended with exit code {run.returncode}:\n{_last_lines(run.output, 20)}")
            break
        remaining = [n for n in run.collected if n not in results]
        if not run.collected or not remaining or run.hung_test is None:
            if not run.finished:
                problems.append(f"{tree}: pytest stopped early (exit code {run.returncode}):\n"
                                f"{_last_lines(run.output, 20)}")
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
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {name: pool.submit(run_tree, manifest, katas, path, name) for name, path in trees}
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
            if learner and not any(_name_matches(entry, t.name) for t in learner):
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


# ---------------------------------------------------------------------------------------------
# `python -m durable_dojo._kata.runner`: tools for kata authors
# ---------------------------------------------------------------------------------------------


def _main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m durable_dojo._kata.runner",
                                     description="Kata authoring tools: validate the manifest, run the honesty check.")
    parser.add_argument("--check", action="store_true", help="validate katas/katas.toml")
    parser.add_argument("--audit", nargs="*", metavar="KATA",
                        help="the honesty check for all katas (or the ones named)")
    parser.add_argument("--gut", metavar="FILE", help="print FILE with every function body deleted")
    args = parser.parse_args(argv)
    if args.gut:
        print(gut_source(Path(args.gut).read_text(encoding="utf-8"), args.gut), end="")
        return 0
    try:
        manifest = load_manifest()
    except (ManifestError, ProjectNotFound) as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.audit is not None:
        katas = [manifest.find(n) for n in args.audit] or manifest.katas
        started = time.monotonic()
        report = audit(manifest, katas)
        bad = 0
        for kata_id, found in report.items():
            problems = [f"{tree}: {p}" for tree, ps in found.items() for p in ps]
            bad += bool(problems)
            print(("✗ " if problems else "✓ ") + kata_id)
            for p in problems:
                print("    " + p.replace("\n", "\n    "))
        print(f"{len(report) - bad}/{len(report)} katas honest ({time.monotonic() - started:.1f} s)")
        return 1 if bad else 0
    print(f"{manifest.path}: {len(manifest.katas)} katas, valid.")
    return 0


# ---------------------------------------------------------------------------------------------
# The pytest plugin (`-p durable_dojo._kata.runner`), active only when DOJO_REPORT is set
# ---------------------------------------------------------------------------------------------


class _Reporter:
    def __init__(self, report: str, trace: str | None, kata_root: str | None):
        self.out = open(report, "a", encoding="utf-8")
        self.trace = open(trace, "w", encoding="utf-8") if trace else sys.stderr
        self.kata_root = Path(kata_root).resolve() if kata_root else None
        timeout = os.environ.get("DOJO_TIMEOUT")
        self.timeout = float(timeout) if timeout else None
        self.deadline: float | None = None  # set once the tests are collected
        timeouts = os.environ.get("DOJO_TEST_TIMEOUTS")
        self.test_timeouts: dict[str, float] = json.loads(timeouts) if timeouts else {}
        self.rootpath: Path | None = None

    def emit(self, **event) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    def arm_startup(self) -> None:
        """Until the tests are collected, only a generous guard (collection does not run the
        learner's code: the tests load it)."""
        import faulthandler

        if self.timeout is not None:
            faulthandler.dump_traceback_later(STARTUP_ALLOWANCE + self.timeout, exit=True, file=self.trace)

    def start_clock(self) -> None:
        if self.timeout is not None:
            self.deadline = time.time() + self.timeout
            self.arm_deadline()

    def arm_deadline(self) -> None:
        import faulthandler

        if self.deadline is not None:
            faulthandler.dump_traceback_later(max(0.05, self.deadline - time.time()), exit=True, file=self.trace)

    def arm_test(self, nodeid: str) -> None:
        import faulthandler

        if not self.test_timeouts or self.rootpath is None:
            return
        path = str((self.rootpath / nodeid.split("::", 1)[0]).resolve())
        seconds = self.test_timeouts.get(path)
        if seconds:
            faulthandler.dump_traceback_later(seconds, exit=True, file=self.trace)

    def disarm_test(self) -> None:
        import faulthandler

        if self.test_timeouts:
            faulthandler.cancel_dump_traceback_later()
            self.arm_deadline()

    def where(self, excinfo) -> str:
        """The innermost frame of the learner's code in a failure's traceback. An error that
        crossed a stub carries the object's frames in its cause (a RemoteTraceback, as text)."""
        if self.kata_root is None or excinfo is None:
            return ""
        import traceback

        chain, exc = [], excinfo.value
        while exc is not None and exc not in chain and len(chain) < 10:
            chain.append(exc)
            exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        project = self.rootpath or Path.cwd()
        for exc in reversed(chain):  # the original error first
            if isinstance(exc, SyntaxError) and exc.filename and _under(exc.filename, self.kata_root):
                return _describe_line(Path(exc.filename), exc.lineno or 0, "<module>", project)
            frames = [(f.filename, f.lineno, f.name) for f in traceback.extract_tb(exc.__traceback__)]
            frames += [(m["path"], int(m["line"]), m["func"]) for m in _FRAME.finditer(str(exc))]
            for path, line, func in reversed(frames):
                if _under(path, self.kata_root):
                    return _describe_line(Path(path), line, func, project)
        return ""


def _under(path: str, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


def _longrepr_message(report) -> str:
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return crash.message
    return _last_lines(str(longrepr), 20)


_reporter: _Reporter | None = None


def pytest_configure(config) -> None:
    global _reporter
    report = os.environ.get("DOJO_REPORT")
    if not report or _reporter is not None:
        return
    _reporter = _Reporter(report, os.environ.get("DOJO_TRACE"), os.environ.get("DOJO_KATA_ROOT"))
    _reporter.rootpath = Path(config.rootpath)
    _reporter.emit(event="session", rootpath=str(config.rootpath))
    _reporter.arm_startup()


def pytest_collectreport(report) -> None:
    if _reporter is not None and report.failed:
        _reporter.emit(event="collect_error", nodeid=report.nodeid, message=_last_lines(report.longreprtext, 25))


def pytest_collection_finish(session) -> None:
    if _reporter is not None:
        _reporter.emit(event="collected", nodeids=[item.nodeid for item in session.items])
        _reporter.start_clock()


def pytest_runtest_logstart(nodeid, location) -> None:
    if _reporter is not None:
        _reporter.emit(event="start", nodeid=nodeid)
        _reporter.arm_test(nodeid)


def pytest_exception_interact(node, call, report) -> None:
    if _reporter is not None and getattr(report, "when", None) in ("setup", "call", "teardown"):
        where = _reporter.where(call.excinfo)
        if where:
            _reporter.emit(event="where", nodeid=report.nodeid, where=where)


def pytest_runtest_logreport(report) -> None:
    if _reporter is not None:
        message = _longrepr_message(report) if report.outcome != "passed" else ""
        _reporter.emit(event="report", nodeid=report.nodeid, when=report.when, outcome=report.outcome,
                       message=message, duration=report.duration)


def pytest_runtest_logfinish(nodeid, location) -> None:
    if _reporter is not None:
        _reporter.disarm_test()
        _reporter.emit(event="finish", nodeid=nodeid)


def pytest_unconfigure(config) -> None:
    global _reporter
    if _reporter is not None:
        import faulthandler

        faulthandler.cancel_dump_traceback_later()
        _reporter.emit(event="end")
        _reporter.out.close()
        _reporter = None


if __name__ == "__main__":
    sys.exit(_main())
