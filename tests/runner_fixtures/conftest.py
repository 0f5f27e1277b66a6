# tests/runner_fixtures/project is a tiny kata project that tests/test_kata_runner.py copies to a
# temporary folder and drives with the `dojo` runner; its tests are not part of this suite.
collect_ignore = ["project"]
