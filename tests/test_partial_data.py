"""Partial data shown honestly (issue 10 §4): a table that arrives for a new year before the others, a town that
has only training figures and one that has only population figures. Every page (AppTest, both languages), the
compare page and the deck show what exists, an earlier year's value labelled with its year, and never an empty
chart (asserted on the plotly specs the page sends), a card or a slide of "—"."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from lawstats import deck, importer, slides, storage, summary
from lawstats.i18n import LANGS, t
from lawstats.navigation import PAGES
from lawstats.reader import read_csv_bytes
from tests.conftest import copy_seeded, run_page

XIBAO, TRAINING_ONLY, POPULATION_ONLY = "西堡镇", "东山乡", "南湖镇"
REPORT_2024 = "西堡镇2024年度法治政府建设工作情况报告"
POPULATION_2025 = "西堡镇2025年人口统计"

# Each file is its own batch, as analysts upload them: the 2025 population file first, alone.
FILES = [
    ("population_2025.csv", "地区,年份,户籍户数,户籍人口,常住户数,常住人口,少数民族人口,来源\n"
                            f"西堡镇,2025,7050,25300,6650,24010,165,{POPULATION_2025}\n"),
    ("regions.csv", "名称,级别,上级\n东山乡,乡镇（街道）,湟中区\n南湖镇,乡镇（街道）,湟中区\n"),
    ("training.csv", "地区,年份,学习项目,类型,集中学习次数,应参加人数,实际参加人数,及格人数,来源\n"
                     "东山乡,2024,干部集中学法,学习,6,40,38,,东山乡2024年法治政府建设报告\n"
                     "东山乡,2024,法宣在线考试,考试,,40,40,39,东山乡2024年法治政府建设报告\n"),
    ("population.csv", "地区,年份,户籍户数,户籍人口,常住户数,常住人口,少数民族人口,来源\n"
                       "南湖镇,2024,3100,11200,2900,10400,800,南湖镇2024年人口统计\n"),
]


def commit(store: storage.Store, name: str, text: str) -> None:
    prepared = importer.prepare_import(storage.regions(store), [(name, read_csv_bytes(text.encode("utf-8")))],
                                       importer.ImportOptions(user_name="test"))
    storage.commit_batch(store, prepared.batch)


@pytest.fixture(scope="module")
def partial_db(tmp_path_factory, seeded_template):
    """The default data (西堡镇 2024) plus the four uploads above, each its own batch."""
    path = copy_seeded(seeded_template, tmp_path_factory.mktemp("partial") / "lawstats.duckdb")
    store = storage.Store(path)
    for name, text in FILES:
        commit(store, name, text)
    ids = {name: summary.find_region(store, name) for name in (XIBAO, TRAINING_ONLY, POPULATION_ONLY)}
    store.close()
    return path, ids


@pytest.fixture
def store(partial_db):
    opened = storage.Store(partial_db[0])
    yield opened
    opened.close()


@pytest.fixture
def use_db(partial_db, monkeypatch):
    monkeypatch.setenv("LAWSTATS_DB", str(partial_db[0]))
    return partial_db[1]


# ---------------------------------------------------------------------------------------------------------
# What a page sends to the browser


def plotly_specs(at) -> list[dict]:
    """The plotly figures a run put on the page, as the JSON the browser gets."""
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def _numbers(values) -> list[float]:
    """The numbers of a trace's array; plotly sends numeric arrays as typed base64 (``{"dtype", "bdata"}``)."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np

        values = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return [float(v) for v in (values or []) if v is not None and not isinstance(v, str) and v == v]


def empty_traces(spec: dict) -> list[str]:
    """The traces of a figure that draw nothing: no points, or only missing values (an empty axis, a blank donut)."""
    empty = []
    for trace in spec["data"]:
        kind = trace.get("type", "scatter")
        if kind == "pie":
            drawn = sum(_numbers(trace.get("values"))) > 0
        elif kind == "heatmap":
            drawn = any(_numbers(row) for row in trace.get("z") or [])
        else:  # a bar or a line: numbers along one axis (categories along the other are text)
            drawn = bool(_numbers(trace.get("x")) or _numbers(trace.get("y")))
        if not drawn:
            empty.append(f"{spec['layout'].get('title', {}).get('text')}: {kind}")
    return empty


def charts_without_points(at) -> list[str]:
    found = []
    for spec in plotly_specs(at):
        drawn_in_layout = spec["layout"].get("annotations") or spec["layout"].get("shapes")  # tiles, title cards
        if not spec["data"] and not drawn_in_layout:
            found.append(f"{spec['layout'].get('title', {}).get('text')}: no trace")
        found += empty_traces(spec)
    return found


def visit(page: str, lang: str, region: int, year: int):
    at = run_page(page, lang, query={"region": str(region), "year": str(year)})
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


# ---------------------------------------------------------------------------------------------------------
# The fault as reported: a 2025 population file uploaded alone


@pytest.mark.parametrize("lang", LANGS)
def test_overview_of_a_year_with_only_population_shows_what_exists(use_db, lang):
    at = visit("overview", lang, use_db[XIBAO], 2025)
    assert charts_without_points(at) == []  # no empty axes, no blank donut
    values = [m.value for m in at.metric]
    assert values and t("common.missing", lang) not in values  # no “—” cards
    labels = {m.label.split(" · ")[0]: m.label for m in at.metric}
    year_data = summary.year_label(2024, lang)
    registered = "户籍人口" if lang == "zh" else "Registered persons"
    assert year_data not in labels[registered] and values[0].startswith("25,300")  # 2025's own figure
    assert sum(year_data in label for label in labels.values()) == 4  # land, grid, training, safety: 2024's
    # each chart's source names the documents of the values it draws, not the newest file of the year
    land = next(c for c in captions(at) if "一、基本情况" in c and POPULATION_2025 not in c)
    assert REPORT_2024 in land
    structure = captions(at)[0]
    assert POPULATION_2025 in structure and REPORT_2024 not in structure
    # the version line: the report year of each table, and separately when it was uploaded
    footer = next(c for c in captions(at) if c.startswith(t("common.data_years", lang, years="", uploaded="")[:4]))
    if lang == "zh":
        assert "报告年份 2025年（人口）；2024年（土地、网格与企业、学法培训、平安治理）" in footer
        assert "上传于" in footer and "（第2批）" in footer
    else:
        assert "report year 2025 (Population); 2024 (Land" in footer and "uploaded" in footer


def test_domain_page_of_the_new_year_labels_the_earlier_values(use_db):
    at = visit("land", "zh", use_db[XIBAO], 2025)
    assert charts_without_points(at) == []
    assert all("2024年数据" in m.label for m in at.metric) and len(at.metric) == 4
    frames = [d.value for d in at.dataframe]
    items = {str(i) for frame in frames for i in frame.get(t("pages.col.item", "zh"), [])}
    assert "耕地面积（2024年数据）" in items
    # land per person: 2024 land over 2024 persons (never 2024 land over 2025 persons)
    assert any(abs(v - 1.73) < 1e-9 for frame in frames for v in frame.get(t("common.value", "zh"), []))
    assert POPULATION_2025 not in "\n".join(captions(at)[:-1])


# ---------------------------------------------------------------------------------------------------------
# A town with only training figures and one with only population figures: every page, both languages


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("town", [TRAINING_ONLY, POPULATION_ONLY])
@pytest.mark.parametrize("page", [p.url_path for p in PAGES])
def test_every_page_works_for_a_town_with_one_table(use_db, page, town, lang):
    at = visit(page, lang, use_db[town], 2024)
    assert charts_without_points(at) == []
    assert t("common.missing", lang) not in [m.value for m in at.metric]


@pytest.mark.parametrize("lang", LANGS)
def test_a_domain_with_nothing_says_what_is_missing_in_one_line(use_db, lang):
    at = visit("land", lang, use_db[TRAINING_ONLY], 2024)
    assert not at.metric and not plotly_specs(at)
    [line] = [i.value for i in at.info]
    assert line == t("pages.domain_empty", lang, region=TRAINING_ONLY, year=2024, domain="土地" if lang == "zh"
                     else "Land", table="土地" if lang == "zh" else "Land")


def test_training_only_town_shows_its_rates_and_sessions(use_db):
    at = visit("training", "zh", use_db[TRAINING_ONLY], 2024)
    titles = [spec["layout"]["title"]["text"] for spec in plotly_specs(at)]
    assert titles == [t("pages.chart.training_rates", "zh"), t("pages.chart.training_sessions", "zh")]
    rates = next(d.value for d in at.dataframe if t("pages.col.computed", "zh") in d.value.columns)
    assert sorted(rates[t("pages.col.computed", "zh")].dropna()) == [95.0, 97.5, 100.0]  # 38/40, 39/40, 40/40
    sessions = plotly_specs(at)[1]
    assert sessions["layout"]["xaxis"]["tickformat"] == ",d"  # 6 sessions: no 0.5 ticks


def test_population_only_town_overview_draws_only_population(use_db):
    at = visit("overview", "zh", use_db[POPULATION_ONLY], 2024)
    assert [spec["layout"]["title"]["text"] for spec in plotly_specs(at)] == [
        t("pages.chart.population_structure", "zh")]
    infos = [i.value for i in at.info]
    assert len(infos) == 3 and all("数据管理" in i for i in infos)  # land, grid, training: what to upload


# ---------------------------------------------------------------------------------------------------------
# Compare with one or two regions


@pytest.mark.parametrize("lang", LANGS)
def test_compare_with_two_regions_offers_the_trend_instead_of_a_ranking(use_db, lang):
    at = visit("compare", lang, use_db[XIBAO], 2024)
    infos = [i.value for i in at.info]
    assert any(i.startswith(t("compare.few_regions", lang, count=2, indicator="", year="")[:6]) for i in infos)
    labels = [m.label for m in at.metric]
    assert t("compare.percentile", lang) not in labels  # a percentile of 100% among two means nothing
    specs = plotly_specs(at)
    titles = [spec["layout"]["title"]["text"] for spec in specs]
    assert not any(t("compare.section.distribution", lang) in title for title in titles)
    assert [trace["type"] for trace in specs[0]["data"]] == ["scatter", "scatter"]  # 西堡镇 and 南湖镇 over the years
    assert charts_without_points(at) == []


# ---------------------------------------------------------------------------------------------------------
# The deck


def _no_dash_only_slides(built: slides.Deck) -> None:
    for slide in built.slides:
        numbers = [k.number for k in slide.kpis]
        assert t("common.missing", built.lang) not in numbers, (slide.title, numbers)
        if slide.section in slides.DOMAIN_IDS or slide.section == "kpis":
            assert slide.kpis or slide.chart is not None, slide.title
        if slide.chart is not None:
            assert any(v is not None for s in slide.chart.series for v in s.values), slide.title


@pytest.mark.parametrize("lang", LANGS)
def test_deck_of_the_new_year_has_no_slide_of_dashes(store, partial_db, lang):
    built = slides.build(store, partial_db[1][XIBAO], 2025, lang)
    _no_dash_only_slides(built)
    land = next(s for s in built.slides if s.section == "land")
    assert {k.change for k in land.kpis} == {summary.year_label(2024, lang)}
    assert POPULATION_2025 not in land.source and REPORT_2024 in land.source
    population = next(s for s in built.slides if s.section == "population")
    assert population.kpis[0].number == "25,300" and REPORT_2024 not in population.source


@pytest.mark.parametrize("town, sections", [
    (TRAINING_ONLY, ("title", "kpis", "training", "definitions", "sources")),
    (POPULATION_ONLY, ("title", "kpis", "population", "definitions", "sources")),
])
def test_deck_of_a_town_with_one_table(store, partial_db, town, sections):
    from pptx import Presentation

    for lang in LANGS:
        built = slides.build(store, partial_db[1][town], 2024, lang)
        assert built.sections == sections
        _no_dash_only_slides(built)
        prs = Presentation(io.BytesIO(deck.build_pptx(built)))
        assert len(prs.slides) == len(built.slides)
        for pptx_slide in prs.slides:  # no slide whose numbers are all “—”
            texts = [shape.text_frame.text.strip() for shape in pptx_slide.shapes if shape.has_text_frame]
            assert "—" not in texts, texts


# ---------------------------------------------------------------------------------------------------------
# Pure parts: latest figures, sources of the values drawn


def test_latest_figures_fill_a_missing_table_from_its_latest_year(store, partial_db):
    inputs = storage.indicator_inputs(store, [partial_db[1][XIBAO]])
    row = summary.latest_figures(inputs, 2025)
    assert row["registered_persons"] == 25300 and row.attrs["years"]["registered_persons"] == 2025
    assert row["cultivated_area"] == 43695 and row.attrs["years"]["cultivated_area"] == 2024
    # filled per table: the 2025 file has no stated minority share, and 2024's is not mixed in
    assert pd.isna(row["minority_share_stated"])
    table = summary.indicator_table(store, partial_db[1][XIBAO], 2025, "zh", latest=True).set_index("id")
    assert table.loc["cultivated_per_person", "value_year"] == 2024 and pd.isna(
        table.loc["cultivated_per_person", "yoy"])
    plain = summary.indicator_table(store, partial_db[1][XIBAO], 2025, "zh").set_index("id")
    assert pd.isna(plain.loc["cultivated_per_person", "value"])  # without ``latest``: the year's own only


def test_sources_name_the_batches_of_the_values_drawn(store, partial_db):
    region = partial_db[1][XIBAO]
    text = summary.drawn_sources(store, region, {"cultivated_area": 2024, "registered_persons": 2025}, "zh")
    assert REPORT_2024 in text and "第1批" in text and POPULATION_2025 in text and "第2批" in text
    only_land = summary.drawn_sources(store, region, {"cultivated_area": 2024}, "en")
    assert POPULATION_2025 not in only_land and "batch 1" in only_land
