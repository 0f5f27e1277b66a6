"""The world's event loop runs callbacks as asyncio's own loop does: in their context, not once
cancelled, and an error in one goes to the loop's exception handler."""

import asyncio
import contextvars

from durable_dojo._core.loop import VirtualLoop

color = contextvars.ContextVar("color", default="none")


def run_ready(loop: VirtualLoop) -> None:
    loop.run_until(lambda: not loop._ready)


def test_a_callback_runs_in_the_context_it_was_given_or_a_copy_of_the_callers():
    loop = VirtualLoop()
    seen = []
    given = contextvars.Context()
    given.run(color.set, "blue")
    loop.call_soon(lambda: seen.append(color.get()), context=given)
    color.set("red")
    loop.call_soon(lambda: (seen.append(color.get()), color.set("green")))  # a copy: "green" stays inside
    run_ready(loop)
    assert seen == ["blue", "red"]
    assert color.get() == "red"


def test_callbacks_run_in_order_and_a_cancelled_one_never_runs():
    loop = VirtualLoop()
    seen, reported = [], []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    loop.call_soon(seen.append, 1)
    handle = loop.call_soon(seen.append, 2)
    loop.call_soon(seen.append, 3)
    assert isinstance(handle, asyncio.Handle) and not handle.cancelled()
    handle.cancel()
    run_ready(loop)
    assert (seen, reported) == ([1, 3], [])
    assert "cancelled" in repr(handle)


def test_an_error_in_a_callback_goes_to_the_exception_handler_and_the_next_callback_runs():
    loop = VirtualLoop()
    reported, seen = [], []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))

    def fails():
        raise ValueError("boom")

    handle = loop.call_soon(fails)
    loop.call_soon(seen.append, "after")
    run_ready(loop)
    assert seen == ["after"]
    [context] = reported
    assert context["message"].startswith("Exception in callback ") and "fails" in context["message"]
    assert type(context["exception"]) is ValueError and context["handle"] is handle


def test_a_callback_that_pumps_the_loop_itself_leaves_the_rest_of_its_turn_consistent():
    # run_sync pumps from inside a callback: the callbacks queued behind it run there, once, and
    # the turn that was running them ends without taking from an empty queue.
    loop = VirtualLoop()
    seen = []
    loop.call_soon(lambda: (seen.append("pumps"), loop.run_nested(lambda: "second" in seen, "run_sync()"),
                            seen.append("resumed")))
    loop.call_soon(seen.append, "second")
    run_ready(loop)
    assert seen == ["pumps", "second", "resumed"]


def test_a_cancelled_timer_is_revived_only_where_a_new_timer_would_act_the_same():
    loop = VirtualLoop()
    fired = []
    timer = loop.call_housekeeping_at(10.0, fired.append, "old")
    timer.cancel()
    assert not loop.revive(timer, 11.0, fired.append, "revived")  # not due when wanted
    assert loop.revive(timer, 10.0, fired.append, "revived")
    later = loop.call_housekeeping_at(10.0, fired.append, "later")
    later.cancel()
    loop.call_housekeeping_at(10.0, fired.append, "after it")
    assert not loop.revive(later, 10.0, fired.append, "too late")  # a timer was scheduled after it
    loop.run_until(lambda: len(fired) == 2)
    assert fired == ["revived", "after it"]


def test_a_cancelled_timer_dropped_from_the_heap_is_not_revived():
    loop = VirtualLoop()
    others = [loop.call_housekeeping_at(5.0, print) for _ in range(600)]
    timer = loop.call_housekeeping_at(10.0, print)
    timer.cancel()
    for other in others:
        other.cancel()  # most of the heap is cancelled timers: it is rebuilt without them
    assert not loop.revive(timer, 10.0, print)


def test_the_worlds_loop_in_debug_mode_gives_futures_their_debug_traceback():
    # asyncio's futures ask `loop.get_debug()` as they are made; set_debug must change the answer
    loop = VirtualLoop()
    assert loop.get_debug() is False and loop.create_future()._source_traceback is None
    loop.set_debug(True)
    assert loop.get_debug() is True and loop.create_future()._source_traceback is not None
    loop.set_debug(False)
    assert loop.get_debug() is False and loop.create_future()._source_traceback is None
