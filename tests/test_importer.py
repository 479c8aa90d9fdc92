"""Headers, numbers, regions and every validation rule of ``lawstats.importer``, on real files and a real store.

The "kitchen sink" batch below holds one file per table with every kind of problem at once; the test asserts
row (as Excel counts), column and kind of each, not the wording.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lawstats import importer, storage, uploads
from lawstats.errors import InvalidFile, ValidationFailed
from lawstats.numbers import parse_numbers
from lawstats.registry import AREA, COUNT, RATE, TABLES_BY_ID


def csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def inspect(store, name, text, **kw):
    return uploads.inspect_file(store, name, csv(text) if isinstance(text, str) else text, **kw)


def rows_of(upload, table_id="population") -> pd.DataFrame:
    return upload.prepared.batch.rows[table_id].reset_index(drop=True)


def problems(error: ValidationFailed, file: str | None = None) -> set[tuple]:
    d = error.details if file is None else error.details[error.details["file"] == file]
    return {(None if pd.isna(r) else int(r), c, k) for r, c, k in zip(d["row"], d["column"], d["kind"])}


# ---------------------------------------------------------------------------------------------------------
# Numbers, as a column


@pytest.mark.parametrize("text, kind, value, approximate", [
    ("1,234", COUNT, 1234, False), ("1，234", COUNT, 1234, False), ("１２３４", COUNT, 1234, False),
    ("12.5%", RATE, 12.5, False), ("12.5％", RATE, 12.5, False), ("2.5万", COUNT, 25000, False),
    ("约200", COUNT, 200, True), ("200余", COUNT, 200, True), ("100公顷", AREA, 1500, False),
    ("43695亩", AREA, 43695, False), ("162人", COUNT, 162, False), ("未发现", COUNT, 0, False),
])
def test_number_formats_in_a_column(text, kind, value, approximate):
    parsed = parse_numbers(pd.Series([text, "7"], dtype="str"), kind)
    assert parsed.values[0] == pytest.approx(value) and parsed.approximate[0] == approximate
    assert parsed.errors[0] is None and parsed.values[1] == 7


@pytest.mark.parametrize("text", ["", "-", "—", "——", "  ", "暂无", "N/A"])
def test_missing_is_never_zero(text):
    parsed = parse_numbers(pd.Series([text], dtype="str"), COUNT)
    assert np.isnan(parsed.values[0]) and parsed.errors[0] is None


@pytest.mark.every_store  # import on each store (tests/conftest.py)
def test_number_formats_through_a_whole_import(fresh_store):
    upload = inspect(fresh_store, "p.csv",
                     '地区,年份,户籍户数,户籍人口,常住人口,少数民族人口,少数民族占比\n'
                     '西堡镇,2023,"1,234","2.5万",约20000,200余,0.8％\n'
                     '西堡镇,2022,１２３４,"25，000",—,-,\n')
    rows = rows_of(upload)
    assert rows["registered_households"].tolist() == [1234, 1234]
    assert rows["registered_persons"].tolist() == [25000, 25000]
    assert rows.loc[0, "resident_persons"] == 20000 and pd.isna(rows.loc[1, "resident_persons"])
    assert pd.isna(rows.loc[1, "minority_persons"])  # "-" is missing, not 0
    assert rows.loc[0, "minority_share_stated"] == pytest.approx(0.8)
    assert sorted(rows.loc[0, "approx"]) == ["minority_persons", "resident_persons"]
    assert list(rows.loc[1, "approx"]) == []


# ---------------------------------------------------------------------------------------------------------
# Headers


@pytest.mark.parametrize("header, column, factor", [
    ("户籍人口", "registered_persons", 1), ("registered_persons", "registered_persons", 1),
    ("Registered persons", "registered_persons", 1), ("户籍人口（人）", "registered_persons", 1),
    ("耕地面积（亩）", "cultivated_area", 1), ("耕地(公顷)", "cultivated_area", 15),
    ("耕地面积 [hm2]", "cultivated_area", 15), ("户籍人口（万人）", "registered_persons", 10_000),
    (" 户 籍 人 口 ", "registered_persons", 1), ("户籍人口（人）", "registered_persons", 1),
    ("乡镇", "region", 1), ("村", "region", 1), ("单位", "region", 1), ("行政区划代码", "region_code", 1),
    ("年度", "year", 1), ("ｙｅａｒ", "year", 1),
])
def test_headers_match_the_way_people_write_them(header, column, factor):
    from lawstats.registry import PROVENANCE_COLUMNS, ROW_COLUMNS, TABLES

    columns = ROW_COLUMNS + PROVENANCE_COLUMNS + tuple(c for t in TABLES for c in t.columns)
    match = importer.match_headers([header], columns)
    assert [(c.id, f) for c, f in match.columns.values()] == [(column, factor)]


def test_hectares_are_converted_to_mu_with_a_notice(fresh_store):
    upload = inspect(fresh_store, "land.csv", "地区,年份,耕地(公顷),林地面积（亩）\n西堡镇,2023,2913,58670.24\n")
    rows = rows_of(upload, "land")
    assert rows.loc[0, "cultivated_area"] == pytest.approx(2913 * 15)
    assert rows.loc[0, "forest_area"] == pytest.approx(58670.24)
    assert any(key == "notice.unit_converted" for key, _ in upload.notices)


def test_unknown_columns_are_listed_not_dropped_silently(fresh_store):
    upload = inspect(fresh_store, "p.csv", "地区,年份,户籍人口,备注,负责人\n西堡镇,2023,25000,已核实,张三\n")
    assert upload.unknown_columns == ["备注", "负责人"]


def test_the_table_is_recognised_from_headers_or_chosen(fresh_store):
    assert inspect(fresh_store, "x.csv", "单位,年度,企业数\n西堡镇,2023,50\n").table_id == "grid"
    upload = inspect(fresh_store, "x.csv", "地区,年份,户数\n西堡镇,2023,7000\n", table="人口")
    assert upload.table_id == "population"
    with pytest.raises(InvalidFile) as error:
        inspect(fresh_store, "x.csv", "地区,年份,户数\n西堡镇,2023,7000\n", table="没有这张表")
    assert error.value.key == "error.unknown_table"


# ---------------------------------------------------------------------------------------------------------
# Regions


def test_region_by_name_variant_or_code(fresh_store):
    store = fresh_store
    inspect_commit(store, "r.csv", "名称,级别,上级,统计用区划代码\n合成村甲,村,西堡镇,630122100201\n")
    upload = inspect(store, "p.csv", "村,年份,户籍人口\n西堡,2023,25000\n合成村甲村,2023,100\n"
                                     "630122100201,2022,90\n")
    ids = rows_of(upload)["region_id"].tolist()
    regions = storage.regions(store).set_index("name")["region_id"]
    assert ids == [regions["西堡镇"], regions["合成村甲"], regions["合成村甲"]]
    coded = inspect(store, "p.csv", "行政区划代码,年份,户籍人口\n630122100201,2021,80\n")
    assert rows_of(coded)["region_id"].tolist() == [regions["合成村甲"]]


def inspect_commit(store, name, text, **kw) -> int:
    return uploads.commit_upload(store, inspect(store, name, text, **kw), user_name="测试")


@pytest.mark.every_store  # import on each store (tests/conftest.py)
def test_unknown_regions_are_listed_and_created_only_when_confirmed(fresh_store):
    store = fresh_store
    text = "地区,年份,户籍人口\n合成村甲,2024,100\n合成村乙,2024,90\n合成村甲村,2023,95\n"
    waiting = inspect(store, "p.csv", text)
    assert not waiting.ready and waiting.unknown_regions == ["合成村乙", "合成村甲", "合成村甲村"]
    with pytest.raises(ValidationFailed) as error:
        uploads.commit_upload(store, waiting, user_name="测试")
    assert set(error.value.details["kind"]) == {"unknown_region"}
    assert storage.data_version(store) == 1  # nothing written
    township = int(storage.regions(store).set_index("name").loc["西堡镇", "region_id"])
    confirmed = inspect(store, "p.csv", text, new_region_parent=township)
    assert confirmed.ready and confirmed.new_regions == ["合成村乙", "合成村甲"]  # 合成村甲村 is 合成村甲
    uploads.commit_upload(store, confirmed, user_name="测试")
    created = storage.regions(store).set_index("name").loc[["合成村甲", "合成村乙"]]
    assert set(created["level"]) == {"village"} and set(created["parent_id"]) == {township}


def test_twin_region_names_need_a_parent(fresh_store):
    store = fresh_store
    inspect_commit(store, "r.csv", "名称,级别,上级\n合成镇甲,乡镇,湟中区\n新庄村,村,西堡镇\n新庄村,村,合成镇甲\n")
    with pytest.raises(ValidationFailed) as error:
        inspect(store, "p.csv", "地区,年份,户籍人口\n新庄村,2024,100\n")
    assert problems(error.value) == {(2, "地区", "ambiguous_region")}
    upload = inspect(store, "p.csv", "地区,上级地区,年份,户籍人口\n新庄村,合成镇甲,2024,100\n")
    regions = storage.regions(store)
    town = regions.loc[regions["name"] == "合成镇甲", "region_id"].item()
    expected = regions.loc[(regions["name"] == "新庄村") & (regions["parent_id"] == town), "region_id"].item()
    assert rows_of(upload)["region_id"].tolist() == [expected]


# ---------------------------------------------------------------------------------------------------------
# Every kind of problem, at once


KITCHEN_REGIONS = "名称,级别,上级,统计用区划代码\n合成镇甲,乡镇,湟中区,630122100000\n新庄村,村,西堡镇,\n新庄村,村,合成镇甲,\n"

KITCHEN_POPULATION = """地区,年份,户籍户数,户籍人口,常住人口,少数民族人口,少数民族占比（报告值）,户籍人口（公顷）,总人口,备注
西堡镇,2024,abc,,,,,,,
西堡镇,2023,12.5%,,,,,,,
西堡镇,2022,10.5,,,,,,,
西堡镇,2021,-3,,,,,,,
西堡镇,2020,,,,,150,,,
西堡镇,2019,99999999999999999,,,,,,,
西堡镇,1800,1,,,,,,,
,2024,5,,,,,,,
不存在村,2024,1,,,,,,,
新庄村,2024,1,,,,,,,
999999999999,2024,1,,,,,,,
西堡镇,2018,,100,200,,,,,
西堡,2018,,,,,,,,
"""
KITCHEN_TRAINING = """地区,年份,学习项目,类型,应参加人数,实际参加人数,及格人数
西堡镇,2024,集中学法,讲座,,,
西堡镇,2024,,学习,,,
西堡镇,2024,法宣考试,考试,10,8,9
"""
KITCHEN_NEW_REGIONS = "名称,级别,上级,统计用区划代码\n合成村丙,大队,西堡镇,\n合成村丁,村,西堡镇,123\n合成村戊,村,没有的镇,\n"

EXPECTED_KINDS = {
    (2, "户籍户数", "not_a_number"), (3, "户籍户数", "percent_not_allowed"), (4, "户籍户数", "not_integer"),
    (5, "户籍户数", "negative"), (6, "少数民族占比（报告值）", "out_of_range"), (7, "户籍户数", "too_large"),
    (8, "年份", "bad_year"), (9, "地区", "missing_region"), (10, "地区", "unknown_region"),
    (11, "地区", "ambiguous_region"), (12, "地区", "unknown_code"), (13, "常住人口", "exceeds"),
    (14, "地区", "duplicate_key"),
    (None, "户籍人口（公顷）", "unknown_unit"), (None, "总人口", "duplicate_column"),
    (2, "类型", "bad_choice"), (3, "学习项目", "missing_key"), (4, "及格人数", "exceeds"),
    (2, "级别", "unknown_level"), (3, "统计用区划代码", "bad_code"), (4, "上级", "unknown_region"),
    (None, "population_again.csv", "table_twice"), (None, "a, b", "table_not_recognised"),
    (None, "年份", "missing_column"),
}


def test_kitchen_sink_batch_reports_every_problem_with_row_column_and_kind(fresh_store):
    store = fresh_store
    inspect_commit(store, "regions.csv", KITCHEN_REGIONS)
    version = storage.data_version(store)
    files = [("new_regions.csv", csv(KITCHEN_NEW_REGIONS)), ("population.csv", csv(KITCHEN_POPULATION)),
             ("training.csv", csv(KITCHEN_TRAINING)), ("population_again.csv", csv("地区,年份,户籍人口\n西堡镇,2024,1\n")),
             ("junk.csv", csv("a,b\n1,2\n")), ("land.csv", csv("地区,耕地面积\n西堡镇,5\n"))]
    with pytest.raises(ValidationFailed) as error:
        uploads.inspect_files(store, files)
    found = problems(error.value)
    assert EXPECTED_KINDS <= found, EXPECTED_KINDS - found
    kinds = {k for _, _, k in found}
    catalog = {key.removeprefix("problem.") for key in __import__("lawstats.i18n").i18n.MESSAGES
               if key.startswith("problem.") and not key.startswith("problem.col_")}
    # no_value_columns: a recognised table cannot have it (below); exceeds_stored: checked against the store
    # only once the files themselves pass (tests/test_cross_checks.py)
    assert catalog - kinds == {"no_value_columns", "exceeds_stored"}
    details = error.value.details
    duplicate = details[details["kind"] == "duplicate_key"].iloc[0]
    assert duplicate["detail"] == "13"  # names the first row
    assert details.loc[details["kind"] == "exceeds", "value"].tolist() == ["200 > 100", "9 > 8"]
    assert (2, "户籍户数", "not_a_number") in problems(error.value, "population.csv")
    assert (2, "类型", "bad_choice") in problems(error.value, "training.csv")
    table = uploads.problems_table(error.value, "zh")
    assert table.columns[0] == "文件" and table["文件"].iloc[0] == "new_regions.csv"  # regions are read first
    assert storage.data_version(store) == version  # nothing written


def test_no_value_columns_when_the_chosen_table_has_none(fresh_store):
    with pytest.raises(ValidationFailed) as error:
        inspect(fresh_store, "g.csv", "地区,年份,备注\n西堡镇,2024,x\n", table="grid")
    assert {k for _, _, k in problems(error.value)} == {"no_value_columns"}


def test_problem_table_in_both_languages_and_as_csv(fresh_store):
    from lawstats import exchange

    with pytest.raises(ValidationFailed) as error:
        inspect(fresh_store, "p.csv", "地区,年份,户籍人口\n西堡镇,2024,=1+1\n西堡镇,20x4,5\n")
    zh = uploads.problems_table(error.value, "zh")
    en = uploads.problems_table(error.value, "en")
    assert list(zh.columns[:4]) == ["行", "列", "原始内容", "问题"]
    assert list(en.columns[:4]) == ["Row", "Column", "Original text", "Problem"]
    assert zh["行"].tolist() == [2, 3] and zh["kind"].tolist() == ["not_a_number", "bad_year"]
    data = exchange.to_csv_bytes(zh)
    assert data.startswith(b"\xef\xbb\xbf")
    assert "'=1+1" in data.decode("utf-8-sig")  # the original text, neutralised for Excel


def test_total_example_and_blank_rows_are_left_out(fresh_store):
    upload = inspect(fresh_store, "p.csv", "地区,年份,户籍人口\n示例：西堡镇,2024,1\n西堡镇,2023,25000\n,,\n"
                                           "合 计,,25000\n")
    assert len(rows_of(upload)) == 1
    keys = dict((k, p) for k, p in upload.notices)
    assert keys["notice.example_row_skipped"] == {"row": 2}
    assert keys["notice.total_row_skipped"] == {"row": 5}


def test_years_as_people_write_them(fresh_store):
    upload = inspect(fresh_store, "p.csv", "地区,年份,户籍人口\n西堡镇,2023年,1\n西堡镇,2022年度,2\n西堡镇,２０２１,3\n")
    assert rows_of(upload)["year"].tolist() == [2023, 2022, 2021]


def test_split_and_join_lists_are_inverse():
    for text in ("汉、藏等", "汉、藏、回", "汉"):
        assert importer.join_list(importer.split_list(text)) == text


def test_registry_tables_have_typed_rows(fresh_store):
    upload = inspect(fresh_store, "t.csv", "地区,年份,学习项目,类型,集中学习次数,参学率\n西堡镇,2023,集中学法,学习,4,95%\n")
    rows = rows_of(upload, "training")
    assert rows.loc[0, "programme"] == "集中学法" and rows.loc[0, "programme_kind"] == "study"
    assert rows.loc[0, "sessions"] == 4 and rows.loc[0, "participation_rate_stated"] == 95
    assert set(TABLES_BY_ID["training"].column(c).id for c in ("sessions",)) <= set(rows.columns)
