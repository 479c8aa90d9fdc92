"""A DuckDB file that holds part of a commit that never finished, found at open and repaired.

DuckDB 1.5.5 can bring back part of a transaction that did not commit. A large insert writes its row groups into
the database file ahead of the COMMIT ("optimistic writes"), and the COMMIT then writes the transaction to the log
(``.wal``). When the process dies while that log is being written, reopening the file replays the row groups
already logged but none of the small rows of the same transaction: tests/test_faults_import.py found a commit of
200,000 rows, killed in that moment, back as 200,000 current rows with no fact rows and no ``batches`` row
(upstream DuckDB pull request 25931, "Fix uncommitted data recovered accidentally", describes the same path).

Such a replay only ever adds rows. So every write transaction on a file records each table's row count in
``row_counts`` (a small row per table, which a torn log never brings back), and ``open_checked`` compares them when
the file is opened: a table whose count differs holds rows of a commit that never finished. The repair deletes
the history rows of batches that have no ``batches`` row (they were never committed) and rebuilds every derived
table from the history, which gives exactly the data from before the unfinished commit. A DuckLake store is not
concerned: its data files are written before the catalog transaction that makes them part of the lake.
"""

from __future__ import annotations

import duckdb

from lawstats.errors import DatabaseError
from lawstats.registry import TABLES
from lawstats.storage.connection import _literal, current_table, fact_table, ident

ROW_COUNTS = "row_counts"
_NOT_COUNTED = {ROW_COUNTS, "schema_migrations"}


def _history_tables() -> list[str]:
    """The history: rows stamped with the batch that wrote them. Everything else derives from these and batches."""
    return [f"fact_{t.id}" for t in TABLES] + ["fact_observations", "regions_log", "value_provenance"]


def _counted_tables(con) -> list[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                       "AND schema_name = 'main' AND NOT temporary ORDER BY table_name").fetchall()
    return [name for (name,) in rows if name not in _NOT_COUNTED]


def _counts_sql(tables: list[str]) -> str:
    return " UNION ALL ".join(f"SELECT {_literal(t)} AS table_name, count(*) AS n FROM {ident(t)}" for t in tables)


def _row_counts(con, tables: list[str]) -> dict[str, int]:
    return {name: int(n) for name, n in con.execute(_counts_sql(tables)).fetchall()} if tables else {}


def _recorded(con) -> dict[str, int] | None:
    """The counts recorded by the last write transaction (None: a file from before they were recorded)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND schema_name = 'main' AND table_name = ?", [ROW_COUNTS]).fetchone()[0]
    if not exists:
        return None
    return {name: int(n) for name, n in con.execute(f"SELECT table_name, n FROM {ident(ROW_COUNTS)}").fetchall()}


def record_row_counts(con) -> None:
    """Record every table's row count, inside the caller's write transaction (before its COMMIT)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {ident(ROW_COUNTS)} (table_name VARCHAR, n BIGINT)")
    con.execute(f"DELETE FROM {ident(ROW_COUNTS)}")
    con.execute(f"INSERT INTO {ident(ROW_COUNTS)} {_counts_sql(_counted_tables(con))}")


def unrecorded_changes(con) -> dict[str, tuple[int, int]]:
    """Tables whose row count differs from the one recorded: {name: (recorded, now)}. Empty when they agree
    or nothing was recorded yet."""
    return _differences(con, _recorded(con))


def _differences(con, recorded: dict[str, int] | None) -> dict[str, tuple[int, int]]:
    if recorded is None:
        return {}
    now = _row_counts(con, _counted_tables(con))
    return {name: (recorded.get(name, 0), n) for name, n in now.items() if n != recorded.get(name, 0)}


def open_checked(con, *, read_only: bool, path: str, migrate) -> dict | None:
    """Open-time check of a DuckDB file (``migrate`` brings its schema up to date): a file whose tables hold
    part of an unfinished commit is repaired (the repair's summary is returned) or, read-only, refused."""
    recorded = _recorded(con)  # only this module writes them, so a migration leaves them as they are
    torn = _differences(con, recorded)
    if read_only:
        if torn:
            raise DatabaseError("error.db_unfinished_commit_read_only", path=path)
        return None
    migrate(con)
    if torn:
        return repair(con, torn)
    if recorded is None or _differences(con, recorded):  # a file from before the counts, or a migration
        _in_transaction(con, record_row_counts)
    return None


def repair(con, torn: dict[str, tuple[int, int]]) -> dict:
    """Delete the rows of batches that never committed and rebuild every derived table from the history, in one
    transaction, then checkpoint (the torn log is gone after it). Returns what was found and removed."""
    removed: dict[str, int] = {}

    def rebuild(con) -> None:
        last = con.execute("SELECT coalesce(max(batch_id), 0) FROM batches").fetchone()[0]
        for name in _history_tables():
            n = con.execute(f"DELETE FROM {ident(name)} WHERE batch_id > ?", [last]).fetchone()[0]
            if n:
                removed[name] = int(n)
        rebuild_derived(con)
        record_row_counts(con)

    _in_transaction(con, rebuild)
    con.execute("CHECKPOINT")
    return {"tables": sorted(torn), "removed": removed}


def rebuild_derived(con) -> None:
    """Every current table, the region tree, the summaries and rollups recomputed from the history (inside the
    caller's transaction): what the commits and undos keep up to date key by key, computed whole."""
    # late: these modules build on batches and derived; the rebuild is theirs, run in full
    from lawstats.storage.batches import _REGIONS_SELECT, _current_columns, _current_select, _key_names
    from lawstats.storage.derived import REFRESH_SLICE_KEYS, _region_slices, rebuild_scale_tables
    from lawstats.storage.observations import _ALL_BATCHES, _observations_select

    for table in TABLES:
        cols = ", ".join(ident(c) for c in _current_columns(table))
        keys = ", ".join(ident(k) for k in _key_names(table))
        con.execute(f"DELETE FROM {current_table(table)}")
        # A slice of regions at a time, as a commit's refresh does: national data grouped whole took 4.4 GB
        # (bench/recovery_bench.py); bounds are integers from the database, written in for DuckDB's zone maps.
        for low, high in _region_slices(con, fact_table(table), REFRESH_SLICE_KEYS):
            in_slice = "" if low is None else f"region_id BETWEEN {int(low)} AND {int(high)}"
            con.execute(f"INSERT INTO {current_table(table)} ({cols}) {_current_select(table, in_slice)} "
                        f"ORDER BY {keys}", {"as_of": _ALL_BATCHES})
    con.execute("DELETE FROM cur_observations")
    con.execute(f"INSERT INTO cur_observations {_observations_select()} ORDER BY region_id, year, measure_id, item_id",
                {"as_of": _ALL_BATCHES})
    con.execute("DELETE FROM cur_regions")
    con.execute(f"INSERT INTO cur_regions {_REGIONS_SELECT} ORDER BY region_id", {"as_of": _ALL_BATCHES})
    rebuild_scale_tables(con)


def _in_transaction(con, step) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        step(con)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # the failed COMMIT already ended it
        raise
