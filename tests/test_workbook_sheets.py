"""A workbook with a regions sheet and a data sheet imports in one batch: every sheet matched to its table and
reported per sheet; a sheet that matches no table is listed, never dropped unseen (library, CLI, data page)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from lawstats import cli, exchange, storage, uploads
from lawstats.errors import ValidationFailed
from lawstats.i18n import t
from lawstats.registry import TABLES
from tests.test_data_page import (_frame_runs_every_time, analyst, button, frames, log_in,  # noqa: F401
                                  open_data_page, texts, users_file)


def workbook(population_rows=(("合成村甲", 2024, 1200), ("合成村乙", 2024, 1000))) -> bytes:
    book = Workbook()
    notes = book.active
    notes.title = "填表说明"
    notes.append(["本工作簿为合成数据（仅供测试）"])
    regions = book.create_sheet("地区")
    for row in (["名称", "级别", "上级"], ["合成村甲", "村", "西堡镇"], ["合成村乙", "村", "西堡镇"]):
        regions.append(row)
    people = book.create_sheet("人口")
    people.append(["地区", "年份", "户籍人口"])
    for row in population_rows:
        people.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_every_sheet_is_matched_to_its_table_in_one_batch(fresh_store):
    upload = uploads.inspect_file(fresh_store, "合成.xlsx", workbook())
    assert upload.ready and upload.sheet is None
    assert upload.parts == [("地区", "regions", 2), ("人口", "population", 2)]
    assert upload.unmatched_sheets == ["填表说明"]
    assert any("填表说明" in text for text in upload.notice_texts("zh"))
    batch = uploads.commit_upload(fresh_store, upload, user_name="测试")
    history = uploads.history(fresh_store)
    assert history.iloc[0]["batch_id"] == batch
    assert history.iloc[0]["row_counts"] == {"population": 2, "regions": 2}


def test_a_problem_names_its_sheet(fresh_store):
    with pytest.raises(ValidationFailed) as error:
        uploads.inspect_file(fresh_store, "合成.xlsx", workbook((("合成村甲", 2024, "很多"),)))
    assert error.value.details["file"].tolist() == ["合成.xlsx［人口］"]


def test_a_chosen_sheet_is_read_alone(fresh_store):
    upload = uploads.inspect_file(fresh_store, "合成.xlsx", workbook(), sheet="地区")
    assert upload.ready and upload.tables == ["regions"] and upload.sheet == "地区"


def test_the_exported_workbook_imports_back_whole_and_unchanged(fresh_store):
    upload = uploads.inspect_file(fresh_store, "export.xlsx", exchange.export_xlsx(fresh_store, "zh"))
    assert upload.ready and upload.unmatched_sheets == []
    assert [table_id for _, table_id, _ in upload.parts] == ["regions", *[table.id for table in TABLES]]
    assert all(p.changed_count == 0 and p.new_count == 0 for p in upload.preview.values())


def test_the_cli_imports_the_workbook_once_and_reports_each_sheet(tmp_path, capsys):
    db, path = str(tmp_path / "cli.duckdb"), tmp_path / "合成.xlsx"
    path.write_bytes(workbook())
    assert cli.main(["--db", db, "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "工作表“地区”→地区：2 行" in out and "工作表“人口”→人口：2 行" in out and "填表说明" in out
    store = storage.Store(db)
    assert len(uploads.history(store)) == 2  # the seed and this one batch
    store.close()


def test_the_data_page_imports_every_sheet_and_lists_the_others(app_db, analyst, _frame_runs_every_time):
    at = open_data_page()
    log_in(at)
    at.file_uploader[0].set_value(("合成.xlsx", workbook(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    info = texts(at.info)
    assert "读取了 2 个工作表" in info and "工作表“人口”→人口：2 行" in info and "填表说明" in info
    sheet = next(s for s in at.selectbox if s.label == t("data.sheet", "zh"))
    assert sheet.format_func(None) == t("data.sheet_all", "zh")
    button(at, "data.commit").click().run()
    assert not at.exception, at.exception
    store = storage.Store(app_db)
    assert uploads.history(store).iloc[0]["row_counts"] == {"population": 2, "regions": 2}
    store.close()
