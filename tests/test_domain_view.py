"""lawstats.domain_view and lawstats.domain_charts on frames built here, against the shipped catalogue: what the
generic domain page shows and the chart rules of issue 10 §5."""

from __future__ import annotations

import pandas as pd
import pytest

from lawstats import catalogue, domain_charts, domain_view
from lawstats.domain_view import PALETTE

CAT = catalogue.load()
LEGALITY = CAT.domain("legality_review")
PUBLICITY = CAT.domain("publicity")
# the domain's first four measures: its KPI cards when no measure is flagged as headline
FOUR_CARDS = [(2024, m, "", 1.0) for m in ("legality_reviews", "major_decisions_reviewed", "contracts_reviewed",
                                          "adviser_participations")]


def frame(rows) -> pd.DataFrame:
    """measure_values rows: (year, measure, item, value) or with a 5th element, the sentence."""
    out = []
    for n, row in enumerate(rows):
        year, measure, item, value, *rest = row
        out.append({"region_id": 4, "year": year, "measure_id": measure, "item_id": item, "value": value,
                    "text_value": None, "approx": False, "batch_id": 1 + n % 2, "source": f"报告{year}",
                    "section": None, "sentence": rest[0] if rest else None, "rolled": False})
    return pd.DataFrame(out)


def test_each_figure_is_the_latest_up_to_the_year_and_names_an_older_year():
    values = frame([(2023, "legality_reviews", "", 9.0), (2024, "legality_reviews", "", 13.0),
                    (2023, "contracts_reviewed", "", 30.0), (2025, "contracts_reviewed", "", 50.0)])
    view = domain_view.build(CAT, LEGALITY, values, 2024, "zh")
    shown = {f.measure_id: f for f in view.figures}
    assert shown["legality_reviews"].value == 13 and shown["legality_reviews"].year_note == ""
    assert shown["contracts_reviewed"].value == 30  # 2025 is after the chosen year: not shown
    assert shown["contracts_reviewed"].year_note == "2023年数据"
    english = domain_view.build(CAT, LEGALITY, values, 2024, "en")
    assert {f.measure_id: f.year_note for f in english.figures}["contracts_reviewed"] == "2023 data"
    assert view.sources == ("报告2024", "报告2023")  # the documents of the values drawn, not of 2025


def test_rates_that_are_all_100_percent_become_one_line():
    full = frame([(2024, "contract_review_pass_rate", "", 100.0), (2024, "village_adviser_coverage_rate", "", 100.0),
                  (2024, "legality_reviews", "", 13.0)])
    view = domain_view.build(CAT, LEGALITY, full, 2024, "zh")
    assert view.rates_line == "合同审查通过率、村（社区）法律顾问覆盖率均为100%"
    assert all(f.unit != "%" for f in view.figures)
    partly = full.assign(value=full["value"].where(full["measure_id"] != "contract_review_pass_rate", 96.0))
    view = domain_view.build(CAT, LEGALITY, partly, 2024, "zh")
    assert view.rates_line == ""
    assert {f.measure_id for f in view.figures if f.unit == "%"} == {"contract_review_pass_rate",
                                                                     "village_adviser_coverage_rate"}


def test_never_two_units_in_one_group_and_a_unit_alone_is_a_number():
    values = frame([(2024, m, "", v) for m, v in (
        ("legality_reviews", 13.0), ("major_decisions_reviewed", 4.0), ("contracts_reviewed", 43.0),
        ("legal_opinions", 12.0), ("adviser_participations", 5.0), ("adviser_duty_sessions", 40.0),
        ("town_legal_advisers", 1.0), ("village_legal_advisers", 9.0), ("legal_documents_drafted", 7.0),
        ("normative_documents_issued", 2.0))])
    view = domain_view.build(CAT, LEGALITY, values, 2024, "zh")
    # no measure of the domain is flagged as headline: its first four, in catalogue order
    assert [c.measure_id for c in view.cards] == ["legality_reviews", "major_decisions_reviewed",
                                                  "contracts_reviewed", "adviser_participations"]
    assert view.groups, "the figures beyond the cards are drawn"
    for group in view.groups:
        assert len({f.unit for f in group.figures}) == 1 and len(group.figures) >= 2
        assert group.integer  # all counts
    grouped = {f.measure_id for g in view.groups for f in g.figures}
    singles = {f.measure_id for f in view.singles}
    assert {"legal_opinions", "legal_documents_drafted"} <= grouped  # 份 and 份
    assert {"town_legal_advisers", "village_legal_advisers"} <= grouped  # 名 and 名
    assert {"adviser_duty_sessions", "normative_documents_issued"} == singles  # alone in 次 and 件 beyond the cards
    everything = {f.measure_id for f in view.figures}
    assert everything == set(values["measure_id"])  # nothing lost, nothing twice
    assert len(view.figures) == len(everything)


def test_headline_measures_of_the_catalogue_are_the_cards(tmp_path):
    import shutil

    folder = tmp_path / "catalogue"
    shutil.copytree(catalogue.FOLDER, folder)
    path = folder / "legality_review.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'id = "legal_opinions"\n', 'id = "legal_opinions"\nheadline = true\n'), encoding="utf-8")
    custom = catalogue.load(folder)
    assert custom.measures["legal_opinions"].headline
    values = frame([(2024, "legality_reviews", "", 13.0), (2024, "legal_opinions", "", 12.0)])
    view = domain_view.build(custom, custom.domain("legality_review"), values, 2024, "zh")
    assert [c.measure_id for c in view.cards] == ["legal_opinions"]


def test_one_colour_per_measure_everywhere_and_never_red():
    ids = [m.id for m in CAT.measures_of("legality_review")]
    colours = [domain_view.colour_of(CAT, i) for i in ids]
    assert colours[:len(PALETTE)] == list(PALETTE[:len(ids)])  # measures drawn together differ
    assert len(set(colours[:len(PALETTE)])) == min(len(ids), len(PALETTE))
    assert all(not c.lower().startswith(("#b71c1c", "#c62828", "#d32f2f", "#f44336", "#e53935", "#ff0000"))
               for c in PALETTE)
    values = frame([*FOUR_CARDS, (2023, "adviser_duty_sessions", "", 30.0), (2024, "adviser_duty_sessions", "", 40.0),
                    (2024, "adviser_mediations", "", 5.0)])
    view = domain_view.build(CAT, LEGALITY, values, 2024, "zh")
    bars = domain_charts.unit_group(view.groups[0], "x", "zh")
    trend = domain_charts.trend(view.trends[0], "x", "zh")
    bar_colour = dict(zip(bars.data[0].y, bars.data[0].marker.color))
    line_colour = {t.name: t.line.color for t in trend.data}
    label = CAT.measures["adviser_duty_sessions"].zh
    assert bar_colour[label] == line_colour[label] == domain_view.colour_of(CAT, "adviser_duty_sessions")
    assert bar_colour[CAT.measures["adviser_mediations"].zh] != bar_colour[label]


@pytest.mark.parametrize("top, dtick", [(3, 1), (9, 1), (4000, None)])
def test_count_axes_have_whole_ticks(top, dtick):
    values = frame([*FOUR_CARDS, (2024, "adviser_duty_sessions", "", float(top)), (2024, "adviser_mediations", "", 1.0)])
    view = domain_view.build(CAT, LEGALITY, values, 2024, "zh")
    fig = domain_charts.unit_group(view.groups[0], "x", "zh")
    assert fig.layout.xaxis.tickformat == ",d"  # never 0.5 persons or 2.5k
    assert fig.layout.xaxis.dtick == dtick


def test_a_breakdown_is_bars_in_declared_order_small_shares_included():
    values = frame([(2024, "publicity_events", "", 68.0), (2024, "publicity_events", "theme_day", 2.0),
                    (2024, "publicity_events", "square", 60.0), (2024, "publicity_events", "mobile_class", 6.0)])
    view = domain_view.build(CAT, PUBLICITY, values, 2024, "zh")
    (part,) = view.breakdowns
    assert list(part.items["item"]) == ["广场宣传", "法治流动课堂", "主题日宣传"]  # as the catalogue lists them
    fig = domain_charts.breakdown(part, "zh")
    assert [t.type for t in fig.data] == ["bar"]  # 2 of 68 (3%) stays a readable bar, never a thin slice
    assert list(fig.data[0].x) == [60.0, 6.0, 2.0]


def test_a_domain_with_nothing_is_empty_and_listed_nowhere():
    values = frame([(2024, "legality_reviews", "", 13.0)])
    assert domain_view.build(CAT, PUBLICITY, values, 2024, "zh").empty
    assert domain_view.build(CAT, LEGALITY, values, 2023, "zh").empty  # its only figure is of a later year
    assert [d.id for d in domain_view.domains_with_data(CAT, values)] == ["legality_review"]
    assert domain_view.domains_with_data(CAT, values.iloc[0:0]) == []


def test_text_from_the_data_stays_text_in_charts():
    values = frame([(2024, "publicity_events", "<b>x</b>", 5.0), (2024, "publicity_events", "square", 1.0)])
    view = domain_view.build(CAT, PUBLICITY, values, 2024, "zh")
    fig = domain_charts.breakdown(view.breakdowns[0], "zh")
    assert "&lt;b&gt;x&lt;/b&gt;" in fig.data[0].y and "<b>x</b>" not in fig.data[0].y


def test_a_report_sentence_travels_with_its_figure():
    values = frame([(2024, "legality_reviews", "", 13.0, "全年审查13次")])
    view = domain_view.build(CAT, LEGALITY, values, 2024, "zh")
    assert [(f.measure_id, f.sentence) for f in view.sentences] == [("legality_reviews", "全年审查13次")]
