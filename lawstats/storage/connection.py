"""Opening the database: ``Store`` (one connection, a cursor per thread, the commit gate), ``open_database`` and
the small SQL helpers every other module quotes identifiers with (``ident``, ``fact_table``, ``current_table``)."""

from __future__ import annotations

import os
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

import duckdb
import pandas as pd

from lawstats import lake
from lawstats.errors import DatabaseError
from lawstats.registry import Table

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



def _literal(name: str) -> str:
    """A registry identifier as an SQL string literal (checked like ``ident``)."""
    ident(name)
    return f"'{name}'"


@contextmanager
def registered(con, name: str, frame):
    """``frame`` (a DataFrame or Arrow table) readable as the view ``name`` on ``con`` for the block: how
    rows from Python go into an INSERT … SELECT (they are read in place, not bound row by row)."""
    con.register(name, frame)
    try:
        yield name
    finally:
        con.unregister(name)



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
        # late: migrations and recovery quote identifiers with this module's helpers, so they import this module
        from lawstats.storage.migrations import _require_current_schema, migrate
        from lawstats.storage.recovery import open_checked

        self.repaired: dict | None = None  # what the open found of a commit that never finished (see recovery)
        try:
            if read_only:
                _require_current_schema(self._con, self.path)
            if self.spec.is_lake:
                if not read_only:
                    with lake.commit_lock(self.spec):  # several processes may start on a new lake at once
                        migrate(self._con)
            else:
                self.repaired = open_checked(self._con, read_only=read_only, path=self.path, migrate=migrate)
        except BaseException:
            self._con.close()  # a refused open leaves the file free for the next one
            raise
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

    def query_arrow_df(self, sql: str, params: Iterable | dict | None = None) -> pd.DataFrame:
        """``query_df`` by way of Arrow: the same frame, a third faster for tens of thousands of rows with
        text (every township of a country with its names); not for list columns, which Arrow gives as arrays."""
        with self._reachable(), self._gate.reading():
            return self.cursor().execute(sql, params or []).to_arrow_table().to_pandas()

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
