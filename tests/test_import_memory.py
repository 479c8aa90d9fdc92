"""Large uploads take the low-memory path: each CSV is read when its turn comes and its texts are dropped once
parsed. The batch, the problems (rows as Excel counts them) and the all-or-nothing rule must be the same as on
the ordinary path; only a commit after the store changed asks for a fresh inspection."""

from __future__ import annotations

import pandas as pd
import pytest

from lawstats import importer, storage, synth, uploads
from lawstats.errors import LawstatsError, ValidationFailed


@pytest.fixture(scope="module")
def county_files(tmp_path_factory) -> list[tuple[str, bytes]]:
    folder = tmp_path_factory.mktemp("county")
    synth.generate(folder, "county", [2023, 2024], seed=5)
    return [(p.name, p.read_bytes()) for p in synth.data_files(folder)]


@pytest.fixture
def low_memory(monkeypatch):
    """Every upload counts as large, and a "head" is a few hundred bytes, so files really are deferred."""
    monkeypatch.setattr(uploads, "KEEP_TEXTS_BYTES", 0)
    monkeypatch.setattr(uploads, "HEAD_BYTES", 600)


def _rows(upload) -> dict[str, pd.DataFrame]:
    return {tid: frame.astype(object) for tid, frame in upload.prepared.batch.rows.items()}


def test_low_memory_path_gives_the_same_batch(empty_store, county_files, monkeypatch):
    ordinary = uploads.inspect_files(empty_store, county_files, with_preview=False)
    assert ordinary.files  # small uploads keep their texts
    monkeypatch.setattr(uploads, "KEEP_TEXTS_BYTES", 0)
    monkeypatch.setattr(uploads, "HEAD_BYTES", 600)
    low = uploads.inspect_files(empty_store, county_files, with_preview=False)
    assert low.ready and low.files == []
    assert low.row_count == ordinary.row_count > 0
    assert sorted(low.tables) == sorted(ordinary.tables)
    assert low.new_regions == ordinary.new_regions
    for tid, frame in _rows(ordinary).items():
        pd.testing.assert_frame_equal(_rows(low)[tid], frame, obj=tid)
    batch_id = uploads.commit_upload(empty_store, low, user_name="测试")
    counts = uploads.history(empty_store).set_index("batch_id").loc[batch_id, "row_counts"]
    assert counts == uploads.batch_row_counts(ordinary)


def test_deferred_files_are_read_only_when_parsed(county_files, low_memory):
    name, data = next((n, d) for n, d in county_files if n == "population.csv")
    raw = uploads._deferred(name, data, None, None, len(data))
    assert isinstance(raw, importer.DeferredTable)
    assert len(raw.frame) < data.count(b"\n") - 1  # only the head was read
    assert len(raw.load().frame) == data.count(b"\n") - 1


def test_problems_keep_their_excel_rows_and_nothing_is_written(empty_store, county_files, low_memory):
    files = dict(county_files)
    lines = files["population.csv"].decode("utf-8").splitlines(keepends=True)
    last = len(lines)  # the Excel row of the last line (row 1 is the header)
    cells = lines[-1].split(",")
    cells[[h.strip('\ufeff"') for h in lines[0].split(",")].index("年份")] = "二〇二四x"  # a bad year far below the head that was read first
    lines[-1] = ",".join(cells)
    lines.append(lines[2])  # the row of Excel row 3 again: a duplicate key across the whole file
    files["population.csv"] = "".join(lines).encode("utf-8")
    version = storage.data_version(empty_store)
    with pytest.raises(ValidationFailed) as caught:
        uploads.inspect_files(empty_store, list(files.items()), with_preview=False)
    details = caught.value.details
    assert (details["kind"].eq("bad_year") & details["row"].eq(last)).any()
    duplicate = details[details["kind"].eq("duplicate_key")]
    assert set(duplicate["row"]) >= {last + 1}
    assert storage.data_version(empty_store) == version


def test_a_commit_after_the_store_changed_asks_to_inspect_again(fresh_store, county_files, low_memory):
    upload = uploads.inspect_files(fresh_store, county_files, with_preview=False)
    other = uploads.inspect_file(fresh_store, "人口.csv", "地区,年份,户籍人口\n西堡镇,2024,25219\n".encode())
    uploads.commit_upload(fresh_store, other, user_name="李四")
    version = storage.data_version(fresh_store)
    with pytest.raises(LawstatsError) as caught:
        uploads.commit_upload(fresh_store, upload, user_name="张三")
    assert caught.value.key == "error.upload_stale"
    assert storage.data_version(fresh_store) == version
