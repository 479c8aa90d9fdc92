"""All SQL of lawstats: the DuckDB store, its migrations, batches, the current-data tables and the queries.

The store is append-only. Every write is a batch (the seed load too): ``fact_<table>`` rows carry the
``batch_id`` that wrote them, and an undo is a new event in ``batches``; nothing is ever deleted from a fact
table. ``cur_<table>`` holds, per key and per column, the latest non-missing value from batches that are not
undone; it is rebuilt inside the same transaction as every commit and undo, so readers never see half a batch.
Keys are checked in the application (no primary keys, no unique constraints, no indexes), which keeps the
store portable to DuckLake and lets the importer name the offending row.

Values always travel as parameters. Identifiers come only from ``lawstats.registry`` through ``ident``.
"""

# The package's modules, each importing only those above it (the few calls upward are imported inside the
# function that makes them, to break the cycle):
#   connection    Store, open_database, ident and the small SQL helpers
#   migrations    the migrations, migrate, the read-only schema check
#   recovery      a file's row counts, recorded by every commit and checked at open: a commit that never
#                 finished but came back in part (DuckDB 1.5.5, killed mid-COMMIT) is found and repaired
#   batches       writing batches (commit, undo, dependents, the active-batches SQL), batches and versions
#   derived       the region tree, rollups, summaries, effective figures, comparisons, rollup checks
#   observations  the long observations table and measure_values
#   reading       regions, facts, trial commits, tables as of a batch
# Code outside the package imports ``lawstats.storage`` and uses the names below. A test that patches a module
# attribute patches the submodule that reads it (patching the name here would not reach it).

from lawstats.registry import TABLES, TABLES_BY_ID
from lawstats.storage.connection import CommitGate, Store, current_table, fact_table, ident, open_database
from lawstats.storage.migrations import MIGRATIONS, migrate
from lawstats.storage.batches import (
    _REGIONS_SELECT, NewBatch, batch_with_sha256, batches_text, cache_version, commit_batch, copy_store,
    _current_columns, _current_select, data_version, dependent_batches, housekeeping, last_update, list_batches,
    _parse_json, _refresh_current, regions_version, sha256_of, undo_batch)
from lawstats.storage.derived import (
    ANCESTOR_COLUMNS, MAX_DEPTH, REFRESH_SLICE_KEYS, ROOT_ID, ROOT_LEVEL, additive_columns, breakdown_tables,
    compare_inputs, compare_regions, default_region_id, descendant_counts, effective_inputs, effective_rows,
    effective_years, find_region_id, rebuild_scale_tables, region_info, region_names, region_path, region_paths,
    _region_slices, regions_named, rollup_disagreements, rollup_status, rollup_table, search_regions, _shares_keys,
    simple_tables, sources_of, _stale_scale_tables, summary_not_rolled, summary_sums, summary_table, tree_children)
from lawstats.storage.observations import (
    MEASURE_VALUE_COLUMNS, OBSERVATION_COLUMNS, OBSERVATION_FIELDS, SMALL_VALUES_REQUEST, measure_values,
    measure_values_as_of, measure_years, measures_with_data, observation_frame, observation_problems,
    registry_column_ids)
from lawstats.storage.reading import (
    count_rows, indicator_inputs, region_children, regions, regions_as_of, regions_with_data, _rows_for_keys,
    table_as_of, table_rows, trial_commit, value_provenance, years_of)

__all__ = [
    "TABLES", "TABLES_BY_ID", "CommitGate", "Store", "current_table", "fact_table", "ident", "open_database",
    "MIGRATIONS", "migrate", "_REGIONS_SELECT", "NewBatch", "batch_with_sha256", "batches_text", "cache_version",
    "commit_batch", "copy_store", "_current_columns", "_current_select", "data_version", "dependent_batches",
    "housekeeping", "last_update", "list_batches", "_parse_json", "_refresh_current", "regions_version",
    "sha256_of", "undo_batch",
    "ANCESTOR_COLUMNS", "MAX_DEPTH", "REFRESH_SLICE_KEYS", "ROOT_ID", "ROOT_LEVEL", "additive_columns",
    "breakdown_tables", "compare_inputs", "compare_regions", "default_region_id", "descendant_counts",
    "effective_inputs", "effective_rows", "effective_years", "find_region_id", "rebuild_scale_tables", "region_info",
    "region_names", "region_path", "region_paths", "_region_slices", "regions_named", "rollup_disagreements",
    "rollup_status", "rollup_table", "search_regions", "_shares_keys", "simple_tables", "sources_of",
    "_stale_scale_tables", "summary_not_rolled", "summary_sums", "summary_table", "tree_children",
    "MEASURE_VALUE_COLUMNS", "OBSERVATION_COLUMNS", "OBSERVATION_FIELDS", "SMALL_VALUES_REQUEST", "measure_values",
    "measure_values_as_of", "measure_years", "measures_with_data", "observation_frame", "observation_problems",
    "registry_column_ids", "count_rows", "indicator_inputs", "region_children", "regions", "regions_as_of",
    "regions_with_data", "_rows_for_keys", "table_as_of", "table_rows", "trial_commit", "value_provenance", "years_of",
]
