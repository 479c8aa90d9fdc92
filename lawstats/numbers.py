"""Reading numbers the way Chinese spreadsheets and reports write them.

``1,234`` ``1，234`` ``１２３`` ``12.5％`` ``2.5万`` ``约200`` ``200余`` ``43695亩`` ``100公顷`` ``未发现``.
Blank, ``-`` and ``—`` mean missing (never 0). ``约``/``余`` give the number and mark it approximate.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from lawstats.registry import AREA, AREA_UNITS, COUNT, RATE

MISSING_TEXTS = {"", "-", "--", "—", "——", "–", "/", "、", "na", "n/a", "nan", "null", "none", "暂无", "无数据", "不详"}
ZERO_WORDS = {"未发现", "无", "零", "没有"}
APPROX_PREFIXES = ("约", "大约", "近", "将近", "逾", "超过", "~", "≈")
APPROX_SUFFIXES = ("余", "多", "左右", "以上", "+")
MULTIPLIERS = {"万": 10_000.0, "亿": 100_000_000.0, "千": 1_000.0, "百": 100.0}
COUNT_UNITS = ("人次", "人", "户", "个", "名", "次", "条", "所", "家", "处", "座", "场", "期")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


class NumberError(ValueError):
    """``kind`` names what is wrong (for the error table); the cell text is kept by the caller."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class ParsedNumber:
    value: float
    approximate: bool = False


def normalise_text(text: str) -> str:
    """Full-width to half-width (NFKC), no stray spaces of any width."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


def is_missing(text) -> bool:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return True
    return normalise_text(text).lower() in MISSING_TEXTS


def parse_number(text, kind: str = COUNT) -> ParsedNumber | None:
    """Parse one cell for a column of ``kind`` (count, area, rate). None means missing.

    Raises NumberError with kind ``not_a_number``, ``percent_not_allowed``, ``not_integer`` or ``negative``.
    """
    if isinstance(text, bool):
        raise NumberError("not_a_number")
    if isinstance(text, (int, float)):
        if isinstance(text, float) and math.isnan(text):
            return None
        return _checked(float(text), kind, approximate=False)
    if is_missing(text):
        return None
    s = normalise_text(text)
    if s in ZERO_WORDS:
        return _checked(0.0, kind, approximate=False)

    approximate = False
    for prefix in APPROX_PREFIXES:
        if s.startswith(prefix):
            s, approximate = s[len(prefix):], True
            break
    for suffix in APPROX_SUFFIXES:
        if s.endswith(suffix):
            s, approximate = s[: -len(suffix)], True
            break

    scale, s = _strip_unit(s, kind)
    percent = s.endswith("%")
    if percent:
        if kind != RATE:
            raise NumberError("percent_not_allowed")
        s = s[:-1]
    for word, factor in MULTIPLIERS.items():
        if s.endswith(word):
            s, scale = s[:-1], scale * factor
            break
    if not _NUMBER.match(s):
        raise NumberError("not_a_number")
    return _checked(float(s.replace(",", "")) * scale, kind, approximate)


def _strip_unit(s: str, kind: str) -> tuple[float, str]:
    """Take a unit written inside the cell off the end; areas convert to 亩."""
    if kind == AREA:
        for unit in sorted(AREA_UNITS, key=len, reverse=True):
            if s.lower().endswith(unit.lower()):
                return AREA_UNITS[unit], s[: -len(unit)]
    if kind == COUNT:
        for unit in COUNT_UNITS:
            if s.endswith(unit):
                return 1.0, s[: -len(unit)]
    return 1.0, s


def _checked(value: float, kind: str, approximate: bool) -> ParsedNumber:
    if not math.isfinite(value):
        raise NumberError("not_a_number")
    if value < 0:
        raise NumberError("negative")
    if kind == COUNT:
        if abs(value - round(value)) > 1e-9:
            raise NumberError("not_integer")
        value = float(round(value))
    return ParsedNumber(value, approximate)


def header_unit(header: str) -> tuple[str, str | None]:
    """Split ``耕地面积（公顷）`` into (``耕地面积``, ``公顷``); no brackets gives (header, None)."""
    h = normalise_text(header)
    m = re.match(r"^(.*?)[(\[]([^()\[\]]*)[)\]]$", h)
    if not m:
        return h, None
    return m.group(1), m.group(2)
