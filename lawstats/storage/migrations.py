"""Schema and migrations: the ordered migrations, ``migrate``, the read-only schema check and the registry tables'
fact and current tables."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import duckdb

from lawstats.errors import DatabaseError
from lawstats.registry import TABLES, Table
from lawstats.storage.connection import current_table, fact_table, ident


# ---------------------------------------------------------------------------------------------------------
# Migrations: an ordered list; each runs once and is recorded in schema_migrations.


def _m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE batches (
            batch_id INTEGER NOT NULL,
            kind VARCHAR NOT NULL,          -- 'import' or 'undo'
            created_at TIMESTAMP NOT NULL,
            user_name VARCHAR,
            file_name VARCHAR,
            sha256 VARCHAR,
            source VARCHAR,
            note VARCHAR,
            row_counts VARCHAR,             -- JSON: {table id: rows}
            undoes INTEGER,                 -- for kind = 'undo': the batch it undoes
            synthetic BOOLEAN DEFAULT FALSE
        )""")
    con.execute("""
        CREATE TABLE regions_log (
            batch_id INTEGER NOT NULL,
            region_id INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            level VARCHAR NOT NULL,
            parent_id INTEGER,
            code VARCHAR,
            synthetic BOOLEAN DEFAULT FALSE
        )""")
    con.execute("""
        CREATE TABLE value_provenance (
            batch_id INTEGER NOT NULL,
            table_id VARCHAR NOT NULL,
            region_id INTEGER NOT NULL,
            year INTEGER NOT NULL,
            row_key VARCHAR,               -- the breakdown item (e.g. a study programme) or NULL
            column_id VARCHAR NOT NULL,
            source VARCHAR,
            section VARCHAR,
            origin VARCHAR,                -- 'stated' (the document writes it) or 'computed'
            note VARCHAR                   -- how the document writes it, where that needs saying
        )""")


def _m002_observations(con: duckdb.DuckDBPyConnection) -> None:
    """The long table of catalogue measures that are not registry columns (see ``storage.observations``)."""
    from lawstats.storage.observations import OBSERVATION_COLUMNS  # late: observations builds on this module

    columns = ", ".join(f"{ident(n)} {t}" for n, t in OBSERVATION_COLUMNS)
    con.execute(f"CREATE TABLE fact_observations ({columns})")
    con.execute(f"CREATE TABLE cur_observations ({columns})")


MIGRATIONS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = [
    ("001_initial", _m001_initial),
    ("002_observations", _m002_observations),
]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet applied, then add registry columns the tables lack. Idempotent."""
    from lawstats.storage.derived import _sync_scale_tables  # late: the derived tables build on this module

    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR NOT NULL, applied_at TIMESTAMP)")
    done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN")
        try:
            step(con)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, _now()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    _sync_registry_tables(con)
    _sync_scale_tables(con)  # region tree and rollups (storage.derived)
    return applied


def _require_current_schema(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """A read-only database is read as it is: refuse (DatabaseError) one that ``migrate`` would change, since
    queries of this version would fail on it."""
    from lawstats.storage.derived import _stale_scale_tables  # late: the derived tables build on this module

    con.execute("SET enable_progress_bar = false")
    outdated = not _columns_of(con, "schema_migrations")
    if not outdated:
        done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
        outdated = any(name not in done for name, _ in MIGRATIONS)
    for table in TABLES:
        if outdated:
            break
        wanted = {n for n, _ in _fact_columns(table)}
        outdated = not (wanted <= _columns_of(con, f"fact_{table.id}")
                        and wanted <= _columns_of(con, f"cur_{table.id}"))
    if outdated or not _columns_of(con, "cur_regions") or _stale_scale_tables(con)[1]:
        raise DatabaseError("error.db_read_only_outdated", path=path)


def _sync_registry_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create fact and current tables for every registry table, and add columns the registry gained.

    Additive only: a column is never dropped or retyped here (that needs a migration of its own).
    """
    for table in TABLES:
        existing = _columns_of(con, f"fact_{table.id}")
        wanted = _fact_columns(table)
        if not existing:
            cols = ", ".join(f"{ident(n)} {t}" for n, t in wanted)
            con.execute(f"CREATE TABLE {fact_table(table)} ({cols})")
            con.execute(f"CREATE TABLE {current_table(table)} ({cols})")
            continue
        for name, sql_type in wanted:
            if name not in existing:
                con.execute(f"ALTER TABLE {fact_table(table)} ADD COLUMN {ident(name)} {sql_type}")
                con.execute(f"ALTER TABLE {current_table(table)} ADD COLUMN {ident(name)} {sql_type}")


def _fact_columns(table: Table) -> list[tuple[str, str]]:
    cols = [("batch_id", "INTEGER"), ("region_id", "INTEGER"), ("year", "INTEGER")]
    cols += [(c.id, c.sql_type) for c in table.columns]
    cols += [("source", "VARCHAR"), ("section", "VARCHAR"), ("approx", "VARCHAR[]")]
    return cols


def _columns_of(con, table_name: str) -> set[str]:
    return {name for name, _ in _layout_of(con, table_name)}


def _layout_of(con, table_name: str) -> list[tuple[str, str]]:
    """(column, type) of one of the store's tables, in order; empty when there is no such table."""
    # the store's own tables only: information_schema also lists temp tables (and, on a lake, other catalogs)
    return [tuple(r) for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "AND table_catalog = current_database() ORDER BY ordinal_position", [table_name]).fetchall()]


def _now() -> datetime:
    """The server's local time, to the second: what the people at that server read on their clocks."""
    return datetime.now().replace(microsecond=0)
