"""Score the extractor on a folder of report texts with gold figures read by hand.

Layout (the one of ``bench/reports`` and ``docs/coverage/figures.csv``): a folder of ``<report_id>.txt`` files
(a first line holding only the page's URL is skipped) and one gold CSV with the columns report_id, value, unit,
label, approx, statistic, measure_id (note and others are ignored). Gold rows with ``statistic=true`` and a
measure are the figures to find; ``statistic=false`` rows are the numbers that must never be proposed.

- proposed: a figure the extractor maps to a measure (``--threshold`` keeps only those at or above a confidence);
- precision: proposed figures whose (measure, value) is a gold figure of the report;
- recall: gold figures (measure, value) found among the proposed figures;
- non-statistics proposed: proposed figures that match no gold figure and whose value is the value of one of the
  report's gold non-statistics (a year, a document number, a number inside a name...) and of none of its gold
  figures (a right value under the wrong measure is a precision error, not a non-statistic).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from lawstats import catalogue
from lawstats.errors import LawstatsError
from lawstats.report.documents import read_path
from lawstats.report.extract import Figure, extract

GOLD_COLUMNS = ("report_id", "value", "unit", "statistic", "measure_id")
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Gold:
    measure: str
    value: float
    label: str


@dataclass
class ReportScore:
    report: str
    gold: list[Gold]
    proposed: list[Figure]
    correct: list[Figure]
    found: list[Gold]
    missed: list[Gold]
    wrong: list[Figure]
    non_statistics: list[Figure]
    unmapped: int


@dataclass
class Score:
    reports: list[ReportScore] = field(default_factory=list)

    @property
    def proposed(self) -> int:
        return sum(len(r.proposed) for r in self.reports)

    @property
    def correct(self) -> int:
        return sum(len(r.correct) for r in self.reports)

    @property
    def gold(self) -> int:
        return sum(len(r.gold) for r in self.reports)

    @property
    def found(self) -> int:
        return sum(len(r.found) for r in self.reports)

    @property
    def non_statistics(self) -> int:
        return sum(len(r.non_statistics) for r in self.reports)

    @property
    def precision(self) -> float:
        return self.correct / self.proposed if self.proposed else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0


def read_gold(path: Path) -> tuple[dict[str, list[Gold]], dict[str, set[float]]]:
    """(gold figures by report, values of the non-statistics by report)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    missing = [c for c in GOLD_COLUMNS if rows and c not in rows[0]]
    if missing or not rows:
        raise LawstatsError("report.gold_columns", figures=str(path), columns=", ".join(missing or GOLD_COLUMNS))
    gold: dict[str, list[Gold]] = {}
    non_statistics: dict[str, set[float]] = {}
    for row in rows:
        report = row["report_id"].strip()
        if row["statistic"].strip().lower() == "true":
            value = _number(row["value"])
            measure = row["measure_id"].strip()
            if measure and value is not None:
                value = _in_measure_unit(value, row["unit"].strip(), measure)
                gold.setdefault(report, []).append(Gold(measure, value, row.get("label", "")))
        else:
            non_statistics.setdefault(report, set()).update(_numbers_in(row["value"]))
    return gold, non_statistics


def evaluate(folder: Path | str, figures: Path | str | None = None, threshold: float = 0.0) -> Score:
    folder = Path(folder)
    figures = Path(figures) if figures else folder / "figures.csv"
    texts = sorted(folder.glob("*.txt"))
    if not texts or not figures.exists():
        raise LawstatsError("report.gold_missing", folder=str(folder), figures=str(figures))
    gold, non_statistics = read_gold(figures)
    score = Score()
    for path in texts:
        report = path.stem
        if report not in gold and report not in non_statistics:
            continue  # a text without gold rows is not scored
        text = read_path(path).text
        if re.match(r"https?://\S+\s*\n", text):
            text = text[text.index("\n") + 1:]
        extraction = extract(text, path.name)
        score.reports.append(_score(report, extraction.figures, gold.get(report, []),
                                    non_statistics.get(report, set()), threshold))
    return score


def _score(report: str, figures, gold: list[Gold], non_statistics: set[float], threshold: float) -> ReportScore:
    proposed = [f for f in figures if f.measure is not None and f.confidence >= threshold]
    keys = {(g.measure, g.value) for g in gold}
    correct = [f for f in proposed if _key(f) in keys]
    got = {_key(f) for f in proposed}
    found = [g for g in gold if (g.measure, g.value) in got]
    missed = [g for g in gold if (g.measure, g.value) not in got]
    wrong = [f for f in proposed if _key(f) not in keys]
    statistics = {g.value for g in gold}
    non_stats = [f for f in wrong if round(abs(f.value), 6) in non_statistics - statistics]
    unmapped = sum(1 for f in figures if f.measure is None)
    return ReportScore(report, gold, proposed, correct, found, missed, wrong, non_stats, unmapped)


def _in_measure_unit(value: float, unit: str, measure: str) -> float:
    """A gold value as written (84 亿元) in its measure's unit (840000 万元), as the extractor gives it."""
    cat = catalogue.load()
    target = cat.measures[measure].unit if measure in cat.measures else unit
    try:
        return round(cat.convert(value, unit, target), 6) if unit and target else value
    except KeyError:
        return value


def _key(figure: Figure) -> tuple[str, float]:
    return figure.measure, round(figure.value, 6)


def _number(text: str) -> float | None:
    try:
        return round(float(text.replace(",", "").strip()), 6)
    except ValueError:
        return None


def _numbers_in(text: str) -> set[float]:
    """Every number written in a non-statistic's value (2024, 〔2025〕5号 → 2025 and 5, 3·15 → 3 and 15)."""
    from lawstats.report.numbers import _cn_value

    values = {round(float(d), 6) for d in re.findall(r"\d+(?:\.\d+)?", text)}
    for numeral in re.findall(r"[零〇一二两三四五六七八九十百千万]+", text):
        value = _cn_value(numeral)
        if value is not None:
            values.add(round(value, 6))
    return values
