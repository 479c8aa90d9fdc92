"""The region a person names: on the command line (``--region``, ``--create-regions-under``), in a link
(``?region=``) and so for the deck. One resolution for all of them, no Streamlit here.

A region is named by its id (links the app writes), its division code (``530581`` or ``530581000000``), its
name (``新华乡``, or ``新华`` without the level suffix) or a qualified name: the names of some of its ancestors
before its own, written together or apart (``腾冲市新华乡``, ``云南省/保山市/腾冲市/新华乡``,
``保山市 腾冲市 新华乡``). A name that fits several regions is not guessed: the lookup says which ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from lawstats import storage
from lawstats.errors import NotFound
from lawstats.i18n import t
from lawstats.importer import _LEVEL_SUFFIXES, name_stem
from lawstats.numbers import normalise_text

# What people put between the parts of a qualified name (after NFKC, so full-width forms are covered too).
_SEPARATORS = re.compile(r"[\s/\\>|,;·・、]+")
MAX_TEXT = 64  # characters of a qualified name worth trying (a full path is rarely over 30)
SHOWN_CANDIDATES = 10  # candidates listed in a message; the rest are counted
# Where one name ends and the next begins in a qualified name written together: after a level suffix.
_NAME_ENDS = re.compile("(?<=" + "|".join(sorted({s[-1] for s in _LEVEL_SUFFIXES})) + ")")


@dataclass(frozen=True)
class Candidate:
    """A region a text may mean, with the names from its top-level region down to itself."""
    region_id: int
    path: tuple[str, ...]
    code: str | None

    @property
    def full_path(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True)
class Lookup:
    """The answer for one text: the region (``region_id``), or none with the regions it may mean
    (``ambiguous``) or, when no region fits, regions with a similar name (``candidates``)."""
    text: str
    region_id: int | None
    candidates: tuple[Candidate, ...] = ()
    ambiguous: bool = False


def lookup_region(store: storage.Store, text: str | None, *, link: bool = False) -> Lookup:
    """Resolve ``text`` to one region. ``link``: digits are an id before a code (the app writes ids into its
    links; a person types codes)."""
    text = (text or "").strip()
    if not text:
        return Lookup("", None)
    found = storage.find_region_id(store, text, ids_first=link)  # id, code or exact unique name: one query
    if found is not None:
        return Lookup(text, found)
    compact = _SEPARATORS.sub("", normalise_text(text))
    if not compact or compact.isdigit() or len(compact) > MAX_TEXT:
        return Lookup(text, None)
    matches = _qualified_matches(store, compact)
    if len(matches) == 1:
        return Lookup(text, matches[0].region_id)
    if matches:
        return Lookup(text, None, tuple(matches), ambiguous=True)
    return Lookup(text, None, _similar(store, text))


def find_region(store: storage.Store, text: str, *, link: bool = False) -> int:
    """``lookup_region``, or NotFound whose message lists the regions ``text`` may mean (``error.ambiguous_region``)
    or regions with a similar name (``error.unknown_region_similar``, else ``error.unknown_region``);
    ``params["candidates"]`` holds them."""
    found = lookup_region(store, text, link=link)
    if found.region_id is None:
        raise NotFound(_problem_key(found, "error"), **problem_params(found))
    return found.region_id


def _problem_key(found: Lookup, prefix: str) -> str:
    """``error.*`` for the command line, ``app.*`` for a link: a shared name, no such region but similar ones,
    or nothing similar."""
    if found.ambiguous:
        return f"{prefix}.ambiguous_region"
    return f"{prefix}.unknown_region_similar" if found.candidates else f"{prefix}.unknown_region"


def problem_params(found: Lookup) -> dict:
    """Parameters of the messages above: the candidates one per line, and examples of the qualified forms."""
    shown = found.candidates[:SHOWN_CANDIDATES]
    lines = "\n".join(f"  {c.full_path}" + (f"  {c.code}" if c.code else "") for c in shown)
    more = len(found.candidates) - len(shown)
    first = found.candidates[0] if found.candidates else None
    return {"value": found.text, "count": len(found.candidates), "candidates": found.candidates,
            "paths": lines + (f"\n  … +{more}" if more > 0 else ""),
            "example": _shortest_unique(first, found.candidates) if first else "",
            "example_path": first.full_path if first else ""}


def problem_message(found: Lookup, lang: str, prefix: str = "error") -> str:
    """What to tell the person about a text that names no single region (``prefix`` "app" in a link's notice)."""
    return t(_problem_key(found, prefix), lang, **problem_params(found))


# -- matching ---------------------------------------------------------------------------------------------


def _name_forms(tail: str) -> set[str]:
    """Names a tail of the text may stand for: itself, and its stem with any level suffix (西堡 → 西堡镇)."""
    stem = name_stem(tail, normalised=True)
    return {tail, stem, *(stem + suffix for suffix in _LEVEL_SUFFIXES)}


def _qualified_matches(store: storage.Store, compact: str) -> list[Candidate]:
    """Regions ``compact`` names: some tail of it is the region's name (or the same name with another level
    suffix) and the rest, read backwards, is names of the region's ancestors (any may be left out). Exact
    names beat names that only share the stem (新华乡 is not 新华镇)."""
    tails = {i: compact[i:] for i in range(len(compact)) if i == 0 or len(compact) - i >= 2}
    names = set().union(*(_name_forms(tail) for tail in tails.values()))
    rows = storage.regions_named(store, sorted(names))
    best: dict[int, list[Candidate]] = {}
    for candidate in _candidates(rows):
        tiers = [_name_tier(candidate.path[-1], tail) for i, tail in tails.items()
                 if _ancestors_spell(compact[:i], candidate.path[:-1])]
        tiers = [tier for tier in tiers if tier is not None]
        if tiers:
            best.setdefault(min(tiers), []).append(candidate)
    return best[min(best)] if best else []


def _name_tier(name: str, tail: str) -> int | None:
    """0: the tail is the name; 1: the same stem (西堡 or 西堡乡 for 西堡镇); None: another name."""
    if name == tail:
        return 0
    return 1 if name_stem(name, normalised=True) == name_stem(tail, normalised=True) else None


def _ancestors_spell(prefix: str, ancestors: tuple[str, ...]) -> bool:
    """True if ``prefix`` is the names (or stems) of some of ``ancestors``, top-down, nearest last."""
    for name in reversed(ancestors):
        if not prefix:
            break
        for form in (name, name_stem(name, normalised=True)):
            if prefix.endswith(form):
                prefix = prefix[: -len(form)]
                break
    return not prefix


def _similar(store: storage.Store, text: str) -> tuple[Candidate, ...]:
    """Regions whose name contains the stem of the text's last part or, failing that, of the last name in it
    (昆明市新华乡 → 新华): what the person may have meant. At most two searches."""
    parts = [p for p in _SEPARATORS.split(normalise_text(text)) if p]
    last = parts[-1] if parts else ""
    names = [n for n in _NAME_ENDS.split(last) if n]
    for query in dict.fromkeys([last, names[-1] if names else ""]):
        if len(query) < 2:
            continue
        hits = storage.search_regions(store, name_stem(query, normalised=True), limit=SHOWN_CANDIDATES + 1)
        if not hits.empty:
            return _candidates(storage.region_paths(store, hits["region_id"].tolist()))
    return ()


def _candidates(rows: pd.DataFrame) -> tuple[Candidate, ...]:
    """Candidates from ``storage.regions_named`` / ``region_paths`` rows (a missing code is None)."""
    return tuple(Candidate(int(r.region_id), tuple(str(n) for n in r.path), None if pd.isna(r.code) else str(r.code))
                 for r in rows.itertuples(index=False))


def _shortest_unique(candidate: Candidate, others: tuple[Candidate, ...]) -> str:
    """The shortest qualified name (parent and name, then more ancestors) that names ``candidate`` alone."""
    for k in range(2, len(candidate.path) + 1):
        ending = candidate.path[-k:]
        if all(o.path[-k:] != ending for o in others if o.region_id != candidate.region_id):
            return "".join(ending)
    return candidate.full_path
