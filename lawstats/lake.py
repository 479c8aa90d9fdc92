"""Where the data lives: a DuckDB file, or a DuckLake (catalog in SQLite or PostgreSQL, data in Parquet files).

One setting chooses the store, ``LAWSTATS_STORE`` (``LAWSTATS_DB`` keeps working as a DuckDB file path):

- ``/path/lawstats.duckdb``: a DuckDB file, one process at a time (the store of earlier versions);
- ``ducklake:sqlite:/path/catalog.sqlite``: several processes on one machine (the default,
  ``data/lawstats.sqlite``: the app, the CLI and more app processes at once);
- ``ducklake:postgres:dbname=lawstats host=10.1.2.3``: processes on several machines, with the data folder
  (``LAWSTATS_LAKE_DATA``) shared between them.

The DuckDB extensions come from pinned wheels and are LOADed from their installed files: nothing is installed or
downloaded at run time. Commits are serialised across processes and machines by ``commit_lock`` (a file lock
beside a SQLite catalog, a PostgreSQL advisory lock): DuckLake 1.5.x's optimistic concurrency is not trusted on
its own (ducklake issue 1094: colliding snapshot ids, overwritten min/max statistics, missed conflicts). Reads
never take the lock.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import duckdb

from lawstats.errors import DatabaseError

LAKE = "lake"  # the name the lake is ATTACHed under (and made the default database)
LAKE_PREFIX = "ducklake:"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
# The default store: a SQLite-catalog lake in data/ (its Parquet files in data/lawstats.sqlite.files/), so the CLI
# imports, reads and makes decks while the app runs (docs/benchmarks.md, "Choosing the default store").
DEFAULT_STORE = f"{LAKE_PREFIX}sqlite:{DATA_DIR / 'lawstats.sqlite'}"
# The default store of earlier versions: moved into the default lake on its first start (seed.open_store).
LEGACY_DB = DATA_DIR / "lawstats.duckdb"

# (wheel package, extension file name). The postgres extension only loads from a file named postgres_scanner.
EXTENSIONS = {
    "ducklake": ("duckdb_extension_ducklake", "ducklake"),
    "sqlite": ("duckdb_extension_sqlite_scanner", "sqlite_scanner"),
    "postgres": ("duckdb_extension_postgres_scanner", "postgres_scanner"),
}

COMMIT_ATTEMPTS = 8  # a commit that meets a transient error is retried this often, then refused clearly
LOCK_TIMEOUT_S = 120.0  # how long a commit waits for another process's commit before it gives up
# Errors that a retry can cure: the SQLite catalog is briefly locked by a reader, or DuckLake saw a conflict.
TRANSIENT = ("database is locked", "database table is locked", "conflict", "could not serialize",
             "duplicate key", "failed to flush changes", "busy")
# Errors that say the catalog (a PostgreSQL server) or the data folder cannot be reached right now.
UNREACHABLE = ("connection refused", "could not connect", "unable to connect", "server closed the connection",
               "terminating connection", "connection to server", "no connection to the server", "connection lost")
# One advisory lock key per PostgreSQL database (the catalog): a fixed 63-bit number derived from a name.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"lawstats.lake.commit").digest()[:8], "big") >> 1
# DuckDB settings of a lake connection (docs/benchmarks.md, "Where a lake query's time goes"). Every lake query
# first reads the catalog: the sqlite_scanner opens a new SQLite connection per DuckDB transaction and DuckLake
# runs several small catalog scans, each scheduled on DuckDB's worker threads. On two cores under load the
# hand-offs between threads cost more than the scans: one thread cut small page queries by 20-60% (measured).
# A lake's Parquet files are never rewritten in place (new files get new names), so their metadata can be cached.
LAKE_SETTINGS = ("threads = 1", "parquet_metadata_cache = true")

T = TypeVar("T")


@dataclass(frozen=True)
class StoreSpec:
    """A parsed store setting. kind: "duckdb" (target: file path), "sqlite" (target: catalog file) or
    "postgres" (target: libpq DSN); data_path: the lake's Parquet folder (None for a DuckDB file)."""

    kind: str
    target: str
    data_path: str | None = None

    @property
    def is_lake(self) -> bool:
        return self.kind != "duckdb"

    @property
    def attach_uri(self) -> str:
        return f"{LAKE_PREFIX}{self.kind}:{self.target}"

    def describe(self) -> str:
        """The store as people name it in messages (never a password)."""
        if self.kind == "postgres":
            return LAKE_PREFIX + "postgres:" + " ".join(
                part for part in self.target.split() if not part.lower().startswith("password="))
        return self.target if self.kind == "duckdb" else self.attach_uri


def default_setting(environ: dict | os._Environ = os.environ) -> str:
    """The store setting when none is given: ``LAWSTATS_STORE``, then ``LAWSTATS_DB`` (a DuckDB file), then
    ``DEFAULT_STORE``."""
    return environ.get("LAWSTATS_STORE") or environ.get("LAWSTATS_DB") or DEFAULT_STORE


def store_spec(text: str | None = None, data_path: str | None = None,
               environ: dict | os._Environ = os.environ) -> StoreSpec:
    """Parse a store setting; None reads ``LAWSTATS_STORE``, then ``LAWSTATS_DB``, then ``DEFAULT_STORE``.
    ``data_path`` (else ``LAWSTATS_LAKE_DATA``) is the lake's data folder; a SQLite lake defaults to a folder
    beside its catalog, a PostgreSQL lake needs it said (it must be shared by every machine)."""
    text = (text or default_setting(environ)).strip()
    if not text.startswith(LAKE_PREFIX):
        return StoreSpec("duckdb", text)
    kind, _, target = text[len(LAKE_PREFIX):].partition(":")
    target = target.strip()
    if kind not in ("sqlite", "postgres") or not target:
        raise DatabaseError("lake.bad_spec", spec=text)
    data_path = data_path or environ.get("LAWSTATS_LAKE_DATA")
    if kind == "sqlite":
        target = str(Path(target).expanduser().resolve())
        data_path = data_path or target + ".files"
    elif not data_path:
        raise DatabaseError("lake.data_missing", spec=text)
    return StoreSpec(kind, target, str(Path(data_path).expanduser().resolve()) + os.sep)


# ---------------------------------------------------------------------------------------------------------
# Opening


def extension_file(name: str) -> Path:
    """The installed extension file of the pinned wheel for ``name`` ("ducklake", "sqlite", "postgres")."""
    package, file_name = EXTENSIONS[name]
    spec = importlib.util.find_spec(package)
    folder = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" if spec and spec.origin else None
    found = folder / f"{file_name}.duckdb_extension" if folder else None
    if found is None or not found.is_file():
        raise DatabaseError("lake.extension_missing", package=package.replace("_", "-"),
                            version=duckdb.__version__)
    return found


def private_extension_dir() -> Path:
    """DuckDB's extension directory for lawstats: a private folder that nothing is ever installed into (the
    extensions are loaded by path), so DuckDB has no reason to look in or write to the user's ~/.duckdb."""
    folder = Path(os.environ.get("LAWSTATS_EXTENSION_DIR")
                  or Path(tempfile.gettempdir()) / f"lawstats-duckdb-extensions-{os.getuid()}")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _loadable(name: str, cache: Path) -> Path:
    """The extension file, copied into ``cache`` under the name DuckDB requires when the wheel's differs."""
    source = extension_file(name)
    wanted = EXTENSIONS[name][1] + ".duckdb_extension"
    if source.name == wanted:
        return source
    target = cache / wanted
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)
    return target


def offline_connection(extension_directory: str | os.PathLike | None = None,
                       database: str = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never installs or auto-loads an extension from the network."""
    folder = Path(extension_directory) if extension_directory else private_extension_dir()
    return duckdb.connect(database, read_only=read_only, config={
        "autoinstall_known_extensions": False, "autoload_known_extensions": False,
        "extension_directory": str(folder)})


def connect(spec: StoreSpec, read_only: bool = False,
            extension_directory: str | os.PathLike | None = None,
            inlining_row_limit: int = 0) -> duckdb.DuckDBPyConnection:
    """Open the store: a DuckDB file as it is, a lake ATTACHed as ``lake`` and made the default database.

    ``inlining_row_limit`` 0 (the default) writes every insert to Parquet rather than into the catalog: a reader
    can fail for good after a concurrent flush of inlined rows (ducklake issue 1413), and housekeeping merges the
    small files instead. The option only applies when the lake is created."""
    if not spec.is_lake:
        from lawstats.storage import open_database  # the DuckDB file keeps its own opening and messages
        return open_database(spec.target, read_only=read_only)
    con = offline_connection(extension_directory)
    con.execute("SET enable_progress_bar = false")  # slow queries would draw bars into the CLI's output
    for setting in LAKE_SETTINGS:
        con.execute(f"SET GLOBAL {setting}")  # GLOBAL: the threads' cursors share them
    try:
        cache = Path(extension_directory) if extension_directory else private_extension_dir()
        for name in ("ducklake", spec.kind):
            con.execute(f"LOAD '{_sql_text(str(_loadable(name, cache)))}'")
        uri = spec.attach_uri
        if spec.kind == "sqlite":
            _wal_catalog(Path(spec.target), read_only)
            uri = f"{LAKE_PREFIX}sqlite:{_openable_catalog(Path(spec.target), read_only)}"
        if not read_only:
            Path(spec.data_path).mkdir(parents=True, exist_ok=True)
        options = [f"DATA_PATH '{_sql_text(spec.data_path)}'", f"DATA_INLINING_ROW_LIMIT {int(inlining_row_limit)}"]
        if read_only:
            options.append("READ_ONLY")
        _retrying(lambda: con.execute(f"ATTACH '{_sql_text(uri)}' AS {LAKE} ({', '.join(options)})"))
        con.execute(f"USE {LAKE}")
    except duckdb.Error as e:
        con.close()
        raise DatabaseError("lake.unreachable", store=spec.describe(), reason=_first_line(str(e))) from e
    except BaseException:
        con.close()
        raise
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor (one per thread) that reads and writes the lake like its connection: a cursor starts with its own
    settings, so ``USE lake`` and the progress bar setting are repeated on it."""
    cur = con.cursor()
    cur.execute("SET enable_progress_bar = false")
    if _has_lake(cur):
        cur.execute(f"USE {LAKE}")
    return cur


def _wal_catalog(path: Path, read_only: bool) -> None:
    """Put the SQLite catalog in WAL mode (it stays so): in its default rollback-journal mode a connection
    that merely stays open (the app's) keeps every other process's commit locked out ("database is locked");
    with WAL, readers and the one writer do not block each other. WAL needs a local disk, which a catalog for
    processes on one machine has."""
    if read_only or str(path) in _WAL_CHECKED:
        return  # a read-only store is read as it is (a missing one: ATTACH says so)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog = sqlite3.connect(path, timeout=30)
    try:
        if catalog.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            catalog.execute("PRAGMA journal_mode=WAL").fetchone()
    except sqlite3.OperationalError as e:
        raise DatabaseError("lake.unreachable", store=f"{LAKE_PREFIX}sqlite:{path}", reason=str(e)) from e
    finally:
        catalog.close()
    _WAL_CHECKED.add(str(path))


def _openable_catalog(path: Path, read_only: bool) -> Path:
    """The SQLite catalog to ATTACH: itself, or, for reading a catalog in a folder that cannot be written (a
    read-only mount), a private copy: SQLite cannot open a WAL-mode database without writing its ``-shm`` file
    beside it. The Parquet files are read where they are. The copy goes when the process ends."""
    if not (read_only and path.exists()) or os.access(path.parent, os.W_OK):
        return path
    folder = Path(tempfile.mkdtemp(prefix="lawstats-catalog-"))
    atexit.register(shutil.rmtree, folder, True)
    for suffix in ("", "-wal"):
        if Path(f"{path}{suffix}").exists():
            shutil.copyfile(f"{path}{suffix}", folder / f"{path.name}{suffix}")
    return folder / path.name


# Catalogs this process has put in WAL mode: never opened with Python's sqlite3 again. Closing any file handle
# of a file drops every POSIX lock the process holds on it, also those of the sqlite_scanner extension's own
# SQLite on a catalog a Store (or a closed Store's lingering connection) still has open; a SQLite that lost its
# locks may checkpoint and remove the WAL under another process ("database disk image is malformed", seen in
# tests/test_store_lake.py's kill -9 test; sqlite.org/howtocorrupt.html, 2.2.1).
_WAL_CHECKED: set[str] = set()


def _sql_text(text: str) -> str:
    """A text for a SQL string literal (ATTACH and LOAD take no parameters)."""
    return text.replace("'", "''")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "?"


# ---------------------------------------------------------------------------------------------------------
# Commits: one at a time across processes and machines, retried when a transient error meets them


@contextmanager
def commit_lock(spec: StoreSpec, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the store's commit lock: no other process (on any machine sharing the catalog) commits meanwhile.
    A DuckDB file has one process, so nothing to lock. A process killed while holding it releases it (the
    kernel drops the file lock; PostgreSQL ends the session and its advisory lock)."""
    if spec.kind == "sqlite":
        with _file_lock(Path(spec.target + ".lock"), timeout, spec):
            yield
    elif spec.kind == "postgres":
        with _advisory_lock(spec, timeout):
            yield
    else:
        yield


@contextmanager
def _file_lock(path: Path, timeout: float, spec: StoreSpec) -> Iterator[None]:
    """An exclusive flock on a file beside the SQLite catalog (per open file, so threads contend too)."""
    deadline = time.monotonic() + timeout
    with open(path, "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DatabaseError("lake.busy", store=spec.describe(), seconds=int(timeout)) from None
                time.sleep(0.005)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(spec: StoreSpec, timeout: float) -> Iterator[None]:
    """A session-level pg_advisory_lock on a dedicated connection (psycopg): lock and unlock must run on one
    PostgreSQL session, which the postgres extension's pooled connections do not promise."""
    import psycopg  # only a PostgreSQL lake needs it

    try:
        pg = psycopg.connect(spec.target, autocommit=True, connect_timeout=10)
    except psycopg.Error as e:
        raise DatabaseError("lake.unreachable", store=spec.describe(), reason=_first_line(str(e))) from e
    try:
        try:
            pg.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(timeout * 1000)}ms",))
            pg.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
        except psycopg.errors.LockNotAvailable:
            raise DatabaseError("lake.busy", store=spec.describe(), seconds=int(timeout)) from None
        try:
            yield
        finally:
            pg.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_KEY,))
    finally:
        pg.close()


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the lake's catalog or data folder cannot be reached (a PostgreSQL server that
    stopped, a lost connection, an unmounted folder), rather than something wrong with a query."""
    return isinstance(error, duckdb.Error) and (
        isinstance(error, (duckdb.IOException, duckdb.ConnectionException))
        or any(word in str(error).lower() for word in UNREACHABLE))


def is_transient(error: BaseException) -> bool:
    """Whether a retry can cure ``error`` (a briefly locked catalog, a DuckLake conflict)."""
    return isinstance(error, duckdb.Error) and any(word in str(error).lower() for word in TRANSIENT)


def _retrying(action: Callable[[], T], attempts: int = COMMIT_ATTEMPTS) -> T:
    """Run ``action``; on a transient error wait a little longer each time and try again, ``attempts`` in all."""
    for attempt in range(attempts):
        try:
            return action()
        except duckdb.Error as e:
            if not is_transient(e) or attempt == attempts - 1:
                raise
            time.sleep(min(0.02 * 2 ** attempt, 1.0))
    raise AssertionError("unreachable")


def commit(con: duckdb.DuckDBPyConnection, spec: StoreSpec, work: Callable[[duckdb.DuckDBPyConnection], T],
           attempts: int = COMMIT_ATTEMPTS) -> T:
    """Run ``work(con)`` in one transaction under the commit lock and COMMIT it; return what ``work`` returns.

    The lock is taken before BEGIN, so the transaction starts from the newest snapshot and no other commit can
    land before ours. A transient error (see ``TRANSIENT``) rolls back and runs ``work`` again, ``attempts`` times
    in all; then a ``DatabaseError`` says the store is busy. Other errors roll back and propagate unchanged.
    Nothing is partial: DuckLake writes the snapshot in one catalog transaction."""
    last: BaseException | None = None
    for attempt in range(attempts):
        with commit_lock(spec):
            con.execute("BEGIN TRANSACTION")
            try:
                result = work(con)
                con.execute("COMMIT")
                return result
            except BaseException as e:
                _rollback_quietly(con)
                if not is_transient(e):
                    raise
                last = e
        time.sleep(min(0.02 * 2 ** attempt, 1.0))
    raise DatabaseError("lake.commit_failed", store=spec.describe(), attempts=attempts,
                        reason=_first_line(str(last))) from last


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # a failed COMMIT already ended the transaction


# ---------------------------------------------------------------------------------------------------------
# Snapshots and housekeeping


def catalog_snapshot_id(con: duckdb.DuckDBPyConnection) -> int:
    """The lake's newest committed snapshot id, as this connection sees it now: it changes with every commit by
    any process, so caches keyed on it see other processes' commits."""
    if not _has_lake(con):
        return 0
    return int(_retrying(lambda: con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0]))


def _has_lake(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [LAKE]).fetchone()[0] > 0


# ---------------------------------------------------------------------------------------------------------
# The replica: a copy of the lake in a private local DuckDB file that a long-running process (the app) reads


REPLICA = "replica"  # the DuckDB database the copy is ATTACHed as
METADATA = f"__ducklake_metadata_{LAKE}"  # where DuckLake ATTACHes the lake's catalog
# snapshot changes that only move rows (their values: table ids); a merge of files keeps every row and its row id
ROW_CHANGES = {"tables_inserted_into", "tables_deleted_from", "merge_adjacent"}


def replica_wanted(default: bool, environ: dict | os._Environ = os.environ) -> bool:
    """Whether a lake is read through a replica: ``LAWSTATS_LAKE_REPLICA`` (1 or 0) when set, else
    ``default`` (the app: yes; a command-line run, which reads a few things once: no)."""
    value = (environ.get("LAWSTATS_LAKE_REPLICA") or "").strip()
    return default if value not in ("0", "1") else value == "1"


def attach_replica(con: duckdb.DuckDBPyConnection) -> Path:
    """ATTACH a new, empty replica: a DuckDB file in a private folder of the temporary folder (``TMPDIR``), which
    is returned so that the Store can remove it when it closes (and the process does when it ends). A file, not
    memory: DuckDB keeps it compressed and reads through its buffer pool, so the national synthetic data (26 M
    rows, a 370 MB file) does not sit uncompressed in every app process (measured: docs/benchmarks.md)."""
    folder = Path(tempfile.mkdtemp(prefix="lawstats-replica-"))
    atexit.register(shutil.rmtree, folder, True)
    con.execute(f"ATTACH '{_sql_text(str(folder / 'replica.duckdb'))}' AS {REPLICA}")
    return folder


def refresh_replica(cur: duckdb.DuckDBPyConnection, held: int | None,
                    committing: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext) -> int:
    """Bring the replica from lake snapshot ``held`` (None: empty) to the newest one and return its id.

    Every lake query first reads the catalog (several small scans per table: docs/benchmarks.md), which makes a
    page's queries several times slower than on a DuckDB file; a local copy answers them at the file's
    speed and costs one catalog read (the snapshot id) per check. Each lake table is held as its rows with their
    lake row id (DuckLake keeps it when a row is updated or its file merged) behind a view of the table's own
    name, so a commit is taken in as the rows it changed (``_apply_changes``): a commit of one village changes a
    few rows of tables of millions (national synthetic data: 0.7 s, where copying the touched tables whole took
    10 s); a housekeeping merge changes no row and costs nothing. Everything is copied again after a
    schema change, or when snapshots in between were expired. The refresh is one transaction that reads one lake
    snapshot, so readers see the old copy or the new one, whole; ``committing`` is held around its COMMIT (the
    Store's CommitGate)."""
    cur.execute("BEGIN TRANSACTION")
    try:
        newest = int(cur.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0])
        if newest == held:
            cur.execute("ROLLBACK")
            return newest
        in_lake, in_replica = _tables_of(cur, LAKE), replica_tables(cur)
        changed = None if held is None else _changed_tables(cur, held, newest)
        whole = changed is None
        if whole:  # copy everything, and drop what the lake no longer has
            changed = in_lake | in_replica
        for name in sorted(changed):
            if name not in in_lake:
                _drop_copy(cur, name)
            elif whole or name not in in_replica or not _apply_changes(cur, name, held + 1, newest):
                _copy_table(cur, name)
        with committing():
            cur.execute("COMMIT")
    except BaseException:
        _rollback_quietly(cur)
        raise
    return newest


ROWS_PREFIX = "_rows_"  # the replica's table of a lake table's rows; the view of the table's name reads it
ROW_ID = "_lake_rowid"  # the row's DuckLake row id, which table_changes names a changed row by


def replica_tables(cur: duckdb.DuckDBPyConnection) -> set[str]:
    """The lake tables the replica holds (by the lake's table names)."""
    return {name[len(ROWS_PREFIX):] for name in _tables_of(cur, REPLICA) if name.startswith(ROWS_PREFIX)}


def _rows_table(name: str) -> str:
    return f'{REPLICA}.main."{ROWS_PREFIX}{name}"'


def _copy_table(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    rows = _rows_table(name)
    cur.execute(f'CREATE OR REPLACE TABLE {rows} AS SELECT rowid AS {ROW_ID}, * FROM {LAKE}.main."{name}"')
    cur.execute(f'CREATE OR REPLACE VIEW {REPLICA}.main."{name}" AS SELECT * EXCLUDE ({ROW_ID}) FROM {rows}')


def _drop_copy(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    cur.execute(f'DROP VIEW IF EXISTS {REPLICA}.main."{name}"')
    cur.execute(f"DROP TABLE IF EXISTS {_rows_table(name)}")


CHANGES = "_replica_changes"  # a temporary table of one lake table's changes, on the refreshing cursor only
COPY_WHOLE_FROM = 100_000  # changed rows from which a table that many changes are half of is copied instead


def _apply_changes(cur: duckdb.DuckDBPyConnection, name: str, first: int, last: int) -> bool:
    """Take lake table ``name``'s changes in snapshots ``first``..``last`` into its copy: every row id the
    changes name goes from the copy, and the rows of the lake that have one of those ids come in. The change
    rows themselves are not copied: a row inserted and updated in one transaction is listed with an id it does
    not keep (DuckLake 1.5), so the table, not the change feed, says what a row is now. False (nothing done)
    when the changes are many (``COPY_WHOLE_FROM``) and as many as half the copy's rows: copying the table is
    then the cheaper way (a table rebuilt by a migration)."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {CHANGES} AS "
                f"SELECT DISTINCT rowid AS changed FROM {LAKE}.table_changes(?, ?, ?)", [name, first, last])
    try:
        changes = cur.execute(f"SELECT count(*) FROM {CHANGES}").fetchone()[0]
        if changes >= COPY_WHOLE_FROM and changes * 2 > cur.execute(
                f"SELECT count(*) FROM {_rows_table(name)}").fetchone()[0]:
            return False
        cur.execute(f"DELETE FROM {_rows_table(name)} WHERE {ROW_ID} IN (SELECT changed FROM {CHANGES})")
        cur.execute(f"""INSERT INTO {_rows_table(name)} BY NAME SELECT rowid AS {ROW_ID}, *
                        FROM {LAKE}.main."{name}" WHERE rowid IN (SELECT changed FROM {CHANGES})""")
        return True
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {CHANGES}")


def _tables_of(cur: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    return {row[0] for row in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
        [database]).fetchall()}


def _changed_tables(cur: duckdb.DuckDBPyConnection, held: int, newest: int) -> set[str] | None:
    """The tables whose rows changed in the snapshots after ``held`` up to ``newest``; None when that cannot be
    told from rows alone (a table created, dropped or altered, or snapshots in between expired)."""
    rows = cur.execute(f"SELECT snapshot_id, changes FROM {LAKE}.snapshots() WHERE snapshot_id > ? "
                       "AND snapshot_id <= ? ORDER BY snapshot_id", [held, newest]).fetchall()
    if [row[0] for row in rows] != list(range(held + 1, newest + 1)):
        return None
    ids: set[int] = set()
    for _, changes in rows:
        for kind, values in (changes or {}).items():
            if kind not in ROW_CHANGES:
                return None
            ids.update(int(value) for value in values)
    names = dict(cur.execute(f"SELECT table_id, table_name FROM {METADATA}.ducklake_table "
                             "WHERE end_snapshot IS NULL AND table_id IN (SELECT unnest(?))",
                             [sorted(ids)]).fetchall())
    return None if set(names) != ids else set(names.values())


def data_files(spec: StoreSpec) -> int:
    """How many Parquet files the lake's data folder holds (housekeeping's effect, measured on disk)."""
    return sum(1 for _ in Path(spec.data_path).rglob("*.parquet")) if spec.is_lake else 0


def expirable_snapshots(con: duckdb.DuckDBPyConnection, keep: timedelta) -> list[int]:
    """The snapshots that stopped being the newest more than ``keep`` ago. A reader reads the snapshot that was
    newest when its query (or transaction) began, however old that snapshot is, so a snapshot's age is not
    what counts but the time its successor was committed.

    Chosen here on DuckDB's typed times rather than by ``ducklake_expire_snapshots(older_than => …)``: on a
    SQLite catalog DuckLake 1.5.5 compares only the dates, and a window of one hour expired every snapshot of
    the day (``tests/test_lake.py`` keeps both catalogs to the window)."""
    rows = con.execute(f"SELECT snapshot_id, epoch(snapshot_time) FROM {LAKE}.snapshots() "
                       "ORDER BY snapshot_id").fetchall()
    cutoff = time.time() - keep.total_seconds()
    return [snapshot for (snapshot, _), (_, superseded_at) in zip(rows, rows[1:]) if superseded_at < cutoff]


def _delete_scheduled_files(con: duckdb.DuckDBPyConnection, spec: StoreSpec, keep: timedelta) -> None:
    """Delete the data files DuckLake scheduled for deletion more than ``keep`` ago. A merge schedules the files
    it replaced at once, and a reader that began before it may still be reading them.

    On a PostgreSQL catalog ``older_than`` does that. On a SQLite catalog DuckLake 1.5.5 compares only the
    dates (every file scheduled today would go), so there the files go all at once when the newest of them is
    older than ``keep``, and otherwise wait for a later run (a nightly run deletes the previous night's)."""
    cutoff = time.time() - keep.total_seconds()
    if spec.kind == "postgres":
        con.execute(f"SELECT count(*) FROM ducklake_cleanup_old_files('{LAKE}', "
                    "older_than => to_timestamp(?))", [cutoff]).fetchall()
        return
    newest = con.execute(f"SELECT max(epoch(schedule_start::TIMESTAMPTZ)) "
                         f"FROM {METADATA}.ducklake_files_scheduled_for_deletion").fetchone()[0]
    if newest is not None and newest < cutoff:
        con.execute(f"SELECT count(*) FROM ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)").fetchall()


def housekeeping(con: duckdb.DuckDBPyConnection, spec: StoreSpec,
                 keep: timedelta = timedelta(hours=1)) -> dict[str, int]:
    """Tidy the lake under the commit lock: write inlined rows to Parquet, merge small adjacent files, expire
    the snapshots no reader can still be on (``expirable_snapshots``) and delete the files no snapshot uses
    any more once no reader can still be reading them (``_delete_scheduled_files``).

    ``keep`` only has to cover readers still running on an old snapshot: the app's as-of views read its own
    batch columns (batch_id in every fact table), not DuckLake's time travel. Returns the data file count
    before and after."""
    before = data_files(spec)
    if not spec.is_lake:
        return {"files_before": before, "files_after": before}
    with commit_lock(spec):
        # first the files earlier runs scheduled (on SQLite all go only when none is recent, so before this
        # run's merge schedules more), then again at the end for what this run scheduled, if the window is over
        _retrying(lambda: _delete_scheduled_files(con, spec, keep))
        # counted, not fetched: their rows hold time stamps with time zones, which Python would need pytz for
        for step in (f"SELECT count(*) FROM ducklake_flush_inlined_data('{LAKE}')",
                     f"SELECT count(*) FROM ducklake_merge_adjacent_files('{LAKE}')"):
            _retrying(lambda: con.execute(step).fetchall())
        expired = expirable_snapshots(con, keep)
        if expired:
            _retrying(lambda: con.execute(f"SELECT count(*) FROM ducklake_expire_snapshots('{LAKE}', "
                                          "versions => ?)", [expired]).fetchall())
        _retrying(lambda: _delete_scheduled_files(con, spec, keep))
    return {"files_before": before, "files_after": data_files(spec)}
