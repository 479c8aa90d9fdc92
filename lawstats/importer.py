"""From a table of texts to a validated batch: header matching, number reading, regions, every check.

Validation is lazy: every problem in a file is collected (row as Excel counts it, column as the user wrote
it, the original text, the kind of problem) before anything is answered. Only a file with no problem becomes
a ``NewBatch``; writing it is ``storage.commit_batch``'s job, so a failed import changes nothing.

Validation is vectorised, column by column: a 1,000,000-row file is checked in seconds. A larger file may
come a chunk of rows at a time (``DeferredTable.chunks``): each chunk is checked as a file is, repeats are
found across chunks (``SeenKeys``), and the typed rows are joined at the end. Number cells go
through ``numbers.parse_numbers``; region names, years and other texts are resolved once per distinct text.
Problems are collected as frames (``ProblemLog``) and come back as ``ValidationFailed.details``: columns
row, column, value, kind, detail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from lawstats import registry
from lawstats.errors import InvalidFile, ValidationFailed
from lawstats.i18n import t
from lawstats.numbers import (MAX_MAGNITUDE, header_unit, is_missing, missing_texts, normalise_text,
                              normalise_texts, parse_numbers, simplified_texts, to_simplified)
from lawstats.reader import RawTable
from lawstats.registry import (AREA, AREA_UNITS, CHOICE, COUNT, LIST, RATE, REGIONS_COLUMNS, ROW_COLUMNS,
                               PROVENANCE_COLUMNS, TABLES, TABLES_BY_ID, Column, Table)
from lawstats.storage import NewBatch

REGIONS = "regions"  # the table of the region hierarchy, imported like any other
MIN_YEAR = 1949
SYNTHETIC_MARKERS = ("合成数据", "synthetic")
EXAMPLE_MARKERS = ("示例", "【示例】", "例:", "example", "e.g.")  # a template's example row starts so
FORMULA_GUARD = ("'=", "'+", "'-", "'@", "'\t", "'\r")  # exports prefix such text with ' (lawstats.exchange)
PROBLEM_COLUMNS = ["file", "row", "column", "value", "kind", "detail"]
_LEVEL_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "街道办事处", "街道",
                   "居民委员会", "居委会", "村民委员会", "村委会", "省", "市", "地区", "盟", "县", "区", "旗", "镇",
                   "乡", "苏木", "社区", "村")


# ---------------------------------------------------------------------------------------------------------
# Problems


@dataclass
class Problem:
    row: int | None  # as Excel counts rows (header = 1); None for the whole file or a column
    column: str  # the header as the user wrote it
    value: str
    kind: str  # a key under "problem." in the message catalog
    detail: str = ""

    def message(self, lang: str) -> str:
        return problem_message(self.kind, self.detail, lang)


class ProblemLog:
    """Every problem of an import, added one at a time or a column's worth at once."""

    def __init__(self) -> None:
        self._frames: list[pd.DataFrame] = []
        self._count = 0
        self._files: list[str] = []
        self.file = ""  # the file being checked; problems are listed file by file

    def start_file(self, name: str) -> None:
        self.file = name
        if name not in self._files:
            self._files.append(name)

    def __len__(self) -> int:
        return self._count

    def add(self, row: int | None, column: str, value, kind: str, detail: str = "") -> None:
        self.add_cells(np.array([row if row is not None else -1]), column, [value], kind, detail)

    def add_cells(self, rows, column: str, values, kinds, detail="") -> None:
        """Problems of many cells of one column: ``rows`` as Excel counts (-1: none), ``values`` their texts,
        ``kinds`` one kind or one per cell, ``detail`` one text or one per cell."""
        rows = np.asarray(rows, dtype="int64")
        if not len(rows):
            return
        frame = pd.DataFrame({
            "file": self.file,
            "row": pd.array(np.where(rows < 0, 0, rows), dtype="Int64"),
            "column": str(column),
            "value": [("" if v is None or (isinstance(v, float) and v != v) else str(v)) for v in values],
            "kind": kinds if isinstance(kinds, str) else list(kinds),
            "detail": detail if isinstance(detail, str) else [str(d) for d in detail],
        })
        frame.loc[rows < 0, "row"] = pd.NA
        frame["order"] = np.arange(self._count, self._count + len(frame))
        self._frames.append(frame)
        self._count += len(frame)

    def frame(self) -> pd.DataFrame:
        """All problems: whole-file ones first, then by row, in the order the columns were checked."""
        if not self._frames:
            return pd.DataFrame({c: [] for c in PROBLEM_COLUMNS})
        frame = pd.concat(self._frames, ignore_index=True)
        frame["_whole"] = frame["row"].isna()
        frame["_file_order"] = frame["file"].map({name: i for i, name in enumerate(self._files)}).fillna(-1)
        frame = frame.sort_values(["_file_order", "_whole", "row", "order"], ascending=[True, False, True, True],
                                  kind="stable")
        return frame[PROBLEM_COLUMNS].reset_index(drop=True)


def problems_frame(problems, lang: str) -> pd.DataFrame:
    """The table of problems a user reads (and downloads as CSV), in their language.

    ``problems``: a list of ``Problem`` or a frame with [file,] row, column, value, kind, detail (as in
    ``ValidationFailed.details``). Columns: 行, 列, 原始内容, 问题 (or Row, Column, Original text, Problem),
    preceded by 文件 when the problems come from several files, and ``kind`` for programs.
    """
    if isinstance(problems, pd.DataFrame):
        frame = problems
    else:
        frame = pd.DataFrame([p.__dict__ for p in problems], columns=PROBLEM_COLUMNS[1:])
    headers = [t(k, lang) for k in ("problem.col_row", "problem.col_column", "problem.col_value",
                                     "problem.col_problem")]
    kinds = frame["kind"].astype(str).tolist()
    details = frame["detail"].fillna("").astype(str).tolist() if "detail" in frame else [""] * len(frame)
    messages = {pair: problem_message(pair[0], pair[1], lang) for pair in set(zip(kinds, details))}
    rows = frame["row"].astype("Int64") if len(frame) else pd.Series([], dtype="Int64")
    out = pd.DataFrame({
        headers[0]: rows.astype(object).where(rows.notna(), "").to_numpy(),
        headers[1]: frame["column"].astype(str).to_numpy(),
        headers[2]: frame["value"].fillna("").astype(str).to_numpy(),
        headers[3]: [messages[pair] for pair in zip(kinds, details)],
    })
    files = frame["file"].fillna("").astype(str) if "file" in frame else pd.Series([""] * len(frame))
    if files.nunique() > 1:
        out.insert(0, t("problem.col_file", lang), files.to_numpy())
    out["kind"] = kinds
    return out


def _fail(log: ProblemLog) -> None:
    raise ValidationFailed("error.validation_failed", details=log.frame(), count=len(log))


# ---------------------------------------------------------------------------------------------------------
# Headers


def normalise_header(text: str) -> str:
    """A header as it is matched: half-width, lower case, simplified characters (``地區`` names 地区)."""
    return to_simplified(normalise_text(text)).lower().replace("（", "(").replace("）", ")")


def _alias_index(columns: tuple[Column, ...]) -> dict[str, Column]:
    index = {}
    for c in columns:
        for name in (c.id, c.zh, c.en, *c.aliases):
            index.setdefault(normalise_header(name), c)
    return index


@lru_cache(maxsize=1)
def _all_headers_index() -> dict[str, Column]:
    every = ROW_COLUMNS + PROVENANCE_COLUMNS + REGIONS_COLUMNS + tuple(c for tb in TABLES for c in tb.columns)
    return _alias_index(every)


def header_key(text: str) -> str | None:
    """The registry column a header names (``户籍人口（人）`` -> ``registered_persons``), None if none."""
    if not text or not str(text).strip():
        return None
    column, _ = _match_one(str(text), _all_headers_index())
    return None if column is None else column.id


def is_known_header(text: str) -> bool:
    """True when ``text`` names a column of some registry table (with or without a unit in brackets)."""
    return header_key(text) is not None


@dataclass
class HeaderMatch:
    columns: dict[str, tuple[Column, float]] = field(default_factory=dict)  # header -> (column, unit factor)
    unknown: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


_REPEAT_SUFFIX = re.compile(r"^(.*)#(\d+)$")  # the reader names a repeated header ``户籍人口#2``


def _repeat_of(header: str, headers: set[str]) -> str | None:
    """The header this one repeats exactly (``户籍人口#2`` -> ``户籍人口``), None if it repeats none."""
    found = _REPEAT_SUFFIX.match(header)
    return found.group(1) if found and found.group(1) in headers else None


def match_headers(headers: list[str], columns: tuple[Column, ...]) -> HeaderMatch:
    """Match headers to columns by id, Chinese or English name or alias, with units in brackets.

    A header repeated exactly, or two headers meaning one column, is a problem (never one of them dropped);
    a second region header that says 所属 (``所属乡镇`` beside ``村名``) names the parent region."""
    index = _alias_index(columns)
    match = HeaderMatch()
    taken: dict[str, str] = {}
    every = set(headers)
    parent = next((c for c in columns if c.id == registry.PARENT.id), None)
    for header in sorted(headers, key=_belongs_to):  # 所属… last: the region's own header comes first
        repeated = _repeat_of(header, every)
        column, factor = _match_one(header, index)
        if repeated is not None and (column is not None or _match_one(repeated, index)[0] is not None):
            match.problems.append(Problem(None, header, repeated, "duplicate_column", repeated))
            continue
        if column is None:
            match.unknown.append(header)
            continue
        if column.id == registry.REGION.id and column.id in taken and _belongs_to(header) and \
                parent is not None and parent.id not in taken:
            column = parent
        if factor is None:
            match.problems.append(Problem(None, header, header, "unknown_unit", column.unit_zh))
            continue
        if column.id in taken:
            match.problems.append(Problem(None, header, header, "duplicate_column", taken[column.id]))
            continue
        taken[column.id] = header
        match.columns[header] = (column, factor)
    order = {h: i for i, h in enumerate(headers)}  # as the file has them
    match.columns = dict(sorted(match.columns.items(), key=lambda item: order[item[0]]))
    match.unknown.sort(key=order.get)
    return match


def _belongs_to(header: str) -> bool:
    """``所属乡镇``: the region a row belongs to, or its parent when the row names its own region."""
    return _header_keys(header)[0].startswith("所属")


@lru_cache(maxsize=2**17)
def _header_keys(header: str) -> tuple[str, str, str | None]:
    """(the header normalised, its base without a unit normalised, the unit): worked out once per header
    text, as a file's headers are matched against every table (a file may have 100,000 columns)."""
    base, unit = header_unit(header)
    return normalise_header(_unguard(header)), normalise_header(base), unit


def _match_one(header: str, index: dict[str, Column]) -> tuple[Column | None, float | None]:
    key, base_key, unit = _header_keys(header)
    if key in index:
        return index[key], 1.0
    column = index.get(base_key)
    if column is not None and unit and not column.numeric:
        # A unit says the column holds a quantity: ``社区（个）`` counts communities (社区数); it is not a
        # second region column.
        column = index.get(base_key + "数")
        if column is None or not column.numeric:
            return None, None
    if column is None:
        return None, None
    return column, _unit_factor(column, unit)


def _unit_factor(column: Column, unit: str | None) -> float | None:
    """The factor that converts values under this header's unit to the stored unit (None: not a unit we know)."""
    if not unit:
        return 1.0
    unit = normalise_text(unit)
    if column.kind == AREA:
        for name, factor in AREA_UNITS.items():
            if unit.lower() == name.lower():
                return factor
        return None
    if column.kind == RATE:
        return 1.0 if unit in ("%", "％", "百分比") else None
    if column.kind == COUNT:
        units = {column.unit_zh, column.unit_en, "人", "户", "个", "名", "次", "条", "所", "家", "处"}
        if unit in units:
            return 1.0
        if unit in ("万人", "万户", "万"):
            return 10_000.0
        return None
    return 1.0


def recognise_table(headers: list[str]) -> str | None:
    """The registry table whose columns the headers name most (regions included); None if nothing matches."""
    candidates: list[tuple[int, str]] = []
    region_headers = match_headers(headers, REGIONS_COLUMNS)
    if {c.id for c, _ in region_headers.columns.values()} >= {"name", "level"}:
        return REGIONS
    for table in TABLES:
        m = match_headers(headers, table.columns)
        score = sum(1 for c, _ in m.columns.values() if not c.key)
        if score:
            candidates.append((score, table.id))
    if not candidates:
        return None
    return max(candidates)[1]


def sheet_table(headers: list[str]) -> str | None:
    """The table a workbook sheet holds, or None when its header names no table with the columns that
    identify a row (a sheet of notes, a list of column meanings): such a sheet is listed, not imported."""
    table_id = recognise_table(headers)
    if table_id is None and is_measures_file(headers):
        return OBSERVATIONS
    if table_id is None or table_id == REGIONS:
        return table_id
    table = TABLES_BY_ID[table_id]
    named = {c.id for c, _ in match_headers(headers, ROW_COLUMNS + table.columns).columns.values()}
    has_region = bool(named & {registry.REGION.id, registry.REGION_CODE.id})
    has_keys = {registry.YEAR.id, *(c.id for c in table.key_columns)} <= named
    return table_id if has_region and has_keys else None


def table_ids() -> list[str]:
    return [REGIONS] + [tb.id for tb in TABLES]


def table_id_of(text: str) -> str:
    """A table id from its id, Chinese or English name (``人口``, ``population``); InvalidFile otherwise."""
    wanted = normalise_text(text).lower()
    if wanted in (REGIONS, "地区", "行政区划"):
        return REGIONS
    for table in TABLES:
        if wanted in (table.id, normalise_text(table.zh).lower(), table.en.lower()):
            return table.id
    raise InvalidFile("error.unknown_table", value=text, tables=", ".join(table_ids()))


# ---------------------------------------------------------------------------------------------------------
# Regions


_SUFFIXES_BY_LAST: dict[str, tuple[str, ...]] = {}
for _suffix in _LEVEL_SUFFIXES:  # in list order: the first that fits wins
    _SUFFIXES_BY_LAST[_suffix[-1]] = _SUFFIXES_BY_LAST.get(_suffix[-1], ()) + (_suffix,)


def name_stem(name: str, normalised: bool = False) -> str:
    """``西堡镇`` and ``西堡`` resolve to the same region: compare names without the level suffix, in
    simplified characters (``西堡鎮`` too)."""
    s = to_simplified(name if normalised else normalise_text(name))
    for suffix in _SUFFIXES_BY_LAST.get(s[-1:], ()):
        if s.endswith(suffix) and len(s) > len(suffix) + 1:
            return s[: -len(suffix)]
    return s


def name_stems(normalised: pa.Array) -> pa.Array:
    """``name_stem`` of every (already normalised) name, vectorised: the suffixes are tried in the same order."""
    normalised = simplified_texts(normalised)
    out = normalised
    done = np.zeros(len(normalised), dtype=bool)
    length = pc.utf8_length(normalised).to_numpy(zero_copy_only=False)
    for suffix in _LEVEL_SUFFIXES:
        ends = pc.ends_with(normalised, suffix).to_numpy(zero_copy_only=False)
        take = ends & ~done & (length > len(suffix) + 1)
        if take.any():
            mask = pa.array(take)
            out = pc.replace_with_mask(out, mask, pc.utf8_slice_codeunits(normalised.filter(mask), 0, -len(suffix)))
            done |= take
    return out


_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+|\s+(?=[\u3000-\u9fff\uff00-\uffef])")


def display_name(text) -> str:
    """A region name as stored: full-width letters made plain, edges trimmed, spaces between Chinese
    characters dropped (``王  村`` -> ``王村``); anything else, markup included, kept exactly."""
    import unicodedata

    s = unicodedata.normalize("NFKC", _unguard(str(text))).strip()
    return re.sub(r"\s+", " ", _CJK_SPACE.sub("", s))


def display_names(texts: pd.Series) -> list[str]:
    """``display_name`` of a column: texts of plain letters, digits and Chinese characters are already so."""
    from lawstats.numbers import _STABLE_TEXT

    array = pa.array(texts.to_numpy(dtype=object, na_value=""), type=pa.string())
    stable = pc.match_substring_regex(array, _STABLE_TEXT).to_numpy(zero_copy_only=False) & \
        ~pc.starts_with(array, "'").to_numpy(zero_copy_only=False)
    out = array.to_pylist()
    if not stable.all():
        others = np.flatnonzero(~stable)
        done = _per_unique(pd.Series([out[i] for i in others], dtype=object), display_name)
        for i, name in zip(others, done):
            out[i] = name
    return out


class RegionIndex:
    """The store's regions indexed by code, normalised name and name stem. Built once per data version and
    shared (it is never changed); an import adds its new regions in its own ``RegionResolver``."""

    def __init__(self, regions: pd.DataFrame):
        self.parent: dict[int, int | None] = {}  # compact: a million regions must fit in memory
        self.level: dict[int, str] = {}
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = {}
        self.by_stem: dict[str, list[int]] = {}
        if not len(regions):
            return
        ids = regions["region_id"].astype("int64").tolist()
        normalised = normalise_texts(regions["name"].astype(str))
        stems = name_stems(normalised).to_pylist()
        parents = regions["parent_id"].astype("Int64").tolist() if "parent_id" in regions else [None] * len(ids)
        # a blank or missing code is "" here, and not indexed
        codes = (normalise_texts(regions["code"].astype("string")).to_pylist() if "code" in regions
                 else [""] * len(ids))
        levels = regions["level"].tolist() if "level" in regions else [None] * len(ids)
        for rid, norm, stem, level, parent_id, code in zip(ids, normalised.to_pylist(), stems, levels, parents,
                                                            codes):
            self.parent[rid] = None if parent_id is None or parent_id is pd.NA else int(parent_id)
            self.level[rid] = level
            if code:
                self.by_code[code] = rid
            self.by_name.setdefault(norm, []).append(rid)
            self.by_stem.setdefault(stem, []).append(rid)


class RegionResolver:
    """Finds regions by code or name (exact, then without level suffix), with a parent to tell twins apart.

    ``regions``: the store's regions (a frame) or their ``RegionIndex``. Regions the import creates are kept
    here, beside the shared index, with temporary negative ids."""

    def __init__(self, regions: pd.DataFrame | RegionIndex):
        self.index = regions if isinstance(regions, RegionIndex) else RegionIndex(regions)
        self._parent: dict[int, int | None] = {}
        self._level: dict[int, str] = {}
        self._new: dict[int, dict] = {}  # regions this import creates
        self._by_code: dict[str, int] = {}
        self._by_name: dict[str, list[int]] = {}
        self._by_stem: dict[str, list[int]] = {}
        self._next_temp = -1

    def _named(self, key: str) -> list[int]:
        base, extra = self.index.by_name.get(key, ()), self._by_name.get(key, ())
        return [*base, *extra] if extra else list(base)

    def _stemmed(self, key: str) -> list[int]:
        base, extra = self.index.by_stem.get(key, ()), self._by_stem.get(key, ())
        return [*base, *extra] if extra else list(base)

    def _coded(self, key: str) -> int | None:
        return self._by_code.get(key, self.index.by_code.get(key))

    def _index(self, rid: int, name: str, code, normalised: str | None = None) -> None:
        if code is not None and not pd.isna(code) and str(code).strip():
            self._by_code[normalise_text(code)] = rid
        normalised = normalise_text(name) if normalised is None else normalised
        self._by_name.setdefault(normalised, []).append(rid)
        self._by_stem.setdefault(name_stem(normalised, normalised=True), []).append(rid)

    def add(self, name: str, level: str, parent_id: int | None, code: str | None,
            normalised: str | None = None) -> int:
        """A new region (temporary negative id until the commit gives it a real one). ``normalised``:
        ``normalise_text(name)`` when the caller has it already."""
        rid = self._next_temp
        self._next_temp -= 1
        self._parent[rid] = parent_id
        self._level[rid] = level
        self._new[rid] = {"region_id": rid, "name": name, "level": level, "parent_id": parent_id, "code": code}
        self._index(rid, name, code, normalised)
        return rid

    def new_regions(self) -> pd.DataFrame:
        rows = list(self._new.values())
        return pd.DataFrame(rows, columns=["region_id", "name", "level", "parent_id", "code"])

    def parent_of(self, rid: int):
        return self._parent[rid] if rid < 0 else self.index.parent[rid]

    def level_of(self, rid: int) -> str:
        return self._level[rid] if rid < 0 else self.index.level[rid]

    def children_named(self, name: str, parent_id: int | None, normalised: str | None = None) -> list[int]:
        normalised = normalise_text(name) if normalised is None else normalised
        return [rid for rid in self._named(normalised) if self.parent_of(rid) == parent_id]

    def resolve_names(self, names: list) -> list[tuple[int | None, str]]:
        """``resolve`` of many names (no code, no parent): names and stems normalised in one vectorised step,
        the usual case (one region of that name) answered from the index, anything else by ``resolve``."""
        series = pd.Series([n if isinstance(n, str) else "" for n in names], dtype=object)
        normalised = normalise_texts(series)
        stems = name_stems(normalised).to_pylist()
        missing = missing_texts(series)
        out = []
        for name, norm, stem, blank in zip(names, normalised.to_pylist(), stems, missing):
            found = None if blank or norm.startswith("'") or norm.isdigit() else \
                (self._named(norm) or self._stemmed(stem))
            if found is not None and len(found) == 1:
                out.append((found[0], ""))
            else:
                out.append(self.resolve(name))
        return out

    def resolve(self, name: str | None, code: str | None = None, parent: str | None = None) -> tuple[int | None, str]:
        """(region id, "") or (None, problem kind: unknown_region, ambiguous_region, unknown_code)."""
        if code and not is_missing(code):
            rid = self._coded(normalise_text(code))
            if rid is not None:
                return rid, ""
            if not name or is_missing(name):
                return None, "unknown_code"
        if not name or is_missing(name):
            return None, "missing_region"
        name = normalise_text(_unguard(name))
        if re.fullmatch(r"\d{6,12}", name):  # a code in the name column
            rid = self._coded(name)
            return (rid, "") if rid is not None else (None, "unknown_code")
        found = self._named(name) or self._stemmed(name_stem(name, normalised=True))
        if len(found) > 1 and parent and not is_missing(parent):
            parent_id, _ = self.resolve(parent)
            found = [rid for rid in found if self.parent_of(rid) == parent_id]
        if len(found) == 1:
            return found[0], ""
        return None, ("ambiguous_region" if found else "unknown_region")


_LEVELS_NORMALISED = {normalise_text(k).lower(): v for k, v in registry.LEVEL_ALIASES.items()}


def level_of(text: str) -> str | None:
    """``县（区）``, ``county``, ``区`` -> ``county``; None when the text names no level."""
    return _LEVELS_NORMALISED.get(normalise_text(text).lower())


def child_level(level: str | None) -> str:
    levels = registry.LEVEL_IDS
    if level not in levels:
        return levels[0]
    return levels[min(levels.index(level) + 1, len(levels) - 1)]


# ---------------------------------------------------------------------------------------------------------
# One file


@dataclass
class ImportOptions:
    table: str | None = None  # force the table instead of recognising it
    new_region_parent: int | None = None  # create unknown regions under this region (the user confirmed)
    user_name: str | None = None
    note: str | None = None
    source: str | None = None
    skip_columns: tuple[str, ...] = ()  # headers the user chose to leave out (never imported, never a problem)


@dataclass
class ParsedFile:
    name: str
    table_id: str
    rows: pd.DataFrame  # typed rows ready for storage (regions: name, level, parent_id, code, region_id)
    unknown_columns: list[str]
    new_regions: list[str]
    notices: list[tuple[str, dict]]
    excel_rows: np.ndarray
    blank_rows: tuple[int, int, bool] = (0, 0, False)  # blank rows, of them after the last filled row, any filled
    headers: dict[str, str] = field(default_factory=dict)  # column id -> the header as the file wrote it
    sheet: str | None = None  # the workbook sheet the rows came from
    skipped_columns: list[str] = field(default_factory=list)  # left out as the user asked
    # catalogue measures that are not registry columns (issue 10 §3): header -> measure id, and their values
    measure_columns: dict[str, str] = field(default_factory=dict)
    observations: pd.DataFrame | None = None

    @property
    def label(self) -> str:
        """The file as problems and reports name it: a workbook's sheet after its file name."""
        return file_label(self.name, self.sheet)


def file_label(name: str, sheet: str | None) -> str:
    return f"{name}［{sheet}］" if sheet else name


def skipped_headers(headers: list[str], skip: tuple[str, ...]) -> list[str]:
    """The headers ``skip`` names (as written, or normalised: ``备注`` skips ``备注 ``)."""
    wanted = {normalise_header(h) for h in skip}
    return [h for h in headers if h in skip or normalise_header(h) in wanted]


def parse_file(name: str, raw: RawTable, resolver: RegionResolver, options: ImportOptions,
               log: ProblemLog, seen: SeenKeys | None = None) -> ParsedFile | None:
    """Validate one file's texts against its table; problems go to ``log``, never raised here.

    ``seen``: the keys of the file's earlier chunks, when it is validated a chunk at a time."""
    skipped = skipped_headers(list(raw.frame.columns), options.skip_columns)
    if skipped:
        raw = RawTable(frame=raw.frame.drop(columns=skipped), encoding=raw.encoding,
                       first_data_row=raw.first_data_row, sheet=raw.sheet, sheets=raw.sheets, notices=raw.notices)
    headers = list(raw.frame.columns)
    table_id = table_id_of(options.table) if options.table else recognise_table(headers)
    if table_id is None and is_measures_file(headers):
        table_id = OBSERVATIONS
    if table_id is None:
        log.add(None, ", ".join(headers[:8]), "", "table_not_recognised")
        return None
    frame, notices, blank_rows = _drop_blank_total_and_example_rows(raw, table_id)
    if table_id == REGIONS:
        parsed = _parse_regions(name, raw, frame, resolver, log, notices)
    else:
        table = MEASURES_ONLY if table_id == OBSERVATIONS else TABLES_BY_ID[table_id]
        parsed = _parse_facts(name, raw, frame, table, resolver, options, log, notices, seen or SeenKeys())
    if parsed is not None:
        parsed.blank_rows = blank_rows
        parsed.sheet = raw.sheet if len(raw.sheets) > 1 else None
        parsed.skipped_columns = skipped
    return parsed


def _unique_results(texts: pd.Series, function) -> tuple[np.ndarray, list]:
    """(code of every cell, ``function`` of each distinct text): a column's work done once per text."""
    codes, uniques = pd.factorize(texts, use_na_sentinel=False)
    return codes, [function(u) for u in uniques]


def _first_region_column(frame: pd.DataFrame, table_id: str) -> str | None:
    columns = REGIONS_COLUMNS if table_id == REGIONS else ROW_COLUMNS
    wanted = "name" if table_id == REGIONS else "region"
    match = match_headers(list(frame.columns), columns)
    for header, (column, _) in match.columns.items():
        if column.id == wanted:
            return header
    return frame.columns[0] if len(frame.columns) else None


def _drop_blank_total_and_example_rows(raw: RawTable, table_id: str) -> tuple[pd.DataFrame, list, tuple]:
    """Blank rows are left out silently (a count in a notice); total rows (合计) and a template's example
    row are left out with a notice naming the row. Also (blank rows, blank rows after the last filled one,
    any row filled), which a file read in chunks adds up."""
    frame = raw.frame
    notices = list(raw.notices)
    if not len(frame) or not len(frame.columns):
        return frame, notices, (len(frame), len(frame), False)
    candidate = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        rows = np.flatnonzero(candidate)
        if not len(rows):
            break
        candidate[rows[~missing_texts(frame[name].iloc[rows])]] = False
    blank = candidate
    first = normalise_texts(frame[_first_region_column(frame, table_id)], lower=True)
    totals = pc.is_in(first, value_set=pa.array(list(registry.TOTAL_ROW_NAMES))).to_numpy(zero_copy_only=False)
    examples = np.zeros(len(frame), dtype=bool)
    for marker in EXAMPLE_MARKERS:
        examples |= pc.starts_with(first, marker).to_numpy(zero_copy_only=False)
    totals &= ~blank
    examples &= ~blank & ~totals
    for index in frame.index[examples]:
        notices.append(("notice.example_row_skipped", {"row": raw.excel_row(index)}))
    for index in frame.index[totals]:
        notices.append(("notice.total_row_skipped", {"row": raw.excel_row(index)}))
    inner_blank = int(blank[: _last_true(~blank) + 1].sum()) if (~blank).any() else 0
    if inner_blank:
        notices.append(("notice.blank_rows_skipped", {"count": inner_blank}))
    keep = ~(blank | totals | examples)
    counts = (int(blank.sum()), int(blank.sum()) - inner_blank, bool((~blank).any()))
    return (frame if keep.all() else frame[keep]), notices, counts


def _last_true(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[-1])


def _unguard(text: str) -> str:
    """Take off the ``'`` an export put before text a spreadsheet would run as a formula."""
    return text[1:] if isinstance(text, str) and text.startswith(FORMULA_GUARD) else text


def _parse_regions(name, raw, frame, resolver: RegionResolver, log: ProblemLog, notices) -> ParsedFile | None:
    """The region hierarchy: name, level, parent (by name), code. Parents may come earlier in the same file."""
    match = match_headers(list(frame.columns), REGIONS_COLUMNS)
    before = len(log)
    for p in match.problems:
        log.add(p.row, p.column, p.value, p.kind, p.detail)
    by_id = {c.id: h for h, (c, _) in match.columns.items()}
    for required in ("name", "level"):
        if required not in by_id:
            column = next(c for c in REGIONS_COLUMNS if c.id == required)
            log.add(None, column.zh, "", "missing_column", column.zh)
    if len(log) > before:
        return None
    excel_rows = (raw.first_data_row + frame.index.to_numpy()).astype("int64")
    n = len(frame)
    blank = pd.Series([""] * n, dtype="str")
    column = {cid: (frame[by_id[cid]] if cid in by_id else blank) for cid in ("name", "level", "parent", "code")}
    # Everything that does not depend on earlier rows is worked out per distinct text, up front.
    names = display_names(column["name"])
    normalised = normalise_texts(pd.Series(names, dtype="str")).to_pylist()
    name_missing = missing_texts(column["name"])
    levels = _per_unique(column["level"], level_of)
    code_missing = missing_texts(column["code"])
    codes = _per_unique(column["code"], normalise_text)
    parent_missing = missing_texts(column["parent"])
    parents = column["parent"].to_numpy(dtype=object, na_value="")
    problems: dict[tuple[str, str], list] = {}
    parent_of = _ParentMemo(resolver)
    out, kept = [], []
    for i, excel in enumerate(excel_rows.tolist()):
        if name_missing[i]:
            problems.setdefault(("name", "missing_key"), []).append(i)
            continue
        if levels[i] is None:
            problems.setdefault(("level", "unknown_level"), []).append(i)
            continue
        code = None if code_missing[i] else codes[i]
        if code and not re.fullmatch(r"\d{12}", code):
            problems.setdefault(("code", "bad_code"), []).append(i)
            continue
        parent_id = None
        if not parent_missing[i]:
            parent_id, kind = parent_of(parents[i])
            if parent_id is None:
                problems.setdefault(("parent", kind), []).append(i)
                continue
        if resolver.children_named(names[i], parent_id, normalised[i]):
            continue  # already known: importing the same hierarchy again changes nothing
        rid = resolver.add(names[i], levels[i], parent_id, code, normalised[i])
        parent_of.forget(normalised[i], code)
        out.append({"region_id": rid, "name": names[i], "level": levels[i], "parent_id": parent_id, "code": code})
        kept.append(excel)
    for (cid, kind), rows in problems.items():
        log.add_cells(excel_rows[rows], by_id.get(cid, cid), column[cid].iloc[rows].tolist(), kind)
    rows = pd.DataFrame(out, columns=["region_id", "name", "level", "parent_id", "code"])
    return ParsedFile(name, REGIONS, rows, match.unknown, [], notices, np.array(kept, dtype="int64"))


class _ParentMemo:
    """Parent texts resolved once each; a resolution is forgotten when a region that could change it is added
    (same name or stem, or any code)."""

    def __init__(self, resolver: RegionResolver):
        self.resolver = resolver
        self.found: dict[str, tuple[int | None, str]] = {}
        self.by_key: dict[str, set[str]] = {}

    def __call__(self, text: str) -> tuple[int | None, str]:
        if text not in self.found:
            self.found[text] = self.resolver.resolve(text)
            for key in (normalise_text(text), name_stem(text)):
                self.by_key.setdefault(key, set()).add(text)
        return self.found[text]

    def forget(self, normalised: str, code: str | None) -> None:
        if not self.found:
            return
        if code:
            self.found.clear()
            self.by_key.clear()
            return
        for key in (normalised, name_stem(normalised, normalised=True)):
            for text in self.by_key.pop(key, ()):
                self.found.pop(text, None)


def _per_unique(texts: pd.Series, function) -> list:
    """``function`` of every cell, computed once per distinct text."""
    codes, uniques = pd.factorize(texts, use_na_sentinel=False)
    results = [function(u if isinstance(u, str) else "") for u in uniques]
    return [results[c] for c in codes]


def _parse_facts(name, raw, frame, table: Table, resolver, options, log: ProblemLog, notices,
                 seen: SeenKeys) -> ParsedFile | None:
    columns = ROW_COLUMNS + PROVENANCE_COLUMNS + table.columns
    match = match_headers(list(frame.columns), columns)
    before = len(log)
    for p in match.problems:
        log.add(p.row, p.column, p.value, p.kind, p.detail)
    measures, match.unknown = _measure_headers(match.unknown, log)
    by_id = {c.id: h for h, (c, _) in match.columns.items()}
    missing = [c for c in (registry.REGION, registry.YEAR, *table.key_columns) if c.id not in by_id]
    if registry.REGION.id not in by_id and registry.REGION_CODE.id in by_id:
        missing = [c for c in missing if c.id != registry.REGION.id]
    for c in missing:
        log.add(None, c.zh, "", "missing_column", c.zh)
    no_values = not any(c.id in by_id for c in table.value_columns) and not measures
    if no_values:
        log.add(None, ", ".join(frame.columns[:8]), "", "no_value_columns", table.zh)
    if missing or no_values:  # rows cannot be read at all; a bad unit or a repeated column can wait
        return None
    for header, (column, factor) in match.columns.items():
        if factor != 1.0:
            notices.append(("notice.unit_converted", {"column": header, "unit": header_unit(header)[1],
                                                      "target": column.unit_zh, "factor": f"{factor:g}"}))

    excel = (raw.first_data_row + frame.index.to_numpy()).astype("int64")
    region_ids, new_regions = _resolve_regions(frame, by_id, resolver, options, excel, log)
    years = _parse_years(frame[by_id["year"]], excel, by_id["year"], log)
    values: dict[str, object] = {}
    approx: dict[str, np.ndarray] = {}
    for header, (column, factor) in match.columns.items():
        if column in ROW_COLUMNS:
            continue
        if column.numeric:
            values[column.id], approx[column.id] = _number_column(frame[header], column, factor, excel, header, log)
        else:
            values[column.id] = _text_column(frame[header], column, excel, header, log)
    _check_row_rules(values, table, by_id, excel, log)
    _check_duplicates(region_ids, years, values, table, by_id, frame, excel, log, seen)
    if sum(int(a.sum()) for a in approx.values()):
        notices.append(("notice.approximate", {"count": sum(int(a.sum()) for a in approx.values())}))
    observations = _observations_of(frame, measures, table, region_ids, years, values, excel, log, name)
    rows = _typed_rows(table, region_ids, years, values, approx, len(frame), name) \
        if len(log) == before and table is not MEASURES_ONLY else pd.DataFrame()
    return ParsedFile(name, table.id, rows, match.unknown, new_regions, notices, excel, headers=by_id,
                      measure_columns={h: m.id for h, (m, _) in measures.items()},
                      observations=observations if len(log) == before else None)


def _resolve_regions(frame, by_id, resolver: RegionResolver, options: ImportOptions, excel: np.ndarray,
                     log: ProblemLog) -> tuple[np.ndarray, list[str]]:
    """Region id of every row (0 where unknown), resolving each distinct (name, code, parent) once."""
    present = [by_id.get(k) for k in ("region", "region_code", "parent")]
    codes = np.zeros(len(frame), dtype="int64")
    uniques_per: list[list] = []
    for header in present:
        if header is None:
            uniques_per.append([None])
            continue
        column_codes, uniques = pd.factorize(frame[header], use_na_sentinel=False)
        codes = codes * len(uniques) + column_codes
        uniques_per.append(list(uniques))
    combo_codes, combos = pd.factorize(codes)
    sizes = [len(u) for u in uniques_per]
    ids = np.zeros(len(combos), dtype="int64")
    kinds: list[str] = [""] * len(combos)
    new_names: list[str] = []
    parent = options.new_region_parent
    triples = [_unravel(int(combo), sizes, uniques_per) for combo in combos]
    simple = present[1] is None and present[2] is None
    first_pass = resolver.resolve_names([name for name, _, _ in triples]) if simple else None
    for i, (name, code, parent_text) in enumerate(triples):
        rid, kind = first_pass[i] if first_pass is not None and first_pass[i][0] is not None else \
            resolver.resolve(name, code, parent_text)
        if rid is None and kind == "unknown_region" and parent is not None:
            rid = resolver.add(display_name(name), child_level(resolver.level_of(parent)), parent,
                               None if is_missing(code) else normalise_text(code))
            new_names.append(display_name(name))
            kind = ""
        ids[i] = rid if rid is not None else 0
        kinds[i] = kind
    row_ids = ids[combo_codes]
    bad = np.array([bool(k) for k in kinds], dtype=bool)[combo_codes]
    if bad.any():
        column = by_id.get("region", by_id.get("region_code", ""))
        region_texts = frame[by_id["region"]] if "region" in by_id else None
        code_texts = frame[by_id["region_code"]] if "region_code" in by_id else None
        shown = [(r if r is not None and not is_missing(r) else c)
                 for r, c in zip(region_texts[bad] if region_texts is not None else [None] * int(bad.sum()),
                                 code_texts[bad] if code_texts is not None else [None] * int(bad.sum()))]
        log.add_cells(excel[bad], column, shown, np.array(kinds, dtype=object)[combo_codes][bad])
    return row_ids, new_names


def _unravel(combo: int, sizes: list[int], uniques_per: list[list]) -> list:
    out = []
    for size, uniques in zip(reversed(sizes), reversed(uniques_per)):
        out.append(uniques[combo % size])
        combo //= size
    return list(reversed(out))


def _parse_years(texts: pd.Series, excel: np.ndarray, header: str, log: ProblemLog) -> np.ndarray:
    """Four-digit years (``2024``, ``2024年``, ``2024年度``) within 1949 and next year; 0 where wrong."""
    next_year = date.today().year + 1
    codes, results = _unique_results(texts, _parse_year)
    years = np.array([y if y is not None and MIN_YEAR <= y <= next_year else 0 for y in results],
                     dtype="int64")[codes] if len(codes) else np.zeros(0, dtype="int64")
    bad = years == 0
    if bad.any():
        log.add_cells(excel[bad], header, texts[bad].tolist(), "bad_year", f"{MIN_YEAR}–{next_year}")
    return years


def _parse_year(text) -> int | None:
    s = normalise_text(_unguard(text) if isinstance(text, str) else "").removesuffix("年度").removesuffix("年")
    if s.endswith(".0"):  # a year typed as a number in a spreadsheet
        s = s[:-2]
    return int(s) if re.fullmatch(r"\d{4}", s) else None


def _number_column(texts: pd.Series, column: Column, factor: float, excel: np.ndarray, header: str,
                   log: ProblemLog) -> tuple[np.ndarray, np.ndarray]:
    parsed = parse_numbers(texts, column.kind, factor)
    errors = parsed.errors.copy()
    values = parsed.values
    if column.maximum is not None:
        over = ~np.isnan(values) & (values > column.maximum)
        errors[over] = "out_of_range"
        values[over] = np.nan
    bad = pd.notna(errors)
    if bad.any():
        kinds = errors[bad]
        details = [_detail(k, column) for k in kinds]
        log.add_cells(excel[bad], header, texts[bad].tolist(), kinds, details)
    if column.key:
        blank = np.isnan(values) & ~bad
        if blank.any():
            log.add_cells(excel[blank], header, texts[blank].tolist(), "missing_key")
    return values, parsed.approximate


def _detail(kind: str, column: Column) -> str:
    if kind == "out_of_range":
        return "0–100%" if column.kind == RATE else f"≤ {column.maximum:g}"
    if kind == "too_large":
        return f"{MAX_MAGNITUDE:,.0f}"
    return ""


def _text_column(texts: pd.Series, column: Column, excel: np.ndarray, header: str, log: ProblemLog) -> list:
    """Text, list and choice cells: each distinct text read once. Missing is None."""
    codes, results = _unique_results(texts, lambda text: _parse_text(text, column))
    kinds = np.array([r[1] for r in results], dtype=object)[codes] if len(codes) else np.array([], dtype=object)
    bad = pd.notna(kinds)
    if bad.any():
        log.add_cells(excel[bad], header, texts[bad].tolist(), kinds[bad])
    if column.key:
        blank = np.array([r[0] is None for r in results], dtype=bool)[codes] & ~bad if len(codes) else bad
        if blank.any():
            log.add_cells(excel[blank], header, texts[blank].tolist(), "missing_key")
    uniques = [r[0] for r in results]
    if column.kind == LIST:
        return pd.Series(np.array(uniques + [None], dtype=object)[:-1][codes], dtype=object)
    if column in PROVENANCE_COLUMNS:  # a few distinct sources over many rows: codes, not a million strings
        categories = list(dict.fromkeys(u for u in uniques if u is not None))
        where = {value: i for i, value in enumerate(categories)}
        mapped = np.array([where.get(u, -1) if u is not None else -1 for u in uniques], dtype="int64")
        return pd.Series(pd.Categorical.from_codes(mapped[codes] if len(codes) else [], categories=categories))
    # Other texts as one Arrow column: one take, not a million Python strings.
    array = pa.array(uniques, type=pa.string()).take(pa.array(codes, type=pa.int64()))
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


def _parse_text(text, column: Column) -> tuple[object, str | None]:
    """(value or None, problem kind or None) for a text, list or choice cell."""
    if text is None or (isinstance(text, float) and text != text) or is_missing(text):
        return None, None
    text = _unguard(str(text)).strip()
    if column.kind == LIST:
        return split_list(text), None
    if column.kind == CHOICE:
        wanted = normalise_text(text).lower()
        for value, zh, en in column.choices:
            if wanted in (value, normalise_text(zh).lower(), en.lower()):
                return value, None
        return None, "bad_choice"
    return text, None


def row_rules(table: Table) -> list[tuple[str, str, float]]:
    """The registry's row rules on ``table``'s columns as (smaller, larger, factor): smaller ≤ larger × factor.
    A rule is declared as (smaller, larger) or (smaller, larger, factor)."""
    ids = {c.id for c in table.columns}
    out = []
    for rule in registry.ROW_RULES:
        smaller, larger, factor = (*rule, 1.0)[:3]
        if smaller in ids and larger in ids:
            out.append((smaller, larger, float(factor)))
    return out


def _rule_text(table: Table, smaller: str, larger: str, factor: float, lang: str = "zh") -> str:
    """``常住人口 ≤ 户籍人口`` (``× 1.5`` when the rule has a factor)."""
    times = "" if factor == 1 else f" × {factor:g}"
    return f"{table.column(smaller).label(lang)} ≤ {table.column(larger).label(lang)}{times}"


def _check_row_rules(values: dict, table: Table, by_id: dict, excel: np.ndarray, log: ProblemLog) -> None:
    """Within one row: resident ≤ registered, minority ≤ registered, passed ≤ took part ≤ required."""
    for smaller, larger, factor in row_rules(table):
        if smaller not in values or larger not in values:
            continue
        a, b = values[smaller], values[larger]
        bad = ~np.isnan(a) & ~np.isnan(b) & (a > b * factor)
        if bad.any():
            texts = [f"{_fmt(x)} > {_fmt(y)}" for x, y in zip(a[bad], b[bad])]
            detail = _rule_text(table, smaller, larger, factor)
            log.add_cells(excel[bad], by_id.get(smaller, table.column(smaller).zh), texts, "exceeds", detail)


# ---------------------------------------------------------------------------------------------------------
# Rules against the stored data: a file that gives one side of a rule is checked against the other side as
# the database will hold it after the commit (a figure the file leaves blank keeps its stored value).

StoredRows = Callable[[Table, pd.DataFrame], pd.DataFrame]  # (table, keys) -> current rows of those keys


def check_against_stored(prepared: "PreparedImport", stored_rows: StoredRows) -> None:
    """Raise ``ValidationFailed`` when a row rule fails on the merged state (stored values, the file's values
    over them). Only rows where the file gives one side of a rule and the store the other are looked up;
    a rule with both sides in the row was checked with the file. Problems name the stored value."""
    log = ProblemLog()
    for parsed in prepared.files:
        if parsed.table_id == REGIONS or not len(parsed.rows):
            continue
        log.start_file(parsed.label)
        _check_stored_rules(parsed, TABLES_BY_ID[parsed.table_id], stored_rows, log)
    if len(log):
        _fail(log)


def _check_stored_rules(parsed: ParsedFile, table: Table, stored_rows: StoredRows, log: ProblemLog) -> None:
    rules = row_rules(table)
    rows = parsed.rows
    given = {c: _floats(rows[c]) for c in {c for rule in rules for c in rule[:2]}}
    one_side = np.zeros(len(rows), dtype=bool)
    for smaller, larger, _ in rules:
        one_side |= np.isnan(given[smaller]) != np.isnan(given[larger])
    one_side &= rows["region_id"].to_numpy(dtype="int64") > 0  # a region the batch creates has nothing stored
    if not one_side.any():
        return
    keys = _key_names(table)
    at = np.flatnonzero(one_side)
    stored = stored_rows(table, rows.iloc[at][keys].reset_index(drop=True))
    wanted = [c for c in given if c in stored.columns]
    merged = rows.iloc[at][keys].reset_index(drop=True).merge(
        stored[keys + wanted].drop_duplicates(keys), on=keys, how="left")
    for smaller, larger, factor in rules:
        file_small, file_large = given[smaller][at], given[larger][at]
        stored_small, stored_large = (_floats(merged[c]) if c in merged else np.full(len(at), np.nan)
                                      for c in (smaller, larger))
        # The file gives the smaller figure and the store the larger one, or the other way round.
        for file_column, stored_column, small, large, file_values, stored_values, other_stored in (
                (smaller, larger, file_small, stored_large, file_small, stored_large, np.isnan(file_large)),
                (larger, smaller, stored_small, file_large, file_large, stored_small, np.isnan(file_small))):
            with np.errstate(invalid="ignore"):
                bad = other_stored & (small > large * factor)  # a missing figure (NaN) breaks no rule
            if not bad.any():
                continue
            details = [_stored_detail(table, smaller, larger, factor, stored_column, v) for v in stored_values[bad]]
            log.add_cells(parsed.excel_rows[at][bad], parsed.headers.get(file_column, table.column(file_column).zh),
                          [_fmt(v) for v in file_values[bad]], "exceeds_stored", details)


def _floats(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _key_names(table: Table) -> list[str]:
    return ["region_id", "year"] + [c.id for c in table.key_columns]


def _stored_detail(table: Table, smaller: str, larger: str, factor: float, stored_column: str,
                   stored_value: float) -> str:
    """What ``exceeds_stored`` says, kept language-neutral in the problem list (column ids, the number)
    and worded per language by ``problem_message``: table|smaller|larger|factor|stored column|value."""
    return "|".join([table.id, smaller, larger, f"{factor:g}", stored_column, _fmt(stored_value)])


def problem_message(kind: str, detail: str, lang: str) -> str:
    """A problem in the user's language; ``exceeds_stored`` names the stored value the file contradicts."""
    if kind == "exceeds_stored" and detail.count("|") == 5:
        table_id, smaller, larger, factor, stored_column, value = detail.split("|")
        table = TABLES_BY_ID[table_id]
        return t("problem.exceeds_stored", lang, rule=_rule_text(table, smaller, larger, float(factor), lang),
                 column=table.column(stored_column).label(lang), value=value)
    return t(f"problem.{kind}", lang, detail=detail)


class SeenKeys:
    """The keys (region, year[, programme]) of a file's rows so far, each with the row it first appeared on,
    so that a repeat is found across the chunks of a large file as within one.

    A key is packed into one int64: region id (temporary ids of new regions are negative), year, and the
    code of the key text (programme) given here in order of appearance."""

    _YEAR_BITS, _TEXT_BITS = 8, 24  # years 1900-2155; 16 million distinct programme names

    def __init__(self) -> None:
        self._keys: list[np.ndarray] = []  # one sorted array per chunk
        self._rows: list[np.ndarray] = []  # the Excel row of each key, in the same order
        self._texts: dict[object, int] = {}

    def pack(self, region_ids: np.ndarray, years: np.ndarray, key_texts: list) -> np.ndarray:
        """One uint64 per row: 32 bits of region id, 8 of year, 24 per key text (valid years only)."""
        keys = (region_ids.astype("int64") + 2**31).astype("uint64") << np.uint64(self._YEAR_BITS) \
            | (years.astype("int64") - 1900).astype("uint64")
        for texts in key_texts:
            codes, uniques = pd.factorize(pd.Series(texts, dtype=object).fillna("\0missing"))
            mapped = np.array([self._texts.setdefault(u, len(self._texts)) for u in uniques], dtype="uint64")
            if len(self._texts) >= 2**self._TEXT_BITS:  # never in real files; refuse rather than mistake keys
                raise InvalidFile("error.too_many_key_texts", limit=f"{2**self._TEXT_BITS:,}")
            keys = keys << np.uint64(self._TEXT_BITS) | mapped[codes.astype("int64")]
        return keys

    def first_rows(self, keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The row where each key first appeared: in an earlier chunk, else its first row in this one;
        then remembers this chunk's keys."""
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        first_rows = rows[first]
        for earlier_keys, earlier_rows in zip(self._keys, self._rows):  # earliest chunk first
            if len(earlier_keys):
                at = np.searchsorted(earlier_keys, unique).clip(max=len(earlier_keys) - 1)
                first_rows = np.where(earlier_keys[at] == unique, earlier_rows[at], first_rows)
        self._keys.append(unique)
        self._rows.append(first_rows)
        return first_rows[inverse]


def _check_duplicates(region_ids, years, values, table: Table, by_id, frame, excel, log: ProblemLog,
                      seen: SeenKeys) -> None:
    """The same region, year (and programme) twice in one file: every repeat names the first row."""
    key_texts = [values.get(c.id) for c in table.key_columns]
    if any(v is None for v in key_texts):
        return
    valid = (region_ids != 0) & (years != 0)
    if not valid.any():
        return
    keys = seen.pack(region_ids[valid], years[valid], [pd.Series(v)[valid].to_numpy() for v in key_texts])
    rows = excel[valid]
    first = seen.first_rows(keys, rows)
    repeated = first != rows
    if not repeated.any():
        return
    column = by_id.get("region", by_id.get("region_code", ""))
    texts = frame[column].to_numpy()[valid][repeated]
    log.add_cells(rows[repeated], column, texts, "duplicate_key", [str(r) for r in first[repeated]])


def _typed_rows(table: Table, region_ids, years, values: dict, approx: dict, n: int, file_name: str) -> pd.DataFrame:
    """The rows as storage takes them: region_id, year, every column of the table, source (the file's name
    where the file gives none), section, approx."""
    values = dict(values)
    values["source"] = _with_default(values.get("source"), file_name, n)
    data = {"region_id": region_ids.astype("int64"), "year": years.astype("int64")}
    for column in (*table.columns, *PROVENANCE_COLUMNS):
        if column.id not in values:
            data[column.id] = pd.arrays.IntegerArray(np.zeros(n, dtype="int64"), np.ones(n, dtype=bool)) \
                if column.kind == COUNT else (np.full(n, np.nan) if column.numeric else np.full(n, None, dtype=object))
        elif column.kind == COUNT:
            v = values[column.id]
            blank = np.isnan(v)
            data[column.id] = pd.arrays.IntegerArray(np.where(blank, 0, v).astype("int64"), blank)
        elif column.numeric:
            data[column.id] = values[column.id]
        else:
            data[column.id] = values[column.id].to_numpy() if column.kind == LIST else values[column.id].array
    data["approx"] = approx_lists([c.id for c in table.columns if c.id in approx],
                                  [approx[c.id] for c in table.columns if c.id in approx], n)
    return pd.DataFrame(data)


def _with_default(source: pd.Series | None, default: str, n: int) -> pd.Series:
    """A categorical source column whose missing cells say ``default`` (the file name)."""
    if source is None:
        return pd.Series(pd.Categorical.from_codes(np.zeros(n, dtype="int64"), categories=[default]))
    categorical = source.array
    if not (categorical.codes == -1).any():
        return source
    categories = list(categorical.categories)
    if default not in categories:
        categories.append(default)
    codes = np.where(categorical.codes == -1, categories.index(default), categorical.codes)
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories))


def approx_lists(names: list[str], masks: list[np.ndarray], n: int) -> pd.Series:
    """Per row, the list of column ids holding an approximate value, built as one Arrow list array."""
    if not masks:
        offsets = np.zeros(n + 1, dtype="int32")
        array = pa.ListArray.from_arrays(pa.array(offsets), pa.array([], pa.string()))
    else:
        matrix = np.column_stack(masks)
        counts = matrix.sum(axis=1)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype("int32")
        _, which = np.nonzero(matrix)
        array = pa.ListArray.from_arrays(pa.array(offsets), pa.array(np.array(names, dtype=object)[which].tolist()
                                                                      if len(which) else [], pa.string()))
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def split_list(text: str) -> list[str]:
    """``汉、藏等`` -> [汉, 藏, 等]: the trailing 等 (not complete) is kept as an item of its own."""
    items = [s.strip() for s in re.split(r"[、,，;；/]", text) if s.strip()]
    if items and items[-1].endswith("等") and len(items[-1]) > 1:
        items[-1] = items[-1][:-1]
        items.append("等")
    return items


def join_list(items: list[str]) -> str:
    """[汉, 藏, 等] -> ``汉、藏等``: the inverse of ``split_list``."""
    items = [str(i) for i in items]
    if len(items) > 1 and items[-1] == "等":
        return "、".join(items[:-1]) + "等"
    return "、".join(items)


# ---------------------------------------------------------------------------------------------------------
# Several files, one batch


@dataclass
class PreparedImport:
    batch: NewBatch
    files: list[ParsedFile]
    problems: list[Problem]
    resolver: RegionResolver

    @property
    def unknown_regions(self) -> list[str]:
        """Regions the batch will create (names the store did not know, confirmed under a parent)."""
        return sorted({r for f in self.files for r in f.new_regions})


@dataclass
class DeferredTable(RawTable):
    """A file read only when its turn comes (large imports): ``frame`` holds its first rows (headers, enough
    to recognise the table), ``load()`` reads all of it, ``chunks()`` (when given) a chunk of rows at a time."""
    load: Callable[[], RawTable] | None = None
    chunks: Callable[[], Iterator[RawTable]] | None = None


def prepare_import(regions: pd.DataFrame | RegionIndex, files: list[tuple[str, RawTable]], options: ImportOptions,
                   sha256: str | None = None, *, release_texts: bool = False) -> PreparedImport:
    """Validate files (regions files first) into one batch; raises ValidationFailed listing every problem.

    ``regions``: the store's regions (``storage.regions``), or their ``RegionIndex`` when the caller keeps one.
    ``release_texts``: drop each file's cell texts (``raw.frame`` keeps its headers, no rows) as soon as the
    file is parsed, so a national import never holds the texts and the typed values of every file at once."""
    resolver = RegionResolver(regions)
    log = ProblemLog()

    def is_regions(item) -> bool:
        if options.table:
            return table_id_of(options.table) == REGIONS
        return recognise_table(list(item[1].frame.columns)) == REGIONS

    ordered = sorted(files, key=lambda f: 0 if is_regions(f) else 1)
    parsed: list[ParsedFile] = []
    had_rows = False
    for name, raw in ordered:
        log.start_file(file_label(name, raw.sheet if len(raw.sheets) > 1 else None))
        if isinstance(raw, DeferredTable) and raw.chunks is not None and not is_regions((name, raw)):
            result, rows_read = _parse_in_chunks(name, raw, resolver, options, log)
            had_rows = had_rows or rows_read
        else:
            if isinstance(raw, DeferredTable):
                raw = raw.load()
            had_rows = had_rows or len(raw.frame) > 0
            result = parse_file(name, raw, resolver, options, log)
            if release_texts:
                _release_texts(raw)
        if result is not None:
            parsed.append(result)
    seen_tables: dict[str, str] = {}
    for f in parsed:
        if f.table_id in seen_tables and f.table_id not in (REGIONS, OBSERVATIONS):
            log.start_file(f.label)
            log.add(None, f.label, "", "table_twice", seen_tables[f.table_id])
        seen_tables[f.table_id] = f.label
    if len(log):
        _fail(log)
    new_regions = resolver.new_regions()
    observations = [f.observations for f in parsed if f.observations is not None and len(f.observations)]
    if not any(len(f.rows) for f in parsed) and not observations and new_regions.empty:
        had_rows = had_rows and any(f.table_id == REGIONS for f in parsed)
        raise InvalidFile("error.nothing_new" if had_rows else "error.no_rows")

    names = list(dict.fromkeys(f.name for f in parsed))  # a workbook's sheets are one file
    source = options.source or (names[0] if len(names) == 1 else ", ".join(names))
    synthetic = any(m in (source or "").lower() for m in SYNTHETIC_MARKERS)
    batch = NewBatch(file_name=", ".join(names), sha256=sha256, user_name=options.user_name, source=source,
                     note=options.note, synthetic=synthetic)
    if not new_regions.empty:
        batch.regions = new_regions
    if observations:
        batch.observations = pd.concat(observations, ignore_index=True)
    for f in parsed:
        if f.table_id == REGIONS or not len(f.rows):
            continue
        rows = f.rows
        sources = " ".join(map(str, rows["source"].cat.categories)).lower()
        if any(m in sources for m in SYNTHETIC_MARKERS):
            batch.synthetic = True
        batch.rows[f.table_id] = rows
    return PreparedImport(batch, parsed, [], resolver)


def _parse_in_chunks(name: str, deferred: DeferredTable, resolver: RegionResolver, options: ImportOptions,
                     log: ProblemLog) -> tuple[ParsedFile | None, bool]:
    """A large file validated a chunk of rows at a time, so its texts are never all in memory; repeats are
    found across chunks. (The parsed file, whether it had rows.) Once anything is wrong, typed rows are not
    kept: only the problems are wanted then."""
    seen = SeenKeys()
    parts: list[ParsedFile] = []
    had_rows = False
    for chunk in deferred.chunks():
        had_rows = had_rows or len(chunk.frame) > 0
        part = parse_file(name, chunk, resolver, options, log, seen)
        _release_texts(chunk)
        if part is None:  # the headers themselves are wrong: every chunk would say so again
            return None, had_rows
        if len(log):
            part.rows = pd.DataFrame()
            for earlier in parts:
                earlier.rows = pd.DataFrame()
        parts.append(part)
    return _join_parts(parts), had_rows


def _join_parts(parts: list[ParsedFile]) -> ParsedFile:
    """One file's chunks as one parsed file: rows joined, notices added up."""
    first = parts[0]
    return ParsedFile(
        name=first.name, table_id=first.table_id, rows=_concat_rows([p.rows for p in parts]),
        unknown_columns=list(dict.fromkeys(c for p in parts for c in p.unknown_columns)),
        new_regions=[r for p in parts for r in p.new_regions], notices=_join_notices(parts),
        excel_rows=np.concatenate([p.excel_rows for p in parts]), headers=first.headers, sheet=first.sheet,
        skipped_columns=first.skipped_columns, measure_columns=first.measure_columns,
        observations=_concat_observations([p.observations for p in parts]))


def _concat_rows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Typed rows of the chunks as one frame, a column at a time, each chunk's column let go once copied
    (joining whole frames would hold every row twice). Sources keep one set of categories."""
    frames = [f for f in frames if len(f.columns)]
    if len(frames) <= 1:
        return frames[0] if frames else pd.DataFrame()
    joined = {}
    for column in list(frames[0].columns):
        pieces = [f.pop(column) for f in frames]
        if isinstance(pieces[0].dtype, pd.CategoricalDtype):
            joined[column] = pd.Series(union_categoricals(pieces))
        else:
            joined[column] = pd.concat(pieces, ignore_index=True)
        del pieces
    frames.clear()
    return pd.DataFrame(joined)


def _join_notices(parts: list[ParsedFile]) -> list[tuple[str, dict]]:
    """The notices of a file's chunks: each said once, counts (approximate values, blank rows) added up."""
    notices: list[tuple[str, dict]] = []
    approximate = 0
    for key, params in (n for p in parts for n in p.notices):
        if key == "notice.approximate":
            approximate += params["count"]
        elif key != "notice.blank_rows_skipped" and (key, params) not in notices:
            notices.append((key, params))
    blank = _blank_rows(parts)
    if blank:
        notices.append(("notice.blank_rows_skipped", {"count": blank}))
    if approximate:
        notices.append(("notice.approximate", {"count": approximate}))
    return notices


def _blank_rows(parts: list[ParsedFile]) -> int:
    """Blank rows of the whole file, as one read would count them: not those after its last filled row."""
    total = sum(p.blank_rows[0] for p in parts)
    for p in reversed(parts):
        if p.blank_rows[2]:  # the last chunk with a filled row: only its own tail is after the file's end
            return total - p.blank_rows[1]
        total -= p.blank_rows[0]
    return 0


def _release_texts(raw: RawTable) -> None:
    """Keep a parsed file's headers, let go of its cell texts, and hand the freed Arrow memory back."""
    raw.frame = pd.DataFrame(columns=raw.frame.columns, dtype="str")  # a slice would keep the Arrow buffers
    pa.default_memory_pool().release_unused()


# ---------------------------------------------------------------------------------------------------------
# Catalogue measures (issue 10 §3): a header that names a catalogue measure which is not a registry column is
# stored as an observation (``NewBatch.observations``) instead of being listed as unknown. A file of region,
# year and such measures only is read as the pseudo table OBSERVATIONS.

OBSERVATIONS = "observations"
MEASURES_ONLY = Table(OBSERVATIONS, "指标项", "Catalogue measures", "", ())
# How a catalogue measure's cells are read: counts are whole numbers, rates may carry %, the rest decimals
# (no unit inside the cell converts them: 亩 and 平方公里 are different measures).
_PARSE_KIND = {"count": COUNT, "rate": RATE}


def catalogue_measure(header: str):
    """The catalogue measure (never a registry column) a header names by id, 中文名, English name or alias,
    with or without a unit in brackets (``普法宣传活动场次（场）``); None if none or if the header is ambiguous.
    Not cached here: the catalogue may be another one (a test's temporary catalogue); its lookup is a dict's."""
    from lawstats import catalogue, storage

    measures = catalogue.load()
    base, _ = header_unit(_unguard(header))
    for text in dict.fromkeys((_unguard(header), base, to_simplified(base))):
        measure = measures.by_alias(text)
        if measure is not None:
            return None if measure.id in storage.registry_column_ids() else measure
    return None


def is_measures_file(headers: list[str]) -> bool:
    """True when the headers name a region, a year and at least one catalogue measure (and no registry table)."""
    named = {c.id for c, _ in match_headers(headers, ROW_COLUMNS).columns.values()}
    return bool(named & {registry.REGION.id, registry.REGION_CODE.id}) and registry.YEAR.id in named and \
        any(catalogue_measure(h) is not None for h in headers)


def _measure_headers(unknown: list[str], log: ProblemLog) -> tuple[dict, list[str]]:
    """Split the headers no table column took: ({header: (measure, unit factor)}, the really unknown ones).
    A unit in brackets must be the measure's unit or convert to it (units.toml); two headers naming one
    measure are a problem, as for table columns."""
    from lawstats import catalogue

    measures, rest, taken = {}, [], {}
    for header in unknown:
        measure = catalogue_measure(header)
        if measure is None:
            rest.append(header)
            continue
        unit = header_unit(header)[1]
        try:
            factor = 1.0 if not unit else catalogue.load().convert(1.0, normalise_text(unit), measure.unit)
        except KeyError:
            log.add(None, header, header, "unknown_unit", measure.unit)
            continue
        if measure.id in taken:
            log.add(None, header, header, "duplicate_column", taken[measure.id])
            continue
        taken[measure.id] = header
        measures[header] = (measure, factor)
    return measures, rest


def _observations_of(frame: pd.DataFrame, measures: dict, table: Table, region_ids: np.ndarray, years: np.ndarray,
                     values: dict, excel: np.ndarray, log: ProblemLog, file_name: str) -> pd.DataFrame | None:
    """The filled cells of the catalogue-measure columns as observations (storage.OBSERVATION_FIELDS). Cells
    are checked like table cells (number, whole count, range), each problem naming its row and column. In a
    table with rows per item (training programmes), a measure with a breakdown takes the row's key as its item."""
    if not measures:
        return None
    n = len(frame)
    source = _with_default(values.get("source"), file_name, n).astype(object).to_numpy()
    section = values["section"].astype(object).to_numpy() if values.get("section") is not None else np.full(n, None)
    keys = [pd.Series(values[c.id]).astype(object).to_numpy() for c in table.key_columns if c.id in values]
    parts = []
    for header, (measure, factor) in measures.items():
        texts = frame[header]
        if measure.numeric:
            number, approx, ok = _measure_numbers(texts, measure, factor, excel, header, log)
            text = np.full(n, None, dtype=object)
        else:
            stripped = texts.astype(object).map(lambda v: None if is_missing(v) else str(v).strip())
            number, approx, text = np.full(n, np.nan), np.zeros(n, dtype=bool), stripped.to_numpy()
            ok = text != None  # noqa: E711 (elementwise)
        item = np.full(n, "", dtype=object)
        if measure.breakdown and keys:
            item = np.array(["/".join(str(k[i]) for k in keys) for i in range(n)], dtype=object)
        parts.append(pd.DataFrame({
            "region_id": region_ids.astype("int64"), "year": years.astype("int64"), "measure_id": measure.id,
            "item_id": item, "value": number, "text_value": text, "approx": approx, "source": source,
            "section": section, "sentence": None})[ok])
    return pd.concat(parts, ignore_index=True)


def _measure_numbers(texts: pd.Series, measure, factor: float, excel: np.ndarray, header: str,
                     log: ProblemLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, approximate, filled and valid) of one numeric measure's cells; problems go to ``log``. A
    measure whose range goes below zero (an altitude, a change) takes a leading minus sign."""
    low, high = measure.range if measure.range else (0.0, MAX_MAGNITUDE)
    negative = np.zeros(len(texts), dtype=bool)
    if low < 0:
        stripped = texts.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
        negative = stripped.map(lambda v: isinstance(v, str) and v[:1] in ("-", "−")).to_numpy(dtype=bool)
        texts = pd.Series(np.where(negative, stripped.map(lambda v: v[1:] if isinstance(v, str) else v), stripped),
                          index=texts.index)
    parsed = parse_numbers(texts, _PARSE_KIND.get(measure.kind, "decimal"), factor)
    values = np.where(negative, -parsed.values, parsed.values)
    errors = parsed.errors.copy()
    outside = ~np.isnan(values) & ((values < low) | (values > high))
    errors[outside] = "out_of_range"
    bad = pd.notna(errors)
    if bad.any():
        detail = f"{_plain(low)}–{_plain(high)}"
        kinds = errors[bad]
        log.add_cells(excel[bad], header, texts[bad].tolist(), kinds,
                      [detail if k == "out_of_range" else "" for k in kinds])
    return values, parsed.approximate, ~np.isnan(values) & ~bad


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _concat_observations(frames: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    frames = [f for f in frames if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else None
