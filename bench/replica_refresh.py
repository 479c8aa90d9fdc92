"""What one small commit costs a process that reads the lake through its replica (issue 12).

    python bench/replica_refresh.py LAKE_SETTING [--rounds N] [--json FILE]

On an existing lake (e.g. the one ``bench --scale national --store ducklake:sqlite:…`` leaves in its workdir):
a Store reading through a replica (what the app opens) makes its first copy; then, ``--rounds`` times, another
Store (reading the lake directly, as the CLI or a second app process does) commits one village's correction
(``bench.scale.small_commit``) and the replica takes it in (``storage.cache_version``, what the next page run
calls), then the same for the undo of that batch. Each refresh is timed two ways in the same run, alternating:
taking in the commit's changes (``table_changes``, this version) and copying every touched table whole (the
previous version; the baseline). The replica's answers are compared with the lake's after each refresh.

The corrections and their undos are written to the lake as batches (labelled synthetic): run it on a benchmark
lake, never on real data.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale import machine, small_commit  # noqa: E402
from lawstats import lake, storage  # noqa: E402

TAKE_IN_CHANGES = lake._apply_changes  # this version; the baseline declines it, so touched tables are copied


def _copy_whole(*_args) -> bool:
    return False


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def _same(replica: storage.Store, direct: storage.Store) -> bool:
    """The replica's batches and current population equal the lake's (the tables a correction touches)."""
    query = "SELECT * FROM cur_population ORDER BY region_id, year"
    return (storage.list_batches(replica).equals(storage.list_batches(direct))
            and replica.query_df(query).equals(direct.query_df(query)))


def run(setting: str, rounds: int) -> dict:
    spec = lake.store_spec(setting)
    direct = storage.Store(spec, replica=False)
    start = time.perf_counter()
    replica = storage.Store(spec, replica=True)
    first_copy_ms = (time.perf_counter() - start) * 1000
    try:
        times: dict[str, list[float]] = {"changes": [], "whole_tables": []}
        same = True
        for n in range(rounds):
            for way in ("changes", "whole_tables") if n % 2 == 0 else ("whole_tables", "changes"):
                lake._apply_changes = _copy_whole if way == "whole_tables" else TAKE_IN_CHANGES
                batch_id = small_commit(direct)
                times[way].append(_timed(lambda: storage.cache_version(replica)))
                same &= _same(replica, direct)
                storage.undo_batch(direct, batch_id, user_name="bench")
                times[way].append(_timed(lambda: storage.cache_version(replica)))
                same &= _same(replica, direct)
    finally:
        lake._apply_changes = TAKE_IN_CHANGES
        replica.close()
        direct.close()
    p50 = {way: statistics.median(values) for way, values in times.items()}
    return {"store": spec.describe(), "rounds": rounds, "first_copy_ms": round(first_copy_ms, 1),
            "refresh_ms": {way: [round(v, 1) for v in values] for way, values in times.items()},
            "p50_ms": {way: round(v, 1) for way, v in p50.items()},
            "ratio_whole_over_changes": round(p50["whole_tables"] / p50["changes"], 1),
            "same_answer": same, "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", help="a lake setting, e.g. ducklake:sqlite:/tmp/nat/lake.sqlite")
    parser.add_argument("--rounds", type=int, default=4, help="commits (and undos) per way of refreshing")
    parser.add_argument("--json", help="write the result to this file")
    args = parser.parse_args()
    result = run(args.store, args.rounds)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
