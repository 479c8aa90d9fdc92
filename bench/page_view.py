"""One view of a page as a browser's rerun runs it, for timing in AppTest: the frame (language, region and
year) and then the page script named by ``?page=`` (default: the overview).

app.py cannot be timed this way: AppTest reruns a multipage app's page script without its frame. This script
is a one-page app that does what app.py does before it hands over to the page, so its reruns run both.
"""

from pathlib import Path

import streamlit as st

from lawstats import ui

context = ui.choose_region_and_year(ui.choose_language())
st.session_state["_lawstats_context"] = context
page = Path(__file__).resolve().parent.parent / "pages" / f"{st.query_params.get('page', 'overview')}.py"
exec(compile(page.read_text(encoding="utf-8"), str(page), "exec"), {"__name__": "__page__", "__file__": str(page)})
