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
    return dict(store.query_rows("SELECT table_name, table_oid FROM duckdb_tables() WHERE database_name = ?",
                                 [lake.REPLICA]))


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


def test_another_process_commit_shows_after_the_next_check_and_only_changed_tables_are_copied(pair):
    replica, direct = pair
    before = _table_oids(replica)
    batch_id = commit_csv(direct, "p.csv", POPULATION)
    # the replica holds its snapshot until the app's next page run asks (cache_version)
    assert storage.data_version(replica) == batch_id - 1
    assert storage.cache_version(replica) == storage.cache_version(direct)
    assert storage.data_version(replica) == batch_id
    _same(replica, direct)
    after = _table_oids(replica)
    copied = {name for name in before if after[name] != before[name]}
    assert {"batches", "fact_population", "cur_population"} <= copied
    assert "fact_land" not in copied and "cur_land" not in copied  # untouched tables keep their copy
    assert storage.cache_version(replica) == storage.cache_version(direct)  # a second check copies nothing
    assert _table_oids(replica) == after


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
