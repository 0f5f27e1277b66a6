"""Run by core_tests.mjs inside Pyodide: the emulator's test files that make sense there.

CORE_TESTS: the tests of the emulator itself (the core, the SDK shims, the testing helpers).
Left out, and why:
* test_limits (but the three in LIMITS): see LIMITS;
* subprocesses (Pyodide has none): test_kata_runner, test_kata_corpus, test_kata_honesty,
  test_facilitator, test_extras, test_readme, test_project (child interpreters);
* tools that are not in the browser, or their dependencies: test_serve (uvicorn), test_widgets
  (ipywidgets), test_review*, test_advice (the review tool), test_notebooks_paired (jupytext),
  test_site_pages, test_learning_path, test_kata_readmes, test_learner_text, test_lab_config,
  test_metrics_documented, test_sdk_parity, test_conformance_view (files and tools of the repository);
* test_fuzz_bad_input: hypothesis is not vendored (the same bad calls run in test_bad_input);
* test_architecture: reads the source's imports, the same in any interpreter.
"""

import os
import sys

sys.dont_write_bytecode = True  # /repo is the real checkout: write nothing there
sys.path.insert(0, "/repo/src")
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
os.chdir("/repo")

CORE_TESTS = [
    "test_alarms.py", "test_bad_input.py", "test_clocks.py", "test_codec.py", "test_compatibility_dates.py",
    "test_explore.py", "test_faults.py", "test_gates.py", "test_http.py", "test_ids.py", "test_isolates.py",
    "test_kvstore.py", "test_lifecycle.py", "test_overload.py", "test_persistence.py",
    "test_persist_directory.py", "test_python_boundary.py", "test_runtime.py", "test_sql.py", "test_sql_storage.py",
    "test_storage_api.py", "test_stubs.py", "test_tracebacks.py", "test_webidl_arguments.py", "test_websockets.py",
    "test_workers_kv.py", "test_public_api.py", "test_observe.py", "test_bounded_resources.py",
]

# Tests that cannot pass in Pyodide, and why.
DESELECT = {
    # 5000 nested lists: CPython's json raises RecursionError (the platform's RangeError); in
    # WebAssembly the C stack runs out first and the whole interpreter dies (a fatal error).
    "tests/test_bad_input.py::test_workers_kv_metadata_too_deep_for_json_is_a_range_error":
        "C recursion overflows WebAssembly's stack before Python's recursion limit",
    # The structured clone's depth limit (10,000, V8's): the codec recurses once per level; in
    # WebAssembly the stack runs out first and the interpreter dies.
    "tests/test_codec.py::test_nesting_max_depth_levels_deep_round_trips": "stack: 10,000 levels",
    "tests/test_codec.py::test_nesting_deeper_than_max_depth_raises_range_error_not_recursion_error": "stack",
    "tests/test_codec.py::test_a_python_value_nested_past_the_recursion_limit_fails_in_the_sdks_copy": "stack",
    "tests/test_codec.py::test_deserializing_data_nested_deeper_than_max_depth_raises_range_error": "stack",
    # No processes in Pyodide.
    "tests/test_explore.py::test_every_failure_replays_by_id_in_a_new_process": "a child interpreter",
    "tests/test_persistence.py::test_another_process_sees_what_this_one_committed": "a second process",
    "tests/test_persistence.py::test_killing_a_writer_with_sigkill_never_leaves_half_a_batch": "a child process",
    "tests/test_runtime.py::test_a_script_with_no_event_loop_can_drive_the_world": "a child interpreter",
    "tests/test_bounded_resources.py::test_hundreds_of_persisted_objects_work_under_a_small_descriptor_limit":
        "a child process with a descriptor limit",
    "tests/test_tracebacks.py::test_a_handlers_error_points_at_the_learners_line_and_no_emulator_frame":
        "reads a child pytest's report",
    "tests/test_tracebacks.py::test_an_await_that_can_never_finish_names_the_learners_line": "a child pytest",
    "tests/test_tracebacks.py::test_an_unclonable_argument_shows_the_call_and_no_codec_frame": "a child pytest",
    # Code that never yields (a busy loop, time.sleep) is stopped by the watchdog's thread: none in
    # Pyodide, where the page ends the Web Worker instead. (The [endless] await chain is stopped there.)
    "tests/test_runtime.py::test_code_that_never_yields_is_stopped_with_a_clear_timeout[spin]": "no thread",
    "tests/test_runtime.py::test_code_that_never_yields_is_stopped_with_a_clear_timeout[block]": "no thread",
    # Pyodide's time module has no tzset(): the host's zone cannot be changed to show it does not leak in.
    "tests/test_clocks.py::test_naive_datetimes_are_utc_inside_the_world_whatever_the_hosts_zone": "no time.tzset",
}
# From test_limits.py, only what can work without a watchdog thread: the CPU limit and the hang
# timeout interrupt Python code that never yields from a thread (none in Pyodide; there the page
# terminates the worker), and the `dojo serve` tests start processes. A runaway SQL query is stopped
# by SQLite's progress handler, which checks the hang timeout itself when there is no thread.
LIMITS = ["tests/test_limits.py::test_the_hang_timeout_stops_a_runaway_sql_query",
          "tests/test_limits.py::test_the_cpu_limit_is_validated"]

import pytest  # noqa: E402

from durable_dojo._browser.host import learner_run  # noqa: E402

# Test paths given on the command line replace the list (not the value of an option such as --deselect).
given = list(pytest_args)  # noqa: F821 - set by core_tests.mjs
chosen = [a for i, a in enumerate(given) if a.startswith("tests/") and (i == 0 or not given[i - 1].startswith("-"))]
options = [a for a in given if a not in chosen]
args = (chosen or [f"tests/{name}" for name in CORE_TESTS] + LIMITS) + ["-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin",
                                                   "-p", "durable_dojo.pytest_plugin", "--tb=short", "-rfE"]
args += [arg for test in DESELECT for arg in ("--deselect", test)]
with learner_run():
    exit_code = int(pytest.main(args + options))
exit_code
