"""The command line: a thin consumer of the library, on the same code paths as the pages.

    python -m lawstats init [--restore-default]
    python -m lawstats indicators [--region NAME] [--year YEAR] [--format table|csv|json] [--lang zh|en]
    python -m lawstats adduser NAME [--password-stdin] [--replace] [--users FILE]
    python -m lawstats import FILE_OR_DIR... [--table T] [--encoding E] [--sheet S] [--dry-run] [--note TEXT]
                                            [--user NAME] [--create-regions-under REGION] [--batch-per-file]
                                            [--skip-columns COL1,COL2] [--skip-unknown-columns]
    python -m lawstats history | undo BATCH [--with-dependents] | export DIR --format xlsx|csv|parquet
    python -m lawstats template TABLE --format csv|xlsx [--out FILE]
    python -m lawstats deck OUT.pptx [--region NAME] [--year YEAR] [--lang zh|en] [--slides title,kpis,...]
    python -m lawstats synth OUT_DIR --scale county|province|national [--years 2015-2024] [--seed N]
    python -m lawstats bench --scale county|province|national [--json FILE] [--repeats N] [--workdir DIR]
    python -m lawstats catalogue [--format table|csv|json]
    python -m lawstats migrate-store FROM TO | housekeeping [--keep-hours H]      (--store: which store)
    python -m lawstats extract REPORT [--region R] [--year Y] [--format table|json|csv] [--encoding E]
    python -m lawstats extract-eval DIR [--figures CSV] [--threshold T] [--format table|json] [--details]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lawstats import lake, seed, storage, summary
from lawstats.errors import LawstatsError
from lawstats.i18n import t


# How a person names a region (lawstats.region_lookup); a name several regions share is refused with the list.
REGION_HELP = ("region: a name (新华乡), a name with its parents (腾冲市新华乡, 云南省/保山市/腾冲市/新华乡) or a division "
               "code (530581); default: the township with data")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lawstats", description="乡镇统计看板 lawstats")
    parser.add_argument("--db", help="a DuckDB database file (default: $LAWSTATS_DB)")
    parser.add_argument("--store", help="the store: a DuckDB file, ducklake:sqlite:CATALOG_FILE or "
                        "ducklake:postgres:DSN (default: $LAWSTATS_STORE, else --db, else the lake "
                        "data/lawstats.sqlite)")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    parser.add_argument("--no-seed", action="store_true",
                        help="a new database starts empty instead of with the default data of data/")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="build or migrate the database from data/ (idempotent) and say what it holds")
    p.add_argument("--restore-default", action="store_true",
                   help="load the default data of data/ again after its batch was undone")

    p = sub.add_parser("indicators", help="every indicator of a region and year")
    p.add_argument("--region", help=REGION_HELP)
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
    _add_catalogue_command(sub)
    _add_store_commands(sub)
    _add_report_commands(sub)
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


def _store(args, *, writing: bool = False) -> storage.Store:
    """The database a command works on. A reading command never creates a folder (a ``--db`` in a missing
    folder is more often a typo than a wish); whatever is created is said on stderr (stdout may be CSV or
    JSON). A writing command on a read-only database is refused before any file is read."""
    from lawstats.errors import DatabaseError

    setting = args.store or args.db or seed.default_store()
    if lake.store_spec(setting).is_lake:
        return seed.open_store(setting, load_default=not args.no_seed)  # a lake makes its own folders
    path = Path(setting)
    if not writing and not path.parent.is_dir():
        raise LawstatsError("cli.db_folder_missing", folder=str(path.parent), path=str(path))
    new_folder, new_file = not path.parent.exists(), not path.exists()
    store = seed.open_store(path, load_default=not args.no_seed)
    if writing and store.read_only:
        raise DatabaseError("error.db_read_only", path=store.path)
    if store.repaired:
        print(t("store.repaired", args.lang), file=sys.stderr)
    if new_folder:
        print(t("cli.folder_created", args.lang, folder=path.parent), file=sys.stderr)
    if new_file:
        version = storage.data_version(store)
        print(t("cli.db_created", args.lang, path=path, batch=version) if version else
              t("cli.db_created_empty", args.lang, path=path), file=sys.stderr)
    return store


def cmd_init(args) -> int:
    """Build or migrate the database and say what it holds: how many batches count, and whether the default
    data was undone (``--restore-default`` loads it again)."""
    store = _store(args, writing=True)
    if args.restore_default:
        restored = seed.restore_default(store)
        default, _ = seed.default_data_state(store)
        print(t("cli.default_restored", args.lang, batch=restored) if restored else
              t("cli.default_in_effect", args.lang, batch=default))
    batches = storage.list_batches(store)
    active = int(((batches["kind"] == "import") & ~batches["undone"].astype(bool)).sum())
    print(t("cli.init_done", args.lang, path=store.path, active=active, batches=len(batches)))
    default, undone_by = seed.default_data_state(store)
    if undone_by is not None:
        print(t("cli.default_undone", args.lang, batch=default, event=undone_by))
    if len(batches) and not active:
        print(t("cli.no_active_data", args.lang))
    return 0


def resolve_region_year(store: storage.Store, region: str | None, year: int | None) -> tuple[int, int]:
    region_id = summary.find_region(store, region) if region else summary.default_region(store)
    if region_id is None:
        raise LawstatsError("cli.no_data", path=store.path)
    years = _indicator_years(store, region_id)
    name = (storage.region_info(store, region_id) or {}).get("name") or region
    if year is None:
        if not years:
            raise LawstatsError("cli.region_without_indicators", region=name)
        year = years[-1]
    elif year not in years:
        raise LawstatsError("cli.unknown_year", region=name, year=year, years=", ".join(map(str, years)) or "—")
    return region_id, year


def _indicator_years(store: storage.Store, region_id: int) -> list[int]:
    """The years whose indicators can be computed: own figures, or complete sums of the subdivisions (a year
    where only some subdivisions report has rollup rows but no indicators)."""
    _, values, _ = summary.region_values(store, region_id)
    return sorted(int(y) for y in values["year"].unique())


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
        auth.check_new_password(password, auth.normalise_name(args.name))  # say why before asking again
        if getpass.getpass(t("auth.prompt_again", args.lang)) != password:
            raise LawstatsError("auth.passwords_differ")
    name = auth.UserStore(path).add(args.name, password, replace_existing=args.replace)
    print(t("auth.password_set" if args.replace else "auth.user_added", args.lang, name=name, path=path))
    return 0


COMMANDS = {"init": cmd_init, "adduser": cmd_adduser, "indicators": cmd_indicators}


# --- data updates: import, history, undo, export, template (lawstats.uploads, lawstats.exchange) ---


def _add_data_update_commands(sub) -> None:
    p = sub.add_parser("import", help="validate and import CSV/XLSX files (a folder: all its files as one batch), or "
                                      "the figures of one report (.docx/.pdf/.html/.txt)")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    p.add_argument("--table", help="the table (id or name) instead of recognising it from the headers")
    p.add_argument("--encoding", help="the file encoding instead of detecting it (utf-8, gb18030, utf-16...)")
    p.add_argument("--sheet", help="the XLSX sheet to read (default: every sheet that holds a table, "
                                   "each matched to its table, in one batch)")
    p.add_argument("--dry-run", action="store_true", help="validate and show the preview; write nothing")
    p.add_argument("--note", help="a note recorded with the batch")
    p.add_argument("--user", help="who imports (default: the login name)")
    p.add_argument("--create-regions-under", metavar="REGION",
                   help="create regions the store does not know under this region (name or code)")
    p.add_argument("--batch-per-file", action="store_true",
                   help="one batch per file (regions first), each read only when imported: less memory")
    p.add_argument("--source", help="the source recorded with the batch (default: the file names); "
                                    "one that says 合成数据 or synthetic marks the batch synthetic")
    p.add_argument("--skip-columns", metavar="COL1,COL2",
                   help="leave these columns out (comma-separated headers); a file with a column it does not "
                        "recognise is refused unless that column is skipped")
    p.add_argument("--skip-unknown-columns", action="store_true",
                   help="leave out every column that is not recognised (they are still listed)")
    p.add_argument("--region", help="a report's region (default: read from its title; see extract)")
    p.add_argument("--year", type=int, help="a report's year (default: read from its title)")

    sub.add_parser("history", help="every batch and undo event, newest first (one line each, batch id first)")

    p = sub.add_parser("undo", help="undo an import batch (recorded as a new event; nothing is deleted)")
    p.add_argument("batch", type=int)
    p.add_argument("--user", help="who undoes (default: the login name)")
    p.add_argument("--note", help="why")
    p.add_argument("--with-dependents", action="store_true",
                   help="also undo the later batches whose rows or regions sit in regions this batch created")

    p = sub.add_parser("export", help="export the current data")
    p.add_argument("directory")
    p.add_argument("--format", choices=["xlsx", "csv", "parquet"], default="xlsx")

    p = sub.add_parser("template", help="write an upload template")
    p.add_argument("table", help="table id or name (population, 人口, regions...), or a catalogue domain's id or "
                                 "name (publicity, 普法宣传...)")
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
    from lawstats.report import commands as report_commands

    if report_commands.is_report(args.paths):
        return report_commands.cmd_import_report(args)
    if args.batch_per_file and not args.dry_run:  # a dry run checks the files together, as one batch
        return _import_each_file(args)
    files = _import_files(args.paths)  # before the store: a wrong path creates no database
    store = _store(args, writing=True)
    return _import_batch(store, args, files, _parent(store, args))


def _import_each_file(args) -> int:
    """``import --batch-per-file``: every file its own batch, committed before the next file is
    read, so one file's rows are in memory at a time. Stops at the first file that fails; the
    batches before it stay committed (each may be undone on its own)."""
    paths = _import_paths(args.paths)
    store = _store(args, writing=True)
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
                                       source=args.source, max_bytes=uploads.MAX_LOCAL_BYTES,
                                       skip_columns=_skip_columns(args))
        uploads.require_ready(upload)
    except ValidationFailed as error:
        if name_the_file:
            print(files[0][0], file=sys.stderr)
        _print_problems(error, args.lang)
        if error.key == "error.unknown_regions":
            print(t("cli.unknown_regions_hint", args.lang), file=sys.stderr)
        return 2
    if not _columns_accounted_for(upload, args):
        return 2
    for sheet, table_id, count in upload.parts if upload.sheets and upload.sheet is None else ():
        print(t("cli.sheet_report", args.lang, sheet=sheet, table=_table_label(table_id, args.lang), rows=count))
    for text in upload.notice_texts(args.lang):
        print(text)
    if upload.duplicate_of is not None:
        print(t("notice.duplicate_upload", args.lang, batch=upload.duplicate_of))
    if upload.new_regions:
        print(t("notice.regions_to_create", args.lang, count=len(upload.new_regions),
                names="、".join(upload.new_regions[:20])))
    rows = uploads.row_counts_text(uploads.batch_row_counts(upload), args.lang)
    if args.dry_run:
        print_preview_counts(upload, args.lang)
        print(t("cli.dry_run_ok", args.lang, rows=rows))
        return 0
    uploads.release_sources(upload)  # this process holds the database alone: the texts are not needed now
    batch_id = uploads.commit_upload(store, upload, user_name=_user(args), note=args.note)
    print(t("cli.import_done", args.lang, batch=batch_id, rows=rows))
    del upload
    uploads.return_freed_memory()  # a next file starts from what the store needs, not this file's peak
    return 0


def _skip_columns(args) -> tuple[str, ...]:
    """``--skip-columns 备注,负责人`` (full-width commas too) as a tuple of headers."""
    import re

    return tuple(c.strip() for c in re.split(r"[,，]", args.skip_columns or "") if c.strip())


def _table_label(table_id: str, lang: str) -> str:
    from lawstats import uploads

    return uploads.table_label(table_id, lang)


def _columns_accounted_for(upload, args) -> bool:
    """Columns are never dropped unseen: the skipped ones are said, unrecognised ones listed (a bounded
    list) and, unless ``--skip-unknown-columns``, the import refused (exit 2), a dry run too."""
    from lawstats import uploads

    for file, columns in upload.skipped_by_file.items():
        print(t("cli.columns_skipped", args.lang, file=file, count=f"{len(columns):,}",
                columns=uploads.columns_text(columns, args.lang)))
    for file, columns in upload.measure_columns.items():  # stored as catalogue measures, said so
        print(t("cli.measure_columns", args.lang, file=file, columns=uploads.measure_columns_text(columns, args.lang)))
    out = sys.stdout if args.skip_unknown_columns else sys.stderr
    for file, (table_id, columns) in upload.unknown_by_file.items():
        print(t("cli.unknown_columns", args.lang, file=file, count=f"{len(columns):,}",
                table=_table_label(table_id, args.lang), columns=uploads.columns_text(columns, args.lang)), file=out)
    if upload.unknown_by_file and not args.skip_unknown_columns:
        print(t("cli.unknown_columns_refused", args.lang), file=sys.stderr)
        return False
    return True


def print_preview_counts(upload, lang: str) -> None:
    """A dry run's answer per table: how many rows are new, changed and unchanged."""
    for preview in upload.preview.values():
        print(t("cli.preview_table", lang, table=preview.label, new=preview.new_count,
                changed=preview.changed_count, unchanged=preview.unchanged))


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
    """Undo a batch; one whose regions later batches use is refused with their list, unless
    ``--with-dependents`` asks to undo them too."""
    from lawstats import uploads
    from lawstats.errors import UndoRefused

    store = _store(args, writing=True)
    dependents = uploads.undo_dependents(store, args.batch) if args.with_dependents else None
    try:
        event = uploads.undo(store, args.batch, user_name=_user(args), note=args.note,
                             confirmed_dependents=None if dependents is None else list(dependents["batch_id"]))
    except UndoRefused as error:
        print(error.message(args.lang), file=sys.stderr)
        print(t("cli.undo_dependents_hint", args.lang, batch=args.batch), file=sys.stderr)
        return 2
    if dependents is not None and len(dependents):
        print(t("cli.undo_done_with_dependents", args.lang, batch=args.batch,
                events=f"{event - len(dependents)}–{event}", dependents=storage.batches_text(dependents)[args.lang]))
    else:
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

    # a catalogue domain without a registry table (publicity, 普法宣传...) gets its measures' template
    table_id = exchange.domain_template_id(args.table) or importer.table_id_of(args.table)
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
    p.add_argument("--region", help=REGION_HELP)
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
    # its own dest: the global --store names the app's store, which a benchmark must never write into
    p.add_argument("--store", dest="bench_store", metavar="SETTING",
                   help="measure on this (empty) store: the data is imported into a DuckDB file, moved there "
                        "as migrate-store does, and every query is timed on both (native_ms)")


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
                        page_repeats=args.page_repeats, workdir=args.workdir, reuse=args.reuse, seed=args.seed,
                        store=args.bench_store)
    print("\n".join(scale.summary_lines(records)))
    print(t("cli.bench_done", args.lang, count=len(records), json=f" → {args.json}" if args.json else ""))
    return 0


COMMANDS.update({"synth": cmd_synth, "bench": cmd_bench})


# --- catalogue: every measure and derived indicator the catalogue declares (lawstats.catalogue) ---


def _add_catalogue_command(sub) -> None:
    p = sub.add_parser("catalogue", help="every measure (id, domain, names, unit, kind, rollup) and every derived "
                                         "indicator with its formula, as the catalogue declares them")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")


def cmd_catalogue(args) -> int:
    from lawstats import catalogue

    cat = catalogue.load()
    measures, indicators = catalogue.listing(cat, args.lang)
    if args.format == "json":
        print(json.dumps({"measures": measures.to_dict(orient="records"),
                          "indicators": indicators.to_dict(orient="records")}, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        both = _listing_table(measures, indicators)
        sys.stdout.write(both.to_csv(index=False))
    else:
        print(t("cli.catalogue_measures", args.lang, count=len(measures), domains=len(cat.domains)))
        _print_columns(measures[["id", "domain", "zh", "en", "unit", "kind", "rollup"]])
        print()
        print(t("cli.catalogue_indicators", args.lang, count=len(indicators),
                figures=int((indicators["kind"] == "figure").sum())))
        _print_columns(indicators[["id", "domain", "zh", "en", "unit", "formula"]])
    return 0


def _listing_table(measures, indicators):
    """One CSV table: a row per measure and per indicator, told apart by the column ``type``."""
    import pandas as pd

    return pd.concat([measures.assign(type="measure"), indicators.assign(type="indicator")], ignore_index=True)[
        ["type", "id", "domain", "zh", "en", "unit", "kind", "rollup", "breakdown", "formula"]].fillna("")


def _print_columns(frame) -> None:
    """Aligned plain-text columns (the ids and short fields padded; the last column as it is)."""
    widths = {c: max(_display_width(str(v)) for v in [c, *frame[c]]) for c in frame.columns[:-1]}
    for row in [tuple(frame.columns), *frame.itertuples(index=False)]:
        cells = [str(v) + " " * (widths[c] - _display_width(str(v))) for c, v in zip(frame.columns[:-1], row[:-1])]
        print("  ".join([*cells, str(row[-1])]))


def _display_width(text: str) -> int:
    """Columns a terminal gives the text: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


COMMANDS["catalogue"] = cmd_catalogue


# --- stores: moving data between stores, a lake's housekeeping (issue 12, lawstats.lake) ---


def _add_store_commands(sub) -> None:
    p = sub.add_parser("migrate-store", help="copy every batch, with the whole history, from one store into a new "
                                             "empty one (a DuckDB file, ducklake:sqlite:… or ducklake:postgres:…)")
    p.add_argument("source", help="the store to copy from")
    p.add_argument("target", help="the empty store to copy into (created if missing)")
    p = sub.add_parser("housekeeping", help="a lake's upkeep: merge small data files, expire old snapshots and "
                                            "delete the files only they used (nothing to do for a DuckDB file)")
    p.add_argument("--keep-hours", type=float, default=1.0,
                   help="keep for this many hours what a reader may still read: snapshots superseded within it and "
                        "the files a merge replaced (default: 1)")


def cmd_migrate_store(args) -> int:
    source = seed.open_store(args.source, load_default=False)
    try:
        target = seed.open_store(args.target, load_default=False)
        try:
            batches = storage.copy_store(source, target)
            print(t("cli.store_migrated", args.lang, source=source.path, target=target.path, batches=batches))
        finally:
            target.close()
    finally:
        source.close()
    return 0


def cmd_housekeeping(args) -> int:
    store = _store(args, writing=True)
    done = storage.housekeeping(store, keep_hours=args.keep_hours)
    print(t("cli.housekeeping_done", args.lang, before=done["files_before"], after=done["files_after"]))
    return 0


COMMANDS.update({"migrate-store": cmd_migrate_store, "housekeeping": cmd_housekeeping})


# --- reports: a township report's figures with their sentences, and the extractor's score (lawstats.report) ---


def _add_report_commands(sub) -> None:
    from lawstats.report import commands

    commands.add_parsers(sub)
    COMMANDS.update(commands.COMMANDS)
