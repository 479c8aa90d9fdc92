"""The replica a long-running process reads a lake through (issue 12): a copy of the lake in a private local
DuckDB file (``lake.attach_replica``, ``lake.refresh_replica``).

Real SQLite-catalog lakes, real commits through a second Store (another DuckDB instance, as another process would
be) and through the replica's own Store; what the replica holds is compared with the lake read directly.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from lawstats import lake, seed, storage
from tests import stores
from tests.test_storage import commit_csv

POPULATION = "地区,年份,户籍人口,户籍户数\n西堡镇,2025,12001,4100\n"


@pytest.fixture
def lake_setting(tmp_path) -> stores.StoreSetting:
    setting = stores.new_lake("sqlite", tmp_path, "replica")
    seed.open_store(setting.spec, replica=False).close()
    return setting


@pytest.fixture
def pair(lake_setting):
    """(a Store reading through the replica, a Store reading the lake directly) on one lake."""
    replica, direct = storage.Store(lake_setting.spec, replica=True), storage.Store(lake_setting.spec, replica=False)
    yield replica, direct
    replica.close()
    direct.close()


def _table_oids(store: storage.Store) -> dict[str, int]:
    """Each lake table the replica holds, by its name, with the oid of the replica table holding its rows (a new
    oid: the table was copied again)."""
    rows = store.query_rows("SELECT table_name, table_oid FROM duckdb_tables() WHERE database_name = ?",
                            [lake.REPLICA])
    return {name.removeprefix(lake.ROWS_PREFIX): oid for name, oid in rows}


def _lake_rows(store: storage.Store, table: str, database: str) -> list[tuple]:
    return sorted(store.query_rows(f'SELECT * FROM {database}.main."{table}"'), key=repr)


def _every_table_same(replica: storage.Store, direct: storage.Store) -> None:
    """Every table of the lake, row for row, in the replica (the page queries read nothing else)."""
    names = {r[0] for r in direct.query_rows("SELECT table_name FROM duckdb_tables() WHERE database_name = ?",
                                             [lake.LAKE])}
    assert lake.replica_tables(replica.cursor()) == names
    for name in sorted(names):
        # compared as text: NaN equals NaN there (_lake_rows sorts them the same way)
        held, truth = (list(map(repr, _lake_rows(replica, name, lake.REPLICA))),
                       list(map(repr, _lake_rows(direct, name, lake.LAKE))))
        assert held == truth, name


def _same(replica: storage.Store, direct: storage.Store) -> None:
    assert storage.list_batches(replica).equals(storage.list_batches(direct))
    assert storage.regions(replica).equals(storage.regions(direct))
    ids = storage.regions(direct)["region_id"].astype(int).tolist()
    assert storage.indicator_inputs(replica, ids).equals(storage.indicator_inputs(direct, ids))


def test_the_replica_reads_its_local_copy_and_answers_as_the_lake(pair):
    replica, direct = pair
    assert replica.query_rows("SELECT current_database()")[0][0] == lake.REPLICA
    path = replica.query_rows("SELECT path FROM duckdb_databases() WHERE database_name = ?", [lake.REPLICA])[0][0]
    assert Path(path).is_file() and Path(path).parent.name.startswith("lawstats-replica-")
    assert direct.query_rows("SELECT current_database()")[0][0] == lake.LAKE
    assert set(_table_oids(replica)) == {r[0] for r in direct.query_rows(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [lake.LAKE])}
    _same(replica, direct)


def test_another_process_commit_shows_after_the_next_check_taken_in_as_its_changes(pair):
    replica, direct = pair
    before = _table_oids(replica)
    batch_id = commit_csv(direct, "p.csv", POPULATION)
    # the replica holds its snapshot until the app's next page run asks (cache_version)
    assert storage.data_version(replica) == batch_id - 1
    assert storage.cache_version(replica) == storage.cache_version(direct)
    assert storage.data_version(replica) == batch_id
    _same(replica, direct)
    _every_table_same(replica, direct)
    assert _table_oids(replica) == before  # the changed rows were taken in; no table was copied again
    assert storage.cache_version(replica) == storage.cache_version(direct)  # a second check changes nothing
    assert _table_oids(replica) == before


def test_regions_figures_and_an_undo_from_another_process_end_as_in_the_lake(pair):
    """What the app's commits do to the tables: the region tree rebuilt with rows inserted and updated in one
    transaction (DuckLake then lists changes under row ids the rows do not keep), current and rollup tables
    rewritten in part, an undo. Checked after each check-in, every table row for row."""
    replica, direct = pair
    commit_csv(direct, "regions.csv", "名称,级别,上级\n东村,村,西堡镇\n西村,村,西堡镇\n")
    storage.cache_version(replica)
    _every_table_same(replica, direct)
    batch_id = commit_csv(direct, "p.csv", "地区,年份,户籍人口,户籍户数\n东村,2024,1200,400\n西村,2024,800,300\n")
    storage.cache_version(replica)
    _every_table_same(replica, direct)
    storage.undo_batch(direct, batch_id, user_name="t")
    commit_csv(direct, "p2.csv", POPULATION)  # two commits between checks
    storage.cache_version(replica)
    _every_table_same(replica, direct)


def test_inserts_deletes_and_updates_over_several_snapshots_end_as_in_the_lake(pair, monkeypatch):
    """Changes between two checks, as another process makes them: a row inserted and deleted before the check
    never shows, an updated row shows its last value, a deleted row goes."""
    replica, direct = pair
    sql = direct.cursor()
    sql.execute("CREATE TABLE lake.main.changes_test (id INTEGER, v VARCHAR)")
    sql.execute("INSERT INTO lake.main.changes_test SELECT i, 'v' || i FROM range(100) t(i)")
    storage.cache_version(replica)
    oid = _table_oids(replica)["changes_test"]
    sql.execute("INSERT INTO lake.main.changes_test VALUES (100, 'new'), (101, 'gone soon')")
    sql.execute("DELETE FROM lake.main.changes_test WHERE id IN (3, 101)")
    sql.execute("UPDATE lake.main.changes_test SET v = 'once' WHERE id = 5")
    sql.execute("UPDATE lake.main.changes_test SET v = 'twice' WHERE id IN (5, 6)")
    sql.execute("DELETE FROM lake.main.changes_test WHERE id = 6")
    storage.cache_version(replica)
    held = _lake_rows(replica, "changes_test", lake.REPLICA)
    assert held == _lake_rows(direct, "changes_test", lake.LAKE)
    assert (5, "twice") in held and (100, "new") in held and len(held) == 99
    assert _table_oids(replica)["changes_test"] == oid  # taken in as changes
    monkeypatch.setattr(lake, "COPY_WHOLE_FROM", 50)  # as if 50 rows were many: a national table's size
    sql.execute("DELETE FROM lake.main.changes_test WHERE id < 90")  # most of the table: copied instead
    storage.cache_version(replica)
    assert _lake_rows(replica, "changes_test", lake.REPLICA) == _lake_rows(direct, "changes_test", lake.LAKE)
    assert _table_oids(replica)["changes_test"] != oid


def test_own_writes_show_at_once_and_a_refused_write_leaves_the_replica_reading(pair):
    replica, direct = pair
    batch_id = commit_csv(replica, "p.csv", POPULATION)
    assert storage.data_version(replica) == batch_id  # no check needed for this process's own commit
    storage.undo_batch(replica, batch_id, user_name="t")
    _same(replica, direct)
    with pytest.raises(Exception):
        storage.undo_batch(replica, batch_id + 1, user_name="t")  # an undo event cannot be undone
    assert replica.query_rows("SELECT current_database()")[0][0] == lake.REPLICA
    _same(replica, direct)


def test_a_schema_change_or_expired_snapshots_copy_everything_again(pair, lake_setting):
    replica, direct = pair
    direct.cursor().execute("CREATE TABLE lake.main.added_by_another_version (x INTEGER)")
    direct.cursor().execute("INSERT INTO lake.main.added_by_another_version VALUES (7)")
    storage.cache_version(replica)
    assert replica.query_rows("SELECT x FROM added_by_another_version") == [(7,)]
    direct.cursor().execute("DROP TABLE lake.main.added_by_another_version")
    commit_csv(direct, "p.csv", POPULATION)
    storage.housekeeping(direct, keep_hours=0)  # expires every snapshot but the newest
    storage.cache_version(replica)
    assert "added_by_another_version" not in _table_oids(replica)
    _same(replica, direct)


def test_a_housekeeping_merge_is_taken_in_without_copying_again(pair):
    """A nightly housekeeping merges small files (rows keep their lake row ids) and, within its window, expires
    nothing recent: the replica takes the merge in like any commit instead of copying every table again (a
    national lake: 50 s per app process). Commits before and after the merge, one refresh for all three."""
    replica, direct = pair
    for n in range(3):
        commit_csv(direct, f"p{n}.csv", POPULATION.replace("12001", str(12001 + n)))
    storage.cache_version(replica)
    before = _table_oids(replica)
    commit_csv(direct, "before_merge.csv", POPULATION.replace("12001", "12010"))
    storage.housekeeping(direct)  # the default window: one hour
    assert "merge_adjacent" in str(direct.query_rows("SELECT changes FROM lake.snapshots() "
                                                     "ORDER BY snapshot_id DESC LIMIT 1"))
    commit_csv(direct, "after_merge.csv", POPULATION.replace("12001", "12011"))
    storage.cache_version(replica)
    assert _table_oids(replica) == before  # no table was copied again
    _same(replica, direct)


def test_readers_never_see_half_of_a_refresh(pair):
    """Threads read a batch's facts together with the batches table while other commits arrive and the replica
    takes them in: every batch a fact row names is in the batches table of the same read."""
    replica, direct = pair
    stop, problems = threading.Event(), []

    def read() -> None:
        while not stop.is_set():
            orphans = replica.query_rows(
                "SELECT count(*) FROM fact_population f WHERE f.batch_id NOT IN (SELECT batch_id FROM batches)")
            if orphans[0][0]:
                problems.append(orphans[0][0])

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for n in range(6):
            commit_csv(direct, f"p{n}.csv", POPULATION.replace("12001", str(12001 + n)))
            storage.cache_version(replica)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert problems == []
    _same(replica, direct)


def test_the_app_reads_a_lake_through_the_replica_unless_told_not_to(lake_setting, monkeypatch):
    assert lake.replica_wanted(True, {}) and not lake.replica_wanted(False, {})
    assert not lake.replica_wanted(True, {"LAWSTATS_LAKE_REPLICA": "0"})
    assert lake.replica_wanted(False, {"LAWSTATS_LAKE_REPLICA": "1"})
    monkeypatch.delenv("LAWSTATS_LAKE_REPLICA", raising=False)
    store = storage.Store(lake_setting.spec)  # the CLI's way: no replica unless asked
    try:
        assert not store.replica
    finally:
        store.close()


def test_closing_the_store_removes_its_copy(lake_setting):
    store = storage.Store(lake_setting.spec, replica=True)
    path = Path(store.query_rows("SELECT path FROM duckdb_databases() WHERE database_name = ?", [lake.REPLICA])[0][0])
    assert path.is_file()
    store.close()
    assert not path.parent.exists()
