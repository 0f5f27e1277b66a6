"""`make review-precision`: how well `dojo review` agrees with the katas, measured on the corpus.

Correct code (every reference solution and every right fix) must be clean; broken code (every
shipped kata, and every wrong fix that fixes.toml says a rule covers) must be flagged with the
expected codes. Prints the counts and each file's findings; exits 1 if either set falls short.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

from durable_dojo._review.review import review_files  # noqa: E402


def _shipped(kata: corpus.Kata) -> Path:
    """The learner file as shipped (git HEAD or the package), not the working copy a learner edits."""
    from durable_dojo._kata.pristine import PristineNotFound, shipped_katas_dir

    try:
        return shipped_katas_dir(corpus.REPO) / kata.learner.relative_to(corpus.REPO / "katas")
    except PristineNotFound:
        return kata.learner


def main() -> int:
    katas = corpus.katas()
    fixes = corpus.all_fixes()
    correct = [(k.id + " (reference)", k.solution) for k in katas] + [(f.id, f.path) for f in fixes if not f.wrong]
    shipped = [(k.id + " (shipped)", _shipped(k)) for k in katas]
    wrong = [f for f in fixes if f.wrong]
    codes: dict[str, list[str]] = {str(p): [] for _, p in correct + shipped + [(f.id, f.path) for f in wrong]}
    for finding in review_files(list(codes)):
        codes[finding.path].append(finding.code)

    def show(label, path, ok):
        print(f"  {'ok ' if ok else 'NO '} {label:62} {', '.join(codes[str(path)]) or '-'}")

    print("Correct code, which must be clean:")
    clean = 0
    for label, path in correct:
        ok = not codes[str(path)]
        clean += ok
        show(label, path, ok)
    print("Shipped katas, which must be flagged:")
    flagged_katas = 0
    for label, path in shipped:
        ok = bool(codes[str(path)])
        flagged_katas += ok
        show(label, path, ok)
    print("Wrong fixes (the codes a rule covers must be reported):")
    covered = [f for f in wrong if f.review]
    flagged_wrong = 0
    for fix in wrong:
        ok = set(fix.review) <= set(codes[str(fix.path)])
        flagged_wrong += ok and bool(fix.review)
        show(f"{fix.id} (expects {', '.join(fix.review) or 'nothing: no rule covers it'})", fix.path, ok)
    false_positives = sum(len(codes[str(p)]) for _, p in correct)
    findings_on_broken = sum(len(codes[str(p)]) for _, p in shipped) + sum(len(codes[str(f.path)]) for f in wrong)
    print()
    print(f"reference solutions and right fixes clean: {clean}/{len(correct)} "
          f"({false_positives} findings on correct code)")
    print(f"shipped katas flagged: {flagged_katas}/{len(shipped)}")
    print(f"wrong fixes a rule covers, flagged as expected: {flagged_wrong}/{len(covered)} "
          f"({len(wrong) - len(covered)} of {len(wrong)} wrong fixes no rule covers)")
    total = findings_on_broken + false_positives
    print(f"precision (findings on broken code / all findings): {findings_on_broken}/{total}"
          f" = {findings_on_broken / total:.0%}" if total else "precision: no findings")
    return 0 if clean == len(correct) and flagged_katas == len(shipped) and flagged_wrong == len(covered) else 1


if __name__ == "__main__":
    sys.exit(main())
