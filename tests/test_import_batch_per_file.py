"""``python -m lawstats import DIR --batch-per-file``: a synthetic county folder as one batch per file
(regions first), each undoable on its own, with the same current data as the one-batch import."""

from __future__ import annotations

import pandas as pd

from lawstats import cli, storage, synth
from lawstats.registry import TABLES

YEARS = [2023, 2024]


def current_data(db) -> dict[str, pd.DataFrame]:
    """Every current table (regions too), without batch ids, in a stable order."""
    store = storage.Store(db)
    try:
        names = ["cur_regions"] + [storage.current_table(t) for t in TABLES]
        frames = {}
        for name in names:
            frame = store.query_df(f"SELECT * FROM {name}")
            frame = frame.drop(columns=[c for c in frame.columns if "batch" in c])
            frames[name] = frame.sort_values(list(frame.columns)[:3]).reset_index(drop=True)
        return frames
    finally:
        store.close()


def imported_batches(db) -> pd.DataFrame:
    store = storage.Store(db)
    try:
        batches = storage.list_batches(store)
    finally:
        store.close()
    return batches[batches["kind"] == "import"].sort_values("batch_id")


def test_batch_per_file_gives_one_batch_each_and_the_same_data(tmp_path):
    data = tmp_path / "synth"
    synth.generate(data, "county", YEARS, seed=3)
    files = synth.data_files(data)
    one, per_file = tmp_path / "one.duckdb", tmp_path / "per_file.duckdb"
    assert cli.main(["--db", str(one), "import", str(data)]) == 0
    assert cli.main(["--db", str(per_file), "import", str(data), "--batch-per-file"]) == 0

    one_batch, batches = imported_batches(one), imported_batches(per_file)
    assert one_batch.iloc[-1]["file_name"] == ", ".join(sorted(p.name for p in files))  # the folder, one batch
    assert len(batches) == len(one_batch) - 1 + len(files)  # the same seed batches, then one per file
    tables = sorted(p.name for p in files if p.name != "regions.csv")
    assert list(batches["file_name"].tail(len(files))) == ["regions.csv", *tables]  # regions first, then by name

    ours, theirs = current_data(per_file), current_data(one)
    assert ours.keys() == theirs.keys()
    # Known difference: a regions file alone has no source column, so its batch's regions are not flagged
    # synthetic (in one batch they take the flag of the synthetic table rows). Everything else is equal.
    assert not ours["cur_regions"]["synthetic"].any() and theirs["cur_regions"]["synthetic"].any()
    ours["cur_regions"] = ours["cur_regions"].drop(columns="synthetic")
    theirs["cur_regions"] = theirs["cur_regions"].drop(columns="synthetic")
    for name in ours:
        pd.testing.assert_frame_equal(ours[name], theirs[name], check_like=True, obj=name)
    assert len(ours["cur_regions"]) > 1 and sum(len(f) for f in ours.values()) > 1000


def test_each_file_batch_is_undone_alone(tmp_path):
    data = tmp_path / "synth"
    synth.generate(data, "county", YEARS, seed=3)
    db = tmp_path / "per_file.duckdb"
    assert cli.main(["--db", str(db), "import", str(data), "--batch-per-file"]) == 0
    batches = imported_batches(db)
    last = batches.iloc[-1]
    table = next(t for t in TABLES if last["file_name"] == f"{t.id}.csv")
    before = current_data(db)
    assert cli.main(["--db", str(db), "undo", str(int(last["batch_id"]))]) == 0
    after = current_data(db)
    file_rows = len(pd.read_csv(data / last["file_name"], encoding="utf-8-sig"))
    name = storage.current_table(table)
    assert file_rows > 0 and len(before[name]) - len(after[name]) == file_rows  # that file's rows alone went
    for other in before:
        if other != name:
            pd.testing.assert_frame_equal(after[other], before[other], obj=other)
