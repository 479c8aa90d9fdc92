"""Undo never cuts data off from its region (issue 9, item 1).

A batch that created regions (the seed included) cannot be undone alone while a later batch that is not undone
has rows in those regions or created regions under them: the undo is refused naming those batches, or undoes
them too when they are confirmed (the CLI's ``--with-dependents``, the data page's checkbox)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lawstats import cli, exchange, storage, summary
from lawstats.errors import NotFound, UndoRefused
from lawstats.importer import ImportOptions, prepare_import
from lawstats.reader import read_csv_bytes
from lawstats.i18n import t
from lawstats.registry import TABLES
from tests.test_data_page import (_frame_runs_every_time, analyst, button, log_in, open_data_page,  # noqa: F401
                                  users_file)

NEW_VILLAGE = "名称,级别,上级\n新村,村,西堡镇\n"
VILLAGE_2021 = "地区,年份,户籍人口\n新村,2021,111\n"
TOWN_2023 = "地区,年份,户籍人口\n西堡镇,2023,25000\n"
SEED = 1
# The store-level tests (on ``fresh_store``) and the data-page test (``app_store``) run on each store
# (tests/conftest.py); the CLI tests below stay on a DuckDB file (``--db``).
pytestmark = pytest.mark.every_store


def commit_csv(store, name: str, text: str) -> int:
    data = text.encode("utf-8")
    prepared = prepare_import(storage.regions(store), [(name, read_csv_bytes(data))],
                              ImportOptions(source="测试 test", user_name="tester"), storage.sha256_of(data))
    return storage.commit_batch(store, prepared.batch)


def orphan_rows(store) -> int:
    """Current rows whose region is not a current region: what undo must never leave behind."""
    known = set(storage.regions(store)["region_id"].astype(int))
    count = 0
    for table in TABLES:
        rows = storage.table_as_of(store, table)
        count += int((~rows["region_id"].astype(int).isin(known)).sum())
    return count


def undone(store) -> set[int]:
    batches = storage.list_batches(store)
    return {int(b) for b in batches.loc[batches["undone"], "batch_id"]}


@pytest.fixture
def village(fresh_store):
    """The seed (1), a batch creating 新村 under 西堡镇 (2), a batch with 新村's 2021 figures (3)."""
    regions_batch = commit_csv(fresh_store, "regions.csv", NEW_VILLAGE)
    figures_batch = commit_csv(fresh_store, "pop.csv", VILLAGE_2021)
    assert (regions_batch, figures_batch) == (2, 3)
    return fresh_store


def test_undoing_the_batch_that_created_a_region_in_use_is_refused_naming_the_user(village):
    version = storage.data_version(village)
    with pytest.raises(UndoRefused) as refused:
        storage.undo_batch(village, 2)
    assert refused.value.key == "error.undo_has_dependents"
    assert list(refused.value.details["batch_id"]) == [3]
    assert "3" in refused.value.message("zh") and "pop.csv" in refused.value.message("en")
    assert storage.data_version(village) == version  # nothing recorded
    assert "新村" in set(storage.regions(village)["name"]) and orphan_rows(village) == 0


def test_undoing_with_the_confirmed_dependents_undoes_them_too_and_leaves_no_orphan(village):
    assert list(storage.dependent_batches(village, 2)["batch_id"]) == [3]
    event = storage.undo_batch(village, 2, confirmed_dependents=[3])
    assert undone(village) == {2, 3}
    assert event == storage.data_version(village)  # the requested batch's undo is the last event
    assert orphan_rows(village) == 0 and "新村" not in set(storage.regions(village)["name"])
    csv = exchange.export_csv(village, "population", "zh").decode("utf-8-sig")
    assert "111" not in csv and ",,,2021" not in csv


def test_a_dependent_list_that_no_longer_matches_is_refused(village):
    commit_csv(village, "more.csv", "地区,年份,户籍人口\n新村,2022,120\n")  # 4: a new user since the question
    with pytest.raises(UndoRefused) as refused:
        storage.undo_batch(village, 2, confirmed_dependents=[3])
    assert refused.value.key == "error.undo_dependents_changed"
    assert undone(village) == set()


def test_a_batch_checked_before_its_region_was_undone_is_refused_at_commit(village):
    """The other way round: a file checked while 新村 existed, committed after 新村's batch was undone."""
    data = "地区,年份,户籍人口\n新村,2022,120\n".encode("utf-8")
    late = prepare_import(storage.regions(village), [("late.csv", read_csv_bytes(data))],
                          ImportOptions(source="测试 test", user_name="tester"), storage.sha256_of(data))
    storage.undo_batch(village, 2, confirmed_dependents=[3])
    version = storage.data_version(village)
    with pytest.raises(NotFound) as stale:
        storage.commit_batch(village, late.batch)
    assert stale.value.key == "error.upload_stale"
    assert storage.data_version(village) == version and orphan_rows(village) == 0


def test_undoing_the_dependent_first_then_the_region_works(village):
    storage.undo_batch(village, 3)
    storage.undo_batch(village, 2)
    assert undone(village) == {2, 3} and orphan_rows(village) == 0


def test_a_region_created_under_a_new_region_makes_its_batch_a_dependent(village):
    hamlet = commit_csv(village, "hamlet.csv", "名称,级别,上级\n新村一组,村,新村\n")
    assert set(storage.dependent_batches(village, 2)["batch_id"]) == {3, hamlet}


def test_the_seed_cannot_be_undone_under_later_data_in_its_regions(fresh_store):
    correction = commit_csv(fresh_store, "town.csv", TOWN_2023)  # 西堡镇 was created by the seed
    with pytest.raises(UndoRefused) as refused:
        storage.undo_batch(fresh_store, SEED)
    assert list(refused.value.details["batch_id"]) == [correction]
    assert summary.find_region(fresh_store, "西堡镇")


def test_dependents_are_found_through_a_chain(fresh_store):
    """The seed → 新村 (batch 2, under 西堡镇) → its figures (batch 3): undoing the seed needs both."""
    commit_csv(fresh_store, "regions.csv", NEW_VILLAGE)
    commit_csv(fresh_store, "pop.csv", VILLAGE_2021)
    assert set(storage.dependent_batches(fresh_store, SEED)["batch_id"]) == {2, 3}
    storage.undo_batch(fresh_store, SEED, confirmed_dependents=[2, 3])
    assert undone(fresh_store) == {1, 2, 3} and orphan_rows(fresh_store) == 0
    assert storage.regions(fresh_store).empty


def test_an_undone_batch_is_no_dependent(village):
    storage.undo_batch(village, 3)
    assert storage.dependent_batches(village, 2).empty


def test_a_batch_with_figures_only_has_no_dependents(village):
    assert storage.dependent_batches(village, 3).empty


# -- the command line --------------------------------------------------------------------------------------


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def village_db(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    (tmp_path / "regions.csv").write_text(NEW_VILLAGE, encoding="utf-8")
    (tmp_path / "pop.csv").write_text(VILLAGE_2021, encoding="utf-8")
    assert run(capsys, "--db", db, "import", tmp_path / "regions.csv")[0] == 0
    assert run(capsys, "--db", db, "import", tmp_path / "pop.csv")[0] == 0
    return db


def test_cli_undo_refuses_and_names_the_dependents_and_the_option(capsys, village_db):
    code, out, err = run(capsys, "--db", village_db, "undo", 2)
    assert code == 2 and out == ""
    assert "pop.csv" in err and "--with-dependents" in err and "Traceback" not in err
    code, out, _ = run(capsys, "--db", village_db, "history")
    assert "撤销第" not in out  # nothing was undone


def test_cli_undo_with_dependents(capsys, village_db):
    code, out, err = run(capsys, "--db", village_db, "--lang", "en", "undo", 2, "--with-dependents")
    assert code == 0, err
    assert "2" in out and "3" in out
    code, out, _ = run(capsys, "--db", village_db, "export", village_db.parent / "out", "--format", "csv")
    exported = pd.read_csv(village_db.parent / "out" / "population.csv", encoding="utf-8-sig")
    assert code == 0 and exported["地区"].notna().all() and 2021 not in set(exported["年份"])


# -- the data page -----------------------------------------------------------------------------------------


def test_data_page_asks_to_confirm_the_dependents_before_undoing(app_store, analyst, capsys, tmp_path):
    # the page (and the CLI before it) on each store: app_store sets LAWSTATS_STORE for both
    (tmp_path / "regions.csv").write_text(NEW_VILLAGE, encoding="utf-8")
    (tmp_path / "pop.csv").write_text(VILLAGE_2021, encoding="utf-8")
    assert run(capsys, "import", tmp_path / "regions.csv")[0] == 0
    assert run(capsys, "import", tmp_path / "pop.csv")[0] == 0
    at = open_data_page()
    log_in(at)
    [choose] = [s for s in at.selectbox if s.label == t("data.undo_choose", "zh")]
    choose.set_value(2).run()
    button(at, "data.undo").click().run()
    warning = shown(at.warning)
    assert "pop.csv" in warning and "3" in warning
    assert button(at, "data.undo_yes").disabled  # not before the dependents are confirmed
    [tick] = [c for c in at.checkbox if c.label == t("data.undo_with_dependents", "zh", count=1)]
    tick.check().run()
    button(at, "data.undo_yes").click().run()
    assert not at.exception, at.exception
    success = shown(at.success)
    assert "2" in success and "3" in success
    store = ui_store()
    assert undone(store) == {2, 3} and orphan_rows(store) == 0


def shown(elements) -> str:
    """Alerts' texts as the reader sees them (the page escapes markdown in texts that name files)."""
    return "\n".join(re.sub(r"\\(.)", r"\1", e.value) for e in elements)


def ui_store():
    """The store the page wrote through (the app's one Store of this process)."""
    from lawstats import ui

    return ui.get_store()
