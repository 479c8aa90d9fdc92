"""Observations of catalogue domains that have no page of their own, for the generic domain page's tests:
legality review (a unit group, two rates of 100%, a report sentence) over two years, and publicity per activity."""

from __future__ import annotations

import pandas as pd

from lawstats import storage

SENTENCE = "全年开展合法性审查13次"  # written for the test, not taken from a report


def legality_rows(region_id: int) -> pd.DataFrame:
    rows = [
        (2023, "legality_reviews", "", 9.0, None), (2024, "legality_reviews", "", 13.0, SENTENCE),
        (2024, "major_decisions_reviewed", "", 4.0, None), (2024, "contracts_reviewed", "", 43.0, None),
        (2024, "legal_opinions", "", 12.0, None), (2023, "contracts_reviewed", "", 30.0, None),
        (2024, "town_legal_advisers", "", 1.0, None), (2024, "village_legal_advisers", "", 9.0, None),
        (2024, "contract_review_pass_rate", "", 100.0, None), (2024, "village_adviser_coverage_rate", "", 100.0, None),
    ]
    return pd.DataFrame([{"region_id": region_id, "year": y, "measure_id": m, "item_id": i, "value": v,
                          "sentence": s, "source": "测试镇2024年法治政府建设报告", "section": "二"}
                         for y, m, i, v, s in rows])


def publicity_rows(region_id: int) -> pd.DataFrame:
    rows = [(2024, "publicity_events", "", 68.0), (2024, "publicity_events", "square", 60.0),
            (2024, "publicity_events", "theme_day", 2.0), (2024, "publicity_events", "mobile_class", 6.0),
            (2024, "materials_distributed", "", 40000.0)]
    return pd.DataFrame([{"region_id": region_id, "year": y, "measure_id": m, "item_id": i, "value": v,
                          "approx": m == "materials_distributed", "source": "测试镇普法台账"}
                         for y, m, i, v in rows])


def commit(store: storage.Store, observations: pd.DataFrame, name: str = "domain-test.csv") -> int:
    return storage.commit_batch(store, storage.NewBatch(file_name=name, observations=observations))
