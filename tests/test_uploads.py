"""The upload facade end to end on a real DuckDB file: inspect, preview, commit, history, undo, data as of a
batch, and the CLI commands that take the same path (``python -m lawstats import|history|undo|export|template``)."""

from __future__ import annotations

import pandas as pd
import pytest

from lawstats import cli, indicators, storage, summary, uploads
from lawstats.errors import InvalidFile, NotFound, ValidationFailed
from lawstats.registry import TABLES_BY_ID
from tests.files import make_files as mf


@pytest.fixture
def store(fresh_store):
    """The seed plus two synthetic villages under 西堡镇."""
    uploads.commit_upload(fresh_store, uploads.inspect_file(fresh_store, "regions.csv", mf.regions_csv()),
                          user_name="测试")
    return fresh_store


def population(store) -> pd.DataFrame:
    return storage.table_as_of(store, TABLES_BY_ID["population"]).set_index(["region", "year"])


# ---------------------------------------------------------------------------------------------------------
# Encodings, end to end


def test_encoding_matrix_gives_identical_data(store):
    prepared = {}
    for encoding in mf.ENCODINGS:
        upload = uploads.inspect_file(store, f"人口_{encoding}.csv", mf.population_csv(encoding))
        assert upload.ready and upload.table_id == "population"
        prepared[encoding] = upload.prepared.batch.rows["population"].drop(columns=["source"])
        assert upload.encoding == {"gbk": "gb18030"}.get(encoding, encoding)
    first = prepared["utf-8"]
    for encoding, rows in prepared.items():
        pd.testing.assert_frame_equal(rows.astype(object), first.astype(object), obj=encoding)
    assert first["registered_persons"].tolist() == [25218, 1200, 1000]
    assert first["resident_persons"].tolist() == [23971, 1100, 900]


@pytest.mark.every_store  # import on each store (tests/conftest.py)
def test_a_gbk_upload_lands_with_its_chinese_intact(store):
    upload = uploads.inspect_file(store, "人口.csv", mf.population_csv("gbk"))
    uploads.commit_upload(store, upload, user_name="张三")
    rows = population(store)
    assert rows.loc[("合成村甲", 2024), "source"] == "合成数据（仅供测试）"
    assert list(rows.loc[("合成村甲", 2024), "approx"]) == ["minority_persons"]
    assert pd.isna(rows.loc[("合成村乙", 2024), "minority_persons"])  # "—" is missing, not 0


# ---------------------------------------------------------------------------------------------------------
# Preview, commit, history, undo


def test_preview_lists_new_changed_and_unchanged_and_writes_nothing(store):
    version = storage.data_version(store)
    text = "地区,年份,户籍人口,常住人口\n西堡镇,2024,25218,24000\n西堡镇,2023,25100,23900\n"
    upload = uploads.inspect_file(store, "p.csv", text.encode())
    assert storage.data_version(store) == version
    preview = upload.preview["population"]
    assert (preview.new_count, preview.changed_count, preview.unchanged, preview.rows) == (1, 1, 0, 2)
    assert preview.changed.iloc[0].tolist() == ["西堡镇", 2024, "常住人口", "23,971", "24,000"]
    assert preview.new_rows["年份"].tolist() == [2023]
    moved = upload.indicator_changes.set_index(["indicator", "year"])
    assert moved.loc[("resident_persons", 2024), "change"] == pytest.approx(29)
    assert moved.loc[("resident_rate", 2024), "new"] == pytest.approx(24000 / 25218 * 100)
    assert ("registered_persons", 2024) not in moved.index  # unchanged values are not listed
    table = uploads.indicator_changes_table(upload, "en")
    assert {"Indicator", "Region", "Year", "Old value", "New value", "Change"} <= set(table.columns)


@pytest.mark.every_store  # import on each store (tests/conftest.py)
def test_preview_agrees_with_the_real_commit(store):
    text = "地区,年份,户籍户数,户籍人口,少数民族人口\n西堡镇,2024,7100,26000,170\n合成村甲,2024,300,1200,12\n"
    upload = uploads.inspect_file(store, "p.csv", text.encode())
    uploads.commit_upload(store, upload, user_name="测试")
    regions = storage.regions(store).set_index("name")["region_id"]
    for name in ("西堡镇", "合成村甲"):
        _, values, _ = summary.region_values(store, int(regions[name]))
        after = indicators.long_form(values).set_index(["indicator", "year"])["value"]
        previewed = upload.indicator_changes[upload.indicator_changes["region"] == name]
        for row in previewed.itertuples():
            assert after[(row.indicator, row.year)] == pytest.approx(row.new), row.indicator


def test_commit_records_who_when_file_hash_counts_and_note(store):
    data = mf.population_csv("gbk")
    upload = uploads.inspect_file(store, "人口.csv", data)
    batch_id = uploads.commit_upload(store, upload, user_name="张三", note="2024年报 第二版")
    last = uploads.history(store).iloc[0]
    assert last["batch_id"] == batch_id and last["kind"] == "import" and not last["undone"]
    assert (last["user_name"], last["file_name"], last["note"]) == ("张三", "人口.csv", "2024年报 第二版")
    assert last["sha256"] == storage.sha256_of(data)
    assert last["row_counts"] == {"population": 3} and last["rows"] == 3
    assert pd.notna(last["created_at"])
    assert uploads.inspect_file(store, "again.csv", data).duplicate_of == batch_id


def test_the_seed_load_is_a_batch_like_any_other(store):
    history = uploads.history(store)
    seed = history[history["batch_id"] == 1].iloc[0]
    assert seed["user_name"] == "seed" and seed["kind"] == "import"
    # batch 2 created villages under the seed's 西堡镇: undoing the seed takes it along (issue 9, item 1)
    uploads.undo(store, 1, user_name="测试", confirmed_dependents=[2])
    assert storage.table_as_of(store, TABLES_BY_ID["population"]).empty
    assert not uploads.data_as_of(store, 1, "population").empty  # still there as of batch 1


@pytest.mark.every_store  # import on each store (tests/conftest.py)
def test_undo_is_a_new_event_and_data_as_of_any_batch(store):
    before = population(store).loc[("西堡镇", 2024), "registered_persons"]
    upload = uploads.inspect_file(store, "p.csv", "地区,年份,户籍人口\n西堡镇,2024,26000\n".encode())
    batch_id = uploads.commit_upload(store, upload, user_name="张三")
    assert population(store).loc[("西堡镇", 2024), "registered_persons"] == 26000
    event = uploads.undo(store, batch_id, user_name="李四")
    assert event == batch_id + 1
    assert population(store).loc[("西堡镇", 2024), "registered_persons"] == before
    history = uploads.history(store)
    assert history["batch_id"].tolist()[:2] == [event, batch_id]  # newest first
    assert history.iloc[0]["kind"] == "undo" and history.iloc[0]["undoes"] == batch_id
    assert history.iloc[1]["undone"]
    assert storage.count_rows(store, TABLES_BY_ID["population"], current=False) == 2  # nothing deleted
    as_of = uploads.data_as_of(store, batch_id, "population")
    assert as_of.set_index("地区").loc["西堡镇", "户籍人口"] == 26000
    assert uploads.data_as_of(store, event, "population").set_index("地区").loc["西堡镇", "户籍人口"] == before
    with pytest.raises(NotFound):
        uploads.undo(store, batch_id, user_name="李四")
    with pytest.raises(NotFound):
        uploads.undo(store, event, user_name="李四")
    labelled = uploads.history_table(store, "zh")
    assert labelled["状态"].tolist()[:2] == [f"撤销第 {batch_id} 批", "已撤销"]


@pytest.mark.every_store  # import on each store (tests/conftest.py)
def test_commit_checks_again_when_the_store_changed_meanwhile(store):
    township = int(storage.regions(store).set_index("name").loc["西堡镇", "region_id"])
    text = "地区,年份,户籍人口\n合成村丙,2024,100\n".encode()
    first = uploads.inspect_file(store, "a.csv", text, new_region_parent=township)
    second = uploads.inspect_file(store, "b.csv", text, new_region_parent=township)
    uploads.commit_upload(store, first, user_name="甲")
    uploads.commit_upload(store, second, user_name="乙")
    regions = storage.regions(store)
    assert (regions["name"] == "合成村丙").sum() == 1  # the second commit found the region, not a twin


def test_data_as_of_regions_and_unknown_table(store):
    regions = uploads.data_as_of(store, 1, "regions")
    assert "合成村甲" not in set(regions["名称"]) and "西堡镇" in set(regions["名称"])
    assert "合成村甲" in set(uploads.data_as_of(store, 2, "regions")["名称"])
    with pytest.raises(Exception) as error:
        uploads.data_as_of(store, 1, "nope")
    assert getattr(error.value, "key", "") == "error.unknown_table"


@pytest.mark.every_store  # import on each store (tests/conftest.py)
def test_invalid_upload_raises_and_nothing_changes(store):
    version = storage.data_version(store)
    with pytest.raises(ValidationFailed):
        uploads.inspect_file(store, "p.csv", "地区,年份,户籍人口\n西堡镇,2024,很多\n".encode())
    with pytest.raises(InvalidFile):
        uploads.inspect_file(store, "p.xlsx", b"not a zip")
    assert storage.data_version(store) == version


@pytest.mark.every_store  # import on each store (tests/conftest.py)
def test_xlsx_upload_with_merged_header_and_total_row(store):
    upload = uploads.inspect_file(store, "各村.xlsx", mf.population_xlsx_merged())
    assert upload.sheet == "各村人口" and upload.sheets == ["填表说明", "各村人口"]
    assert ("notice.total_row_skipped", {"row": 7}) in upload.notices
    uploads.commit_upload(store, upload, user_name="测试")
    rows = population(store)
    assert rows.loc[("合成村甲", 2023), "registered_households"] == 290
    assert rows.loc[("合成村甲", 2024), "resident_persons"] == 1100


def test_parent_and_table_choices(store):
    parents = uploads.parent_choices(store)
    assert "青海省 / 西宁市 / 湟中区 / 西堡镇" in set(parents["path"])
    assert "village" not in set(parents["level"])
    assert [tid for tid, _ in uploads.table_choices("zh")][:2] == ["regions", "population"]


# ---------------------------------------------------------------------------------------------------------
# The command line: same code path


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "cli.duckdb")


def run(db, *args) -> int:
    return cli.main(["--db", db, *args])


def test_cli_import_valid_dry_run_and_invalid(tmp_path, db, capsys):
    good = tmp_path / "人口.csv"
    good.write_bytes("地区,年份,户籍人口\n西堡镇,2023,25000\n".encode("gbk"))
    assert run(db, "import", str(good), "--dry-run") == 0
    assert "2023" not in capsys.readouterr().err
    store = storage.Store(db)
    assert storage.data_version(store) == 1
    store.close()
    assert run(db, "import", str(good), "--note", "测试", "--user", "张三") == 0
    assert "第 2 批" in capsys.readouterr().out
    bad = tmp_path / "坏.csv"
    bad.write_bytes("地区,年份,户籍人口\n西堡镇,2023,abc\n西堡镇,1800,5\n".encode("utf-8"))
    assert run(db, "import", str(bad)) == 2
    err = capsys.readouterr().err
    assert "行,列,原始内容,问题,kind" in err and "not_a_number" in err and "bad_year" in err
    assert run(db, "history") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["2", "1"]
    assert "张三" in lines[0] and "测试" in lines[0]


def test_cli_folder_is_one_batch_with_regions_first(tmp_path, db, capsys):
    folder = tmp_path / "合成数据"
    folder.mkdir()
    (folder / "a_population.csv").write_bytes(mf.population_csv("utf-8"))
    (folder / "z_regions.csv").write_bytes(mf.regions_csv())
    assert run(db, "import", str(folder)) == 0
    store = storage.Store(db)
    history = uploads.history(store)
    assert len(history) == 2 and history.iloc[0]["row_counts"] == {"population": 3, "regions": 2}
    store.close()


def test_cli_unknown_regions_need_a_parent(tmp_path, db, capsys):
    path = tmp_path / "p.csv"
    path.write_bytes("地区,年份,户籍人口\n合成村丁,2024,100\n".encode())
    assert run(db, "import", str(path)) == 2
    err = capsys.readouterr().err
    assert "合成村丁" in err and "--create-regions-under" in err
    assert run(db, "import", str(path), "--create-regions-under", "西堡") == 0
    assert "合成村丁" in capsys.readouterr().out


def test_cli_undo_export_template(tmp_path, db, capsys):
    path = tmp_path / "p.csv"
    path.write_bytes("地区,年份,户籍人口\n西堡镇,2023,25000\n".encode())
    assert run(db, "import", str(path)) == 0
    assert run(db, "undo", "2") == 0
    assert run(db, "undo", "2") == 2  # already undone: a clear error
    capsys.readouterr()
    for fmt, pattern in (("xlsx", "*.xlsx"), ("csv", "*.csv"), ("parquet", "*.parquet")):
        out = tmp_path / fmt
        assert run(db, "export", str(out), "--format", fmt) == 0
        assert list(out.glob(pattern))
    assert {p.name for p in (tmp_path / "csv").iterdir()} == {f"{t}.csv" for t in ["regions", *TABLES_BY_ID]}
    template = tmp_path / "t.xlsx"
    assert run(db, "template", "人口", "--format", "xlsx", "--out", str(template)) == 0
    assert template.read_bytes().startswith(b"PK")
    assert run(db, "template", "population", "--format", "csv", "--out", str(tmp_path / "t.csv")) == 0
    assert (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert run(db, "template", "没有", "--format", "csv") == 2


# ---------------------------------------------------------------------------------------------------------
# The region index: built once per version of the regions, not per batch (a national import of six files)


@pytest.mark.every_store  # the version is read from the batches table of each store
def test_the_region_index_is_kept_across_figures_batches_and_rebuilt_when_the_regions_change(fresh_store):
    def commit(name: str, data: bytes) -> int:
        return uploads.commit_upload(fresh_store, uploads.inspect_file(fresh_store, name, data), user_name="测试")

    seed_index = uploads.region_index(fresh_store)
    regions = commit("r.csv", mf.regions_csv())
    index = uploads.region_index(fresh_store)
    assert index is not seed_index
    assert len(index.parent) == len(seed_index.parent) + 2  # the two villages are found by name now
    figures = commit("p.csv", mf.population_csv())
    assert uploads.region_index(fresh_store) is index  # a figures batch leaves the regions as they were
    storage.undo_batch(fresh_store, figures)
    assert uploads.region_index(fresh_store) is index  # and so does its undo
    storage.undo_batch(fresh_store, regions)
    undone = uploads.region_index(fresh_store)
    assert undone is not index
    assert (undone.parent, undone.by_code, undone.by_name) == (seed_index.parent, seed_index.by_code,
                                                               seed_index.by_name)
