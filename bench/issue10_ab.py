"""Issue 10 A/B: the queries the stored inputs and the array-based indicator table changed, and a one-village
commit and its undo, on a national DuckDB file, in one process. Run it from each version's checkout, with
PYTHONPATH pointing there (an editable install would otherwise import the other version), alternating:

    PYTHONPATH=/work/prev python bench/issue10_ab.py /tmp/ab_old.duckdb old
    PYTHONPATH=/work/main python bench/issue10_ab.py /tmp/ab_new.duckdb new

Each version on its own copy of the national file (``lawstats bench --scale national --workdir DIR`` makes one).
Prints one JSON line: each measurement's times in ms, sorted. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import json
import sys
import time

from bench.scale import pick_regions, small_commit
from lawstats import storage, summary

QUERY_REPEATS = 8
COMMITS = 2


def timed(function, repeats: int) -> list[float]:
    function()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(round((time.perf_counter() - start) * 1000, 1))
    return sorted(times)


def main(db: str, label: str) -> dict:
    start = time.perf_counter()
    store = storage.Store(db)
    out = {"label": label, "open_ms": round((time.perf_counter() - start) * 1000)}
    regions = pick_regions(store)
    year = max(storage.effective_years(store, regions["township"]))
    out["compare.all_townships/country"] = timed(
        lambda: storage.compare_inputs(store, storage.ROOT_ID, "township", [year]), QUERY_REPEATS)
    out["compare.peers/county"] = timed(
        lambda: storage.compare_inputs(store, regions["county"], "township", [year]), QUERY_REPEATS)
    for level, region_id in regions.items():
        latest = max(storage.effective_years(store, region_id))
        out[f"summary.indicator_table/{level}"] = timed(
            lambda: summary.indicator_table(store, region_id, latest), QUERY_REPEATS)
    commits, undos = [], []
    for _ in range(COMMITS):
        start = time.perf_counter()
        batch = small_commit(store)
        commits.append(round((time.perf_counter() - start) * 1000))
        start = time.perf_counter()
        storage.undo_batch(store, batch, user_name="bench")
        undos.append(round((time.perf_counter() - start) * 1000))
    out["commit.one_village"], out["undo.one_village"] = commits, undos
    store.close()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
