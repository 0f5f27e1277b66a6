"""`ctx.storage.sql`: the SQL API of SQLite-backed Durable Objects.

Each SQL-using object has its own SQLite database: a connection of `sqlite_driver` (apsw, which
ships the SQLite version workerd embeds, or the standard `sqlite3` where apsw is missing), in
autocommit mode. The emulator's own tables in that database are named
with the `_cf_` prefix (`_cf_kv`, `_cf_alarms`, ...), like workerd's `_cf_KV`, and user SQL
can neither see nor touch them.

Pieces:

* `secure(conn)` installs the guard rails: an authorizer modelled on workerd's
  `SqliteDatabase::isAuthorized()` (`util/sqlite.c++`), SQLite limits, and
  `PRAGMA foreign_keys = ON` (workerd's default). `trusted(conn)` is a re-entrant context
  manager under which everything is allowed: the emulator runs its own statements in it
  (or secures the connection with `trusted_by_default=True` and needs no such blocks).
  Whatever the mode, statements that come through `SqlStorage` always run as user SQL.
* `SqlStorage` is `ctx.storage.sql`: `exec()`, `databaseSize`, `Cursor`, `Statement`, plus
  `reset_database()` for `deleteAll()`.
* `SqlStorageCursor` is what `exec()` returns.

Fidelity notes (facts from workerd's source, `api/sql.c++`, `util/sqlite.c++`,
`api/tests/sql-test.js`, and from the oracle run in `shared/oracle/REPORT.md`):

* **Several statements.** workerd prepares the query text; if anything but whitespace
  follows the first statement, that statement is executed at once (stepped once, its rows
  dropped) and the rest is prepared the same way. Only the last statement gets the bindings
  and the cursor; an earlier statement with parameters fails with
  `When executing multiple SQL statements in a single call, only the last statement can have
  parameters.`. Text after the last statement that holds no statement (a comment, a lone
  `;`) fails with `SQL code did not contain a statement.`, *after* the earlier statements ran.
  `_plan()` reproduces this split with `driver.complete_statement` (SQLite's own
  `sqlite3_complete`, which understands quotes, comments and trigger bodies).
* **Error text.** workerd reports `sqlite3_errmsg()`, then ` at offset N` when
  `sqlite3_error_offset()` knows a position, then `: ` and the primary result code's name, then
  ` (extended: NAME)` for the extended codes it names. apsw gives SQLite's own offset (less the
  length of `_USER_PREFIX`). The standard `sqlite3` does not expose `sqlite3_error_offset()`;
  there the offset is guessed: SQLite records an offset when its message
  names a token of the statement (`near "X": syntax error`, `no such column: X`,
  `not authorized to use function: X`, ...). `_error_offset()` finds that token in the
  statement text: the first occurrence at a word boundary, else the first occurrence at all,
  else no offset. This is an approximation: SQLite knows the exact token, we guess the
  first one with that text. The offset counts UTF-8 bytes from the start of the text that
  workerd hands to `sqlite3_prepare` (for a later statement of a multi-statement query: the
  text after the previous statement and the whitespace that follows it).
* **Overlapping cursors of the same query** work independently. workerd caches statements
  per query text, and when the cached one is still in use by an unfinished cursor it
  compiles a one-off copy; sql-test.js asserts "Running the same query twice, overlapping,
  works just fine". Its message `SQL cursor was closed because the same statement was
  executed again. ...` belongs to prepared statements (`sql.prepare()`, not exposed without
  a compatibility flag), so `exec()` never raises it.
* **rowsRead / rowsWritten.** workerd counts inside SQLite, with its patch
  `patches/sqlite/0001-row-counts-plain.patch` (libSQL's `LIBSQL_STMTSTATUS_ROWS_READ/_WRITTEN`):
  a row is read at every executed rewind, seek and successful step of a cursor (sorters and
  temporary tables included) and `count(*)` reads every entry; a row is written for every
  table row and index entry inserted and every row deleted (temporary tables excluded).

  - With the counting SQLite (`driver.ROW_COUNTS`: the apsw `make env-test` builds with
    `tools/counting_sqlite.py`, counters at the same bytecode sites) the counts are SQLite's
    own: `driver.row_counts()` is reset before and read after every step of a user statement
    (`SqlStorage._step()` for `exec()`'s first step, `SqlStorageCursor._fetch()` for the
    rest), so statements run in between (other cursors, the emulator's own) never mix in.
  - Without it (PyPI's apsw where nothing could be built): written rows come from the
    preupdate hook, 1 per row changed plus 1 per index entry an INSERT or UPDATE writes
    (`_rows_written`); a finished statement whose program has a known shape (`_scan_shape`:
    one full scan, a full scan into a sorter, `count(*)`, a rowid lookup) gets its exact read
    count from `SQLITE_STMTSTATUS_FULLSCAN_STEP`; otherwise a `SELECT` reads one row per row
    it returns, an `UPDATE` or `DELETE` one per row it changes, a `CREATE` 1 (written 2).
    Index seeks, `ORDER BY ... LIMIT` and most DDL then differ from workerd.
  - Either way, like workerd, the cursor runs one step ahead of what it has returned, so
    after `exec()` a scan shows rowsRead 1, and after the k-th row min(k + 1, total)
    (sql-test.js).

  With the standard `sqlite3` (Pyodide), written rows are `total_changes` and reads the
  rows returned. apsw steps a statement when a row is asked for, as workerd does, so a
  runtime error on row k + 1 (for example `malformed JSON`) surfaces at the same call as
  there. (The standard `sqlite3` fetches one row further ahead.)
* **Bindings.** A Python `int` reaches JavaScript as a number, which workerd binds as REAL
  (`SELECT ? / 2` with 7 is 3.5); beyond 2**53 it is a BigInt, refused. A str with a lone
  surrogate binds as its WTF-8 bytes in TEXT, as V8 hands it to workerd (`_as_wtf8_text`).
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import weakref
from typing import Any, Callable

from .codec import JsDict
from .errors import DojoError, JsError
from .ffi import js_api
from .values import js_number_string, js_string
from . import sqlite_driver as driver
from . import watchdog as _watchdog

__all__ = [
    "SqlGuard",
    "SqlStorage",
    "SqlStorageCursor",
    "SqlStorageStatement",
    "release",
    "secure",
    "trusted",
]

# ---------------------------------------------------------------------------------------
# Messages (word for word; see the report of each for its source)

#: `util/sqlite.c++` `prepareSql()`; oracle: `""` and `"-- nothing"`.
NO_STATEMENT = "SQL code did not contain a statement."
#: `util/sqlite.c++` `Query::checkRequirements()`; oracle: too few and too many.
WRONG_BINDING_COUNT = "Wrong number of parameter bindings for SQL query."
#: `util/sqlite.c++` `prepareSql()` (MULTI); not in the oracle run.
MULTI_STATEMENT_PARAMETERS = (
    "When executing multiple SQL statements in a single call, only the last statement "
    "can have parameters."
)
#: `api/sql.c++` `Cursor::one()`; oracle.
ONE_NO_RESULTS = "Expected exactly one result from SQL query, but got no results."
#: `api/sql.c++` `Cursor::one()`; oracle.
ONE_MULTIPLE_RESULTS = "Expected exactly one result from SQL query, but got multiple results."
#: `api/sql.c++` `SqlStorage::allowTransactions()`; oracle (`BEGIN TRANSACTION`, `SAVEPOINT`).
TRANSACTION_FORBIDDEN = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)
#: V8's TypeError for a BigInt binding; oracle (`5n`). Used for ints outside int64.
BIGINT_BINDING = "Cannot convert a BigInt value to a number"
#: SQLite's message when the text given to `sqlite3_prepare` exceeds SQLITE_LIMIT_SQL_LENGTH
#: (`sqlite3Prepare()`); workerd adds `: SQLITE_TOOBIG`. Python's own check would say
#: "query string is too large", so exec() checks first.
STATEMENT_TOO_LONG = "statement too long: SQLITE_TOOBIG"

# ---------------------------------------------------------------------------------------
# Limits: production numbers where Cloudflare documents them
# (developers.cloudflare.com/durable-objects/platform/limits/), else workerd's
# `SqliteDatabase::setupSecurity()`.

#: "Maximum string, BLOB or table row size: 2 MB", read as 2,000,000 bytes (the limits page
#: counts in decimal units; `_kvstore.SQLITE_MAX_KEY_PLUS_VALUE` reads it the same way).
#: workerd-local uses 2,200,000 (or 4 MiB in newer builds); production reports
#: `string or blob too big: SQLITE_TOOBIG`.
MAX_VALUE_BYTES = 2_000_000
#: "Maximum SQL statement length: 100 KB" = 100,000 bytes (workerd: 100000 too).
MAX_STATEMENT_BYTES = 100_000
#: "Maximum columns per table: 100" (workerd: 100).
MAX_COLUMNS = 100
#: "Maximum bound parameters per query: 100" (workerd: 100).
MAX_BOUND_PARAMETERS = 100
#: "Maximum arguments per SQL function: 32". workerd-local keeps SQLite's default 127 "because
#: there are too many valid use cases for large argument lists, especially json_object".
MAX_FUNCTION_ARGS = 32
#: "Maximum characters (bytes) in a LIKE or GLOB pattern: 50 bytes" (workerd: 50).
MAX_LIKE_PATTERN_BYTES = 50
#: Not documented; workerd: 5 terms (sql-test.js: 6 terms give
#: `too many terms in compound SELECT`).
MAX_COMPOUND_SELECT = 5
#: Not documented; workerd: 100.
MAX_EXPR_DEPTH = 100
#: Not documented; workerd: 10.
MAX_TRIGGER_DEPTH = 10
#: workerd: 0. ATTACH is also refused by the authorizer, which comes first
#: (oracle: `not authorized: SQLITE_AUTH`).
MAX_ATTACHED = 0
#: workerd: 25000 (SQLite no longer enforces this one).
MAX_VDBE_OPS = 25_000

_USER_LIMITS = (
    (driver.C.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES),
    # exec() enforces MAX_STATEMENT_BYTES on the whole query itself (as workerd's first
    # sqlite3_prepare does); each statement then carries _USER_PREFIX in front.
    (driver.C.SQLITE_LIMIT_SQL_LENGTH, MAX_STATEMENT_BYTES + 16),
    (driver.C.SQLITE_LIMIT_COLUMN, MAX_COLUMNS),
    (driver.C.SQLITE_LIMIT_VARIABLE_NUMBER, MAX_BOUND_PARAMETERS),
    (driver.C.SQLITE_LIMIT_FUNCTION_ARG, MAX_FUNCTION_ARGS),
    (driver.C.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, MAX_LIKE_PATTERN_BYTES),
    (driver.C.SQLITE_LIMIT_COMPOUND_SELECT, MAX_COMPOUND_SELECT),
    (driver.C.SQLITE_LIMIT_EXPR_DEPTH, MAX_EXPR_DEPTH),
    (driver.C.SQLITE_LIMIT_TRIGGER_DEPTH, MAX_TRIGGER_DEPTH),
    (driver.C.SQLITE_LIMIT_ATTACHED, MAX_ATTACHED),
    (driver.C.SQLITE_LIMIT_VDBE_OP, MAX_VDBE_OPS),
    (driver.C.SQLITE_LIMIT_WORKER_THREADS, 0),
)

#: Limits lifted back to the connection's previous values inside `trusted()`, so that the
#: emulator's own statements (big KV rows, `key IN (?, ... 200 ...)`, long batches, UNIONs)
#: are not held to the user's limits. The others stay as they are for everyone.
_TRUSTED_LIFTED = (
    driver.C.SQLITE_LIMIT_LENGTH,
    driver.C.SQLITE_LIMIT_SQL_LENGTH,
    driver.C.SQLITE_LIMIT_VARIABLE_NUMBER,
    driver.C.SQLITE_LIMIT_COMPOUND_SELECT,
)

#: The user's values of the lifted limits, put back when the last `trusted()` block ends.
_USER_LIFTED = tuple((c, v) for c, v in _USER_LIMITS if c in _TRUSTED_LIFTED)

_PAGE_SIZE_QUERY = (
    "SELECT (SELECT * FROM pragma_page_count), (SELECT * FROM pragma_freelist_count), "
    "(SELECT * FROM pragma_page_size)"
)

#: Put in front of every user statement. Python's sqlite3 caches prepared statements by
#: their text, and the authorizer only runs when a statement is prepared: without the prefix
#: a user statement with the same text as one of the emulator's trusted statements would
#: reuse the trusted compilation and skip the authorizer. A leading comment changes nothing
#: else (error offsets are computed from the user's text, not SQLite's).
_USER_PREFIX = "/*user*/"

# ---------------------------------------------------------------------------------------
# The authorizer (workerd's `SqliteDatabase::isAuthorized()`)

_OK = driver.C.SQLITE_OK
_DENY = driver.C.SQLITE_DENY

#: Functions user SQL may call: workerd's `ALLOWED_SQLITE_FUNCTIONS` (util/sqlite.c++).
#: `load_extension` is listed there and fails when called (extension loading is off):
#: `not authorized: SQLITE_ERROR`, SQLite's own refusal, on both. The `sqlite_rename_*` and
#: `sqlite_drop_column` entries are what `ALTER TABLE` calls internally. The other
#: `sqlite_*` functions (`sqlite_version`, `sqlite_source_id`, `sqlite_compileoption_*`,
#: `sqlite_offset`) are refused: "These functions query SQLite internals and build details".
ALLOWED_FUNCTIONS = frozenset(
    """
    abs changes char coalesce concat concat_ws format glob hex ifnull iif instr
    last_insert_rowid length like load_extension likelihood likely lower ltrim max_scalar min_scalar nullif
    octet_length printf quote random randomblob replace round rtrim sign soundex substr
    substring total_changes trim typeof unhex unicode unlikely upper zeroblob
    date time datetime julianday unixepoch strftime timediff current_date current_time
    current_timestamp
    avg count group_concat max min string_agg sum total
    row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
    nth_value
    acos acosh asin asinh atan atan2 atanh ceil cos cosh degrees exp floor ln log log2 mod pi
    pow radians sin sinh sqrt tan tanh trunc
    json jsonb json_array jsonb_array json_array_length json_extract jsonb_extract -> ->>
    json_insert jsonb_insert json_object jsonb_object json_patch jsonb_patch json_remove
    jsonb_remove json_replace jsonb_replace json_set jsonb_set json_type json_valid json_quote
    json_group_array jsonb_group_array json_group_object jsonb_group_object json_each json_tree
    match highlight bm25 snippet
    rtreecheck
    sqlite_rename_column sqlite_rename_table sqlite_rename_test sqlite_drop_column
    sqlite_rename_quotefix
    """.split()
)

#: Functions apsw's SQLite has and workerd's build does not (it compiles without
#: SQLITE_ENABLE_PERCENTILE, _GEOPOLY and _CARRAY): there SQLite says `no such function`
#: before any authorizer runs, so the emulator reports them the same way.
ABSENT_FUNCTIONS = frozenset(
    """
    median percentile percentile_cont percentile_disc carray geopoly_area geopoly_blob
    geopoly_bbox geopoly_contains_point geopoly_group_bbox geopoly_json geopoly_overlap
    geopoly_regular geopoly_svg geopoly_within geopoly_xform geopoly_ccw
    """.split()
)

# workerd's `PragmaSignature`.
_NO_ARG, _BOOLEAN, _OBJECT_NAME, _OPTIONAL_OBJECT_NAME, _NULL_OR_NUMBER, _NULL_NUMBER_OR_NAME = (
    range(6)
)
#: Pragmas user SQL may run: workerd's `ALLOWED_PRAGMAS`, plus `table_list`,
#: `table_info` and `table_xinfo` (special-cased there). The name is compared as written,
#: case-sensitively, as in workerd (SQLite hands the authorizer the name as typed).
#: `page_size` is readable (no argument), as there: SQLite's R*Tree module reads it.
#: Everything else is refused: `journal_mode`, `page_size = N`, `max_page_count`,
#: `hard_heap_limit`, `user_version`, `integrity_check`, `writable_schema`, ...
ALLOWED_PRAGMAS = {
    "data_version": _NO_ARG,
    "page_size": _NO_ARG,
    "case_sensitive_like": _BOOLEAN,
    "foreign_keys": _BOOLEAN,
    "defer_foreign_keys": _BOOLEAN,
    "ignore_check_constraints": _BOOLEAN,
    "legacy_alter_table": _BOOLEAN,
    "recursive_triggers": _BOOLEAN,
    "reverse_unordered_selects": _BOOLEAN,
    "foreign_key_check": _OPTIONAL_OBJECT_NAME,
    "foreign_key_list": _OBJECT_NAME,
    "index_info": _OBJECT_NAME,
    "index_list": _OBJECT_NAME,
    "index_xinfo": _OBJECT_NAME,
    "quick_check": _NULL_NUMBER_OR_NAME,
    "optimize": _NULL_OR_NUMBER,
}
_BOOLEAN_WORDS = ("true", "false", "yes", "no", "on", "off", "1", "0")

_A = driver.C
#: Actions whose first argument names a table, view or index to check.
_NAME_IN_ARG1 = frozenset(
    (
        _A.SQLITE_CREATE_TABLE,
        _A.SQLITE_DELETE,
        _A.SQLITE_DROP_TABLE,
        _A.SQLITE_INSERT,
        _A.SQLITE_CREATE_VIEW,
        _A.SQLITE_DROP_VIEW,
        _A.SQLITE_REINDEX,
        _A.SQLITE_ALTER_TABLE,
        _A.SQLITE_READ,
        _A.SQLITE_UPDATE,
    )
)
#: Actions naming an index or trigger (arg1) and its table (arg2): both are checked.
_NAMES_IN_ARG1_AND_ARG2 = frozenset(
    (_A.SQLITE_CREATE_INDEX, _A.SQLITE_DROP_INDEX, _A.SQLITE_CREATE_TRIGGER, _A.SQLITE_DROP_TRIGGER)
)
#: Always allowed. ANALYZE covers every table, also the reserved ones, because
#: `PRAGMA optimize` issues a bare ANALYZE; sqlite_stat1 holds statistics, not data.
_ALWAYS = frozenset((_A.SQLITE_SELECT, _A.SQLITE_ANALYZE, _A.SQLITE_RECURSIVE))
_VTABLE_ACTIONS = frozenset((_A.SQLITE_CREATE_VTABLE, _A.SQLITE_DROP_VTABLE))
#: Virtual table modules user SQL may use (workerd: FTS5 and R*Tree, any letter case).
_ALLOWED_MODULES = frozenset(("fts5", "fts5vocab", "rtree", "rtree_i32"))
_TXN_ACTIONS = frozenset((_A.SQLITE_TRANSACTION, _A.SQLITE_SAVEPOINT))
_TEMP_ALLOWED = frozenset((_A.SQLITE_READ, _A.SQLITE_UPDATE))
_SWAPPED_DB = frozenset((_A.SQLITE_ALTER_TABLE, _A.SQLITE_DETACH))


def _allowed_name(name: str | None) -> bool:
    """Whether `name` is open to user SQL: not `_cf_...` in any letter case."""
    return name is None or name[:4].lower() != "_cf_"


def _parse_int(text: str) -> int | None:
    """C `strtol(text, &end, 0)` over the whole text: decimal, `0x` hex, `0` octal."""
    t = text.strip()
    try:
        return int(t, 0)
    except ValueError:
        pass
    body = t[1:] if t[:1] in "+-" else t
    if len(body) > 1 and body[0] == "0" and body.isdigit():
        try:
            value = int(body, 8)
        except ValueError:
            return None
        return -value if t[0] == "-" else value
    return None


def _pragma_allowed(name: str, arg: str | None) -> bool:
    # SQLite hands the authorizer the name as typed; workerd 1.20261117.1 accepts
    # `PRAGMA FOREIGN_KEYS` as well as `PRAGMA foreign_keys` (oracle), so any letter case goes.
    name = name.lower()
    if name == "table_list":
        return True
    if name == "table_info" or name == "table_xinfo":
        return arg is not None and _allowed_name(arg)
    sig = ALLOWED_PRAGMAS.get(name)
    if sig is None:
        return False
    if sig == _NO_ARG:
        return arg is None
    if sig == _BOOLEAN:
        if arg is None:
            return True
        val = arg
        if len(val) >= 2 and val[0] in "'\"" and val[-1] == val[0]:
            val = val[1:-1]
        low = val.lower()
        return any(low.startswith(w) for w in _BOOLEAN_WORDS)
    if sig == _OBJECT_NAME:
        return arg is not None and _allowed_name(arg)
    if sig == _OPTIONAL_OBJECT_NAME:
        return _allowed_name(arg)
    if arg is None:
        return True
    n = _parse_int(arg)
    if sig == _NULL_OR_NUMBER:
        return n is not None and -(2**31) <= n < 2**31
    if n is not None and 0 <= n < 2**32:  # _NULL_NUMBER_OR_NAME
        return True
    return _allowed_name(arg)


class SqlGuard:
    """The guard rails of one connection: its authorizer and its trusted-mode depth.

    The connection keeps it alive (through the authorizer), the guard does not keep the
    connection: the module registry holds guards weakly, so nothing leaks when a
    connection goes away.
    """

    __slots__ = ("depth", "base", "txn_denied", "_saved", "finished", "indexes", "__weakref__")

    def __init__(self) -> None:
        self.depth = 0  # > 0 while trusted
        self.base = 0  # the depth outside trusted() blocks: 1 if trusted_by_default
        self.txn_denied = False  # set when user SQL tried BEGIN/COMMIT/SAVEPOINT/...
        self._saved: tuple[tuple[int, int], ...] = ()  # limits lifted while trusted
        #: user statements that finished, by their text: the full-scan steps they took
        self.finished: dict[str, int] = {}
        #: (schema version, {table: its indexes' columns}) for counting rows written
        self.indexes: tuple[int, dict] = (-1, {})

    def statement_finished(self, sql: str, fullscan_steps: int) -> None:
        if sql.startswith(_USER_PREFIX):
            self.finished[sql] = fullscan_steps

    def enter(self, conn: driver.Connection) -> None:
        if self.depth == 0:
            for category, value in self._saved:
                conn.setlimit(category, value)
        self.depth += 1

    def exit(self, conn: driver.Connection) -> None:
        self.depth -= 1
        if self.depth == 0:
            for category, value in _USER_LIFTED:
                conn.setlimit(category, value)

    def user_begin(self, conn: driver.Connection) -> int:
        """Enter user mode for a user statement, even inside `trusted()`; returns the depth
        to give back to `user_end()`. (Without this, user code run by the emulator inside a
        trusted block, or on a `trusted_by_default` connection, would get full power.)"""
        depth = self.depth
        if depth:
            self.depth = 0
            for category, value in _USER_LIFTED:
                conn.setlimit(category, value)
        return depth

    def user_end(self, conn: driver.Connection, depth: int) -> None:
        if depth:
            self.depth = depth
            for category, value in self._saved:
                conn.setlimit(category, value)

    def authorize(
        self, action: int, arg1: str | None, arg2: str | None, db_name: str | None, _src: Any
    ) -> int:
        """The `sqlite3` authorizer callback: SQLITE_OK or SQLITE_DENY."""
        if self.depth:
            return _OK
        if action in _SWAPPED_DB:
            # SQLite passes the database name first for these two (workerd swaps them too).
            db_name, arg1, arg2 = arg1, arg2, db_name
        if db_name is not None and db_name != "main":
            if db_name == "temp":
                return _OK if action in _TEMP_ALLOWED and _allowed_name(arg1) else _DENY
            return _DENY  # only 'main' (and 'temp') exist
        if action in _NAME_IN_ARG1:
            return _OK if _allowed_name(arg1) else _DENY
        if action == _A.SQLITE_FUNCTION:
            return _OK if arg2 in ALLOWED_FUNCTIONS else _DENY
        if action in _ALWAYS:
            return _OK
        if action == _A.SQLITE_PRAGMA:
            return _OK if arg1 is not None and _pragma_allowed(arg1, arg2) else _DENY
        if action in _NAMES_IN_ARG1_AND_ARG2:
            return _OK if _allowed_name(arg1) and _allowed_name(arg2) else _DENY
        if action in _TXN_ACTIONS:
            # workerd throws its own error from inside the authorizer; SQLite only sees the
            # denial. exec() turns the flag into TRANSACTION_FORBIDDEN.
            self.txn_denied = True
            return _DENY
        if action in _VTABLE_ACTIONS:
            ok = arg2 is not None and arg2.lower() in _ALLOWED_MODULES and _allowed_name(arg1)
            return _OK if ok else _DENY
        # ATTACH, DETACH, temp tables/indexes/triggers/views, COPY, unknown actions.
        return _DENY


#: id(connection) -> its guard, held weakly (the connection's authorizer holds it).
_GUARDS: weakref.WeakValueDictionary[int, SqlGuard] = weakref.WeakValueDictionary()


def secure(
    conn: driver.Connection, *, foreign_keys: bool = True, trusted_by_default: bool = False
) -> SqlGuard:
    """Install the guard rails on `conn` and return its guard.

    Sets the user limits (the connection's previous values come back inside `trusted()`),
    the authorizer, and `PRAGMA foreign_keys = ON` like workerd (the oracle read
    `PRAGMA foreign_keys` = 1; the pragma is ignored inside a transaction, so call this
    right after opening). Calling it again re-applies everything.

    By default every statement on `conn` is user SQL unless it runs inside `trusted(conn)`.
    With `trusted_by_default=True` it is the other way round: statements are trusted unless
    they come through `SqlStorage` (its `exec()` and its cursors' reads, which always run in
    user mode). Then the emulator's own code needs no `trusted()` blocks.
    """
    guard = _GUARDS.get(id(conn))
    if guard is None:
        guard = SqlGuard()
        _GUARDS[id(conn)] = guard
    if guard.depth != guard.base:
        raise DojoError("secure() called inside a trusted() block")
    if not guard._saved:
        guard._saved = tuple((c, conn.getlimit(c)) for c in _TRUSTED_LIFTED)
    for category, value in _USER_LIMITS:
        conn.setlimit(category, value)
    conn.set_authorizer(None)
    if foreign_keys:
        conn.execute("PRAGMA foreign_keys = ON")
    guard.depth = guard.base = 1 if trusted_by_default else 0
    if guard.depth:
        for category, value in guard._saved:
            conn.setlimit(category, value)
    conn.set_authorizer(guard.authorize)
    return guard


def _guard_of(conn: driver.Connection) -> SqlGuard:
    guard = _GUARDS.get(id(conn))
    if guard is None:
        raise DojoError("this sqlite3 connection was not set up with durable_dojo._core.sql.secure()")
    return guard


class trusted:  # noqa: N801 - used like a function: `with trusted(conn): ...`
    """Context manager: the emulator's own statements, which may do anything.

    Re-entrant. Inside it the authorizer allows everything and the limits in
    `_TRUSTED_LIFTED` are back at the connection's previous values.
    """

    __slots__ = ("_conn", "_guard")

    def __init__(self, conn: driver.Connection) -> None:
        self._conn = conn
        self._guard = _guard_of(conn)

    def __enter__(self) -> driver.Connection:
        self._guard.enter(self._conn)
        return self._conn

    def __exit__(self, *exc: object) -> None:
        self._guard.exit(self._conn)


def release(conn: driver.Connection) -> None:
    """Remove the guard rails from `conn` (before closing it, or to hand it back raw)."""
    guard = _GUARDS.pop(id(conn), None)
    if guard is not None:
        conn.set_authorizer(None)
        for category, value in guard._saved:
            conn.setlimit(category, value)


# ---------------------------------------------------------------------------------------
# Splitting a query into statements

# Whitespace as SQLite's tokenizer sees it.
_WS_CHARS = " \t\n\v\f\r"
#: What sqlite3_prepare skips before a statement: whitespace, comments and empty statements.
_LEADING = re.compile(r"(?:[ \t\n\v\f\r]+|--[^\n]*(?:\n|\Z)|/\*(?:.*?\*/|.*\Z)|;)*", re.S)
#: What workerd skips after a statement before deciding whether more text follows.
_TRAILING_WS = re.compile(r"[ \t\n\v\f\r]*")
_FIRST_WORD = re.compile(r"[A-Za-z]+")
_PLAN_CACHE_SIZE = 512
_PLAN_CACHE_MAX_QUERY = 8192


class _Segment:
    """One statement of a query, ready to run."""

    __slots__ = ("sql", "text", "base", "count_rows", "read_changes", "create", "writes", "inserts", "_shape")

    def __init__(self, text: str, base: int) -> None:
        self.text = text  # the user's statement text
        self.sql = _USER_PREFIX + text  # what goes to sqlite3
        self.base = base  # UTF-8 bytes between the prepare start and `text`
        m = _FIRST_WORD.match(text)
        word = m.group().upper() if m else ""
        upper = text.upper()
        self.count_rows = word in ("SELECT", "VALUES", "WITH") and "FROM" in upper
        # DELETE without WHERE empties the table with one OP_Clear, which reads no row.
        self.read_changes = word == "UPDATE" or (word == "DELETE" and _WHERE.search(upper) is not None)
        self.writes = word in ("INSERT", "REPLACE", "UPDATE", "DELETE", "WITH")
        self.inserts = word in ("INSERT", "REPLACE")
        # 0: not a CREATE; 1: a CREATE that changes the schema when it succeeds;
        # 2: CREATE ... IF NOT EXISTS, which may do nothing.
        self.create = (2 if "EXISTS" in upper else 1) if word == "CREATE" else 0
        if word == "ALTER" and not _allowed_name(_renamed_to(text)):
            raise JsError("not authorized: SQLITE_AUTH")  # workerd's authorizer checks the new name too


_WHERE = re.compile(r"\bWHERE\b")

#: SQL tokens: strings and quoted names, comments, words, and any other character.
_SQL_TOKEN = re.compile(r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?|--[^\n]*|/\*.*?(?:\*/|$)|\w+|\S""", re.S)


def _unquote_name(token: str) -> str:
    if token[:1] in ('"', "`", "["):
        close = {"[": "]"}.get(token[0], token[0])
        inner = token[1:-1] if token.endswith(close) and len(token) > 1 else token[1:]
        return inner.replace(close * 2, close) if close != "]" else inner
    if token[:1] == "'":
        return token[1:-1].replace("''", "'")
    return token


def _renamed_to(text: str) -> str | None:
    """The new name of `ALTER TABLE x RENAME TO new` (stock SQLite does not show it to the
    authorizer, workerd's patched one does), or None for other statements."""
    tokens = [t for t in _SQL_TOKEN.findall(text) if not t.startswith(("--", "/*"))]
    upper = [t.upper() for t in tokens]
    for i in range(len(tokens) - 2):
        if upper[i] == "RENAME" and upper[i + 1] == "TO":
            return _unquote_name(tokens[i + 2])
    return None


class _Plan:
    __slots__ = ("earlier", "last")

    def __init__(self, earlier: tuple[_Segment, ...], last: _Segment | None) -> None:
        self.earlier = earlier  # executed at once, rows dropped
        self.last = last  # gets the bindings and the cursor; None: trailing non-statement


_PLANS: dict[str, _Plan] = {}


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _statement_end(sql: str, start: int) -> int:
    """Index just past the `;` that completes the statement at `start`, or len(sql)."""
    j = sql.find(";", start)
    while j != -1:
        if driver.complete_statement(sql[start : j + 1]):
            return j + 1
        j = sql.find(";", j + 1)
    return len(sql)


def _plan(query: str) -> _Plan:
    """Split `query` the way workerd's prepare loop does (see the module docstring).
    The caller has looked in the cache (`_PLANS`) already."""
    sql = query if query.isascii() else js_string(query)  # lone surrogates -> U+FFFD, as V8
    if "\0" in sql:
        sql = sql[: sql.index("\0")]  # SQLite reads the query as a C string: it ends at a NUL
    if _utf8_len(sql) > MAX_STATEMENT_BYTES:
        raise JsError(STATEMENT_TOO_LONG)
    n = len(sql)
    earlier: list[_Segment] = []
    pos = 0
    while True:
        start = _LEADING.match(sql, pos).end()
        if start >= n:
            if not earlier:
                raise JsError(NO_STATEMENT)  # nothing runs: no need to remember it
            last = None
            break
        end = _statement_end(sql, start)
        seg = _Segment(sql[start:end], _utf8_len(sql[pos:start]))
        tail = _TRAILING_WS.match(sql, end).end()
        if tail >= n:
            last = seg
            break
        earlier.append(seg)
        pos = tail
    plan = _Plan(tuple(earlier), last)
    if len(query) <= _PLAN_CACHE_MAX_QUERY:
        if len(_PLANS) >= _PLAN_CACHE_SIZE:
            del _PLANS[next(iter(_PLANS))]
        _PLANS[query] = plan
    return plan


# ---------------------------------------------------------------------------------------
# Errors

#: sqlite3 primary result codes (the low byte of an extended code); workerd names only
#: these (`namedErrorCode()`).
_CODE_NAMES = {
    0: "SQLITE_OK",
    1: "SQLITE_ERROR",
    2: "SQLITE_INTERNAL",
    3: "SQLITE_PERM",
    4: "SQLITE_ABORT",
    5: "SQLITE_BUSY",
    6: "SQLITE_LOCKED",
    7: "SQLITE_NOMEM",
    8: "SQLITE_READONLY",
    9: "SQLITE_INTERRUPT",
    10: "SQLITE_IOERR",
    11: "SQLITE_CORRUPT",
    12: "SQLITE_NOTFOUND",
    13: "SQLITE_FULL",
    14: "SQLITE_CANTOPEN",
    15: "SQLITE_PROTOCOL",
    16: "SQLITE_EMPTY",
    17: "SQLITE_SCHEMA",
    18: "SQLITE_TOOBIG",
    19: "SQLITE_CONSTRAINT",
    20: "SQLITE_MISMATCH",
    21: "SQLITE_MISUSE",
    22: "SQLITE_NOLFS",
    23: "SQLITE_AUTH",
    24: "SQLITE_FORMAT",
    25: "SQLITE_RANGE",
    26: "SQLITE_NOTADB",
    27: "SQLITE_NOTICE",
    28: "SQLITE_WARNING",
    100: "SQLITE_ROW",
    101: "SQLITE_DONE",
}

#: SQLite messages that name a token of the statement, as (before, after) the token. For
#: these SQLite records the token's offset (its `%T` format, or
#: `sqlite3RecordErrorOffsetOfExpr()`). `no such table: X` names a table, not a token, and
#: has no offset (oracle: `no such table: nope: SQLITE_ERROR`).
_TOKEN_MESSAGES = (
    ('near "', '": syntax error'),
    ('unrecognized token: "', '"'),
    ("not authorized to use function: ", ""),
    ("no such function: ", ""),
    ("wrong number of arguments to function ", "()"),
    ("too many arguments on function ", ""),
    ("misuse of aggregate function ", "()"),
    ("misuse of aggregate: ", "()"),
    ("misuse of window function ", "()"),
    ("no such column: ", ""),
    ("ambiguous column name: ", ""),
    ("table ", " already exists"),
    ("view ", " already exists"),
)
_DQS_HINT = " - should this be a string literal in single-quotes?"


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or ch == "$" or ord(ch) > 127


def _find_token(text: str, token: str) -> int:
    """Index of the first occurrence of `token` in `text` (at word boundaries if it can)."""
    if not token:
        return -1
    wordy_start = _is_word_char(token[0])
    wordy_end = _is_word_char(token[-1])
    for haystack, needle in ((text, token), (text.lower(), token.lower())):
        first = -1
        i = haystack.find(needle)
        while i != -1:
            if first == -1:
                first = i
            j = i + len(needle)
            if (not wordy_start or i == 0 or not _is_word_char(haystack[i - 1])) and (
                not wordy_end or j == len(haystack) or not _is_word_char(haystack[j])
            ):
                return i
            i = haystack.find(needle, i + 1)
        if first != -1:
            return first
    return -1


def _error_offset(message: str, text: str) -> int:
    """Approximate `sqlite3_error_offset()`: where the token named in `message` is in
    `text`, in UTF-8 bytes, or -1 (see the module docstring)."""
    for before, after in _TOKEN_MESSAGES:
        if message.startswith(before) and message.endswith(after):
            token = message[len(before) : len(message) - len(after)]
            if token.endswith(_DQS_HINT):
                token = token[: -len(_DQS_HINT)]  # already in double quotes, as written
            i = _find_token(text, token)
            if i == -1 and "." in token:
                i = _find_token(text, token.rsplit(".", 1)[1])
            if i == -1:
                return -1
            return _utf8_len(text[:i])
    return -1


#: The emulator keeps KV data in `_cf_kv(ns, obj, key, value)`; workerd's table is
#: `_cf_KV(key, value)`. Errors name workerd's table and columns.
_CF_KV_COLUMN = re.compile(r"\b_cf_kv\.(\w+)")


def _as_workerd_kv_column(match) -> str:
    return "_cf_KV.value" if match.group(1) == "value" else "_cf_KV.key"


#: Extended result codes workerd names after the primary one (`namedExtendedErrorCode()` in
#: `util/sqlite.c++`); for any other extended code the message ends at the primary name.
_WORKERD_EXTENDED_NAMES = frozenset(
    """
    SQLITE_ABORT_ROLLBACK SQLITE_AUTH_USER SQLITE_BUSY_RECOVERY SQLITE_BUSY_SNAPSHOT
    SQLITE_BUSY_TIMEOUT SQLITE_CANTOPEN_CONVPATH SQLITE_CANTOPEN_DIRTYWAL SQLITE_CANTOPEN_FULLPATH
    SQLITE_CANTOPEN_ISDIR SQLITE_CANTOPEN_NOTEMPDIR SQLITE_CANTOPEN_SYMLINK SQLITE_CONSTRAINT_CHECK
    SQLITE_CONSTRAINT_COMMITHOOK SQLITE_CONSTRAINT_DATATYPE SQLITE_CONSTRAINT_FOREIGNKEY
    SQLITE_CONSTRAINT_FUNCTION SQLITE_CONSTRAINT_NOTNULL SQLITE_CONSTRAINT_PINNED
    SQLITE_CONSTRAINT_PRIMARYKEY SQLITE_CONSTRAINT_ROWID SQLITE_CONSTRAINT_TRIGGER
    SQLITE_CONSTRAINT_UNIQUE SQLITE_CONSTRAINT_VTAB SQLITE_CORRUPT_INDEX SQLITE_CORRUPT_SEQUENCE
    SQLITE_CORRUPT_VTAB SQLITE_ERROR_MISSING_COLLSEQ SQLITE_ERROR_RETRY SQLITE_ERROR_SNAPSHOT
    SQLITE_IOERR_ACCESS SQLITE_IOERR_AUTH SQLITE_IOERR_BEGIN_ATOMIC SQLITE_IOERR_BLOCKED
    SQLITE_IOERR_CHECKRESERVEDLOCK SQLITE_IOERR_CLOSE SQLITE_IOERR_COMMIT_ATOMIC
    SQLITE_IOERR_CONVPATH SQLITE_IOERR_CORRUPTFS SQLITE_IOERR_DATA SQLITE_IOERR_DELETE
    SQLITE_IOERR_DELETE_NOENT SQLITE_IOERR_DIR_CLOSE SQLITE_IOERR_DIR_FSYNC SQLITE_IOERR_FSTAT
    SQLITE_IOERR_FSYNC SQLITE_IOERR_GETTEMPPATH SQLITE_IOERR_LOCK SQLITE_IOERR_MMAP
    SQLITE_IOERR_NOMEM SQLITE_IOERR_RDLOCK SQLITE_IOERR_READ SQLITE_IOERR_ROLLBACK_ATOMIC
    SQLITE_IOERR_SEEK SQLITE_IOERR_SHMLOCK SQLITE_IOERR_SHMMAP SQLITE_IOERR_SHMOPEN
    SQLITE_IOERR_SHMSIZE SQLITE_IOERR_SHORT_READ SQLITE_IOERR_TRUNCATE SQLITE_IOERR_UNLOCK
    SQLITE_IOERR_VNODE SQLITE_IOERR_WRITE SQLITE_LOCKED_SHAREDCACHE SQLITE_LOCKED_VTAB
    SQLITE_NOTICE_RECOVER_ROLLBACK SQLITE_NOTICE_RECOVER_WAL SQLITE_OK_LOAD_PERMANENTLY
    SQLITE_READONLY_CANTINIT SQLITE_READONLY_CANTLOCK SQLITE_READONLY_DBMOVED
    SQLITE_READONLY_DIRECTORY SQLITE_READONLY_RECOVERY SQLITE_READONLY_ROLLBACK
    SQLITE_WARNING_AUTOINDEX
    """.split()
)


_NOT_AUTHORIZED_FUNCTION = "not authorized to use function: "


def _sqlite_error(exc: BaseException, seg: _Segment, conn: driver.Connection) -> BaseException:
    """A SQLite error as workerd reports it (`dbErrorMessage()`): `<errmsg>[ at offset N]:
    SQLITE_<CODE>`, then ` (extended: SQLITE_<CODE>_<DETAIL>)` for the extended codes workerd
    names."""
    code = driver.error_code(exc)
    if code is None:
        return exc
    if code & 0xFF == 9:  # SQLITE_INTERRUPT: our progress handler stopped it (a limit, or shutdown)
        with trusted(conn):  # the CPU limit resets the object, which rolls its transaction back
            stop = _watchdog.interruption()
        if stop is not None:
            return stop
    message = _CF_KV_COLUMN.sub(_as_workerd_kv_column, str(exc))
    if message.startswith(_NOT_AUTHORIZED_FUNCTION) and message[len(_NOT_AUTHORIZED_FUNCTION):] in ABSENT_FUNCTIONS:
        message = "no such function: " + message[len(_NOT_AUTHORIZED_FUNCTION):]
    offset = driver.error_offset(exc)
    if offset >= 0:  # SQLite's own offset, in the text it prepared (ours starts with the prefix)
        offset = max(0, offset - len(_USER_PREFIX))
    else:
        offset = _error_offset(message, seg.text)
    if offset >= 0:
        message = f"{message} at offset {seg.base + offset}"
    name = _CODE_NAMES.get(code & 0xFF, f"SQLITE_UNKNOWN_ERROR_CODE({code & 0xFF})")
    extended = driver.extended_name(exc)
    if code != code & 0xFF and extended in _WORKERD_EXTENDED_NAMES:
        return JsError(f"{message}: {name} (extended: {extended})")
    return JsError(f"{message}: {name}")


# ---------------------------------------------------------------------------------------
# Bindings and values

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
#: JS numbers hold integers exactly up to Number.MAX_SAFE_INTEGER; beyond it an INTEGER comes
#: back as the nearest float (the oracle's 2**53 + 10).
_MAX_SAFE = 2**53 - 1
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _js_date_string(value: _dt.datetime) -> str:
    """JS `String(date)` as workerd prints it (its time zone is always UTC), e.g.
    `Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)` (oracle). A naive
    datetime counts as UTC; an aware one is converted to UTC. Microseconds are dropped."""
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc)
    return (
        f"{_DAYS[value.weekday()]} {_MONTHS[value.month - 1]} {value.day:02d} "
        f"{value.year:04d} {value.hour:02d}:{value.minute:02d}:{value.second:02d} "
        "GMT+0000 (Coordinated Universal Time)"
    )


def _js_to_string(value: object) -> str:
    """JS `String(value)` for the element of an array binding."""
    if value is None:
        return ""  # Array.prototype.join writes null and undefined as ""
    if isinstance(value, str):
        return js_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return js_string(int(value))  # however many digits, as String(n) of a BigInt
    if isinstance(value, float):
        return js_number_string(float(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ",".join(map(str, bytes(value)))  # a Uint8Array joins its bytes
    if isinstance(value, _dt.datetime):
        return _js_date_string(value)
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, (list, tuple)):
        return ",".join([_js_to_string(item) for item in value])  # plain Python calls, see values.check_nesting
    raise TypeError(f"Unsupported type for a SQL binding: {type(value).__name__}")


def _binding(value: object) -> object:
    """One binding, as workerd's `BindingValue` (string, number, ArrayBuffer, null) gets it."""
    t = type(value)
    if t is str:
        return value  # a lone surrogate is kept: exec() binds it as workerd does (WTF-8 text)
    if t is int:
        # Python Workers hand an int to JS as a number (a BigInt beyond 2**53), and workerd
        # binds a number as REAL: `SELECT ? / 2` with 7 is 3.5 on the platform.
        if -_MAX_SAFE <= value <= _MAX_SAFE:
            return float(value)
        raise TypeError(BIGINT_BINDING)
    if t is float or t is bytes or value is None:
        return value
    if t is bool:
        return "true" if value else "false"  # JS String(true); oracle: `true` -> "true"
    if isinstance(value, str):
        return js_string(value)
    if isinstance(value, int):
        return _binding(int(value))
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)  # a BLOB, copied as the call is made
    if isinstance(value, _dt.datetime):
        return _js_date_string(value)  # oracle: a Date binds as its toString() text
    if isinstance(value, dict):
        return "[object Object]"  # oracle: `{a: 1}` binds as "[object Object]"
    if isinstance(value, (list, tuple)):
        return ",".join(map(_js_to_string, value))  # String([1, 2]) == "1,2"
    raise TypeError(f"Unsupported type for a SQL binding: {type(value).__name__}")


def _lone_surrogate_params(params: tuple) -> set[int]:
    """The 1-based positions of the str bindings that hold a lone surrogate."""
    found = set()
    for i, value in enumerate(params):
        if type(value) is str and not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                found.add(i + 1)
    return found


def _as_wtf8_text(seg: _Segment, params: tuple, positions: set[int]) -> tuple[_Segment, tuple]:
    """workerd binds a JS string as its WTF-8 bytes, so a lone surrogate reaches SQLite as
    ED A0 80 (`hex(?)` = 'EDA080'), in TEXT. SQLite's text binding wants valid UTF-8, so those
    parameters go in as bytes and their `?` in the statement becomes `CAST(? AS TEXT)`."""
    params = tuple(
        v.encode("utf-8", "surrogatepass") if i + 1 in positions else v for i, v in enumerate(params)
    )
    text = seg.text
    out = []
    pos = 0
    count = 0
    for m in _SQL_TOKEN.finditer(text):
        if m.group() != "?":
            continue
        digits = _DIGITS.match(text, m.end())
        end = digits.end() if digits else m.end()
        index = int(digits.group()) if digits else count + 1
        count = max(count, index)
        if index in positions:
            out.append(text[pos : m.start()])
            out.append(f"CAST({text[m.start():end]} AS TEXT)")
            pos = end
    out.append(text[pos:])
    return _Segment("".join(out), seg.base), params


_DIGITS = re.compile(r"\d+")

#: TEXT that is not valid UTF-8 (`CAST(x'ff' AS TEXT)`) reads back with U+FFFD for each bad
#: sequence, as JavaScript decodes it on the platform; Python's sqlite3 would raise instead.
_LENIENT_TEXT = functools.partial(str, encoding="utf-8", errors="replace")


def _unhex_text(row: tuple | None) -> tuple | None:
    """A row of `SqlStorageCursor._reread()`: each str is 't' + the hex of a TEXT value."""
    if row is None:
        return None
    return tuple(
        bytes.fromhex(v[1:]).decode("utf-8", "replace") if type(v) is str else v for v in row
    )


def _js_number(v):
    """A SQL number as Python Workers see it: a JS number, which Pyodide turns into an int when
    it is a safe integer (REAL 3.0 reads as 3) and into a float otherwise (2**53 + 10 too).
    A BLOB is an ArrayBuffer in JavaScript, which Pyodide hands to Python as a memoryview."""
    t = type(v)
    if t is bytes:
        return memoryview(v)
    if t is int:
        return v if -_MAX_SAFE <= v <= _MAX_SAFE else float(v)
    if t is float and v.is_integer() and -_MAX_SAFE <= v <= _MAX_SAFE:
        return int(v)
    return v


def _needs_conversion(row: tuple) -> bool:
    for v in row:
        t = type(v)
        if (t is int and not -_MAX_SAFE <= v <= _MAX_SAFE) or (t is float and v.is_integer()) or t is bytes:
            return True
    return False


def _values(row: tuple) -> list:
    """A result row as values, numbers as JS numbers (see `_js_number`)."""
    if _needs_conversion(row):
        return [_js_number(x) for x in row]
    return list(row)


def _dict(names: list[str], row: tuple) -> JsDict:
    """A result row as a JsDict (a repeated name keeps the last value, as in JS)."""
    if _needs_conversion(row):
        return JsDict(zip(names, [_js_number(x) for x in row]))
    return JsDict(zip(names, row))


# ---------------------------------------------------------------------------------------
# SqlStorage and its cursor


class SqlStorageStatement:
    """The type of workerd's prepared statements (`sql.prepare()`).

    `prepare()` needs a compatibility flag and is not part of this emulator; the class is
    here because `sql.Statement` exists on the platform. Like in JS, it cannot be built.
    """

    __slots__ = ()

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("Illegal constructor")


@js_api
class SqlStorageCursor:
    """The result of `sql.exec()`: an iterator over the rows of the last statement.

    Python iteration (`for row in cursor`, `next(cursor)`) and JS-style `cursor.next()`
    (`{"done": False, "value": row}`, then `{"done": True}`) take rows in turn, as do
    `toArray()`, `one()` and `raw()`. Rows are `JsDict`s (a repeated column name keeps the
    last value); `raw()` rows are lists with every value.
    """

    __slots__ = (
        "_sql", "_seg", "_params", "_cur", "_names", "_next", "_read", "_written", "_fetched", "_hex_text",
        "_watch", "__weakref__",
    )

    def __init__(self) -> None:
        raise TypeError("Illegal constructor")  # made by SqlStorage.exec()

    @classmethod
    def _open(
        cls, sql: SqlStorage, seg: _Segment, params: tuple, cur: object, names: list[str], read: int, written: int,
        watch: bool = False,
    ) -> SqlStorageCursor:
        self = object.__new__(cls)
        self._sql = sql
        self._seg = seg
        self._params = params
        self._cur = cur
        self._names = names
        self._fetched = 0  # rows taken from the driver's cursor so far
        self._hex_text = False  # the rows come from _reread(): TEXT values as 't' + hex
        self._watch = watch  # its read count is known exactly when it finishes (_finished)
        self._next = None
        self._read = 0
        self._written = 0
        if read or written:
            self._count(read, written)
        self._advance()  # one row ahead, like workerd
        return self

    # -- internals

    def _count(self, read: int, written: int) -> None:
        if read:
            self._read += read
        if written:
            self._written += written
        self._sql._report(read, written)

    def _approximate(self, rows: int, changed: int) -> tuple[int, int]:
        """Without the counting SQLite: the rows read and written by a fetch that returned
        `rows` rows while SQLite changed `changed` rows."""
        seg = self._seg
        if seg.create:
            changed = 0  # counted once by SqlStorage._step() (schema rows)
        return (changed if seg.read_changes else 0) + (rows if seg.count_rows else 0), changed

    def _advance(self) -> None:
        """Fetch the next row into `_next` (None at the end), counting rows. Called only while
        the sqlite3 cursor is open (`_next` is set only while `_cur` is)."""
        row, read, written = self._fetch(False)
        if row is None:
            self._close()
        if read or written:
            self._count(read, written)
        if row is None:
            self._finished()
        self._next = row

    def _finished(self) -> None:
        """The statement ran to its end: where the rows it read can be known exactly from how
        far it scanned (see `_scan_reads`), the count becomes that."""
        sql = self._sql
        if not self._watch:
            return
        stats = sql._guard.finished.pop(self._seg.sql, None)
        if stats is None:
            return
        total = _scan_reads(sql._conn, self._seg, self._params, stats, self._fetched)
        if total is not None and total != self._read:
            delta = total - self._read
            self._read = total
            if delta > 0:
                sql._report(delta, 0)

    def _fetch(self, all_rows: bool):
        """Fetch the next row (or all the rest) as user SQL; returns the row or rows and the
        rows read and written meanwhile. An error closes the cursor."""
        sql = self._sql
        conn = sql._conn
        guard = sql._guard
        depth = guard.user_begin(conn) if guard.depth else 0
        exact = driver.ROW_COUNTS
        if exact:
            driver.row_counts(conn)  # count from here (other statements may have run since)
        before = conn.total_changes
        lenient = driver.LENIENT_TEXT_FACTORY
        if lenient:
            conn.text_factory = _LENIENT_TEXT
        watch = self._watch
        if watch:
            driver.watch_statement_ends(conn, guard.statement_finished)
        try:
            with _watchdog.IN_SQLITE:
                try:
                    result = self._cur.fetchall() if all_rows else self._cur.fetchone()
                except UnicodeDecodeError:
                    if not self._reread(conn):
                        raise
                    result = self._cur.fetchall() if all_rows else self._cur.fetchone()
                if self._hex_text:
                    result = [_unhex_text(r) for r in result] if all_rows else _unhex_text(result)
                self._fetched += len(result) if all_rows else result is not None
        except driver.Error as exc:
            self._close()
            raise _sqlite_error(exc, self._seg, conn) from None
        finally:
            if lenient:
                conn.text_factory = str
            if watch:
                driver.unwatch_statement_ends(conn)
            if depth:
                guard.user_end(conn, depth)
        if exact:
            return (result, *driver.row_counts(conn))
        return (result, *self._approximate(len(result) if all_rows else result is not None, conn.total_changes - before))

    def _reread(self, conn) -> bool:
        """TEXT that is not valid UTF-8 (`CAST(x'ff' AS TEXT)`) reads with U+FFFD for each bad
        sequence on the platform, as JavaScript decodes it; apsw refuses to decode it. Run a
        query (a SELECT, VALUES or WITH) again with its TEXT values as hex, skip the rows
        already taken and go on from there. False if the query cannot be read that way."""
        seg = self._seg
        first = _FIRST_WORD.match(seg.text)
        if first is None or first.group().upper() not in ("SELECT", "VALUES", "WITH"):
            return False
        n = len(self._names)
        cols = ", ".join(f"c{i}" for i in range(n))
        values = ", ".join(
            f"CASE typeof(c{i}) WHEN 'text' THEN 't' || hex(c{i}) ELSE c{i} END" for i in range(n)
        )
        body = seg.text.rstrip(_WS_CHARS + ";")
        text = f"{_USER_PREFIX}WITH _dojo_rows({cols}) AS ({body}\n) SELECT {values} FROM _dojo_rows"
        self._cur.close()
        self._cur, _ = driver.execute_user(conn, text, self._params)
        for _ in range(self._fetched):
            self._cur.fetchone()
        if driver.ROW_COUNTS:
            driver.row_counts(conn)  # the rows skipped again were counted the first time
        self._hex_text = True
        return True

    def _close(self) -> None:
        cur = self._cur
        if cur is not None:
            self._cur = None
            cur.close()
        self._next = None

    def _take(self) -> tuple | None:
        row = self._next
        if row is not None:
            self._advance()
        return row

    def _drain(self) -> list[tuple]:
        """All remaining rows at once, for toArray() (`_next` is set only while `_cur` is)."""
        row = self._next
        if row is None:
            return []
        rest, read, written = self._fetch(True)
        self._close()
        if read or written:
            self._count(read, written)
        self._finished()
        rest.insert(0, row)
        return rest

    # -- the Python iterator protocol

    def __iter__(self) -> SqlStorageCursor:
        return self

    def __next__(self) -> JsDict:
        row = self._take()
        if row is None:
            raise StopIteration
        return _dict(self._names, row)

    # -- the JS API

    def next(self) -> JsDict:
        """JS iterator protocol: `{done: False, value: row}`, then `{done: True, value: None}`."""
        row = self._take()
        if row is None:
            return JsDict(done=True, value=None)
        return JsDict(done=False, value=_dict(self._names, row))

    def toArray(self) -> list[JsDict]:  # noqa: N802 - the JS name
        """The remaining rows."""
        names = self._names
        return [_dict(names, row) for row in self._drain()]

    def one(self) -> JsDict:
        """The only row; an error with none or more than one (the cursor is then used up)."""
        row = self._take()
        if row is None:
            raise JsError(ONE_NO_RESULTS)
        if self._next is not None:
            self._close()
            raise JsError(ONE_MULTIPLE_RESULTS)
        return _dict(self._names, row)

    def raw(self) -> _RawIterator:
        """An iterator over the same remaining rows, each a list of values."""
        return _RawIterator(self)

    @property
    def columnNames(self) -> list[str]:  # noqa: N802 - the JS name
        """Column names in order, repeats included; readable after the rows are consumed."""
        return list(self._names)

    @property
    def rowsRead(self) -> int:  # noqa: N802 - the JS name
        """Rows read so far (workerd's count with the counting SQLite, else approximated: see
        the module docstring)."""
        return self._read

    @property
    def rowsWritten(self) -> int:  # noqa: N802 - the JS name
        """Rows written so far (workerd's count with the counting SQLite, else approximated)."""
        return self._written

    def __repr__(self) -> str:
        state = "done" if self._next is None else "open"
        return f"<SqlStorageCursor {state} columnNames={self._names!r}>"


class _RawIterator:
    """`cursor.raw()`: rows as lists, from the same cursor."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: SqlStorageCursor) -> None:
        self._cursor = cursor

    def __iter__(self) -> _RawIterator:
        return self

    def __next__(self) -> list:
        row = self._cursor._take()
        if row is None:
            raise StopIteration
        return _values(row)

    def next(self) -> JsDict:
        """JS iterator protocol: `{done: False, value: [...]}`, then `{done: True, value: None}`."""
        row = self._cursor._take()
        if row is None:
            return JsDict(done=True, value=None)
        return JsDict(done=False, value=_values(row))


@js_api
class SqlStorage:
    """`ctx.storage.sql` of a SQLite-backed object.

    `before_statement()` runs once per `exec()` before its first statement (the emulator
    opens its implicit transaction there). `counters`, if given, has `rows_read(n)` and
    `rows_written(n)`, called with each increase, for every statement a query runs.
    """

    Cursor = SqlStorageCursor
    Statement = SqlStorageStatement

    __slots__ = ("_fixed", "_db", "_trusted_by_default", "_before", "_counters", "_open")

    def __init__(
        self,
        conn,
        *,
        before_statement: Callable[[], object] | None = None,
        counters: Any = None,
        trusted_by_default: bool = False,
    ) -> None:
        """`conn` is a sqlite3 connection, or a database whose connection may close and open
        again (a `kvstore.SharedDb` under the open-files bound): then the guard rails are set up
        on each new connection, and the connection stays open while a cursor is unfinished."""
        self._before = before_statement
        self._counters = counters
        self._trusted_by_default = trusted_by_default
        self._open: weakref.WeakSet[SqlStorageCursor] = weakref.WeakSet()
        if isinstance(conn, driver.Connection):
            self._fixed, self._db = conn, None
            if _GUARDS.get(id(conn)) is None or trusted_by_default:
                secure(conn, trusted_by_default=trusted_by_default)
            self._install_progress_handler(conn)
        else:
            self._fixed, self._db = None, conn
            conn.on_open = self._connected
            conn.on_close = release
            conn.keep_open = self._has_unfinished_cursors
            self._connected(conn.conn)

    @property
    def _conn(self) -> driver.Connection:
        return self._fixed if self._fixed is not None else self._db.conn

    @property
    def _guard(self) -> SqlGuard:
        return _guard_of(self._conn)

    def _connected(self, conn: driver.Connection) -> None:
        secure(conn, trusted_by_default=self._trusted_by_default)
        self._install_progress_handler(conn)

    @staticmethod
    def _install_progress_handler(conn: driver.Connection) -> None:
        # The CPU limit and the hang timeout reach inside SQLite's C code through this.
        conn.set_progress_handler(_watchdog.sqlite_progress, _watchdog.SQLITE_PROGRESS_STEPS)

    def _has_unfinished_cursors(self) -> bool:
        return any(cursor._cur is not None for cursor in self._open)

    # -- exec

    def exec(self, query: str, *bindings: object) -> SqlStorageCursor:
        """Run `query` now (synchronously) and return a cursor over its last statement."""
        if type(query) is not str:
            if not isinstance(query, str):
                raise TypeError(f"SQL query must be a string, not {type(query).__name__}")
            query = str.__str__(query)
        plan = _PLANS.get(query) or _plan(query)
        params = tuple(map(_binding, bindings)) if bindings else ()
        if self._before is not None:
            self._before()
        for seg in plan.earlier:
            cur, _, read, written, _ = self._step(seg, (), False)
            cur.close()
            self._report(read, written)
        last = plan.last
        if last is None:
            raise JsError(NO_STATEMENT)
        lone = _lone_surrogate_params(params)
        if lone:
            last, params = _as_wtf8_text(last, params, lone)
        cur, names, read, written, watch = self._step(last, params, True)
        cursor = SqlStorageCursor._open(self, last, params, cur, names, read, written, watch)
        if cursor._cur is not None:
            self._open.add(cursor)
        return cursor

    def _report(self, read: int, written: int) -> None:
        """Feed rows read and written into the namespace's metrics (if it keeps any)."""
        counters = self._counters
        if counters is not None:
            if read:
                counters.rows_read(read)
            if written:
                counters.rows_written(written)

    def _step(self, seg: _Segment, params: tuple, is_last: bool) -> tuple[object, list[str], int, int, bool]:
        """Prepare `seg` and step it once (what the driver's execute() does).

        Returns the driver's cursor, the column names and the rows read and written by that
        first step.
        """
        conn = self._conn
        guard = self._guard
        exact = driver.ROW_COUNTS
        version = self._schema_version() if seg.create == 2 and not exact else None
        before = conn.total_changes
        guard.txn_denied = False
        depth = guard.user_begin(conn) if guard.depth else 0
        changes: list | None = None
        if exact:
            driver.row_counts(conn)  # count from here
        elif seg.writes and driver.HAS_ROW_CHANGES:
            changes = []
            driver.watch_row_changes(conn, lambda *change: changes.append(change))
        watch = (
            not exact and seg.count_rows and driver.HAS_STATEMENT_STATS and _scan_shape(conn, seg, params) is not None
        )
        if watch:
            driver.watch_statement_ends(conn, guard.statement_finished)
        try:
            with _watchdog.IN_SQLITE:
                cur, names = driver.execute_user(conn, seg.sql, params)
        except driver.Error as exc:
            if driver.is_binding_count_error(exc):
                message = WRONG_BINDING_COUNT if is_last else MULTI_STATEMENT_PARAMETERS
                raise JsError(message) from None
            if guard.txn_denied:
                guard.txn_denied = False
                raise JsError(TRANSACTION_FORBIDDEN) from None
            raise _sqlite_error(exc, seg, conn) from None
        finally:
            if changes is not None:
                driver.unwatch_row_changes(conn)
            if watch:
                driver.unwatch_statement_ends(conn)
            if depth:
                guard.user_end(conn, depth)
        if exact:
            return (cur, names, *driver.row_counts(conn), False)
        if seg.create:
            # A CREATE that changed the schema: 1 schema row read, 2 written (the oracle's
            # numbers); one that did nothing (IF NOT EXISTS): 0 and 0.
            if version is None or self._schema_version() != version:
                return cur, names, 1, 2, watch
            return cur, names, 0, 0, watch
        changed = conn.total_changes - before
        written = _rows_written(conn, guard, changes) if changes else changed
        read = changed if seg.read_changes else 0
        if changes is not None and seg.writes and _scan_shape(conn, seg, params) == ("lookup",):
            read = sum(1 for change in changes if change[0] == "INSERT") if seg.inserts else 1
        return cur, names, read, written, watch

    def _schema_version(self) -> int:
        conn = self._conn
        with trusted(conn):
            return conn.execute("PRAGMA schema_version").fetchone()[0]

    # -- the rest of the JS API

    @property
    def databaseSize(self) -> int:  # noqa: N802 - the JS name
        """Bytes in use: (pages - free pages) * page size, as workerd computes it."""
        conn = self._conn
        with trusted(conn):
            pages, free, size = conn.execute(_PAGE_SIZE_QUERY).fetchone()
        return (pages - free) * size

    def __repr__(self) -> str:
        return "<SqlStorage>"

    # -- for the emulator

    def reset_database(self) -> None:
        """Drop every user table, index, view and trigger (for `deleteAll()`).

        Objects named `_cf_...` (the emulator's) and `sqlite_...` (SQLite's) stay. Unfinished
        cursors are closed first (a live cursor would make DROP fail with `database table is
        locked`); they then return no more rows. Foreign keys are deferred while the tables
        go, so parents, children and cycles drop in any order; the user's own
        `defer_foreign_keys` setting is put back.
        """
        for cursor in list(self._open):
            cursor._close()
        self._open.clear()
        conn = self._conn
        with trusted(conn):
            rows = conn.execute(
                "SELECT type, name, sql FROM sqlite_master "
                "WHERE type IN ('table', 'view', 'trigger')"
            ).fetchall()
            user = [
                (kind, _quote(name), (text or "").upper().startswith("CREATE VIRTUAL"))
                for kind, name, text in rows
                if _allowed_name(name) and not name.lower().startswith("sqlite_")
            ]
            # Triggers and views first, then virtual tables (they take their shadow tables
            # along), then the other tables; indexes go with their tables.
            drops = [f"DROP TRIGGER IF EXISTS {q}" for kind, q, _ in user if kind == "trigger"]
            drops += [f"DROP VIEW IF EXISTS {q}" for kind, q, _ in user if kind == "view"]
            drops += [f"DROP TABLE IF EXISTS {q}" for kind, q, vt in user if kind == "table" and vt]
            drops += [f"DROP TABLE IF EXISTS {q}" for kind, q, vt in user if kind == "table" and not vt]
            if not drops:
                return
            deferred = conn.execute("PRAGMA defer_foreign_keys").fetchone()[0]
            conn.execute("SAVEPOINT _cf_reset_database")
            try:
                conn.execute("PRAGMA defer_foreign_keys = ON")
                for statement in drops:
                    conn.execute(statement)
                conn.execute(f"PRAGMA defer_foreign_keys = {int(deferred)}")
                conn.execute("RELEASE _cf_reset_database")
            except BaseException:
                conn.execute("ROLLBACK TO _cf_reset_database")
                conn.execute("RELEASE _cf_reset_database")
                conn.execute(f"PRAGMA defer_foreign_keys = {int(deferred)}")
                raise


#: Opcodes whose execution workerd's patched SQLite counts as rows read
#: (patches/sqlite/0001-row-counts-plain.patch): seeks, rewinds (OP_Sort and OP_SorterSort
#: run OP_Rewind's code), successful steps (OP_SorterNext and OP_Prev share OP_Next's), the
#: entries OP_Count counts, virtual table steps.
_READ_OPS = frozenset(
    """Rewind Sort SorterSort Next Prev SorterNext SeekGE SeekGT SeekLE SeekLT SeekRowid
    NotExists Last Count VNext""".split()
)


def _scan_shape(conn, seg: _Segment, params: tuple):
    """What the statement's program reads, if it is one of the shapes whose count follows from
    what SQLite tells: ("scan",) one full scan of a table or index; ("sorted",) one full scan
    into a sorter; ("count", table) `count(*)` of a whole table (OP_Count); ("lookup",) one
    seek by rowid. None otherwise.
    Cached on the segment per schema version."""
    with trusted(conn):
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        cached = getattr(seg, "_shape", None)
        if cached is not None and cached[0] == version:
            return cached[1]
        try:
            program = conn.execute("EXPLAIN " + seg.sql, params).fetchall()
            shape = _classify(conn, program)
        except (driver.Error, UnicodeDecodeError):  # e.g. a literal that is not UTF-8 in P4
            shape = None
    seg._shape = (version, shape)
    return shape


def _classify(conn, program: list):
    ephemeral = {row[2] for row in program if row[1] in ("OpenEphemeral", "OpenAutoindex", "OpenPseudo")}
    reads = [(row[1], row[2], row[6]) for row in program if row[1] in _READ_OPS]
    ops = sorted(op for op, _, _ in reads)
    if any(cursor in ephemeral for _, cursor, _ in reads):
        return None
    if ops == ["SeekRowid"] or ops == ["NotExists"]:
        # One lookup by rowid: `... WHERE id = ?` (once, found or not), or an INSERT's check
        # that an explicit rowid is free (once per row it inserts).
        return ("lookup",)
    scans = [(op, cursor, p5) for op, cursor, p5 in reads if op in ("Rewind", "Next")]
    if ops == ["Next", "Rewind"] and scans[0][1] == scans[1][1] and any(p5 == 1 for _, _, p5 in scans):
        return ("scan",)
    if ops == ["Next", "Rewind", "SorterNext", "SorterSort"] and any(p5 == 1 for _, _, p5 in scans):
        return ("sorted",)
    if ops == ["Count"]:
        count = next(row for row in program if row[1] == "Count")
        if count[4] != 0:  # an estimate, not a count
            return None
        root = next((row[3] for row in program if row[1] == "OpenRead" and row[2] == count[2]), None)
        found = conn.execute("SELECT tbl_name FROM sqlite_master WHERE rootpage = ?", (root,)).fetchone()
        return ("count", found[0]) if found else None
    return None


def _scan_reads(conn, seg: _Segment, params: tuple, fullscan_steps: int, rows: int):
    """Rows read by a finished statement of a known shape (see `_scan_shape`), as workerd counts
    them: a full scan reads 1 for its rewind and 1 per step after it (an empty table reads 1);
    a sorter adds 1 for its sort and 1 per row it hands out after the first; `count(*)` reads
    every entry. None for other statements."""
    shape = _scan_shape(conn, seg, params)
    if shape is None:
        return None
    if shape[0] == "scan":
        return 1 + fullscan_steps
    if shape[0] == "sorted":
        return 1 + fullscan_steps + 1 + max(rows - 1, 0)
    if shape[0] == "lookup":
        return 1  # the one seek by rowid, found or not
    with trusted(conn):
        return conn.execute(f"SELECT count(*) FROM {_quote(shape[1])}").fetchone()[0]


def _rows_written(conn, guard: SqlGuard, changes: list) -> int:
    """Rows written as workerd's patched SQLite counts them (`LIBSQL_STMTSTATUS_ROWS_WRITTEN`):
    1 per table row inserted, updated or deleted, plus 1 per index entry inserted: all the
    table's indexes for an INSERT, those over a changed column for an UPDATE (SQLite rewrites
    them; a column set to its own value counts as unchanged here, where SQLite rewrites it too),
    none for a DELETE (index deletions are not counted). Triggers' and cascades' rows count too,
    as they run in the same statement."""
    with trusted(conn):
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
    if guard.indexes[0] != version:
        guard.indexes = (version, {})
    indexes = guard.indexes[1]
    written = 0
    for op, table, changed, moved in changes:
        if op == "DELETE":
            written += 1
            continue
        columns = indexes.get(table)
        if columns is None:
            columns = indexes[table] = _index_columns(conn, table)
        if op == "INSERT":
            written += 1 + len(columns)
        else:
            written += 1 + sum(1 for cols in columns if moved or cols is None or not cols.isdisjoint(changed))
    return written


def _index_columns(conn, table: str) -> list:
    """For each index of `table` that SQLite keeps apart from the table's own b-tree: the set
    of its column numbers (None if it indexes an expression)."""
    with trusted(conn):
        row = conn.execute("SELECT wr FROM pragma_table_list(?)", (table,)).fetchone()
        without_rowid = bool(row and row[0])
        out = []
        for name, origin in conn.execute("SELECT name, origin FROM pragma_index_list(?)", (table,)).fetchall():
            if without_rowid and origin == "pk":
                continue  # the table itself
            cids = [r[0] for r in conn.execute("SELECT cid FROM pragma_index_info(?)", (name,)).fetchall()]
            out.append(None if any(c < 0 for c in cids) else frozenset(cids))
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
