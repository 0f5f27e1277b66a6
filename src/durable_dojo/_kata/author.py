"""Tools for kata authors: `python -m durable_dojo._kata check | audit [KATA ...] | gut FILE`.

They work on the working copy of `katas/` (what an author is editing), where `make test` checks
the katas as committed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .audit import audit, gut_source
from .manifest import ManifestError, ProjectNotFound, load_manifest


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m durable_dojo._kata",
                                     description="Kata authoring tools: validate the manifest, run the honesty check.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("check", help="validate katas/katas.toml")
    audit_parser = sub.add_parser("audit", help="the honesty check for all katas (or the ones named)")
    audit_parser.add_argument("katas", nargs="*", metavar="KATA")
    gut_parser = sub.add_parser("gut", help="print FILE with every function body deleted")
    gut_parser.add_argument("file", metavar="FILE")
    args = parser.parse_args(argv)
    if args.command == "gut":
        print(gut_source(Path(args.file).read_text(encoding="utf-8"), args.file), end="")
        return 0
    try:
        manifest = load_manifest()
    except (ManifestError, ProjectNotFound) as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "audit":
        katas = [manifest.find(n) for n in args.katas] or manifest.katas
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
