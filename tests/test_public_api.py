"""The public tiers, name by name. Adding a public name is a decision: add it here, with its docs.

`durable_dojo` is the world and its controls, `durable_dojo.testing` the test helpers,
`durable_dojo.widgets` the notebook views, `durable_dojo.workbook` the exercises' check. Everything else is private (modules starting with `_`).
"""

import types

import durable_dojo
import durable_dojo.testing
import durable_dojo.widgets
import durable_dojo.workbook
from durable_dojo import Runtime


def public_names(namespace) -> set[str]:
    return {name for name in dir(namespace) if not name.startswith("_")
            and not isinstance(getattr(namespace, name, None), types.ModuleType)}


DURABLE_DOJO = {
    "Advice", "AlarmInfo", "DataCloneError", "DeadlockError", "DojoError", "DurableObjectAbort",
    "DurableObjectId", "DurableObjectNamespace", "DurableObjectStub", "HangTimeout", "JsError",
    "RangeError", "Runtime", "StorageFault", "Trace", "TraceEvent", "advise", "explore", "format_advice",
}
LAZY_IN_DURABLE_DOJO = {"Advice", "advise", "format_advice"}  # loaded on first use
TESTING = {"WebSocketClient", "connect", "every_schedule", "list_durable_object_ids", "load_project", "make_runtime",
           "run_durable_object_alarm", "run_in_durable_object", "run_scheduled", "run_test_entry"}
WIDGETS = {"Inspector", "ObjectView", "ReadyEvent", "SchedulerPlayground", "Timeline", "TimelineRow", "object_state"}
WORKBOOK = {"check"}
RUNTIME_VERBS = {"advance", "close", "deploy", "estimate_cost", "evict", "evict_all", "fetch", "hibernate", "metrics", "now",
                 "run", "run_real_time", "run_until_idle"}
RUNTIME_ATTRIBUTES = {  # what a world is made of, and the options it was made with
    "env", "trace", "faults", "isolates", "loop", "start_ms",
    "compat", "cpu_limit_ms", "hang_timeout", "hibernation_timeout", "idle_eviction", "kv_cache_ttl",
    "kv_home_location", "kv_write_limit", "log_errors", "max_queued_requests", "outbound", "outbound_latency", "persist_to", "seed",
    "storage_backend", "worker",
}
FAULT_CONTROLS = {"chaos_eviction", "clear", "crash", "crash_after", "fail_flushes", "fail_next_flush", "restart_isolate"}


def test_durable_dojo_exports_exactly_its_public_names():
    assert set(durable_dojo.__all__) == DURABLE_DOJO
    assert public_names(durable_dojo) == DURABLE_DOJO - LAZY_IN_DURABLE_DOJO
    assert all(getattr(durable_dojo, name) is not None for name in LAZY_IN_DURABLE_DOJO)


def test_testing_exports_exactly_the_test_helpers():
    assert set(durable_dojo.testing.__all__) == TESTING
    assert public_names(durable_dojo.testing) == TESTING - {"make_runtime"}  # the fixture loads pytest lazily


def test_widgets_exports_exactly_the_views():
    assert set(durable_dojo.widgets.__all__) == WIDGETS
    assert public_names(durable_dojo.widgets) == WIDGETS


def test_workbook_exports_exactly_the_check():
    assert set(durable_dojo.workbook.__all__) == WORKBOOK
    assert public_names(durable_dojo.workbook) == WORKBOOK


def test_a_runtime_shows_its_public_verbs_and_parts_only():
    assert public_names(Runtime) == RUNTIME_VERBS
    rt = Runtime()
    try:
        assert {name for name in vars(rt) if not name.startswith("_")} == RUNTIME_ATTRIBUTES
        assert public_names(rt.faults) == FAULT_CONTROLS
    finally:
        rt.close()
