"""`dojo progress [--json] [FILE...]`: a participant's progress, or a room's, for a workshop facilitator.

It reads the participant's `.dojo/progress.json` (theirs by default, or a FILE they sent) against
the kata manifest and says, per kata, its status, how many checks it took and how many hints
were shown, then where the participant is now and where they look stuck. `--json` prints the
same summary as one JSON object, to collect a room's files with a script:

    {"katas_total": 17, "katas_passed": 3, "hints_shown": 4, "current": "04-frozen-relay",
     "stuck": ["04-frozen-relay"], "katas": [{"id": ..., "order": 1, "title": ..., "status":
     "passed", "checks": 2, "hints_shown": 1, "hints_total": 3, "first_check_at": "...",
     "passed_at": "...", "minutes": 12.5}, ...]}

Status is what `dojo list` shows: passed, regressed (passed once, failing now), failed, error,
crashed, hung, or new (never checked). `minutes` runs from the kata's first `dojo check` to its
first pass (the reading before the first check is not in it).

With several files (`dojo progress alice.json bob.json ...`) it summarises the room instead: per
kata, how many started and passed it, and the median minutes and checks it took those who passed:
the times a workshop agenda should be built from once a room has done it.
"""

from __future__ import annotations

import datetime
import json
import statistics
import sys
from pathlib import Path

from .manifest import KataNotFound, Manifest, ManifestError, ProjectNotFound
from .progress import Progress

STUCK_CHECKS = 5
"""A kata not passed after this many checks looks stuck: worth walking over (about the number of
tries a learner makes before the first hint would have helped)."""


def minutes_between(start: str | None, end: str | None) -> float | None:
    """Minutes from one progress.json time stamp to another, or None if either is missing."""
    if not start or not end:
        return None
    try:
        first, last = (datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S%z") for t in (start, end))
    except ValueError:
        return None
    seconds = (last - first).total_seconds()
    return round(seconds / 60, 1) if seconds >= 0 else None


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
            "first_check_at": entry.get("first_check_at"),
            "passed_at": entry.get("passed_at"),
            "minutes": minutes_between(entry.get("first_check_at"), entry.get("passed_at")),
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
        took = f"  {kata['minutes']:g} min" if kata["minutes"] is not None else ""
        lines.append(f"  {kata['id']:<30} {kata['status']:<10} {kata['checks']:>3} checks  "
                     f"{kata['hints_shown']}/{kata['hints_total']} hints{took}{marks}")
    if not lines:
        lines.append("  no kata checked yet")
    done, total = summary["katas_passed"], summary["katas_total"]
    lines.append(f"{done} of {total} katas passed, {summary['hints_shown']} hints shown")
    lines.append(f"working on: {summary['current']}" if summary["current"] else "every kata passes")
    if summary["stuck"]:
        lines.append(f"looks stuck on: {', '.join(summary['stuck'])} (see workshop/README.md for the usual stumbles)")
    return "\n".join(lines) + "\n"


def summarise_room(manifest: Manifest, progresses: dict) -> dict:
    """Several participants' progress ({name: Progress}) as one summary per kata: how many started
    and passed it, the median minutes (first check to pass) and checks of those who passed, and who
    looks stuck on it."""
    people = {name: summarise(manifest, progress) for name, progress in progresses.items()}
    katas = []
    for index, kata in enumerate(manifest.katas):
        rows = [(name, summary["katas"][index]) for name, summary in people.items()]
        passed = [row for _, row in rows if row["status"] in ("passed", "regressed")]
        minutes = [row["minutes"] for row in passed if row["minutes"] is not None]
        katas.append({
            "id": kata.id,
            "order": kata.order,
            "started": sum(row["checks"] > 0 for _, row in rows),
            "passed": len(passed),
            "median_minutes": round(statistics.median(minutes), 1) if minutes else None,
            "timed": len(minutes),
            "median_checks": statistics.median([row["checks"] for row in passed]) if passed else None,
            "stuck": sorted(name for name, summary in people.items() if kata.id in summary["stuck"]),
        })
    return {"participants": len(people), "katas": katas}


def format_room(room: dict) -> str:
    lines = [f"{room['participants']} participants", f"  {'kata':<30} {'started':>7} {'passed':>6} "
             f"{'median min':>10} {'median checks':>13}  stuck"]
    for kata in room["katas"]:
        if not kata["started"]:
            continue
        median = f"{kata['median_minutes']:g}" if kata["median_minutes"] is not None else "-"
        checks = f"{kata['median_checks']:g}" if kata["median_checks"] is not None else "-"
        lines.append(f"  {kata['id']:<30} {kata['started']:>7} {kata['passed']:>6} {median:>10} {checks:>13}  "
                     + ", ".join(kata["stuck"]))
    if len(lines) == 2:
        lines.append("  no kata checked yet")
    return "\n".join(lines) + "\n"


def _read_file(path: Path) -> Progress | str:
    """Someone else's progress file, or why it cannot be read: refuse a bad one, never move it aside
    as `dojo` does its own."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{path} is not a readable progress file ({exc})"
    if not isinstance(loaded, dict) or not isinstance(loaded.get("katas"), dict):
        return f"{path} is not a progress file (no \"katas\" object)"
    return Progress(path)


def cmd_progress(args) -> int:
    """A participant's progress for the facilitator: each kata's status, checks, hints and minutes,
    where they are and where they look stuck; with several files, the room's medians per kata
    (--json: the same as one JSON object)."""
    from .run import default_manifest

    try:
        manifest = default_manifest()
    except (ManifestError, ProjectNotFound, KataNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files = list(args.file or [])
    if len(files) > 1:
        progresses = {}
        for name in files:
            read = _read_file(Path(name))
            if isinstance(read, str):
                print(f"error: {read}", file=sys.stderr)
                return 2
            progresses[Path(name).stem if Path(name).stem not in progresses else name] = read
        room = summarise_room(manifest, progresses)
        if args.json:
            print(json.dumps(room, indent=2))
        else:
            sys.stdout.write(format_room(room))
        return 0
    if files:
        progress = _read_file(Path(files[0]))
        if isinstance(progress, str):
            print(f"error: {progress}", file=sys.stderr)
            return 2
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
    parser.add_argument("file", nargs="*", help="a participant's progress.json (default: this project's); "
                                                "several files: the room's medians per kata")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=cmd_progress, func=cmd_progress)
