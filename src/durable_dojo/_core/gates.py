"""The input gate and the output gate of one object instance (chapter 3 of the workbook).

The input gate keeps other events out while an event's code cannot be interrupted:

* Storage calls never yield (`await storage.get(...)` resolves without giving the loop a turn;
  see storage.py), so nothing can interleave with them: a read-modify-write over storage is
  atomic for free. That half of the gate needs no code here.
* `blockConcurrencyWhile` and `transaction` open a *section*. While a section is open, the gate
  holds back every callback of its instance that does not belong to the section (new events,
  timers, replies to other requests' outgoing calls) and gives them back when it closes. The
  loop asks `Scope.held_by_gate` before it runs any callback (loop.py, `_run_ready`).
  The callbacks held back go back to the loop as one entry (`_Reopened`), in the order they were
  held: when one of them shuts the gate again, the rest are parked again at once instead of each
  being asked again, so a queue of N requests behind a busy object costs N, not N squared.

The output gate keeps a response (or an outgoing call, a socket send, a KV write) from leaving
the object before the writes it depends on are durable: `OutputGate.wait()` commits them first
(storage.py's `ObjectStore.commit`). If the commit fails the instance is reset, and the caller
gets an error instead of the success it would have seen. Writes also commit at the end of the
turn that made them (`note_write` schedules that flush).
"""

from __future__ import annotations

from collections import deque

from .errors import JsError, mark_remote
from .loop import current_scope
from .trace import Kind


class Section:
    """An open `blockConcurrencyWhile` (or `transaction`) section; sections nest."""

    __slots__ = ("parent", "depth")

    def __init__(self, parent: "Section | None"):
        self.parent = parent
        self.depth = 1 if parent is None else parent.depth + 1

    def contains(self, section: "Section | None") -> bool:
        """True if `section` is this section or nested inside it."""
        while section is not None:
            if section is self:
                return True
            section = section.parent
        return False


class Scope:
    """Whose code a callback runs: an instance, inside which section, for which event."""

    __slots__ = ("instance", "section", "event")

    def __init__(self, instance, section: Section | None, event):
        self.instance = instance
        self.section = section
        self.event = event

    def held_by_gate(self, handle) -> bool:
        """True if the input gate keeps this callback back (it then owns it until it opens)."""
        gate = self.instance.input_gate
        if not gate.sections:  # open: the loop asks before every callback of an object, so answered here
            return False
        return gate.holds(handle, self)


class InputGate:
    """The open sections of one instance, what they hold back, and the events waiting."""

    __slots__ = ("_instance", "sections", "held", "queued")

    def __init__(self, instance):
        self._instance = instance
        self.sections: list[Section] = []  # open sections, innermost last
        self.held: deque = deque()  # (handle, scope) of callbacks kept back, in order
        self.queued: deque = deque()  # events that arrived while closed

    @property
    def closed(self) -> bool:
        return bool(self.sections)

    def holds(self, handle, scope: Scope) -> bool:
        if not self.sections or not self._instance.alive or self.sections[-1].contains(scope.section):
            return False
        self.held.append((handle, scope))
        return True

    def admit(self, event) -> bool:
        """Whether `event` may start now; if not, it waits for the gate to open."""
        if self.sections:
            self.queued.append(event)
            return False
        return True

    def close(self, parent: Section | None, why: str) -> Section:
        """Open a section (nested in `parent`, the caller's, if any): the gate closes."""
        section = Section(parent)
        self.sections.append(section)
        instance = self._instance
        instance.world.trace.record(Kind.GATE_CLOSE, instance.host, detail=why)
        return section

    def reopen(self, section: Section) -> None:
        """`section` ended; once no section is open, what waited goes in, in order."""
        if section in self.sections:
            self.sections.remove(section)
        instance = self._instance
        instance.world.trace.record(Kind.GATE_OPEN, instance.host)
        if not self.sections:
            self.release_held()
            while self.queued and not self.sections and instance.alive:
                instance.start(self.queued.popleft())

    def release_held(self) -> None:
        """Give the callbacks the gate held back to the loop (the gate opened, or the instance ended)."""
        if not self.held:
            return
        held, self.held = self.held, deque()
        loop = self._instance.world.loop
        if loop.chooser is not None:
            # A schedule explorer lists its choices from every ready callback: one by one for it.
            for handle, scope in held:
                loop.requeue(handle, scope)
        else:
            loop.requeue(_Reopened(self, held), None)

    def hold_rest(self, waiting: deque) -> None:
        """`holds` just kept a callback that was given back: the rest of `waiting`, given back
        after it and not yet run, wait too, behind it (in one move when it is the only one held)."""
        held = self.held
        if len(held) == 1:
            waiting.appendleft(held.pop())
            self.held = waiting
        else:
            held.extend(waiting)


class _Reopened:
    """The callbacks an input gate held, given back to the loop as one ready entry.

    The loop runs it like a callback of no object (`_run`): it runs the callbacks in the order the
    gate held them, each as the loop would (`VirtualLoop.run_handle`), for as long as the gate
    stays open. The first one the gate would hold again means that the gate shut again (a new
    section, opened after all of them were held, so it contains none of them): the rest would
    each be held again in turn, so they go back to the gate together. The loop sees the same
    callbacks run in the same order as if each had been given back alone, without asking the
    gate once per waiting callback every time it opens and shuts."""

    __slots__ = ("_gate", "_waiting")

    _cancelled = False  # the loop skips cancelled handles; this entry is never cancelled

    def __init__(self, gate: InputGate, waiting: deque):
        self._gate = gate
        self._waiting = waiting

    def _run(self) -> None:
        gate = self._gate
        waiting = self._waiting
        loop = gate._instance.world.loop
        try:
            while waiting:
                handle, scope = waiting.popleft()
                if handle._cancelled:
                    continue
                if gate.holds(handle, scope):
                    gate.hold_rest(waiting)  # shut again: all of the rest wait for it to reopen
                    return
                loop.run_handle(handle, scope)
        except BaseException:
            if waiting:  # interrupted (the watchdog): the rest stay first in line, as they were
                loop.requeue_first(self, None)
            raise


class OutputGate:
    """The writes of one instance that a response must wait for, and the end-of-turn flush."""

    __slots__ = ("_instance", "unconfirmed", "_flush_scheduled")

    def __init__(self, instance):
        self._instance = instance
        self.unconfirmed = False  # pending writes that responses must wait for
        self._flush_scheduled = False

    def note_write(self, confirmed: bool = True) -> None:
        """A write happened: commit it at the end of this turn; with `confirmed`, no response
        leaves before that (`allowUnconfirmed` writes pass `confirmed=False`)."""
        if confirmed:
            self.unconfirmed = True
        if not self._flush_scheduled:
            self._flush_scheduled = True
            world = self._instance.world
            world.loop.call_soon(self._flush, context=world._root_context)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._instance.alive:
            try:
                self.confirm()
            except BaseException:
                pass  # confirm() already reset the object; callers see the reset error

    def wait(self) -> None:
        """Before a response or an outgoing call leaves: confirm the writes it must wait for
        (all but `allowUnconfirmed` ones, which the end-of-turn flush commits later)."""
        if self.unconfirmed:
            self.confirm()

    def confirm(self) -> None:
        """Commit every pending write now; a failure resets the instance and raises."""
        instance = self._instance
        host = instance.host
        world = instance.world
        storage = host.storage
        if (storage.txn_depth and world.storage_backend == "sqlite") or not storage.has_uncommitted():
            return
        self.unconfirmed = False
        try:
            world.faults._plan.before_commit(host)
            wrote, alarm_changed = storage.commit()
        except Exception as exc:
            error = JsError(f"Durable Object storage write failed: {exc}")
            mark_remote(error, remote=False, reset=True)
            world.trace.record(Kind.COMMIT_FAILED, host, detail=str(exc))
            instance.reset(error)
            raise error from exc
        if wrote:
            world.trace.record(Kind.COMMIT, host)
        if alarm_changed:
            host.alarms.reschedule()


def leave_caller() -> None:
    """The output gate of the calling object, if any: its writes are confirmed before a call,
    a socket message or a KV write leaves it."""
    scope = current_scope.get()
    if scope is not None and scope.instance.alive:
        scope.instance.output_gate.wait()
