"""Regions named by people (issue 9 item 15): two towns called 新华乡 under different counties.

A real database built the way an analyst builds it (``python -m lawstats import`` of a regions file and a
figures file), then every place a person names a region: the CLI's ``--region`` (indicators, deck),
``--create-regions-under``, and the app's ``?region=`` link. A shared name is never guessed and never called
unknown: the candidates are listed with their full paths; qualified names and division codes pick one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from lawstats import cli, region_lookup, storage
from lawstats.errors import NotFound
from lawstats.i18n import t
from tests.conftest import ROOT, run_page

# Test fixtures only: the division codes below are made up for these tests.
REGIONS_CSV = """名称,级别,上级,统计用区划代码
云南省,省,,530000000000
保山市,市,云南省,530500000000
腾冲市,县（区）,保山市,530581000000
新华乡,乡镇（街道）,腾冲市,530581210000
龙陵县,县（区）,保山市,530523000000
新华乡,乡镇（街道）,龙陵县,530523210000
新华镇,乡镇（街道）,龙陵县,530523100000
和顺镇,乡镇（街道）,腾冲市,
和顺片区,乡镇（街道）,和顺镇,
"""
FIGURES_CSV = """地区,统计用区划代码,年份,户籍人口
新华乡,530581210000,2024,1000
新华乡,530523210000,2024,2000
新华镇,530523100000,2024,3000
"""
TENGCHONG = "云南省/保山市/腾冲市/新华乡"
LONGLING = "云南省/保山市/龙陵县/新华乡"
PERSONS = {TENGCHONG: 1000, LONGLING: 2000, "云南省/保山市/龙陵县/新华镇": 3000}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The database, built by the command line in its own processes (as a user would), then closed."""
    folder = tmp_path_factory.mktemp("twins")
    (folder / "regions.csv").write_text(REGIONS_CSV, encoding="utf-8")
    (folder / "figures.csv").write_text(FIGURES_CSV, encoding="utf-8")
    db = folder / "twins.duckdb"
    for name in ("regions.csv", "figures.csv"):
        done = subprocess.run([sys.executable, "-m", "lawstats", "--db", str(db), "import", str(folder / name)],
                              cwd=ROOT, env={**os.environ, "LAWSTATS_DB": str(db)}, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def db(built, tmp_path):
    """A copy of the built database for one test (a test may import into it)."""
    copy = tmp_path / "twins.duckdb"
    shutil.copy(built, copy)
    return copy


@pytest.fixture
def store(db):
    opened = storage.Store(db)
    yield opened
    opened.close()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def persons(out: str) -> float:
    return next(r["value"] for r in json.loads(out) if r["id"] == "registered_persons")


def path_of(store, region_id: int) -> str:
    return "/".join(storage.region_path(store, region_id)["name"])


# ---------------------------------------------------------------------------------------------------------
# The command line


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_shared_name_lists_both_towns_with_their_paths(capsys, db, lang):
    code, out, err = run(capsys, "--db", db, "--lang", lang, "indicators", "--region", "新华乡")
    assert code == 2 and out == ""
    assert TENGCHONG in err and LONGLING in err  # full paths, province to town
    assert "530581210000" in err and "530523210000" in err  # and the codes that pick one
    assert "新华镇" not in err  # another name, not a candidate
    assert t("error.unknown_region", lang, value="新华乡") not in err
    assert "Traceback" not in err


@pytest.mark.parametrize("text, expected", [
    ("腾冲市新华乡", TENGCHONG),
    ("龙陵县新华乡", LONGLING),
    (TENGCHONG, TENGCHONG),
    ("保山市 腾冲市 新华乡", TENGCHONG),
    ("云南省／保山市／龙陵县／新华乡", LONGLING),  # full-width slashes, as a Chinese keyboard types them
    ("保山市>龙陵县>新华乡", LONGLING),
    ("腾冲新华乡", TENGCHONG),  # the county without its level suffix
    ("530581210000", TENGCHONG),
    ("530523210", LONGLING),  # the 9-digit township code
    ("龙陵县新华镇", "云南省/保山市/龙陵县/新华镇"),  # the exact name beats 新华乡's shared stem
])
def test_a_qualified_name_or_a_code_picks_one_town(capsys, db, text, expected):
    code, out, err = run(capsys, "--db", db, "indicators", "--region", text, "--format", "json")
    assert code == 0, err
    assert persons(out) == PERSONS[expected]


def test_a_code_without_trailing_zeros_names_the_county(store):
    county = region_lookup.find_region(store, "530581")
    assert path_of(store, county) == "云南省/保山市/腾冲市"
    assert region_lookup.find_region(store, "530581000000") == county


def test_a_stem_shared_by_several_regions_lists_them_all(store):
    with pytest.raises(NotFound) as caught:
        region_lookup.find_region(store, "龙陵新华")
    assert caught.value.key == "error.ambiguous_region"
    paths = {c.full_path for c in caught.value.params["candidates"]}
    assert paths == {LONGLING, "云南省/保山市/龙陵县/新华镇"}


def test_the_example_in_the_message_names_one_town(store):
    """The qualified form the message suggests works when typed back."""
    with pytest.raises(NotFound) as caught:
        region_lookup.find_region(store, "新华乡")
    example, example_path = caught.value.params["example"], caught.value.params["example_path"]
    assert example in ("腾冲市新华乡", "龙陵县新华乡") and example in caught.value.message("zh")
    assert path_of(store, region_lookup.find_region(store, example)) == example_path


def test_a_wrong_parent_is_unknown_and_shows_similar_names(store):
    with pytest.raises(NotFound) as caught:
        region_lookup.find_region(store, "昆明市新华乡")  # neither 新华乡 is in 昆明市
    assert caught.value.key == "error.unknown_region_similar"
    message = caught.value.message("zh")
    assert "找不到地区“昆明市新华乡”" in message and TENGCHONG in message and LONGLING in message


def test_a_town_renamed_from_township_to_town_is_found_by_its_other_suffix(store):
    """撤乡设镇: 腾冲市 has one 新华 (a 乡); 腾冲市新华镇 can only mean it, while 龙陵县 has both."""
    assert path_of(store, region_lookup.find_region(store, "腾冲市新华镇")) == TENGCHONG


def test_a_plain_unique_name_and_its_stem_still_work(store):
    xibao = region_lookup.find_region(store, "西堡镇")
    assert region_lookup.find_region(store, "西堡") == xibao
    assert region_lookup.find_region(store, "湟中区西堡镇") == xibao
    assert region_lookup.find_region(store, "青海省/西宁市/湟中区/西堡镇") == xibao
    with pytest.raises(NotFound) as caught:
        region_lookup.find_region(store, "不存在镇")
    assert caught.value.key == "error.unknown_region"


def test_a_region_under_one_of_its_own_level_keeps_its_whole_path(store):
    """和顺片区 (a township-level area inside the township 和顺镇): the tree keeps one ancestor per level, the
    path must still name both."""
    area = region_lookup.find_region(store, "腾冲市和顺镇和顺片区")
    paths = storage.region_paths(store, [area])
    assert list(paths["path"].iloc[0]) == ["云南省", "保山市", "腾冲市", "和顺镇", "和顺片区"]


def test_links_read_digits_as_ids_people_as_codes(store):
    """The app writes ?region=<id>; a person types a code. Digits that are both mean each its own."""
    town = region_lookup.find_region(store, TENGCHONG)
    assert region_lookup.lookup_region(store, str(town), link=True).region_id == town
    assert region_lookup.lookup_region(store, "530581210000", link=True).region_id == town


def test_the_deck_takes_a_qualified_name_and_refuses_a_shared_one(capsys, db, tmp_path):
    out_file = tmp_path / "deck.pptx"
    code, _, err = run(capsys, "--db", db, "deck", out_file, "--region", "新华乡")
    assert code == 2 and TENGCHONG in err and not out_file.exists()
    code, out, err = run(capsys, "--db", db, "deck", out_file, "--region", "龙陵县新华乡", "--slides", "title")
    assert code == 0, err
    assert out_file.stat().st_size > 0 and "新华乡" in out


def test_new_regions_go_under_the_town_the_qualified_name_picks(capsys, db, tmp_path):
    villages = tmp_path / "villages.csv"
    villages.write_text("地区,年份,户籍人口\n和平村,2024,400\n", encoding="utf-8")
    code, _, err = run(capsys, "--db", db, "import", villages, "--create-regions-under", "新华乡")
    assert code == 2 and TENGCHONG in err and LONGLING in err
    code, _, err = run(capsys, "--db", db, "import", villages, "--create-regions-under", "龙陵县新华乡")
    assert code == 0, err
    store = storage.Store(db)
    try:
        assert path_of(store, region_lookup.find_region(store, "和平村")) == LONGLING + "/和平村"
    finally:
        store.close()


# ---------------------------------------------------------------------------------------------------------
# The app's link ?region=


def shown(element) -> str:
    """An alert's text as the reader sees it (the app escapes markdown characters in texts from the link)."""
    import re

    return re.sub(r"\\(.)", r"\1", element.value)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_link_naming_a_shared_name_lists_the_towns(db, monkeypatch, lang):
    monkeypatch.setenv("LAWSTATS_DB", str(db))
    at = run_page("overview", lang, {"region": "新华乡"})
    assert not at.exception
    notices = [shown(w) for w in at.warning]
    assert any(TENGCHONG in n and LONGLING in n and "新华乡" in n for n in notices), notices
    assert any(m.value.startswith("25,218") for m in at.metric)  # the default region, not a guess


def test_a_link_with_a_qualified_name_opens_that_town(db, monkeypatch):
    monkeypatch.setenv("LAWSTATS_DB", str(db))
    at = run_page("overview", "zh", {"region": "云南省/保山市/龙陵县/新华乡"})
    assert not at.exception and not at.warning
    assert any(m.value.startswith("2,000") for m in at.metric)


def test_the_search_box_takes_a_qualified_name(db, monkeypatch):
    """The sidebar's search lists names that contain the text; a qualified name contains none, so it is
    resolved as a link is: the one town it names, or the towns it may mean. (The frame's loader is called
    directly: AppTest reruns only the page script after a sidebar input, not the frame that holds the box.)"""
    from lawstats import ui

    monkeypatch.setenv("LAWSTATS_DB", str(db))
    found = ui.search_regions(ui.data_version(), "保山市 腾冲市 新华乡")
    assert list(zip(found["name"], found["parent_name"], found["code"])) == [("新华乡", "腾冲市", "530581210000")]
    found = ui.search_regions(ui.data_version(), "龙陵新华")
    assert sorted(found["name"]) == ["新华乡", "新华镇"] and set(found["parent_name"]) == {"龙陵县"}
    assert len(ui.search_regions(ui.data_version(), "新华乡")) == 2  # contained in both names: the plain search
