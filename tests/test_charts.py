"""Chart builders (``lawstats.charts``) on the frames ``lawstats.summary`` makes from the default data: each
returns a figure whose traces hold the database's numbers, titled in the chosen language, numbers written in
full (no ``25k``), data text escaped, and no builder changes the shared house template."""

from __future__ import annotations

import copy
import json
import math
import re

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from lawstats import charts, indicators, seed, storage, summary
from lawstats.i18n import t
from tests.conftest import copy_seeded

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def store(tmp_path_factory, seeded_template):
    """One copy of the seeded database for the module: the builders only read it."""
    opened = seed.open_store(copy_seeded(seeded_template, tmp_path_factory.mktemp("charts") / "lawstats.duckdb"))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def figures(store) -> pd.Series:
    """The stored figures of 西堡镇 2024 (one row of ``storage.indicator_inputs``)."""
    inputs, _, _ = summary.region_values(store, summary.find_region(store, "西堡镇"))
    return summary.figures_of(inputs, 2024)


@pytest.fixture(scope="module")
def training(store) -> pd.DataFrame:
    return storage.table_rows(store, storage.TABLES_BY_ID["training"], [summary.find_region(store, "西堡镇")], [2024])


@pytest.fixture(scope="module")
def provenance(store) -> pd.DataFrame:
    return storage.value_provenance(store, summary.find_region(store, "西堡镇"), 2024)


def all_charts(figures, training, provenance, lang):
    """(title key, figure) of every chart the pages draw, on the default data."""
    return [
        ("pages.chart.population_structure",
         charts.population_structure(summary.population_structure(figures, lang), lang)),
        ("pages.chart.minority", charts.minority_composition(summary.minority_composition(figures, lang), lang)),
        ("pages.chart.household_size", charts.household_sizes(summary.household_sizes(figures, lang), lang)),
        ("pages.chart.land_areas", charts.land_areas(summary.land_areas(figures, lang), lang)),
        ("pages.chart.land_composition", charts.land_composition(summary.land_areas(figures, lang), lang)),
        ("pages.chart.land_per_person", charts.land_per_person(summary.land_per_person(figures, lang), lang)),
        ("pages.chart.grid_chain", charts.grid_chain(summary.grid_chain(figures, "西堡镇", lang), lang)),
        ("pages.chart.grid_coverage", charts.grid_coverage(summary.grid_coverage(figures, lang), lang)),
        ("pages.chart.grid_load", charts.grid_loads(summary.grid_loads(figures, lang), lang)),
        ("pages.chart.safety_counts", charts.safety_counts(summary.safety_counts(figures, provenance, lang), lang)),
        ("pages.chart.training_rates", charts.training_rates(summary.training_rates(training, lang), lang)),
        ("pages.chart.training_sessions",
         charts.training_sessions(summary.training_sessions(training, lang), lang)),
    ]


def numbers_of(fig: go.Figure, axis: str) -> list[float]:
    found = []
    for trace in fig.data:
        values = getattr(trace, axis, None)
        found += [float(v) for v in (list(values) if values is not None else []) if not isinstance(v, str)]
    return found


def test_population_structure_draws_registered_against_resident(figures):
    frame = summary.population_structure(figures, "zh")
    fig = charts.population_structure(frame, "zh")
    persons, households = fig.data  # one panel per measure
    assert list(persons.y) == [25218, 23971]
    assert list(households.y) == [7017, 6625]
    assert list(persons.x) == ["户籍", "常住"]
    assert fig.layout.annotations[0].text == "人口（人）"  # the panel title carries the unit
    assert list(persons.text) == ["25,218", "23,971"]


def test_minority_composition_adds_up_to_the_registered_population(figures):
    frame = summary.minority_composition(figures, "en")
    fig = charts.minority_composition(frame, "en")
    # 0.64% would be an invisible slice: the two parts are bars, each labelled with its share
    assert fig.data[0].type == "bar" and list(fig.data[0].x) == [162, 25218 - 162]
    assert fig.data[0].text[0] == "162 persons · 0.64%"
    assert frame["share"].iloc[0] == pytest.approx(0.64, abs=0.005)
    notes = summary.minority_notes(figures, "zh")
    assert "0.64" in notes[0] and "162 ÷ 25,218" in notes[0]
    assert notes[1].endswith("汉、藏等")  # as the report writes it (issue 9, item 22)


def test_land_charts_hold_the_stored_areas(figures):
    areas = summary.land_areas(figures, "zh")
    assert numbers_of(charts.land_areas(areas, "zh"), "x") == [43695.0, 58670.24]
    assert list(charts.land_composition(areas, "zh").data[0].values) == [43695.0, 58670.24]
    assert areas["share"].tolist() == [42.7, 57.3]
    per_person = charts.land_per_person(summary.land_per_person(figures, "zh"), "zh")
    assert numbers_of(per_person, "x") == [1.73, round(58670.24 / 25218, 2)]


def test_household_sizes_registered_and_resident(figures):
    fig = charts.household_sizes(summary.household_sizes(figures, "zh"), "zh")
    assert numbers_of(fig, "x") == [3.59, round(23971 / 6625, 2)]


def test_grid_chain_counts_township_areas_and_sub_grids(figures):
    frame = summary.grid_chain(figures, "西堡镇", "zh")
    assert frame["value"].tolist() == [1, 9, 104]
    fig = charts.grid_chain(frame, "zh")
    texts = [a.text for a in fig.layout.annotations]
    assert "<b>9</b>" in texts and "<b>104</b>" in texts and "西堡镇" in texts
    assert any("11.6" in text for text in texts)  # the average branching, computed from the two counts


def test_grid_coverage_and_loads(figures):
    coverage = charts.grid_coverage(summary.grid_coverage(figures, "en"), "en")
    assert numbers_of(coverage, "x") == [19, 1, 45, 13, 135]
    # villages and shops are not one quantity: two panels, each on its own axis
    assert list(coverage.data[0].y) == ["Villages", "Communities"]
    assert list(coverage.data[1].y) == ["Enterprises", "Schools (incl. teaching points)", "Street shops"]
    assert coverage.data[0].xaxis == "x" and coverage.data[1].xaxis == "x2"
    loads = charts.grid_loads(summary.grid_loads(figures, "zh"), "zh")
    assert numbers_of(loads, "x") == [242.5, 67.5]
    assert list(loads.data[0].text) == ["242.5 人/网格", "67.5 户/网格"]


def test_safety_counts_keep_zero_and_the_reports_wording(figures, provenance):
    frame = summary.safety_counts(figures, provenance, "zh")
    assert frame["value"].tolist() == [12, 4, 19, 28, 0]
    fig = charts.safety_counts(frame, "zh")
    assert numbers_of(fig, "x") == [12, 4, 19, 28, 0]
    notes = summary.notes_of(frame, "zh")
    assert any("未发现" in note and note.startswith("涉黑恶线索数") for note in notes)


def test_training_rates_as_stated_against_the_target(training):
    frame = summary.training_rates(training, "zh")
    # four programmes give a rate; the exam gives two (participation and pass); 集中学法 gives sessions only
    assert len(frame) == 5 and set(frame["stated"]) == {100.0} and frame["computed"].isna().all()
    fig = charts.training_rates(frame, "zh")
    assert [trace.name for trace in fig.data] == ["参学率", "参考率", "及格率"]
    assert fig.layout.shapes[0].x0 == 100  # the target line
    assert summary.training_notes(frame, "zh") == [t("pages.training_no_counts", "zh")]
    sessions = charts.training_sessions(summary.training_sessions(training, "zh"), "zh")
    assert numbers_of(sessions, "x") == [4] and list(sessions.data[0].y) == ["镇村干部集中学法"]


def test_training_rates_show_computed_beside_stated_when_counts_exist():
    programmes = pd.DataFrame([
        {"programme": "<b>法宣在线考试</b>", "programme_kind": "exam", "sessions": None, "required_persons": 50,
         "participants": 48, "passed": 45, "participation_rate_stated": 96.0, "pass_rate_stated": 95.0},
    ])
    frame = summary.training_rates(programmes, "en")
    assert frame["computed"].tolist() == [96.0, 93.75]
    fig = charts.training_rates(frame, "en")
    diamonds = next(trace for trace in fig.data if trace.name == "Computed")
    assert list(diamonds.x) == [96.0, 93.75]
    # text from the data is shown as text, never as plotly's HTML
    assert all("<b>" not in label and "&lt;b&gt;" in label for label in diamonds.y)


def test_trend_lines_one_panel_per_indicator_with_year_over_year():
    values = pd.DataFrame({"region_id": [1, 1], "year": [2023, 2024],
                           "registered_persons": [25000.0, 25218.0], "minority_share": [0.60, 0.64]})
    frame = summary.indicator_series(values, ["registered_persons", "minority_share"], "en")
    first, second = frame.loc[frame["group"] == "Registered persons", "yoy"]
    assert pd.isna(first) and second == 218.0  # no change before the first year
    fig = charts.trend_lines(frame, "en")
    assert [list(trace.x) for trace in fig.data] == [[2023, 2024], [2023, 2024]]
    assert [a.text for a in fig.layout.annotations] == ["Registered persons", "Minority share"]  # registry order
    assert list(fig.data[0].y) == [25000.0, 25218.0] and list(fig.data[1].y) == [0.60, 0.64]
    assert "YoY +218" in fig.data[0].customdata[1]
    assert fig.layout.title.text == t("pages.chart.trend", "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_titles_and_labels_in_the_chosen_language(figures, training, provenance, lang):
    for key, fig in all_charts(figures, training, provenance, lang):
        assert fig.layout.title.text == t(key, lang)
        assert bool(CJK.search(fig.layout.title.text)) == (lang == "zh"), key
        assert fig.layout.template.layout.font.family.startswith("Noto Sans CJK SC")  # Chinese renders


def test_numbers_are_written_in_full_never_with_si_suffixes(figures, training, provenance):
    for key, fig in all_charts(figures, training, provenance, "zh"):
        layout = fig.to_plotly_json()["layout"]
        for name, axis in layout.items():
            if name.startswith(("xaxis", "yaxis")) and axis.get("visible", True) and axis.get("type") != "category":
                assert axis.get("tickformat", ",") in (",", ",d", "d", None), (key, name, axis.get("tickformat"))
        texts = [str(v) for trace in fig.data for v in list(getattr(trace, "text", None) or [])]
        assert not any(re.search(r"\d[kKM]\b", text) for text in texts), (key, texts)
    assert charts.number_text(25218) == "25,218" and charts.number_text(58670.24) == "58,670.24"
    assert charts.number_text(242.5) == "242.5" and charts.number_text(math.nan) == "—"


def test_no_builder_changes_the_shared_templates(figures, training, provenance):
    before = {name: copy.deepcopy(pio.templates[name].to_plotly_json()) for name in ("lawstats", "lawstats_present")}
    for lang in ("zh", "en"):
        figs = [fig for _, fig in all_charts(figures, training, provenance, lang)]
        for fig in figs:
            fig.update_layout(title_text="changed by a caller", font_size=40)  # changing a figure changes only it
    after = {name: pio.templates[name].to_plotly_json() for name in ("lawstats", "lawstats_present")}
    assert json.dumps(before, sort_keys=True, default=str) == json.dumps(after, sort_keys=True, default=str)


def test_presentation_variant_uses_the_larger_template(figures):
    fig = charts.grid_coverage(summary.grid_coverage(figures, "zh"), "zh", present=True)
    assert fig.layout.template.layout.font.size == 24


def test_table_headers_and_alt_text_follow_the_language(figures):
    frame = summary.population_structure(figures, "en")
    shown = summary.for_display(frame, "en")
    assert list(shown.columns) == ["Group", "Series", "Item", "Value", "Unit"]
    alt = summary.alt_text("Registered vs resident", frame, "en")
    assert "Registered persons 25,218persons" not in alt and "25,218" in alt and "23,971" in alt
    assert frame.attrs["columns"][:2] == ["registered_persons", "resident_persons"]


def test_source_line_names_document_and_sections(provenance):
    line = summary.source_line(provenance, ["grid_areas", "villages"], "zh")
    assert line == ("来源：西堡镇2024年度法治政府建设工作情况报告（二（四）扎实做好治安防控工作；一、基本情况）")


def test_chart_file_names_are_safe_and_say_what_they_show():
    name = charts.safe_file_name("西堡镇", t("pages.chart.grid_chain", "zh"), 2024)
    assert name.startswith("西堡镇_网格化治理层级") and name.endswith("_2024")
    assert not set(name) & set('/\\:*?"<>| →')


def test_svg_is_drawn_offline_by_the_installed_chromium(figures):
    from tests.browser import require_chromium

    require_chromium()
    fig = charts.grid_chain(summary.grid_chain(figures, "西堡镇", "zh"), "zh")
    svg = charts.to_svg(fig).decode("utf-8")
    assert svg.startswith("<svg") and "网格化治理层级" in svg and "104" in svg


def test_indicator_series_skips_years_without_a_value():
    values = pd.DataFrame({"region_id": [1, 1], "year": [2023, 2024], "key_persons": [math.nan, 12.0]})
    frame = summary.indicator_series(values, ["key_persons"], "zh")
    assert frame["year"].tolist() == [2024] and frame["yoy"].isna().all()
    assert list(indicators.year_over_year(values).columns) == ["region_id", "year", "key_persons"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_ranking_names_its_others_bar_with_their_count_in_the_readers_language(lang):
    from lawstats import compare
    from lawstats.registry import INDICATORS_BY_ID

    ranking = pd.DataFrame({"region_id": range(1, 31), "name": [f"合成镇{i:02d}" for i in range(1, 31)],
                            "value": [float(100 - i) for i in range(1, 31)], "rank": range(1, 31)})
    rows = compare.top_and_bottom(ranking, 5, highlight=None)
    fig = charts.ranking_bars(rows, INDICATORS_BY_ID["minority_share"], "排名", lang)
    labels = list(fig.data[0].y)
    assert t("compare.others", lang, count=20) in labels  # 30 regions, 5 best and 5 worst shown
    assert labels[0] == "1. 合成镇01" and len(labels) == 11
