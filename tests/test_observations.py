"""Catalogue measures get storage (issue 10 §3): the long table of observations.

Every test runs on a real DuckDB file (``fresh_store``: the seed, batch 1). Observations follow the batch
semantics of the registry tables: history, undo (with dependents), as-of views and data_version; ``measure_values``
reads them together with the registry tables' values; sums roll up to parents without a value of their own.
"""

from __future__ import annotations

import gzip
import shutil

import pandas as pd
import pytest

from lawstats import seed, storage
from lawstats.errors import UndoRefused, ValidationFailed
from lawstats.importer import ImportOptions, prepare_import
from lawstats.reader import read_csv_bytes
from tests.conftest import ROOT

OLD_DB = ROOT / "tests" / "files" / "db_before_observations.duckdb.gz"
NEW_VILLAGES = "名称,级别,上级\n东村,村,西堡镇\n西村,村,西堡镇\n"
# Tests on a store fixture run on each store (DuckDB file, SQLite- and PostgreSQL-catalog lake: tests/conftest.py).
pytestmark = pytest.mark.every_store


def region_id(store, name: str) -> int:
    regions = storage.regions(store)
    return int(regions.loc[regions["name"] == name, "region_id"].iloc[0])


def observations(*rows) -> pd.DataFrame:
    """Rows of (region_id, year, measure_id, item_id, value)."""
    return pd.DataFrame(rows, columns=["region_id", "year", "measure_id", "item_id", "value"])


def commit(store, frame: pd.DataFrame, name: str = "obs.csv", **kw) -> int:
    return storage.commit_batch(store, storage.NewBatch(file_name=name, source="测试 test", observations=frame, **kw))


def commit_csv(store, name: str, text: str) -> int:
    data = text.encode("utf-8")
    prepared = prepare_import(storage.regions(store), [(name, read_csv_bytes(data))],
                              ImportOptions(source="测试 test", user_name="tester"), storage.sha256_of(data))
    return storage.commit_batch(store, prepared.batch)


def value_of(frame: pd.DataFrame, measure_id: str, item_id: str = "", year: int | None = None):
    rows = frame[(frame["measure_id"] == measure_id) & (frame["item_id"] == item_id)]
    if year is not None:
        rows = rows[rows["year"] == year]
    return None if rows.empty else float(rows["value"].iloc[0])


@pytest.fixture
def town(fresh_store) -> int:
    return region_id(fresh_store, "西堡镇")


# -- batches: commit, history, data_version, undo, as-of ------------------------------------------------


def test_a_committed_observation_is_current_counted_and_survives_reopening(fresh_store, town, seeded_store):
    before = storage.data_version(fresh_store)
    batch = commit(fresh_store, observations((town, 2024, "publicity_events", "", 68),
                                             (town, 2024, "materials_distributed", "", 40000)))
    assert storage.data_version(fresh_store) == batch > before
    history = storage.list_batches(fresh_store)
    assert '"observations": 2' in history.loc[history["batch_id"] == batch, "row_counts"].iloc[0]
    fresh_store.close()
    reopened = seed.open_store(seeded_store.spec)
    try:
        values = storage.measure_values(reopened, [town], [2024])
        assert value_of(values, "publicity_events") == 68
        assert value_of(values, "materials_distributed") == 40000
        row = values[values["measure_id"] == "publicity_events"].iloc[0]
        assert (row["batch_id"], row["source"], bool(row["rolled"])) == (batch, "测试 test", False)
    finally:
        reopened.close()


def test_a_later_batch_replaces_a_value_and_undoing_it_brings_the_earlier_one_back(fresh_store, town):
    first = commit(fresh_store, observations((town, 2024, "publicity_events", "", 68)))
    second = commit(fresh_store, observations((town, 2024, "publicity_events", "", 70),
                                              (town, 2024, "people_reached", "", 5000)))
    now = storage.measure_values(fresh_store, [town], [2024])
    assert (value_of(now, "publicity_events"), value_of(now, "people_reached")) == (70, 5000)
    event = storage.undo_batch(fresh_store, second, user_name="tester")
    after = storage.measure_values(fresh_store, [town], [2024])
    assert value_of(after, "publicity_events") == 68 and value_of(after, "people_reached") is None
    assert storage.data_version(fresh_store) == event
    # As of each batch: the data as it was right after it.
    assert value_of(storage.measure_values_as_of(fresh_store, first, [town]), "publicity_events") == 68
    assert value_of(storage.measure_values_as_of(fresh_store, second, [town]), "publicity_events") == 70
    assert value_of(storage.measure_values_as_of(fresh_store, 1, [town]), "publicity_events") is None
    assert value_of(storage.measure_values_as_of(fresh_store, None, [town]), "publicity_events") == 68
    storage.undo_batch(fresh_store, first)
    assert value_of(storage.measure_values(fresh_store, [town]), "publicity_events") is None


def test_the_as_of_view_includes_registry_values_of_that_time(fresh_store, town):
    commit_csv(fresh_store, "pop.csv", "地区,年份,户籍人口\n西堡镇,2024,30000\n")
    seed_values = storage.measure_values_as_of(fresh_store, 1, [town], [2024])
    now = storage.measure_values_as_of(fresh_store, None, [town], [2024])
    assert value_of(seed_values, "registered_persons") != 30000
    assert value_of(now, "registered_persons") == 30000


def test_observations_in_a_new_region_make_their_batch_a_dependent_of_the_region_batch(fresh_store):
    regions_batch = commit_csv(fresh_store, "regions.csv", NEW_VILLAGES)
    east = region_id(fresh_store, "东村")
    figures = commit(fresh_store, observations((east, 2024, "publicity_events", "", 5)))
    assert list(storage.dependent_batches(fresh_store, regions_batch)["batch_id"]) == [figures]
    with pytest.raises(UndoRefused):
        storage.undo_batch(fresh_store, regions_batch)
    storage.undo_batch(fresh_store, regions_batch, confirmed_dependents=[figures])
    assert storage.measure_values(fresh_store, [east]).empty
    assert fresh_store.query_rows("SELECT count(*) FROM cur_observations")[0][0] == 0


def test_new_regions_with_temporary_ids_get_their_observations(fresh_store, town):
    regions = pd.DataFrame({"region_id": [-1], "name": ["北村"], "level": ["village"], "parent_id": [town],
                            "code": [None]})
    commit(fresh_store, observations((-1, 2024, "publicity_events", "", 3)), regions=regions)
    north = region_id(fresh_store, "北村")
    assert north > 0 and value_of(storage.measure_values(fresh_store, [north]), "publicity_events") == 3
    assert storage.region_info(fresh_store, north)["own_data"]


def test_breakdown_items_and_texts_are_stored_per_item(fresh_store, town):
    frame = observations((town, 2024, "publicity_events", "square", 20), (town, 2024, "publicity_events", "", 68),
                         (town, 2024, "disputes_resolved_by_level", "village", 30))
    commit(fresh_store, frame)
    values = storage.measure_values(fresh_store, [town], [2024])
    assert value_of(values, "publicity_events", "square") == 20
    assert value_of(values, "publicity_events") == 68
    assert value_of(values, "disputes_resolved_by_level", "village") == 30


# -- validation --------------------------------------------------------------------------------------------


def test_every_problem_is_refused_together_and_nothing_is_written(fresh_store, town):
    before = storage.data_version(fresh_store)
    frame = observations(
        (town, 2024, "no_such_measure", "", 1),
        (town, 2024, "registered_persons", "", 100),  # a registry column: it belongs in the population table
        (town, 2024, "publicity_events", "", -5),  # below the range
        (town, 2024, "disputes_resolved_by_level", "planet", 3),  # not an item of a closed breakdown
        (town, 2024, "materials_distributed", "leaflets", 3),  # an item for a measure without breakdown
        (town, 2024, "people_reached", "", None),  # no value
        (town, 2024, "publicity_squads", "", 2), (town, 2024, "publicity_squads", "", 3),  # twice
    )
    with pytest.raises(ValidationFailed) as caught:
        commit(fresh_store, frame)
    problems = caught.value.details
    assert list(problems["problem"].str.removeprefix("error.observation_")) == [
        "unknown_measure", "registry_measure", "out_of_range", "unknown_item", "no_breakdown", "no_value",
        "duplicate"]
    assert list(problems["row"]) == [0, 1, 2, 3, 4, 5, 7]
    assert storage.data_version(fresh_store) == before
    assert fresh_store.query_rows("SELECT count(*) FROM fact_observations")[0][0] == 0


def test_the_message_names_measure_region_year_and_value_in_both_languages(fresh_store, town):
    with pytest.raises(ValidationFailed) as caught:
        commit(fresh_store, observations((town, 2024, "publicity_events", "", -5)))
    zh, en = caught.value.message("zh"), caught.value.message("en")
    for text in (zh, en):
        assert "西堡镇" in text and "2024" in text and "-5" in text
    assert "普法宣传活动场次" in zh and "0–100000000" in zh
    assert "outside the allowed range" in en


def test_an_open_breakdown_takes_items_the_catalogue_does_not_list(fresh_store, town):
    commit(fresh_store, observations((town, 2024, "publicity_events", "庙会宣传", 4)))
    assert value_of(storage.measure_values(fresh_store, [town]), "publicity_events", "庙会宣传") == 4


# -- measure_values: observations and registry values together --------------------------------------------


def test_measure_values_unpivots_the_registry_tables_with_their_provenance(fresh_store, town):
    commit(fresh_store, observations((town, 2024, "publicity_events", "", 68)))
    values = storage.measure_values(fresh_store, [town], [2024])
    assert list(values.columns) == storage.MEASURE_VALUE_COLUMNS
    persons = storage.table_rows(fresh_store, storage.TABLES_BY_ID["population"], [town], [2024])
    assert value_of(values, "registered_persons") == float(persons["registered_persons"].iloc[0])
    registered = values[values["measure_id"] == "registered_persons"].iloc[0]
    assert registered["source"] and registered["section"] and registered["sentence"] is None
    # Training comes per programme: the item is the programme's name; its kind is a text value.
    training = storage.table_rows(fresh_store, storage.TABLES_BY_ID["training"], [town], [2024])
    programme = training["programme"].iloc[0]
    assert value_of(values, "participation_rate_stated", programme) == float(
        training["participation_rate_stated"].iloc[0])
    kinds = values[(values["measure_id"] == "programme_kind") & (values["item_id"] == programme)]
    assert list(kinds["text_value"]) == [training["programme_kind"].iloc[0]]
    # A list column becomes text; nothing null is listed.
    assert values.loc[values["measure_id"] == "ethnic_groups", "text_value"].iloc[0].startswith("汉")
    assert values["value"].notna().sum() + values["text_value"].notna().sum() == len(values)
    assert value_of(values, "publicity_events") == 68
    assert storage.measure_years(fresh_store, town) == sorted(set(values["year"]) | {2024})


def test_measure_values_filters_regions_and_years(fresh_store, town):
    commit(fresh_store, observations((town, 2023, "publicity_events", "", 50),
                                     (town, 2024, "publicity_events", "", 68)))
    assert set(storage.measure_values(fresh_store, [town], [2023])["year"]) == {2023}
    assert storage.measure_values(fresh_store, [999_999]).empty
    assert 2023 in storage.measure_years(fresh_store, town)


# -- rollup --------------------------------------------------------------------------------------------------


def test_a_parent_without_its_own_value_gets_the_sum_of_its_children_flagged_rolled(fresh_store, town):
    commit_csv(fresh_store, "regions.csv", NEW_VILLAGES)
    east, west = region_id(fresh_store, "东村"), region_id(fresh_store, "西村")
    commit(fresh_store, pd.DataFrame({
        "region_id": [east, west, east], "year": [2024, 2024, 2024],
        "measure_id": ["publicity_events", "publicity_events", "altitude_m"], "item_id": ["", "", "mean"],
        "value": [3, 4, 2600], "approx": [False, True, False], "source": ["东村报告", "西村报告", "东村报告"]}))
    county = region_id(fresh_store, "湟中区")
    values = storage.measure_values(fresh_store, [town, county], [2024])
    rolled = values[values["rolled"]]
    for parent in (town, county):
        row = rolled[(rolled["region_id"] == parent) & (rolled["measure_id"] == "publicity_events")]
        assert float(row["value"].iloc[0]) == 7 and bool(row["approx"].iloc[0])
        assert row["source"].iloc[0] == "东村报告；西村报告"
    assert "altitude_m" not in set(rolled["measure_id"])  # rollup "none": never summed
    # Registry figures roll up as the other pages show them: the county's only child is the town.
    town_persons = value_of(values[values["region_id"] == town], "registered_persons", year=2024)
    county_persons = rolled[(rolled["region_id"] == county) & (rolled["measure_id"] == "registered_persons")]
    assert list(county_persons["value"]) == [town_persons]
    assert not ((rolled["region_id"] == town) & (rolled["measure_id"] == "registered_persons")).any()
    # Once the town reports its own value, that is its value, and the county sums the town, not the villages.
    commit(fresh_store, observations((town, 2024, "publicity_events", "", 10)))
    values = storage.measure_values(fresh_store, [town, county], [2024])
    own = values[(values["region_id"] == town) & (values["measure_id"] == "publicity_events")]
    assert list(own["value"]) == [10] and not own["rolled"].any()
    county_row = values[(values["region_id"] == county) & (values["measure_id"] == "publicity_events")]
    assert list(county_row["value"]) == [10] and county_row["rolled"].all()
    assert 2024 in storage.measure_years(fresh_store, county)


# -- the database of the version before observations ----------------------------------------------------------


def test_a_database_from_before_observations_migrates_and_keeps_every_batch_and_value(tmp_path):
    # a DuckDB file only: it is a kept .duckdb from before the migration (a lake starts at today's schema)
    path = tmp_path / "old.duckdb"
    with gzip.open(OLD_DB) as packed, open(path, "wb") as out:
        shutil.copyfileobj(packed, out)
    import duckdb

    old = duckdb.connect(str(path), read_only=True)
    old_batches = old.execute("SELECT batch_id, kind, file_name, row_counts FROM batches ORDER BY 1").fetchall()
    old_facts = {t.id: old.execute(f"SELECT * EXCLUDE (batch_id) FROM cur_{t.id} ORDER BY ALL").fetchall()
                 for t in storage.TABLES}
    old.close()
    assert not any(name == "fact_observations" for name in old_facts)

    store = storage.Store(path)
    try:
        applied = store.query_rows("SELECT name FROM schema_migrations ORDER BY name")
        assert [r[0] for r in applied] == ["001_initial", "002_observations"]
        assert store.query_rows("SELECT batch_id, kind, file_name, row_counts FROM batches ORDER BY 1") == old_batches
        for table in storage.TABLES:
            assert store.query_rows(f"SELECT * EXCLUDE (batch_id) FROM cur_{table.id} ORDER BY ALL") == \
                old_facts[table.id]
        town = region_id(store, "西堡镇")
        batch = commit(store, observations((town, 2025, "publicity_events", "", 12)))
        assert batch == 3
        values = storage.measure_values(store, [town], [2025])
        assert value_of(values, "publicity_events") == 12
        assert value_of(values, "registered_persons") is not None  # the upload of batch 2
    finally:
        store.close()
    again = storage.Store(path)  # migrating is idempotent
    try:
        assert again.query_rows("SELECT count(*) FROM schema_migrations")[0][0] == 2
    finally:
        again.close()


# -- file import: a header naming a catalogue measure is stored, not listed as unknown ------------------------

MEASURES_CSV = "地区,年份,普法宣传活动场次,宣传资料\n西堡镇,2024,68,4万余\n"
MIXED_CSV = "地区,年份,户籍人口,普法宣传场次,备注栏\n西堡镇,2025,25000,70,见报告\n"


def test_an_upload_of_catalogue_measures_only_is_recognised_previewed_and_stored(fresh_store, town):
    from lawstats import uploads

    upload = uploads.inspect_file(fresh_store, "publicity.csv", MEASURES_CSV.encode("utf-8"))
    assert upload.ready and upload.unknown_columns == [] and upload.tables == ["observations"]
    assert upload.measure_columns == {"publicity.csv": [("普法宣传活动场次", "publicity_events"),
                                                        ("宣传资料", "materials_distributed")]}
    assert "宣传资料 → 发放宣传资料份数" in uploads.measure_columns_text(upload.measure_columns["publicity.csv"], "zh")
    assert uploads.batch_row_counts(upload) == {"observations": 2}
    assert uploads.row_counts_text(uploads.batch_row_counts(upload), "zh") == "指标项 2 行"
    batch = uploads.commit_upload(fresh_store, upload, user_name="tester")
    values = storage.measure_values(fresh_store, [town], [2024])
    assert value_of(values, "publicity_events") == 68 and value_of(values, "materials_distributed") == 40000
    materials = values[values["measure_id"] == "materials_distributed"].iloc[0]
    assert bool(materials["approx"]) and materials["source"] == "publicity.csv" and materials["batch_id"] == batch


def test_a_catalogue_column_beside_a_table_is_stored_and_only_the_rest_is_unknown(fresh_store, town):
    from lawstats import uploads

    upload = uploads.inspect_file(fresh_store, "mixed.csv", MIXED_CSV.encode("utf-8"))
    assert upload.tables == ["population"] and upload.unknown_columns == ["备注栏"]
    assert uploads.batch_row_counts(upload) == {"population": 1, "observations": 1}
    uploads.commit_upload(fresh_store, upload, user_name="tester")
    values = storage.measure_values(fresh_store, [town], [2025])
    assert value_of(values, "publicity_events") == 70 and value_of(values, "registered_persons") == 25000


def test_catalogue_cells_are_checked_like_table_cells_naming_row_and_column(fresh_store):
    from lawstats import uploads

    text = "地区,年份,普法宣传活动场次\n西堡镇,2023,abc\n西堡镇,2024,-3\n西堡镇,2022,2.5\n"
    with pytest.raises(ValidationFailed) as caught:
        uploads.inspect_file(fresh_store, "bad.csv", text.encode("utf-8"))
    details = caught.value.details
    assert list(zip(details["row"], details["column"], details["kind"])) == [
        (2, "普法宣传活动场次", "not_a_number"), (3, "普法宣传活动场次", "negative"),
        (4, "普法宣传活动场次", "not_integer")]
    assert fresh_store.query_rows("SELECT count(*) FROM fact_observations")[0][0] == 0


def test_the_cli_imports_a_catalogue_column_and_says_which_measure_it_is(capsys, seeded_db, tmp_path):
    from lawstats import cli

    path = tmp_path / "publicity.csv"
    path.write_text(MEASURES_CSV, encoding="utf-8")
    code = cli.main(["--db", str(seeded_db), "import", str(path), "--user", "tester"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "普法宣传活动场次 → 普法宣传活动场次" in out and "指标项 2 行" in out
    store = storage.Store(seeded_db)
    try:
        values = storage.measure_values(store, [region_id(store, "西堡镇")], [2024])
        assert value_of(values, "publicity_events") == 68
    finally:
        store.close()
