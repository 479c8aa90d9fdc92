"""The command line: a thin consumer of the library, on the same code paths as the pages.

    python -m lawstats init
    python -m lawstats indicators [--region NAME] [--year YEAR] [--format table|csv|json] [--lang zh|en]
    python -m lawstats adduser NAME [--password-stdin] [--replace] [--users FILE]
    python -m lawstats import FILE_OR_DIR... [--table T] [--encoding E] [--sheet S] [--dry-run] [--note TEXT]
                                            [--user NAME] [--create-regions-under REGION] [--batch-per-file]
    python -m lawstats history | undo BATCH | export DIR --format xlsx|csv|parquet
    python -m lawstats template TABLE --format csv|xlsx [--out FILE]
    python -m lawstats deck OUT.pptx [--region NAME] [--year YEAR] [--lang zh|en] [--slides title,kpis,...]
    python -m lawstats synth OUT_DIR --scale county|province|national [--years 2015-2024] [--seed N]
    python -m lawstats bench --scale county|province|national [--json FILE] [--repeats N] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lawstats import seed, storage, summary
from lawstats.errors import LawstatsError
from lawstats.i18n import t


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lawstats", description="乡镇统计看板 lawstats")
    parser.add_argument("--db", help="database file (default: $LAWSTATS_DB or data/lawstats.duckdb)")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    parser.add_argument("--no-seed", action="store_true",
                        help="a new database starts empty instead of with the default data of data/")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="build or migrate the database from data/ (idempotent)")

    p = sub.add_parser("indicators", help="every indicator of a region and year")
    p.add_argument("--region", help="region name or statistical code (default: the township with data)")
    p.add_argument("--year", type=int, help="year (default: the latest with data)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")

    p = sub.add_parser("adduser", help="create an analyst account (or set a new password with --replace)")
    p.add_argument("name", help="user name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--replace", action="store_true", help="set a new password for an existing analyst")
    p.add_argument("--users", help="users file (default: $LAWSTATS_USERS or ~/.config/lawstats/users.toml)")
    _add_data_update_commands(sub)
    _add_deck_command(sub)
    _add_scale_commands(sub)
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
    return seed.open_store(args.db, load_default=not args.no_seed)


def cmd_init(args) -> int:
    store = _store(args)
    print(t("cli.init_done", args.lang, path=store.path, batches=len(storage.list_batches(store))))
    return 0


def resolve_region_year(store: storage.Store, region: str | None, year: int | None) -> tuple[int, int]:
    region_id = summary.find_region(store, region) if region else summary.default_region(store)
    if region_id is None:
        raise LawstatsError("app.no_data")
    years = storage.effective_years(store, region_id)  # its own figures or those rolled up from its children
    if year is None:
        if not years:
            raise LawstatsError("error.region_has_no_figures", region=region)
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


def cmd_adduser(args) -> int:
    """Create an analyst; the password comes from a hidden prompt (twice) or, for scripts, stdin."""
    import getpass

    from lawstats import auth

    path = auth.users_path(args.users)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(t("auth.prompt_password", args.lang, name=args.name))
        if getpass.getpass(t("auth.prompt_again", args.lang)) != password:
            raise LawstatsError("auth.passwords_differ")
    name = auth.UserStore(path).add(args.name, password, replace_existing=args.replace)
    print(t("auth.password_set" if args.replace else "auth.user_added", args.lang, name=name, path=path))
    return 0


COMMANDS = {"init": cmd_init, "adduser": cmd_adduser, "indicators": cmd_indicators}


# --- data updates: import, history, undo, export, template (lawstats.uploads, lawstats.exchange) ---


def _add_data_update_commands(sub) -> None:
    p = sub.add_parser("import", help="validate and import CSV/XLSX files (a folder: all its files as one batch)")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    p.add_argument("--table", help="the table (id or name) instead of recognising it from the headers")
    p.add_argument("--encoding", help="the file encoding instead of detecting it (utf-8, gb18030, utf-16...)")
    p.add_argument("--sheet", help="the XLSX sheet to read (default: the first with a recognised header)")
    p.add_argument("--dry-run", action="store_true", help="validate and show the preview; write nothing")
    p.add_argument("--note", help="a note recorded with the batch")
    p.add_argument("--user", help="who imports (default: the login name)")
    p.add_argument("--create-regions-under", metavar="REGION",
                   help="create regions the store does not know under this region (name or code)")
    p.add_argument("--batch-per-file", action="store_true",
                   help="one batch per file (regions first), each read only when imported: less memory")
    p.add_argument("--source", help="the source recorded with the batch (default: the file names); "
                                    "one that says 合成数据 or synthetic marks the batch synthetic")

    sub.add_parser("history", help="every batch and undo event, newest first (one line each, batch id first)")

    p = sub.add_parser("undo", help="undo an import batch (recorded as a new event; nothing is deleted)")
    p.add_argument("batch", type=int)
    p.add_argument("--user", help="who undoes (default: the login name)")
    p.add_argument("--note", help="why")

    p = sub.add_parser("export", help="export the current data")
    p.add_argument("directory")
    p.add_argument("--format", choices=["xlsx", "csv", "parquet"], default="xlsx")

    p = sub.add_parser("template", help="write an upload template")
    p.add_argument("table", help="table id or name (population, 人口, regions...)")
    p.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
    p.add_argument("--out", help="output file (default: template_<table>.<format>; - for stdout)")


IMPORT_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")


def _expand_paths(paths: list[str]) -> list:
    """The files to import: each FILE, and every CSV/XLSX directly inside each DIR (sorted by name)."""
    found = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMPORT_SUFFIXES)
            if not inside:
                raise LawstatsError("error.folder_empty", path=str(path))
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise LawstatsError("error.not_a_folder_file", path=str(path))
    return found


def _import_files(paths: list[str]) -> list[tuple[str, Path]]:
    """The files to import as (name, path): each is read when the importer reaches it, a large CSV a chunk
    at a time."""
    return [(p.name, p) for p in _expand_paths(paths)]


def _import_paths(paths: list[str]) -> list:
    """The files to import, regions files first, as paths: each is read when its own batch is imported."""
    from lawstats import importer

    return sorted(_expand_paths(paths), key=lambda p: p.stem.lower() != importer.REGIONS)  # stable


def _user(args) -> str:
    import getpass

    if args.user:
        return args.user
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _print_problems(error: LawstatsError, lang: str) -> None:
    from lawstats import uploads

    print(error.message(lang), file=sys.stderr)
    table = uploads.problems_table(error, lang)
    if len(table):
        sys.stderr.write(table.to_csv(index=False))


def cmd_import(args) -> int:
    """Validate (and unless --dry-run, commit) files as one batch: exit 0, or 2 with the problem table."""
    if args.batch_per_file and not args.dry_run:  # a dry run checks the files together, as one batch
        return _import_each_file(args)
    files = _import_files(args.paths)  # before the store: a wrong path creates no database
    store = _store(args)
    return _import_batch(store, args, files, _parent(store, args))


def _import_each_file(args) -> int:
    """``import --batch-per-file``: every file its own batch, committed before the next file is
    read, so one file's rows are in memory at a time. Stops at the first file that fails; the
    batches before it stay committed (each may be undone on its own)."""
    paths = _import_paths(args.paths)
    store = _store(args)
    parent = _parent(store, args)
    for path in paths:
        code = _import_batch(store, args, [(path.name, path)], parent, name_the_file=True)
        if code != 0:
            return code
    return 0


def _parent(store: storage.Store, args) -> int | None:
    return summary.find_region(store, args.create_regions_under) if args.create_regions_under else None


def _import_batch(store: storage.Store, args, files: list[tuple[str, Path]], parent: int | None, *,
                  name_the_file: bool = False) -> int:
    """``files`` as one batch on an open store: problems to stderr (exit 2), notices, then the commit."""
    from lawstats import uploads
    from lawstats.errors import ValidationFailed

    try:
        upload = uploads.inspect_files(store, files, encoding=args.encoding, sheet=args.sheet, table=args.table,
                                       new_region_parent=parent, lang=args.lang, with_preview=args.dry_run,
                                       source=args.source, max_bytes=uploads.MAX_LOCAL_BYTES)
        uploads.require_ready(upload)
    except ValidationFailed as error:
        if name_the_file:
            print(files[0][0], file=sys.stderr)
        _print_problems(error, args.lang)
        if error.key == "error.unknown_regions":
            print(t("cli.unknown_regions_hint", args.lang), file=sys.stderr)
        return 2
    for text in upload.notice_texts(args.lang):
        print(text)
    if upload.duplicate_of is not None:
        print(t("notice.duplicate_upload", args.lang, batch=upload.duplicate_of))
    if upload.new_regions:
        print(t("notice.regions_to_create", args.lang, count=len(upload.new_regions),
                names="、".join(upload.new_regions[:20])))
    rows = uploads.row_counts_text(uploads.batch_row_counts(upload), args.lang)
    if args.dry_run:
        for preview in upload.preview.values():
            print(t("cli.preview_table", args.lang, table=preview.label, new=preview.new_count,
                    changed=preview.changed_count, unchanged=preview.unchanged))
        print(t("cli.dry_run_ok", args.lang, rows=rows))
        return 0
    uploads.release_sources(upload)  # this process holds the database alone: the texts are not needed now
    batch_id = uploads.commit_upload(store, upload, user_name=_user(args), note=args.note)
    print(t("cli.import_done", args.lang, batch=batch_id, rows=rows))
    del upload
    uploads.return_freed_memory()  # a next file starts from what the store needs, not this file's peak
    return 0


def cmd_history(args) -> int:
    from lawstats import uploads

    frame = uploads.history(_store(args))
    if frame.empty:
        print(t("cli.history_empty", args.lang))
    for r in frame.itertuples(index=False):
        status = uploads._status(r, args.lang)
        fields = [str(r.batch_id), t(f"upload.kind_{r.kind}", args.lang), str(r.created_at), _cell(r.user_name),
                  _cell(r.file_name), uploads.row_counts_text(r.row_counts, args.lang), status, _cell(r.note)]
        print("\t".join(fields))
    return 0


def _cell(value) -> str:
    return "" if value is None or value != value else str(value)


def cmd_undo(args) -> int:
    from lawstats import uploads

    event = uploads.undo(_store(args), args.batch, user_name=_user(args), note=args.note)
    print(t("cli.undo_done", args.lang, batch=args.batch, event=event))
    return 0


def cmd_export(args) -> int:
    from datetime import date

    from lawstats import exchange

    store = _store(args)
    directory = Path(args.directory)
    if args.format == "xlsx":
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"lawstats_{date.today().isoformat()}.xlsx"
        path.write_bytes(exchange.export_xlsx(store, args.lang))
        written = [path]
    elif args.format == "csv":
        written = exchange.export_csv_files(store, directory, args.lang)
    else:
        written = exchange.export_parquet(store, directory)
    print(t("cli.export_done", args.lang, count=len(written), path=directory))
    return 0


def cmd_template(args) -> int:
    from lawstats import exchange, importer

    table_id = importer.table_id_of(args.table)
    data = exchange.template_csv(table_id, args.lang) if args.format == "csv" else \
        exchange.template_xlsx(table_id, args.lang)
    if args.out == "-":
        sys.stdout.buffer.write(data)
        return 0
    path = Path(args.out or f"template_{table_id}.{args.format}")
    path.write_bytes(data)
    print(t("cli.template_done", args.lang, path=path))
    return 0


COMMANDS.update({"import": cmd_import, "history": cmd_history, "undo": cmd_undo, "export": cmd_export,
                 "template": cmd_template})


# ---------------------------------------------------------------------------------------------------------
# deck: the presentation's slides as a PowerPoint file (lawstats.slides, lawstats.deck)


def _add_deck_command(sub) -> None:
    from lawstats.slides import SECTIONS

    p = sub.add_parser("deck", help="the presentation's slides as a 16:9 PowerPoint file with native charts")
    p.add_argument("out", help="the .pptx file to write")
    p.add_argument("--region", help="region name or statistical code (default: the township with data)")
    p.add_argument("--year", type=int, help="year (default: the latest with data)")
    # SUPPRESS: without --lang here, the global --lang (before the command) stays in force
    p.add_argument("--lang", choices=["zh", "en"], default=argparse.SUPPRESS)
    p.add_argument("--slides", help="comma-separated sections to include (default: all): " + ",".join(SECTIONS))


def cmd_deck(args) -> int:
    from lawstats import deck, slides

    sections = slides.parse_sections(args.slides)
    store = _store(args)
    region_id, year = resolve_region_year(store, args.region, args.year)
    built = slides.build(store, region_id, year, args.lang)
    if sections is not None:
        built = built.only(sections)
    deck.write_pptx(built, args.out)
    print(t("cli.deck_done", args.lang, path=args.out, slides=len(built.slides), region=built.region, year=year))
    return 0


COMMANDS["deck"] = cmd_deck


# --- scale: synthetic data and the benchmark (lawstats.synth, bench/scale.py) ---


def _add_scale_commands(sub) -> None:
    p = sub.add_parser("synth", help="write synthetic test data (labelled synthetic) as upload-template CSVs")
    p.add_argument("out_dir")
    p.add_argument("--scale", choices=["county", "province", "national"], default="county")
    p.add_argument("--years", default="2015-2024", help="a year or a range such as 2015-2024")
    p.add_argument("--seed", type=int, default=1)

    p = sub.add_parser("bench", help="load synthetic data and time the queries behind every page")
    p.add_argument("--scale", choices=["county", "province", "national"], default="county")
    p.add_argument("--json", help="write one record per measurement to this file")
    p.add_argument("--repeats", type=int, default=30, help="timed runs per query (after one warm-up)")
    p.add_argument("--baseline-repeats", type=int, default=3, help="runs of each naive pandas baseline")
    p.add_argument("--page-repeats", type=int, default=10, help="warm AppTest reruns per page")
    p.add_argument("--workdir", help="where the data and database go (default: a new temporary folder)")
    p.add_argument("--reuse", action="store_true", help="reuse the database already in --workdir (no import)")
    p.add_argument("--seed", type=int, default=1)


def cmd_synth(args) -> int:
    from lawstats import synth

    counts = synth.generate(args.out_dir, args.scale, synth.parse_years(args.years), args.seed)
    print(t("cli.synth_done", args.lang, path=args.out_dir,
            rows="、".join(f"{name} {rows:,}" for name, rows in counts.items())))
    return 0


def cmd_bench(args) -> int:
    from lawstats.seed import PROJECT_ROOT

    if str(PROJECT_ROOT) not in sys.path:  # bench/ sits beside the package, not inside it
        sys.path.insert(0, str(PROJECT_ROOT))
    from bench import scale

    records = scale.run(args.scale, args.json, repeats=args.repeats, baseline_repeats=args.baseline_repeats,
                        page_repeats=args.page_repeats, workdir=args.workdir, reuse=args.reuse, seed=args.seed)
    print("\n".join(scale.summary_lines(records)))
    print(t("cli.bench_done", args.lang, count=len(records), json=f" → {args.json}" if args.json else ""))
    return 0


COMMANDS.update({"synth": cmd_synth, "bench": cmd_bench})
