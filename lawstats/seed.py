"""Where the database lives and how it is first filled: the files in ``data/``, through the analysts' import path.

``data/`` holds the 西堡镇 2024 figures as CSV files in the upload template format, and ``provenance.csv``,
which says for every value the section of the report it comes from. A missing database file is built from
them on first start; a database that cannot be opened is never overwritten, and one that cannot be written is
opened read-only. Once its load is undone, the default data comes back only when asked (``restore_default``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lawstats import lake, storage
from lawstats.errors import DatabaseError, LawstatsError
from lawstats.importer import ImportOptions, RegionResolver, match_headers, prepare_import
from lawstats.numbers import normalise_text
from lawstats.reader import read_csv_bytes
from lawstats.registry import TABLES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
PROVENANCE_FILE = "provenance.csv"
SEED_SOURCE = "data/（默认数据：西堡镇2024年度法治政府建设工作情况报告）"
SEED_USER = "seed"  # with SEED_SOURCE, marks the batches that loaded data/


def default_store() -> str:
    """The store setting: ``LAWSTATS_STORE`` (a DuckDB file or a ``ducklake:`` lake), else ``LAWSTATS_DB`` (a
    DuckDB file), else the default SQLite-catalog lake in ``data/`` (``lake.DEFAULT_STORE``)."""
    return lake.default_setting()


def store_exists(setting: str) -> bool:
    """Whether the store has been made: a DuckDB file or a SQLite catalog that exists (a PostgreSQL catalog is
    taken to exist: finding out means connecting)."""
    spec = lake.store_spec(setting)
    return spec.kind == "postgres" or Path(spec.target).exists()


def open_store(path: str | os.PathLike | lake.StoreSpec | None = None,
               data_dir: str | os.PathLike | None = None, *, load_default: bool = True,
               replica: bool | None = None) -> storage.Store:
    """Open the store (migrating it), and load ``data/`` into it if it holds no batch yet (unless
    ``load_default`` is false: a database for other data, such as a synthetic data set).

    ``path`` is a store setting (``lawstats.lake.store_spec``): a DuckDB file or a ``ducklake:`` lake; None reads
    ``LAWSTATS_STORE``, then ``LAWSTATS_DB``. A file that cannot be written (a read-only mount, file or folder)
    (or a SQLite catalog that cannot be written) is opened read-only: everything reads, and imports and undos are
    refused with a sentence saying so. A missing file is created (its folders too). ``replica``: see ``storage.Store`` (a lake only)."""
    spec = path if isinstance(path, lake.StoreSpec) else lake.store_spec(str(path) if path else default_store())
    if spec.is_lake:
        catalog = Path(spec.target)
        if spec.kind == "sqlite" and catalog.exists() and not writable(catalog):
            return storage.Store(spec, read_only=True, replica=replica)  # a read-only mount: reading only
        store = storage.Store(spec, replica=replica)
        if spec == lake.store_spec(lake.DEFAULT_STORE) and load_default:
            _take_over_legacy(store, lake.LEGACY_DB)
        return _seeded(store, data_dir, load_default)
    path = Path(spec.target)
    if path.exists() and not writable(path):
        return storage.Store(path, read_only=True)
    if not path.exists():
        _require_creatable(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    return _seeded(storage.Store(path), data_dir, load_default)


def _take_over_legacy(store: storage.Store, legacy: Path) -> None:
    """The first start of the default lake beside a DuckDB file of an earlier version (``data/lawstats.duckdb``,
    the default store before the lake): its whole history moves into the lake (``storage.copy_store``, what
    ``lawstats migrate-store`` runs) instead of the default data. The file is left as it was."""
    if not legacy.exists() or storage.data_version(store):
        return
    old = storage.Store(legacy, read_only=True)
    try:
        if storage.data_version(old):
            storage.copy_store(old, store)
    finally:
        old.close()


def _seeded(store: storage.Store, data_dir: str | os.PathLike | None, load_default: bool) -> storage.Store:
    if load_default and storage.data_version(store) == 0:
        load_seed(store, Path(data_dir) if data_dir else DEFAULT_DATA_DIR, first=True)
    return store


def writable(path: Path) -> bool:
    """Whether the database file can be written: the file, and its folder (DuckDB writes a .wal beside it).
    ``os.access`` answers for read-only mounts too, for root as well."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _require_creatable(path: Path) -> None:
    """A DatabaseError naming the place when the nearest existing folder above ``path`` is read-only."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK):
        raise DatabaseError("error.db_cannot_create", path=str(path), folder=str(folder))


def seed_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.glob("*.csv") if p.name != PROVENANCE_FILE)


def load_seed(store: storage.Store, data_dir: Path, *, first: bool = False) -> int:
    """Import every template file of ``data_dir`` as one batch, with the per-value provenance side file.
    ``first``: the store's first load, skipped (0) when another process loaded something meanwhile."""
    files, blobs = [], []
    for path in seed_files(data_dir):
        data = path.read_bytes()
        blobs.append(data)
        files.append((path.name, read_csv_bytes(data)))
    options = ImportOptions(source=SEED_SOURCE, user_name=SEED_USER, note="默认数据 / default data")
    try:
        prepared = prepare_import(storage.regions(store), files, options, storage.sha256_of(b"".join(blobs)))
    except LawstatsError as e:
        raise LawstatsError("error.seed_invalid", details=e.details, path=str(data_dir)) from e
    provenance_path = data_dir / PROVENANCE_FILE
    if provenance_path.exists():
        prepared.batch.provenance = read_provenance(provenance_path.read_bytes(), prepared.resolver)
    prepared.batch.only_if_empty = first
    return storage.commit_batch(store, prepared.batch)


def read_provenance(data: bytes, resolver: RegionResolver) -> pd.DataFrame:
    """The side file: table, region, year, programme, column, source, section, origin (报告值/计算值), note."""
    raw = read_csv_bytes(data).frame
    tables = {normalise_text(n): t for t in TABLES for n in (t.id, t.zh, t.en)}
    rows = []
    for _, r in raw.iterrows():
        table = tables[normalise_text(r["表"])]
        match = match_headers([r["字段"]], table.columns)
        if not match.columns:
            raise ValueError(f"provenance.csv: unknown column {r['字段']!r} of table {table.id}")
        (column, _), = match.columns.values()
        region_id, problem = resolver.resolve(r["地区"])
        if region_id is None:
            raise ValueError(f"provenance.csv: {problem} {r['地区']!r}")
        rows.append({"table_id": table.id, "region_id": region_id, "year": int(r["年份"]),
                     "row_key": r["学习项目"] or None, "column_id": column.id, "source": r["来源"],
                     "section": r["来源章节"], "origin": "computed" if "计算" in r["口径"] else "stated",
                     "note": r["说明"] or None})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------
# The default data after an undo: ``init`` says when it was undone and can load it again


def default_data_state(store: storage.Store) -> tuple[int | None, int | None]:
    """(the newest batch that loaded ``data/``, the undo event that undid it or None); (None, None) if the
    default data was never loaded into this database."""
    batches = storage.list_batches(store)
    loads = batches[(batches["kind"] == "import") & (batches["user_name"] == SEED_USER)
                    & (batches["source"] == SEED_SOURCE)]
    if loads.empty:
        return None, None
    batch_id = int(loads["batch_id"].max())
    undos = batches[(batches["kind"] == "undo") & (batches["undoes"] == batch_id)]
    return batch_id, (int(undos["batch_id"].min()) if len(undos) else None)


def restore_default(store: storage.Store, data_dir: str | os.PathLike | None = None) -> int | None:
    """Load ``data/`` again as a new batch when its earlier load was undone (or never happened). Returns the
    new batch id, or None when the default data is still in effect (nothing to do)."""
    batch_id, undone_by = default_data_state(store)
    if batch_id is not None and undone_by is None:
        return None
    return load_seed(store, Path(data_dir) if data_dir else DEFAULT_DATA_DIR)
