"""The command line on a temporary database: ``init`` (idempotent) and ``indicators`` in every format."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lawstats import cli, storage
from tests.conftest import ROOT


@pytest.fixture
def db(tmp_path):
    return tmp_path / "cli.duckdb"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_init_builds_the_database_from_data_once(capsys, db):
    code, out, _ = run(capsys, "--db", db, "init")
    assert code == 0 and db.exists() and str(db) in out
    assert run(capsys, "--db", db, "init")[0] == 0  # idempotent: no second seed batch
    store = storage.Store(db)
    try:
        assert len(storage.list_batches(store)) == 1
    finally:
        store.close()


def test_indicators_json_has_every_value(capsys, db):
    code, out, _ = run(capsys, "--db", db, "indicators", "--region", "西堡镇", "--year", "2024", "--format", "json")
    assert code == 0
    records = {r["id"]: r for r in json.loads(out)}
    assert records["registered_persons"]["value"] == 25218
    assert round(records["minority_share"]["value"], 2) == 0.64
    assert round(records["persons_per_subgrid"]["value"], 1) == 242.5
    assert records["minority_share"]["unit"] == "%" and records["minority_share"]["year"] == 2024


def test_indicators_csv_and_table(capsys, db):
    code, out, _ = run(capsys, "--db", db, "--lang", "en", "indicators", "--format", "csv")
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.split(",")[:3] == ["year", "id", "label"]
    assert any(r.startswith("2024,household_size,Household size,") for r in rows)
    code, out, _ = run(capsys, "--db", db, "indicators")
    assert code == 0 and "0.64%" in out and "25,218" in out and "少数民族人口占比" in out


@pytest.mark.parametrize("args", [["--region", "不存在镇"], ["--year", "1999"]])
def test_unknown_region_or_year_is_a_clear_error(capsys, db, args):
    code, out, err = run(capsys, "--db", db, "indicators", *args)
    assert code == 2 and out == "" and err.strip() and "Traceback" not in err


def test_module_entry_point_uses_lawstats_db(tmp_path):
    """``python -m lawstats`` as a user runs it, on the file LAWSTATS_DB names."""
    path = tmp_path / "env.duckdb"
    env = {**os.environ, "LAWSTATS_DB": str(path)}
    result = subprocess.run([sys.executable, "-m", "lawstats", "indicators", "--format", "csv"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert path.exists() and "registered_persons" in result.stdout
