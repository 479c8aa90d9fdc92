"""The five special domains' slides colour each measure as the pages do (``lawstats.colours``): in the slide's
``Chart``, in the presentation mode's figure (``charts.slide_chart``) and in the .pptx (python-pptx fills)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation

from lawstats import charts, deck, slides, summary
from lawstats.colours import CONCEPT_COLORS, NEUTRAL_COLOR
from tests.test_partial_charts import colours_by_label
from tests.test_slides import commit_synthetic

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def xibao(fresh_store) -> int:
    return summary.find_region(fresh_store, "西堡镇")


def figures_of(store, region_id: int, year: int) -> pd.Series:
    inputs, _, _ = summary.region_values(store, region_id)
    return summary.latest_figures(inputs, year)


def chart_and_pptx(store, region_id: int, section: str):
    """The first slide of a section: its ``Chart`` and the native chart of the same slide in the .pptx."""
    built = slides.build(store, region_id, 2024, "zh")
    index = next(i for i, s in enumerate(built.slides) if s.section == section)
    pptx_slide = Presentation(io.BytesIO(deck.build_pptx(built))).slides[index]
    (native,) = [shape.chart for shape in pptx_slide.shapes if shape.has_chart]
    return built.slides[index].chart, native


def hex_of(rgb) -> str:
    return f"#{rgb}".lower()


def point_colours(native) -> dict[str, str]:
    """Category → its bar's fill in a one-series .pptx chart."""
    series = native.plots[0].series[0]
    return {str(c): hex_of(series.points[i].format.fill.fore_color.rgb)
            for i, c in enumerate(native.plots[0].categories)}


def test_land_bars_are_green_and_brown_as_on_the_land_page(fresh_store, xibao):
    chart, native = chart_and_pptx(fresh_store, xibao, "land")
    page = colours_by_label(charts.land_areas(summary.land_areas(figures_of(fresh_store, xibao, 2024), "zh"), "zh"))
    expected = {"耕地面积": CONCEPT_COLORS["cultivated_area"], "林地面积": CONCEPT_COLORS["forest_area"]}
    assert chart.categories == tuple(expected)
    assert dict(zip(chart.categories, chart.colours)) == expected == {c: page[c] for c in expected}
    assert point_colours(native) == expected
    drawn = charts.slide_chart(chart, 600).data[0].marker.color  # the presentation mode's bars
    assert dict(zip(chart.categories, drawn)) == expected


def test_population_series_are_registered_blue_and_resident_orange(fresh_store, xibao):
    chart, native = chart_and_pptx(fresh_store, xibao, "population")
    page = colours_by_label(charts.population_structure(
        summary.population_structure(figures_of(fresh_store, xibao, 2024), "zh"), "zh"))
    expected = {"户籍": CONCEPT_COLORS["registered_persons"], "常住": CONCEPT_COLORS["resident_persons"]}
    assert {s.name: s.colour for s in chart.series} == expected == {n: page[n] for n in expected}
    assert {s.name: hex_of(s.format.fill.fore_color.rgb) for s in native.plots[0].series} == expected
    drawn = {trace.name: trace.marker.color for trace in charts.slide_chart(chart, 600).data}
    assert drawn == expected
    assert expected["常住"] != charts.PALETTE[2]  # not the second series' colour by position


def test_grid_bars_take_the_grid_pages_colours(fresh_store, xibao):
    chart, native = chart_and_pptx(fresh_store, xibao, "grid")
    page = colours_by_label(charts.grid_coverage(summary.grid_coverage(figures_of(fresh_store, xibao, 2024), "zh"),
                                                 "zh"))
    assert chart.colours == tuple(page[c] for c in chart.categories)
    assert set(chart.colours) == {NEUTRAL_COLOR}  # villages to shops have no colour of their own on the page
    assert point_colours(native) == dict(zip(chart.categories, chart.colours))


def test_trend_lines_take_the_trend_pages_colours(fresh_store):
    region_id = commit_synthetic(fresh_store)  # three years of population and land
    built = slides.build(fresh_store, region_id, 2024, "zh")
    trends = [s.chart for s in built.slides if s.section == "trends"]
    values = summary.region_values(fresh_store, region_id)[1]
    for chart, ids in zip(trends, (slides.TREND_INDICATORS["population"], slides.TREND_INDICATORS["land"])):
        page = charts.trend_lines(summary.indicator_series(values, list(ids), "zh"), "zh")
        assert [s.colour for s in chart.series] == [CONCEPT_COLORS[i] for i in ids]
        assert [s.colour for s in chart.series] == [trace.line.color for trace in page.data]
    prs = Presentation(io.BytesIO(deck.build_pptx(built)))
    natives = [shape.chart for index, s in enumerate(built.slides) if s.section == "trends"
               for shape in prs.slides[index].shapes if shape.has_chart]
    land = {s.name: hex_of(s.format.line.color.rgb) for s in natives[1].plots[0].series}
    assert land == {"耕地面积": CONCEPT_COLORS["cultivated_area"], "林地面积": CONCEPT_COLORS["forest_area"]}


def test_the_colours_and_the_deck_need_no_plotly():
    code = ("import sys, lawstats.colours, lawstats.slides, lawstats.deck; "
            "sys.exit(1 if any(m.split('.')[0] == 'plotly' for m in sys.modules) else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
