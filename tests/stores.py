"""The stores tests run on (issue 12): a DuckDB file, a SQLite-catalog lake and a PostgreSQL-catalog lake.

``tests/conftest.py`` builds its store fixtures from these helpers; ``tests/test_store_lake.py`` uses them for its
process tests. A store of each kind holding the default data is seeded once per session and copied per test: a
DuckDB file is copied; a lake's SQLite catalog is backed up, a PostgreSQL catalog is a new database made from the
template database, and the data folder is copied (the copy's catalog names its own folder).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.lake_bench import postgres_bin
from bench.scale import environment  # noqa: F401  (session fixtures cannot use monkeypatch)
from lawstats import lake

# The store kinds of the parametrised fixture, as they show in test ids (``test_x[sqlite_lake]``).
STORE_KINDS = ("duckdb", "sqlite_lake", "sqlite_replica", "postgres_lake")
LAKE_KINDS = {"sqlite_lake": "sqlite", "sqlite_replica": "sqlite", "postgres_lake": "postgres"}
# Kinds whose Stores read through the local replica (``LAWSTATS_LAKE_REPLICA=1``, what the app does).
REPLICA_KINDS = {"sqlite_replica"}
# Set to 1 to skip the PostgreSQL-catalog cases on a machine without PostgreSQL (documented in the README);
# without it a missing PostgreSQL fails the run, so CI (which installs it) never skips them silently.
SKIP_POSTGRES = "LAWSTATS_TEST_SKIP_POSTGRES"


@dataclass(frozen=True)
class StoreSetting:
    """A test's store: its parsed spec and the ``LAWSTATS_STORE`` text that names it."""

    spec: lake.StoreSpec
    text: str

    @property
    def env(self) -> dict[str, str]:
        """The environment a process (the app, the CLI, a worker, a server) needs to open this store."""
        if not self.spec.is_lake:
            return {"LAWSTATS_STORE": self.text, "LAWSTATS_DB": self.text}
        return {"LAWSTATS_STORE": self.text, "LAWSTATS_LAKE_DATA": self.spec.data_path}

    @property
    def database(self) -> str:
        """The PostgreSQL database of the catalog."""
        return dict(part.split("=", 1) for part in self.spec.target.split())["dbname"]


def require_postgres() -> None:
    """Fail (or skip, when ``LAWSTATS_TEST_SKIP_POSTGRES=1``) where PostgreSQL's server programs are missing."""
    if postgres_bin() is not None:
        return
    if os.environ.get(SKIP_POSTGRES) == "1":
        pytest.skip(f"PostgreSQL server programs not found and {SKIP_POSTGRES}=1")
    pytest.fail("PostgreSQL server programs (initdb, pg_ctl) not found: install them (apt-get install -y "
                f"postgresql; .ci/run does) or set {SKIP_POSTGRES}=1 to skip the PostgreSQL-catalog cases",
                pytrace=False)


def copy_seeded(template: Path, path: Path) -> Path:
    """A copy of a closed DuckDB file at ``path`` (with its write-ahead log, if closing left one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    wal = template.with_name(template.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, path.with_name(path.name + ".wal"))
    return path


def duckdb_setting(path: Path) -> StoreSetting:
    return StoreSetting(lake.store_spec(str(path)), str(path))


def new_store(store_kind: str, folder: Path, name: str, pg: str | None = None,
              template: StoreSetting | None = None) -> StoreSetting:
    """A new store of ``store_kind`` (a STORE_KINDS name) in ``folder``: empty, or a copy of ``template``."""
    if store_kind == "duckdb":
        path = folder / f"{name}.duckdb"
        if template is not None:
            copy_seeded(Path(template.spec.target), path)
        return duckdb_setting(path)
    return new_lake(LAKE_KINDS[store_kind], folder, name, pg, template)


def _pg_connect(dsn: str):
    import psycopg

    return psycopg.connect(dsn, autocommit=True)


def new_lake(kind: str, folder: Path, name: str, pg: str | None = None,
             template: StoreSetting | None = None) -> StoreSetting:
    """An empty lake of ``kind`` ("sqlite" or "postgres") in ``folder`` (or a copy of ``template``: catalog and
    data folder). ``name`` names the catalog (a file, or a database of the cluster ``pg``)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}-data"
    if kind == "sqlite":
        text = f"ducklake:sqlite:{folder / name}.sqlite"
    else:
        with _pg_connect(pg) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}"')
            con.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template.database}"' if template else ""))
        text = "ducklake:postgres:" + pg.replace("dbname=postgres", f"dbname={name}")
    made = StoreSetting(lake.store_spec(text, str(data)), text)
    if template is not None:
        if kind == "sqlite":
            with sqlite3.connect(template.spec.target) as source, sqlite3.connect(made.spec.target) as target:
                source.backup(target)
        shutil.copytree(template.spec.data_path, made.spec.data_path)
        _set_data_path(made)
    return made


def drop_lake_database(setting: StoreSetting) -> None:
    """Drop a PostgreSQL lake's catalog database (a test's, when it ends: the session's cluster is shared)."""
    if setting.spec.kind == "postgres":
        with _pg_connect(setting.spec.target.replace(f"dbname={setting.database}", "dbname=postgres")) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{setting.database}" WITH (FORCE)')


def _set_data_path(copy: StoreSetting) -> None:
    """A copied catalog still names the template's data folder (DuckLake refuses another): name the copy's."""
    sql = "UPDATE ducklake_metadata SET value = {} WHERE key = 'data_path'"
    if copy.spec.kind == "sqlite":
        with sqlite3.connect(copy.spec.target) as con:
            con.execute(sql.format("?"), [copy.spec.data_path])
    else:
        with _pg_connect(copy.spec.target) as con:
            con.execute(sql.format("%s"), [copy.spec.data_path])

