"""The trace and the metrics: what a learner (and `dojo review`) reads after a workload."""

import asyncio

import pytest

from durable_dojo import Runtime
from workers import DurableObject


class Limiter(DurableObject):
    async def hit(self):
        n = (await self.ctx.storage.get("hits") or 0) + 1
        await self.ctx.storage.put("hits", n)
        await self.ctx.storage.setAlarm(self._now() + 60_000)
        return n

    async def alarm(self, info):
        await self.ctx.storage.delete("hits")

    def _now(self):
        from js import Date

        return Date.now()


@pytest.fixture
def world():
    rt = Runtime(durable_objects={"LIMITER": Limiter}, seed=1)
    yield rt
    rt.close()


def test_trace_records_requests_storage_commits_gates_and_alarms_with_request_ids(world):
    world.run(world.env.LIMITER.getByName("alice").hit())
    world.run(world.advance(61))
    kinds = world.trace.kinds(world.trace.select(object="alice"))
    assert kinds == ["rpc:call", "constructor", "rpc:start", "storage:get", "storage:put", "alarm:set", "commit",
                     "rpc:end", "hibernate", "alarm:fire", "constructor", "alarm:start", "storage:delete", "commit",
                     "alarm:end", "commit"]  # idle and hibernatable: out of memory at 10 s, woken by its alarm
    rpc = world.trace.select("rpc:", object="alice")
    assert {e.request for e in rpc} == {1}
    assert world.trace.select("alarm:fire")[0].time == 60_000.0


def test_trace_select_filters_by_kind_prefix_object_and_request(world):
    async def two_users():
        await asyncio.gather(world.env.LIMITER.getByName("a").hit(), world.env.LIMITER.getByName("b").hit())

    world.run(two_users())
    assert {e.object for e in world.trace.select("storage:put")} == {"a", "b"}
    assert all(e.request == 2 for e in world.trace.select(request=2))
    assert len(world.trace.select(binding="LIMITER", object="b", kind="rpc:")) == 3


def test_trace_prints_as_a_compact_timeline(world):
    world.run(world.env.LIMITER.getByName("alice").hit())
    lines = world.trace.format(last=3).splitlines()
    assert lines == [
        "     0.000s    #1 LIMITER alice            alarm:set 1767225660000",
        "     0.000s    #1 LIMITER alice            commit",
        "     0.000s    #1 LIMITER alice            rpc:end",
    ]


def test_metrics_count_objects_requests_rows_and_alarms_like_cloudflares_dashboard(world):
    async def traffic():
        for user in ["a", "b", "c", "a"]:
            await world.env.LIMITER.getByName(user).hit()

    world.run(traffic())
    world.run(world.advance(100))
    m = world.metrics("LIMITER")
    # Requests include alarm invocations, as Cloudflare bills them: 4 RPC calls + 3 alarms.
    assert (m["objectsCreated"], m["requests"], m["alarmsFired"], m["alarmsRetried"]) == (3, 7, 3, 0)
    assert (m["storageReads"], m["storageWrites"], m["storageDeletes"]) == (4, 8, 3)
    assert (m["rowsRead"], m["rowsWritten"]) == (4, 11)
    assert m["activeObjects"] == 0  # each hibernated 10 s after its alarm ran
    assert m["requestsPerSecond"] == pytest.approx(7 / 100)


def test_cost_estimate_scales_the_observed_month_at_published_prices(world):
    async def traffic():
        for i in range(100):
            await world.env.LIMITER.getByName(f"user{i}").hit()

    world.run(traffic())
    world.run(world.advance(3600))
    cost = world.estimate_cost("LIMITER", multiplier=1000)
    month_scale = 30 * 86400 / 3600 * 1000
    # 100 hits and the 100 alarms they set, in the observed hour (alarm invocations are billed requests)
    assert cost["usage"]["requests"] == pytest.approx(200 * month_scale)
    assert cost["dollars"]["requests"] == pytest.approx(max(0, cost["usage"]["requests"] - 1e6) * 0.15 / 1e6)
    assert cost["total"] == pytest.approx(sum(cost["dollars"].values()))
    assert cost["usage"]["durationGbSeconds"] == 0  # idle and hibernatable between events: no duration billed
    assert set(cost["usage"]) == set(cost["dollars"]) == {"requests", "durationGbSeconds", "rowsRead", "rowsWritten"}


def test_trace_events_carry_the_objects_full_id(world):
    stub = world.env.LIMITER.getByName("alice")
    world.run(stub.hit())
    ids = {e.object_id for e in world.trace.select(object="alice")}
    assert ids == {stub.id.toString()}


def test_trace_kinds_come_from_one_registry(world):
    """Kind names every record the core makes (recording another fails the suite's assert), the
    widgets and the advice read theirs from it, and a typo in select() is an error, not []."""
    from durable_dojo._core.trace import KINDS, Kind, _known_kind
    from durable_dojo._review import advice
    from durable_dojo._widgets import views

    assert Kind.STORAGE_PUT == "storage:put" and Kind.STORAGE_PUT in KINDS
    assert set(Kind.MEANING) - {"<event>:call", "<event>:start", "<event>:end", "<event>:error"} <= KINDS
    assert all(_known_kind(prefix) for prefix, _ in views._CATEGORIES) and set(views._LIFECYCLE) <= KINDS
    assert "REQUEST_KINDS" not in vars(advice) or all(f"{k}:start" in KINDS for k in advice.REQUEST_KINDS)
    world.run(world.env.LIMITER.getByName("alice").hit())
    assert {event.kind for event in world.trace} <= KINDS
    assert world.trace.select("storage:")  # a prefix of known kinds
    with pytest.raises(ValueError, match="no trace event is of kind 'alarm:fired'"):
        world.trace.select("alarm:fired")
