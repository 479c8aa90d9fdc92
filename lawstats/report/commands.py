"""The report commands of the CLI (``lawstats.cli`` registers them): ``extract`` and ``extract-eval``.

    python -m lawstats extract REPORT [--region R] [--year Y] [--format table|json|csv] [--encoding E]
    python -m lawstats extract-eval DIR [--figures CSV] [--threshold T] [--format table|json] [--details]
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from lawstats.errors import DatabaseError
from lawstats.i18n import t
from lawstats.report.documents import from_text, read_path
from lawstats.report.extract import CONFIDENCE_THRESHOLD, Extraction, Figure, extract

RECORD_FIELDS = ("measure", "value", "unit", "approx", "confidence", "accepted", "section", "sentence", "start",
                 "end", "raw", "phrase", "item", "qualifier", "change", "shared", "part_of")


def add_parsers(sub) -> None:
    p = sub.add_parser("extract", help="every figure of a township report (.txt/.docx/.pdf/.html, or - for stdin) "
                                       "with its measure, sentence and span; nothing is written")
    p.add_argument("report", metavar="REPORT", help="the report file, or - to read pasted text from stdin")
    p.add_argument("--region", help="the report's region (default: read from its title, matched against the "
                                    "regions of the database)")
    p.add_argument("--year", type=int, help="the report's year (default: read from its title)")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--encoding", help="the encoding of a .txt/.html file instead of detecting it")

    p = sub.add_parser("extract-eval", help="score the report extractor on a folder of report texts with gold "
                                            "figures read by hand: precision, recall, non-statistics proposed")
    p.add_argument("folder", metavar="DIR", help="a folder of <report_id>.txt files")
    p.add_argument("--figures", help="the gold figures CSV (report_id, value, unit, label, approx, statistic, "
                                     "measure_id; default: DIR/figures.csv)")
    p.add_argument("--threshold", type=float, default=0.0,
                   help=f"count only figures at or above this confidence (the import uses {CONFIDENCE_THRESHOLD})")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--details", action="store_true", help="list every missed gold figure and every wrong proposal")

    p = sub.add_parser("provenance", help="every value of a region and year imported from a report, with the "
                                          "document, section and sentence it came from")
    p.add_argument("--region", help="region name or code (default: the region the app opens on)")
    p.add_argument("--year", type=int, help="year (default: the latest with values)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")


def known_region_names(args) -> list[str]:
    """Region names of the database, if there is one (extract never creates a database)."""
    from lawstats import seed, storage

    setting = getattr(args, "store", None) or args.db or seed.default_store()
    if not seed.store_exists(setting):
        return []
    try:
        store = seed.open_store(setting, load_default=False)
        try:
            return [str(n) for n in storage.regions(store)["name"]]
        finally:
            store.close()
    except DatabaseError as e:  # locked by the app, say: the region is then proposed from the title
        print(e.message(args.lang), file=sys.stderr)
        return []


def cmd_extract(args) -> int:
    if args.report == "-":
        document = from_text(sys.stdin.read(), "stdin")
    else:
        document = read_path(args.report, args.encoding)
    extraction = extract(document.text, document.name, known_region_names(args), args.region, args.year)
    if args.format == "json":
        print(json.dumps(extraction_json(extraction), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        sys.stdout.write(extraction_csv(extraction))
    else:
        _print_table(extraction, args.lang)
    return 0


def figure_record(figure: Figure) -> dict:
    record = {name: getattr(figure, name) for name in RECORD_FIELDS}
    record["value"] = _plain_number(figure.value)
    return record


def extraction_json(extraction: Extraction) -> dict:
    return {"document": extraction.document, "region": extraction.region, "region_known": extraction.region_known,
            "county": extraction.county, "year": extraction.year,
            "figures": [figure_record(f) for f in extraction.figures]}


def extraction_csv(extraction: Extraction) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["region", "year", *RECORD_FIELDS], lineterminator="\n")
    writer.writeheader()
    for figure in extraction.figures:
        writer.writerow({"region": extraction.region or "", "year": extraction.year or "", **figure_record(figure)})
    return out.getvalue()


def _print_table(extraction: Extraction, lang: str) -> None:
    region = extraction.region or t("report.not_found", lang)
    state = t("report.region_known" if extraction.region_known else "report.region_new", lang)
    print(t("report.extract_head", lang, document=extraction.document, region=region, state=state,
            year=extraction.year or "—"))
    print(t("report.extract_counts", lang, total=len(extraction.figures), mapped=len(extraction.mapped),
            threshold=CONFIDENCE_THRESHOLD, accepted=sum(1 for f in extraction.figures if f.accepted),
            unmapped=len(extraction.unmapped)))
    header = ("measure", "value", "unit", "approx", "conf", "span", "section", "sentence")
    print("\t".join(header))
    for f in extraction.figures:
        flags = "≈" if f.approx else ""
        flags += " Δ" if f.change else ""
        print("\t".join([f.measure or "null", _plain_number(f.value).__str__(), f.unit, flags.strip() or "-",
                         f"{f.confidence:.2f}", f"{f.start}-{f.end}", f.section or "-", f.sentence]))


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 6)


def cmd_extract_eval(args) -> int:
    from lawstats.report.evaluate import evaluate

    score = evaluate(args.folder, args.figures, args.threshold)
    if args.format == "json":
        print(json.dumps(score_json(score), ensure_ascii=False, indent=2))
        return 0
    print("report\tgold\tfound\tproposed\tcorrect\tnon_statistics\tunmapped")
    for r in score.reports:
        print(f"{r.report}\t{len(r.gold)}\t{len(r.found)}\t{len(r.proposed)}\t{len(r.correct)}\t"
              f"{len(r.non_statistics)}\t{r.unmapped}")
    print(t("report.eval_totals", args.lang, reports=len(score.reports), precision=score.precision,
            correct=score.correct, proposed=score.proposed, recall=score.recall, found=score.found, gold=score.gold,
            non_statistics=score.non_statistics))
    if args.details:
        for r in score.reports:
            for g in r.missed:
                print(f"missed\t{r.report}\t{g.measure}\t{_plain_number(g.value)}\t{g.label}")
            for f in r.wrong:
                kind = "non-statistic" if f in r.non_statistics else "wrong"
                print(f"{kind}\t{r.report}\t{f.measure}\t{_plain_number(f.value)}\t{f.raw}\t{f.sentence}")
    return 0


def score_json(score) -> dict:
    return {"reports": len(score.reports), "precision": score.precision, "recall": score.recall,
            "proposed": score.proposed, "correct": score.correct, "gold": score.gold, "found": score.found,
            "non_statistics": score.non_statistics,
            "per_report": [{"report": r.report, "gold": len(r.gold), "found": len(r.found),
                            "proposed": len(r.proposed), "correct": len(r.correct),
                            "non_statistics": len(r.non_statistics), "unmapped": r.unmapped} for r in score.reports]}


def cmd_provenance(args) -> int:
    """The values of a region and year that came from a report, each with its sentence."""
    from lawstats import cli, storage, summary
    from lawstats.errors import LawstatsError
    from lawstats.report.sentences import FIELDS, values_with_sentences

    store = cli._store(args)
    region_id = summary.find_region(store, args.region) if args.region else summary.default_region(store)
    if region_id is None:
        raise LawstatsError("cli.no_data", path=store.path)
    name = (storage.region_info(store, region_id) or {}).get("name") or args.region
    years = storage.measure_years(store, region_id)
    year = args.year if args.year is not None else (years[-1] if years else None)
    if year is None or year not in years:
        raise LawstatsError("cli.unknown_year", region=name, year=year or "—", years=", ".join(map(str, years)) or "—")
    frame = values_with_sentences(store, region_id, year, args.lang)
    if args.format == "csv":
        out = frame.copy()
        out.insert(0, "year", year)
        out.insert(0, "region", name)
        sys.stdout.write(out.to_csv(index=False))
    elif args.format == "json":
        records = [{k: (_plain_number(v) if isinstance(v, float) else v) for k, v in r.items()}
                   for r in frame[list(FIELDS)].to_dict(orient="records")]
        print(json.dumps({"region": name, "year": year, "values": records}, ensure_ascii=False, indent=2))
    elif frame.empty:
        print(t("sentences.none", args.lang, region=name, year=year))
    else:
        print(t("sentences.caption", args.lang, region=name, year=year))
        for r in frame.itertuples(index=False):
            value = _plain_number(r.value) if isinstance(r.value, float) else r.value
            print("\t".join([r.measure_id, r.item or "-", f"{value}{'≈' if r.approx else ''}", r.unit or "-",
                             str(r.source), r.section or "-", r.sentence]))
    return 0


COMMANDS = {"extract": cmd_extract, "extract-eval": cmd_extract_eval, "provenance": cmd_provenance}


# ---------------------------------------------------------------------------------------------------------
# import REPORT: the `import` command hands a report file here (lawstats.cli.cmd_import)

REPORT_SUFFIXES = (".docx", ".pdf", ".html", ".htm", ".doc", ".wps")


def is_report(paths: list[str]) -> bool:
    """One report file: .docx/.pdf/.html (or an old .doc/.wps, refused with its sentence later), or a .txt whose
    first line is not a table header (地区/名称 with separators)."""
    if len(paths) != 1 or not Path(paths[0]).is_file():
        return False
    path = Path(paths[0])
    suffix = path.suffix.lower()
    if suffix in REPORT_SUFFIXES:
        return True
    if suffix != ".txt":
        return False
    with open(path, "rb") as f:
        head = f.read(4096)
    return not any(_header_line(head.decode(encoding, "ignore")) for encoding in ("utf-8", "gb18030", "utf-16"))


def _header_line(text: str) -> bool:
    """A template's header (地区,年份,… or 名称\t级别…) as the first line: a table, not a report."""
    first = next((line for line in text.lstrip("\ufeff").splitlines() if line.strip()), "")
    return any(n in first for n in ("地区", "名称", "region", "年份")) and any(c in first for c in ",\t，")


def cmd_import_report(args) -> int:
    """Import the accepted figures of a report as one batch; print what is left out, and why."""
    from lawstats import cli, uploads
    from lawstats.errors import LawstatsError, ValidationFailed
    from lawstats.report import importing

    document = read_path(args.paths[0], args.encoding)  # before the store: an unreadable file creates nothing
    store = cli._store(args, writing=True)
    regions = [str(n) for n in storage_regions(store)]
    extraction = extract(document.text, document.name, regions, args.region, args.year)
    if not extraction.region:
        raise LawstatsError("report.no_region")
    if extraction.year is None:
        raise LawstatsError("report.no_year")
    report_plan = importing.plan(extraction, extraction.region, extraction.year)
    threshold = CONFIDENCE_THRESHOLD
    if not report_plan.taken:
        print(t("report.import_nothing", args.lang, threshold=threshold), file=sys.stderr)
        _print_left(report_plan, args.lang, sys.stderr)
        return 2
    try:
        upload = importing.inspect(store, extraction, report_plan, new_region_parent=cli._parent(store, args),
                                   lang=args.lang, with_preview=args.dry_run)
        uploads.require_ready(upload)
    except ValidationFailed as error:
        cli._print_problems(error, args.lang)
        if error.key == "error.unknown_regions":
            print(t("cli.unknown_regions_hint", args.lang), file=sys.stderr)
        return 2
    print(t("report.import_plan", args.lang, document=document.name, region=extraction.region,
            year=extraction.year, taken=len(report_plan.taken), threshold=threshold, left=len(report_plan.left)))
    print(t("report.import_counts", args.lang, **report_plan.counts()))
    for table_id, figure in report_plan.taken:
        print("\t".join(["+", table_id, figure.measure, str(_plain_number(figure.value)), figure.unit,
                         "≈" if figure.approx else "-", figure.section or "-", figure.sentence]))
    _print_left(report_plan, args.lang, sys.stdout)
    rows = importing.rows_text(upload, args.lang)
    if args.dry_run:
        cli.print_preview_counts(upload, args.lang)
        print(t("cli.dry_run_ok", args.lang, rows=rows))
        return 0
    batch_id = importing.commit(store, upload, extraction, report_plan, user_name=cli._user(args), note=args.note,
                                new_region_parent=cli._parent(store, args))
    print(t("cli.import_done", args.lang, batch=batch_id, rows=rows))
    return 0


def storage_regions(store) -> list[str]:
    from lawstats import storage

    return list(storage.regions(store)["name"])


def _print_left(report_plan, lang: str, out) -> None:
    for reason, figure in report_plan.left:
        print("\t".join(["-", t(f"report.left.{reason}", lang), figure.measure or "null",
                         str(_plain_number(figure.value)), figure.unit, figure.sentence]), file=out)
