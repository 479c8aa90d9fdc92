"""All SQL of lawstats: the DuckDB store, its migrations, batches, the current-data tables and the queries.

The store is append-only. Every write is a batch (the seed load too): ``fact_<table>`` rows carry the
``batch_id`` that wrote them, and an undo is a new event in ``batches``; nothing is ever deleted from a fact
table. ``cur_<table>`` holds, per key and per column, the latest non-missing value from batches that are not
undone; it is rebuilt inside the same transaction as every commit and undo, so readers never see half a batch.
Keys are checked in the application (no primary keys, no unique constraints, no indexes), which keeps the
store portable to DuckLake and lets the importer name the offending row.

Values always travel as parameters. Identifiers come only from ``lawstats.registry`` through ``ident``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import duckdb
import numpy as np
import pandas as pd

from lawstats import lake
from lawstats.errors import ByLanguage, DatabaseError, NotFound, UndoRefused, ValidationFailed
from lawstats.registry import TABLES, TABLES_BY_ID, Table

_T = TypeVar("_T")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def ident(name: str) -> str:
    """Quote an identifier that comes from the registry. Anything else is refused, never escaped."""
    if not _IDENT.match(name):
        raise ValueError(f"not a registry identifier: {name!r}")
    return f'"{name}"'


def fact_table(table: Table) -> str:
    return ident(f"fact_{table.id}")


def current_table(table: Table) -> str:
    return ident(f"cur_{table.id}")


# ---------------------------------------------------------------------------------------------------------
# Opening the database


def open_database(path: str | os.PathLike, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (or create) the DuckDB file; a locked or unreadable file becomes a DatabaseError naming it."""
    path = str(path)
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as e:
        text = str(e)
        if "could not set lock" in text.lower():  # not just "lock": a corrupt file's message says "block"
            raise DatabaseError("error.db_locked", path=path) from e
        raise DatabaseError("error.db_corrupt", path=path, reason=_first_line(text)) from e
    except (duckdb.SerializationException, duckdb.InternalException, duckdb.InvalidInputException,
            duckdb.CatalogException) as e:
        raise DatabaseError("error.db_corrupt", path=path, reason=_first_line(str(e))) from e


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "?"


class CommitGate:
    """Queries share the gate; a COMMIT has it alone.

    DuckDB 1.5.5 makes a large transaction visible table by table while its COMMIT runs: a query that starts
    in that moment can see the new facts of a batch but not its ``batches`` row or its current rows
    (tests/test_faults_import.py caught it). So no query starts while a commit is being made, and a commit
    waits for the queries already running, which read the state before it.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._committing = False

    @contextmanager
    def reading(self):
        with self._condition:
            while self._committing:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextmanager
    def committing(self):
        with self._condition:
            while self._committing:
                self._condition.wait()
            self._committing = True  # from now on new queries wait
            while self._readers:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._committing = False
                self._condition.notify_all()


class Store:
    """One DuckDB connection for the process; a cursor per thread; one writer at a time.

    ``store`` is a store setting (``lake.store_spec``): a DuckDB file path, which one process opens read-write
    (Streamlit serves every session from threads of one process, so the app holds one Store in
    ``st.cache_resource`` and each thread reads through its own cursor), or a DuckLake (``ducklake:sqlite:…``,
    ``ducklake:postgres:…``) that several processes open at once; their commits take ``lake.commit_lock``.

    ``replica`` (a lake only; the app sets it; None reads ``LAWSTATS_LAKE_REPLICA``): queries read a copy of the
    lake in a private local DuckDB file (``lake.attach_replica``, ``lake.refresh_replica``), brought up to the newest snapshot by ``cache_version`` (which the
    app calls at the start of every page run) and after this process's own commits; writes and the reads inside
    them go to the lake.
    """

    def __init__(self, store: str | os.PathLike | lake.StoreSpec, read_only: bool = False,
                 replica: bool | None = None):
        self.spec = store if isinstance(store, lake.StoreSpec) else lake.store_spec(str(store))
        self.path = self.spec.describe()  # what messages name (never a password)
        self.read_only = read_only  # a read-only file or mount: every query works, every write is refused
        self._con = lake.connect(self.spec, read_only=read_only)
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._write_lock = threading.Lock()
        self._gate = CommitGate()  # see CommitGate: COMMIT and queries never overlap
        self._lost = False  # a lake whose catalog stopped answering: open it again on the next query
        self.replica = self.spec.is_lake and (lake.replica_wanted(False) if replica is None else replica)
        self._replica_lock = threading.Lock()  # one thread refreshes the copy at a time
        self._replica_snapshot: int | None = None  # the lake snapshot the copy holds (None: none yet)
        self._refresh_cursor: duckdb.DuckDBPyConnection | None = None
        self._replica_folder: Path | None = None
        if read_only:
            _require_current_schema(self._con, self.path)
        else:
            with lake.commit_lock(self.spec):  # several processes may start on a new lake at once
                migrate(self._con)
        if self.replica:
            self._replica_folder = lake.attach_replica(self._con)
            self.refresh_replica()

    def reopen(self) -> None:
        """Open the store again after DuckDB invalidated the database (a fatal error such as a full disk
        while writing) or a lake's catalog was lost: the store still holds the last committed state. Callers
        hold the write lock or none."""
        with self._gate.committing():  # no query runs on the old connection meanwhile
            try:
                for cur in self._cursors:
                    cur.close()
                self._con.close()
            except duckdb.Error:
                pass
            self._con = lake.connect(self.spec, read_only=self.read_only)
            self._local = threading.local()
            self._cursors = []
            self._lost = False
            if self.replica:
                self._drop_replica_file()
                self._replica_folder = lake.attach_replica(self._con)
                self._replica_snapshot, self._refresh_cursor = None, None
        if self.replica:
            self.refresh_replica()  # outside the gate: the copy's COMMIT takes it

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor: it reads the replica when there is one (``writing`` points it at the lake)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = lake.cursor(self._con) if self.spec.is_lake else self._con.cursor()
            self._cursors.append(cur)
            if self.replica:
                cur.execute(f"USE {lake.REPLICA}")
        return cur

    @contextmanager
    def writing(self):
        """This thread's cursor pointed at the lake (not the replica) for a write transaction and the reads
        inside it; afterwards the replica takes the commit in and the cursor reads it again."""
        cur = self.cursor()
        if not self.replica:
            yield cur
            return
        cur.execute(f"USE {lake.LAKE}")
        try:
            yield cur
        finally:
            if any(c is cur for c in self._cursors):  # else a fatal error reopened the store: a new cursor
                cur.execute(f"USE {lake.REPLICA}")
        self.refresh_replica()

    def refresh_replica(self) -> int:
        """Bring the replica to the lake's newest snapshot (see ``lake.refresh_replica``); return that id."""
        with self._replica_lock:
            if self._refresh_cursor is None:
                self._refresh_cursor = lake.cursor(self._con)
                self._cursors.append(self._refresh_cursor)
            # the copy is made beside running queries; only its COMMIT waits for them (see CommitGate)
            self._replica_snapshot = lake.refresh_replica(self._refresh_cursor, self._replica_snapshot,
                                                          committing=self._gate.committing)
            return self._replica_snapshot

    def close(self) -> None:
        # the threads' cursors too: while one is open the database stays open (a lake's catalog file with it)
        for cur in self._cursors:
            cur.close()
        self._con.close()
        self._drop_replica_file()

    def _drop_replica_file(self) -> None:
        """Remove the replica's private folder (its connection closed): a copy, never the only one."""
        if self._replica_folder is not None:
            shutil.rmtree(self._replica_folder, ignore_errors=True)
            self._replica_folder = None

    # -- small helpers: every query goes through these two
    def query_df(self, sql: str, params: Iterable | dict | None = None) -> pd.DataFrame:
        with self._reachable(), self._gate.reading():
            return self.cursor().execute(sql, params or []).df()

    def query_rows(self, sql: str, params: Iterable | dict | None = None) -> list[tuple]:
        with self._reachable(), self._gate.reading():
            return self.cursor().execute(sql, params or []).fetchall()

    @contextmanager
    def _reachable(self):
        """A lake whose catalog (a PostgreSQL server) cannot be reached: one DatabaseError saying so, and the
        next query opens the lake again, so pages recover by themselves once the catalog is back."""
        if not self.spec.is_lake:
            yield
            return
        if self._lost:
            try:
                self.reopen()
            except DatabaseError as e:  # still away
                raise DatabaseError("lake.unreachable_now", store=self.path,
                                    reason=e.params.get("reason", "?")) from e
        try:
            yield
        except duckdb.Error as e:
            if not lake.is_unreachable(e):
                raise
            self._lost = True
            raise DatabaseError("lake.unreachable_now", store=self.path, reason=_first_line(str(e))) from e


# ---------------------------------------------------------------------------------------------------------
# Migrations: an ordered list; each runs once and is recorded in schema_migrations.


def _m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE batches (
            batch_id INTEGER NOT NULL,
            kind VARCHAR NOT NULL,          -- 'import' or 'undo'
            created_at TIMESTAMP NOT NULL,
            user_name VARCHAR,
            file_name VARCHAR,
            sha256 VARCHAR,
            source VARCHAR,
            note VARCHAR,
            row_counts VARCHAR,             -- JSON: {table id: rows}
            undoes INTEGER,                 -- for kind = 'undo': the batch it undoes
            synthetic BOOLEAN DEFAULT FALSE
        )""")
    con.execute("""
        CREATE TABLE regions_log (
            batch_id INTEGER NOT NULL,
            region_id INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            level VARCHAR NOT NULL,
            parent_id INTEGER,
            code VARCHAR,
            synthetic BOOLEAN DEFAULT FALSE
        )""")
    con.execute("""
        CREATE TABLE value_provenance (
            batch_id INTEGER NOT NULL,
            table_id VARCHAR NOT NULL,
            region_id INTEGER NOT NULL,
            year INTEGER NOT NULL,
            row_key VARCHAR,               -- the breakdown item (e.g. a study programme) or NULL
            column_id VARCHAR NOT NULL,
            source VARCHAR,
            section VARCHAR,
            origin VARCHAR,                -- 'stated' (the document writes it) or 'computed'
            note VARCHAR                   -- how the document writes it, where that needs saying
        )""")


def _m002_observations(con: duckdb.DuckDBPyConnection) -> None:
    """The long table of catalogue measures that are not registry columns (see "Observations" below)."""
    columns = ", ".join(f"{ident(n)} {t}" for n, t in OBSERVATION_COLUMNS)
    con.execute(f"CREATE TABLE fact_observations ({columns})")
    con.execute(f"CREATE TABLE cur_observations ({columns})")


MIGRATIONS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = [
    ("001_initial", _m001_initial),
    ("002_observations", _m002_observations),
]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet applied, then add registry columns the tables lack. Idempotent."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR NOT NULL, applied_at TIMESTAMP)")
    done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN")
        try:
            step(con)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, _now()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    _sync_registry_tables(con)
    _sync_scale_tables(con)  # region tree and rollups (scale section)
    return applied


def _require_current_schema(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """A read-only database is read as it is: refuse (DatabaseError) one that ``migrate`` would change, since
    queries of this version would fail on it."""
    con.execute("SET enable_progress_bar = false")
    outdated = not _columns_of(con, "schema_migrations")
    if not outdated:
        done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
        outdated = any(name not in done for name, _ in MIGRATIONS)
    for table in TABLES:
        if outdated:
            break
        wanted = {n for n, _ in _fact_columns(table)}
        outdated = not (wanted <= _columns_of(con, f"fact_{table.id}")
                        and wanted <= _columns_of(con, f"cur_{table.id}"))
    if outdated or not _columns_of(con, "cur_regions") or _stale_scale_tables(con)[1]:
        raise DatabaseError("error.db_read_only_outdated", path=path)


def _sync_registry_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create fact and current tables for every registry table, and add columns the registry gained.

    Additive only: a column is never dropped or retyped here (that needs a migration of its own).
    """
    for table in TABLES:
        existing = _columns_of(con, f"fact_{table.id}")
        wanted = _fact_columns(table)
        if not existing:
            cols = ", ".join(f"{ident(n)} {t}" for n, t in wanted)
            con.execute(f"CREATE TABLE {fact_table(table)} ({cols})")
            con.execute(f"CREATE TABLE {current_table(table)} ({cols})")
            continue
        for name, sql_type in wanted:
            if name not in existing:
                con.execute(f"ALTER TABLE {fact_table(table)} ADD COLUMN {ident(name)} {sql_type}")
                con.execute(f"ALTER TABLE {current_table(table)} ADD COLUMN {ident(name)} {sql_type}")


def _fact_columns(table: Table) -> list[tuple[str, str]]:
    cols = [("batch_id", "INTEGER"), ("region_id", "INTEGER"), ("year", "INTEGER")]
    cols += [(c.id, c.sql_type) for c in table.columns]
    cols += [("source", "VARCHAR"), ("section", "VARCHAR"), ("approx", "VARCHAR[]")]
    return cols


def _columns_of(con, table_name: str) -> set[str]:
    # the store's own tables only: information_schema also lists temp tables (and, on a lake, other catalogs)
    rows = con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                       "AND table_catalog = current_database()", [table_name]).fetchall()
    return {r[0] for r in rows}


def _now() -> datetime:
    """The server's local time, to the second: what the people at that server read on their clocks."""
    return datetime.now().replace(microsecond=0)


# ---------------------------------------------------------------------------------------------------------
# Writing batches


@dataclass
class NewBatch:
    """Everything one import writes, already validated and typed by the importer.

    ``regions``: new regions with temporary negative ``region_id``s (parents may be temporary too);
    ``rows``: per table id, a frame with region_id, year, the table's columns, source, section, approx.
    """
    file_name: str
    sha256: str | None = None
    user_name: str | None = None
    source: str | None = None
    note: str | None = None
    synthetic: bool = False
    regions: pd.DataFrame | None = None
    rows: dict[str, pd.DataFrame] = field(default_factory=dict)
    provenance: pd.DataFrame | None = None
    # catalogue measures that are not registry columns, one row each: OBSERVATION_FIELDS (see "Observations")
    observations: pd.DataFrame | None = None
    # the default data's first load: written only into a store with no batch yet, so that two processes
    # starting on one new lake at once (the app and the CLI) load it once
    only_if_empty: bool = False


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commit_batch(store: Store, batch: NewBatch) -> int:
    """Write one batch atomically and refresh the current tables it touches. Returns the batch id (0: an
    ``only_if_empty`` batch met a store that another process had filled meanwhile; nothing was written)."""
    def write() -> int:
        with _write_transaction(store) as con:
            if batch.only_if_empty and _next_batch_id(con) > 1:
                return 0  # the block ends normally: an empty transaction, committed
            _require_current_regions(con, batch)
            batch_id, _ = _apply_batch(con, batch)
        return batch_id

    return _retried(store, write)


def _require_current_regions(con, batch: NewBatch) -> None:
    """Refuse (``error.upload_stale``) a batch that names a region no longer current: one undone since the
    file was checked. Its rows would otherwise be stored without a region."""
    frames = [frame["region_id"] for frame in batch.rows.values() if "region_id" in frame]
    if batch.observations is not None and len(batch.observations):
        frames.append(batch.observations["region_id"])
    if batch.regions is not None and len(batch.regions):
        frames.append(batch.regions["parent_id"].dropna())
    named = {int(r) for frame in frames for r in pd.unique(frame.astype("int64")) if int(r) > 0}
    if not named:
        return
    known = con.execute("SELECT count(*) FROM cur_regions WHERE region_id IN (SELECT unnest($ids))",
                        {"ids": sorted(named)}).fetchone()[0]
    if known != len(named):
        raise NotFound("error.upload_stale")


@contextmanager
def _write_transaction(store: Store, *, commit: bool = True):
    """One writer's transaction: committed at the end of the block (or rolled back when ``commit`` is false or
    the block fails). A read-only database refuses at once; a full disk becomes one DatabaseError that says
    nothing was written (DuckDB ends a transaction whose COMMIT failed, so the rollback may find none)."""
    if store.read_only:
        raise DatabaseError("error.db_read_only", path=store.path)
    # On a lake the commit lock is taken before BEGIN: the transaction starts from the newest snapshot and no
    # other process commits before ours (its reads, such as max(batch_id) + 1, stay true until COMMIT).
    with store.writing() as con, store._write_lock, lake.commit_lock(store.spec):
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            if commit:
                with store._gate.committing():
                    con.execute("COMMIT")
        except BaseException as error:
            _end_failed_transaction(store, con, error)
            if _out_of_space(error):
                raise DatabaseError("error.disk_full", path=store.path) from error
            if store.spec.is_lake and lake.is_unreachable(error):
                store._lost = True
                raise DatabaseError("lake.unreachable_now", store=store.path,
                                    reason=_first_line(str(error))) from error
            raise
        if not commit:
            con.execute("ROLLBACK")


def _retried(store: Store, write: Callable[[], _T]) -> _T:
    """Run ``write`` (one whole write transaction) and, on a lake, run it again when it meets an error a retry
    can cure (``lake.is_transient``: a briefly locked catalog, a DuckLake conflict), ``lake.COMMIT_ATTEMPTS``
    times in all; then one DatabaseError saying nothing was written. Each failed attempt was rolled back."""
    attempts = lake.COMMIT_ATTEMPTS if store.spec.is_lake else 1
    for attempt in range(attempts):
        try:
            return write()
        except duckdb.Error as error:
            if not store.spec.is_lake or not lake.is_transient(error):
                raise
            last = error
        time.sleep(min(0.02 * 2 ** attempt, 1.0))
    raise DatabaseError("lake.commit_failed", store=store.path, attempts=attempts,
                        reason=_first_line(str(last))) from last


def _end_failed_transaction(store: Store, con, error: BaseException) -> None:
    """Roll back what is left of a failed transaction; after a fatal error DuckDB refuses every statement on
    that database until it is opened again, so open it again (the file holds the state before the batch)."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # the failed COMMIT already ended it, or the database was invalidated
    if isinstance(error, duckdb.FatalException):
        store.reopen()


def _out_of_space(error: BaseException) -> bool:
    return isinstance(error, duckdb.Error) and "no space left on device" in str(error).lower()


def undo_batch(store: Store, batch_id: int, user_name: str | None = None, note: str | None = None, *,
               confirmed_dependents: Iterable[int] | None = None) -> int:
    """Record an undo event for an import batch; its rows stop counting. Returns the undo event's id.

    Undo never leaves a row without its region: while a later batch that is not undone has rows in a region
    this batch created, or created regions under one (``dependent_batches``), the undo is refused
    (UndoRefused naming them), unless ``confirmed_dependents`` lists exactly those batches: then they are undone
    too, newest first, each as its own undo event, in the same transaction, before ``batch_id``."""
    batch_id = int(batch_id)

    def write() -> int:
        with _write_transaction(store) as con:
            _check_undoable(con, batch_id)
            dependents = _dependents(con, batch_id)
            if dependents and confirmed_dependents is None:
                raise UndoRefused("error.undo_has_dependents", details=_batches_frame(con, dependents),
                                  batch=batch_id, dependents=_batches_text(con, dependents))
            if confirmed_dependents is not None and sorted({int(b) for b in confirmed_dependents}) != dependents:
                raise UndoRefused("error.undo_dependents_changed", details=_batches_frame(con, dependents),
                                  batch=batch_id, dependents=_batches_text(con, dependents) or "—")
            along = f"随第 {batch_id} 批撤销 / undone with batch {batch_id}"
            for dependent in sorted(dependents, reverse=True):
                _record_undo(con, dependent, user_name, note or along)
            event_id = _record_undo(con, batch_id, user_name, note)
        return event_id

    return _retried(store, write)


def _check_undoable(con, batch_id: int) -> None:
    """NotFound unless ``batch_id`` is an import that is not undone (an undo event names what it undid)."""
    row = con.execute("SELECT kind, undoes FROM batches WHERE batch_id = ?", [batch_id]).fetchone()
    if row is None:
        raise NotFound("error.unknown_batch", value=batch_id)
    if row[0] != "import":
        raise NotFound("error.batch_is_undo_event", value=batch_id, undoes=row[1],
                       file=_file_of(con, row[1]))
    undone_by = con.execute("SELECT min(batch_id) FROM batches WHERE kind = 'undo' AND undoes = ?",
                            [batch_id]).fetchone()[0]
    if undone_by is not None:
        raise NotFound("error.batch_already_undone", value=batch_id, event=undone_by, file=_file_of(con, batch_id))


def _file_of(con, batch_id: int | None) -> str:
    row = con.execute("SELECT file_name FROM batches WHERE batch_id = ?", [batch_id]).fetchone()
    return (row[0] if row else None) or "—"


def _record_undo(con, batch_id: int, user_name: str | None, note: str | None) -> int:
    """Write the undo event of one import batch and refresh what its rows and regions fed."""
    row_counts = con.execute("SELECT row_counts FROM batches WHERE batch_id = ?", [batch_id]).fetchone()[0]
    event_id = _next_batch_id(con)
    con.execute(
        "INSERT INTO batches (batch_id, kind, created_at, user_name, note, row_counts, undoes) "
        "VALUES (?, 'undo', ?, ?, ?, '{}', ?)", [event_id, _now(), user_name, note, batch_id])
    touched = set(_parse_json(row_counts)) - {"regions"}
    _refresh_current(con, touched=touched, regions=True)
    return event_id


def _dependents(con, batch_id: int) -> list[int]:
    """Active import batches that would lose a region if ``batch_id`` were undone: those with rows in, or new
    regions under, a region it created, and in turn those that depend on them."""
    found: set[int] = set()
    frontier = {batch_id}
    while frontier:
        frontier = _direct_dependents(con, sorted(frontier)) - found - {batch_id}
        found |= frontier
    return sorted(found)


def _direct_dependents(con, batch_ids: list[int]) -> set[int]:
    """Active import batches (other than ``batch_ids``) with facts, provenance or new child regions in a region
    that ``batch_ids`` created."""
    created = "SELECT region_id FROM regions_log WHERE batch_id IN (SELECT unnest($ids))"
    users = [f"SELECT DISTINCT batch_id FROM {fact_table(t)} WHERE region_id IN ({created})" for t in TABLES]
    users.append(f"SELECT DISTINCT batch_id FROM value_provenance WHERE region_id IN ({created})")
    users.append(f"SELECT DISTINCT batch_id FROM fact_observations WHERE region_id IN ({created})")
    users.append(f"SELECT DISTINCT batch_id FROM regions_log WHERE parent_id IN ({created})")
    rows = con.execute(f"""
        SELECT DISTINCT batch_id FROM ({' UNION '.join(users)})
        WHERE batch_id NOT IN (SELECT unnest($ids)) AND batch_id IN ({_ACTIVE_BATCHES})""",
                       {"ids": batch_ids, "as_of": 2**31 - 1}).fetchall()
    return {int(r[0]) for r in rows}


def _batches_frame(con, batch_ids: list[int]) -> pd.DataFrame:
    return con.execute("SELECT batch_id, file_name, user_name, created_at FROM batches "
                       "WHERE batch_id IN (SELECT unnest($ids)) ORDER BY batch_id",
                       {"ids": [int(b) for b in batch_ids]}).df()


def _batches_text(con, batch_ids: list[int]) -> ByLanguage:
    """Batch numbers with their files, for a message: 第 3 批（pop.csv）、第 5 批（more.csv）."""
    return batches_text(_batches_frame(con, batch_ids))


def batches_text(frame: pd.DataFrame) -> ByLanguage:
    """``frame``'s batches (batch_id, file_name) named for a message, in each language."""
    rows = [(int(r.batch_id), r.file_name or "—") for r in frame.itertuples(index=False)]
    return ByLanguage(zh="、".join(f"第 {b} 批（{f}）" for b, f in rows),
                      en=", ".join(f"batch {b} ({f})" for b, f in rows))


def dependent_batches(store: Store, batch_id: int) -> pd.DataFrame:
    """The import batches ``undo_batch`` would have to undo with ``batch_id`` (see there): batch_id,
    file_name, user_name, created_at; empty when it can be undone alone."""
    con = store.cursor()
    with store._gate.reading():
        return _batches_frame(con, _dependents(con, int(batch_id)))


def _next_batch_id(con) -> int:
    return con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchone()[0]


def _insert_regions(con, batch_id: int, regions: pd.DataFrame | None, synthetic: bool) -> dict[int, int]:
    """Give new regions real ids (their temporary ids are negative) and write them. Returns temp → real."""
    if regions is None or regions.empty:
        return {}
    start = con.execute("SELECT coalesce(max(region_id), 0) + 1 FROM regions_log").fetchone()[0]
    id_map = {int(t): start + i for i, t in enumerate(regions["region_id"])}
    frame = pd.DataFrame({
        "batch_id": batch_id,
        "region_id": regions["region_id"].map(lambda t: id_map[int(t)]).astype("int64"),
        "name": regions["name"].astype(str),
        "level": regions["level"].astype(str),
        "parent_id": regions["parent_id"].map(lambda p: _real_id(p, id_map)).astype("Int64"),
        "code": regions["code"] if "code" in regions else None,
        "synthetic": synthetic,
    })
    con.register("new_regions", frame)
    try:
        con.execute("INSERT INTO regions_log SELECT batch_id, region_id, name, level, parent_id, code, synthetic "
                    "FROM new_regions")
    finally:
        con.unregister("new_regions")
    return id_map


def _real_id(region_id, id_map: dict[int, int]):
    if region_id is None or pd.isna(region_id):
        return pd.NA
    region_id = int(region_id)
    return id_map.get(region_id, region_id) if region_id < 0 else region_id


def _real_ids(region_ids: pd.Series, id_map: dict[int, int]) -> np.ndarray:
    """``_real_id`` of a whole column at once (a million rows: one lookup per distinct temporary id)."""
    ids = region_ids.to_numpy(dtype="int64")
    temporary = ids < 0
    if temporary.any():
        ids = ids.copy()
        temps = pd.Series(ids[temporary])
        ids[temporary] = temps.map(id_map).fillna(temps).to_numpy("int64")
    return ids


def _insert_facts(con, batch_id: int, table: Table, frame: pd.DataFrame, id_map: dict[int, int]) -> int:
    names = [n for n, _ in _fact_columns(table)]
    data = pd.DataFrame(index=frame.index)
    for name in names:
        if name == "batch_id":
            data[name] = batch_id
        elif name == "region_id":
            data[name] = _real_ids(frame["region_id"], id_map)
        elif name in frame:
            data[name] = frame[name]
        else:
            data[name] = None
    con.register("new_facts", data)
    try:
        casts = ", ".join(_cast(n, t) for n, t in _fact_columns(table))
        con.execute(f"INSERT INTO {fact_table(table)} SELECT {casts} FROM new_facts")
    finally:
        con.unregister("new_facts")
    return len(data)


def _cast(name: str, sql_type: str) -> str:
    return f"CAST({ident(name)} AS {sql_type})"


def _insert_provenance(con, batch_id: int, provenance: pd.DataFrame, id_map: dict[int, int]) -> None:
    frame = provenance.copy()
    frame["batch_id"] = batch_id
    frame["region_id"] = frame["region_id"].map(lambda r: _real_id(r, id_map)).astype("int64")
    con.register("new_provenance", frame)
    try:
        con.execute("INSERT INTO value_provenance SELECT batch_id, table_id, region_id, year, row_key, column_id, "
                    "source, section, origin, note FROM new_provenance")
    finally:
        con.unregister("new_provenance")


# The batches whose rows count: imports not undone. With an ``as_of`` batch, only events up to it count,
# which gives the data as it was right after that batch.
_ACTIVE_BATCHES = """
    SELECT b.batch_id FROM batches b
    WHERE b.kind = 'import' AND b.batch_id <= $as_of
      AND NOT EXISTS (SELECT 1 FROM batches u WHERE u.kind = 'undo' AND u.undoes = b.batch_id
                      AND u.batch_id <= $as_of)
"""


def _current_select(table: Table) -> str:
    """SELECT giving, per key, each column's latest non-missing value among active batches (up to $as_of)."""
    keys = ["region_id", "year"] + [c.id for c in table.key_columns]
    parts = [ident(k) for k in keys]
    approx_flags = []
    for c in table.value_columns:
        parts.append(f"arg_max({ident(c.id)}, batch_id) FILTER (WHERE {ident(c.id)} IS NOT NULL) AS {ident(c.id)}")
        approx_flags.append(
            f"CASE WHEN arg_max(list_contains(approx, '{c.id}'), batch_id) FILTER (WHERE {ident(c.id)} IS NOT NULL)"
            f" THEN '{c.id}' END")
    parts.append("arg_max(source, batch_id) AS source")
    parts.append("arg_max(section, batch_id) AS section")
    parts.append("list_filter([" + ", ".join(approx_flags) + "], x -> x IS NOT NULL) AS approx")
    parts.append("max(batch_id) AS batch_id")
    return (f"SELECT {', '.join(parts)} FROM {fact_table(table)} "
            f"WHERE batch_id IN ({_ACTIVE_BATCHES}) GROUP BY {', '.join(ident(k) for k in keys)}")


def _current_columns(table: Table) -> list[str]:
    keys = ["region_id", "year"] + [c.id for c in table.key_columns]
    return keys + [c.id for c in table.value_columns] + ["source", "section", "approx", "batch_id"]


_REGIONS_SELECT = f"""
    SELECT region_id, arg_max(name, batch_id) AS name, arg_max(level, batch_id) AS level,
           arg_max(parent_id, batch_id) AS parent_id, arg_max(code, batch_id) AS code,
           bool_or(synthetic) AS synthetic
    FROM regions_log WHERE batch_id IN ({_ACTIVE_BATCHES}) GROUP BY region_id
"""


def _refresh_current(con, touched: set[str], regions: bool) -> None:
    """Bring the current tables, the region tree and the rollups up to date with the newest event (a commit or
    an undo), inside its transaction. Only the keys and regions that event's batch wrote are recomputed, so a
    small upload stays fast on a national database (``_refresh_for_event`` in the scale section)."""
    if "observations" in touched:
        _refresh_current_observations(con)
    _refresh_for_event(con, touched - {"observations"}, regions)
    if "observations" in touched:
        _refresh_observation_regions(con)


def _json(value) -> str:
    import json
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _parse_json(text: str | None) -> dict:
    import json
    return json.loads(text) if text else {}


# ---------------------------------------------------------------------------------------------------------
# Reading: batches and versions


def list_batches(store: Store) -> pd.DataFrame:
    """Every batch and undo event, newest first, with whether it is currently undone."""
    return store.query_df("""
        SELECT b.batch_id, b.kind, b.created_at, b.user_name, b.file_name, b.sha256, b.source, b.note,
               b.row_counts, b.undoes, b.synthetic,
               EXISTS (SELECT 1 FROM batches u WHERE u.kind = 'undo' AND u.undoes = b.batch_id) AS undone
        FROM batches b ORDER BY b.batch_id DESC""")


def data_version(store: Store) -> int:
    """The id of the newest event: changes with every commit and undo, so caches can key on it."""
    return store.query_rows("SELECT coalesce(max(batch_id), 0) FROM batches")[0][0]


def cache_version(store: Store) -> int:
    """What the app's caches key on. A DuckDB file: ``data_version`` (only this process writes it). A lake: its
    newest catalog snapshot, which any process's commit moves (also housekeeping and schema changes), so a
    page shows another process's batch without a restart."""
    if not store.spec.is_lake:
        return data_version(store)
    if store.replica:
        with store._reachable():
            return store.refresh_replica()
    with store._reachable(), store._gate.reading():
        return lake.catalog_snapshot_id(store.cursor())


def copy_store(source: Store, target: Store) -> int:
    """Copy every table of ``source`` (batches, regions_log, provenance, facts, and the current and derived
    tables as they are) into the empty store ``target``, in one transaction under its commit lock: the history,
    batch ids and undo events stay as they were. Refuses (DatabaseError) a target that holds a batch already.
    Returns the number of batches copied."""
    held = data_version(target)
    if held:
        raise DatabaseError("cli.store_target_not_empty", target=target.path, batches=held)
    tables = [r[0] for r in source.query_rows(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name")]

    def write() -> int:
        with _write_transaction(target) as con:
            for name in tables:
                columns = sorted(_columns_of(source.cursor(), name))
                wanted = ", ".join(ident(c) for c in columns)
                rows = source.cursor().execute(f"SELECT {wanted} FROM {ident(name)}").arrow()
                con.execute(f"DELETE FROM {ident(name)}")  # a new store's derived tables hold the virtual root
                con.register("copied_rows", rows)
                try:
                    con.execute(f"INSERT INTO {ident(name)} ({wanted}) SELECT {wanted} FROM copied_rows")
                finally:
                    con.unregister("copied_rows")
        return data_version(target)

    return _retried(target, write)


def housekeeping(store: Store, keep_hours: float = 1.0) -> dict[str, int]:
    """A lake's housekeeping (``lake.housekeeping``: merge small files, expire snapshots older than
    ``keep_hours``, delete the files only they used) under the commit lock; nothing for a DuckDB file."""
    from datetime import timedelta

    with store.writing() as con, store._write_lock:
        return lake.housekeeping(con, store.spec, keep=timedelta(hours=keep_hours))


def batch_with_sha256(store: Store, sha256: str) -> int | None:
    """The newest import batch (not undone) whose file had this SHA-256, if any."""
    rows = store.query_rows("""
        SELECT max(b.batch_id) FROM batches b WHERE b.kind = 'import' AND b.sha256 = ?
          AND NOT EXISTS (SELECT 1 FROM batches u WHERE u.kind = 'undo' AND u.undoes = b.batch_id)""", [sha256])
    return rows[0][0]


def last_update(store: Store) -> tuple[int, datetime | None]:
    rows = store.query_rows("SELECT batch_id, created_at FROM batches ORDER BY batch_id DESC LIMIT 1")
    return (rows[0][0], rows[0][1]) if rows else (0, None)


# ---------------------------------------------------------------------------------------------------------
# Reading: regions


def regions(store: Store) -> pd.DataFrame:
    """All current regions: region_id, name, level, parent_id, code, synthetic."""
    if not _columns_of(store.cursor(), "cur_regions"):
        return pd.DataFrame(columns=["region_id", "name", "level", "parent_id", "code", "synthetic"])
    return store.query_df("SELECT region_id, name, level, parent_id, code, synthetic FROM cur_regions "
                          "ORDER BY region_id")


def region_children(store: Store, region_id: int) -> pd.DataFrame:
    return store.query_df("SELECT region_id, name, level, parent_id, code, synthetic FROM cur_regions "
                          "WHERE parent_id = ? ORDER BY name", [region_id])


def regions_with_data(store: Store) -> pd.DataFrame:
    """Regions that hold at least one fact, with their years: region_id, year."""
    unions = " UNION ".join(f"SELECT DISTINCT region_id, year FROM {current_table(t)}" for t in TABLES)
    return store.query_df(f"SELECT region_id, year FROM ({unions}) ORDER BY region_id, year")


def years_of(store: Store, region_id: int) -> list[int]:
    unions = " UNION ".join(f"SELECT year FROM {current_table(t)} WHERE region_id = $r" for t in TABLES)
    return [r[0] for r in store.query_rows(f"SELECT DISTINCT year FROM ({unions}) ORDER BY year", {"r": region_id})]


# ---------------------------------------------------------------------------------------------------------
# Reading: facts


def table_rows(store: Store, table: Table, region_ids: list[int], years: list[int] | None = None,
               as_of: int | None = None) -> pd.DataFrame:
    """Current (or as-of-batch) rows of one table for some regions, all their columns."""
    params = {"ids": [int(i) for i in region_ids], "years": years or [], "all_years": years is None}
    where = "region_id IN (SELECT unnest($ids)) AND ($all_years OR year IN (SELECT unnest($years)))"
    if as_of is None:
        cols = ", ".join(ident(c) for c in _current_columns(table))
        sql = f"SELECT {cols} FROM {current_table(table)} WHERE {where}"
    else:
        params["as_of"] = int(as_of)
        sql = f"SELECT * FROM ({_current_select(table)}) WHERE {where}"
    keys = ["region_id", "year"] + [c.id for c in table.key_columns]
    return store.query_df(sql + " ORDER BY " + ", ".join(ident(k) for k in keys), params)


def indicator_inputs(store: Store, region_ids: list[int], years: list[int] | None = None) -> pd.DataFrame:
    """One row per (region, year) with every figure the indicator formulas read.

    Tables with one row per region and year are joined on (region_id, year); a table with a breakdown
    (registry ``Table.summary``) is summarised per region and year in SQL so that only small results reach
    pandas. Figures are effective ones: a region's own, and for a parent the complete sums of its children
    where it reports none (scale section).
    """
    return effective_inputs(store, region_ids, years)


def value_provenance(store: Store, region_id: int, year: int) -> pd.DataFrame:
    """Per-value provenance recorded for a region and year (from active batches), newest batch first."""
    return store.query_df(f"""
        SELECT table_id, row_key, column_id, source, section, origin, note, batch_id FROM value_provenance
        WHERE region_id = $r AND year = $y AND batch_id IN ({_ACTIVE_BATCHES})
        ORDER BY batch_id DESC""", {"r": region_id, "y": year, "as_of": 2**31 - 1})


def count_rows(store: Store, table: Table, current: bool = True) -> int:
    name = current_table(table) if current else fact_table(table)
    return store.query_rows(f"SELECT count(*) FROM {name}")[0][0]



# ---------------------------------------------------------------------------------------------------------
# Data updates (uploads): trial commits for the preview, tables as of a batch, rows for export.


def _apply_batch(con, batch: NewBatch) -> tuple[int, dict[int, int]]:
    """The writing steps of a commit on an open transaction (no lock, no COMMIT): ``commit_batch`` commits
    them, ``trial_commit`` rolls them back, so a preview runs exactly the statements a commit runs."""
    _check_observations(con, batch)
    batch_id = _next_batch_id(con)
    id_map = _insert_regions(con, batch_id, batch.regions, batch.synthetic)
    counts = {}
    for table_id, frame in batch.rows.items():
        counts[table_id] = _insert_facts(con, batch_id, TABLES_BY_ID[table_id], frame, id_map)
    if batch.observations is not None and len(batch.observations):
        counts["observations"] = _insert_observations(con, batch_id, batch.observations, id_map, batch.source)
    if batch.regions is not None and len(batch.regions):
        counts["regions"] = len(batch.regions)
    if batch.provenance is not None and len(batch.provenance):
        _insert_provenance(con, batch_id, batch.provenance, id_map)
    con.execute(
        "INSERT INTO batches (batch_id, kind, created_at, user_name, file_name, sha256, source, note, "
        "row_counts, undoes, synthetic) VALUES (?, 'import', ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
        [batch_id, _now(), batch.user_name, batch.file_name, batch.sha256, batch.source, batch.note,
         _json(counts), batch.synthetic])
    _refresh_current(con, touched=set(batch.rows) | ({"observations"} & set(counts)),
                     regions=batch.regions is not None)
    return batch_id, id_map


def _key_names(table: Table) -> list[str]:
    return ["region_id", "year"] + [c.id for c in table.key_columns]


def _rows_for_keys(store: Store, table: Table, keys: pd.DataFrame) -> pd.DataFrame:
    """Current rows of ``table`` whose key is among ``keys`` (region_id, year[, programme])."""
    names = _key_names(table)
    cols = ", ".join(f"c.{ident(c)}" for c in _current_columns(table))
    on = " AND ".join(f"c.{ident(k)} = k.{ident(k)}" for k in names)
    con = store.cursor()
    con.register("preview_keys", keys[names].drop_duplicates())
    try:
        return con.execute(f"SELECT {cols} FROM {current_table(table)} c JOIN preview_keys k ON {on}").df()
    finally:
        con.unregister("preview_keys")


def _observe(store: Store, tables: dict[str, pd.DataFrame], id_map: dict[int, int]) -> dict:
    """The current state of the batch's keys: rows per table, indicator inputs, regions."""
    rows, region_ids, years = {}, set(), set()
    for table_id, frame in tables.items():
        table = TABLES_BY_ID[table_id]
        keys = frame[_key_names(table)].copy()
        keys["region_id"] = keys["region_id"].map(lambda r: _real_id(r, id_map)).astype("int64")
        rows[table_id] = _rows_for_keys(store, table, keys)
        region_ids.update(int(r) for r in keys["region_id"].unique() if r > 0)
        years.update(int(y) for y in keys["year"].unique())
    inputs = indicator_inputs(store, sorted(region_ids), sorted(years)) if region_ids else pd.DataFrame()
    names = store.query_df("SELECT region_id, name FROM cur_regions WHERE region_id IN (SELECT unnest($ids))",
                           {"ids": sorted(region_ids)})
    return {"tables": rows, "inputs": inputs, "regions": names}


def trial_commit(store: Store, batch: NewBatch, tables: dict[str, pd.DataFrame]) -> tuple[dict, dict]:
    """Apply ``batch`` inside a transaction that is always rolled back; return the state before and after.

    Each state is ``{"tables": {table id: current rows for the batch's keys}, "inputs": indicator inputs of
    the batch's regions and years, "regions": region_id and name of the batch's regions}``. Other readers never see the trial (their
    cursors read the last committed state); writers wait for it like for a commit.
    """
    with _write_transaction(store, commit=False) as con:
        before = _observe(store, tables, {})
        _, id_map = _apply_batch(con, batch)
        after = _observe(store, tables, id_map)
    return before, after


def _regions_select_named() -> str:
    """Regions active as of $as_of, with their parent's name."""
    return f"""
        WITH r AS ({_REGIONS_SELECT})
        SELECT r.region_id, r.name, r.level, r.parent_id, p.name AS parent, r.code, r.synthetic
        FROM r LEFT JOIN r p ON p.region_id = r.parent_id"""


def regions_as_of(store: Store, batch_id: int | None = None) -> pd.DataFrame:
    """Regions as they were right after ``batch_id`` (None: now): region_id, name, level, parent_id,
    parent (name), code, synthetic; ordered by region_id."""
    as_of = 2**31 - 1 if batch_id is None else int(batch_id)
    return store.query_df(_regions_select_named() + " ORDER BY r.region_id", {"as_of": as_of})


def table_as_of(store: Store, table: Table, batch_id: int | None = None) -> pd.DataFrame:
    """All rows of ``table`` as they were right after ``batch_id`` (None: the current rows), with the region's
    name, parent name and code: region_id, region, parent, region_code, year, the table's columns, source,
    section, approx, batch_id (the newest batch that wrote the row)."""
    as_of = 2**31 - 1 if batch_id is None else int(batch_id)
    source = (f"SELECT {', '.join(ident(c) for c in _current_columns(table))} FROM {current_table(table)}"
              if batch_id is None else _current_select(table))
    return store.query_df(f"""
        WITH g AS ({_regions_select_named()}), t0 AS ({source})
        SELECT t0.region_id, g.name AS region, g.parent, g.code AS region_code, t0.* EXCLUDE (region_id)
        FROM t0 LEFT JOIN g ON g.region_id = t0.region_id
        ORDER BY g.name, t0.year{', ' if table.key_columns else ''}
                 {', '.join('t0.' + ident(c.id) for c in table.key_columns)}""", {"as_of": as_of})


# ---------------------------------------------------------------------------------------------------------
# Scale: the region tree, rollups of children into parents, effective figures, comparisons (issue 5).
#
# ``region_tree``  every current region with its depth, its ancestor at each level, how many children it has and
#                  whether it reports figures of its own; plus a virtual root (region_id 0, level 'all') whose
#                  children are the top-level regions: "all regions" (the whole country at national scale).
# ``roll_<table>`` per parent region and year where some child has figures: for every additive column (counts
#                  and areas) the sum of its children's effective values (``<column>__sum``), how many children
#                  have one (``<column>__n``) and how many children the parent has (``n_children``).
# ``sum_<table>``  for a table with a breakdown (one row per item, e.g. per study programme; registry
#                  ``Table.summary``): its rows summarised per region and year, as the summary declares.
# ``roll_<table>`` of such a table: the sums of its children's effective summaries (the figures that add up),
#                  with ``n_reporting``: how many children have figures of that table that year.
#
# The effective value of a region, year and column is the region's own reported value where it has one;
# otherwise, for an additive column, the sum of its children's effective values when every child has one
# (the level below is complete); otherwise missing. Rates and texts never roll up: rate indicators are
# recomputed from the effective counts. Where a region reports a figure and its children's complete sum
# differs, both are kept and ``rollup_status`` flags it; the region's own figure is what it shows.
#
# All these tables are derived: they are refreshed inside every commit's and undo's transaction for the
# regions and keys that event touches (and their ancestors), and rebuilt from the current tables when their
# layout no longer matches the registry.

from lawstats.registry import AREA as _AREA, COUNT as _COUNT, LEVEL_IDS as _LEVEL_IDS  # noqa: E402
from lawstats.registry import ROWS as _ROWS, Figure  # noqa: E402

ROOT_ID = 0  # the virtual region above the top-level regions
ROOT_LEVEL = "all"
MAX_DEPTH = 12  # a guard against a cycle in the parent links
ANCESTOR_COLUMNS = {level: f"anc_{level}" for level in _LEVEL_IDS}


def simple_tables() -> list[Table]:
    """Tables with one row per region and year (no breakdown key)."""
    return [t for t in TABLES if not t.key_columns]


def breakdown_tables() -> list[Table]:
    """Tables with a breakdown key, each summarised per region and year (``sum_<table>``)."""
    return [t for t in TABLES if t.summary is not None]


def summary_sums(table: Table) -> list[str]:
    """The summary figures that add up over child regions (sums and row counts), in order."""
    return [name for name, adds_up in table.summary_columns if adds_up]


def summary_not_rolled(table: Table) -> list[str]:
    """The summary figures a rollup leaves missing: minimum or maximum stated rates, the largest rate gap."""
    return [name for name, adds_up in table.summary_columns if not adds_up]


def summary_table(table: Table) -> str:
    return ident(f"sum_{table.id}")


def additive_columns(table: Table) -> list:
    """The columns that roll up: counts and areas (never rates, texts or lists)."""
    return [c for c in table.value_columns if c.kind in (_COUNT, _AREA)]


def rollup_table(table: Table | str) -> str:
    return ident(f"roll_{table if isinstance(table, str) else table.id}")


def _sum_column(column_id: str) -> str:
    return ident(f"{column_id}__sum")


def _n_column(column_id: str) -> str:
    return ident(f"{column_id}__n")


def _roll_layout(table_id: str) -> list[tuple[str, str]]:
    cols = [("region_id", "INTEGER"), ("year", "INTEGER"), ("n_children", "INTEGER")]
    table = TABLES_BY_ID[table_id]
    if table.summary is not None:
        return cols + [("n_reporting", "INTEGER")] + [(f, "BIGINT") for f in summary_sums(table)]
    for c in additive_columns(table):
        cols += [(f"{c.id}__sum", c.sql_type), (f"{c.id}__n", "INTEGER")]
    return cols


def _sum_layout(con, table: Table) -> list[tuple[str, str]]:
    """``sum_<table>``: the table's summary per region and year (``_summary_select``), kept so that pages
    never aggregate item rows. Its sums (HUGEINT in the query, slow to scan and convert) are stored as
    DOUBLE, which is also what pandas made of them: exact for any count below 2**53."""
    described = con.execute("DESCRIBE " + _summary_select(table, "")).fetchall()
    return [(name, "DOUBLE" if kind == "HUGEINT" else kind) for name, kind, *_ in described]


def _tree_layout() -> list[tuple[str, str]]:
    return ([("region_id", "INTEGER"), ("name", "VARCHAR"), ("level", "VARCHAR"), ("parent_id", "INTEGER"),
             ("code", "VARCHAR"), ("synthetic", "BOOLEAN"), ("depth", "INTEGER")]
            + [(a, "INTEGER") for a in ANCESTOR_COLUMNS.values()]
            + [("n_children", "INTEGER"), ("own_data", "BOOLEAN")])


def _rolled_table_ids() -> list[str]:
    return [t.id for t in simple_tables()] + [t.id for t in breakdown_tables()]


# -- keeping the derived tables in step -------------------------------------------------------------------


def _sync_scale_tables(con) -> None:
    """Create the region tree and rollup tables where missing or out of step with the registry, and fill
    them from the current tables (a database from before them, or a registry that gained a column)."""
    con.execute("SET enable_progress_bar = false")  # a long rebuild would draw progress bars into CLI output
    wanted, stale = _stale_scale_tables(con)
    if not stale:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        for name in stale:
            con.execute(f"DROP TABLE IF EXISTS {ident(name)}")
            con.execute(f"CREATE TABLE {ident(name)} ({', '.join(f'{ident(n)} {t}' for n, t in wanted[name])})")
        rebuild_scale_tables(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _stale_scale_tables(con) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """(the layout every derived table should have, the names of those that differ or are missing)."""
    wanted = {"region_tree": _tree_layout(), **{f"sum_{t.id}": _sum_layout(con, t) for t in breakdown_tables()},
              **{f"roll_{t}": _roll_layout(t) for t in _rolled_table_ids()}}
    stale = []
    for name, layout in wanted.items():
        existing = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                               "AND table_catalog = current_database() ORDER BY ordinal_position",
                               [name]).fetchall()
        if [tuple(r) for r in existing] != [(n, t.upper()) for n, t in layout]:
            stale.append(name)
    return wanted, stale


def rebuild_scale_tables(con) -> None:
    """Rebuild the region tree and every rollup from the current tables (inside the caller's transaction)."""
    _rebuild_region_tree(con)
    con.execute("UPDATE region_tree SET own_data = region_id IN (" + _own_regions_sql() + ")")
    for table in breakdown_tables():
        con.execute(f"DELETE FROM {summary_table(table)}")
        con.execute(f"INSERT INTO {summary_table(table)} {_summary_select(table, '')} ORDER BY region_id, year")
    for table_id in _rolled_table_ids():
        con.execute(f"DELETE FROM {rollup_table(table_id)}")
    con.execute("CREATE OR REPLACE TEMP TABLE _dirty AS SELECT region_id, depth FROM region_tree "
                "WHERE n_children > 0")
    _refresh_rollups(con, _rolled_table_ids())


def _own_regions_sql(restrict: str = "") -> str:
    """Regions with a row of their own in any current table (optionally only among ``restrict``)."""
    where = f" WHERE region_id IN ({restrict})" if restrict else ""
    return " UNION ".join([f"SELECT DISTINCT region_id FROM {current_table(t)}{where}" for t in TABLES]
                          + [f"SELECT DISTINCT region_id FROM cur_observations{where}"])


def _rebuild_region_tree(con) -> None:
    """Depth, ancestors by level and child counts of every current region, walking down from the top.

    A region whose parent is unknown counts as a top-level region (its parent in the tree is the root 0).
    ``own_data`` is carried over from the old tree; the caller refreshes it for the regions it touched.
    """
    if not _columns_of(con, "cur_regions"):
        con.execute("CREATE TABLE IF NOT EXISTS cur_regions AS " + _REGIONS_SELECT.replace("$as_of", "0")
                    + " LIMIT 0")
    ancestors = ", ".join(f"CASE WHEN r.level = '{lv}' THEN r.region_id END AS {ident(a)}"
                          for lv, a in ANCESTOR_COLUMNS.items())
    inherited = ", ".join(f"CASE WHEN c.level = '{lv}' THEN c.region_id ELSE w.{ident(a)} END"
                          for lv, a in ANCESTOR_COLUMNS.items())
    anc_names = ", ".join(ident(a) for a in ANCESTOR_COLUMNS.values())
    con.execute("CREATE OR REPLACE TEMP TABLE _old_own AS SELECT region_id FROM region_tree WHERE own_data")
    con.execute("DELETE FROM region_tree")
    con.execute(f"""
        INSERT INTO region_tree
        WITH RECURSIVE walk AS (
            SELECT r.region_id, r.name, r.level, {ROOT_ID} AS parent_id, r.code, r.synthetic, 1 AS depth, {ancestors}
            FROM cur_regions r
            WHERE r.parent_id IS NULL OR r.parent_id NOT IN (SELECT region_id FROM cur_regions)
            UNION ALL
            SELECT c.region_id, c.name, c.level, c.parent_id, c.code, c.synthetic, w.depth + 1, {inherited}
            FROM cur_regions c JOIN walk w ON c.parent_id = w.region_id
            WHERE w.depth < {MAX_DEPTH}
        ),
        kids AS (SELECT parent_id, count(*) AS n FROM walk GROUP BY parent_id)
        SELECT w.region_id, w.name, w.level, w.parent_id, w.code, coalesce(w.synthetic, false), w.depth,
               {', '.join('w.' + ident(a) for a in ANCESTOR_COLUMNS.values())}, coalesce(k.n, 0),
               w.region_id IN (SELECT region_id FROM _old_own)
        FROM walk w LEFT JOIN kids k ON k.parent_id = w.region_id
        ORDER BY w.depth, w.region_id""")
    con.execute(f"""
        INSERT INTO region_tree (region_id, name, level, parent_id, code, synthetic, depth, {anc_names},
                                 n_children, own_data)
        SELECT {ROOT_ID}, '', '{ROOT_LEVEL}', NULL, NULL, coalesce(bool_or(synthetic), false), 0,
               {', '.join('NULL' for _ in ANCESTOR_COLUMNS)}, count(*), false
        FROM region_tree WHERE depth = 1""")


def _latest_event(con) -> tuple[int, int, str]:
    """(event id, the import batch whose keys it changes, kind) of the newest event in ``batches``."""
    event_id, kind, undoes = con.execute(
        "SELECT batch_id, kind, undoes FROM batches ORDER BY batch_id DESC LIMIT 1").fetchone()
    return event_id, (undoes if kind == "undo" else event_id), kind


def _refresh_for_event(con, touched: set[str], regions: bool) -> None:
    """After the newest event (a commit or an undo) inside its transaction: recompute the current rows of
    the keys its import batch wrote, the current regions it wrote, the region tree, and the rollups of every
    ancestor of a region whose figures or children changed. Semantics as a full rebuild: per key and column,
    the latest non-missing value among the batches not undone."""
    _, batch_id, kind = _latest_event(con)
    for table_id in sorted(touched):
        _refresh_current_keys(con, TABLES_BY_ID[table_id], batch_id, first_load_allowed=kind == "import")
    for table in breakdown_tables():
        if table.id in touched:
            _refresh_summary(con, table, batch_id)
    regions = regions and bool(con.execute("SELECT count(*) FROM regions_log WHERE batch_id = ?",
                                           [batch_id]).fetchone()[0])
    # Parents whose sums may change: parents of regions with new figures, old and new parents of regions
    # written by the batch. Collected before the tree is rebuilt, so an undone region still names its parent.
    fact_regions = " UNION ".join(f"SELECT DISTINCT region_id FROM {fact_table(TABLES_BY_ID[t])} WHERE batch_id = $b"
                                  for t in sorted(touched)) or "SELECT NULL::INTEGER AS region_id WHERE false"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _touched AS
        SELECT region_id FROM ({fact_regions}) UNION SELECT region_id FROM regions_log WHERE batch_id = $b""",
                {"b": batch_id})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _seeds AS
        SELECT parent_id AS region_id FROM region_tree WHERE region_id IN (SELECT region_id FROM _touched)
        UNION SELECT coalesce(parent_id, 0) FROM regions_log WHERE batch_id = $b""", {"b": batch_id})
    if regions:
        _refresh_current_regions(con, batch_id)
        _rebuild_region_tree(con)
        con.execute("INSERT INTO _seeds SELECT parent_id FROM region_tree WHERE region_id IN "
                    "(SELECT region_id FROM _touched) AND parent_id IS NOT NULL")
    con.execute("UPDATE region_tree SET own_data = region_id IN (" + _own_regions_sql("SELECT region_id FROM _touched")
                + ") WHERE region_id IN (SELECT region_id FROM _touched)")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dirty AS
        WITH RECURSIVE up(region_id, steps) AS (
            SELECT DISTINCT region_id, 0 FROM _seeds WHERE region_id IS NOT NULL
            UNION
            SELECT t.parent_id, up.steps + 1 FROM region_tree t JOIN up ON t.region_id = up.region_id
            WHERE t.parent_id IS NOT NULL AND up.steps < {MAX_DEPTH})
        SELECT DISTINCT t.region_id, t.depth FROM up JOIN region_tree t ON t.region_id = up.region_id""")
    tables = _rolled_table_ids() if regions else [t for t in _rolled_table_ids() if t in touched]
    if regions:
        for table_id in _rolled_table_ids():
            con.execute(f"DELETE FROM {rollup_table(table_id)} WHERE region_id NOT IN "
                        "(SELECT region_id FROM region_tree WHERE n_children > 0)")
    _refresh_rollups(con, tables)


def _key_join(table: Table, left: str, right: str) -> str:
    keys = ["region_id", "year"] + [c.id for c in table.key_columns]
    return " AND ".join(f"{left}.{ident(k)} = {right}.{ident(k)}" for k in keys)


REFRESH_SLICE_KEYS = 500_000  # keys whose current rows one statement recomputes (see _refresh_current_keys)


def _refresh_current_keys(con, table: Table, batch_id: int, first_load_allowed: bool) -> None:
    """Recompute the current rows of the keys ``batch_id`` wrote. A table's first load (no other batch ever
    wrote it) copies the batch's rows, which is what the general path gives for one row per key."""
    cur, fact = current_table(table), fact_table(table)
    cols = ", ".join(ident(c) for c in _current_columns(table))
    keys = ", ".join(ident(k) for k in ["region_id", "year"] + [c.id for c in table.key_columns])
    others = con.execute(f"SELECT count(*) FROM {fact} WHERE batch_id <> ?", [batch_id]).fetchone()[0]
    # Rows go in in key order: DuckDB's zone maps (min/max per row group) then let a query for a few regions
    # read only their row groups instead of the whole table.
    # A first load, or only new keys (new regions or years, as when a country's data goes into a township's
    # store): no other batch has a say in these keys, so the batch's rows are their current rows.
    if first_load_allowed and (others == 0 or not _shares_keys(con, table, batch_id)):
        if others == 0:
            con.execute(f"DELETE FROM {cur}")
        con.execute(f"INSERT INTO {cur} ({cols}) {_single_batch_select(table)} ORDER BY {keys}", {"b": batch_id})
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE _keys AS SELECT DISTINCT {keys} FROM {fact} WHERE batch_id = ?",
                [batch_id])
    # A slice of regions at a time, in key order: a national correction's millions of keys are grouped by
    # DuckDB in a fraction of the memory they would take at once. Bounds are written into the SQL as numbers
    # (they are integers from the database) so that DuckDB skips the row groups outside them.
    for low, high in _region_slices(con, "_keys", REFRESH_SLICE_KEYS):
        in_slice = "" if low is None else f"region_id BETWEEN {int(low)} AND {int(high)} AND "
        con.execute(f"DELETE FROM {cur} WHERE {in_slice}EXISTS (SELECT 1 FROM _keys k WHERE "
                    f"{'k.' + in_slice if in_slice else ''}{_key_join(table, 'k', cur)})")
        select = _current_select(table).replace(
            f"FROM {fact} WHERE",
            f"FROM {fact} WHERE {in_slice}EXISTS (SELECT 1 FROM _keys k WHERE {_key_join(table, 'k', fact)}) AND", 1)
        con.execute(f"INSERT INTO {cur} ({cols}) {select} ORDER BY {keys}", {"as_of": 2**31 - 1})


def _region_slices(con, keys_table: str, size: int) -> list[tuple[int | None, int | None]]:
    """Disjoint region-id ranges (low, high) covering ``keys_table``, each holding about ``size`` keys
    (more when one region has more keys than that); [(None, None)] when one statement will do."""
    count = con.execute(f"SELECT count(*) FROM {keys_table}").fetchone()[0]
    parts = max(1, -(-count // size))
    if parts == 1:
        return [(None, None)]
    highs = [row[0] for row in con.execute(
        f"SELECT max(region_id) FROM (SELECT region_id, ntile($parts) OVER (ORDER BY region_id) AS part "
        f"FROM {keys_table}) GROUP BY part ORDER BY 1", {"parts": parts}).fetchall()]
    highs = sorted(set(highs))
    highs[-1] = 2**31 - 1
    return list(zip([-2**31] + [h + 1 for h in highs[:-1]], highs))


def _shares_keys(con, table: Table, batch_id: int) -> bool:
    """True when another batch (undone or not) wrote a row with one of this batch's keys."""
    fact = fact_table(table)
    on = " AND ".join(f"o.{ident(k)} = n.{ident(k)}" for k in _key_names(table))
    return con.execute(f"SELECT EXISTS (SELECT 1 FROM {fact} o JOIN {fact} n ON {on} "
                       f"WHERE n.batch_id = $b AND o.batch_id <> $b)", {"b": batch_id}).fetchone()[0]


def _refresh_summary(con, table: Table, batch_id: int) -> None:
    """Recompute ``sum_<table>`` for the regions and years whose item rows ``batch_id`` wrote."""
    summary = summary_table(table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _summary_keys AS "
                f"SELECT DISTINCT region_id, year FROM {fact_table(table)} WHERE batch_id = ?", [batch_id])
    con.execute(f"DELETE FROM {summary} WHERE EXISTS (SELECT 1 FROM _summary_keys k "
                f"WHERE k.region_id = {summary}.region_id AND k.year = {summary}.year)")
    con.execute(f"INSERT INTO {summary} {_summary_select(table, 'SELECT region_id, year FROM _summary_keys')} "
                "ORDER BY region_id, year")


def _single_batch_select(table: Table) -> str:
    """The current rows when one batch holds every row of a table: its rows as they are."""
    keys = ["region_id", "year"] + [c.id for c in table.key_columns]
    flags = ", ".join(f"CASE WHEN list_contains(approx, '{c.id}') AND {ident(c.id)} IS NOT NULL THEN '{c.id}' END"
                      for c in table.value_columns)
    values = ", ".join(ident(c.id) for c in table.value_columns)
    return (f"SELECT {', '.join(ident(k) for k in keys)}, {values}, source, section, "
            f"list_filter([{flags}], x -> x IS NOT NULL), batch_id FROM {fact_table(table)} WHERE batch_id = $b")


def _refresh_current_regions(con, batch_id: int) -> None:
    """Recompute the current rows of the regions ``batch_id`` wrote (a commit adds them, an undo drops them)."""
    con.execute("CREATE TABLE IF NOT EXISTS cur_regions AS " + _REGIONS_SELECT.replace("$as_of", "0") + " LIMIT 0")
    written = "SELECT region_id FROM regions_log WHERE batch_id = $b"
    con.execute(f"DELETE FROM cur_regions WHERE region_id IN ({written})", {"b": batch_id})
    select = _REGIONS_SELECT.replace("FROM regions_log WHERE",
                                     f"FROM regions_log WHERE region_id IN ({written}) AND", 1)
    con.execute(f"INSERT INTO cur_regions {select}", {"b": batch_id, "as_of": 2**31 - 1})


def _refresh_rollups(con, table_ids: list[str]) -> None:
    """Recompute the rollup rows of the parents in ``_dirty``, deepest first, so that every parent sums
    children that are already up to date."""
    depths = [r[0] for r in con.execute("SELECT DISTINCT depth FROM _dirty ORDER BY depth DESC").fetchall()]
    for depth in depths:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _kids AS
            SELECT k.region_id, k.parent_id, p.n_children FROM region_tree k
            JOIN _dirty d ON d.region_id = k.parent_id JOIN region_tree p ON p.region_id = k.parent_id
            WHERE d.depth = ?""", [depth])
        parents = "SELECT region_id FROM _dirty WHERE depth = $depth"
        for table_id in table_ids:
            con.execute(f"DELETE FROM {rollup_table(table_id)} WHERE region_id IN ({parents})", {"depth": depth})
            con.execute(f"INSERT INTO {rollup_table(table_id)} {_rollup_select(table_id)}")


def _rollup_select(table_id: str) -> str:
    """Per parent in ``_kids`` and year: the sums of its children's effective values and their counts."""
    kids = "SELECT region_id FROM _kids"
    table = TABLES_BY_ID[table_id]
    if table.summary is not None:
        sums = ", ".join(f"sum(e.{ident(f)})::BIGINT" for f in summary_sums(table))
        return (f"SELECT k.parent_id, e.year, any_value(k.n_children), count(*), {sums} "
                f"FROM ({_effective_summary_sql(table, kids)}) e JOIN _kids k ON k.region_id = e.region_id "
                f"GROUP BY k.parent_id, e.year ORDER BY k.parent_id, e.year")
    parts = []
    for c in additive_columns(table):
        parts += [f"sum(e.{ident(c.id)})::{c.sql_type}", f"count(e.{ident(c.id)})"]
    return (f"SELECT k.parent_id, e.year, any_value(k.n_children), {', '.join(parts)} "
            f"FROM ({_effective_sql(table, kids)}) e JOIN _kids k ON k.region_id = e.region_id "
            f"GROUP BY k.parent_id, e.year ORDER BY k.parent_id, e.year")


# -- effective figures ------------------------------------------------------------------------------------

def _year_filter(alias: str, years: list[int] | None) -> str:
    """All years (None), or the listed ones ($years) as a range test first: cheap on every row."""
    if years is None:
        return "TRUE"
    return f"({alias}.year BETWEEN $year_min AND $year_max AND list_contains($years, {alias}.year))"


def _year_params(years: list[int] | None) -> dict:
    if years is None:
        return {}
    years = [int(y) for y in years]
    return {"years": years, "year_min": min(years, default=0), "year_max": max(years, default=-1)}


def _effective_sql(table: Table, region_sql: str, years: list[int] | None = None) -> str:
    """The effective rows of a simple table for the regions ``region_sql`` selects, with the current table's
    columns: a region's own values, a parent's additive gaps filled by its children's complete sums.

    Both sides are filtered on their own before the outer join, so each scan skips what it can (the tables
    are stored in region order, and DuckDB's zone maps then read only the row groups of those regions)."""
    cur, roll = current_table(table), rollup_table(table)
    additive = {c.id for c in additive_columns(table)}
    columns = []
    for name in _current_columns(table):
        q = ident(name)
        if name in ("region_id", "year"):
            columns.append(f"coalesce(c.{q}, r.{q}) AS {q}")
        elif name in additive:
            columns.append(f"coalesce(c.{q}, CASE WHEN r.{_n_column(name)} = r.n_children "
                           f"THEN r.{_sum_column(name)} END) AS {q}")
        else:
            columns.append(f"c.{q}")
    return f"""
        SELECT {', '.join(columns)}
        FROM (SELECT * FROM {cur} WHERE region_id IN ({region_sql}) AND {_year_filter(cur, years)}) c
        FULL OUTER JOIN (SELECT * FROM {roll} WHERE region_id IN ({region_sql}) AND {_year_filter(roll, years)}) r
          ON c.region_id = r.region_id AND c.year = r.year"""


def _summary_select(table: Table, keys_sql: str) -> str:
    """The summary of a breakdown table's current rows per region and year, for the (region_id, year) pairs
    ``keys_sql`` selects (all rows when it is empty): what ``sum_<table>`` stores."""
    cur = current_table(table)
    restrict = (f"WHERE EXISTS (SELECT 1 FROM ({keys_sql}) k WHERE k.region_id = {cur}.region_id "
                f"AND k.year = {cur}.year)") if keys_sql else ""
    return (f"SELECT region_id, year, {', '.join(_summary_figures_sql(table))} FROM {cur} {restrict} "
            f"GROUP BY region_id, year")


def _summary_figures_sql(table: Table) -> list[str]:
    """One aggregate per column of ``table.summary_columns``, derived from the registry's declaration."""
    summary = table.summary
    parts = [_figure_sql(f) for f in summary.figures]
    if summary.order:
        parts.append(_order_violations_sql(summary.order))
    if summary.stated_rates:
        parts.append(_rate_gap_sql(summary.stated_rates))
    return [f"{sql} AS {ident(name)}" for sql, (name, _) in zip(parts, table.summary_columns, strict=True)]


def _figure_sql(figure: Figure) -> str:
    """A summary figure: its aggregate over the rows passing its filters."""
    conditions = []
    if figure.among:
        conditions.append(f"{ident(figure.among[0])} = {_literal(figure.among[1])}")
    conditions += [f"{ident(c)} > 0" for c in figure.positive]
    conditions += [f"{ident(c)} IS NOT NULL" for c in figure.known]
    if figure.any_known:
        conditions.append("(" + " OR ".join(f"{ident(c)} IS NOT NULL" for c in figure.any_known) + ")")
    aggregate = "count(*)" if figure.how == _ROWS else f"{figure.how}({ident(figure.column)})"
    return aggregate + (f" FILTER (WHERE {' AND '.join(conditions)})" if conditions else "")


def _order_violations_sql(order: tuple[str, ...]) -> str:
    """Rows where a column of ``order`` exceeds a later one; missing (not 0) where no row has two of them,
    since then nothing could be checked."""
    known = " + ".join(f"({ident(c)} IS NOT NULL)::INT" for c in order)
    broken = " OR ".join(f"{ident(a)} > {ident(b)}" for i, a in enumerate(order) for b in order[i + 1:])
    return f"CASE WHEN count(*) FILTER (WHERE {known} >= 2) > 0 THEN count(*) FILTER (WHERE {broken}) END"


def _rate_gap_sql(stated_rates: tuple[tuple[str, str, str], ...]) -> str:
    """The largest gap, in points, between a stated rate and numerator ÷ denominator × 100."""
    gaps = [f"abs(100.0 * {ident(n)} / nullif({ident(d)}, 0) - {ident(s)})" for s, n, d in stated_rates]
    return f"max({gaps[0] if len(gaps) == 1 else 'greatest(' + ', '.join(gaps) + ')'})"


def _summary_sql(table: Table, region_sql: str, years: list[int] | None = None) -> str:
    """The stored summary (``sum_<table>``) of the regions ``region_sql`` selects."""
    stored = summary_table(table)
    columns = ", ".join(ident(c) for c in ["region_id", "year"] + [n for n, _ in table.summary_columns])
    return (f"SELECT {columns} FROM {stored} WHERE region_id IN ({region_sql}) "
            f"AND {_year_filter(stored, years)}")


def _effective_summary_sql(table: Table, region_sql: str, years: list[int] | None = None) -> str:
    """The summary of a breakdown table for the regions ``region_sql`` selects: a region's own items where it
    has any that year, else the sums over its children when every child has figures of the table (the
    figures that do not add up, such as stated rates, missing)."""
    columns = []
    for name, adds_up in table.summary_columns:
        q = ident(name)
        columns.append(f"CASE WHEN o.region_id IS NOT NULL THEN o.{q} ELSE r.{q} END AS {q}" if adds_up
                       else f"o.{q}")
    roll = rollup_table(table)
    return f"""
        SELECT coalesce(o.region_id, r.region_id) AS region_id, coalesce(o.year, r.year) AS year,
               {', '.join(columns)}
        FROM ({_summary_sql(table, region_sql, years)}) o
        FULL OUTER JOIN (SELECT * FROM {roll}
                         WHERE region_id IN ({region_sql}) AND {_year_filter(roll, years)}
                         AND n_reporting = n_children) r
          ON o.region_id = r.region_id AND o.year = r.year"""


def _inputs_sql(region_sql: str, years: list[int] | None = None, figures_only: bool = False,
                first_ctes: str = "", ordered: bool = True) -> str:
    """``indicator_inputs`` for the regions ``region_sql`` selects, from effective figures. ``figures_only``
    leaves out list columns (ethnic groups, approximate flags): the formulas do not read them, and turning
    lists into Python objects is most of the cost of a large comparison. ``first_ctes`` may define what
    ``region_sql`` reads."""
    simple, summarised = simple_tables(), breakdown_tables()
    ctes = ([first_ctes] if first_ctes else [])
    ctes += [f"{ident('e_' + t.id)} AS ({_effective_sql(t, region_sql, years)})" for t in simple]
    ctes += [f"{ident('e_' + t.id)} AS ({_effective_summary_sql(t, region_sql, years)})" for t in summarised]
    keys = " UNION ".join(f"SELECT region_id, year FROM {ident('e_' + t.id)}" for t in simple + summarised)
    select, joins = ["k.region_id", "k.year"], []
    for t in simple:
        alias = ident(f"t_{t.id}")
        select += [f"{alias}.{ident(c.id)}" for c in t.value_columns if c.numeric or not figures_only]
        if not figures_only:
            select.append(f"{alias}.approx AS {ident('approx_' + t.id)}")
        joins.append(f"LEFT JOIN {ident('e_' + t.id)} {alias} ON {alias}.region_id = k.region_id "
                     f"AND {alias}.year = k.year")
    for t in summarised:
        alias = ident(f"s_{t.id}")
        select.append(f"{alias}.* EXCLUDE (region_id, year)")
        joins.append(f"LEFT JOIN {ident('e_' + t.id)} {alias} ON {alias}.region_id = k.region_id "
                     f"AND {alias}.year = k.year")
    order = " ORDER BY k.region_id, k.year" if ordered else ""
    return f"WITH {', '.join(ctes)} SELECT {', '.join(select)} FROM ({keys}) k {' '.join(joins)}{order}"


def effective_inputs(store: Store, region_ids: list[int], years: list[int] | None = None) -> pd.DataFrame:
    """``indicator_inputs`` from effective figures: own values, gaps filled by complete rollups."""
    params = {"ids": [int(i) for i in region_ids], **_year_params(years)}
    return store.query_df(_inputs_sql("SELECT unnest($ids)", years), params)


# -- the region tree, for the region picker ---------------------------------------------------------------

_TREE_COLUMNS = "region_id, name, level, parent_id, code, synthetic, depth, n_children, own_data"


def region_info(store: Store, region_id: int) -> dict | None:
    """One region of the tree (the root 0 included): name, level, parent_id, code, synthetic, depth,
    n_children, own_data; None if there is no such region."""
    rows = store.query_df(f"SELECT {_TREE_COLUMNS} FROM region_tree WHERE region_id = ?", [int(region_id)])
    return rows.iloc[0].to_dict() if len(rows) else None


def region_path(store: Store, region_id: int) -> pd.DataFrame:
    """The region and its ancestors, top-level region first (the root 0 not included)."""
    return store.query_df(f"""
        WITH RECURSIVE up AS (
            SELECT {_TREE_COLUMNS}, 0 AS steps FROM region_tree WHERE region_id = $r
            UNION ALL
            SELECT t.region_id, t.name, t.level, t.parent_id, t.code, t.synthetic, t.depth, t.n_children,
                   t.own_data, up.steps + 1
            FROM region_tree t JOIN up ON t.region_id = up.parent_id WHERE up.steps < {MAX_DEPTH})
        SELECT {_TREE_COLUMNS} FROM up WHERE region_id <> {ROOT_ID} ORDER BY depth""", {"r": int(region_id)})


def tree_children(store: Store, parent_id: int) -> pd.DataFrame:
    """The children of a region in the tree (of the root 0: the top-level regions), by code then name."""
    return store.query_df(f"SELECT {_TREE_COLUMNS} FROM region_tree WHERE parent_id = ? "
                          "ORDER BY code NULLS LAST, name", [int(parent_id)])


def search_regions(store: Store, text: str, limit: int = 20) -> pd.DataFrame:
    """Regions whose name contains ``text`` or whose code starts with it: exact matches first, then the
    shallowest and shortest names. At most ``limit`` rows, with the parent's name."""
    text = (text or "").strip()
    if not text:
        return pd.DataFrame(columns=_TREE_COLUMNS.split(", ") + ["parent_name"])
    return store.query_df(f"""
        WITH hits AS (
            SELECT {_TREE_COLUMNS} FROM region_tree
            WHERE region_id <> {ROOT_ID} AND (contains(name, $q) OR starts_with(code, $q))
            ORDER BY (name = $q OR code = $q) DESC, depth, length(name), code, region_id LIMIT $limit)
        SELECT hits.*, p.name AS parent_name FROM hits LEFT JOIN region_tree p ON p.region_id = hits.parent_id
        ORDER BY (hits.name = $q OR hits.code = $q) DESC, hits.depth, length(hits.name), hits.code, hits.region_id""",
                          {"q": text, "limit": int(limit)})


def _code_forms(text: str) -> list[str]:
    """The ways a division code may be stored: as given, and without its trailing zeros padded to 6, 9 and
    12 digits (``530581`` is ``530581000000``); nothing for text that is not 2 to 12 digits."""
    trimmed = text.rstrip("0")
    if not re.fullmatch(r"[0-9]{2,12}", text) or not trimmed:
        return [text]
    return sorted({text} | {trimmed.ljust(n, "0") for n in (6, 9, 12) if len(trimmed) <= n})


def find_region_id(store: Store, text: str, ids_first: bool = True) -> int | None:
    """A region from a link or a search: its id, its division code or its exact (unique) name.

    A division code matches with or without its trailing zeros (``530581``, ``530581000000``), as the 6-, 9- and
    12-digit forms of one code name the same region. Digits that are both an id and a code: the id with
    ``ids_first`` (links the app writes), the code otherwise (what a person types)."""
    text = (text or "").strip()
    if not text:
        return None
    rows = store.query_rows(f"""
        WITH hits AS (
            SELECT region_id, coalesce(TRY_CAST($t AS INTEGER) = region_id, false) AS by_id,
                   code IN (SELECT unnest($codes)) AS by_code, name = $t AS by_name
            FROM region_tree
            WHERE TRY_CAST($t AS INTEGER) = region_id OR code IN (SELECT unnest($codes)) OR name = $t)
        SELECT region_id FROM hits WHERE by_id OR by_code OR (by_name AND region_id <> {ROOT_ID})
        ORDER BY CASE WHEN $ids_first THEN by_id ELSE by_code END DESC, by_id DESC, by_code DESC LIMIT 2""",
                            {"t": text, "codes": _code_forms(text), "ids_first": ids_first})
    if not rows:
        return None
    if len(rows) > 1 and not text.isdigit():
        return None  # two regions of that name: a name alone does not say which
    return int(rows[0][0])


def _paths_sql(start: str) -> str:
    """Regions chosen by ``start`` (a query of region ids) with their paths from the top-level region down to
    themselves: region_id, name, level, code, depth, path (names), path_ids. The ancestors come from the tree's
    per-level ancestor columns: one join, fast on a national tree."""
    ancestors = ", ".join(f"h.{ident(a)}" for a in ANCESTOR_COLUMNS.values())
    return f"""
        WITH hits AS (SELECT * FROM region_tree WHERE region_id IN ({start}) AND region_id <> {ROOT_ID}),
        up AS (SELECT h.region_id AS start_id, unnest([{ancestors}]) AS ancestor_id FROM hits h)
        SELECT h.region_id, h.name, h.level, h.code, h.depth,
               list(a.name ORDER BY a.depth) AS path, list(a.region_id ORDER BY a.depth) AS path_ids
        FROM hits h JOIN up ON up.start_id = h.region_id JOIN region_tree a ON a.region_id = up.ancestor_id
        GROUP BY h.region_id, h.name, h.level, h.code, h.depth
        ORDER BY h.code NULLS LAST, h.depth, h.region_id"""


def _with_paths(store: Store, start: str, params: dict) -> pd.DataFrame:
    """``_paths_sql``; a region below another of its own level (one ancestor column holds only the nearer of
    the two) has a path shorter than its depth: those few are walked up one parent at a time instead."""
    found = store.query_df(_paths_sql(start), params)
    short = found[found["path"].map(len) != found["depth"]]
    for row in short.itertuples():
        walked = region_path(store, int(row.region_id))
        found.at[row.Index, "path"] = list(walked["name"])
        found.at[row.Index, "path_ids"] = list(walked["region_id"])
    return found


def regions_named(store: Store, names: list[str], limit: int = 50_000) -> pd.DataFrame:
    """Regions whose name is one of ``names``, each with its path of names from the top (at most ``limit``):
    region_id, name, level, code, depth, path, path_ids. For telling apart regions that share a name."""
    start = f"SELECT region_id FROM region_tree WHERE name IN (SELECT unnest($names)) LIMIT {int(limit)}"
    return _with_paths(store, start, {"names": sorted(set(names))})


def region_paths(store: Store, region_ids: list[int]) -> pd.DataFrame:
    """The regions ``region_ids`` with their paths of names from the top (columns as ``regions_named``)."""
    return _with_paths(store, "SELECT unnest($ids)", {"ids": [int(i) for i in region_ids]})


def effective_years(store: Store, region_id: int) -> list[int]:
    """The years with figures of the region's own or rolled up from its children."""
    parts = [f"SELECT year FROM {current_table(t)} WHERE region_id = $r" for t in TABLES]
    parts += [f"SELECT year FROM {rollup_table(t)} WHERE region_id = $r" for t in _rolled_table_ids()]
    return [int(r[0]) for r in store.query_rows(
        f"SELECT DISTINCT year FROM ({' UNION ALL '.join(parts)}) ORDER BY year", {"r": int(region_id)})]


def default_region_id(store: Store) -> int | None:
    """The region the app opens on: one with figures of its own, real data before synthetic, a township
    before other levels (then villages, counties, cities, provinces), the first registered."""
    order = {"township": 0, "village": 1, "county": 2, "city": 3, "province": 4}
    case = " ".join(f"WHEN '{lv}' THEN {rank}" for lv, rank in order.items())
    rows = store.query_rows(f"SELECT region_id FROM region_tree WHERE own_data AND region_id <> {ROOT_ID} "
                            f"ORDER BY synthetic, CASE level {case} ELSE 5 END, region_id LIMIT 1")
    return int(rows[0][0]) if rows else None


# -- comparisons ------------------------------------------------------------------------------------------


def _descendants_sql(level_of_scope: str) -> str:
    """Regions of level $level under the scope region $scope (any region of that level for the root)."""
    if level_of_scope == ROOT_LEVEL:
        return f"SELECT region_id FROM region_tree WHERE level = $level AND region_id <> {ROOT_ID}"
    return (f"SELECT region_id FROM region_tree WHERE level = $level "
            f"AND {ident(ANCESTOR_COLUMNS[level_of_scope])} = $scope AND region_id <> $scope")


def descendant_counts(store: Store, scope_id: int) -> dict[str, int]:
    """How many regions of each level lie under the scope region."""
    info = region_info(store, scope_id)
    if info is None:
        return {}
    if info["level"] == ROOT_LEVEL:
        where, params = f"region_id <> {ROOT_ID}", {}
    else:
        where = f"{ident(ANCESTOR_COLUMNS[info['level']])} = $scope AND region_id <> $scope"
        params = {"scope": scope_id}
    rows = store.query_rows(f"SELECT level, count(*) FROM region_tree WHERE {where} GROUP BY level", params)
    return {level: int(n) for level, n in rows}


def compare_inputs(store: Store, scope_id: int, level: str, years: list[int] | None,
                   limit: int = 100_000) -> pd.DataFrame:
    """Effective figures (numbers only: no list columns) of every region of ``level`` under the scope region,
    with the region's name, code and parent name. Refuses (ValueError) more than ``limit`` regions: only small
    results reach pandas."""
    info = region_info(store, scope_id)
    if info is None or level not in _LEVEL_IDS:
        raise NotFound("error.unknown_region", value=scope_id)
    params = {"scope": int(scope_id), "level": level, **_year_params(years)}
    members = _descendants_sql(info["level"])
    count = store.query_rows(f"SELECT count(*) FROM ({members})", _used(members, params))[0][0]
    if count > limit:
        raise ValueError(f"{count} regions of level {level} under region {scope_id}: more than {limit}")
    # The members are found once (a materialised CTE), then every table is filtered on them.
    sql = f"""
        WITH inputs AS ({_inputs_sql("SELECT region_id FROM m", years, figures_only=True, ordered=False,
                                     first_ctes=f"m AS MATERIALIZED ({members})")}),
        t AS (SELECT region_id, name, code, parent_id FROM region_tree
              WHERE region_id IN (SELECT region_id FROM inputs)),
        p AS (SELECT region_id, name FROM region_tree WHERE region_id IN (SELECT parent_id FROM t))
        SELECT t.name, t.code, p.name AS parent_name, inputs.*
        FROM inputs JOIN t ON t.region_id = inputs.region_id LEFT JOIN p ON p.region_id = t.parent_id"""
    return store.query_df(sql, _used(sql, params))  # unordered: the comparison ranks the rows itself


def compare_regions(store: Store, scope_id: int, level: str, limit: int = 100_000) -> pd.DataFrame:
    """region_id, name, code, parent_name of every region of ``level`` under the scope region, with or without
    figures (the compare page reads their catalogue measures with ``measure_values``). Refuses (ValueError)
    more than ``limit`` regions."""
    info = region_info(store, scope_id)
    if info is None or level not in _LEVEL_IDS:
        raise NotFound("error.unknown_region", value=scope_id)
    members = _descendants_sql(info["level"])
    sql = f"""
        WITH m AS MATERIALIZED ({members}),
        t AS (SELECT region_id, name, code, parent_id FROM region_tree WHERE region_id IN (SELECT region_id FROM m)),
        p AS (SELECT region_id, name FROM region_tree WHERE region_id IN (SELECT parent_id FROM t))
        SELECT t.region_id, t.name, t.code, p.name AS parent_name FROM t LEFT JOIN p ON p.region_id = t.parent_id
        ORDER BY t.region_id LIMIT $cap"""
    frame = store.query_df(sql, _used(sql, {"scope": int(scope_id), "level": level, "cap": int(limit) + 1}))
    if len(frame) > limit:
        raise ValueError(f"more than {limit} regions of level {level} under region {scope_id}")
    return frame


# Names, codes and parent names of the regions $ids: each side filtered first, so only the row groups of
# those regions are read instead of joining the whole tree twice.
_NAMES_CTES = """
    t AS (SELECT region_id, name, code, level, parent_id FROM region_tree WHERE region_id IN (SELECT unnest($ids))),
    p AS (SELECT region_id, name FROM region_tree WHERE region_id IN (SELECT parent_id FROM t))"""


def _used(sql: str, params: dict) -> dict:
    """The named parameters a statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}


def region_names(store: Store, region_ids: list[int]) -> pd.DataFrame:
    """region_id, name, code, level, parent_name of some regions of the tree."""
    return store.query_df(f"""
        WITH {_NAMES_CTES}
        SELECT t.region_id, t.name, t.code, t.level, p.name AS parent_name FROM t
        LEFT JOIN p ON p.region_id = t.parent_id ORDER BY t.region_id""", {"ids": [int(i) for i in region_ids]})


# -- rollup checks ----------------------------------------------------------------------------------------


def rollup_status(store: Store, region_id: int, years: list[int] | None = None) -> pd.DataFrame:
    """Per additive column and year of a parent region: its own reported value, the sum of its children's
    effective values, how many children have one and how many children it has, and a status:
    ``agree``, ``disagree`` (own and complete sum differ), ``own_only`` (the children's sum is incomplete),
    ``rolled_up`` (no own value: the complete sum is shown), ``incomplete`` (neither)."""
    params = {"r": int(region_id), **_year_params(years)}
    # one query, one row per (table, column, year): a frame per column built in pandas cost more than the SQL
    ctes, parts = [], []
    for table in simple_tables():
        columns = additive_columns(table)
        if not columns:
            continue
        alias = ident(f"status_{table.id}")
        picked = ", ".join(f"c.{ident(c.id)}::DOUBLE AS {ident('own_' + c.id)}, r.{_sum_column(c.id)}::DOUBLE "
                           f"AS {ident('sum_' + c.id)}, r.{_n_column(c.id)} AS {ident('n_' + c.id)}" for c in columns)
        ctes.append(f"""{alias} AS MATERIALIZED (
            SELECT r.year, r.n_children, {picked}
            FROM (SELECT * FROM {rollup_table(table)}
                  WHERE region_id = $r AND {_year_filter(rollup_table(table), years)}) r
            LEFT JOIN (SELECT * FROM {current_table(table)} WHERE region_id = $r) c ON c.year = r.year)""")
        parts += [f"""SELECT {_literal(table.id)} AS table_id, {_literal(c.id)} AS column_id, year::BIGINT AS year,
                             {ident('own_' + c.id)} AS own, {ident('sum_' + c.id)} AS children_sum,
                             {ident('n_' + c.id)}::BIGINT AS children_with_value, n_children::BIGINT AS n_children
                      FROM {alias}""" for c in columns]
    frame = store.query_df(f"WITH {', '.join(ctes)} {' UNION ALL '.join(parts)} ORDER BY year, table_id, column_id",
                           params).astype({"table_id": "str", "column_id": "str"})  # object when no row
    complete = frame["children_with_value"] == frame["n_children"]
    has_own = frame["own"].notna()
    close = (frame["own"] - frame["children_sum"]).abs() <= 1e-6 * frame["own"].abs().clip(lower=1)
    frame["complete"] = complete
    frame["status"] = "incomplete"
    frame.loc[has_own & ~complete, "status"] = "own_only"
    frame.loc[~has_own & complete, "status"] = "rolled_up"
    frame.loc[has_own & complete & close, "status"] = "agree"
    frame.loc[has_own & complete & ~close, "status"] = "disagree"
    return frame


def rollup_disagreements(store: Store, region_ids: list[int], year: int) -> pd.DataFrame:
    """For many regions at once: the columns whose own reported value differs from their children's
    complete sum in ``year`` (region_id, table_id, column_id, own, children_sum)."""
    parts = []
    for table in simple_tables():
        for c in additive_columns(table):
            parts.append(f"""
                SELECT r.region_id, {_literal(table.id)} AS table_id, {_literal(c.id)} AS column_id,
                       c.{ident(c.id)}::DOUBLE AS own, r.{_sum_column(c.id)}::DOUBLE AS children_sum
                FROM {rollup_table(table)} r
                JOIN {current_table(table)} c ON c.region_id = r.region_id AND c.year = r.year
                WHERE r.region_id IN (SELECT unnest($ids)) AND r.year = $y
                  AND r.{_n_column(c.id)} = r.n_children AND c.{ident(c.id)} IS NOT NULL
                  AND abs(c.{ident(c.id)} - r.{_sum_column(c.id)}) > 1e-6 * greatest(abs(c.{ident(c.id)}), 1)""")
    return store.query_df(" UNION ALL ".join(parts) + " ORDER BY region_id, table_id, column_id",
                          {"ids": [int(i) for i in region_ids], "y": int(year)})


def effective_rows(store: Store, table: Table, region_ids: list[int], years: list[int] | None = None) -> pd.DataFrame:
    """Effective rows of one simple table (population, land, grid, governance) for some regions: the current
    table's columns, a parent's additive gaps filled by its children's complete sums."""
    if table.key_columns:
        raise ValueError(f"{table.id} has rows per programme: use table_rows or effective_inputs")
    params = {"ids": [int(i) for i in region_ids], **_year_params(years)}
    return store.query_df(f"SELECT * FROM ({_effective_sql(table, 'SELECT unnest($ids)', years)}) "
                          "ORDER BY region_id, year", params)


def sources_of(store: Store, region_id: int, year: int, limit: int = 20) -> list[str]:
    """The documents behind a region's figures of a year: its own rows' sources, or, where it has no rows of
    its own (its figures are rolled up from its children), the sources of its descendants' rows."""
    def distinct_sources(region_filter: str, params: dict) -> list[str]:
        unions = " UNION ".join(f"SELECT DISTINCT source FROM {current_table(t)} WHERE year = $y AND {region_filter}"
                                for t in TABLES)
        rows = store.query_rows(f"SELECT DISTINCT source FROM ({unions}) WHERE source IS NOT NULL "
                                "ORDER BY source LIMIT $limit", {"y": int(year), "limit": int(limit), **params})
        return [r[0] for r in rows]

    own = distinct_sources("region_id = $r", {"r": int(region_id)})
    if own:
        return own
    info = region_info(store, region_id)
    if info is None:
        return []
    if int(region_id) == ROOT_ID:
        return distinct_sources("TRUE", {})
    if info["level"] not in ANCESTOR_COLUMNS:
        return []
    column = ident(ANCESTOR_COLUMNS[info["level"]])
    return distinct_sources(f"region_id IN (SELECT region_id FROM region_tree WHERE {column} = $r)",
                            {"r": int(region_id)})


# ---------------------------------------------------------------------------------------------------------
# Observations: the long table (issue 10 §3).
#
# ``fact_observations`` holds one row per (region, year, measure, breakdown item) and batch for every catalogue
# measure that is not a registry column; ``cur_observations`` holds, per key, the row of the newest active
# batch. Batches, undo (with dependents), as-of views and data_version work as for the registry tables: the
# same ``batches`` events, refreshed in the same transaction. ``measure_values`` reads both worlds as one long
# frame: observations plus the registry tables' current values unpivoted.

OBSERVATION_COLUMNS: list[tuple[str, str]] = [
    ("batch_id", "INTEGER"), ("region_id", "INTEGER"), ("year", "INTEGER"), ("measure_id", "VARCHAR NOT NULL"),
    ("item_id", "VARCHAR NOT NULL"),  # '' = no breakdown item
    ("value", "DOUBLE"), ("text_value", "VARCHAR"), ("approx", "BOOLEAN"), ("source", "VARCHAR"),
    ("section", "VARCHAR"), ("sentence", "VARCHAR")]
OBSERVATION_FIELDS = ("region_id", "year", "measure_id", "item_id", "value", "text_value", "approx", "source",
                      "section", "sentence")
_OBSERVATION_KEYS = ("region_id", "year", "measure_id", "item_id")
MEASURE_VALUE_COLUMNS = ["region_id", "year", "measure_id", "item_id", "value", "text_value", "approx", "batch_id",
                         "source", "section", "sentence", "rolled"]
_ALL_BATCHES = 2**31 - 1  # as_of for "now"


def registry_column_ids() -> set[str]:
    """Every registry column id: those measures live in the registry tables, never in the long table."""
    return {c.id for t in TABLES for c in t.columns}


def _catalogue():
    from lawstats import catalogue  # late: the catalogue is only needed where observations are read or written

    return catalogue.load()


def _literal(name: str) -> str:
    """A registry identifier as an SQL string literal (checked like ``ident``)."""
    ident(name)
    return f"'{name}'"


# -- writing ----------------------------------------------------------------------------------------------


def observation_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every OBSERVATION_FIELDS column, typed, optional ones filled (item_id '', approx false)."""
    out = pd.DataFrame(index=frame.index)
    out["region_id"] = frame["region_id"].astype("int64")
    out["year"] = frame["year"].astype("int64")
    out["measure_id"] = frame["measure_id"].astype(str)
    item = frame["item_id"] if "item_id" in frame else pd.Series("", index=frame.index)
    out["item_id"] = item.where(item.notna(), "").astype(str)
    out["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64") if "value" in frame else np.nan
    for name in ("text_value", "source", "section", "sentence"):
        column = frame[name] if name in frame else pd.Series(None, index=frame.index, dtype="object")
        out[name] = column.astype("object").where(column.notna(), None)
    approx = frame["approx"] if "approx" in frame else pd.Series(False, index=frame.index)
    out["approx"] = approx.fillna(False).astype(bool)
    return out.reset_index(drop=True)


def observation_problems(frame: pd.DataFrame, region_names: dict[int, str] | None = None) -> pd.DataFrame:
    """Every problem of an observations frame against the catalogue, one row each: row (0-based), region_id,
    region, year, measure_id, measure, item_id, value, problem (a message key) and the range. Empty when
    the frame can be stored. Checks: the measure exists and is not a registry column; a number for a numeric
    measure, within its range; a text for a text measure, one of its choices if it has any; the item in the
    breakdown's items unless the breakdown is open (no item without a breakdown); one row per key."""
    catalogue, registry = _catalogue(), registry_column_ids()
    obs = observation_frame(frame)
    names = region_names or {}
    rows = []

    def problem(i: int, key: str, measure=None, **extra) -> None:
        r = obs.iloc[i]
        value = r["value"] if pd.notna(r["value"]) else r["text_value"]
        rows.append({"row": i, "region_id": int(r["region_id"]),
                     "region": names.get(int(r["region_id"]), str(int(r["region_id"]))), "year": int(r["year"]),
                     "measure_id": r["measure_id"], "measure": measure.zh if measure else r["measure_id"],
                     "item_id": r["item_id"], "value": _plain_number(value), "problem": key, **extra})

    duplicated = obs.duplicated(list(_OBSERVATION_KEYS), keep="first")
    for i, r in enumerate(obs.itertuples(index=False)):
        measure = catalogue.measures.get(r.measure_id)
        if measure is None:
            problem(i, "error.observation_unknown_measure")
            continue
        if measure.id in registry:
            problem(i, "error.observation_registry_measure", measure)
            continue
        if measure.numeric:
            if pd.isna(r.value):
                problem(i, "error.observation_no_value", measure)
            elif measure.range and not measure.range[0] <= r.value <= measure.range[1]:
                problem(i, "error.observation_out_of_range", measure, low=_plain_number(measure.range[0]),
                        high=_plain_number(measure.range[1]))
        elif r.text_value is None or not str(r.text_value).strip():
            problem(i, "error.observation_no_value", measure)
        elif measure.choices and r.text_value not in {c[0] for c in measure.choices}:
            problem(i, "error.observation_bad_choice", measure,
                    choices="、".join(c[0] for c in measure.choices))
        breakdown = catalogue.breakdowns.get(measure.breakdown) if measure.breakdown else None
        if r.item_id and breakdown is None:
            problem(i, "error.observation_no_breakdown", measure)
        elif r.item_id and not breakdown.open and r.item_id not in {item.id for item in breakdown.items}:
            problem(i, "error.observation_unknown_item", measure,
                    items="、".join(item.id for item in breakdown.items))
        if duplicated.iloc[i]:
            problem(i, "error.observation_duplicate", measure)
    columns = ["row", "region_id", "region", "year", "measure_id", "measure", "item_id", "value", "problem"]
    return pd.DataFrame(rows, columns=columns + sorted({k for r in rows for k in r} - set(columns)))


def _plain_number(value) -> str:
    """A value as a person writes it in a message: 68, 0.5, 100000000 (never 68.0 or 1e+08)."""
    if value is None:
        return ""
    if isinstance(value, (int, float, np.number)):
        number = float(value)
        return str(int(number)) if number.is_integer() else f"{number:.10g}"
    return str(value)


def _check_observations(con, batch: NewBatch) -> None:
    """Refuse (ValidationFailed, naming measure, region, year and value of the first problem, with every
    problem in ``details``) a batch whose observations the catalogue does not allow. Nothing is written."""
    if batch.observations is None or not len(batch.observations):
        return
    found = observation_problems(batch.observations, _names_for_message(con, batch))
    if len(found):
        first = found.iloc[0].to_dict()
        params = {k: v for k, v in first.items() if k not in ("problem", "row") and pd.notna(v)}
        raise ValidationFailed(first["problem"], details=found, **params)


def _names_for_message(con, batch: NewBatch) -> dict[int, str]:
    """Region names for messages: the batch's new regions (temporary ids) and the current regions it names."""
    names = {}
    if batch.regions is not None and len(batch.regions):
        names.update({int(r): str(n) for r, n in zip(batch.regions["region_id"], batch.regions["name"])})
    ids = sorted({int(r) for r in batch.observations["region_id"] if int(r) > 0})
    if ids:
        names.update({int(r): n for r, n in con.execute(
            "SELECT region_id, name FROM cur_regions WHERE region_id IN (SELECT unnest($ids))",
            {"ids": ids}).fetchall()})
    return names


def _insert_observations(con, batch_id: int, frame: pd.DataFrame, id_map: dict[int, int],
                         batch_source: str | None) -> int:
    """Write a batch's observations; a row without a source of its own names the batch's source."""
    data = observation_frame(frame)
    data["region_id"] = _real_ids(data["region_id"], id_map)
    data["source"] = data["source"].where(data["source"].notna(), batch_source)
    data.insert(0, "batch_id", batch_id)
    con.register("new_observations", data)
    try:
        casts = ", ".join(_cast(n, t.replace(" NOT NULL", "")) for n, t in OBSERVATION_COLUMNS)
        con.execute(f"INSERT INTO fact_observations SELECT {casts} FROM new_observations "
                    "ORDER BY region_id, year, measure_id, item_id")
    finally:
        con.unregister("new_observations")
    return len(data)


def _observations_select(keys_table: str | None = None) -> str:
    """Per (region, year, measure, item): the row of the newest active batch up to $as_of (optionally only
    for the keys in ``keys_table``)."""
    columns = ", ".join(ident(n) for n, _ in OBSERVATION_COLUMNS)
    restrict = "" if keys_table is None else (
        f" AND EXISTS (SELECT 1 FROM {ident(keys_table)} k WHERE "
        + " AND ".join(f"k.{ident(k)} = f.{ident(k)}" for k in _OBSERVATION_KEYS) + ")")
    return (f"SELECT {columns} FROM fact_observations f WHERE batch_id IN ({_ACTIVE_BATCHES}){restrict} "
            "QUALIFY row_number() OVER (PARTITION BY region_id, year, measure_id, item_id "
            "ORDER BY batch_id DESC) = 1")


def _refresh_current_observations(con) -> None:
    """Recompute ``cur_observations`` for the keys that the newest event's import batch wrote."""
    _, batch_id, _ = _latest_event(con)
    con.execute("CREATE OR REPLACE TEMP TABLE _obs_keys AS SELECT DISTINCT region_id, year, measure_id, item_id "
                "FROM fact_observations WHERE batch_id = ?", [batch_id])
    on = " AND ".join(f"k.{ident(k)} = cur_observations.{ident(k)}" for k in _OBSERVATION_KEYS)
    con.execute(f"DELETE FROM cur_observations WHERE EXISTS (SELECT 1 FROM _obs_keys k WHERE {on})")
    con.execute(f"INSERT INTO cur_observations {_observations_select('_obs_keys')} "
                "ORDER BY region_id, year, measure_id, item_id", {"as_of": _ALL_BATCHES})


def _refresh_observation_regions(con) -> None:
    """``own_data`` of the regions the newest event's observations are in (the tree may be rebuilt first)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _obs_regions AS SELECT DISTINCT region_id FROM _obs_keys")
    regions = "SELECT region_id FROM _obs_regions"
    con.execute(f"UPDATE region_tree SET own_data = region_id IN ({_own_regions_sql(regions)}) "
                f"WHERE region_id IN ({regions})")


# -- reading ----------------------------------------------------------------------------------------------


def _registry_values_sql(as_of: bool) -> str:
    """The registry tables' current (or as-of $as_of) values unpivoted into measure_values' columns, for the
    regions in $ids (every region when $all_regions) and years in $years (all when $all_years): one row per
    value column that is not null. item_id is the row's key columns joined with "/" ('' for simple tables);
    source and section come from value_provenance where recorded, else from the row. Each table is read once
    (its rows filtered first, then every column unpivoted from a list of structs)."""
    parts = []
    for table in TABLES:
        source = (f"({_current_select(table)})" if as_of else current_table(table))
        item = _item_sql(table, "c.")
        cells = []
        for column in table.value_columns:
            q = f"c.{ident(column.id)}"
            value, text = _value_and_text_sql(column, q)
            cells.append(f"{{'m': {_literal(column.id)}, 'v': {value}, 't': {text}, "
                         f"'a': coalesce(list_contains(c.approx, {_literal(column.id)}), false), "
                         f"'present': {q} IS NOT NULL}}")
        parts.append(f"""
            SELECT {_literal(table.id)} AS table_id, region_id, year, item_id, cell.m AS measure_id, cell.v AS value,
                   cell.t AS text_value, cell.a AS approx, batch_id, source, section
            FROM (SELECT c.region_id, c.year, {item} AS item_id, c.batch_id, c.source, c.section,
                         unnest([{', '.join(cells)}]) AS cell
                  FROM {source} c
                  WHERE ($all_regions OR c.region_id IN (SELECT unnest($ids)))
                    AND ($all_years OR c.year IN (SELECT unnest($years))))
            WHERE cell.present""")
    return f"""
        WITH reg AS ({' UNION ALL '.join(parts)}),
        prov AS (
            SELECT table_id, region_id, year, coalesce(row_key, '') AS row_key, column_id,
                   arg_max(source, batch_id) AS source, arg_max(section, batch_id) AS section
            FROM value_provenance
            WHERE batch_id IN ({_ACTIVE_BATCHES}) AND ($all_regions OR region_id IN (SELECT unnest($ids)))
              AND ($all_years OR year IN (SELECT unnest($years)))
            GROUP BY ALL)
        SELECT reg.region_id, reg.year, reg.measure_id, reg.item_id, reg.value, reg.text_value, reg.approx,
               reg.batch_id, coalesce(p.source, reg.source) AS source, coalesce(p.section, reg.section) AS section,
               NULL::VARCHAR AS sentence, false AS rolled
        FROM reg LEFT JOIN prov p ON p.table_id = reg.table_id AND p.region_id = reg.region_id
          AND p.year = reg.year AND p.row_key = reg.item_id AND p.column_id = reg.measure_id"""


def _observation_values_sql(as_of: bool) -> str:
    source = f"({_observations_select()})" if as_of else "cur_observations"
    return f"""
        SELECT region_id, year, measure_id, item_id, value, text_value, coalesce(approx, false) AS approx,
               batch_id, source, section, sentence, false AS rolled
        FROM {source} o
        WHERE ($all_regions OR region_id IN (SELECT unnest($ids)))
          AND ($all_years OR year IN (SELECT unnest($years)))"""


def _values_params(region_ids: list[int] | None, years: list[int] | None, as_of: int) -> dict:
    return {"ids": [int(i) for i in region_ids or []], "all_regions": region_ids is None,
            "years": [int(y) for y in years or []], "all_years": years is None, "as_of": int(as_of)}


def _typed_values(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[MEASURE_VALUE_COLUMNS]
    return frame.astype({"region_id": "int64", "year": "int64", "value": "float64", "approx": bool,
                         "rolled": bool}).reset_index(drop=True)


def measure_values(store: Store, region_ids: list[int], years: list[int] | None = None) -> pd.DataFrame:
    """Every current value of every catalogue measure for some regions (and years; None: all), long:
    region_id, year, measure_id, item_id ('' = no breakdown item), value (numbers), text_value (texts, lists
    joined with 、, choices as stored), approx, batch_id, source, section, sentence, rolled.

    The rows are the current observations UNION the registry tables' current values unpivoted (one row per
    value column that is not null; item_id = the row's key columns joined with "/", e.g. the study
    programme; sentence null; source/section from value_provenance, else the row's). For a region with children
    and no own value, measures with rollup = "sum" come summed over its descendants (``rolled`` true; see
    ``_rolled_values_sql``; registry counts and areas as the complete sums of ``roll_<table>``, the figures
    ``effective_rows`` gives). Ordered by region_id, year, measure_id, item_id.

    How it is read (issue 10, docs/benchmarks.md): one statement that unpivots every table costs DuckDB
    ~100 ms to bind and optimise whatever it reads, more than a page's few rows take to read. So a page's few
    regions are read as plain filtered scans, unpivoted here (``_registry_records``); many regions (the
    compare page) in one statement (``_registry_values_large_sql``), where reading outweighs planning. Both
    filter on the regions directly, so DuckDB skips the row groups of other regions (zone maps)."""
    params = _values_params(region_ids, years, _ALL_BATCHES)
    observations = _used(_observation_values_sql(False), params)
    if len(params["ids"]) <= SMALL_VALUES_REQUEST:
        records = _registry_records(store, params)
        records += store.query_rows(_observation_values_sql(False), observations)
        if _may_roll_observations(store, params):
            sql = _rolled_values_sql()
            records += store.query_rows(sql, _used(sql, {**params, "sum_measures": _sum_measure_ids()}))
        return _frame_of_records(records)
    sql = _registry_values_large_sql(params["all_years"])
    parts = [store.query_df(sql, _used(sql, params)), store.query_df(_observation_values_sql(False), observations)]
    if _may_roll_observations(store, params):
        sql = _rolled_values_sql()
        parts.append(store.query_df(sql, _used(sql, {**params, "sum_measures": _sum_measure_ids()})))
    return _long_values(parts)


# Regions up to which measure_values unpivots in Python: a page asks for one, the compare page's series for 21;
# at ~50 regions of ten years each the one statement costs less (measured on the county synthetic data)
SMALL_VALUES_REQUEST = 40


def _frame_of_records(records: list[tuple]) -> pd.DataFrame:
    """measure_values rows (tuples in MEASURE_VALUE_COLUMNS order) as the ordered, typed frame: built column
    by column once (pandas' per-frame costs outweigh a page's few hundred rows)."""
    records = sorted(records, key=lambda r: (r[0], r[1], r[2], r[3]))
    columns = dict(zip(MEASURE_VALUE_COLUMNS, zip(*records))) if records else {c: () for c in MEASURE_VALUE_COLUMNS}
    data = {"region_id": np.array(columns["region_id"], dtype="int64"),
            "year": np.array(columns["year"], dtype="int64"),
            "value": np.array([np.nan if v is None else v for v in columns["value"]], dtype="float64"),
            "approx": np.array([bool(v) for v in columns["approx"]], dtype=bool),
            "rolled": np.array(columns["rolled"], dtype=bool)}
    batches = columns["batch_id"]
    data["batch_id"] = (pd.array(batches, dtype="Int32") if any(b is None for b in batches)
                        else np.array(batches, dtype="int32"))
    for name in ("measure_id", "item_id", "text_value", "source", "section", "sentence"):
        values = columns[name]
        held = any(v is not None for v in values)
        data[name] = pd.array(values, dtype="str") if held else np.array(values, dtype=object)
    return pd.DataFrame({c: data[c] for c in MEASURE_VALUE_COLUMNS})


def _long_values(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts of measure_values as one ordered frame, typed as one DuckDB statement would hand it over
    (text columns as strings where any value is held, batch_id nullable only where a value is missing)."""
    held = [p[MEASURE_VALUE_COLUMNS] for p in parts if len(p)]
    frame = pd.concat(held, ignore_index=True) if len(held) > 1 else (held or parts)[0][MEASURE_VALUE_COLUMNS]
    frame = frame.sort_values(["region_id", "year", "measure_id", "item_id"], kind="stable", ignore_index=True)
    # column by column: DataFrame.astype with a dict reindexes every column (slow on pandas 3's string arrays)
    for c in ("measure_id", "item_id", "text_value", "source", "section", "sentence"):
        if frame[c].notna().any():
            frame[c] = frame[c].astype("str")
    batch = pd.array(frame["batch_id"].astype(object).where(frame["batch_id"].notna(), None), dtype="Int32")
    frame["batch_id"] = batch if batch.isna().any() else batch.astype("int32")
    return _typed_values(frame)


def _regions_years_filter(all_years: bool, alias: str = "") -> str:
    """$ids and, unless every year is asked for, $years: plain filters DuckDB pushes into each scan."""
    return (f"{alias}region_id IN (SELECT unnest($ids))"
            + ("" if all_years else f" AND {alias}year IN (SELECT unnest($years))"))


def _registry_records(store: Store, params: dict) -> list[tuple]:
    """The registry part of measure_values (own values, rolled-up complete sums) for a few regions, as
    tuples: three plain statements (every table's rows of the regions, every rollup's, their provenance),
    each row's value columns as one list, unpivoted here."""
    where, bind = _regions_years_filter(params["all_years"]), {"ids": params["ids"]}
    if not params["all_years"]:
        bind["years"] = params["years"]
    prov = {tuple(r[:5]): r[5:] for r in store.query_rows(_provenance_sql(where), {**bind, "as_of": _ALL_BATCHES})}
    out, own = [], set()
    for table_id, region_id, year, batch_id, source, section, approx, item, numbers, texts in store.query_rows(
            _registry_rows_sql(where), bind):
        table, flags = TABLES_BY_ID[table_id], set(approx or ())
        for column, number, text in zip(table.value_columns, numbers, texts):
            if number is None and text is None:
                continue
            own.add((region_id, year, column.id))
            p_source, p_section = prov.get((table_id, region_id, year, item, column.id), (None, None))
            out.append((region_id, year, column.id, item, number, text, column.id in flags, batch_id,
                        source if p_source is None else p_source, section if p_section is None else p_section,
                        None, False))
    for table_id, region_id, year, sums, complete in store.query_rows(_rollup_rows_sql(where), bind):
        for column, total, whole in zip(additive_columns(TABLES_BY_ID[table_id]), sums, complete):
            if whole and (region_id, year, column.id) not in own:
                out.append((region_id, year, column.id, "", total, None, False, None, None, None, None, True))
    return out


def _registry_rows_sql(where: str) -> str:
    """Every registry table's current rows that ``where`` selects: table_id, region_id, year, batch_id,
    source, section, approx, item_id (key columns joined with "/"), the value columns as a list of DOUBLE
    (numbers) and a list of VARCHAR (texts; lists joined with 、), in the table's column order."""
    parts = []
    for table in TABLES:
        item = (" || '/' || ".join(f"CAST({ident(k.id)} AS VARCHAR)" for k in table.key_columns)
                if table.key_columns else "''")
        numbers = ", ".join(f"CAST({ident(c.id)} AS DOUBLE)" if c.numeric else "NULL::DOUBLE"
                            for c in table.value_columns)
        texts = ", ".join("NULL::VARCHAR" if c.numeric else
                          (f"array_to_string({ident(c.id)}, '、')" if c.kind == "list" else f"CAST({ident(c.id)} AS VARCHAR)")
                          for c in table.value_columns)
        parts.append(f"SELECT {_literal(table.id)}, region_id, year, batch_id, source, section, approx, {item}, "
                     f"[{numbers}], [{texts}] FROM {current_table(table)} WHERE {where}")
    return " UNION ALL ".join(parts)


def _rollup_rows_sql(where: str) -> str:
    """Every simple table's rollup rows that ``where`` selects: table_id, region_id, year, the sums of its
    additive columns and whether each is complete (every child has the value), in column order."""
    parts = []
    for table in simple_tables():
        additive = additive_columns(table)
        if additive:
            sums = ", ".join(f"CAST({_sum_column(c.id)} AS DOUBLE)" for c in additive)
            complete = ", ".join(f"coalesce({_n_column(c.id)} = n_children, false)" for c in additive)
            parts.append(f"SELECT {_literal(table.id)}, region_id, year, [{sums}], [{complete}] "
                         f"FROM {rollup_table(table)} WHERE {where}")
    return " UNION ALL ".join(parts)


def _provenance_sql(where: str) -> str:
    """Per (table, region, year, row key, column) of the rows ``where`` selects: the newest active batch's
    recorded source and section."""
    return f"""
        SELECT table_id, region_id, year, coalesce(row_key, '') AS row_key, column_id,
               arg_max(source, batch_id) AS source, arg_max(section, batch_id) AS section
        FROM value_provenance WHERE batch_id IN ({_ACTIVE_BATCHES}) AND {where} GROUP BY ALL"""


def _registry_values_large_sql(all_years: bool) -> str:
    """The registry part of measure_values for many regions ($ids, $years unless ``all_years``) in one
    statement: each table's rows of the regions read once (a materialised CTE), unpivoted a column per branch;
    provenance joined; each rollup's complete sums where the region has no value of its own."""
    where = _regions_years_filter(all_years)
    ctes, cells, rolled = [], [], []
    for table in TABLES:
        own = ident(f"own_{table.id}")
        ctes.append(f"{own} AS MATERIALIZED (SELECT * FROM {current_table(table)} WHERE {where})")
        item = _item_sql(table)
        for column in table.value_columns:
            q = ident(column.id)
            value, text = _value_and_text_sql(column, q)
            cells.append(f"SELECT {_literal(table.id)} AS table_id, region_id, year, {item} AS item_id, "
                         f"{_literal(column.id)} AS measure_id, {value} AS value, {text} AS text_value, "
                         f"coalesce(list_contains(approx, {_literal(column.id)}), false) AS approx, batch_id, "
                         f"source, section FROM {own} WHERE {q} IS NOT NULL")
    for table in simple_tables():
        roll, additive = ident(f"roll_own_{table.id}"), additive_columns(table)
        held = ", ".join(f"o.{ident(c.id)} IS NOT NULL AS {ident('own__' + c.id)}" for c in additive)
        ctes.append(f"{roll} AS MATERIALIZED (SELECT r.*, {held} FROM {rollup_table(table)} r "
                    f"LEFT JOIN {ident('own_' + table.id)} o ON o.region_id = r.region_id AND o.year = r.year "
                    f"WHERE {_regions_years_filter(all_years, 'r.')})")
        rolled += [f"SELECT region_id, year, {_literal(c.id)}, '', CAST({_sum_column(c.id)} AS DOUBLE), "
                   "NULL::VARCHAR, false, NULL::INTEGER, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, true "
                   f"FROM {roll} WHERE {_n_column(c.id)} = n_children AND NOT coalesce({ident('own__' + c.id)}, false)"
                   for c in additive]
    ctes += [f"prov AS MATERIALIZED ({_provenance_sql(where)})", f"reg AS ({' UNION ALL '.join(cells)})"]
    return f"""
        WITH {', '.join(ctes)}
        SELECT reg.region_id, reg.year, reg.measure_id, reg.item_id, reg.value, reg.text_value, reg.approx,
               reg.batch_id, coalesce(p.source, reg.source) AS source, coalesce(p.section, reg.section) AS section,
               NULL::VARCHAR AS sentence, false AS rolled
        FROM reg LEFT JOIN prov p ON p.table_id = reg.table_id AND p.region_id = reg.region_id
          AND p.year = reg.year AND p.row_key = reg.item_id AND p.column_id = reg.measure_id
        UNION ALL {' UNION ALL '.join(rolled)}"""


def _may_roll_observations(store: Store, params: dict) -> bool:
    """Whether ``_rolled_values_sql`` can find anything: a region asked for has children, and some region
    has an observation of a measure that sums. Two cheap lookups spare most pages the rollup's planning."""
    sql = """SELECT EXISTS (SELECT 1 FROM region_tree WHERE n_children > 0 AND region_id IN (SELECT unnest($ids)))
                    AND EXISTS (SELECT 1 FROM cur_observations
                                WHERE value IS NOT NULL AND list_contains($sum_measures, measure_id))"""
    return bool(store.query_rows(sql, {"ids": params["ids"], "sum_measures": _sum_measure_ids()})[0][0])


def measure_values_as_of(store: Store, batch_id: int | None, region_ids: list[int] | None = None,
                         years: list[int] | None = None) -> pd.DataFrame:
    """``measure_values`` as the data was right after ``batch_id`` (None: now), for some regions (None: all)
    and years (None: all); regions' own values only (no rollups: ``rolled`` is always false)."""
    params = _values_params(region_ids, years, _ALL_BATCHES if batch_id is None else int(batch_id))
    sql = (f"{_registry_values_sql(True)} UNION ALL {_observation_values_sql(True)} "
           "ORDER BY region_id, year, measure_id, item_id")
    return _typed_values(store.query_df(sql, params))


def measures_with_data(store: Store, region_id: int) -> set[str]:
    """The measures ``measure_values`` gives the region a value of (a number, or a text that is not blank)
    in any year, found by existence tests instead of reading every value: what the page menu needs."""
    where, bind = "region_id = $r", {"r": int(region_id)}
    held = set()
    for table_id, present in store.query_rows(_columns_held_sql(where), bind):
        held |= {c.id for c, p in zip(TABLES_BY_ID[table_id].value_columns, present) if p}
    for table_id, complete in store.query_rows(_sums_held_sql(where), bind):
        held |= {c.id for c, p in zip(additive_columns(TABLES_BY_ID[table_id]), complete) if p}
    info = region_info(store, region_id)
    rows = store.query_rows(f"""
        SELECT DISTINCT measure_id FROM cur_observations
        WHERE region_id = $r AND (value IS NOT NULL OR trim(coalesce(text_value, '')) <> '')
        UNION
        SELECT DISTINCT measure_id FROM cur_observations
        WHERE value IS NOT NULL AND list_contains($sum_measures, measure_id)
          AND region_id IN ({_descendant_ids_sql('$r', '$level')})""",
                            {**bind, "level": (info or {}).get("level", ""), "sum_measures": _sum_measure_ids()})
    return held | {r[0] for r in rows}


def _columns_held_sql(where: str) -> str:
    """Per registry table: for each value column, whether a current row ``where`` selects holds it."""
    parts = []
    for table in TABLES:
        flags = ", ".join((f"coalesce(bool_or({ident(c.id)} IS NOT NULL), false)" if c.numeric else
                           f"coalesce(bool_or(len({ident(c.id)}) > 0), false)" if c.kind == "list" else
                           f"coalesce(bool_or(trim({ident(c.id)}) <> ''), false)") for c in table.value_columns)
        parts.append(f"SELECT {_literal(table.id)}, [{flags}] FROM {current_table(table)} WHERE {where}")
    return " UNION ALL ".join(parts)


def _sums_held_sql(where: str) -> str:
    """Per simple table: for each additive column, whether a rollup row ``where`` selects is complete."""
    parts = []
    for table in simple_tables():
        additive = additive_columns(table)
        if additive:
            flags = ", ".join(f"coalesce(bool_or({_n_column(c.id)} = n_children), false)" for c in additive)
            parts.append(f"SELECT {_literal(table.id)}, [{flags}] FROM {rollup_table(table)} WHERE {where}")
    return " UNION ALL ".join(parts)


def measure_years(store: Store, region_id: int) -> list[int]:
    """The years with a value of any measure for the region: its own, rolled up from its children (registry
    tables, ``effective_years``) or observations of its descendants (rolled up by ``measure_values``)."""
    years = set(effective_years(store, region_id))
    info = region_info(store, region_id)
    rows = store.query_rows(f"""
        SELECT DISTINCT o.year FROM cur_observations o
        WHERE o.region_id = $r OR o.region_id IN ({_descendant_ids_sql('$r', '$level')})""",
                            {"r": int(region_id), "level": (info or {}).get("level", "")})
    return sorted(years | {int(r[0]) for r in rows})


def _descendant_ids_sql(region: str, level: str) -> str:
    """Ids of the regions below ``region`` (an SQL expression) of level ``level`` (an SQL expression), from
    the tree's per-level ancestor columns; every region below the root 0."""
    case = " ".join(f"WHEN {_literal(lv)} THEN t.{ident(a)}" for lv, a in ANCESTOR_COLUMNS.items())
    return (f"SELECT t.region_id FROM region_tree t WHERE t.region_id <> {region} AND t.region_id <> {ROOT_ID} "
            f"AND (CASE {level} {case} WHEN {_literal(ROOT_LEVEL)} THEN {ROOT_ID} END) = {region}")


def _sum_measure_ids() -> list[str]:
    """Observation measures that roll up by summing."""
    registry = registry_column_ids()
    return sorted(m.id for m in _catalogue().measures.values() if m.rollup == "sum" and m.id not in registry)


def _rolled_values_sql() -> str:
    """Rolled-up observations of the regions in $ids that have children: per (year, measure with rollup
    "sum", item) where the region has no value of its own, the sum over its nearest descendants that have one
    (a descendant is left out where a region between it and the region already has the value: no double
    counting). approx if any part is; batch_id the newest part's; source the parts' sources joined with ；."""
    case = " ".join(f"WHEN {_literal(lv)} THEN t.{ident(a)}" for lv, a in ANCESTOR_COLUMNS.items())
    ancestors = ", ".join(f"t.{ident(a)}" for a in ANCESTOR_COLUMNS.values())
    return f"""
        SELECT * FROM (
        WITH req AS (SELECT region_id, level FROM region_tree
                     WHERE n_children > 0 AND NOT $all_regions AND region_id IN (SELECT unnest($ids))),
        below AS (SELECT req.region_id AS parent_id, t.region_id, [{ancestors}] AS ancestors
                  FROM req JOIN region_tree t
                    ON (CASE req.level {case} WHEN {_literal(ROOT_LEVEL)} THEN {ROOT_ID} END) = req.region_id
                  WHERE t.region_id <> req.region_id AND t.region_id <> {ROOT_ID}),
        parts AS (SELECT b.parent_id, b.ancestors, o.*
                  FROM below b JOIN cur_observations o ON o.region_id = b.region_id
                  WHERE o.value IS NOT NULL AND list_contains($sum_measures, o.measure_id)
                    AND ($all_years OR o.year IN (SELECT unnest($years)))),
        nearest AS (SELECT * FROM parts p WHERE NOT EXISTS (
                        SELECT 1 FROM parts q WHERE q.parent_id = p.parent_id AND q.year = p.year
                          AND q.measure_id = p.measure_id AND q.item_id = p.item_id
                          AND q.region_id <> p.region_id AND list_contains(p.ancestors, q.region_id)))
        SELECT n.parent_id AS region_id, n.year, n.measure_id, n.item_id, sum(n.value) AS value,
               NULL::VARCHAR AS text_value, bool_or(coalesce(n.approx, false)) AS approx,
               max(n.batch_id) AS batch_id, string_agg(DISTINCT n.source, '；' ORDER BY n.source) AS source,
               NULL::VARCHAR AS section, NULL::VARCHAR AS sentence, true AS rolled
        FROM nearest n
        WHERE NOT EXISTS (SELECT 1 FROM cur_observations own WHERE own.region_id = n.parent_id
                          AND own.year = n.year AND own.measure_id = n.measure_id AND own.item_id = n.item_id)
        GROUP BY n.parent_id, n.year, n.measure_id, n.item_id)"""


def _item_sql(table: Table, prefix: str = "") -> str:
    """The breakdown item of a registry row as measure_values gives it: its key columns joined with "/" ('' if none)."""
    if not table.key_columns:
        return "''"
    return " || '/' || ".join(f"CAST({prefix}{ident(k.id)} AS VARCHAR)" for k in table.key_columns)


def _value_and_text_sql(column, q: str) -> tuple[str, str]:
    """A registry cell ``q`` as measure_values' (value, text_value) pair: numbers as DOUBLE, lists joined with 、."""
    if column.numeric:
        return f"CAST({q} AS DOUBLE)", "NULL::VARCHAR"
    if column.kind == "list":
        return "NULL::DOUBLE", f"array_to_string({q}, '、')"
    return "NULL::DOUBLE", f"CAST({q} AS VARCHAR)"
