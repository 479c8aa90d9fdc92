"""No column is dropped unseen: the command line lists the columns it does not recognise and refuses unless
told which to skip; an exact repeated header is refused like two headers naming one column; a file with very
many unknown columns gets one short summary; the data page lists them before the commit."""

from __future__ import annotations

import pytest

from lawstats import cli, storage, uploads
from lawstats.errors import ValidationFailed
from lawstats.i18n import t
from lawstats.registry import TABLES_BY_ID
from tests.test_data_page import _frame_runs_every_time, analyst, log_in, open_data_page, texts, users_file  # noqa: F401

UNKNOWN = "地区,年份,户籍人口,备注,负责人\n西堡镇,2023,25000,已核实,张三\n"


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "cli.duckdb")


def run(db, *args) -> int:
    return cli.main(["--db", db, *args])


def write(tmp_path, text: str, name: str = "人口.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def batches(db) -> int:
    store = storage.Store(db)
    try:
        return storage.data_version(store)
    finally:
        store.close()


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_cli_lists_unknown_columns_and_refuses(tmp_path, db, capsys, dry_run):
    path = write(tmp_path, UNKNOWN)
    assert run(db, "import", path, *(["--dry-run"] if dry_run else [])) == 2
    captured = capsys.readouterr()
    assert "备注、负责人" in captured.err and "--skip-columns" in captured.err
    assert t("cli.dry_run_ok", "zh", rows="")[:4] not in captured.out  # no 检查通过
    assert batches(db) == 1  # the seed only


def test_skipping_some_columns_refuses_with_the_rest_listed(tmp_path, db, capsys):
    path = write(tmp_path, UNKNOWN)
    assert run(db, "import", path, "--skip-columns", "备注") == 2
    captured = capsys.readouterr()
    assert "跳过 1 列：备注" in captured.out
    assert "负责人" in captured.err and "备注、" not in captured.err


def test_skipping_every_unknown_column_imports_and_says_so(tmp_path, db, capsys):
    path = write(tmp_path, UNKNOWN)
    assert run(db, "import", path, "--skip-columns", "备注，负责人") == 0  # a full-width comma too
    assert "跳过 2 列：备注、负责人" in capsys.readouterr().out
    assert run(db, "import", write(tmp_path, UNKNOWN.replace("25000", "25001"), "b.csv"),
               "--skip-unknown-columns") == 0
    assert "备注、负责人" in capsys.readouterr().out  # still listed
    store = storage.Store(db)
    rows = storage.table_as_of(store, TABLES_BY_ID["population"]).set_index(["region", "year"])
    assert rows.loc[("西堡镇", 2023), "registered_persons"] == 25001
    store.close()


def test_a_known_column_may_be_skipped_and_a_missing_name_is_refused(tmp_path, db, capsys):
    path = write(tmp_path, "地区,年份,户籍人口,常住人口\n西堡镇,2023,25000,24000\n")
    assert run(db, "import", path, "--skip-columns", "常住人口", "--dry-run") == 0
    assert run(db, "import", path, "--skip-columns", "常驻人口", "--dry-run") == 2
    err = capsys.readouterr().err
    assert "常驻人口" in err and "户籍人口" in err  # the typo and the file's columns


def test_an_exact_repeated_header_is_refused(tmp_path, db, fresh_store, capsys):
    text = "地区,年份,户籍人口,户籍人口\n西堡镇,2023,25000,26000\n"
    with pytest.raises(ValidationFailed) as error:
        uploads.inspect_file(fresh_store, "p.csv", text.encode())
    details = error.value.details
    assert details["kind"].tolist() == ["duplicate_column"] and details["value"].tolist() == ["户籍人口"]
    assert run(db, "import", write(tmp_path, text), "--dry-run") == 2
    assert "duplicate_column" in capsys.readouterr().err


def test_an_exact_repeat_of_an_unknown_header_is_listed_as_unknown(fresh_store):
    upload = uploads.inspect_file(fresh_store, "p.csv", "地区,年份,户籍人口,备注,备注\n西堡镇,2023,1,a,b\n".encode())
    assert upload.unknown_columns == ["备注", "备注#2"]


def test_many_unknown_columns_make_one_short_summary(tmp_path, db, capsys):
    names = [f"列{i}" for i in range(100_000)]
    text = uploads.columns_text(names, "zh")
    assert len(text) < 400 and "100,000" in text and text.startswith("列0、列1")
    assert "100,000 columns" in uploads.columns_text(names, "en")
    assert uploads.columns_text(["x" * 5000], "zh") == "x" * uploads.COLUMN_NAME_SHOWN + "…"
    # end to end, with fewer columns so that the test stays quick
    wide = ["地区", "年份", "户籍人口", *names[:3000]]
    path = write(tmp_path, ",".join(wide) + "\n" + ",".join(["西堡镇", "2023", "1"] + ["v"] * 3000) + "\n")
    assert run(db, "import", path, "--dry-run") == 2
    err = capsys.readouterr().err
    assert "3,000" in err and len(err) < 2000 and len(err.splitlines()) < 6


def test_the_data_page_lists_unknown_columns_before_the_commit(app_db, analyst, _frame_runs_every_time):
    at = open_data_page()
    log_in(at)
    wide = ["地区", "年份", "户籍人口", *[f"列{i}" for i in range(500)]]
    data = (",".join(wide) + "\n" + ",".join(["西堡镇", "2023", "1"] + ["v"] * 500) + "\n").encode()
    at.file_uploader[0].set_value(("人口.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    warnings = texts(at.warning)
    assert "列0、列1" in warnings and "共 500 列" in warnings and "列499" not in warnings
