"""Observations: the long table of catalogue measures that are not registry columns, and ``measure_values``, which
reads it and the registry tables as one long frame (issue 10 §3)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lawstats.errors import ValidationFailed
from lawstats.registry import TABLES, TABLES_BY_ID, Table
from lawstats.storage.connection import Store, current_table, ident, registered, _literal
from lawstats.storage.batches import _ACTIVE_BATCHES, NewBatch, _cast, _current_select, _real_ids
from lawstats.storage.derived import (
    ANCESTOR_COLUMNS, ROOT_ID, ROOT_LEVEL, additive_columns, effective_years, _latest_event, _n_column,
    _own_regions_sql, region_info, rollup_table, simple_tables, _sum_column, _used)


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
    casts = ", ".join(_cast(n, t.replace(" NOT NULL", "")) for n, t in OBSERVATION_COLUMNS)
    with registered(con, "new_observations", data):
        con.execute(f"INSERT INTO fact_observations SELECT {casts} FROM new_observations "
                    "ORDER BY region_id, year, measure_id, item_id")
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
