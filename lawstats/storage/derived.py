"""Scale: the region tree, rollups, breakdown summaries, effective figures, the region picker's tree,
comparisons and rollup checks: the derived tables and their queries (issue 5)."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from lawstats.errors import NotFound
from lawstats.registry import TABLES, TABLES_BY_ID, Table
from lawstats.registry import AREA as _AREA, COUNT as _COUNT, LEVEL_IDS as _LEVEL_IDS
from lawstats.registry import ROWS as _ROWS, Figure
from lawstats.storage.connection import Store, current_table, fact_table, ident, _literal
from lawstats.storage.migrations import _columns_of, _layout_of
from lawstats.storage.batches import _REGIONS_SELECT, _current_columns, _current_select, _key_names


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
# ``eff_inputs``   per region with subdivisions and year: its effective indicator inputs, numbers only (what
#                  ``compare_inputs`` gives), so that ranking every township of a country reads one table
#                  instead of joining a dozen (a region without subdivisions has no rollups: its inputs are
#                  its own rows, read as they are).
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


ROOT_ID = 0  # the virtual region above the top-level regions
ROOT_LEVEL = "all"
MAX_DEPTH = 12  # a guard against a cycle in the parent links
ANCESTOR_COLUMNS = {level: f"anc_{level}" for level in _LEVEL_IDS}
STORED_INPUTS = "eff_inputs"
_PARENTS = "SELECT region_id FROM region_tree WHERE n_children > 0"


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
            # Declared columns, not CREATE TABLE AS over the empty query: with that, the national rows inserted
            # next in this transaction were invisible to this process until it reopened the file (DuckDB 1.5.5).
            layout = _stored_inputs_layout(con) if name == STORED_INPUTS else wanted[name]
            con.execute(f"CREATE TABLE {ident(name)} ({', '.join(f'{ident(n)} {t}' for n, t in layout)})")
        if stale == [STORED_INPUTS]:  # an earlier version's database: the other derived tables are right
            _fill_stored_inputs(con)
        else:
            rebuild_scale_tables(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _stale_scale_tables(con) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """(the layout every derived table should have, the names of those that differ or are missing)."""
    wanted = {"region_tree": _tree_layout(), **{f"sum_{t.id}": _sum_layout(con, t) for t in breakdown_tables()},
              **{f"roll_{t}": _roll_layout(t) for t in _rolled_table_ids()}}
    stale = [name for name, layout in wanted.items() if _layout_of(con, name) != [(n, t.upper()) for n, t in layout]]
    # The stored inputs are typed by the query over the tables above, so they can be checked only when those are
    # right; when any is rebuilt, so are they.
    if stale or _layout_of(con, STORED_INPUTS) != _stored_inputs_layout(con):
        stale.append(STORED_INPUTS)  # (an earlier version's tables may lack a column: see _stored_inputs_layout)
    return wanted, stale


def _stored_inputs_layout(con) -> list[tuple[str, str]]:
    """``eff_inputs``: the columns ``_inputs_sql`` gives, typed as DuckDB types them over the current tables."""
    try:
        described = con.execute("DESCRIBE " + _stored_inputs_sql("SELECT NULL::INTEGER WHERE false")).fetchall()
    except duckdb.BinderException:  # a current table without a registry column yet: out of step, no layout
        return []
    return [(name, kind.upper()) for name, kind, *_ in described]


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
    _fill_stored_inputs(con)


def _fill_stored_inputs(con) -> None:
    con.execute(f"DELETE FROM {STORED_INPUTS}")
    con.execute(f"INSERT INTO {STORED_INPUTS} {_stored_inputs_sql(_PARENTS)}")


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
            con.execute(f"DELETE FROM {rollup_table(table_id)} WHERE region_id NOT IN ({_PARENTS})")
    _refresh_rollups(con, tables)
    _refresh_stored_inputs(con, regions)


def _refresh_stored_inputs(con, regions: bool) -> None:
    """Recompute the stored inputs of the parents whose own figures (``_touched``) or sums (``_dirty``) may
    have changed; with new regions, drop those of regions that no longer have subdivisions."""
    con.execute("CREATE OR REPLACE TEMP TABLE _inputs_regions AS "
                "SELECT region_id FROM _dirty UNION SELECT region_id FROM _touched")
    con.execute(f"DELETE FROM {STORED_INPUTS} WHERE region_id IN (SELECT region_id FROM _inputs_regions)")
    if regions:
        con.execute(f"DELETE FROM {STORED_INPUTS} WHERE region_id NOT IN ({_PARENTS})")
    changed_parents = f"{_PARENTS} AND region_id IN (SELECT region_id FROM _inputs_regions)"
    con.execute(f"INSERT INTO {STORED_INPUTS} {_stored_inputs_sql(changed_parents)}")


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
        select = _current_select(table, f"{in_slice}EXISTS (SELECT 1 FROM _keys k WHERE {_key_join(table, 'k', fact)})")
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
                ordered: bool = True) -> str:
    """``indicator_inputs`` for the regions ``region_sql`` selects, from effective figures. ``figures_only``
    leaves out list columns (ethnic groups, approximate flags): the formulas do not read them, and turning
    lists into Python objects is most of the cost of a large comparison. ``region_sql`` may read a CTE of an
    enclosing query (``compare_inputs``)."""
    simple, summarised = simple_tables(), breakdown_tables()
    ctes = [f"{ident('e_' + t.id)} AS ({_effective_sql(t, region_sql, years)})" for t in simple]
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


def _stored_inputs_sql(region_sql: str) -> str:
    """What ``eff_inputs`` holds for the regions ``region_sql`` selects, in year and region order: a comparison
    reads one year of many regions, and DuckDB's zone maps then skip the row groups of other years."""
    return f"SELECT * FROM ({_inputs_sql(region_sql, figures_only=True, ordered=False)}) ORDER BY year, region_id"


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
    # The members and their names are found once (a materialised CTE). Those with subdivisions are read from
    # the stored inputs; the others' inputs are their own rows (no rollups to fill from), computed here.
    stored = STORED_INPUTS
    sql = f"""
        WITH m AS MATERIALIZED (SELECT region_id, name, code, parent_id, n_children > 0 AS stored
                                FROM region_tree WHERE region_id IN ({members})),
        inputs AS (
            SELECT * FROM {stored}
            WHERE region_id IN (SELECT region_id FROM m WHERE stored) AND {_year_filter(stored, years)}
            UNION ALL BY NAME
            ({_inputs_sql("SELECT region_id FROM m WHERE NOT stored", years, figures_only=True, ordered=False)})),
        p AS (SELECT region_id, name FROM region_tree WHERE region_id IN (SELECT parent_id FROM m))
        SELECT m.name, m.code, p.name AS parent_name, inputs.*
        FROM inputs JOIN m ON m.region_id = inputs.region_id LEFT JOIN p ON p.region_id = m.parent_id"""
    return store.query_arrow_df(sql, _used(sql, params))  # unordered: the comparison ranks the rows itself


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
