"""The differential suite compares what a Python Worker sees: workerd's results go through
Pyodide's and the SDK's JS-to-Python rules (conformance/run.py `python_view`), the emulator's are
encoded with their Python types (conformance/scenarios.py `enc`), and nothing merges 3 with 3.0
or bytes with memoryview any more."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))

from run import dumps, python_view  # noqa: E402
from scenarios import enc  # noqa: E402


@pytest.mark.parametrize("js, python", [
    ({"num": 3}, 3),                                  # a safe integer is an int
    ({"num": "-0"}, 0),                               # Number.isSafeInteger(-0): an int 0
    ({"num": 2**53 - 1}, 2**53 - 1),
    ({"num": 2**53}, float(2**53)),                   # past MAX_SAFE_INTEGER: a float
    ({"num": 3.5}, 3.5),
    ({"num": "NaN"}, float("nan")),
    ({"bigint": "12345678901234567890"}, 12345678901234567890),
    ({"bytes": [1, 2]}, memoryview(b"\x01\x02")),    # ArrayBuffer / Uint8Array: memoryview
    ({"date": 1700000000123}, datetime.datetime(2023, 11, 14, 22, 13, 20, 123000)),  # naive, UTC
    ({"obj": [["a", {"num": 1}]]}, {"a": 1}),
    ({"set": [{"num": 1}]}, {1}),
])
def test_workerds_values_are_compared_as_a_python_worker_receives_them(js, python):
    assert dumps(python_view(js)) == dumps(enc(python))


@pytest.mark.parametrize("js, wrong", [
    ({"num": 3}, 3.0),                        # a whole float would be a difference
    ({"num": "-0"}, -0.0),
    ({"bytes": [1]}, b"\x01"),                # bytes where the platform gives memoryview
    ({"date": 0}, datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)),  # aware vs naive
    ({"num": 2**53}, 2**53),
])
def test_a_python_type_the_platform_would_not_give_is_a_difference(js, wrong):
    assert dumps(python_view(js)) != dumps(enc(wrong))


def test_results_that_are_not_encoded_values_pass_through():
    result = {"ok": {"num": 1}, "count": 2, "keys": ["a", {"bytes": []}]}
    assert python_view(result) == {"ok": {"int": 1}, "count": 2, "keys": ["a", {"memoryview": []}]}
