"""Kata 08, a reminder that never comes: schedule work with an alarm, not a sleeping task.

A timer (`asyncio.sleep` in a task) lives in the instance's memory and dies with it: at any
deploy, restart or eviction. (From compatibility date 2026-10-01 a pending timer keeps an idle
object in memory, billed for every second of the wait, but no deploy waits for it; before that
date the idle object was evicted after 70-140 s, timer and all.) An alarm is stored with the
object: the platform wakes the object for it, even after an eviction, and retries it if it fails.
There is one alarm per object, so several jobs need a stored queue and an alarm set to the next.
"""

import pytest

from workers import Response

KATA = "08-forgotten-reminder"
HOUR = 3600


@pytest.fixture
def reminders(load_kata):
    return load_kata(KATA, "reminders.py")


class Push:
    """The push service: records (virtual seconds since the start, user, text) per push."""

    def __init__(self, rt_box):
        self.rt_box = rt_box
        self.sent = []

    async def __call__(self, request):
        rt = self.rt_box[0]
        body = await request.json()
        self.sent.append(((rt.now() - rt.start_ms) / 1000, body["user"], body["text"]))
        return Response.from_json({"queued": True}, status=202)


@pytest.fixture
def world(reminders, make_runtime):
    box = []
    push = Push(box)
    rt = make_runtime(durable_objects={"REMINDERS": reminders.Reminders}, outbound=push, outbound_latency=0.01)
    box.append(rt)
    return rt, push, rt.env.REMINDERS.getByName("ana")


def excerpt(rt, *kinds, last=12):
    events = [e for e in rt.trace if any(e.kind == k or (k.endswith(":") and e.kind.startswith(k)) for k in kinds)]
    return rt.trace.format(events, last=last) or "(no such events)"


def about(t, expected):
    return abs(t - expected) < 1.0


async def test_a_reminder_is_acknowledged_with_its_due_time(world):
    rt, push, ana = world
    result = await ana.remind_me("stand-up", HOUR)
    assert isinstance(result, dict) and result.get("due") == rt.now() + HOUR * 1000, (
        f"remind_me() should answer the due time, {HOUR * 1000} ms from now: {result}")
    second = await ana.remind_me("lunch", 2 * HOUR)
    assert second["id"] != result["id"], f"Each reminder has its own id: {result}, {second}"


async def test_a_reminder_due_in_half_a_minute_arrives(world):
    rt, push, ana = world
    await ana.remind_me("tea is ready", 30)
    await rt.advance(60)
    assert [(user, text) for _, user, text in push.sent] == [("ana", "tea is ready")], (
        f"One push for ana after 30 s, got {push.sent}.")
    assert about(push.sent[0][0], 30), f"It should arrive at 30 s, not {push.sent[0][0]:.2f} s."


async def test_a_reminder_an_hour_ahead_arrives_on_time(world):
    rt, push, ana = world
    await ana.remind_me("stand-up", HOUR)
    await rt.advance(20 * 60)
    await rt.deploy()  # the team ships a fix 20 minutes later, as teams do several times a day
    await rt.advance(HOUR)
    assert [(user, text) for _, user, text in push.sent] == [("ana", "stand-up")], (
        f"Ana asked to be reminded in an hour. Twenty minutes later a new version of the code was "
        f"deployed; an hour later the push service had received {push.sent or 'nothing'}.\n"
        "A deploy restarts every object: the sleeping task died with the instance that held it, "
        "and nothing stored said a reminder was due.\n"
        "Trace:\n" + excerpt(rt, "rpc:start", "evict", "isolate:", "constructor", "alarm:", "fetch:out"))
    assert about(push.sent[0][0], HOUR), f"It should arrive at {HOUR} s, not {push.sent[0][0]:.2f} s."


async def test_a_reminder_survives_eviction(world):
    rt, push, ana = world
    await ana.remind_me("call the dentist", 10 * 60)
    await rt.advance(30)
    await rt.evict(ana)  # a deploy, a restart, or a quiet spell: memory goes, storage stays
    await rt.advance(15 * 60)
    texts = [text for _, _, text in push.sent]
    assert texts == ["call the dentist"], (
        f"The object was evicted 30 s after the reminder was set, 10 minutes before it was due. "
        f"The push service received {texts or 'nothing'}, expected the reminder exactly once.\n"
        "Trace:\n" + excerpt(rt, "rpc:start", "evict", "constructor", "alarm:", "fetch:out"))


async def test_several_reminders_each_arrive_once_in_time_order(world):
    rt, push, ana = world
    await ana.remind_me("pick up the kids", 2 * HOUR)
    await ana.remind_me("stand-up", HOUR)
    await ana.remind_me("water the plants", 10 * 60)
    await rt.evict(ana)
    await rt.advance(3 * HOUR)
    got = [(round(t), text) for t, _, text in push.sent]
    expected = [(600, "water the plants"), (HOUR, "stand-up"), (2 * HOUR, "pick up the kids")]
    why = ("Nothing arrived: whatever was waiting lived in the evicted instance's memory."
           if not got else
           "Some arrived and some did not. A wait kept in memory dies with its instance "
           "(ctx.waitUntil only delays eviction, by 15 minutes at most). And an object has a "
           "single alarm: setAlarm() replaces the one before, so with several jobs, keep the jobs "
           "in storage and point the alarm at the earliest one, again after each run.")
    assert len(got) == 3 and all(about(t, e) and text == et for (t, text), (e, et) in zip(got, expected)), (
        f"Three reminders (in 2 h, in 1 h, in 10 min), then an eviction. Expected each push once, "
        f"at its time: {expected}; the push service received {got}.\n" + why + "\n"
        "Trace:\n" + excerpt(rt, "rpc:start", "alarm:", "evict", "fetch:out", last=14))
