"""Templates and exports: headers from the registry, the example row, round trips through the importer, and
the formula guard in CSV and XLSX."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from lawstats import exchange, storage, uploads
from lawstats.errors import InvalidFile
from lawstats.registry import TABLES, TABLES_BY_ID

TABLE_IDS = [t.id for t in TABLES]


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def unchanged(upload) -> bool:
    return all(p.new_count == 0 and p.changed_count == 0 and p.unchanged == p.rows for p in upload.preview.values())


# ---------------------------------------------------------------------------------------------------------
# Templates


@pytest.mark.parametrize("table_id", TABLE_IDS)
def test_csv_template_has_registry_headers_and_a_marked_example_row(table_id):
    data = exchange.template_csv(table_id)
    assert data.startswith(b"\xef\xbb\xbf")
    frame = read_csv(data)
    table = TABLES_BY_ID[table_id]
    assert list(frame.columns) == exchange.table_headers(table)
    assert all(c.zh in " ".join(frame.columns) for c in table.columns)
    assert len(frame) == 1 and frame.iloc[0, 0] == "示例：西堡镇"
    assert frame.iloc[0, 1] == "2024"


def test_english_template_headers_are_recognised_too(fresh_store):
    frame = read_csv(exchange.template_csv("land", "en"))
    assert list(frame.columns)[:4] == ["Region", "Year", "Cultivated land (mu)", "Forest land (mu)"]
    assert frame.iloc[0, 0].startswith("Example: ")
    frame.loc[1] = ["西堡镇", "2024", "43695", "58670.24", "", ""]
    upload = uploads.inspect_file(fresh_store, "land.csv", exchange.to_csv_bytes(frame))
    assert unchanged(upload) and upload.preview["land"].rows == 1


def test_untouched_template_imports_nothing(fresh_store):
    with pytest.raises(InvalidFile) as error:
        uploads.inspect_file(fresh_store, "t.csv", exchange.template_csv("population"))
    assert error.value.key == "error.no_rows"


@pytest.mark.parametrize("table_id", TABLE_IDS)
def test_csv_template_filled_with_the_data_imports_back_unchanged(fresh_store, table_id):
    template = read_csv(exchange.template_csv(table_id))
    data = exchange.current_frame(fresh_store, table_id)[list(template.columns)].astype(object)
    filled = pd.concat([template, data.fillna("")], ignore_index=True)
    upload = uploads.inspect_file(fresh_store, "filled.csv", exchange.to_csv_bytes(filled))
    assert ("notice.example_row_skipped", {"row": 2}) in upload.notices
    assert upload.table_id == table_id and unchanged(upload)
    assert upload.preview[table_id].rows == len(data)


@pytest.mark.parametrize("table_id", TABLE_IDS)
def test_xlsx_template_filled_in_excel_imports_back_unchanged(fresh_store, table_id):
    workbook = openpyxl.load_workbook(io.BytesIO(exchange.template_xlsx(table_id)))
    assert workbook.sheetnames == ["数据", "说明"]
    sheet = workbook["数据"]
    assert sheet["A2"].value == "示例：西堡镇" and sheet["A2"].font.i
    for row in exchange.current_frame(fresh_store, table_id).itertuples(index=False):
        by_header = dict(zip(exchange.current_frame(fresh_store, table_id).columns, row))
        sheet.append([_plain(by_header.get(cell.value)) for cell in sheet[1]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = uploads.inspect_file(fresh_store, "filled.xlsx", buffer.getvalue())
    assert upload.sheet == "数据" and unchanged(upload)


def _plain(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def test_xlsx_template_explains_every_column():
    workbook = openpyxl.load_workbook(io.BytesIO(exchange.template_xlsx("land")))
    rows = list(workbook["说明"].values)
    assert rows[0] == ("列名", "英文标识", "单位", "类型", "取值范围", "也可写作", "含义")
    by_id = {r[1]: r for r in rows[1:] if r and r[1]}
    cultivated = by_id["cultivated_area"]
    assert cultivated[0] == "耕地面积（亩）" and cultivated[2] == "亩" and "公顷" in cultivated[3]
    assert cultivated[4] == "≥ 0" and "耕地" in cultivated[5] and "15" in cultivated[6]
    assert set(by_id) == {"region", "year", "cultivated_area", "forest_area", "source", "section"}


def test_regions_template_and_unknown_table():
    frame = read_csv(exchange.template_csv("regions"))
    assert list(frame.columns) == ["名称", "级别", "上级", "统计用区划代码"]
    assert frame.iloc[0].tolist()[:3] == ["示例：西堡镇", "乡镇（街道）", "湟中区"]
    with pytest.raises(Exception) as error:
        exchange.template_csv("nope")
    assert error.value.key == "error.unknown_table"


# ---------------------------------------------------------------------------------------------------------
# Exports


@pytest.mark.every_store  # the export on each store (tests/conftest.py)
def test_export_csv_round_trips_every_table(fresh_store):
    for table_id in TABLE_IDS:
        data = exchange.export_csv(fresh_store, table_id)
        assert data.startswith(b"\xef\xbb\xbf")
        upload = uploads.inspect_file(fresh_store, f"{table_id}.csv", data)
        assert upload.table_id == table_id and unchanged(upload), table_id
    regions = read_csv(exchange.export_csv(fresh_store, "regions"))
    assert regions["名称"].tolist() == ["青海省", "西宁市", "湟中区", "西堡镇"]


def test_export_xlsx_has_a_sheet_per_table_and_round_trips(fresh_store):
    data = exchange.export_xlsx(fresh_store)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["地区"] + [t.zh for t in TABLES]
    header = [c.value for c in workbook["人口"][1]]
    assert header[:4] == ["地区", "上级地区", "统计用区划代码", "年份"] and "户籍人口" in header
    assert workbook["人口"]["A2"].value == "西堡镇"
    for table in TABLES:
        upload = uploads.inspect_file(fresh_store, "export.xlsx", data, sheet=table.zh)
        assert upload.table_id == table.id and unchanged(upload), table.id
    with pytest.raises(InvalidFile) as error:  # the regions are all known: nothing to import
        uploads.inspect_file(fresh_store, "export.xlsx", data, sheet="地区")
    assert error.value.key == "error.nothing_new"


def test_export_parquet_holds_the_current_rows(fresh_store, tmp_path):
    written = exchange.export_parquet(fresh_store, tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{t}.parquet" for t in ["regions", *TABLE_IDS])
    for table in TABLES:
        back = pd.read_parquet(tmp_path / f"{table.id}.parquet")
        expected = storage.table_as_of(fresh_store, table)
        assert len(back) == len(expected)
        for column in table.columns:
            if column.numeric:
                pd.testing.assert_series_equal(back[column.id].astype("float64"),
                                               expected[column.id].astype("float64"), check_names=False)
    training = pd.read_parquet(tmp_path / "training.parquet")
    assert set(training["programme"]) == {"镇村干部集中学法", "法宣在线学习", "法宣在线考试", "学习强国", "青海干部教育网"}


def test_approximate_values_round_trip_with_their_flag(fresh_store):
    upload = uploads.inspect_file(fresh_store, "p.csv", "地区,年份,户籍人口,常住人口\n西堡镇,2023,约25000,23000\n".encode())
    uploads.commit_upload(fresh_store, upload, user_name="测试")
    exported = read_csv(exchange.export_csv(fresh_store, "population"))
    assert exported.set_index("年份").loc["2023", "户籍人口"] == "约25000"
    again = uploads.inspect_file(fresh_store, "p.csv", exchange.export_csv(fresh_store, "population"))
    assert unchanged(again)
    rows = again.prepared.batch.rows["population"]
    assert list(rows.loc[rows["year"] == 2023, "approx"].iloc[0]) == ["registered_persons"]


# ---------------------------------------------------------------------------------------------------------
# The formula guard


DANGEROUS = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_guard_cell_prefixes_only_dangerous_text():
    assert [exchange.guard_cell(v) for v in DANGEROUS] == ["'" + v for v in DANGEROUS]
    assert [exchange.guard_cell(v) for v in ("西堡镇", "1,234", 5, None, -3)] == ["西堡镇", "1,234", 5, None, -3]


def test_formula_guard_in_csv_and_xlsx_exports_and_text_comes_back_verbatim(fresh_store):
    texts = DANGEROUS[:4]  # tab and CR lead no stored text: the importer trims cells (guard_cell covers them)
    frame = pd.DataFrame({"地区": "西堡镇", "年份": range(2010, 2010 + len(texts)), "户籍人口": 100, "来源": texts})
    data = frame.to_csv(index=False).encode("utf-8")
    uploads.commit_upload(fresh_store, uploads.inspect_file(fresh_store, "p.csv", data), user_name="测试")
    stored = storage.table_as_of(fresh_store, TABLES_BY_ID["population"]).set_index("year")["source"]
    assert [stored[2010 + i] for i in range(len(texts))] == texts

    csv_cells = read_csv(exchange.export_csv(fresh_store, "population")).set_index("年份")["来源"]
    assert [csv_cells[str(2010 + i)] for i in range(len(texts))] == ["'" + t for t in texts]

    workbook = openpyxl.load_workbook(io.BytesIO(exchange.export_xlsx(fresh_store)))
    sheet = workbook["人口"]
    header = [c.value for c in sheet[1]]
    column = header.index("来源")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    guarded = [c for c in cells if isinstance(c.value, str) and c.value.startswith("'")]
    assert len(guarded) == len(texts) and all(c.data_type == "s" for c in guarded)

    again = uploads.inspect_file(fresh_store, "p.csv", exchange.export_csv(fresh_store, "population"))
    assert unchanged(again)  # the ' is taken off again on import


def test_problem_tables_are_guarded_too():
    frame = pd.DataFrame({"原始内容": ["=cmd|' /C calc'!A0", "正常"], "行": [2, 3]})
    lines = exchange.to_csv_bytes(frame).decode("utf-8-sig").splitlines()
    assert lines == ["原始内容,行", "'=cmd|' /C calc'!A0,2", "正常,3"]


def test_sheet_titles_are_valid_excel_names():
    for table_id in exchange.export_ids():
        title = exchange._sheet_title(table_id, "en")
        assert 0 < len(title) <= 31 and not set(title) & set("[]:*?/\\")
