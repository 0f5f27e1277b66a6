"""The corpus of wrong and right fixes of the katas, as data.

Each kata has a folder `tests/kata_corpus/<kata id>/` with fixes of its learner file, each a
whole file: `wrong_*.py` (plausible fixes that must fail) and `right_*.py` (correct fixes
written differently from the reference, which must pass). `fixes.toml` there describes each one
by its file name without `.py`:

    [wrong_module_dict]
    what = "the count in a module-level dict keyed by the object's id"   # what the fix does
    fails = ["test_count_survives_a_restart"]   # at least one of these tests fails ...
    says = "restart"                            # ... with a message matching this (regex)
    review = ["DO307"]                          # codes `dojo review` must report ([]: no rule covers it)
    pending = "..."                             # optional: why it still passes (an expected failure)

    [right_sql_counter]
    what = "the count in a SQL table"          # must pass every test; `dojo review` finds nothing

Used by tests/test_kata_corpus.py and by `make review-precision` (precision.py here).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MANIFEST = REPO / "katas" / "katas.toml"


@dataclass(frozen=True)
class Kata:
    id: str
    learner: Path  # katas/<id>/<file>
    solution: Path  # solutions/<id>/<file>
    tests: tuple[Path, ...]
    failing_tests: tuple[str, ...]

    @property
    def filename(self) -> str:
        return self.learner.name


@dataclass(frozen=True)
class Fix:
    kata: Kata
    path: Path
    what: str
    fails: tuple[str, ...] = ()
    says: str = ""
    review: tuple[str, ...] = ()
    pending: str = ""

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def wrong(self) -> bool:
        return self.name.startswith("wrong_")

    @property
    def id(self) -> str:
        return f"{self.kata.id}/{self.name}"


def katas() -> list[Kata]:
    data = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    out = []
    for entry in data["kata"]:
        tests = entry["tests"] if isinstance(entry["tests"], list) else [entry["tests"]]
        out.append(Kata(entry["id"], REPO / entry["learner"], REPO / entry["solution"],
                        tuple(REPO / t for t in tests), tuple(entry["failing_tests"])))
    return out


def fixes(kata: Kata) -> list[Fix]:
    folder = HERE / kata.id
    described_file = folder / "fixes.toml"
    described = tomllib.loads(described_file.read_text(encoding="utf-8")) if described_file.exists() else {}
    files = sorted(folder.glob("wrong_*.py")) + sorted(folder.glob("right_*.py"))
    out = []
    for path in files:
        info = described.get(path.stem)
        if info is None:
            raise ValueError(f"{path}: not described in {folder / 'fixes.toml'}")
        fails = info.get("fails", [])
        out.append(Fix(kata, path, info["what"], tuple([fails] if isinstance(fails, str) else fails),
                       info.get("says", ""), tuple(info.get("review", [])), info.get("pending", "")))
    extra = set(described) - {p.stem for p in files}
    if extra:
        raise ValueError(f"{folder / 'fixes.toml'} describes fixes that have no file: {sorted(extra)}")
    return out


def all_fixes() -> list[Fix]:
    return [fix for kata in katas() for fix in fixes(kata)]
