"""The command line: a thin consumer of the library, on the same code paths as the pages.

    python -m lawstats init
    python -m lawstats indicators [--region NAME] [--year YEAR] [--format table|csv|json] [--lang zh|en]
"""

from __future__ import annotations

import argparse
import json
import sys

from lawstats import seed, storage, summary
from lawstats.errors import LawstatsError
from lawstats.i18n import t


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lawstats", description="乡镇统计看板 lawstats")
    parser.add_argument("--db", help="database file (default: $LAWSTATS_DB or data/lawstats.duckdb)")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="build or migrate the database from data/ (idempotent)")

    p = sub.add_parser("indicators", help="every indicator of a region and year")
    p.add_argument("--region", help="region name or statistical code (default: the township with data)")
    p.add_argument("--year", type=int, help="year (default: the latest with data)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except LawstatsError as e:
        print(e.message(args.lang), file=sys.stderr)
        if e.details is not None and len(e.details):
            print(e.details.to_csv(index=False), file=sys.stderr)
        return 2


def _store(args) -> storage.Store:
    return seed.open_store(args.db)


def cmd_init(args) -> int:
    store = _store(args)
    print(t("cli.init_done", args.lang, path=store.path, batches=len(storage.list_batches(store))))
    return 0


def resolve_region_year(store: storage.Store, region: str | None, year: int | None) -> tuple[int, int]:
    region_id = summary.find_region(store, region) if region else summary.default_region(store)
    if region_id is None:
        raise LawstatsError("app.no_data")
    years = storage.years_of(store, region_id)
    if year is None:
        if not years:
            raise LawstatsError("common.no_figures", region=region, year="", what="")
        year = years[-1]
    elif year not in years:
        raise LawstatsError("app.unknown_year", value=year)
    return region_id, year


def cmd_indicators(args) -> int:
    store = _store(args)
    region_id, year = resolve_region_year(store, args.region, args.year)
    table = summary.indicator_table(store, region_id, year, args.lang)
    out = table[["id", "label", "value", "unit"]].copy()
    out.insert(0, "year", year)
    out["value"] = out["value"].astype("float64").round(6)
    if args.format == "csv":
        sys.stdout.write(out.to_csv(index=False))
    elif args.format == "json":
        records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                   for r in out.to_dict(orient="records")]
        print(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        shown = table[["id", "label", "formatted"]]
        width = max(len(i) for i in shown["id"])
        for r in shown.itertuples(index=False):
            print(f"{r.id:<{width}}  {r.formatted:>16}  {r.label}")
    return 0


COMMANDS = {"init": cmd_init, "indicators": cmd_indicators}
