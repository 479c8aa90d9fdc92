"""The declaration checked against the code: every indicator has a formula and every formula a declaration,
every check a rule, every indicator is on the glossary page, every message key the code uses exists in both
languages, and only ``lawstats/ui.py`` imports Streamlit."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from lawstats import indicators, registry
from lawstats.i18n import LANGS, MESSAGES, t
from lawstats.navigation import PAGES
from lawstats.registry import CHECKS, INDICATORS, TABLES
from tests.conftest import ROOT, page_text, run_page

PACKAGE = ROOT / "lawstats"
STORAGE = sorted((PACKAGE / "storage").glob("*.py"))  # the package that holds all SQL
SOURCES = sorted(PACKAGE.glob("*.py")) + STORAGE + [ROOT / "app.py"] + sorted((ROOT / "pages").glob("*.py"))
ALL_COLUMN_IDS = {c.id for table in TABLES for c in table.columns}
ERROR_TYPES = ("LawstatsError", "DatabaseError", "NotFound", "InvalidFile", "ValidationFailed", "AuthError")


def test_every_indicator_has_a_formula_and_every_formula_a_declaration():
    declared = [i.id for i in INDICATORS]
    assert len(declared) == len(set(declared)), "an indicator id is declared twice"
    assert set(declared) == set(indicators.FORMULAS)


def test_every_check_has_a_rule_and_every_rule_a_declaration():
    declared = [c.id for c in CHECKS]
    assert len(declared) == len(set(declared))
    assert set(declared) == set(indicators.CHECK_RULES)


def test_indicator_declarations_refer_to_real_columns_and_checks_to_real_indicators():
    for indicator in INDICATORS:
        assert set(indicator.inputs) <= ALL_COLUMN_IDS, indicator.id
        assert indicator.stated_column is None or indicator.stated_column in ALL_COLUMN_IDS, indicator.id
        assert indicator.zh and indicator.en and indicator.formula("zh") and indicator.formula("en"), indicator.id
        assert indicator.domain in {d for d, _, _ in registry.DOMAINS}, indicator.id
    for check in CHECKS:
        assert check.indicators and set(check.indicators) <= set(registry.INDICATORS_BY_ID), check.id


def test_column_ids_are_unique_and_valid_identifiers_within_each_table():
    for table in TABLES:
        ids = [c.id for c in table.columns]
        assert len(ids) == len(set(ids)), table.id
        assert all(re.fullmatch(r"[a-z_][a-z0-9_]*", i) for i in ids + [table.id])


@pytest.mark.parametrize("lang", LANGS)
def test_every_indicator_appears_on_the_glossary_page(lang):
    glossary = next(p for p in PAGES if p.url_path == "glossary")
    at = run_page(glossary, lang)
    assert not at.exception
    text = page_text(at)
    missing = [i.id for i in INDICATORS if i.label(lang) not in text]
    assert not missing, f"indicators missing from the glossary ({lang}): {missing}"


# ---------------------------------------------------------------------------------------------------------
# Messages


def _literal_keys() -> dict[str, str]:
    """Message keys the code passes as literals to t() or to an error type, with the file they are in."""
    pattern = re.compile(r"""\bt\(\s*["']([\w.]+)["']""")
    errors = re.compile(r"\b(?:%s)\(\s*[\"']([\w.]+)[\"']" % "|".join(ERROR_TYPES))
    found = {}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for key in pattern.findall(text) + errors.findall(text):
            found.setdefault(key, path.name)
    return found


def test_every_message_key_used_in_code_exists():
    used = _literal_keys()
    assert len(used) > 20, "the scan found too few keys: is the pattern still right?"
    unknown = {k: f for k, f in used.items() if k not in MESSAGES}
    assert not unknown, f"keys used but not in i18n.MESSAGES: {unknown}"


def test_page_titles_and_number_problems_have_messages():
    assert all(p.title_key in MESSAGES for p in PAGES)
    numbers = (PACKAGE / "numbers.py").read_text(encoding="utf-8")
    kinds = set(re.findall(r'NumberError\("(\w+)"\)', numbers))
    assert kinds and all(f"problem.{k}" in MESSAGES for k in kinds)


def test_every_message_has_both_languages_and_formats_in_both():
    """Both texts exist, and each formats with the parameters either language asks for (a caller passes one
    set of parameters for both languages, so a field only one of them names must still be safe to pass)."""
    for key, texts in MESSAGES.items():
        assert len(texts) == 2 and all(isinstance(x, str) and x.strip() for x in texts), key
        fields = {f for x in texts for _, f, _, _ in string.Formatter().parse(x) if f}
        for lang in LANGS:
            t(key, lang, **{f: 1234 for f in fields})  # 1234: a number suits {count:,} as well as {name}


# ---------------------------------------------------------------------------------------------------------
# Only ui.py knows Streamlit


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_ui_imports_streamlit():
    offenders = [p.name for p in [*PACKAGE.glob("*.py"), *STORAGE]
                 if p.name != "ui.py" and "streamlit" in _imported_modules(p)]
    assert not offenders, f"modules of lawstats/ that import streamlit: {offenders}"
    assert "streamlit" in _imported_modules(PACKAGE / "ui.py")


def test_only_storage_runs_sql():
    """All SQL lives in the package lawstats/storage/ (and lake.py, its connection layer: opening a store, the
    commit lock, DuckLake housekeeping): no other module calls DuckDB or the store's query helpers."""
    calls = re.compile(r"\.(execute|executemany|sql|query_df|query_rows)\(|\bduckdb\.")
    assert len(STORAGE) > 1
    offenders = [p.name for p in PACKAGE.glob("*.py")  # lawstats/*.py: the storage package is a folder
                 if p.name != "lake.py" and calls.search(p.read_text(encoding="utf-8"))]
    assert not offenders, f"modules outside lawstats/storage/ that run SQL: {offenders}"
