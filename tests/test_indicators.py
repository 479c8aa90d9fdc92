"""Every indicator of issue 2's table, computed from the real seeded database, and the consistency checks.

The expected values are the ones the issue lists for 西堡镇 2024 (rounded as shown there); the inputs are the
figures of ``data/`` loaded through the same import path the app uses (fixture ``fresh_store``).
A failing check must show as a failing check (a badge), never be silently corrected.
"""

from __future__ import annotations

import pandas as pd
import pytest

from lawstats import indicators, seed, storage, summary
from lawstats.importer import ImportOptions, prepare_import
from lawstats.reader import read_csv_bytes
from lawstats.registry import INDICATORS_BY_ID
from tests.conftest import copy_seeded

# (indicator id, value as the issue shows it, decimals shown there)
ISSUE_TABLE = [
    ("minority_share", 0.64, 2),
    ("resident_rate", 95.06, 2),
    ("resident_household_rate", 94.41, 2),
    ("household_size", 3.59, 2),
    ("cultivated_per_person", 1.73, 2),
    ("forest_share", 57.3, 1),
    ("persons_per_subgrid", 242.5, 1),
    ("households_per_subgrid", 67.5, 1),
    ("subgrids_per_area", 11.6, 1),
    ("key_persons_per_10k", 4.76, 2),
    ("study_completion_rate", 100.0, 0),
    ("exam_participation_rate", 100.0, 0),
    ("exam_pass_rate", 100.0, 0),
]


@pytest.fixture(scope="module")
def xibao(tmp_path_factory, seeded_template):
    """(store, region id, inputs, values) of 西堡镇 from a copy of the seeded database, like ``fresh_store``
    (shared by the read-only tests of this module; tests that write use ``fresh_store``)."""
    store = seed.open_store(copy_seeded(seeded_template, tmp_path_factory.mktemp("indicators") / "lawstats.duckdb"))
    region_id = summary.find_region(store, "西堡镇")
    inputs = storage.indicator_inputs(store, [region_id], [2024])
    yield store, region_id, inputs, indicators.compute(inputs)
    store.close()


@pytest.mark.parametrize("indicator_id, expected, decimals", ISSUE_TABLE, ids=[r[0] for r in ISSUE_TABLE])
def test_indicator_matches_issue_table(xibao, indicator_id, expected, decimals):
    _, _, _, values = xibao
    assert len(values) == 1
    assert round(float(values.iloc[0][indicator_id]), decimals) == pytest.approx(expected)


def test_indicator_formulas_from_raw_figures(xibao):
    """The same values from the raw counts, so a wrong formula cannot hide behind a right rounding."""
    _, _, _, values = xibao
    row = values.iloc[0]
    assert row["minority_share"] == pytest.approx(162 / 25218 * 100)
    assert row["resident_rate"] == pytest.approx(23971 / 25218 * 100)
    assert row["resident_household_rate"] == pytest.approx(6625 / 7017 * 100)
    assert row["household_size"] == pytest.approx(25218 / 7017)
    assert row["cultivated_per_person"] == pytest.approx(43695 / 25218)
    assert row["forest_share"] == pytest.approx(58670.24 / (43695 + 58670.24) * 100)
    assert row["persons_per_subgrid"] == pytest.approx(25218 / 104)
    assert row["households_per_subgrid"] == pytest.approx(7017 / 104)
    assert row["subgrids_per_area"] == pytest.approx(104 / 9)
    assert row["key_persons_per_10k"] == pytest.approx(12 / 25218 * 10_000)
    assert row["study_sessions"] == 4
    assert row["registered_persons"] == 25218


def test_indicator_table_formats_as_the_issue_shows(xibao):
    store, region_id, _, _ = xibao
    table = summary.indicator_table(store, region_id, 2024, "zh").set_index("id")
    assert table.loc["registered_persons", "formatted"].startswith("25,218")
    assert table.loc["minority_share", "formatted"] == "0.64%"
    assert table.loc["resident_rate", "formatted"] == "95.06%"
    assert table.loc["cultivated_per_person", "formatted"].startswith("1.73 亩")
    assert table.loc["forest_share", "formatted"] == "57.3%"


def test_missing_figure_gives_missing_value_not_zero():
    inputs = pd.DataFrame({"region_id": [1], "year": [2024], "registered_persons": [1000],
                           "minority_persons": [None]})
    values = indicators.compute(inputs, ["minority_share", "household_size"])
    assert values["minority_share"].isna().all()
    assert values["household_size"].isna().all()  # no households at all: missing, not 0 or inf


def test_zero_denominator_gives_missing_value():
    inputs = pd.DataFrame({"region_id": [1], "year": [2024], "sub_grids": [0], "registered_persons": [500]})
    assert indicators.compute(inputs, ["persons_per_subgrid"])["persons_per_subgrid"].isna().all()


def test_year_over_year_change_with_two_years():
    values = pd.DataFrame({"region_id": [1, 1, 2], "year": [2023, 2024, 2024],
                           "household_size": [3.5, 3.6, 3.0]})
    change = indicators.year_over_year(values)
    assert change["household_size"].iloc[1] == pytest.approx(0.1)
    assert change["household_size"].iloc[[0, 2]].isna().all()  # no earlier year to compare with


# ---------------------------------------------------------------------------------------------------------
# Consistency checks


def _outcomes(result: pd.DataFrame) -> dict[str, bool | None]:
    """check id -> True (passes), False (fails) or None (cannot be checked)."""
    return {c: (None if pd.isna(p) else bool(p)) for c, p in zip(result["check"], result["passed"])}


def _checks(store, region_id, year=2024) -> dict[str, bool | None]:
    return _outcomes(indicators.run_checks(storage.indicator_inputs(store, [region_id], [year])))


def test_seed_data_passes_every_check_it_can_make(xibao):
    store, region_id, _, _ = xibao
    checks = _checks(store, region_id)
    assert checks["minority_share_stated_vs_computed"] is True  # 0.64% vs 162 / 25,218 = 0.6424%
    assert checks["resident_le_registered"] is True
    assert checks["resident_households_le_registered"] is True
    assert checks["minority_le_registered"] is True
    assert checks["rates_within_0_100"] is True
    # the report gives rates only, no counts: these cannot be checked, and say so (NA), not "pass"
    assert checks["passed_le_participants_le_required"] is None
    assert checks["training_stated_vs_computed"] is None


def test_stated_vs_computed_fails_for_a_tampered_stated_value(xibao):
    _, _, inputs, _ = xibao
    tampered = inputs.copy()
    tampered["minority_share_stated"] = 0.80
    assert _outcomes(indicators.run_checks(tampered))["minority_share_stated_vs_computed"] is False


def _commit_population(store, csv_text: str) -> int:
    """A second batch through the analysts' import path (the real CSV reader and validator)."""
    data = csv_text.encode("utf-8")
    prepared = prepare_import(storage.regions(store), [("population-fix.csv", read_csv_bytes(data))],
                              ImportOptions(source="测试批次 test batch"), storage.sha256_of(data))
    return storage.commit_batch(store, prepared.batch)


def test_stated_share_that_disagrees_fails_as_a_badge(fresh_store):
    region_id = summary.find_region(fresh_store, "西堡镇")
    _commit_population(fresh_store, "地区,年份,少数民族占比（报告值）\n西堡镇,2024,0.9%\n")
    assert _checks(fresh_store, region_id)["minority_share_stated_vs_computed"] is False
    table = summary.indicator_table(fresh_store, region_id, 2024, "zh").set_index("id")
    assert table.loc["minority_share", "check_status"] == "fail"
    # a badge, not a fix: the computed value is still 162 / 25,218 and the stated one is kept as written
    assert table.loc["minority_share", "value"] == pytest.approx(162 / 25218 * 100)
    rows = storage.table_rows(fresh_store, storage.TABLES_BY_ID["population"], [region_id], [2024])
    assert rows.iloc[0]["minority_share_stated"] == pytest.approx(0.9)


def test_resident_above_registered_in_stored_data_fails_the_check(fresh_store):
    """The importer refuses resident > registered within one row; across batches the stored data can still
    contradict itself (a later batch lowers registered persons), and then the check must fail."""
    region_id = summary.find_region(fresh_store, "西堡镇")
    _commit_population(fresh_store, "地区,年份,户籍人口\n西堡镇,2024,20000\n")
    rows = storage.table_rows(fresh_store, storage.TABLES_BY_ID["population"], [region_id], [2024])
    assert rows.iloc[0]["registered_persons"] == 20000 and rows.iloc[0]["resident_persons"] == 23971
    checks = _checks(fresh_store, region_id)
    assert checks["resident_le_registered"] is False
    table = summary.indicator_table(fresh_store, region_id, 2024, "zh").set_index("id")
    assert table.loc["resident_rate", "check_status"] == "fail"
    assert table.loc["resident_rate", "value"] > 100  # shown as computed, with the badge, never clipped


def test_failing_check_names_its_indicators():
    checks = pd.DataFrame({"region_id": [1], "year": [2024], "check": ["resident_le_registered"],
                           "passed": pd.array([False], dtype="boolean")})
    assert indicators.failed_checks_for(checks, "resident_rate") == ["resident_le_registered"]
    assert indicators.failed_checks_for(checks, "minority_share") == []


def test_every_headline_indicator_is_declared_with_a_unit():
    for indicator_id in ("registered_persons", "minority_share", "cultivated_per_person"):
        indicator = INDICATORS_BY_ID[indicator_id]
        assert indicator.headline and indicator.unit("zh") and indicator.unit("en")


def test_seed_loads_once(tmp_path):
    """Opening the store again does not load data/ a second time."""
    path = tmp_path / "twice.duckdb"
    seed.open_store(path).close()
    store = seed.open_store(path)
    try:
        assert storage.data_version(store) == 1
    finally:
        store.close()
