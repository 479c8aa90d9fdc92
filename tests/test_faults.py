"""Bad input and faults (issue 2): a missing database is rebuilt from data/; a corrupt or locked one gives a
clear message naming the file and is never touched; an unknown region or year in the URL falls back to the
default with a notice."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap

import pytest

from lawstats import cli, seed, storage
from lawstats.errors import DatabaseError
from lawstats.i18n import t
from lawstats.navigation import PAGES
from tests.conftest import ROOT, run_page

OVERVIEW = next(p for p in PAGES if p.default)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shown(element) -> str:
    """An alert's text as the reader sees it (the app escapes markdown in texts that name files)."""
    return re.sub(r"\\(.)", r"\1", element.value)


def files_beside(path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


# ---------------------------------------------------------------------------------------------------------
# Missing: rebuilt from data/


def test_missing_database_is_rebuilt_from_data(tmp_path):
    path = tmp_path / "new" / "folder" / "lawstats.duckdb"
    store = seed.open_store(path)
    try:
        assert path.exists()
        assert storage.data_version(store) == 1
        assert storage.list_batches(store).iloc[0]["source"] == seed.SEED_SOURCE
    finally:
        store.close()


def test_app_on_a_missing_database_builds_it_and_shows_the_overview(tmp_path, monkeypatch):
    path = tmp_path / "missing.duckdb"
    monkeypatch.setenv("LAWSTATS_DB", str(path))
    at = run_page(OVERVIEW)
    assert not at.exception and not at.error
    assert path.exists()
    assert any(m.value.startswith("25,218") for m in at.metric)


# ---------------------------------------------------------------------------------------------------------
# Corrupt: a clear message naming the file; the file left exactly as it was


@pytest.fixture(params=["garbage", "truncated"])
def corrupt_db(request, tmp_path):
    """A .duckdb file that is not a database: random bytes, or a real database cut short."""
    path = tmp_path / f"{request.param}.duckdb"
    if request.param == "garbage":
        path.write_bytes(os.urandom(64 * 1024))
    else:
        seed.open_store(tmp_path / "real.duckdb").close()
        data = (tmp_path / "real.duckdb").read_bytes()
        path.write_bytes(data[: len(data) // 3])
    return path


def test_corrupt_database_is_a_database_error_naming_the_file(corrupt_db):
    before, beside = digest(corrupt_db), files_beside(corrupt_db)
    with pytest.raises(DatabaseError) as error:
        seed.open_store(corrupt_db)
    assert error.value.key == "error.db_corrupt"
    assert error.value.params["path"] == str(corrupt_db)
    assert str(corrupt_db) in error.value.message("zh") and str(corrupt_db) in error.value.message("en")
    assert digest(corrupt_db) == before  # byte for byte: never overwritten or "repaired"
    assert files_beside(corrupt_db) == beside  # and nothing written next to it (no new .wal)


def test_corrupt_block_is_not_mistaken_for_a_lock(tmp_path):
    """DuckDB's checksum error says "block": it must still read as corrupt, not as "in use"."""
    real = tmp_path / "real.duckdb"
    seed.open_store(real).close()
    data = bytearray(real.read_bytes())
    damaged = tmp_path / "damaged.duckdb"
    for offset in range(8192, len(data) - 4096, 4096):  # find a block whose damage DuckDB notices on opening
        candidate = data[:offset] + bytes(4096) + data[offset + 4096:]
        damaged.write_bytes(candidate)
        try:
            seed.open_store(damaged).close()
        except DatabaseError as error:
            assert error.key == "error.db_corrupt", error.message("en")
            return
    pytest.fail("no damaged block was noticed on opening")


def test_app_shows_the_corrupt_file_message_instead_of_a_traceback(corrupt_db, monkeypatch):
    before = digest(corrupt_db)
    monkeypatch.setenv("LAWSTATS_DB", str(corrupt_db))
    for lang in ("zh", "en"):
        at = run_page(OVERVIEW, lang)
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.error) == 1 and str(corrupt_db) in shown(at.error[0])
        assert not at.metric
    assert digest(corrupt_db) == before


def test_cli_reports_a_corrupt_file_and_exits_2(corrupt_db, capsys):
    before = digest(corrupt_db)
    assert cli.main(["--db", str(corrupt_db), "init"]) == 2
    out, err = capsys.readouterr()
    assert str(corrupt_db) in err and "Traceback" not in err
    assert digest(corrupt_db) == before


# ---------------------------------------------------------------------------------------------------------
# Locked: another process holds the file


@pytest.fixture
def locked_db(tmp_path):
    """A seeded database held open read-write by a second process (as a running lawstats server would)."""
    path = tmp_path / "locked.duckdb"
    seed.open_store(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, duckdb
            con = duckdb.connect({str(path)!r})
            print("holding", flush=True)
            sys.stdin.read()  # hold the lock until the test closes our stdin
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield path
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_locked_database_is_a_clear_lock_error_naming_the_file(locked_db):
    before = digest(locked_db)
    with pytest.raises(DatabaseError) as error:
        seed.open_store(locked_db)
    assert error.value.key == "error.db_locked"
    assert error.value.params["path"] == str(locked_db)
    assert digest(locked_db) == before


def test_app_shows_the_lock_message(locked_db, monkeypatch):
    monkeypatch.setenv("LAWSTATS_DB", str(locked_db))
    at = run_page(OVERVIEW, "en")
    assert not at.exception
    assert [shown(e) for e in at.error] == [t("error.db_locked", "en", path=str(locked_db))]


def test_cli_reports_a_locked_file(locked_db, capsys):
    assert cli.main(["--db", str(locked_db), "--lang", "en", "indicators"]) == 2
    _, err = capsys.readouterr()
    assert t("error.db_locked", "en", path=str(locked_db)) in err


def test_app_recovers_once_the_lock_is_gone(tmp_path, monkeypatch):
    """The failed open is not cached: when the other program closes the file, the next run works."""
    path = tmp_path / "later.duckdb"
    seed.open_store(path).close()
    monkeypatch.setenv("LAWSTATS_DB", str(path))
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); "
                               "print('holding', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    at = run_page(OVERVIEW)
    assert at.error and not at.metric
    holder.stdin.close()
    holder.wait(timeout=30)
    at.run()
    assert not at.error and any(m.value.startswith("25,218") for m in at.metric)


# ---------------------------------------------------------------------------------------------------------
# Unknown region or year in the URL: the default, with a notice


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("key, value, message", [
    ("region", "不存在镇", "app.unknown_region"),
    ("region", "999999", "app.unknown_region"),
    ("year", "1999", "app.unknown_year"),
    ("year", "abc", "app.unknown_year"),
])
def test_unknown_region_or_year_in_the_link_falls_back_with_a_notice(key, value, message, lang):
    at = run_page(OVERVIEW, lang, {key: value})
    assert not at.exception and not at.error
    notice = t(message, lang, value=value)
    assert notice in [shown(w) for w in at.warning]
    assert any(m.value.startswith("25,218") for m in at.metric)  # the default region and year
    assert key not in at.query_params  # the bad value is gone from the link


def test_valid_link_gives_no_notice():
    at = run_page(OVERVIEW, "zh", {"year": "2024"})
    assert not at.warning and not at.exception
    assert any(m.value.startswith("25,218") for m in at.metric)


# ---------------------------------------------------------------------------------------------------------
# No Chromium: browser tests skip locally with the install command, and fail under CI


@pytest.mark.parametrize("ci, outcome", [("", pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_missing_chromium_skips_locally_and_fails_in_ci(monkeypatch, ci, outcome):
    from tests import browser

    monkeypatch.setattr(browser, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome) as stopped:
        browser.require_chromium()
    assert "apt-get install -y chromium fonts-noto-cjk" in str(stopped.value)
