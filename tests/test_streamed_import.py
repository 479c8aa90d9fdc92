"""A large CSV is read and validated a chunk of rows at a time (and, named on the command line, streamed from
disk). Every chunk boundary must be invisible: the same texts and row numbers as one read, repeats found
across chunks, problems named by the row Excel shows, counts added up, nothing written on failure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lawstats import cli, importer, reader, storage, synth, uploads
from lawstats.errors import InvalidFile, ValidationFailed

HEADER = "地区,年份,户籍人口,常住人口\n"


def village_rows(count: int, start: int = 0) -> str:
    return "".join(f"村{i:03d},2024,{1000 + i},{900 + i}\n" for i in range(start, start + count))


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 7 rows, pyarrow blocks of ~100 bytes and csv-module blocks of 3 rows: many boundaries."""
    monkeypatch.setattr(reader, "CHUNK_ROWS", 7)
    monkeypatch.setattr(reader, "ARROW_BLOCK_BYTES", 100)
    monkeypatch.setattr(reader, "EXACT_BLOCK_ROWS", 3)


@pytest.fixture
def streamed(monkeypatch, small_chunks):
    """Every upload counts as large: its CSV files are read by chunks."""
    monkeypatch.setattr(uploads, "KEEP_TEXTS_BYTES", 0)
    monkeypatch.setattr(uploads, "HEAD_BYTES", 120)


def read_both(data: bytes, tmp_path: Path) -> tuple[reader.RawTable, list[reader.RawTable], list[reader.RawTable]]:
    whole = reader.read_csv_bytes(data, is_header=importer.header_key)
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    from_bytes = list(reader.iter_csv_chunks(data, is_header=importer.header_key))
    from_disk = list(reader.iter_csv_chunks(path, is_header=importer.header_key))
    return whole, from_bytes, from_disk


CASES = {
    "plain": (HEADER + village_rows(30)).encode(),
    "utf-8 with BOM": ("\ufeff" + HEADER + village_rows(30)).encode(),
    "GBK": (HEADER + village_rows(30)).encode("gbk"),
    "title row above the header": ("西堡镇人口统计表\n" + HEADER + village_rows(30)).encode(),
    "blank line after the first blocks": (HEADER + village_rows(20) + "\n" + village_rows(10, 20)).encode(),
    "quoted line break and 1,234": (HEADER + village_rows(12) + '"村\n999",2024,"1,234",900\n'
                                    + village_rows(12, 12)).encode(),
    "short rows and a column without header": ("地区,年份,户籍人口,\n" + "村1,2024,5\n" * 3
                                               + "村2,2024,6,\n" * 9 + "村3,2024,7,备注\n").encode(),
}


@pytest.mark.parametrize("name", list(CASES))
def test_chunks_read_as_one_read_does(name, tmp_path, small_chunks):
    whole, from_bytes, from_disk = read_both(CASES[name], tmp_path)
    for chunks in (from_bytes, from_disk):
        assert len(chunks) > 1
        joined = pd.concat([c.frame for c in chunks], ignore_index=True)
        joined = joined[[c for c in joined.columns if c in whole.frame.columns]].fillna("")
        pd.testing.assert_frame_equal(joined.astype(object), whole.frame.reset_index(drop=True).astype(object))
        assert set(pd.concat([c.frame for c in chunks]).columns) == set(whole.frame.columns)
        # each chunk starts on the row that follows the last row of the one before
        starts = [c.first_data_row for c in chunks]
        sizes = [len(c.frame) for c in chunks]
        assert starts[0] == whole.first_data_row
        assert starts[1:] == [s + n for s, n in zip(starts, sizes)][:-1]
        assert chunks[0].notices == whole.notices and chunks[0].encoding == whole.encoding


def test_a_row_too_long_far_down_is_named_as_in_one_read(tmp_path, small_chunks):
    data = (HEADER + village_rows(25) + "村x,2024,5,9,多出来的\n" + village_rows(5, 25)).encode()
    with pytest.raises(InvalidFile) as whole:
        reader.read_csv_bytes(data, is_header=importer.header_key)
    with pytest.raises(InvalidFile) as chunked:
        list(reader.iter_csv_chunks(data, is_header=importer.header_key))
    assert whole.value.params == chunked.value.params == {"row": 27, "width": 4}


def test_a_binary_file_on_disk_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InvalidFile) as caught:
        list(reader.iter_csv_chunks(path))
    assert caught.value.key == "error.not_text"


def _problems(store, data: bytes, path: Path | None = None) -> pd.DataFrame:
    source = data if path is None else path
    with pytest.raises(ValidationFailed) as caught:
        uploads.inspect_files(store, [("人口.csv", source)], with_preview=False)
    return caught.value.details


def test_a_repeat_in_a_later_chunk_names_the_first_row(empty_store, tmp_path, streamed, monkeypatch):
    store = empty_store
    regions = "名称,级别,上级\n合成县,县,\n" + "".join(f"村{i:03d},村,合成县\n" for i in range(40))
    uploads.commit_upload(store, uploads.inspect_file(store, "regions.csv", regions.encode()), user_name="t")
    data = (HEADER + village_rows(30) + "村003,2024,7,7\n" + village_rows(5, 30)).encode()
    path = tmp_path / "人口.csv"
    path.write_bytes(data)
    version = storage.data_version(store)
    chunked = _problems(store, data, path)
    repeat = chunked[chunked["kind"].eq("duplicate_key")]
    assert repeat[["row", "value", "detail"]].values.tolist() == [[32, "村003", "5"]]
    monkeypatch.setattr(uploads, "KEEP_TEXTS_BYTES", 2**40)  # the same file read whole
    whole = _problems(store, data)
    pd.testing.assert_frame_equal(chunked, whole)
    assert storage.data_version(store) == version


def test_problems_in_many_chunks_are_all_listed_with_their_rows(empty_store, tmp_path, streamed):
    store = empty_store
    regions = "名称,级别,上级\n合成县,县,\n" + "".join(f"村{i:03d},村,合成县\n" for i in range(40))
    uploads.commit_upload(store, uploads.inspect_file(store, "regions.csv", regions.encode()), user_name="t")
    lines = (HEADER + village_rows(40)).splitlines(keepends=True)
    lines[4] = lines[4].replace(",2024,", ",二〇二四,")   # Excel row 5, first chunk
    lines[35] = lines[35].replace(",1034,", ",一千多,")      # Excel row 36, a late chunk
    lines[20] = lines[20].replace("村019", "不存在的村")    # Excel row 21
    path = tmp_path / "人口.csv"
    path.write_text("".join(lines), encoding="utf-8")
    details = _problems(store, b"", path)
    found = details[["row", "kind"]].values.tolist()
    assert [5, "bad_year"] in found and [21, "unknown_region"] in found and [36, "not_a_number"] in found
    assert details["row"].is_monotonic_increasing


def test_a_synthetic_county_by_chunks_is_the_same_batch(empty_store, tmp_path, monkeypatch):
    folder = tmp_path / "county"
    synth.generate(folder, "county", [2023, 2024], seed=4)
    files = [(p.name, p) for p in synth.data_files(folder)]
    whole = uploads.inspect_files(empty_store, files, with_preview=False)
    monkeypatch.setattr(uploads, "KEEP_TEXTS_BYTES", 0)
    monkeypatch.setattr(uploads, "HEAD_BYTES", 600)
    monkeypatch.setattr(reader, "CHUNK_ROWS", 97)
    monkeypatch.setattr(reader, "ARROW_BLOCK_BYTES", 4096)
    read_whole = []
    real_read = uploads._read
    monkeypatch.setattr(uploads, "_read", lambda name, *args: read_whole.append(name) or real_read(name, *args))
    chunked = uploads.inspect_files(empty_store, files, with_preview=False)
    assert read_whole == ["regions.csv"]  # the data files came from disk a chunk at a time
    assert chunked.ready and chunked.row_count == whole.row_count > 0
    assert chunked.notices == whole.notices and chunked.sha256 == whole.sha256
    for tid, frame in whole.prepared.batch.rows.items():
        pd.testing.assert_frame_equal(chunked.prepared.batch.rows[tid].astype(object), frame.astype(object), obj=tid)


def test_blank_rows_across_chunks_are_counted_once(empty_store, tmp_path, streamed):
    store = empty_store
    regions = "名称,级别,上级\n合成县,县,\n" + "".join(f"村{i:03d},村,合成县\n" for i in range(40))
    uploads.commit_upload(store, uploads.inspect_file(store, "regions.csv", regions.encode()), user_name="t")
    text = HEADER + village_rows(6) + ",,,\n" * 4 + village_rows(20, 6) + ",,,\n" * 3  # trailing ones: not counted
    path = tmp_path / "人口.csv"
    path.write_text(text, encoding="utf-8")
    upload = uploads.inspect_files(store, [("人口.csv", path)], with_preview=False)
    assert ("notice.blank_rows_skipped", {"count": 4}) in upload.notices
    assert upload.row_count == 26


def test_cli_imports_into_an_empty_database_and_records_the_source(tmp_path, capsys):
    folder = tmp_path / "county"
    synth.generate(folder, "county", [2024], seed=2)
    db = tmp_path / "synthetic.duckdb"
    code = cli.main(["--db", str(db), "--no-seed", "import", str(folder), "--batch-per-file",
                     "--source", synth.SYNTHETIC_SOURCE])
    assert code == 0, capsys.readouterr().err
    store = storage.Store(db)
    try:
        batches = storage.list_batches(store)
        names = store.query_df("SELECT name FROM cur_regions")["name"]
    finally:
        store.close()
    assert len(batches) == len(synth.data_files(folder))  # no default-data batch before them
    assert batches["synthetic"].all() and batches["source"].eq(synth.SYNTHETIC_SOURCE).all()
    assert names.str.startswith("合成").all()
