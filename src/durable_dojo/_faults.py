"""Fault injection: storage writes that fail, so the output gate can be seen at work.

`rt.faults.fail_next_flush()` makes the next commit of pending writes fail (of one object, or of
any); `rt.faults.fail_flushes(probability, seed=...)` fails commits at random, reproducibly. A
failed commit resets the object and its callers get an error: no success response ever leaves
for a write that was not stored.
"""

from __future__ import annotations

import random


class StorageFault(Exception):
    """The injected storage failure."""


class Faults:
    def __init__(self):
        self._next: list = []  # keys of objects (or None for any) whose next flush fails
        self._probability = 0.0
        self._rng = random.Random(0)

    def fail_next_flush(self, stub=None, message: str = "injected storage failure") -> None:
        """The next commit of `stub`'s object (or of any object) fails with `message`."""
        self._next.append((None if stub is None else stub._host.key, message))

    def fail_flushes(self, probability: float, seed: int = 0) -> None:
        """From now on every commit fails with this probability (0 turns it off)."""
        self._probability = probability
        self._rng = random.Random(seed)

    def clear(self) -> None:
        self._next.clear()
        self._probability = 0.0

    def before_commit(self, host) -> None:
        for i, (key, message) in enumerate(self._next):
            if key is None or key == host.key:
                del self._next[i]
                raise StorageFault(message)
        if self._probability and self._rng.random() < self._probability:
            raise StorageFault("injected storage failure (random)")
