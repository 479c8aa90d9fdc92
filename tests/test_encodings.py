"""Big5 is never read as GB18030 without a word (issue 9 item 2): a reading that is most likely garbled is
refused with both readings shown; ``--encoding big5`` with traditional headers and names works, matched in
simplified characters while the stored text stays as written; the preview shows the names as read."""

from __future__ import annotations

import pytest

from lawstats import auth, cli, importer, numbers, reader, storage, uploads
from lawstats.errors import InvalidFile
from lawstats.registry import TABLES_BY_ID
from tests.conftest import ROOT
from tests.test_data_page import _frame_runs_every_time, users_file  # noqa: F401  (fixtures)

# The file of the report: an English-id header, so that nothing but the data shows the encoding.
BIG5_ENGLISH = "region,year,registered_persons,ethnic_groups,source\n新華鄉,2024,100,漢族、藏族,報告測試資料\n"
# A traditional header and an existing town written in traditional characters (西堡镇 is in the seed).
BIG5_TRADITIONAL = "地區,年份,戶籍人口,常住人口\n西堡鎮,2024,25218,23971\n"


def read(data: bytes, **kw) -> reader.RawTable:
    return reader.read_file("a.csv", data, is_header=importer.header_key, **kw)


def test_big5_is_not_taken_for_gb18030_and_both_readings_are_shown():
    with pytest.raises(InvalidFile) as error:
        read(BIG5_ENGLISH.encode("big5"))
    assert error.value.key == "error.encoding_ambiguous"
    assert error.value.params["big5"] == "新華鄉"  # the right reading, for the user to recognise
    assert error.value.params["gb"] != "新華鄉"


def test_big5_with_a_traditional_header_is_refused_too():
    with pytest.raises(InvalidFile) as error:
        read(BIG5_TRADITIONAL.encode("big5"))
    assert error.value.key == "error.encoding_ambiguous"


def test_a_reading_of_mostly_rare_characters_is_refused():
    # Shift-JIS read as GB18030 gives rare characters, and it is no Big5 either
    with pytest.raises(InvalidFile) as error:
        read("地域,年\n東京都,2024\nこんにちは\n".encode("shift_jis"))
    assert error.value.key == "error.encoding_unlikely"


@pytest.mark.parametrize("text", [
    "地区,年份,户籍人口\n西堡镇,2024,25218\n",
    "region,year,registered_persons\n西堡镇,2024,25218\n",
    "地区,年份\n堃镇,2024\n",  # a GBK-only character in a name is still GBK
    "region,year\n城关,2024\n",  # reads as common characters in Big5 too (傑壽): a tie goes to GBK
    "region,year,unit\n西堡镇,2024,个\n",
    "地区,年份,户籍人口,民族构成\n湟中区,2024,1,汉、藏等\n",
])
def test_gbk_files_are_still_read_without_asking(text):
    assert read(text.encode("gbk")).encoding == "gb18030"


def test_gbk_files_of_the_seed_data_are_read_without_asking():
    for path in sorted((ROOT / "data").glob("*.csv")):
        text = path.read_text(encoding="utf-8-sig")
        assert reader.decode(text.encode("gb18030")) == (text, "gb18030"), path.name


def test_a_chosen_encoding_is_used_as_chosen():
    table = read(BIG5_TRADITIONAL.encode("big5"), encoding="big5")
    assert table.frame.columns.tolist() == ["地區", "年份", "戶籍人口", "常住人口"]  # as written
    assert table.frame.iloc[0, 0] == "西堡鎮"


def test_traditional_headers_and_names_match_in_simplified_characters():
    assert importer.header_key("地區") == "region"
    assert importer.header_key("戶籍人口（人）") == "registered_persons"
    assert importer.name_stem("西堡鎮") == importer.name_stem("西堡镇") == "西堡"
    assert numbers.to_simplified("乾县") == "乾县"  # a simplified name is never put through the phrase table


def test_decoded_region_names_are_in_the_notices():
    table = read(BIG5_TRADITIONAL.encode("big5"), encoding="big5")
    notice = dict(table.notices)["notice.decoded_names"]
    assert notice == {"encoding": "big5", "names": "西堡鎮"}
    assert "notice.decoded_names" not in dict(read(BIG5_TRADITIONAL.encode("utf-8")).notices)


def test_big5_upload_matches_the_stored_town_and_previews_the_names(fresh_store):
    upload = uploads.inspect_file(fresh_store, "人口.csv", BIG5_TRADITIONAL.encode("big5"), encoding="big5")
    assert upload.ready and upload.table_id == "population"
    assert any("西堡鎮" in text for text in upload.notice_texts("zh"))
    assert upload.prepared.batch.rows["population"]["registered_persons"].tolist() == [25218]


def test_big5_new_region_is_stored_as_written(fresh_store):
    regions = storage.regions(fresh_store)
    town = int(regions.loc[regions["name"] == "西堡镇", "region_id"].iloc[0])
    upload = uploads.inspect_file(fresh_store, "人口.csv", BIG5_ENGLISH.encode("big5"), encoding="big5",
                                  new_region_parent=town)
    uploads.commit_upload(fresh_store, upload, user_name="测试")
    rows = storage.table_as_of(fresh_store, TABLES_BY_ID["population"])
    assert "新華鄉" in rows["region"].tolist()  # stored as the file writes it, not converted


def test_cli_big5_with_traditional_header(tmp_path, capsys):
    path = tmp_path / "population.csv"
    path.write_bytes(BIG5_TRADITIONAL.encode("big5"))
    db = tmp_path / "cli.duckdb"
    assert cli.main(["--db", str(db), "import", "--dry-run", str(path)]) == 2
    assert "--encoding big5" in capsys.readouterr().err
    assert cli.main(["--db", str(db), "import", "--dry-run", "--encoding", "big5", str(path)]) == 0
    assert "西堡鎮" in capsys.readouterr().out


def test_data_page_refuses_big5_then_reads_it_as_big5_showing_the_names(app_db, users_file):
    from tests.test_data_page import ANALYST, PASSWORD, log_in, open_data_page, selectbox

    auth.UserStore(users_file).add(ANALYST, PASSWORD)
    at = open_data_page()
    log_in(at)
    at.file_uploader[0].set_value(("人口.csv", BIG5_TRADITIONAL.encode("big5"), "text/csv")).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("地區" in e and "encoding big5" in e for e in errors), errors  # both readings, and a way
    selectbox(at, "data.encoding").set_value("big5").run()
    assert not at.exception, at.exception
    assert not at.error
    assert any("西堡鎮" in i.value for i in at.info)  # the names as read, before the commit
