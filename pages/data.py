"""数据管理 Data management: analysts log in, upload a CSV or XLSX file, see what it would change, commit it
as one batch and undo any batch; everyone may download blank templates and the current data.

Everything a user typed or uploaded (file names, cells, region names, notes) is shown as plain text:
tables and option labels through ``lawstats.plaintext`` (no invisible or bidi characters), messages through
``ui.plain_markdown``.
"""

import streamlit as st

from lawstats import exchange, plaintext, reader, ui, uploads
from lawstats.errors import LawstatsError
from lawstats.i18n import t

ctx = ui.context()
lang = ctx.lang
store = ui.get_store()
FLASH = "_data_flash"  # messages that outlive the rerun after a commit or an undo


def say(kind: str, key: str, **params) -> None:
    """A catalog message whose parameters may be user text, shown as plain text."""
    getattr(st, kind)(ui.plain_markdown(t(key, lang, **params)))


def flash(kind: str, key: str, **params) -> None:
    st.session_state.setdefault(FLASH, []).append((kind, key, params))


def table_label(table_id: str | None) -> str:
    return uploads.table_label(table_id, lang)


def file_size(size: int) -> str:
    return f"{size:,} B" if size < 2**10 else (f"{size / 2**10:,.1f} KB" if size < 2**20 else f"{size / 2**20:,.1f} MB")


st.title(t("page.data", lang))
if store.repaired:  # this process's open removed part of an import that never finished (storage.recovery)
    st.warning(t("store.repaired", lang))  # a catalog message, no user text
for kind, key, params in st.session_state.pop(FLASH, []):
    say(kind, key, **params)

# 1. Who is here: viewing needs no login; uploading, undoing and accounts need an analyst
analyst = ui.analyst_panel(lang)


# 2. Upload: read, validate, preview; nothing is written before the commit button
def inspect(file, choices: dict):
    """The upload inspected with the user's choices; kept for the session so that typing a note or opening a
    table does not read the file again. Returns an Upload or the LawstatsError that refused it."""
    key = (file.file_id, tuple(sorted(choices.items())), ctx.version, lang)
    kept = st.session_state.get("_data_inspected")
    if kept is None or kept[0] != key:
        try:
            kept = (key, uploads.inspect_file(store, file.name, file.getvalue(), lang=lang, **choices))
        except LawstatsError as error:
            kept = (key, error)
        st.session_state["_data_inspected"] = kept
    return kept[1]


def detected_encoding(file) -> str:
    """The encoding the automatic choice reads a refused file in (from its first lines), or that none fits."""
    head = file.getvalue()[:65536]
    head = head[:head.rfind(b"\n") + 1] or head  # whole lines: no character cut in two
    try:
        return reader.decode(head)[1]
    except LawstatsError:
        return t("data.encoding_unrecognised", lang)


def widget_key(name: str, file) -> str:
    """Choices belong to one file: a new file starts from automatic again."""
    return f"data_{name}_{file.file_id}"


def option_widgets(file, upload) -> None:
    """Encoding (CSV), sheet (XLSX) and table selectors; their values feed the next inspection."""
    inspected = upload if not isinstance(upload, LawstatsError) else None
    left, middle, right = st.columns(3)
    if not file.name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        used = inspected.encoding if inspected and inspected.encoding else detected_encoding(file)
        left.selectbox(t("data.encoding", lang), [None, *uploads.ENCODING_CHOICES], key=widget_key("encoding", file),
                       format_func=lambda e: e or t("data.encoding_auto", lang, used=used))
    sheets = (inspected.sheets if inspected else None) or st.session_state.get(widget_key("sheets", file), [])
    if sheets:
        st.session_state[widget_key("sheets", file)] = sheets  # still offered when the chosen sheet fails
        all_read = inspected is not None and inspected.sheet is None and len(sheets) > 1  # every sheet, one batch
        read = t("data.sheet_all", lang) if all_read else (inspected.sheet if inspected and inspected.sheet
                                                            else sheets[0])
        middle.selectbox(t("data.sheet", lang), [None, *sheets], key=widget_key("sheet", file),
                         format_func=lambda s: plaintext.visible(s) if s else read)
    recognised = "、".join(dict.fromkeys(table_label(tid) for tid in inspected.tables)) \
        if inspected and inspected.tables else None  # a workbook's sheets: every table they hold
    automatic = t("data.table_auto", lang, table=recognised) if recognised else t("data.table_auto_none", lang)
    right.selectbox(t("data.table", lang), [None, *dict(uploads.table_choices(lang))], key=widget_key("table", file),
                    format_func=lambda tid: table_label(tid) if tid else automatic)


def chosen(file) -> dict:
    """The user's choices for this file, as ``inspect_file`` arguments (automatic ones left out)."""
    state = st.session_state
    choices = {name: state.get(widget_key(name, file)) for name in ("encoding", "sheet", "table")}
    if state.get(widget_key("confirm", file)):
        choices["new_region_parent"] = state.get(widget_key("parent", file))
    return {name: value for name, value in choices.items() if value is not None}


def show_problems(error: LawstatsError) -> None:
    say("error", error.key, **error.params)
    problems = uploads.problems_table(error, lang)
    if len(problems):  # the 问题 column says what is wrong; the ``kind`` code is for programs (the CSV)
        st.dataframe(plaintext.frame(problems.drop(columns="kind")), hide_index=True, width="stretch")
        st.download_button(t("data.problems_download", lang), exchange.to_csv_bytes(problems),
                           file_name="问题清单_problems.csv", mime="text/csv", on_click="ignore",
                           icon=":material/download:")


def region_confirmation(file, upload) -> None:
    names = "、".join(upload.unknown_regions)
    say("warning", "data.unknown_regions", count=len(upload.unknown_regions), names=names)
    parents = uploads.parent_choices(store)
    paths = dict(zip(parents["region_id"].astype(int), parents["path"]))
    default = list(paths).index(ctx.region_id) if ctx.region_id in paths else 0
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    left.selectbox(t("data.parent", lang), list(paths), index=default, key=widget_key("parent", file),
                   format_func=lambda r: plaintext.visible(paths[r]))
    right.checkbox(t("data.confirm_regions", lang, count=len(upload.unknown_regions)), key=widget_key("confirm", file))


def commit_form(file, upload) -> None:
    with st.form(widget_key("commit", file), border=False):
        note = st.text_area(t("data.note", lang), max_chars=500, height=80)
        submitted = st.form_submit_button(t("data.commit", lang), type="primary", disabled=not upload.ready,
                                          icon=":material/database_upload:")
    if not upload.ready:
        st.caption(t("data.commit_blocked", lang))
    if submitted:
        try:
            batch_id = uploads.commit_upload(store, upload, user_name=analyst.user_name, note=note.strip() or None)
        except LawstatsError as error:
            show_problems(error)
            return
        flash("success", "data.committed", batch=batch_id, rows=f"{upload.row_count:,}")
        st.session_state["_data_round"] = st.session_state.get("_data_round", 0) + 1  # empties the uploader
        st.session_state.pop("_data_inspected", None)
        st.rerun()


def upload_section() -> None:
    st.header(t("data.section_upload", lang))
    limit_mb = min(uploads.MAX_UPLOAD_BYTES // 2**20, st.get_option("server.maxUploadSize"))  # the server's cap wins
    st.caption(t("data.uploader_note", lang, mb=limit_mb))
    file = st.file_uploader(t("data.uploader", lang), key=f"data_upload_{st.session_state.get('_data_round', 0)}",
                            max_upload_size=limit_mb)
    if file is None:
        return
    upload = inspect(file, chosen(file))
    option_widgets(file, upload)
    if isinstance(upload, LawstatsError):
        show_problems(upload)
        return
    say("caption", "data.file_read", file=upload.file_name, size=file_size(upload.size), sha=upload.sha256[:12])
    if upload.encoding:
        say("caption", "data.encoding_used", encoding=upload.encoding)
    if upload.duplicate_of:
        say("warning", "data.duplicate", batch=upload.duplicate_of)
    if upload.sheets and upload.sheet is None and upload.parts:  # a workbook read sheet by sheet: what each held
        say("info", "data.sheets_read", count=len(upload.parts), sheets=("；" if lang == "zh" else "; ").join(
            t("cli.sheet_report", lang, sheet=sheet, table=table_label(table_id), rows=f"{rows:,}")
            for sheet, table_id, rows in upload.parts))
    for part, columns in upload.measure_columns.items():  # recognised: stored as catalogue measures
        say("info", "data.measure_columns", file=part, columns=uploads.measure_columns_text(columns, lang))
    for part, (table_id, columns) in upload.unknown_by_file.items():  # listed before the commit, a bounded list
        say("warning", "data.unknown_columns", table=f"{table_label(table_id)}（{part}）" if len(upload.parts) > 1
            else table_label(table_id), columns=uploads.columns_text(columns, lang))
    for text in upload.notice_texts(lang):
        st.info(ui.plain_markdown(text))
    if upload.unknown_regions:
        region_confirmation(file, upload)
    if upload.new_regions:
        say("info", "data.new_regions", names="、".join(upload.new_regions))
    if upload.ready:
        ui.show_upload_preview(upload, lang)
    commit_form(file, upload)


if analyst:
    upload_section()


# 3. History: every batch, undo (after a confirmation), the data as it was after any batch
def batch_text(row) -> str:
    return t("data.batch_option", lang, batch=row.batch_id, when=f"{row.created_at:%Y-%m-%d %H:%M}",
             file=row.file_name or "—")


def undo_widgets(imports) -> None:
    undoable = {row.batch_id: batch_text(row) for row in imports if not row.undone}
    if not undoable:
        st.caption(t("data.nothing_to_undo", lang))
        return
    pending = st.session_state.get("_data_undo")
    if pending not in undoable:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        batch = left.selectbox(t("data.undo_choose", lang), list(undoable),
                               format_func=lambda b: plaintext.visible(undoable[b]))
        if right.button(t("data.undo", lang), icon=":material/undo:"):
            st.session_state["_data_undo"] = batch
            st.rerun()
        return
    say("warning", "data.undo_confirm", batch=pending, file=undoable[pending])
    # Later batches with rows in (or regions under) a region this batch created go with it, or would be orphaned
    dependents = uploads.undo_dependents(store, pending)
    named = "、".join(batch_text(row) for row in dependents.itertuples(index=False))
    confirmed = True
    if len(dependents):
        say("warning", "data.undo_dependents", batch=pending, dependents=named)
        confirmed = st.checkbox(t("data.undo_with_dependents", lang, count=len(dependents)),
                                key=f"_data_undo_with_{pending}")
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button(t("data.undo_yes", lang), type="primary", disabled=not confirmed):
        st.session_state.pop("_data_undo")
        try:
            event = uploads.undo(store, pending, user_name=analyst.user_name,
                                 confirmed_dependents=list(dependents["batch_id"]))
        except LawstatsError as error:
            ui.show_error(error, lang)
            return
        if len(dependents):
            flash("success", "data.undone_with_dependents", batch=pending, dependents=named,
                  events=f"{event - len(dependents)}–{event}")
        else:
            flash("success", "data.undone", batch=pending, event=event)
        st.rerun()
    if no.button(t("data.cancel", lang)):
        st.session_state.pop("_data_undo")
        st.rerun()


def as_of_widgets(imports) -> None:
    st.subheader(t("data.as_of", lang))
    left, right = st.columns(2)
    batches = {row.batch_id: batch_text(row) for row in imports}
    batch = left.selectbox(t("data.as_of_batch", lang), list(batches), key="data_as_of",
                           format_func=lambda b: plaintext.visible(batches[b]))
    tables = dict(uploads.table_choices(lang))
    table_id = right.selectbox(t("data.table", lang), list(tables), format_func=tables.get, key="data_as_of_table",
                               index=min(1, len(tables) - 1))
    st.dataframe(plaintext.frame(uploads.data_as_of(store, batch, table_id, lang)), hide_index=True, width="stretch")


if analyst:
    st.header(t("data.section_history", lang))
    st.dataframe(plaintext.frame(uploads.history_table(store, lang)), hide_index=True, width="stretch")
    imports = [row for row in uploads.history(store).itertuples(index=False) if row.kind == "import"]
    undo_widgets(imports)
    if imports:
        as_of_widgets(imports)


# 4. Blank templates, for everyone
st.header(t("data.section_templates", lang))
st.caption(t("data.templates_help", lang))
choices = dict(uploads.table_choices(lang)) | exchange.domain_template_choices(lang)  # + the catalogue's domains
left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
template = left.selectbox(t("data.table", lang), list(choices), format_func=choices.get, key="data_template",
                          index=min(1, len(choices) - 1))
template_name = f"{t('data.template_file', lang)}_{choices[template]}"
middle.download_button(t("data.template_csv", lang), lambda: exchange.template_csv(template, lang),
                       file_name=f"{template_name}.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:", width="stretch")
right.download_button(t("data.template_xlsx", lang), lambda: exchange.template_xlsx(template, lang),
                      file_name=f"{template_name}.xlsx", mime=exchange.XLSX_MIME, on_click="ignore",
                      icon=":material/download:", width="stretch")

# 5. Exports of the current data, for everyone: every table at once (XLSX, Parquet) or one table as CSV
st.header(t("data.section_export", lang))
st.caption(t("data.export_help", lang))
stamp = f"v{ctx.version}"
xlsx, parquet, _ = st.columns([1, 1, 2])
xlsx.download_button(t("data.export_xlsx", lang), lambda: exchange.export_xlsx(store, lang), on_click="ignore",
                     file_name=f"lawstats_{stamp}.xlsx", mime=exchange.XLSX_MIME, icon=":material/download:",
                     width="stretch")
if analyst:  # a format for analysis software: analysts' business, not viewers'
    parquet.download_button(t("data.export_parquet", lang), lambda: ui.parquet_zip(store), on_click="ignore",
                            file_name=f"lawstats_parquet_{stamp}.zip", mime="application/zip",
                            icon=":material/download:", width="stretch")
left, right, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
export_table = left.selectbox(t("data.table", lang), list(choices), format_func=choices.get, key="data_export",
                              index=min(1, len(choices) - 1))
right.download_button(t("data.export_csv", lang), lambda: exchange.export_csv(store, export_table, lang),
                      on_click="ignore", file_name=f"lawstats_{export_table}_{stamp}.csv", mime="text/csv",
                      icon=":material/download:", width="stretch")


# 6. Analysts' accounts: add one, change one's own password
def accounts_section() -> None:
    st.header(t("data.section_analysts", lang))
    users = ui.user_store()
    say("caption", "data.analysts_list", names="、".join(users.names()))
    add, change = st.columns(2)
    with add.form("data_add_analyst", clear_on_submit=True):
        st.markdown(f"**{t('data.add_analyst', lang)}**")
        name = st.text_input(t("data.user_name", lang), autocomplete="off")
        first = st.text_input(t("data.password", lang), type="password", autocomplete="new-password")
        second = st.text_input(t("data.password_again", lang), type="password", autocomplete="new-password")
        if st.form_submit_button(t("data.add", lang)):
            try:
                if first != second:
                    raise LawstatsError("auth.passwords_differ")
                say("success", "data.analyst_added", name=users.add(name, first))
            except LawstatsError as error:
                ui.show_error(error, lang)
    with change.form("data_change_password", clear_on_submit=True):
        st.markdown(f"**{t('data.change_password', lang)}**")
        current = st.text_input(t("data.current_password", lang), type="password", autocomplete="current-password")
        first = st.text_input(t("data.new_password", lang), type="password", autocomplete="new-password")
        second = st.text_input(t("data.password_again", lang), type="password", autocomplete="new-password")
        if st.form_submit_button(t("data.save_password", lang)):
            try:
                if first != second:
                    raise LawstatsError("auth.passwords_differ")
                users.change_password(analyst, current, first)
                say("success", "data.password_changed")
            except LawstatsError as error:
                ui.show_error(error, lang)


if analyst:
    accounts_section()
