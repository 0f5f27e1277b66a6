"""Fault injection: what goes wrong on a real platform, on demand and reproducibly.

* Failed writes: `fail_next_flush()` makes the next commit of pending writes fail (of one object,
  or of any); `fail_flushes(probability, seed=...)` fails commits at random. A failed commit
  resets the object and its callers get an error: no success response ever leaves for a write
  that was not stored (the output gate).
* Crashes: `crash(stub)` kills the object's instance now, `crash_after(stub, seconds)` at a
  virtual time (say, in the middle of a request). Memory is gone; storage is as of the last
  committed batch; callers in flight get a retryable "Network connection lost." error.
* Chaos eviction: `chaos_eviction(probability, seed=...)` evicts an object at random whenever it
  finishes an event and is idle, recycling its isolate too when no object there is busy, so code
  that keeps the truth in memory (fields or module globals) fails its tests every time, not once
  a week in production.
* Isolates: `restart_isolate(stub)` recycles the isolate hosting the stub's object now.
"""

from __future__ import annotations

import random


class StorageFault(Exception):
    """The injected storage failure."""


CRASH_MESSAGE = "Network connection lost."


class Faults:
    """`rt.faults`: the learner's controls. What they decide is kept in a `FaultPlan`, which the
    core consults before each commit and at each event boundary."""

    def __init__(self, world=None):
        self._world = world
        self._plan = FaultPlan()

    def crash(self, stub) -> None:
        """Kill the stub's object now: memory lost, uncommitted writes lost, callers fail."""
        instance = stub._host.instance
        if instance is not None:
            instance.crash(CRASH_MESSAGE)

    def crash_after(self, stub, seconds: float) -> None:
        """Kill the stub's object `seconds` of virtual time from now."""
        loop = self._world.loop
        loop.call_housekeeping_at(loop.time() + seconds, self.crash, stub)

    def restart_isolate(self, stub) -> None:
        """Recycle the isolate hosting the stub's object (as a memory limit or a machine restart
        would): its module state is gone, its idle objects are evicted, busy ones crash."""
        world = self._world
        world.isolates.restart(world.isolates.of(stub), "restart_isolate()")

    def chaos_eviction(self, probability: float, seed: int = 0) -> None:
        """Evict objects at random event boundaries with this probability (0 turns it off)."""
        self._plan.chaos = probability
        self._plan.chaos_rng = random.Random(seed)

    def fail_next_flush(self, stub=None, message: str = "injected storage failure") -> None:
        """The next commit of `stub`'s object (or of any object) fails with `message`."""
        self._plan.next_failures.append((None if stub is None else stub._host.key, message))

    def fail_flushes(self, probability: float, seed: int = 0) -> None:
        """From now on every commit fails with this probability (0 turns it off)."""
        self._plan.probability = probability
        self._plan.rng = random.Random(seed)

    def clear(self) -> None:
        """No more injected failures or chaos."""
        plan = self._plan
        plan.next_failures.clear()
        plan.probability = 0.0
        plan.chaos = 0.0


class FaultPlan:
    """The faults a world is set to inject, as the core asks about them."""

    __slots__ = ("next_failures", "probability", "rng", "chaos", "chaos_rng")

    def __init__(self):
        self.next_failures: list = []  # keys of objects (or None for any) whose next commit fails
        self.probability = 0.0
        self.rng = None  # set with `probability` (fail_flushes): most worlds never inject faults
        self.chaos = 0.0
        self.chaos_rng = None  # set with `chaos` (chaos_eviction)

    def before_commit(self, host) -> None:
        """Raise the injected failure if this commit of `host` is to fail."""
        for i, (key, message) in enumerate(self.next_failures):
            if key is None or key == host.key:
                del self.next_failures[i]
                raise StorageFault(message)
        if self.probability and self.rng.random() < self.probability:
            raise StorageFault("injected storage failure (random)")

    def chaos_evicts_now(self) -> bool:
        return bool(self.chaos) and self.chaos_rng.random() < self.chaos
