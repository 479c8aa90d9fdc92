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
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

import duckdb
import pandas as pd

from lawstats.errors import DatabaseError, NotFound
from lawstats.registry import TABLES, TABLES_BY_ID, Table

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
        if "lock" in text.lower():
            raise DatabaseError("error.db_locked", path=path) from e
        raise DatabaseError("error.db_corrupt", path=path, reason=_first_line(text)) from e
    except (duckdb.SerializationException, duckdb.InternalException, duckdb.InvalidInputException,
            duckdb.CatalogException) as e:
        raise DatabaseError("error.db_corrupt", path=path, reason=_first_line(str(e))) from e


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "?"


class Store:
    """One DuckDB connection for the process; a cursor per thread; one writer at a time.

    DuckDB lets one process open a file read-write. Streamlit serves every session from threads of one
    process, so the app holds one Store (``st.cache_resource``) and each thread reads through its own cursor.
    """

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = str(path)
        self._con = open_database(self.path, read_only=read_only)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        if not read_only:
            migrate(self._con)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._con.cursor()
        return cur

    def close(self) -> None:
        self._con.close()

    # -- small helpers: every query goes through these two
    def query_df(self, sql: str, params: Iterable | dict | None = None) -> pd.DataFrame:
        return self.cursor().execute(sql, params or []).df()

    def query_rows(self, sql: str, params: Iterable | dict | None = None) -> list[tuple]:
        return self.cursor().execute(sql, params or []).fetchall()


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
            row_key VARCHAR,               -- the extra key (training programme) or NULL
            column_id VARCHAR NOT NULL,
            source VARCHAR,
            section VARCHAR,
            origin VARCHAR,                -- 'stated' (the document writes it) or 'computed'
            note VARCHAR                   -- how the document writes it, where that needs saying
        )""")


MIGRATIONS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = [
    ("001_initial", _m001_initial),
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
    return applied


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
    rows = con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                       [table_name]).fetchall()
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


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commit_batch(store: Store, batch: NewBatch) -> int:
    """Write one batch atomically and refresh the current tables it touches. Returns the batch id."""
    with store._write_lock:
        con = store.cursor()
        con.execute("BEGIN TRANSACTION")
        try:
            batch_id = _next_batch_id(con)
            id_map = _insert_regions(con, batch_id, batch.regions, batch.synthetic)
            counts = {}
            for table_id, frame in batch.rows.items():
                counts[table_id] = _insert_facts(con, batch_id, TABLES_BY_ID[table_id], frame, id_map)
            if batch.regions is not None and len(batch.regions):
                counts["regions"] = len(batch.regions)
            if batch.provenance is not None and len(batch.provenance):
                _insert_provenance(con, batch_id, batch.provenance, id_map)
            con.execute(
                "INSERT INTO batches (batch_id, kind, created_at, user_name, file_name, sha256, source, note, "
                "row_counts, undoes, synthetic) VALUES (?, 'import', ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                [batch_id, _now(), batch.user_name, batch.file_name, batch.sha256, batch.source, batch.note,
                 _json(counts), batch.synthetic])
            _refresh_current(con, touched=set(batch.rows), regions=batch.regions is not None)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return batch_id


def undo_batch(store: Store, batch_id: int, user_name: str | None = None, note: str | None = None) -> int:
    """Record an undo event for an import batch; its rows stop counting. Returns the undo event's id."""
    with store._write_lock:
        con = store.cursor()
        con.execute("BEGIN TRANSACTION")
        try:
            row = con.execute("SELECT kind, row_counts FROM batches WHERE batch_id = ?", [batch_id]).fetchone()
            if row is None or row[0] != "import":
                raise NotFound("error.unknown_batch", value=batch_id)
            if con.execute("SELECT count(*) FROM batches WHERE kind = 'undo' AND undoes = ?",
                           [batch_id]).fetchone()[0]:
                raise NotFound("error.batch_already_undone", value=batch_id)
            event_id = _next_batch_id(con)
            con.execute(
                "INSERT INTO batches (batch_id, kind, created_at, user_name, note, row_counts, undoes) "
                "VALUES (?, 'undo', ?, ?, ?, '{}', ?)", [event_id, _now(), user_name, note, batch_id])
            touched = set(_parse_json(row[1])) - {"regions"}
            _refresh_current(con, touched=touched, regions=True)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return event_id


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


def _insert_facts(con, batch_id: int, table: Table, frame: pd.DataFrame, id_map: dict[int, int]) -> int:
    names = [n for n, _ in _fact_columns(table)]
    data = pd.DataFrame(index=frame.index)
    for name in names:
        if name == "batch_id":
            data[name] = batch_id
        elif name == "region_id":
            data[name] = frame["region_id"].map(lambda r: _real_id(r, id_map)).astype("int64")
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
    as_of = {"as_of": 2**31 - 1}
    for table_id in touched:
        table = TABLES_BY_ID[table_id]
        cols = ", ".join(ident(c) for c in _current_columns(table))
        con.execute(f"DELETE FROM {current_table(table)}")
        con.execute(f"INSERT INTO {current_table(table)} ({cols}) {_current_select(table)}", as_of)
    if regions:
        con.execute("CREATE TABLE IF NOT EXISTS cur_regions AS " + _REGIONS_SELECT.replace("$as_of", "0")
                    + " LIMIT 0")
        con.execute("DELETE FROM cur_regions")
        con.execute("INSERT INTO cur_regions " + _REGIONS_SELECT, as_of)


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


# Training rows summarised per region and year, for the indicator formulas (lawstats.indicators).
_TRAINING_SUMMARY = """
    SELECT region_id, year,
      sum(sessions) FILTER (WHERE programme_kind = 'study') AS study_sessions_total,
      count(*) FILTER (WHERE programme_kind = 'study') AS study_rows,
      count(*) FILTER (WHERE programme_kind = 'study' AND required_persons > 0 AND participants IS NOT NULL)
          AS study_counted_rows,
      count(*) FILTER (WHERE programme_kind = 'study' AND (participants IS NOT NULL
                                                           OR participation_rate_stated IS NOT NULL))
          AS study_rated_rows,
      sum(required_persons) FILTER (WHERE programme_kind = 'study') AS study_required,
      sum(participants) FILTER (WHERE programme_kind = 'study') AS study_participants,
      min(participation_rate_stated) FILTER (WHERE programme_kind = 'study') AS study_rate_stated_min,
      count(*) FILTER (WHERE programme_kind = 'exam') AS exam_rows,
      count(*) FILTER (WHERE programme_kind = 'exam' AND required_persons > 0 AND participants IS NOT NULL)
          AS exam_counted_rows,
      count(*) FILTER (WHERE programme_kind = 'exam' AND participants > 0 AND passed IS NOT NULL)
          AS exam_pass_counted_rows,
      sum(required_persons) FILTER (WHERE programme_kind = 'exam') AS exam_required,
      sum(participants) FILTER (WHERE programme_kind = 'exam') AS exam_participants,
      sum(passed) FILTER (WHERE programme_kind = 'exam') AS exam_passed,
      min(participation_rate_stated) FILTER (WHERE programme_kind = 'exam') AS exam_participation_stated_min,
      min(pass_rate_stated) FILTER (WHERE programme_kind = 'exam') AS exam_pass_stated_min,
      CASE WHEN count(*) FILTER (WHERE (passed IS NOT NULL)::INT + (participants IS NOT NULL)::INT
                                      + (required_persons IS NOT NULL)::INT >= 2) > 0
           THEN count(*) FILTER (WHERE passed > participants OR participants > required_persons
                                 OR passed > required_persons) END AS training_order_violations,
      max(greatest(abs(100.0 * participants / nullif(required_persons, 0) - participation_rate_stated),
                   abs(100.0 * passed / nullif(participants, 0) - pass_rate_stated))) AS training_max_rate_gap
    FROM cur_training
    WHERE region_id IN (SELECT unnest($ids)) AND ($all_years OR year IN (SELECT unnest($years)))
    GROUP BY region_id, year
"""


def indicator_inputs(store: Store, region_ids: list[int], years: list[int] | None = None) -> pd.DataFrame:
    """One row per (region, year) with every figure the indicator formulas read.

    Population, land, grid and governance are joined on (region_id, year); training is summarised per
    region and year in SQL so that only small results reach pandas.
    """
    params = {"ids": [int(i) for i in region_ids], "years": years or [], "all_years": years is None}
    where = "region_id IN (SELECT unnest($ids)) AND ($all_years OR year IN (SELECT unnest($years)))"
    simple = [t for t in TABLES if not t.key_columns]
    keys = " UNION ".join(f"SELECT region_id, year FROM {current_table(t)} WHERE {where}" for t in TABLES)
    select = ["k.region_id", "k.year"]
    joins = []
    for t in simple:
        alias = ident(f"t_{t.id}")
        select += [f"{alias}.{ident(c.id)}" for c in t.value_columns]
        select.append(f"{alias}.approx AS {ident('approx_' + t.id)}")
        joins.append(f"LEFT JOIN {current_table(t)} {alias} ON {alias}.region_id = k.region_id "
                     f"AND {alias}.year = k.year")
    select.append("tr.* EXCLUDE (region_id, year)")
    joins.append(f"LEFT JOIN ({_TRAINING_SUMMARY}) tr ON tr.region_id = k.region_id AND tr.year = k.year")
    sql = (f"SELECT {', '.join(select)} FROM ({keys}) k {' '.join(joins)} ORDER BY k.region_id, k.year")
    return store.query_df(sql, params)


def value_provenance(store: Store, region_id: int, year: int) -> pd.DataFrame:
    """Per-value provenance recorded for a region and year (from active batches), newest batch first."""
    return store.query_df(f"""
        SELECT table_id, row_key, column_id, source, section, origin, note, batch_id FROM value_provenance
        WHERE region_id = $r AND year = $y AND batch_id IN ({_ACTIVE_BATCHES})
        ORDER BY batch_id DESC""", {"r": region_id, "y": year, "as_of": 2**31 - 1})


def count_rows(store: Store, table: Table, current: bool = True) -> int:
    name = current_table(table) if current else fact_table(table)
    return store.query_rows(f"SELECT count(*) FROM {name}")[0][0]

