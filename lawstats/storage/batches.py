"""Batches: writing (commit, undo, dependents, the active-batches SQL, the current-table SELECTs) and reading
batches and versions (list, data and cache versions, copy, housekeeping)."""

from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, TypeVar

import duckdb
import numpy as np
import pandas as pd

from lawstats import lake
from lawstats.errors import ByLanguage, DatabaseError, NotFound, UndoRefused
from lawstats.registry import TABLES, Table
from lawstats.storage.connection import Store, fact_table, _first_line, ident, registered
from lawstats.storage.migrations import _columns_of, _fact_columns, _now
from lawstats.storage.recovery import ROW_COUNTS, record_row_counts

_T = TypeVar("_T")


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
    # late: the writing steps (reading.py, beside trial_commit) build on this module
    from lawstats.storage.reading import _apply_batch

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
                if not store.spec.is_lake:  # see storage.recovery: what the open checks a file against
                    record_row_counts(con)
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
    with registered(con, "new_regions", frame):
        con.execute("INSERT INTO regions_log SELECT batch_id, region_id, name, level, parent_id, code, synthetic "
                    "FROM new_regions")
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
    casts = ", ".join(_cast(n, t) for n, t in _fact_columns(table))
    with registered(con, "new_facts", data):
        con.execute(f"INSERT INTO {fact_table(table)} SELECT {casts} FROM new_facts")
    return len(data)


def _cast(name: str, sql_type: str) -> str:
    return f"CAST({ident(name)} AS {sql_type})"


def _insert_provenance(con, batch_id: int, provenance: pd.DataFrame, id_map: dict[int, int]) -> None:
    frame = provenance.copy()
    frame["batch_id"] = batch_id
    frame["region_id"] = frame["region_id"].map(lambda r: _real_id(r, id_map)).astype("int64")
    with registered(con, "new_provenance", frame):
        con.execute("INSERT INTO value_provenance SELECT batch_id, table_id, region_id, year, row_key, column_id, "
                    "source, section, origin, note FROM new_provenance")


# The batches whose rows count: imports not undone. With an ``as_of`` batch, only events up to it count,
# which gives the data as it was right after that batch.
_ACTIVE_BATCHES = """
    SELECT b.batch_id FROM batches b
    WHERE b.kind = 'import' AND b.batch_id <= $as_of
      AND NOT EXISTS (SELECT 1 FROM batches u WHERE u.kind = 'undo' AND u.undoes = b.batch_id
                      AND u.batch_id <= $as_of)
"""


def _current_select(table: Table, where: str = "") -> str:
    """SELECT giving, per key, each column's latest non-missing value among active batches (up to $as_of);
    ``where``, an SQL condition on the fact rows, restricts it to some keys (a slice of a refresh)."""
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
            f"WHERE {where + ' AND ' if where else ''}batch_id IN ({_ACTIVE_BATCHES}) "
            f"GROUP BY {', '.join(ident(k) for k in keys)}")


def _current_columns(table: Table) -> list[str]:
    keys = ["region_id", "year"] + [c.id for c in table.key_columns]
    return keys + [c.id for c in table.value_columns] + ["source", "section", "approx", "batch_id"]


def _key_names(table: Table) -> list[str]:
    return ["region_id", "year"] + [c.id for c in table.key_columns]



_REGIONS_SELECT = f"""
    SELECT region_id, arg_max(name, batch_id) AS name, arg_max(level, batch_id) AS level,
           arg_max(parent_id, batch_id) AS parent_id, arg_max(code, batch_id) AS code,
           bool_or(synthetic) AS synthetic
    FROM regions_log WHERE batch_id IN ({_ACTIVE_BATCHES}) GROUP BY region_id
"""


def _refresh_current(con, touched: set[str], regions: bool) -> None:
    """Bring the current tables, the region tree and the rollups up to date with the newest event (a commit or
    an undo), inside its transaction. Only the keys and regions that event's batch wrote are recomputed, so a
    small upload stays fast on a national database (``derived._refresh_for_event``)."""
    # late: the derived tables and the observations build on this module (its batches SQL and NewBatch)
    from lawstats.storage.derived import _refresh_for_event
    from lawstats.storage.observations import _refresh_current_observations, _refresh_observation_regions

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


def regions_version(store: Store) -> int:
    """The newest event that changed the regions: an import that wrote some, or the undo of one. What the
    importer's region index keys on, so that a national import of six files builds it once, not six times."""
    return store.query_rows("""
        SELECT coalesce(max(batch_id), 0) FROM batches
        WHERE batch_id IN (SELECT batch_id FROM regions_log) OR undoes IN (SELECT batch_id FROM regions_log)
    """)[0][0]


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
    # the row counts are a file's own bookkeeping (storage.recovery): a file target records its own at COMMIT
    tables = [r[0] for r in source.query_rows(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_type = 'BASE TABLE' AND table_name NOT IN ('schema_migrations', ?) ORDER BY table_name",
        [ROW_COUNTS])]

    def write() -> int:
        with _write_transaction(target) as con:
            for name in tables:
                columns = sorted(_columns_of(source.cursor(), name))
                wanted = ", ".join(ident(c) for c in columns)
                rows = source.cursor().execute(f"SELECT {wanted} FROM {ident(name)}").arrow()
                con.execute(f"DELETE FROM {ident(name)}")  # a new store's derived tables hold the virtual root
                with registered(con, "copied_rows", rows):
                    con.execute(f"INSERT INTO {ident(name)} ({wanted}) SELECT {wanted} FROM copied_rows")
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
