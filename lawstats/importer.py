"""From a table of texts to a validated batch: header matching, number reading, regions, every check.

Validation is lazy: every problem in a file is collected (row as Excel counts it, column as the user wrote
it, the original text, the kind of problem) before anything is answered. Only a file with no problem becomes
a ``NewBatch``; writing it is ``storage.commit_batch``'s job, so a failed import changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from lawstats import registry
from lawstats.errors import InvalidFile, ValidationFailed
from lawstats.i18n import t
from lawstats.numbers import NumberError, is_missing, normalise_text, parse_number, header_unit
from lawstats.reader import RawTable
from lawstats.registry import (AREA, AREA_UNITS, CHOICE, COUNT, LIST, RATE, REGIONS_COLUMNS, ROW_COLUMNS,
                               PROVENANCE_COLUMNS, TABLES, TABLES_BY_ID, Column, Table)
from lawstats.storage import NewBatch

REGIONS = "regions"  # the table of the region hierarchy, imported like any other
MIN_YEAR = 1949
SYNTHETIC_MARKERS = ("合成数据", "synthetic")
_LEVEL_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "街道办事处", "街道",
                   "居民委员会", "居委会", "村民委员会", "村委会", "省", "市", "地区", "盟", "县", "区", "旗", "镇",
                   "乡", "苏木", "社区", "村")


@dataclass
class Problem:
    row: int | None  # as Excel counts rows (header = 1); None for the whole file or a column
    column: str  # the header as the user wrote it
    value: str
    kind: str  # a key under "problem." in the message catalog
    detail: str = ""

    def message(self, lang: str) -> str:
        return t(f"problem.{self.kind}", lang, detail=self.detail)


def problems_frame(problems: list[Problem], lang: str) -> pd.DataFrame:
    """The table of problems a user reads (and downloads as CSV), in their language."""
    headers = [t(k, lang) for k in ("problem.col_row", "problem.col_column", "problem.col_value", "problem.col_problem")]
    rows = [(p.row if p.row is not None else "", p.column, p.value, p.message(lang)) for p in problems]
    frame = pd.DataFrame(rows, columns=headers)
    frame["kind"] = [p.kind for p in problems]
    return frame


def _fail(problems: list[Problem]) -> None:
    details = pd.DataFrame([p.__dict__ for p in problems])
    raise ValidationFailed("error.validation_failed", details=details, count=len(problems))


# ---------------------------------------------------------------------------------------------------------
# Headers


def normalise_header(text: str) -> str:
    return normalise_text(text).lower().replace("（", "(").replace("）", ")")


def _alias_index(columns: tuple[Column, ...]) -> dict[str, Column]:
    index = {}
    for c in columns:
        for name in (c.id, c.zh, c.en, *c.aliases):
            index.setdefault(normalise_header(name), c)
    return index


@dataclass
class HeaderMatch:
    columns: dict[str, tuple[Column, float]] = field(default_factory=dict)  # header -> (column, unit factor)
    unknown: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def match_headers(headers: list[str], columns: tuple[Column, ...]) -> HeaderMatch:
    """Match headers to columns by id, Chinese or English name or alias, with units in brackets."""
    index = _alias_index(columns)
    match = HeaderMatch()
    taken: dict[str, str] = {}
    for header in headers:
        column, factor = _match_one(header, index)
        if column is None:
            match.unknown.append(header)
            continue
        if factor is None:
            match.problems.append(Problem(None, header, header, "unknown_unit", column.unit_zh))
            continue
        if column.id in taken:
            match.problems.append(Problem(None, header, header, "duplicate_column", taken[column.id]))
            continue
        taken[column.id] = header
        match.columns[header] = (column, factor)
    return match


def _match_one(header: str, index: dict[str, Column]) -> tuple[Column | None, float | None]:
    key = normalise_header(header)
    if key in index:
        return index[key], 1.0
    base, unit = header_unit(header)
    column = index.get(normalise_header(base))
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


# ---------------------------------------------------------------------------------------------------------
# Regions


def name_stem(name: str) -> str:
    """``西堡镇`` and ``西堡`` resolve to the same region: compare names without the level suffix."""
    s = normalise_text(name)
    for suffix in _LEVEL_SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix) + 1:
            return s[: -len(suffix)]
    return s


class RegionResolver:
    """Finds regions by code or name (exact, then without level suffix), with a parent to tell twins apart."""

    def __init__(self, regions: pd.DataFrame):
        self.regions = {int(r.region_id): r for r in regions.itertuples(index=False)}
        self._by_code: dict[str, int] = {}
        self._by_name: dict[str, list[int]] = {}
        self._by_stem: dict[str, list[int]] = {}
        self._next_temp = -1
        for rid, r in self.regions.items():
            self._index(rid, r.name, r.code)

    def _index(self, rid: int, name: str, code) -> None:
        if code is not None and not pd.isna(code) and str(code).strip():
            self._by_code[normalise_text(code)] = rid
        self._by_name.setdefault(normalise_text(name), []).append(rid)
        self._by_stem.setdefault(name_stem(name), []).append(rid)

    def add(self, name: str, level: str, parent_id: int | None, code: str | None) -> int:
        rid = self._next_temp
        self._next_temp -= 1
        self.regions[rid] = pd.Series({"region_id": rid, "name": name, "level": level, "parent_id": parent_id,
                                       "code": code})
        self._index(rid, name, code)
        return rid

    def parent_of(self, rid: int):
        return self.regions[rid].parent_id

    def level_of(self, rid: int) -> str:
        return self.regions[rid].level

    def resolve(self, name: str | None, code: str | None = None, parent: str | None = None) -> tuple[int | None, str]:
        """(region id, "") or (None, problem kind: unknown_region, ambiguous_region, unknown_code)."""
        if code and not is_missing(code):
            rid = self._by_code.get(normalise_text(code))
            if rid is not None:
                return rid, ""
            if not name or is_missing(name):
                return None, "unknown_code"
        if not name or is_missing(name):
            return None, "missing_region"
        name = normalise_text(name)
        if re.fullmatch(r"\d{6,12}", name):  # a code in the name column
            rid = self._by_code.get(name)
            return (rid, "") if rid is not None else (None, "unknown_code")
        found = self._by_name.get(name) or self._by_stem.get(name_stem(name)) or []
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


@dataclass
class ParsedFile:
    name: str
    table_id: str
    rows: pd.DataFrame  # typed rows ready for storage (regions: name, level, parent_id, code, region_id)
    unknown_columns: list[str]
    new_regions: list[str]
    notices: list[tuple[str, dict]]
    excel_rows: list[int]


def parse_file(name: str, raw: RawTable, resolver: RegionResolver, options: ImportOptions,
               problems: list[Problem]) -> ParsedFile | None:
    """Validate one file's texts against its table; problems are appended, never raised here."""
    headers = list(raw.frame.columns)
    table_id = options.table or recognise_table(headers)
    if table_id is None:
        problems.append(Problem(None, ", ".join(headers[:8]), "", "table_not_recognised"))
        return None
    if table_id != REGIONS and table_id not in TABLES_BY_ID:
        raise InvalidFile("error.unknown_table", value=table_id, tables=", ".join(table_ids()))
    frame, notices = _drop_blank_and_total_rows(raw)
    if table_id == REGIONS:
        return _parse_regions(name, raw, frame, resolver, problems, notices)
    return _parse_facts(name, raw, frame, TABLES_BY_ID[table_id], resolver, options, problems, notices)


def table_ids() -> list[str]:
    return [REGIONS] + [t.id for t in TABLES]


def _drop_blank_and_total_rows(raw: RawTable) -> tuple[pd.DataFrame, list[tuple[str, dict]]]:
    frame = raw.frame
    notices = list(raw.notices)
    blank = frame.apply(lambda r: all(is_missing(v) for v in r), axis=1) if len(frame) else pd.Series(dtype=bool)
    first = frame.columns[0] if len(frame.columns) else None
    totals = pd.Series(False, index=frame.index)
    if first is not None:
        region_cols = [h for h in frame.columns
                       if normalise_header(h) in {normalise_header(a) for a in registry.REGION.aliases}]
        cols = region_cols or [first]
        totals = frame[cols].apply(
            lambda r: any(normalise_text(v).lower() in registry.TOTAL_ROW_NAMES for v in r if isinstance(v, str)),
            axis=1) if len(frame) else totals
    for index in frame.index[totals.astype(bool)]:
        notices.append(("notice.total_row_skipped", {"row": raw.excel_row(index)}))
    keep = ~(blank.astype(bool) | totals.astype(bool)) if len(frame) else blank
    return frame[keep], notices


def _parse_regions(name, raw, frame, resolver, problems, notices) -> ParsedFile:
    match = match_headers(list(frame.columns), REGIONS_COLUMNS)
    before = len(problems)
    problems.extend(match.problems)
    by_id = {c.id: h for h, (c, _) in match.columns.items()}
    for required in ("name", "level"):
        if required not in by_id:
            problems.append(Problem(None, REGIONS_COLUMNS[0].zh if required == "name" else "级别", "",
                                    "missing_column", required))
    if len(problems) > before:
        return None
    out, excel_rows = [], []
    for index, row in frame.iterrows():
        excel = raw.excel_row(index)
        region_name = normalise_text(row[by_id["name"]])
        level = level_of(row[by_id["level"]])
        if level is None:
            problems.append(Problem(excel, by_id["level"], row[by_id["level"]], "unknown_level"))
            continue
        code = normalise_text(row[by_id["code"]]) if "code" in by_id and not is_missing(row[by_id["code"]]) else None
        if code and not re.fullmatch(r"\d{12}", code):
            problems.append(Problem(excel, by_id["code"], row[by_id["code"]], "bad_code"))
            continue
        parent_id = None
        if "parent" in by_id and not is_missing(row[by_id["parent"]]):
            parent_id, kind = resolver.resolve(row[by_id["parent"]])
            if parent_id is None:
                problems.append(Problem(excel, by_id["parent"], row[by_id["parent"]], kind))
                continue
        existing = [rid for rid in resolver._by_name.get(region_name, []) if resolver.parent_of(rid) == parent_id]
        if existing:
            continue  # already known: importing the same hierarchy again changes nothing
        rid = resolver.add(region_name, level, parent_id, code)
        out.append({"region_id": rid, "name": region_name, "level": level, "parent_id": parent_id, "code": code})
        excel_rows.append(excel)
    rows = pd.DataFrame(out, columns=["region_id", "name", "level", "parent_id", "code"])
    return ParsedFile(name, REGIONS, rows, match.unknown, [], notices, excel_rows)


def _parse_facts(name, raw, frame, table: Table, resolver, options, problems, notices) -> ParsedFile | None:
    columns = ROW_COLUMNS + PROVENANCE_COLUMNS + table.columns
    match = match_headers(list(frame.columns), columns)
    before = len(problems)
    problems.extend(match.problems)
    by_id = {c.id: h for h, (c, _) in match.columns.items()}
    missing = [c for c in (registry.REGION, registry.YEAR, *table.key_columns) if c.id not in by_id]
    if registry.REGION.id not in by_id and registry.REGION_CODE.id in by_id:
        missing = [c for c in missing if c.id != registry.REGION.id]
    for c in missing:
        problems.append(Problem(None, c.zh, "", "missing_column", c.zh))
    if not any(c.id in by_id for c in table.value_columns):
        problems.append(Problem(None, ", ".join(frame.columns[:8]), "", "no_value_columns", table.zh))
    if len(problems) > before:
        return None

    out, excel_rows, new_regions, seen = [], [], [], {}
    next_year = date.today().year + 1
    for index, row in frame.iterrows():
        excel = raw.excel_row(index)
        record: dict = {"approx": []}
        ok = True
        region_text = row[by_id["region"]] if "region" in by_id else None
        code_text = row[by_id["region_code"]] if "region_code" in by_id else None
        parent_text = row[by_id["parent"]] if "parent" in by_id else None
        rid, kind = resolver.resolve(region_text, code_text, parent_text)
        if rid is None and kind == "unknown_region" and options.new_region_parent is not None:
            parent_level = resolver.level_of(options.new_region_parent)
            rid = resolver.add(normalise_text(region_text), child_level(parent_level), options.new_region_parent,
                               None if is_missing(code_text) else normalise_text(code_text))
            new_regions.append(normalise_text(region_text))
        elif rid is None:
            problems.append(Problem(excel, by_id.get("region", by_id.get("region_code", "")),
                                    str(region_text if region_text is not None else code_text), kind))
            ok = False
        record["region_id"] = rid

        year_text = row[by_id["year"]]
        year = _parse_year(year_text)
        if year is None or not (MIN_YEAR <= year <= next_year):
            problems.append(Problem(excel, by_id["year"], year_text, "bad_year", f"{MIN_YEAR}–{next_year}"))
            ok = False
        record["year"] = year

        for header, (column, factor) in match.columns.items():
            if column in ROW_COLUMNS:
                continue
            text = row[header]
            try:
                value, approximate = _parse_cell(text, column, factor)
            except NumberError as e:
                problems.append(Problem(excel, header, text, e.kind, _range_text(column)))
                ok = False
                continue
            if column.key and value is None:
                problems.append(Problem(excel, header, text, "missing_key"))
                ok = False
            record[column.id] = value
            if approximate:
                record["approx"].append(column.id)
        if not ok:
            continue
        for smaller, larger in registry.ROW_RULES:
            a, b = record.get(smaller), record.get(larger)
            if a is not None and b is not None and a > b:
                problems.append(Problem(excel, _header_of(by_id, smaller, table), f"{_fmt(a)} > {_fmt(b)}",
                                        "exceeds", f"{table.column(smaller).zh} ≤ {table.column(larger).zh}"))
                ok = False
        key = (record["region_id"], record["year"], *(record.get(c.id) for c in table.key_columns))
        if key in seen:
            problems.append(Problem(excel, by_id.get("region", ""), str(region_text), "duplicate_key",
                                    str(seen[key])))
            ok = False
        seen.setdefault(key, excel)
        if ok:
            out.append(record)
            excel_rows.append(excel)
    names = ["region_id", "year"] + [c.id for c in table.columns] + ["source", "section", "approx"]
    rows = pd.DataFrame(out, columns=names)
    return ParsedFile(name, table.id, rows, match.unknown, new_regions, notices, excel_rows)


def _header_of(by_id: dict, column_id: str, table: Table) -> str:
    return by_id.get(column_id, table.column(column_id).zh)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _range_text(column: Column) -> str:
    if column.kind == RATE:
        return "0–100%"
    return column.unit_zh


def _parse_year(text) -> int | None:
    s = normalise_text(text or "").removesuffix("年度").removesuffix("年")
    return int(s) if re.fullmatch(r"\d{4}", s) else None


def _parse_cell(text, column: Column, factor: float):
    """(typed value or None, approximate?) for one cell; raises NumberError."""
    if column.numeric:
        parsed = parse_number(text, column.kind)
        if parsed is None:
            return None, False
        value = parsed.value * factor
        if column.maximum is not None and value > column.maximum:
            raise NumberError("out_of_range")
        if column.kind == COUNT:
            value = int(round(value))
        return value, parsed.approximate
    if is_missing(text):
        return None, False
    text = str(text).strip()
    if column.kind == LIST:
        return split_list(text), False
    if column.kind == CHOICE:
        wanted = normalise_text(text).lower()
        for value, zh, en in column.choices:
            if wanted in (value, zh.lower(), en.lower()):
                return value, False
        raise NumberError("bad_choice")
    return text, False


def split_list(text: str) -> list[str]:
    """``汉、藏等`` -> [汉, 藏, 等]: the trailing 等 (not complete) is kept as an item of its own."""
    items = [s.strip() for s in re.split(r"[、,，;；/]", text) if s.strip()]
    if items and items[-1].endswith("等") and len(items[-1]) > 1:
        items[-1] = items[-1][:-1]
        items.append("等")
    return items


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
        return sorted({r for f in self.files for r in f.new_regions})


def prepare_import(regions: pd.DataFrame, files: list[tuple[str, RawTable]], options: ImportOptions,
                   sha256: str | None = None) -> PreparedImport:
    """Validate files (regions files first) into one batch; raises ValidationFailed listing every problem."""
    resolver = RegionResolver(regions)
    problems: list[Problem] = []
    ordered = sorted(files, key=lambda f: 0 if (options.table or recognise_table(list(f[1].frame.columns))) == REGIONS
                     else 1)
    parsed: list[ParsedFile] = []
    for name, raw in ordered:
        result = parse_file(name, raw, resolver, options, problems)
        if result is not None:
            parsed.append(result)
    if problems:
        _fail(problems)
    seen_tables: dict[str, str] = {}
    for f in parsed:
        if f.table_id in seen_tables and f.table_id != REGIONS:
            problems.append(Problem(None, f.name, "", "table_twice", seen_tables[f.table_id]))
        seen_tables[f.table_id] = f.name
    if problems:
        _fail(problems)

    names = [f.name for f in parsed]
    source = options.source or (names[0] if len(names) == 1 else ", ".join(names))
    synthetic = any(m in (source or "").lower() for m in SYNTHETIC_MARKERS)
    batch = NewBatch(file_name=", ".join(names), sha256=sha256, user_name=options.user_name, source=source,
                     note=options.note, synthetic=synthetic)
    new = [pd.DataFrame([{"region_id": rid, "name": r["name"], "level": r["level"], "parent_id": r["parent_id"],
                          "code": r["code"]}]) for rid, r in resolver.regions.items() if rid < 0]
    if new:
        batch.regions = pd.concat(new, ignore_index=True)
    for f in parsed:
        if f.table_id == REGIONS:
            continue
        rows = f.rows.copy()
        rows["source"] = rows["source"].where(rows["source"].notna(), f.name) if len(rows) else rows["source"]
        if any(m in " ".join(map(str, rows["source"].dropna().unique())).lower() for m in SYNTHETIC_MARKERS):
            batch.synthetic = True
        batch.rows[f.table_id] = rows
    return PreparedImport(batch, parsed, problems, resolver)
