"""The import benchmark: a 1,000,000-row CSV (synthetic, labelled so) validated and committed through the normal
import path, the preview of a 10,000-row file, and plain DuckDB ``read_csv`` + ``INSERT`` of the same file as the
baseline, all in one run on this machine.

    python bench/import_bench.py [--rows 1000000] [--json bench/import_results.json] [--workdir DIR]

Every measurement runs in a child process of its own, so that its peak memory (``ru_maxrss`` of that child, from
``os.wait4``) is the import's and nothing else's:
- ``import_cli``: ``python -m lawstats import FILE`` as an analyst runs it (interpreter start included);
- ``import_steps``: the same in one process, timed step by step (read, validate, commit; and inside the commit
  the refresh of the current tables, ``storage._refresh_current``, which the import shares with the rest);
- ``baseline``: a fresh DuckDB file, ``CREATE TABLE`` with the same column types, ``INSERT ... FROM read_csv``;
- ``preview_10k``: ``uploads.inspect_file`` with the preview of a 10,000-row file (1,000 of the villages, 10
  years, other figures), median of 3: on the seed database (every row new) and on the database that holds the
  million rows (every row an update).
The data are synthetic: regions 合成村000001..., source 合成数据（仅供测试）, file names ``*_synthetic_*``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
YEARS = list(range(2015, 2025))
SOURCE = "合成数据（仅供测试）"
HEADER = "地区,年份,户籍户数,户籍人口,常住户数,常住人口,少数民族人口,来源"


# ---------------------------------------------------------------------------------------------------------
# Synthetic files


def village(v: int) -> str:
    return f"合成村{v:06d}"


def write_regions(path: Path, villages: int) -> None:
    """A synthetic county under 湟中区, a township per 100 villages, the villages."""
    towns = (villages + 99) // 100
    lines = ["名称,级别,上级", "合成县（合成数据）,县（区）,西宁市"]
    lines += [f"合成镇{t:04d},乡镇（街道）,合成县（合成数据）" for t in range(1, towns + 1)]
    lines += [f"{village(v)},村（社区）,合成镇{(v - 1) // 100 + 1:04d}" for v in range(1, villages + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_population(path: Path, villages: int, bump_every: int = 0, first_village: int = 1) -> int:
    """Population rows (villages x 10 years) that pass every check; a few cells in the formats analysts use
    (``1,234`` quoted, ``约``), so the slow path of the number reader is exercised too. Returns the rows."""
    import numpy as np

    rng = np.random.default_rng(20241126)
    ids = np.repeat(np.arange(first_village, first_village + villages), len(YEARS))
    years = np.tile(np.array(YEARS), villages)
    registered = rng.integers(300, 6000, len(ids))
    households = registered // 3 + 1
    resident = (registered * rng.uniform(0.7, 1.0, len(ids))).astype(int)
    resident_households = np.minimum(households, resident // 3 + 1)
    minority = (registered * rng.uniform(0.0, 0.2, len(ids))).astype(int)
    if bump_every:
        registered = registered + (np.arange(len(ids)) % bump_every == 0)
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for i, (v, y, h, r, rh, rp, m) in enumerate(zip(ids, years, households, registered, resident_households,
                                                        resident, minority)):
            registered_text = f'"{r:,}"' if i % 97 == 0 else str(r)  # 1% written 1,234
            minority_text = f"约{m}" if i % 101 == 0 else str(m)
            out.write(f"{village(v)},{y},{h},{registered_text},{rh},{rp},{minority_text},{SOURCE}\n")
    return len(ids)


# ---------------------------------------------------------------------------------------------------------
# Children


def run_child(args: list[str], env: dict | None = None) -> dict:
    """Run a child, wait for it with ``os.wait4``: wall seconds, peak RSS (MB) of that child, stdout."""
    start = time.perf_counter()
    child = subprocess.Popen(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = child.stdout.read(), child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{args[:4]} failed ({child.returncode}): {stderr.decode(errors='replace')[-2000:]}")
    return {"wall_s": round(wall, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "stdout": stdout.decode(errors="replace")}


STEPS_SCRIPT = r"""
import json, resource, sys, time
from lawstats import reader, importer, storage, uploads
db, path = sys.argv[1], sys.argv[2]
refresh = {"s": 0.0}
original = storage.reading._refresh_current  # the module whose commit steps call it
def timed(*args, **kwargs):
    start = time.perf_counter()
    try:
        return original(*args, **kwargs)
    finally:
        refresh["s"] += time.perf_counter() - start
storage.reading._refresh_current = timed
t0 = time.perf_counter()
store = storage.Store(db)
data = open(path, "rb").read()
t1 = time.perf_counter()
raw = reader.read_file(path, data, is_header=importer.header_key)
t2 = time.perf_counter()
upload = uploads.inspect_file(store, path.rsplit("/", 1)[-1], data, with_preview=False)
t3 = time.perf_counter()
peak_after_validate = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
del data, raw  # as the command line does
uploads.release_sources(upload)
batch = uploads.commit_upload(store, upload, user_name="bench")
t4 = time.perf_counter()
print(json.dumps({"open_and_load_s": t1 - t0, "read_s": t2 - t1, "inspect_s": t3 - t2,
                  "validate_s": (t3 - t2) - (t2 - t1), "commit_s": t4 - t3, "refresh_current_s": refresh["s"],
                  "validate_and_commit_s": t4 - t2, "rows": upload.row_count, "batch": batch,
                  "peak_rss_after_validate_mb": peak_after_validate}))
"""

BASELINE_SCRIPT = r"""
import json, sys, time
import duckdb
db, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE population (region VARCHAR, year INTEGER, registered_households BIGINT, "
            "registered_persons VARCHAR, resident_households BIGINT, resident_persons BIGINT, "
            "minority_persons VARCHAR, source VARCHAR)")
con.execute("INSERT INTO population SELECT * FROM read_csv(?, header = true, columns = {"
            "'region': 'VARCHAR', 'year': 'INTEGER', 'registered_households': 'BIGINT', "
            "'registered_persons': 'VARCHAR', 'resident_households': 'BIGINT', 'resident_persons': 'BIGINT', "
            "'minority_persons': 'VARCHAR', 'source': 'VARCHAR'})", [path])
con.close()
print(json.dumps({"seconds": time.perf_counter() - start}))
"""

PREVIEW_SCRIPT = r"""
import json, statistics, sys, time
from lawstats import storage, uploads
db, path = sys.argv[1], sys.argv[2]
store = storage.Store(db)
data = open(path, "rb").read()
times = []
for _ in range(3):
    start = time.perf_counter()
    upload = uploads.inspect_file(store, "population_synthetic_10k.csv", data)
    times.append(time.perf_counter() - start)
preview = upload.preview["population"]
print(json.dumps({"median_s": statistics.median(times), "runs_s": times, "rows": preview.rows,
                  "new": preview.new_count, "changed_values": preview.changed_count,
                  "unchanged": preview.unchanged, "indicator_changes": len(upload.indicator_changes)}))
"""


def last_json(stdout: str) -> dict:
    """The child's answer: its last line (anything a library printed before it is ignored)."""
    return json.loads(stdout.strip().splitlines()[-1])


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


# ---------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big file (a multiple of 10)")
    parser.add_argument("--json", default=str(ROOT / "bench" / "import_results.json"))
    parser.add_argument("--workdir", help="where the files and databases go (default: a temporary folder)")
    args = parser.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="lawstats_import_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    villages = args.rows // len(YEARS)

    regions = work / "regions_synthetic.csv"
    big = work / f"population_synthetic_{args.rows // 1000}k.csv"
    small = work / "population_synthetic_10k.csv"
    print(f"writing synthetic files to {work} ...", flush=True)
    write_regions(regions, villages)
    rows = write_population(big, villages)
    write_population(small, 1000, bump_every=3)  # the first 1,000 villages again, with other figures

    base_db = work / "base.duckdb"
    for path in (base_db, Path(f"{base_db}.wal")):
        path.unlink(missing_ok=True)
    regions_run = run_child(python("-m", "lawstats", "import", str(regions), "--user", "bench"),
                            {"LAWSTATS_DB": str(base_db)})
    print(f"regions: {villages:,} villages in {regions_run['wall_s']} s", flush=True)

    def fresh_copy(name: str) -> Path:
        target = work / name
        for suffix in ("", ".wal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
            if Path(f"{base_db}{suffix}").exists():
                shutil.copy(f"{base_db}{suffix}", f"{target}{suffix}")
        return target

    preview_seed = last_json(run_child(python("-c", PREVIEW_SCRIPT, str(fresh_copy("preview.duckdb")),
                                               str(small)))["stdout"])
    print(f"preview 10k (seed + regions): {preview_seed['median_s']:.3f} s", flush=True)

    cli_db = fresh_copy("cli.duckdb")
    cli_run = run_child(python("-m", "lawstats", "import", str(big), "--user", "bench"), {"LAWSTATS_DB": str(cli_db)})
    print(f"CLI import {rows:,} rows: {cli_run['wall_s']} s, peak {cli_run['peak_rss_mb']} MB", flush=True)

    steps_run = run_child(python("-c", STEPS_SCRIPT, str(fresh_copy("steps.duckdb")), str(big)))
    steps = last_json(steps_run["stdout"])
    print(f"steps: {json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in steps.items()})}", flush=True)

    baseline_db = work / "baseline.duckdb"
    for path in (baseline_db, Path(f"{baseline_db}.wal")):
        path.unlink(missing_ok=True)
    baseline_run = run_child(python("-c", BASELINE_SCRIPT, str(baseline_db), str(big)))
    baseline = last_json(baseline_run["stdout"])
    print(f"baseline read_csv + INSERT: {baseline['seconds']:.3f} s, peak {baseline_run['peak_rss_mb']} MB", flush=True)

    preview_big = last_json(run_child(python("-c", PREVIEW_SCRIPT, str(cli_db), str(small)))["stdout"])
    print(f"preview 10k (after the million rows): {preview_big['median_s']:.3f} s", flush=True)

    import duckdb
    import pandas
    import psutil

    results = {
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(), "duckdb": duckdb.__version__, "pandas": pandas.__version__,
                    "platform": platform.platform()},
        "file": {"rows": rows, "megabytes": round(big.stat().st_size / 2**20, 1), "name": big.name,
                 "regions": villages},
        "import_cli": {"wall_s": cli_run["wall_s"], "peak_rss_mb": cli_run["peak_rss_mb"]},
        "import_steps": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in steps.items()}
        | {"peak_rss_mb": steps_run["peak_rss_mb"]},
        "baseline": {"what": "duckdb read_csv + INSERT into a fresh file, same column types",
                     "seconds": round(baseline["seconds"], 3), "wall_s": baseline_run["wall_s"],
                     "peak_rss_mb": baseline_run["peak_rss_mb"]},
        "ratio_validate_and_commit_to_baseline": round(steps["validate_and_commit_s"] / baseline["seconds"], 2),
        "ratio_cli_wall_to_baseline_wall": round(cli_run["wall_s"] / baseline_run["wall_s"], 2),
        "preview_10k": {"seed_db": preview_seed, "million_row_db": preview_big},
        "targets": {"validate_and_commit_s": 10, "peak_rss_mb": 1536, "preview_10k_s": 1},
    }
    Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.json}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
