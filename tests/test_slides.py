"""The slide list (lawstats.slides): what it contains for the real 2024 data and for a small synthetic
multi-year dataset, and that its numbers are the database's."""

from __future__ import annotations

import pytest

from lawstats import importer, slides, storage, summary
from lawstats.errors import LawstatsError
from lawstats.reader import read_csv_bytes
from lawstats.registry import INDICATORS, INDICATORS_BY_ID

SYNTHETIC_SOURCE = "合成数据（仅供测试）"
SYNTHETIC_TOWN = "合成镇演示"

# A synthetic township with three years of population and land and two villages, as upload-template CSVs.
SYNTHETIC_FILES = {
    "regions.csv": "名称,级别,上级\n合成镇演示,乡镇（街道）,湟中区\n合成村甲,村（社区）,合成镇演示\n"
                   "合成村乙,村（社区）,合成镇演示\n",
    "population.csv": "地区,年份,户籍户数,户籍人口,常住户数,常住人口,少数民族人口,来源\n"
                      f"合成镇演示,2022,1000,3000,900,2800,30,{SYNTHETIC_SOURCE}\n"
                      f"合成镇演示,2023,1010,3050,905,2790,31,{SYNTHETIC_SOURCE}\n"
                      f"合成镇演示,2024,1020,3100,910,2750,33,{SYNTHETIC_SOURCE}\n"
                      f"合成村甲,2024,600,1800,550,1650,20,{SYNTHETIC_SOURCE}\n"
                      f"合成村乙,2024,420,1300,360,1100,13,{SYNTHETIC_SOURCE}\n",
    "land.csv": "地区,年份,耕地面积（亩）,林地面积（亩）,来源\n"
                f"合成镇演示,2022,5000,8000,{SYNTHETIC_SOURCE}\n"
                f"合成镇演示,2023,4990,8100,{SYNTHETIC_SOURCE}\n"
                f"合成镇演示,2024,4980,8200,{SYNTHETIC_SOURCE}\n",
}


def commit_synthetic(store: storage.Store) -> int:
    """Import the synthetic files through the analysts' path (validation, regions, one batch)."""
    files = [(name, read_csv_bytes(text.encode("utf-8"))) for name, text in SYNTHETIC_FILES.items()]
    prepared = importer.prepare_import(storage.regions(store), files,
                                       importer.ImportOptions(source=SYNTHETIC_SOURCE, user_name="test"))
    storage.commit_batch(store, prepared.batch)
    return summary.find_region(store, SYNTHETIC_TOWN)


@pytest.fixture
def xibao(fresh_store) -> int:
    return summary.find_region(fresh_store, "西堡镇")


def test_one_year_of_data_gives_no_trend_or_comparison_slides(fresh_store, xibao):
    deck = slides.build(fresh_store, xibao, 2024, "zh")
    assert deck.sections == ("title", "kpis", "population", "land", "grid", "training", "governance",
                             "definitions", "sources")
    assert not [s for s in deck.slides if s.section in ("trends", "compare")]
    assert all(s.chart is None or s.chart.kind != "line" for s in deck.slides)


def test_population_chart_holds_the_stored_figures(fresh_store, xibao):
    stored = storage.table_rows(fresh_store, storage.TABLES_BY_ID["population"], [xibao], [2024]).iloc[0]
    chart = next(s for s in slides.build(fresh_store, xibao, 2024, "zh").slides if s.section == "population").chart
    assert chart.values("户籍") == (stored["registered_persons"], stored["registered_households"])
    assert chart.values("常住") == (stored["resident_persons"], stored["resident_households"])
    assert chart.values("户籍")[0] == 25_218 and chart.values("常住")[0] == 23_971


def test_kpi_wall_shows_every_headline_indicator_with_the_computed_values(fresh_store, xibao):
    table = summary.indicator_table(fresh_store, xibao, 2024, "zh").set_index("id")
    kpis = next(s for s in slides.build(fresh_store, xibao, 2024, "zh").slides if s.section == "kpis").kpis
    assert [k.indicator_id for k in kpis] == [i.id for i in INDICATORS if i.headline]
    for kpi in kpis:
        assert kpi.value == pytest.approx(table.loc[kpi.indicator_id, "value"])
        assert kpi.text == table.loc[kpi.indicator_id, "formatted"]  # the same text the pages show
    registered = next(k for k in kpis if k.indicator_id == "registered_persons")
    assert (registered.number, registered.unit) == ("25,218", "人")


def test_every_slide_has_a_footer_with_source_version_and_page(fresh_store, xibao):
    deck = slides.build(fresh_store, xibao, 2024, "zh")
    version, _ = storage.last_update(fresh_store)
    for index, slide in enumerate(deck.slides):
        footer = deck.footer(index)
        assert f"第{version}批" in footer
        assert footer.endswith(f"{index + 1} / {len(deck.slides)}")
        if slide.section not in ("definitions", "sources"):
            assert "西堡镇2024年度法治政府建设工作情况报告" in footer


def test_english_deck_uses_the_registry_names(fresh_store, xibao):
    deck = slides.build(fresh_store, xibao, 2024, "en")
    titles = [s.title for s in deck.slides]
    assert "Population" in titles and "Safety and disputes" in titles
    assert deck.footer(0).count("Data version: report year 2024") == 1
    labels = {k.label for s in deck.slides for k in s.kpis}
    assert INDICATORS_BY_ID["persons_per_subgrid"].en in labels


def test_definitions_appendix_declares_every_indicator_the_deck_shows(fresh_store, xibao):
    deck = slides.build(fresh_store, xibao, 2024, "zh")
    shown = {k.indicator_id for s in deck.slides for k in s.kpis}
    rows = [row for s in deck.slides if s.section == "definitions" for row in s.table.rows]
    assert len(rows) == len(shown)
    definitions = {row[1] for row in rows}
    assert {INDICATORS_BY_ID[i].definition("zh") for i in shown} == definitions
    assert all(len(s.table.rows) <= slides.DEFINITIONS_PER_SLIDE for s in deck.slides if s.table)


def test_sources_slide_names_document_and_section_of_every_table(fresh_store, xibao):
    closing = slides.build(fresh_store, xibao, 2024, "zh").slides[-1]
    assert closing.section == "sources"
    tables = {row[0]: row for row in closing.table.rows}
    assert set(tables) == {"人口", "土地", "网格与企业", "学法培训", "平安治理"}
    assert tables["人口"][2] == "一、基本情况"


def test_several_years_give_trend_and_comparison_slides(fresh_store):
    region_id = commit_synthetic(fresh_store)
    deck = slides.build(fresh_store, region_id, 2024, "zh")
    trends = [s for s in deck.slides if s.section == "trends"]
    assert [s.chart.kind for s in trends] == ["line", "line"]  # population and land have three years
    population = trends[0].chart
    assert population.categories == ("2022", "2023", "2024")
    assert population.values("户籍人口") == (3000, 3050, 3100)
    assert population.values("常住人口") == (2800, 2790, 2750)
    compare = [s for s in deck.slides if s.section == "compare"]
    year_table = compare[0].table
    assert year_table.header[1:3] == ("2023", "2024")
    registered_row = next(r for r in year_table.rows if r[0] == "户籍人口")
    assert registered_row[1:] == ("3,050 人", "3,100 人", "+50 人")
    villages = compare[1].chart  # the two villages, largest first
    assert villages.categories == ("合成村甲", "合成村乙") and villages.series[0].values == (1800, 1300)


def test_trends_stop_at_the_chosen_year_and_need_two_years(fresh_store):
    region_id = commit_synthetic(fresh_store)
    deck_2023 = slides.build(fresh_store, region_id, 2023, "zh")
    trend = next(s for s in deck_2023.slides if s.section == "trends").chart
    assert trend.categories == ("2022", "2023")
    deck_2022 = slides.build(fresh_store, region_id, 2022, "zh")
    assert "trends" not in deck_2022.sections and "compare" not in deck_2022.sections


def test_synthetic_data_says_so_on_the_title_and_every_footer(fresh_store):
    region_id = commit_synthetic(fresh_store)
    deck = slides.build(fresh_store, region_id, 2024, "zh")
    assert deck.synthetic
    assert "合成数据" in deck.slides[0].lines[0]
    assert all("合成数据" in deck.footer(i) for i in range(len(deck.slides)))


def test_only_keeps_the_chosen_sections_in_order(fresh_store, xibao):
    deck = slides.build(fresh_store, xibao, 2024, "zh")
    chosen = deck.only(["sources", "title", "land"])
    assert [s.section for s in chosen.slides] == ["title", "land", "sources"]
    assert chosen.footer(2).endswith("3 / 3")


def test_parse_sections():
    assert slides.parse_sections(None) is None
    assert slides.parse_sections("title, kpis,land") == ["title", "kpis", "land"]
    with pytest.raises(LawstatsError) as error:
        slides.parse_sections("title,nonsense")
    assert error.value.key == "error.unknown_slides" and error.value.params["value"] == "nonsense"


@pytest.mark.parametrize("current, shown, now, expected", [
    (3, (3, 100.0), 129.0, 3),  # not yet 30 s on screen
    (3, (3, 100.0), 130.0, 4),  # its time is up
    (12, (12, 0.0), 60.0, 1),  # after the last, the first again
    (5, (4, 0.0), 60.0, 5),  # the presenter just moved: the new slide gets its full time
    (5, None, 60.0, 5),  # first run
])
def test_auto_advance(current, shown, now, expected):
    assert slides.auto_advance(current, 12, shown, now, 30) == expected


def test_auto_advance_off_or_single_slide():
    assert slides.auto_advance(2, 12, (2, 0.0), 999.0, 0) == 2
    assert slides.auto_advance(1, 1, (1, 0.0), 999.0, 10) == 1
