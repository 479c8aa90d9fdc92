"""会议展示 Presentation: the indicators as slides for a projector, and the same slides as a PowerPoint deck.

Links: ``?slide=3`` opens the third slide, ``?present=1`` presents (the frame then hides the sidebar and the
page menu), ``?auto=30`` moves on every 30 seconds. The slides are ``lawstats.slides``; this page draws them.
"""

import time

import streamlit as st

from lawstats import charts, deck, slides, ui
from lawstats.i18n import t

BODY_HEIGHT = 640  # px of a slide under its title on a 1920×1080 screen, leaving room for the controls
BODY_WIDTH = 1800
AUTO_SECONDS = (10, 20, 30, 60)
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

ctx = ui.context()
lang = ctx.lang
everything = ui.slide_deck(ctx.version, ctx.region_id, ctx.year, lang)
presenting = ui.presenting()

# 1. The controls: start or leave presenting, the presenter's choices, the deck of the chosen slides
with st.container(horizontal=True, vertical_alignment="center"):
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


def draw(slide: slides.Slide, index: int) -> None:
    key = f"slide_{index}"
    config = charts.image_config(charts.safe_file_name(ctx.region_name, slide.title, ctx.year))
    st.title(ui.plain_markdown(slide.title))
    if slide.section == "title":
        st.plotly_chart(charts.title_card(slide.subtitle, slide.lines, BODY_HEIGHT), theme=None, key=key,
                        config=config)
    elif slide.table is not None:
        height = BODY_HEIGHT - 60 * len(slide.lines)
        st.plotly_chart(charts.slide_table(slide.table, height, BODY_WIDTH), theme=None, key=key, config=config)
        for line in slide.lines:
            st.markdown(f"##### {ui.plain_markdown(line)}")
    elif slide.kpis and slide.chart is not None:
        left, right = st.columns([2, 3], gap="large")
        left.plotly_chart(charts.kpi_tiles(slide.kpis, 2, BODY_HEIGHT, BODY_WIDTH * 2 // 5), theme=None,
                          key=key + "_kpis", config=config)
        right.plotly_chart(charts.slide_chart(slide.chart, BODY_HEIGHT), theme=None, key=key, config=config)
    elif slide.kpis:
        columns = 4 if len(slide.kpis) > 6 else 3
        st.plotly_chart(charts.kpi_tiles(slide.kpis, columns, BODY_HEIGHT, BODY_WIDTH), theme=None, key=key,
                        config=config)
    elif slide.chart is not None:  # the slide's title names the chart
        st.plotly_chart(charts.slide_chart(slide.chart, BODY_HEIGHT, titled=False), theme=None, key=key,
                        config=config)


def slide_view() -> None:
    total, now = len(shown.slides), time.monotonic()
    if "slide" in st.session_state:
        st.session_state["slide"] = slides.auto_advance(st.session_state["slide"], total,
                                                        st.session_state.get("_present_shown"), now, seconds)
    body = st.container(height=BODY_HEIGHT + 110, border=False)  # the same for every slide: controls stay put
    footer = st.empty()
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(t("present.prev", lang), icon=":material/arrow_back:", on_click=step, args=(-1,),
                  shortcut="Left", key="present_prev")
        number = st.pagination(total, key="slide", bind="query-params")
        st.button(t("present.next", lang), icon=":material/arrow_forward:", on_click=step, args=(1,),
                  shortcut="Right", key="present_next")
    if st.session_state.get("_present_shown", (None,))[0] != number:
        st.session_state["_present_shown"] = (number, now)
    with body:
        draw(shown.slides[number - 1], number - 1)
    footer.caption(ui.plain_markdown(shown.footer(number - 1)))


# An auto-advancing slide is checked a few times per interval, so a slide the presenter moved to by hand
# still gets its full time.
st.fragment(slide_view, run_every=max(2, seconds // 5) if seconds else None)()
