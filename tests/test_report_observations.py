"""Every accepted report figure is committed in ONE batch: registry measures to their tables, every other catalogue
measure as an observation carrying the document, section and sentence; breakdown items proposed and settable;
the sentence shown wherever the value is (``lawstats.report.sentences``, ``lawstats provenance``). Real DuckDB
files (copies of the seeded default data); the report texts are written for these tests."""

from __future__ import annotations

import json

import pytest

from lawstats import seed, storage, summary, uploads
from lawstats.errors import ValidationFailed
from lawstats.i18n import t
from lawstats.report import importing, review, sentences
from lawstats.report.extract import extract
from tests.conftest import copy_seeded
from tests.test_report_cli import run

REPORT = ("西堡镇人民政府\n西堡镇关于2024年法治政府建设工作情况的报告\n"
          "一、基本情况\n"
          "全镇下辖19个行政村、1个社区，户籍人口25300人。\n"
          "二、主要做法\n"
          "（一）深化普法宣传\n"
          "全年开展法治宣传活动40余场次，在县级媒体刊发法治宣传稿件12篇。\n"
          "（二）化解矛盾纠纷\n"
          "排查矛盾纠纷86起，受理群众来信来访15批。调解土地纠纷9起。\n")
EVENTS_SENTENCE = "全年开展法治宣传活动40余场次，在县级媒体刊发法治宣传稿件12篇。"
POPULATION_SENTENCE = "全镇下辖19个行政村、1个社区，户籍人口25300人。"
# figure order: 19 villages, 1 community, 25300 persons, 40 events, 12 articles, 86 disputes, 15 petitions, 9
VILLAGES, COMMUNITIES, PERSONS, EVENTS, ARTICLES, DISPUTES, PETITIONS, MEDIATIONS = range(8)


@pytest.fixture
def store(seeded_template, tmp_path):
    opened = seed.open_store(copy_seeded(seeded_template, tmp_path / "store.duckdb"), load_default=False)
    yield opened
    opened.close()


def xibao(store):
    return summary.find_region(store, "西堡镇")


def extraction(text: str = REPORT, name: str = "西堡镇2024年报告.txt"):
    return extract(text, name, ["西堡镇"])


def test_the_report_text_is_as_the_tests_expect():
    assert [(f.measure, f.item, f.value, f.approx) for f in extraction().figures] == [
        ("villages", None, 19, False), ("communities", None, 1, False), ("registered_persons", None, 25300, False),
        ("publicity_events", None, 40, True), ("publicity_events", None, 12, False),
        ("disputes_screened", "land", 86, False), ("petitions_received", None, 15, False),
        ("mediation_sessions", None, 9, False)]


def reviewed_as_the_analyst_left_it(report):
    """Accept the confident figures; the 12 articles are media reports of the county level; the 86 disputes
    are the total (no item); the petitions are left out."""
    decisions = review.accept_confident(report, review.first_decisions(report))
    decisions[ARTICLES] = review.Decision(True, "media_reports_by_level", 12, False, "county")
    decisions[DISPUTES] = review.Decision(True, "disputes_screened", 86, False, None)
    decisions[PETITIONS] = review.Decision(False, "petitions_received", 15, False)
    return review.reviewed(report, decisions)


def test_one_batch_holds_table_values_and_observations_with_their_sentences_and_undo_removes_both(store):
    report = reviewed_as_the_analyst_left_it(extraction())
    plan = importing.plan(report, "西堡镇", 2024)
    assert plan.counts() == {"registry": 3, "observations": 3}
    upload = importing.inspect(store, report, plan)
    assert importing.rows_text(upload, "zh") == "人口 1 行、网格与企业 1 行、指标观测值 3 个"
    batch_id = importing.commit(store, upload, report, plan, user_name="分析员")

    values = storage.measure_values(store, [xibao(store)], [2024])
    mine = values[values["batch_id"] == batch_id].set_index(["measure_id", "item_id"])
    assert mine.loc[("publicity_events", ""), "value"] == 40 and bool(mine.loc[("publicity_events", ""), "approx"])
    assert mine.loc[("publicity_events", ""), "sentence"] == EVENTS_SENTENCE
    assert mine.loc[("publicity_events", ""), "section"] == "（一）深化普法宣传"
    assert mine.loc[("publicity_events", ""), "source"] == "西堡镇2024年报告.txt"
    assert mine.loc[("media_reports_by_level", "county"), "value"] == 12  # the analyst's measure and item
    assert mine.loc[("disputes_screened", ""), "value"] == 86  # the analyst made it the total
    assert "petitions_received" not in set(values["measure_id"])  # rejected
    assert mine.loc[("registered_persons", ""), "value"] == 25300  # the registry table, same batch
    history = uploads.history(store)
    assert history.loc[history["batch_id"] == batch_id, "file_name"].item() == "西堡镇2024年报告.txt"

    uploads.undo(store, batch_id, user_name="分析员")
    after = storage.measure_values(store, [xibao(store)], [2024])
    assert not ({"publicity_events", "media_reports_by_level", "disputes_screened"} & set(after["measure_id"]))
    assert after.loc[after["measure_id"] == "registered_persons", "value"].item() == 25218


def test_the_sentences_are_shown_for_report_values_and_not_for_the_analysts_notes(store):
    report = reviewed_as_the_analyst_left_it(extraction())
    plan = importing.plan(report, "西堡镇", 2024)
    before = sentences.values_with_sentences(store, xibao(store), 2024)
    assert before.empty  # the shipped data's notes (单位：亩) are remarks, not a report's sentences
    importing.commit(store, importing.inspect(store, report, plan), report, plan, user_name="分析员")
    shown = sentences.values_with_sentences(store, xibao(store), 2024, "en")
    by_measure = {(r.measure_id, r.item): r for r in shown.itertuples()}
    assert by_measure[("registered_persons", "")].sentence == POPULATION_SENTENCE  # a registry value
    assert by_measure[("publicity_events", "")].sentence == EVENTS_SENTENCE  # an observation
    media = by_measure[("media_reports_by_level", "County level")]
    assert (media.measure, media.value, media.unit) == ("Media reports, by level", 12, "articles")  # English unit
    lines = dict(sentences.lines(sentences.values_with_sentences(store, xibao(store), 2024, "zh"), "zh"))
    assert lines["普法宣传活动场次 40余 场"] == f"“{EVENTS_SENTENCE}”（西堡镇2024年报告.txt · （一）深化普法宣传）"
    assert "分层级媒体报道篇数·县（市）级 12 篇" in lines  # the item after the measure


def test_a_report_of_observations_only_is_one_batch_and_a_new_town_needs_its_parent(store):
    text = "青石镇2024年度法治政府建设工作情况报告\n一、普法\n全年开展法治宣传活动32场次。\n"
    report = extract(text, "青石镇报告.txt", ["西堡镇"])
    plan = importing.plan(report, "青石镇", 2024)
    assert plan.files == [] and plan.counts() == {"registry": 0, "observations": 1}
    waiting = importing.inspect(store, report, plan)
    assert not waiting.ready and waiting.unknown_regions == ["青石镇"]
    county = int(storage.regions(store).query("level == 'county'")["region_id"].iloc[0])
    upload = importing.inspect(store, report, plan, new_region_parent=county)
    assert upload.ready and upload.new_regions == ["青石镇"]
    batch_id = importing.commit(store, upload, report, plan, user_name="分析员", new_region_parent=county)
    town = summary.find_region(store, "青石镇")
    values = storage.measure_values(store, [town], [2024])
    assert values[["measure_id", "value", "sentence", "batch_id"]].values.tolist() == [
        ["publicity_events", 32.0, "全年开展法治宣传活动32场次。", batch_id]]


def test_the_commit_inspects_again_when_another_analyst_committed_first(store):
    report = reviewed_as_the_analyst_left_it(extraction())
    plan = importing.plan(report, "西堡镇", 2024)
    upload = importing.inspect(store, report, plan)
    other = uploads.inspect_file(store, "片区.csv", "地区,年份,片区数\n西堡镇,2024,10\n".encode("utf-8"))
    uploads.commit_upload(store, other, user_name="另一位分析员")
    batch_id = importing.commit(store, upload, report, plan, user_name="分析员")
    values = storage.measure_values(store, [xibao(store)], [2024])
    assert set(values.loc[values["batch_id"] == batch_id, "measure_id"]) >= {"publicity_events", "disputes_screened"}


def test_breakdown_items_closed_lists_refuse_a_typed_item_open_ones_take_it():
    report = extraction()
    decisions = review.accept_confident(report, review.first_decisions(report))
    decisions[ARTICLES] = review.Decision(True, "media_reports_by_level", 12, False, "乡镇广播")  # open: a new item
    decisions[MEDIATIONS] = review.Decision(True, "disputes_resolved_by_level", 9, False, "乡镇广播")  # closed
    plan = importing.plan(review.reviewed(report, decisions), "西堡镇", 2024)
    observed = {(f.measure, importing.item_id(importing.catalogue_module.load(), f)) for f in plan.observations}
    assert ("media_reports_by_level", "乡镇广播") in observed
    assert [(reason, f.measure) for reason, f in plan.left] == [("unknown_item", "disputes_resolved_by_level")]
    assert t("report.left.unknown_item", "zh") == "分项不在该指标项的分项表中"


def test_a_value_outside_its_measures_range_is_refused_before_anything_is_written(store):
    text = "西堡镇2024年度法治政府建设工作情况报告\n一、普法\n全年开展法治宣传活动32场次。\n"
    report = extraction(text)
    decisions = review.accept_confident(report, review.first_decisions(report))
    decisions[0] = review.Decision(True, "publicity_events", -5, False)
    report = review.reviewed(report, decisions)
    plan = importing.plan(report, "西堡镇", 2024)
    with pytest.raises(ValidationFailed) as refused:
        importing.inspect(store, report, plan)
    message = refused.value.message("zh")
    assert "普法宣传活动场次" in message and "西堡镇" in message and "-5" in message
    assert storage.measure_values(store, [xibao(store)], [2024]).query("measure_id == 'publicity_events'").empty


def test_review_compares_an_observation_with_what_the_database_holds(store):
    report = reviewed_as_the_analyst_left_it(extraction())
    plan = importing.plan(report, "西堡镇", 2024)
    importing.commit(store, importing.inspect(store, report, plan), report, plan, user_name="分析员")
    held = review.stored_values(store, "西堡镇", 2024)
    figure = extraction().figures[EVENTS]
    assert review.comparison(figure, review.Decision(True, "publicity_events", 40, True), held) == ("agrees", 40)
    assert review.comparison(figure, review.Decision(True, "publicity_events", 41, True), held) == ("changes", 40)
    media = review.Decision(True, "media_reports_by_level", 12, False, "national_provincial")
    assert review.comparison(figure, media, held) == ("adds", None)  # another item of the breakdown


# --- the command line, run as a user runs it -------------------------------------------------------------


@pytest.fixture
def report_file(tmp_path):
    path = tmp_path / "西堡镇2024年报告.txt"
    path.write_bytes(REPORT.encode("gb18030"))
    return path


def test_cli_import_dry_run_counts_by_registry_and_observation_then_provenance_shows_sentences(
        report_file, seeded_template, tmp_path):
    db = copy_seeded(seeded_template, tmp_path / "cli.duckdb")
    dry = run("import", str(report_file), "--dry-run", db=db)
    assert dry.returncode == 0, dry.stderr
    assert "其中表格数值 3 个，指标观测值 3 个。" in dry.stdout  # 40 events, 86 disputes, 15 petitions
    assert "+\tobservations\tpublicity_events\t40\t场\t≈\t（一）深化普法宣传" in dry.stdout
    assert "（未写入，--dry-run）：人口 1 行、网格与企业 1 行、指标观测值 3 个。" in dry.stdout
    assert "西堡镇2024年报告.txt" not in run("history", db=db).stdout  # a dry run writes nothing

    done = run("--lang", "en", "import", str(report_file), db=db)
    assert done.returncode == 0, done.stderr
    assert "3 measure observations" in done.stdout
    shown = run("provenance", "--region", "西堡镇", "--year", "2024", "--format", "json", db=db)
    assert shown.returncode == 0, shown.stderr
    values = {(v["measure_id"], v["item"]): v for v in json.loads(shown.stdout)["values"]}
    assert values[("publicity_events", "")]["sentence"] == EVENTS_SENTENCE
    assert values[("registered_persons", "")]["sentence"] == POPULATION_SENTENCE
    table = run("provenance", "--region", "西堡镇", "--year", "2024", db=db)
    assert f"publicity_events\t-\t40≈\t场\t西堡镇2024年报告.txt\t（一）深化普法宣传\t{EVENTS_SENTENCE}" in table.stdout


def test_a_change_is_left_out_as_a_change_and_its_level_is_taken():
    text = "青石镇2024年度法治政府建设工作情况报告\n一、基本\n全镇户籍人口25300人，同比增长12%。受理行政复议案件3件。\n"
    plan = importing.plan(extract(text, "r.txt"), "青石镇", 2024)
    assert [(table, f.measure, f.value) for table, f in plan.taken] == [
        ("population", "registered_persons", 25300), ("observations", "review_cases", 3)]
    assert [(reason, f.value) for reason, f in plan.left] == [("change", 12)]
    assert t("report.left.change", "en") == "a change (such as year on year), not a level"


def test_the_decks_sources_slide_carries_each_report_values_sentence_in_its_speaker_notes(store):
    """The deck's footer names documents; the sentences a presenter may be asked for are in the sources slide's
    notes, in the .pptx as well, in the deck's language."""
    import io

    from pptx import Presentation

    from lawstats import deck, slides

    before = slides.build(store, xibao(store), 2024, "zh")
    assert EVENTS_SENTENCE not in before.slides[-1].notes  # the shipped data came from no report import
    report = reviewed_as_the_analyst_left_it(extraction())
    plan = importing.plan(report, "西堡镇", 2024)
    importing.commit(store, importing.inspect(store, report, plan), report, plan, user_name="分析员")
    for lang, value in (("zh", "普法宣传活动场次 40余 场"), ("en", "Legal publicity events ≈40 events")):
        built = slides.build(store, xibao(store), 2024, lang)
        sources = built.slides[-1]
        assert sources.section == "sources"
        assert EVENTS_SENTENCE in sources.notes and POPULATION_SENTENCE in sources.notes
        pptx = Presentation(io.BytesIO(deck.build_pptx(built)))
        notes = pptx.slides[-1].notes_slide.notes_text_frame.text
        assert EVENTS_SENTENCE in notes and value in notes, (lang, notes[:300])
