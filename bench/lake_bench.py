"""DuckLake store benchmark (issue 12): commit latency, query time on a 1M-row table and data file growth,
native DuckDB file vs SQLite-catalog lake vs PostgreSQL-catalog lake.

    python -m bench.lake_bench [--rows 1000000] [--commits 200] [--out bench/lake_results.json]

PostgreSQL: a throwaway cluster (initdb into a temporary folder, as the ``postgres`` user when run as root)
on a free port of 127.0.0.1, stopped at the end. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb

from lawstats import lake

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------------------
# A throwaway PostgreSQL cluster (also used by tests/test_lake.py)


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), or None when not installed."""
    found = shutil.which("initdb")
    if found and Path(found).resolve().parent.joinpath("pg_ctl").exists():
        return Path(found).resolve().parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return Path(folders[-1]) if folders else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


CLUSTERS: dict[str, tuple[list[str], list[str]]] = {}  # DSN of a running throwaway cluster: (start, stop)


def stop_cluster(dsn: str) -> None:
    """Stop the throwaway cluster of ``dsn`` (a PostgreSQL outage, for tests); ``start_cluster`` brings it back."""
    subprocess.run(CLUSTERS[dsn][1], check=True, capture_output=True)


def start_cluster(dsn: str) -> None:
    subprocess.run(CLUSTERS[dsn][0], check=True, capture_output=True)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster; yield a libpq DSN of its ``postgres`` database; stop and delete it."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server programs not found (apt-get install -y postgresql)")
    home = Path(tempfile.mkdtemp(prefix="lawstats-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    data, port = home / "data", free_port()
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {home} -c max_connections=200"
    start = _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w", "-o", options,
                          "start"])
    subprocess.run(start, check=True, capture_output=True)
    dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    CLUSTERS[dsn] = (start, _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]))
    try:
        yield dsn
    finally:
        CLUSTERS.pop(dsn, None)
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def new_database(dsn: str, name: str) -> str:
    """Create database ``name`` in the cluster of ``dsn``; return the DSN naming it."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{name}"')
        pg.execute(f'CREATE DATABASE "{name}"')
    return dsn.replace("dbname=postgres", f"dbname={name}")


# ---------------------------------------------------------------------------------------------------------
# Measurements


def _open(kind: str, folder: Path, dsn: str | None, name: str):
    """A store of ``kind`` in ``folder`` (a new PostgreSQL database ``name`` for "postgres")."""
    if kind == "duckdb":
        spec = lake.StoreSpec("duckdb", str(folder / f"{name}.duckdb"))
    elif kind == "sqlite":
        spec = lake.store_spec(f"ducklake:sqlite:{folder / name}.sqlite", str(folder / f"{name}-data"))
    else:
        spec = lake.store_spec(f"ducklake:postgres:{new_database(dsn, name)}", str(folder / f"{name}-data"))
    return spec, lake.connect(spec)


def _timed(action, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


QUERIES = {
    "aggregate_by_year": "SELECT year, sum(value), count(*) FROM facts GROUP BY year ORDER BY year",
    "one_region": "SELECT * FROM facts WHERE region_id = 4242 ORDER BY year",
    "region_range_by_year": "SELECT year, avg(value) FROM facts WHERE region_id BETWEEN 1000 AND 1999 "
                            "GROUP BY year ORDER BY year",
}


def query_times(kinds: list[str], folder: Path, dsn: str | None, rows: int, repeat: int = 9) -> dict:
    """Load ``rows`` rows (region_id, year, value, source) into each store, then time three queries a page
    makes: median ms of ``repeat`` runs, the stores taking turns within each run, so that the load of a shared
    machine weighs on all of them alike."""
    opened, result = {}, {}
    for kind in kinds:
        spec, con = _open(kind, folder, dsn, f"q_{kind}")
        start = time.perf_counter()
        lake.commit(con, spec, lambda c: c.execute(
            "CREATE TABLE facts AS SELECT (i % 50000)::INTEGER AS region_id, (2015 + i % 10)::INTEGER AS year, "
            "(hash(i) % 1000)::DOUBLE AS value, 'note ' || (i % 97) AS source FROM range(?) t(i) "
            "ORDER BY region_id, year", [rows]))
        result[kind] = {"load_ms": round((time.perf_counter() - start) * 1000, 1)}
        opened[kind] = con
    times = {(kind, name): [] for kind in kinds for name in QUERIES}
    for _ in range(repeat + 1):  # the first round warms up and is not counted
        for name, sql in QUERIES.items():
            for kind, con in opened.items():
                times[kind, name] += _timed(lambda: con.execute(sql).fetchall(), 1)
    for (kind, name), ms in times.items():
        result[kind][name + "_ms"] = round(statistics.median(ms[1:]), 2)
    for con in opened.values():
        con.close()
    return result


def commit_growth(kind: str, folder: Path, dsn: str | None, commits: int, tidy_every: int | None) -> dict:
    """``commits`` small two-table commits (one row each); commit latency and data files after each 50,
    running housekeeping every ``tidy_every`` commits when given (keep=0: no readers to protect here)."""
    tag = "tidy" if tidy_every else "raw"
    spec, con = _open(kind, folder, dsn, f"c_{kind}_{tag}")
    lake.commit(con, spec, lambda c: (c.execute("CREATE TABLE a (i INTEGER, v DOUBLE)"),
                                      c.execute("CREATE TABLE b (i INTEGER, v DOUBLE)")))
    latencies, files = [], {}
    for i in range(commits):
        start = time.perf_counter()
        lake.commit(con, spec, lambda c: (c.execute("INSERT INTO a VALUES (?, ?)", [i, i * 0.5]),
                                          c.execute("INSERT INTO b VALUES (?, ?)", [i, i * 0.5])))
        latencies.append((time.perf_counter() - start) * 1000)
        if tidy_every and (i + 1) % tidy_every == 0:
            lake.housekeeping(con, spec, keep=timedelta(0))
        if (i + 1) % 50 == 0:
            files[i + 1] = lake.data_files(spec)
    probe = "SELECT count(*), sum(v) FROM a WHERE i BETWEEN 10 AND 150"
    query_ms = round(statistics.median(_timed(lambda: con.execute(probe).fetchall(), 7)), 2)
    con.close()
    latencies.sort()
    return {"commit_p50_ms": round(latencies[len(latencies) // 2], 1),
            "commit_p95_ms": round(latencies[int(len(latencies) * 0.95)], 1),
            "files_after": files, "filtered_query_ms": query_ms}


def housekeeping_ms(kind: str, folder: Path, dsn: str | None) -> float:
    spec, con = _open(kind, folder, dsn, f"c_{kind}_raw")
    start = time.perf_counter()
    lake.housekeeping(con, spec, keep=timedelta(0))
    con.close()
    return round((time.perf_counter() - start) * 1000, 1)


def run(rows: int, commits: int) -> dict:
    results: dict = {"rows": rows, "commits": commits, "machine": "2 cores, 24 GiB"}
    with tempfile.TemporaryDirectory(prefix="lawstats-lake-bench-") as tmp, postgres_cluster() as dsn:
        folder = Path(tmp)
        queries = query_times(["duckdb", "sqlite", "postgres"], folder, dsn, rows)
        for kind in ("duckdb", "sqlite", "postgres"):
            entry = {"query": queries[kind], "commits_raw": commit_growth(kind, folder, dsn, commits, None)}
            if kind != "duckdb":
                entry["commits_tidy_every_50"] = commit_growth(kind, folder, dsn, commits, 50)
                entry["housekeeping_after_raw_ms"] = housekeeping_ms(kind, folder, dsn)
            results[kind] = entry
            print(kind, json.dumps(entry), flush=True)
    return results


def markdown(results: dict) -> str:
    kinds = [("duckdb", "DuckDB file"), ("sqlite", "DuckLake, SQLite catalog"), ("postgres", "DuckLake, PostgreSQL catalog")]
    lines = ["| | " + " | ".join(label for _, label in kinds) + " |", "|---|" + "---|" * len(kinds)]

    def row(label, get):
        cells = []
        for kind, _ in kinds:
            try:
                cells.append(str(get(results[kind])))
            except KeyError:
                cells.append("–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    n = results["commits"]
    row(f"load {results['rows']:,} rows in one commit (ms)", lambda r: r["query"]["load_ms"])
    for q in QUERIES:
        row(f"query `{q}` (ms, median of 9, stores in turn)", lambda r, q=q: r["query"][q + "_ms"])
    row("small two-table commit p50 / p95 (ms)",
        lambda r: f"{r['commits_raw']['commit_p50_ms']} / {r['commits_raw']['commit_p95_ms']}")
    row(f"data files after {n} small commits, no housekeeping",
        lambda r: r["commits_raw"]["files_after"][n] or "1 (the .duckdb file)")
    row(f"data files after {n} small commits, housekeeping every 50",
        lambda r: r["commits_tidy_every_50"]["files_after"][n])
    row("filtered query after the commits, no housekeeping / with (ms)",
        lambda r: f"{r['commits_raw']['filtered_query_ms']} / {r['commits_tidy_every_50']['filtered_query_ms']}")
    row(f"one housekeeping run over {n} commits' files (ms)", lambda r: r["housekeeping_after_raw_ms"])
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# The audit of lawstats.storage's statement kinds (docs/architecture.md, "DuckLake store: plan")

AUDIT = [
    ("NOT NULL, DEFAULT, VARCHAR[]", ["CREATE TABLE batches (batch_id INTEGER NOT NULL, kind VARCHAR NOT NULL, "
                                      "synthetic BOOLEAN DEFAULT FALSE, approx VARCHAR[])",
                                      "INSERT INTO batches (batch_id, kind) VALUES (1, 'import')"]),
    ("NOT NULL is enforced (expected to fail)", ["INSERT INTO batches (batch_id, kind) VALUES (NULL, 'x')"]),
    ("PRIMARY KEY", ["CREATE TABLE pk (a INTEGER PRIMARY KEY)"]),
    ("UNIQUE", ["CREATE TABLE uq (a INTEGER UNIQUE)"]),
    ("CHECK", ["CREATE TABLE ck (a INTEGER CHECK (a > 0))"]),
    ("CREATE INDEX", ["CREATE INDEX ix ON batches (batch_id)"]),
    ("CREATE SEQUENCE", ["CREATE SEQUENCE s1"]),
    ("CREATE TABLE IF NOT EXISTS (twice)", ["CREATE TABLE IF NOT EXISTS m (name VARCHAR NOT NULL)"] * 2),
    ("ALTER ADD COLUMN in a transaction with an insert", [
        "BEGIN", "ALTER TABLE batches ADD COLUMN note VARCHAR",
        "INSERT INTO batches (batch_id, kind, note) VALUES (2, 'import', 'x')", "COMMIT"]),
    ("ALTER TYPE, DROP COLUMN", ["ALTER TABLE batches ALTER batch_id TYPE BIGINT",
                                 "ALTER TABLE batches DROP COLUMN note"]),
    ("DROP + CREATE in one transaction", ["BEGIN", "CREATE TABLE tree (region_id INTEGER, own BOOLEAN)",
                                          "DROP TABLE IF EXISTS tree",
                                          "CREATE TABLE tree (region_id INTEGER, own BOOLEAN, depth INTEGER)",
                                          "COMMIT"]),
    ("CREATE TABLE AS ... LIMIT 0", ["CREATE TABLE IF NOT EXISTS cur AS SELECT 1::INTEGER AS region_id LIMIT 0"]),
    ("CREATE OR REPLACE TABLE", ["CREATE OR REPLACE TABLE x AS SELECT 1 AS a", "CREATE OR REPLACE TABLE x AS SELECT 2 AS a"]),
    ("TEMP table and lake writes in one transaction", [
        "BEGIN", "INSERT INTO tree VALUES (1, false, 1)",
        "CREATE OR REPLACE TEMP TABLE _dirty AS SELECT region_id FROM tree",
        "DELETE FROM tree WHERE region_id IN (SELECT region_id FROM _dirty)", "INSERT INTO tree VALUES (2, true, 1)",
        "COMMIT"]),
    ("UPDATE ... IN (subquery), DELETE ... EXISTS", [
        "UPDATE tree SET own = region_id IN (SELECT 2)",
        "DELETE FROM tree WHERE EXISTS (SELECT 1 FROM _dirty d WHERE d.region_id = tree.region_id)"]),
    ("INSERT ... WITH RECURSIVE", ["INSERT INTO tree WITH RECURSIVE w AS (SELECT 10 AS r, 1 AS d UNION ALL "
                                   "SELECT r + 1, d + 1 FROM w WHERE d < 3) SELECT r, false, d FROM w ORDER BY d"]),
    ("many tables in one transaction, then ROLLBACK", [
        "BEGIN", "INSERT INTO batches (batch_id, kind) VALUES (99, 'undo')", "DELETE FROM tree WHERE region_id = 10",
        "UPDATE tree SET depth = 9 WHERE region_id = 11", "INSERT INTO cur VALUES (5)", "ROLLBACK"]),
    ("CHECKPOINT", ["CHECKPOINT"]),
]


def audit() -> list[tuple[str, str]]:
    """Run each statement kind on a new SQLite-catalog lake: (kind, "works" or the first line of the error)."""
    found = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = lake.store_spec(f"ducklake:sqlite:{tmp}/audit.sqlite")
        con = lake.connect(spec)
        for label, statements in AUDIT:
            try:
                for sql in statements:
                    con.execute(sql)
                found.append((label, "works"))
            except duckdb.Error as e:
                found.append((label, str(e).strip().splitlines()[0][:120]))
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
        found.append(("ROLLBACK left nothing", str(con.execute("SELECT count(*) FROM batches WHERE batch_id = 99")
                                                    .fetchone()[0] == 0)))
        con.close()
    return found


# ---------------------------------------------------------------------------------------------------------
# The app's own queries and pages on each store (bench.scale's measurements, unchanged, on every store)


def page_comparison(scale: str, repeats: int, page_repeats: int, work: Path, dsn: str | None) -> dict:
    """Synthetic data of ``scale`` imported into a DuckDB file, moved (``storage.copy_store``) onto a SQLite lake
    and, with ``dsn``, a PostgreSQL lake; on each store bench.scale's page queries (p50/p95 ms) and its
    AppTest page views, commit and first view after commit."""
    from bench import scale as bench_scale
    from lawstats import storage, synth

    work.mkdir(parents=True, exist_ok=True)
    synth.generate(work / "data", scale, None, 1)
    file_db = work / "bench.duckdb"
    bench_scale.import_in_child(file_db, work / "data", batch_per_file=scale == "national")
    stores = {"duckdb": (str(file_db), None)}
    stores["sqlite"] = (f"ducklake:sqlite:{work / 'lake.sqlite'}", str(work / "lake-sqlite-data"))
    if dsn:
        stores["postgres"] = (f"ducklake:postgres:{new_database(dsn, 'bench_pages')}", str(work / "lake-pg-data"))
    results = {}
    for kind, (text, data) in stores.items():
        os.environ.pop("LAWSTATS_LAKE_DATA", None)
        if data:
            os.environ["LAWSTATS_LAKE_DATA"] = data
            source, target = storage.Store(file_db), storage.Store(text)
            start = time.perf_counter()
            storage.copy_store(source, target)
            results.setdefault("migrate_s", {})[kind] = round(time.perf_counter() - start, 1)
            source.close()
            target.close()
        store = storage.Store(text)
        regions = bench_scale.pick_regions(store)
        records = bench_scale.measure_queries(store, scale, repeats, 1)
        store.close()
        records += bench_scale.measure_pages(text, scale, page_repeats, regions)  # type: ignore[arg-type]
        results[kind] = {r["name"]: {"p50_ms": r["p50_ms"], "p95_ms": r["p95_ms"]} for r in records}
        print(kind, json.dumps(results[kind], ensure_ascii=False), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "bench" / "lake_results.json"))
    parser.add_argument("--audit", action="store_true", help="only run lawstats.storage's statement kinds on a lake")
    parser.add_argument("--pages", choices=["county", "province", "national"],
                        help="instead: the app's page queries, commit and first view on each store at this scale")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    if args.pages:
        work = Path(args.workdir or tempfile.mkdtemp(prefix="lawstats-lake-pages-"))
        with postgres_cluster() if postgres_bin() else contextlib.nullcontext() as dsn:
            results = page_comparison(args.pages, args.repeats, max(2, args.repeats // 3), work, dsn)
        Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
        return
    if args.audit:
        for label, outcome in audit():
            print(f"| {label} | {outcome} |")
        return
    results = run(args.rows, args.commits)
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(markdown(results))


if __name__ == "__main__":
    main()
