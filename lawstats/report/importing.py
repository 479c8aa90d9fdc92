"""Import a report's figures through the same path as a spreadsheet upload.

The accepted figures (mapped, confidence ≥ the threshold) whose measure is a column of a ``registry.py`` table are
written as upload-template CSV files (地区, 年份, the columns, 来源, 来源章节; an approximate value as ``4000余``)
and given to ``uploads.inspect_files``: the same validation, preview, batch, history and undo as any upload. Each
value's provenance (document, section, and the sentence as the note) goes into the batch's per-value provenance,
the mechanism the default data uses (``data/provenance.csv``). Everything else is returned as left out, with the
reason, for the CLI to print. Until the catalogue-wide storage (issue 10 §3), only registry columns are stored.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd

from lawstats import catalogue as catalogue_module
from lawstats import registry, storage, uploads
from lawstats.report.extract import CONFIDENCE_THRESHOLD, Extraction, Figure

# Why a figure is left out.
LOW_CONFIDENCE, UNMAPPED, NOT_STORED, NO_ITEM, REPEATED = ("low_confidence", "unmapped", "not_stored", "no_item",
                                                          "repeated")


@dataclass
class Plan:
    """What an import of a report would write."""
    region: str
    year: int
    files: list[tuple[str, bytes]] = field(default_factory=list)
    taken: list[tuple[str, Figure]] = field(default_factory=list)  # (table id, figure)
    left: list[tuple[str, Figure]] = field(default_factory=list)  # (reason, figure)


def _columns() -> dict[str, tuple[registry.Table, registry.Column]]:
    return {c.id: (t, c) for t in registry.TABLES for c in t.value_columns}


def plan(extraction: Extraction, region: str, year: int, threshold: float = CONFIDENCE_THRESHOLD,
         catalogue: catalogue_module.Catalogue | None = None) -> Plan:
    """Choose the figures to import: one value per (table, row, column), the first confident one in the report
    (a figure stated twice with the same value is one value; a different value is left out as repeated)."""
    cat = catalogue or catalogue_module.load()
    columns = _columns()
    result = Plan(region, year)
    rows: dict[tuple[str, str | None], dict[str, Figure]] = {}
    for figure in extraction.figures:
        reason = _reason_left(figure, columns, threshold)
        if reason:
            result.left.append((reason, figure))
            continue
        table, column = columns[figure.measure]
        key = _row_key(cat, figure) if table.key_columns else None
        if table.key_columns and not key:
            result.left.append((NO_ITEM, figure))
            continue
        cells = rows.setdefault((table.id, key), {})
        if column.id in cells:
            if cells[column.id].value != figure.value:
                result.left.append((REPEATED, figure))
            continue
        cells[column.id] = figure
        result.taken.append((table.id, figure))
    result.files = _template_files(extraction, region, year, rows)
    return result


def _reason_left(figure: Figure, columns: dict, threshold: float) -> str | None:
    if figure.measure is None:
        return UNMAPPED
    if figure.confidence < threshold:
        return LOW_CONFIDENCE
    if figure.measure not in columns or figure.change:
        return NOT_STORED
    return None


def _row_key(cat: catalogue_module.Catalogue, figure: Figure) -> str | None:
    """The breakdown item as the table's key names it (学习项目: the item's Chinese name, or a new name as written)."""
    if not figure.item:
        return None
    measure = cat.measures[figure.measure]
    breakdown = cat.breakdowns.get(measure.breakdown or "")
    for item in breakdown.items if breakdown else ():
        if item.id == figure.item:
            return item.zh
    return figure.item


def _template_files(extraction: Extraction, region: str, year: int,
                    rows: dict[tuple[str, str | None], dict[str, Figure]]) -> list[tuple[str, bytes]]:
    files = []
    for table in registry.TABLES:
        table_rows = [(key, cells) for (table_id, key), cells in rows.items() if table_id == table.id]
        if not table_rows:
            continue
        key_headers = [c.zh for c in table.key_columns]
        value_columns = [c for c in table.value_columns if any(c.id in cells for _, cells in table_rows)]
        kinds = [c for c in table.value_columns if c.choices and c.id not in {v.id for v in value_columns}]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["地区", "年份", *key_headers, *(c.zh for c in kinds), *(c.zh for c in value_columns),
                         "来源", "来源章节"])
        for key, cells in table_rows:
            first = min(cells.values(), key=lambda f: f.start)
            writer.writerow([region, year, *([key] if key_headers else []), *(_kind(c, key) for c in kinds),
                             *(_cell(cells.get(c.id)) for c in value_columns),
                             extraction.document, first.section])
        files.append((f"{table.id}.csv", out.getvalue().encode("utf-8-sig")))
    return files


EXAM_WORDS = ("考试", "测试", "考核")


def _kind(column: registry.Column, key: str | None) -> str:
    """A row's kind where the table has one (学法培训 类型: 学习 | 考试), from the item's name: a name that says
    考试/测试/考核 is an exam (法宣在线考试), any other a study programme (集中学法, 学习强国)."""
    names = [zh for _, zh, _ in column.choices]
    exam = next((n for n in names if n == "考试"), None)
    if exam and key and any(word in key for word in EXAM_WORDS):
        return exam
    return next((n for n in names if n != exam), names[0])


def _cell(figure: Figure | None) -> str:
    if figure is None:
        return ""
    value = f"{figure.value:.12g}"
    if figure.unit in ("%", "‰"):
        value += figure.unit
    return value + "余" if figure.approx else value


def inspect(store: storage.Store, extraction: Extraction, report_plan: Plan, *, new_region_parent: int | None = None,
            lang: str = "zh", with_preview: bool = True) -> uploads.Upload:
    """Validate the planned files as one upload (writes nothing) and attach each value's provenance."""
    upload = uploads.inspect_files(store, report_plan.files, new_region_parent=new_region_parent, lang=lang,
                                   with_preview=with_preview, source=extraction.document)
    upload.file_name = extraction.document  # the history names the report, not the files made from it
    if upload.prepared is not None:
        upload.prepared.batch.provenance = _provenance(upload, extraction, report_plan)
    return upload


def _provenance(upload: uploads.Upload, extraction: Extraction, report_plan: Plan) -> pd.DataFrame:
    region_id, _ = upload.prepared.resolver.resolve(report_plan.region)
    cat = catalogue_module.load()
    columns = _columns()
    rows = []
    for table_id, figure in report_plan.taken:
        table, _ = columns[figure.measure]
        rows.append({"table_id": table_id, "region_id": region_id, "year": report_plan.year,
                     "row_key": _row_key(cat, figure) if table.key_columns else None, "column_id": figure.measure,
                     "source": extraction.document, "section": figure.section, "origin": "stated",
                     "note": figure.sentence})
    return pd.DataFrame(rows, columns=["table_id", "region_id", "year", "row_key", "column_id", "source", "section",
                                       "origin", "note"])
