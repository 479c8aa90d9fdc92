"""Every number of a report's text, read the way the report means it.

``scan(text)`` returns ``Number``s: value, unit, qualifiers, and the character span in ``text``. It reads Arabic
and full-width digits (the text is compared in NFKC form, one character for one, so spans stay those of the
original), Chinese numerals (十九, 三十五, 两万余, via cn2an), 万/亿 multipliers, thousands separators, decimals,
percentages (100%, ％, 百分之九十五) and the approximate qualifiers (余, 多, 约, 近, 超过, 以上...).

What is not a statistic is never returned: years and dates, times, document and index numbers (〔2024〕3号),
list markers (一、 （一） 1.), ordinals (第N), phone numbers and codes, and numbers inside names (12345热线,
“三项制度”, “五帮一”, 八五普法, 8890): a statistic in a Chinese report is a number followed by its unit or
counter word, so a number followed by anything else is part of a name, a code or a date. The rules are in
docs/report-import.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import cn2an

CN_DIGITS = "零〇一二两三四五六七八九"
CN_NUMERAL = f"[{CN_DIGITS}十百千万亿]+(?:点[{CN_DIGITS}]+)?"
ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?"
# Counter words and units a count can have that the catalogue's units.toml does not declare (a figure with one of
# these is listed as unmapped, so that nothing that looks like a statistic is lost).
EXTRA_UNITS = ("种", "辆", "台", "套", "支", "队", "间", "栋", "株", "棵", "张", "封", "幅", "轮", "户次", "平方米",
               "课时", "堂", "节", "组", "笔", "处次", "件次", "个百分点")
APPROX_BEFORE = ("将近", "大约", "超过", "约", "近", "逾", "超", "突破", "多达")
APPROX_AFTER = ("余", "多", "来")
APPROX_AFTER_UNIT = ("左右", "以上", "上下", "余")
MONEY_UNITS = ("万元", "亿元")
MULTIPLIERS = {"万": 10_000, "亿": 100_000_000}
# Quotation marks: a short quoted phrase is a name (“三项制度”, “3·15”, “1+1+N”); book titles likewise.
QUOTES = {"“": "”", "\"": "\"", "「": "」", "《": "》", "『": "』", "‘": "’"}
MAX_QUOTED_NAME = 12


@dataclass(frozen=True)
class Number:
    value: float
    unit: str  # as written (normalised to half-width), "" never: a number without a unit is not returned
    start: int  # span of the number as written, qualifiers and unit excluded
    end: int
    unit_end: int  # where the unit (and a trailing qualifier such as 左右) ends
    raw: str  # the text from the number to the end of its unit, as written in the document
    approx: bool
    qualifier: str  # the qualifier as written (余, 约...), "" if none
    chinese: bool  # written in Chinese numerals


def matchable(text: str) -> str:
    """The text to match rules against: each character in its NFKC form when that is one character (full-width
    digits, ％ and （ become 0-9, % and (), so every span is also a span of the original text."""
    return "".join(_one(c) for c in text)


@lru_cache(maxsize=4096)
def _one(c: str) -> str:
    n = unicodedata.normalize("NFKC", c)
    return n if len(n) == 1 else c


@lru_cache(maxsize=1)
def unit_words() -> tuple[str, ...]:
    """Every unit and counter word, longest first (so 人次 wins over 人 and 平方公里 over 公里)."""
    from lawstats import catalogue

    words = set(EXTRA_UNITS)
    for unit in catalogue.load().units.values():
        for name in (unit.id, *unit.aliases):
            if name and not name.isascii() and not name.startswith("百分"):
                words.add(name)
    words -= {"年", "月", "日", "号", "时", "度", "°"}  # dates, times and angles, never counts
    return tuple(sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _unit_pattern() -> re.Pattern:
    return re.compile("|".join(re.escape(w) for w in unit_words()))


_NUMBER = re.compile(rf"百分之(?P<pct>{CN_NUMERAL})|(?P<ar>{ARABIC})|(?P<cn>{CN_NUMERAL})")
# Spans that are codes or dates as a whole: document numbers, index numbers, dates, times, year ranges, 3·15.
_EXCLUDED = re.compile(
    r"[〔\[【(（]\s*\d{4}\s*[〕\]】)）]?\s*\d*\s*号?"              # 〔2024〕3号, [2024]12号
    r"|\d+\s*号"                                                  # 第5号, 3号文
    r"|[0-9A-Za-z]*\d[0-9A-Za-z]*(?:/[0-9A-Za-z\-]+)+"              # 370481/2026-00158 (index numbers)
    r"|\d{4}\s*-\s*\d{1,2}\s*-\s*\d{1,2}"                          # 2025-02-07
    r"|0\d{2,3}\s*-\s*\d{7,8}|\d{3,4}-\d{3,4}-\d{4}"               # phone numbers
    r"|\d{1,2}:\d{2}(?::\d{2})?"                                  # 15:51
    r"|(?:19|20)\d{2}\s*[—\-–~～至到]\s*(?:(?:19|20)\d{2}|\d{2})(?!\d)\s*年?"  # 2023—2025年
    r"|\d{1,2}\s*[·•.．]\s*\d{1,2}(?!\d)(?=\s*[”\"」』’]|\s*[\u4e00-\u9fff]*日|\s*宣传|\s*国家|\s*消费)"  # 3·15, 6.26
    r"|\d+[A-Za-z]+[0-9A-Za-z]*|[A-Za-z]+\d+[0-9A-Za-z]*"             # codes with letters
    r"|\d+\s*\+\s*\d*|\+\s*\d+"                                   # 1+1+N
)
_DATE_AFTER = re.compile(r"\s*(?:年|月|日|号|时|点|周岁|岁|世纪|届|版|期间)")
_ORDINAL_BEFORE = ("第", "前", "每", "连续", "届")
_SCHEDULE_BEFORE = re.compile(r"每[^，,。；;、\d]{0,8}$")  # 每两月1次, 每个网格配备1名: a rule, not a count
_RANGE_TO = re.compile(r"\s*[—\-–~～至到]\s*(?=\d)")  # 17-21℃, 2700—3000小时: each end a figure
_STRUCTURE_AFTER = re.compile(r"(?:部分|方面|环节|步骤|阶段|维度|板块|大类|类别|个领域|领域)")
_BOUND_NOUN = re.compile(r"(?:以上|以下)(?=[\u4e00-\u9fff])")
_SMALL_CN_NAME_AFTER = re.compile(
    r"(?:制度|机制|体系|联动|工作法|模式|清单|行动|工程|服务|举措|措施|矛盾|责任|原则|理念|方面|领域|链条|网格化)")


def scan(text: str, norm: str | None = None) -> list[Number]:
    """Every statistic-looking number of ``text`` (``norm`` = ``matchable(text)`` if the caller has it)."""
    norm = matchable(text) if norm is None else norm
    blocked = _blocked(norm)
    numbers = []
    for m in _NUMBER.finditer(norm):
        if any(blocked[m.start():m.end()]):
            continue
        number = _read(text, norm, m)
        if number is not None:
            numbers.append(number)
    return numbers


def _blocked(norm: str) -> bytearray:
    """1 for each character inside a code, a date, or a short quoted name."""
    blocked = bytearray(len(norm))
    for m in _EXCLUDED.finditer(norm):
        blocked[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    for opening, closing in QUOTES.items():
        start = norm.find(opening)
        while start != -1:
            end = norm.find(closing, start + 1)
            if end == -1:
                break
            if opening == "《" or end - start - 1 <= MAX_QUOTED_NAME:
                blocked[start:end + 1] = b"\x01" * (end + 1 - start)
            start = norm.find(opening, end + 1)
    return blocked


def _read(text: str, norm: str, m: re.Match) -> Number | None:
    start, end = m.start(), m.end()
    before = norm[max(0, start - 4):start]
    if before.endswith(_ORDINAL_BEFORE):
        return None
    if m.group("pct"):
        value = _cn_value(m.group("pct"))
        if value is None:
            return None
        return Number(value, "%", start, end, end, text[start:end], False, "", True)
    chinese = m.group("cn") is not None
    if chinese:
        if norm[start:end] in ("一", "两") and norm[end:end + 1] in ("起", "次", "批", "线", "体", "件"):
            # 一起 (together), 一次性, 一批, 一线, 一件事: words, not counts of one.
            if norm[end:end + 2] not in ("一起案", "一次会"):
                return None
        value = _cn_value(norm[start:end])
    else:
        value = float(norm[start:end].replace(",", ""))
        if _looks_like_year(norm, start, end):
            return None
    if value is None or _DATE_AFTER.match(norm, end):
        return None
    if _SCHEDULE_BEFORE.search(norm[max(0, start - 10):start]):
        return None
    sign_before = norm[start - 2:start - 1]
    if norm[start - 1:start] in ("-", "−") and not (sign_before.isascii() and sign_before.isalnum()) \
            or before.endswith("零下"):
        value = -value  # -4.2℃, 零下4.2℃
    position, approx, qualifier = end, False, ""
    for word in APPROX_BEFORE:
        if before.endswith(word):
            approx, qualifier = True, word
            break
    unit, position, value, after = _unit(norm, position, value)
    if not unit:
        unit = _range_unit(norm, end)
        if not unit:
            return None
    if _STRUCTURE_AFTER.match(norm, position):
        return None  # 由7个部分组成, 18个领域: what a text or a scheme is made of, not a count of work
    if _BOUND_NOUN.match(norm, position):
        return None  # 10℃以上有效积温, 50平方米以上门店: the bound of a definition, not a figure
    if after:
        approx, qualifier = True, qualifier or after
    for word in APPROX_AFTER_UNIT:
        if norm.startswith(word, position):
            approx, qualifier, position = True, qualifier or word, position + len(word)
            break
    if chinese and value <= 10 and _SMALL_CN_NAME_AFTER.match(norm, end + len(unit)):
        return None  # 三项制度, 五级治理链条: a small Chinese numeral in a name
    return Number(value, unit, start, end, position, text[start:position], approx, qualifier, chinese)


def _range_unit(norm: str, end: int) -> str:
    """The unit of a range's first end: 17-21℃ → ℃."""
    m = _RANGE_TO.match(norm, end)
    if not m:
        return ""
    second = re.match(ARABIC, norm[m.end():])
    if not second:
        return ""
    unit, _, _, _ = _unit(norm, m.end() + second.end(), 0.0)
    return unit


def _unit(norm: str, position: int, value: float) -> tuple[str, int, float, str]:
    """The unit after a number, with a 万/亿 multiplier and 余/多 read on the way: (unit, end, value, qualifier)."""
    after = ""
    for word in APPROX_AFTER:
        if norm.startswith(word, position):
            after, position = word, position + len(word)
            break
    if not norm.startswith(MONEY_UNITS, position) and norm[position:position + 1] in MULTIPLIERS:
        value *= MULTIPLIERS[norm[position]]
        position += 1
        for word in APPROX_AFTER:
            if norm.startswith(word, position):
                after, position = after or word, position + len(word)
                break
    if norm[position:position + 1] in ("%", "‰"):
        return norm[position], position + 1, value, after
    while norm[position:position + 1] == " ":
        position += 1
    m = _unit_pattern().match(norm, position)
    if m:
        return m.group(), m.end(), value, after
    return "", position, value, after


def _looks_like_year(norm: str, start: int, end: int) -> bool:
    """1900–2100 followed by 年 or a date separator, or opening a line (2023张渚镇…: a year before a name)."""
    digits = norm[start:end]
    if not (len(digits) == 4 and digits.isdigit() and 1900 <= int(digits) <= 2100):
        return False
    opens_line = start == 0 or norm[start - 1] in "\n。"
    return opens_line or end == len(norm) or bool(re.match(r"\s*(?:年|-|—|/|\.|~|至|、|,)", norm[end:end + 3]))


def _cn_value(numeral: str) -> float | None:
    try:
        value = cn2an.cn2an(numeral, "smart")
    except (ValueError, KeyError, IndexError):
        return None
    return float(value)
