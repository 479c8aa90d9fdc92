"""The store a deployment gets without a store option, and the command line while the app runs (issue 12).

Issue 12 asks that the default configuration let the CLI import, read and make decks while the app runs. The
default is still the DuckDB file (one process at a time: docs/benchmarks.md, "Choosing the default store", says
why, with the numbers), so these tests run the app and the CLI on the configuration the default would become, a
SQLite-catalog lake named by ``LAWSTATS_STORE`` alone (its data folder beside the catalog, no other setting):
a real ``streamlit run`` server, the CLI as separate processes, Debian's Chromium reading the page.
Also here: the lake connection's settings that make its page queries affordable, and ``bench --store``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from lawstats import cli, seed, storage, synth

ROOT = Path(__file__).resolve().parent.parent


def lake_env(folder: Path) -> dict[str, str]:
    """The environment of a process on a SQLite-catalog lake named by LAWSTATS_STORE alone."""
    env = {k: v for k, v in os.environ.items() if k not in ("LAWSTATS_DB", "LAWSTATS_LAKE_DATA")}
    env["LAWSTATS_STORE"] = f"ducklake:sqlite:{folder / 'lawstats.sqlite'}"
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "lawstats", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def overview_text(page, url: str) -> str:
    from tests.browser import wait_for_app

    page.goto(url)
    wait_for_app(page, timeout_ms=120_000)  # a server's first run on a shared, loaded machine
    return page.locator('[data-testid="stMain"]').inner_text().replace(",", "")


def test_the_cli_imports_reads_and_makes_a_deck_while_the_app_runs(tmp_path, monkeypatch):
    """A running app and the CLI on the lake configuration: the CLI's import shows on the page, and history,
    indicators and a deck work meanwhile (on a DuckDB file each of these exits 2, "database in use")."""
    from pptx import Presentation

    from tests.browser import chromium_page, require_chromium, streamlit_server

    require_chromium()
    for name in ("LAWSTATS_DB", "LAWSTATS_LAKE_DATA"):  # the server inherits this process's environment
        monkeypatch.delenv(name, raising=False)
    env = lake_env(tmp_path)
    population = tmp_path / "population-98765.csv"
    population.write_text("地区,年份,户籍人口,户籍户数\n西堡镇,2024,98765,7000\n", encoding="utf-8")
    seed.open_store(env["LAWSTATS_STORE"]).close()  # the lake with data/, as the app's first start leaves it
    server_env = {"LAWSTATS_STORE": env["LAWSTATS_STORE"]}
    with streamlit_server(tmp_path / "server.duckdb", env=server_env) as url, chromium_page() as page:
        before = overview_text(page, url)
        assert "25218" in before and "98765" not in before
        run_cli(env, "import", str(population), "--user", "cli")
        committed = time.monotonic()
        history = run_cli(env, "history")
        assert "population-98765.csv" in history
        assert "98765" in run_cli(env, "indicators", "--format", "json").replace(",", "")
        deck = tmp_path / "deck.pptx"
        run_cli(env, "deck", str(deck))
        slides = Presentation(str(deck)).slides
        text = " ".join(shape.text_frame.text for slide in slides for shape in slide.shapes if shape.has_text_frame)
        assert "98765" in text.replace(",", "")
        assert "98765" in overview_text(page, url)
        # within 5 s of the commit, plus the CLI calls above (each a process start), on a loaded machine
        assert time.monotonic() - committed < 120
    assert not (tmp_path / "server.duckdb").exists()  # the server used the lake, not the file beside it
    assert Path(str(tmp_path / "lawstats.sqlite") + ".files").is_dir()


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
