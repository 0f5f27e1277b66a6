"""The schedule explorer: it finds the known races, proves their fixes within the bound, never
chooses inside a shut input gate, keeps E-order, and replays a failure by id in a new process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap

import pytest

from durable_dojo import DojoError, Runtime, explore
from durable_dojo._core import explore as _explore
from durable_dojo.testing import every_schedule
from js import Date
from workers import DurableObject, Response, fetch

# ----- the scenarios (also imported by the replay subprocess) -----


class Wallet(DurableObject):
    """`deposit` checks for fraud first and then updates atomically (safe on its own);
    `add_interest` reads, awaits a rate service, then writes what it read (the race)."""

    async def deposit(self, amount):
        await fetch("https://fraud-check.example/")
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + amount)

    async def add_interest(self):
        balance = await self.ctx.storage.get("balance") or 0
        await fetch("https://rates.example/")
        await self.ctx.storage.put("balance", balance + 1)

    async def balance(self):
        return await self.ctx.storage.get("balance") or 0


class SafeWallet(Wallet):
    async def add_interest(self):
        await fetch("https://rates.example/")  # ask first, then read-modify-write with no await between
        balance = await self.ctx.storage.get("balance") or 0
        await self.ctx.storage.put("balance", balance + 1)


def wallet_world(cls=Wallet, **options):
    return lambda: Runtime(durable_objects={"WALLET": cls}, outbound=lambda request: Response("ok"), **options)


async def interest_and_deposit(rt):
    wallet = rt.env.WALLET.getByName("alice")
    await asyncio.gather(wallet.add_interest(), wallet.deposit(100))
    assert await wallet.balance() == 101, "an update was lost"


class Stock(DurableObject):
    """Check-then-act across a call to another object: two buyers both see one item left."""

    async def buy(self, who):
        left = await self.ctx.storage.get("left")
        if left is None:
            left = 1
        if left < 1:
            return "sold out"
        await self.env.LEDGER.getByName("main").record(who)  # the gate opens here
        await self.ctx.storage.put("left", left - 1)
        return "sold"

    async def left(self):
        return await self.ctx.storage.get("left")


class SafeStock(Stock):
    async def buy(self, who):
        left = await self.ctx.storage.get("left")
        if left is None:
            left = 1
        if left < 1:
            return "sold out"
        await self.ctx.storage.put("left", left - 1)  # act before the gate opens
        await self.env.LEDGER.getByName("main").record(who)
        return "sold"


class Ledger(DurableObject):
    async def record(self, who):
        entries = await self.ctx.storage.get("entries") or []
        await self.ctx.storage.put("entries", entries + [who])


def stock_world(cls=Stock):
    return lambda: Runtime(durable_objects={"STOCK": cls, "LEDGER": Ledger})


async def two_buyers(rt):
    stock = rt.env.STOCK.getByName("lamp")
    results = await asyncio.gather(stock.buy("ann"), stock.buy("bob"))
    assert sorted(results) == ["sold", "sold out"], f"one lamp, two buyers: {results}"


class Reminder(DurableObject):
    """An alarm and a request both read-modify-write a counter across a fetch."""

    async def arm(self):
        await self.ctx.storage.setAlarm(Date.now() + 10)

    async def alarm(self, info=None):
        sent = await self.ctx.storage.get("sent") or 0
        await fetch("https://mail.example/")
        await self.ctx.storage.put("sent", sent + 1)

    async def send(self):
        sent = await self.ctx.storage.get("sent") or 0
        await fetch("https://mail.example/")
        await self.ctx.storage.put("sent", sent + 1)

    async def sent(self):
        return await self.ctx.storage.get("sent") or 0


class SafeReminder(Reminder):
    async def alarm(self, info=None):
        await fetch("https://mail.example/")
        sent = await self.ctx.storage.get("sent") or 0
        await self.ctx.storage.put("sent", sent + 1)

    async def send(self):
        await fetch("https://mail.example/")
        sent = await self.ctx.storage.get("sent") or 0
        await self.ctx.storage.put("sent", sent + 1)


def reminder_world(cls=Reminder):
    return lambda: Runtime(durable_objects={"REMINDER": cls}, outbound=lambda request: Response("ok"))


async def alarm_and_request(rt):
    reminder = rt.env.REMINDER.getByName("r")
    await reminder.arm()  # the alarm is due in 10 ms
    await reminder.send()  # its fetch comes back when the alarm fires
    await rt.advance(1)
    assert await reminder.sent() == 2, "a sent mail was not counted"


class Locked(Wallet):
    """The fix with blockConcurrencyWhile: the whole read-modify-write holds the gate shut."""

    async def add_interest(self):
        async def body():
            balance = await self.ctx.storage.get("balance") or 0
            await fetch("https://rates.example/")
            await self.ctx.storage.put("balance", balance + 1)

        await self.ctx.blockConcurrencyWhile(body)


# ----- finding the races -----


async def test_finds_the_lost_update_across_fetch_that_the_loops_own_order_hides():
    world = wallet_world()
    rt = world()
    await interest_and_deposit(rt)  # the loop's own order is lucky
    rt.close()
    found = await explore(interest_and_deposit, make_runtime=world)
    assert found.complete
    assert [f.schedule for f in found.failures] == ["s0a"]
    failure = found.failures[0]
    assert isinstance(failure.exception, AssertionError)
    assert any(event.kind == "storage:put" for event in failure.trace)
    with pytest.raises(AssertionError, match="an update was lost"):
        await explore(interest_and_deposit, make_runtime=world, replay="s0a")


async def test_the_fixed_wallet_is_safe_in_every_schedule():
    found = await explore(interest_and_deposit, make_runtime=wallet_world(SafeWallet))
    assert found.complete and found.failures == []
    assert found.schedules_run >= 2  # there were choices to make, and all were tried


async def test_finds_check_then_act_across_a_call_to_another_object():
    found = await explore(two_buyers, make_runtime=stock_world())
    assert found.failures, "two buyers of one lamp both succeeded in no schedule?"
    assert "one lamp, two buyers" in str(found.failures[0].exception)
    fixed = await explore(two_buyers, make_runtime=stock_world(SafeStock))
    assert fixed.complete and fixed.failures == []
    assert fixed.schedules_run >= 2


async def test_finds_an_alarm_racing_a_request():
    found = await explore(alarm_and_request, make_runtime=reminder_world())
    assert found.failures and "not counted" in str(found.failures[0].exception)
    fixed = await explore(alarm_and_request, make_runtime=reminder_world(SafeReminder))
    assert fixed.complete and fixed.failures == []
    assert fixed.schedules_run >= 2


async def test_block_concurrency_while_makes_the_race_impossible_in_every_schedule():
    found = await explore(interest_and_deposit, make_runtime=wallet_world(Locked))
    assert found.complete and found.failures == []


# ----- where it chooses -----


class _GateWatcher(_explore._Default):
    """A policy that goes through every choice point and checks no candidate is held by a gate."""

    def __init__(self, rng):
        self.rng = rng
        self.points = 0
        self.inside_shut_gate = []

    def choose(self, position, names, chooser):
        self.points += 1
        for name, scope in chooser.candidates.items():
            sections = scope.instance.input_gate.sections
            if sections and not sections[-1].contains(scope.section):
                self.inside_shut_gate.append(name)
        return self.rng.randrange(len(names))


async def test_never_chooses_an_event_that_a_shut_input_gate_holds():
    import random

    watcher = _GateWatcher(random.Random(1))
    for _ in range(30):
        rt = wallet_world(Locked)()
        _explore.Chooser(watcher).attach(rt)
        wallet = rt.env.WALLET.getByName("alice")
        # deposit is in its fetch when add_interest shuts the gate around its own fetch
        await asyncio.gather(wallet.deposit(100), wallet.add_interest(), wallet.deposit(5))
        rt.close()
    assert watcher.points > 0
    assert watcher.inside_shut_gate == []


class Log(DurableObject):
    async def note(self, n):
        entries = await self.ctx.storage.get("log") or []
        await self.ctx.storage.put("log", entries + [n])  # the start of the call: before any await
        await fetch("https://example.com/")

    async def log(self):
        return await self.ctx.storage.get("log")


async def test_calls_from_one_caller_start_in_the_order_they_were_made():
    async def three_calls(rt):
        log = rt.env.LOG.getByName("x")
        await asyncio.gather(log.note(1), log.note(2), log.note(3))
        assert await log.log() == [1, 2, 3]

    found = await explore(three_calls, make_runtime=lambda: Runtime(
        durable_objects={"LOG": Log}, outbound=lambda r: Response("ok")), reduction=False)
    assert found.complete and found.failures == []
    assert found.schedules_run == 6  # the three continuations after the fetch are still chosen


async def test_objects_that_never_talk_are_not_interleaved_twice():
    async def three_wallets(rt):
        wallets = [rt.env.WALLET.getByName(name) for name in ("a", "b", "c")]
        await asyncio.gather(*(w.add_interest() for w in wallets))
        for w in wallets:
            assert await w.balance() == 1

    reduced = await explore(three_wallets, make_runtime=wallet_world())
    full = await explore(three_wallets, make_runtime=wallet_world(), reduction=False)
    assert reduced.complete and full.complete
    assert reduced.failures == full.failures == []
    assert reduced.schedules_run == 1 < full.schedules_run


@pytest.mark.parametrize("scenario, world", [
    (interest_and_deposit, wallet_world()),
    (two_buyers, stock_world()),
    (alarm_and_request, reminder_world()),
])
async def test_the_reduction_finds_what_the_full_search_finds(scenario, world):
    reduced = await explore(scenario, make_runtime=world)
    full = await explore(scenario, make_runtime=world, reduction=False)
    assert reduced.complete and full.complete
    assert reduced.schedules_run <= full.schedules_run
    assert [f.schedule for f in reduced.failures] == [f.schedule for f in full.failures]


# ----- randomised strategies, shrinking, ids -----


@pytest.mark.parametrize("strategy", ["random", "pct"])
async def test_random_strategies_find_the_race_and_shrink_it(strategy):
    found = await explore(interest_and_deposit, make_runtime=wallet_world(), strategy=strategy,
                          max_schedules=40, seed=3)
    assert not found.complete and found.schedules_run == 40
    assert [f.schedule for f in found.failures] == ["s0a"]  # shrunk to the one pick that matters
    again = await explore(interest_and_deposit, make_runtime=wallet_world(), strategy=strategy,
                          max_schedules=40, seed=3)
    assert [f.schedule for f in again.failures] == ["s0a"]


async def test_a_runtime_built_with_a_schedule_follows_it():
    rt = Runtime(durable_objects={"WALLET": Wallet}, outbound=lambda r: Response("ok"), schedule="s0a")
    with pytest.raises(AssertionError, match="lost"):
        await interest_and_deposit(rt)
    rt.close()


async def test_a_schedule_that_does_not_fit_says_so():
    with pytest.raises(DojoError, match="schedule s0c does not fit: choice point 0 has 2 ready events, not 4"):
        await explore(interest_and_deposit, make_runtime=wallet_world(), replay="s0c")
    with pytest.raises(DojoError, match="schedule s7a does not fit: it picks at choice point 7, but this scenario has only 1"):
        await explore(interest_and_deposit, make_runtime=wallet_world(), replay="s7a")
    with pytest.raises(DojoError, match="not a schedule id"):
        await explore(interest_and_deposit, make_runtime=wallet_world(), replay="zz")


def test_schedule_ids_round_trip():
    picks = [(0, 1), (3, 26), (12, 27)]
    assert _explore.schedule_id(picks) == "s0a3z12aa"
    assert _explore.parse_schedule("s0a3z12aa") == picks
    assert _explore.parse_schedule("s") == []


# ----- a failure replays in a new process -----

_REPLAY = textwrap.dedent("""
    import asyncio, json, sys
    sys.path.insert(0, {tests!r})
    import test_explore as t
    scenario, world = getattr(t, {scenario!r}), getattr(t, {world!r})()
    try:
        asyncio.run(t.explore(scenario, make_runtime=world, replay={schedule!r}))
    except Exception as exc:
        print(json.dumps([type(exc).__name__, str(exc).splitlines()[0]]))
    else:
        print(json.dumps(None))
""")


@pytest.mark.parametrize("scenario, world", [
    ("interest_and_deposit", "wallet_world"),
    ("two_buyers", "stock_world"),
    ("alarm_and_request", "reminder_world"),
])
async def test_every_failure_replays_by_id_in_a_new_process(scenario, world):
    found = await explore(globals()[scenario], make_runtime=globals()[world]())
    assert found.failures
    for failure in found.failures:
        code = _REPLAY.format(tests=os.path.dirname(__file__), scenario=scenario, world=world,
                              schedule=failure.schedule)
        env = {**os.environ, "PYTHONHASHSEED": "random"}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout.strip().splitlines()[-1]) == [
            type(failure.exception).__name__, str(failure.exception).splitlines()[0]]


# ----- the pytest integration -----


async def test_every_schedule_reports_the_failing_id_and_the_command_to_replay_it():
    @every_schedule(durable_objects={"WALLET": Wallet}, outbound=lambda r: Response("ok"))
    async def check(rt):
        await interest_and_deposit(rt)

    with pytest.raises(AssertionError) as caught:
        await check()
    message = str(caught.value)
    assert "schedule s0a" in message
    assert "DOJO_SCHEDULE=s0a python -m pytest" in message

    @every_schedule(durable_objects={"WALLET": SafeWallet}, outbound=lambda r: Response("ok"))
    async def check_fixed(rt):
        await interest_and_deposit(rt)

    await check_fixed()


async def test_every_schedule_replays_one_schedule_from_the_environment(monkeypatch):
    ran = []

    @every_schedule(durable_objects={"WALLET": Wallet}, outbound=lambda r: Response("ok"))
    async def check(rt):
        ran.append(1)
        await interest_and_deposit(rt)

    monkeypatch.setenv("DOJO_SCHEDULE", "s0a")
    with pytest.raises(AssertionError, match="an update was lost"):
        await check()
    assert ran == [1]


# ----- play the scheduler -----


def _wallet_game():
    from durable_dojo.widgets import SchedulerPlayground

    def requests(rt):
        wallet = rt.env.WALLET.getByName("alice")
        return [wallet.add_interest(), wallet.deposit(100)]

    def check(results, play):
        balance = play.storage("alice").get("balance")
        return None if balance == 101 else f"the balance is {balance}, not 101: an update was lost"

    return SchedulerPlayground(make_runtime=wallet_world(), requests=requests, check=check)


def test_the_learner_breaks_the_invariant_by_picking_the_other_continuation():
    play = _wallet_game()
    ready = play.ready
    assert [event.label for event in ready] == ["#1 WALLET.add_interest()", "#2 WALLET.deposit()"]
    assert all(event.step == "resumes after its await" for event in ready)
    play.choose(1)  # the deposit comes back first
    assert play.done and play.ready == []
    assert play.problem == "the balance is 1, not 101: an update was lost"
    assert play.schedule == "s0a"
    text = play.text()
    assert "Broken: the balance is 1" in text and "storage:put" in text and "alice: {'balance': 1}" in text
    play.restart().auto()  # the world's own order is the lucky one
    assert play.problem is None and play.storage("alice") == {"balance": 101}
    assert "The invariant held" in str(play)


async def test_a_schedule_played_by_hand_replays_with_explore():
    play = _wallet_game()
    play.choose(1)
    with pytest.raises(AssertionError, match="lost"):
        await explore(interest_and_deposit, make_runtime=wallet_world(), replay=play.schedule)


def test_the_playground_refuses_a_choice_that_is_not_there():
    play = _wallet_game()
    with pytest.raises(ValueError, match="from 0 to 1"):
        play.choose(2)
    play.auto()
    with pytest.raises(ValueError, match="every request has finished"):
        play.choose(0)


def test_the_playground_widget_has_one_button_per_ready_event():
    pytest.importorskip("ipywidgets")
    play = _wallet_game()
    box = play.widget
    buttons = box.children[1].children
    assert [b.description for b in buttons] == ["#1 WALLET.add_interest(): resumes after its await",
                                               "#2 WALLET.deposit(): resumes after its await"]
    buttons[1].click()
    assert play.done and play.problem is not None
    assert box.children[1].children == ()
    assert "Broken" in box.children[0].value
    restart, auto = box.children[2].children
    restart.click()
    assert len(box.children[1].children) == 2 and "Broken" not in box.children[0].value
    auto.click()
    assert play.problem is None and "The invariant held" in box.children[0].value
    auto.click()  # nothing left to choose: Run the rest does nothing, and says nothing
    assert box.children[3].value == ""
    restart.click()
    play.press("choose", 7)  # an error shows under the buttons, as the page shows it
    assert box.children[3].value == "ValueError: choose a number from 0 to 1"
    auto.click()
    assert box.children[3].value == "" and play.done



def test_the_playgrounds_buttons_press_its_methods_and_show_their_errors():
    play = _wallet_game()
    assert play.press("choose", 1.0) == ""  # a JavaScript number: the page sends 1 as a float
    assert play.problem == "the balance is 1, not 101: an update was lost"
    assert play.verdict == "Broken: the balance is 1, not 101: an update was lost"
    assert "<b style='color:#c62828'>Broken: the balance is 1" in play.html()
    assert play.press("choose", 0) == "ValueError: nothing is waiting for you: every request has finished " \
        "(restart() to play again)"
    assert play.press("restart") == "" and play.verdict is None and len(play.ready) == 2
    assert play.press("choose", "1") == "ValueError: choose a ready event by its number, not '1'"
    assert play.press("choose", 1.5).startswith("ValueError: choose a ready event by its number")
    assert play.press("choose", 5) == "ValueError: choose a number from 0 to 1" and len(play.ready) == 2
    assert play.press("auto") == "" and play.verdict == "The invariant held in this schedule."
    assert play.storage("alice") == {"balance": 101}
    with pytest.raises(ValueError, match="unknown button 'undo'"):
        play.press("undo")

# ----- the other kinds of choice: sockets, timers -----


class Tally(DurableObject):
    """Each WebSocket message adds its number to a total, across a fetch (the race), and logs
    its arrival before any await (what E-order is about)."""

    async def fetch(self, request):
        from js import WebSocketPair

        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        arrivals = await self.ctx.storage.get("arrivals") or []
        await self.ctx.storage.put("arrivals", arrivals + [message])
        total = await self.ctx.storage.get("total") or 0
        await fetch("https://audit.example/")
        await self.ctx.storage.put("total", total + int(message))

    async def state(self):
        return [await self.ctx.storage.get("arrivals"), await self.ctx.storage.get("total")]


def tally_world():
    return Runtime(durable_objects={"TALLY": Tally}, outbound=lambda r: Response("ok"))


async def test_messages_from_two_clients_are_chosen_between_and_one_clients_stay_in_order():
    from durable_dojo.testing import connect

    async def two_clients(rt):
        tally = rt.env.TALLY.getByName("t")
        ann, bob = await connect(tally), await connect(tally)
        ann.send("1")
        ann.send("2")
        bob.send("10")
        await rt.advance(1)
        arrivals, total = await tally.state()
        assert arrivals.index("1") < arrivals.index("2"), f"one socket's messages out of order: {arrivals}"
        assert total == 13, f"a message was lost: {arrivals} -> {total}"

    found = await explore(two_clients, make_runtime=tally_world, reduction=False)
    assert found.complete
    messages = {str(f.exception).split(":")[0] for f in found.failures}
    assert messages == {"a message was lost"}  # never "out of order"
    orders = set()

    async def record_order(rt):
        try:
            await two_clients(rt)
        except AssertionError:
            pass
        orders.add(tuple((await rt.env.TALLY.getByName("t").state())[0]))

    await explore(record_order, make_runtime=tally_world, reduction=False)
    assert orders == {("1", "2", "10"), ("1", "10", "2"), ("10", "1", "2")}


class Sleeper(DurableObject):
    async def nap_then_write(self, value):
        await asyncio.sleep(1)  # both naps end at the same virtual instant
        await self.ctx.storage.put("last", value)

    async def last(self):
        return await self.ctx.storage.get("last")


async def test_timers_due_at_the_same_instant_are_chosen_between():
    seen = set()

    async def two_naps(rt):
        sleeper = rt.env.S.getByName("s")
        await asyncio.gather(sleeper.nap_then_write("a"), sleeper.nap_then_write("b"))
        seen.add(await sleeper.last())

    found = await explore(two_naps, make_runtime=lambda: Runtime(durable_objects={"S": Sleeper}))
    assert found.complete and found.schedules_run == 2
    assert seen == {"a", "b"}


@every_schedule(durable_objects={"WALLET": SafeWallet}, outbound=lambda r: Response("ok"))
async def test_every_schedule_is_a_test_that_pytest_collects_with_its_fixtures(rt, tmp_path):
    assert tmp_path.is_dir()  # a fixture, injected after the world
    await interest_and_deposit(rt)


# ----- the reduction is sound: it reaches every outcome the full search reaches -----


class Relay(DurableObject):
    """Appends to its own log, then forwards to a shared sink across a call (objects that talk)."""

    async def send(self, word):
        log = await self.ctx.storage.get("log") or []
        await self.ctx.storage.put("log", log + [word])
        await self.env.SINK.getByName("sink").add(word)
        log = await self.ctx.storage.get("log") or []
        await self.ctx.storage.put("log", log + [word.upper()])


class Sink(DurableObject):
    async def add(self, word):
        words = await self.ctx.storage.get("words") or []
        await fetch("https://example.com/")
        await self.ctx.storage.put("words", words + [word])

    async def words(self):
        return await self.ctx.storage.get("words")


def relay_world():
    return Runtime(durable_objects={"RELAY": Relay, "SINK": Sink}, outbound=lambda r: Response("ok"))


async def _outcome_of_relays(rt):
    a, b, sink = rt.env.RELAY.getByName("a"), rt.env.RELAY.getByName("b"), rt.env.SINK.getByName("sink")
    await asyncio.gather(a.send("x"), b.send("y"), sink.add("direct"))
    return (tuple(await sink.words()), await run_log(a), await run_log(b))


async def run_log(relay):
    from durable_dojo.testing import run_in_durable_object

    return tuple(await run_in_durable_object(relay, lambda obj, ctx: ctx.storage.get("log")))


@pytest.mark.parametrize("scenario, world", [
    (_outcome_of_relays, relay_world),
])
async def test_the_reduction_reaches_every_outcome_the_full_search_reaches(scenario, world):
    outcomes = {True: set(), False: set()}
    for reduction in (True, False):
        async def record(rt, reduction=reduction):
            outcomes[reduction].add(await scenario(rt))

        found = await explore(record, make_runtime=world, reduction=reduction, max_schedules=5000)
        assert found.complete and not found.failures, found
        counts = outcomes
    assert len(counts[False]) > 1  # the orders matter here
    assert outcomes[True] == outcomes[False]


async def test_every_schedule_takes_a_world_factory_for_fresh_parts_per_schedule():
    worlds = []

    def fresh_world():
        worlds.append(Runtime(durable_objects={"WALLET": Wallet}, outbound=lambda r: Response("ok")))
        return worlds[-1]

    @every_schedule(make_runtime=fresh_world)
    async def check(rt):
        await interest_and_deposit(rt)

    with pytest.raises(AssertionError, match="schedule s0a"):
        await check()
    assert len(worlds) >= 2 and len(set(map(id, worlds))) == len(worlds)


async def test_a_real_time_world_cannot_be_explored():
    def real_time_world():
        return Runtime(durable_objects={"WALLET": Wallet}, real_time=True)

    with pytest.raises(DojoError, match="virtual clock"):
        await explore(interest_and_deposit, make_runtime=real_time_world)
