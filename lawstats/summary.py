"""What the pages, the CLI and the deck show, as plain DataFrames: indicator values with their metadata,
year-over-year change, check status and sources. No Streamlit here.
"""

from __future__ import annotations

import math

import pandas as pd

from lawstats import indicators, storage
from lawstats.errors import NotFound
from lawstats.i18n import t
from lawstats.registry import CHECKS_BY_ID, INDICATORS, INDICATORS_BY_ID, Indicator


def format_number(value, decimals: int = 0, lang: str = "zh") -> str:
    """Thousands separators, fixed decimals; missing is a dash, never 0."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return t("common.missing", lang)
    return f"{float(value):,.{decimals}f}"


def format_value(value, indicator: Indicator, lang: str = "zh", with_unit: bool = True) -> str:
    text = format_number(value, indicator.decimals, lang)
    unit = indicator.unit(lang)
    if not with_unit or not unit or text == t("common.missing", lang):
        return text
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def find_region(store: storage.Store, name_or_code: str) -> int:
    """A region id from a name (西堡镇 or 西堡) or a statistical code; NotFound otherwise."""
    from lawstats.importer import RegionResolver  # the one place names are resolved

    region_id, _ = RegionResolver(storage.regions(store)).resolve(name_or_code)
    if region_id is None:
        raise NotFound("error.unknown_region", value=name_or_code)
    return region_id


def default_region(store: storage.Store) -> int | None:
    """The lowest-level region that has data (the township the app opens on), preferring real data."""
    with_data = storage.regions_with_data(store)
    if with_data.empty:
        return None
    regions = storage.regions(store).set_index("region_id")
    candidates = regions.loc[regions.index.isin(with_data["region_id"])].copy()
    candidates["synthetic"] = candidates["synthetic"].fillna(False).astype(bool)
    order = {"village": 0, "township": 1, "county": 2, "city": 3, "province": 4}
    candidates["rank"] = candidates["level"].map(lambda lv: abs(order.get(lv, 5) - 1))
    return int(candidates.sort_values(["synthetic", "rank"]).index[0])


def region_values(store: storage.Store, region_id: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(inputs, indicator values, checks) of one region over all its years."""
    inputs = storage.indicator_inputs(store, [region_id])
    return inputs, indicators.compute(inputs), indicators.run_checks(inputs)


def indicator_table(store: storage.Store, region_id: int, year: int, lang: str = "zh",
                    ids: list[str] | None = None) -> pd.DataFrame:
    """One row per indicator for a region and year: id, label, value, formatted, unit, yoy, series,
    definition, formula, check status and failed checks."""
    inputs, values, checks = region_values(store, region_id)
    if year not in set(values["year"]):
        raise NotFound("common.no_figures", region=region_id, year=year, what="")
    yoy = indicators.year_over_year(values)
    row = values[values["year"] == year].iloc[0]
    change = yoy[values["year"] == year].iloc[0]
    years = values.sort_values("year")
    these = [INDICATORS_BY_ID[i] for i in ids] if ids else list(INDICATORS)
    out = []
    for ind in these:
        failed = indicators.failed_checks_for(checks[checks["year"] == year], ind.id)
        concerned = checks[(checks["year"] == year) & checks["check"].isin(
            [c for c, chk in CHECKS_BY_ID.items() if ind.id in chk.indicators])]
        status = "fail" if failed else ("ok" if concerned["passed"].eq(True).any() else "na")
        value = row[ind.id]
        out.append({
            "id": ind.id, "label": ind.label(lang), "domain": ind.domain, "value": value,
            "formatted": format_value(value, ind, lang), "unit": ind.unit(lang),
            "yoy": change[ind.id], "series": years[["year", ind.id]].dropna()[ind.id].tolist(),
            "series_years": years[["year", ind.id]].dropna()["year"].tolist(),
            "definition": ind.definition(lang), "formula": ind.formula(lang), "target": ind.target,
            "higher_is_better": ind.higher_is_better, "headline": ind.headline,
            "check_status": status, "failed_checks": [CHECKS_BY_ID[c].label(lang) for c in failed],
        })
    return pd.DataFrame(out)


def sources(store: storage.Store, region_id: int, year: int) -> list[str]:
    """The documents the region's figures of that year come from."""
    names = set()
    for table in storage.TABLES:
        rows = storage.table_rows(store, table, [region_id], [year])
        names.update(s for s in rows["source"].dropna().unique())
    return sorted(names)
