"""Backup and restore of a PostgreSQL-catalog lake (issue 12), with the very commands docs/deployment.md gives.

A lake with a seed batch, an import and an undone import is backed up by running the backup block of the
deployment page (``pg_dump`` of the catalog, a copy of the data folder); the database and the folder are then
dropped, and the restore block is run (``createdb``, ``pg_restore``, the folder copied back, the catalog's
``data_path`` set to the new folder). The restored lake must give the same ``lawstats history``, the same
``lawstats export`` and the same as-of views of every batch as the original did.

The page's blocks are run as written; only these change, so that they run in a temporary folder against the
test's throwaway PostgreSQL: the folders ``/srv/lawstats`` and ``/backup``, the ``day=…`` line (one fixed day, so
that a run across midnight restores what it backed up), and ``lawstats`` (the installed command) runs as
``python -m lawstats``. The server is named the way libpq lets an administrator name it: ``PGHOST``, ``PGPORT``,
``PGUSER``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lawstats import lake, seed, storage
from lawstats.registry import TABLES
from tests.test_storage import commit_csv

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT = ROOT / "docs" / "deployment.md"
SECTION = "## 备份与恢复 · Backup and restore"
DAY = "2026-01-02"


def deployment_blocks() -> tuple[str, str]:
    """The backup block and the restore block (the first two ```bash blocks of the section)."""
    text = DEPLOYMENT.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 2, "docs/deployment.md: the backup section needs a backup and a restore ```bash block"
    return blocks[0], blocks[1]


def localised(block: str, folder: Path) -> str:
    """The block with the page's folders moved into ``folder`` and its backup day fixed."""
    block = block.replace("/srv/lawstats", str(folder / "srv")).replace("/backup", str(folder / "backup"))
    return re.sub(r"^day=.*$", f"day={DAY}", block, flags=re.M)


def run_block(block: str, pg_env: dict[str, str]) -> str:
    """Run a docs block in bash (stop at the first failing command); return its stdout."""
    script = f'set -euo pipefail\nlawstats() {{ "{sys.executable}" -m lawstats "$@"; }}\n' + block
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **pg_env})
    assert done.returncode == 0, f"{block}\n--- stderr:\n{done.stderr}"
    return done.stdout


def libpq_env(dsn: str) -> dict[str, str]:
    """PGHOST/PGPORT/PGUSER for the throwaway cluster's DSN (``host=… port=… user=… dbname=…``)."""
    parts = dict(part.split("=", 1) for part in dsn.split())
    return {"PGHOST": parts["host"], "PGPORT": parts["port"], "PGUSER": parts["user"]}


def cli(store_text: str, data: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "lawstats", "--store", store_text, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "LAWSTATS_LAKE_DATA": str(data) + os.sep})
    assert done.returncode == 0, done.stderr
    return done.stdout


def snapshot(store_text: str, data: Path, out: Path) -> dict:
    """What must survive a restore: history, the export's files, and every batch's as-of views."""
    exported = out / "export"
    cli(store_text, data, "export", str(exported), "--format", "csv")
    store = storage.Store(lake.store_spec(store_text, str(data)))
    try:
        batches = [int(b) for b in storage.list_batches(store)["batch_id"]]
        as_of = {(batch, "regions"): storage.regions_as_of(store, batch) for batch in batches}
        as_of |= {(batch, table.id): storage.table_as_of(store, table, batch)
                  for batch in batches for table in TABLES}
    finally:
        store.close()
    return {"history": cli(store_text, data, "history"),
            "export": {p.name: p.read_bytes() for p in sorted(exported.iterdir())},
            "batches": batches, "as_of": as_of}


def test_the_documented_backup_restores_history_exports_and_as_of_views(pg_cluster, tmp_path):
    """``pg_cluster``: conftest's throwaway PostgreSQL cluster."""
    import psycopg

    pg_env = libpq_env(pg_cluster)
    with psycopg.connect(pg_cluster, autocommit=True) as con:
        for name in ("lawstats", "lawstats_restored"):
            con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute('CREATE DATABASE "lawstats"')
    original_dsn = pg_cluster.replace("dbname=postgres", "dbname=lawstats")
    data = tmp_path / "srv" / "data"
    store = seed.open_store(lake.store_spec(f"ducklake:postgres:{original_dsn}", str(data)))
    try:
        kept = commit_csv(store, "p2023.csv", "地区,年份,户籍人口,户籍户数\n西堡镇,2023,25000,7000\n")
        undone = commit_csv(store, "p2022.csv", "地区,年份,户籍人口,户籍户数\n西堡镇,2022,24000,6900\n")
        storage.undo_batch(store, undone, note="备份测试撤销")
    finally:
        store.close()
    before = snapshot(f"ducklake:postgres:{original_dsn}", data, tmp_path / "before")
    assert sorted(before["batches"]) == [1, 2, 3, 4]  # seed, kept import, undone import, its undo
    assert not before["as_of"][(1, "population")].equals(before["as_of"][(kept, "population")])

    backup, restore = deployment_blocks()
    (tmp_path / "backup").mkdir()  # the backup disk, as the page assumes it
    run_block(localised(backup, tmp_path), pg_env)
    # everything gone: the catalog's database and the data folder
    with psycopg.connect(pg_cluster, autocommit=True) as con:
        con.execute('DROP DATABASE "lawstats" WITH (FORCE)')
    shutil.rmtree(data)

    out = run_block(localised(restore, tmp_path), pg_env)
    assert out == before["history"]  # the block's last command is `lawstats history`
    restored_dsn = pg_cluster.replace("dbname=postgres", "dbname=lawstats_restored")
    after = snapshot(f"ducklake:postgres:{restored_dsn}", tmp_path / "srv" / "data-restored", tmp_path / "after")
    assert after["history"] == before["history"]
    assert after["export"] == before["export"] and after["export"]
    assert after["batches"] == before["batches"]
    for key, frame in before["as_of"].items():
        pd.testing.assert_frame_equal(after["as_of"][key], frame, obj=str(key))
