"""Comparing regions: a ranking with the chosen region highlighted (top and bottom N, the rest summarised),
its rank and percentile, the distribution, a region × year matrix and two indicators against each other.

What can be compared comes from the catalogue (``choices``): every derived indicator it declares and every numeric
measure, read for every region of one level under a scope region (at most ``MAX_REGIONS``) from
``storage.compare_inputs`` (the registry indicators, computed as everywhere else) and ``storage.measure_values``
(every other measure and ratio; ``all_values`` joins the two). Everything returned is small and ready to draw:
no chart built from it gets more than ``MAX_MARKS`` marks. No Streamlit here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lawstats import catalogue as catalogue_module
from lawstats import indicators
from lawstats.catalogue import Catalogue
from lawstats.i18n import t
from lawstats.registry import INDICATORS, INDICATORS_BY_ID, LEVEL_IDS, Indicator

MAX_REGIONS = 100_000  # regions whose figures reach pandas at once
MAX_MARKS = 5_000  # marks a chart may send to the browser
LABEL_COLUMNS = ["region_id", "name", "code", "parent_name", "year"]


def higher_is_better(indicator_id: str) -> bool:
    """The ranking direction: lower-is-better indicators rank their smallest value first; neutral ones
    (neither direction is good) and plain measures rank from the largest, as a plain ordering."""
    chosen = choices(catalogue_module.load()).get(indicator_id)
    return chosen is None or chosen.higher_is_better is not False


# ---------------------------------------------------------------------------------------------------------
# What can be compared: the catalogue's indicators and measures


_CHOICES: dict[int, tuple[Catalogue, dict[str, Indicator]]] = {}  # keyed on the catalogue object (one per folder)


def choices(catalogue: Catalogue) -> dict[str, Indicator]:
    """``offered`` for the catalogue, built once per catalogue object (a read-only mapping: do not change it)."""
    cached = _CHOICES.get(id(catalogue))
    if cached is None or cached[0] is not catalogue:
        cached = _CHOICES[id(catalogue)] = (catalogue, offered(catalogue))
    return cached[1]


def offered(catalogue: Catalogue) -> dict[str, Indicator]:
    """Everything the compare page offers, by id, as ``registry.Indicator`` (label, unit, decimals, direction):
    the registry's indicators first (computed as on every page), then, in catalogue order, every other derived
    indicator and every numeric measure that is not already offered. Left out: year-on-year changes (the
    region × year matrix and the trend show change) and code indicators (all of them are registry ones)."""
    offered: dict[str, Indicator] = {i.id: i for i in INDICATORS}
    for domain in catalogue.domains:
        for declared in catalogue.indicators_of(domain.id):
            if declared.id not in offered and declared.kind in ("ratio", "figure"):
                offered[declared.id] = _from_indicator(catalogue, declared)
        for measure in catalogue.measures_of(domain.id):
            if measure.numeric and measure.id not in offered:
                offered[measure.id] = _from_measure(catalogue, measure)
    return offered


def _from_measure(catalogue: Catalogue, measure) -> Indicator:
    return Indicator(measure.id, measure.zh, measure.en, measure.domain, catalogue.unit_label(measure.unit, "zh"),
                     catalogue.unit_label(measure.unit, "en"), 0 if measure.kind == "count" else 2,
                     t("catalogue.formula_figure", "zh"), t("catalogue.formula_figure", "en"),
                     measure.definition_zh, measure.definition_en, (measure.id,))


def _from_indicator(catalogue: Catalogue, declared) -> Indicator:
    unit = catalogue_module.indicator_unit(catalogue, declared)
    if declared.kind == "figure":
        measure = catalogue.measures[declared.measure]
        decimals = 0 if measure.kind == "count" else declared.decimals
    else:
        decimals = declared.decimals
    return Indicator(declared.id, catalogue_module.indicator_label(catalogue, declared, "zh"),
                     catalogue_module.indicator_label(catalogue, declared, "en"), declared.domain,
                     catalogue.unit_label(unit, "zh"), catalogue.unit_label(unit, "en"), decimals,
                     catalogue_module.formula_text(catalogue, declared, "zh"),
                     catalogue_module.formula_text(catalogue, declared, "en"), declared.definition_zh,
                     declared.definition_en, declared.reads, declared.higher_is_better, declared.target)


def measure_table(catalogue: Catalogue, measures: pd.DataFrame) -> pd.DataFrame:
    """region_id, year and one column per numeric measure of a ``storage.measure_values`` frame: the value
    without a breakdown item, else (a measure that rolls up by summing) the sum of its items."""
    numeric = measures[measures["value"].notna() & measures["measure_id"].isin(
        [m.id for m in catalogue.measures.values() if m.numeric])]
    whole = numeric[numeric["item_id"] == ""]
    summed_ids = [m.id for m in catalogue.measures.values() if m.rollup == "sum"]
    parts = numeric[(numeric["item_id"] != "") & numeric["measure_id"].isin(summed_ids)]
    parts = parts.groupby(["region_id", "year", "measure_id"], as_index=False)["value"].sum()
    keys = ["region_id", "year", "measure_id"]
    both = pd.concat([whole[keys + ["value"]], parts]).drop_duplicates(keys, keep="first")
    if both.empty:
        return pd.DataFrame(columns=["region_id", "year"]).astype("int64")
    wide = both.pivot_table(index=["region_id", "year"], columns="measure_id", values="value", aggfunc="first")
    return wide.reset_index().rename_axis(columns=None)


def catalogue_values(catalogue: Catalogue, measures: pd.DataFrame) -> pd.DataFrame:
    """region_id, year and one column per offered id that is not a registry indicator: a measure as stored, a
    ratio as numerator ÷ (sum of denominators) × scale of the same year (no value where a part is missing or the
    denominator is 0). Column arithmetic on one array: a county's villages × 250 ids stay cheap."""
    table = measure_table(catalogue, measures)
    wanted = [i for i in choices(catalogue) if i not in INDICATORS_BY_ID]
    reads = {i: _reads(catalogue, i) for i in wanted}
    needed = list(dict.fromkeys(m for parts in reads.values() for m in parts))
    numbers = table.reindex(columns=needed).to_numpy(dtype="float64", na_value=np.nan)
    at = {m: j for j, m in enumerate(needed)}
    columns = {}
    for chosen_id in wanted:
        declared = catalogue.indicators.get(chosen_id)
        if declared is not None and declared.ratio is not None:
            numerator = numbers[:, at[declared.ratio.numerator]]
            denominator = numbers[:, [at[d] for d in declared.ratio.denominator]].sum(axis=1)  # NaN if any is
            with np.errstate(divide="ignore", invalid="ignore"):
                columns[chosen_id] = np.where(denominator != 0, numerator / denominator * declared.ratio.scale, np.nan)
        else:
            columns[chosen_id] = numbers[:, at[reads[chosen_id][0]]]
    return pd.concat([table[["region_id", "year"]].reset_index(drop=True),
                      pd.DataFrame(columns, index=range(len(table)))], axis=1)


def _reads(catalogue: Catalogue, chosen_id: str) -> tuple[str, ...]:
    """The measures an offered id reads: a ratio's parts, a figure's measure, else the measure itself."""
    declared = catalogue.indicators.get(chosen_id)
    if declared is None:
        return (chosen_id,)
    return declared.reads


def all_values(inputs: pd.DataFrame, regions: pd.DataFrame, measures: pd.DataFrame,
               catalogue: Catalogue | None = None) -> pd.DataFrame:
    """One row per region and year with any figure: region_id, name, code, parent_name, year and one column per
    offered id (``choices``). ``inputs``: ``storage.compare_inputs``/``effective_inputs`` (the registry
    indicators), ``regions``: region_id, name, code, parent_name; ``measures``: ``storage.measure_values``."""
    catalogue = catalogue or catalogue_module.load()
    keys = ["region_id", "year"]
    registry = indicators.compute(inputs) if len(inputs) else pd.DataFrame(columns=keys)
    others = catalogue_values(catalogue, measures) if len(measures) else pd.DataFrame(columns=keys)
    for part in (registry, others):  # the keys alone (astype on the whole wide frame copies every column)
        part[keys] = part[keys].astype("int64")
    merged = registry.merge(others, on=keys, how="outer")
    labels = regions[[c for c in LABEL_COLUMNS if c in regions.columns and c != "year"]]
    merged = labels.merge(merged, on="region_id", how="inner")
    missing = [i for i in choices(catalogue) if i not in merged.columns]
    merged = pd.concat([merged, pd.DataFrame(np.nan, index=merged.index, columns=missing)], axis=1)
    return merged.sort_values(keys, kind="stable").reset_index(drop=True)


def second_default(others: list[str], first_id: str, catalogue: Catalogue | None = None) -> int:
    """Where the scatter's second indicator starts in ``others``: the first headline indicator of another domain
    than the first one's (two domains against each other say more than two sides of one), else the first."""
    catalogue = catalogue or catalogue_module.load()
    offered = choices(catalogue)
    domain = offered[first_id].domain if first_id in offered else None
    for position, other in enumerate(others):
        declared = catalogue.indicators.get(other)
        if declared is not None and declared.headline and declared.domain != domain:
            return position
    return 0


def offered_ids(values: pd.DataFrame, catalogue: Catalogue | None = None) -> list[str]:
    """The offered ids (``choices`` order) with at least one value in ``values``: a measure no compared region
    has is not offered."""
    catalogue = catalogue or catalogue_module.load()
    with_values = set(values.columns[values.notna().any().to_numpy()])  # one pass over the frame, not per column
    return [i for i in choices(catalogue) if i in with_values]


def ranked(values: pd.DataFrame, indicator_id: str, year: int) -> pd.DataFrame:
    """The regions with a value in ``year``, best first: name, code, parent_name, value, rank (ties share
    the better rank) and percentile (the share of the other regions it ranks above)."""
    frame = values.loc[values["year"] == year, [c for c in LABEL_COLUMNS if c in values.columns] + [indicator_id]]
    frame = frame.rename(columns={indicator_id: "value"}).dropna(subset=["value"])
    descending = higher_is_better(indicator_id)
    frame = frame.sort_values(["value", "name"], ascending=[not descending, True], kind="stable")
    count = len(frame)
    goodness = frame["value"] if descending else -frame["value"]
    frame["rank"] = goodness.rank(method="min", ascending=False).astype("int64")
    worse = count - goodness.rank(method="max", ascending=False)
    frame["percentile"] = (100.0 * worse / (count - 1)) if count > 1 else 100.0
    return frame.reset_index(drop=True)


def position(ranking: pd.DataFrame, region_id: int) -> dict | None:
    """Rank, count, percentile and value of one region in a ranking; None when it is not ranked."""
    row = ranking[ranking["region_id"] == region_id]
    if row.empty:
        return None
    r = row.iloc[0]
    return {"rank": int(r["rank"]), "count": len(ranking), "percentile": float(r["percentile"]),
            "value": float(r["value"]), "median": float(ranking["value"].median())}


def top_and_bottom(ranking: pd.DataFrame, n: int, highlight: int | None) -> pd.DataFrame:
    """At most the best ``n`` and the worst ``n`` regions, the highlighted one wherever it ranks, and one
    ``others`` row (the median of the rest, with how many they are). Columns: region_id, name, value, rank,
    kind (top, bottom, chosen, others), others_count."""
    shown = ranking.assign(kind=None, others_count=0)
    if len(ranking) <= 2 * n + 1:
        shown["kind"] = "top"
        rest = ranking.iloc[0:0]
    else:
        head, tail = ranking.iloc[:n], ranking.iloc[-n:]
        middle = ranking.iloc[n:-n]
        chosen = middle[middle["region_id"] == highlight] if highlight is not None else middle.iloc[0:0]
        rest = middle[middle["region_id"] != highlight] if highlight is not None else middle
        shown = pd.concat([head.assign(kind="top"), chosen.assign(kind="chosen"), tail.assign(kind="bottom")])
        shown["others_count"] = 0
    if highlight is not None:
        shown.loc[shown["region_id"] == highlight, "kind"] = "chosen"
    shown = shown.sort_values("rank", kind="stable")
    if len(rest):
        others = pd.DataFrame([{"region_id": -1, "name": "", "value": float(rest["value"].median()), "rank": math.nan,
                                "kind": "others", "others_count": len(rest)}])
        before = shown[shown["rank"] <= rest["rank"].min()]
        after = shown[shown["rank"] > rest["rank"].min()]
        shown = pd.concat([before, others, after], ignore_index=True)
    return shown[["region_id", "name", "value", "rank", "kind", "others_count"]].reset_index(drop=True)


def distribution(values: pd.Series, bins: int | None = None) -> pd.DataFrame:
    """A histogram as rows: left, right, count. At most 50 bins (about the square root of the count)."""
    data = values.dropna().astype("float64").to_numpy()
    if data.size == 0:
        return pd.DataFrame(columns=["left", "right", "count"])
    bins = bins or int(min(50, max(5, round(math.sqrt(data.size)))))
    low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(data, bins=bins, range=(low, high))
    return pd.DataFrame({"left": edges[:-1], "right": edges[1:], "count": counts})


def heatmap_regions(ranking: pd.DataFrame, n: int, highlight: int | None, years: int) -> list[int]:
    """The regions a region × year matrix shows: all when the cells stay within the marks limit, else the
    best and worst ``n`` and the highlighted one, in rank order."""
    if len(ranking) * max(years, 1) <= MAX_MARKS and len(ranking) <= 2 * n + 1:
        return ranking["region_id"].astype(int).tolist()
    picked = pd.concat([ranking.iloc[:n], ranking[ranking["region_id"] == highlight], ranking.iloc[-n:]])
    return picked.drop_duplicates("region_id")["region_id"].astype(int).tolist()


def year_matrix(values: pd.DataFrame, indicator_id: str, region_ids: list[int]) -> pd.DataFrame:
    """One row per region (in the order given), one column per year: the indicator's values."""
    frame = values[values["region_id"].isin(region_ids)]
    matrix = frame.pivot_table(index="region_id", columns="year", values=indicator_id, aggfunc="first")
    matrix = matrix.reindex([r for r in region_ids if r in matrix.index])
    names = frame.drop_duplicates("region_id").set_index("region_id")["name"]
    matrix.index = pd.Index([names.get(r, str(r)) for r in matrix.index], name="name")
    matrix.columns = [int(c) for c in matrix.columns]
    return matrix


def scatter_points(values: pd.DataFrame, x_id: str, y_id: str, year: int) -> pd.DataFrame:
    """region_id, name, x, y of the regions that have both values in ``year``."""
    frame = values.loc[values["year"] == year, ["region_id", "name", x_id, y_id]]
    frame = frame.rename(columns={x_id: "x", y_id: "y"}).dropna(subset=["x", "y"])
    return frame.reset_index(drop=True)


def density(points: pd.DataFrame, bins: int = 40) -> pd.DataFrame:
    """Points binned on a grid (for more points than a chart may draw): x, y (cell centres), count."""
    x, y = points["x"].to_numpy(float), points["y"].to_numpy(float)
    counts, x_edges, y_edges = np.histogram2d(x, y, bins=bins)
    xs, ys = np.meshgrid((x_edges[:-1] + x_edges[1:]) / 2, (y_edges[:-1] + y_edges[1:]) / 2, indexing="ij")
    cells = pd.DataFrame({"x": xs.ravel(), "y": ys.ravel(), "count": counts.ravel().astype("int64")})
    return cells[cells["count"] > 0].reset_index(drop=True)


def default_scope(path: list[int], region_level: str) -> tuple[int, str]:
    """Where the comparison starts: the chosen region among its siblings (scope = its parent, level = its
    own); for the root, its top-level regions."""
    from lawstats.storage import ROOT_ID

    if not path:
        return ROOT_ID, LEVEL_IDS[0]
    parent = path[-2] if len(path) > 1 else ROOT_ID
    return parent, region_level


def comparable_levels(counts: dict[str, int], limit: int = MAX_REGIONS) -> list[str]:
    """Levels under a scope, top-down, that have regions and not more than ``limit`` of them."""
    return [lv for lv in LEVEL_IDS if 0 < counts.get(lv, 0) <= limit]


def ranking_table(ranking: pd.DataFrame, decimals: int) -> pd.DataFrame:
    """The full ranking for the table and its CSV download."""
    out = ranking[["rank", "name", "code", "parent_name", "value", "percentile"]].copy()
    out["value"] = out["value"].round(decimals)
    out["percentile"] = out["percentile"].round(1)
    return out


FEW_REGIONS = 2  # with this many regions or fewer, a ranking, a histogram and a percentile mean nothing


def too_few(ranking: pd.DataFrame) -> bool:
    """True when the comparison has so few regions that the page shows their trend instead."""
    return len(ranking) <= FEW_REGIONS


def region_trends(values: pd.DataFrame, indicator_id: str, region_ids: list[int], unit: str) -> pd.DataFrame:
    """The indicator of a few regions over their years, as ``summary.indicator_series`` frames are (``group``:
    the region, ``year``, ``value``, ``yoy``: the change from its previous year with a value, ``unit``)."""
    frame = values.loc[values["region_id"].isin(region_ids), ["region_id", "name", "year", indicator_id]]
    frame = frame.dropna(subset=[indicator_id]).sort_values(["region_id", "year"])
    frame["yoy"] = frame.groupby("region_id")[indicator_id].diff()
    out = pd.DataFrame({"group": frame["name"].astype(str), "year": frame["year"].astype("int64"),
                        "value": frame[indicator_id].astype("float64"),
                        "yoy": frame["yoy"].astype("float64"), "unit": unit})
    out["yoy"] = out["yoy"].astype(object).where(out["yoy"].notna(), None)
    return out.reset_index(drop=True)
