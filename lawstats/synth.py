"""Synthetic data for tests and benchmarks: a region hierarchy and the five tables, as upload-template CSVs.

Everything written here says it is synthetic: every region name (合成省01, 合成市001, 合成县0001, 合成镇00001,
合成村000001, 合成社区000002), the source of every row (``合成数据（仅供测试）``) and a note file beside the CSVs.
Region codes have the shape of 12-digit statistical codes but begin with 9, which no real province code does.
Nothing here is ever loaded by default: only ``python -m lawstats import DIR`` puts it into a database.

What is generated, per village (村/社区) and year: population, land, the grid counts a village has (sub-grids,
enterprises, schools, shops, belief venues) and safety figures. Per township and year: its own population report
(the sum of its villages, except a few township-years that deliberately report a different total, so that the
rollup check has something to flag), its grid chain (areas, villages, communities) and three training
programmes. One village lacks its forest area in the first year, so that its township, county and everything
above have an incomplete forest total that year. Values are vectorised draws from a seeded generator: the same
seed gives the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lawstats.registry import (AREA, LEVELS, PROVENANCE_COLUMNS, REGIONS_COLUMNS, ROW_COLUMNS, TABLES_BY_ID,
                               TRAINING_KINDS)

SYNTHETIC_SOURCE = "合成数据（仅供测试）"
NOTE_FILE = "说明_synthetic.md"
DEFAULT_YEARS = (2015, 2024)
DISAGREEING_SHARE = 0.02  # township-years whose own population total differs from the sum of their villages
COMMUNITY_SHARE = 0.06  # village-level units that are urban communities (社区)
ETHNIC_GROUPS = ("回", "藏", "蒙古", "维吾尔", "壮", "苗", "彝", "土家", "满", "土", "撒拉", "侗", "瑶", "白")


@dataclass(frozen=True)
class Scale:
    name: str
    provinces: int
    cities: int
    counties: int
    townships: int
    villages: int


SCALES = {
    "county": Scale("county", 1, 1, 1, 15, 225),
    "province": Scale("province", 1, 4, 30, 400, 6_000),
    "national": Scale("national", 31, 333, 2_850, 38_600, 600_000),
}

# Code digits per level below the leading 9: 省 2, 市 2, 县 2, 乡镇 3, 村 2 (12 digits in all).
_CODE_PLACES = (10**9, 10**7, 10**5, 10**2, 1)
_CODE_LIMITS = (99, 99, 99, 999, 99)
_NAME_PREFIXES = ("合成省", "合成市", "合成县", "合成镇", "合成村")
_NAME_DIGITS = (2, 3, 4, 5, 6)


@dataclass
class Level:
    """One level of the hierarchy: parallel arrays, in the order regions are written."""
    parent: np.ndarray  # index into the level above (-1 for provinces)
    local: np.ndarray  # 1-based position among the parent's children
    code: np.ndarray  # int64, 12 digits
    name: np.ndarray  # str


@dataclass
class Hierarchy:
    levels: list[Level]  # province, city, county, township, village
    community: np.ndarray  # per village: an urban community (社区) rather than a village (村)

    def ancestor(self, level: int, of_level: int) -> np.ndarray:
        """For every region of ``of_level``, the index of its ancestor at ``level``."""
        index = np.arange(len(self.levels[of_level].code))
        for lv in range(of_level, level, -1):
            index = self.levels[lv].parent[index]
        return index


def parse_years(text: str | None) -> list[int]:
    """``2015-2024`` or ``2024`` -> the list of years."""
    if not text:
        return list(range(DEFAULT_YEARS[0], DEFAULT_YEARS[1] + 1))
    first, _, last = str(text).partition("-")
    first_year, last_year = int(first), int(last or first)
    if not 1949 <= first_year <= last_year <= 2100:
        raise ValueError(f"years must look like 2015-2024, got {text!r}")
    return list(range(first_year, last_year + 1))


# ---------------------------------------------------------------------------------------------------------
# The hierarchy


def _split(total: int, parents: int, rng: np.random.Generator, limit: int) -> np.ndarray:
    """How many children each parent gets: at least one each, uneven like real ones, ``total`` in all."""
    if parents == 1:
        return np.array([total])
    weights = rng.gamma(4.0, size=parents)
    counts = 1 + rng.multinomial(total - parents, weights / weights.sum())
    while counts.max() > limit:  # keep within the code's digits: move the excess to the smallest parents
        big = counts.argmax()
        counts[counts.argmin()] += counts[big] - limit
        counts[big] = limit
    return counts


def build_hierarchy(scale: Scale, rng: np.random.Generator) -> Hierarchy:
    sizes = (scale.provinces, scale.cities, scale.counties, scale.townships, scale.villages)
    levels: list[Level] = []
    for depth, size in enumerate(sizes):
        if depth == 0:
            parent = np.full(size, -1)
            local = np.arange(1, size + 1)
            code = 900_000_000_000 + local * _CODE_PLACES[0]
        else:
            above = levels[-1]
            counts = _split(size, len(above.code), rng, _CODE_LIMITS[depth])
            parent = np.repeat(np.arange(len(above.code)), counts)
            starts = np.repeat(np.cumsum(counts) - counts, counts)
            local = np.arange(size) - starts + 1
            code = above.code[parent] + local * _CODE_PLACES[depth]
        digits = _NAME_DIGITS[depth]
        numbers = np.char.zfill(np.arange(1, size + 1).astype(str), digits)
        name = np.char.add(_NAME_PREFIXES[depth], numbers)
        levels.append(Level(parent, local, code.astype("int64"), name))
    community = rng.random(scale.villages) < COMMUNITY_SHARE
    villages = levels[-1]
    villages.name = np.where(community, np.char.replace(villages.name, "合成村", "合成社区"), villages.name)
    return Hierarchy(levels, community)


# ---------------------------------------------------------------------------------------------------------
# Writing CSVs in the upload template format (UTF-8 with a byte-order mark, as Excel saves "CSV UTF-8")


def _header(column) -> str:
    return f"{column.zh}（{column.unit_zh}）" if column.kind == AREA else column.zh


def _write_csv(path: Path, columns: dict[str, pa.Array | np.ndarray | list]) -> int:
    table = pa.table({name: values if isinstance(values, pa.Array) else pa.array(values)
                      for name, values in columns.items()})
    with open(path, "wb") as out:
        out.write(b"\xef\xbb\xbf")
        pacsv.write_csv(table, out, pacsv.WriteOptions(quoting_style="none"))
    return table.num_rows


def _nullable(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, mask=missing) if missing is not None else pa.array(values)


def write_regions(hierarchy: Hierarchy, out: Path) -> int:
    name_col, level_col, parent_col, code_col = (_header(c) for c in REGIONS_COLUMNS)
    level_names = [zh for _, zh, _ in LEVELS]
    names, levels, parents, codes = [], [], [], []
    for depth, level in enumerate(hierarchy.levels):
        names.append(pa.array(level.name))
        levels.append(pa.array(np.full(len(level.code), level_names[depth])))
        parent_codes = (hierarchy.levels[depth - 1].code[level.parent].astype(str) if depth
                        else np.full(len(level.code), ""))
        parents.append(pa.array(parent_codes))
        codes.append(pa.array(level.code.astype(str)))
    return _write_csv(out / "regions.csv", {
        name_col: pa.concat_arrays(names), level_col: pa.concat_arrays(levels),
        parent_col: pa.concat_arrays(parents), code_col: pa.concat_arrays(codes)})


def _key_columns(level: Level, years: list[int]) -> dict[str, pa.Array]:
    """地区, 统计用区划代码, 年份 for every (region, year), region-major."""
    region, code, year = (_header(c) for c in ROW_COLUMNS if c.id in ("region", "region_code", "year"))
    index = pa.array(np.repeat(np.arange(len(level.code)), len(years)))
    return {region: pc.take(pa.array(level.name), index), code: pc.take(pa.array(level.code.astype(str)), index),
            year: pa.array(np.tile(np.array(years, dtype="int64"), len(level.code)))}


def _source_columns(rows: int) -> dict[str, pa.Array]:
    """来源 on every row says the data is synthetic (the optional 来源章节 is left out: at national scale it
    would add over a gigabyte of repeated text)."""
    source = next(_header(c) for c in PROVENANCE_COLUMNS if c.id == "source")
    return {source: pc.take(pa.array([SYNTHETIC_SOURCE]), pa.array(np.zeros(rows, dtype="int32")))}


def _headers(table_id: str) -> dict[str, str]:
    return {c.id: _header(c) for c in TABLES_BY_ID[table_id].columns}


# ---------------------------------------------------------------------------------------------------------
# Figures


@dataclass
class Villages:
    """Per village (rows) and year (columns) panels that several tables share."""
    households: np.ndarray
    persons: np.ndarray
    resident_households: np.ndarray
    resident_persons: np.ndarray
    minority: np.ndarray


def _village_population(h: Hierarchy, years: list[int], rng: np.random.Generator) -> Villages:
    n, t = len(h.levels[4].code), np.arange(len(years))
    province = h.ancestor(0, 4)
    provinces = len(h.levels[0].code)
    size_base = rng.uniform(2.8, 4.1, provinces)[province] + rng.normal(0, 0.25, n)
    size = np.clip(size_base[:, None] - 0.012 * t, 2.5, 4.5)  # households shrink slowly
    first = np.clip(rng.lognormal(np.log(320), 0.5, n) * np.where(h.community, 3.0, 1.0), 40, 5_000)
    growth = rng.normal(-0.004, 0.008, n)
    households = np.round(first[:, None] * (1 + growth[:, None]) ** t).astype("int64")
    persons = np.round(households * size).astype("int64")
    stay = np.clip(rng.uniform(0.78, 0.95, provinces)[province] + rng.normal(0, 0.05, n), 0.55, 1.0)
    stay = np.clip(stay[:, None] - 0.003 * t, 0.5, 1.0)
    resident_persons = np.floor(persons * stay).astype("int64")
    stay_households = np.clip(stay + rng.normal(0, 0.02, (n, 1)), 0.5, 1.0)
    resident_households = np.floor(households * stay_households).astype("int64")
    high = rng.random(provinces) < 0.3
    share_base = np.where(high, rng.uniform(0.05, 0.45, provinces), rng.uniform(0.002, 0.03, provinces))
    share = np.clip(share_base[province] * rng.lognormal(0, 0.8, n), 0, 0.95)
    minority = np.round(persons * share[:, None]).astype("int64")
    return Villages(households, persons, resident_households, resident_persons, minority)


def _children_sum(values: np.ndarray, parent: np.ndarray, parents: int) -> np.ndarray:
    """Sum a (children × years) panel into (parents × years)."""
    out = np.zeros((parents, values.shape[1]), dtype=values.dtype)
    np.add.at(out, parent, values)
    return out


def _flat(panel: np.ndarray) -> np.ndarray:
    return panel.reshape(-1)


def write_population(h: Hierarchy, v: Villages, years: list[int], out: Path,
                     rng: np.random.Generator) -> int:
    """Villages' figures, then the townships' own reports (mostly the sum of their villages)."""
    col = _headers("population")
    villages, townships = h.levels[4], h.levels[3]
    rows = len(villages.code) * len(years)
    village_part = {**_key_columns(villages, years),
                    col["registered_households"]: _flat(v.households), col["registered_persons"]: _flat(v.persons),
                    col["resident_households"]: _flat(v.resident_households),
                    col["resident_persons"]: _flat(v.resident_persons), col["minority_persons"]: _flat(v.minority),
                    col["minority_share_stated"]: pa.nulls(rows, pa.string()),
                    col["ethnic_groups"]: pa.nulls(rows, pa.string()),
                    **_source_columns(rows)}
    sums = {name: _children_sum(getattr(v, name), villages.parent, len(townships.code))
            for name in ("households", "persons", "resident_households", "resident_persons", "minority")}
    reported = sums["persons"].copy()
    differs = rng.random(reported.shape) < DISAGREEING_SHARE
    reported[differs] += np.ceil(reported[differs] * rng.uniform(0.01, 0.05, differs.sum())).astype("int64")
    share = np.round(100 * sums["minority"] / np.maximum(reported, 1), 2)
    groups = np.array(ETHNIC_GROUPS)[rng.integers(0, len(ETHNIC_GROUPS), len(townships.code))]
    ethnic = np.where(share < 0.1, "汉", np.char.add(np.char.add("汉、", groups[:, None]), "等"))
    town_rows = len(townships.code) * len(years)
    township_part = {**_key_columns(townships, years),
                     col["registered_households"]: _flat(sums["households"]),
                     col["registered_persons"]: _flat(reported),
                     col["resident_households"]: _flat(sums["resident_households"]),
                     col["resident_persons"]: _flat(sums["resident_persons"]),
                     col["minority_persons"]: _flat(sums["minority"]),
                     col["minority_share_stated"]: pa.array([f"{s:.2f}%" for s in _flat(share)]),
                     col["ethnic_groups"]: pa.array(_flat(np.broadcast_to(ethnic, share.shape).copy())),
                     **_source_columns(town_rows)}
    return _write_csv(out / "population.csv", _concat(village_part, township_part))


def _concat(*parts: dict) -> dict[str, pa.Array]:
    return {name: pa.concat_arrays([_as_array(p[name]) for p in parts]) for name in parts[0]}


def _as_array(values) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(values)


def write_land(h: Hierarchy, v: Villages, years: list[int], out: Path,
               rng: np.random.Generator) -> int:
    col = _headers("land")
    villages = h.levels[4]
    n, t = len(villages.code), np.arange(len(years))
    province = h.ancestor(0, 4)
    per_person = rng.uniform(0.8, 3.5, len(h.levels[0].code))[province] * rng.lognormal(0, 0.35, n)
    per_person = np.where(h.community, per_person * 0.05, per_person)
    cultivated = np.round(v.persons[:, :1] * per_person[:, None] * (1 - 0.002 * t), 2)
    forest = np.round(cultivated[:, :1] * rng.lognormal(np.log(0.8), 0.9, n)[:, None] * (1 + 0.003 * t), 2)
    missing = np.zeros_like(forest, dtype=bool)
    missing[-1, 0] = True  # one gap, so that the rollups above it are incomplete that year
    rows = n * len(years)
    return _write_csv(out / "land.csv", {
        **_key_columns(villages, years), col["cultivated_area"]: _flat(cultivated),
        col["forest_area"]: _nullable(_flat(forest), _flat(missing)), **_source_columns(rows)})


def write_grid(h: Hierarchy, v: Villages, years: list[int], out: Path,
               rng: np.random.Generator) -> int:
    """Villages: sub-grids and what the grid covers; townships: the chain's areas and their villages."""
    col = _headers("grid")
    villages, townships = h.levels[4], h.levels[3]
    n, y = len(villages.code), len(years)
    rows = n * y
    per_grid = rng.uniform(35, 90, n)[:, None]
    trend = 1 + 0.03 * np.arange(y)
    urban = h.community[:, None]
    village_part = {**_key_columns(villages, years),
                    col["grid_areas"]: pa.nulls(rows, pa.int64()),
                    col["sub_grids"]: _flat(np.maximum(1, np.ceil(v.households / per_grid)).astype("int64")),
                    col["villages"]: pa.nulls(rows, pa.int64()), col["communities"]: pa.nulls(rows, pa.int64()),
                    col["enterprises"]: _flat(rng.poisson((2 + 10 * urban) * trend, (n, y))),
                    col["schools"]: _flat(rng.poisson(0.7 + 1.5 * urban, (n, y))),
                    col["street_shops"]: _flat(rng.poisson((6 + 30 * urban) * trend, (n, y))),
                    col["belief_venues"]: _flat(rng.poisson(1.4, (n, y))),
                    **_source_columns(rows)}
    t = len(townships.code)
    children = np.bincount(villages.parent, minlength=t)
    communities = np.bincount(villages.parent, weights=h.community, minlength=t).astype("int64")
    areas = np.maximum(1, np.round(children / rng.uniform(1.5, 3.0, t))).astype("int64")
    town_rows = t * y
    township_part = {**_key_columns(townships, years),
                     col["grid_areas"]: np.repeat(areas, y), col["sub_grids"]: pa.nulls(town_rows, pa.int64()),
                     col["villages"]: np.repeat(children - communities, y),
                     col["communities"]: np.repeat(communities, y),
                     **{col[c]: pa.nulls(town_rows, pa.int64())
                        for c in ("enterprises", "schools", "street_shops", "belief_venues")},
                     **_source_columns(town_rows)}
    return _write_csv(out / "grid.csv", _concat(village_part, township_part))


def write_governance(h: Hierarchy, v: Villages, years: list[int], out: Path,
                     rng: np.random.Generator) -> int:
    col = _headers("governance")
    villages = h.levels[4]
    n, y = len(villages.code), len(years)
    level = rng.uniform(0.5, 1.5, len(h.levels[0].code))[h.ancestor(0, 4)][:, None]
    return _write_csv(out / "governance.csv", {
        **_key_columns(villages, years),
        col["key_persons"]: _flat(rng.poisson(v.persons * 0.0006 * level)),
        col["mental_patients_managed"]: _flat(rng.poisson(v.persons * 0.0012)),
        col["dispute_groups"]: np.ones(n * y, dtype="int64"),
        col["gang_crime_clues"]: _flat(rng.poisson(0.01, (n, y))),
        **_source_columns(n * y)})


def write_training(h: Hierarchy, years: list[int], out: Path,
                   rng: np.random.Generator) -> int:
    """Three programmes per township and year: a counted study, a study with a stated rate, a counted exam."""
    col = _headers("training")
    townships = h.levels[3]
    t, y = len(townships.code), len(years)
    cadres = rng.integers(25, 91, (t, 1)) + np.zeros((1, y), dtype="int64")
    study_took = cadres - rng.binomial(cadres, 0.03)
    exam_took = cadres - rng.binomial(cadres, 0.02)
    exam_passed = exam_took - rng.binomial(exam_took, 0.02)
    online_rate = np.where(rng.random((t, y)) < 0.9, 100.0, np.round(rng.uniform(92, 99.9, (t, y)), 1))
    kinds = {value: zh for value, zh, _ in TRAINING_KINDS}
    keys = _key_columns(townships, years)
    parts = []
    for programme, kind, sessions, required, took, passed, took_rate, pass_rate in (
            ("镇村干部集中学法", "study", rng.integers(4, 13, (t, y)), cadres, study_took, None, None, None),
            ("学习强国", "study", None, None, None, None, online_rate, None),
            ("法宣在线考试", "exam", None, cadres, exam_took, exam_passed,
             np.round(100 * exam_took / cadres, 2), np.round(100 * exam_passed / np.maximum(exam_took, 1), 2))):
        rows = t * y
        parts.append({**keys, col["programme"]: np.full(rows, programme),
                      col["programme_kind"]: np.full(rows, kinds[kind]),
                      col["sessions"]: _optional(sessions, rows, pa.int64()),
                      col["required_persons"]: _optional(required, rows, pa.int64()),
                      col["participants"]: _optional(took, rows, pa.int64()),
                      col["passed"]: _optional(passed, rows, pa.int64()),
                      col["participation_rate_stated"]: _optional(took_rate, rows, pa.float64()),
                      col["pass_rate_stated"]: _optional(pass_rate, rows, pa.float64()),
                      **_source_columns(rows)})
    return _write_csv(out / "training.csv", _concat(*parts))


def _optional(panel, rows: int, kind: pa.DataType) -> pa.Array:
    return pa.nulls(rows, kind) if panel is None else pa.array(_flat(np.asarray(panel)), type=kind)


# ---------------------------------------------------------------------------------------------------------
# The whole data set


def write_note(out: Path, scale: Scale, years: list[int], seed: int, counts: dict[str, int]) -> None:
    lines = [
        f"# {SYNTHETIC_SOURCE} · synthetic data (for tests only)", "",
        "本目录全部为程序生成的合成数据，不是真实统计，仅供测试与性能基准使用。",
        "All files in this folder are generated, not real statistics: for tests and benchmarks only.", "",
        "- 地区名称均以“合成”开头（合成省、合成市、合成县、合成镇、合成村、合成社区）。",
        "- 统计用区划代码为合成代码：12位，以 9 开头（真实省级代码没有以 9 开头的），不对应任何真实地区。",
        "  Region codes are synthetic: 12 digits beginning with 9, which no real province code does.",
        f"- 每一行的“来源”均为“{SYNTHETIC_SOURCE}”。",
        f"- 规模 scale: {scale.name}; 年份 years: {years[0]}–{years[-1]}; 随机种子 seed: {seed}.",
        f"- 乡镇的人口数约 {DISAGREEING_SHARE:.0%} 的年份故意与下级村合计不一致；最后一个村第一年缺林地面积。",
        "  About 2% of township-years report a population total that differs from the sum of their villages on",
        "  purpose; the last village lacks its forest area in the first year (so the totals above it are incomplete).",
        "", "| 文件 file | 行数 rows |", "|---|---|",
        *[f"| {name} | {rows:,} |" for name, rows in counts.items()],
        "", f"导入 import: `python -m lawstats import {out}`", ""]
    (out / NOTE_FILE).write_text("\n".join(lines), encoding="utf-8")


def generate(out_dir: str | Path, scale: str = "county", years: list[int] | None = None,
             seed: int = 1) -> dict[str, int]:
    """Write regions.csv and the five table CSVs (and a note saying they are synthetic). Returns rows per file."""
    spec = SCALES[scale]
    years = years or parse_years(None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    hierarchy = build_hierarchy(spec, rng)
    counts = {"regions.csv": write_regions(hierarchy, out)}
    villages = _village_population(hierarchy, years, rng)
    counts["population.csv"] = write_population(hierarchy, villages, years, out, rng)
    counts["land.csv"] = write_land(hierarchy, villages, years, out, rng)
    counts["grid.csv"] = write_grid(hierarchy, villages, years, out, rng)
    counts["governance.csv"] = write_governance(hierarchy, villages, years, out, rng)
    del villages
    counts["training.csv"] = write_training(hierarchy, years, out, rng)
    write_note(out, spec, years, seed, counts)
    return counts


def data_files(out_dir: str | Path) -> list[Path]:
    """The CSVs of a generated data set, regions first (the import order)."""
    out = Path(out_dir)
    names = ["regions.csv", "population.csv", "land.csv", "grid.csv", "training.csv", "governance.csv"]
    return [out / n for n in names if (out / n).exists()]


def read_regions(out_dir: str | Path) -> pd.DataFrame:
    """The generated regions file (for tests)."""
    return pd.read_csv(Path(out_dir) / "regions.csv", dtype=str, encoding="utf-8-sig")
