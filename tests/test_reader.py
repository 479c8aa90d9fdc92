"""Reading files as analysts really have them: every encoding, XLSX from Excel and WPS, and clear refusals."""

from __future__ import annotations

import pandas as pd
import pytest

from lawstats import importer, reader
from lawstats.errors import InvalidFile
from tests.files import make_files as mf


def read(name: str, data: bytes, **kw) -> reader.RawTable:
    return reader.read_file(name, data, is_header=importer.header_key, **kw)


# ---------------------------------------------------------------------------------------------------------
# Encodings


@pytest.mark.parametrize("encoding, detected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-16", "utf-16"),
])
def test_every_encoding_gives_the_same_texts(encoding, detected):
    table = read("人口.csv", mf.population_csv(encoding))
    assert table.encoding == detected
    assert list(table.frame.columns) == mf.POPULATION_HEADER
    assert table.frame.values.tolist() == mf.POPULATION_ROWS
    assert table.first_data_row == 2


def test_gbk_is_not_taken_for_latin_1_or_korean():
    table = read("人口.csv", "地区,年份,户籍人口\n西堡镇,2024,25218\n".encode("gbk"))
    assert table.frame.iloc[0, 0] == "西堡镇"


def test_user_can_override_the_encoding_and_a_wrong_choice_is_refused():
    data = "地区,年份,户籍人口\n西堡镇,2024,25218\n".encode("gbk")
    assert read("a.csv", data, encoding="gbk").frame.iloc[0, 0] == "西堡镇"
    with pytest.raises(InvalidFile) as error:
        read("a.csv", data, encoding="utf-8")
    assert error.value.key == "error.encoding_failed"


def test_latin_1_is_never_used_even_when_asked():
    with pytest.raises(InvalidFile) as error:
        read("a.csv", "地区,年份\n西堡镇,2024\n".encode("gbk"), encoding="latin-1")
    assert error.value.key == "error.encoding_failed"


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused():
    with pytest.raises(InvalidFile) as error:
        read("a.csv", b"region,year\n\x80\x80\xff\xff,2024\n")
    assert error.value.key == "error.encoding_unknown"


# ---------------------------------------------------------------------------------------------------------
# CSV shapes


def test_title_rows_above_the_header_are_skipped_with_a_notice():
    data = "西堡镇人口统计表,,\n,,\n地区,年份,户籍人口\n西堡镇,2024,25218\n".encode("utf-8")
    table = read("a.csv", data)
    assert list(table.frame.columns) == ["地区", "年份", "户籍人口"]
    assert table.first_data_row == 4
    assert ("notice.header_row", {"row": 3, "skipped": 2}) in table.notices


def test_tab_separated_text_and_quoted_thousands():
    table = read("a.txt", '地区\t年份\t户籍人口\n西堡镇\t2024\t"25,218"\n'.encode("utf-8"))
    assert table.frame.iloc[0].tolist() == ["西堡镇", "2024", "25,218"]


def test_a_row_longer_than_the_header_names_the_row():
    with pytest.raises(InvalidFile) as error:
        read("a.csv", "地区,年份,户籍人口\n西堡镇,2024,25,218\n".encode("utf-8"))
    assert (error.value.key, error.value.params["row"]) == ("error.row_too_long", 2)


def test_blank_lines_and_short_rows_keep_their_row_numbers():
    table = read("a.csv", "地区,年份,户籍人口\n\n西堡镇,2024\n西堡镇,2023,1\n".encode("utf-8"))
    assert table.frame.values.tolist() == [["", "", ""], ["西堡镇", "2024", ""], ["西堡镇", "2023", "1"]]
    assert table.excel_row(2) == 4


def test_the_fast_and_the_exact_csv_readers_agree():
    data = mf.population_csv("utf-8")
    fast = reader.read_csv_bytes(data, is_header=importer.header_key).frame
    text = data.decode("utf-8")
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    exact = reader._table_from_rows(rows, "utf-8", None, [], importer.header_key, strict_width=True).frame
    pd.testing.assert_frame_equal(fast.astype(object), exact.astype(object))


# ---------------------------------------------------------------------------------------------------------
# XLSX


def test_xlsx_numbers_come_back_as_their_text_and_percent_cells_with_percent():
    table = read("人口.xlsx", mf.population_xlsx_plain())
    assert table.frame.iloc[0].tolist() == ["西堡镇", "2024", "7017", "25218", "162", "0.64%"]
    assert table.encoding is None and table.sheet == "人口"


def test_xlsx_merged_two_row_header_title_and_region_cell():
    table = read("各村.xlsx", mf.population_xlsx_merged())
    assert table.sheet == "各村人口"  # the notes sheet before it has no header
    assert list(table.frame.columns) == ["地区", "年份", "户籍户数", "户籍人口", "常住户数", "常住人口", "来源"]
    assert table.first_data_row == 4
    assert table.frame["地区"].tolist()[:3] == ["合成村甲", "合成村甲", "合成村乙"]  # merged over two years
    keys = [key for key, _ in table.notices]
    assert "notice.merged_header" in keys and "notice.sheet_used" in keys


def test_xlsx_sheet_choice_and_unknown_sheet():
    data = mf.two_tables_xlsx()
    assert read("t.xlsx", data).sheet == "人口"
    land = read("t.xlsx", data, sheet="土地")
    assert list(land.frame.columns) == ["地区", "年份", "耕地(公顷)", "林地面积（亩）"]
    assert reader.list_sheets(data) == ["人口", "土地"]
    with pytest.raises(InvalidFile) as error:
        read("t.xlsx", data, sheet="没有这张表")
    assert error.value.key == "error.unknown_sheet"


# ---------------------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize("name, data, key", [
    ("macros.xlsm", mf.population_xlsx_plain(), "error.xlsx_macros"),
    ("hidden_macros.xlsx", mf.xlsm_bytes(), "error.xlsx_macros"),
    ("bomb.xlsx", mf.zip_bomb_xlsx(), "error.xlsx_bomb"),
    ("renamed.xlsx", mf.population_csv("utf-8"), "error.xlsx_not_zip"),
    ("old.xls", mf.old_xls_bytes(), "error.xls_old"),
    ("old_renamed.csv", mf.old_xls_bytes(), "error.xls_old"),
    ("report.pdf", b"%PDF-1.7\n", "error.file_type"),
    ("image.png", b"\x89PNG\r\n\x1a\n", "error.file_type"),
    ("empty.csv", b"", "error.empty_file"),
    ("bom_only.csv", b"\xef\xbb\xbf", "error.empty_file"),
    ("spaces.csv", b"  \r\n \n", "error.empty_file"),
    ("commas.csv", b",,,\n,,,\n", "error.no_header"),
    ("binary.csv", b"a,b\n\x00\x01\x02,\x03\n", "error.not_text"),
])
def test_refusals_are_clear(name, data, key):
    with pytest.raises(InvalidFile) as error:
        read(name, data)
    assert error.value.key == key
    assert error.value.message("zh") and error.value.message("en")


def test_a_file_over_the_size_limit_is_refused_before_reading():
    with pytest.raises(InvalidFile) as error:
        read("big.csv", mf.population_csv("utf-8"), max_bytes=100)
    assert error.value.key == "error.too_large"


def test_the_zip_directory_total_is_checked(monkeypatch):
    monkeypatch.setattr(reader, "MAX_XLSX_EXPANDED", 1000)  # a small limit stands in for a huge archive
    with pytest.raises(InvalidFile) as error:
        read("a.xlsx", mf.population_xlsx_plain())
    assert error.value.key == "error.xlsx_bomb"


def test_a_damaged_workbook_is_refused_not_crashed():
    data = mf.population_xlsx_plain()
    broken = mf._rezip(data, replace={"xl/workbook.xml": b"<workbook>not xml"})
    with pytest.raises(InvalidFile) as error:
        read("a.xlsx", broken)
    assert error.value.key == "error.xlsx_corrupt"


def test_number_text_is_the_shortest_form():
    assert [reader.number_text(v) for v in (25218.0, 58670.24, 0.1 + 0.2, 7, 1e20)] == \
        ["25218", "58670.24", "0.3", "7", "1e+20"]
