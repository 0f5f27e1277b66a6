"""Build apsw on a SQLite 3.54.1 that counts rows read and written the way workerd does.

workerd reports `rowsRead` / `rowsWritten` of every SQL statement from counters inside SQLite's
bytecode engine (its SQLite carries a patch for them). No SQLite on PyPI has such counters, so
this script makes one, from pinned, hash-checked downloads cached under `.cache/counting-sqlite/`:

1. the SQLite 3.54.1 amalgamation (`sqlite3.c`, public domain; the copy the npm package
   better-sqlite3 13.2.0 ships, byte for byte the source apsw 3.54.1.0's wheel was built from:
   same `SQLITE_SOURCE_ID`) and apsw 3.54.1.0's source distribution from PyPI;
2. `instrument()` adds a counter increment at each bytecode site where workerd's SQLite counts
   (the `SITES` table below says which and why); every anchor must match exactly once, or the
   build stops;
3. builds an apsw wheel against that amalgamation, with the wheel's compile options plus the
   ones of workerd's SQLite that change what SQL does (`UPDATE/DELETE ... LIMIT`);
4. installs the wheel into the running virtual environment (`python tools/counting_sqlite.py`
   from `make env-test`). A second run with nothing changed reinstalls from the cached wheel only
   if something (e.g. `uv sync`) put PyPI's apsw back, else does nothing.

The counters are read with `Connection.status(DOJO_DBSTATUS_ROW_COUNTS, reset)` (rows read,
rows written) and count only the statement being stepped by the application, not statements
SQLite runs inside it (schema reloads, FTS5's own queries), as workerd counts per statement.

If anything fails (no C compiler, no network), it prints one line and exits 0: the emulator
then runs on PyPI's apsw and `rowsRead` is approximate (`sqlite_driver.ROW_COUNTS` says which).
A failed build is remembered in the cache and not tried again until the cache is deleted.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "counting-sqlite"

AMALGAMATION = {
    "url": "https://registry.npmjs.org/better-sqlite3/-/better-sqlite3-13.2.0.tgz",
    "sha256": "40487589df3496f2ee0079d22b73c63fccebe7db0e8ee9a2c42421861e321e0b",
    # file in the tarball -> its sha256 (the SQLite 3.54.1 amalgamation, unmodified)
    "files": {
        "package/deps/sqlite3/sqlite3.c": "75a4760a7b9727a4c4c877aec92eacf39e52a8f2921ce00bd33be6d3a8e8e254",
        "package/deps/sqlite3/sqlite3.h": "d6c84557261893439b341d2e6c35187ae3ea24fbfd843ad94616f72d89242b8c",
        "package/deps/sqlite3/sqlite3ext.h": "48963abfefb41ac329ef9d706acb5eadba952a99a748285c9ded6b5e0942721b",
    },
}
APSW_SDIST = {
    "url": "https://files.pythonhosted.org/packages/84/75/be84a7237ea1af8374c67ff7468053bff538e1591526805c6574b2efef4d/apsw-3.54.1.0.tar.gz",
    "sha256": "d9fd64ed76dc0f3d2265d4aeedb74d678c2ac7dffbd4e8ba05bf9a87aa7c34d3",
    "top": "apsw-3.54.1.0",
}

#: The `sqlite3_db_status()` verb that reads (current = rows read, high-water = rows written).
#: `src/durable_dojo/_core/sqlite_driver.py` uses the same number.
DBSTATUS_ROW_COUNTS = 7401

#: Options of the PyPI wheel (`apsw.compile_options`) that apsw's setup.py sets: the extensions.
#: STAT4 is left out: workerd's SQLite (build/BUILD.sqlite3) has no STAT4, so ANALYZE writes
#: sqlite_stat1 only and the query planner chooses as workerd's does.
WHEEL_EXTENSIONS = "fts4,fts3,fts3_parenthesis,rtree,fts5,geopoly,math_functions,dbstat_vtab,session,percentile,carray,column_metadata"
#: workerd's SQLite compiles UPDATE/DELETE ... LIMIT in; the wheel does not.
WORKERD_DEFINES = "SQLITE_ENABLE_UPDATE_DELETE_LIMIT"

# ----------------------------------------------------------------------------------------------
# The instrumentation. Each site: the opcode (`case OP_X:` starts the region searched, the next
# `case OP_` ends it; None = the whole file), the exact anchor text, and the line put after it.

COUNTERS = f"""
/* Durable Dojo: rows read / written as workerd's SQLite counts them, for the statement the
** application steps (pDojoCounted, set by sqlite3_step), not for statements SQLite runs inside
** it (an extension's own queries and blob reads; init.busy: a schema reload).
** Read with sqlite3_db_status(). */
#define DOJO_DBSTATUS_ROW_COUNTS {DBSTATUS_ROW_COUNTS}
#define DOJO_COUNTS(db) ((db)->pDojoCounted==(void*)p && (db)->init.busy==0)
#define DOJO_READ(N) do{{ if( DOJO_COUNTS(db) ) db->dojoRowsRead += (N); }}while(0)
#define DOJO_WRITTEN(C, N) do{{ if( DOJO_COUNTS(db) && !(C)->isEphemeral ) db->dojoRowsWritten += (N); }}while(0)
"""

SITES: list[tuple[str | None, str, str, str]] = [
    # (region, anchor, text inserted after the anchor, why)
    (None, "  int nVdbeExec;                /* Number of nested calls to VdbeExec() */\n",
     "  sqlite3_int64 dojoRowsRead;    /* Durable Dojo: see DOJO_COUNTS */\n"
     "  sqlite3_int64 dojoRowsWritten; /* Durable Dojo: see DOJO_COUNTS */\n"
     "  void *pDojoCounted;            /* Durable Dojo: the statement the application steps */\n",
     "the counters and the statement they count live in the connection"),
    (None, "#endif /* SQLITE_OMIT_EXPLAIN */\n  {\n    db->nVdbeExec++;\n",
     "    if( db->nVdbeExec==1 ) db->pDojoCounted = p;  /* Durable Dojo: see DOJO_COUNTS */\n",
     "sqlite3_step() of a statement not run inside another: the one counted"),
    (None, "/************** Begin file vdbe.c ********************************************/\n",
     COUNTERS, "the macros, before the bytecode engine"),
    (None, "    case SQLITE_DBSTATUS_DEFERRED_FKS: {\n"
           "      *pHighwtr = 0;  /* IMP: R-11967-56545 */\n"
           "      *pCurrent = db->nDeferredImmCons>0 || db->nDeferredCons>0;\n"
           "      break;\n"
           "    }\n",
     f"    case {DBSTATUS_ROW_COUNTS}: {{  /* Durable Dojo: rows read, rows written */\n"
     "      *pCurrent = db->dojoRowsRead;\n"
     "      *pHighwtr = db->dojoRowsWritten;\n"
     "      if( resetFlag ){ db->dojoRowsRead = 0; db->dojoRowsWritten = 0; }\n"
     "      break;\n"
     "    }\n",
     "sqlite3_db_status() reads them"),
    ("OP_Count", "    rc = sqlite3BtreeCount(db, pCrsr, &nEntry);\n",
     "    DOJO_READ(nEntry);\n", "count(*) reads every entry it counts exactly"),
    ("OP_SeekGT", "    if( eqOnly && r.eqSeen==0 ){\n      assert( res!=0 );\n      goto seek_not_found;\n    }\n  }\n",
     "  DOJO_READ(1);\n", "a seek reads one row, unless an equality-only seek found no key"),
    ("OP_NotExists", "  pC->seekResult = res;\n",
     "  DOJO_READ(1);\n", "a rowid lookup (SeekRowid falls into NotExists) reads one, found or not"),
    ("OP_Insert", "  assert( (pOp->p5 & OPFLAG_LASTROWID)==0 || (pOp->p5 & OPFLAG_NCHANGE)!=0 );\n",
     "  DOJO_WRITTEN(pC, 1);\n", "a table row written (not a temporary table)"),
    ("OP_Delete", "  if( opflags & OPFLAG_NCHANGE ){\n",
     "    DOJO_WRITTEN(pC, 1);\n", "a table row deleted, counted as a change"),
    ("OP_Last", "  if( rc ) goto abort_due_to_error;\n",
     "  DOJO_READ(1);\n", "moving to the last row reads one, empty table or not"),
    ("OP_Rewind", "  if( rc ) goto abort_due_to_error;\n  pC->nullRow = (u8)res;\n",
     "  DOJO_READ(1);\n", "a rewind (sorters too) reads one, empty or not"),
    ("OP_Next", "    p->aCounter[pOp->p5]++;\n",
     "    DOJO_READ(1);\n", "every successful Next/Prev/SorterNext reads one"),
    ("OP_IdxInsert", "  if( pOp->p5 & OPFLAG_NCHANGE ) p->nChange++;\n",
     "  DOJO_WRITTEN(pC, 1);\n", "an index entry written (not a temporary index)"),
    ("OP_Clear", "    p->nChange += nChange;\n",
     "    if( DOJO_COUNTS(db) ) db->dojoRowsWritten += nChange;\n", "a table cleared: every row it held"),
    ("OP_VNext", "  rc = pModule->xNext(pCur->uc.pVCur);\n  sqlite3VtabImportErrmsg(p, pVtab);\n  if( rc ) goto abort_due_to_error;\n",
     "  DOJO_READ(1);\n", "a virtual table's next row"),
    ("OP_VUpdate", "        p->errorAction = ((pOp->p5==OE_Replace) ? OE_Abort : pOp->p5);\n      }\n    }else{\n",
     "      if( DOJO_COUNTS(db) ) db->dojoRowsWritten++;\n", "a virtual table row written"),
]


def instrument(source: str, sites=SITES) -> str:
    """`source` with each site's text inserted; raises unless each anchor is found exactly once."""
    for region, anchor, text, why in sites:
        start, end = 0, len(source)
        if region is not None:
            label = f"\ncase {region}:"
            if source.count(label) != 1:
                raise SystemExit(f"counting_sqlite: `case {region}:` found {source.count(label)} times")
            start = source.index(label)
            end = source.find("\ncase OP_", start + len(label))
            end = len(source) if end < 0 else end
        found = source.count(anchor, start, end)
        if found != 1:
            raise SystemExit(f"counting_sqlite: anchor for {region or why!r} found {found} times, expected 1")
        at = source.index(anchor, start, end) + len(anchor)
        source = source[:at] + text + source[at:]
    return source


# ----------------------------------------------------------------------------------------------


def download(url: str, sha256: str) -> bytes:
    """The file at `url`, from the cache when it is there; its sha256 must be `sha256`."""
    path = CACHE / "downloads" / url.rsplit("/", 1)[1]
    if path.exists():
        data = path.read_bytes()
    else:
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SystemExit(f"counting_sqlite: {url} has sha256 {digest}, expected {sha256}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def build_key() -> str:
    """Changes whenever an input of the wheel changes: the pins, the instrumentation, the
    options, the Python it is built for."""
    code = [(region, anchor, text) for region, anchor, text, _why in SITES]  # not the comments
    inputs = (AMALGAMATION, APSW_SDIST, code, COUNTERS, WHEEL_EXTENSIONS, WORKERD_DEFINES)
    h = hashlib.sha256(repr(inputs).encode())
    h.update(f"{sys.implementation.cache_tag}-{sys.platform}-{sysconfig.get_platform()}".encode())
    return h.hexdigest()[:16]


def uv_command() -> list[str]:
    """uv as the Makefile runs it (`UV`), else from PATH, else as a module."""
    if os.environ.get("UV"):
        return shlex.split(os.environ["UV"])
    uv = shutil.which("uv")
    return [uv] if uv else [sys.executable, "-m", "uv"]


def build_wheel() -> Path:
    """The counting apsw wheel for this Python (built once, then cached)."""
    key = build_key()
    out = CACHE / f"wheel-{key}"
    wheels = list(out.glob("apsw-*.whl")) if out.exists() else []
    if wheels:
        return wheels[0]
    with tempfile.TemporaryDirectory(prefix="counting-sqlite-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(download(APSW_SDIST["url"], APSW_SDIST["sha256"]))) as tar:
            tar.extractall(tmp, filter="data")
        src = Path(tmp) / APSW_SDIST["top"]
        (src / "sqlite3").mkdir()
        with tarfile.open(fileobj=io.BytesIO(download(AMALGAMATION["url"], AMALGAMATION["sha256"]))) as tar:
            for name, sha in AMALGAMATION["files"].items():
                data = tar.extractfile(name).read()
                if hashlib.sha256(data).hexdigest() != sha:
                    raise SystemExit(f"counting_sqlite: {name} is not the pinned file")
                text = data.decode("utf-8")
                if name.endswith("sqlite3.c"):
                    text = instrument(text)
                (src / "sqlite3" / Path(name).name).write_text(text, encoding="utf-8")
        # apsw's own build configuration, without its download step (we gave it the source).
        (src / "setup.apsw").write_text(
            "[build]\n"
            f"enable = {WHEEL_EXTENSIONS}\n"
            f"\n[build_ext]\ndefinevalues = {WORKERD_DEFINES}\n",
            encoding="utf-8",
        )
        dist = Path(tmp) / "dist"
        log = CACHE / "build.log"
        print(f"Building apsw on a SQLite that counts rows as workerd does (once; a few minutes; log: {log})")
        with open(log, "w") as out_log:
            subprocess.run(
                uv_command() + ["build", "--wheel", "--python", sys.executable, "-o", str(dist), str(src)],
                stdout=out_log, stderr=subprocess.STDOUT, check=True,
                # apsw's setup.py then builds as for its PyPI wheels: no debug information.
                env={**os.environ, "CIBUILDWHEEL": "1"},
            )
        for stale in CACHE.glob("wheel-*"):
            shutil.rmtree(stale, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        (wheel,) = dist.glob("apsw-*.whl")
        return Path(shutil.copy2(wheel, out / wheel.name))


def counting_apsw_installed() -> bool:
    """Whether the apsw this Python imports is the current counting build (installed from the
    wheel of this build key, and its SQLite answers the row-count verb)."""
    probe = (
        "import apsw, importlib.metadata as m\n"
        f"apsw.Connection(':memory:').status({DBSTATUS_ROW_COUNTS})\n"
        "print(m.distribution('apsw').read_text('direct_url.json'))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return done.returncode == 0 and f"wheel-{build_key()}/" in done.stdout


def main() -> int:
    if counting_apsw_installed():
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    failed = CACHE / f"failed-{build_key()}"  # a build that failed is not tried again each time
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two `make` runs at once build it once
        try:
            if failed.exists():
                raise RuntimeError(failed.read_text(encoding="utf-8"))
            try:
                wheel = build_wheel()
            except subprocess.CalledProcessError:
                failed.write_text(f"the C build failed, see {CACHE / 'build.log'}", encoding="utf-8")
                raise RuntimeError(failed.read_text(encoding="utf-8")) from None
            subprocess.run(
                uv_command() + ["pip", "install", "--quiet", "--python", sys.executable, "--reinstall", "--no-deps", str(wheel)],
                check=True,
            )
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure falls back the same way
            print(
                f"Counting SQLite not built ({exc}; delete {CACHE} to try again): "
                "PyPI's apsw is used, rowsRead/rowsWritten are approximate."
            )
            return 0
    if not counting_apsw_installed():
        print("Counting SQLite built but not importable: PyPI's apsw is used, rowsRead/rowsWritten are approximate.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
