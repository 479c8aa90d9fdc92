"""The 数据管理 page in AppTest: login, a GBK upload with its preview, commit, the overview changing, undo,
a refused file that changes nothing, and no upload widget without a login."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lawstats import auth
from lawstats.i18n import t
from tests.conftest import ROOT

ANALYST, PASSWORD = "analyst", "a long test password"
OLD, NEW = "25,218", "25,300"  # 西堡镇 户籍人口 2024 in data/, and the figure the test uploads
GBK_FILE = "地区,年份,户籍人口\n西堡镇,2024,25300\n".encode("gbk")
BAD_FILE = "地区,年份,户籍人口,常住人口\n西堡镇,2024,很多,23971\n西堡镇,2024,25300,-5\n".encode("gbk")


@pytest.fixture(autouse=True)
def _frame_runs_every_time(monkeypatch):
    """Run app.py (the frame) on every AppTest run, as a real server does.

    AppTest resets ``PagesManager.uses_pages_directory`` before each run, and because a ``pages/`` folder
    exists, a run after ``switch_page`` then executes the page file alone (Streamlit's old pages-folder mode):
    the frame does not run, so the data version and the context stay those of the first run. A server sets the
    flag to False for good at the first ``st.navigation`` call; this keeps it False in AppTest too.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def users_file(tmp_path, monkeypatch):
    path = tmp_path / "config" / "users.toml"
    monkeypatch.setenv(auth.USERS_ENV, str(path))
    return path


@pytest.fixture
def analyst(users_file):
    auth.UserStore(users_file).add(ANALYST, PASSWORD)
    return users_file


def open_data_page(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if lang != "zh":
        at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, key: str, lang: str = "zh"):
    label = t(key, lang)
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}: {[b.label for b in at.button]}"
    return found[0]


def log_in(at: AppTest, password: str = PASSWORD, lang: str = "zh") -> None:
    at.main.text_input[0].input(ANALYST)
    at.main.text_input[1].input(password)
    button(at, "data.log_in", lang).click().run()
    assert not at.exception, at.exception


def frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


def headline(at: AppTest, label: str = "户籍人口") -> str:
    metrics = {m.label.rstrip(" ⚠"): m.value for m in at.metric}
    return metrics[label]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_without_login_there_is_no_upload_but_templates_and_exports(app_db, analyst):
    at = open_data_page()
    assert len(at.file_uploader) == 0
    assert t("data.section_history", "zh") not in [h.value for h in at.header]
    labels = [b.label for b in at.get("download_button")]
    assert t("data.template_csv", "zh") in labels and t("data.export_xlsx", "zh") in labels
    assert [i.label for i in at.main.text_input] == [t("data.user_name", "zh"), t("data.password", "zh")]


def test_fresh_install_says_how_to_create_the_first_analyst(app_db, users_file):
    at = open_data_page("en")
    # the visitor is pointed to the user guide; the command and the server's path are not shown (issue 9, item 21)
    assert t("data.no_analysts", "en") in texts(at.info) and "user guide" in texts(at.info)
    assert not at.code and str(users_file) not in texts(at.caption) + texts(at.info)
    assert len(at.file_uploader) == 0 and len(at.main.text_input) == 0  # no login form: nobody could log in


def test_wrong_password_is_refused_and_counted(app_db, analyst):
    at = open_data_page()
    log_in(at, password="not the password")
    assert len(at.file_uploader) == 0
    assert "4" in texts(at.error)
    assert auth.UserStore(analyst).failures(ANALYST) == 1


def test_gbk_upload_preview_commit_overview_undo(app_db, analyst):
    at = open_data_page()
    log_in(at)
    assert len(at.file_uploader) == 1

    at.file_uploader[0].set_value(("人口_GBK.csv", GBK_FILE, "text/csv")).run()
    assert not at.exception, at.exception
    assert "gb18030" in texts(at.caption).lower()
    changed = [f for f in frames(at) if t("upload.col_old", "zh") in f.columns]
    assert changed, "no old → new table in the preview"
    row = changed[0].iloc[0]
    assert (row[t("upload.col_column", "zh")], row[t("upload.col_old", "zh")], row[t("upload.col_new", "zh")]) == \
        ("户籍人口", OLD, NEW)
    moved = [f for f in frames(at) if t("upload.col_change", "zh") in f.columns]
    assert moved and "户籍人口" in set(moved[0][t("common.indicator", "zh")])

    at.text_area[0].input("2025 年补报")
    button(at, "data.commit").click().run()
    assert not at.exception, at.exception
    success = texts(at.success)
    batch_id = max(int(h) for h in _history_ids(at))
    assert str(batch_id) in success
    assert len(at.file_uploader) == 1 and at.file_uploader[0].value is None  # emptied for the next file

    at.switch_page("pages/overview.py").run()
    assert headline(at).startswith(NEW)

    at.switch_page("pages/data.py").run()
    button(at, "data.undo").click().run()  # the newest batch is preselected
    assert str(batch_id) in texts(at.warning)
    button(at, "data.undo_yes").click().run()
    assert not at.exception, at.exception
    assert str(batch_id) in texts(at.success)
    at.switch_page("pages/overview.py").run()
    assert headline(at).startswith(OLD)


def _history_ids(at: AppTest) -> list[int]:
    history = [f for f in frames(at) if t("upload.col_batch", "zh") in f.columns]
    assert history, "no history table"
    return [int(b) for b in history[0][t("upload.col_batch", "zh")]]


def test_a_bad_file_shows_every_problem_and_changes_nothing(app_db, analyst):
    at = open_data_page()
    log_in(at)
    before = _history_ids(at)
    at.file_uploader[0].set_value(("坏文件.csv", BAD_FILE, "text/csv")).run()
    assert not at.exception, at.exception
    assert at.error, "no error shown"
    problems = [f for f in frames(at) if t("problem.col_problem", "zh") in f.columns]
    assert problems
    table = problems[0]
    cells = set(zip(table[t("problem.col_row", "zh")].astype(int), table[t("problem.col_value", "zh")].astype(str)))
    assert {(2, "很多"), (3, "-5")} <= cells
    assert t("data.problems_download", "zh") in [b.label for b in at.get("download_button")]
    assert not [b for b in at.button if b.label == t("data.commit", "zh")]  # nothing to commit
    assert _history_ids(at) == before


def test_the_page_speaks_english(app_db, analyst):
    at = open_data_page("en")
    assert [e.value for e in at.title] == ["Data management"]
    log_in(at, lang="en")
    headers = [h.value for h in at.header]
    assert headers[:2] == [t("data.section_upload", "en"), t("data.section_history", "en")]
    assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in headers)


def selectbox(at: AppTest, key: str, lang: str = "zh"):
    found = [s for s in at.selectbox if s.label == t(key, lang)]
    assert found, f"no select {t(key, lang)!r}"
    return found[0]


def test_encoding_override_then_back_to_automatic(app_db, analyst):
    at = open_data_page()
    log_in(at)
    at.file_uploader[0].set_value(("人口_GBK.csv", GBK_FILE, "text/csv")).run()
    selectbox(at, "data.encoding").set_value("utf-8").run()
    assert not at.exception, at.exception
    assert at.error and not [f for f in frames(at) if t("upload.col_old", "zh") in f.columns]  # refused
    assert not [b for b in at.button if b.label == t("data.commit", "zh")]
    selectbox(at, "data.encoding").set_value(None).run()  # 自动识别 again
    assert not at.error
    assert [f for f in frames(at) if t("upload.col_old", "zh") in f.columns]


def test_xlsx_offers_its_sheets_and_leaves_the_total_row_out(app_db, analyst):
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["本表为西堡镇人口数据"])
    data = workbook.create_sheet("人口")
    for row in (["地区", "年份", "户籍人口"], ["西堡镇", 2024, 25300], ["合计", None, 25300]):
        data.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)

    at = open_data_page()
    log_in(at)
    at.file_uploader[0].set_value(("人口.xlsx", buffer.getvalue(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    sheets = selectbox(at, "data.sheet")
    assert sheets.options[1:] == ["说明", "人口"]
    assert not [s for s in at.selectbox if s.label == t("data.encoding", "zh")]  # no encoding for XLSX
    assert "第 3 行" in texts(at.info)  # the total row, left out with a notice
    sheets.set_value("说明").run()
    assert at.error  # that sheet holds no table ...
    selectbox(at, "data.sheet").set_value("人口").run()  # ... and the choice is still offered
    assert not at.error and [f for f in frames(at) if t("upload.col_old", "zh") in f.columns]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_store_repaired_at_open_says_so_on_the_data_page(app_db, users_file, lang):
    """Rows of a batch that never committed (what a commit killed while writing its log leaves on a DuckDB
    file: tests/test_faults_import.py) are removed when the app opens the file, and the data page says so."""
    import duckdb

    con = duckdb.connect(str(app_db))
    con.execute("INSERT INTO fact_population (batch_id, region_id, year, registered_persons) "
                "SELECT 99, region_id, 2030, 1 FROM cur_regions")
    con.close()
    at = open_data_page(lang)
    assert t("store.repaired", lang) in texts(at.warning)
    at = open_data_page(lang)  # the same process, the same store: still said (the history shows no such batch)
    assert t("store.repaired", lang) in texts(at.warning)
