"""What happens to an object between requests: hibernation, eviction, pending I/O, billing.

As documented in Cloudflare's "Lifecycle of a Durable Object" (last updated 2026-10-30), the
Durable Objects pricing page and the changelog entry of 2026-10-01 on pending I/O (facts 1-6 in
`docs/lifecycle.md`). Once an object handles no request or event it is *idle*, and then:

* **idle and hibernatable**: no pending timer (`asyncio.sleep`, `call_later` in a background
  task), no outgoing call in flight, no WebSocket of the standard API. It hibernates after 10 s
  (`Runtime(hibernation_timeout=10)`), with or without hibernatable WebSockets, and is not
  billed for duration from the moment it became idle.
* **idle, not hibernatable**: it stays in memory, billed, and is evicted after 70-140 s
  (`Runtime(idle_eviction=(70, 140))`).
* **kept alive by pending I/O**: from compatibility date 2026-10-01 (flag
  `durable_object_io_tasks_prevent_eviction`), work the object started and still waits for
  (background tasks with timers or calls to other objects, `ctx.waitUntil` promises up to
  15 minutes) keeps it in memory, billed, until the work ends; then it is idle as above. Before
  that date the idle object is evicted after 70-140 s even though that work is unfinished,
  which cancels it.
* a WebSocket of the standard API pins it in memory, billed, for as long as it is open.

Here a background task that has not finished counts as pending I/O (in the emulator every wait
of object code is on a timer or on another object).
"""

from __future__ import annotations

from .loop import current_task

PENDING_IO_KEEPS_ALIVE_FROM = "2026-10-01"  # compat flag durable_object_io_tasks_prevent_eviction

# Why an idle object is still in memory (ObjectHost.idle_state), as the inspector shows it.
HIBERNATABLE = "idle, hibernatable"
NOT_HIBERNATABLE = "idle, not hibernatable"
KEPT_ALIVE = "kept alive by pending I/O"
PINNED = "pinned by a standard WebSocket"


def pending_io(instance) -> bool:
    """Work the instance started and still waits for, other than the event running now."""
    if instance.wait_untils:
        return True
    tasks = instance.tasks
    if not tasks:
        return False
    try:
        current = current_task(instance.world.loop)  # (loop.py's: asyncio.current_task, cheaper on 3.11)
    except RuntimeError:  # the world is not being pumped (a done callback run from outside)
        current = None
    for task in tasks:  # a loop, not any(<generator>): this runs at the end of every event
        if task is not current and not task.done():
            return True
    return False


def idle_state(instance) -> str:
    if instance.standard_sockets:
        return PINNED
    if pending_io(instance):
        return KEPT_ALIVE if instance.world.compat.pending_io_keeps_alive else NOT_HIBERNATABLE
    return HIBERNATABLE


def became_idle(host) -> None:
    """The object handles nothing now (or its pending I/O changed): arm the timer its idle state
    calls for, and stop billing duration if it may hibernate."""
    instance = host.instance
    if instance is None or not instance.alive:
        return
    state = idle_state(instance)
    if state == host.idle_state and (host.idle_timer is not None or state in (PINNED, KEPT_ALIVE)):
        return  # nothing changed: keep the timer that runs since the object became idle
    if host.idle_timer is not None:  # (none, after an event: became_active cancelled it)
        host.cancel_idle_timer()
    host.idle_state = state
    world = host.world
    if state == HIBERNATABLE:
        world._counters.billing_paused(host)  # eligible for hibernation: no duration billed
        delay, end = world.hibernation_timeout, _hibernate
    else:
        world._counters.billing_resumed(host)
        if state in (PINNED, KEPT_ALIVE):
            return
        delay, end = world._idle_eviction_delay(), _evict
    if delay is None:
        return
    loop = world.loop
    when = loop._now + delay  # (loop.time(), without the call)
    cancelled, host.cancelled_idle_timer = host.cancelled_idle_timer, None
    if cancelled is not None and loop.revive(cancelled, when, end, host):
        host.idle_timer = cancelled  # the one this event's start cancelled, wanted again at the same instant
    else:
        host.idle_timer = loop.call_housekeeping_at(when, end, host)


def may_end_pending_io(host) -> bool:
    """Whether a task ending can change the idle object's state (only pending work can end)."""
    return host.idle_state in (NOT_HIBERNATABLE, KEPT_ALIVE)


def became_active(host) -> None:
    """An event arrived: the object is active again, and billed."""
    timer = host.idle_timer
    if timer is not None:
        host.cancel_idle_timer()
        host.cancelled_idle_timer = timer  # became_idle may revive it (loop.revive)
    host.idle_state = None
    host.world._counters.billing_resumed(host)


def _hibernate(host) -> None:
    host.idle_timer = None
    instance = host.instance
    if instance is not None and not instance.handling and idle_state(instance) == HIBERNATABLE:
        instance.evict(hibernate=True)


def _evict(host) -> None:
    """70-140 s idle and not hibernatable: out of memory, pending work cancelled (before
    2026-10-01 nothing keeps it)."""
    host.idle_timer = None
    instance = host.instance
    if instance is None or instance.handling:
        return
    if idle_state(instance) in (KEPT_ALIVE, PINNED):
        host.idle_state = None
        became_idle(host)
        return
    instance.evict()
