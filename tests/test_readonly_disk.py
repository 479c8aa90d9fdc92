"""A read-only or full disk (issue 9, item 7), on real mounts: a small tmpfs that the test mounts as root (and
remounts read-only), so DuckDB meets the errors a real read-only share or a full disk gives.

Reading commands and the app's pages work on a read-only database; writes are refused with one sentence; no
message suggests moving or discarding the file. A full disk during an import gives one sentence, no traceback,
and the database as it was; once there is room again, the import works."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lawstats import seed, storage, synth
from lawstats.errors import DatabaseError
from lawstats.i18n import MESSAGES, t
from lawstats.navigation import PAGES
from tests.conftest import ROOT, copy_seeded, run_page

DISCARDING = ("移到别处", "重建", "rebuilt", "Move it elsewhere", "delete it", "删除它")


def mount(target: Path, options: str) -> None:
    """Mount a tmpfs (as root); skip, saying why, where this machine does not allow it."""
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {result.stderr.strip()}")


def remount(target: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(target)], check=True, capture_output=True)


def unmount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True)  # lazy: a cached store may hold the file


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lawstats(db: Path, *args, lang: str = "zh") -> subprocess.CompletedProcess:
    env = {**os.environ, "LAWSTATS_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "lawstats", "--lang", lang, *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def read_only_db(tmp_path, seeded_template):
    """The seeded database on a tmpfs remounted read-only."""
    where = tmp_path / "ro"
    mount(where, "size=64m")
    try:
        db = copy_seeded(seeded_template, where / "lawstats.duckdb")
        remount(where, "ro")
        yield db
    finally:
        unmount(where)


# -- read-only -----------------------------------------------------------------------------------------------


def test_reading_commands_work_on_a_read_only_database(read_only_db, tmp_path):
    before = digest(read_only_db)
    result = lawstats(read_only_db, "indicators", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert "registered_persons" in result.stdout and "25218" in result.stdout
    result = lawstats(read_only_db, "history")
    assert result.returncode == 0 and result.stdout.startswith("1\t"), result.stderr
    result = lawstats(read_only_db, "export", tmp_path / "out", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert "25218" in (tmp_path / "out" / "population.csv").read_text(encoding="utf-8-sig")
    result = lawstats(read_only_db, "deck", tmp_path / "deck.pptx", "--slides", "title,kpis")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "deck.pptx").stat().st_size > 10_000
    assert digest(read_only_db) == before


@pytest.mark.parametrize("command", [["import", "FILE"], ["undo", "1"], ["init"]])
def test_writing_commands_say_the_file_is_read_only_and_never_suggest_discarding_it(read_only_db, tmp_path,
                                                                                    command):
    fix = tmp_path / "fix.csv"
    fix.write_text("地区,年份,户籍人口\n西堡镇,2024,25300\n", encoding="utf-8")
    for lang in ("zh", "en"):
        result = lawstats(read_only_db, *[fix if a == "FILE" else a for a in command], lang=lang)
        assert result.returncode == 2
        assert result.stderr.strip() == t("error.db_read_only", lang, path=read_only_db), result.stderr
        assert not any(word in result.stderr for word in DISCARDING)


def test_a_new_database_on_a_read_only_mount_is_refused_naming_the_place(read_only_db):
    for args in (["--db", read_only_db.parent / "new.duckdb", "indicators"],
                 ["--db", read_only_db.parent / "sub" / "new.duckdb", "init"]):
        result = lawstats(read_only_db, *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert t("error.db_cannot_create", "zh", path=args[1], folder=read_only_db.parent) in result.stderr


def test_no_message_suggests_discarding_a_database():
    for key, texts in MESSAGES.items():
        if key.startswith("error.db") or key.startswith("cli."):
            assert not any(word in text for text in texts for word in DISCARDING), key


def test_the_app_pages_read_a_read_only_database(read_only_db, monkeypatch):
    monkeypatch.setenv("LAWSTATS_DB", str(read_only_db))
    for page in PAGES:
        at = run_page(page)
        assert not at.exception, (page.url_path, [e.value for e in at.exception])
        assert not at.error, (page.url_path, [e.value for e in at.error])
    overview = run_page(next(p for p in PAGES if p.default))
    assert any(m.value.startswith("25,218") for m in overview.metric)


def test_an_upload_to_a_read_only_database_is_refused_in_one_sentence(read_only_db):
    store = seed.open_store(read_only_db)
    try:
        assert store.read_only
        from lawstats import uploads

        with pytest.raises(DatabaseError) as refused:
            uploads.inspect_file(store, "fix.csv", "地区,年份,户籍人口\n西堡镇,2024,25300\n".encode())
        assert refused.value.key == "error.db_read_only"
        with pytest.raises(DatabaseError):
            storage.undo_batch(store, 1)
        assert storage.data_version(store) == 1
    finally:
        store.close()


# -- a full disk -----------------------------------------------------------------------------------------------


@pytest.fixture
def nearly_full(tmp_path, seeded_template):
    """The seeded database on a tmpfs with 256 KiB to spare, and a county of synthetic data (about 400 KB of
    CSV, several MB once stored) to import into it."""
    where = tmp_path / "full"
    wal = seeded_template.with_name(seeded_template.name + ".wal")
    size_kb = (seeded_template.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) // 1024 + 256
    mount(where, f"size={size_kb}k")
    try:
        db = copy_seeded(seeded_template, where / "lawstats.duckdb")
        data = tmp_path / "county"
        synth.generate(data, "county", [2023, 2024], 1)
        yield db, data
    finally:
        unmount(where)


def test_a_full_disk_during_import_is_one_sentence_and_changes_nothing(nearly_full):
    db, data = nearly_full
    before = digest(db)
    for attempt in range(2):  # the next import meets the same full disk: the same one sentence
        result = lawstats(db, "import", data, "--create-regions-under", "西堡镇")
        assert result.returncode == 2, result.stdout
        assert "Traceback" not in result.stderr and "Exception" not in result.stderr
        assert result.stderr.strip() == t("error.disk_full", "zh", path=db), result.stderr
        assert digest(db) == before
    history = lawstats(db, "history")
    assert history.returncode == 0 and history.stdout.count("\n") == 1  # the seed only
    remount(db.parent, "size=64m")  # room again: the same import now lands
    result = lawstats(db, "import", data, "--create-regions-under", "西堡镇")
    assert result.returncode == 0, result.stderr


def test_a_full_disk_in_the_app_process_keeps_the_store_usable(nearly_full):
    """The app holds one store for the whole process: after the refused commit it still reads, and commits
    once there is room."""
    db, data = nearly_full
    from lawstats import uploads

    store = seed.open_store(db)
    try:
        files = sorted(data.glob("*.csv"))
        parent = storage.find_region_id(store, "西堡镇")
        upload = uploads.inspect_files(store, [(p.name, p) for p in files], new_region_parent=parent,
                                       with_preview=False)
        with pytest.raises(DatabaseError) as refused:
            uploads.commit_upload(store, upload, user_name="tester")
        assert refused.value.key == "error.disk_full"
        assert storage.data_version(store) == 1 and len(storage.regions(store)) == 4
        remount(db.parent, "size=64m")
        upload = uploads.inspect_files(store, [(p.name, p) for p in files], new_region_parent=parent,
                                       with_preview=False)
        assert uploads.commit_upload(store, upload, user_name="tester") == 2
    finally:
        store.close()


# -- a read-only lake (the default store: a SQLite catalog and its Parquet files) ------------------------------


def test_a_lake_on_a_read_only_mount_is_read_and_writes_are_refused(tmp_path, monkeypatch):
    """SQLite cannot open a WAL-mode catalog in a folder it cannot write (its -shm file): the lake is read
    through a private copy of the catalog, the Parquet files where they are; writes get the read-only sentence."""
    where = tmp_path / "ro"
    mount(where, "size=64m")
    try:
        setting = f"ducklake:sqlite:{where / 'lawstats.sqlite'}"
        seed.open_store(setting).close()
        remount(where, "ro")
        monkeypatch.setenv("LAWSTATS_STORE", setting)
        result = lawstats(tmp_path / "unused.duckdb", "indicators", "--format", "csv")
        assert result.returncode == 0 and "25218" in result.stdout, result.stderr
        fix = tmp_path / "fix.csv"
        fix.write_text("地区,年份,户籍人口\n西堡镇,2024,25300\n", encoding="utf-8")
        result = lawstats(tmp_path / "unused.duckdb", "import", fix)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == t("error.db_read_only", "zh", path=setting)
        overview = run_page(next(p for p in PAGES if p.default))  # the app, through its local replica
        assert not overview.exception and any(m.value.startswith("25,218") for m in overview.metric)
        assert sorted(p.name for p in where.iterdir()) == ["lawstats.sqlite", "lawstats.sqlite.files",
                                                          "lawstats.sqlite.lock"]  # nothing written beside it
    finally:
        unmount(where)
