"""What each chart page shows (AppTest, both languages): the key figures of the default data as KPI values and
in the tables under the charts, the notices where the data has no trend or no villages, and no exception.
AppTest cannot see plotly figures; ``tests/test_charts.py`` checks those."""

from __future__ import annotations

import pandas as pd
import pytest

from lawstats.i18n import LANGS, t
from lawstats.registry import CHECKS, INDICATORS, PROVENANCE_COLUMNS, ROW_COLUMNS, TABLES
from tests.conftest import copy_seeded, page_text, run_page


@pytest.fixture(scope="module")
def module_db(tmp_path_factory, seeded_template):
    """One copy of the seeded database for the module: these tests only read."""
    return copy_seeded(seeded_template, tmp_path_factory.mktemp("pages") / "lawstats.duckdb")


@pytest.fixture(autouse=True)
def _use_module_db(module_db, monkeypatch):
    monkeypatch.setenv("LAWSTATS_DB", str(module_db))


def visit(page: str, lang: str):
    at = run_page(page, lang)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def metric_values(at) -> list[str]:
    """The KPI values as read: the number, then the unit (the card writes the unit in small type)."""
    return [m.value.replace(":small[", "").replace("]", "") for m in at.metric]


def table_numbers(at) -> set[float]:
    """Every number in every table on the page (the tables under the charts)."""
    found = set()
    for frame in (d.value for d in at.dataframe):
        for column in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[column]):
                found.update(float(v) for v in frame[column].dropna())
    return found


def table_headers(at) -> set[str]:
    return {str(c) for d in at.dataframe for c in d.value.columns}


def notices(at) -> list[str]:
    return [i.value for i in at.info]


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


@pytest.mark.parametrize("lang", LANGS)
def test_population_page(lang):
    at = visit("population", lang)
    unit = "人" if lang == "zh" else "persons"
    assert {f"25,218 {unit}", f"23,971 {unit}", "0.64%", "95.06%", "94.41%"} <= set(metric_values(at))
    assert {25218.0, 23971.0, 7017.0, 6625.0, 162.0, 3.59} <= table_numbers(at)
    assert t("common.value", lang) in table_headers(at) and t("pages.col.series", lang) in table_headers(at)
    assert "162 ÷ 25,218" in captions(at)  # the stated 0.64% checked against the computed share
    assert t("common.one_year_only", lang, year=2024) in notices(at)


@pytest.mark.parametrize("lang", LANGS)
def test_land_page(lang):
    at = visit("land", lang)
    values = metric_values(at)
    assert any(v.startswith("43,695") for v in values) and any(v.startswith("58,670.24") for v in values)
    assert any(v.startswith("1.73") for v in values) and "57.3%" in values
    assert {43695.0, 58670.24, 1.73, 2.33, 42.7, 57.3} <= table_numbers(at)
    assert t("pages.land_scope", lang) in captions(at)


@pytest.mark.parametrize("lang", LANGS)
def test_grid_page(lang):
    at = visit("grid", lang)
    values = metric_values(at)
    assert any(v.startswith("242.5") for v in values) and any(v.startswith("104") for v in values)
    assert any(v.startswith("11.6") for v in values)
    assert {1.0, 9.0, 104.0, 19.0, 45.0, 13.0, 135.0, 242.5, 67.5} <= table_numbers(at)
    # the report does not name the 19 villages: said plainly, never an empty chart
    assert t("common.no_children", lang, region="西堡镇") in notices(at)
    assert t("common.one_year_only", lang, year=2024) in notices(at)


@pytest.mark.parametrize("lang", LANGS)
def test_training_page(lang):
    at = visit("training", lang)
    values = metric_values(at)
    assert values.count("100.0%") == 3 and any(v.startswith("4 ") for v in values)
    rates = next(d.value for d in at.dataframe if t("pages.col.stated", lang) in d.value.columns)
    assert len(rates) == 5 and set(rates[t("pages.col.stated", lang)]) == {100.0}
    programmes = {"zh": {"学习强国", "法宣在线学习", "青海干部教育网", "法宣在线考试"},  # named in English when declared
                  "en": {"Xuexi Qiangguo", "Online law study", "Qinghai Cadre Education Network", "Online law exam"}}
    assert set(rates[t("pages.col.item", lang)]) == programmes[lang]
    assert rates[t("pages.col.computed", lang)].isna().all()  # the report gives no counts to compute from
    assert t("pages.training_no_counts", lang) in captions(at)
    assert 4.0 in table_numbers(at)  # sessions of 镇村干部集中学法


@pytest.mark.parametrize("lang", LANGS)
def test_governance_page(lang):
    at = visit("governance", lang)
    values = metric_values(at)
    assert any(v.startswith("4.76") for v in values) and any(v.startswith("12 ") for v in values)
    assert any(v.startswith("0 ") for v in values)  # gang-crime clues: none found, recorded as 0
    counts = next(d.value for d in at.dataframe if t("pages.col.note", lang) in d.value.columns)
    assert counts[t("common.value", lang)].tolist() == [12, 4, 19, 28, 0]
    assert "未发现" in captions(at)


@pytest.mark.parametrize("lang", LANGS)
def test_overview_charts_have_their_tables(lang):
    at = visit("overview", lang)
    assert len(at.dataframe) == 4  # population, land, grid coverage, training: each with its numbers
    assert {25218.0, 23971.0, 43695.0, 58670.24, 135.0, 100.0} <= table_numbers(at)
    assert t("common.source", lang, source="") in captions(at)


@pytest.mark.parametrize("lang", LANGS)
def test_glossary_lists_every_indicator_check_and_column(lang):
    at = visit("glossary", lang)
    indicator_table, checks_table, columns_table = (d.value for d in list(at.dataframe)[:3])  # then the catalogue
    assert len(indicator_table) == len(INDICATORS)
    by_name = indicator_table.set_index(t("common.indicator", lang))
    minority = by_name.loc["少数民族人口占比" if lang == "zh" else "Minority share"]
    assert minority[t("common.value", lang)] == "0.64%"
    assert minority[t("pages.col.check", lang)] == t("common.check_ok", lang)
    assert minority[t("pages.col.origin", lang)] == t("pages.computed", lang)
    assert "占总人口的0.64%" in minority[t("pages.col.note", lang)]  # per-value provenance note
    assert minority[t("pages.col.section", lang)] == "一、基本情况"
    clues = by_name.loc["涉黑恶线索数" if lang == "zh" else "Gang-crime clues found"]
    assert clues[t("pages.col.origin", lang)] == t("pages.stated", lang) and "未发现" in clues[t("pages.col.note", lang)]
    assert len(checks_table) == len(CHECKS)
    results = checks_table[t("pages.col.check", lang)].tolist()
    assert results.count(t("common.check_ok", lang)) == 5 and results.count(t("common.check_na", lang)) == 2
    declared = len(ROW_COLUMNS) + len(PROVENANCE_COLUMNS) + sum(len(table.columns) for table in TABLES)
    assert len(columns_table) == declared
    assert "耕地面积" in set(columns_table[t("pages.col.column_zh", lang)])
    assert "0.64%" in page_text(at)  # the details card of the chosen indicator is there too


# ---------------------------------------------------------------------------------------------------------
# With several years and villages (synthetic data, labelled so): the trend and the villages are drawn.


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory):
    """The default data plus a small synthetic county over two years, imported through the CLI."""
    from lawstats import cli, storage

    folder = tmp_path_factory.mktemp("synthetic")
    db = folder / "lawstats.duckdb"
    assert cli.main(["--db", str(db), "synth", str(folder / "csv"), "--scale", "county", "--years", "2023-2024",
                     "--seed", "7"]) == 0
    assert cli.main(["--db", str(db), "init"]) == 0
    assert cli.main(["--db", str(db), "import", *map(str, sorted((folder / "csv").glob("*.csv")))]) == 0
    store = storage.Store(db)
    regions = storage.regions(store)
    township = int(regions[(regions["level"] == "township") & regions["synthetic"].fillna(False)]["region_id"].min())
    store.close()
    return db, township


@pytest.mark.parametrize("lang", LANGS)
def test_trend_and_villages_are_drawn_when_the_data_has_them(synthetic_db, monkeypatch, lang):
    db, township = synthetic_db
    monkeypatch.setenv("LAWSTATS_DB", str(db))
    at = run_page("grid", lang, query={"region": str(township)})
    assert not at.exception, [e.value for e in at.exception]
    assert t("common.one_year_only", lang, year=2024) not in notices(at)
    assert not any(n.startswith(t("common.no_children", lang, region="")[:8]) for n in notices(at))
    trend = next(d.value for d in at.dataframe if t("common.yoy", lang) in d.value.columns)
    assert set(trend[t("common.year", lang)]) == {2023, 2024}
    assert trend[t("common.yoy", lang)].notna().any()  # the change from 2023 to 2024
    villages = next(d.value for d in at.dataframe if t("pages.col.source", lang) in d.value.columns)
    assert len(villages) > 1 and villages[t("common.value", lang)].gt(0).all()
