"""tools/counting_sqlite.py's instrumentation stops the build rather than miscount.

Each counter increment goes after an anchor that must appear exactly once inside its opcode's
`case OP_X:` block: a SQLite whose code moved would otherwise count at the wrong place, or not
at all, silently. (That the built SQLite counts as workerd does is tests/test_sql_row_counts.py.)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "counting_sqlite.py"
spec = importlib.util.spec_from_file_location("counting_sqlite", TOOL)
counting_sqlite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(counting_sqlite)
instrument = counting_sqlite.instrument

SOURCE = """
case OP_Rewind: {
  rc = first();
  if( rc ) goto abort_due_to_error;
}
case OP_Next: {
  if( rc ) goto abort_due_to_error;
}
"""
SITE = ("OP_Rewind", "  if( rc ) goto abort_due_to_error;\n", "  COUNT(1);\n", "a rewind reads one")


def test_the_increment_goes_after_its_anchor_inside_its_opcode():
    out = instrument(SOURCE, [SITE])
    assert "  if( rc ) goto abort_due_to_error;\n  COUNT(1);\n}\ncase OP_Next:" in out
    assert out.count("COUNT(1)") == 1  # not in OP_Next, which has the same line


def test_an_anchor_missing_from_its_opcode_stops_the_build():
    with pytest.raises(SystemExit, match="OP_Rewind.*found 0 times"):
        instrument(SOURCE.replace("  if( rc ) goto abort_due_to_error;\n}\ncase OP_Next", "}\ncase OP_Next"), [SITE])


def test_an_anchor_found_twice_in_its_opcode_stops_the_build():
    twice = SOURCE.replace("  rc = first();\n", "  if( rc ) goto abort_due_to_error;\n")
    with pytest.raises(SystemExit, match="OP_Rewind.*found 2 times"):
        instrument(twice, [SITE])


def test_an_opcode_that_is_not_there_stops_the_build():
    with pytest.raises(SystemExit, match="case OP_Last:` found 0 times"):
        instrument(SOURCE, [("OP_Last", "x", "y", "why")])
