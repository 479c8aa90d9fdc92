"""Nothing outside the catalogue names a domain, measure or derived indicator (issue 10 §3 "done when").

The rule: a string literal (not a docstring) in ``app.py``, ``pages/*.py`` or ``lawstats/**/*.py`` that equals a
catalogue domain id, measure id or indicator id names it. Only the files of the named special pages, charts and
slides may do so, and only for the special domains — those with a page of their own (``navigation.OWN_PAGES``:
population, land, grid, training, governance). Any id of any other domain, anywhere in the code, fails: such a
domain is drawn by generic code from its declaration alone. Tests are not scanned (they name ids on purpose);
the catalogue's TOML files are the declaration itself. An allow-list entry that no longer names an id fails too,
so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

from lawstats import catalogue, navigation
from tests.conftest import ROOT

# file -> why it may name the special domains' ids (one line each)
SPECIAL = {
    "lawstats/registry.py": "the declaration of the five wide registry tables and their indicators",
    "lawstats/indicators.py": "the registry indicators' formulas (the catalogue's code indicators and their ratios)",
    "lawstats/summary.py": "the figures the five special pages and slides draw (structure, composition, ratios)",
    "lawstats/colours.py": "one colour per measure of the named special charts, for pages and slides alike",
    "lawstats/slides.py": "the five named domain slides and their trend slides",
    "lawstats/synth.py": "synthetic data written as the registry tables' upload files",
    "lawstats/navigation.py": "the five special pages' url paths",
    "lawstats/ui.py": "the training page's programme table (a registry table id)",
    "pages/population.py": "a named special page",
    "pages/land.py": "a named special page",
    "pages/grid.py": "a named special page",
    "pages/training.py": "a named special page",
    "pages/governance.py": "a named special page (it also shows the grid's belief venues)",
}


def catalogue_ids() -> dict[str, str]:
    """Every domain, measure and indicator id, mapped to its domain."""
    cat = catalogue.load()
    ids = {d.id: d.id for d in cat.domains}
    ids.update({m.id: m.domain for m in cat.measures.values()})
    ids.update({i.id: i.domain for i in cat.indicators.values()})
    return ids


def named_ids(source: str, ids: dict[str, str]) -> list[str]:
    """The string literals of ``source`` (docstrings left out) that equal an id."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and node.value in ids]


def scanned_files() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "lawstats").rglob("*.py"))]


def special_domains() -> set[str]:
    return {d.id for d in catalogue.load().domains} & set(navigation.OWN_PAGES)


def test_the_scanner_finds_a_literal_and_ignores_docstrings():
    ids = {"publicity_events": "publicity", "publicity": "publicity"}
    source = '"""publicity_events"""\ndef f():\n    """publicity"""\n    return {"publicity_events": 1}["publicity"]\n'
    assert sorted(named_ids(source, ids)) == ["publicity", "publicity_events"]


def test_the_special_domains_are_the_five_with_pages_of_their_own():
    assert special_domains() == {"population", "land", "grid", "training", "governance"}


def test_no_code_names_a_catalogue_id_except_the_named_special_charts():
    ids, special = catalogue_ids(), special_domains()
    offending = {}
    for path in scanned_files():
        relative = path.relative_to(ROOT).as_posix()
        named = set(named_ids(path.read_text(encoding="utf-8"), ids))
        allowed = special if relative in SPECIAL else set()
        wrong = sorted(i for i in named if ids[i] not in allowed)
        if wrong:
            offending[relative] = wrong
    assert not offending, offending


def test_every_allow_list_entry_is_still_needed():
    ids = catalogue_ids()
    unused = [f for f in SPECIAL if not named_ids((ROOT / f).read_text(encoding="utf-8"), ids)]
    assert not unused, unused
