"""会议展示 Presentation: the indicators as slides for a projector, and the same slides as a PowerPoint deck.

Links: ``?slide=3`` opens the third slide, ``?present=1`` presents (the frame then hides the sidebar and the
page menu), ``?auto=30`` moves on every 30 seconds. The slides are ``lawstats.slides``; this page draws them.
"""

import html
import time

import streamlit as st

from lawstats import charts, deck, slides, ui
from lawstats.i18n import t

# A slide is laid out for the 1280×720 stage that presentation mode scales to the screen (``ui.present_style``):
# its title, its body and its footer fit that stage, the presenter's controls float over it.
TITLE_HEIGHT, FOOTER_HEIGHT = 52, 24
BODY_HEIGHT = ui.STAGE_HEIGHT - 12 - TITLE_HEIGHT - FOOTER_HEIGHT - 3 * 16 - 8  # paddings and gaps
BODY_WIDTH = ui.STAGE_WIDTH - 2 * 32
# Before presenting, the slide is drawn narrower, to fit beside the sidebar on a 1280 px screen (its type keeps
# its size, so it keeps most of its height).
PREVIEW_WIDTH, PREVIEW_HEIGHT = 0.66, 0.85
AUTO_SECONDS = (10, 20, 30, 60)
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

ctx = ui.context()
lang = ctx.lang
everything = ui.slide_deck(ctx.version, ctx.region_id, ctx.year, lang)
presenting = ui.presenting()

# 1. The controls: start or leave presenting, the presenter's choices, the deck of the chosen slides
if presenting:
    st.html(ui.present_style())
with st.container(horizontal=True, vertical_alignment="center", key="present_controls"):
    if presenting:
        st.button(t("present.exit", lang), icon=":material/close:", on_click=ui.stop_presenting, shortcut="Esc")
    else:
        st.button(t("present.start", lang), icon=":material/slideshow:", type="primary",
                  on_click=ui.start_presenting)
    with st.popover(t("present.settings", lang), icon=":material/tune:"):
        chosen = st.multiselect(t("present.slides", lang), everything.sections, default=everything.sections,
                                format_func=lambda section: slides.section_label(section, lang), key="slides",
                                bind="query-params")
        # plain numbers: a bound widget writes its option's label to the URL, so ?auto=30 works in every language
        seconds = st.pills(t("present.auto", lang), AUTO_SECONDS, key="auto", bind="query-params") or 0
        if len([y for y in ctx.years if y <= ctx.year]) < 2:
            st.caption(t("present.one_year", lang, year=ctx.year))
    shown = everything.only(chosen)
    st.download_button(t("present.download", lang), data=lambda: deck.build_pptx(shown),
                       file_name=charts.safe_file_name(ctx.region_name, ctx.year, t("present.file_suffix", lang))
                       + ".pptx", mime=PPTX, on_click="ignore", icon=":material/download:",
                       help=t("present.download_help", lang), disabled=not shown.slides)
    if not presenting:
        st.caption(t("present.hint", lang))

if not shown.slides:
    st.info(t("present.empty", lang))
    st.stop()


# 2. The slide, its footer and the controls: a fragment, so that auto-advance reruns only this part
def step(delta: int) -> None:
    st.session_state["slide"] = (st.session_state.get("slide", 1) - 1 + delta) % len(shown.slides) + 1


def table_font(table: slides.Table, height: int, width: int) -> int:
    """The largest type (px) at which a slide's table, its cells wrapped to their columns, fits its height."""
    total = sum(table.widths)
    for size in (24, 22, 20, 18, 16, 14):
        ems = [w / total * width / size - 1.2 for w in table.widths]
        lines = [max(charts.wrap_text(cell, ems[i]).count("<br>") + 1 for i, cell in enumerate(row))
                 for row in table.rows]
        if size * 1.35 + 16 + sum(n * size * 1.35 + 16 for n in lines) <= height:
            return size
    return 14


def table_html(table: slides.Table, size: int) -> str:
    """A slide's table as HTML: the browser wraps its cells in their columns (every text escaped)."""
    total = sum(table.widths)
    cols = "".join(f'<col style="width:{w / total * 100:.2f}%">' for w in table.widths)
    cell = "padding:8px 10px;border:1px solid #bdbdbd;vertical-align:top;text-align:left;line-height:1.35"
    head = "".join(f'<th style="{cell};background:{charts.SLIDE_ACCENT};color:#fff">{html.escape(h)}</th>'
                   for h in table.header)
    rows = "".join("<tr>" + "".join(f'<td style="{cell};background:{"#fff" if i % 2 == 0 else charts.SLIDE_TILE}">'
                                    f"{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for i, row in enumerate(table.rows))
    return (f'<table class="slide-table" style="width:100%;table-layout:fixed;border-collapse:collapse;'
            f'font-size:{size}px;color:{charts.SLIDE_INK};overflow-wrap:anywhere"><colgroup>{cols}</colgroup>'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")


def chart(container, fig, width: int, key: str, config: dict) -> None:
    """A slide's figure at its size in stage pixels (the stage is scaled to the screen, see ``ui.present_style``)."""
    fig.update_layout(width=width)
    container.plotly_chart(fig, theme=None, key=key, config=config, width=width, height=fig.layout.height)


def draw(slide: slides.Slide, index: int, width: int, height: int) -> None:
    key = f"slide_{index}"
    config = charts.image_config(charts.safe_file_name(ctx.region_name, slide.title, ctx.year))
    st.title(ui.plain_markdown(slide.title))
    if slide.section == "title":
        chart(st, charts.title_card(slide.subtitle, slide.lines, height), width, key, config)
    elif slide.table is not None:
        room = height - 44 * len(slide.lines)  # the lines under the table
        st.html(table_html(slide.table, table_font(slide.table, room, width)))
        for line in slide.lines:
            st.markdown(f"**{ui.plain_markdown(line)}**")
    elif slide.kpis and slide.chart is not None:
        tiles_width = (width - 32) * 2 // 5
        with st.container(horizontal=True, gap="medium"):
            chart(st, charts.kpi_tiles(slide.kpis, 2, height, tiles_width), tiles_width, key + "_kpis", config)
            chart(st, charts.slide_chart(slide.chart, height), width - 32 - tiles_width, key, config)
    elif slide.kpis:
        columns = 4 if len(slide.kpis) > 6 else 3
        chart(st, charts.kpi_tiles(slide.kpis, columns, height, width), width, key, config)
    elif slide.chart is not None:  # the slide's title names the chart
        chart(st, charts.slide_chart(slide.chart, height, titled=False), width, key, config)


def slide_view() -> None:
    total, now = len(shown.slides), time.monotonic()
    if "slide" in st.session_state:
        st.session_state["slide"] = slides.auto_advance(st.session_state["slide"], total,
                                                        st.session_state.get("_present_shown"), now, seconds)
    width, height = (BODY_WIDTH, BODY_HEIGHT) if presenting else (int(BODY_WIDTH * PREVIEW_WIDTH),
                                                                 int(BODY_HEIGHT * PREVIEW_HEIGHT))
    body = st.container(height=TITLE_HEIGHT + 16 + height, border=False)  # the same for every slide
    footer = st.container(key="present_footer")
    with st.container(horizontal=True, vertical_alignment="center", key="present_nav"):
        st.button(t("present.prev", lang), icon=":material/arrow_back:", on_click=step, args=(-1,),
                  shortcut="Left", key="present_prev")
        number = st.pagination(total, key="slide", bind="query-params")
        st.button(t("present.next", lang), icon=":material/arrow_forward:", on_click=step, args=(1,),
                  shortcut="Right", key="present_next")
    if st.session_state.get("_present_shown", (None,))[0] != number:
        st.session_state["_present_shown"] = (number, now)
    with body:
        draw(shown.slides[number - 1], number - 1, width, height)
    footer.caption(ui.plain_markdown(shown.footer(number - 1)))


# An auto-advancing slide is checked a few times per interval, so a slide the presenter moved to by hand
# still gets its full time.
st.fragment(slide_view, run_every=max(2, seconds // 5) if seconds else None)()
