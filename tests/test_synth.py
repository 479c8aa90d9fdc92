"""Synthetic data (``lawstats.synth``, ``python -m lawstats synth``): sizes, labels that say synthetic,
plausible and consistent values, determinism, and an import through the normal path that the app flags."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from lawstats import cli, storage, synth
from tests.scale_data import YEARS, County, make_county


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> County:
    return make_county(tmp_path_factory.mktemp("synth"))


def test_county_scale_sizes(county):
    regions = county.regions()
    counts = regions["级别"].value_counts().to_dict()
    assert counts == {"省": 1, "市": 1, "县（区）": 1, "乡镇（街道）": 15, "村（社区）": 225}
    per_township = regions[regions["级别"] == "村（社区）"].groupby("上级").size()
    assert per_township.sum() == 225 and per_township.min() >= 1
    population = county.csv("population")
    assert len(population) == (15 + 225) * len(YEARS)
    assert sorted(population["年份"].unique()) == YEARS
    assert len(county.csv("training")) == 15 * len(YEARS) * 3


def test_every_name_source_and_code_says_synthetic(county):
    regions = county.regions()
    assert regions["名称"].str.startswith("合成").all()
    assert regions["统计用区划代码"].str.fullmatch(r"9\d{11}").all()
    assert regions["统计用区划代码"].is_unique
    for name in ("population", "land", "grid", "training", "governance"):
        frame = county.csv(name)
        assert (frame["来源"] == synth.SYNTHETIC_SOURCE).all(), name
        assert frame["地区"].str.startswith("合成").all(), name
    note = (county.data / synth.NOTE_FILE).read_text(encoding="utf-8")
    assert "合成数据" in note and "以 9 开头" in note


def test_parents_are_written_before_their_children(county):
    regions = county.regions()
    position = {code: i for i, code in enumerate(regions["统计用区划代码"])}
    for code, parent in zip(regions["统计用区划代码"], regions["上级"]):
        if isinstance(parent, str) and parent:
            assert position[parent] < position[code]


def test_values_are_plausible_and_consistent(county):
    population = county.csv("population")
    villages = population[population["地区"].str.startswith(("合成村", "合成社区"))]
    size = villages["户籍人口"] / villages["户籍户数"]
    assert size.between(2.4, 4.6).all()
    assert (population["常住人口"] <= population["户籍人口"]).all()
    assert (population["常住户数"] <= population["户籍户数"]).all()
    assert (population["少数民族人口"] <= population["户籍人口"]).all()
    shares = population["少数民族占比（报告值）"].dropna().str.rstrip("%").astype(float)
    assert shares.between(0, 100).all()
    land = county.csv("land")
    per_person = land.merge(villages, on=["地区", "年份"])
    ratio = per_person["耕地面积（亩）"] / per_person["户籍人口"]
    assert ratio.between(0, 20).all() and ratio.median() > 0.3
    training = county.csv("training")
    counted = training.dropna(subset=["实际参加人数"])
    assert (counted["实际参加人数"] <= counted["应参加人数"]).all()
    exams = training.dropna(subset=["及格人数"])
    assert (exams["及格人数"] <= exams["实际参加人数"]).all()
    assert training["参学率/参考率（报告值）"].dropna().between(0, 100).all()


def test_deliberate_gaps_and_disagreements_are_there(county):
    land = county.csv("land")
    assert land["林地面积（亩）"].isna().sum() == 1  # the last village, first year
    missing = land[land["林地面积（亩）"].isna()].iloc[0]
    assert missing["年份"] == YEARS[0]


def _digest(folder) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in synth.data_files(folder))).hexdigest()


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    synth.generate(tmp_path / "a", "county", [2024], seed=3)
    synth.generate(tmp_path / "b", "county", [2024], seed=3)
    synth.generate(tmp_path / "c", "county", [2024], seed=4)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_province_scale_sizes_without_writing_national(tmp_path):
    rng = np.random.default_rng(1)
    national = synth.build_hierarchy(synth.SCALES["national"], rng)
    sizes = [len(level.code) for level in national.levels]
    assert sizes == [31, 333, 2_850, 38_600, 600_000]
    codes = np.concatenate([level.code for level in national.levels])
    assert len(np.unique(codes)) == len(codes)  # unique 12-digit codes at national scale too
    assert codes.min() >= 900_000_000_000 and codes.max() < 1_000_000_000_000
    counts = synth.generate(tmp_path, "province", [2024], seed=2)
    assert counts["regions.csv"] == 1 + 4 + 30 + 400 + 6_000
    assert counts["population.csv"] == 6_400


def test_cli_synth_command(tmp_path, capsys):
    assert cli.main(["synth", str(tmp_path / "out"), "--scale", "county", "--years", "2023-2024", "--seed", "5"]) == 0
    assert "合成数据" in capsys.readouterr().out
    frame = pd.read_csv(tmp_path / "out" / "population.csv", encoding="utf-8-sig")
    assert sorted(frame["年份"].unique()) == [2023, 2024]


def test_years_are_parsed_strictly():
    assert synth.parse_years("2015-2017") == [2015, 2016, 2017]
    assert synth.parse_years("2020") == [2020]
    with pytest.raises(ValueError):
        synth.parse_years("2024-2015")


def test_import_marks_batch_and_regions_synthetic(county):
    store = storage.Store(county.db)
    try:
        batches = storage.list_batches(store)
        imported = batches[batches["file_name"].str.contains("regions.csv", na=False)].iloc[0]
        assert bool(imported["synthetic"])
        tree = store.query_df("SELECT name, synthetic FROM region_tree WHERE name LIKE '合成%'")
        assert len(tree) == 243 and tree["synthetic"].all()
        real = store.query_df("SELECT synthetic FROM region_tree WHERE name = '西堡镇'")
        assert not real["synthetic"].iloc[0]
    finally:
        store.close()
