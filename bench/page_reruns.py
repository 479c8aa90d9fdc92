"""Warm page reruns of one checkout on one national database, for comparing versions on the same machine:
each view (the bench's ``PageView``: the frame and a page, in AppTest) is run once to fill the caches, then
``REPEATS`` times. Run it from each version's checkout, with PYTHONPATH pointing there (an editable install
would otherwise import the other version), each on its own copy of a database that version imported:

    PYTHONPATH=/tmp/old python bench/page_reruns.py /tmp/old.duckdb /tmp/reruns_old.json
    PYTHONPATH=/work/main python bench/page_reruns.py /tmp/new.duckdb /tmp/reruns_new.json

Prints and writes p50 / p95 ms per view. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import statistics
import sys

REPEATS = 7


def main(db: str, out: str, pages: list[str] | None = None) -> dict:
    os.environ["LAWSTATS_DB"] = os.environ["LAWSTATS_STORE"] = db  # before the app's modules read them
    from bench import scale
    from lawstats import storage

    store = storage.Store(db)
    regions = scale.pick_regions(store)
    store.close()
    results = {}
    # the views of scale._measure_pages, written out here: the script also runs other versions' bench.scale
    for page in pages or scale.PAGES:
        for label in ("township", "county", "country") if page in ("overview", "compare") else ("township",):
            view = scale.PageView(page, regions[label])
            view.run()  # the first view fills the caches
            times = sorted(view.run() for _ in range(REPEATS))
            p50, p95 = round(statistics.median(times), 1), round(scale._percentile(times, 95), 1)
            results[f"{page}/{label}"] = [p50, p95]
            print(f"{page}/{label}: {p50:.0f} / {p95:.0f} ms", flush=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3].split(",") if len(sys.argv) > 3 else None)
