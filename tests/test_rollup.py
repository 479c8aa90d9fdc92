"""Rollups and the region hierarchy on a small synthetic county (tests/scale_data.py).

The generated CSVs are the oracle: sums of villages and townships are recomputed from them in pandas and
compared with what the store says. Rules checked: only counts and areas add up; a sum exists only where every
child has the figure; a region's own figure is what it shows, and a differing complete sum is flagged, not
preferred; rates are recomputed from summed counts; commits and undos refresh exactly what a full rebuild gives.
"""

from __future__ import annotations

import math
import random

import duckdb
import pandas as pd
import pytest

from lawstats import cli, indicators, storage, summary
from lawstats.errors import DatabaseError
from tests import stores
from tests.scale_data import YEARS, County, make_county, villages_of

DERIVED = ["cur_population", "cur_land", "cur_grid", "cur_training", "cur_governance", "cur_regions", "region_tree",
           "sum_training", "roll_population", "roll_land", "roll_grid", "roll_training", "roll_governance",
           "eff_inputs"]


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> County:
    return make_county(tmp_path_factory.mktemp("rollup"))


@pytest.fixture(scope="module")
def _county_lakes() -> dict[str, stores.StoreSetting]:
    return {}


@pytest.fixture
def county_store(store_kind, county, request, tmp_path_factory, _county_lakes) -> stores.StoreSetting:
    """The county on this test's kind of store (tests/conftest.py), imported once per module through the CLI as
    ``make_county`` does; tests on ``store`` only read it, ``scratch`` gives a copy."""
    if store_kind == "duckdb":
        return stores.duckdb_setting(county.db)
    if store_kind not in _county_lakes:
        pg = request.getfixturevalue("pg_cluster") if store_kind == "postgres_lake" else None
        made = stores.new_store(store_kind, tmp_path_factory.mktemp(f"county-{store_kind}"),
                                f"county_{random.randrange(10**9)}", pg)
        with stores.environment(made.env):
            assert cli.main(["import", str(county.data)]) == 0
        _county_lakes[store_kind] = made
    return _county_lakes[store_kind]


@pytest.fixture
def store(county_store):
    s = storage.Store(county_store.spec)
    yield s
    s.close()


def region_ids(store) -> dict[str, int]:
    tree = store.query_df("SELECT region_id, code FROM region_tree WHERE code IS NOT NULL")
    return dict(zip(tree["code"], tree["region_id"].astype(int)))


def village_sums(county: County, table: str, column: str) -> pd.DataFrame:
    """Per township code and year: the sum of its villages' column, and whether every village has it."""
    rows = county.csv(table).merge(villages_of(county), left_on="统计用区划代码", right_on="code")
    grouped = rows.groupby(["township_code", "年份"])[column]
    return pd.DataFrame({"sum": grouped.sum(min_count=1), "complete": grouped.count() == grouped.size()})


def township_rows(county: County, table: str) -> pd.DataFrame:
    frame = county.csv(table)
    return frame[frame["地区"].str.startswith("合成镇")].set_index(["统计用区划代码", "年份"])


def effective(store, region_id: int, column: str) -> dict[int, float]:
    inputs = storage.indicator_inputs(store, [region_id])
    return {int(y): (float(v) if v is not None and not pd.isna(v) else math.nan)
            for y, v in zip(inputs["year"], inputs[column])}


# ---------------------------------------------------------------------------------------------------------
# The hierarchy


def test_region_tree_paths_children_and_search(store, county):
    ids = region_ids(store)
    regions = county.regions()
    township = regions[regions["级别"] == "乡镇（街道）"].iloc[3]
    path = storage.region_path(store, ids[township["统计用区划代码"]])
    assert list(path["level"]) == ["province", "city", "county", "township"]
    assert list(path["name"])[-1] == township["名称"]
    county_id = int(path["region_id"].iloc[2])
    assert len(storage.tree_children(store, county_id)) == 15
    assert len(storage.tree_children(store, ids[township["统计用区划代码"]])) == \
        int((regions["上级"] == township["统计用区划代码"]).sum())
    roots = storage.tree_children(store, storage.ROOT_ID)
    assert set(roots["name"]) == {"青海省", "合成省01"}
    assert storage.descendant_counts(store, county_id) == {"township": 15, "village": 225}
    found = storage.search_regions(store, township["名称"][-3:])
    assert township["名称"] in set(found["name"])
    by_code = storage.search_regions(store, township["统计用区划代码"][:9])
    assert len(by_code) == 20 and by_code["code"].str.startswith(township["统计用区划代码"][:9]).all()
    tid = ids[township["统计用区划代码"]]
    assert storage.find_region_id(store, str(tid)) == tid
    assert storage.find_region_id(store, township["统计用区划代码"]) == tid
    assert storage.find_region_id(store, township["名称"]) == tid
    assert storage.find_region_id(store, "不存在的地区") is None


def test_default_region_prefers_real_data(store):
    default = summary.default_region(store)
    assert storage.region_info(store, default)["name"] == "西堡镇"


# ---------------------------------------------------------------------------------------------------------
# Sums


@pytest.mark.every_store  # also on each lake (tests/conftest.py)
def test_township_sums_of_villages_match_the_files(store, county):
    ids = region_ids(store)
    expected = village_sums(county, "population", "户籍人口")
    for (code, year), row in expected.iterrows():
        status = storage.rollup_status(store, ids[code], [int(year)])
        got = status[status["column_id"] == "registered_persons"].iloc[0]
        assert got["children_sum"] == row["sum"]
        assert got["children_with_value"] == got["n_children"]


@pytest.mark.every_store  # also on each lake (tests/conftest.py)
def test_disagreeing_townships_are_flagged_with_both_values(store, county):
    ids = region_ids(store)
    sums = village_sums(county, "population", "户籍人口")
    own = township_rows(county, "population")["户籍人口"]
    differ = [(code, int(year)) for (code, year), s in sums["sum"].items() if own[(code, year)] != s]
    assert differ, "the synthetic county is meant to hold a few disagreeing township-years"
    flagged = []
    for code, _ in {(c, None) for c, _ in differ}:
        status = storage.rollup_status(store, ids[code])
        rows = status[(status["column_id"] == "registered_persons") & (status["status"] == "disagree")]
        flagged += [(code, int(y)) for y in rows["year"]]
        for r in rows.itertuples():
            assert r.own == own[(code, r.year)] and r.children_sum == sums["sum"][(code, r.year)]
    assert sorted(flagged) == sorted(differ)
    # the township shows what it reported, never silently the sum
    code, year = differ[0]
    assert effective(store, ids[code], "registered_persons")[year] == own[(code, year)]
    # and the many-regions check finds the same ones
    many = storage.rollup_disagreements(store, [ids[c] for c, _ in differ], year)
    assert ids[code] in set(many["region_id"])


def test_county_sums_its_townships_own_reports(store, county):
    ids = region_ids(store)
    townships = township_rows(county, "population").reset_index()
    per_year = townships.groupby("年份")["户籍人口"].sum()
    county_code = county.regions().query("级别 == '县（区）'")["统计用区划代码"].iloc[0]
    got = effective(store, ids[county_code], "registered_persons")
    assert got == {int(y): float(v) for y, v in per_year.items()}


def test_incomplete_children_give_no_sum(store, county):
    """The last village lacks its forest area in the first year: its township, county and everything above
    have no forest total that year, and do in the other years."""
    ids = region_ids(store)
    sums = village_sums(county, "land", "林地面积（亩）")
    incomplete = sums[~sums["complete"]]
    assert len(incomplete) == 1
    (code, year), row = next(iter(incomplete.iterrows()))
    assert int(year) == YEARS[0]
    path = storage.region_path(store, ids[code])
    for region_id in path["region_id"]:
        values = effective(store, int(region_id), "forest_area")
        assert math.isnan(values[YEARS[0]]), int(region_id)
        assert all(not math.isnan(values[y]) for y in YEARS[1:])
    township_forest = effective(store, ids[code], "forest_area")
    assert township_forest[YEARS[1]] == pytest.approx(sums["sum"][(code, YEARS[1])], abs=1e-6)
    status = storage.rollup_status(store, ids[code], [YEARS[0]])
    assert status.set_index("column_id").loc["forest_area", "status"] == "incomplete"
    assert status.set_index("column_id").loc["cultivated_area", "status"] == "rolled_up"


@pytest.mark.every_store  # also on each lake (tests/conftest.py)
def test_rates_are_recomputed_from_summed_counts_and_stated_rates_do_not_roll_up(store, county):
    ids = region_ids(store)
    county_code = county.regions().query("级别 == '县（区）'")["统计用区划代码"].iloc[0]
    inputs = storage.indicator_inputs(store, [ids[county_code]], [2024])
    values = indicators.compute(inputs).iloc[0]
    townships = township_rows(county, "population").xs(2024, level="年份")
    assert values["household_size"] == pytest.approx(townships["户籍人口"].sum() / townships["户籍户数"].sum())
    assert math.isnan(inputs["minority_share_stated"].iloc[0])  # a stated rate never adds up
    training = county.csv("training")
    exams = training[(training["类型"] == "考试") & (training["年份"] == 2024)]
    assert inputs["exam_required"].iloc[0] == exams["应参加人数"].sum()
    assert values["exam_participation_rate"] == pytest.approx(
        100 * exams["实际参加人数"].sum() / exams["应参加人数"].sum())
    assert math.isnan(inputs["study_rate_stated_min"].iloc[0])
    assert math.isnan(values["study_completion_rate"])  # one study programme has only a stated rate


# ---------------------------------------------------------------------------------------------------------
# Commits and undos refresh what they touch, with the semantics of a full rebuild


def snapshot(store) -> dict[str, pd.DataFrame]:
    out = {}
    for name in DERIVED:
        frame = store.query_df(f"SELECT * FROM {name}")
        keys = [c for c in ("region_id", "year", "programme") if c in frame.columns]
        out[name] = frame.sort_values(keys).reset_index(drop=True)
    return out


def full_rebuild(store) -> None:
    with store.writing() as con:  # on a lake read through a replica: the lake, then the replica takes it in
        con.execute("BEGIN TRANSACTION")
        for table in storage.TABLES:
            cols = ", ".join(storage.ident(c) for c in storage._current_columns(table))
            con.execute(f"DELETE FROM {storage.current_table(table)}")
            con.execute(f"INSERT INTO {storage.current_table(table)} ({cols}) {storage._current_select(table)}",
                        {"as_of": 2**31 - 1})
        con.execute("DELETE FROM cur_regions")
        con.execute("INSERT INTO cur_regions " + storage._REGIONS_SELECT, {"as_of": 2**31 - 1})
        storage.rebuild_scale_tables(con)
        con.execute("COMMIT")


def assert_same_as_full_rebuild(store) -> None:
    incremental = snapshot(store)
    full_rebuild(store)
    rebuilt = snapshot(store)
    for name in DERIVED:
        pd.testing.assert_frame_equal(incremental[name], rebuilt[name], check_dtype=False, obj=name)


def population_row(region_id: int, year: int, **values) -> pd.DataFrame:
    return pd.DataFrame([{"region_id": region_id, "year": year, **values, "source": "合成数据（仅供测试）",
                          "section": None, "approx": []}])


@pytest.fixture
def scratch(county_store, store_kind, request, tmp_path):
    """A copy of the county store that a test may change."""
    pg = request.getfixturevalue("pg_cluster") if store_kind == "postgres_lake" else None
    copy = stores.new_store(store_kind, tmp_path, f"scratch{random.randrange(10**9)}", pg, template=county_store)
    request.addfinalizer(lambda: stores.drop_lake_database(copy))
    s = storage.Store(copy.spec)
    yield s
    s.close()


@pytest.mark.every_store  # also on each lake (tests/conftest.py)
def test_a_village_correction_moves_its_sums_and_undo_restores_them(scratch, county):
    ids = region_ids(scratch)
    village = villages_of(county).iloc[0]
    village_id, township_id = ids[village["code"]], ids[village["township_code"]]
    before = storage.rollup_status(scratch, township_id, [2024]).set_index("column_id")
    old_sum = before.loc["resident_persons", "children_sum"]
    old_value = scratch.query_rows("SELECT resident_persons FROM cur_population WHERE region_id = ? AND year = 2024",
                                   [village_id])[0][0]
    correction = population_row(village_id, 2024, resident_persons=old_value - 5)
    batch = storage.commit_batch(scratch, storage.NewBatch(file_name="correction.csv", rows={"population": correction}))
    after = storage.rollup_status(scratch, township_id, [2024]).set_index("column_id")
    assert after.loc["resident_persons", "children_sum"] == old_sum - 5
    assert_same_as_full_rebuild(scratch)
    storage.undo_batch(scratch, batch)
    restored = storage.rollup_status(scratch, township_id, [2024]).set_index("column_id")
    assert restored.loc["resident_persons", "children_sum"] == old_sum
    assert_same_as_full_rebuild(scratch)


def test_a_batch_of_only_new_keys_gives_what_a_full_rebuild_gives(scratch, county):
    """New keys (here a new year for two villages) skip the per-key recomputation: same result, and a later
    correction of one of them takes the general path again."""
    ids = region_ids(scratch)
    first, second = (ids[code] for code in villages_of(county)["code"].iloc[:2])
    rows = pd.concat([population_row(first, 2031, resident_persons=100), population_row(second, 2031,
                                                                                        resident_persons=200)])
    batch = storage.commit_batch(scratch, storage.NewBatch(file_name="new_year.csv", rows={"population": rows}))
    assert not storage._shares_keys(scratch.cursor(), storage.TABLES_BY_ID["population"], batch)
    assert_same_as_full_rebuild(scratch)
    correction = storage.commit_batch(scratch, storage.NewBatch(
        file_name="fix.csv", rows={"population": population_row(first, 2031, resident_persons=150)}))
    assert storage._shares_keys(scratch.cursor(), storage.TABLES_BY_ID["population"], correction)
    assert scratch.query_rows("SELECT resident_persons FROM cur_population WHERE region_id = ? AND year = 2031",
                              [first]) == [(150,)]
    assert_same_as_full_rebuild(scratch)
    storage.undo_batch(scratch, correction)
    assert scratch.query_rows("SELECT resident_persons FROM cur_population WHERE region_id = ? AND year = 2031",
                              [first]) == [(100,)]
    assert_same_as_full_rebuild(scratch)


def test_a_large_correction_recomputed_in_region_slices_gives_what_a_full_rebuild_gives(scratch, county,
                                                                                        monkeypatch):
    """Every village's 2024 figure corrected at once, its keys recomputed 7 at a time (a national correction
    goes 500,000 at a time); then undone."""
    monkeypatch.setattr(storage.derived, "REFRESH_SLICE_KEYS", 7)  # the module that reads it
    ids = region_ids(scratch)
    current = scratch.query_df("SELECT region_id, resident_persons FROM cur_population WHERE year = 2024")
    villages = [ids[code] for code in villages_of(county)["code"]]
    rows = current[current["region_id"].isin(villages)]
    assert len(rows) > 20
    batch = storage.commit_batch(scratch, storage.NewBatch(file_name="fix_all.csv", rows={"population": pd.concat(
        [population_row(int(r.region_id), 2024, resident_persons=int(r.resident_persons) - 1)
         for r in rows.itertuples()])}))
    assert len(storage._region_slices(scratch.cursor(), "_keys", storage.derived.REFRESH_SLICE_KEYS)) > 2
    after = scratch.query_df("SELECT region_id, resident_persons FROM cur_population WHERE year = 2024")
    merged = rows.merge(after, on="region_id", suffixes=("_before", "_after"))
    assert (merged["resident_persons_after"] == merged["resident_persons_before"] - 1).all()
    assert_same_as_full_rebuild(scratch)
    storage.undo_batch(scratch, batch)
    assert_same_as_full_rebuild(scratch)
    restored = scratch.query_df("SELECT region_id, resident_persons FROM cur_population WHERE year = 2024")
    pd.testing.assert_frame_equal(restored.sort_values("region_id").reset_index(drop=True),
                                  current.sort_values("region_id").reset_index(drop=True))


def test_a_new_child_without_figures_makes_the_parent_incomplete_until_undone(scratch, county):
    ids = region_ids(scratch)
    township_code = villages_of(county).iloc[0]["township_code"]
    township_id = ids[township_code]
    assert not math.isnan(effective(scratch, township_id, "cultivated_area")[2024])
    regions = pd.DataFrame([{"region_id": -1, "name": "合成村新设", "level": "village", "parent_id": township_id,
                             "code": None}])
    batch = storage.commit_batch(scratch, storage.NewBatch(file_name="regions.csv", regions=regions, synthetic=True))
    assert math.isnan(effective(scratch, township_id, "cultivated_area")[2024])  # no own figure, sum incomplete
    status = storage.rollup_status(scratch, township_id, [2024]).set_index("column_id")
    assert status.loc["registered_persons", "status"] == "own_only"  # its own report still shows
    assert_same_as_full_rebuild(scratch)
    storage.undo_batch(scratch, batch)
    assert not math.isnan(effective(scratch, township_id, "cultivated_area")[2024])
    assert_same_as_full_rebuild(scratch)


@pytest.mark.every_store  # also on each lake (tests/conftest.py)
def test_undoing_the_whole_import_leaves_the_default_data_alone(scratch):
    before = storage.indicator_inputs(scratch, [summary.default_region(scratch)])
    synthetic = storage.list_batches(scratch).query("kind == 'import' and synthetic")["batch_id"].iloc[0]
    storage.undo_batch(scratch, int(synthetic))
    assert scratch.query_rows("SELECT count(*) FROM region_tree WHERE name LIKE '合成%'")[0][0] == 0
    assert storage.tree_children(scratch, storage.ROOT_ID)["name"].tolist() == ["青海省"]
    pd.testing.assert_frame_equal(storage.indicator_inputs(scratch, [summary.default_region(scratch)]), before)
    assert_same_as_full_rebuild(scratch)


@pytest.mark.every_store  # also on each lake (tests/conftest.py)
def test_leaf_inputs_are_unchanged_by_the_rollups(store):
    """A region without children reads exactly its own rows, as before rollups existed."""
    xibao = storage.find_region_id(store, "西堡镇")
    inputs = storage.indicator_inputs(store, [xibao], [2024]).iloc[0]
    assert inputs["registered_persons"] == 25218
    assert inputs["minority_share_stated"] == pytest.approx(0.64)
    assert inputs["study_rate_stated_min"] == 100.0


# ---------------------------------------------------------------------------------------------------------
# The stored inputs of regions with subdivisions (``eff_inputs``): what a comparison of many regions reads


def computed_compare_inputs(store, scope_id: int, level: str, years: list[int]) -> pd.DataFrame:
    """What ``compare_inputs`` gave before the inputs were stored: every member's inputs computed from the
    current and rollup tables, with its names."""
    derived = storage.derived
    members = derived._descendants_sql(storage.region_info(store, scope_id)["level"])
    sql = f"""
        WITH inputs AS ({derived._inputs_sql(f"SELECT region_id FROM ({members})", years, figures_only=True)})
        SELECT t.name, t.code, p.name AS parent_name, inputs.*
        FROM inputs JOIN region_tree t USING (region_id) LEFT JOIN region_tree p ON p.region_id = t.parent_id"""
    params = {"scope": scope_id, "level": level, **derived._year_params(years)}
    return store.query_df(sql, derived._used(sql, params))


def assert_compare_inputs_as_computed(store, scope_id: int, level: str, years: list[int]) -> None:
    ours = storage.compare_inputs(store, scope_id, level, years)
    theirs = computed_compare_inputs(store, scope_id, level, years)
    assert len(ours) > 0
    assert list(ours.columns) == list(theirs.columns)
    # the same numbers; a whole-number column with gaps may come as floats (read through Arrow) where the
    # DataFrame conversion gives a nullable integer, which the formulas read alike
    pd.testing.assert_frame_equal(ours.sort_values(["region_id", "year"]).reset_index(drop=True),
                                  theirs.sort_values(["region_id", "year"]).reset_index(drop=True),
                                  check_dtype=False, obj=f"compare_inputs({scope_id}, {level})")
    assert all(pd.api.types.is_numeric_dtype(ours[c]) for c in theirs.columns
               if pd.api.types.is_numeric_dtype(theirs[c]))


def synthetic_county(store) -> int:
    return int(store.query_rows("SELECT region_id FROM region_tree WHERE level = 'county' AND name LIKE '合成县%' "
                                "ORDER BY region_id LIMIT 1")[0][0])


@pytest.mark.every_store  # also on each lake (tests/conftest.py)
def test_compare_inputs_read_from_the_stored_inputs_equal_the_computed_ones(store):
    synthetic = synthetic_county(store)
    assert storage.descendant_counts(store, synthetic)["village"] > 20
    for scope, level in [(storage.ROOT_ID, "township"), (storage.ROOT_ID, "village"), (storage.ROOT_ID, "county"),
                         (synthetic, "township"), (synthetic, "village")]:
        for years in ([2024], [2022, 2024]):
            assert_compare_inputs_as_computed(store, scope, level, years)
    # the stored rows are those of the regions with subdivisions only
    assert store.query_rows("SELECT count(*) FROM eff_inputs e JOIN region_tree t USING (region_id) "
                            "WHERE t.n_children = 0") == [(0,)]
    assert store.query_rows("SELECT count(DISTINCT region_id) FROM eff_inputs")[0][0] > 3


def test_a_region_that_gains_its_first_subdivision_is_stored_and_dropped_again_on_undo(scratch):
    """A township with figures of its own and no villages is computed as a leaf; given a village with figures,
    its inputs are stored (with the village's sums filling its gaps); the undo takes it back to a leaf."""
    county_id = synthetic_county(scratch)
    township = pd.DataFrame([{"region_id": -1, "name": "合成镇新设", "level": "township", "parent_id": county_id,
                              "code": None}])
    first = storage.commit_batch(scratch, storage.NewBatch(file_name="t.csv", regions=township, synthetic=True))
    new_id = storage.find_region_id(scratch, "合成镇新设")
    own = storage.commit_batch(scratch, storage.NewBatch(file_name="t_pop.csv", rows={
        "population": population_row(new_id, 2024, registered_persons=900)}))
    assert scratch.query_rows("SELECT count(*) FROM eff_inputs WHERE region_id = ?", [new_id]) == [(0,)]
    assert_compare_inputs_as_computed(scratch, county_id, "township", [2024])
    village = pd.DataFrame([{"region_id": -1, "name": "合成村新设", "level": "village", "parent_id": new_id,
                             "code": None}])
    grown = storage.commit_batch(scratch, storage.NewBatch(file_name="v.csv", regions=village, synthetic=True))
    village_id = storage.find_region_id(scratch, "合成村新设")
    filled = storage.commit_batch(scratch, storage.NewBatch(file_name="v_pop.csv", rows={
        "population": population_row(village_id, 2024, registered_persons=900, registered_households=300)}))
    stored = scratch.query_df("SELECT * FROM eff_inputs WHERE region_id = ?", [new_id])
    assert stored["registered_persons"].tolist() == [900]  # its own figure
    assert stored["registered_households"].tolist() == [300]  # its only village's, filling the gap
    assert_compare_inputs_as_computed(scratch, county_id, "township", [2024])
    assert_same_as_full_rebuild(scratch)
    storage.undo_batch(scratch, filled)
    storage.undo_batch(scratch, grown)
    assert scratch.query_rows("SELECT count(*) FROM eff_inputs WHERE region_id = ?", [new_id]) == [(0,)]
    assert_compare_inputs_as_computed(scratch, county_id, "township", [2024])
    assert_same_as_full_rebuild(scratch)
    storage.undo_batch(scratch, own)
    storage.undo_batch(scratch, first)
    assert storage.find_region_id(scratch, "合成镇新设") is None
    assert_same_as_full_rebuild(scratch)


def test_stored_inputs_missing_or_out_of_step_are_rebuilt_on_open(county, tmp_path):
    """A database without ``eff_inputs`` (an earlier version's) or with another layout gets it rebuilt when it
    is opened for writing; read-only, it is refused as out of date."""
    import shutil
    db = tmp_path / "copy.duckdb"
    shutil.copy(county.db, db)
    store = storage.Store(db)
    expected = snapshot(store)["eff_inputs"]
    store.close()
    for damage in ("DROP TABLE eff_inputs", "ALTER TABLE eff_inputs DROP COLUMN registered_persons"):
        con = duckdb.connect(str(db))
        con.execute(damage)
        con.close()
        with pytest.raises(DatabaseError):
            storage.Store(db, read_only=True)
        store = storage.Store(db)
        pd.testing.assert_frame_equal(snapshot(store)["eff_inputs"], expected)
        store.close()
