"""The compare page (对比分析) in AppTest on a synthetic county: the ranking's order and values, the chosen
region's rank and percentile, other indicators and levels, both languages; each checked against a direct SQL
query on the same database."""

from __future__ import annotations

import pytest

from lawstats import storage
from tests.conftest import run_page
from tests.scale_data import County, make_county

YEAR = 2024


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> County:
    return make_county(tmp_path_factory.mktemp("compare"))


@pytest.fixture(autouse=True)
def _use_county_db(county, monkeypatch):
    monkeypatch.setenv("LAWSTATS_DB", str(county.db))


@pytest.fixture(scope="module")
def ids(county) -> dict[str, int]:
    store = storage.Store(county.db)
    try:
        tree = store.query_df("SELECT region_id, name, level, parent_id FROM region_tree")
    finally:
        store.close()
    return dict(zip(tree["name"], tree["region_id"].astype(int)))


def sql(county: County, query: str, params=None) -> list[tuple]:
    store = storage.Store(county.db)
    try:
        return store.query_rows(query, params or [])
    finally:
        store.close()


def ranking_table(at):
    """The page's full table of numbers: the one with a rank and a percentile column, longest."""
    tables = [d.value for d in at.dataframe if {"排名", "百分位"} <= set(d.value.columns)
              or {"Rank", "Percentile"} <= set(d.value.columns)]
    assert tables, "no ranking table on the page"
    return max(tables, key=len)


def test_ranking_of_townships_matches_sql(county, ids):
    chosen = ids["合成镇00003"]
    at = run_page("compare", "zh", {"region": str(chosen)})
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key=f"cmp_level_{ids['合成县0001']}").value == "township"
    table = ranking_table(at)
    expected = sql(county, """
        SELECT r.name, p.registered_persons FROM cur_population p JOIN cur_regions r USING (region_id)
        WHERE r.parent_id = (SELECT parent_id FROM cur_regions WHERE region_id = ?) AND p.year = ?
        ORDER BY p.registered_persons DESC, r.name""", [chosen, YEAR])
    assert list(table["地区"]) == [name for name, _ in expected]
    assert list(table["数值"]) == [float(v) for _, v in expected]
    assert list(table["排名"]) == list(range(1, 16))
    rank = [name for name, _ in expected].index("合成镇00003") + 1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["名次（共 15 个）"] == str(rank)
    assert metrics["百分位"] == f"{100 * (15 - rank) / 14:.0f}%"


def test_a_ratio_indicator_ranks_like_sql(county, ids):
    chosen = ids["合成镇00003"]
    at = run_page("compare", "zh", {"region": str(chosen)})
    at.selectbox(key="cmp_indicator").set_value("household_size").run()
    assert not at.exception, [e.value for e in at.exception]
    table = ranking_table(at)
    expected = sql(county, """
        SELECT r.name, round(p.registered_persons / p.registered_households, 2) FROM cur_population p
        JOIN cur_regions r USING (region_id)
        WHERE r.parent_id = (SELECT parent_id FROM cur_regions WHERE region_id = ?) AND p.year = ?
        ORDER BY p.registered_persons / p.registered_households DESC, r.name""", [chosen, YEAR])
    assert list(table["地区"]) == [name for name, _ in expected]
    assert list(table["数值"]) == pytest.approx([float(v) for _, v in expected])


def test_lower_is_better_ranks_from_the_smallest(county, ids):
    at = run_page("compare", "zh", {"region": str(ids["合成镇00001"])})
    at.selectbox(key="cmp_indicator").set_value("persons_per_subgrid").run()
    table = ranking_table(at)
    values = list(table["数值"])
    assert values == sorted(values) and table["排名"].iloc[0] == 1


def test_the_villages_of_a_township_are_ranked_with_their_rollup_free_values(county, ids):
    township = ids["合成镇00002"]
    at = run_page("compare", "en", {"region": str(township)})
    at.selectbox(key="cmp_scope").set_value(township).run()
    at.selectbox(key=f"cmp_level_{township}").set_value("village").run()
    assert not at.exception, [e.value for e in at.exception]
    table = ranking_table(at)
    expected = sql(county, """
        SELECT r.name, p.registered_persons FROM cur_population p JOIN cur_regions r USING (region_id)
        WHERE r.parent_id = ? AND p.year = ? ORDER BY p.registered_persons DESC, r.name""", [township, YEAR])
    assert list(table["Region"]) == [name for name, _ in expected]
    assert list(table["Value"]) == [float(v) for _, v in expected]
    assert "Compare" in at.title[0].value


def test_the_whole_county_at_village_level_sums_like_sql(county, ids):
    """Every village of the county: the table holds them all; the chart shows top and bottom only."""
    at = run_page("compare", "zh", {"region": str(ids["合成镇00002"])})
    county_id = ids["合成县0001"]
    at.selectbox(key="cmp_scope").set_value(county_id).run()
    at.selectbox(key=f"cmp_level_{county_id}").set_value("village").run()
    table = ranking_table(at)
    count = sql(county, """SELECT count(*) FROM cur_population p JOIN region_tree t USING (region_id)
                           WHERE t.anc_county = ? AND t.level = 'village' AND p.year = ?""", [county_id, YEAR])[0][0]
    assert len(table) == count == 225
    shown = [d.value for d in at.dataframe if "排名" in d.value.columns and len(d.value) < count]
    assert shown and len(shown[0]) <= 2 * 10 + 1  # the chart's table: top and bottom 10 and the chosen one


def test_rollup_check_lists_the_disagreements_first(county, ids):
    disagreeing = sql(county, """
        SELECT r.region_id, r.year FROM roll_population r JOIN cur_population c USING (region_id, year)
        WHERE r.registered_persons__n = r.n_children AND c.registered_persons <> r.registered_persons__sum
        ORDER BY r.year DESC, r.region_id LIMIT 1""")
    assert disagreeing, "the synthetic county is meant to hold a township that disagrees with its villages"
    region_id, year = disagreeing[0]
    at = run_page("compare", "zh", {"region": str(region_id), "year": str(year)})
    assert not at.exception, [e.value for e in at.exception]
    check = [d.value for d in at.dataframe if "核对" in d.value.columns][0]
    assert check["核对"].iloc[0] == "⚠ 不一致"
    assert check["项目"].iloc[0] == "户籍人口"
    assert check["本级报告数"].iloc[0] != check["下级合计"].iloc[0]
    overview = run_page("overview", "zh", {"region": str(region_id), "year": str(year)})
    assert any("不一致" in w.value for w in overview.sidebar.warning)  # the frame says so on every page
