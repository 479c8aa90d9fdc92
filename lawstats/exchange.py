"""Files that leave lawstats: upload templates (CSV, XLSX) and exports of the current data (XLSX, CSV, Parquet).

Headers are the registry's labels, so every template and export imports back unchanged. CSV is UTF-8 with a
byte-order mark (Excel opens it correctly). Text cells that a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, tab or CR) are prefixed with ``'`` in CSV and XLSX; the importer takes that prefix
off again. Parquet is for programs: plain ids and values, no labels, no prefix.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

from lawstats import registry, storage
from lawstats.i18n import t
from lawstats.registry import AREA, CHOICE, COUNT, LIST, RATE, REGIONS_COLUMNS, TABLES, TABLES_BY_ID, Column, Table

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXAMPLE_PREFIX = {"zh": "示例：", "en": "Example: "}  # the importer leaves such rows out (importer.EXAMPLE_MARKERS)
REGIONS_ID = "regions"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"


# ---------------------------------------------------------------------------------------------------------
# Formula guard and CSV bytes


def guard_cell(value):
    """``=1+1`` -> ``'=1+1``: a text cell a spreadsheet would evaluate is made plain text. Others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def guard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and header of ``frame`` through ``guard_cell`` (numbers stay numbers)."""
    out = frame.copy()
    for name in out.columns:
        if not pd.api.types.is_numeric_dtype(out[name]) and not pd.api.types.is_bool_dtype(out[name]):
            out[name] = out[name].map(guard_cell, na_action="ignore").astype(object)
    out.columns = [guard_cell(str(c)) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as CSV that Excel opens correctly: UTF-8 with BOM, formula-guarded text, no index."""
    return guard_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


# ---------------------------------------------------------------------------------------------------------
# Headers and labelled rows


def header(column: Column, lang: str = "zh") -> str:
    """The header a template or export writes for a column: its label, with the unit where it matters
    (areas: 耕地面积（亩）, so nobody enters 公顷 by mistake)."""
    label = column.label(lang)
    if column.kind == AREA:
        return f"{label}（{column.unit(lang)}）" if lang == "zh" else f"{label} ({column.unit(lang)})"
    return label


def table_headers(table: Table, lang: str = "zh") -> list[str]:
    """Template headers of a table: region, year, its columns, source, section."""
    columns = (registry.REGION, registry.YEAR, *table.columns, *registry.PROVENANCE_COLUMNS)
    return [header(c, lang) for c in columns]


def regions_headers(lang: str = "zh") -> list[str]:
    return [c.label(lang) for c in REGIONS_COLUMNS]


def _text_value(value, column: Column, approximate: bool, lang: str):
    """A stored value as an export cell: numbers stay numbers; 约 marks approximate figures; lists joined."""
    if value is None or (not isinstance(value, (list, tuple)) and not hasattr(value, "__len__") and pd.isna(value)):
        return None
    if column.kind == LIST:
        from lawstats.importer import join_list

        return join_list(list(value))
    if column.kind == CHOICE:
        for stored, zh, en in column.choices:
            if stored == value:
                return zh if lang == "zh" else en
        return value
    if column.kind == COUNT:
        number = int(value)
    elif column.kind in (AREA, RATE):
        number = float(value)
        number = int(number) if number.is_integer() else number
    else:
        return value
    return f"约{number}" if approximate else number


def labelled_frame(table: Table | None, frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Rows from ``storage.table_as_of`` (or ``regions_as_of`` when ``table`` is None) with template headers,
    region names instead of ids and values as people write them. Imports back unchanged."""
    if table is None:
        level_label = {lid: (zh if lang == "zh" else en) for lid, zh, en in registry.LEVELS}
        return pd.DataFrame({
            REGIONS_COLUMNS[0].label(lang): frame["name"].to_numpy(),
            REGIONS_COLUMNS[1].label(lang): frame["level"].map(level_label).to_numpy(),
            REGIONS_COLUMNS[2].label(lang): frame["parent"].to_numpy(),
            REGIONS_COLUMNS[3].label(lang): frame["code"].to_numpy(),
        })
    approx = frame["approx"] if "approx" in frame else pd.Series([[]] * len(frame))
    flags = [set(a) if a is not None and not isinstance(a, float) else set() for a in approx]
    out = {header(registry.REGION, lang): frame["region"].to_numpy(),
           header(registry.PARENT, lang): frame["parent"].to_numpy(),
           header(registry.REGION_CODE, lang): frame["region_code"].to_numpy(),
           header(registry.YEAR, lang): frame["year"].astype("Int64").to_numpy()}
    for column in table.columns:
        values = frame[column.id].tolist()
        cells = [_text_value(v, column, column.id in f, lang) for v, f in zip(values, flags)]
        out[header(column, lang)] = pd.Series(cells, dtype=object).to_numpy()
    for column in registry.PROVENANCE_COLUMNS:
        out[header(column, lang)] = frame[column.id].to_numpy()
    return pd.DataFrame(out)


def current_frame(store: storage.Store, table_id: str, lang: str = "zh") -> pd.DataFrame:
    """The current rows of a table (or of the regions), labelled for export."""
    if table_id == REGIONS_ID:
        return labelled_frame(None, storage.regions_as_of(store), lang)
    table = TABLES_BY_ID[table_id]
    return labelled_frame(table, storage.table_as_of(store, table), lang)


# ---------------------------------------------------------------------------------------------------------
# Templates


def _example_row(table_id: str, lang: str) -> list:
    """The first row of the 西堡镇 data for this table, its region cell marked as an example."""
    from lawstats.importer import match_headers
    from lawstats.reader import read_csv_bytes
    from lawstats.seed import DEFAULT_DATA_DIR

    path = DEFAULT_DATA_DIR / f"{table_id}.csv"
    if table_id == REGIONS_ID:
        columns = REGIONS_COLUMNS
    else:
        table = TABLES_BY_ID[table_id]
        columns = (registry.REGION, registry.YEAR, *table.columns, *registry.PROVENANCE_COLUMNS)
    if not path.exists():
        return [""] * len(columns)
    raw = read_csv_bytes(path.read_bytes()).frame
    row = raw.iloc[-1] if table_id == REGIONS_ID else raw.iloc[0]  # regions: the township, not the province
    by_id = {c.id: h for h, (c, _) in match_headers(list(raw.columns), columns).columns.items()}
    cells = [row[by_id[c.id]] if c.id in by_id else "" for c in columns]
    cells[0] = EXAMPLE_PREFIX[lang] + cells[0]
    return cells


def _template_headers(table_id: str, lang: str) -> list[str]:
    return regions_headers(lang) if table_id == REGIONS_ID else table_headers(TABLES_BY_ID[table_id], lang)


def _check_table(table_id: str) -> None:
    if table_id != REGIONS_ID and table_id not in TABLES_BY_ID:
        from lawstats.errors import NotFound
        from lawstats.importer import table_ids

        raise NotFound("error.unknown_table", value=table_id, tables=", ".join(table_ids()))


def template_csv(table_id: str, lang: str = "zh") -> bytes:
    """An upload template as CSV (UTF-8 with BOM): the headers and one example row from the 西堡镇 data,
    marked 示例 (the importer leaves it out, so the template can be filled in below it). A catalogue domain
    without a registry table (``domain_template_id``) gets its measures' blank template."""
    if domain_template_id(table_id):
        return to_csv_bytes(pd.DataFrame(columns=domain_template_headers(table_id, lang)))
    _check_table(table_id)
    frame = pd.DataFrame([_example_row(table_id, lang)], columns=_template_headers(table_id, lang))
    return to_csv_bytes(frame)


def template_xlsx(table_id: str, lang: str = "zh") -> bytes:
    """An upload template as XLSX: sheet 数据 (headers, a grey example row), sheet 说明 explaining each column
    (name, English id, unit, type, range, other accepted headers, definition)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    if domain_template_id(table_id):
        return _domain_template_xlsx(table_id, lang)
    _check_table(table_id)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = t("exchange.sheet_data", lang)
    sheet.append([guard_cell(h) for h in _template_headers(table_id, lang)])
    sheet.append([guard_cell(v) for v in _example_row(table_id, lang)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F0")
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
    sheet["A2"].comment = Comment(t("exchange.example_comment", lang), "lawstats")
    sheet.freeze_panes = "A2"
    for letter_cells in sheet.columns:
        width = max(len(str(c.value or "")) for c in letter_cells)
        sheet.column_dimensions[letter_cells[0].column_letter].width = min(40, max(10, 2 * width))
    _explain_sheet(workbook.create_sheet(t("exchange.sheet_help", lang)), table_id, lang)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- derived: a blank template per catalogue domain that has no registry table (issue 10 §3) ---


def domain_template_id(text: str) -> str | None:
    """The catalogue domain a template name means (its id, 中文名 or English name) when no registry table has
    that name (population, land... keep their tables' templates); else None."""
    from lawstats import catalogue

    wanted = str(text).strip().lower()
    for domain in catalogue.load().domains:
        if wanted in (domain.id, domain.zh.lower(), domain.en.lower()) and domain.id not in TABLES_BY_ID:
            return domain.id
    return None


def domain_template_choices(lang: str = "zh") -> dict[str, str]:
    """domain id -> its name, for every catalogue domain with a measure template (no registry table)."""
    from lawstats import catalogue

    return {d.id: d.label(lang) for d in catalogue.load().domains if d.id not in TABLES_BY_ID}


def _template_measures(domain_id: str) -> list:
    from lawstats import catalogue

    cat = catalogue.load()
    return cat.measures_of(domain_template_id(domain_id) or domain_id)


def domain_template_headers(domain_id: str, lang: str = "zh") -> list[str]:
    """Region, year, one column per measure of the domain (its name: the importer matches it), source."""
    return [header(registry.REGION, lang), header(registry.YEAR, lang),
            *(m.label(lang) for m in _template_measures(domain_id)), header(registry.SOURCE, lang)]


def _domain_template_xlsx(domain_id: str, lang: str) -> bytes:
    """The domain's blank template as XLSX: sheet 数据 (headers), sheet 说明 (each measure's id, unit, range,
    other accepted headers and definition)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = t("exchange.sheet_data", lang)
    sheet.append([guard_cell(h) for h in domain_template_headers(domain_id, lang)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F0")
    help_sheet = workbook.create_sheet(t("exchange.sheet_help", lang))
    help_sheet.append(["id", *(t(f"glossary.col.{c}", lang) for c in ("zh", "en", "unit", "kind")), "range",
                       "aliases", "definition"])
    for m in _template_measures(domain_id):
        help_sheet.append([guard_cell(v) for v in (m.id, m.zh, m.en, m.unit, m.kind,
                                                   "" if m.range is None else f"{m.range[0]:g}–{m.range[1]:g}",
                                                   "、".join(m.aliases), m.definition_zh if lang == "zh"
                                                   else m.definition_en)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def explain_columns(table_id: str, lang: str = "zh") -> pd.DataFrame:
    """One row per template column: header, English id, unit, type, range, other accepted headers, definition."""
    if table_id == REGIONS_ID:
        columns = REGIONS_COLUMNS
    else:
        table = TABLES_BY_ID[table_id]
        columns = (registry.REGION, registry.YEAR, *table.columns, *registry.PROVENANCE_COLUMNS)
    rows = []
    for c in columns:
        rows.append({
            t("exchange.col_header", lang): header(c, lang),
            t("exchange.col_id", lang): c.id,
            t("exchange.col_unit", lang): c.unit(lang),
            t("exchange.col_type", lang): _type_text(c, lang),
            t("exchange.col_range", lang): _range_text(c, lang),
            t("exchange.col_aliases", lang): "、".join(a for a in c.aliases if a not in (c.zh, c.id)),
            t("exchange.col_definition", lang): c.definition(lang),
        })
    return pd.DataFrame(rows)


def _type_text(column: Column, lang: str) -> str:
    if column.kind == CHOICE:
        values = "、".join((zh if lang == "zh" else en) for _, zh, en in column.choices)
        return t("exchange.type_choice", lang, values=values)
    return t(f"exchange.type_{column.kind}", lang)


def _range_text(column: Column, lang: str) -> str:
    if column.id == registry.YEAR.id:
        return "1949–"
    if column.kind == RATE:
        return "0–100"
    if column.minimum is not None and column.maximum is None:
        return f"≥ {column.minimum:g}"
    return ""


def _explain_sheet(sheet, table_id: str, lang: str) -> None:
    from openpyxl.styles import Alignment, Font

    frame = explain_columns(table_id, lang)
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([guard_cell(v) for v in row])
    sheet.append([])
    sheet.append([t("exchange.help_numbers", lang)])
    sheet.append([t("exchange.help_example", lang)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = (22, 24, 8, 22, 10, 40, 50)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


# ---------------------------------------------------------------------------------------------------------
# Exports of the current data


def export_ids() -> list[str]:
    """What an export holds, in order: the regions, then every registry table."""
    return [REGIONS_ID] + [tb.id for tb in TABLES]


def _sheet_title(table_id: str, lang: str) -> str:
    label = t("upload.regions", lang) if table_id == REGIONS_ID else TABLES_BY_ID[table_id].label(lang)
    return "".join(ch for ch in label if ch not in "[]:*?/\\")[:31]


def export_xlsx(store: storage.Store, lang: str = "zh") -> bytes:
    """The current data as one workbook: a sheet of regions, then a sheet per table with labelled headers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    for table_id in export_ids():
        frame = guard_frame(current_frame(store, table_id, lang))
        sheet = workbook.create_sheet(_sheet_title(table_id, lang))
        head = []
        for name in frame.columns:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = Font(bold=True)
            head.append(cell)
        sheet.append(head)
        sheet.freeze_panes = "A2"
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def export_csv(store: storage.Store, table_id: str, lang: str = "zh") -> bytes:
    """The current rows of one table (or ``regions``) as CSV, UTF-8 with BOM, labelled headers."""
    _check_table(table_id)
    return to_csv_bytes(current_frame(store, table_id, lang))


def export_parquet(store: storage.Store, directory: str | os.PathLike) -> list[Path]:
    """The current data as one Parquet file per table (``regions.parquet``, ``population.parquet``...), with
    plain ids and typed values for programs. Returns the files written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    frames = {REGIONS_ID: storage.regions_as_of(store)}
    frames.update({tb.id: storage.table_as_of(store, tb) for tb in TABLES})
    for table_id, frame in frames.items():
        path = directory / f"{table_id}.parquet"
        frame.to_parquet(path, index=False)
        written.append(path)
    return written


def export_csv_files(store: storage.Store, directory: str | os.PathLike, lang: str = "zh") -> list[Path]:
    """``export_csv`` of every table into a folder (``regions.csv``, ``population.csv``...)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table_id in export_ids():
        path = directory / f"{table_id}.csv"
        path.write_bytes(export_csv(store, table_id, lang))
        written.append(path)
    return written
