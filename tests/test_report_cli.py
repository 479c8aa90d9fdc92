"""The report commands: ``python -m lawstats extract REPORT`` prints every figure with its measure, sentence and
span; ``extract-eval DIR`` scores the extractor on report texts with gold figures. Run as a user runs them, in a
new process. The report texts and gold figures are written for these tests."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

REPORT = ("中共青石镇委员会 青石镇人民政府\n"
          "关于2024年法治政府建设工作情况的报告\n"
          "一、基本情况\n"
          "全镇辖十九个行政村，畅通12345热线（青石委〔2025〕3号）。\n"
          "二、主要举措和成效\n"
          "开展法治宣传活动32场次，发放宣传资料4万余份，参考率、及格率均达100%。全镇修缮凉亭6座。\n")


def run(*args: str, stdin: str | None = None, db: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "lawstats"]
    if db is not None:
        command += ["--db", str(db)]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT, input=stdin, timeout=120)


@pytest.fixture
def report(tmp_path) -> Path:
    path = tmp_path / "青石镇2024年报告.txt"
    path.write_bytes(REPORT.encode("gbk"))
    return path


def test_extract_json_lists_every_figure_with_its_evidence(report, tmp_path):
    result = run("extract", str(report), "--format", "json", db=tmp_path / "none" / "x.duckdb")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["region"], data["year"], data["region_known"]) == ("青石镇", 2024, False)
    got = [(f["measure"], f["value"], f["unit"], f["approx"]) for f in data["figures"]]
    assert got == [("villages", 19, "个", False), ("publicity_events", 32, "场", False),
                   ("materials_distributed", 40000, "份", True), ("participation_rate_stated", 100, "%", False),
                   ("pass_rate_stated", 100, "%", False), (None, 6, "座", False)]
    events = data["figures"][1]
    assert events["section"] == "二、主要举措和成效"
    assert events["sentence"].startswith("开展法治宣传活动32场次")
    assert REPORT[events["start"]:events["end"]] == "32"


def test_extract_csv_and_table(report, tmp_path):
    result = run("extract", str(report), "--format", "csv", "--region", "白沙乡", "--year", "2023",
                 db=tmp_path / "none" / "x.duckdb")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {(r["region"], r["year"]) for r in rows} == {("白沙乡", "2023")}
    assert [r["measure"] for r in rows] == ["villages", "publicity_events", "materials_distributed",
                                            "participation_rate_stated", "pass_rate_stated", ""]
    table = run("--lang", "en", "extract", str(report), db=tmp_path / "none" / "x.duckdb")
    assert table.returncode == 0, table.stderr
    assert "Region: 青石镇 (new region, to confirm)  Year: 2024" in table.stdout
    assert "6 figures: 5 mapped to a measure" in table.stdout
    assert "\nnull\t6\t座" in table.stdout


def test_extract_reads_pasted_text_from_stdin(tmp_path):
    result = run("extract", "-", "--format", "json", stdin=REPORT, db=tmp_path / "none" / "x.duckdb")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["figures"][0]["measure"] == "villages"


def test_extract_matches_the_region_against_the_database(report, tmp_path):
    db = tmp_path / "store.duckdb"
    assert run("init", db=db).returncode == 0  # the default data: 西堡镇 and its parents
    path = tmp_path / "西堡镇.txt"
    path.write_text("西堡镇2024年度法治政府建设工作情况报告\n全镇辖19个行政村。\n", encoding="utf-8")
    data = json.loads(run("extract", str(path), "--format", "json", db=db).stdout)
    assert (data["region"], data["region_known"]) == ("西堡镇", True)


def test_unreadable_report_exits_2_with_one_sentence(tmp_path):
    old = tmp_path / "报告.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    result = run("extract", str(old), db=tmp_path / "none" / "x.duckdb")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "旧版 Word/WPS 文件" in result.stderr and ".docx" in result.stderr
    english = run("--lang", "en", "extract", str(old), db=tmp_path / "none" / "x.duckdb")
    assert english.returncode == 2 and "Save it as .docx" in english.stderr


# ---------------------------------------------------------------------------------------------------------
# extract-eval


GOLD = """report_id,value,unit,label,approx,statistic,measure_id,note
a,2024,年,年份,false,false,,year
a,〔2025〕3号,,文号,false,false,,document number
a,19,个,行政村,false,true,villages,
a,32,场次,宣传活动,false,true,publicity_events,
a,40000,份,宣传资料,true,true,materials_distributed,written as 4万余
b,2024,年,年份,false,false,,year
b,12,次,集中学法,false,true,legal_study_sessions,
b,3,件,合法性审查,false,true,legality_reviews,
"""


@pytest.fixture
def gold_folder(tmp_path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.txt").write_text("https://example.gov.cn/a.html\n" + REPORT, encoding="utf-8")
    (folder / "b.txt").write_text("白沙乡2024年度报告\n全年班子集体学法12次，开展联合执法行动2024次。\n",
                                  encoding="utf-8")
    (folder / "figures.csv").write_text(GOLD, encoding="utf-8")
    return folder


def test_extract_eval_scores_precision_recall_and_non_statistics(gold_folder):
    result = run("extract-eval", str(gold_folder), "--format", "json")
    assert result.returncode == 0, result.stderr
    score = json.loads(result.stdout)
    # a: villages, events, materials (4万余份 = 40000) right; the two rates are proposed but not gold.
    # b: 12 次 right; 联合执法行动2024次 is proposed and wrong; 合法性审查 3 件 is missed.
    assert (score["proposed"], score["correct"]) == (7, 4)
    assert (score["gold"], score["found"]) == (5, 4)
    assert score["non_statistics"] == 1  # 2024 is the report's year in b's gold non-statistics
    assert score["precision"] == pytest.approx(4 / 7) and score["recall"] == pytest.approx(4 / 5)


def test_extract_eval_table_with_details_and_a_separate_figures_file(gold_folder, tmp_path):
    figures = tmp_path / "gold.csv"
    (gold_folder / "figures.csv").rename(figures)
    result = run("--lang", "en", "extract-eval", str(gold_folder), "--figures", str(figures), "--details",
                 "--threshold", "0.7")
    assert result.returncode == 0, result.stderr
    assert "2 reports; precision" in result.stdout
    assert "missed\tb\tlegality_reviews\t3" in result.stdout
    assert "non-statistic\tb\tjoint_operations\t2024" in result.stdout


def test_extract_eval_without_gold_exits_2(tmp_path):
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    result = run("extract-eval", str(tmp_path))
    assert result.returncode == 2
    assert "figures.csv" in result.stderr


# ---------------------------------------------------------------------------------------------------------
# import REPORT: the accepted figures as one batch, with each value's sentence as its provenance


XIBAO_2023 = ("西堡镇2023年度法治政府建设工作情况报告\n"
              "一、基本情况\n"
              "全镇辖19个行政村、1个社区，现有耕地43000亩。全镇修缮凉亭6座。\n"
              "二、主要举措和成效\n"
              "组织镇村干部集中学法6次，“法宣在线”考试参考率、及格率均达98%。经排查，未发现涉黑恶线索。\n"
              "干部在“学习强国”“法宣在线”平台完成学习任务，参学率均为97%。\n")


@pytest.fixture
def xibao_report(tmp_path) -> Path:
    path = tmp_path / "西堡镇2023年报告.txt"
    path.write_text(XIBAO_2023, encoding="utf-8")
    return path


def test_import_report_dry_run_writes_nothing(xibao_report, tmp_path):
    db = tmp_path / "store.duckdb"
    assert run("init", db=db).returncode == 0
    result = run("import", str(xibao_report), "--dry-run", db=db)
    assert result.returncode == 0, result.stderr
    # 19 villages, 1 community, 43000 亩, 6 sessions, the two 98% rates of the 法宣在线 exam and the 97% study
    # rates of two platforms (法宣在线 with 参学率 is its study programme, not its exam)
    assert "西堡镇，2023 年。导入 8 个数字" in result.stdout
    assert "学法培训：新增 4 行" in result.stdout  # 集中学法, 法宣在线考试, 学习强国, 法宣在线学习
    assert "+\tland\tcultivated_area\t43000\t亩" in result.stdout
    assert "-\t没有对应的指标项\tnull\t6\t座\t全镇修缮凉亭6座。" in result.stdout
    assert "-\t可信度低，请人工确认\tgang_crime_clues\t0\t条" in result.stdout
    history = run("history", db=db)
    assert "西堡镇2023年报告.txt" not in history.stdout


def test_import_report_commits_one_batch_with_sentences_as_provenance(xibao_report, tmp_path):
    from lawstats import seed, storage, summary

    db = tmp_path / "store.duckdb"
    assert run("init", db=db).returncode == 0
    result = run("--lang", "en", "import", str(xibao_report), db=db)
    assert result.returncode == 0, result.stderr
    assert "8 figures to import" in result.stdout
    indicators = run("indicators", "--region", "西堡镇", "--year", "2023", "--format", "csv", db=db)
    assert indicators.returncode == 0 and "\n2023,cultivated_area," in indicators.stdout
    assert "exam_pass_rate,考试及格率,98.0" in indicators.stdout  # the row's kind 考试 read from its name
    assert "西堡镇2023年报告.txt" in run("history", db=db).stdout
    store = seed.open_store(db)
    region = summary.find_region(store, "西堡镇")
    provenance = storage.value_provenance(store, region, 2023)
    by_column = {(r.column_id, r.row_key if isinstance(r.row_key, str) else None): r
                 for r in provenance.itertuples()}
    land = by_column[("cultivated_area", None)]
    assert (land.source, land.section) == ("西堡镇2023年报告.txt", "一、基本情况")
    assert land.note == "全镇辖19个行政村、1个社区，现有耕地43000亩。"
    exam = by_column[("pass_rate_stated", "法宣在线考试")]
    assert exam.note == "组织镇村干部集中学法6次，“法宣在线”考试参考率、及格率均达98%。"
    study = by_column[("participation_rate_stated", "法宣在线学习")]
    assert study.note == "干部在“学习强国”“法宣在线”平台完成学习任务，参学率均为97%。"
    programmes = storage.table_rows(store, storage.TABLES_BY_ID["training"], [region], [2023]).set_index("programme")
    assert programmes.loc["法宣在线学习", "programme_kind"] == "study"  # its kind read from its name
    assert programmes.loc["法宣在线考试", "participation_rate_stated"] == 98
    assert ("gang_crime_clues", None) not in by_column  # a zero in words waits for the analyst


def test_import_unreadable_report_changes_nothing(tmp_path):
    db = tmp_path / "store.duckdb"
    assert run("init", db=db).returncode == 0
    old = tmp_path / "报告.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    before = run("history", db=db).stdout
    result = run("import", str(old), db=db)
    assert result.returncode == 2 and "另存为”.docx" in result.stderr
    assert run("history", db=db).stdout == before


def test_import_plan_takes_one_value_per_measure_and_says_why_the_rest_is_left():
    from lawstats.report import importing
    from lawstats.report.extract import extract

    text = ("青石镇2024年度法治政府建设工作情况报告\n"
            "全镇辖19个行政村。全镇共有19个行政村。另据统计辖20个行政村。\n"   # the same value twice, then another
            "参考率达100%。开展法治宣传活动32场次。全镇修缮凉亭6座。全镇未发现涉黑恶线索。\n")
    report_plan = importing.plan(extract(text, "报告.txt"), "青石镇", 2024)
    assert [(table, f.measure, f.value) for table, f in report_plan.taken] == [
        ("grid", "villages", 19), ("observations", "publicity_events", 32)]  # a catalogue-only measure
    assert report_plan.counts() == {"registry": 1, "observations": 1}
    assert [(reason, f.measure, f.value) for reason, f in report_plan.left] == [
        ("repeated", "villages", 20),
        ("no_item", "participation_rate_stated", 100),   # a training rate needs its programme
        ("unmapped", None, 6),
        ("low_confidence", "gang_crime_clues", 0)]
    (name, data), = report_plan.files
    assert name == "grid.csv"
    assert data.decode("utf-8-sig").splitlines() == ["地区,年份,行政村数,来源,来源章节", "青石镇,2024,19,报告.txt,"]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "utf-16"])
def test_a_txt_table_stays_a_table_and_a_txt_report_is_a_report(tmp_path, encoding):
    from lawstats.report.commands import is_report

    table = tmp_path / "人口.txt"
    table.write_bytes("地区\t年份\t户籍人口\n西堡镇\t2024\t25218\n".encode(encoding))
    report = tmp_path / "报告.txt"
    report.write_bytes(XIBAO_2023.encode(encoding))
    assert is_report([str(table)]) is False
    assert is_report([str(report)]) is True
    assert is_report([str(report), str(table)]) is False  # several files: a batch of tables
    assert is_report([str(tmp_path)]) is False  # a folder of tables
