"""What a long-running world keeps in memory: a bounded, compact trace, and nothing per object
once an object has left memory but what its exact metrics need (issue 12: 100,000 objects
must leave less than 50 MB after `evict_all`; `bench/resources.py` prints that figure).

Sizes here are measured with tracemalloc and `sys.getsizeof`, never with a clock.
"""

import gc
import sys
import tracemalloc

import pytest

from durable_dojo import Runtime
from durable_dojo._core import metrics as metrics_module
from durable_dojo._core import runtime as runtime_module
from durable_dojo._core.trace import Kind, Trace
from workers import DurableObject


class Counter(DurableObject):
    async def bump(self):
        n = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", n)
        return n


@pytest.fixture
def rt():
    world = Runtime(durable_objects={"C": Counter})
    yield world
    world.close()


def test_the_trace_keeps_the_last_maxlen_events_oldest_first(rt):
    trace = Trace(rt, maxlen=5)
    host = rt.env.C.getByName("a")._host
    for request in range(1, 13):
        trace.record(Kind.STORAGE_GET, host, request=request, detail=f"key{request}")
    assert len(trace) == 5
    assert trace.recorded == 12
    assert [e.request for e in trace] == [8, 9, 10, 11, 12]
    assert [e.detail for e in trace.select(Kind.STORAGE_GET)] == ["key8", "key9", "key10", "key11", "key12"]
    assert trace[-1].object == "a" and trace[-1].object_id == host.key
    assert trace.format(last=2).splitlines()[0].endswith("storage:get key11")


def test_a_trace_event_costs_a_few_machine_words_not_a_tuple_of_objects(rt):
    """A ring of 200,000 events of ~150-byte tuples was most of what 100,000 evicted objects left."""
    host = rt.env.C.getByName("a")._host
    trace = Trace(rt, maxlen=50_000)
    trace.record(Kind.STORAGE_GET, host, request=1, detail="n")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for request in range(100_000, 140_000):  # distinct request ids: no small-int sharing
            rt.loop._now += 0.001  # distinct times
            trace.record(Kind.RPC_CALL, host, request=request, detail=rt.env.C.call_label("bump"))
        per_event = (tracemalloc.get_traced_memory()[0] - before) / 40_000
    finally:
        tracemalloc.stop()
    assert per_event < 48, f"{per_event:.0f} bytes per trace event"


def test_every_call_of_a_method_shares_one_label_in_the_trace(rt):
    stub = rt.env.C.getByName("a")
    rt.run(stub.bump())
    rt.run(rt.env.C.getByName("b").bump())
    calls = rt.trace.select(Kind.RPC_CALL)
    starts = rt.trace.select(Kind.RPC_START)
    assert [e.detail for e in calls] == ["C.bump()", "C.bump()"]
    assert calls[0].detail is calls[1].detail is starts[0].detail is starts[1].detail


def test_a_stub_used_once_is_freed_without_the_cycle_collector(rt):
    # A Worker reaching 100,000 objects by name makes 100,000 stubs (bench/core.py): each must go
    # when dropped, not wait for the garbage collector (a cycle per stub, a kept RPC method that
    # referred to its stub, made that bench 7-15% slower and its peak memory 66 MB higher).
    import gc
    import weakref

    gc.disable()
    try:
        stub = rt.env.C.getByName("a")
        assert rt.run(stub.bump()) == 1
        method = stub.bump
        gone = weakref.ref(stub)
        del stub, method
        assert gone() is None
    finally:
        gc.enable()


def test_objects_since_a_mark_or_none_once_those_events_fell_off(rt):
    trace = Trace(rt, maxlen=4)
    a, b = rt.env.C.getByName("a")._host, rt.env.C.getByName("b")._host
    trace.record(Kind.STORAGE_GET, a)
    mark = trace.recorded
    trace.record(Kind.STORAGE_PUT, b)
    trace.record(Kind.COMMIT)  # the world's own event names no object
    assert trace.objects_since(mark) == {b.key}
    for _ in range(4):
        trace.record(Kind.COMMIT)
    assert trace.objects_since(mark) is None  # the explorer then assumes the step touched everything


def test_the_handler_cpu_samples_are_a_bounded_ring(rt, monkeypatch):
    monkeypatch.setattr(metrics_module, "CPU_SAMPLES", 10)
    stub = rt.env.C.getByName("a")
    for _ in range(25):
        rt.run(stub.bump())
    counters = rt._counters._for("C")
    assert len(counters.cpu_ms) == 10
    assert rt.metrics("C")["cpuTimeP95"] >= rt.metrics("C")["cpuTimeP50"] > 0


def _make_and_evict(rt, names):
    """Every object in memory at once, then all evicted (the tables reach their largest size)."""
    for name in names:
        assert rt.run(rt.env.C.getByName(name).bump()) >= 1
    rt.evict_all()()


def test_evicted_objects_leave_no_record_in_the_worlds_tables_and_metrics_stay_exact(rt, monkeypatch):
    """Dicts keep the table of their largest size: the world's table of objects, its table of
    forgotten records and the metrics' table of active objects are copied to what is left."""
    monkeypatch.setattr(runtime_module, "KEPT_EVICTED_RECORDS", 8)
    monkeypatch.setattr(runtime_module, "COMPACT_AFTER", 32)
    monkeypatch.setattr(metrics_module, "COMPACT_AFTER", 32)
    _make_and_evict(rt, [f"user:{i}" for i in range(600)])
    gc.collect()  # records nobody holds are gone; so are their entries among the forgotten
    assert len(rt._hosts) <= 8
    assert len(rt._dormant) == 0
    active = rt._counters._for("C").active
    assert not active
    assert sys.getsizeof(rt._hosts) < 2_000, "the table of objects kept the size of 600 records"
    assert sys.getsizeof(rt._dormant._refs) < 2_000, "the table of forgotten records kept its size"
    assert sys.getsizeof(active) < 2_000, "the metrics kept a table the size of 600 active objects"
    metrics = rt.metrics("C")
    assert metrics["objectsCreated"] == 600 and metrics["activeObjects"] == 0 and metrics["requests"] == 600
    # Objects whose record was forgotten come back with their storage, and are not counted twice.
    _make_and_evict(rt, ["user:0", "user:1", "user:599"])
    metrics = rt.metrics("C")
    assert metrics["objectsCreated"] == 600 and metrics["requests"] == 603 and metrics["storageWrites"] == 603
    assert rt.run(rt.env.C.getByName("user:0").bump()) == 3


def test_a_stub_that_holds_a_forgotten_record_brings_that_record_back(rt, monkeypatch):
    monkeypatch.setattr(runtime_module, "KEPT_EVICTED_RECORDS", 2)
    monkeypatch.setattr(runtime_module, "COMPACT_AFTER", 4)
    kept = rt.env.C.getByName("kept")
    rt.run(kept.bump())
    rt.run(rt.evict(kept))
    _make_and_evict(rt, [f"other:{i}" for i in range(40)])
    gc.collect()
    assert (kept._host.namespace.unique_key, kept._host.key) not in rt._hosts
    assert len(rt._dormant) == 1  # only the record a stub still holds
    assert rt.env.C.getByName("kept")._host is kept._host
    assert rt.run(kept.bump()) == 2
