"""Faults and load on a real DuckDB file: analysts committing at the same moment (threads of one server, and
processes one after the other), readers during a large commit, the process killed in the middle of an import,
and markup in region names and cells stored exactly as written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from lawstats import exchange, seed, storage, uploads
from lawstats.registry import TABLES_BY_ID

ROOT = Path(__file__).resolve().parent.parent
POPULATION = TABLES_BY_ID["population"]
VILLAGES = 20_000
YEARS = range(2015, 2025)  # 200,000 rows: several DuckDB row groups, seconds to commit


def synthetic_regions(villages: int = VILLAGES) -> bytes:
    lines = ["名称,级别,上级", "合成镇（合成数据）,乡镇,湟中区"]
    lines += [f"合成村{v:06d},村,合成镇（合成数据）" for v in range(villages)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def synthetic_population(villages: int = VILLAGES, offset: int = 0) -> bytes:
    lines = ["地区,年份,户籍户数,户籍人口,常住人口,来源"]
    lines += [f"合成村{v:06d},{y},{100 + v % 50 + offset},{400 + v % 300 + offset},{300 + v % 100},合成数据（仅供测试）"
              for v in range(villages) for y in YEARS]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture(scope="module")
def big_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("synthetic")
    files = {"regions": folder / "regions_synthetic.csv", "population": folder / "population_synthetic.csv"}
    files["regions"].write_bytes(synthetic_regions())
    files["population"].write_bytes(synthetic_population())
    return files


@pytest.fixture(scope="module")
def template_db(tmp_path_factory, big_files) -> Path:
    """A database with the seed and the synthetic regions, copied for each test that needs it."""
    path = tmp_path_factory.mktemp("template") / "base.duckdb"
    store = seed.open_store(path)
    uploads.commit_upload(store, uploads.inspect_file(store, "regions_synthetic.csv",
                                                      big_files["regions"].read_bytes()), user_name="测试")
    store.close()
    return path


@pytest.fixture
def big_db(tmp_path, template_db) -> Path:
    import shutil

    path = tmp_path / "big.duckdb"
    shutil.copy(template_db, path)
    wal = Path(str(template_db) + ".wal")
    if wal.exists():
        shutil.copy(wal, Path(str(path) + ".wal"))
    return path


def state(store) -> tuple:
    """What a reader sees in one query: the data version, fact rows, current rows and their total.
    (One statement reads one snapshot; pages key their caches on the data version for the same reason.)"""
    return tuple(store.query_rows("""
        SELECT (SELECT coalesce(max(batch_id), 0) FROM batches), (SELECT count(*) FROM fact_population),
               (SELECT count(*) FROM cur_population), (SELECT coalesce(sum(registered_persons), 0) FROM cur_population)
    """)[0])


# ---------------------------------------------------------------------------------------------------------
# Two analysts at the same moment


def test_two_analysts_committing_at_the_same_moment_both_land(fresh_store):
    store = fresh_store
    files = {"甲": "地区,年份,户籍人口\n西堡镇,2022,25000\n", "乙": "地区,年份,耕地面积\n西堡镇,2022,43000\n"}
    start = threading.Barrier(len(files))
    results, errors = {}, []

    def analyst(name: str) -> None:
        try:
            upload = uploads.inspect_file(store, f"{name}.csv", files[name].encode())
            start.wait()
            results[name] = uploads.commit_upload(store, upload, user_name=name)
        except Exception as e:  # collected: a thread's exception must fail the test
            errors.append(e)

    threads = [threading.Thread(target=analyst, args=(n,)) for n in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results.values()) == [2, 3]
    history = uploads.history(store)
    assert set(history["user_name"]) == {"seed", "甲", "乙"}
    assert storage.table_as_of(store, POPULATION).set_index("year").loc[2022, "registered_persons"] == 25000
    land = storage.table_as_of(store, TABLES_BY_ID["land"]).set_index("year")
    assert land.loc[2022, "cultivated_area"] == 43000


def test_many_uploads_from_many_threads_nothing_lost(fresh_store):
    store = fresh_store
    errors = []

    def analyst(k: int) -> None:
        try:
            for year in range(2000 + 2 * k, 2002 + 2 * k):
                upload = uploads.inspect_file(store, f"{k}_{year}.csv", f"地区,年份,户籍人口\n西堡镇,{year},{k}\n".encode())
                uploads.commit_upload(store, upload, user_name=f"分析员{k}")
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=analyst, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    rows = storage.table_as_of(store, POPULATION).set_index("year")["registered_persons"]
    assert {year: rows[year] for year in range(2000, 2006)} == {2000 + i: i // 2 for i in range(6)}
    assert storage.data_version(store) == 1 + 6


def test_readers_never_see_a_half_applied_batch(big_db, big_files):
    store = storage.Store(big_db)
    before = state(store)
    upload = uploads.inspect_file(store, "population_synthetic.csv", big_files["population"].read_bytes(),
                                  with_preview=False)
    seen, done = [], threading.Event()

    def reader() -> None:
        while not done.is_set():
            seen.append(state(store))

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.05)
    uploads.commit_upload(store, upload, user_name="测试")
    done.set()
    thread.join()
    after = state(store)
    assert after[1] == before[1] + VILLAGES * len(YEARS)
    assert set(seen) <= {before, after}, set(seen) - {before, after}
    assert seen.count(before) >= 2  # the reader really read while the commit ran
    store.close()


# ---------------------------------------------------------------------------------------------------------
# Processes: DuckDB lets one process write a file at a time


def cli(db: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "LAWSTATS_DB": str(db), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "lawstats", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def test_two_processes_one_after_the_other_both_land(tmp_path):
    db = tmp_path / "p.duckdb"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes("地区,年份,户籍人口\n西堡镇,2022,25000\n".encode("gbk"))
    second.write_bytes("地区,年份,户籍人口\n西堡镇,2021,24000\n".encode("utf-8"))
    assert cli(db, "import", str(first), "--user", "甲").returncode == 0
    assert cli(db, "import", str(second), "--user", "乙").returncode == 0
    history = cli(db, "history").stdout.splitlines()
    assert [line.split("\t")[0] for line in history] == ["3", "2", "1"]
    store = storage.Store(db)
    rows = storage.table_as_of(store, POPULATION).set_index("year")["registered_persons"]
    assert (rows[2022], rows[2021], rows[2024]) == (25000, 24000, 25218)
    store.close()


def test_a_second_process_is_told_the_database_is_busy_and_writes_nothing(tmp_path):
    db = tmp_path / "p.duckdb"
    seed.open_store(db).close()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from lawstats import storage; "
                               f"s = storage.Store({str(db)!r}); print('open', flush=True); time.sleep(60)"],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        path = tmp_path / "a.csv"
        path.write_bytes("地区,年份,户籍人口\n西堡镇,2022,25000\n".encode())
        busy = cli(db, "import", str(path))
        assert busy.returncode == 2 and str(db) in busy.stderr
    finally:
        holder.kill()
        holder.wait()
    assert cli(db, "import", str(path)).returncode == 0
    assert cli(db, "history").stdout.splitlines()[0].startswith("2\t")


# ---------------------------------------------------------------------------------------------------------
# Killed in the middle


KILL_SCRIPT = """
import sys, time
from lawstats import storage, uploads
store = storage.Store(sys.argv[1])
upload = uploads.inspect_file(store, "population_synthetic.csv", open(sys.argv[2], "rb").read(), with_preview=False)
if sys.argv[3] == "pause":
    refresh = storage.reading._refresh_current  # the module whose commit steps call it
    def pause(*args, **kwargs):  # every row is inserted, the transaction is open: stop here
        print("inside", flush=True)
        time.sleep(120)
    storage.reading._refresh_current = pause
print("committing", flush=True)
uploads.commit_upload(store, upload, user_name="killed")
print("committed", flush=True)
"""


def run_and_kill(db: Path, data: Path, mode: str, wait_for: str, delay: float) -> str:
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(db), str(data), mode], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    lines = []
    try:
        while True:
            line = child.stdout.readline().strip()
            assert line, "the child ended early"
            lines.append(line)
            if line == wait_for:
                break
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    return child.returncode, lines


def test_killed_inside_the_commit_the_database_holds_exactly_the_data_from_before(big_db, big_files):
    store = storage.Store(big_db)
    before = state(store)
    store.close()
    code, _ = run_and_kill(big_db, big_files["population"], "pause", "inside", 0.2)
    assert code == -signal.SIGKILL
    store = storage.Store(big_db)  # opens (replays its log) and holds exactly the old data
    assert state(store) == before
    assert uploads.history(store)["user_name"].tolist() == ["测试", "seed"]
    store.close()


def test_killed_at_any_moment_of_a_real_commit_is_all_or_nothing(big_db, big_files):
    store = storage.Store(big_db)
    before = state(store)
    store.close()
    code, lines = run_and_kill(big_db, big_files["population"], "real", "committing", 0.5)
    store = storage.Store(big_db)
    now = state(store)
    rows = VILLAGES * len(YEARS)
    if now != before:  # the commit finished before the signal: then all of it is there
        assert now[0] == before[0] + 1 and now[1] == before[1] + rows and now[2] == before[2] + rows
    assert storage.count_rows(store, POPULATION, current=False) in (before[1], before[1] + rows)
    store.close()


# ---------------------------------------------------------------------------------------------------------
# A commit whose log was cut short: what the process leaves when it dies while COMMIT writes the log. DuckDB 1.5.5
# brings back the large inserts already logged without the rest of the transaction; the store finds and removes
# them at open (storage.recovery).


LOGGED_COMMIT = """
import os, signal, sys
from lawstats import storage, uploads
store = storage.Store(sys.argv[1])
# the commit stays in the log (no checkpoint folds it into the file), as when the process dies right after it
store._con.execute("SET checkpoint_threshold = '100GB'")
store._con.execute("SET auto_checkpoint_skip_wal_threshold = 100000000000")
upload = uploads.inspect_file(store, "population_synthetic.csv", open(sys.argv[2], "rb").read(), with_preview=False)
uploads.commit_upload(store, upload, user_name="logged")
os.kill(os.getpid(), signal.SIGKILL)
"""
QUERY_STATE = """SELECT (SELECT max(batch_id) FROM batches), (SELECT count(*) FROM fact_population),
                        (SELECT count(*) FROM cur_population)"""


@pytest.fixture(scope="module")
def logged_commit(tmp_path_factory, template_db, big_files) -> tuple[bytes, bytes]:
    """(the database file, its log) after a real commit of 200,000 rows that only the log holds."""
    import shutil

    db = tmp_path_factory.mktemp("logged") / "logged.duckdb"
    shutil.copy(template_db, db)
    child = subprocess.run([sys.executable, "-c", LOGGED_COMMIT, str(db), str(big_files["population"])], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr
    return db.read_bytes(), Path(f"{db}.wal").read_bytes()


def contents(path: Path) -> dict[str, list]:
    """Every table's rows, sorted (the recorded row counts aside: they are the check, not the data)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [n for (n,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
                 .fetchall() if n not in ("row_counts", "schema_migrations")]
        return {n: sorted(map(repr, con.execute(f'SELECT * FROM "{n}"').fetchall())) for n in names}
    finally:
        con.close()


def with_log(tmp_path: Path, logged: tuple[bytes, bytes], length: int) -> Path:
    """A copy of the logged commit's database whose log holds only its first ``length`` bytes."""
    db = tmp_path / "cut.duckdb"
    db.write_bytes(logged[0])
    Path(f"{db}.wal").write_bytes(logged[1][:length])
    return db


@pytest.mark.parametrize("short_by", [20, 200, 3000, 1, "half"])
def test_a_commit_whose_log_was_cut_short_opens_as_the_data_from_before(tmp_path, template_db, logged_commit,
                                                                         short_by):
    log = logged_commit[1]
    db = with_log(tmp_path, logged_commit, len(log) // 2 if short_by == "half" else len(log) - short_by)
    store = storage.Store(db)
    assert store.query_rows(QUERY_STATE)[0] == (2, 1, 1)
    assert uploads.history(store)["user_name"].tolist() == ["测试", "seed"]
    store.close()
    assert contents(db) == contents(template_db)  # every table, row for row: the derived ones rebuilt exactly
    store = storage.Store(db)  # opened again: nothing left to repair
    assert store.repaired is None
    store.close()


def test_the_cut_log_is_one_that_duckdb_alone_opens_as_part_of_the_commit(tmp_path, logged_commit):
    """The scenario above is the one DuckDB 1.5.5 gets wrong: opened without the store's check, the log cut 20
    bytes short brings back the 200,000 new fact and current rows without the batch that wrote them. (When a
    DuckDB version opens it as the data from before, this test fails: the check may then be retired.)"""
    import duckdb

    db = with_log(tmp_path, logged_commit, len(logged_commit[1]) - 20)
    con = duckdb.connect(str(db))
    assert con.execute(QUERY_STATE).fetchone() == (2, 1 + VILLAGES * len(YEARS), 1 + VILLAGES * len(YEARS))
    con.close()


DUCKDB_ALONE = """
import os, signal, sys
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET checkpoint_threshold = '100GB'")
con.execute("SET auto_checkpoint_skip_wal_threshold = 100000000000")
con.execute("CREATE TABLE small (a INTEGER)")
con.execute("CREATE TABLE big (a INTEGER)")
con.execute("CHECKPOINT")
con.execute("BEGIN")
con.execute("INSERT INTO small VALUES (1)")
con.execute("INSERT INTO big SELECT range FROM range(200000)")
con.execute("COMMIT")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_duckdb_alone_brings_back_the_large_insert_of_a_commit_whose_log_lacks_its_last_byte(tmp_path):
    """The defect in its smallest form, without lawstats: one transaction of one small and one large insert,
    its log cut one byte short (the flush marker that ends the commit is incomplete). DuckDB 1.5.5 opens it
    with the 200,000 rows of the large insert and without the small one."""
    db = tmp_path / "m.duckdb"
    subprocess.run([sys.executable, "-c", DUCKDB_ALONE, str(db)], timeout=120)
    log = Path(f"{db}.wal").read_bytes()
    whole, cut = tmp_path / "whole.duckdb", tmp_path / "cut.duckdb"
    for path, length in ((whole, len(log)), (cut, len(log) - 1)):
        path.write_bytes(db.read_bytes())
        Path(f"{path}.wal").write_bytes(log[:length])
    counts = "SELECT (SELECT count(*) FROM small), (SELECT count(*) FROM big)"
    con = duckdb.connect(str(whole))
    assert con.execute(counts).fetchone() == (1, 200_000)
    con.close()
    con = duckdb.connect(str(cut))
    assert con.execute(counts).fetchone() == (0, 200_000)  # half a transaction
    con.close()


def test_the_whole_log_opens_as_the_commit_with_nothing_to_repair(tmp_path, logged_commit):
    db = with_log(tmp_path, logged_commit, len(logged_commit[1]))
    store = storage.Store(db)
    assert store.repaired is None
    assert store.query_rows(QUERY_STATE)[0] == (3, 1 + VILLAGES * len(YEARS), 1 + VILLAGES * len(YEARS))
    assert uploads.history(store)["user_name"].tolist() == ["logged", "测试", "seed"]
    store.close()


def test_the_repair_is_said_where_the_user_looks_and_a_read_only_open_is_refused(tmp_path, logged_commit):
    from lawstats.errors import DatabaseError
    from lawstats.i18n import t

    db = with_log(tmp_path, logged_commit, len(logged_commit[1]) - 20)
    with pytest.raises(DatabaseError) as refused:  # read-only: nothing can be removed, nothing is shown torn
        storage.Store(db, read_only=True)
    assert refused.value.key == "error.db_unfinished_commit_read_only" and str(db) in refused.value.message("zh")
    shown = cli(db, "history")
    assert shown.returncode == 0
    assert t("store.repaired", "zh") in shown.stderr
    assert [line.split("\t")[0] for line in shown.stdout.splitlines()] == ["2", "1"]
    again = cli(db, "history")
    assert t("store.repaired", "zh") not in again.stderr


# ---------------------------------------------------------------------------------------------------------
# Row counts: recorded by every write, checked at open (storage.recovery)


def test_commits_and_undos_leave_nothing_for_the_open_to_repair(fresh_store, tmp_path):
    from lawstats import uploads
    from lawstats.storage import recovery

    store = fresh_store
    upload = uploads.inspect_file(store, "p.csv", "地区,年份,户籍人口\n西堡镇,2022,25000\n".encode())
    batch = uploads.commit_upload(store, upload, user_name="测试")
    storage.undo_batch(store, batch, user_name="测试")
    assert recovery.unrecorded_changes(store.cursor()) == {}
    path = store.spec.target
    store.close()
    reopened = storage.Store(path)
    assert reopened.repaired is None
    assert reopened.query_rows("SELECT n FROM row_counts WHERE table_name = 'batches'")[0][0] == 3
    reopened.close()


def test_a_file_from_before_the_row_counts_gets_them_without_a_repair(seeded_db):
    con = duckdb.connect(str(seeded_db))
    con.execute("DROP TABLE row_counts")
    con.close()
    store = storage.Store(seeded_db)
    assert store.repaired is None
    counts = dict(store.query_rows("SELECT table_name, n FROM row_counts"))
    assert counts["batches"] == 1 and counts["fact_training"] == len(storage.table_as_of(store, TABLES_BY_ID["training"]))
    store.close()


def test_rows_added_behind_the_stores_back_are_found_and_removed_at_open(seeded_db):
    """What a torn commit leaves (rows of a batch that has no ``batches`` row, current rows nobody committed),
    made by hand: the open removes the first and rebuilds the second from the history."""
    from lawstats.storage import recovery

    con = duckdb.connect(str(seeded_db))
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("fact_population", "cur_population", "cur_regions")}
    con.execute("INSERT INTO fact_population (batch_id, region_id, year, registered_persons) "
                "SELECT 99, region_id, 2030, 1 FROM cur_regions")
    con.execute("INSERT INTO cur_population (batch_id, region_id, year, registered_persons) VALUES (99, 1, 2030, 1)")
    con.close()
    store = storage.Store(seeded_db)
    assert store.repaired["removed"] == {"fact_population": before["cur_regions"]}
    assert store.repaired["tables"] == ["cur_population", "fact_population"]
    assert {t: store.query_rows(f"SELECT count(*) FROM {t}")[0][0] for t in before} == before
    assert recovery.unrecorded_changes(store.cursor()) == {}
    store.close()


def test_the_repairs_rebuild_gives_what_the_commits_and_undos_kept(fresh_store, seeded_db):
    """The repair rebuilds every derived table whole; commits and undos keep them key by key. After regions,
    figures of several tables, observations, a correction and undos, the two agree table for table."""
    import pandas as pd

    from lawstats.storage import recovery

    store = fresh_store
    files = [("r.csv", "名称,级别,上级\n东村,村,西堡镇\n西村,村,西堡镇\n"),
             ("p.csv", "地区,年份,户籍户数,户籍人口,常住人口\n东村,2024,300,1200,1100\n西村,2024,250,900,\n"
                       "西堡镇,2023,7000,25000,23000\n"),
             ("l.csv", "地区,年份,耕地面积,林地面积\n东村,2024,3000,1200\n西村,2023,2000,\n"),
             ("c.csv", "地区,年份,户籍人口\n东村,2024,1250\n")]
    batches = [uploads.commit_upload(store, uploads.inspect_file(store, name, text.encode()), user_name="测试")
               for name, text in files]
    village = int(storage.regions(store).set_index("name").loc["东村", "region_id"])
    storage.commit_batch(store, storage.NewBatch(file_name="o.csv", source="测试 test", observations=pd.DataFrame(
        [(village, 2024, "publicity_events", "", 12)], columns=["region_id", "year", "measure_id", "item_id", "value"])))
    storage.undo_batch(store, batches[3], user_name="测试")  # the correction: 东村 back to 1200
    storage.undo_batch(store, batches[2], user_name="测试")
    store.close()
    kept = contents(seeded_db)
    assert len(kept["cur_observations"]) == 1 and len(kept["batches"]) == 8  # what was written is in the file
    con = duckdb.connect(str(seeded_db))
    con.execute("BEGIN TRANSACTION")
    recovery.rebuild_derived(con)
    con.execute("COMMIT")
    con.close()
    assert contents(seeded_db) == kept


# ---------------------------------------------------------------------------------------------------------
# Markup is data, stored verbatim


MARKUP_REGION = "<script>alert('村')</script>"
MARKUP_IMG = "<img src=x onerror=alert(1)>"


def test_markup_in_region_names_and_cells_is_stored_verbatim(fresh_store):
    store = fresh_store
    regions = f"名称,级别,上级\n\"{MARKUP_REGION}\",村,西堡镇\n\"{MARKUP_IMG}\",村,西堡镇\n"
    uploads.commit_upload(store, uploads.inspect_file(store, "r.csv", regions.encode()), user_name="测试")
    names = set(storage.regions(store)["name"])
    assert {MARKUP_REGION, MARKUP_IMG} <= names
    rows = (f"地区,年份,户籍人口,来源,来源章节\n\"{MARKUP_REGION}\",2024,10,\"{MARKUP_IMG}\",<b>一</b>\n"
            f"\"{MARKUP_IMG}\",2024,20,<script>x</script>,\n")
    upload = uploads.inspect_file(store, "p.csv", rows.encode())
    assert set(upload.preview["population"].new_rows["地区"]) == {MARKUP_REGION, MARKUP_IMG}
    uploads.commit_upload(store, upload, user_name="测试")
    stored = storage.table_as_of(store, POPULATION).set_index("region")
    assert stored.loc[MARKUP_REGION, "source"] == MARKUP_IMG
    assert stored.loc[MARKUP_REGION, "section"] == "<b>一</b>"
    assert stored.loc[MARKUP_IMG, "source"] == "<script>x</script>"
    exported = exchange.export_csv(store, "population").decode("utf-8-sig")
    assert MARKUP_REGION in exported and MARKUP_IMG in exported
