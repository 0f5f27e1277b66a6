"""The SQLite library under the core: apsw when it is installed, else the standard `sqlite3`.

workerd embeds a current SQLite (3.54.1 in workerd 1.20261117.1), and user SQL sees its
functions (`unhex`, `concat`, `string_agg`, `jsonb`, `unixepoch(..., 'subsec')`...), its error
messages and its error offsets. Python's `sqlite3` links whatever SQLite the system has (3.40.1
on Debian 12), so the emulator uses apsw, which ships the current SQLite inside its wheel and
exposes the C API the SQL API needs: the authorizer, the progress handler, limits, extended
result codes and `sqlite3_error_offset()`. apsw is a dependency of the project, so it is there
for every install from PyPI; in the browser (Pyodide) the core runs on the standard `sqlite3`
instead, with what that SQLite offers. This module is the one place that knows which.

Everything the core does with SQLite goes through the small surface below, which is a subset
of the standard `sqlite3` API (so the fallback needs no adapter at all):

* `connect(path)` gives a connection in autocommit mode (no implicit BEGIN) with `execute`,
  `executemany`, `cursor`, `in_transaction`, `total_changes`, `getlimit`/`setlimit`,
  `set_authorizer`, `set_progress_handler` and `close`;
* `execute_user(conn, sql, params)` runs one statement and also returns its column names
  (apsw forgets them once a statement has run to its end);
* `Error`, `error_code()`, `error_offset()`, `extended_name()`, `is_binding_count_error()`
  read an error the same way whichever library raised it;
* `row_counts()` (`ROW_COUNTS`): the rows read and written since the last call, as workerd's
  SQLite counts them; only with the counting SQLite below;
* `watch_row_changes()` (apsw only, `HAS_ROW_CHANGES`) sees each row a statement changes, and
  `watch_statement_ends()` (`HAS_STATEMENT_STATS`) how far a finished statement scanned: what
  the SQL API approximates the counts from without the counting SQLite;
* `complete_statement()`, `SQLITE_VERSION` and the C constants.

Which SQLite is active (`DESCRIPTION` says it in words):

* **the counting SQLite** (`ROW_COUNTS` true): apsw 3.54.1.0 built by `make env-test`
  (`tools/counting_sqlite.py`) on SQLite 3.54.1 with counters at the bytecode sites where
  workerd's SQLite counts `rowsRead` / `rowsWritten`, read through `sqlite3_db_status()`
  (verb `ROW_COUNTS_STATUS`); it also has workerd's `UPDATE/DELETE ... LIMIT`;
* **PyPI's apsw** (where no C compiler built the above): the same SQLite without counters;
* **the standard `sqlite3`** (Pyodide, or no apsw at all).
"""

from __future__ import annotations

try:  # the one optional import of the core (tests/test_architecture.py allows exactly this)
    import apsw
except ImportError:  # Pyodide, or an install without it: the standard library's SQLite
    apsw = None
import sqlite3 as _stdlib

__all__ = [
    "BACKEND",
    "DESCRIPTION",
    "ROW_COUNTS",
    "Connection",
    "Error",
    "SQLITE_VERSION",
    "complete_statement",
    "connect",
    "error_code",
    "error_offset",
    "execute_user",
    "extended_name",
    "is_binding_count_error",
]

# The C constants (authorizer actions and answers, limit categories) are SQLite's own numbers;
# the standard module defines every one the core uses, whichever library runs the statements.
C = _stdlib

#: The `sqlite3_db_status()` verb of the counting SQLite: (rows read, rows written) since the
#: last reset (tools/counting_sqlite.py defines it; stock SQLite answers SQLITE_ERROR).
ROW_COUNTS_STATUS = 7401

if apsw is not None:
    BACKEND = "apsw"
    SQLITE_VERSION: str = apsw.sqlite_lib_version()
    Error: type[BaseException] = apsw.Error
    complete_statement = apsw.complete
    #: Whether `conn.text_factory` can decode invalid UTF-8 leniently (apsw always decodes strictly).
    LENIENT_TEXT_FACTORY = False

    _URI_FLAGS = apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE | apsw.SQLITE_OPEN_URI

    class Connection(apsw.Connection):
        """An apsw connection with the few `sqlite3.Connection` spellings the core uses."""

        total_changes = property(apsw.Connection.total_changes)
        # sqlite3's getlimit(category) and setlimit(category, value) are apsw's limit(): the
        # C method itself, as the SQL API sets limits around every user statement.
        getlimit = apsw.Connection.limit
        setlimit = apsw.Connection.limit

    def connect(path: str) -> Connection:
        """A connection to `path` (a file, `:memory:` or a `file:` URI), in autocommit mode."""
        return Connection(path, flags=_URI_FLAGS)

    def execute_user(conn: Connection, sql: str, params: tuple) -> tuple[object, list[str]]:
        """Run one statement; return its cursor and its column names (read before it runs,
        while apsw still knows them)."""
        cur = conn.cursor()
        names: list[str] = []

        def remember_names(cursor, _sql, _bindings) -> bool:
            names.extend(d[0] for d in cursor.description)
            return True

        cur.exec_trace = remember_names
        cur.execute(sql, params)
        cur.exec_trace = None
        return cur, names

    _EXTENDED = apsw.mapping_extended_result_codes

    def error_code(exc: BaseException) -> int | None:
        """The extended result code of a SQLite error (None: not SQLite's own error)."""
        return getattr(exc, "extendedresult", None)

    def error_offset(exc: BaseException) -> int:
        """`sqlite3_error_offset()`: the byte offset of the token the error is about, or -1."""
        offset = getattr(exc, "error_offset", -1)
        return -1 if offset is None else offset

    def extended_name(exc: BaseException) -> str:
        """The name of the error's extended result code (`SQLITE_CONSTRAINT_UNIQUE`...)."""
        name = _EXTENDED.get(getattr(exc, "extendedresult", None), "")
        return name if isinstance(name, str) else ""

    def is_binding_count_error(exc: BaseException) -> bool:
        return isinstance(exc, apsw.BindingsError)

    #: Whether `watch_row_changes` sees row changes (SQLite's preupdate hook).
    HAS_ROW_CHANGES = hasattr(apsw, "PreUpdate")

    def watch_row_changes(conn: Connection, record) -> None:
        """Call `record(op, table, changed, moved)` for every row the next statements insert,
        update or delete: `changed` is the set of column numbers whose value an UPDATE changes,
        `moved` whether it changes the rowid (SQLite's preupdate hook)."""

        def hook(change) -> None:
            op = change.op
            if op == "UPDATE":
                changed = {i for i, v in enumerate(change.update) if v is not apsw.no_change}
                record(op, change.table_name, changed, change.rowid != change.rowid_new)
            else:
                record(op, change.table_name, None, False)

        conn.preupdate_hook(hook, id="dojo")

    def unwatch_row_changes(conn: Connection) -> None:
        conn.preupdate_hook(None, id="dojo")

    def _has_row_counts() -> bool:
        try:
            apsw.Connection(":memory:").status(ROW_COUNTS_STATUS)
        except apsw.Error:
            return False
        return True

    #: Whether SQLite counts rows read and written as workerd's does (the counting SQLite).
    ROW_COUNTS = _has_row_counts()
    _status = apsw.Connection.status

    def row_counts(conn: Connection) -> tuple[int, int]:
        """(rows read, rows written) by the statements the connection stepped since the last
        call (not by statements SQLite ran inside them), and start counting again from 0."""
        return _status(conn, ROW_COUNTS_STATUS, True)

    HAS_STATEMENT_STATS = True

    def watch_statement_ends(conn: Connection, record) -> None:
        """Call `record(sql, fullscan_steps)` when a statement finishes (is reset): the text it
        was prepared from and its `SQLITE_STMTSTATUS_FULLSCAN_STEP`, the rows a full scan
        stepped to after its first (via `sqlite3_trace_v2`'s profile event)."""

        def on_profile(event) -> None:
            record(event["sql"], event["stmt_status"]["SQLITE_STMTSTATUS_FULLSCAN_STEP"])

        conn.trace_v2(apsw.SQLITE_TRACE_PROFILE, on_profile, id="dojo")

    def unwatch_statement_ends(conn: Connection) -> None:
        conn.trace_v2(0, None, id="dojo")

else:
    BACKEND = "sqlite3"
    SQLITE_VERSION = _stdlib.sqlite_version
    Error = _stdlib.Error
    complete_statement = _stdlib.complete_statement
    LENIENT_TEXT_FACTORY = True
    Connection = _stdlib.Connection

    def connect(path: str) -> Connection:
        """A connection to `path` (a file, `:memory:` or a `file:` URI), in autocommit mode."""
        return _stdlib.connect(path, isolation_level=None, check_same_thread=False, uri=path.startswith("file:"))

    def execute_user(conn: Connection, sql: str, params: tuple) -> tuple[object, list[str]]:
        """Run one statement; return its cursor and its column names."""
        cur = conn.execute(sql, params)
        desc = cur.description
        return cur, [d[0] for d in desc] if desc else []

    #: Extended codes newer than the standard module's own name table (it says "unknown").
    _NEWER = {19 | 11 << 8: "SQLITE_CONSTRAINT_PINNED", 19 | 12 << 8: "SQLITE_CONSTRAINT_DATATYPE"}

    def error_code(exc: BaseException) -> int | None:
        """The extended result code of a SQLite error (None: not SQLite's own error)."""
        return getattr(exc, "sqlite_errorcode", None)

    def error_offset(exc: BaseException) -> int:
        """The standard module does not expose `sqlite3_error_offset()`: always -1."""
        return -1

    def extended_name(exc: BaseException) -> str:
        """The name of the error's extended result code (`SQLITE_CONSTRAINT_UNIQUE`...)."""
        return _NEWER.get(error_code(exc)) or getattr(exc, "sqlite_errorname", "")

    def is_binding_count_error(exc: BaseException) -> bool:
        return isinstance(exc, _stdlib.ProgrammingError) and str(exc).startswith("Incorrect number of bindings")

    ROW_COUNTS = False  # stock SQLite has no row counters

    def row_counts(conn: Connection) -> tuple[int, int]:
        raise NotImplementedError

    HAS_ROW_CHANGES = False  # the standard module has no preupdate hook

    def watch_row_changes(conn: Connection, record) -> None:
        raise NotImplementedError

    def unwatch_row_changes(conn: Connection) -> None:
        raise NotImplementedError

    HAS_STATEMENT_STATS = False  # no sqlite3_stmt_status in the standard module

    def watch_statement_ends(conn: Connection, record) -> None:
        raise NotImplementedError

    def unwatch_statement_ends(conn: Connection) -> None:
        raise NotImplementedError


#: Which SQLite the core runs on, in words (for reports and the install's message).
DESCRIPTION = (
    f"apsw {apsw.apswversion()} on SQLite {SQLITE_VERSION} with workerd's row counters"
    if ROW_COUNTS
    else f"apsw {apsw.apswversion()} on SQLite {SQLITE_VERSION} (rowsRead/rowsWritten approximate)"
    if apsw is not None
    else f"Python's sqlite3 on SQLite {SQLITE_VERSION} (rowsRead/rowsWritten approximate)"
)
