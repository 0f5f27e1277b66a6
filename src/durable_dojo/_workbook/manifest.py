"""The list of checked exercises (`exercises.toml`), read once."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

MANIFEST = Path(__file__).with_name("exercises.toml")


@dataclass(frozen=True)
class Exercise:
    id: str  # "02-put-it-back": the chapter's number, then what it is about
    chapter: str  # "02-storage": the notebook the exercise lives in
    answer: str  # the name the exercise cell defines, handed to check()
    title: str
    checks: str  # what the check runs and demands, in plain words


@functools.cache
def exercises() -> tuple[Exercise, ...]:
    data = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    return tuple(Exercise(**entry) for entry in data.get("exercise", []))


def find(exercise_id: str) -> Exercise | None:
    return next((e for e in exercises() if e.id == exercise_id), None)
