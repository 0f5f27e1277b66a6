"""`dojo progress [--json] [FILE]`: a participant's progress, summarised for a workshop facilitator.

It reads the participant's `.dojo/progress.json` (theirs by default, or a FILE they sent) against
the kata manifest and says, per kata, its status, how many checks it took and how many hints
were shown, then where the participant is now and where they look stuck. `--json` prints the
same summary as one JSON object, to collect a room's files with a script:

    {"katas_total": 17, "katas_passed": 3, "hints_shown": 4, "current": "04-frozen-relay",
     "stuck": ["04-frozen-relay"], "katas": [{"id": ..., "order": 1, "title": ..., "status":
     "passed", "checks": 2, "hints_shown": 1, "hints_total": 3, "passed_at": "..."}, ...]}

Status is what `dojo list` shows: passed, regressed (passed once, failing now), failed, error,
crashed, hung, or new (never checked).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .manifest import KataNotFound, Manifest, ManifestError, ProjectNotFound
from .progress import Progress

STUCK_CHECKS = 5
"""A kata not passed after this many checks looks stuck: worth walking over (about the number of
tries a learner makes before the first hint would have helped)."""


def summarise(manifest: Manifest, progress: Progress) -> dict:
    """The participant's progress as plain data (what `--json` prints)."""
    katas = []
    for kata in manifest.katas:
        entry = progress.data["katas"].get(kata.id, {})
        katas.append({
            "id": kata.id,
            "order": kata.order,
            "title": kata.title,
            "status": progress.status(kata.id),
            "checks": int(entry.get("runs", 0)),
            "hints_shown": progress.hint_level(kata.id),
            "hints_total": len(kata.hints),
            "passed_at": entry.get("passed_at"),
        })
    stuck = [k["id"] for k in katas if k["status"] not in ("passed", "new")
             and (k["checks"] >= STUCK_CHECKS or k["hints_shown"] == k["hints_total"])]
    current = progress.current(manifest)
    return {
        "katas_total": len(katas),
        "katas_passed": sum(k["status"] in ("passed", "regressed") for k in katas),
        "hints_shown": sum(k["hints_shown"] for k in katas),
        "current": current.id if current is not None else None,
        "stuck": stuck,
        "katas": katas,
    }


def format_summary(summary: dict) -> str:
    """The summary as text for a person: one line per kata that was touched, then the totals."""
    lines = []
    for kata in summary["katas"]:
        if kata["status"] == "new" and not kata["hints_shown"]:
            continue
        marks = "  <- stuck" if kata["id"] in summary["stuck"] else ""
        lines.append(f"  {kata['id']:<30} {kata['status']:<10} {kata['checks']:>3} checks  "
                     f"{kata['hints_shown']}/{kata['hints_total']} hints{marks}")
    if not lines:
        lines.append("  no kata checked yet")
    done, total = summary["katas_passed"], summary["katas_total"]
    lines.append(f"{done} of {total} katas passed, {summary['hints_shown']} hints shown")
    lines.append(f"working on: {summary['current']}" if summary["current"] else "every kata passes")
    if summary["stuck"]:
        lines.append(f"looks stuck on: {', '.join(summary['stuck'])} (see workshop/README.md for the usual stumbles)")
    return "\n".join(lines) + "\n"


def cmd_progress(args) -> int:
    """A participant's progress for the facilitator: each kata's status, checks and hints, where
    they are and where they look stuck (--json: the same as one JSON object)."""
    from .run import default_manifest

    try:
        manifest = default_manifest()
    except (ManifestError, ProjectNotFound, KataNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.file:
        path = Path(args.file)
        try:  # someone else's file: refuse a bad one, never move it aside as `dojo` does its own
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"error: {path} is not a readable progress file ({exc})", file=sys.stderr)
            return 2
        if not isinstance(loaded, dict) or not isinstance(loaded.get("katas"), dict):
            print(f"error: {path} is not a progress file (no \"katas\" object)", file=sys.stderr)
            return 2
        progress = Progress(path)
    else:
        progress = Progress.for_project(manifest.root)
    if progress.warning:
        print(progress.warning, file=sys.stderr)
    summary = summarise(manifest, progress)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        sys.stdout.write(format_summary(summary))
    return 0


def add_progress_command(subparsers) -> None:
    parser = subparsers.add_parser("progress", help="a participant's progress, for a workshop facilitator",
                                   description=cmd_progress.__doc__)
    parser.add_argument("file", nargs="?", help="a participant's progress.json (default: this project's)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=cmd_progress, func=cmd_progress)
