"""The store on DuckLake (issue 12, lawstats.lake): offline extensions, serialised commits across real processes,
concurrent readers, filtered reads after concurrent commits, kill -9 during commits; on a SQLite catalog and on a
real PostgreSQL catalog (a throwaway cluster started by the fixture)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from bench.lake_bench import new_database
from lawstats import lake
from lawstats.errors import DatabaseError, LawstatsError

ROOT = Path(__file__).resolve().parent.parent
WRITERS, COMMITS = 2, 50


# ---------------------------------------------------------------------------------------------------------
# Worker processes: `python -c "from tests.test_lake import worker; worker()" ROLE ...` with the store in the
# environment (LAWSTATS_STORE, LAWSTATS_LAKE_DATA), as the app and the CLI will have it.


def worker() -> None:
    role, *args = sys.argv[1:]
    {"write": _write, "read": _read}[role](*args)


def _write(writer: str, count: str, pause: str = "0") -> None:
    """Commit ``count`` two-table commits (the same row into a and b); print ACK i after each COMMIT returns."""
    spec = lake.store_spec()
    con = lake.connect(spec)
    w = int(writer)
    for i in range(int(count)):
        value = w * 100_000 + i
        lake.commit(con, spec, lambda c: (c.execute("INSERT INTO a VALUES (?, ?, ?)", [w, i, value]),
                                          time.sleep(float(pause)),
                                          c.execute("INSERT INTO b VALUES (?, ?, ?)", [w, i, value])))
        print(f"ACK {i}", flush=True)


def _read(threads: str, stop_file: str) -> None:
    """``threads`` threads query a and b in one statement until ``stop_file`` appears; print a JSON summary of
    queries, errors, and answers where a and b disagree (a half-applied commit)."""
    import threading

    spec = lake.store_spec()
    con = lake.connect(spec, read_only=True)
    summary = {"queries": 0, "errors": [], "torn": [], "max_rows": 0}
    lock = threading.Lock()

    def loop():
        cur = lake.cursor(con)
        while not os.path.exists(stop_file):
            try:
                na, nb, sa, sb = cur.execute("SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b), "
                                             "(SELECT coalesce(sum(v), 0) FROM a), "
                                             "(SELECT coalesce(sum(v), 0) FROM b)").fetchone()
                with lock:
                    summary["queries"] += 1
                    summary["max_rows"] = max(summary["max_rows"], na)
                    if (na, sa) != (nb, sb):
                        summary["torn"].append([na, nb, sa, sb])
            except Exception as e:  # every error is a finding: report it, do not stop
                with lock:
                    summary["errors"].append(str(e)[:300])
                time.sleep(0.01)

    pool = [threading.Thread(target=loop) for _ in range(int(threads))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    print(json.dumps(summary), flush=True)


def _spawn(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from tests.test_lake import worker; worker()", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, timeout: float = 600) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker failed ({proc.returncode}): {err[-2000:]}"
    return out


# ---------------------------------------------------------------------------------------------------------
# Fixtures: a lake per test, on each catalog


# pg_cluster: conftest.py's, one throwaway PostgreSQL cluster for the whole session


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    """(spec, environment for worker processes) of a new lake with tables a and b (w, i, v)."""
    if request.param == "sqlite":
        text = f"ducklake:sqlite:{tmp_path / 'catalog.sqlite'}"
    else:
        dsn = new_database(request.getfixturevalue("pg_cluster"), f"lake_{random.randrange(10**9)}")
        text = f"ducklake:postgres:{dsn}"
    extensions = tmp_path / "extensions"
    extensions.mkdir()
    env = {**os.environ, "LAWSTATS_STORE": text, "LAWSTATS_LAKE_DATA": str(tmp_path / "data"),
           "LAWSTATS_EXTENSION_DIR": str(extensions)}
    env.pop("LAWSTATS_DB", None)
    spec = lake.store_spec(text, str(tmp_path / "data"))
    con = lake.connect(spec, extension_directory=extensions)
    lake.commit(con, spec, lambda c: [c.execute(f"CREATE TABLE {t} (w INTEGER, i INTEGER, v BIGINT)") for t in "ab"])
    con.close()
    return spec, env


def _rows(spec: lake.StoreSpec, env: dict, table: str = "a") -> set[tuple[int, int]]:
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    try:
        return set(con.execute(f"SELECT w, i FROM {table}").fetchall())
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------------------
# The store setting


def test_store_spec_forms(tmp_path, monkeypatch):
    monkeypatch.delenv("LAWSTATS_STORE", raising=False)
    monkeypatch.delenv("LAWSTATS_LAKE_DATA", raising=False)
    monkeypatch.setenv("LAWSTATS_DB", str(tmp_path / "x.duckdb"))
    assert lake.store_spec() == lake.StoreSpec("duckdb", str(tmp_path / "x.duckdb"))
    sqlite = lake.store_spec(f"ducklake:sqlite:{tmp_path / 'c.sqlite'}")
    assert (sqlite.kind, sqlite.target, sqlite.data_path) == (
        "sqlite", str(tmp_path / "c.sqlite"), str(tmp_path / "c.sqlite.files") + os.sep)
    monkeypatch.setenv("LAWSTATS_STORE", "ducklake:postgres:dbname=lawstats host=10.1.2.3 password=secret")
    monkeypatch.setenv("LAWSTATS_LAKE_DATA", str(tmp_path / "shared"))
    pg = lake.store_spec()
    assert (pg.kind, pg.target) == ("postgres", "dbname=lawstats host=10.1.2.3 password=secret")
    assert "secret" not in pg.describe()


def test_store_spec_errors_name_the_setting(monkeypatch):
    monkeypatch.delenv("LAWSTATS_LAKE_DATA", raising=False)
    with pytest.raises(DatabaseError) as bad:
        lake.store_spec("ducklake:mysql:db")
    assert "ducklake:mysql:db" in bad.value.message("zh") and "ducklake:mysql:db" in bad.value.message("en")
    with pytest.raises(DatabaseError) as missing:
        lake.store_spec("ducklake:postgres:dbname=x")
    assert "LAWSTATS_LAKE_DATA" in missing.value.message("zh")


# ---------------------------------------------------------------------------------------------------------
# Offline: extensions load from the wheels' files, nothing is installed or downloaded


def test_extensions_load_from_wheels_offline(tmp_path):
    """In a process without a network (its own network namespace, where root may create one) the lake opens,
    and DuckDB's extension directory stays empty: nothing was installed or downloaded."""
    extensions = tmp_path / "extensions"
    extensions.mkdir()
    code = "\n".join([
        "import sys",
        "from lawstats import lake",
        "spec = lake.store_spec('ducklake:sqlite:' + sys.argv[1])",
        "con = lake.connect(spec, extension_directory=sys.argv[2])",
        "con.execute('CREATE TABLE t AS SELECT 1 AS x')",
        "print(con.execute(\"SELECT count(*) FROM duckdb_extensions() WHERE loaded \"",
        "                  \"AND extension_name IN ('ducklake', 'sqlite_scanner')\").fetchone()[0])"])
    args = [sys.executable, "-c", code, str(tmp_path / "c.sqlite"), str(extensions)]
    isolated = subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0
    if isolated:
        args = ["unshare", "--net", *args]
    elif os.environ.get("CI"):
        pytest.fail("CI runs as root and must be able to create a network namespace (unshare --net)")
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    assert list(extensions.iterdir()) == []


def test_connection_refuses_to_autoinstall(tmp_path):
    con = lake.offline_connection(tmp_path)
    with pytest.raises(duckdb.Error):
        con.execute("SELECT * FROM read_xlsx('nothing.xlsx')")  # the excel extension is not loaded by path
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------------
# Commits: retried when transient, refused clearly when they keep failing, never partial


def test_commit_retries_a_transient_error_then_succeeds(store):
    spec, env = store
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    tries = []

    def work(c):
        c.execute("INSERT INTO a VALUES (9, 1, 1)")
        tries.append(1)
        if len(tries) < 3:
            raise duckdb.TransactionException("Failed to flush changes into DuckLake: database is locked")
        c.execute("INSERT INTO b VALUES (9, 1, 1)")

    lake.commit(con, spec, work)
    assert len(tries) == 3
    assert con.execute("SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b)").fetchone() == (1, 1)


def test_commit_gives_up_with_a_clear_message_and_writes_nothing(store):
    spec, env = store
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    before = lake.catalog_snapshot_id(con)

    def work(c):
        c.execute("INSERT INTO a VALUES (9, 1, 1)")
        raise duckdb.TransactionException("Transaction conflict: another transaction committed")

    with pytest.raises(LawstatsError) as failed:
        lake.commit(con, spec, work, attempts=3)
    assert failed.value.key == "lake.commit_failed"
    assert "3" in failed.value.message("zh") and "nothing was written" in failed.value.message("en")
    assert con.execute("SELECT count(*) FROM a").fetchone() == (0,)
    assert lake.catalog_snapshot_id(con) == before


def test_commit_lock_excludes_another_process(store):
    """While this process holds the commit lock, a writer process cannot commit; it does once we let go."""
    spec, env = store
    with lake.commit_lock(spec):
        proc = _spawn(env, "write", "7", "1")
        time.sleep(4)
        assert proc.poll() is None and _rows(spec, env) == set()
    _finish(proc, timeout=120)
    assert _rows(spec, env) == {(7, 0)}


def test_a_cursor_reads_the_lake_like_its_connection(store):
    spec, env = store
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    con.execute("INSERT INTO a VALUES (1, 2, 3)")
    assert lake.cursor(con).execute("SELECT count(*) FROM a").fetchone() == (1,)
    assert lake.catalog_snapshot_id(lake.cursor(con)) == lake.catalog_snapshot_id(con)


def test_snapshot_id_sees_other_processes_commits(store):
    spec, env = store
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    before = lake.catalog_snapshot_id(con)
    _finish(_spawn(env, "write", "3", "2"), timeout=120)
    assert lake.catalog_snapshot_id(con) == before + 2  # same connection, no reopening


# ---------------------------------------------------------------------------------------------------------
# Real processes at the same time


@pytest.mark.slow
def test_concurrent_writers_and_readers(store, tmp_path):
    """Two writer processes x 50 two-table commits, 20 reader threads in two processes meanwhile: every commit
    lands, readers never fail and never see one table of a commit without the other; afterwards every committed
    row is found by a filtered query (WHERE on columns with min/max statistics, so files can be pruned)."""
    spec, env = store
    stop = tmp_path / "stop"
    readers = [_spawn(env, "read", "10", str(stop)) for _ in range(2)]
    writers = [_spawn(env, "write", str(w), str(COMMITS)) for w in range(1, WRITERS + 1)]
    try:
        acks = [_finish(p).split() for p in writers]
    finally:
        stop.touch()
    summaries = [json.loads(_finish(p, timeout=120).splitlines()[-1]) for p in readers]

    assert all(a.count("ACK") == COMMITS for a in acks)
    expected = {(w, i) for w in range(1, WRITERS + 1) for i in range(COMMITS)}
    assert _rows(spec, env, "a") == expected and _rows(spec, env, "b") == expected
    for s in summaries:
        assert s["errors"] == [] and s["torn"] == []
        assert s["queries"] > 20  # they did read while the writers wrote
    assert max(s["max_rows"] for s in summaries) > 0

    con = lake.connect(spec, read_only=True, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    missing = [(w, i) for w, i in sorted(expected)
               if con.execute("SELECT count(*) FROM a WHERE v = ? AND i = ?", [w * 100_000 + i, i]).fetchone()[0] != 1
               or con.execute("SELECT count(*) FROM b WHERE v BETWEEN ? AND ?",
                              [w * 100_000 + i, w * 100_000 + i]).fetchone()[0] != 1]
    assert missing == []
    assert con.execute("SELECT count(*) FROM a WHERE w = 2 AND i >= 25").fetchone()[0] == COMMITS - 25


@pytest.mark.slow
def test_kill_during_commits_keeps_exactly_the_acknowledged(store):
    """kill -9 a committing process at 20 random moments: the lake opens each time and holds every commit
    acknowledged before (plus at most the one whose COMMIT returned just before the kill), each in both tables."""
    spec, env = store
    rng = random.Random(12)
    acknowledged: set[tuple[int, int]] = set()
    for round_ in range(20):
        w = 100 + round_
        proc = _spawn(env, "write", str(w), "1000", "0.01")
        first = proc.stdout.readline()  # wait until it commits (start-up time varies with the machine's load)
        assert first.startswith("ACK"), proc.stderr.read()[-2000:]
        time.sleep(rng.uniform(0.0, 1.5))  # then kill it at a random moment of its commits
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        acked = {(w, int(n)) for n in (first + out).split()[1::2]}
        acknowledged |= acked
        in_a, in_b = _rows(spec, env, "a"), _rows(spec, env, "b")
        assert in_a == in_b  # never one table of a commit without the other
        extra = in_a - acknowledged
        assert acknowledged <= in_a
        assert extra <= {(w, len(acked))}  # only a commit that finished as the kill came
        acknowledged |= extra
    assert len(acknowledged) > 20


def test_readers_and_a_writer_stay_right_while_housekeeping_runs(store, tmp_path):
    """Issue 12: housekeeping runs while the app reads and another process commits. Two reader processes
    (5 threads each) and a writer of 30 two-table commits run while this process merges files and expires
    snapshots superseded more than a few seconds ago, again and again: no reader fails or sees half a commit, every commit
    lands, and every committed row is found afterwards by a filtered query."""
    spec, env = store
    stop, commits = tmp_path / "stop", 30
    readers = [_spawn(env, "read", "5", str(stop)) for _ in range(2)]
    writer = _spawn(env, "write", "1", str(commits), "0.05")
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    runs = 0
    try:
        while writer.poll() is None:
            lake.housekeeping(con, spec, keep=timedelta(seconds=3))
            runs += 1
            time.sleep(0.2)
        acks = _finish(writer).split()
    finally:
        stop.touch()
    summaries = [json.loads(_finish(p, timeout=120).splitlines()[-1]) for p in readers]

    assert runs >= 3  # housekeeping really ran during the commits
    assert acks.count("ACK") == commits
    for summary in summaries:
        assert summary["errors"] == [] and summary["torn"] == []
        assert summary["queries"] > 20
    assert _rows(spec, env, "a") == _rows(spec, env, "b") == {(1, i) for i in range(commits)}
    assert [i for i in range(commits)
            if con.execute("SELECT count(*) FROM a WHERE v = ?", [100_000 + i]).fetchone()[0] != 1] == []
    con.close()


def _insert_both(con, spec, w: int, i: int) -> None:
    lake.commit(con, spec, lambda c: [c.execute(f"INSERT INTO {t} VALUES (?, ?, ?)", [w, i, w * 100_000 + i])
                                      for t in "ab"])


def _snapshot_ids(con) -> list[int]:
    return [r[0] for r in con.execute("SELECT snapshot_id FROM snapshots() ORDER BY snapshot_id").fetchall()]


def test_housekeeping_keeps_what_a_reader_on_an_older_snapshot_still_reads(store):
    """A reader in a transaction keeps reading the snapshot it began on while another process commits and
    housekeeping (default window, one hour) merges files and expires snapshots: nothing it reads is deleted.
    On a SQLite catalog DuckLake's own `older_than` expired every snapshot of the day and deleted the files."""
    spec, env = store
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    for i in range(8):
        _insert_both(con, spec, 1, i)
    reader = lake.connect(spec, read_only=True, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    reader.execute("BEGIN TRANSACTION")
    assert reader.execute("SELECT count(*), sum(i) FROM a").fetchone() == (8, 28)
    lake.commit(con, spec, lambda c: c.execute("DELETE FROM a WHERE i < 4"))  # the reader's files are replaced
    held = _snapshot_ids(con)
    lake.housekeeping(con, spec)  # the default window

    assert reader.execute("SELECT count(*), sum(i) FROM a").fetchone() == (8, 28)  # its snapshot, files intact
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*), sum(i) FROM a").fetchone() == (4, 22)
    assert set(held) <= set(_snapshot_ids(con))  # nothing superseded within the hour expired
    reader.close()
    con.close()


def test_housekeeping_expires_the_snapshots_superseded_before_the_window(store):
    """Snapshots superseded longer ago than `keep` go (and files only they used); the one superseded inside it,
    and the newest, stay: the window counts from when a snapshot stopped being the newest, not from its birth."""
    spec, env = store
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    for i in range(4):
        _insert_both(con, spec, 1, i)
    time.sleep(2.5)
    last_old = _snapshot_ids(con)[-1]  # superseded just now, by the commit below: inside the window
    _insert_both(con, spec, 1, 4)
    newest = _snapshot_ids(con)[-1]

    lake.housekeeping(con, spec, keep=timedelta(seconds=1.5))
    kept = _snapshot_ids(con)
    assert kept[:2] == [last_old, newest]  # and the merge's own snapshot after them
    assert con.execute(f"SELECT count(*) FROM a AT (VERSION => {last_old})").fetchone()[0] == 4
    assert _rows(spec, env, "b") == {(1, i) for i in range(5)}
    con.close()


def test_a_later_housekeeping_deletes_the_files_an_earlier_merge_replaced(store):
    """The files a merge replaced stay for the window and go in the first run after it, although that run's own
    merge schedules new files at the same moment (a nightly run deletes the previous night's)."""
    spec, env = store
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    for i in range(4):
        _insert_both(con, spec, 1, i)
    on_disk = set(Path(spec.data_path).rglob("*.parquet"))
    lake.housekeeping(con, spec, keep=timedelta(seconds=1.5))
    assert on_disk <= set(Path(spec.data_path).rglob("*.parquet"))  # replaced, kept for the window
    for i in range(4, 8):
        _insert_both(con, spec, 1, i)
    time.sleep(2.5)
    lake.housekeeping(con, spec, keep=timedelta(seconds=1.5))
    assert not on_disk & set(Path(spec.data_path).rglob("*.parquet"))  # the first merge's replaced files went
    assert _rows(spec, env, "a") == {(1, i) for i in range(8)}
    con.close()


def test_housekeeping_merges_files_and_keeps_rows(store):
    spec, env = store
    con = lake.connect(spec, extension_directory=env["LAWSTATS_EXTENSION_DIR"])
    for i in range(12):
        lake.commit(con, spec, lambda c: [c.execute(f"INSERT INTO {t} VALUES (1, ?, ?)", [i, i]) for t in "ab"])
    result = lake.housekeeping(con, spec, keep=timedelta(0))
    assert result["files_before"] >= 24 and result["files_after"] <= 2 + 1
    assert con.execute("SELECT count(*), sum(v) FROM a WHERE i BETWEEN 3 AND 5").fetchone() == (3, 12)
    assert _rows(spec, env, "b") == {(1, i) for i in range(12)}
