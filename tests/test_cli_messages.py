"""Command-line messages that tell the truth and a way forward (issue 9, item 16): no sentence written for the
web (``已显示最近年份`` with nothing shown), no internal id or empty name, an undo event named as one, ``init``
after the default data was undone, and ``--db`` in a folder that does not exist."""

from __future__ import annotations

import pytest

from lawstats import cli, storage
from lawstats.i18n import t

TWO_VILLAGES = "名称,级别,上级\n甲村,村,西堡镇\n乙村,村,西堡镇\n"
# one of the two villages reports training for 2025: 西堡镇 then has rollup rows for 2025 but no indicators
VILLAGE_TRAINING_2025 = ("地区,年份,学习项目,类型,集中学习次数\n"
                         "甲村,2025,镇村干部集中学法,学习,4\n")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(seeded_db):
    """A database file of the test's own holding the default data (the session's seeded copy)."""
    return seeded_db


# -- years and regions: the CLI's own sentences ------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_year_without_data_names_the_region_and_the_years_there_are(capsys, db, lang):
    code, out, err = run(capsys, "--db", db, "--lang", lang, "indicators", "--year", "1999")
    assert code == 2 and out == ""
    assert "1999" in err and "2024" in err and ("西堡镇" in err)
    assert not any(web in err for web in ("已显示最近年份", "showing the latest", "链接", "link"))


def region_id(db, name: str) -> int:
    store = storage.Store(db)
    try:
        return storage.find_region_id(store, name)
    finally:
        store.close()


@pytest.fixture
def partial_2025(tmp_path, db, capsys):
    """西堡镇 with two villages, one of which reports training for 2025."""
    (tmp_path / "regions.csv").write_text(TWO_VILLAGES, encoding="utf-8")
    (tmp_path / "training.csv").write_text(VILLAGE_TRAINING_2025, encoding="utf-8")
    code, _, err = run(capsys, "--db", db, "import", tmp_path / "regions.csv", tmp_path / "training.csv")
    assert code == 0, err
    return db


def test_a_year_with_only_partial_subdivision_figures_is_named_by_region_name(capsys, partial_2025):
    code, out, err = run(capsys, "--db", partial_2025, "indicators", "--region", "西堡镇", "--year", "2025")
    assert code == 2 and out == ""
    assert "西堡镇" in err and "2024" in err and "“”" not in err
    assert f"“{region_id(partial_2025, '西堡镇')}”" not in err  # never the internal id


def test_the_default_year_is_one_with_indicators(capsys, partial_2025):
    code, out, err = run(capsys, "--db", partial_2025, "indicators", "--region", "西堡镇", "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[1].startswith("2024,")


def test_deck_for_a_year_without_indicators_names_the_region(capsys, partial_2025, tmp_path):
    code, _, err = run(capsys, "--db", partial_2025, "deck", tmp_path / "x.pptx", "--region", "西堡镇",
                       "--year", "2025")
    assert code == 2 and "西堡镇" in err and "“”" not in err and not (tmp_path / "x.pptx").exists()


# -- undo events and the default data --------------------------------------------------------------------


def test_undoing_an_undo_event_says_what_it_is_and_how_to_get_the_data_back(capsys, db, tmp_path):
    (tmp_path / "fix.csv").write_text("地区,年份,户籍人口\n西堡镇,2024,25300\n", encoding="utf-8")
    assert run(capsys, "--db", db, "import", tmp_path / "fix.csv")[0] == 0
    assert run(capsys, "--db", db, "undo", 2)[0] == 0
    _, history, _ = run(capsys, "--db", db, "history")
    assert history.splitlines()[0].startswith("3\t")  # history lists entry 3: the undo event
    code, out, err = run(capsys, "--db", db, "undo", 3)
    assert code == 2
    assert "没有编号" not in err and "撤销记录" in err and "第 2 批" in err and "fix.csv" in err
    code, out, err = run(capsys, "--db", db, "undo", 2)  # already undone: says by which event, and the way back
    assert code == 2 and "3" in err and "fix.csv" in err


def test_init_after_the_default_data_was_undone_tells_the_truth_and_restores_on_request(capsys, db):
    assert run(capsys, "--db", db, "undo", 1)[0] == 0
    code, out, _ = run(capsys, "--db", db, "init")
    assert code == 0
    assert "--restore-default" in out and "0 个有效" in out
    assert run(capsys, "--db", db, "indicators")[0] == 2  # nothing to show: init did not pretend
    code, out, err = run(capsys, "--db", db, "init", "--restore-default")
    assert code == 0, err
    assert t("cli.default_restored", "zh", batch=3) in out
    code, out, _ = run(capsys, "--db", db, "indicators", "--format", "csv")
    assert code == 0 and "registered_persons" in out and "25218" in out
    code, out, _ = run(capsys, "--db", db, "init", "--restore-default")  # in effect again: nothing to load
    assert code == 0 and t("cli.default_in_effect", "zh", batch=3) in out
    store = storage.Store(db)
    try:
        assert storage.data_version(store) == 3
    finally:
        store.close()


# -- --db in a missing folder ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["indicators"], ["history"], ["export", "OUT", "--format", "csv"],
                                     ["deck", "OUT/x.pptx"]])
def test_a_reading_command_on_a_missing_folder_is_refused_and_creates_nothing(capsys, tmp_path, command):
    missing = tmp_path / "typo" / "lawstats.duckdb"
    argv = [str(tmp_path / "out") if a == "OUT" else a.replace("OUT", str(tmp_path / "out")) for a in command]
    code, out, err = run(capsys, "--db", missing, *argv)
    assert code == 2 and out == ""
    assert str(missing.parent) in err and "init" in err
    assert not missing.parent.exists()


def test_a_writing_command_says_what_it_created(capsys, tmp_path):
    path = tmp_path / "new" / "folder" / "lawstats.duckdb"
    code, out, err = run(capsys, "--db", path, "init")
    assert code == 0 and path.exists()
    assert str(path.parent) in err and t("cli.db_created", "zh", path=path, batch=1) in err
    code, out, err = run(capsys, "--db", path, "init")
    assert code == 0 and "新建" not in err  # nothing new the second time


def test_a_reading_command_on_a_new_file_in_an_existing_folder_says_it_was_created(capsys, tmp_path):
    path = tmp_path / "fresh.duckdb"
    code, out, err = run(capsys, "--db", path, "indicators", "--format", "json")
    assert code == 0 and out.lstrip().startswith("[")  # stdout stays JSON
    assert t("cli.db_created", "zh", path=path, batch=1) in err
