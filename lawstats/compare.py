"""Comparing regions: a ranking with the chosen region highlighted (top and bottom N, the rest summarised),
its rank and percentile, the distribution, a region × year matrix and two indicators against each other.

The input is ``storage.compare_inputs``: effective figures of every region of one level under a scope region
(at most ``MAX_REGIONS``). Everything returned is small and ready to draw: no chart built from it gets more
than ``MAX_MARKS`` marks. No Streamlit here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lawstats import indicators
from lawstats.registry import INDICATORS_BY_ID, LEVEL_IDS

MAX_REGIONS = 100_000  # regions whose figures reach pandas at once
MAX_MARKS = 5_000  # marks a chart may send to the browser
LABEL_COLUMNS = ["region_id", "name", "code", "parent_name", "year"]


def indicator_values(inputs: pd.DataFrame, ids: list[str] | None = None) -> pd.DataFrame:
    """region_id, name, code, parent_name, year and one column per indicator."""
    values = indicators.compute(inputs, ids)
    labels = inputs[[c for c in LABEL_COLUMNS if c in inputs.columns]].reset_index(drop=True)
    return pd.concat([labels, values.drop(columns=["region_id", "year"]).reset_index(drop=True)], axis=1)


def higher_is_better(indicator_id: str) -> bool:
    """The ranking direction: lower-is-better indicators rank their smallest value first; neutral ones
    (neither direction is good) rank from the largest, as a plain ordering."""
    return INDICATORS_BY_ID[indicator_id].higher_is_better is not False


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
