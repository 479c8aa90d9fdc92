"""The glossary page lists the whole catalogue, the same set as ``python -m lawstats catalogue`` (issue 10 "done
when"): every measure (id, domain, 中文名, English name, unit, kind, rollup) and every derived indicator with its
formula, in both languages."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lawstats.i18n import t
from tests.conftest import ROOT, run_page


def cli_listing(lang: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "lawstats", "--lang", lang, "catalogue", "--format", "json"],
                         cwd=ROOT, env={**os.environ}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def records(frame, lang: str, columns: list[str]) -> set[tuple]:
    """The page's table as tuples of the CLI's columns (the page's headers are translated)."""
    return {tuple(str(row[t(f"glossary.col.{c}", lang)]) for c in columns) for _, row in frame.iterrows()}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_glossary_lists_every_measure_and_indicator_the_cli_lists(lang):
    at = run_page("glossary", lang)
    assert not at.exception, [e.value for e in at.exception]
    measures_table, indicators_table = (d.value for d in list(at.dataframe)[-2:])
    listed = cli_listing(lang)
    measure_columns = ["id", "domain", "zh", "en", "unit", "kind", "rollup"]
    indicator_columns = ["id", "domain", "zh", "en", "unit", "formula"]
    assert records(measures_table, lang, measure_columns) == {
        tuple(str(m[c]) for c in measure_columns) for m in listed["measures"]}
    assert records(indicators_table, lang, indicator_columns) == {
        tuple(str(i[c]) for c in indicator_columns) for i in listed["indicators"]}
    assert len(measures_table) >= 120 and len(indicators_table) == len(listed["indicators"])
    formulas = dict(zip(indicators_table[t("glossary.col.id", lang)], indicators_table[t("glossary.col.formula", lang)]))
    assert formulas["population_density"] == ("户籍人口 ÷ 辖区总面积" if lang == "zh" else "Registered persons ÷ Total area")
    assert all(formulas.values()), [i for i, f in formulas.items() if not f]  # every indicator says how it is computed
