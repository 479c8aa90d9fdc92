"""Shared fixtures: a fresh database file, migrated and seeded from the same data/ files the app uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from lawstats import seed, storage

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_store(tmp_path) -> storage.Store:
    """A temporary DuckDB file holding the default data (one seed batch)."""
    store = seed.open_store(tmp_path / "lawstats.duckdb")
    yield store
    store.close()


@pytest.fixture
def empty_store(tmp_path) -> storage.Store:
    """A migrated database with no batch at all."""
    store = storage.Store(tmp_path / "empty.duckdb")
    yield store
    store.close()


@pytest.fixture
def app_db(tmp_path, monkeypatch) -> Path:
    """Point the app (AppTest or a server) at a fresh database file of its own."""
    path = tmp_path / "app.duckdb"
    monkeypatch.setenv("LAWSTATS_DB", str(path))
    return path


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """A real streamlit server on the default data (own database file), shared by a module's browser tests."""
    from tests.browser import require_chromium, streamlit_server

    require_chromium()
    db = tmp_path_factory.mktemp("server") / "lawstats.duckdb"
    with streamlit_server(db) as url:
        yield url


@pytest.fixture
def browser_page():
    from tests.browser import chromium_page

    with chromium_page() as page:
        yield page
