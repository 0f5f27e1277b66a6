"""`ctx.storage.sql` (durable_dojo._core.sql) on a raw in-memory sqlite3 connection.

Messages are matched word for word. Their sources: workerd's `api/sql.c++`,
`util/sqlite.c++`, `api/tests/sql-test.js`, and the oracle run of real workerd
(`shared/oracle/REPORT.md`, "SQL (disk mode)"); see the module docstring of `_sql`.
"""

from __future__ import annotations

import datetime as dt
from durable_dojo._core import sqlite_driver as driver

import pytest

from durable_dojo._core.codec import JsDict
from durable_dojo._core.errors import DojoError, JsError
from pyodide.ffi import JsException
from durable_dojo._core.sql import (
    MAX_STATEMENT_BYTES,
    SqlStorage,
    SqlStorageCursor,
    SqlStorageStatement,
    release,
    secure,
    trusted,
)

TXN = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)
NO_STATEMENT = "SQL code did not contain a statement."
WRONG_COUNT = "Wrong number of parameter bindings for SQL query."
NOT_AUTHORIZED = "not authorized: SQLITE_AUTH"
KV_PROHIBITED = "access to _cf_KV.key is prohibited: SQLITE_AUTH"  # named as workerd names its table


#: The emulator runs on apsw, which ships workerd's SQLite; without it (in Pyodide) on the
#: standard sqlite3, whose SQLite is older and shows less (no error offsets, no row counters).
APSW = driver.BACKEND == "apsw"
needs_workerds_sqlite = pytest.mark.skipif(
    not APSW, reason="needs what apsw's SQLite shows (workerd's version, row changes, statement counters)"
)


@pytest.fixture
def conn():
    c = driver.connect(":memory:")
    secure(c)
    with trusted(c):
        c.execute("CREATE TABLE _cf_kv (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
        c.execute("INSERT INTO _cf_kv VALUES ('kvkey', x'00')")
    yield c
    c.close()


@pytest.fixture
def sql(conn):
    return SqlStorage(conn)


def raises(fn, *args, exc=JsError):
    """Run fn(*args), expect the JavaScript error `exc` (a JsException; `TypeError` for a JS
    TypeError), return its message."""
    if exc is TypeError:
        with pytest.raises(JsException) as info:
            fn(*args)
        assert (type(info.value), info.value.name) == (JsException, "TypeError")
        return info.value.message
    with pytest.raises(exc) as info:
        fn(*args)
    assert type(info.value) is exc
    return info.value.message


def err(sql, query, *bindings):
    """The message of the JsError that sql.exec(query, *bindings) raises."""
    return raises(sql.exec, query, *bindings)


def make_table(sql, name="t", n=0):
    sql.exec(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v TEXT)")
    for i in range(1, n + 1):
        sql.exec(f"INSERT INTO {name} (id, v) VALUES (?, ?)", i, f"v{i}")


# --------------------------------------------------------------------------- scenario 22


def test_scenario_22_sql_guard_rails(sql):
    assert "transactionSync() APIs" in err(sql, "BEGIN TRANSACTION")
    assert err(sql, "BEGIN TRANSACTION") == TXN
    assert "prohibited" in err(sql, "SELECT * FROM _cf_kv")
    assert err(sql, "SELECT ?") == WRONG_COUNT
    assert raises(sql.exec("SELECT 1 UNION ALL SELECT 2").one) == (
        "Expected exactly one result from SQL query, but got multiple results."
    )
    assert sql.exec("SELECT 123 AS foo, 'abc' AS bar").one() == {"foo": 123, "bar": "abc"}


# --------------------------------------------------------------------------- the sql object


def test_sql_object_has_the_platform_members(sql):
    for name in ("Cursor", "Statement", "databaseSize", "exec"):
        assert hasattr(sql, name)
    assert sql.Cursor is SqlStorageCursor
    assert sql.Statement is SqlStorageStatement
    with pytest.raises(TypeError, match="^Illegal constructor$"):
        SqlStorageStatement()
    with pytest.raises(TypeError, match="^Illegal constructor$"):
        SqlStorageCursor()


def test_exec_runs_synchronously_and_returns_a_cursor(sql):
    make_table(sql)
    cursor = sql.exec("INSERT INTO t (v) VALUES ('a')")
    assert isinstance(cursor, sql.Cursor)
    # The write happened during exec(), before anything touched the cursor.
    assert sql.exec("SELECT count(*) AS n FROM t").one().n == 1


def test_exec_accepts_a_str_subclass_and_rejects_non_strings(sql):
    class Q(str):
        pass

    assert sql.exec(Q("SELECT 1 AS x")).one() == {"x": 1}
    assert "must be a string" in raises(sql.exec, 123, exc=TypeError)


# --------------------------------------------------------------------------- several statements


def test_several_statements_all_run_and_the_last_gets_the_cursor(sql):
    make_table(sql)
    cursor = sql.exec("INSERT INTO t (v) VALUES ('a'); INSERT INTO t (v) VALUES ('b'); SELECT count(*) AS n FROM t")
    assert cursor.toArray() == [{"n": 2}]
    assert cursor.columnNames == ["n"]


def test_only_the_last_statement_gets_the_bindings(sql):
    make_table(sql)
    cursor = sql.exec("INSERT INTO t (v) VALUES ('a'); SELECT ? AS x, ? AS y", 1, "two")
    assert cursor.one() == {"x": 1, "y": "two"}


def test_earlier_statement_with_parameters_is_refused(sql):
    assert err(sql, "SELECT ?; SELECT 1", 1) == (
        "When executing multiple SQL statements in a single call, only the last statement "
        "can have parameters."
    )


def test_the_rows_of_earlier_statements_are_dropped(sql):
    assert sql.exec("SELECT 1 AS a; SELECT 2 AS b").toArray() == [{"b": 2}]


def test_trailing_whitespace_after_the_last_statement_is_fine(sql):
    assert sql.exec("SELECT 1 AS a;  \n\t ").toArray() == [{"a": 1}]
    assert sql.exec("SELECT 1 AS a -- comment inside the statement").toArray() == [{"a": 1}]


def test_leading_comments_and_empty_statements_are_skipped(sql):
    assert sql.exec("-- hello\n/* there */ ; SELECT 1 AS a").toArray() == [{"a": 1}]
    assert sql.exec("SELECT 1 AS a; ; SELECT 2 AS b").toArray() == [{"b": 2}]


@pytest.mark.parametrize("query", ["", ";", "   ", "-- nothing", "/* nothing */", "; -- x\n;"])
def test_no_statement_is_an_error(sql, query):
    assert err(sql, query) == NO_STATEMENT


def test_trailing_comment_after_statements_is_an_error_after_they_ran(sql):
    make_table(sql)
    assert err(sql, "INSERT INTO t (v) VALUES ('a'); -- trailing comment") == NO_STATEMENT
    assert err(sql, "INSERT INTO t (v) VALUES ('b');;") == NO_STATEMENT
    assert sql.exec("SELECT count(*) AS n FROM t").one().n == 2  # both INSERTs ran (workerd too)


def test_semicolons_inside_strings_comments_and_triggers_do_not_split(sql):
    make_table(sql)
    sql.exec("CREATE TABLE log (msg TEXT)")
    sql.exec(
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('a;b'); "
        "INSERT INTO log VALUES (new.v); END; INSERT INTO t (v) VALUES ('x;y') /* ; */"
    )
    assert [r.msg for r in sql.exec("SELECT msg FROM log ORDER BY rowid")] == ["a;b", "x;y"]


# --------------------------------------------------------------------------- bindings count


def test_wrong_number_of_bindings(sql):
    assert err(sql, "SELECT ?, ?", 1) == WRONG_COUNT
    assert err(sql, "SELECT ?", 1, 2) == WRONG_COUNT
    assert err(sql, "SELECT 1", 1) == WRONG_COUNT


# --------------------------------------------------------------------------- SQLite errors


def test_syntax_error_reports_offset_and_code(sql):
    assert err(sql, "SELEC nonsense") == 'near "SELEC": syntax error at offset 0: SQLITE_ERROR'
    assert err(sql, "SELECT ;") == 'near ";": syntax error at offset 7: SQLITE_ERROR'
    assert err(sql, "SELECT -;") == 'near ";": syntax error at offset 8: SQLITE_ERROR'
    assert err(sql, "SELECT * bunk;") == 'near "bunk": syntax error at offset 9: SQLITE_ERROR'


def test_syntax_error_offset_counts_utf8_bytes(sql):
    # "SELECT " is 7 bytes, "'é'" 4 bytes, then ", ": the ";" starts at byte 13.
    assert err(sql, "SELECT 'é', ;") == 'near ";": syntax error at offset 13: SQLITE_ERROR'


def test_syntax_error_offset_in_a_later_statement_counts_from_that_statement(sql):
    # workerd prepares the rest of the text after the previous statement and its whitespace.
    assert err(sql, "SELECT 1;   SELEC x") == 'near "SELEC": syntax error at offset 0: SQLITE_ERROR'
    assert err(sql, "SELECT 1; /* c */ SELEC x") == (
        'near "SELEC": syntax error at offset 8: SQLITE_ERROR'
    )


def test_syntax_error_offset_prefers_a_whole_word(sql):
    # "a" first appears inside "max"; the word "a" is the token SQLite names.
    assert err(sql, "SELECT max(1) a b") == 'near "b": syntax error at offset 16: SQLITE_ERROR'


def test_unrecognized_token_has_an_offset(sql):
    assert err(sql, "SELECT 'abc") == "unrecognized token: \"'abc\" at offset 7: SQLITE_ERROR"


def test_missing_table_has_no_offset(sql):
    assert err(sql, "SELECT * FROM nope") == "no such table: nope: SQLITE_ERROR"


def test_missing_column_has_an_offset(sql):
    make_table(sql)
    assert err(sql, "SELECT nocol FROM t") == "no such column: nocol at offset 7: SQLITE_ERROR"
    assert err(sql, "SELECT t.nocol FROM t") == "no such column: t.nocol at offset 7: SQLITE_ERROR"


def test_wrong_number_of_function_arguments_has_an_offset(sql):
    assert err(sql, "SELECT abs(1, 2)") == (
        "wrong number of arguments to function abs() at offset 7: SQLITE_ERROR"
    )


def test_check_constraint_failure(sql):
    sql.exec("CREATE TABLE ch (x TEXT CHECK (x IN ('A','B')))")
    assert err(sql, "INSERT INTO ch VALUES ('C')") == (
        "CHECK constraint failed: x IN ('A','B'): SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_CHECK)"
    )


@pytest.mark.parametrize(
    ("insert", "message"),
    [
        ("INSERT INTO k VALUES (1, 'a', 'x')", "UNIQUE constraint failed: k.id: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_PRIMARYKEY)"),
        ("INSERT INTO k VALUES (2, 'a', 'x')", "UNIQUE constraint failed: k.u: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_UNIQUE)"),
        ("INSERT INTO k VALUES (3, 'c', NULL)", "NOT NULL constraint failed: k.nn: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_NOTNULL)"),
        ("INSERT INTO s VALUES ('abc')", "cannot store TEXT value in INTEGER column s.v: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_DATATYPE)"),
    ],
)
def test_constraint_errors_name_the_extended_code(sql, insert, message):
    # workerd appends SQLite's extended result code (the oracle's messages); the row is not written
    sql.exec("CREATE TABLE k (id INTEGER PRIMARY KEY, u TEXT UNIQUE, nn TEXT NOT NULL)")
    sql.exec("CREATE TABLE s (v INTEGER) STRICT")
    sql.exec("INSERT INTO k VALUES (1, 'a', 'x')")
    assert err(sql, insert) == message
    assert sql.exec("SELECT id FROM k").toArray() == [{"id": 1}]
    assert sql.exec("SELECT count(*) AS n FROM s").one() == {"n": 0}


def test_text_that_is_not_utf8_reads_with_replacement_characters(sql):
    # as JavaScript decodes it on the platform: one U+FFFD per bad sequence, no error
    sql.exec("CREATE TABLE tx (v TEXT)")
    sql.exec("INSERT INTO tx VALUES (CAST(x'61ff62' AS TEXT))")
    assert sql.exec("SELECT v, hex(v) AS h FROM tx").one() == {"v": "a\ufffdb", "h": "61FF62"}
    assert sql.exec("SELECT CAST(x'eda080' AS TEXT) AS t").one() == {"t": "\ufffd" * 3}
    assert list(sql.exec("SELECT CAST(x'61c3' AS TEXT)").raw()) == [["a\ufffd"]]


def test_datatype_mismatch(sql):
    sql.exec("CREATE TABLE test_error_codes (name TEXT)")
    assert err(sql, "INSERT INTO test_error_codes(rowid, name) values ('yeah','nah')") == (
        "datatype mismatch: SQLITE_MISMATCH"
    )


def test_foreign_keys_are_on_by_default(sql):
    assert sql.exec("PRAGMA foreign_keys").one() == {"foreign_keys": 1}
    sql.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    sql.exec("CREATE TABLE posts (user_id INTEGER REFERENCES users(id))")
    assert err(sql, "INSERT INTO posts VALUES (?)", 1) == (
        "FOREIGN KEY constraint failed: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_FOREIGNKEY)"
    )


def test_drop_table_with_a_live_cursor_is_locked(sql):
    make_table(sql, n=3)
    cursor = sql.exec("SELECT * FROM t")
    next(cursor)
    assert err(sql, "DROP TABLE t") == "database table is locked: SQLITE_LOCKED"
    cursor.toArray()
    sql.exec("DROP TABLE t")


def test_errors_are_js_errors_and_bigint_is_a_type_error(sql):
    with pytest.raises(JsError):
        sql.exec("SELECT * FROM nope")
    assert raises(sql.exec, "SELECT ? AS v", 2**63, exc=TypeError) == (
        "Cannot convert a BigInt value to a number"
    )
    assert raises(sql.exec, "SELECT ? AS v", -(2**63) - 1, exc=TypeError) == (
        "Cannot convert a BigInt value to a number"
    )
    assert "Unsupported type" in raises(sql.exec, "SELECT ? AS v", {1, 2}, exc=TypeError)


# --------------------------------------------------------------------------- transactions


@pytest.mark.parametrize(
    "query",
    [
        "BEGIN TRANSACTION",
        "BEGIN",
        "begin immediate",
        "COMMIT",
        "END",
        "ROLLBACK",
        "SAVEPOINT sp1",
        "RELEASE sp1",
        "ROLLBACK TO sp1",
        "SELECT 1; BEGIN",
    ],
)
def test_transaction_statements_are_refused(sql, conn, query):
    assert err(sql, query) == TXN
    assert not conn.in_transaction


def test_transaction_refusal_does_not_stick(sql):
    err(sql, "BEGIN")
    assert err(sql, "SELECT * FROM nope") == "no such table: nope: SQLITE_ERROR"


# --------------------------------------------------------------------------- bindings


def test_bindings_of_each_type(sql):
    row = sql.exec(
        "SELECT ? AS s, typeof(?) AS i, typeof(?) AS f, typeof(?) AS b, typeof(?) AS ba, "
        "typeof(?) AS mv, ? AS n",
        "text", 7, 1.5, b"\x01", bytearray(b"\x02"), memoryview(b"\x03"), None,
    ).one()
    # An int reaches workerd as a JS number and binds as REAL (the conformance run shows it).
    assert row == {"s": "text", "i": "real", "f": "real", "b": "blob", "ba": "blob", "mv": "blob", "n": None}
    assert sql.exec("SELECT ? / 2 AS half", 7).one().half == 3.5
    assert sql.exec("SELECT ? AS v", bytearray(b"ab")).one().v == b"ab"


def test_bool_binds_as_the_js_string(sql):
    assert sql.exec("SELECT ? AS t, ? AS f", True, False).one() == {"t": "true", "f": "false"}


def test_dict_binds_as_object_object(sql):
    assert sql.exec("SELECT ? AS v", {"a": 1}).one().v == "[object Object]"


def test_list_binds_as_js_array_string(sql):
    assert sql.exec("SELECT ? AS v", [1, "a", None, [2, 3], 1.5, True, 2.0]).one().v == "1,a,,2,3,1.5,true,2"


def test_datetime_binds_as_js_date_string(sql):
    assert sql.exec("SELECT ? AS v", dt.datetime(1970, 1, 1)).one().v == (
        "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
    )
    aware = dt.datetime(2024, 3, 5, 1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert sql.exec("SELECT ? AS v", aware).one().v == (
        "Mon Mar 04 2024 23:02:03 GMT+0000 (Coordinated Universal Time)"
    )


def test_ints_bind_as_js_numbers_and_beyond_2_53_are_refused_like_a_bigint(sql):
    row = sql.exec("SELECT CAST(? AS TEXT) AS hi, CAST(? AS TEXT) AS lo", 2**53 - 1, -(2**53 - 1)).one()
    # SQLite 3.54 (workerd's) prints a REAL with up to 17 significant digits; older ones 15.
    if APSW:
        assert row == {"hi": "9007199254740991.0", "lo": "-9007199254740991.0"}
    else:
        assert row == {"hi": "9.00719925474099e+15", "lo": "-9.00719925474099e+15"}
    for big in (2**53, -(2**53), 2**63 - 1):
        with pytest.raises(JsException, match="^TypeError: Cannot convert a BigInt value to a number$"):
            sql.exec("SELECT ?", big)


def test_lone_surrogate_binds_as_its_wtf8_bytes_in_text_and_reads_back_per_byte(sql):
    # workerd binds a JS string's WTF-8 bytes: U+D800 is ED A0 80, TEXT; read back, each of the
    # three bytes is one U+FFFD (oracle: edge_surrogate_keys).
    row = sql.exec("SELECT ? AS v, hex(?2) AS h, typeof(?1) AS t", "a\ud800b", "\udc00").one()
    assert row == {"v": "a\ufffd\ufffd\ufffdb", "h": "EDB080", "t": "text"}
    sql.exec("CREATE TABLE s (k TEXT)")
    sql.exec("INSERT INTO s VALUES ('x'), (?), (?)", "\ud800", "y")
    assert [r.k for r in sql.exec("SELECT k FROM s")] == ["x", "\ufffd\ufffd\ufffd", "y"]
    assert sql.exec("SELECT count(*) AS n FROM s WHERE k = ?", "\ud800").one().n == 1


# --------------------------------------------------------------------------- values


def test_value_types(sql):
    sql.exec("CREATE TABLE vals (i INTEGER, r REAL, s TEXT, b BLOB, n)")
    sql.exec("INSERT INTO vals VALUES (?, ?, ?, ?, ?)", 42, 1.5, "hi", b"\x01\x02\x03", None)
    row = sql.exec("SELECT * FROM vals").one()
    assert row == {"i": 42, "r": 1.5, "s": "hi", "b": b"\x01\x02\x03", "n": None}
    assert type(row.i) is int and type(row.r) is float and type(row.b) is memoryview  # a BLOB is an ArrayBuffer: Pyodide gives a memoryview
    assert sql.exec("SELECT x'ff' AS blob").one().blob == b"\xff"


def test_integers_beyond_2_53_come_back_as_the_nearest_float(sql):
    sql.exec("CREATE TABLE big (v INTEGER)")
    sql.exec("INSERT INTO big VALUES (9007199254741002), (9007199254740991), (-9007199254740997)")
    values = [r.v for r in sql.exec("SELECT v FROM big ORDER BY rowid")]
    assert values == [9007199254741002.0, 2**53 - 1, float(-(2**53) - 5)]
    assert [type(v) for v in values] == [float, int, float]
    assert [r.b for r in sql.exec("SELECT CAST(v AS TEXT) AS b FROM big ORDER BY rowid")][0] == "9007199254741002"


def test_whole_reals_read_back_as_ints_like_pyodides_js_numbers(sql):
    assert sql.exec("SELECT 6.0 / 2 AS whole, 7.0 / 2 AS half").one() == {"whole": 3, "half": 3.5}
    assert type(sql.exec("SELECT 6.0 / 2 AS whole").one().whole) is int


def test_column_keys_are_names_aliases_or_expression_text(sql):
    assert sql.exec("SELECT 123").one() == {"123": 123}
    assert sql.exec("SELECT 'hello'").one() == {"'hello'": "hello"}
    assert sql.exec("SELECT ? + ?", 123, 456).one() == {"? + ?": 579}


# --------------------------------------------------------------------------- the cursor


def test_cursor_rows_are_jsdicts_with_attribute_access(sql):
    row = sql.exec("SELECT 1 AS id, 'a' AS name").one()
    assert isinstance(row, JsDict)
    assert row.id == 1 and row["name"] == "a"


def test_cursor_js_next_protocol(sql):
    make_table(sql, n=2)
    cursor = sql.exec("SELECT id FROM t ORDER BY id")
    first = cursor.next()
    assert first == {"done": False, "value": {"id": 1}}
    assert first.done is False and first.value.id == 1
    assert cursor.next() == {"done": False, "value": {"id": 2}}
    end = cursor.next()  # workerd's end result has a `value` property, undefined (None)
    assert end == {"done": True, "value": None}
    assert cursor.next() == {"done": True, "value": None}


def test_cursor_is_a_python_iterable_and_iterator(sql):
    make_table(sql, n=3)
    cursor = sql.exec("SELECT id FROM t ORDER BY id")
    assert iter(cursor) is cursor
    assert next(cursor) == {"id": 1}
    assert [r.id for r in cursor] == [2, 3]
    with pytest.raises(StopIteration):
        next(cursor)
    assert list(cursor) == []


def test_to_array_returns_the_remaining_rows(sql):
    make_table(sql, n=3)
    cursor = sql.exec("SELECT id FROM t ORDER BY id")
    next(cursor)
    assert cursor.toArray() == [{"id": 2}, {"id": 3}]
    assert cursor.toArray() == []


def test_one_errors(sql):
    make_table(sql, n=2)
    assert raises(sql.exec("SELECT v FROM t WHERE id = ?", 99).one) == (
        "Expected exactly one result from SQL query, but got no results."
    )
    cursor = sql.exec("SELECT v FROM t")
    assert raises(cursor.one) == "Expected exactly one result from SQL query, but got multiple results."
    assert cursor.toArray() == []  # the cursor is used up


def test_one_consumes_the_cursor(sql):
    cursor = sql.exec("SELECT 123 AS foo")
    assert cursor.one() == {"foo": 123}
    assert list(cursor) == []


def test_raw_rows_are_lists(sql):
    make_table(sql, n=2)
    assert list(sql.exec("SELECT id, v FROM t ORDER BY id").raw()) == [[1, "v1"], [2, "v2"]]
    raw = sql.exec("SELECT id FROM t ORDER BY id").raw()
    assert iter(raw) is raw
    assert raw.next() == {"done": False, "value": [1]}
    assert next(raw) == [2]
    assert raw.next() == {"done": True, "value": None}


def test_raw_and_to_array_consume_rows_in_turn(sql):
    make_table(sql, n=4)
    cursor = sql.exec("SELECT id FROM t ORDER BY id")
    assert cursor.raw().next().value == [1]
    assert next(cursor) == {"id": 2}
    assert cursor.next().value == {"id": 3}
    assert cursor.toArray() == [{"id": 4}]
    assert list(cursor.raw()) == []


def test_duplicate_columns_last_wins_raw_keeps_all(sql):
    cursor = sql.exec("SELECT 1 AS a, 2 AS a")
    assert cursor.toArray() == [{"a": 2}]
    assert cursor.columnNames == ["a", "a"]
    assert list(sql.exec("SELECT 1 AS a, 2 AS a").raw()) == [[1, 2]]


def test_join_with_overlapping_names(sql):
    sql.exec("CREATE TABLE abc (a INT, b INT, c INT); CREATE TABLE cde (c INT, d INT, e INT)")
    sql.exec("INSERT INTO abc VALUES (1,2,3),(4,5,6); INSERT INTO cde VALUES (7,8,9),(1,2,3)")
    rows = sql.exec("SELECT * FROM abc, cde").toArray()
    assert len(rows[0]) == 5 and rows[0].c == 7 and rows[1].c == 1
    cursor = sql.exec("SELECT * FROM abc, cde")
    assert cursor.columnNames == ["a", "b", "c", "c", "d", "e"]
    assert list(cursor.raw())[0] == [1, 2, 3, 7, 8, 9]
    assert cursor.columnNames == ["a", "b", "c", "c", "d", "e"]  # still readable when consumed


def test_column_names_of_a_statement_without_results_is_empty(sql):
    make_table(sql)
    assert sql.exec("UPDATE t SET v = 'x' WHERE id = 123542").columnNames == []


def test_same_query_twice_overlapping_cursors_are_independent(sql):
    # workerd compiles a one-off copy when the cached statement is busy
    # (sql-test.js: "Running the same query twice, overlapping, works just fine").
    make_table(sql, n=3)
    q = "SELECT id FROM t ORDER BY id"
    first = sql.exec(q)
    second = sql.exec(q)
    assert next(first).id == 1
    assert [r.id for r in second] == [1, 2, 3]
    assert [r.id for r in first] == [2, 3]


# --------------------------------------------------------------------------- rowsRead / rowsWritten


def test_rows_counts_create_table_insert_select_update(sql):
    c = sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
    assert (c.rowsRead, c.rowsWritten) == (1, 2)  # oracle
    c = sql.exec("INSERT INTO t (name, score) VALUES (?, ?), (?, ?)", "alice", 1.5, "bob", None)
    assert (c.rowsRead, c.rowsWritten) == (0, 2)  # oracle
    c = sql.exec("SELECT * FROM t ORDER BY id")
    c.toArray()
    assert (c.rowsRead, c.rowsWritten) == (2, 0)  # oracle
    sql.exec("INSERT INTO t (name) VALUES ('c')")
    c = sql.exec("UPDATE t SET score = 9 WHERE name IS NOT NULL")
    assert (c.rowsRead, c.rowsWritten) == (3, 3)  # oracle


def test_rows_counts_of_statements_without_table_reads_are_zero(sql):
    for query, bindings in [("SELECT ? AS v", (True,)), ("SELECT 1 AS a, 2 AS a", ()), ("PRAGMA table_list", ())]:
        c = sql.exec(query, *bindings)
        c.toArray()
        assert (c.rowsRead, c.rowsWritten) == (0, 0), query  # oracle


def test_rows_counts_of_fts5_create_and_noop_ddl(sql):
    c = sql.exec("CREATE VIRTUAL TABLE ft USING fts5(body)")
    assert (c.rowsRead, c.rowsWritten) == (1, 2)  # oracle
    c = sql.exec("DROP TABLE IF EXISTS nope")
    assert (c.rowsRead, c.rowsWritten) == (0, 0)  # oracle
    c = sql.exec("CREATE TABLE IF NOT EXISTS ft2 (x)")
    assert (c.rowsRead, c.rowsWritten) == (1, 2)
    c = sql.exec("CREATE TABLE IF NOT EXISTS ft2 (x)")
    assert (c.rowsRead, c.rowsWritten) == (0, 0)


def test_rows_counts_cover_only_the_last_statement(sql):
    make_table(sql, n=2)
    c = sql.exec("INSERT INTO t (v) VALUES ('c'); SELECT v FROM t")
    c.toArray()
    assert (c.rowsRead, c.rowsWritten) == (3, 0)


def test_rows_read_grows_one_row_ahead_as_the_cursor_is_iterated(sql):
    make_table(sql, n=10)
    cursor = sql.exec("SELECT * FROM t")
    assert cursor.rowsRead == 1
    seen = 0
    for _ in cursor:
        seen += 1
        assert cursor.rowsRead == min(seen + 1, 10)
    assert cursor.rowsRead == 10


def test_rows_counts_of_interleaved_cursors_and_in_lists(sql):
    sql.exec("CREATE TABLE abc (a INT, b INT, c INT); CREATE TABLE cde (c INT, d INT, e INT)")
    sql.exec("INSERT INTO abc VALUES (1,2,3),(4,5,6); INSERT INTO cde VALUES (7,8,9),(1,2,3)")
    rows = sql.exec("SELECT * FROM abc")
    col_counts = []
    for _ in rows:
        cols = sql.exec("SELECT * FROM cde")
        cols.toArray()
        col_counts.append(cols.rowsRead)
    assert rows.rowsRead == 2 and col_counts == [2, 2]
    c = sql.exec("SELECT * FROM abc WHERE a IN (1,2,3,4,5,6)")
    c.toArray()
    assert (c.rowsRead, c.rowsWritten) == (2, 0)


def test_counters_receive_every_statements_rows(conn):
    class Counters:
        def __init__(self):
            self.read = self.written = 0

        def rows_read(self, n):
            self.read += n

        def rows_written(self, n):
            self.written += n

    counters = Counters()
    sql = SqlStorage(conn, counters=counters)
    sql.exec("CREATE TABLE t (v)")
    assert (counters.read, counters.written) == (1, 2)
    sql.exec("INSERT INTO t VALUES (1), (2); INSERT INTO t VALUES (3)")
    assert (counters.read, counters.written) == (1, 5)
    sql.exec("SELECT * FROM t").toArray()
    assert (counters.read, counters.written) == (4, 5)
    sql.exec("DELETE FROM t WHERE v > 1")
    # a scan of the 3 rows deleting 2; without the counting SQLite, 1 read per row deleted
    assert (counters.read, counters.written) == (7 if driver.ROW_COUNTS else 6, 7)


# --------------------------------------------------------------------------- before_statement


def test_before_statement_is_called_once_per_exec(conn):
    calls = []
    sql = SqlStorage(conn, before_statement=lambda: calls.append(conn.total_changes))
    sql.exec("CREATE TABLE t (v)")
    assert len(calls) == 1
    changes = conn.total_changes
    sql.exec("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); SELECT * FROM t").toArray()
    assert calls == [changes, changes]  # called once, before the INSERTs ran
    sql.exec("SELECT * FROM t").toArray()
    assert len(calls) == 3


def test_before_statement_is_not_called_when_nothing_runs(conn):
    calls = []
    sql = SqlStorage(conn, before_statement=lambda: calls.append(1))
    raises(sql.exec, "-- nothing")
    raises(sql.exec, "SELECT ?", 2**70, exc=TypeError)
    assert calls == []


# --------------------------------------------------------------------------- databaseSize


def test_database_size_counts_4096_byte_pages(sql):
    size = sql.databaseSize
    assert size > 0 and size % 4096 == 0
    sql.exec("CREATE TABLE should_make_one_more_page (v TEXT)")
    assert sql.databaseSize == size + 4096
    sql.exec("DROP TABLE should_make_one_more_page")
    assert sql.databaseSize == size


# --------------------------------------------------------------------------- reset_database


def test_reset_database_drops_user_objects_and_keeps_internal_ones(sql, conn):
    size = sql.databaseSize
    sql.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    sql.exec("CREATE TABLE child (p INTEGER REFERENCES parent(id))")
    sql.exec("INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1)")
    sql.exec("CREATE INDEX child_p ON child (p)")
    sql.exec("CREATE VIEW v AS SELECT * FROM child")
    sql.exec("CREATE TRIGGER tr AFTER INSERT ON parent BEGIN SELECT 1; END")
    sql.exec("CREATE VIRTUAL TABLE ft USING fts5(body)")
    sql.exec("CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id))")
    sql.exec("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id))")
    sql.exec("INSERT INTO a VALUES (1, NULL); INSERT INTO b VALUES (1, 1); UPDATE a SET b_id = 1")
    live = sql.exec("SELECT * FROM parent")  # unfinished: reset closes it
    sql.reset_database()
    with trusted(conn):
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
        assert conn.execute("SELECT key FROM _cf_kv").fetchall() == [("kvkey",)]
    assert names == ["_cf_kv"]
    assert list(live) == []
    assert sql.databaseSize == size
    assert sql.exec("PRAGMA defer_foreign_keys").one().defer_foreign_keys == 0
    sql.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)")  # usable again


def test_reset_database_on_an_empty_database(sql):
    sql.reset_database()
    assert err(sql, "SELECT * FROM t") == "no such table: t: SQLITE_ERROR"


# --------------------------------------------------------------------------- _cf_ names


@pytest.mark.parametrize(
    "query",
    [
        "CREATE TABLE _cf_mine (x)",
        "CREATE TABLE _CF_Mine (x)",
        "CREATE INDEX i ON _cf_kv (value)",
        "CREATE TABLE t2 (x); CREATE INDEX _cf_i ON t2 (x)",
        "DROP TABLE _cf_kv",
        "INSERT INTO _cf_kv VALUES ('a', 'b')",
        "UPDATE _cf_kv SET value = 1",
        "DELETE FROM _cf_kv",
        "ALTER TABLE _cf_kv RENAME TO stolen",
        "CREATE TRIGGER tr AFTER INSERT ON _cf_kv BEGIN SELECT 1; END",
        "CREATE VIEW _cf_view AS SELECT 1",
        "SELECT count(*) FROM _cf_kv",
        "PRAGMA table_info(_cf_kv)",
        "PRAGMA index_list(_cf_kv)",
        "PRAGMA quick_check(_cf_kv)",
    ],
)
def test_reserved_cf_names_are_not_authorized(sql, query):
    assert err(sql, query) == NOT_AUTHORIZED


@pytest.mark.parametrize(
    "query",
    ["SELECT * FROM _cf_kv", "SELECT * FROM _CF_KV", "SELECT key FROM _cf_kv WHERE key = 'kvkey'"],
)
def test_reading_cf_tables_is_prohibited(sql, query):
    assert err(sql, query) == KV_PROHIBITED


def test_a_view_over_cf_tables_cannot_be_read(sql):
    try:
        sql.exec("CREATE VIEW peek AS SELECT * FROM _cf_kv")
    except JsError as exc:
        assert exc.message == NOT_AUTHORIZED
    else:
        assert err(sql, "SELECT * FROM peek") == KV_PROHIBITED


def test_the_schema_table_is_readable(sql):
    names = [r.name for r in sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert "_cf_kv" in names  # its existence is no secret, like workerd's _cf_KV


def test_trusted_statement_text_gets_no_privilege_from_the_statement_cache(sql, conn):
    text = "SELECT value FROM _cf_kv WHERE key = ?"
    with trusted(conn):
        assert conn.execute(text, ("kvkey",)).fetchall() == [(b"\x00",)]
    assert err(sql, text, "kvkey") == "access to _cf_KV.value is prohibited: SQLITE_AUTH"


# --------------------------------------------------------------------------- trusted()


def test_trusted_allows_everything_and_nests(sql, conn):
    with trusted(conn):
        with trusted(conn):
            conn.execute("CREATE TABLE _cf_alarms (t INTEGER)")
        conn.execute("INSERT INTO _cf_alarms VALUES (1)")
        conn.execute("PRAGMA user_version = 3")
        assert conn.execute("SELECT sqlite_version()").fetchone()[0]
    assert err(sql, "SELECT * FROM _cf_alarms") == "access to _cf_alarms.t is prohibited: SQLITE_AUTH"


def test_trusted_statements_may_control_the_transaction_around_user_sql(sql, conn):
    # What the emulator does: its implicit transaction and transactionSync() savepoints.
    make_table(sql)
    with trusted(conn):
        conn.execute("BEGIN")
        conn.execute("SAVEPOINT _cf_sp")
    sql.exec("INSERT INTO t (v) VALUES ('rolled back')")
    with trusted(conn):
        conn.execute("ROLLBACK TO _cf_sp")
        conn.execute("RELEASE _cf_sp")
    sql.exec("INSERT INTO t (v) VALUES ('kept')")
    with trusted(conn):
        conn.execute("COMMIT")
    assert [r.v for r in sql.exec("SELECT v FROM t")] == ["kept"]
    assert err(sql, "COMMIT") == TXN  # and user SQL still may not


def test_trusted_lifts_the_user_limits(sql, conn):
    many = "SELECT ? IN (" + ",".join("?" * 149) + ")"  # like the KV engine's key IN (...)
    with trusted(conn):
        assert conn.execute(many, (5, *range(149))).fetchone() == (1,)
        conn.execute("INSERT INTO _cf_kv VALUES ('big', ?)", (b"x" * 2_500_000,))
    # SQLite names the 101st parameter: "SELECT ? IN (" is 13 bytes, then "?," per parameter.
    offset = " at offset 211" if APSW else ""  # SQLite's own offset (apsw has sqlite3_error_offset)
    assert err(sql, many, 5, *range(149)) == f"too many SQL variables{offset}: SQLITE_ERROR"


def test_user_sql_inside_a_trusted_block_is_still_user_sql(sql, conn):
    # E.g. user code run by the emulator while it holds a trusted block.
    with trusted(conn):
        assert err(sql, "SELECT * FROM _cf_kv") == KV_PROHIBITED
        assert err(sql, "SELECT " + ",".join("?" * 101), *range(101)) == (
            f"too many SQL variables{' at offset 207' if APSW else ''}: SQLITE_ERROR"
        )
        assert err(sql, "BEGIN") == TXN
        assert conn.execute("SELECT key FROM _cf_kv").fetchall() == [("kvkey",)]  # still trusted
    assert err(sql, "SELECT * FROM _cf_kv") == KV_PROHIBITED


def test_trusted_by_default_connection_restricts_only_sql_storage():
    c = driver.connect(":memory:")
    secure(c, trusted_by_default=True)
    # The emulator's own statements need no trusted() block.
    c.execute("CREATE TABLE _cf_kv (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
    c.execute("BEGIN")
    c.execute("SAVEPOINT _cf_sp")
    c.execute("INSERT INTO _cf_kv VALUES ('big', ?)", (b"x" * 2_500_000,))
    c.execute("RELEASE _cf_sp")
    assert c.execute("SELECT ? IN (" + ",".join("?" * 149) + ")", (5, *range(149))).fetchone() == (1,)
    sql = SqlStorage(c)
    assert err(sql, "SELECT * FROM _cf_kv") == KV_PROHIBITED
    assert err(sql, "COMMIT") == TXN
    assert err(sql, "SELECT ? AS v", b"x" * 2_000_001) == "string or blob too big: SQLITE_TOOBIG"
    # A cursor's later reads run as user SQL too: the third row's pattern is too long. Like
    # workerd, the cursor steps one row past the one it returns: the second next() meets it.
    sql.exec("CREATE TABLE pats (p TEXT)")
    sql.exec("INSERT INTO pats VALUES ('a'), ('b'), (?)", "%" * 51)
    cursor = sql.exec("SELECT 'a' LIKE p AS m FROM pats")
    if APSW:  # the standard sqlite3 fetches one row further ahead: it meets the row one call earlier
        assert next(cursor) == {"m": 1}
    assert raises(next, cursor) == "LIKE or GLOB pattern too complex: SQLITE_ERROR"
    with trusted(c):  # nests on top of the default
        c.execute("SELECT * FROM _cf_kv")
    c.execute("SELECT * FROM _cf_kv")
    c.execute("COMMIT")
    c.close()


def test_secure_inside_a_trusted_block_is_refused(conn):
    with trusted(conn):
        with pytest.raises(DojoError):
            secure(conn)


def test_trusted_needs_a_secured_connection():
    raw = driver.connect(":memory:")
    with pytest.raises(DojoError):
        trusted(raw)


def test_release_removes_the_guard_rails(conn):
    release(conn)
    assert conn.execute("SELECT key FROM _cf_kv").fetchall() == [("kvkey",)]
    assert conn.getlimit(driver.C.SQLITE_LIMIT_VARIABLE_NUMBER) > 100


def test_sql_storage_secures_an_unsecured_connection():
    raw = driver.connect(":memory:")
    sql = SqlStorage(raw)
    assert err(sql, "PRAGMA journal_mode") == NOT_AUTHORIZED


# --------------------------------------------------------------------------- pragmas


@pytest.mark.parametrize(
    "query",
    [
        "PRAGMA table_list",
        "PRAGMA page_size",  # read only (SQLite's R*Tree module reads it)
        "PRAGMA table_info(t)",
        "PRAGMA table_xinfo(t)",
        "PRAGMA foreign_keys",
        "PRAGMA foreign_keys = ON",
        "pragma data_version",
        "PRAGMA quick_check",
        "PRAGMA quick_check(1)",
        "PRAGMA quick_check(t)",
        "PRAGMA index_list(t)",
        "PRAGMA foreign_key_list(t)",
        "PRAGMA foreign_key_check",
        "PRAGMA defer_foreign_keys = true",
        "PRAGMA defer_foreign_keys = 'yes'",
        'PRAGMA defer_foreign_keys = "0"',
        "PRAGMA defer_foreign_keys = tRuE",
        "PRAGMA case_sensitive_like = TRUE",
        "PRAGMA ignore_check_constraints = OFF",
        "PRAGMA optimize",
        "PRAGMA optimize(-1)",
        "PRAGMA optimize = 0x10002",
        "SELECT * FROM pragma_table_list",
    ],
)
def test_allowed_pragmas(sql, query):
    make_table(sql)
    sql.exec(query).toArray()


@pytest.mark.parametrize(
    "query",
    [
        "PRAGMA journal_mode",
        "PRAGMA user_version",
        "PRAGMA user_version = 1",
        "PRAGMA page_size = 8192",
        "PRAGMA max_page_count = 65536",
        "PRAGMA hard_heap_limit = 1024",
        "PRAGMA data_version = 5",
        "PRAGMA integrity_check",
        "PRAGMA writable_schema = 1",
        "PRAGMA defer_foreign_keys = abcd",
        'PRAGMA defer_foreign_keys = "foo"',
        "PRAGMA optimize(abc)",
        "PRAGMA index_list",
    ],
)
def test_refused_pragmas(sql, query):
    assert err(sql, query) == NOT_AUTHORIZED


# --------------------------------------------------------------------------- functions, vtables, attach


def test_sqlite_introspection_functions_are_refused(sql):
    assert err(sql, "SELECT sqlite_version() AS v") == (
        "not authorized to use function: sqlite_version at offset 7: SQLITE_ERROR"
    )
    assert err(sql, "SELECT 1, sqlite_source_id()") == (
        "not authorized to use function: sqlite_source_id at offset 10: SQLITE_ERROR"
    )
    # load_extension is on workerd's list; SQLite itself refuses it (loading is off).
    assert err(sql, "SELECT load_extension('x')") == "not authorized: SQLITE_ERROR"


@needs_workerds_sqlite
def test_functions_workerds_sqlite_lacks_are_missing_not_refused(sql):
    # apsw's SQLite has the percentile extension; workerd's build does not (oracle).
    assert err(sql, "SELECT median(1)") == "no such function: median at offset 7: SQLITE_ERROR"
    assert err(sql, "SELECT 1, percentile(1, 50)") == (
        "no such function: percentile at offset 10: SQLITE_ERROR"
    )


def test_pragma_names_are_allowed_in_any_letter_case(sql):
    assert sql.exec("PRAGMA FOREIGN_KEYS").one() == {"foreign_keys": 1}
    assert err(sql, "PRAGMA JOURNAL_MODE") == "not authorized: SQLITE_AUTH"


def test_ordinary_functions_work(sql):
    row = sql.exec(
        "SELECT abs(-123) AS a, json_extract('{\"a\":[1,2]}', '$.a[1]') AS j, "
        "'{\"c\":[4,5]}' -> '$.c' AS arrow, upper('x') AS u, cos(0) AS c"
    ).one()
    assert row == {"a": 123, "j": 2, "arrow": "[4,5]", "u": "X", "c": 1.0}


def test_alter_table_works(sql):
    sql.exec("CREATE TABLE before_rename (id INTEGER, meta TEXT)")
    sql.exec("ALTER TABLE before_rename RENAME TO after_rename")
    sql.exec("ALTER TABLE after_rename ADD COLUMN extra TEXT")
    sql.exec("ALTER TABLE after_rename RENAME COLUMN meta TO metadata")
    sql.exec("ALTER TABLE after_rename DROP COLUMN extra")
    assert sql.exec("SELECT * FROM after_rename").columnNames == ["id", "metadata"]


def test_fts5_virtual_tables_are_allowed(sql):
    sql.exec("CREATE VIRTUAL TABLE docs USING FtS5(title, body)")
    sql.exec("CREATE VIRTUAL TABLE docs_vocab USING fTs5VoCaB(docs, row)")
    sql.exec("INSERT INTO docs VALUES ('one', 'hello world'), ('two', 'goodbye')")
    rows = sql.exec("SELECT title, highlight(docs, 1, '<b>', '</b>') AS h FROM docs WHERE docs MATCH 'hello'").toArray()
    assert rows == [{"title": "one", "h": "<b>hello</b> world"}]
    assert sql.exec("SELECT count(*) AS n FROM docs_vocab").one().n == 5  # one, hello, world, ...


def test_other_virtual_tables_are_refused(sql):
    assert err(sql, "CREATE VIRTUAL TABLE test_fts USING fts5abcd(id)") == NOT_AUTHORIZED


@pytest.mark.parametrize(
    "query",
    [
        "ATTACH DATABASE 'x.db' AS x",
        "ATTACH ':memory:' AS x",
        "DETACH DATABASE x",
        "CREATE TEMP TABLE tempy AS SELECT 1 AS a",
        "CREATE TEMP VIEW tv AS SELECT 1",
    ],
)
def test_attach_detach_and_temp_objects_are_refused(sql, query):
    assert err(sql, query) == NOT_AUTHORIZED


# --------------------------------------------------------------------------- limits


def test_bound_parameter_limit_is_100(sql):
    assert sql.exec("SELECT " + ",".join("?" * 100), *range(100)).raw().next().value[99] == 99
    # The offset is SQLite's own (sqlite3_error_offset): the 101st "?", after "SELECT " and 100 "?,".
    assert err(sql, "SELECT " + ",".join("?" * 101), *range(101)) == (
        f"too many SQL variables{' at offset 207' if APSW else ''}: SQLITE_ERROR"
    )


def test_compound_select_limit_is_5_terms(sql):
    five = " UNION ALL ".join(f"SELECT {i}" for i in range(5))
    assert len(sql.exec(five).toArray()) == 5
    assert err(sql, five + " UNION ALL SELECT 6") == "too many terms in compound SELECT: SQLITE_ERROR"


def test_column_limit_is_100(sql):
    sql.exec("CREATE TABLE w100 (" + ",".join(f"c{i}" for i in range(100)) + ")")
    assert err(sql, "CREATE TABLE w101 (" + ",".join(f"c{i}" for i in range(101)) + ")") == (
        "too many columns on w101: SQLITE_ERROR"
    )


def test_function_argument_limit_is_32(sql):
    assert sql.exec("SELECT max(" + ",".join("1" * 32) + ") AS m").one().m == 1
    assert err(sql, "SELECT max(" + ",".join("1" * 33) + ")") == (
        "too many arguments on function max at offset 7: SQLITE_ERROR"
    )


def test_like_pattern_limit_is_50_bytes(sql):
    assert sql.exec("SELECT 'a' LIKE ? AS m", "%" * 50).one().m == 1
    assert err(sql, "SELECT 'a' LIKE ?", "%" * 51) == "LIKE or GLOB pattern too complex: SQLITE_ERROR"


def test_value_and_row_limit_is_2_mb(sql):
    assert len(sql.exec("SELECT ? AS v", "x" * 2_000_000).one().v) == 2_000_000
    assert err(sql, "SELECT ? AS v", "x" * 2_000_001) == "string or blob too big: SQLITE_TOOBIG"
    assert err(sql, "SELECT ? AS v", b"x" * 2_000_001) == "string or blob too big: SQLITE_TOOBIG"
    sql.exec("CREATE TABLE blobs (a BLOB, b BLOB)")
    assert err(sql, "INSERT INTO blobs VALUES (?, ?)", b"x" * 1_000_000, b"y" * 1_000_000) == (
        "string or blob too big: SQLITE_TOOBIG"
    )


def test_statement_length_limit_is_100_000_bytes(sql):
    query = "SELECT 1 AS a"
    assert sql.exec(query + " " * (MAX_STATEMENT_BYTES - len(query))).one().a == 1
    assert err(sql, query + " " * (MAX_STATEMENT_BYTES - len(query) + 1)) == (
        "statement too long: SQLITE_TOOBIG"
    )


# --------------------------------------------------------------------------- rows read and written
# workerd counts inside SQLite (its patch 0001-row-counts-plain): every row and index entry
# inserted is written, every executed rewind, seek and successful step is read. The values
# below are the oracle's (conformance scenarios sqlp_counts_*, sqlp_cursor_protocol).


def counts(sql, query, *bindings):
    cursor = sql.exec(query, *bindings)
    cursor.toArray()
    return [cursor.rowsRead, cursor.rowsWritten]


@pytest.fixture
def indexed(sql):
    sql.exec("CREATE TABLE ci (id INTEGER PRIMARY KEY, a TEXT, b TEXT UNIQUE, c INTEGER)")
    sql.exec("CREATE INDEX ci_a ON ci (a)")
    sql.exec("CREATE INDEX ci_ac ON ci (a, c)")
    return sql


@needs_workerds_sqlite
def test_an_insert_writes_the_row_and_one_entry_per_index(indexed):
    assert counts(indexed, "INSERT INTO ci (a, b, c) VALUES ('x', 'b1', 1)") == [0, 4]
    assert counts(indexed, "INSERT INTO ci (a, b, c) VALUES ('y', 'b2', 2), ('z', 'b3', 3), ('x', 'b4', 4)") == [0, 12]


@needs_workerds_sqlite
def test_an_update_writes_the_row_and_the_entries_of_indexes_over_changed_columns(indexed):
    indexed.exec("INSERT INTO ci (a, b, c) VALUES ('x', 'p', 1), ('y', 'q', 2), ('z', 'r', 3)")
    assert counts(indexed, "UPDATE ci SET c = 9 WHERE id = 2") == [1, 2]  # ci_ac covers c
    assert counts(indexed, "UPDATE ci SET b = 'n' WHERE id = 2") == [1, 2]  # the UNIQUE index on b
    assert counts(indexed, "UPDATE ci SET a = 'w' WHERE id = 2") == [1, 3]  # ci_a and ci_ac
    assert counts(indexed, "UPDATE ci SET a = a || '!'") == [3, 9]


@needs_workerds_sqlite
def test_a_delete_writes_one_per_row_and_without_where_reads_nothing(indexed):
    indexed.exec("INSERT INTO ci (a, b) VALUES ('x', '1'), ('y', '2'), ('z', '3'), ('w', '4')")
    assert counts(indexed, "DELETE FROM ci WHERE id = 1") == [1, 1]
    assert counts(indexed, "DELETE FROM ci") == [0, 3]


@needs_workerds_sqlite
def test_a_without_rowid_tables_key_is_the_table_not_an_index(sql):
    sql.exec("CREATE TABLE w (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID")
    sql.exec("CREATE INDEX w_v ON w (v)")
    assert counts(sql, "INSERT INTO w VALUES ('a', 1)") == [0, 2]


@pytest.fixture
def five(sql):
    sql.exec("CREATE TABLE cr (id INTEGER PRIMARY KEY, a TEXT, n INTEGER)")
    sql.exec("CREATE TABLE ce (v)")
    sql.exec("INSERT INTO cr (a, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('x', 4), ('w', 5)")
    return sql


@needs_workerds_sqlite
def test_a_full_scan_reads_every_row_it_steps_over_not_only_those_it_returns(five):
    assert counts(five, "SELECT id FROM cr WHERE n = 3") == [5, 0]
    assert counts(five, "SELECT max(n) AS m FROM cr") == [5, 0]
    assert counts(five, "SELECT * FROM cr") == [5, 0]


@needs_workerds_sqlite
def test_a_scan_of_an_empty_table_reads_one_its_rewind(five):
    assert counts(five, "SELECT * FROM ce") == [1, 0]


@needs_workerds_sqlite
def test_count_star_reads_every_entry_of_the_table(five):
    assert counts(five, "SELECT count(*) AS c FROM cr") == [5, 0]
    assert counts(five, "SELECT count(*) AS c FROM ce") == [0, 0]


@needs_workerds_sqlite
def test_a_sorted_scan_reads_the_rows_then_the_sorter(five):
    assert counts(five, "SELECT n FROM cr ORDER BY n DESC") == [10, 0]
    assert counts(five, "SELECT n FROM cr WHERE n > 1 ORDER BY n DESC") == [9, 0]


def test_a_plain_scan_counts_one_row_ahead_of_what_it_returned(five):
    cursor = five.exec("SELECT n FROM cr")
    assert cursor.rowsRead == 1
    next(cursor)
    assert cursor.rowsRead == 2
    cursor.toArray()
    assert cursor.rowsRead == 5


@needs_workerds_sqlite
def test_a_lookup_by_rowid_reads_one_found_or_not(five):
    assert counts(five, "SELECT n FROM cr WHERE id = 4") == [1, 0]
    assert counts(five, "SELECT n FROM cr WHERE id = 99") == [1, 0]
    assert counts(five, "UPDATE cr SET n = 0 WHERE id = 99") == [1, 0]
    assert counts(five, "DELETE FROM cr WHERE id = 5") == [1, 1]


@needs_workerds_sqlite
def test_an_insert_with_an_explicit_rowid_reads_one_per_row_for_its_free_check(five):
    assert counts(five, "INSERT INTO cr (a, n) VALUES ('q', 0)") == [0, 1]
    assert counts(five, "INSERT INTO cr (id, a, n) VALUES (100, 'q', 0), (101, 'r', 1)") == [2, 2]
