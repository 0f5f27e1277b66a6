"""The learner's progress: `.dojo/progress.json` at the project root (or in `$DOJO_STATE_DIR`)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .manifest import Kata, Manifest
    from .run import Verdict

STATE_FILE = "progress.json"


class Progress:
    """The learner's progress, kept in `.dojo/progress.json` at the project root (or in
    `$DOJO_STATE_DIR`): per kata, whether it ever passed, the last verdict, the hint level."""

    def __init__(self, path: Path):
        self.path = path
        self.warning = ""
        self.data = {"version": 1, "katas": {}}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and isinstance(loaded.get("katas"), dict):
                self.data = loaded
            else:
                raise ValueError("unexpected content")
        except FileNotFoundError:
            pass
        except (ValueError, OSError) as exc:
            backup = path.with_suffix(".json.bad")
            try:
                path.replace(backup)
            except OSError:
                pass
            self.warning = f"{path} could not be read ({exc}); starting afresh (old file kept as {backup.name})."

    @classmethod
    def for_project(cls, root: Path) -> Progress:
        folder = os.environ.get("DOJO_STATE_DIR")
        return cls(Path(folder) / STATE_FILE if folder else root / ".dojo" / STATE_FILE)

    def entry(self, kata_id: str) -> dict:
        return self.data["katas"].setdefault(kata_id, {})

    def passed(self, kata_id: str) -> bool:
        return bool(self.data["katas"].get(kata_id, {}).get("passed"))

    def last(self, kata_id: str) -> str | None:
        return self.data["katas"].get(kata_id, {}).get("last")

    def status(self, kata_id: str) -> str:
        """What `dojo list` shows: passed, regressed (passed once, failing now), the last verdict
        (failed, error, crashed, hung), or new (never checked)."""
        last = self.last(kata_id)
        if self.passed(kata_id):
            return "passed" if last in (None, "passed") else "regressed"
        return last or "new"

    def hint_level(self, kata_id: str) -> int:
        return int(self.data["katas"].get(kata_id, {}).get("hints", 0))

    def next_hint(self, kata: Kata) -> int:
        """Show one more hint level (up to the last); returns the level now reached."""
        level = min(self.hint_level(kata.id) + 1, len(kata.hints))
        self.entry(kata.id)["hints"] = level
        return level

    def record(self, verdict: Verdict) -> None:
        entry = self.entry(verdict.kata.id)
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        entry.setdefault("first_check_at", now)  # with passed_at: how long the kata took (dojo progress)
        entry["last"] = verdict.status
        entry["runs"] = int(entry.get("runs", 0)) + 1
        if verdict.passed and not entry.get("passed"):
            entry["passed"] = True
            entry["passed_at"] = now

    def forget_pass(self, kata_id: str) -> None:
        entry = self.entry(kata_id)
        for key in ("passed", "passed_at", "last"):
            entry.pop(key, None)

    def current(self, manifest: Manifest) -> Kata | None:
        """The kata to work on: the first, in order, that has not passed."""
        return next((k for k in manifest.katas if not self.passed(k.id)), None)

    def done(self, manifest: Manifest) -> int:
        return sum(self.passed(k.id) for k in manifest.katas)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
