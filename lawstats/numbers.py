"""Reading numbers the way Chinese spreadsheets and reports write them.

``1,234`` ``1，234`` ``１２３`` ``12.5％`` ``2.5万`` ``约200`` ``200余`` ``43695亩`` ``100公顷`` ``未发现``.
Blank, ``-`` and ``—`` mean missing (never 0). ``约``/``余`` give the number and mark it approximate.

``parse_number`` reads one cell and is the definition. ``parse_numbers`` reads a whole column: plain digits
(nearly every cell of a large file) are converted in one vectorised step, and every other distinct text goes
through ``parse_number`` once, so both always agree (tests/test_properties.py checks it).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lawstats.registry import AREA, AREA_UNITS, COUNT, RATE

MISSING_TEXTS = {"", "-", "--", "—", "——", "–", "/", "、", "na", "n/a", "nan", "null", "none", "暂无", "无数据", "不详"}
ZERO_WORDS = {"未发现", "无", "零", "没有"}
APPROX_PREFIXES = ("约", "大约", "近", "将近", "逾", "超过", "~", "≈")
APPROX_SUFFIXES = ("余", "多", "左右", "以上", "+")
MULTIPLIERS = {"万": 10_000.0, "亿": 100_000_000.0, "千": 1_000.0, "百": 100.0}
COUNT_UNITS = ("人次", "人", "户", "个", "名", "次", "条", "所", "家", "处", "座", "场", "期")
MAX_MAGNITUDE = 1e15  # larger figures are typing errors (and would not fit a BIGINT exactly)
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_SPACES = re.compile(r"\s+")
# Texts the vectorised step converts itself; they mean the same to parse_number (no sign, no unit, no 约).
_PLAIN_INTEGER = r"^[0-9]{1,15}$"
_PLAIN_DECIMAL = r"^[0-9]{1,15}(\.[0-9]{1,12})?$"


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
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(text)))


# ---------------------------------------------------------------------------------------------------------
# Traditional characters: a Big5 file (or a Hong Kong or Taiwan colleague) writes 地區, 戶籍人口, 西堡鎮. Headers
# and region names are matched in simplified characters (OpenCC's t2s, offline from its wheel); stored texts
# stay as written. Only texts holding a traditional character are converted, so a simplified name is never
# changed by the phrase table (t2s turns the simplified 乾县 into 干县).


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_class() -> str:
    """A regex character class of the characters t2s changes that GB2312 (simplified Chinese) lacks."""
    chars = [chr(i) for i in (*range(0x3400, 0xA000), *range(0xF900, 0xFB00))]
    chars = [c for c in chars if not _in_gb2312(c)]
    converted = _t2s().convert("\n".join(chars)).split("\n")
    return "[" + "".join(c for c, s in zip(chars, converted) if c != s) + "]"


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=1)
def _traditional_pattern() -> re.Pattern:
    return re.compile(_traditional_class())


def to_simplified(text: str) -> str:
    """``地區`` -> ``地区``; a text without a traditional character is returned as it is."""
    if text.isascii() or not _traditional_pattern().search(text):
        return text
    return _t2s().convert(text)


def simplified_texts(array: pa.Array) -> pa.Array:
    """``to_simplified`` of every text of an Arrow string array, converting only those that need it."""
    if not len(array):
        return array
    needs = pc.match_substring_regex(array, _traditional_class()).fill_null(False)
    if not pc.any(needs).as_py():
        return array
    converted = [to_simplified(text) for text in array.filter(needs).to_pylist()]
    return pc.replace_with_mask(array, needs, pa.array(converted, type=pa.string()))


def is_missing(text) -> bool:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return True
    return normalise_text(text).lower() in MISSING_TEXTS


def parse_number(text, kind: str = COUNT, factor: float = 1.0) -> ParsedNumber | None:
    """Parse one cell for a column of ``kind`` (count, area, rate). None means missing.

    ``factor`` converts the header's unit to the stored one (公顷 -> 亩: 15) before counts are checked to be
    whole. Raises NumberError with kind ``not_a_number``, ``percent_not_allowed``, ``not_integer``,
    ``negative`` or ``too_large``.
    """
    if isinstance(text, bool):
        raise NumberError("not_a_number")
    if isinstance(text, (int, float)):
        if isinstance(text, float) and math.isnan(text):
            return None
        return _checked(float(text) * factor, kind, approximate=False)
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
    for word, multiplier in MULTIPLIERS.items():
        if s.endswith(word):
            s, scale = s[:-1], scale * multiplier
            break
    if not _NUMBER.match(s):
        raise NumberError("not_a_number")
    return _checked(float(s.replace(",", "")) * scale * factor, kind, approximate)


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
    if value > MAX_MAGNITUDE:
        raise NumberError("too_large")
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


# ---------------------------------------------------------------------------------------------------------
# A whole column at once


@dataclass
class ParsedColumn:
    """A column read by ``parse_numbers``: values (NaN where missing or wrong), which are approximate, and
    the problem kind of each wrong cell (None where the cell is fine)."""
    values: np.ndarray  # float64
    approximate: np.ndarray  # bool
    errors: np.ndarray  # object: problem kind or None

    @property
    def error_mask(self) -> np.ndarray:
        return pd.notna(self.errors)


def parse_numbers(texts: pd.Series, kind: str = COUNT, factor: float = 1.0) -> ParsedColumn:
    """``parse_number`` over a column of texts, vectorised: the same answer for every cell, much faster."""
    n = len(texts)
    values = np.full(n, np.nan)
    approximate = np.zeros(n, dtype=bool)
    errors = np.full(n, None, dtype=object)
    if n == 0:
        return ParsedColumn(values, approximate, errors)
    array = pa.array(texts.to_numpy(dtype=object, na_value=""), type=pa.string()) \
        if not _is_arrow_string(texts) else _arrow_of(texts)
    plain = pc.match_substring_regex(array, _PLAIN_INTEGER if kind == COUNT else _PLAIN_DECIMAL)
    plain = plain.fill_null(False).to_numpy(zero_copy_only=False)
    blank = pc.equal(array, "").fill_null(True).to_numpy(zero_copy_only=False)
    if plain.any():
        numbers = pc.cast(pc.filter(array, pa.array(plain)), pa.float64()).to_numpy() * factor
        values[plain] = numbers
        _check_plain(values, errors, plain, kind, factor)
    rest = ~(plain | blank)
    if rest.any():
        others = texts[rest]
        codes, uniques = pd.factorize(others, use_na_sentinel=False)
        parsed = [_parse_or_error(u, kind, factor) for u in uniques]
        u_values = np.array([p[0] for p in parsed], dtype=float)
        u_approx = np.array([p[1] for p in parsed], dtype=bool)
        u_errors = np.array([p[2] for p in parsed], dtype=object)
        values[rest] = u_values[codes]
        approximate[rest] = u_approx[codes]
        errors[rest] = u_errors[codes]
    return ParsedColumn(values, approximate, errors)


def _check_plain(values: np.ndarray, errors: np.ndarray, plain: np.ndarray, kind: str, factor: float) -> None:
    """The checks ``_checked`` makes, for the cells the vectorised step converted (all non-negative)."""
    if factor == 1.0 and kind == COUNT:
        big = plain & (values > MAX_MAGNITUDE)
    else:
        big = plain & (values > MAX_MAGNITUDE)
        if kind == COUNT:
            fractional = plain & ~big & (np.abs(values - np.round(values)) > 1e-9)
            errors[fractional] = "not_integer"
            values[fractional] = np.nan
            values[plain & ~big & ~fractional] = np.round(values[plain & ~big & ~fractional])
    errors[big] = "too_large"
    values[big] = np.nan


def _parse_or_error(text, kind: str, factor: float) -> tuple[float, bool, str | None]:
    try:
        parsed = parse_number(text, kind, factor)
    except NumberError as e:
        return math.nan, False, e.kind
    if parsed is None:
        return math.nan, False, None
    return parsed.value, parsed.approximate, None


def _is_arrow_string(texts: pd.Series) -> bool:
    dtype = texts.dtype
    return isinstance(dtype, pd.StringDtype) and getattr(dtype, "storage", None) == "pyarrow" or \
        (isinstance(dtype, pd.ArrowDtype) and pa.types.is_string(dtype.pyarrow_dtype))


def _arrow_of(texts: pd.Series) -> pa.Array:
    """The Arrow array behind a text column, nulls as "" (blank)."""
    array = pa.array(texts.array) if not hasattr(texts.array, "_pa_array") else texts.array._pa_array
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if array.type != pa.string():
        array = _rebased(array.cast(pa.string()))
    return pc.fill_null(array, "")


def _rebased(array: pa.Array) -> pa.Array:
    """The array with offsets starting at 0. A CSV body is a slice of pyarrow's large_string column (the
    header row cut off); cast to string its offsets start past 0, and pyarrow 26's ``ascii_lower`` then
    returns an invalid array, on which ``is_in`` silently finds nothing (``合计`` and ``-`` went unseen)."""
    offsets = array.buffers()[1]
    if len(array) and offsets is not None and \
            np.frombuffer(offsets, dtype=np.int32, count=1, offset=4 * array.offset)[0] != 0:
        return pa.concat_arrays([array])
    return array


# ---------------------------------------------------------------------------------------------------------
# Normalising a whole column: texts made only of characters NFKC leaves alone (ASCII letters and digits,
# Chinese characters, common Chinese punctuation) and no space are already normal; only the others go
# through ``normalise_text``, once per distinct text. Same answers, a fraction of the time.

_STABLE_EXTRA = "、。《》「」『』【】〔〕〈〉〖〗—·“”‘’‰"
_STABLE_TEXT = "^[\\x{21}-\\x{7e}\\x{4e00}-\\x{9fff}" + "".join(f"\\x{{{ord(c):x}}}" for c in _STABLE_EXTRA) + "]*$"


def normalise_texts(texts: pd.Series, lower: bool = False) -> pa.Array:
    """``normalise_text`` (and ``.lower()`` with ``lower``) of every cell, as an Arrow array; blank for NA."""
    if _is_arrow_string(texts):
        array = _arrow_of(texts)
    else:
        array = pa.array(texts.to_numpy(dtype=object, na_value=""), type=pa.string())
        array = pc.fill_null(array, "")
    stable = pc.match_substring_regex(array, _STABLE_TEXT).to_numpy(zero_copy_only=False)
    out = pc.ascii_lower(array) if lower else array
    if stable.all():
        return out
    unstable = ~stable
    codes, uniques = pd.factorize(pd.Series(array.filter(pa.array(unstable)).to_pylist(), dtype=object),
                                  use_na_sentinel=False)
    done = [normalise_text(u).lower() if lower else normalise_text(u) for u in uniques]
    replacements = pa.array([done[c] for c in codes], type=pa.string())
    return pc.replace_with_mask(out, pa.array(unstable), replacements)


def missing_texts(texts: pd.Series) -> np.ndarray:
    """``is_missing`` of every cell (blank, ``-``, ``—``, ``暂无``...), vectorised."""
    lowered = normalise_texts(texts, lower=True)
    return pc.is_in(lowered, value_set=pa.array(sorted(MISSING_TEXTS))).to_numpy(zero_copy_only=False)
