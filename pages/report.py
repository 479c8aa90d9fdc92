"""从报告导入 Import from a report: an analyst pastes or uploads a township report, checks every figure the
extractor found (the number marked in its sentence, the measure, value and flag, how it compares with the
database), and imports the taken figures as one batch (history and undo on the data page). Each value's
provenance is its sentence.

The report's text is untrusted: every piece of it is shown as plain text (``lawstats.plaintext``).
"""

import hashlib

import streamlit as st

from lawstats import plaintext, storage, ui, uploads
from lawstats.errors import LawstatsError
from lawstats.i18n import t
from lawstats.report import documents, importing, review
from lawstats.report.extract import extract

ctx = ui.context()
lang = ctx.lang
store = ui.get_store()
FLASH = "_report_flash"
ROUND = "_report_round"  # a new round after a commit empties the text box and the uploader


def say(kind: str, key: str, **params) -> None:
    getattr(st, kind)(ui.plain_markdown(t(key, lang, **params)))


st.title(t("page.report", lang))
for kind, key, params in st.session_state.pop(FLASH, []):
    say(kind, key, **params)
analyst = ui.analyst_panel(lang)
if not analyst:
    st.stop()


# 1. The report: pasted text or a file
def read_input():
    """The report as a Document (or the error that refused it) and a short id of its content; None if none."""
    round_ = st.session_state.get(ROUND, 0)
    st.caption(t("review.intro", lang))
    text = st.text_area(t("review.paste", lang), key=f"report_text_{round_}", height=160)
    file = st.file_uploader(t("review.upload", lang), type=["txt", "docx", "pdf", "html", "htm"],
                            key=f"report_file_{round_}")
    if file is not None:
        source = file.file_id
        read = lambda: documents.read_bytes(file.getvalue(), file.name)  # noqa: E731
    elif text.strip():
        source = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        read = lambda: documents.from_text(text, review.pasted_name(text, t("review.pasted_name", lang)))  # noqa
    else:
        return None, None
    kept = st.session_state.get("_report_read")
    if kept is None or kept[0] != source:
        try:
            kept = (source, read())
        except LawstatsError as error:
            kept = (source, error)
        st.session_state["_report_read"] = kept
    return kept[1], source


document, source = read_input()
if document is None:
    st.stop()
if isinstance(document, LawstatsError):
    ui.show_error(document, lang)
    st.stop()

region_names = [str(n) for n in storage.regions(store)["name"]]
extraction = extract(document.text, document.name, region_names)
say("caption", "review.document", document=document.name, chars=f"{len(document.text):,}")


# 2. Region and year, read from the title, always shown to be confirmed
def region_and_year() -> tuple[str, int | None, int | None]:
    """The region, year and (for a new region the analyst confirmed) its parent."""
    if extraction.region and extraction.year:
        say("info", "review.region_read", region=extraction.region, year=extraction.year)
    else:
        say("warning", "review.region_missing")
    left, right = st.columns([3, 1])
    region = left.text_input(t("review.region", lang), value=extraction.region or "",
                             key=f"report_region_{source}").strip()
    year = right.number_input(t("review.year", lang), min_value=1949, max_value=2100, step=1,
                              value=extraction.year, key=f"report_year_{source}")
    parent = None
    if region and region not in region_names:
        say("warning", "review.new_region", region=region)
        parents = uploads.parent_choices(store)
        paths = dict(zip(parents["region_id"].astype(int), parents["path"]))
        county = [r for r, name in zip(parents["region_id"].astype(int), parents["name"]) if name == extraction.county]
        default = list(paths).index(county[0]) if county else (
            list(paths).index(ctx.region_id) if ctx.region_id in paths else 0)
        left, right = st.columns([2, 1], vertical_alignment="bottom")
        chosen = left.selectbox(t("review.parent", lang), list(paths), index=default, key=f"report_parent_{source}",
                                format_func=lambda r: plaintext.visible(paths[r]))
        if right.checkbox(ui.plain_markdown(t("review.confirm_region", lang, region=region)),
                          key=f"report_confirm_{source}"):
            parent = chosen
    return region, (int(year) if year is not None else None), parent


region, year, parent = region_and_year()


# 3. The report beside its figures
def key(name: str, index: int) -> str:
    return f"report_{name}_{source}_{index}"


def set_taken(taken) -> None:
    """The one-click buttons: ``taken(figure)`` says which figures are taken."""
    for index, figure in enumerate(extraction.figures):
        st.session_state[key("take", index)] = taken(figure)


def item_key(index: int, measure: str | None) -> str:
    """The item select is the measure's own: another measure has another breakdown."""
    return key(f"item_{measure}", index)


def decisions() -> list[review.Decision]:
    state = st.session_state
    chosen = []
    for i, f in enumerate(extraction.figures):
        measure = state.get(key("measure", i), f.measure)
        item = state.get(item_key(i, measure), f.item if measure == f.measure else None)
        chosen.append(review.Decision(bool(state.get(key("take", i), False)), measure,
                                      state.get(key("value", i), f.value), bool(state.get(key("approx", i), f.approx)),
                                      item))
    return chosen


storable = review.storable_measures()
held = review.stored_values(store, region, year) if region and year else {}


def figure_card(index: int, figure) -> None:
    with st.container(border=True, key=f"report_card_{index}"):
        st.caption(ui.plain_markdown(t("review.figure_head", lang, number=index + 1,
                                       section=figure.section or t("review.no_section", lang),
                                       confidence=figure.confidence)))
        st.markdown(review.highlighted_markdown(document.text, figure))
        options = [None, *storable, *([figure.measure] if figure.measure and figure.measure not in storable else [])]
        top_left, top_right = st.columns([3, 1], vertical_alignment="bottom")
        measure = top_left.selectbox(t("review.measure", lang), options, index=options.index(figure.measure),
                                     key=key("measure", index),
                                     format_func=lambda m: review.measure_label(m, lang) if m
                                     else t("review.no_measure", lang))
        top_right.checkbox(t("review.take", lang), key=key("take", index))
        left, right = st.columns([3, 2], vertical_alignment="bottom")
        value = left.number_input(t("review.value", lang), value=float(figure.value), key=key("value", index),
                                  format="%g")
        approx = right.checkbox(t("review.approx", lang), value=figure.approx, key=key("approx", index),
                                help=t("review.approx_help", lang))
        item = item_select(index, figure, measure)
        if figure.change:
            st.caption(t("review.change", lang))
        status, old = review.comparison(figure, review.Decision(True, measure, value, approx, item), held)
        st.caption(t(f"review.status.{status}", lang, old=review.number_text(old)))


def item_select(index: int, figure, measure: str | None) -> str | None:
    """The breakdown item of a measure given by one (None: the measure's total): a select of the breakdown's
    items; an open breakdown also takes a typed item."""
    breakdown = review.breakdown_of(measure)
    if breakdown is None:
        return None
    proposed = figure.item if measure == figure.measure else None
    options = [None, *(i.id for i in breakdown.items)]
    if proposed and proposed not in options:
        options.append(proposed)
    return st.selectbox(t("review.item", lang, breakdown=breakdown.zh if lang == "zh" else breakdown.en), options,
                        index=options.index(proposed), key=item_key(index, measure),
                        accept_new_options=breakdown.open,
                        format_func=lambda i: plaintext.visible(review.item_label(breakdown, i, lang)) if i
                        else t("review.item_total", lang))


report_side, figures_side = st.columns(2, gap="medium")
with report_side:
    st.subheader(t("review.report_text", lang))
    short = len(document.text) < 800  # a long report scrolls in its own pane, beside the figures
    with st.container(height="content" if short else 720, border=True):
        st.markdown(plaintext.markdown(document.text))
with figures_side:
    st.subheader(t("review.figures", lang))
    confident = sum(review.proposed(f) for f in extraction.figures)
    counts = st.empty()
    accept, clear = st.columns([3, 2])
    accept.button(t("review.accept_all", lang), on_click=set_taken, args=(review.proposed,), type="primary",
                  icon=":material/done_all:", width="stretch")
    clear.button(t("review.clear", lang), on_click=set_taken, args=(lambda f: False,), width="stretch")
    with st.container(height=620):
        for index, figure in enumerate(extraction.figures):
            figure_card(index, figure)
    chosen = decisions()
    counts.caption(t("review.counts", lang, total=len(extraction.figures), confident=confident,
                     taken=sum(d.accepted for d in chosen)))


# 4. What the taken figures would change, and the commit (one batch, like any upload)
def commit_section() -> None:
    reviewed = review.reviewed(extraction, chosen)
    if not reviewed.figures:
        st.caption(t("review.nothing_taken", lang))
        return
    if not region or not year:
        say("warning", "review.region_missing")
        return
    report_plan = importing.plan(reviewed, region, year)
    if report_plan.left:
        st.markdown(f"**{t('review.left_title', lang)}**")
        st.markdown("  \n".join(ui.plain_markdown(f"{t(f'report.left.{reason}', lang)}：{figure.raw}　{figure.sentence}")
                                for reason, figure in report_plan.left))
    if not report_plan.taken:
        return
    say("caption", "review.taken_counts", **report_plan.counts())
    try:
        upload = importing.inspect(store, reviewed, report_plan, new_region_parent=parent, lang=lang)
    except LawstatsError as error:
        ui.show_error(error, lang)
        return
    if upload.ready:
        ui.show_upload_preview(upload, lang)
    with st.form(f"report_commit_{source}", border=False):
        note = st.text_input(t("review.note", lang), max_chars=500)
        submitted = st.form_submit_button(t("review.commit", lang), type="primary", disabled=not upload.ready,
                                          icon=":material/database_upload:")
    if submitted:
        try:
            batch_id = importing.commit(store, upload, reviewed, report_plan, user_name=analyst.user_name,
                                        note=note.strip() or None, new_region_parent=parent)
        except LawstatsError as error:
            ui.show_error(error, lang)
            return
        rows = importing.rows_text(upload, lang)
        st.session_state.setdefault(FLASH, []).append(("success", "review.committed", {"batch": batch_id,
                                                                                        "rows": rows}))
        st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1
        st.session_state.pop("_report_read", None)
        st.rerun()


commit_section()
