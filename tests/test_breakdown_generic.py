"""Tables with a breakdown (one row per item: per study programme, per case type) are summarised and rolled up
by generic code, from the summary each registry ``Table`` declares (issue 10 §1).

A second breakdown table, declared only here ("cases", per case type), goes into a real DuckDB file through
real commits and an undo; its summary, its rollup and its effective figures are checked against values worked
out by hand from the rows below.
"""

from __future__ import annotations

import gzip
import importlib
import pkgutil
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from lawstats import registry, storage
from lawstats.registry import MIN, ROWS, SUM, Column, Figure, Summary, Table
from tests.conftest import ROOT

CASE_KINDS = (("civil", "民事", "Civil"), ("admin", "行政", "Administrative"))
CASES = Table("cases", "案件", "Cases", "cases", (
    Column("case_type", "案件类型", "Case type", registry.TEXT, key=True),
    Column("case_kind", "类别", "Kind", registry.CHOICE, choices=CASE_KINDS),
    Column("received", "受理件数", "Cases received", registry.COUNT, minimum=0),
    Column("closed", "办结件数", "Cases closed", registry.COUNT, minimum=0),
    Column("closure_rate_stated", "办结率（报告值）", "Closure rate (as reported)", registry.RATE),
), summary=Summary((
    Figure("civil_received", SUM, "received", ("case_kind", "civil")),
    Figure("admin_received", SUM, "received", ("case_kind", "admin")),
    Figure("case_rows", ROWS),
    Figure("counted_case_rows", ROWS, positive=("received",), known=("closed",)),
    Figure("closure_stated_min", MIN, "closure_rate_stated"),
), order=("closed", "received"), stated_rates=(("closure_rate_stated", "closed", "received"),)))

ADDS_UP = ["civil_received", "admin_received", "case_rows", "counted_case_rows", "cases_order_violations"]
NOT_ROLLED = ["closure_stated_min", "cases_max_rate_gap"]

# A township (-1) with two villages; temporary ids, as the importer hands them over.
REGIONS = pd.DataFrame({"region_id": [-1, -2, -3], "name": ["案例镇", "甲村", "乙村"],
                        "level": ["township", "village", "village"], "parent_id": [None, -1, -1],
                        "code": [None, None, None]})
CASE_COLUMNS = ["region_id", "year", "case_type", "case_kind", "received", "closed", "closure_rate_stated"]


def case_rows(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=CASE_COLUMNS)
    frame["source"], frame["section"], frame["approx"] = "测试 test", None, [[] for _ in rows]
    return frame


@pytest.fixture
def cases_store(tmp_path, monkeypatch):
    """A fresh store whose registry has the "cases" table besides the shipped ones."""
    tables = (*storage.TABLES, CASES)
    # each module of the package imported the registry's names: the patch goes to every one that holds them
    for module in storage_modules():
        for name, value in (("TABLES", tables), ("TABLES_BY_ID", {t.id: t for t in tables})):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, value)
    store = storage.Store(tmp_path / "cases.duckdb")
    yield store
    store.close()


def storage_modules() -> list:
    """The package ``lawstats.storage`` and each of its modules."""
    names = [m.name for m in pkgutil.iter_modules(storage.__path__)]
    return [storage, *(importlib.import_module(f"lawstats.storage.{name}") for name in names)]


def ids_by_name(store) -> dict[str, int]:
    regions = storage.regions(store)
    return dict(zip(regions["name"], regions["region_id"].astype(int)))


def row_of(frame: pd.DataFrame, region_id: int, year: int) -> dict:
    found = frame[(frame["region_id"] == region_id) & (frame["year"] == year)]
    assert len(found) == 1, (region_id, year, frame)
    return {k: (None if pd.isna(v) else float(v)) if k not in ("region_id", "year") else v
            for k, v in found.iloc[0].to_dict().items()}


def test_storage_names_no_table():
    """The generic code names no table: the word appears nowhere in the storage package."""
    files = sorted((ROOT / "lawstats" / "storage").glob("*.py"))
    assert len(files) > 1
    for path in files:
        assert "training" not in path.read_text(encoding="utf-8").lower(), path.name


def test_a_breakdown_table_declared_only_in_a_test_registry_gets_its_summary_rollup_and_inputs(cases_store):
    store = cases_store
    rows = case_rows(
        # 甲村 2024: a civil type 8 of 10 closed, stated 80%; an admin type closed 5 of 4 (breaks closed ≤
        # received) and stated 100% where the counts give 125%: a gap of 25 points
        (-2, 2024, "婚姻家庭", "civil", 10, 8, 80.0),
        (-2, 2024, "行政复议", "admin", 4, 5, 100.0),
        # 乙村 2024: 6 of 6 closed, stated 90% (gap 10)
        (-3, 2024, "合同纠纷", "civil", 6, 6, 90.0),
        # 2023: only 甲村 reports, so the township's 2023 figures are not complete
        (-2, 2023, "婚姻家庭", "civil", 7, None, None),
    )
    first = storage.commit_batch(store, storage.NewBatch(file_name="cases.csv", regions=REGIONS, rows={"cases": rows}))
    ids = ids_by_name(store)
    town, village_a, village_b = ids["案例镇"], ids["甲村"], ids["乙村"]

    tables = {r[0] for r in store.query_rows("SELECT table_name FROM information_schema.tables")}
    assert {"fact_cases", "cur_cases", "sum_cases", "roll_cases"} <= tables

    summary = store.query_df("SELECT * FROM sum_cases ORDER BY region_id, year")
    assert list(summary.columns) == ["region_id", "year", *[n for n, _ in CASES.summary_columns]]
    assert row_of(summary, village_a, 2024) == {
        "region_id": village_a, "year": 2024, "civil_received": 10, "admin_received": 4, "case_rows": 2,
        "counted_case_rows": 2, "closure_stated_min": 80.0, "cases_order_violations": 1, "cases_max_rate_gap": 25.0}
    assert row_of(summary, village_b, 2024) == {
        "region_id": village_b, "year": 2024, "civil_received": 6, "admin_received": None, "case_rows": 1,
        "counted_case_rows": 1, "closure_stated_min": 90.0, "cases_order_violations": 0, "cases_max_rate_gap": 10.0}
    # nothing to check the order on (closed missing) is missing, not 0
    assert row_of(summary, village_a, 2023)["cases_order_violations"] is None

    rollup = store.query_df("SELECT * FROM roll_cases ORDER BY region_id, year")
    assert list(rollup.columns) == ["region_id", "year", "n_children", "n_reporting", *ADDS_UP]
    assert row_of(rollup, town, 2024) == {"region_id": town, "year": 2024, "n_children": 2, "n_reporting": 2,
                                          "civil_received": 16, "admin_received": 4, "case_rows": 3,
                                          "counted_case_rows": 3, "cases_order_violations": 1}
    assert row_of(rollup, town, 2023)["n_reporting"] == 1

    inputs = storage.indicator_inputs(store, [town, village_a, village_b])
    town_2024 = row_of(inputs, town, 2024)
    assert {k: town_2024[k] for k in ADDS_UP} == {"civil_received": 16, "admin_received": 4, "case_rows": 3,
                                                  "counted_case_rows": 3, "cases_order_violations": 1}
    assert all(town_2024[k] is None for k in NOT_ROLLED)  # stated rates do not add up
    assert not ((inputs["region_id"] == town) & (inputs["year"] == 2023)).any()  # one of two villages: no sum
    assert row_of(inputs, village_a, 2024)["cases_max_rate_gap"] == 25.0

    # A correction adds a type to 乙村 and closes fewer of its contract cases: summary and rollup follow ...
    second = storage.commit_batch(store, storage.NewBatch(file_name="more.csv", rows={"cases": case_rows(
        (village_b, 2024, "合同纠纷", "civil", None, 3, None),
        (village_b, 2024, "行政诉讼", "admin", 2, 1, None),
    )}))
    after = storage.indicator_inputs(store, [town, village_b], [2024])
    assert row_of(after, village_b, 2024)["cases_max_rate_gap"] == 40.0  # 3 of 6 closed is 50%, stated 90%
    assert {k: row_of(after, town, 2024)[k] for k in ("admin_received", "case_rows", "counted_case_rows")} == \
        {"admin_received": 6, "case_rows": 4, "counted_case_rows": 4}

    # ... and its undo gives back exactly what the first batch alone gave.
    storage.undo_batch(store, second)
    undone = storage.indicator_inputs(store, [town, village_a, village_b])
    pd.testing.assert_frame_equal(undone, inputs)
    assert first == 1


def test_the_shipped_breakdown_tables_keep_their_stored_layout(tmp_path):
    """A database kept from before keeps its summary and rollup tables as they are: nothing to rebuild."""
    path = tmp_path / "old.duckdb"
    with gzip.open(ROOT / "tests" / "files" / "db_before_observations.duckdb.gz") as packed, open(path, "wb") as out:
        shutil.copyfileobj(packed, out)
    con = duckdb.connect(str(path))
    try:
        kept = ("sum_training", "roll_training")
        before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in kept}
        _, stale = storage._stale_scale_tables(con)
        assert not set(kept) & set(stale)
        storage.migrate(con)
        con.execute("BEGIN")
        storage.rebuild_scale_tables(con)  # the generic SQL, from the current rows
        con.execute("COMMIT")
        assert {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in before} == before
        assert before["sum_training"], "the kept database has training rows to compare"
    finally:
        con.close()


@pytest.mark.parametrize("build, problem", [
    (lambda: Table("x", "x", "x", "x", (Column("item", "项", "Item", registry.TEXT, key=True),)), "go together"),
    (lambda: Table("x", "x", "x", "x", (Column("n", "数", "N", registry.COUNT),), summary=Summary(())), "go together"),
    (lambda: Table("x", "x", "x", "x", (Column("item", "项", "Item", registry.TEXT, key=True),),
                   summary=Summary((Figure("total", SUM, "nowhere"),))), "unknown columns"),
    (lambda: Table("x", "x", "x", "x", (Column("item", "项", "Item", registry.TEXT, key=True),
                                        Column("kind", "类", "Kind", registry.CHOICE, choices=CASE_KINDS)),
                   summary=Summary((Figure("n", ROWS, among=("kind", "criminal")),))), "undeclared choice"),
])
def test_a_summary_that_does_not_fit_its_table_is_refused_when_declared(build, problem):
    with pytest.raises(ValueError, match=problem):
        build()


def test_the_training_summary_is_declared_on_its_table():
    names = [n for n, _ in registry.TRAINING.summary_columns]
    assert names[-2:] == ["training_order_violations", "training_max_rate_gap"]
    assert storage.summary_not_rolled(registry.TRAINING) == [
        "study_rate_stated_min", "exam_participation_stated_min", "exam_pass_stated_min", "training_max_rate_gap"]
    assert storage.breakdown_tables() == [registry.TRAINING]
    assert storage.summary_sums(registry.TRAINING) == [n for n in names if n not in storage.summary_not_rolled(
        registry.TRAINING)]
