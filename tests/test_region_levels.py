"""Regions as real reports write them: every level name mapped onto the five tiers, and a file's region column
under the headers township tables use (乡镇名称, 单位名称, 所属乡镇, 乡镇（街道）); ``社区（个）`` is a count."""

from __future__ import annotations

import pytest

from lawstats import importer, storage, uploads
from tests.files import make_files as mf

LEVELS = {"自治区": "province", "直辖市": "province", "自治州": "city", "地区": "city", "盟": "city",
          "地级市": "city", "县级市": "county", "自治县": "county", "旗": "county", "自治旗": "county",
          "区": "county", "民族乡": "township", "苏木": "township", "街道": "township", "街道办事处": "township"}


@pytest.mark.parametrize("level, tier", LEVELS.items())
def test_every_level_of_real_reports_is_accepted_and_mapped(empty_store, level, tier):
    upload = uploads.inspect_file(empty_store, "regions.csv", f"名称,级别,上级\n合成地{level},{level},\n".encode())
    assert upload.ready
    assert upload.prepared.batch.regions["level"].tolist() == [tier]


def test_a_hierarchy_of_autonomous_levels_imports_in_one_file(empty_store):
    text = ("名称,级别,上级\n合成自治区,自治区,\n合成自治州,自治州,合成自治区\n合成自治县,自治县,合成自治州\n"
            "合成民族乡,民族乡,合成自治县\n合成街道,街道办事处,合成自治县\n").encode()
    uploads.commit_upload(empty_store, uploads.inspect_file(empty_store, "regions.csv", text), user_name="测试")
    levels = dict(zip(*storage.regions(empty_store)[["name", "level"]].T.values))
    assert levels == {"合成自治区": "province", "合成自治州": "city", "合成自治县": "county",
                      "合成民族乡": "township", "合成街道": "township"}


@pytest.mark.parametrize("header", ["乡镇名称", "单位名称", "所属乡镇", "乡镇（街道）"])
def test_the_region_column_under_township_headers(fresh_store, header):
    upload = uploads.inspect_file(fresh_store, "p.csv", f"{header},年份,户籍人口\n西堡镇,2023,25000\n".encode())
    assert upload.ready and upload.unknown_columns == []
    assert upload.prepared.batch.rows["population"]["registered_persons"].tolist() == [25000]


def test_a_count_of_communities_is_not_a_second_region_column(fresh_store):
    upload = uploads.inspect_file(fresh_store, "g.csv", "地区,年份,社区（个）,行政村（个）\n西堡镇,2023,2,19\n".encode())
    rows = upload.prepared.batch.rows["grid"]
    assert rows["communities"].tolist() == [2] and rows["villages"].tolist() == [19]
    assert importer.header_key("社区（个）") == "communities"


def test_belongs_to_beside_a_village_name_is_its_parent(fresh_store):
    uploads.commit_upload(fresh_store, uploads.inspect_file(fresh_store, "regions.csv", mf.regions_csv()),
                          user_name="测试")
    text = "村名,所属乡镇,年份,户籍人口\n合成村甲,西堡镇,2024,1200\n".encode()
    upload = uploads.inspect_file(fresh_store, "村.csv", text)
    assert upload.ready and upload.unknown_columns == []
    region_id = upload.prepared.batch.rows["population"]["region_id"].iloc[0]
    names = dict(zip(storage.regions(fresh_store)["region_id"], storage.regions(fresh_store)["name"]))
    assert names[region_id] == "合成村甲"
