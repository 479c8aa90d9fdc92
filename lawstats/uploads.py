"""Updating the data: the one facade the 数据管理 page and the CLI call, so both take the same path.

    upload = inspect_file(store, "人口.csv", data)        # read, validate everything, preview; writes nothing
    batch_id = commit_upload(store, upload, user_name="张三", note="2025年报")   # one atomic batch
    history(store); undo(store, batch_id, user_name="张三"); data_as_of(store, batch_id, "population")

``inspect_file`` raises ``InvalidFile`` when a file is refused as a whole (type, size, encoding, no header,
zip bomb, macros) and ``ValidationFailed`` when cells are wrong: ``error.details`` lists every problem
(row as Excel counts it, column, original text, kind); ``problems_table(error, lang)`` is that list in the
user's language, ``exchange.to_csv_bytes`` makes it a download. Regions the store does not know are not an
error: they come back in ``Upload.unknown_regions`` and the upload is not ``ready`` until the caller confirms
a parent region by calling again with ``new_region_parent``.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from lawstats import importer, registry, storage
from lawstats.errors import InvalidFile, LawstatsError, ValidationFailed
from lawstats.i18n import t
from lawstats.importer import ImportOptions, PreparedImport
from lawstats.reader import (ENCODINGS, MAX_FILE_BYTES, RawTable, _mb, check_line_lengths, iter_csv_chunks,
                             list_sheets, read_file)
from lawstats.registry import TABLES_BY_ID

ENCODING_CHOICES = ENCODINGS  # what the page offers when the user overrides the detected encoding
MAX_UPLOAD_BYTES = MAX_FILE_BYTES
MAX_LOCAL_BYTES = 2 * 2**30  # files named on the command line: a large CSV is streamed from disk
PREVIEW_LIMIT = 2_000  # rows shown per preview table; the counts are always complete
HEAD_BYTES = 2**20  # the first rows of a large CSV, read to recognise its table before its turn
KEEP_TEXTS_BYTES = 256 * 2**20  # larger uploads drop each file's texts once parsed (a commit after the store
# changed then asks to inspect again instead of validating the kept texts again)
COLUMNS_SHOWN = 20  # unknown columns named in a message; the rest are counted (a file may have 100,000)
COLUMN_NAME_SHOWN = 40  # characters of one column name in a message


@dataclass
class TablePreview:
    """What one table will look like after the commit, against the current data.

    ``new_rows``: rows whose key (region, year[, programme]) the store does not hold yet, labelled columns.
    ``changed``: one row per value that changes: region, year, [programme], column, old, new (labelled).
    ``unchanged``: rows of the file that change nothing. Frames hold at most ``PREVIEW_LIMIT`` rows;
    ``new_count`` and ``changed_count`` are complete.
    """
    table_id: str
    label: str
    rows: int
    new_count: int
    changed_count: int
    unchanged: int
    new_rows: pd.DataFrame
    changed: pd.DataFrame


@dataclass
class Upload:
    """One inspected upload (one file, or several files as one batch). Nothing is written until committed."""
    file_name: str
    sha256: str
    size: int
    encoding: str | None  # the encoding used (CSV); None for XLSX
    sheets: list[str]  # the workbook's sheet names (XLSX), else []
    sheet: str | None  # the sheet read
    table_id: str | None  # the table recognised or chosen (the first one when several files)
    tables: list[str]  # every table in the batch, regions included
    unknown_columns: list[str]
    unknown_regions: list[str]  # region names the store does not know (confirm a parent to create them)
    notices: list[tuple[str, dict]]  # (message key, params): total rows left out, units converted...
    duplicate_of: int | None  # batch id of an earlier, not undone upload of the same bytes
    preview: dict[str, TablePreview]
    indicator_changes: pd.DataFrame  # indicator, region, year, old, new, change (labelled by lang)
    prepared: PreparedImport | None  # the validated batch; None while regions wait for confirmation
    row_count: int
    data_version: int  # the store's version the preview was computed on
    lang: str = "zh"
    problems: pd.DataFrame | None = None  # unknown_region problems while not ready (row, column, value, kind)
    new_regions: list[str] = field(default_factory=list)  # regions the commit will create
    unknown_by_file: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # file -> (table, columns)
    skipped_by_file: dict[str, list[str]] = field(default_factory=dict)  # file -> columns left out as asked
    parts: list[tuple[str, str, int]] = field(default_factory=list)  # (file or sheet, table id, rows) per part
    unmatched_sheets: list[str] = field(default_factory=list)  # workbook sheets that match no table
    # headers recognised as catalogue measures (stored as observations): file -> [(header, measure id)]
    measure_columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    files: list[tuple[str, RawTable]] = field(default_factory=list, repr=False)
    options: ImportOptions | None = field(default=None, repr=False)

    @property
    def ready(self) -> bool:
        """True when the upload can be committed (valid, and every region known or confirmed)."""
        return self.prepared is not None

    def notice_texts(self, lang: str | None = None) -> list[str]:
        return [t(key, lang or self.lang, **params) for key, params in self.notices]


def inspect_file(store: storage.Store, file_name: str, data: bytes, *, encoding: str | None = None,
                 sheet: str | None = None, table: str | None = None, new_region_parent: int | None = None,
                 lang: str = "zh", with_preview: bool = True, max_bytes: int = MAX_UPLOAD_BYTES,
                 skip_columns: tuple[str, ...] = ()) -> Upload:
    """Read, validate and preview one uploaded file. Writes nothing.

    ``encoding`` overrides the detected one (CSV); ``sheet`` picks the XLSX sheet (default: every sheet that
    holds a table, each matched to its table); ``table`` forces the table instead of recognising it from the
    headers; ``new_region_parent`` (a region id) confirms that regions the store does not know are created
    under that region; ``skip_columns`` are headers to leave out. Raises ``InvalidFile`` or ``ValidationFailed``.
    """
    return inspect_files(store, [(file_name, data)], encoding=encoding, sheet=sheet, table=table,
                         new_region_parent=new_region_parent, lang=lang, with_preview=with_preview,
                         max_bytes=max_bytes, skip_columns=skip_columns)


def inspect_files(store: storage.Store, files: list[tuple[str, bytes | Path]], *, encoding: str | None = None,
                  sheet: str | None = None, table: str | None = None, new_region_parent: int | None = None,
                  lang: str = "zh", with_preview: bool = True, max_bytes: int = MAX_UPLOAD_BYTES,
                  source: str | None = None, skip_columns: tuple[str, ...] = ()) -> Upload:
    """Several files as ONE batch (a folder on the command line): a regions file is applied first.

    A file is given as its bytes (an upload) or as its path (the command line): a large CSV on disk is then
    read a chunk at a time as it is validated, never held whole. A workbook is read sheet by sheet (unless
    ``sheet`` or ``table`` is given): every sheet that holds a table is a part of the batch, the others are
    listed in ``unmatched_sheets``. ``source`` is recorded with the batch (default: the file names); one that
    says 合成数据 or synthetic marks the batch synthetic. Rules between columns are checked against the data
    as the commit will leave it (stored values merged with the file's)."""
    large = sum(_size(data) for _, data in files) > KEEP_TEXTS_BYTES
    raws, unmatched = [], []
    for name, data in files:
        parts, left_out = _tables_of_file(name, data, encoding, sheet, table, max_bytes, large)
        raws.extend(parts)
        unmatched.extend(left_out)
    skip_columns = tuple(c for c in skip_columns if c and c.strip())
    _check_skip_columns(raws, skip_columns, lang)
    sha256 = _sha256_of_all(files)
    options = ImportOptions(table=table, new_region_parent=new_region_parent, source=source,
                            skip_columns=skip_columns)
    read_one_sheet = len(raws) == 1 or len({raw.sheet for _, raw in raws}) == 1
    upload = Upload(
        file_name=", ".join(name for name, _ in files), sha256=sha256, size=sum(_size(d) for _, d in files),
        encoding=raws[0][1].encoding, sheets=list(raws[0][1].sheets),
        sheet=raws[0][1].sheet if read_one_sheet else None,
        table_id=None, tables=[], unknown_columns=[], unknown_regions=[], notices=[],
        duplicate_of=storage.batch_with_sha256(store, sha256), preview={},
        indicator_changes=_empty_indicator_changes(lang), prepared=None, row_count=0,
        data_version=storage.data_version(store), lang=lang, files=raws, options=options,
        unmatched_sheets=unmatched)
    _validate(store, upload, release_texts=large)
    if large:
        upload.files = []  # their texts are gone: only a fresh inspection may validate again
    if upload.ready and with_preview:
        _add_preview(store, upload)
    return upload


def _sha256_of_all(files: list[tuple[str, bytes | Path]]) -> str:
    """``storage.sha256_of`` the files' bytes one after another, without joining them into one copy."""
    digest = hashlib.sha256()
    for _, data in files:
        if isinstance(data, Path):
            with open(data, "rb") as f:
                while piece := f.read(16 * 2**20):
                    digest.update(piece)
        else:
            digest.update(data)
    return digest.hexdigest()


def _size(data: bytes | Path) -> int:
    return data.stat().st_size if isinstance(data, Path) else len(data)


def _head(data: bytes | Path, size: int) -> bytes:
    if isinstance(data, Path):
        with open(data, "rb") as f:
            return f.read(size)
    return data[:size]


def _check_size(data: bytes | Path, max_bytes: int) -> None:
    """Refuse a file over the limit before reading it (a path) or parsing it (bytes)."""
    if _size(data) > max_bytes:
        raise InvalidFile("error.too_large", size=_mb(_size(data)), limit=_mb(max_bytes))


def _read(name: str, data: bytes | Path, encoding: str | None, sheet: str | None, max_bytes: int) -> RawTable:
    _check_size(data, max_bytes)
    if isinstance(data, Path):
        check_line_lengths(data)  # a one-line file is refused before its bytes are read
    data = data.read_bytes() if isinstance(data, Path) else data
    raw = read_file(name, data, encoding=encoding, sheet=sheet, is_header=importer.header_key, max_bytes=max_bytes)
    pa.default_memory_pool().release_unused()  # the Arrow table the texts came from is garbage now
    return raw


def _tables_of_file(name: str, data: bytes | Path, encoding: str | None, sheet: str | None, table: str | None,
                    max_bytes: int, large: bool) -> tuple[list[tuple[str, RawTable]], list[str]]:
    """A file's tables as (name, texts): one for a CSV or a chosen sheet, one per sheet that holds a table for
    a workbook; and the workbook's sheets that hold none (listed to the user, never dropped unseen)."""
    if sheet is None and table is None and _is_workbook(name, data):
        found, unmatched = _workbook_tables(name, data, max_bytes)
        if found:
            return found, unmatched
    return [(name, (_deferred if large else _read)(name, data, encoding, sheet, max_bytes))], []


def _is_workbook(name: str, data: bytes | Path) -> bool:
    return Path(name).suffix.lower() in (".xlsx",) or _head(data, 4) == b"PK\x03\x04"


def _workbook_tables(name: str, data: bytes | Path, max_bytes: int) -> tuple[list[tuple[str, RawTable]], list[str]]:
    """Every sheet of a workbook that holds a table (the header names a table with its region and year
    columns), and the names of the other sheets. Nothing found: ([], []), and the file is read as one sheet,
    which says what is wrong with it."""
    _check_size(data, max_bytes)
    data = data.read_bytes() if isinstance(data, Path) else data
    try:
        names = list_sheets(data)
    except InvalidFile:
        return [], []
    if len(names) < 2:
        return [], []
    found, unmatched = [], []
    for sheet in names:
        try:
            raw = read_file(name, data, sheet=sheet, is_header=importer.header_key, max_bytes=max_bytes)
        except InvalidFile as error:
            if error.key == "error.formula_without_value":
                raise  # its figures are not in the file: never listed as a sheet without a table
            unmatched.append(sheet)
            continue
        if importer.sheet_table(list(raw.frame.columns)) is None:
            unmatched.append(sheet)
            continue
        raw.notices = [n for n in raw.notices if n[0] != "notice.sheet_used"]  # every sheet is read
        found.append((name, raw))
    if found and unmatched:
        found[0][1].notices.insert(0, ("notice.sheets_unmatched", {"sheets": "、".join(unmatched)}))
    return found, (unmatched if found else [])


def _check_skip_columns(raws: list[tuple[str, RawTable]], skip: tuple[str, ...], lang: str) -> None:
    """Every column the user asked to skip must be in some file: a typo would skip nothing unseen."""
    if not skip:
        return
    headers = list(dict.fromkeys(h for _, raw in raws for h in raw.frame.columns))
    found = set(importer.skipped_headers(headers, skip))
    missing = [name for name in skip if not importer.skipped_headers(list(found), (name,))]
    if missing:
        raise InvalidFile("error.skip_column_not_found", columns="、".join(missing),
                          headers=columns_text(headers, lang))


def columns_text(columns: list[str], lang: str, limit: int = COLUMNS_SHOWN) -> str:
    """Column names for a message: all of a few, the first ``limit`` and the count of many (each name cut
    to ``COLUMN_NAME_SHOWN`` characters), so that 100,000 unknown columns make one short line."""
    names = [c if len(c) <= COLUMN_NAME_SHOWN else c[:COLUMN_NAME_SHOWN] + "…" for c in columns[:limit]]
    if len(columns) <= limit:
        return "、".join(names)
    return t("upload.columns_summary", lang, names="、".join(names), count=f"{len(columns):,}")


def _deferred(name: str, data: bytes | Path, encoding: str | None, sheet: str | None, max_bytes: int) -> RawTable:
    """A large CSV is read when the importer reaches it, a chunk of rows at a time, so at most one chunk's
    texts are in memory; its first rows are read now to recognise the table. Other files (workbooks, odd
    encodings) are read now."""
    _check_size(data, max_bytes)
    first = _head(data, HEAD_BYTES)
    end = first.rfind(b"\n")
    if _size(data) <= HEAD_BYTES or end < 0 or first.startswith((b"\xff\xfe", b"\xfe\xff", b"PK")):
        return _read(name, data, encoding, sheet, max_bytes)
    try:
        head = read_file(name, first[:end + 1], encoding=encoding, sheet=sheet, is_header=importer.header_key,
                         max_bytes=max_bytes)
    except LawstatsError:  # not a CSV cut cleanly at a line end: read it whole
        return _read(name, data, encoding, sheet, max_bytes)
    return importer.DeferredTable(frame=head.frame, encoding=head.encoding, first_data_row=head.first_data_row,
                                  sheet=head.sheet, sheets=head.sheets, notices=head.notices,
                                  load=lambda: _read(name, data, encoding, sheet, max_bytes),
                                  chunks=lambda: iter_csv_chunks(data, encoding, is_header=importer.header_key))


def _validate(store: storage.Store, upload: Upload, *, release_texts: bool = False) -> None:
    """Fill ``upload`` from the importer; unknown regions alone leave it waiting, anything else raises."""
    try:
        prepared = importer.prepare_import(region_index(store), upload.files, upload.options, upload.sha256,
                                           release_texts=release_texts)
    except ValidationFailed as error:
        details = error.details
        if details is None or details.empty or not details["kind"].eq("unknown_region").all():
            raise
        upload.problems = details
        upload.unknown_regions = sorted(set(details["value"].map(importer.display_name)))
        upload.table_id, upload.tables = _tables_of(upload.files, upload.options)
        upload.notices = [n for _, raw in upload.files for n in raw.notices]
        return
    importer.check_against_stored(prepared, lambda table, keys: storage._rows_for_keys(store, table, keys))
    upload.prepared = prepared
    upload.tables = [f.table_id for f in prepared.files]
    upload.table_id = upload.tables[0] if upload.tables else None
    upload.unknown_columns = [c for f in prepared.files for c in f.unknown_columns]
    upload.unknown_by_file = {f.label: (f.table_id, f.unknown_columns) for f in prepared.files if f.unknown_columns}
    upload.skipped_by_file = {f.label: f.skipped_columns for f in prepared.files if f.skipped_columns}
    upload.parts = [(f.sheet or f.name, f.table_id, len(f.rows)) for f in prepared.files]
    upload.notices = [n for f in prepared.files for n in f.notices]
    upload.new_regions = prepared.unknown_regions
    upload.measure_columns = {f.label: list(f.measure_columns.items()) for f in prepared.files if f.measure_columns}
    observations = prepared.batch.observations
    upload.row_count = sum(len(f.rows) for f in prepared.files) + (0 if observations is None else len(observations))


def region_index(store: storage.Store) -> importer.RegionIndex:
    """The store's regions indexed for name and code lookups, built once per version of the regions (not of the
    data: a figures batch leaves them as they were) and kept on the store (the index is never changed, so every
    session of the server may share it)."""
    version = storage.regions_version(store)
    cached = getattr(store, "_region_index", None)
    if cached is None or cached[0] != version:
        cached = (version, importer.RegionIndex(storage.regions(store)))
        store._region_index = cached
    return cached[1]


def _tables_of(files: list[tuple[str, RawTable]], options: ImportOptions) -> tuple[str | None, list[str]]:
    tables = [options.table or importer.recognise_table(list(raw.frame.columns)) for _, raw in files]
    tables = [tid for tid in tables if tid]
    return (tables[0] if tables else None), tables


def batch_row_counts(upload: Upload) -> dict[str, int]:
    """Rows the commit will write per table id, and ``regions`` created (as the history will record them)."""
    if not upload.ready:
        return {}
    batch = upload.prepared.batch
    counts = {table_id: len(frame) for table_id, frame in batch.rows.items()}
    if batch.observations is not None and len(batch.observations):
        counts[importer.OBSERVATIONS] = len(batch.observations)
    if batch.regions is not None and len(batch.regions):
        counts[importer.REGIONS] = len(batch.regions)
    return counts


def release_sources(upload: Upload) -> None:
    """Let go of the files' texts and the region index when only the commit is left, to halve the memory a
    million-row commit needs. The command line does so: it holds the database alone, so nothing can change
    between inspecting and committing. (If something did, ``commit_upload`` refuses: inspect again.)"""
    upload.files = []
    if upload.prepared is not None:
        upload.prepared.resolver = None
    return_freed_memory()  # before DuckDB needs memory for the commit


def return_freed_memory() -> None:
    """Hand memory a large import has freed back to the system: Arrow's pool, and the C heap, where pandas
    leaves freed blocks that would otherwise raise the next file's peak (glibc only; elsewhere a no-op)."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def require_ready(upload: Upload) -> None:
    """Raise ``ValidationFailed`` listing the unknown regions when the upload still waits for a parent."""
    if not upload.ready:
        raise ValidationFailed("error.unknown_regions", details=upload.problems,
                               count=len(upload.unknown_regions), names="、".join(upload.unknown_regions[:10]))


def commit_upload(store: storage.Store, upload: Upload, *, user_name: str, note: str | None = None) -> int:
    """Write the upload as one batch (all rows or none) and return its batch id.

    Records who, when, the file name, SHA-256, row counts and the note. If the store changed since the
    upload was inspected (another analyst committed), the files are validated again against the new state.
    """
    require_ready(upload)
    if storage.data_version(store) != upload.data_version:
        if not upload.files:
            raise LawstatsError("error.upload_stale")
        _validate(store, upload)
        require_ready(upload)
    batch = upload.prepared.batch
    batch.user_name = user_name
    batch.note = note or None
    batch.sha256 = upload.sha256
    batch.file_name = upload.file_name
    return storage.commit_batch(store, batch)


# ---------------------------------------------------------------------------------------------------------
# Preview: the batch is applied inside a transaction that is rolled back, so the preview is computed by the
# same code as the commit itself.


def _add_preview(store: storage.Store, upload: Upload) -> None:
    batch = upload.prepared.batch
    keys = {tid: frame for tid, frame in batch.rows.items() if len(frame)}
    if not keys:  # regions only: ``new_regions`` is the whole preview
        return
    before, after = storage.trial_commit(store, batch, keys)
    lang = upload.lang
    names = _region_names(after["regions"])  # the batch's regions, new ones included
    for table_id, frame in keys.items():
        upload.preview[table_id] = _table_preview(TABLES_BY_ID[table_id], frame, before["tables"][table_id],
                                                  after["tables"][table_id], names, lang)
    upload.indicator_changes = _indicator_changes(before["inputs"], after["inputs"], names, lang)


def _region_names(regions: pd.DataFrame) -> dict[int, str]:
    return dict(zip(regions["region_id"].astype("int64"), regions["name"]))


def _key_columns(table: registry.Table) -> list[str]:
    return ["region_id", "year"] + [c.id for c in table.key_columns]


def _table_preview(table: registry.Table, rows: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame,
                   names: dict[int, str], lang: str) -> TablePreview:
    """Compare the current rows of the file's keys before and after the trial commit, column by column."""
    keys = _key_columns(table)
    values = [c.id for c in table.value_columns]
    merged = after.merge(before, on=keys, how="left", suffixes=("", "__old"), indicator=True)
    is_new = merged["_merge"].eq("left_only").to_numpy()
    old_rows = merged.loc[~is_new].reset_index(drop=True)
    changes = []
    row_changed = np.zeros(len(old_rows), dtype=bool)
    for column in table.value_columns:
        differs = _differs(old_rows[column.id + "__old"], old_rows[column.id], column)
        if differs.any():
            row_changed |= differs
            part = old_rows.loc[differs, keys].copy()
            part["column"] = column.id
            part["old"] = old_rows.loc[differs, column.id + "__old"].astype(object).to_numpy()
            part["new"] = old_rows.loc[differs, column.id].astype(object).to_numpy()
            changes.append(part)
    changed = pd.concat(changes, ignore_index=True).sort_values(keys, kind="stable") if changes else \
        pd.DataFrame(columns=[*keys, "column", "old", "new"])
    return TablePreview(
        table_id=table.id, label=table.label(lang), rows=len(rows), new_count=int(is_new.sum()),
        changed_count=len(changed), unchanged=int(len(old_rows) - row_changed.sum()),
        new_rows=_label_rows(table, merged.loc[is_new, keys + values].head(PREVIEW_LIMIT), names, lang),
        changed=_label_changes(table, changed.head(PREVIEW_LIMIT), names, lang))


def _differs(old: pd.Series, new: pd.Series, column: registry.Column) -> np.ndarray:
    """Cell by cell: does the value change? Missing on both sides is no change; numbers compare to 1e-9."""
    if column.numeric:
        a = pd.to_numeric(old, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        b = pd.to_numeric(new, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        both_missing = np.isnan(a) & np.isnan(b)
        with np.errstate(invalid="ignore"):
            same = both_missing | (np.abs(a - b) < 1e-9)
        return ~same
    a = old.map(_comparable, na_action="ignore").astype(object).to_numpy()
    b = new.map(_comparable, na_action="ignore").astype(object).to_numpy()
    missing_a, missing_b = pd.isna(a), pd.isna(b)
    equal = np.array([not (ma or mb) and bool(x == y) for x, y, ma, mb in zip(a, b, missing_a, missing_b)],
                     dtype=bool)
    return ~((missing_a & missing_b) | (~missing_a & ~missing_b & equal))


def _comparable(value):
    """Lists (民族构成) compare by their items."""
    return "\x1f".join(map(str, value)) if isinstance(value, (list, tuple, np.ndarray)) else value


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists
        return False


def _label_rows(table: registry.Table, rows: pd.DataFrame, names: dict[int, str], lang: str) -> pd.DataFrame:
    out = pd.DataFrame({t("common.region", lang): rows["region_id"].map(names).to_numpy(),
                        t("common.year", lang): rows["year"].to_numpy()})
    for column in table.columns:
        out[column.label(lang)] = [_show(v, column, lang) for v in rows[column.id]]
    return out


def _label_changes(table: registry.Table, changed: pd.DataFrame, names: dict[int, str], lang: str) -> pd.DataFrame:
    out = pd.DataFrame({t("common.region", lang): changed["region_id"].map(names).to_numpy(),
                        t("common.year", lang): changed["year"].to_numpy()})
    for column in table.key_columns:
        out[column.label(lang)] = changed[column.id].to_numpy()
    columns = [table.column(c) for c in changed["column"]]
    out[t("upload.col_column", lang)] = [c.label(lang) for c in columns]
    out[t("upload.col_old", lang)] = [_show(v, c, lang) for v, c in zip(changed["old"], columns)]
    out[t("upload.col_new", lang)] = [_show(v, c, lang) for v, c in zip(changed["new"], columns)]
    return out


def _show(value, column: registry.Column, lang: str) -> str:
    """A value as the preview shows it: missing is a dash, lists joined, choices by label."""
    if _missing(value):
        return t("common.missing", lang)
    if column.kind == registry.LIST:
        return importer.join_list(list(value))
    if column.kind == registry.CHOICE:
        for stored, zh, en in column.choices:
            if stored == value:
                return zh if lang == "zh" else en
    if column.kind == registry.COUNT:
        return f"{int(value):,}"
    if column.numeric:
        return f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return str(value)


def _empty_indicator_changes(lang: str) -> pd.DataFrame:
    return pd.DataFrame(columns=["indicator", "region_id", "year", "old", "new", "change", "label", "region",
                                 "unit"])


def _indicator_changes(before: pd.DataFrame, after: pd.DataFrame, names: dict[int, str],
                       lang: str) -> pd.DataFrame:
    """Which indicators move and by how much: one row per (indicator, region, year) whose value changes."""
    from lawstats import indicators  # formulas: only needed for the preview

    old = indicators.long_form(indicators.compute(before)) if len(before) else None
    new = indicators.long_form(indicators.compute(after)) if len(after) else None
    if new is None:
        return _empty_indicator_changes(lang)
    if old is None:
        old = new.iloc[0:0]
    both = new.merge(old, on=["region_id", "year", "indicator"], how="outer", suffixes=("_new", "_old"))
    both = both.rename(columns={"value_new": "new", "value_old": "old"})
    a, b = both["old"].to_numpy(dtype=float), both["new"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        same = (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) < 1e-9)
    moved = both.loc[~same].copy()
    moved["change"] = moved["new"] - moved["old"]
    moved["label"] = moved["indicator"].map({i.id: i.label(lang) for i in registry.INDICATORS})
    moved["unit"] = moved["indicator"].map({i.id: i.unit(lang) for i in registry.INDICATORS})
    moved["region"] = moved["region_id"].map(names)
    order = {ind.id: n for n, ind in enumerate(registry.INDICATORS)}
    moved = moved.sort_values(["region_id", "year"], kind="stable")
    moved = moved.iloc[moved["indicator"].map(order).argsort(kind="stable")] if len(moved) else moved
    return moved[["indicator", "region_id", "year", "old", "new", "change", "label", "region", "unit"]] \
        .reset_index(drop=True)


def indicator_changes_table(upload: Upload, lang: str | None = None) -> pd.DataFrame:
    """``indicator_changes`` with labelled headers, ready to show: 指标, 地区, 年份, 原值, 新值, 变化, 单位."""
    lang = lang or upload.lang
    frame = upload.indicator_changes
    indicators = [registry.INDICATORS_BY_ID[i] for i in frame["indicator"]]
    return pd.DataFrame({
        t("common.indicator", lang): frame["label"], t("common.region", lang): frame["region"],
        t("common.year", lang): frame["year"],
        t("upload.col_old", lang): [_indicator_text(v, i, lang) for v, i in zip(frame["old"], indicators)],
        t("upload.col_new", lang): [_indicator_text(v, i, lang) for v, i in zip(frame["new"], indicators)],
        t("upload.col_change", lang): [_change_text(v, i, lang) for v, i in zip(frame["change"], indicators)],
        t("common.unit", lang): frame["unit"]})


def _indicator_text(value, indicator: registry.Indicator, lang: str) -> str:
    """An indicator's value in its own decimals with thousands separators; missing is a dash, never None."""
    if _missing(value):
        return t("common.missing", lang)
    return f"{float(value):,.{indicator.decimals}f}"


def _change_text(value, indicator: registry.Indicator, lang: str) -> str:
    """+1,234 / −0.16 个百分点: a change in the indicator's decimals; a rate's change is in percentage points.
    No change can be computed where the value is new or gone: a dash."""
    if _missing(value):
        return t("common.missing", lang)
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    points = f" {t('present.points', lang)}" if indicator.unit(lang) == "%" else ""
    return f"{sign}{abs(float(value)):,.{indicator.decimals}f}{points}"


# ---------------------------------------------------------------------------------------------------------
# Problems


def problems_table(error: LawstatsError, lang: str) -> pd.DataFrame:
    """The problems of a refused upload in the user's language: row (as Excel counts), column, original text,
    problem; plus a ``kind`` column for programs. Empty when the error has no details."""
    details = error.details if error.details is not None else pd.DataFrame(
        columns=["row", "column", "value", "kind", "detail"])
    return importer.problems_frame(details, lang)


# ---------------------------------------------------------------------------------------------------------
# History, undo, data as of a batch


def history(store: storage.Store) -> pd.DataFrame:
    """Every batch and undo event, newest first: batch_id, kind ('import'/'undo'), created_at, user_name,
    file_name, sha256, source, note, row_counts (dict: table id -> rows), rows (total), undoes, synthetic,
    undone (an import that a later undo event cancelled)."""
    frame = storage.list_batches(store)
    frame["row_counts"] = frame["row_counts"].map(storage._parse_json)
    frame["rows"] = frame["row_counts"].map(lambda counts: int(sum(counts.values())))
    frame["undone"] = frame["undone"].astype(bool)
    return frame


def history_table(store: storage.Store, lang: str) -> pd.DataFrame:
    """``history`` with labelled headers and readable row counts, ready to show."""
    frame = history(store)
    return pd.DataFrame({
        t("upload.col_batch", lang): frame["batch_id"],
        t("upload.col_kind", lang): [t(f"upload.kind_{k}", lang) for k in frame["kind"]],
        t("upload.col_when", lang): frame["created_at"],
        t("upload.col_user", lang): frame["user_name"],
        t("upload.col_file", lang): frame["file_name"],
        t("upload.col_rows", lang): [row_counts_text(c, lang) for c in frame["row_counts"]],
        t("upload.col_note", lang): frame["note"],
        t("upload.col_status", lang): [_status(r, lang) for r in frame.itertuples(index=False)],
        "SHA-256": frame["sha256"].map(lambda s: s[:12] if isinstance(s, str) else ""),
    })


def _status(row, lang: str) -> str:
    if row.kind == "undo":
        return t("upload.status_undoes", lang, batch=int(row.undoes))
    return t("upload.status_undone", lang) if row.undone else t("upload.status_active", lang)


def row_counts_text(counts: dict, lang: str) -> str:
    """{"population": 12, "regions": 3} -> 人口 12 行、地区 3 个."""
    parts = []
    for table_id, rows in counts.items():
        parts.append(t("upload.rows_of", lang, table=table_label(table_id, lang), rows=rows))
    return t("upload.list_sep", lang).join(parts)


def undo(store: storage.Store, batch_id: int, *, user_name: str, note: str | None = None,
         confirmed_dependents: list[int] | None = None) -> int:
    """Cancel an import batch: recorded as a new undo event (nothing is deleted). Returns the event's id.

    A batch whose regions later batches still use is refused (UndoRefused) unless ``confirmed_dependents``
    names exactly those batches (``undo_dependents``): then they are undone with it."""
    return storage.undo_batch(store, int(batch_id), user_name=user_name, note=note,
                              confirmed_dependents=confirmed_dependents)


def undo_dependents(store: storage.Store, batch_id: int) -> pd.DataFrame:
    """The batches that must be undone with ``batch_id`` (batch_id, file_name, user_name, created_at)."""
    return storage.dependent_batches(store, int(batch_id))


def data_as_of(store: storage.Store, batch_id: int, table_id: str, lang: str = "zh") -> pd.DataFrame:
    """A table as it was right after ``batch_id`` (undo events up to then applied), with labelled columns:
    region, parent, year, the table's columns, source."""
    if table_id == importer.REGIONS:
        frame = storage.regions_as_of(store, int(batch_id))
        return exchange_frame(None, frame, lang)
    table = _table(table_id)
    frame = storage.table_as_of(store, table, int(batch_id))
    return exchange_frame(table, frame, lang)


def exchange_frame(table: registry.Table | None, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    from lawstats.exchange import labelled_frame  # one place decides how stored rows are labelled

    return labelled_frame(table, frame, lang)


def _table(table_id: str) -> registry.Table:
    if table_id not in TABLES_BY_ID:
        raise LawstatsError("error.unknown_table", value=table_id, tables=", ".join(importer.table_ids()))
    return TABLES_BY_ID[table_id]


# ---------------------------------------------------------------------------------------------------------
# Choices the page offers


def table_label(table_id: str | None, lang: str) -> str:
    """A part of a batch as people read it: a table's name, 地区 for regions, 指标项 for catalogue measures."""
    if table_id == importer.OBSERVATIONS:
        return t("upload.observations", lang)
    return dict(table_choices(lang)).get(table_id, table_id or "")


def measure_columns_text(columns: list[tuple[str, str]], lang: str) -> str:
    """``普法宣传场次 → 普法宣传活动场次`` per recognised header: the measure each catalogue column is stored as."""
    from lawstats import catalogue

    measures = catalogue.load().measures
    return t("upload.list_sep", lang).join(f"{header} → {measures[m].label(lang)}" for header, m in columns)


def table_choices(lang: str) -> list[tuple[str, str]]:
    """(table id, label) for the "which table" selector, the regions table first."""
    return [(importer.REGIONS, t("upload.regions", lang))] + [(tb.id, tb.label(lang)) for tb in registry.TABLES]


def parent_choices(store: storage.Store) -> pd.DataFrame:
    """Regions a new region may be created under: region_id, name, level, path (青海省 / 西宁市 / ...)."""
    frame = storage.regions(store)
    by_id = dict(zip(frame["region_id"], zip(frame["name"], frame["parent_id"])))

    def path(region_id) -> str:
        names, seen = [], set()
        while region_id is not None and not pd.isna(region_id) and region_id in by_id and region_id not in seen:
            seen.add(region_id)
            name, region_id = by_id[region_id]
            names.append(name)
        return " / ".join(reversed(names))

    out = frame[["region_id", "name", "level"]].copy()
    out["path"] = [path(r) for r in frame["region_id"]]
    return out[out["level"] != registry.LEVEL_IDS[-1]].sort_values("path").reset_index(drop=True)
