"""The store on a temporary DuckDB file: batches, the current view, undo, migrations, parameterised SQL."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from lawstats import seed, storage, summary
from lawstats.errors import NotFound
from lawstats.importer import ImportOptions, prepare_import
from lawstats.reader import read_csv_bytes
from lawstats.registry import TABLES, TABLES_BY_ID

POPULATION = TABLES_BY_ID["population"]
# Every test here runs on each store (DuckDB file, SQLite- and PostgreSQL-catalog lake: tests/conftest.py).
pytestmark = pytest.mark.every_store


def commit_csv(store, name: str, text: str, source: str = "测试批次 test batch", user: str = "tester") -> int:
    """Commit a template CSV through the analysts' import path; returns the batch id."""
    data = text.encode("utf-8")
    prepared = prepare_import(storage.regions(store), [(name, read_csv_bytes(data))],
                              ImportOptions(source=source, user_name=user), storage.sha256_of(data))
    return storage.commit_batch(store, prepared.batch)


def population(store, year: int = 2024, as_of: int | None = None):
    region_id = summary.find_region(store, "西堡镇")
    rows = storage.table_rows(store, POPULATION, [region_id], [year], as_of=as_of)
    assert len(rows) == 1
    return rows.iloc[0]


# ---------------------------------------------------------------------------------------------------------
# Batches


def test_seed_is_one_recorded_batch(fresh_store):
    batches = storage.list_batches(fresh_store)
    assert len(batches) == 1
    batch = batches.iloc[0]
    assert batch["batch_id"] == 1 and batch["kind"] == "import" and not batch["undone"]
    assert batch["created_at"] is not None
    assert batch["source"] == seed.SEED_SOURCE
    counts = json.loads(batch["row_counts"])
    assert counts == {"population": 1, "land": 1, "grid": 1, "training": 5, "governance": 1, "regions": 4}
    assert storage.data_version(fresh_store) == 1


def test_second_batch_is_recorded_with_its_source_user_and_counts(fresh_store):
    batch_id = commit_csv(fresh_store, "population-2023.csv", "地区,年份,户籍人口,户籍户数\n西堡镇,2023,25000,7000\n")
    assert batch_id == 2 and storage.data_version(fresh_store) == 2
    batch = storage.list_batches(fresh_store).set_index("batch_id").loc[2]
    assert batch["file_name"] == "population-2023.csv"
    assert batch["source"] == "测试批次 test batch" and batch["user_name"] == "tester"
    assert json.loads(batch["row_counts"]) == {"population": 1}
    assert storage.years_of(fresh_store, summary.find_region(fresh_store, "西堡镇")) == [2023, 2024]


def test_current_view_is_latest_non_missing_value_per_key_and_column(fresh_store):
    commit_csv(fresh_store, "fix.csv", "地区,年份,户籍人口,常住人口\n西堡镇,2024,25300,\n")
    row = population(fresh_store)
    assert row["registered_persons"] == 25300  # the newer batch wins
    assert row["resident_persons"] == 23971  # blank in the newer batch: the older value stays
    assert row["registered_households"] == 7017  # not in the newer file at all
    assert row["batch_id"] == 2
    # the fact table keeps every row: nothing is overwritten
    assert storage.count_rows(fresh_store, POPULATION, current=False) == 2
    assert storage.count_rows(fresh_store, POPULATION, current=True) == 1


def test_as_of_a_batch_gives_the_data_as_it_was(fresh_store):
    commit_csv(fresh_store, "fix.csv", "地区,年份,户籍人口\n西堡镇,2024,25300\n")
    assert population(fresh_store, as_of=1)["registered_persons"] == 25218
    assert population(fresh_store, as_of=2)["registered_persons"] == 25300


def test_undo_brings_the_previous_values_back(fresh_store):
    batch_id = commit_csv(fresh_store, "fix.csv", "地区,年份,户籍人口,少数民族人口\n西堡镇,2024,25300,170\n")
    assert population(fresh_store)["minority_persons"] == 170
    event_id = storage.undo_batch(fresh_store, batch_id, user_name="tester", note="wrong file")
    assert event_id == 3 and storage.data_version(fresh_store) == 3  # caches keyed on the version refresh
    row = population(fresh_store)
    assert row["registered_persons"] == 25218 and row["minority_persons"] == 162
    batches = storage.list_batches(fresh_store).set_index("batch_id")
    assert batches.loc[batch_id, "undone"] and batches.loc[3, "kind"] == "undo" and batches.loc[3, "undoes"] == 2
    assert storage.count_rows(fresh_store, POPULATION, current=False) == 2  # undo deletes nothing


def test_undo_removes_a_year_that_only_the_undone_batch_had(fresh_store):
    region_id = summary.find_region(fresh_store, "西堡镇")
    batch_id = commit_csv(fresh_store, "p2023.csv", "地区,年份,户籍人口\n西堡镇,2023,25000\n")
    assert 2023 in storage.years_of(fresh_store, region_id)
    storage.undo_batch(fresh_store, batch_id)
    assert storage.years_of(fresh_store, region_id) == [2024]


def test_undo_of_new_regions_removes_them(fresh_store):
    before = set(storage.regions(fresh_store)["name"])
    batch_id = commit_csv(fresh_store, "regions.csv", "名称,级别,上级\n合成数据村,村,西堡镇\n",
                          source="合成数据 synthetic")
    assert "合成数据村" in set(storage.regions(fresh_store)["name"])
    storage.undo_batch(fresh_store, batch_id)
    assert set(storage.regions(fresh_store)["name"]) == before


def test_undo_twice_or_unknown_batch_is_refused(fresh_store):
    batch_id = commit_csv(fresh_store, "fix.csv", "地区,年份,户籍人口\n西堡镇,2024,25300\n")
    storage.undo_batch(fresh_store, batch_id)
    with pytest.raises(NotFound) as already:
        storage.undo_batch(fresh_store, batch_id)
    assert already.value.key == "error.batch_already_undone"
    with pytest.raises(NotFound) as unknown:
        storage.undo_batch(fresh_store, 99)
    assert unknown.value.key == "error.unknown_batch"
    with pytest.raises(NotFound):  # an undo event is not an import: it cannot be undone
        storage.undo_batch(fresh_store, 3)
    assert storage.data_version(fresh_store) == 3


def test_a_batch_that_fails_halfway_leaves_nothing_behind(fresh_store):
    """All or nothing: the population rows are written, then the land rows fail; the whole batch rolls back."""
    region_id = summary.find_region(fresh_store, "西堡镇")
    batch = storage.NewBatch(file_name="half.csv", rows={
        "population": pd.DataFrame({"region_id": [region_id], "year": [2025], "registered_persons": [1]}),
        "land": pd.DataFrame({"region_id": [region_id], "year": ["not a year"], "cultivated_area": [1.0]}),
    })
    with pytest.raises(duckdb.Error):
        storage.commit_batch(fresh_store, batch)
    assert storage.data_version(fresh_store) == 1
    assert storage.count_rows(fresh_store, POPULATION, current=False) == 1
    assert storage.years_of(fresh_store, region_id) == [2024]


# ---------------------------------------------------------------------------------------------------------
# Migrations and schema


def _schema(store) -> list[tuple]:
    return store.query_rows("SELECT table_name, column_name, data_type FROM information_schema.columns "
                            "ORDER BY table_name, column_name")


def test_migrate_twice_changes_nothing(fresh_store):
    before = _schema(fresh_store)
    applied_before = fresh_store.query_rows("SELECT name FROM schema_migrations ORDER BY name")
    assert storage.migrate(fresh_store.cursor()) == []
    assert storage.migrate(fresh_store.cursor()) == []
    assert _schema(fresh_store) == before
    assert fresh_store.query_rows("SELECT name FROM schema_migrations ORDER BY name") == applied_before
    assert storage.data_version(fresh_store) == 1


def test_migrations_apply_once_on_a_new_file_and_reopening_applies_none(tmp_path):
    # a DuckDB file only: a new lake starts under the commit lock (tests/test_lake.py covers lakes starting at once)
    path = tmp_path / "m.duckdb"
    store = storage.Store(path)
    applied = store.query_rows("SELECT name FROM schema_migrations")
    store.close()
    assert [r[0] for r in applied] == [name for name, _ in storage.MIGRATIONS]
    store = storage.Store(path)
    try:
        assert store.query_rows("SELECT name FROM schema_migrations") == applied
    finally:
        store.close()


def test_tables_derive_from_the_registry(empty_store):
    columns = {}
    for table_name, column_name, _ in _schema(empty_store):
        columns.setdefault(table_name, set()).add(column_name)
    for table in TABLES:
        for prefix in ("fact_", "cur_"):
            assert {c.id for c in table.columns} <= columns[prefix + table.id], prefix + table.id
            assert {"region_id", "year", "source", "section"} <= columns[prefix + table.id]


def test_no_keys_constraints_or_indexes(fresh_store):
    """Portable to DuckLake: uniqueness is the application's job, so the store declares none."""
    constraints = fresh_store.query_rows(
        "SELECT table_name, constraint_type FROM duckdb_constraints() WHERE constraint_type IN "
        "('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')")
    assert constraints == []
    assert fresh_store.query_rows("SELECT index_name FROM duckdb_indexes()") == []


# ---------------------------------------------------------------------------------------------------------
# SQL only with parameters and registry identifiers


@pytest.mark.parametrize("name", ['population"; DROP TABLE batches; --', "1abc", "Population", "a b", "", "表"])
def test_ident_refuses_anything_but_a_registry_identifier(name):
    with pytest.raises(ValueError):
        storage.ident(name)


def test_ident_quotes_registry_names():
    assert storage.ident("registered_persons") == '"registered_persons"'
    assert storage.fact_table(POPULATION) == '"fact_population"'


def test_hostile_text_is_stored_as_text(fresh_store):
    """Values travel as parameters: quotes and SQL in a cell come back exactly as written."""
    hostile = "新村');DROP_TABLE_batches;--"  # region names lose their spaces on import (normalised)
    commit_csv(fresh_store, "regions.csv", f'名称,级别,上级\n"{hostile}",村,西堡镇\n', source="合成数据 synthetic")
    commit_csv(fresh_store, "p.csv", f'地区,年份,户籍人口,上级地区,来源\n"{hostile}",2024,10,西堡镇,'
                                     '"合成数据 it\'s ""quoted"""\n', source="合成数据 synthetic")
    assert hostile in set(storage.regions(fresh_store)["name"])
    assert storage.data_version(fresh_store) == 3  # batches is still there
    region_id = summary.find_region(fresh_store, hostile)
    rows = storage.table_rows(fresh_store, POPULATION, [region_id])
    assert rows.iloc[0]["registered_persons"] == 10
    assert rows.iloc[0]["source"] == "合成数据 it's \"quoted\""

