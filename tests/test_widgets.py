"""`durable_dojo.widgets`: the Inspector and the Timeline, tested through their state and text
(not through notebook output diffs). The ipywidgets view is tested by pressing its buttons."""

import asyncio
import subprocess
import sys

import pytest

from durable_dojo.testing import connect
from durable_dojo.widgets import Inspector, Timeline
from js import Date, WebSocketPair
from workers import DurableObject, Response, WorkerEntrypoint, fetch


class Counter(DurableObject):
    async def increment(self):
        n = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put("count", n)
        return n

    async def remember(self, key, value):
        await self.ctx.storage.put(key, value)

    async def arm(self, seconds):
        await self.ctx.storage.setAlarm(Date.now() + seconds * 1000)

    async def alarm(self, info):
        await self.ctx.storage.put("alarm_ran_at", Date.now())

    async def locked_bump(self):
        async def body():
            v = await self.ctx.storage.get("count") or 0
            await fetch("https://api.example.com/")
            await self.ctx.storage.put("count", v + 1)
            return v + 1

        return await self.ctx.blockConcurrencyWhile(body)

    async def racy_bump(self):
        v = await self.ctx.storage.get("count") or 0
        await fetch("https://api.example.com/")
        await self.ctx.storage.put("count", v + 1)
        return v + 1

    async def boom(self):
        self.ctx.abort("boom")


class Room(DurableObject):
    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, ["room"])
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        ws.send(message)


async def outbound_ok(request):
    return Response("ok")


@pytest.fixture
def rt(make_runtime):
    return make_runtime(durable_objects={"COUNTER": Counter, "ROOM": Room}, outbound=outbound_ok)


def state_of(inspector, name):
    return inspector.row(name).state


# ----------------------------------------------------------------------------- Inspector


def test_objects_appear_with_their_state_storage_and_instance_count(rt):
    rt.env.COUNTER.getByName("idle")  # a stub alone creates nothing
    rt.run(rt.env.COUNTER.getByName("alice").increment())
    inspector = Inspector(rt)
    assert [(v.binding, v.name, v.state, v.instance) for v in inspector.rows] == [
        ("COUNTER", "idle", "not started", 0), ("COUNTER", "alice", "in memory", 1)]
    assert inspector.row("alice").storage == {"count": 1}


def test_after_an_eviction_the_row_says_evicted_and_the_storage_is_still_there(rt):
    stub = rt.env.COUNTER.getByName("alice")
    rt.run(stub.increment())
    inspector = Inspector(rt)
    assert inspector.evict("alice") == "evicted COUNTER alice"
    assert state_of(inspector, "alice") == "evicted"
    assert inspector.rows[0].storage == {"count": 1}
    assert inspector.text().splitlines()[2].split()[:3] == ["COUNTER", "alice", "evicted"]
    rt.run(stub.increment())
    assert inspector.refresh().row("alice")[2:5] == ("in memory", 2, {"count": 2})


def test_the_inspector_shows_the_world_as_it_is_now_not_as_it_was_when_made(rt):
    alice = rt.env.COUNTER.getByName("alice")
    rt.run(alice.increment())
    inspector = Inspector(rt)
    rt.run(alice.increment())
    rt.run(rt.env.COUNTER.getByName("bob").increment())  # a new object, made after the inspector
    assert [(v.name, v.state, v.storage) for v in inspector.rows] == [
        ("alice", "in memory", {"count": 2}), ("bob", "in memory", {"count": 1})]
    rt.run(rt.advance(150))  # idle for 150 s: both left memory on their own
    lines = inspector.text().splitlines()
    assert lines[0].startswith("World clock 150.000s") and lines[0].endswith("2 objects")
    assert [line.split()[1:3] for line in lines[2:]] == [["alice", "hibernated"], ["bob", "hibernated"]]
    assert "hibernated" in inspector.html() and "count=2" in inspector.html()
    assert repr(inspector).startswith("<Inspector: 2 objects, clock 150.000s")


def test_evicting_an_object_that_is_not_in_memory_says_so(rt):
    rt.run(rt.env.COUNTER.getByName("a").increment())
    inspector = Inspector(rt)
    inspector.evict("a")
    assert inspector.evict("a") == "<COUNTER a> is not in memory"


def test_advance_moves_the_clock_label_and_hibernation_shows_up(rt):
    rt.run(rt.env.COUNTER.getByName("a").increment())
    inspector = Inspector(rt)
    assert inspector.clock == "0.000s (2026-01-01 00:00:00 UTC)"
    inspector.advance(9)
    assert inspector.clock == "9.000s (2026-01-01 00:00:09 UTC)"
    assert state_of(inspector, "a") == "in memory"
    inspector.advance(141)  # an idle object that may hibernate does so 10 s after its last event
    assert inspector.clock.startswith("150.000s")
    assert state_of(inspector, "a") == "hibernated"
    assert inspector.message.startswith("advanced 141s to 150.000s")


def test_the_alarm_column_and_fire_alarm(rt):
    stub = rt.env.COUNTER.getByName("a")
    rt.run(stub.arm(60))
    inspector = Inspector(rt)
    assert inspector.row("a").alarm == rt.start_ms + 60_000
    assert "at 60.000s (in 60.000s)" in inspector.text()
    assert inspector.fire_alarm("a") == "alarm of COUNTER a ran"
    assert inspector.row("a").alarm is None
    assert inspector.row("a").storage["alarm_ran_at"] == rt.start_ms  # ran now, not at 60 s
    assert inspector.fire_alarm("a") == "COUNTER a has no alarm set"


def test_an_alarm_falling_due_during_advance_runs(rt):
    stub = rt.env.COUNTER.getByName("a")
    rt.run(stub.arm(30))
    inspector = Inspector(rt)
    inspector.evict("a")
    inspector.advance(31)
    view = inspector.row("a")
    assert (view.alarm, view.storage["alarm_ran_at"], view.instance) == (None, rt.start_ms + 30_000, 2)


def test_hibernation_keeps_sockets_and_the_state_says_hibernated(rt):
    stub = rt.env.ROOM.getByName("lobby")
    ws = rt.run(connect(stub, "http://do/ws"))
    inspector = Inspector(rt, binding="ROOM")
    assert (state_of(inspector, "lobby"), inspector.row("lobby").sockets) == ("in memory", 1)
    assert inspector.hibernate("lobby") == "ROOM lobby is hibernated"
    assert inspector.row("lobby").sockets == 1
    ws.send("hi")
    assert rt.run(ws.receive()) == "hi"
    assert inspector.refresh().row("lobby").instance == 2
    inspector.advance(11)  # 10 idle seconds with only hibernatable sockets: the platform hibernates it
    assert state_of(inspector, "lobby") == "hibernated"


def test_a_reset_object_shows_as_reset(rt):
    stub = rt.env.COUNTER.getByName("a")
    rt.run(stub.increment())
    with pytest.raises(Exception, match="boom"):
        rt.run(stub.boom())
    inspector = Inspector(rt)
    assert state_of(inspector, "a") == "reset"
    rt.run(rt.env.COUNTER.getByName("a").increment())
    assert state_of(inspector.refresh(), "a") == "in memory"


def test_storage_values_are_read_back_as_values_and_shown_short(rt):
    rt.run(rt.env.COUNTER.getByName("a").remember("profile", {"name": "Ada", "tags": ["x", "y"]}))
    inspector = Inspector(rt, value_width=20)
    assert inspector.row("a").storage == {"profile": {"name": "Ada", "tags": ["x", "y"]}}
    assert "profile={'name': 'A…" in inspector.text()


def test_names_may_be_qualified_by_binding_or_given_as_stubs(rt):
    counter = rt.env.COUNTER.getByName("same")
    rt.run(counter.increment())
    rt.run(connect(rt.env.ROOM.getByName("same"), "http://do/ws"))
    inspector = Inspector(rt)
    with pytest.raises(KeyError, match="names several objects"):
        inspector.row("same")
    assert inspector.row("COUNTER same").storage == {"count": 1}
    assert inspector.row(counter).binding == "COUNTER"
    with pytest.raises(KeyError, match=r"No object named 'nobody' in this world \(objects: COUNTER same, ROOM same\)"):
        inspector.evict("nobody")


def test_the_text_is_the_same_for_the_same_world(make_runtime):
    def run_world():
        rt = make_runtime(durable_objects={"COUNTER": Counter}, seed=3)
        for name in ("b", "a", "b"):
            rt.run(rt.env.COUNTER.getByName(name).increment())
        rt.run(rt.env.COUNTER.getByName("a").arm(5))
        inspector = Inspector(rt)
        inspector.advance(2)
        return inspector.text(), repr(inspector), Timeline(rt).text()

    first = run_world()
    assert first == run_world()
    assert first[1] == "<Inspector: 2 objects, clock 2.000s>"


def test_import_durable_dojo_does_not_import_ipywidgets():
    code = "import sys, durable_dojo, durable_dojo.widgets; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- Timeline


def test_the_timeline_has_a_lane_per_object_in_order_of_appearance(rt):
    rt.run(rt.env.COUNTER.getByName("a").increment())
    rt.run(rt.env.COUNTER.getByName("b").increment())
    rt.run(rt.env.COUNTER.getByName("a").racy_bump())
    timeline = Timeline(rt)
    assert timeline.lanes == ["COUNTER a", "COUNTER b"]
    (out,) = [r for r in timeline.rows if r.kind == "fetch:out"]
    assert (out.lane, out.request, out.label) == ("COUNTER a", 3, "#3 fetch(GET https://api.example.com/)")
    assert Timeline(rt, object="b").lanes == ["COUNTER b"]


def test_events_of_no_object_go_to_the_world_lane(make_runtime):
    class Edge(WorkerEntrypoint):
        async def fetch(self, request):
            return await fetch("https://api.example.com/")

    rt = make_runtime(worker=Edge, outbound=outbound_ok)
    rt.run(rt.fetch("https://app.example.com/"))
    assert [(r.lane, r.kind) for r in Timeline(rt).rows] == [("world", "fetch:out")]


def test_the_hibernate_button_hibernates_an_object_without_sockets_too(rt):
    rt.run(rt.env.COUNTER.getByName("a").increment())
    inspector = Inspector(rt)
    assert inspector.hibernate("a") == "COUNTER a is hibernated"
    assert state_of(inspector, "a") == "hibernated"


def test_an_isolate_restart_shows_in_the_world_lane_as_a_lifecycle_event(rt):
    stub = rt.env.COUNTER.getByName("a")
    rt.run(stub.increment())
    rt.faults.restart_isolate(stub)
    (row,) = [r for r in Timeline(rt).rows if r.kind == "isolate:restart"]
    assert (row.lane, row.category) == ("world", "lifecycle")
    assert f"isolate {rt.isolates.of(stub)} (start 1): restart_isolate()" in row.label
    assert [r.kind for r in Timeline(rt, object="a").rows][-1] == "evict"


def test_two_racing_requests_interleave_in_the_timeline(rt):
    stub = rt.env.COUNTER.getByName("r")

    async def race():
        return await asyncio.gather(stub.racy_bump(), stub.racy_bump())

    assert rt.run(race()) == [1, 1]
    kinds = [(r.kind, r.request) for r in Timeline(rt, object="r", kinds=("rpc:start", "storage:")).rows]
    assert kinds == [("rpc:start", 1), ("storage:get", 1), ("rpc:start", 2), ("storage:get", 2),
                     ("storage:put", 1), ("storage:put", 2)]  # both read 0 before either wrote


def test_the_timeline_marks_the_gate_closed_between_close_and_open(rt):
    stub = rt.env.COUNTER.getByName("g")
    mark = len(rt.trace)

    async def two():
        return await asyncio.gather(stub.locked_bump(), stub.locked_bump())

    assert sorted(rt.run(two())) == [1, 2]
    timeline = Timeline(rt, start=mark)
    kinds = [r.kind for r in timeline.rows]
    assert kinds.count("gate:close") == 2 and kinds.count("gate:open") == 2
    inside = [r.kind for r in timeline.rows if "COUNTER g" in r.gated]  # from each close to its open
    assert inside == ["gate:close", "storage:get", "fetch:out", "storage:put", "commit", "gate:open"] * 2
    assert all("COUNTER g" in r.gated for r in timeline.rows if r.kind == "fetch:out")
    outside = [r.kind for r in timeline.rows if "COUNTER g" not in r.gated]
    assert "rpc:start" in outside and "storage:get" not in outside
    text = timeline.text()
    assert "┏ gate closed (bcw)" in text and "┃#1 storage:get count" in text and "┗ gate open" in text


def test_request_lanes_put_each_request_in_its_own_column(rt):
    stub = rt.env.COUNTER.getByName("r")

    async def race():
        return await asyncio.gather(stub.racy_bump(), stub.racy_bump())

    rt.run(race())
    timeline = Timeline(rt, lanes="request")
    assert timeline.lanes[:2] == ["#1 COUNTER.racy_bump()", "#2 COUNTER.racy_bump()"]
    assert [r.kind for r in timeline.rows if r.lane.startswith("#2")] == [
        "rpc:call", "rpc:start", "storage:get", "fetch:out", "storage:put", "commit", "rpc:end"]
    assert {r.lane for r in timeline.rows if r.kind.startswith("storage:")} == {
        "#1 COUNTER.racy_bump()", "#2 COUNTER.racy_bump()"}  # storage ops belong to their request


def test_start_last_and_kinds_filter_the_events(rt):
    stub = rt.env.COUNTER.getByName("a")
    rt.run(stub.increment())
    mark = len(rt.trace)
    rt.run(stub.increment())
    assert Timeline(rt, start=mark).rows[0].index == mark
    assert [r.kind for r in Timeline(rt, last=2).rows] == ["commit", "rpc:end"]
    assert {r.kind for r in Timeline(rt, kinds="storage:").rows} == {"storage:get", "storage:put"}
    assert Timeline(rt, start=len(rt.trace)).text() == "Timeline: 0 events, lanes by object (no events)"
    with pytest.raises(ValueError):
        Timeline(rt, lanes="time")


def test_timeline_text_rows_and_refresh(rt):
    stub = rt.env.COUNTER.getByName("a")
    rt.run(stub.arm(60))
    timeline = Timeline(rt)
    lines = timeline.text().splitlines()
    assert lines[0] == "Timeline: 6 events, lanes by object"
    assert lines[1].split() == ["#", "time", "COUNTER", "a"]
    assert "alarm:set at 60.000s" in timeline.text()
    rt.run(rt.advance(61))
    assert len(timeline.rows) == 6
    assert [r.kind for r in timeline.refresh().rows][-3:] == ["storage:put", "commit", "alarm:end"] or \
        "alarm:fire" in [r.kind for r in timeline.rows]
    assert repr(timeline).startswith("<Timeline: ")


# ----------------------------------------------------------------------------- the ipywidgets views


def test_inspector_buttons_call_the_methods_and_update_the_view(rt):
    pytest.importorskip("ipywidgets")
    rt.run(rt.env.COUNTER.getByName("a").increment())
    inspector = Inspector(rt)
    box = inspector.widget
    controls = inspector._widget
    assert controls.choice.options == ("COUNTER a",) and controls.choice.value == "COUNTER a"
    controls.evict_button.click()
    assert state_of(inspector, "a") == "evicted"
    assert "evicted" in controls.table.value and "evicted COUNTER a" in controls.status.value
    controls.seconds.value = 7
    controls.advance_button.click()
    assert inspector.clock.startswith("7.000s") and "7.000s" in controls.table.value
    controls.alarm_button.click()
    assert inspector.message == "COUNTER a has no alarm set"
    bundle = inspector._repr_mimebundle_()
    assert bundle["text/plain"] == inspector.text()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == box.model_id
    assert "<table" in controls.timeline.value


@pytest.fixture
def notebook_shell():
    """An IPython shell running cells as a notebook kernel does (its post_run_cell event included)."""
    pytest.importorskip("ipywidgets")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_a_displayed_inspector_redraws_itself_after_every_cell(rt, notebook_shell):
    notebook_shell.user_ns.update(rt=rt, Inspector=Inspector)
    assert notebook_shell.run_cell("stub = rt.env.COUNTER.getByName('a'); rt.run(stub.increment())").success
    assert notebook_shell.run_cell("inspector = Inspector(rt); inspector.widget").success  # displayed
    controls = notebook_shell.user_ns["inspector"]._widget
    assert "in memory" in controls.table.value and "0.000s" in controls.table.value
    # A later cell changes the world, not through the widget's buttons: the view above follows.
    assert notebook_shell.run_cell("rt.run(rt.env.COUNTER.getByName('b').increment())").success
    assert controls.choice.options == ("COUNTER a", "COUNTER b") and "count=1" in controls.table.value
    assert notebook_shell.run_cell("rt.run(rt.advance(150))").success
    assert "150.000s" in controls.table.value
    assert "in memory" not in controls.table.value and controls.table.value.count("hibernated") == 2
    assert "hibernate" in controls.timeline.value


def test_a_redraw_after_a_cell_never_raises_into_the_kernel(rt, notebook_shell):
    notebook_shell.user_ns.update(rt=rt, Inspector=Inspector)
    assert notebook_shell.run_cell("rt.run(rt.env.COUNTER.getByName('a').increment())").success
    assert notebook_shell.run_cell("inspector = Inspector(rt); inspector.widget").success
    # a world that cannot be read, in a cell that moves it
    assert notebook_shell.run_cell("inspector.objects = None; rt.run(rt.advance(1))").success
    assert "could not be read: TypeError" in notebook_shell.user_ns["inspector"]._widget.table.value


def test_a_cell_that_leaves_the_world_alone_reads_nothing(rt, notebook_shell, monkeypatch):
    """A notebook redraws after every cell: with a big world on screen, only a change may cost a read."""
    from durable_dojo._widgets import views

    reads, timelines = [], []
    real_view, real_refresh = views._view, views.Timeline.refresh
    monkeypatch.setattr(views, "_view", lambda host, lifecycle: reads.append(host.label) or real_view(host, lifecycle))
    monkeypatch.setattr(views.Timeline, "refresh", lambda self: timelines.append(1) or real_refresh(self))
    notebook_shell.user_ns.update(rt=rt, Inspector=Inspector)
    assert notebook_shell.run_cell("rt.run(rt.env.COUNTER.getByName('a').increment())").success
    assert notebook_shell.run_cell("inspector = Inspector(rt); inspector.widget; print(inspector.text())").success
    assert reads == ["a"]  # text, table and object list: one read
    drawn = len(timelines)
    assert notebook_shell.run_cell("x = 1 + 1").success
    assert reads == ["a"] and len(timelines) == drawn  # nor reads the trace again for its timeline
    assert notebook_shell.run_cell("rt.run(rt.env.COUNTER.getByName('a').increment())").success
    assert reads == ["a", "a"] and "count=2" in notebook_shell.user_ns["inspector"]._widget.table.value


def test_a_failing_button_shows_the_error_instead_of_raising(rt):
    pytest.importorskip("ipywidgets")
    stub = rt.env.COUNTER.getByName("a")
    rt.run(stub.increment())
    inspector = Inspector(rt)
    controls = inspector._widget or (inspector.widget and inspector._widget)
    controls.seconds.value = -1
    controls.advance_button.click()
    assert inspector.message == "ValueError: advance() takes a number of seconds >= 0"
    assert "advance() takes" in controls.status.value


def test_timeline_widget_is_html_of_the_same_rows(rt):
    pytest.importorskip("ipywidgets")
    rt.run(rt.env.COUNTER.getByName("a").increment())
    timeline = Timeline(rt)
    view = timeline.widget
    assert view.value == timeline.html() and "COUNTER a" in view.value
    assert timeline._repr_mimebundle_()["text/plain"] == timeline.text()
    rt.run(rt.env.COUNTER.getByName("a").increment())
    timeline.refresh()
    assert view.value.count("rpc:end") == 2


def test_a_large_world_shows_the_first_rows_and_says_how_many_more(rt):
    for i in range(5):
        rt.run(rt.env.COUNTER.getByName(f"c{i}").increment())
    inspector = Inspector(rt, max_rows=3)
    assert len(inspector.rows) == 5
    lines = inspector.text().splitlines()
    assert [line.split()[1] for line in lines[2:5]] == ["c0", "c1", "c2"]
    assert lines[5] == "… and 2 more objects (Inspector(..., max_rows=None) shows all)"
    assert "2 more objects" in inspector.html()
    assert len(Inspector(rt, max_rows=None).text().splitlines()) == 7
