"""The kata manifest, `katas/katas.toml`: the one source for the kata list, order, hints, concepts,
timeouts and docs (DESIGN.md, principle 4).

The `dojo` runner, the honesty check, the docs site and CI read it through `load_manifest()`
(the working copy) or `load_shipped_manifest()` (as shipped: what `dojo` and `make test` use,
so neither depends on what a learner, or a learner's code, did to `katas/`). A bad entry is
refused with `ManifestError`, naming the kata and the field.
"""

from __future__ import annotations

import ast
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .pristine import has_shipped_manifest, shipped_katas_dir

MANIFEST_PATH = Path("katas") / "katas.toml"
LEARNER_TREE = "katas"
SOLUTION_TREE = "solutions"
HINT_LEVELS = 3
DEFAULT_TIMEOUT = 10.0


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
        return any(name_matches(entry, test_name) for entry in self.failing_tests)


def name_matches(entry: str, name: str) -> bool:
    """Whether a `failing_tests` entry names a test: "test_x" names test_x and all its
    parametrizations ("test_x[a]"); "TestA" a whole class."""
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
    for folder in (here, *here.parents):  # a project whose katas.toml is gone, restorable from git
        if (folder / LEARNER_TREE).is_dir() and has_shipped_manifest(folder):
            return folder
    checkout = Path(__file__).resolve().parents[3]  # src/durable_dojo/_kata/manifest.py
    if (checkout / MANIFEST_PATH).is_file():
        return checkout
    raise ProjectNotFound(
        f"No {MANIFEST_PATH} in {here} or any folder above it. Run dojo inside your Durable Dojo "
        "checkout (the folder with katas/, solutions/ and tests/), or set DOJO_PROJECT."
    )


def load_manifest(root: Path | str | None = None, *, check_tests: bool = True, check_files: bool = True,
                  katas_dir: Path | str | None = None) -> Manifest:
    """Read and validate `katas/katas.toml`. Raises `ManifestError` listing every problem.

    `katas_dir`: read the manifest and check the learner files in this folder instead of
    `<root>/katas` (`load_shipped_manifest` passes the shipped copy). `check_files=False`:
    leave out the checks of the files (for a manifest whose files are read as shipped).

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
            if check_files:
                _check_files(root, katas_dir, kata, kata_problems, check_tests)
            katas.append(kata)
        problems.extend(f"{label}: {p}" for p in kata_problems)
    if problems:
        raise ManifestError(path, problems)
    katas.sort(key=lambda k: k.order)
    return Manifest(root=root, version=version, default_timeout=float(default_timeout), katas=katas,
                    katas_dir=katas_dir)


def load_shipped_manifest(root: Path | str | None = None, *, check_tests: bool = True,
                          check_files: bool = True) -> Manifest:
    """The manifest as shipped (git `HEAD` or the installed package), with the shipped learner
    files next to it: what the honesty check and the review expectations read, so that what a
    learner does in `katas/` never changes them. Raises `PristineNotFound` without a shipped copy."""
    root = Path(root).resolve() if root is not None else find_project_root()
    return load_manifest(root, check_tests=check_tests, check_files=check_files, katas_dir=shipped_katas_dir(root))


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
