"""A township report's figures, each tied to the sentence it came from and, where the catalogue knows it, to a
measure.

``extract(text)`` reads the region and year from the title and first lines, splits the text into sections
(一、 （一） 1. ...) and sentences, reads every number (``lawstats.report.numbers``) and chooses its measure by
the catalogue's phrasings (the words a report puts before or after the number) and unit. Deterministic, local and
explainable: every figure carries the phrase that chose its measure, a confidence, the section, the sentence and
the character span of the number in the document. Rules: docs/report-import.md.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Iterable

from lawstats import catalogue as catalogue_module
from lawstats.report.numbers import Number, matchable, scan

CONFIDENCE_THRESHOLD = 0.7  # at or above: accepted with one click / imported by the CLI
HEAD_CHARACTERS = 1500  # region and year are read from the first lines
# Where a clause ends for choosing a measure: the words before a number belong to it up to one of these.
NARROW_STOPS = set("，,。；;！!？?\n:：、\t")
WIDE_STOPS = set("，,。；;！!？?\n:：\t")
CHANGE_VERB = re.compile(r"(?:增长|增加|上升|提高|提升|下降|减少|降低|回落|增幅|降幅|减幅|增速)(?:了|为|达)?$")
BARE_CHANGE = re.compile(r"^(?:同比|环比|比上年|较上年|比去年|较去年|分别)?(?:增长|增加|上升|提高|提升|下降|减少|降低|回落)"
                         r"(?:了|为|达)?$")
FALL_WORDS = ("下降", "减少", "降低", "回落", "降幅", "减幅")
SHARED_VALUE = re.compile(r"(?:均|都|全部|双)(?:已)?(?:达到|达|为|是|保持|实现)?(?:了)?$|实现双$|双$")
PART_OF = "其中"
# Counter words of events and items: a report counts the same thing in any of them (培训3次, 培训3场, 案件268个),
# so they are compatible with each other (with less confidence than the measure's own unit). Persons (人, 名),
# person-times (人次) and households (户) are never mixed with them or with each other.
EVENT_UNITS = {"次", "场", "场次", "期", "件", "起", "宗", "个", "项", "份", "条", "条次", "篇", "批", "家"}
SHARE_OF = ("占", "约占")
OTHER_SCOPE = re.compile(r"全国|全省|全市|全州|全县|全盟")
PAIR_GAP = re.compile(r"[—\-–~～至到 ]*")
HEADING_PATTERNS = (
    (1, re.compile(r"\s*[一二三四五六七八九十]+\s*[、.]")),
    (2, re.compile(r"\s*\(\s*[一二三四五六七八九十]+\s*\)")),
    (3, re.compile(r"\s*\d{1,2}\s*[、.](?!\d)")),
    (4, re.compile(r"\s*\(\s*\d{1,2}\s*\)")),
)
MAX_HEADING = 40
TOWN_NAME = re.compile(r"([\u4e00-\u9fff]{1,8}?(?:镇|乡|街道|苏木))")
COUNTY_NAME = re.compile(r"([\u4e00-\u9fff]{1,6}?(?:县|区|市|旗))")
NAME_PREFIXES = ("中国共产党", "中共", "关于", "现将", "我们", "我", "全", "本", "对", "在", "各", "今年", "全年")
YEAR_IN_TITLE = re.compile(r"(?:关于)?((?:19|20)\d{2})\s*年度?[^\n。]{0,30}?(?:报告|总结|情况)")
YEAR_WORD = re.compile(r"((?:19|20)\d{2})\s*年(?!\s*\d{1,2}\s*月)")


@dataclass(frozen=True)
class Section:
    heading: str
    level: int
    start: int


@dataclass(frozen=True)
class Figure:
    measure: str | None  # catalogue measure id; None = unmapped (listed so that nothing is lost)
    value: float  # in the measure's unit when mapped (公顷 → 亩 converted), else as written
    unit: str
    approx: bool
    confidence: float
    section: str
    sentence: str
    start: int  # span of the number in the document text
    end: int
    raw: str  # the number and its unit as written
    phrase: str = ""  # the words that chose the measure
    item: str | None = None  # breakdown item, where the measure has a breakdown
    qualifier: str = ""  # 余, 约, 近... as written
    change: bool = False  # a change (同比增长12%), never a level
    shared: bool = False  # one value stated for several measures (参考率、及格率均达100%)
    part_of: int | None = None  # index of the figure this one is a part of (其中)
    measure_domain: str | None = None
    after: int = 0  # where a phrasing after the number ends (from the number's end), 0 if it came before

    @property
    def accepted(self) -> bool:
        return self.measure is not None and self.confidence >= CONFIDENCE_THRESHOLD


@dataclass(frozen=True)
class Extraction:
    document: str
    text: str
    region: str | None  # a known region's name if one matched, else the name read from the title (proposed)
    region_known: bool
    county: str | None
    year: int | None
    sections: tuple[Section, ...]
    figures: tuple[Figure, ...] = field(default=())

    @property
    def mapped(self) -> list[Figure]:
        return [f for f in self.figures if f.measure is not None]

    @property
    def unmapped(self) -> list[Figure]:
        return [f for f in self.figures if f.measure is None]


def extract(text: str, document: str = "", known_regions: Iterable[str] = (), region: str | None = None,
            year: int | None = None, catalogue: catalogue_module.Catalogue | None = None) -> Extraction:
    """Every figure of a report's text. ``known_regions``: region names the database holds (a name in the title
    that is not among them is proposed, never created); ``region``/``year`` given by the analyst win."""
    cat = catalogue or catalogue_module.load()
    norm = simplified(matchable(text))
    found_region, known, county = read_region(norm, list(known_regions))
    sections = find_sections(norm, text)
    index = _Index.of(cat)
    figures = _with_zeros(_figures(text, norm, sections, index), _zeros(text, norm, sections, index))
    return Extraction(document, text, region or found_region, bool(region) or known, county,
                      year if year is not None else read_year(norm), tuple(sections), tuple(figures))


# ---------------------------------------------------------------------------------------------------------
# Traditional characters: compared after OpenCC's conversion (when installed), the original kept for evidence


def simplified(norm: str) -> str:
    converter = _converter()
    if converter is None:
        return norm
    converted = converter.convert(norm)
    if len(converted) == len(norm):
        return converted
    return "".join(c if len(s := converter.convert(c)) != 1 else s for c in norm)  # keep spans one for one


@lru_cache(maxsize=1)
def _converter():
    try:
        import opencc
    except ImportError:
        return None
    return opencc.OpenCC("t2s")


# ---------------------------------------------------------------------------------------------------------
# Region and year


def read_year(norm: str) -> int | None:
    """The report's year: from a title line (…2024年度…报告, 关于2024年…情况), else the year the opening
    lines name most (dates such as 2025年2月7日 are the publication, not the report year)."""
    head = norm[:HEAD_CHARACTERS]
    for line in head.split("\n")[:12]:
        m = YEAR_IN_TITLE.search(line)
        if m:
            return int(m.group(1))
    years = Counter(int(m.group(1)) for m in YEAR_WORD.finditer(head))
    if not years:
        return None
    return max(years, key=lambda y: (years[y], -head.find(str(y))))


def read_region(norm: str, known: list[str]) -> tuple[str | None, bool, str | None]:
    """(region, known?, county): a known region named in the opening lines (the most named), else the township
    name read there, proposed for the analyst to confirm."""
    head = norm[:HEAD_CHARACTERS]
    named = Counter({name: head.count(name) for name in known if name and head.count(name)})
    county = _county(head)
    if named:
        return max(named, key=lambda n: (named[n], len(n))), True, county
    candidates = Counter(_clean_name(m.group(1)) for m in TOWN_NAME.finditer(head))
    candidates = Counter({n: c for n, c in candidates.items() if n and len(n) >= 2})
    if not candidates:
        return None, False, county
    first = {n: head.find(n) for n in candidates}
    return max(candidates, key=lambda n: (candidates[n], -first[n])), False, county


def _clean_name(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in NAME_PREFIXES:
            if name.startswith(prefix) and len(name) - len(prefix) >= 2:
                name, changed = name[len(prefix):], True
    # 将乐县古镛镇 → 古镛镇 (the county is read separately)
    m = re.match(r"[\u4e00-\u9fff]{1,5}?(?:省|市|县|区|旗)(?=[\u4e00-\u9fff]{1,6}(?:镇|乡|街道|苏木)$)", name)
    if m:
        name = name[m.end():]
    if name in ("乡镇", "城镇", "集镇", "村镇", "全镇", "全乡", "本镇", "该镇", "我镇", "我乡", "街道"):
        return ""
    return name


def _county(head: str) -> str | None:
    names = Counter(m.group(1) for m in COUNTY_NAME.finditer(head)
                    if not m.group(1).endswith(("城区", "社区", "园区", "景区", "辖区", "地区", "山区", "片区",
                                                  "小区", "街区", "城市", "都市", "全市", "全区", "全县")))
    names = Counter({_clean_name(n): c for n, c in names.items() if len(_clean_name(n)) >= 2})
    return names.most_common(1)[0][0] if names else None


# ---------------------------------------------------------------------------------------------------------
# Sections and sentences


def find_sections(norm: str, text: str) -> list[Section]:
    sections, position = [], 0
    for line in norm.split("\n"):
        for level, pattern in HEADING_PATTERNS:
            if pattern.match(line):
                heading = text[position:position + len(line)].strip()
                cut = min([i for i in (heading.find("。"), heading.find("．") if level > 2 else -1) if i > 0],
                          default=len(heading))
                if level >= 3 and cut > MAX_HEADING:
                    break  # a numbered paragraph, not a heading
                sections.append(Section(heading[:min(cut, MAX_HEADING)], level, position))
                break
        position += len(line) + 1
    return sections


def _section_at(sections: list[Section], position: int) -> str:
    current = ""
    for s in sections:
        if s.start > position:
            break
        current = s.heading
    return current


SENTENCE = re.compile(r"[^。！!？?\n]+[。！!？?]?")


def sentence_spans(norm: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence: up to 。！？ (included) or the end of the line."""
    return [m.span() for m in SENTENCE.finditer(norm)]


def _sentence_at(spans: list[tuple[int, int]], starts: list[int], position: int) -> tuple[int, int]:
    return spans[bisect.bisect_right(starts, position) - 1]


# ---------------------------------------------------------------------------------------------------------
# Measures by phrasing and unit


@dataclass(frozen=True, eq=False)  # identity hashing: a phrase is one entry of the index
class _Phrase:
    text: str
    measure: catalogue_module.Measure
    change: bool  # a phrasing of a change measure (同比增长…%)


class _Index:
    """The catalogue's phrasings, longest first, and unit compatibility."""

    def __init__(self, cat: catalogue_module.Catalogue):
        self.cat = cat
        phrases = [_Phrase(matchable(p), m, is_change_measure(m)) for m in cat.measures.values() if m.numeric
                   for p in m.phrasings if p]
        self.by_first: dict[str, list[_Phrase]] = {}
        for phrase in phrases:
            self.by_first.setdefault(phrase.text[0], []).append(phrase)
        self.longest = max((len(p.text) for p in phrases), default=1)
        self._factors: dict[tuple[str, str, bool], float | None] = {}
        self._same: dict[tuple[str, str], bool] = {}
        self.order = {m: i for i, m in enumerate(cat.measures)}  # ties go to the catalogue's order
        self.items = {b.id: [(matchable(p), item.id) for item in b.items for p in item.phrasings]
                      for b in cat.breakdowns.values()}
        self.contexts = {(b.id, item.id): tuple(matchable(w) for w in item.context)
                         for b in cat.breakdowns.values() for item in b.items if item.context}

    @classmethod
    def of(cls, cat) -> "_Index":
        """One index per catalogue object (the default catalogue is loaded once, so is its index)."""
        cached = _INDEXES.get(id(cat))
        if cached is None or cached.cat is not cat:
            cached = _INDEXES[id(cat)] = cls(cat)
        return cached

    def occurrences(self, text: str):
        """(phrase, position) for every phrasing occurring in ``text``."""
        for i, ch in enumerate(text):
            for phrase in self.by_first.get(ch, ()):
                if text.startswith(phrase.text, i):
                    yield phrase, i

    def same_unit(self, written: str, measure_unit: str) -> bool:
        key = (written, measure_unit)
        if key not in self._same:
            source, target = self.cat.unit(written), self.cat.unit(measure_unit)
            self._same[key] = source is not None and target is not None and source.id == target.id
        return self._same[key]

    def factor(self, written: str, measure_unit: str, per_capita: bool = False) -> float | None:
        """How a value in the written unit converts to the measure's unit; None if they measure different things."""
        key = (written, measure_unit, per_capita)
        if key not in self._factors:
            self._factors[key] = self._factor(written, measure_unit, per_capita)
        return self._factors[key]

    def _factor(self, written: str, measure_unit: str, per_capita: bool) -> float | None:
        if per_capita and measure_unit.endswith("/人"):
            measure_unit = measure_unit[:-2]  # 人均耕地0.73亩 is 0.73 亩/人
        source, target = self.cat.unit(written), self.cat.unit(measure_unit)
        if source is None or target is None:
            return None
        if source.id == target.id:
            return 1.0
        if {source.id, target.id} == {"人", "名"}:
            return 1.0
        if target.id in source.convert:
            return source.convert[target.id]
        if source.id in EVENT_UNITS and target.id in EVENT_UNITS:
            return 1.0  # 培训3次 for a measure counted in 场: the same count in another counter word
        return None


_INDEXES: dict[int, _Index] = {}


def is_change_measure(measure: catalogue_module.Measure) -> bool:
    return measure.id.endswith(("_growth", "_change"))


@dataclass(frozen=True)
class _Choice:
    measure: catalogue_module.Measure
    phrase: str
    score: float
    gap: int
    factor: float
    after: int = 0  # for a phrasing after the number: where it ends, counted from the number's end


def _choose(index: _Index, left: str, right: str, number: Number, change: bool, domain: str | None = None
            ) -> list[_Choice]:
    """Candidate measures for a number, best first: a phrasing in the words before it (closest wins, then the
    longest) or right after it (十九个行政村), in a unit the number can be expressed in. ``right`` starts at the
    unit, and a phrasing there must reach past it (the unit alone, 户 or 人次, names no measure)."""
    unit_length = number.unit_end - number.end
    per_capita = "人均" in left
    found: dict[_Phrase, tuple[int, int, int]] = {}  # phrase -> (score, gap, after)
    for phrase, at in index.occurrences(left):
        gap = len(left) - at - len(phrase.text)
        found[phrase] = max(found.get(phrase, (-10**6, 0, 0)), (10 * len(phrase.text) - 2 * gap, gap, 0))
    for phrase, at in index.occurrences(right[:unit_length + 2 + index.longest]):
        if at <= unit_length + 1 and at + len(phrase.text) > unit_length:
            found[phrase] = max(found.get(phrase, (-10**6, 0, 0)),
                                (10 * len(phrase.text) - 2 * at - 3, at, at + len(phrase.text)))
    choices: dict[str, _Choice] = {}
    for phrase, (score, gap, after) in found.items():
        measure = phrase.measure
        if phrase.change != change:
            continue
        factor = index.factor(number.unit, measure.unit, per_capita)
        if factor is None:
            continue
        if per_capita and "/" not in measure.unit and "人均" not in phrase.text:
            continue  # 人均耕地0.73亩 is not the township's 耕地
        if index.same_unit(number.unit, measure.unit):
            score += 4  # the report's own unit is the measure's
        if domain and measure.domain == domain:
            score += 3  # the sentence is about one thing: 受理诉求32件，办结率100% (services, not petitions)
        best = choices.get(measure.id)
        if best is None or score > best.score:
            choices[measure.id] = _Choice(measure, phrase.text, score, gap, factor, after)
    return sorted(choices.values(), key=lambda c: (-c.score, index.order[c.measure.id]))


def _confidence(index: _Index, choices: list[_Choice], number: Number) -> float:
    best = choices[0]
    confidence = 0.5
    if index.same_unit(number.unit, best.measure.unit):
        confidence += 0.2
    if best.gap <= 2:
        confidence += 0.15
    if len(best.phrase) >= 4:
        confidence += 0.1
    if len(choices) > 1 and choices[1].score >= best.score - 1:
        confidence -= 0.2  # two measures fit about as well
    return round(min(confidence, 1.0), 2)


def _item(index: _Index, measure: catalogue_module.Measure, sentence: str, offset: int, near: tuple[int, int],
          measure_phrase: str = "") -> str | None:
    """The breakdown item a figure is for: named in its own clause, else the closest named before it in the
    sentence, else the closest after it. Items named at the same distance (one phrase declared for two items, or
    a phrase inside a longer one) go to the item whose context the measure's phrase has, else the longer phrase."""
    if not measure.breakdown:
        return None
    phrases = index.items.get(measure.breakdown, ())
    for low, high in (near, (0, offset), (offset, len(sentence))):
        found = []
        for phrase, item in phrases:
            at = sentence.rfind(phrase, low, high) if high <= offset else sentence.find(phrase, low, high)
            if at >= 0:
                found.append((abs(offset - at), phrase, item))
        if found:
            closest = min(distance for distance, _, _ in found)
            return _preferred(index, measure.breakdown, [(p, i) for d, p, i in found if d == closest],
                              measure_phrase)
    return None


def _preferred(index: _Index, breakdown: str, named: list[tuple[str, str]], measure_phrase: str) -> str:
    """Of items named by the same words, the one the measure's phrase fits (法宣在线 with 参考率 is the exam, with
    参学率 the study), then the one named by the longest phrase, then the first declared."""
    def rank(entry: tuple[int, tuple[str, str]]) -> tuple[bool, int, int]:
        order, (phrase, item) = entry
        fits = any(word in measure_phrase for word in index.contexts.get((breakdown, item), ()))
        return (not fits, -len(phrase), order)

    return min(enumerate(named), key=rank)[1][1]


# ---------------------------------------------------------------------------------------------------------
# The figures


def _figures(text: str, norm: str, sections: list[Section], index: _Index) -> list[Figure]:
    figures: list[Figure] = []
    previous: Number | None = None
    previous_left, consumed = "", 0
    spans = sentence_spans(norm)
    starts = [start for start, _ in spans]
    for number in scan(text, norm):
        s_start, s_end = _sentence_at(spans, starts, number.start)
        floor = max(s_start, previous.unit_end if previous and previous.unit_end <= number.start else s_start,
                    consumed if consumed <= number.start else s_start)  # 14个村(居)63个网格: 村(居) is 14's
        left = _back(norm, number.start, floor, NARROW_STOPS)
        adjacent = previous is not None and previous.unit_end <= number.start \
            and bool(PAIR_GAP.fullmatch(norm, previous.unit_end, number.start))
        if adjacent and not left.strip("—-–~～至到 "):
            left = previous_left  # 7017户25218人, 17-21℃: the words before the pair name both
        left_words = _strip_qualifier(left, number)
        change = bool(CHANGE_VERB.search(left_words)) or number.unit == "个百分点"
        right = _forward(norm, number.end, s_end)  # from the unit on: 十九个行政村, 19个村 (phrasing 个村)
        clause_start = number.start - len(left) - 1
        before = _back(norm, clause_start, s_start, WIDE_STOPS) if clause_start > s_start else ""
        if _needs_subject(left_words, number) and before:
            # 少数民族162人，占总人口的0.64% / 营业收入72亿元，同比增长1.4%: the subject is the clause before
            # (or the one before that: 有3个少数民族，共971人，占2%)
            earlier = number.start - len(left) - 2 - len(before)
            if not _choose(index, before, "", number, change) and earlier > s_start and norm[earlier] in "，,":
                before = _back(norm, earlier, s_start, WIDE_STOPS) + norm[earlier:earlier + 1] + before
            left_words = before
        domain = _sentence_domain(figures, s_start)
        sentence, section = text[s_start:s_end].strip(), _section_at(sections, number.start)
        part_of = _part_of(figures, norm, number, s_start, left)
        wide_left = _strip_qualifier(_back(norm, number.start, floor if not adjacent else s_start, WIDE_STOPS),
                                     number)
        shared = _shared(index, wide_left, number, change, domain) if SHARED_VALUE.search(wide_left) else []
        if len(shared) >= 2:
            for choice in shared:
                figures.append(_figure(index, number, [choice], change, section, sentence, norm, s_start,
                                       wide_left, right, shared=True, part_of=part_of))
        else:
            choices = _measure_choices(index, number, change, domain, left, left_words, wide_left, right, before)
            figure = _figure(index, number, choices, change, section, sentence, norm, s_start, left_words, right,
                             part_of=part_of)
            named = _named_items(index, figure, norm[s_start:number.start - len(left)], left_words)
            if len(named) >= 2:
                figures.extend(replace(figure, item=item, shared=True) for item in named)
            elif figure.measure is not None or not number.chinese:
                figures.append(figure)  # an unmapped Chinese numeral is most often part of a phrase, not a count
        previous, previous_left = number, left
        last = figures[-1] if figures and figures[-1].start == number.start else None
        consumed = number.end + last.after if last is not None and last.after else 0
    return figures


def _measure_choices(index: _Index, number: Number, change: bool, domain: str | None, left: str, left_words: str,
                     wide_left: str, right: str, before: str) -> list[_Choice]:
    """The clause's own words first; then the whole 、-list before the number; then, for a clause of one or two
    words, the clause before (以汉族为主，达48057人)."""
    if OTHER_SCOPE.search(left):
        return []  # 全市8个民族乡: a figure of the city, not of the township (listed, unmapped)
    choices = _choose(index, left_words, right, number, change, domain)
    if not choices and wide_left != left_words:
        choices = _choose(index, wide_left, right, number, change, domain)
    if not choices and len(left_words.strip()) <= 2 and before:
        choices = _choose(index, before, "", number, change, domain)
    return choices


def _figure(index: _Index, number: Number, choices: list[_Choice], change: bool, section: str, sentence: str,
            norm: str, s_start: int, left: str = "", right: str = "", shared: bool = False,
            part_of: int | None = None) -> Figure:
    sign = -1.0 if change and _falls(norm, number, s_start) else 1.0
    if not choices:
        return Figure(None, sign * number.value, number.unit, number.approx, 0.0, section, sentence, number.start,
                      number.end, number.raw, qualifier=number.qualifier, change=change, part_of=part_of)
    best = choices[0]
    confidence = _confidence(index, choices, number) if not shared else 0.85
    offset = number.start - s_start
    near = (offset - len(left), number.unit_end - s_start + len(right))
    item = _item(index, best.measure, norm[s_start:s_start + len(sentence) + 5], offset, near, best.phrase)
    return Figure(best.measure.id, sign * number.value * best.factor, best.measure.unit, number.approx, confidence,
                  section, sentence, number.start, number.end, number.raw, best.phrase, item, number.qualifier,
                  change, shared, part_of, best.measure.domain, best.after)


QUOTED = re.compile(r"“([^”]{2,20})”")


def _named_items(index: _Index, figure: Figure, earlier: str, own: str) -> list[str]:
    """完成了“学习强国”“青海干部教育网”平台的学习任务，参与学习率达100%: one rate for each platform named in
    quotes in the clause before, when the figure's own clause names no item. Each is the catalogue's item where a
    phrasing matches, else the name as written (a new item of an open breakdown, for the analyst to confirm)."""
    if figure.measure is None:
        return []
    breakdown = index.cat.measures[figure.measure].breakdown
    if not breakdown:
        return []
    phrases = index.items.get(breakdown, ())
    if any(phrase in own for phrase, _ in phrases):
        return []
    earlier = earlier.rstrip("，,：: ")
    clause = earlier[max(earlier.rfind(c) for c in ("。", "；", ";", "，", ",")) + 1:]
    items: list[str] = []
    for name in QUOTED.findall(clause):
        named = [(phrase, item) for phrase, item in phrases if phrase in name]
        item = _preferred(index, breakdown, named, figure.phrase or "") if named else name
        if item not in items:
            items.append(item)
    return items


def _sentence_domain(figures: list[Figure], s_start: int) -> str | None:
    """The domain of the last mapped figure of the sentence so far."""
    for figure in reversed(figures):
        if figure.start < s_start:
            return None
        if figure.measure:
            return figure.measure_domain
    return None


# ---------------------------------------------------------------------------------------------------------
# Zero written in words: 未发现黑恶线索, 无被纠错和败诉, 未制定出台规范性文件

ZERO_WORD = re.compile(r"(?:未发现|未发生|未出现|未收到|未制定(?:出台)?|没有发生|(?<=[，,。；;：:\n镇乡年均并且已])无)")
ZERO_CONFIDENCE = 0.6  # shown for review, never accepted without the analyst


def _zeros(text: str, norm: str, sections: list[Section], index: _Index) -> list[Figure]:
    """A zero for each count measure named right after a word of absence, one per item of a 和 list (within an
    item, the phrasing that ends last: Chinese puts the head noun last)."""
    zeros = []
    spans = sentence_spans(norm)
    starts = [start for start, _ in spans]
    for m in ZERO_WORD.finditer(norm):
        s_start, s_end = _sentence_at(spans, starts, m.start())
        clause = norm[m.end():s_end]
        stop = next((i for i, c in enumerate(clause) if c in WIDE_STOPS), len(clause))
        clause = clause[:stop]
        seen = set()
        for label in re.split(r"和|及|或", clause):
            best, best_key = None, None
            for phrase, at in index.occurrences(label):
                if phrase.change or phrase.measure.kind != "count" or len(phrase.text) < 2:
                    continue
                key = (at + len(phrase.text), len(phrase.text))  # the head noun comes last: 行政诉讼败诉
                if best_key is None or key > best_key:
                    best, best_key = phrase, key
            if best is None or best.measure.id in seen:
                continue
            seen.add(best.measure.id)
            zeros.append(Figure(best.measure.id, 0.0, best.measure.unit, False, ZERO_CONFIDENCE,
                                _section_at(sections, m.start()), text[s_start:s_end].strip(), m.start(), m.end(),
                                text[m.start():m.end()], best.text, measure_domain=best.measure.domain))
    return zeros


def _with_zeros(figures: list[Figure], zeros: list[Figure]) -> list[Figure]:
    """Both lists in document order, 其中 references renumbered."""
    if not zeros:
        return figures
    merged = sorted([(f.start, 0, i, f) for i, f in enumerate(figures)] + [(z.start, 1, i, z) for i, z in
                                                                            enumerate(zeros)])
    new_index = {i: n for n, (_, kind, i, _) in enumerate(merged) if kind == 0}
    return [replace(f, part_of=new_index[f.part_of]) if kind == 0 and f.part_of is not None else f
            for _, kind, _, f in merged]


def _needs_subject(left_words: str, number: Number) -> bool:
    """A clause with no subject of its own: a share (占总人口的…%) or a bare change (同比增长…%)."""
    if number.unit in ("%", "‰") and left_words.startswith(SHARE_OF):
        return True
    return bool(BARE_CHANGE.match(left_words))


def _falls(norm: str, number: Number, s_start: int) -> bool:
    before = norm[max(s_start, number.start - 8):number.start]
    return any(word in before for word in FALL_WORDS)


def _shared(index: _Index, wide_left: str, number: Number, change: bool, domain: str | None) -> list[_Choice]:
    """参考率、及格率均达100%: each label of the list gets the value (one measure per label)."""
    labels = re.split(r"、|以及|和", SHARED_VALUE.sub("", wide_left))  # not 及: 及格率
    found: list[_Choice] = []
    for label in labels:
        choices = _choose(index, label, "", number, change, domain)
        if choices and choices[0].measure.id not in {c.measure.id for c in found}:
            found.append(choices[0])
    return found


def _part_of(figures: list[Figure], norm: str, number: Number, s_start: int, left: str) -> int | None:
    """其中: a part of the figure before it in the sentence."""
    clause = norm[s_start:number.start]
    if PART_OF not in clause:
        return None
    cut = s_start + clause.rfind(PART_OF)
    for i in range(len(figures) - 1, -1, -1):
        if figures[i].start < s_start:
            return None
        if figures[i].start < cut:
            return i
    return None


def _back(norm: str, position: int, floor: int, stops: set[str]) -> str:
    start = position
    while start > floor and norm[start - 1] not in stops:
        start -= 1
    return norm[start:position]


def _forward(norm: str, position: int, limit: int) -> str:
    end = position
    while end < limit and norm[end] not in NARROW_STOPS and not norm[end].isdigit():
        end += 1
    return norm[position:end]


def _strip_qualifier(left: str, number: Number) -> str:
    if number.qualifier and left.endswith(number.qualifier):
        return left[: -len(number.qualifier)]
    return left


def with_measure(figure: Figure, measure: str | None) -> Figure:
    """The analyst's choice of measure for a figure (review): full confidence, same evidence."""
    return replace(figure, measure=measure, confidence=1.0 if measure else 0.0)
