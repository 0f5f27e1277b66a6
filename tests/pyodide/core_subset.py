"""Which of the emulator's test files `make pyodide-test` runs inside Pyodide, and why the others
are left out. Every `tests/test_*.py` is in exactly one of CORE_TESTS and LEFT_OUT:
`tests/pyodide/core_tests.py` refuses to run otherwise, and so does `make test`
(tests/test_pyodide_subset.py), so a new test file is placed on purpose.
"""

from __future__ import annotations

from pathlib import Path

# The tests of the emulator itself (the core, the SDK shims, the testing helpers), run in Pyodide.
CORE_TESTS = [
    "test_alarms.py", "test_bad_input.py", "test_bounded_resources.py", "test_clocks.py", "test_codec.py",
    "test_compatibility_dates.py", "test_compatibility_flags.py", "test_deep_nesting.py", "test_explore.py", "test_faults.py", "test_gates.py",
    "test_http.py", "test_ids.py", "test_isolates.py", "test_js_globals.py", "test_kvstore.py",
    "test_lifecycle.py", "test_loop.py", "test_memory_bounds.py", "test_observe.py", "test_overload.py", "test_persistence.py",
    "test_persist_directory.py", "test_public_api.py", "test_python_boundary.py", "test_relaxed_handlers.py", "test_run_sync.py", "test_scheduled.py",
    "test_runtime.py", "test_sql.py", "test_sql_storage.py", "test_storage_api.py", "test_stubs.py",
    "test_tracebacks.py", "test_webidl_arguments.py", "test_websockets.py", "test_workerd_edges.py",
    "test_workers_kv.py", "test_sdk_rules.py",
]

_PROCESSES = "starts child interpreters or processes (Pyodide has none)"
_REPOSITORY = "checks files and tools of the repository, the same in any interpreter"
# Left out, and why.
LEFT_OUT = {
    "test_limits.py": "the CPU limit and the hang timeout stop code that never yields from a watchdog thread "
                      "(none in Pyodide, where the page ends the Web Worker) and the `dojo serve` tests start "
                      "processes; LIMITS runs its tests that work without a thread",
    "test_kata_runner.py": _PROCESSES, "test_kata_corpus.py": _PROCESSES, "test_kata_honesty.py": _PROCESSES,
    "test_facilitator.py": _PROCESSES, "test_extras.py": _PROCESSES, "test_readme.py": _PROCESSES,
    "test_project.py": _PROCESSES,
    "test_browser_runner.py": "the in-browser runner's Python layer, tested in CPython; in Pyodide the site's "
                              "worker runs it for real (tests/pyodide/katas.mjs and chapters.mjs)",
    "test_serve.py": "`dojo serve` (uvicorn), not in the browser",
    "test_widgets.py": "ipywidgets, not in the browser",
    "test_review.py": "the review tool, not in the browser",
    "test_review_examples.py": "the review tool, not in the browser",
    "test_advice.py": "the review tool's advice, not in the browser",
    "test_notebooks_paired.py": "jupytext and the notebooks' kernels, not in the browser",
    "test_workbook_diagrams.py": "nbformat and the notebooks' files, not in the browser",
    "test_fuzz_bad_input.py": "hypothesis is not vendored (test_bad_input runs the same bad calls)",
    "test_architecture.py": "reads the source's imports, " + _REPOSITORY,
    "test_site_pages.py": _REPOSITORY, "test_site_runnable.py": _REPOSITORY, "test_site_editor.py": _REPOSITORY,
    "test_site_vendor.py": _REPOSITORY, "test_learning_path.py": _REPOSITORY, "test_kata_readmes.py": _REPOSITORY,
    "test_learner_text.py": _REPOSITORY, "test_lab_config.py": _REPOSITORY,
    "test_metrics_documented.py": _REPOSITORY, "test_sdk_parity.py": _REPOSITORY,
    "test_sql_row_counts.py": "needs the counting SQLite build (apsw compiled with C); Pyodide has the standard "
                              "library's sqlite3, whose row counts are approximate (every test would skip)",
    "test_counting_sqlite.py": "the build script of that SQLite (tools/), " + _REPOSITORY,
    "test_conformance_view.py": _REPOSITORY, "test_pyodide_subset.py": "checks these lists, " + _REPOSITORY,
}

# Tests of CORE_TESTS that cannot pass in Pyodide, and why.
DESELECT = {
    **{f"tests/test_stubs.py::test_a_fetch_stopped_by_the_hang_timeout_leaves_no_unretrieved_error_behind[{mode}]":
       "stops a busy loop from the watchdog thread (none in Pyodide, see test_limits.py above)"
       for mode in ("follow", "manual")},
    "tests/test_run_sync.py::test_the_cpu_limit_still_holds_after_run_sync_returns":
        "stops a busy loop from the watchdog thread (none in Pyodide, see test_limits.py above)",
    "tests/test_run_sync.py::test_time_suspended_in_run_sync_is_not_the_events_cpu_time":
        "burns CPU time read from time.thread_time, to test the CPU limit (see test_limits.py above)",
    # A list nested 10,000 deep (the structured clone's limit, V8's) cannot even be freed in Pyodide:
    # CPython's C code (deallocation, repr, ==) guards its recursion by a C stack that is not the one
    # V8 gives WebAssembly, which runs out at ~5,000 levels and ends the interpreter. The codec does
    # not recurse; the test's own value does. (Nesting past the recursion limit: test_deep_nesting.)
    "tests/test_codec.py::test_nesting_max_depth_levels_deep_round_trips": "frees a list nested 10,000 deep",
    "tests/test_codec.py::test_nesting_deeper_than_max_depth_raises_range_error_not_recursion_error":
        "frees a list nested 10,001 deep",
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
# From test_limits.py, only what can work without a watchdog thread (see LEFT_OUT). A runaway SQL
# query is stopped by SQLite's progress handler, which checks the hang timeout itself when there is
# no thread.
LIMITS = ["tests/test_limits.py::test_the_hang_timeout_stops_a_runaway_sql_query",
          "tests/test_limits.py::test_the_cpu_limit_is_validated"]


def misplaced(tests_dir: Path) -> list[str]:
    """What is wrong with the lists for the test files in `tests_dir`, in words (empty: nothing)."""
    files = {path.name for path in tests_dir.glob("test_*.py")}
    problems = [f"{name}: in neither CORE_TESTS nor LEFT_OUT of tests/pyodide/core_subset.py (run it under "
                "Pyodide, or leave it out and say why)" for name in sorted(files - set(CORE_TESTS) - set(LEFT_OUT))]
    problems += [f"{name}: in both CORE_TESTS and LEFT_OUT" for name in sorted(set(CORE_TESTS) & set(LEFT_OUT))]
    problems += [f"{name}: listed, but there is no tests/{name}"
                 for name in sorted((set(CORE_TESTS) | set(LEFT_OUT)) - files)]
    return problems
