"""Every value of a region and year that came from a report, with the sentence it came from.

Observations carry their sentence (``storage.measure_values``); a registry table's value carries it as the note
of its per-value provenance (``storage.value_provenance``). This module joins the two into one table, the
answer to "where does this number come from?" wherever the app shows a source: the glossary page and
``python -m lawstats provenance``. No Streamlit here.
"""

from __future__ import annotations

import pandas as pd

from lawstats import catalogue as catalogue_module
from lawstats import storage

FIELDS = ("measure_id", "measure", "item", "value", "unit", "approx", "source", "section", "sentence", "batch_id")


def values_with_sentences(store: storage.Store, region_id: int, year: int, lang: str = "zh") -> pd.DataFrame:
    """One row per current value of the region and year that has a sentence: measure id, measure name, item,
    value, unit, approx, source, section, sentence, batch id, in the catalogue's order of measures."""
    values = storage.measure_values(store, [int(region_id)], [int(year)])
    values = values[~values["rolled"].astype(bool)].copy()
    notes = _registry_sentences(store, region_id, year)
    # a sentence only for the value its batch wrote (a later upload of the same value has none)
    registry_sentence = pd.Series([_stated(notes, m, i, b) for m, i, b in zip(
        values["measure_id"], values["item_id"].fillna(""), values["batch_id"])], index=values.index)
    missing = values["sentence"].isna()
    for position, name in enumerate(("sentence", "source", "section")):
        filled = registry_sentence.map(lambda found: found[position])
        values.loc[missing, name] = filled[missing].where(filled[missing].notna(), values.loc[missing, name])
    values = values[values["sentence"].notna() & (values["sentence"].astype(str).str.strip() != "")]
    return _labelled(values, lang)


def _stated(notes: dict, measure_id: str, item_id: str, batch_id) -> tuple:
    found = notes.get((measure_id, item_id))
    if found is None or pd.isna(batch_id) or found[3] != int(batch_id):
        return None, None, None
    return found[:3]


def _registry_sentences(store: storage.Store, region_id: int, year: int) -> dict[tuple[str, str], tuple]:
    """(column id, row key or '') → (sentence, source, section, batch id) of the newest report batch that stated it.

    A report's batch is named after the report (its provenance source); other batches' notes (the shipped
    data's ``provenance.csv``: "单位：亩") are an analyst's remarks, not a sentence of the document."""
    provenance = storage.value_provenance(store, int(region_id), int(year))
    batches = storage.list_batches(store)
    documents = dict(zip(batches["batch_id"].astype(int), batches["file_name"].astype(str)))
    found: dict[tuple[str, str], tuple] = {}
    for row in provenance.itertuples(index=False):  # newest batch first: the first one wins
        key = (str(row.column_id), row.row_key if isinstance(row.row_key, str) else "")
        from_report = documents.get(int(row.batch_id)) == row.source
        if from_report and isinstance(row.note, str) and row.note.strip() and key not in found:
            found[key] = (row.note, row.source, row.section, int(row.batch_id))
    return found


def _labelled(values: pd.DataFrame, lang: str) -> pd.DataFrame:
    cat = catalogue_module.load()
    order = {measure_id: i for i, measure_id in enumerate(cat.measures)}
    rows = []
    for row in values.itertuples(index=False):
        measure = cat.measures.get(row.measure_id)
        rows.append({"measure_id": row.measure_id, "measure": measure.label(lang) if measure else row.measure_id,
                     "item": _item_label(cat, measure, row.item_id, lang), "value": row.value if pd.notna(row.value)
                     else row.text_value, "unit": cat.unit_label(measure.unit, lang) if measure else "",
                     "approx": bool(row.approx),
                     "source": row.source, "section": row.section if isinstance(row.section, str) else "",
                     "sentence": row.sentence, "batch_id": int(row.batch_id) if pd.notna(row.batch_id) else None})
    rows.sort(key=lambda r: (order.get(r["measure_id"], len(order)), r["item"]))
    return pd.DataFrame(rows, columns=list(FIELDS))


def _item_label(cat: catalogue_module.Catalogue, measure, item_id, lang: str) -> str:
    if not isinstance(item_id, str) or not item_id:
        return ""
    breakdown = cat.breakdowns.get(measure.breakdown or "") if measure else None
    return breakdown.item_label(item_id, lang) if breakdown else item_id


def lines(frame: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    """One (value, where it comes from) pair per row for a page: ("户籍人口 25,300 人", "“…句子…”（报告.txt ·
    一、基本情况）"), the item after the measure's name."""
    out = []
    for row in frame.itertuples(index=False):
        item = f"·{row.item}" if row.item else ""
        value = f"{row.measure}{item} {_number(row.value, row.approx, lang)} {row.unit}".strip()
        where = " · ".join(part for part in (str(row.source), row.section) if part)
        quoted = f"“{row.sentence}”（{where}）" if lang == "zh" else f"“{row.sentence}” ({where})"
        out.append((value, quoted))
    return out


def _number(value, approx: bool, lang: str) -> str:
    if isinstance(value, float) and value.is_integer():
        text = f"{value:,.0f}"
    elif isinstance(value, float):
        text = f"{value:,.6g}"
    else:
        text = str(value)
    if not approx:
        return text
    return text + "余" if lang == "zh" else "≈" + text
