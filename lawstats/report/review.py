"""The analyst's review of a report's figures (the 从报告导入 page): which figures are proposed, how each looks in its
sentence, how it compares with what the database holds, and the extraction the analyst's decisions leave for
``importing.plan``. No Streamlit here: ``pages/report.py`` only draws what these functions return.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from lawstats import catalogue as catalogue_module
from lawstats import plaintext, registry, storage
from lawstats.report import importing
from lawstats.report.extract import CONFIDENCE_THRESHOLD, Extraction, Figure, with_measure

# How a figure compares with the database for its region and year.
AGREES, ADDS, CHANGES, NOT_STORED = "agrees", "adds", "changes", "not_stored"


@dataclass(frozen=True)
class Decision:
    """What the analyst decided for one figure: take it or not, and with which measure, value, flag and
    breakdown item (an item id, or a new item's name for an open breakdown; None for the measure's total)."""
    accepted: bool
    measure: str | None
    value: float
    approx: bool
    item: str | None = None


def storable_measures(cat: catalogue_module.Catalogue | None = None) -> list[str]:
    """Catalogue measures a figure may be given on the review page, in the catalogue's order: every numeric
    measure (a registry column goes to its table, any other is stored as an observation)."""
    cat = cat or catalogue_module.load()
    return [measure_id for measure_id, measure in cat.measures.items() if measure.numeric]


def breakdown_of(measure_id: str | None,
                 cat: catalogue_module.Catalogue | None = None) -> catalogue_module.Breakdown | None:
    """The breakdown a measure is given by (its items are chosen on the review page), or None."""
    cat = cat or catalogue_module.load()
    measure = cat.measures.get(measure_id or "")
    return cat.breakdowns.get(measure.breakdown or "") if measure else None


def item_label(breakdown: catalogue_module.Breakdown | None, item: str | None, lang: str) -> str:
    """An item as the analyst reads it: the catalogue's name, or a new item's name as written."""
    return breakdown.item_label(item, lang) if breakdown and item else item or ""


def measure_label(measure_id: str | None, lang: str, cat: catalogue_module.Catalogue | None = None) -> str:
    cat = cat or catalogue_module.load()
    measure = cat.measures.get(measure_id or "")
    if not measure:
        return "—"
    return f"{measure.label(lang)}（{measure.unit}）" if lang == "zh" else f"{measure.label(lang)} ({measure.unit})"


def proposed(figure: Figure, threshold: float = CONFIDENCE_THRESHOLD) -> bool:
    """Taken by "accept all high-confidence": mapped to a stored measure, a level, confidence ≥ the threshold."""
    return figure.measure in _storable() and not figure.change and figure.confidence >= threshold


@functools.lru_cache(maxsize=1)
def _storable() -> frozenset[str]:
    return frozenset(storable_measures())


def first_decisions(extraction: Extraction) -> list[Decision]:
    """Nothing taken until the analyst says so; the extractor's measure, value and flag as proposed."""
    return [Decision(False, f.measure, f.value, f.approx, f.item) for f in extraction.figures]


def accept_confident(extraction: Extraction, decisions: list[Decision]) -> list[Decision]:
    """Every high-confidence figure taken (the one-click acceptance); other decisions kept."""
    return [replace(d, accepted=True) if proposed(f) else d for f, d in zip(extraction.figures, decisions)]


def reviewed(extraction: Extraction, decisions: list[Decision]) -> Extraction:
    """The extraction as the analyst left it: only the taken figures, with the analyst's measure, value and
    flag, at full confidence (``importing.plan`` then takes each one, or says why not)."""
    figures = tuple(replace(with_measure(f, d.measure), value=float(d.value), approx=bool(d.approx),
                            item=(d.item or None) if breakdown_of(d.measure) else None)
                    for f, d in zip(extraction.figures, decisions) if d.accepted and d.measure)
    return replace(extraction, figures=figures)


def sentence_parts(text: str, figure: Figure) -> tuple[str, str, str]:
    """The figure's sentence cut around its number: (before, the number, after). The span is the document's;
    the sentence is found where it encloses that span."""
    sentence = figure.sentence
    floor = max(0, figure.end - len(sentence))
    start = text.find(sentence, floor, figure.start + len(sentence)) if sentence else -1
    if start < 0 or start > figure.start:
        return sentence, text[figure.start:figure.end], ""
    local = figure.start - start
    return sentence[:local], sentence[local:figure.end - start], sentence[figure.end - start:]


def highlighted_markdown(text: str, figure: Figure) -> str:
    """The sentence for a Streamlit markdown element: the report's words as plain text (untrusted), the number
    marked. Each part is escaped before the marks are put around the number."""
    before, number, after = sentence_parts(text, figure)
    return (plaintext.markdown(before) + f":orange-background[**{plaintext.markdown(number)}**]"
            + plaintext.markdown(after))


def stored_values(store: storage.Store, region: str, year: int) -> dict[tuple[str, str], float]:
    """What the database holds for the region and year: (measure id, item) → value, the item as
    ``storage.measure_values`` names it ('' for none; a training programme by its name). Empty for a new region."""
    regions = storage.regions(store)
    ids = [int(i) for i in regions.loc[regions["name"] == region, "region_id"]]
    if not ids:
        return {}
    rows = storage.measure_values(store, ids[:1], [int(year)])
    rows = rows[rows["value"].notna() & ~rows["rolled"].astype(bool)]  # a sum of the children is not held
    return {(str(m), str(i) if isinstance(i, str) else ""): float(v)
            for m, i, v in zip(rows["measure_id"], rows["item_id"], rows["value"])}


def held_key(figure: Figure, decision: Decision, cat: catalogue_module.Catalogue | None = None) -> tuple[str, str]:
    """The (measure, item) under which the database holds the figure as decided."""
    cat = cat or catalogue_module.load()
    decided = replace(with_measure(figure, decision.measure), item=decision.item)
    table = next((t for t in registry.TABLES if any(c.id == decision.measure for c in t.value_columns)), None)
    if table is not None:
        return decision.measure, (importing._row_key(cat, decided) or "") if table.key_columns else ""
    return decision.measure, importing.item_id(cat, decided) if breakdown_of(decision.measure, cat) else ""


def comparison(figure: Figure, decision: Decision, held: dict[tuple[str, str], float],
               cat: catalogue_module.Catalogue | None = None) -> tuple[str, float | None]:
    """(agrees | adds | changes | not_stored, the value held) for the figure as decided."""
    if decision.measure not in _storable():
        return NOT_STORED, None
    old = held.get(held_key(figure, decision, cat))
    if old is None:
        return ADDS, None
    return (AGREES if math.isclose(old, float(decision.value), rel_tol=1e-9, abs_tol=1e-9) else CHANGES), old


def number_text(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"


def pasted_name(text: str, fallback: str) -> str:
    """A name for pasted text, kept as the values' source: the report's title line (the first of its opening
    lines that says 报告/总结), else its first line; ``fallback`` for text without one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:5]
    title = next((line for line in lines if "报告" in line or "总结" in line), lines[0] if lines else "")
    return plaintext.visible(title)[:80] or fallback
