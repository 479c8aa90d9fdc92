"""Indicator formulas and consistency checks, in pandas, vectorised over any number of (region, year) rows.

The metadata of each indicator (names, units, formula in words, target) is declared in ``lawstats.registry``;
this module holds the code of each formula under the same id. ``tests/test_indicators.py`` checks that every
declared indicator has a formula and every formula a declaration.
The input frame is ``storage.indicator_inputs``: one row per region and year.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from lawstats.registry import CHECKS, INDICATORS, INDICATORS_BY_ID

Formula = Callable[[pd.DataFrame], pd.Series]


def _col(f: pd.DataFrame, name: str) -> pd.Series:
    """A column as floats; a figure the data does not have is all-missing, never zero."""
    if name not in f:
        return pd.Series(np.nan, index=f.index, dtype="float64")
    column = f[name]
    if column.dtype == "float64":
        return column  # callers never change it in place
    if not pd.api.types.is_numeric_dtype(column):  # text or decimals: parsed (to_numeric is slow on numbers)
        column = pd.to_numeric(column, errors="coerce")
    return column.astype("float64")


def _as_floats(f: pd.DataFrame) -> pd.DataFrame:
    """The figures as floats once, so the formulas and checks do not convert the same column many times.
    List columns (ethnic groups, approximate flags) are left out: no formula reads them. Built from arrays:
    on the few rows of one region, pandas' per-column overhead is most of an indicator table's time."""
    columns = {}
    for name in f.columns:
        column = f[name]
        if name in ("region_id", "year"):
            columns[name] = column.to_numpy()
        elif not (column.dtype == object and _holds_lists(column)):
            columns[name] = _col(f, name).to_numpy()
    return pd.DataFrame(columns, index=f.index)


def _holds_lists(column: pd.Series) -> bool:
    known = column.dropna()
    return len(known) > 0 and isinstance(known.iloc[0], (list, tuple, np.ndarray))


def _ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)) * scale


def _counted_or_stated(f, rows: str, counted_rows: str, numerator: str, denominator: str, stated: str) -> pd.Series:
    """A rate from counts where every programme was counted, else the lowest rate the report states."""
    counted = _ratio(_col(f, numerator), _col(f, denominator), 100)
    all_counted = (_col(f, counted_rows) == _col(f, rows)) & (_col(f, rows) > 0)
    return counted.where(all_counted, _col(f, stated))


FORMULAS: dict[str, Formula] = {
    "minority_share": lambda f: _ratio(_col(f, "minority_persons"), _col(f, "registered_persons"), 100),
    "resident_rate": lambda f: _ratio(_col(f, "resident_persons"), _col(f, "registered_persons"), 100),
    "resident_household_rate": lambda f: _ratio(_col(f, "resident_households"), _col(f, "registered_households"), 100),
    "household_size": lambda f: _ratio(_col(f, "registered_persons"), _col(f, "registered_households")),
    "cultivated_per_person": lambda f: _ratio(_col(f, "cultivated_area"), _col(f, "registered_persons")),
    "forest_share": lambda f: _ratio(_col(f, "forest_area"), _col(f, "forest_area") + _col(f, "cultivated_area"), 100),
    "persons_per_subgrid": lambda f: _ratio(_col(f, "registered_persons"), _col(f, "sub_grids")),
    "households_per_subgrid": lambda f: _ratio(_col(f, "registered_households"), _col(f, "sub_grids")),
    "subgrids_per_area": lambda f: _ratio(_col(f, "sub_grids"), _col(f, "grid_areas")),
    "study_sessions": lambda f: _col(f, "study_sessions_total"),
    "study_completion_rate": lambda f: _counted_or_stated(
        f, "study_rated_rows", "study_counted_rows", "study_participants", "study_required", "study_rate_stated_min"),
    "exam_participation_rate": lambda f: _counted_or_stated(
        f, "exam_rows", "exam_counted_rows", "exam_participants", "exam_required", "exam_participation_stated_min"),
    "exam_pass_rate": lambda f: _counted_or_stated(
        f, "exam_rows", "exam_pass_counted_rows", "exam_passed", "exam_participants", "exam_pass_stated_min"),
    "key_persons_per_10k": lambda f: _ratio(_col(f, "key_persons"), _col(f, "registered_persons"), 10_000),
}
# Indicators that are a reported figure: the formula is the column itself.
for _indicator in INDICATORS:
    if _indicator.id not in FORMULAS and _indicator.inputs == (_indicator.id,):
        FORMULAS[_indicator.id] = (lambda column: lambda f: _col(f, column))(_indicator.id)


def compute(inputs: pd.DataFrame, ids: list[str] | None = None) -> pd.DataFrame:
    """Wide frame: region_id, year and one column per indicator (NaN where a figure is missing)."""
    floats = _as_floats(inputs)
    values = {i: FORMULAS[i](floats).to_numpy() for i in ids or [i.id for i in INDICATORS]}
    return pd.concat([inputs[["region_id", "year"]], pd.DataFrame(values, index=inputs.index)], axis=1)


def long_form(values: pd.DataFrame) -> pd.DataFrame:
    """region_id, year, indicator, value: one row per indicator value that exists."""
    frame = values.melt(id_vars=["region_id", "year"], var_name="indicator", value_name="value")
    return frame.dropna(subset=["value"]).reset_index(drop=True)


def year_over_year(values: pd.DataFrame) -> pd.DataFrame:
    """Per region and indicator, the change from the previous year that has data (same shape as ``values``)."""
    ordered = values.sort_values(["region_id", "year"])
    ids = [c for c in values.columns if c not in ("region_id", "year")]
    change = ordered.groupby("region_id")[ids].diff()
    change.insert(0, "year", ordered["year"])
    change.insert(0, "region_id", ordered["region_id"])
    return change.loc[values.index]


def stated_value(inputs: pd.DataFrame, indicator_id: str) -> pd.Series:
    """The value the report itself states for an indicator, where the registry names one."""
    column = INDICATORS_BY_ID[indicator_id].stated_column
    return _col(inputs, column) if column else pd.Series(np.nan, index=inputs.index)


# ---------------------------------------------------------------------------------------------------------
# Consistency checks: True (passes), False (fails) or NA (the figures are missing).


def _le(f: pd.DataFrame, smaller: str, larger: str) -> pd.Series:
    a, b = _col(f, smaller), _col(f, larger)
    return (a <= b).astype("boolean").mask(a.isna() | b.isna())


CHECK_RULES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "minority_share_stated_vs_computed": lambda f: (
        (stated_value(f, "minority_share") - FORMULAS["minority_share"](f)).abs().le(0.01 + 1e-9)
        .astype("boolean").mask(stated_value(f, "minority_share").isna() | FORMULAS["minority_share"](f).isna())),
    "resident_le_registered": lambda f: _le(f, "resident_persons", "registered_persons"),
    "resident_households_le_registered": lambda f: _le(f, "resident_households", "registered_households"),
    "minority_le_registered": lambda f: _le(f, "minority_persons", "registered_persons"),
    "rates_within_0_100": lambda f: _rates_within_bounds(f),
    "passed_le_participants_le_required": lambda f: (
        _col(f, "training_order_violations").eq(0).astype("boolean").mask(_col(f, "training_order_violations").isna())),
    "training_stated_vs_computed": lambda f: (
        _col(f, "training_max_rate_gap").le(0.5).astype("boolean").mask(_col(f, "training_max_rate_gap").isna())),
}


def _rates_within_bounds(f: pd.DataFrame) -> pd.Series:
    rates = pd.concat([FORMULAS[i](f) for i in ("study_completion_rate", "exam_participation_rate",
                                                 "exam_pass_rate", "minority_share", "resident_rate")], axis=1)
    ok = (((rates >= 0) & (rates <= 100)) | rates.isna()).all(axis=1)  # every rate present lies in 0..100
    return ok.astype("boolean").mask(rates.isna().all(axis=1))


def run_checks(inputs: pd.DataFrame) -> pd.DataFrame:
    """region_id, year, check, passed (True / False / <NA>) for every declared check."""
    frames = []
    inputs = _as_floats(inputs)
    for check in CHECKS:
        result = CHECK_RULES[check.id](inputs)
        frames.append(pd.DataFrame({"region_id": inputs["region_id"].to_numpy(), "year": inputs["year"].to_numpy(),
                                    "check": check.id, "passed": pd.array(result, dtype="boolean")}))
    if not frames:
        return pd.DataFrame(columns=["region_id", "year", "check", "passed"])
    return pd.concat(frames, ignore_index=True)


def failed_checks_for(checks: pd.DataFrame, indicator_id: str) -> list[str]:
    """The ids of failing checks that concern an indicator (for its badge)."""
    concerned = [c.id for c in CHECKS if indicator_id in c.indicators]
    failing = checks[checks["check"].isin(concerned) & checks["passed"].eq(False).fillna(False)]
    return list(failing["check"].unique())
