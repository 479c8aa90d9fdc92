"""Shared fixtures: a fresh database file, migrated and seeded from the same data/ files the app uses.

Seeding costs about a second; copying the seeded file costs a hundredth. So the default data is loaded once per
test session (``seeded_template``) and every test that wants it gets its own copy of that file (``seeded_db``,
``fresh_store``, ``app_db``): each test still has a database of its own that it may change freely.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import duckdb
import pytest

from lawstats import seed, storage
from lawstats.storage import recovery
from tests import stores
from tests.stores import copy_seeded  # noqa: F401  (test modules import it from here)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _never_the_real_database(tmp_path, monkeypatch):
    """Guard: no test may touch ``data/lawstats.duckdb``. Every test starts with ``LAWSTATS_DB`` on a file of its
    own (a test or fixture may point it elsewhere with ``monkeypatch.setenv``); subprocesses inherit it.

    AppTest runs the app in this process, so Streamlit's caches (the store in ``st.cache_resource``, the loaders
    in ``st.cache_data``, keyed on the data version only) would carry one test's database into the next: clear them.
    """
    monkeypatch.setenv("LAWSTATS_DB", str(tmp_path / "lawstats-default.duckdb"))
    monkeypatch.delenv("LAWSTATS_STORE", raising=False)  # it would win over LAWSTATS_DB (lake tests set it)
    monkeypatch.delenv("LAWSTATS_LAKE_DATA", raising=False)
    _clear_streamlit_caches()
    yield
    _clear_streamlit_caches()


def _clear_streamlit_caches() -> None:
    import sys

    if "streamlit" in sys.modules:  # only tests that ran the app have filled them
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Path:
    """The default data loaded once, through the app's own path (``seed.open_store``), into a closed file that
    no test opens: tests get copies (``copy_seeded``)."""
    path = tmp_path_factory.mktemp("seeded-template") / "lawstats.duckdb"
    seed.open_store(path).close()
    return path


@pytest.fixture
def seeded_db(seeded_template, tmp_path) -> Path:
    """A closed DuckDB file of this test's own holding the default data (one seed batch): for the CLI, a
    subprocess or a server, which open it themselves."""
    return copy_seeded(seeded_template, tmp_path / "lawstats.duckdb")


# ---------------------------------------------------------------------------------------------------------
# Every store (issue 12): the storage, import and page tests run on a DuckDB file, a SQLite-catalog lake and a
# PostgreSQL-catalog lake. A test opts in with ``@pytest.mark.every_store`` (or ``pytestmark`` for a module) and
# any store fixture below (``fresh_store``, ``empty_store``, ``seeded_store``, ``app_store``); without the mark
# those fixtures give a DuckDB file as before. One PostgreSQL cluster serves the session, a database per test.


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("every_store") and "store_kind" in metafunc.fixturenames:
        metafunc.parametrize("store_kind", stores.STORE_KINDS, indirect=True)


@pytest.fixture
def store_kind(request, monkeypatch) -> str:
    """The kind of store this test runs on (a ``stores.STORE_KINDS`` name): "duckdb" unless parametrised. On a
    replica kind every Store of the test (and its subprocesses) reads through the app's local replica."""
    kind = getattr(request, "param", "duckdb")
    monkeypatch.setenv("LAWSTATS_LAKE_REPLICA", "1" if kind in stores.REPLICA_KINDS else "0")
    return kind


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL cluster for the session (libpq DSN of its ``postgres`` database)."""
    from bench.lake_bench import postgres_cluster

    stores.require_postgres()
    with postgres_cluster() as dsn:
        yield dsn


@pytest.fixture(scope="session")
def _seeded_lakes() -> dict[str, stores.StoreSetting]:
    """Lakes holding the default data, closed, seeded on first use (one per kind): tests get copies."""
    return {}


@pytest.fixture
def make_store(store_kind, request, tmp_path, tmp_path_factory, _seeded_lakes):
    """``make_store(seeded=True)``: a new closed store of this test's kind in ``tmp_path`` (a
    ``stores.StoreSetting``), holding the default data or (``seeded=False``) nothing yet."""
    pg = request.getfixturevalue("pg_cluster") if store_kind == "postgres_lake" else None
    made = itertools.count()

    def template() -> stores.StoreSetting:
        if store_kind == "duckdb":
            return stores.duckdb_setting(request.getfixturevalue("seeded_template"))
        if store_kind not in _seeded_lakes:
            folder = tmp_path_factory.mktemp(f"seeded-{store_kind}")
            lake_made = stores.new_store(store_kind, folder, f"seeded_{store_kind}", pg)
            seed.open_store(lake_made.spec).close()
            _seeded_lakes[store_kind] = lake_made
        return _seeded_lakes[store_kind]

    def make(seeded: bool = True) -> stores.StoreSetting:
        # a PostgreSQL database name is global to the cluster: random, so tests never meet
        name = f"t{random.randrange(10**9)}_{next(made)}"
        setting = stores.new_store(store_kind, tmp_path, name, pg, template() if seeded else None)
        request.addfinalizer(lambda: stores.drop_lake_database(setting))  # the cluster outlives the test
        return setting

    return make


@pytest.fixture
def seeded_store(store_kind, make_store, request) -> stores.StoreSetting:
    """This test's own closed store holding the default data; on a DuckDB file it is ``seeded_db``."""
    if store_kind == "duckdb":
        return stores.duckdb_setting(request.getfixturevalue("seeded_db"))
    return make_store()


@pytest.fixture
def fresh_store(seeded_store) -> storage.Store:
    """This test's own store holding the default data (one seed batch), open."""
    store = seed.open_store(seeded_store.spec)
    yield store
    _assert_row_counts_recorded(store)
    store.close()


def _assert_row_counts_recorded(store: storage.Store) -> None:
    """Every write path records the row counts that the next open checks (storage.recovery): a path that did
    not would make that open "repair" a file that was never torn. Checked after every test on a fresh store."""
    if store.spec.is_lake:
        return
    try:
        changes = recovery.unrecorded_changes(store.cursor())
    except duckdb.Error:
        return  # the test closed its store, or made DuckDB invalidate it (a full disk)
    assert not changes, f"row counts changed outside a recorded write: {changes}"


@pytest.fixture
def empty_store(make_store) -> storage.Store:
    """A migrated store with no batch at all."""
    store = storage.Store(make_store(seeded=False).spec)
    yield store
    store.close()


@pytest.fixture
def app_store(seeded_store, monkeypatch) -> stores.StoreSetting:
    """Point the app (AppTest, the CLI or a server) at this test's own store holding the default data."""
    for name, value in seeded_store.env.items():
        monkeypatch.setenv(name, value)
    return seeded_store


@pytest.fixture
def app_db(seeded_template, tmp_path, monkeypatch) -> Path:
    """Point the app (AppTest, the CLI or a server) at a database file of its own holding the default data,
    as the app's first start would have built it from data/ (a copy of the session's seeded template)."""
    path = copy_seeded(seeded_template, tmp_path / "app.duckdb")
    monkeypatch.setenv("LAWSTATS_DB", str(path))
    return path


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, seeded_template):
    """A real streamlit server on the default data (own database file), shared by a module's browser tests."""
    from tests.browser import require_chromium, streamlit_server

    require_chromium()
    db = copy_seeded(seeded_template, tmp_path_factory.mktemp("server") / "lawstats.duckdb")
    with streamlit_server(db) as url:
        yield url


@pytest.fixture
def browser_page():
    from tests.browser import chromium_page

    with chromium_page() as page:
        yield page


# ---------------------------------------------------------------------------------------------------------
# AppTest helpers: the app as the frame runs it (app.py), on any page of the navigation list.

APP_TIMEOUT = 60  # seconds per run: the first run seeds the database


def run_page(page, lang: str = "zh", query: dict[str, str] | None = None):
    """Run ``app.py`` (on the db ``LAWSTATS_DB`` names) and switch to ``page`` (a ``navigation.PageSpec`` or
    its url path). ``lang`` goes in the URL as people type it (``?lang=en``). Returns the AppTest."""
    from streamlit.testing.v1 import AppTest

    from lawstats.navigation import PAGES

    spec = page if not isinstance(page, str) else next(p for p in PAGES if p.url_path == page)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT)
    for key, value in {**({"lang": lang} if lang != "zh" else {}), **(query or {})}.items():
        at.query_params[key] = value
    at.run()
    if not spec.default and not at.exception:
        # the frame must run first: it declares the pages (st.navigation) and sets the page context
        at.switch_page(spec.path)
        at.run()
    return at


def page_text(at, node=None) -> str:
    """Every text the run put on the page (titles, markdown, metrics, alerts, table cells), one per line; with
    ``node`` (such as ``at.main``), only the texts inside it."""
    import pandas as pd

    parts: list[str] = []

    def visit(node) -> None:
        for child in getattr(node, "children", {}).values():
            visit(child)
        for attribute in ("label", "value", "body"):
            try:
                value = getattr(node, attribute, None)
            except Exception:  # some widgets have no value outside a session; their label is enough
                continue
            if isinstance(value, pd.DataFrame):
                parts.append(value.to_csv(index=False))
            elif isinstance(value, str):
                parts.append(value)

    visit(at._tree if node is None else node)
    return "\n".join(parts)
