"""The measure catalogue: what every figure of a township report means, declared as data.

The declaration lives in ``lawstats/catalogue/``: ``units.toml`` (the allowed units and their conversions) and one
TOML file per domain (``[domain]``, ``[[breakdowns]]``, ``[[measures]]``, ``[[indicators]]``, ``[[checks]]``).
``load()`` reads and validates them and returns a ``Catalogue``; every problem found is collected and reported
together in one ``CatalogueError`` (file, entry, what is wrong), so a broken edit never loads half a catalogue.
The format is documented in ``docs/catalogue.md``. No Streamlit here.
"""

from __future__ import annotations

import os
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from lawstats.errors import LawstatsError
from lawstats.i18n import t

FOLDER = Path(__file__).with_name("catalogue")
UNITS_FILE = "units.toml"

KINDS = ("count", "amount", "area", "rate", "money", "text", "list")
ROLLUPS = ("sum", "none", "derived")
INDICATOR_KINDS = ("ratio", "figure", "code", "change")
CHECK_KINDS = ("le", "stated_vs_computed", "within")
CHART_KINDS = ("generic", "grid_hierarchy", "rates_vs_100")

# The fields each kind of entry may have (an unknown field is most often a typo, so it is refused).
_FIELDS = {
    "domain": {"id", "zh", "en", "order", "chart", "definition_zh", "definition_en"},
    "breakdowns": {"id", "zh", "en", "items", "open"},
    "item": {"id", "zh", "en", "phrasings", "context"},
    "measures": {"id", "zh", "en", "unit", "kind", "rollup", "range", "definition_zh", "definition_en", "aliases",
                 "phrasings", "breakdown", "choices", "rollup_numerator", "rollup_denominator", "rollup_scale",
                 "headline"},
    "indicators": {"id", "kind", "zh", "en", "numerator", "denominator", "scale", "unit", "decimals", "formula_zh",
                   "formula_en", "definition_zh", "definition_en", "headline", "higher_is_better", "target", "stated",
                   "measure", "inputs"},
    "checks": {"id", "zh", "en", "kind", "left", "right", "chain", "stated", "indicator", "numerator", "denominator",
               "scale", "tolerance", "items", "min", "max", "badge", "per_breakdown", "on_upload"},
    "units": {"id", "zh", "en", "kinds", "aliases", "convert"},
}
# How each kind of entry is named in a message.
_WHAT = {"domain": ("领域", "domain"), "breakdowns": ("分项", "breakdown"), "item": ("分项条目", "breakdown item"),
         "measures": ("指标项", "measure"), "indicators": ("派生指标", "indicator"), "checks": ("核对规则", "check"),
         "units": ("单位", "unit")}


@dataclass(frozen=True)
class Unit:
    id: str
    zh: str
    en: str
    kinds: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    convert: dict[str, float] = field(default_factory=dict)  # 1 of this unit = factor × target unit


@dataclass(frozen=True)
class Domain:
    id: str
    zh: str
    en: str
    order: float
    chart: str = "generic"
    definition_zh: str = ""
    definition_en: str = ""
    file: str = ""

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class BreakdownItem:
    id: str
    zh: str
    en: str
    phrasings: tuple[str, ...] = ()
    # Words of a figure's measure phrase that pick this item when another item shares the phrase that named it
    # (“法宣在线” is the platform's study and its exam: 参学率 is the study's, 参考率 the exam's).
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class Breakdown:
    id: str
    domain: str
    zh: str
    en: str
    items: tuple[BreakdownItem, ...]
    open: bool = True  # analysts may add items not listed

    def item_label(self, name: str, lang: str) -> str:
        """A stored item name (its Chinese name or id) in ``lang``; a name the catalogue does not declare as is."""
        item = next((i for i in self.items if name in (i.zh, i.id)), None)
        return name if item is None else (item.zh if lang == "zh" else item.en)


@dataclass(frozen=True)
class Ratio:
    """numerator ÷ (sum of denominator) × scale, every part a measure id."""
    numerator: str
    denominator: tuple[str, ...]
    scale: float = 1.0


@dataclass(frozen=True)
class Measure:
    id: str
    domain: str
    zh: str
    en: str
    unit: str
    kind: str
    rollup: str
    range: tuple[float, float] | None
    definition_zh: str = ""
    definition_en: str = ""
    aliases: tuple[str, ...] = ()
    phrasings: tuple[str, ...] = ()
    breakdown: str | None = None
    choices: tuple[tuple[str, str, str], ...] = ()  # (stored value, 中文, English) for a text measure
    derived: Ratio | None = None  # how a rollup="derived" measure is recomputed for a parent region
    headline: bool = False  # a KPI card of its domain's page and slide (else the domain's first measures)

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "list")


@dataclass(frozen=True)
class Indicator:
    id: str
    domain: str
    kind: str  # ratio | figure (a measure shown as it is) | code (a formula in lawstats.indicators) | change (YoY %)
    zh: str
    en: str
    unit: str
    decimals: int = 2
    ratio: Ratio | None = None
    measure: str | None = None  # for figure and change
    inputs: tuple[str, ...] = ()  # the measures a code indicator reads
    formula_zh: str = ""
    formula_en: str = ""
    definition_zh: str = ""
    definition_en: str = ""
    headline: bool = False
    higher_is_better: bool | None = None
    target: float | None = None
    stated: str | None = None  # a measure holding the report's own value of this indicator

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def formula(self, lang: str) -> str:
        return self.formula_zh if lang == "zh" else self.formula_en

    @property
    def reads(self) -> tuple[str, ...]:
        """Every measure this indicator reads."""
        if self.ratio:
            return (self.ratio.numerator, *self.ratio.denominator)
        if self.measure:
            return (self.measure,)
        return self.inputs


@dataclass(frozen=True)
class Check:
    id: str
    domain: str
    kind: str  # le | stated_vs_computed | within
    zh: str
    en: str
    left: tuple[str, ...] = ()  # le: sum of left ≤ sum of right
    right: tuple[str, ...] = ()
    chain: tuple[str, ...] = ()  # le: each ≤ the next
    stated: tuple[str, ...] = ()  # stated_vs_computed: stated[i] against indicator[i] or numerator[i] ÷ denominator[i]
    indicator: tuple[str, ...] = ()
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    scale: float = 100.0
    tolerance: float = 0.0
    items: tuple[str, ...] = ()  # within: indicators or measures that must lie in [min, max]
    min: float | None = None
    max: float | None = None
    badge: tuple[str, ...] = ()  # the indicators that show this check's badge
    per_breakdown: bool = False
    on_upload: str = "badge"  # "refuse": an upload breaking it is refused

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Catalogue:
    """Everything the catalogue declares, validated; build it with ``load()``."""

    domains: tuple[Domain, ...]
    measures: dict[str, Measure]
    indicators: dict[str, Indicator]
    checks: dict[str, Check]
    breakdowns: dict[str, Breakdown]
    units: dict[str, Unit]

    def __post_init__(self) -> None:
        # Lookup indexes, built once (the dataclass is frozen, hence object.__setattr__).
        aliases: dict[str, list[Measure]] = {}
        for measure in self.measures.values():
            for name in dict.fromkeys(normalise_header(n) for n in _header_names(measure)):
                aliases.setdefault(name, []).append(measure)
        units: dict[str, Unit] = {}
        for unit in self.units.values():
            for name in (unit.id, *unit.aliases):
                units.setdefault(name, unit)
        object.__setattr__(self, "_alias_index", aliases)
        object.__setattr__(self, "_phrasings", {m.id: tuple(unicodedata.normalize("NFKC", p) for p in m.phrasings if p)
                                                for m in self.measures.values()})
        object.__setattr__(self, "_unit_index", units)

    def domain(self, domain_id: str) -> Domain:
        for d in self.domains:
            if d.id == domain_id:
                return d
        raise KeyError(domain_id)

    def measures_of(self, domain_id: str) -> list[Measure]:
        return [m for m in self.measures.values() if m.domain == domain_id]

    def indicators_of(self, domain_id: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.domain == domain_id]

    def checks_of(self, domain_id: str) -> list[Check]:
        return [c for c in self.checks.values() if c.domain == domain_id]

    def match_phrase(self, text: str) -> list[Measure]:
        """The measures whose report phrasings occur in ``text``, the longest (most specific) phrase first.

        Full- and half-width forms compare equal (reports write both 村（居） and 村(居)).
        """
        text = unicodedata.normalize("NFKC", text)
        found: list[tuple[int, int, Measure]] = []
        for position, measure in enumerate(self.measures.values()):
            lengths = [len(p) for p in self._phrasings[measure.id] if p in text]
            if lengths:
                found.append((-max(lengths), position, measure))
        return [m for _, _, m in sorted(found, key=lambda f: (f[0], f[1]))]

    def by_alias(self, header: str, domain: str | None = None) -> Measure | None:
        """The measure a spreadsheet header names (its id, 中文名, English name or an alias), or None.

        Within a domain a header names at most one measure (load refuses duplicates); across domains a header
        such as 次数 may name several, and then only ``domain`` can tell which: without it the answer is None.
        """
        found = self._alias_index.get(normalise_header(header), [])
        if domain is not None:
            found = [m for m in found if m.domain == domain]
        return found[0] if len(found) == 1 else None

    def unit(self, name: str) -> Unit | None:
        """A unit by its id or one of its other spellings."""
        return self._unit_index.get(name.strip())

    def unit_label(self, unit_id: str, lang: str) -> str:
        """How a unit is written in the language (篇 → "articles"); an undeclared one as given."""
        unit = self.units.get(unit_id)
        if unit is None:
            return unit_id
        return unit.zh if lang == "zh" else unit.en

    def convert(self, value: float, from_unit: str, to_unit: str) -> float:
        """``value`` in ``from_unit`` expressed in ``to_unit`` (KeyError where units.toml has no conversion)."""
        source, target = self.unit(from_unit), self.unit(to_unit)
        if source is None or target is None:
            raise KeyError((from_unit, to_unit))
        if source.id == target.id:
            return value
        return value * source.convert[target.id]


def normalise_header(text: str) -> str:
    """Headers compare without spaces, case or the difference between full- and half-width forms."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).lower()


def _header_names(measure: Measure) -> tuple[str, ...]:
    return (measure.id, measure.zh, measure.en, *measure.aliases)


# ---------------------------------------------------------------------------------------------------------
# Loading and validation


@dataclass(frozen=True)
class Problem:
    key: str  # a message key under "catalogue." in lawstats.i18n
    file: str
    entry: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        return t(self.key, lang, file=self.file, entry=self.entry, **self.params)


class CatalogueError(LawstatsError):
    """The catalogue files are inconsistent. ``problems`` lists every problem found; the message names the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0]
        details = pd.DataFrame({"file": [p.file for p in problems], "entry": [p.entry for p in problems],
                                "problem": [p.key.removeprefix("catalogue.") for p in problems],
                                "问题": [p.message("zh") for p in problems],
                                "message": [p.message("en") for p in problems]})
        super().__init__(first.key, details=details, file=first.file, entry=first.entry, **first.params)

    def message(self, lang: str = "zh") -> str:
        text = self.problems[0].message(lang)
        if len(self.problems) > 1:
            text += t("catalogue.more_problems", lang, count=len(self.problems) - 1)
        return text

    @property
    def kinds(self) -> set[str]:
        """The kinds of problem found (message keys without the prefix), for tests and callers."""
        return {p.key.removeprefix("catalogue.") for p in self.problems}


CATALOGUE_ENV = "LAWSTATS_CATALOGUE"  # a folder that replaces the shipped catalogue (tests, drafts of a new domain)


def load(folder: Path | str | None = None) -> Catalogue:
    """The catalogue in ``folder`` (default: the folder ``$LAWSTATS_CATALOGUE`` names, else the one shipped in
    ``lawstats/catalogue``), validated."""
    if folder is not None:
        return _load(Path(folder))
    chosen = os.environ.get(CATALOGUE_ENV)
    return _load_named(str(Path(chosen).resolve())) if chosen else _load_default()


@lru_cache(maxsize=1)
def _load_default() -> Catalogue:
    return _load(FOLDER)


@lru_cache(maxsize=4)
def _load_named(folder: str) -> Catalogue:
    # keyed on the folder: a process (a test) that points LAWSTATS_CATALOGUE elsewhere gets that catalogue
    return _load(Path(folder))


def _load(folder: Path) -> Catalogue:
    reader = _Reader(folder)
    catalogue = reader.read()
    if reader.problems:
        raise CatalogueError(reader.problems)
    return catalogue


def _what(kind: str) -> dict[str, str]:
    zh, en = _WHAT[kind]
    return {"what_zh": zh, "what_en": en}


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


class _Reader:
    """Reads every file, then checks every reference; collects problems instead of stopping at the first."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []
        self.where: dict[tuple[str, str], str] = {}  # (kind, id) -> file that declared it

    def problem(self, key: str, file: str, entry: str, **params) -> None:
        self.problems.append(Problem(f"catalogue.{key}", file, entry, params))

    # -- reading -------------------------------------------------------------------------------------------

    def read(self) -> Catalogue:
        units = self._read_units()
        domains, measures, indicators, checks, breakdowns = [], {}, {}, {}, {}
        files = sorted(p for p in self.folder.glob("*.toml") if p.name != UNITS_FILE)
        if not files:
            self.problem("no_domains", str(self.folder), "")
        for path in files:
            data = self._parse(path)
            if data is None:
                continue
            name = path.name
            unknown_sections = set(data) - {"domain", "breakdowns", "measures", "indicators", "checks"}
            for section in sorted(unknown_sections):
                self.problem("unknown_section", name, section)
            domain = self._domain(name, data.get("domain"))
            if domain is None:
                continue
            domains.append(domain)
            for raw in data.get("breakdowns", []):
                self._add(breakdowns, "breakdowns", name, self._breakdown(name, domain.id, raw))
            for raw in data.get("measures", []):
                self._add(measures, "measures", name, self._measure(name, domain.id, raw, units))
            for raw in data.get("indicators", []):
                self._add(indicators, "indicators", name, self._indicator(name, domain.id, raw))
            for raw in data.get("checks", []):
                self._add(checks, "checks", name, self._check(name, domain.id, raw))
        self._unique_domains(domains)
        catalogue = Catalogue(tuple(sorted(domains, key=lambda d: (d.order, d.id))), measures, indicators, checks,
                              breakdowns, units)
        self._check_references(catalogue)
        return catalogue

    def _parse(self, path: Path) -> dict | None:
        try:
            with path.open("rb") as f:
                return tomllib.load(f)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            self.problem("unreadable", path.name, "", error=str(e))
            return None

    def _fields(self, kind: str, file: str, raw: Any, required: tuple[str, ...] = ("id", "zh", "en")) -> str | None:
        """The entry's id if it is a table with every required field and no unknown one; else None."""
        if not isinstance(raw, dict):
            self.problem("not_a_table", file, str(raw)[:40], **_what(kind))
            return None
        entry = str(raw.get("id", "?"))
        ok = True
        for name in required:
            if raw.get(name) in (None, ""):
                self.problem("missing_field", file, entry, field=name, **_what(kind))
                ok = False
        for name in sorted(set(raw) - _FIELDS[kind]):
            self.problem("unknown_field", file, entry, field=name, **_what(kind))
        return entry if ok else None

    def _choice(self, kind: str, file: str, entry: str, name: str, value: Any, allowed: tuple[str, ...]) -> bool:
        if value in allowed:
            return True
        self.problem("unknown_choice", file, entry, field=name, value=value, allowed=" | ".join(allowed), **_what(kind))
        return False

    def _add(self, into: dict, kind: str, file: str, item) -> None:
        if item is None:
            return
        if item.id in into:
            self.problem("duplicate_id", file, item.id, other=self.where[(kind, item.id)], **_what(kind))
            return
        into[item.id] = item
        self.where[(kind, item.id)] = file

    def _unique_domains(self, domains: list[Domain]) -> None:
        seen: dict[str, str] = {}
        for d in domains:
            if d.id in seen:
                self.problem("duplicate_id", d.file, d.id, other=seen[d.id], **_what("domain"))
            seen.setdefault(d.id, d.file)

    def _read_units(self) -> dict[str, Unit]:
        path = self.folder / UNITS_FILE
        if not path.exists():
            self.problem("no_units", UNITS_FILE, "")
            return {}
        data = self._parse(path) or {}
        units: dict[str, Unit] = {}
        for raw in data.get("units", []):
            # The empty unit ("") is the unit of text and list measures, so only a missing id is wrong.
            entry = self._fields("units", UNITS_FILE, raw, required=("zh", "en"))
            if entry is not None and "id" not in raw:
                self.problem("missing_field", UNITS_FILE, entry, field="id", **_what("units"))
            if entry is None or "id" not in raw:
                continue
            kinds = tuple(raw.get("kinds", ()))
            for kind in kinds:
                self._choice("units", UNITS_FILE, entry, "kinds", kind, KINDS)
            unit = Unit(raw["id"], raw["zh"], raw["en"], kinds, tuple(raw.get("aliases", ())),
                        {k: float(v) for k, v in raw.get("convert", {}).items()})
            self._add(units, "units", UNITS_FILE, unit)
        for unit in units.values():
            for target in unit.convert:
                if target not in units:
                    self.problem("unknown_unit", UNITS_FILE, unit.id, value=target, **_what("units"))
        return units

    def _domain(self, file: str, raw: Any) -> Domain | None:
        if raw is None:
            self.problem("no_domain", file, "")
            return None
        entry = self._fields("domain", file, raw)
        if entry is None:
            return None
        chart = raw.get("chart", "generic")
        self._choice("domain", file, entry, "chart", chart, CHART_KINDS)
        order = raw.get("order", 1000)
        if not isinstance(order, (int, float)) or isinstance(order, bool):
            self.problem("not_a_number", file, entry, field="order", value=order, **_what("domain"))
            order = 1000
        return Domain(entry, raw["zh"], raw["en"], order, chart, raw.get("definition_zh", ""),
                      raw.get("definition_en", ""), file)

    def _breakdown(self, file: str, domain: str, raw: Any) -> Breakdown | None:
        entry = self._fields("breakdowns", file, raw)
        if entry is None:
            return None
        items, seen = [], set()
        for item in raw.get("items", []):
            item_id = self._fields("item", file, item)
            if item_id is None:
                continue
            if item_id in seen:
                self.problem("duplicate_id", file, f"{entry}.{item_id}", other=file, **_what("item"))
                continue
            seen.add(item_id)
            items.append(BreakdownItem(item_id, item["zh"], item["en"], tuple(item.get("phrasings", ())),
                                       tuple(item.get("context", ()))))
        return Breakdown(entry, domain, raw["zh"], raw["en"], tuple(items), bool(raw.get("open", True)))

    def _measure(self, file: str, domain: str, raw: Any, units: dict[str, Unit]) -> Measure | None:
        entry = self._fields("measures", file, raw, required=("id", "zh", "en", "kind", "rollup"))
        if entry is None:
            return None
        kind, rollup, unit = raw["kind"], raw["rollup"], raw.get("unit", "")
        kind_ok = self._choice("measures", file, entry, "kind", kind, KINDS)
        self._choice("measures", file, entry, "rollup", rollup, ROLLUPS)
        if unit not in units:
            self.problem("unknown_unit", file, entry, value=unit, **_what("measures"))
        elif kind_ok and kind not in units[unit].kinds:
            self.problem("unit_kind", file, entry, value=unit, kind=kind, allowed=" | ".join(units[unit].kinds))
        value_range = self._range(file, entry, raw.get("range"), numeric=kind not in ("text", "list"))
        derived = None
        if rollup == "derived":
            if not raw.get("rollup_numerator") or not raw.get("rollup_denominator"):
                self.problem("derived_without_formula", file, entry)
            else:
                derived = Ratio(raw["rollup_numerator"], _as_tuple(raw["rollup_denominator"]),
                                float(raw.get("rollup_scale", 1)))
        choices = tuple(tuple(c) for c in raw.get("choices", ()))
        return Measure(entry, domain, raw["zh"], raw["en"], unit, kind, rollup, value_range,
                       raw.get("definition_zh", ""), raw.get("definition_en", ""), tuple(raw.get("aliases", ())),
                       tuple(raw.get("phrasings", ())), raw.get("breakdown"), choices, derived,
                       bool(raw.get("headline", False)))

    def _range(self, file: str, entry: str, raw: Any, numeric: bool) -> tuple[float, float] | None:
        if raw is None:
            if numeric:
                self.problem("missing_field", file, entry, field="range", **_what("measures"))
            return None
        if (not isinstance(raw, list) or len(raw) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)):
            self.problem("bad_range", file, entry, value=raw)
            return None
        if raw[0] > raw[1]:
            self.problem("bad_range", file, entry, value=raw)
            return None
        return float(raw[0]), float(raw[1])

    def _indicator(self, file: str, domain: str, raw: Any) -> Indicator | None:
        kind = raw.get("kind", "ratio") if isinstance(raw, dict) else "ratio"
        # A figure takes its names and unit from its measure; the others declare them.
        required = ("id", "measure") if kind == "figure" else ("id", "zh", "en", "unit")
        entry = self._fields("indicators", file, raw, required=required)
        if entry is None or not self._choice("indicators", file, entry, "kind", kind, INDICATOR_KINDS):
            return None
        ratio = None
        if kind == "ratio":
            if not raw.get("numerator") or not raw.get("denominator"):
                self.problem("ratio_without_parts", file, entry)
                return None
            ratio = Ratio(raw["numerator"], _as_tuple(raw["denominator"]), float(raw.get("scale", 1)))
        if kind == "change" and not raw.get("measure"):
            self.problem("missing_field", file, entry, field="measure", **_what("indicators"))
        if kind == "code" and not raw.get("inputs"):
            self.problem("missing_field", file, entry, field="inputs", **_what("indicators"))
        decimals = raw.get("decimals", 2)
        if not isinstance(decimals, int) or isinstance(decimals, bool):
            self.problem("not_a_number", file, entry, field="decimals", value=decimals, **_what("indicators"))
            decimals = 2
        return Indicator(entry, domain, kind, raw.get("zh", ""), raw.get("en", ""), raw.get("unit", ""),
                         decimals, ratio, raw.get("measure"), tuple(raw.get("inputs", ())),
                         raw.get("formula_zh", ""), raw.get("formula_en", ""), raw.get("definition_zh", ""),
                         raw.get("definition_en", ""), bool(raw.get("headline", False)), raw.get("higher_is_better"),
                         raw.get("target"), raw.get("stated"))

    def _check(self, file: str, domain: str, raw: Any) -> Check | None:
        entry = self._fields("checks", file, raw, required=("id", "zh", "en", "kind"))
        if entry is None or not self._choice("checks", file, entry, "kind", raw["kind"], CHECK_KINDS):
            return None
        check = Check(entry, domain, raw["kind"], raw["zh"], raw["en"], _as_tuple(raw.get("left")),
                      _as_tuple(raw.get("right")), _as_tuple(raw.get("chain")), _as_tuple(raw.get("stated")),
                      _as_tuple(raw.get("indicator")), _as_tuple(raw.get("numerator")),
                      _as_tuple(raw.get("denominator")), float(raw.get("scale", 100)), float(raw.get("tolerance", 0)),
                      _as_tuple(raw.get("items")), raw.get("min"), raw.get("max"), _as_tuple(raw.get("badge")),
                      bool(raw.get("per_breakdown", False)), raw.get("on_upload", "badge"))
        self._choice("checks", file, entry, "on_upload", check.on_upload, ("badge", "refuse"))
        shape_ok = {
            "le": (bool(check.left) and bool(check.right)) or len(check.chain) >= 2,
            "stated_vs_computed": bool(check.stated) and (
                len(check.indicator) == len(check.stated)
                or len(check.numerator) == len(check.denominator) == len(check.stated)),
            "within": bool(check.items) and check.min is not None and check.max is not None,
        }[check.kind]
        if not shape_ok:
            self.problem("check_shape", file, entry, kind=check.kind)
        return check

    # -- references ----------------------------------------------------------------------------------------

    def _check_references(self, c: Catalogue) -> None:
        measures, indicators = c.measures, c.indicators

        def need_measure(kind: str, item, name: str) -> None:
            if name not in measures:
                self.problem("missing_measure", self.where.get((kind, item.id), item.domain), item.id, value=name,
                             **_what(kind))

        def need_indicator(kind: str, item, name: str) -> None:
            if name not in indicators:
                self.problem("missing_indicator", self.where.get((kind, item.id), item.domain), item.id, value=name,
                             **_what(kind))

        for m in measures.values():
            if m.breakdown is not None and m.breakdown not in c.breakdowns:
                self.problem("unknown_breakdown", self.where[("measures", m.id)], m.id, value=m.breakdown)
            if m.derived:
                for name in (m.derived.numerator, *m.derived.denominator):
                    need_measure("measures", m, name)
        for i in indicators.values():
            for name in (*i.reads, *([i.stated] if i.stated else [])):
                need_measure("indicators", i, name)
            if i.id in measures and not (i.kind == "figure" and i.measure == i.id):
                # Only a figure of the measure itself may share the measure's id: anything else would collide
                # in a wide frame of measures and indicators.
                self.problem("duplicate_id", self.where[("indicators", i.id)], i.id,
                             other=self.where[("measures", i.id)], **_what("indicators"))
        for ch in c.checks.values():
            for name in (*ch.left, *ch.right, *ch.chain, *ch.stated, *ch.numerator, *ch.denominator):
                need_measure("checks", ch, name)
            for name in (*ch.indicator, *ch.badge):
                need_indicator("checks", ch, name)
            for name in ch.items:
                if name not in measures and name not in indicators:
                    need_indicator("checks", ch, name)
        self._unique_aliases(c)

    def _unique_aliases(self, c: Catalogue) -> None:
        """Two measures of one domain may not answer to the same spreadsheet header."""
        seen: dict[tuple[str, str], str] = {}
        for m in c.measures.values():
            for name in dict.fromkeys(normalise_header(n) for n in _header_names(m)):
                owner = seen.setdefault((m.domain, name), m.id)
                if owner != m.id:
                    self.problem("duplicate_alias", self.where[("measures", m.id)], m.id, value=name, other=owner)


def formula_text(catalogue: Catalogue, indicator: Indicator, lang: str) -> str:
    """The formula in words: as declared, else built from the ratio's parts (so words and code cannot drift)."""
    declared = indicator.formula(lang)
    if declared:
        return declared

    def names(ids) -> list[str]:
        return [catalogue.measures[i].label(lang) if i in catalogue.measures else i for i in ids]

    if indicator.ratio:
        numerator = names([indicator.ratio.numerator])[0]
        parts = names(indicator.ratio.denominator)
        denominator = parts[0] if len(parts) == 1 else "（" + " + ".join(parts) + "）"
        scale = indicator.ratio.scale
        suffix = {1.0: "", 100.0: " × 100%"}.get(scale, f" × {scale:g}")
        return f"{numerator} ÷ {denominator}{suffix}"
    if indicator.kind == "figure":
        return t("catalogue.formula_figure", lang)
    if indicator.kind == "change":
        return t("catalogue.formula_change", lang, measure=names([indicator.measure])[0])
    return ""


def indicator_label(catalogue: Catalogue, indicator: Indicator, lang: str) -> str:
    """A figure indicator is named after its measure."""
    if indicator.kind == "figure" and not (indicator.zh and indicator.en) and indicator.measure in catalogue.measures:
        return catalogue.measures[indicator.measure].label(lang)
    return indicator.label(lang)


def indicator_unit(catalogue: Catalogue, indicator: Indicator) -> str:
    if indicator.kind == "figure" and not indicator.unit and indicator.measure in catalogue.measures:
        return catalogue.measures[indicator.measure].unit
    return indicator.unit


def listing(catalogue: Catalogue, lang: str = "zh") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two tables: every measure (id, domain, 中文名, English name, unit, kind, rollup) and every indicator with its
    formula in words. The CLI prints them; the glossary page can show the same."""
    measures = pd.DataFrame([{
        "id": m.id, "domain": m.domain, "zh": m.zh, "en": m.en, "unit": _unit_in(catalogue, m.unit, lang),
        "kind": m.kind, "rollup": m.rollup,
        "breakdown": m.breakdown or "",
    } for d in catalogue.domains for m in catalogue.measures_of(d.id)])
    indicators = pd.DataFrame([{
        "id": i.id, "domain": i.domain, "kind": i.kind, "zh": indicator_label(catalogue, i, "zh"),
        "en": indicator_label(catalogue, i, "en"), "unit": _unit_in(catalogue, indicator_unit(catalogue, i), lang),
        "formula": formula_text(catalogue, i, lang),
    } for d in catalogue.domains for i in catalogue.indicators_of(d.id)])
    return measures, indicators


def _unit_in(catalogue: Catalogue, unit: str, lang: str) -> str:
    """A unit, or a compound such as 人/户, written in the reader's language (each part as units.toml names it)."""
    if not unit or unit in catalogue.units:
        return catalogue.unit_label(unit, lang) if unit else unit
    return "/".join(catalogue.unit_label(part, lang) for part in unit.split("/"))
