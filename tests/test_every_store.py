"""The parametrised store fixture itself (tests/conftest.py, tests/stores.py): a test marked ``every_store`` runs
on a store of each kind, each test's store is its own, and a machine without PostgreSQL fails the run unless
``LAWSTATS_TEST_SKIP_POSTGRES=1`` says to skip."""

from __future__ import annotations

import pytest

from lawstats import storage
from tests import stores
from tests.test_storage import commit_csv

KIND_OF = {"duckdb": "duckdb", "sqlite_lake": "sqlite", "sqlite_replica": "sqlite", "postgres_lake": "postgres"}


@pytest.mark.every_store
def test_each_kind_gives_a_store_of_that_kind(store_kind, fresh_store, empty_store, seeded_store):
    assert fresh_store.spec.kind == empty_store.spec.kind == seeded_store.spec.kind == KIND_OF[store_kind]
    assert fresh_store.spec == seeded_store.spec  # the open store is the test's seeded copy
    assert storage.data_version(fresh_store) == 1 and storage.list_batches(empty_store).empty
    # a replica kind reads its local copy (what the app does); the others read the store itself
    replica = store_kind in stores.REPLICA_KINDS
    assert fresh_store.replica is empty_store.replica is replica
    assert (fresh_store.query_rows("SELECT current_database()")[0][0] == "replica") is replica


@pytest.mark.every_store
def test_copies_of_the_seeded_store_are_independent(make_store):
    first, second = make_store(), make_store()
    assert first.spec != second.spec
    store = storage.Store(first.spec)
    try:
        commit_csv(store, "p.csv", "地区,年份,户籍人口,户籍户数\n西堡镇,2024,12345,7000\n")
    finally:
        store.close()
    other = storage.Store(second.spec)
    try:
        assert storage.data_version(other) == 1  # the other copy (and so the session's template) is untouched
    finally:
        other.close()


def test_the_app_store_fixture_points_the_app_at_the_store(app_store):
    from lawstats import lake

    assert lake.store_spec() == app_store.spec


def test_a_missing_postgresql_fails_unless_the_skip_variable_is_set(monkeypatch):
    monkeypatch.setattr(stores, "postgres_bin", lambda: None)
    monkeypatch.delenv(stores.SKIP_POSTGRES, raising=False)
    with pytest.raises(pytest.fail.Exception, match=stores.SKIP_POSTGRES):
        stores.require_postgres()
    monkeypatch.setenv(stores.SKIP_POSTGRES, "1")
    with pytest.raises(pytest.skip.Exception):
        stores.require_postgres()
