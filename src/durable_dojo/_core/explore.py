"""Schedule exploration: run a scenario under every order in which the platform could interleave
its events, find the orders that break it, and replay one by its id.

What is chosen. A Durable Object runs one event at a time and interleaves only at an await that
opens its input gate (an outgoing `fetch`, a call to another object, a timer). The world's loop
tags every callback with the *strand* it belongs to: one event (request, RPC call, alarm,
WebSocket message) of one object instance. Whenever more than one strand could run next, that is
a *choice point*; everything else runs as the plain loop would:

* Callbacks outside any object (the world's own machinery, Worker code, test clients) run first,
  in the order they were scheduled: they hold no object state, and the events they deliver
  become strands that are chosen between.
* A chosen strand runs one *step*: its next callback, then the task continuations that follow
  it directly (what JavaScript would run as microtasks), up to its next real wait.
* Never inside a shut input gate: a callback that the gate holds back (`blockConcurrencyWhile`,
  `transaction`) is not a candidate, and storage awaits never yield, so they are never split.
* Calls from one caller to one object start in the order they were made (E-order: the platform
  delivers the calls of one stub in order), WebSocket messages of one socket likewise. Callers
  are told apart by the strand (or the test client) that made the call, which is at least as
  strict as one stub. Outgoing messages leave in program order, so the output gate's order holds.

A schedule is the list of picks at the choice points, each an index into the strands ready
there, in the order the loop would have run them (index 0 is the loop's own order). Its id
keeps only the picks that differ from that order, as `<choice point><letter>` (a = 2nd ready
strand, b = 3rd...): "s" is the loop's own order, "s1a4b" forces two picks. The same code gives
the same world, so an id replays in any process (`explore(..., replay=id)`, `Runtime(schedule=id)`).

Partial-order reduction. Two steps are *dependent* when their footprints share an object: the
object whose strand ran, plus every object the trace names during the step (events delivered to
it, its storage, its gates, its alarm). Steps of objects that never talk to each other are
independent, and swapping two adjacent independent steps leaves every object in the same state.
The exhaustive search combines two sound reductions over that relation (Flanagan and Godefroid's
dynamic partial-order reduction, here in its simplest form, with Godefroid's sleep sets):

* It tries another strand at a choice point only when a later step of that strand turned out to
  depend on the step taken there without being ordered after it in every schedule (vector
  clocks track happens-before: program order, sending an event, waking an awaiting strand, and
  a test that awaited a call before sending the next one); when that strand was not ready there
  yet, it tries every strand that was. Every such earlier step counts, not just the last one.
* After exploring a strand at a choice point, it keeps it asleep in the branches that follow
  until a dependent step runs: orders that differ only by swapping independent steps are run once.

So for requests to different objects that never call each other one schedule covers all their
orders, while every order of dependent steps is still run. What it cannot see: state shared
outside the platform's model (a module-level variable written by two objects); pass
`reduction=False` to enumerate every order.

Beyond the bound, two randomised strategies (with a seed): "random" picks uniformly at each
choice point; "pct" is probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010):
random priorities per strand, and `pct_depth - 1` random choice points where the running
strand's priority drops below all others, which finds a bug of depth d with a probability that
does not shrink with the length of the run. A failing schedule is shrunk (as hypothesis shrinks
an example) to the fewest picks that differ from the loop's order and still fail the same way.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import re

from .errors import DojoError
from .loop import current_scope

STRATEGIES = ("exhaustive", "random", "pct")
_STEP_LIMIT = 1000  # callbacks in one step before the strand must give others a turn
_MAX_FAILURES = 10  # distinct failures reported by one exploration
_SHRINK_RUNS = 200  # schedules tried while shrinking one failure
_EVERYTHING = frozenset({"*"})  # the footprint of a step whose trace fell off the ring


# ----- schedule ids -----

def _letters(index: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa (bijective base 26)."""
    out = ""
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def _number(letters: str) -> int:
    value = 0
    for ch in letters:
        value = value * 26 + (ord(ch) - ord("a") + 1)
    return value


def schedule_id(picks) -> str:
    """The id of a schedule from its forced picks [(choice point, index), ...]."""
    return "s" + "".join(f"{point}{_letters(index)}" for point, index in picks)


def parse_schedule(text: str) -> list[tuple[int, int]]:
    """The forced picks of a schedule id (the inverse of `schedule_id`)."""
    if not isinstance(text, str) or not re.fullmatch(r"s(?:\d+[a-z]+)*", text):
        raise DojoError(f"{text!r} is not a schedule id: ids look like 's' or 's1a4b', as explore() reports them.")
    return [(int(point), _number(letters)) for point, letters in re.findall(r"(\d+)([a-z]+)", text[1:])]


# ----- strands -----

def strand_of(scope) -> tuple:
    """The strand a callback belongs to: (object id, instance number, request id or None)."""
    instance = scope.instance
    event = scope.event
    return (instance.host.key, instance.number, None if event is None else event.request_id)


def _join(clock: dict, other: dict) -> None:
    for strand, steps in other.items():
        if clock.get(strand, 0) < steps:
            clock[strand] = steps


def _is_task_step(handle) -> bool:
    return isinstance(getattr(handle._callback, "__self__", None), asyncio.Task)


class ScheduleMismatch(DojoError):
    """A schedule id that does not fit the scenario (the code changed since it was recorded)."""


class Chooser:
    """Runs a world's ready callbacks one step at a time, asking a policy at each choice point.

    The world's loop calls `run_ready` instead of running its whole batch when a chooser is
    attached (`attach`). Policies: `Replay` (an id), `_Search` (exhaustive), `_Random`, `_PCT`,
    and the interactive one of the play-the-scheduler widget (which pauses)."""

    def __init__(self, policy):
        self.policy = policy
        self.world = None
        self.position = 0  # choice points passed so far
        self.picks: list[tuple[int, int]] = []  # (choice point, index) where index != 0
        self.started: set = set()  # strands that have taken a step
        self.channels: dict[int, object] = {}  # request id -> who sent it
        # Happens-before, as vector clocks (strand -> {strand: steps}): a step happens before
        # another if it is earlier in the same strand, sent the event the other runs, woke it
        # (resolved what it awaited), or finished the call a test awaited before sending.
        self.clocks: dict = {}
        self.sent_after: dict[int, dict] = {}  # request id -> the sender's clock when it sent
        self.wakes: dict = {}  # strand -> clocks of the steps that woke it, joined at its next step
        self.outside: dict = {}  # the test's clock: what it has seen finish
        self.replies: dict = {}  # id(event.reply) -> strand
        self.events: list = []  # the events that started, in order
        self.paused = None  # the candidates, when the policy wants to wait for a decision
        self.candidates: dict = {}  # strand -> scope, at the last choice point

    def attach(self, world) -> "Chooser":
        """Take over the scheduling of `world` (a fresh one: nothing has run in it yet)."""
        if world.loop.real_time:
            raise DojoError("Schedules are explored on the virtual clock: make_runtime must build a world "
                            "without real_time=True.")
        self.world = world
        world.loop.chooser = self
        issue_id = world._next_request_id
        chooser = self

        def next_request_id() -> int:
            # Every event gets its id where it is sent, so this learns who sent it (E-order).
            rid = issue_id()
            scope = current_scope.get()
            sender = "outside" if scope is None else strand_of(scope)
            chooser.channels[rid] = sender
            chooser.sent_after[rid] = dict(chooser.outside if scope is None else chooser.clocks.get(sender, {}))
            return rid

        wait = world._wait_for

        def wait_for(future, what):
            # The test goes on once the call it awaits has finished: after that call's steps.
            wait(future, what)
            finisher = chooser.replies.get(id(future))
            if finisher is not None:
                _join(chooser.outside, chooser.clocks.get(finisher, {}))

        world._next_request_id = next_request_id
        world._wait_for = wait_for
        return self

    def detach(self) -> None:
        if self.world is not None:
            self.world.loop.chooser = None

    @property
    def schedule(self) -> str:
        return schedule_id(self.picks)

    # ----- what the loop calls -----

    def run_ready(self, loop) -> None:
        """Run the world's machinery, then one step of one strand (chosen if several could go)."""
        self._run_world_callbacks(loop)
        strands = self._runnable(loop)
        if not strands:
            return
        names = tuple(strands)
        node = None
        if len(names) == 1:
            index = 0
            self.policy.forced(names[0])
        else:
            self.candidates = strands
            index = self.policy.choose(self.position, names, self)
            if index is None:  # an interactive policy waits for the learner
                self.paused = names
                return
            if not 0 <= index < len(names):
                wanted = getattr(self.policy, "schedule", self.schedule)
                raise ScheduleMismatch(
                    f"schedule {wanted} does not fit: choice point {self.position} has "
                    f"{len(names)} ready events, not {index + 1}. The code or the scenario changed "
                    "since this schedule was recorded: explore again to get a current id."
                )
            if index:
                self.picks.append((self.position, index))
            node = self.position
            self.position += 1
        self.paused = None
        name = names[index]
        footprint, clock = self._step(loop, name, strands[name])
        self.policy.after_step(name, footprint, node, clock)

    # ----- the pieces -----

    def _run_world_callbacks(self, loop) -> None:
        """Run every ready callback that belongs to no object, in order (and what they schedule)."""
        ready = loop._ready
        for _ in range(_STEP_LIMIT):
            for _, scope in ready:
                if scope is None:
                    break
            else:
                return
            pending = list(ready)
            ready.clear()
            keep = []
            for handle, scope in pending:
                if handle._cancelled:
                    continue
                if scope is None:
                    loop.run_handle(handle, None)
                else:
                    keep.append((handle, scope))
            ready.extendleft(reversed(keep))

    def _runnable(self, loop) -> dict:
        """The strands that may run now, in the loop's order: not held by a shut input gate, and
        for events not yet started, only the first of each (object, sender)."""
        ready = loop._ready
        keep = []
        strands: dict = {}
        while ready:
            handle, scope = ready.popleft()
            if handle._cancelled or scope.held_by_gate(handle):
                continue  # a held callback now belongs to the gate, which gives it back when it opens
            keep.append((handle, scope))
            name = strand_of(scope)
            if name not in strands:
                strands[name] = scope
        ready.extend(keep)
        first_of_sender: dict = {}
        for name, scope in strands.items():
            if name in self.started or scope.event is None:
                continue
            sender = (name[0], self._sender(scope.event))
            if sender not in first_of_sender or name[2] < first_of_sender[sender][2]:
                first_of_sender[sender] = name
        return {name: scope for name, scope in strands.items()
                if name in self.started or scope.event is None
                or first_of_sender[(name[0], self._sender(scope.event))] == name}

    def _sender(self, event):
        if event.kind == "ws":
            return ("ws", id(event.args[0]))  # one socket's messages arrive in order
        if event.kind == "alarm":
            return ("alarm",)
        return self.channels.get(event.request_id, "outside")

    def _step(self, loop, name, scope) -> tuple[frozenset, dict]:
        """Run strand `name` up to its next real wait; return the objects it touched and the
        step's vector clock."""
        clock = self.clocks.get(name)
        if clock is None:  # the first step of an event: after the step that sent it
            clock = dict(self.sent_after.get(name[2], {})) if name[2] is not None else {}
            if scope.event is not None:
                self.replies[id(scope.event.reply)] = name
                self.events.append(scope.event)
        _join(clock, self.wakes.pop(name, {}))
        clock[name] = clock.get(name, 0) + 1
        self.clocks[name] = clock
        self.started.add(name)
        trace = self.world.trace
        before = trace.recorded
        waiting = {id(handle) for handle, _ in loop._ready}
        ran = 0
        while ran < _STEP_LIMIT:
            entry = self._take(loop, scope.instance, scope.event, first=ran == 0)
            if entry is None:
                break
            loop.run_handle(*entry)
            ran += 1
            self._run_world_callbacks(loop)
        for handle, other in loop._ready:  # the strands this step woke happen after it
            if other is not None and id(handle) not in waiting:
                woken = strand_of(other)
                if woken != name:
                    _join(self.wakes.setdefault(woken, {}), clock)
        snapshot = dict(clock)
        touched = trace.objects_since(before)
        if touched is None:  # some of the step's events fell off the trace: assume it touched everything
            return _EVERYTHING, snapshot
        touched.add(name[0])
        return frozenset(touched), snapshot

    def _take(self, loop, instance, event, *, first: bool):
        """Remove and return the strand's next callback (after the first, only task continuations)."""
        ready = loop._ready
        for position, (handle, scope) in enumerate(ready):
            if scope is None or handle._cancelled or scope.event is not event or scope.instance is not instance:
                continue
            if not first and not _is_task_step(handle):
                return None  # a completion of its own (a timer, an allowConcurrency read): a new step
            del ready[position]
            if scope.held_by_gate(handle):
                return self._take(loop, instance, event, first=first)
            return handle, scope
        return None


# ----- policies -----

class _Default:
    """The loop's own order."""

    def choose(self, position, names, chooser):
        return 0

    def forced(self, name):
        pass

    def after_step(self, name, footprint, node, clock):
        pass


class Replay(_Default):
    """Follow a schedule id. Strict: a pick that does not fit raises ScheduleMismatch; lenient
    (shrinking): it is clamped to the ready strands."""

    def __init__(self, picks, *, strict: bool = True):
        self.picks = dict(picks)
        self.strict = strict
        self.last = max(self.picks, default=-1)
        self.schedule = schedule_id(sorted(self.picks.items()))

    def choose(self, position, names, chooser):
        index = self.picks.get(position, 0)
        return index if self.strict else min(index, len(names) - 1)


def replaying(world, schedule: str) -> Chooser:
    """Make `world` follow `schedule` (what `Runtime(schedule=...)` does)."""
    return Chooser(Replay(parse_schedule(schedule))).attach(world)


class _Random(_Default):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def choose(self, position, names, chooser):
        return self.rng.randrange(len(names))


class _PCT(_Default):
    """Probabilistic concurrency testing: the ready strand with the highest priority runs; at
    `depth - 1` random choice points the strand that would run drops to the lowest priority."""

    def __init__(self, rng: random.Random, depth: int, length: int):
        self.rng = rng
        self.priority: dict = {}
        self.drops = set(rng.sample(range(max(length, 1)), min(depth - 1, max(length, 1))))
        self.lowest = 0.0

    def choose(self, position, names, chooser):
        for name in names:
            if name not in self.priority:
                self.priority[name] = 1.0 + self.rng.random()
        best = max(names, key=self.priority.__getitem__)
        if position in self.drops:
            self.lowest -= 1.0
            self.priority[best] = self.lowest
            best = max(names, key=self.priority.__getitem__)
        return names.index(best)


def _dependent(a: frozenset, b: frozenset) -> bool:
    return not a.isdisjoint(b) or a is _EVERYTHING or b is _EVERYTHING


class _Node:
    """A choice point on the current path of the exhaustive search."""

    __slots__ = ("names", "sleep", "done", "todo", "chosen", "footprint", "dead")

    def __init__(self, names, sleep, chosen, todo, dead):
        self.names = names
        self.sleep = sleep  # strand -> footprint: asleep when this point was reached
        self.done: dict = {}  # strand -> footprint: branches already explored from here
        self.todo = todo  # strands this point must try (all of them without reduction)
        self.chosen = chosen
        self.footprint = None
        self.dead = dead  # reached after every ready strand was asleep: nothing new below


class _Search(_Default):
    """Depth-first search over the choice points, stateless (each schedule runs from a fresh
    world), with dynamic partial-order reduction and sleep sets (see the module docstring)."""

    def __init__(self, reduction: bool):
        self.reduction = reduction
        self.nodes: list[_Node] = []
        self.begin()

    def begin(self) -> None:
        self.depth = 0
        self.sleep: dict = {}
        self.blocked = False
        self.history: list = []  # (strand, footprint, node index or None) of this run's steps

    def choose(self, position, names, chooser):
        depth = self.depth
        self.depth += 1
        if depth < len(self.nodes):
            node = self.nodes[depth]
            if node.names != names:
                raise DojoError(
                    "The scenario did not repeat itself: the same schedule reached different ready "
                    "events. Exploring needs a scenario that does the same thing every time it runs "
                    "(no wall-clock time, no unseeded randomness, a fresh world from make_runtime)."
                )
            self.sleep = node.sleep
            return names.index(node.chosen)
        sleep = self.sleep if self.reduction and not self.blocked else {}
        awake = [name for name in names if name not in sleep]
        if not awake:
            self.blocked = True  # every order from here was or will be run elsewhere
        chosen = awake[0] if awake else names[0]
        todo = {chosen} if self.reduction else set(names)
        self.nodes.append(_Node(names, dict(sleep), chosen, todo, self.blocked))
        return names.index(chosen)

    def forced(self, name):
        if name in self.sleep and self.reduction:
            self.blocked = True

    def after_step(self, name, footprint, node, clock):
        index = None if node is None else self.depth - 1
        if self.reduction and not self.blocked:
            for other, other_footprint, at, steps in self.history:
                if at is None or other == name or not _dependent(other_footprint, footprint):
                    continue
                if clock.get(other, 0) >= steps:
                    continue  # it happened before this step in every schedule: not a race
                earlier = self.nodes[at]
                if name in earlier.names:
                    earlier.todo.add(name)
                else:
                    earlier.todo.update(earlier.names)
        self.history.append((name, footprint, index, clock[name]))
        if index is not None:
            current = self.nodes[index]
            current.footprint = footprint
            before = {**current.sleep, **current.done}
        else:
            before = self.sleep
        self.sleep = {u: f for u, f in before.items() if u != name and not _dependent(f, footprint)}

    def advance(self) -> bool:
        """Move to the next unexplored branch; False when the whole space was covered."""
        while self.nodes:
            node = self.nodes[-1]
            node.done[node.chosen] = node.footprint
            if not node.dead:
                for name in node.names:
                    if name in node.todo and name not in node.done and name not in node.sleep:
                        node.chosen = name
                        node.footprint = None
                        self.begin()
                        return True
            self.nodes.pop()
        self.begin()
        return False


# ----- running scenarios -----

class Failure:
    """One failing schedule: its id, what it raised, and the trace of that run."""

    __slots__ = ("schedule", "exception", "trace")

    def __init__(self, schedule: str, exception: BaseException, trace):
        self.schedule = schedule
        self.exception = exception
        self.trace = trace

    def __repr__(self) -> str:
        return f"<Failure {self.schedule}: {type(self.exception).__name__}: {self.exception}>"


class Exploration:
    """What `explore` found: how many schedules ran, whether they covered the whole space
    within the bound (`complete`), and the failing ones (`failures`)."""

    def __init__(self, schedules_run: int, complete: bool, failures: list, strategy: str):
        self.schedules_run = schedules_run
        self.complete = complete
        self.failures = failures
        self.strategy = strategy

    def __repr__(self) -> str:
        return (f"<Exploration {self.strategy}: {self.schedules_run} schedules, "
                f"complete={self.complete}, {len(self.failures)} failing>")

    def __str__(self) -> str:
        covered = "every schedule" if self.complete else "not every schedule (the bound was reached)"
        lines = [f"{self.schedules_run} schedules run, {covered}."]
        if not self.failures:
            lines.append("No schedule failed.")
        for failure in self.failures:
            exc = failure.exception
            lines.append(f"schedule {failure.schedule} fails: {type(exc).__name__}: {exc}")
            lines.append(f"  replay it: await explore(scenario, make_runtime=..., replay={failure.schedule!r})")
        return "\n".join(lines)


class _Run:
    __slots__ = ("schedule", "picks", "error", "trace", "points")

    def __init__(self, chooser: Chooser, error, trace):
        self.schedule = chooser.schedule
        self.picks = list(chooser.picks)
        self.points = chooser.position
        self.error = error
        self.trace = trace


async def _run_once(scenario, make_runtime, policy) -> _Run:
    world = make_runtime()
    try:
        chooser = Chooser(policy).attach(world)
    except BaseException:
        world.close()
        raise
    error = None
    try:
        outcome = scenario(world)
        if inspect.isawaitable(outcome):
            await outcome
    except ScheduleMismatch:
        raise
    except Exception as exc:  # noqa: BLE001 - a failing schedule is what we are looking for
        error = exc
    finally:
        chooser.detach()
        world.close()
        for event in chooser.events:  # calls the failed scenario left behind: their end is no news
            if event.reply.done() and not event.reply.cancelled():
                event.reply.exception()
    if isinstance(policy, Replay) and policy.strict and policy.last >= chooser.position:
        raise ScheduleMismatch(
            f"schedule {policy.schedule} does not fit: it picks at choice point "
            f"{policy.last}, but this scenario has only {chooser.position}. The code or the scenario "
            "changed since it was recorded: explore again to get a current id."
        )
    return _Run(chooser, error, world.trace)


def _same_failure(a: BaseException, b: BaseException | None) -> bool:
    return b is not None and type(a) is type(b)


async def _shrink(scenario, make_runtime, run: _Run) -> _Run:
    """The failing schedule with the fewest forced picks (then the smallest) that fails alike."""
    best = run
    budget = _SHRINK_RUNS
    improved = True
    while improved and budget > 0 and best.picks:
        improved = False
        candidates = [best.picks[:i] + best.picks[i + 1:] for i in range(len(best.picks))]
        candidates += [best.picks[:i] + [(p, k - 1)] + best.picks[i + 1:]
                       for i, (p, k) in enumerate(best.picks) if k > 1]
        for picks in candidates:
            if budget <= 0:
                break
            budget -= 1
            attempt = await _run_once(scenario, make_runtime, Replay(picks, strict=False))
            if _same_failure(run.error, attempt.error) and (
                    len(attempt.picks), sum(k for _, k in attempt.picks)) < (
                    len(best.picks), sum(k for _, k in best.picks)):
                best = attempt
                improved = True
                break
    return best


async def explore(scenario, *, make_runtime, max_schedules: int = 1000, strategy: str = "exhaustive",
                  seed: int = 0, replay: str | None = None, reduction: bool = True, pct_depth: int = 3,
                  shrink: bool = True) -> Exploration:
    """Run `await scenario(rt)` in a fresh world `rt = make_runtime()` once per schedule, and
    report the schedules in which it raises.

    `strategy="exhaustive"` covers every order of dependent events up to `max_schedules`
    schedules (`complete` says whether it covered them all); `"random"` and `"pct"` sample
    `max_schedules` schedules from `seed`. `replay="s1a"` runs exactly that schedule and raises
    what it raises. Each failure is shrunk to the fewest picks that differ from the loop's own
    order before it is reported (`shrink=False` reports it as found). `reduction=False` turns
    the partial-order reduction off (every order of every event, independent or not);
    `pct_depth` is the depth of bug PCT aims at (its number of priority drops, plus one).
    """
    if max_schedules < 1:
        raise ValueError("max_schedules must be at least 1")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(map(repr, STRATEGIES))}, not {strategy!r}")
    if not callable(make_runtime):
        raise TypeError("make_runtime must be a callable that returns a new Runtime")
    if replay is not None:
        run = await _run_once(scenario, make_runtime, Replay(parse_schedule(replay)))
        if run.error is not None:
            raise run.error
        return Exploration(1, True, [], "replay")
    search = _Search(reduction) if strategy == "exhaustive" else None
    failures: list[Failure] = []
    seen_errors: set = set()
    runs = 0
    complete = False
    length = 8  # PCT's guess of the number of choice points, raised as runs see more
    while runs < max_schedules:
        if search is not None:
            policy = search
        elif strategy == "random":
            policy = _Random(random.Random(f"{seed}:{runs}"))
        else:
            policy = _PCT(random.Random(f"{seed}:{runs}"), pct_depth, length)
        run = await _run_once(scenario, make_runtime, policy)
        runs += 1
        length = max(length, run.points)
        if run.error is not None and len(failures) < _MAX_FAILURES:
            key = (type(run.error), str(run.error))
            if key not in seen_errors:
                seen_errors.add(key)
                reported = await _shrink(scenario, make_runtime, run) if shrink else run
                if all(f.schedule != reported.schedule for f in failures):
                    failures.append(Failure(reported.schedule, reported.error, reported.trace))
        if search is not None and not search.advance():
            complete = True
            break
    return Exploration(runs, complete, failures, strategy)
