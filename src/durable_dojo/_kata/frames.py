"""Where in the learner's code: the frame of a learner file in a traceback or a stack dump,
shown as `katas/01-x/counter.py:12 in increment: self.count += 1`. Used in the child pytest (by
the plugin) and in the runner (for a hang's stack dump), so standard library only."""

from __future__ import annotations

import linecache
import re
from pathlib import Path

# A frame in faulthandler's dump ("line 8 in nap") or in a Python traceback ("line 8, in nap").
FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+),? in (?P<func>\S+)', re.M)


def under(path: str | Path, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


def stuck_where(stack: str, kata_root: Path, project: Path) -> str:
    """From faulthandler's dump: the innermost frame in the learner's file, with its line."""
    frames = [(Path(m["path"]), int(m["line"]), m["func"]) for m in FRAME.finditer(stack)]
    kata_root = kata_root.resolve()
    for path, line, func in frames:  # most recent call first
        if under(path, kata_root):
            return describe_line(path, line, func, project)
    return ""


def describe_line(path: Path, line: int, func: str, project: Path) -> str:
    shown = Path(path).resolve()
    try:
        shown = shown.relative_to(Path(project).resolve())
    except ValueError:
        pass
    code = linecache.getline(str(path), line).strip()
    return f"{shown.as_posix()}:{line} in {func}" + (f": {code}" if code else "")


def last_lines(text: str, n: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])
