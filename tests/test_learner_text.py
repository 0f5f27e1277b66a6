"""Learner-facing text speaks the learner's language: never "the seed" for the reviewer's guide
this project grew from (the word means nothing to a learner and collides with `seed=`)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEARNER_TEXT = ["notebooks/py/*.py", "katas/**/*.md", "katas/**/*.py", "katas/katas.toml", "solutions/**/*.md",
                "solutions/**/*.py", "site/*.md", "README.md", "docs/*.md"]
# "the seed's advice", "the seed reviewer", "The seed says": the document, not `seed=`
SEED_AS_A_DOCUMENT = re.compile(r"\bthe seed(?:'s|\s+(?:reviewer|guide|document|says|advice))|\bseed's\b", re.IGNORECASE)


def learner_files() -> list[Path]:
    return sorted({p for pattern in LEARNER_TEXT for p in ROOT.glob(pattern) if p.is_file()})


def test_learner_text_never_calls_the_reviewers_guide_the_seed():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in learner_files()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if SEED_AS_A_DOCUMENT.search(line)]
    assert found == []


def test_the_check_reads_the_chapters_katas_and_solutions():
    names = {p.relative_to(ROOT).parts[0] for p in learner_files()}
    assert {"notebooks", "katas", "solutions", "site"} <= names


def test_the_pattern_finds_the_document_and_not_the_argument():
    assert SEED_AS_A_DOCUMENT.search("## The seed's advice, and why it is not enough")
    assert SEED_AS_A_DOCUMENT.search('and the seed reviewer\'s checklist both put it this way')
    assert not SEED_AS_A_DOCUMENT.search("Runtime(seed=3) and the same seed gives the same run")
    assert not SEED_AS_A_DOCUMENT.search('strategy="pct" (with a `seed`) samples them')
