"""Import a report's figures through the same path as a spreadsheet upload, as ONE batch.

The accepted figures (mapped, confidence ≥ the threshold, a level not a change) go two ways:

- a measure that is a column of a ``registry.py`` table is written as upload-template CSV files (地区, 年份, the
  columns, 来源, 来源章节; an approximate value as ``4000余``) given to ``uploads.inspect_files``: the same
  validation, preview, history and undo as any upload; each value's provenance (document, section, and the
  sentence as the note) goes into the batch's per-value provenance (the mechanism of ``data/provenance.csv``);
- every other catalogue measure becomes an observation (``NewBatch.observations``: region, year, measure, the
  breakdown item or '' for none, value, approx, document, section, sentence) in the same batch.

A report with observations only has no file to validate: its batch is made here, with the same region rules
(a new region only under a confirmed parent). Everything not taken is returned as left out, with the reason.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd

from lawstats import catalogue as catalogue_module
from lawstats import importer, registry, storage, uploads
from lawstats.errors import LawstatsError, ValidationFailed
from lawstats.i18n import t
from lawstats.report.extract import CONFIDENCE_THRESHOLD, Extraction, Figure

# Why a figure is left out.
LOW_CONFIDENCE, UNMAPPED, NOT_STORED, NO_ITEM, REPEATED, UNKNOWN_ITEM, CHANGE = (
    "low_confidence", "unmapped", "not_stored", "no_item", "repeated", "unknown_item", "change")
OBSERVATIONS = "observations"  # where a catalogue-only measure goes (the "table" of a taken figure)
OBSERVATION_COLUMNS = ["region_id", "year", "measure_id", "item_id", "value", "text_value", "approx", "source",
                       "section", "sentence"]


@dataclass
class Plan:
    """What an import of a report would write."""
    region: str
    year: int
    files: list[tuple[str, bytes]] = field(default_factory=list)
    taken: list[tuple[str, Figure]] = field(default_factory=list)  # (table id or OBSERVATIONS, figure)
    left: list[tuple[str, Figure]] = field(default_factory=list)  # (reason, figure)

    @property
    def observations(self) -> list[Figure]:
        return [figure for table_id, figure in self.taken if table_id == OBSERVATIONS]

    def counts(self) -> dict[str, int]:
        """Figures taken for the registry tables and as observations: {"registry": n, "observations": m}."""
        observed = len(self.observations)
        return {"registry": len(self.taken) - observed, OBSERVATIONS: observed}


def _columns() -> dict[str, tuple[registry.Table, registry.Column]]:
    return {c.id: (t, c) for t in registry.TABLES for c in t.value_columns}


def plan(extraction: Extraction, region: str, year: int, threshold: float = CONFIDENCE_THRESHOLD,
         catalogue: catalogue_module.Catalogue | None = None) -> Plan:
    """Choose the figures to import: one value per (table, row, column) or (measure, item), the first confident
    one in the report (a figure stated twice with the same value is one value; a different value is left out
    as repeated)."""
    cat = catalogue or catalogue_module.load()
    columns = _columns()
    result = Plan(region, year)
    rows: dict[tuple[str, str | None], dict[str, Figure]] = {}
    observed: dict[tuple[str, str], Figure] = {}
    for figure in extraction.figures:
        reason = _reason_left(figure, cat, threshold)
        if reason:
            result.left.append((reason, figure))
            continue
        if figure.measure not in columns:
            reason = _observe(cat, figure, observed)
            if reason:
                result.left.append((reason, figure))
            elif observed[(figure.measure, item_id(cat, figure))] is figure:
                result.taken.append((OBSERVATIONS, figure))
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


def _reason_left(figure: Figure, cat: catalogue_module.Catalogue, threshold: float) -> str | None:
    if figure.measure is None:
        return UNMAPPED
    if figure.confidence < threshold:
        return LOW_CONFIDENCE
    if figure.change:  # 同比增长12%: never stored as the level
        return CHANGE
    measure = cat.measures.get(figure.measure)
    if measure is None or not measure.numeric:
        return NOT_STORED
    return None


def _observe(cat: catalogue_module.Catalogue, figure: Figure, observed: dict[tuple[str, str], Figure]) -> str | None:
    """Keep a catalogue-only figure as one observation per (measure, item); the reason it is left out, if so."""
    item = item_id(cat, figure)
    breakdown = cat.breakdowns.get(cat.measures[figure.measure].breakdown or "")
    if item and (breakdown is None or (not breakdown.open and item not in {i.id for i in breakdown.items})):
        return UNKNOWN_ITEM
    earlier = observed.setdefault((figure.measure, item), figure)
    if earlier is not figure and earlier.value != figure.value:
        return REPEATED
    return None


def item_id(cat: catalogue_module.Catalogue, figure: Figure) -> str:
    """The observation's item: the breakdown item's id, or a new item of an open breakdown as written (a name
    the analyst typed, matched to an item by its id or Chinese name first); '' for none (the measure's total)."""
    if not figure.item:
        return ""
    breakdown = cat.breakdowns.get(cat.measures[figure.measure].breakdown or "")
    for item in breakdown.items if breakdown else ():
        if figure.item in (item.id, item.zh):
            return item.id
    return figure.item.strip()


def _row_key(cat: catalogue_module.Catalogue, figure: Figure) -> str | None:
    """The breakdown item as the table's key names it (学习项目: the item's Chinese name, or a new name as written)."""
    if not figure.item:
        return None
    measure = cat.measures[figure.measure]
    breakdown = cat.breakdowns.get(measure.breakdown or "")
    return breakdown.item_label(figure.item, "zh") if breakdown else figure.item


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
    """Validate the planned batch (writes nothing): the files as one upload, each value's provenance and the
    observations attached to it."""
    if report_plan.files:
        upload = uploads.inspect_files(store, report_plan.files, new_region_parent=new_region_parent, lang=lang,
                                       with_preview=with_preview, source=extraction.document)
    else:
        upload = _observations_only(store, extraction, report_plan, new_region_parent, lang)
    upload.file_name = extraction.document  # the history names the report, not the files made from it
    if upload.prepared is not None:
        region_id, _ = upload.prepared.resolver.resolve(report_plan.region)
        batch = upload.prepared.batch
        batch.provenance = _provenance(region_id, extraction, report_plan)
        batch.observations = observations_frame(region_id, extraction, report_plan)
        _require_allowed(batch.observations, {region_id: report_plan.region})
    return upload


def _require_allowed(observations: pd.DataFrame, names: dict[int, str]) -> None:
    """Refuse now, as the commit would (a value outside its measure's range, say), naming measure, region,
    year and value: the analyst corrects the figure before anything is written."""
    if not len(observations):
        return
    found = storage.observation_problems(observations, names)
    if len(found):
        first = found.iloc[0].to_dict()
        params = {k: v for k, v in first.items() if k not in ("problem", "row") and pd.notna(v)}
        raise ValidationFailed(first["problem"], details=found, **params)


def commit(store: storage.Store, upload: uploads.Upload, extraction: Extraction, report_plan: Plan, *,
           user_name: str, note: str | None = None, new_region_parent: int | None = None) -> int:
    """Commit the inspected report as one batch. If the store changed since (another analyst committed), the
    report is inspected again first, so its provenance and observations go with the new validation."""
    if storage.data_version(store) != upload.data_version:
        upload = inspect(store, extraction, report_plan, new_region_parent=new_region_parent, lang=upload.lang,
                         with_preview=False)
    return uploads.commit_upload(store, upload, user_name=user_name, note=note)


def rows_text(upload: uploads.Upload, lang: str) -> str:
    """What the batch writes, for the message after a commit or a dry run: the tables' rows, the regions
    created and the observations (人口 1 行、指标观测值 3 个)."""
    counts = {k: v for k, v in uploads.batch_row_counts(upload).items() if k != OBSERVATIONS}
    observations = getattr(upload.prepared.batch, "observations", None) if upload.ready else None
    parts = [uploads.row_counts_text(counts, lang)] if counts else []
    if observations is not None and len(observations):
        parts.append(t("report.observation_rows", lang, rows=len(observations)))
    return t("upload.list_sep", lang).join(parts)


def _observations_only(store: storage.Store, extraction: Extraction, report_plan: Plan,
                       new_region_parent: int | None, lang: str) -> uploads.Upload:
    """The upload of a report whose figures are all observations: no file to validate, the same region rule
    (a region the store does not know is created only under a confirmed parent)."""
    if not report_plan.observations:
        raise LawstatsError("report.import_nothing", threshold=CONFIDENCE_THRESHOLD)
    resolver = importer.RegionResolver(uploads.region_index(store))
    name = importer.display_name(report_plan.region)
    region_id, _ = resolver.resolve(name)
    if region_id is None and new_region_parent is not None:
        region_id = resolver.add(name, importer.child_level(resolver.level_of(new_region_parent)),
                                 new_region_parent, None)
    sha256 = storage.sha256_of(extraction.text.encode("utf-8"))
    upload = uploads.Upload(
        file_name=extraction.document, sha256=sha256, size=len(extraction.text.encode("utf-8")), encoding=None,
        sheets=[], sheet=None, table_id=None, tables=[], unknown_columns=[], unknown_regions=[], notices=[],
        duplicate_of=storage.batch_with_sha256(store, sha256), preview={},
        indicator_changes=uploads._empty_indicator_changes(lang), prepared=None, row_count=0,
        data_version=storage.data_version(store), lang=lang)
    if region_id is None:
        upload.unknown_regions = [name]
        upload.problems = pd.DataFrame({"row": [None], "column": ["地区"], "value": [name],
                                        "kind": ["unknown_region"]})
        return upload
    batch = storage.NewBatch(file_name=extraction.document, sha256=sha256, source=extraction.document)
    new_regions = resolver.new_regions()
    if not new_regions.empty:
        batch.regions = new_regions
        upload.new_regions = list(new_regions["name"])
    upload.prepared = importer.PreparedImport(batch=batch, files=[], problems=[], resolver=resolver)
    return upload


def observations_frame(region_id: int, extraction: Extraction, report_plan: Plan) -> pd.DataFrame:
    """The batch's observations: one row per catalogue-only figure taken, with the report as its provenance."""
    cat = catalogue_module.load()
    rows = [{"region_id": region_id, "year": report_plan.year, "measure_id": figure.measure,
             "item_id": item_id(cat, figure), "value": float(figure.value), "text_value": None,
             "approx": bool(figure.approx), "source": extraction.document, "section": figure.section or None,
             "sentence": figure.sentence} for figure in report_plan.observations]
    frame = pd.DataFrame(rows, columns=OBSERVATION_COLUMNS)
    return frame.astype({"region_id": "int64", "year": "int64", "value": "float64", "approx": "bool"})


def _provenance(region_id: int, extraction: Extraction, report_plan: Plan) -> pd.DataFrame:
    cat = catalogue_module.load()
    columns = _columns()
    rows = []
    for table_id, figure in report_plan.taken:
        if table_id == OBSERVATIONS:  # an observation carries its own provenance
            continue
        table, _ = columns[figure.measure]
        rows.append({"table_id": table_id, "region_id": region_id, "year": report_plan.year,
                     "row_key": _row_key(cat, figure) if table.key_columns else None, "column_id": figure.measure,
                     "source": extraction.document, "section": figure.section, "origin": "stated",
                     "note": figure.sentence})
    return pd.DataFrame(rows, columns=["table_id", "region_id", "year", "row_key", "column_id", "source", "section",
                                       "origin", "note"])
