"""`rowsRead` / `rowsWritten` equal to workerd's, from the counting SQLite (`tools/counting_sqlite.py`).

workerd counts inside SQLite's bytecode engine: a row is read at every executed rewind, seek
and successful step of any cursor (sorters and temporary tables included) and `count(*)` reads
every entry; a row is written for every table row and index entry inserted, every row deleted
(temporary tables excluded). Every number below is workerd 1.20261117.1's for the same
statements in the same order (the conformance scenarios `sqlc_*` and `sqlp_rows_read_seeks`
run them on both sides). The full-scan, count and rowid-lookup shapes are in tests/test_sql.py.
"""

from __future__ import annotations

import shutil

import pytest

from durable_dojo._core import sqlite_driver as driver
from durable_dojo._core.sql import SqlStorage, secure, trusted

needs_row_counts = pytest.mark.skipif(
    not driver.ROW_COUNTS, reason="needs the counting SQLite (make env-test builds it with a C compiler)"
)


@pytest.mark.skipif(driver.apsw is None or shutil.which("cc") is None, reason="no apsw or no C compiler here")
def test_the_counting_sqlite_is_installed_wherever_it_can_be_built():
    # make env-test builds it when a C compiler is there; without it every count below is
    # approximate, so a machine that could build it must run on it.
    assert driver.ROW_COUNTS, driver.DESCRIPTION
    assert "row counters" in driver.DESCRIPTION


@pytest.fixture
def sql():
    conn = driver.connect(":memory:")
    secure(conn)
    yield SqlStorage(conn)
    conn.close()


def counts(sql, query, *bindings):
    cursor = sql.exec(query, *bindings)
    cursor.toArray()
    return [cursor.rowsRead, cursor.rowsWritten]


@pytest.fixture
def ir(sql):
    sql.exec("CREATE TABLE ir (id INTEGER PRIMARY KEY, a TEXT, n INTEGER, t TEXT)")
    sql.exec("CREATE INDEX ir_a ON ir (a)")
    sql.exec("CREATE INDEX ir_n ON ir (n)")
    sql.exec(
        "INSERT INTO ir (a, n, t) VALUES ('x', 1, 'p'), ('y', 2, 'q'), ('z', 3, 'r'), ('x', 4, 's'), "
        "('w', 5, 't'), ('v', 6, 'u'), ('x', 7, 'v'), ('u', 8, 'w')"
    )
    return sql


@needs_row_counts
def test_an_index_range_scan_reads_its_seek_and_each_step_after_it(ir):
    assert counts(ir, "SELECT a FROM ir WHERE n BETWEEN 3 AND 4") == [3, 0]  # seek, 1 step, the entry past 4
    assert counts(ir, "SELECT a FROM ir WHERE n > 5") == [3, 0]  # seek, 2 steps (the end stops it)
    assert counts(ir, "SELECT a FROM ir WHERE n < 3") == [3, 0]
    assert counts(ir, "SELECT a FROM ir WHERE n BETWEEN 100 AND 200") == [1, 0]  # the seek alone
    assert counts(ir, "SELECT a FROM ir WHERE id > 5") == [3, 0]  # a rowid range: the same rule


@needs_row_counts
def test_an_equality_seek_that_finds_no_key_reads_nothing(ir):
    assert counts(ir, "SELECT n FROM ir WHERE a = 'nope'") == [0, 0]
    assert counts(ir, "SELECT n FROM ir WHERE a = 'xa'") == [0, 0]  # between two keys
    assert counts(ir, "SELECT n FROM ir WHERE a = 'x'") == [4, 0]  # 3 matches: seek, 2 steps, the end
    assert counts(ir, "SELECT n FROM ir WHERE a IN ('w', 'z', 'nope')") == [6, 0]
    assert counts(ir, "SELECT a FROM ir WHERE id IN (2, 4, 99)") == [6, 0]


@needs_row_counts
def test_order_by_limit_reads_every_row_the_sorter_keeps_or_drops(ir):
    assert counts(ir, "SELECT t FROM ir ORDER BY t DESC LIMIT 3") == [16, 0]
    assert counts(ir, "SELECT t FROM ir ORDER BY t LIMIT 2 OFFSET 3") == [16, 0]
    assert counts(ir, "SELECT n FROM ir ORDER BY n DESC LIMIT 2") == [2, 0]  # through the index: no sorter
    assert counts(ir, "SELECT * FROM ir LIMIT 3") == [3, 0]


@needs_row_counts
def test_min_max_and_count_through_an_index(ir):
    assert counts(ir, "SELECT min(n) AS m FROM ir") == [1, 0]
    assert counts(ir, "SELECT max(n) AS m FROM ir") == [1, 0]
    assert counts(ir, "SELECT count(*) AS c FROM ir WHERE a = 'x'") == [4, 0]


@needs_row_counts
def test_grouping_and_distinct_read_their_input_and_their_temporary_rows(ir):
    assert counts(ir, "SELECT t, count(*) AS c FROM ir GROUP BY t") == [16, 0]  # sorter: 8 in, 8 out
    assert counts(ir, "SELECT a, count(*) AS c FROM ir GROUP BY a") == [8, 0]  # index order: no sorter
    assert counts(ir, "SELECT DISTINCT t FROM ir") == [8, 0]
    assert counts(ir, "SELECT a FROM ir ORDER BY a") == [8, 0]


@pytest.fixture
def joins(sql):
    sql.exec("CREATE TABLE jp (id INTEGER PRIMARY KEY, name TEXT)")
    sql.exec("CREATE TABLE jc (id INTEGER PRIMARY KEY, pid INTEGER, v INTEGER)")
    sql.exec("CREATE INDEX jc_pid ON jc (pid)")
    sql.exec("CREATE TABLE jn (k INTEGER, w TEXT)")
    sql.exec("INSERT INTO jp (name) VALUES ('a'), ('b'), ('c'), ('d')")
    sql.exec("INSERT INTO jc (pid, v) VALUES (1, 10), (1, 11), (2, 20), (4, 40), (4, 41), (4, 42)")
    sql.exec("INSERT INTO jn (k, w) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (9, 'nine')")
    return sql


@needs_row_counts
def test_a_join_reads_the_outer_scan_and_each_inner_seek_and_step(joins):
    assert counts(joins, "SELECT jp.name, jc.v FROM jp JOIN jc ON jc.pid = jp.id") == [12, 0]
    assert counts(joins, "SELECT jp.name, jc.v FROM jc JOIN jp ON jp.id = jc.pid") == [12, 0]
    assert counts(joins, "SELECT jp.name, jc.v FROM jp LEFT JOIN jc ON jc.pid = jp.id") == [12, 0]
    # no index on jn.k: SQLite builds a temporary one, whose entries are not rows written
    assert counts(joins, "SELECT jp.name, jn.w FROM jp JOIN jn ON jn.k = jp.id") == [8, 0]


@needs_row_counts
def test_subqueries_compounds_and_windows_count_their_own_cursors(joins):
    assert counts(joins, "SELECT name FROM jp WHERE id IN (SELECT pid FROM jc WHERE v > 15)") == [10, 0]
    assert counts(joins, "SELECT name FROM jp WHERE EXISTS (SELECT 1 FROM jc WHERE jc.pid = jp.id)") == [7, 0]
    assert counts(joins, "SELECT name, (SELECT count(*) FROM jc WHERE jc.pid = jp.id) AS c FROM jp") == [12, 0]
    assert counts(joins, "SELECT name AS x FROM jp UNION SELECT w FROM jn") == [16, 0]
    assert counts(joins, "SELECT name AS x FROM jp UNION ALL SELECT w FROM jn") == [8, 0]
    assert counts(joins, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5) SELECT i FROM c") == [6, 0]
    assert counts(joins, "SELECT v, sum(v) OVER (PARTITION BY pid ORDER BY v) AS s FROM jc") == [28, 0]


@needs_row_counts
def test_writes_through_indexes_limits_triggers_and_cascades(sql):
    # One sequence, as the scenario `sqlc_writes` runs it (each statement sees the previous ones).
    sql.exec("CREATE TABLE wp (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    sql.exec("CREATE TABLE wc (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES wp(id) ON DELETE CASCADE, a TEXT, n INTEGER)")
    sql.exec("CREATE INDEX wc_a ON wc (a)")
    sql.exec("CREATE INDEX wc_pid ON wc (pid)")
    sql.exec("CREATE TABLE wlog (msg TEXT)")
    sql.exec("CREATE TRIGGER wc_log AFTER UPDATE OF n ON wc BEGIN INSERT INTO wlog VALUES ('n ' || new.n); END")
    sql.exec("INSERT INTO wp (name) VALUES ('p1'), ('p2'), ('p3')")
    sql.exec("INSERT INTO wc (pid, a, n) VALUES (1, 'x', 1), (1, 'y', 2), (2, 'x', 3), (2, 'z', 4), (3, 'x', 5), (3, 'w', 6)")
    expected = [
        ("UPDATE wc SET a = 'q' WHERE a = 'z'", [3, 2]),
        ("UPDATE wc SET a = 'q' WHERE a = 'nope'", [1, 0]),
        ("UPDATE wc SET n = n + 10 WHERE a = 'x'", [10, 6]),  # 3 rows + the trigger's 3 inserts
        ("DELETE FROM wc WHERE a = 'y'", [2, 1]),
        ("DELETE FROM wc WHERE n > 14", [6, 1]),
        ("UPDATE wc SET a = 'l' WHERE n > 0 ORDER BY n LIMIT 2", [16, 4]),  # workerd has UPDATE ... LIMIT
        ("DELETE FROM wc WHERE a = 'l' LIMIT 1", [4, 1]),
        ("INSERT INTO wc (pid, a, n) SELECT pid, a || '2', n + 100 FROM wc WHERE pid = 2", [4, 3]),
        ("INSERT INTO wp (id, name) VALUES (1, 'p1') ON CONFLICT (name) DO UPDATE SET name = 'p1b'", [1, 2]),
        ("INSERT OR REPLACE INTO wp (id, name) VALUES (9, 'p3')", [7, 3]),
        ("INSERT INTO wc (pid, a, n) VALUES (2, 'f', 0)", [1, 3]),  # the foreign key's parent lookup
        ("DELETE FROM wp WHERE name = 'p2'", [13, 4]),  # the cascade deletes the children too
        ("INSERT INTO wlog VALUES ('r') RETURNING msg", [1, 1]),
        ("UPDATE wlog SET msg = msg || '!' WHERE msg = 'r' RETURNING msg", [7, 1]),
        ("DELETE FROM wlog WHERE msg > 'n 12'", [4, 3]),
        ("DELETE FROM wlog", [0, 1]),  # a clear: every row it held
    ]
    assert [[q, counts(sql, q)] for q, _ in expected] == [[q, n] for q, n in expected]


@needs_row_counts
def test_schema_changes_count_the_schema_rows_and_the_rebuilt_tables(sql):
    # One sequence, as the scenarios `sqlc_schema` and `sqlp_rows_read_seeks` run it.
    sql.exec("CREATE TABLE sd (id INTEGER PRIMARY KEY, a TEXT, n INTEGER)")
    sql.exec("INSERT INTO sd (a, n) VALUES ('x', 1), ('y', 2), ('z', 3), ('x', 4), ('w', 5), ('v', 6)")
    expected = [
        ("CREATE INDEX sd_n ON sd (n)", [14, 7]),  # 6 rows in and out of the sorter; 6 entries + the schema row
        ("CREATE UNIQUE INDEX sd_an ON sd (a, n)", [14, 7]),
        ("CREATE INDEX IF NOT EXISTS sd_n ON sd (n)", [0, 0]),
        ("CREATE INDEX sd_p ON sd (a) WHERE n > 3", [11, 4]),
        ("DROP INDEX sd_p", [5, 0]),
        ("ALTER TABLE sd ADD COLUMN c TEXT", [5, 1]),
        ("ALTER TABLE sd RENAME COLUMN c TO d", [30, 6]),
        ("ALTER TABLE sd DROP COLUMN d", [30, 10]),
        ("ALTER TABLE sd RENAME TO sd2", [24, 6]),
        ("CREATE TABLE sd3 AS SELECT a, n FROM sd2 WHERE n > 2", [5, 6]),
        ("CREATE VIEW sdv AS SELECT a FROM sd2", [1, 2]),
        ("SELECT a FROM sdv", [6, 0]),
        ("CREATE TRIGGER sdt AFTER INSERT ON sd3 BEGIN SELECT 1; END", [0, 1]),
        ("DROP VIEW sdv", [6, 0]),
        ("DROP TABLE sd3", [10, 0]),
        ("ANALYZE", [25, 4]),  # sqlite_stat1 only: workerd's SQLite has no STAT4
        ("PRAGMA table_info(sd2)", [0, 0]),
    ]
    assert [[q, counts(sql, q)] for q, _ in expected] == [[q, n] for q, n in expected]


@needs_row_counts
def test_virtual_tables_count_their_rows_not_their_own_queries(sql):
    # FTS5 and R*Tree read their shadow tables with queries of their own: workerd counts only
    # the statement's own cursor steps over the virtual table.
    sql.exec("CREATE VIRTUAL TABLE fv USING fts5(body)")
    sql.exec("INSERT INTO fv (body) VALUES ('alpha beta'), ('beta gamma'), ('gamma delta'), ('alpha omega')")
    sql.exec("CREATE VIRTUAL TABLE rv USING rtree(id, x0, x1)")
    sql.exec("INSERT INTO rv VALUES (1, 0, 1), (2, 2, 3), (3, 4, 5)")
    assert counts(sql, "SELECT body FROM fv WHERE fv MATCH 'alpha'") == [2, 0]
    assert counts(sql, "SELECT body FROM fv") == [4, 0]
    assert counts(sql, "INSERT INTO fv (body) VALUES ('epsilon')") == [0, 1]
    assert counts(sql, "DELETE FROM fv WHERE rowid = 1") == [0, 1]
    assert counts(sql, "SELECT id FROM rv WHERE x0 >= 2") == [2, 0]
    assert counts(sql, "INSERT INTO rv VALUES (4, 6, 7)") == [0, 1]


@needs_row_counts
def test_an_index_scan_counts_one_row_ahead_of_what_the_cursor_returned(ir):
    # workerd steps the statement once at exec() and once per row taken, so the count runs
    # one step ahead of the rows returned.
    cursor = ir.exec("SELECT a FROM ir WHERE n BETWEEN 2 AND 5")
    seen = [cursor.rowsRead]
    for _ in cursor:
        seen.append(cursor.rowsRead)
    assert seen == [1, 2, 3, 4, 5]  # 4 rows: the seek, 3 steps, the step past the range


@needs_row_counts
def test_statements_run_between_the_steps_of_a_cursor_do_not_add_to_its_count(ir):
    cursor = ir.exec("SELECT a FROM ir WHERE n BETWEEN 2 AND 5")
    next(cursor)
    assert counts(ir, "SELECT * FROM ir") == [8, 0]
    ir.exec("INSERT INTO ir (a, n, t) VALUES ('k', 100, 'k')")
    conn = ir._conn
    with trusted(conn):  # the emulator's own statements (key-value storage shares the database)
        conn.execute("CREATE TABLE _cf_kv (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
        conn.execute("INSERT INTO _cf_kv VALUES ('between', x'01')")
        conn.execute("SELECT * FROM ir").fetchall()
    cursor.toArray()
    assert [cursor.rowsRead, cursor.rowsWritten] == [5, 0]
