"""The kata tests reject plausible wrong fixes for the kata's reason, and accept correct ones.

For every kata, tests/kata_corpus/<kata>/ holds at least three wrong fixes (module state,
values hard-coded from the tests, a partial fix, serialising everything, swallowing errors...)
and at least two right fixes written differently from the reference (see corpus.py there). All
of them run through the kata's own tests in one child pytest (each test parametrized by fix):

* every wrong fix fails at least one of the tests named for it, with a message that names the
  problem (so it is rejected for the kata's reason, not by accident);
* every right fix passes every test, and `dojo review` finds nothing in it;
* `dojo review` reports the codes expected on a wrong fix that a rule covers.

A wrong fix that still passes for a reason the emulator does not model yet (module-level state
shared by every object, until isolates) is marked `pending` and is an expected failure, strict:
the day it is rejected, the mark must go.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "kata_corpus"))
import corpus  # noqa: E402

from durable_dojo._review.review import review_files  # noqa: E402

KATAS = corpus.katas()
FIXES = corpus.all_fixes()
WRONG = [f for f in FIXES if f.wrong]
RIGHT = [f for f in FIXES if not f.wrong]
CHILD_TIMEOUT = 900  # seconds for the whole corpus run: a backstop, the emulator stops hangs itself


def _param(fix: corpus.Fix):
    marks = [pytest.mark.xfail(strict=True, reason=fix.pending)] if fix.pending else []
    return pytest.param(fix, id=fix.id, marks=marks)


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory) -> dict[str, dict[str, str | None]]:
    """Run every kata's tests on every fix: {fix id: {test name: None if passed, else its failure text}}."""
    base = tmp_path_factory.mktemp("kata-corpus")
    variants: dict[str, dict[str, str]] = defaultdict(dict)
    for fix in FIXES:
        root = base / fix.kata.id / fix.name
        (root / fix.kata.id).mkdir(parents=True)
        shutil.copy(fix.path, root / fix.kata.id / fix.kata.filename)
        variants[fix.kata.id][fix.name] = str(root)
    report = base / "report.xml"
    files = sorted({str(t.relative_to(corpus.REPO)) for k in KATAS if k.id in variants for t in k.tests})
    env = dict(os.environ, DOJO_KATA_VARIANTS=json.dumps(variants))
    for name in ("DOJO_KATA_ROOT", "PYTEST_ADDOPTS", "DOJO_REPORT"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", "-p", "no:nbval",
         f"--junitxml={report}", "-o", "junit_logging=no"],
        cwd=corpus.REPO, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    if not report.exists():
        pytest.fail(f"the corpus run left no report:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    results: dict[str, dict[str, str | None]] = defaultdict(dict)
    module_kata = {t.stem: k.id for k in KATAS for t in k.tests}
    for case in ET.parse(report).getroot().iter("testcase"):
        match = re.fullmatch(r"(\w+)\[(\w+)\]", case.get("name", ""))
        if not match:
            continue
        test, variant = match.groups()
        kata = module_kata[case.get("classname", "").rsplit(".", 1)[-1]]
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        text = None if problem is None else f"{problem.get('message', '')}\n{problem.text or ''}"
        results[f"{kata}/{variant}"][test] = text
    return results


@pytest.fixture(scope="session")
def findings() -> dict[str, list[str]]:
    """`dojo review`'s codes for every fix (the katas themselves: `make review-precision`)."""
    paths = [str(f.path) for f in FIXES]
    out: dict[str, list[str]] = {p: [] for p in paths}
    for finding in review_files(paths):
        out[finding.path].append(finding.code)
    return out


def test_every_kata_has_three_wrong_and_two_right_fixes():
    short = {k.id: (sum(f.wrong for f in corpus.fixes(k)), sum(not f.wrong for f in corpus.fixes(k)))
             for k in KATAS}
    short = {kata: counts for kata, counts in short.items() if counts[0] < 3 or counts[1] < 2}
    assert not short, f"katas with fewer than 3 wrong or 2 right fixes (wrong, right): {short}"


@pytest.mark.parametrize("fix", [_param(f) for f in WRONG])
def test_a_wrong_fix_fails_for_the_katas_reason(fix, corpus_run):
    results = corpus_run.get(fix.id)
    assert results, f"{fix.id}: the kata's tests did not run on it"
    failed = {test: text for test, text in results.items() if text is not None}
    assert failed, f"{fix.id} ({fix.what}) passes every test of the kata"
    named = {test: text for test, text in failed.items() if test in fix.fails}
    assert named, (f"{fix.id} ({fix.what}) should fail {list(fix.fails)}, but it failed only "
                   f"{sorted(failed)}:\n" + "\n".join(failed.values())[:3000])
    explained = [test for test, text in named.items() if re.search(fix.says, text, re.IGNORECASE | re.DOTALL)]
    assert explained, (f"{fix.id} ({fix.what}) failed {sorted(named)}, but no failure says /{fix.says}/:\n"
                       + "\n".join(named.values())[:3000])


@pytest.mark.parametrize("fix", [pytest.param(f, id=f.id) for f in RIGHT])
def test_a_right_fix_passes_every_test(fix, corpus_run):
    results = corpus_run.get(fix.id)
    assert results, f"{fix.id}: the kata's tests did not run on it"
    failed = {test: text for test, text in results.items() if text is not None}
    assert not failed, f"{fix.id} ({fix.what}) fails {sorted(failed)}:\n" + "\n".join(failed.values())[:3000]


@pytest.mark.parametrize("fix", [pytest.param(f, id=f.id) for f in RIGHT])
def test_the_review_finds_nothing_in_a_right_fix(fix, findings):
    assert findings[str(fix.path)] == [], f"{fix.id} ({fix.what}): dojo review says {findings[str(fix.path)]}"


@pytest.mark.parametrize("fix", [pytest.param(f, id=f.id) for f in WRONG if f.review])
def test_the_review_flags_a_wrong_fix_a_rule_covers(fix, findings):
    missing = set(fix.review) - set(findings[str(fix.path)])
    assert not missing, (f"{fix.id} ({fix.what}): dojo review should report {sorted(missing)}, "
                         f"it says {findings[str(fix.path)]}")


def _rejected(fix, corpus_run) -> bool:
    return any(text is not None for text in corpus_run.get(fix.id, {}).values())


def _accepted(fix, corpus_run) -> bool:
    results = corpus_run.get(fix.id)
    return bool(results) and all(text is None for text in results.values())


def test_corpus_counts(corpus_run, findings, capsys):
    """Print the counts: wrong fixes rejected, right fixes accepted, the review's findings on each."""
    rejected = sum(_rejected(f, corpus_run) for f in WRONG)
    accepted = sum(_accepted(f, corpus_run) for f in RIGHT)
    pending = [f.id for f in WRONG if f.pending]
    lines = [f"kata corpus: {rejected}/{len(WRONG)} wrong fixes rejected, {accepted}/{len(RIGHT)} right fixes "
             f"accepted; {len(pending)} wrong fixes wait for isolates: {', '.join(pending) or 'none'}"]
    for fix in FIXES:
        verdict = ("rejected" if _rejected(fix, corpus_run) else "PASSES") if fix.wrong else (
            "accepted" if _accepted(fix, corpus_run) else "FAILS")
        lines.append(f"  {fix.id:62} {verdict:9} review: {', '.join(findings[str(fix.path)]) or '-'}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert accepted == len(RIGHT) and rejected == len(WRONG) - len(pending)
