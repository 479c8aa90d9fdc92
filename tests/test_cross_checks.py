"""Rules between columns (resident ≤ registered, minority ≤ registered, passed ≤ took part ≤ required) are
checked against the data as the commit will leave it: the stored current values merged with the file's.

The seed holds 西堡镇 2024: 户籍人口 25,218, 常住人口 23,971, 少数民族人口 162.
"""

from __future__ import annotations

import pandas as pd
import pytest

from lawstats import cli, exchange, storage, uploads
from lawstats.errors import ValidationFailed
from lawstats.registry import TABLES_BY_ID


def inspect(store, text: str, name: str = "p.csv", **kw):
    return uploads.inspect_file(store, name, text.encode("utf-8"), **kw)


def refused(store, text: str, lang: str = "zh") -> pd.DataFrame:
    version = storage.data_version(store)
    with pytest.raises(ValidationFailed) as error:
        inspect(store, text)
    assert storage.data_version(store) == version  # nothing written
    return uploads.problems_table(error.value, lang)


@pytest.mark.parametrize("column, value", [("常住人口", "99999999"), ("少数民族人口", "30000")])
def test_a_figure_over_the_stored_registered_population_is_refused(fresh_store, column, value):
    table = refused(fresh_store, f"地区,年份,{column}\n西堡镇,2024,{value}\n")
    assert table["kind"].tolist() == ["exceeds_stored"]
    row = table.iloc[0]
    assert row["行"] == 2 and row["列"] == column and row["原始内容"] == f"{int(value):,}"
    assert "已存储的户籍人口为 25,218" in row["问题"] and f"{column} ≤ 户籍人口" in row["问题"]


def test_lowering_the_registered_population_under_stored_figures_is_refused(fresh_store):
    table = refused(fresh_store, "地区,年份,户籍人口\n西堡镇,2024,100\n")
    assert sorted(table["问题"].str.extract(r"：已存储的(\S+?)为 ")[0]) == ["少数民族人口", "常住人口"]
    assert set(table["列"]) == {"户籍人口"}


def test_a_blank_cell_keeps_the_stored_value_and_is_checked_against_it(fresh_store):
    table = refused(fresh_store, "地区,年份,户籍人口,常住人口\n西堡镇,2024,,30000\n")
    assert table["kind"].tolist() == ["exceeds_stored"] and table.iloc[0]["列"] == "常住人口"


def test_the_problem_names_the_stored_value_in_english_too(fresh_store):
    table = refused(fresh_store, "地区,年份,常住人口\n西堡镇,2024,99999999\n", lang="en")
    assert "Registered persons is stored as 25,218" in table.iloc[0]["Problem"]


def test_figures_that_fit_the_stored_ones_pass_and_other_years_have_nothing_stored(fresh_store):
    upload = inspect(fresh_store, "地区,年份,常住人口,少数民族人口\n西堡镇,2024,25000,200\n西堡镇,2023,99999999,5\n")
    assert upload.ready
    # both sides in the file: the file's own figures decide, whatever is stored
    assert inspect(fresh_store, "地区,年份,户籍人口,常住人口\n西堡镇,2024,40000,39000\n").ready


def test_training_rules_use_the_programme_key(fresh_store):
    uploads.commit_upload(fresh_store, inspect(
        fresh_store, "地区,年份,学习项目,应参加人数,实际参加人数\n西堡镇,2024,法宣在线考试,50,48\n"), user_name="测试")
    table = refused(fresh_store, "地区,年份,学习项目,及格人数\n西堡镇,2024,法宣在线考试,49\n")
    assert set(table["kind"]) == {"exceeds_stored"}
    assert any("已存储的实际参加人数为 48" in text for text in table["问题"])
    # another programme has nothing stored: nothing to contradict
    assert inspect(fresh_store, "地区,年份,学习项目,及格人数\n西堡镇,2024,学习强国,49\n").ready


def test_the_export_stays_importable_after_every_accepted_file(fresh_store, tmp_path):
    for text in ("地区,年份,常住人口\n西堡镇,2024,25000\n", "地区,年份,少数民族人口\n西堡镇,2024,300\n"):
        uploads.commit_upload(fresh_store, inspect(fresh_store, text), user_name="测试")
    exported = exchange.export_csv(fresh_store, "population")
    upload = uploads.inspect_file(fresh_store, "population.csv", exported)
    assert upload.ready
    rows = storage.table_as_of(fresh_store, TABLES_BY_ID["population"])
    assert (rows["resident_persons"] <= rows["registered_persons"]).all()


def test_the_cli_refuses_and_names_the_stored_value(tmp_path, capsys):
    db = str(tmp_path / "cli.duckdb")
    path = tmp_path / "常住.csv"
    path.write_bytes("地区,年份,常住人口\n西堡镇,2024,99999999\n".encode())
    assert cli.main(["--db", db, "import", str(path), "--dry-run"]) == 2
    assert "已存储的户籍人口为 25,218" in capsys.readouterr().err
    assert cli.main(["--db", db, "import", str(path)]) == 2
    store = storage.Store(db)
    assert storage.data_version(store) == 1
    store.close()


def test_a_rule_with_a_factor_allows_that_many_times_the_stored_figure(fresh_store, monkeypatch):
    from lawstats import registry

    monkeypatch.setattr(registry, "ROW_RULES", (("resident_persons", "registered_persons", 1.5),))
    assert inspect(fresh_store, "地区,年份,常住人口\n西堡镇,2024,37000\n").ready  # ≤ 25,218 × 1.5
    table = refused(fresh_store, "地区,年份,常住人口\n西堡镇,2024,38000\n")
    assert "常住人口 ≤ 户籍人口 × 1.5" in table.iloc[0]["问题"]
