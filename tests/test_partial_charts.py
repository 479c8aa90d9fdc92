"""Chart rules on the existing pages (issue 10 §5), on the default data (西堡镇 2024): one colour per concept
in every chart, never two units on one axis, a share under 5% as a bar with its number, rates all at 100% as one
line of text, alarm red only for a failing check, whole-number ticks on count axes."""

from __future__ import annotations

import pandas as pd
import pytest

from lawstats import charts, seed, storage, summary
from tests.conftest import copy_seeded


@pytest.fixture(scope="module")
def store(tmp_path_factory, seeded_template):
    opened = seed.open_store(copy_seeded(seeded_template, tmp_path_factory.mktemp("rules") / "lawstats.duckdb"))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def figures(store) -> pd.Series:
    inputs, _, _ = summary.region_values(store, summary.find_region(store, "西堡镇"))
    return summary.latest_figures(inputs, 2024)


@pytest.fixture(scope="module")
def training(store) -> pd.DataFrame:
    rows = storage.table_rows(store, storage.TABLES_BY_ID["training"], [summary.find_region(store, "西堡镇")])
    return summary.latest_rows(rows, 2024)


def colours_by_label(fig) -> dict[str, str]:
    """Bar or slice label → its colour, over every trace of a figure."""
    found = {}
    for trace in fig.data:
        labels = trace.labels if trace.type == "pie" else (trace.y if trace.orientation == "h" else trace.x)
        colours = trace.marker.colors if trace.type == "pie" else trace.marker.color
        colours = colours if isinstance(colours, (list, tuple)) else [colours] * len(labels)
        found.update(zip(map(str, labels), colours))
    return found


def test_registered_is_one_colour_in_every_chart(figures):
    structure = colours_by_label(charts.population_structure(summary.population_structure(figures, "zh"), "zh"))
    sizes = colours_by_label(charts.household_sizes(summary.household_sizes(figures, "zh"), "zh"))
    assert structure["户籍"] == sizes["户籍"] == charts.CONCEPT_COLORS["registered_persons"]
    assert structure["常住"] == sizes["常住"] != structure["户籍"]


def test_cultivated_is_one_colour_in_the_bar_and_the_donut(figures):
    areas = summary.land_areas(figures, "zh")
    bar, donut = colours_by_label(charts.land_areas(areas, "zh")), colours_by_label(charts.land_composition(areas, "zh"))
    assert charts.land_composition(areas, "zh").data[0].type == "pie"  # 42.7% and 57.3%: both slices visible
    assert bar == donut and bar["耕地面积"] != bar["林地面积"]


def test_no_ordinary_chart_is_alarm_red(figures, training, store):
    provenance = storage.value_provenance(store, summary.find_region(store, "西堡镇"), 2024)
    built = [charts.population_structure(summary.population_structure(figures, "zh"), "zh"),
             charts.household_sizes(summary.household_sizes(figures, "zh"), "zh"),
             charts.land_areas(summary.land_areas(figures, "zh"), "zh"),
             charts.grid_coverage(summary.grid_coverage(figures, "zh"), "zh"),
             charts.grid_loads(summary.grid_loads(figures, "zh"), "zh"),
             charts.safety_counts(summary.safety_counts(figures, provenance, "zh"), "zh"),
             charts.training_sessions(summary.training_sessions(training, "zh"), "zh")]
    for fig in built:
        assert charts.ALARM_COLOR not in colours_by_label(fig).values(), fig.layout.title.text
        assert fig.layout.template.layout.colorway[0] != charts.ALARM_COLOR


def test_safety_counts_never_put_two_units_on_one_axis(figures, store):
    provenance = storage.value_provenance(store, summary.find_region(store, "西堡镇"), 2024)
    frame = summary.safety_counts(figures, provenance, "zh")
    fig = charts.safety_counts(frame, "zh")
    units_per_axis: dict[str, set] = {}
    for trace in fig.data:
        units = {frame.loc[frame["item"] == str(label), "unit"].iloc[0] for label in trace.y}
        units_per_axis.setdefault(trace.xaxis, set()).update(units)
    assert len(units_per_axis) == 3 and all(len(u) == 1 for u in units_per_axis.values())  # 人, 个, 条


def test_a_share_under_five_percent_is_a_bar_with_its_number(figures):
    fig = charts.minority_composition(summary.minority_composition(figures, "zh"), "zh")
    assert [trace.type for trace in fig.data] == ["bar"]
    assert fig.data[0].text[0] == "162 人 · 0.64%"


def test_rates_all_at_100_are_one_line_of_text(training):
    rates = summary.training_rates(training, "zh")
    assert summary.all_at_target(rates)
    line = summary.at_target_line(rates, "zh")
    assert line.startswith("5 项比率均为 100%") and "法宣在线考试" in line
    mixed = rates.assign(stated=[100.0, 100.0, 100.0, 100.0, 95.0])
    assert not summary.all_at_target(mixed)


def test_count_axes_have_whole_number_ticks(training):
    fig = charts.training_sessions(summary.training_sessions(training, "zh"), "zh")  # 4 sessions
    assert fig.layout.xaxis.tickformat == ",d" and fig.layout.xaxis.dtick == 1


def test_failing_check_keeps_the_red_on_a_slide_tile():
    from lawstats.slides import Kpi

    ok, failing = Kpi("a", "A", 1.0, "1"), Kpi("b", "B", 2.0, "2", warning="核对未通过")
    fig = charts.kpi_tiles([ok, failing], columns=2, height=400)
    stripes = [s.fillcolor for s in fig.layout.shapes if s.x1 - s.x0 < 0.01]
    assert stripes == [charts.NEUTRAL_COLOR, charts.ALARM_COLOR]
