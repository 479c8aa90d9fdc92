"""Reading regions and facts, and data updates: trial commits for the preview, tables as of a batch, rows for
export."""

from __future__ import annotations

import pandas as pd

from lawstats.registry import TABLES, TABLES_BY_ID, Table
from lawstats.storage.connection import Store, current_table, fact_table, ident, registered
from lawstats.storage.migrations import _columns_of, _now
from lawstats.storage.batches import (
    _ACTIVE_BATCHES, _REGIONS_SELECT, NewBatch, _current_columns, _current_select, _insert_facts, _insert_provenance,
    _insert_regions, _json, _key_names, _next_batch_id, _real_id, _refresh_current, _write_transaction)
from lawstats.storage.derived import effective_inputs
from lawstats.storage.observations import _check_observations, _insert_observations


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
    where it reports none (``storage.derived``).
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




def _rows_for_keys(store: Store, table: Table, keys: pd.DataFrame) -> pd.DataFrame:
    """Current rows of ``table`` whose key is among ``keys`` (region_id, year[, programme])."""
    names = _key_names(table)
    cols = ", ".join(f"c.{ident(c)}" for c in _current_columns(table))
    on = " AND ".join(f"c.{ident(k)} = k.{ident(k)}" for k in names)
    con = store.cursor()
    with registered(con, "preview_keys", keys[names].drop_duplicates()):
        return con.execute(f"SELECT {cols} FROM {current_table(table)} c JOIN preview_keys k ON {on}").df()


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
