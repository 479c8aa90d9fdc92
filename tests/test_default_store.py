"""The store a deployment gets without a store option, and the command line while the app runs (issue 12).

Issue 12 asks that the default configuration let the CLI import, read and make decks while the app runs. The
default store is a SQLite-catalog lake in ``data/`` (docs/benchmarks.md, "Choosing the default store", says why,
with the numbers). The first test runs a copy of the project exactly as a fresh deployment does, with no store
setting at all: a real ``streamlit run`` server, the CLI as separate processes, Debian's Chromium reading the page.
Also here: a DuckDB file of an earlier version moving into the default lake, the lake connection's settings, and
``bench --store``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from lawstats import cli, lake, storage, synth

ROOT = Path(__file__).resolve().parent.parent
STORE_VARIABLES = ("LAWSTATS_DB", "LAWSTATS_STORE", "LAWSTATS_LAKE_DATA", "LAWSTATS_LAKE_REPLICA")


def project_copy(folder: Path) -> Path:
    """The project as a deployment has it (no database yet), in ``folder``."""
    target = folder / "project"
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "build", "*.duckdb*", "lawstats.sqlite*", ".pytest_cache",
        "docs", "screenshots", "reports"))
    return target


def default_env() -> dict[str, str]:
    """This process's environment without any store setting: what a deployment that set nothing has."""
    return {k: v for k, v in os.environ.items() if k not in STORE_VARIABLES}


def run_cli(env: dict[str, str], *args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run([sys.executable, "-m", "lawstats", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_default_configuration_lets_the_cli_import_read_and_make_a_deck_while_the_app_runs(tmp_path):
    """A fresh copy of the project, no store setting: the app starts (making the default lake from data/), the
    CLI's import shows on the page, and history, indicators and a deck work meanwhile (on a DuckDB file each of
    these exits 2, "database in use")."""
    from pptx import Presentation

    from tests.browser import chromium_page, overview_text, require_chromium, streamlit_server

    require_chromium()
    project = project_copy(tmp_path)
    env = default_env()
    population = tmp_path / "population-98765.csv"
    population.write_text("地区,年份,户籍人口,户籍户数\n西堡镇,2024,98765,7000\n", encoding="utf-8")
    unset = {name: None for name in STORE_VARIABLES}
    with streamlit_server(tmp_path / "server", env=unset, root=project) as url, chromium_page() as page:
        before = overview_text(page, url)
        assert "25218" in before and "98765" not in before
        run_cli(env, "import", str(population), "--user", "cli", cwd=project)
        committed = time.monotonic()
        history = run_cli(env, "history", cwd=project)
        assert "population-98765.csv" in history
        assert "98765" in run_cli(env, "indicators", "--format", "json", cwd=project).replace(",", "")
        deck = tmp_path / "deck.pptx"
        run_cli(env, "deck", str(deck), cwd=project)
        slides = Presentation(str(deck)).slides
        text = " ".join(shape.text_frame.text for slide in slides for shape in slide.shapes if shape.has_text_frame)
        assert "98765" in text.replace(",", "")
        assert "98765" in overview_text(page, url)
        # within 5 s of the commit, plus the CLI calls above (each a process start), on a loaded machine
        assert time.monotonic() - committed < 120
    # the store was the default lake in the copy's data/ folder; no DuckDB file was made anywhere
    assert (project / "data" / "lawstats.sqlite").is_file()
    assert (project / "data" / "lawstats.sqlite.files").is_dir()
    assert not list(project.rglob("*.duckdb")) and not (tmp_path / "server").exists()
    assert "ducklake:sqlite:" + str(project / "data" / "lawstats.sqlite") in run_cli(env, "init", cwd=project)


def test_an_earlier_versions_default_file_moves_into_the_default_lake(tmp_path, seeded_template):
    """A deployment upgraded in place has ``data/lawstats.duckdb`` (the default of earlier versions) with its
    own history: the default lake's first start takes that history over instead of loading data/ afresh, and
    leaves the file as it was."""
    from tests.test_storage import commit_csv

    project = project_copy(tmp_path)
    legacy = project / "data" / "lawstats.duckdb"
    shutil.copyfile(seeded_template, legacy)
    old = storage.Store(legacy)
    commit_csv(old, "p.csv", "地区,年份,户籍人口,户籍户数\n西堡镇,2025,12001,4100\n")
    history = storage.list_batches(old)
    old.close()
    size = legacy.stat().st_size
    env = default_env()
    shown = run_cli(env, "history", cwd=project)
    assert "p.csv" in shown  # the earlier file's second batch, now read from the lake
    store = storage.Store(lake.store_spec("ducklake:sqlite:" + str(project / "data" / "lawstats.sqlite")))
    try:
        assert storage.list_batches(store)[["batch_id", "kind", "file_name"]].equals(
            history[["batch_id", "kind", "file_name"]])
    finally:
        store.close()
    assert legacy.stat().st_size == size


def test_a_lake_connection_reads_its_catalog_on_one_thread(tmp_path):
    """Every lake query reads the catalog first through short scans; on DuckDB's worker threads their hand-offs
    cost more than the scans (docs/benchmarks.md). A lake connection therefore runs one thread and caches the
    Parquet metadata of its (never rewritten) files; a DuckDB file keeps DuckDB's defaults."""
    store = storage.Store(f"ducklake:sqlite:{tmp_path / 'c.sqlite'}")
    try:
        settings = dict(store.query_rows("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                         "('threads', 'parquet_metadata_cache')"))
        assert settings == {"threads": "1", "parquet_metadata_cache": "true"}
        assert store.cursor().execute("SELECT current_setting('threads')").fetchone()[0] == 1  # cursors too
    finally:
        store.close()
    plain = storage.Store(tmp_path / "plain.duckdb")
    try:
        default = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]
        assert plain.query_rows("SELECT current_setting('threads')")[0][0] == default
    finally:
        plain.close()


def test_bench_store_option_reaches_the_benchmark(monkeypatch):
    """``lawstats bench --store SETTING`` measures on that store; the global ``--store`` (the app's store) is not
    taken for it."""
    from bench import scale

    seen = {}
    monkeypatch.setattr(scale, "run", lambda *args, **kwargs: seen.update(kwargs) or [])
    assert cli.main(["bench", "--store", "ducklake:sqlite:/tmp/x.sqlite"]) == 0
    assert seen["store"] == "ducklake:sqlite:/tmp/x.sqlite"
    assert cli.main(["--store", "elsewhere.duckdb", "bench"]) == 0
    assert seen["store"] is None


def test_bench_measures_a_lake_beside_the_native_file(tmp_path):
    """``bench --store``: the county data moved onto a lake gives the file's answer to every page query, and each
    query carries its time on the file (``native_ms``)."""
    from bench import scale

    synth.generate(tmp_path / "data", "county", [2023, 2024], 1)
    file_db = tmp_path / "bench.duckdb"
    scale.import_in_child(file_db, tmp_path / "data")
    moved = scale.move_to_store(file_db, f"ducklake:sqlite:{tmp_path / 'lake.sqlite'}", "county")
    assert moved["name"] == "migrate_store" and moved["p50_ms"] > 0
    target = storage.Store(f"ducklake:sqlite:{tmp_path / 'lake.sqlite'}")
    native = storage.Store(file_db)
    try:
        assert target.spec.is_lake
        records = scale.measure_queries(target, "county", 1, 1, native)
    finally:
        target.close()
        native.close()
    assert len(records) >= 40 and all(tuple(r) == scale.RECORD_KEYS for r in records)
    assert all(r["native_ms"] is not None and r["native_ms"] > 0 for r in records)
    assert all(r["native_same"] is True for r in records), [r["name"] for r in records if not r["native_same"]]
    assert all(r["same_answer"] is not False for r in records)
