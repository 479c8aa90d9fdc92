"""The 从报告导入 page in AppTest: paste a report, see its figures with their sentences, accept the confident
ones, change one measure, reject one figure, commit one batch, find it in the history and its values (with their
sentences as provenance) on the pages, undo it. The report text is written for this test."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lawstats import registry, seed, storage, summary, uploads
from lawstats.i18n import t
from lawstats.report import review
from lawstats.report.documents import from_text
from lawstats.report.extract import extract
from tests.conftest import ROOT
from tests.test_data_page import _frame_runs_every_time, analyst, button, headline, log_in, texts, users_file  # noqa: F401

TITLE = "西堡镇关于2024年法治政府建设工作情况的报告"
REPORT = (f"西堡镇人民政府\n{TITLE}\n"
          "一、基本情况\n"
          "西堡镇地处县境东部，下辖19个行政村、1个社区，全镇户籍人口25300人，现有耕地43000亩。\n"
          "二、主要做法\n"
          "（一）推进基层治理\n"
          "全镇划分网格21个，排查矛盾纠纷，修缮村级活动场所6座。\n")
POPULATION_SENTENCE = "西堡镇地处县境东部，下辖19个行政村、1个社区，全镇户籍人口25300人，现有耕地43000亩。"
# figure order: 19 villages, 1 community, 25300 registered persons, 43000 亩, 21 grids, 6 座
PERSONS, LAND, GRIDS = 2, 3, 4


def figures_of(text: str):
    return extract(text, "r.txt", ["西堡镇"]).figures


def open_report_page(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if lang != "zh":
        at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    return at


def checkbox(at: AppTest, name: str, index: int):
    found = [c for c in at.checkbox if c.key and c.key.startswith(f"report_{name}_") and c.key.endswith(f"_{index}")]
    assert len(found) == 1, [c.key for c in at.checkbox]
    return found[0]


def measure_box(at: AppTest, index: int):
    return next(s for s in at.selectbox if s.key and s.key.startswith("report_measure_") and s.key.endswith(f"_{index}"))


def test_the_report_text_is_as_the_test_expects():
    assert [(f.measure, f.value) for f in figures_of(REPORT)] == [
        ("villages", 19), ("communities", 1), ("registered_persons", 25300), ("cultivated_area", 43000),
        ("sub_grids", 21), ("disputes_resolved_by_level", 6)]


def test_without_login_the_page_asks_for_one(app_db, analyst):
    at = open_report_page()
    assert len(at.text_area) == 0 and len(at.file_uploader) == 0
    assert [i.label for i in at.main.text_input] == [t("data.user_name", "zh"), t("data.password", "zh")]


def test_paste_review_commit_history_pages_undo(app_db, analyst):
    at = open_report_page()
    log_in(at)
    at.text_area[0].input(REPORT).run()
    assert not at.exception, at.exception
    assert f"{TITLE}" in texts(at.caption)  # the pasted report's name: its title line
    assert "西堡镇" in texts(at.info) and "2024" in texts(at.info)
    assert at.main.text_input[0].value == "西堡镇"  # region read from the title, changeable
    highlighted = [m.value for m in at.markdown if ":orange-background[**" in m.value]
    assert len(highlighted) == 6
    assert "户籍人口:orange-background[**25300**]人" in highlighted[PERSONS]
    assert "将把数据库中的 25,218 改为此值" in texts(at.caption)  # 户籍人口: changes what the database has

    button(at, "review.accept_all").click().run()
    taken = [checkbox(at, "take", i).value for i in range(6)]
    assert taken == [True, True, True, True, True, False]  # 6 座 matches no stored measure
    measure_box(at, GRIDS).set_value("grid_areas").run()  # 网格21个: the analyst knows these are the grid areas
    checkbox(at, "take", LAND).uncheck().run()  # and that the land figure is last year's
    assert not at.exception, at.exception
    assert "共 6 个数字，其中 5 个可信度高；已选 4 个。" in texts(at.caption)

    button(at, "review.commit").click().run()
    assert not at.exception, at.exception
    success = texts(at.success)
    assert "已导入第" in success
    assert len(at.text_area) == 1 and at.text_area[0].value == ""  # emptied for the next report

    store = seed.open_store(app_db, load_default=False)
    history = uploads.history(store)
    batch = history[history["kind"] == "import"].sort_values("batch_id").iloc[-1]
    assert batch["file_name"] == TITLE and str(int(batch["batch_id"])) in success
    region = summary.find_region(store, "西堡镇")
    provenance = storage.value_provenance(store, region, 2024)
    by_column = {r.column_id: r for r in provenance.itertuples() if r.source == TITLE}
    assert set(by_column) == {"villages", "communities", "registered_persons", "grid_areas"}  # not the land
    assert by_column["registered_persons"].note == POPULATION_SENTENCE
    assert by_column["registered_persons"].section == "一、基本情况"
    grid = storage.table_rows(store, registry.TABLES_BY_ID["grid"], [region], [2024])
    assert grid["grid_areas"].iloc[0] == 21

    at.switch_page("pages/overview.py").run()
    assert headline(at).startswith("25,300")
    at.switch_page("pages/glossary.py").run()
    assert not at.exception, at.exception
    shown = "\n".join(m.value for m in at.markdown) + "\n".join(str(d.value.to_csv()) for d in at.dataframe)
    assert POPULATION_SENTENCE in shown.replace("\\", "")  # the sentence as the value's provenance

    at.switch_page("pages/data.py").run()
    button(at, "data.undo").click().run()  # the newest batch is preselected
    button(at, "data.undo_yes").click().run()
    assert not at.exception, at.exception
    at.switch_page("pages/overview.py").run()
    assert headline(at).startswith("25,218")


def test_a_new_town_needs_its_parent_confirmed(app_db, analyst):
    at = open_report_page("en")
    log_in(at, lang="en")
    at.text_area[0].input(REPORT.replace("西堡镇", "青石镇")).run()
    assert "“青石镇” is not a known region" in texts(at.warning)
    button(at, "review.accept_all", "en").click().run()
    commit = button(at, "review.commit", "en")
    assert commit.disabled  # not before the new town is confirmed
    confirm = next(c for c in at.checkbox if c.key and c.key.startswith("report_confirm_"))
    confirm.check().run()
    assert not button(at, "review.commit", "en").disabled


def test_the_sentence_is_escaped_before_the_number_is_marked():
    text = "一、基本情况\n全镇[链接](http://x.cn)**户籍人口**25300人。\n"
    figure = next(f for f in extract(from_text(text).text).figures if f.value == 25300)
    shown = review.highlighted_markdown(text, figure)
    assert "\\[链接\\]\\(" in shown and "\\*\\*户籍人口\\*\\*" in shown
    assert shown.count(":orange-background[") == 1 and ":orange-background[**25300**]人" in shown


def test_an_uploaded_report_is_read_and_an_old_doc_gets_its_sentence(app_db, analyst):
    at = open_report_page()
    log_in(at)
    at.file_uploader[0].set_value(("西堡镇报告.txt", REPORT.encode("gbk"), "text/plain")).run()
    assert not at.exception, at.exception
    assert "报告：西堡镇报告\\.txt" in texts(at.caption)  # its own name as the source (markdown-escaped)
    assert len([c for c in at.checkbox if c.key and c.key.startswith("report_take_")]) == 6
    at.file_uploader[0].set_value(("报告.txt", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
                                   "text/plain")).run()
    assert "是旧版 Word" in texts(at.error) and "docx" in texts(at.error)  # one sentence: what to do
    assert not [c for c in at.checkbox if c.key and c.key.startswith("report_take_")]


def item_box(at: AppTest, index: int, measure: str):
    """The breakdown item select of figure ``index`` for ``measure`` (each measure has its own)."""
    found = [s for s in at.selectbox if s.key and s.key.startswith(f"report_item_{measure}_")
             and s.key.endswith(f"_{index}")]
    assert len(found) == 1, [s.key for s in at.selectbox]
    return found[0]


def test_catalogue_measures_and_breakdown_items_are_set_on_the_page_and_committed(app_db, analyst):
    """Every catalogue measure can be chosen and committed (as an observation), a breakdown's item is a
    select (the extractor's proposal first), and the glossary shows each imported value with its sentence."""
    from tests.test_report_observations import ARTICLES, DISPUTES, EVENTS_SENTENCE, PETITIONS
    from tests.test_report_observations import REPORT as CATALOGUE_REPORT

    at = open_report_page()
    log_in(at)
    at.text_area[0].input(CATALOGUE_REPORT).run()
    assert not at.exception, at.exception
    disputes = item_box(at, DISPUTES, "disputes_screened")
    assert disputes.value == "land" and disputes.options[0] == t("review.item_total", "zh")  # proposed, changeable
    button(at, "review.accept_all").click().run()
    measure_box(at, ARTICLES).set_value("media_reports_by_level").run()
    item_box(at, ARTICLES, "media_reports_by_level").set_value("county").run()
    item_box(at, DISPUTES, "disputes_screened").select_index(0).run()  # the 86 are all disputes: the total
    checkbox(at, "take", PETITIONS).uncheck().run()
    assert not at.exception, at.exception
    assert "将导入：表格数值 3 个，指标观测值 3 个。" in texts(at.caption)

    button(at, "review.commit").click().run()
    assert not at.exception, at.exception
    assert "指标观测值 3 个" in texts(at.success)
    store = seed.open_store(app_db, load_default=False)
    values = storage.measure_values(store, [summary.find_region(store, "西堡镇")], [2024])
    observed = values[values["sentence"].notna()].set_index(["measure_id", "item_id"])["value"].to_dict()
    assert observed == {("disputes_screened", ""): 86, ("media_reports_by_level", "county"): 12,
                        ("publicity_events", ""): 40}
    store.close()

    at.switch_page("pages/glossary.py").run()
    assert not at.exception, at.exception
    shown = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert f"**普法宣传活动场次 40余 场** “{EVENTS_SENTENCE}”（西堡镇关于2024年法治政府建设工作情况的报告 · （一）深化普法宣传）" in shown
    assert "**分层级媒体报道篇数·县（市）级 12 篇** “" in shown
