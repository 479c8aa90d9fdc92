"""The report extractor: every figure of a report read the way the report means it, tied to its sentence, mapped to
a catalogue measure by the measure's phrasings and unit; and never a year, a date, a document number, a list
marker, a phone number or a number inside a name.

Every report text here is written for these tests, in the style township reports use (no sentence of a real
report)."""

from __future__ import annotations

import pytest

from lawstats.report.extract import CONFIDENCE_THRESHOLD, extract


def figures(text: str):
    return extract(text).figures


def pairs(text: str) -> list[tuple[str | None, float]]:
    return [(f.measure, f.value) for f in figures(text)]


def one(text: str):
    found = figures(text)
    assert len(found) == 1, [(f.measure, f.value, f.raw) for f in found]
    return found[0]


# ---------------------------------------------------------------------------------------------------------
# region and year from the title and first lines


@pytest.mark.parametrize("title, region, year", [
    ("青石镇2024年度法治政府建设工作情况报告\n2024年，青石镇……", "青石镇", 2024),
    ("中共青石镇委员会 青石镇人民政府\n关于2023年法治政府建设工作情况的报告\n县委、县政府：", "青石镇", 2023),
    ("白沙乡人民政府关于2025年度法治政府建设情况的报告", "白沙乡", 2025),
    ("东湖街道2022年法治政府建设年度报告\n发布日期：2023年2月7日", "东湖街道", 2022),
])
def test_region_and_year_are_read_from_the_title(title, region, year):
    extraction = extract(title)
    assert (extraction.region, extraction.year) == (region, year)
    assert extraction.region_known is False  # no known regions given: proposed for the analyst to confirm


def test_a_known_region_is_matched_and_a_new_one_only_proposed():
    text = "青石镇2024年度法治政府建设工作情况报告\n青石镇位于将乐县东部。"
    known = extract(text, known_regions=["白沙乡", "青石镇", "将乐县"])
    assert (known.region, known.region_known) == ("青石镇", True)
    new = extract(text, known_regions=["白沙乡"])
    assert (new.region, new.region_known) == ("青石镇", False)


def test_region_and_year_given_by_the_analyst_win():
    extraction = extract("青石镇2024年度法治政府建设工作情况报告", region="白沙乡", year=2023)
    assert (extraction.region, extraction.region_known, extraction.year) == ("白沙乡", True, 2023)


def test_publication_date_is_not_the_report_year():
    text = "发布时间：2025年2月7日\n2024年，我镇全面推进法治政府建设，2024年全年召开专题会议4次。"
    assert extract(text).year == 2024


# ---------------------------------------------------------------------------------------------------------
# numbers read the way the report means them


def test_arabic_full_width_and_chinese_numerals():
    assert pairs("全镇辖十九个行政村。") == [("villages", 19)]
    assert pairs("全年查处违法行为三十五起。") == [("penalty_cases", 35)]
    assert pairs("配备法治建设专职人员两名。") == [("rule_of_law_dedicated_staff", 2)]
    assert pairs("开展法治宣传活动３２场次。") == [("publicity_events", 32)]


def test_multipliers_separators_decimals_and_percentages():
    assert pairs("发放宣传资料4万余份。") == [("materials_distributed", 40000)]
    assert pairs("户籍人口7.2万人。") == [("registered_persons", 72000)]
    assert pairs("户籍人口12,345人。") == [("registered_persons", 12345)]
    assert pairs("现有林地58670.24亩。") == [("forest_area", 58670.24)]
    assert pairs("执法人员持证率达100%。") == [("certification_rate", 100)]
    assert pairs("执法人员持证率达98.5％。") == [("certification_rate", 98.5)]
    assert pairs("执法人员持证率达百分之九十五。") == [("certification_rate", 95)]


def test_units_are_converted_to_the_measures_unit():
    figure = one("现有耕地596公顷。")
    assert (figure.measure, figure.value, figure.unit) == ("cultivated_area", 8940, "亩")


@pytest.mark.parametrize("text, qualifier", [
    ("发放宣传资料4000余份。", "余"), ("发放宣传资料4000多份。", "多"), ("发放宣传资料约4000份。", "约"),
    ("发放宣传资料近4000份。", "近"), ("发放宣传资料超过4000份。", "超过"), ("发放宣传资料4000份以上。", "以上"),
])
def test_qualifiers_make_a_figure_approximate(text, qualifier):
    figure = one(text)
    assert (figure.measure, figure.value, figure.approx, figure.qualifier) == (
        "materials_distributed", 4000, True, qualifier)


def test_an_exact_figure_is_not_approximate():
    assert one("发放宣传资料4000份。").approx is False


def test_one_value_for_several_measures_is_two_figures():
    found = figures("干部职工网上学法考试参考率、及格率均达100%。")
    assert [(f.measure, f.value, f.shared) for f in found] == [
        ("participation_rate_stated", 100, True), ("pass_rate_stated", 100, True)]
    assert found[0].start == found[1].start  # one number in the text


def test_households_and_persons_are_two_figures():
    found = figures("全镇户籍人口7017户25218人（其中常住6625户23971人）。")
    assert [(f.measure, f.value) for f in found] == [
        ("registered_households", 7017), ("registered_persons", 25218),
        ("resident_households", 6625), ("resident_persons", 23971)]
    assert [f.part_of for f in found] == [None, None, 1, 1]  # 其中: parts of the figure before


def test_a_change_is_never_a_level():
    growth = one("全镇固定资产投资同比增长12%。")
    assert (growth.measure, growth.value, growth.change) == ("fixed_asset_investment_growth", 12, True)
    fall = one("全年发生安全生产事故较上年减少3起。")
    assert (fall.value, fall.change) == (-3, True)
    assert fall.measure is None  # no measure counts a change of accidents: listed, never proposed as a level


def test_a_share_takes_the_subject_of_the_clause_before():
    found = figures("少数民族162人，占总人口的0.64%。")
    assert [(f.measure, f.value) for f in found] == [("minority_persons", 162), ("minority_share_stated", 0.64)]


def test_a_range_gives_both_ends():
    assert pairs("年平均气温17-21℃。") == [("temperature_c", 17), ("temperature_c", 21)]


# ---------------------------------------------------------------------------------------------------------
# what is not a statistic is never proposed


@pytest.mark.parametrize("text", [
    "2024年，全镇法治政府建设稳步推进。",                       # a year
    "2025年2月7日，镇政府召开会议。",                           # a date
    "公文生成日期：2025-02-07 15:51",                          # a date and a time
    "青石委〔2024〕3号",                                       # a document number
    "索引号：520000/2025-00158",                               # an index number
    "一、基本情况\n（一）加强组织领导\n1.健全制度",             # list markers
    "联系电话：0851-1234567",                                   # a phone number
    "畅通12345热线和8890平台，受理群众诉求。",                  # numbers inside names
    "全面落实行政执法“三项制度”，推行“五帮一”帮扶机制。",     # numbers inside quoted names
    "深入开展八五普法，落实三重一大决策制度。",                 # names written with Chinese numerals
    "召开第五次党委会议，排名全区前十。",                       # ordinals
    "党委理论学习中心组每两月1次集中学法。",                    # a schedule, not a count
    "利用“3·15”消费者权益保护日开展宣传。",                     # a commemorative day
    "《青石镇2023—2025年法治建设规划》印发实施。",              # a book title with years
    "本报告由总体情况、主要举措等6个部分组成。",                # the parts of a text
    "每个微网格配备1名网格长。",                                 # a rule of a scheme
    "营业面积50平方米以上的商店纳入监管。",                      # the bound of a definition
    "2023青石镇邀请律师开展法治讲座。",                          # a year run into a name
])
def test_non_statistics_are_never_figures(text):
    assert figures(text) == ()


def test_non_statistics_beside_statistics():
    text = ("2024年，我镇落实“三项制度”，畅通12345热线，全年开展法治宣传活动32场次（青石委〔2024〕3号）。")
    assert pairs(text) == [("publicity_events", 32)]


# ---------------------------------------------------------------------------------------------------------
# evidence: section, sentence, span; unmapped figures are listed


REPORT = ("青石镇2024年度法治政府建设工作情况报告\n"
          "一、基本情况\n"
          "全镇辖十九个行政村、1个社区。全镇修缮凉亭6座。\n"
          "二、主要举措和成效\n"
          "（一）加强法治宣传\n"
          "开展法治宣传活动32场次，发放宣传资料4万余份，覆盖群众约2000人次。\n")


def test_each_figure_carries_its_section_sentence_and_span():
    extraction = extract(REPORT, "报告.txt")
    by_measure = {f.measure: f for f in extraction.figures}
    events = by_measure["publicity_events"]
    assert events.section == "（一）加强法治宣传"
    assert events.sentence == "开展法治宣传活动32场次，发放宣传资料4万余份，覆盖群众约2000人次。"
    assert REPORT[events.start:events.end] == "32"
    materials = by_measure["materials_distributed"]
    assert REPORT[materials.start:materials.end] == "4" and materials.raw == "4万余份"
    villages = by_measure["villages"]
    assert villages.section == "一、基本情况" and REPORT[villages.start:villages.end] == "十九"
    assert [s.heading for s in extraction.sections] == ["一、基本情况", "二、主要举措和成效", "（一）加强法治宣传"]


def test_a_statistic_without_a_measure_is_listed_unmapped_with_its_sentence():
    extraction = extract(REPORT)
    assert [(f.value, f.unit, f.sentence) for f in extraction.unmapped] == [(6, "座", "全镇修缮凉亭6座。")]
    assert extraction.unmapped[0].accepted is False


def test_confidence_separates_clear_figures_from_doubtful_ones():
    extraction = extract(REPORT)
    clear = {f.measure: f.confidence for f in extraction.mapped}
    assert clear["publicity_events"] >= CONFIDENCE_THRESHOLD
    assert clear["materials_distributed"] >= CONFIDENCE_THRESHOLD


def test_extraction_is_deterministic():
    assert extract(REPORT) == extract(REPORT)


def test_breakdown_item_is_read_from_the_clause():
    found = figures("组织镇村干部集中学法4次，“法宣在线”考试参考率达100%。")
    assert [(f.measure, f.value, f.item) for f in found] == [
        ("sessions", 4, "group_study"), ("participation_rate_stated", 100, "online_exam")]


@pytest.mark.parametrize(("text", "items"), [
    # one platform, two programmes: the measure's words say which (the item's declared context)
    ("全体干部按时参加“法宣在线”学习和考试，参考率、及格率均为100%。", ["online_exam", "online_exam"]),
    ("干部在“学习强国”“法宣在线”平台完成学习任务，参学率为100%。", ["xuexi", "online_study"]),
    ("法宣在线学习参学率达99%。", ["online_study"]),
    ("法宣在线学法考试合格率为98%。", ["online_exam"]),  # the measure's context before the longer phrase
    ("干部参加“法宣在线”人数52人。", ["online_exam"]),  # no context in the measure's words: the first declared
])
def test_a_platform_shared_by_a_study_and_an_exam_goes_by_the_measure(text, items):
    assert [f.item for f in figures(text)] == items


def test_traditional_characters_match_and_keep_the_original_text():
    text = "全鎮轄14個行政村、1個居委會，總人口11571人。"
    found = extract(text).figures
    assert [(f.measure, f.value) for f in found] == [("villages", 14), ("communities", 1),
                                                     ("registered_persons", 11571)]
    assert found[0].sentence == text  # evidence in the report's own characters


# ---------------------------------------------------------------------------------------------------------
# zero written in words; one rate for a list of named platforms


def test_zero_written_in_words_is_a_zero_for_review():
    found = figures("经排查，全镇未发现涉黑恶线索。全年无行政复议被纠错和行政诉讼败诉案件。")
    assert [(f.measure, f.value) for f in found] == [
        ("gang_crime_clues", 0), ("review_cases_overturned", 0), ("litigation_cases_lost", 0)]
    assert all(f.confidence < CONFIDENCE_THRESHOLD and not f.accepted for f in found)  # the analyst confirms
    assert [f.raw for f in found] == ["未发现", "无", "无"]


def test_words_with_the_character_for_none_are_not_zeros():
    assert figures("为群众无偿提供法律咨询，推行无纸化办公。") == ()


def test_one_rate_for_platforms_named_in_quotes_is_one_figure_per_platform():
    found = figures("干部全部完成“学习强国”“青石干部网”平台的学习任务，参与学习率达100%。")
    assert [(f.measure, f.value, f.item, f.shared) for f in found] == [
        ("participation_rate_stated", 100, "xuexi", True),
        ("participation_rate_stated", 100, "青石干部网", True)]  # a new item of the open breakdown, to confirm
