"""What the torn-commit check (``lawstats.storage.recovery``) costs, on a DuckDB file of synthetic data:

- every commit records each table's row count: a one-village commit and its undo, with and without the
  recording, alternating in one process (the ratio is the cost);
- every open compares the counts: the check beside the whole open;
- a file that holds part of an unfinished commit is repaired at open (every derived table rebuilt from the
  history): that open beside an ordinary one.

    python -m bench.recovery_bench --scale national --workdir /tmp/lawstats-national [--out bench/recovery_national.json]

The workdir's ``bench.duckdb`` is used when it is there (``lawstats bench --workdir`` makes the same file); else
the synthetic data is generated and imported first. The file is changed (commits, undos, one repair).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import time
from pathlib import Path

import duckdb

from bench.issue10_ab import timed
from bench.scale import import_in_child, machine, small_commit
from lawstats import storage, synth
from lawstats.storage import batches, recovery

ROUNDS = 20  # commit + undo pairs per variant


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def ensure_database(work: Path, scale: str) -> tuple[Path, dict | None]:
    db = work / "bench.duckdb"
    if db.exists():
        return db, None
    synth.generate(work / "data", scale, None, 1)
    return db, import_in_child(db, work / "data", batch_per_file=scale == "national")


def commit_rounds(store: storage.Store) -> dict[str, list[float]]:
    """A one-village commit and its undo, alternately with and without recording the row counts."""
    recording = batches.record_row_counts
    out = {"with": [], "without": [], "undo_with": [], "undo_without": []}
    for round_ in range(2 * ROUNDS):
        variant = "with" if round_ % 2 == 0 else "without"
        batches.record_row_counts = recording if variant == "with" else (lambda con: None)
        try:
            start = time.perf_counter()
            batch = small_commit(store)
            out[variant].append(_ms(start))
            start = time.perf_counter()
            storage.undo_batch(store, batch, user_name="bench")
            out[f"undo_{variant}"].append(_ms(start))
        finally:
            batches.record_row_counts = recording
    return out


def record_alone(store: storage.Store) -> list[float]:
    con = store.cursor()

    def once() -> None:
        con.execute("BEGIN TRANSACTION")
        recovery.record_row_counts(con)
        con.execute("ROLLBACK")

    return timed(once, 5)


def repaired_open(db: Path) -> tuple[float, dict]:
    """Rows added behind the store's back (what a torn commit leaves: current rows nobody committed), then an
    open, which finds and repairs them."""
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO cur_population (batch_id, region_id, year, registered_persons) "
                "SELECT 1000000, region_id, 2099, 1 FROM cur_regions")
    con.close()
    start = time.perf_counter()
    store = storage.Store(db)
    took = _ms(start)
    repaired = store.repaired
    store.close()
    return took, repaired


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="county", choices=["county", "province", "national"])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--out")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    db, imported = ensure_database(work, args.scale)
    result = {"scale": args.scale, "machine": machine(), "synthetic": True,
              "imported_s": imported and round(imported["seconds"], 1)}
    opens = []
    for _ in range(3):
        start = time.perf_counter()
        storage.Store(db).close()
        opens.append(_ms(start))
    store = storage.Store(db)
    result["rows"] = int(sum(n for _, n in store.query_rows("SELECT table_name, n FROM row_counts")))
    result["open_ms"] = sorted(opens)
    result["check_ms"] = timed(lambda: recovery.unrecorded_changes(store.cursor()), 5)
    result["record_ms"] = record_alone(store)
    rounds = commit_rounds(store)
    con = store.cursor()  # the rounds without recording left the counts behind: record them, as a commit would
    con.execute("BEGIN TRANSACTION")
    recovery.record_row_counts(con)
    con.execute("COMMIT")
    result["commit_ms"] = {k: sorted(v) for k, v in rounds.items()}
    result["commit_ratio_with_to_without"] = round(statistics.median(rounds["with"])
                                                   / statistics.median(rounds["without"]), 3)
    store.close()
    copy = work / "repair.duckdb"
    shutil.copy(db, copy)
    result["peak_rss_mb_before_repair"] = _peak_rss_mb()
    took, repaired = repaired_open(copy)
    result["peak_rss_mb_after_repair"] = _peak_rss_mb()
    copy.unlink()
    result["repaired_open_ms"] = took
    result["repaired"] = repaired
    result["repaired_open_to_open_ratio"] = round(took / statistics.median(opens), 1)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
