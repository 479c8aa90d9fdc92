"""Text from users, files and links is shown as text everywhere.

In a real browser: a region named ``<script>alert(1)</script>`` and a cell ``<img src=x onerror=alert(1)>``
(uploaded through the library, as an analyst would) appear literally on every page, in chart hover labels too,
and no script ever runs (``page.on("dialog")`` never fires, no element is injected).

Issue 9 item 9: a list of payloads (Markdown links and images, raw HTML, ``:material/…:`` icons, ``$…$`` formulas,
zero-width and bidi characters) as region names, source texts and link parameters, through every page of the
navigation list (AppTest: every markdown body escaped; Chromium: no link, image, icon or formula in the DOM) and
through the deck (python-pptx: no hyperlink, no invisible character)."""

from __future__ import annotations

import io
import json
import re
import urllib.parse

import pandas as pd
import pytest

from lawstats import auth, plaintext, seed, storage, summary, uploads
from lawstats.navigation import PAGES
from tests.browser import ROOT, chromium_page, require_chromium, streamlit_server, wait_for_app
from tests.conftest import run_page

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
FILE_NAME = "<i>hostile</i>.csv"
NOTE = f"**note** {IMG}"
ANALYST, PASSWORD = "analyst", "a long test password"
# Signs that text was turned into markup, or escaped twice (then the user reads "&lt;")
INJECTED = "img[src='x'], img[onerror], i:has-text('hostile'), a[href^='javascript'], strong:has-text('note')"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A server on the default data plus a village named SCRIPT whose cells and source are IMG."""
    require_chromium()
    folder = tmp_path_factory.mktemp("escaping")
    store = seed.open_store(folder / "app.duckdb")
    township = summary.find_region(store, "西堡镇")
    data = ("地区,年份,户籍户数,户籍人口,常住户数,常住人口,少数民族人口,民族构成,来源\n"
            f"{SCRIPT},2024,10,30,9,25,1,{IMG},{IMG}\n").encode("utf-8")
    upload = uploads.inspect_file(store, FILE_NAME, data, new_region_parent=township)
    uploads.commit_upload(store, upload, user_name=ANALYST, note=NOTE)
    village = summary.find_region(store, SCRIPT)
    store.close()
    users = folder / "users.toml"
    auth.UserStore(users).add(ANALYST, PASSWORD)
    with streamlit_server(folder / "app.duckdb", env={auth.USERS_ENV: str(users)}) as url:
        yield url, village


@pytest.fixture
def page():
    with chromium_page() as browser_page:
        dialogs: list[str] = []
        browser_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        browser_page.dialogs = dialogs
        yield browser_page
        assert dialogs == [], f"a script ran: {dialogs}"


def visit(page, url: str, timeout_ms: int = 30_000) -> str:
    page.goto(url)
    wait_for_app(page, timeout_ms)
    page.wait_for_timeout(500)  # charts draw after the run
    return page.locator('[data-testid="stApp"]').inner_text()


def assert_nothing_injected(page) -> None:
    assert page.locator(INJECTED).count() == 0
    assert page.locator("script", has_text="alert(").count() == 0
    text = page.locator('[data-testid="stApp"]').inner_text()
    assert "&lt;" not in text and "&amp;" not in text, "escaped twice: the user would read entities"


def hover_text_naming(page, plot, needle: str, limit: int = 30) -> str | None:
    """Move the mouse over the points of a chart until a hover label mentions ``needle``; that label."""
    plot.scroll_into_view_if_needed()
    points = plot.locator("g.point, path.point")
    for index in range(min(points.count(), limit)):
        box = points.nth(index).bounding_box()
        if not box:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(100)
        text = " ".join(plot.locator(".hoverlayer text").all_text_contents())
        if needle in text:
            return text
    return None


@pytest.mark.browser
def test_every_page_chart_and_hover_shows_the_hostile_texts_literally(hostile, page):
    """Each page, for the township and for the hostile village: the texts are on the page as typed; every
    chart that names the village (axis, legend) writes it literally, and so does its hover label."""
    url, village = hostile
    named, hovers = [], []
    for spec in [p for p in PAGES if p.section != "manage"]:  # the analysts' pages name no region
        for query in ("", f"?region={village}"):
            text = visit(page, f"{url}/{spec.url_path}{query}")
            assert_nothing_injected(page)
            if query:
                assert SCRIPT in text, spec.url_path  # the region's name (title, notices, tables)
                if spec.default:
                    assert IMG in text  # the source cell, under the figures
            plots = page.locator(".js-plotly-plot")
            for index in range(plots.count()):
                labels = " ".join(plots.nth(index).locator("svg text").all_text_contents())
                assert "&lt;" not in labels and "&amp;" not in labels, spec.url_path
                if "alert(1)" in labels:
                    assert SCRIPT in labels, (spec.url_path, labels)
                    named.append(spec.url_path)
                    hover = hover_text_naming(page, plots.nth(index), "alert(1)")
                    if hover is not None:
                        hovers.append(hover)
    assert named, "no chart shows the village: the check would prove nothing"
    assert hovers and all(SCRIPT in h and "&lt;" not in h for h in hovers), hovers


@pytest.mark.browser
def test_data_page_shows_file_names_notes_and_uploaded_headers_as_text(hostile, page):
    url, _ = hostile
    visit(page, f"{url}/data")
    page.get_by_label("用户名", exact=True).fill(ANALYST)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for()
    wait_for_app(page)
    choices = [box.input_value() for box in page.locator('[data-testid="stMain"] [data-testid="stSelectbox"] input').all()]
    assert any(FILE_NAME in choice for choice in choices), choices  # the batch to undo names its file
    assert_nothing_injected(page)

    upload(page, "**粗体**.csv", "地区,年份,户籍人口,<b>列</b>\n西堡镇,2024,25218,x\n")
    assert "<b>列</b>" in warnings(page)  # an unknown column
    assert "**粗体**.csv" in page.locator('[data-testid="stMain"]').inner_text()
    assert_nothing_injected(page)

    upload(page, "未知地区.csv", f"地区,年份,户籍人口\n[点我](javascript:alert(3)),2024,5\n{IMG},2024,6\n")
    assert "[点我](javascript:alert(3))" in warnings(page) and IMG in warnings(page)  # unknown regions
    assert_nothing_injected(page)


def upload(page, name: str, text: str) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode("gbk")})
    wait_for_app(page)
    page.locator('[data-testid="stCaptionContainer"]', has_text=f"文件：{name}（").wait_for()  # inspected
    wait_for_app(page)


def warnings(page) -> str:
    return "\n".join(page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts())


# ---------------------------------------------------------------------------------------------------------
# Issue 9 item 9: payloads as region names, source texts and link parameters, on every page and in the deck.

EVIL_LINK = "[点此重新登录](http://evil.example/login)"
PAYLOADS = (  # each becomes a village (its name, its source text and its 民族构成 cell)
    EVIL_LINK,
    '![图](http://evil.example/x.png) <img src="http://evil.example/i.png">',
    '<a href="http://evil.example/a">链接</a><script>alert(2)</script>',
    "**粗体** :material/home: $x^2$ 零\u200b宽\u202e反向",
)
WORDS = ("点此重新登录", "图", "链接", "粗体")  # a word of each payload that must still be read on the page
LINK_PARAMS = {  # what a link may carry: unknown values are reported in notices, others ignored
    "region": "[x](http://evil.example/login) :material/home: $x^2$\u202e",
    "year": "![y](http://evil.example/y.png)",
    "lang": "**en**",
    "slide": "[1](http://evil.example/s)",
}
INVISIBLE = ("\u200b", "\u202e")
# Markdown that a renderer would turn into a link, image, icon, formula, emphasis or tag: in a markdown body
# (title, caption, alert, label...) these must never appear unescaped.
UNESCAPED = re.compile(r"evil\.example|:material/home:|\$x\^2\$|\*\*粗体\*\*|(?<!\\)<(?:script|img|a)\b"
                       + "|" + "|".join(INVISIBLE))
MARKDOWN_ELEMENTS = {"title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                     "toast", "metric", "exception"}


@pytest.fixture(scope="module")
def payload_db(tmp_path_factory):
    """The default data plus one village per payload under 西堡镇; returns the database and the villages' ids."""
    path = tmp_path_factory.mktemp("payloads") / "app.duckdb"
    store = seed.open_store(path)
    lines = ["地区,年份,户籍户数,户籍人口,常住户数,常住人口,少数民族人口,民族构成,来源"]
    lines += [",".join([csv_cell(p), "2024", str(10 + i), "30", "9", "25", "1", csv_cell(p), csv_cell(p)])
              for i, p in enumerate(PAYLOADS)]
    township = summary.find_region(store, "西堡镇")
    upload = uploads.inspect_file(store, "payloads.csv", "\n".join(lines).encode("utf-8"), new_region_parent=township)
    uploads.commit_upload(store, upload, user_name=ANALYST)
    children = storage.tree_children(store, township)
    store.close()
    villages = [int(children.loc[children["name"].str.contains(w, regex=False), "region_id"].iloc[0]) for w in WORDS]
    return path, villages


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def rendered_texts(at) -> tuple[list[str], list[str], list[str]]:
    """(texts Streamlit renders as markdown, every other text, chart specs) of a run: bodies of titles,
    captions, alerts, toasts and metrics and every label and help; option lists and table cells; plotly specs."""
    markdown, plain, charts = [], [], []

    def visit(node) -> None:
        for child in getattr(node, "children", {}).values():
            visit(child)
        kind = getattr(node, "type", None)
        for attribute in ("label", "help", "value", "body", "options"):
            try:
                value = getattr(node, attribute, None)
            except Exception:  # some widgets have no value outside a session
                continue
            if isinstance(value, pd.DataFrame):
                plain.append(value.to_csv(index=False) + " ".join(map(str, value.columns)))
            elif isinstance(value, str) and (attribute in ("label", "help") or kind in MARKDOWN_ELEMENTS):
                markdown.append(value)
            elif value is not None:
                plain.append(str(value))
        if kind == "plotly_chart":
            charts.append(json.dumps(json.loads(node.proto.spec), ensure_ascii=False))
            plain.append(node.proto.alt)  # an attribute (aria-label): text whatever it holds

    visit(at._tree)
    return markdown, plain, charts


def assert_plain(at, where) -> list[str]:
    assert not at.exception, (where, [e.value for e in at.exception])
    markdown, plain, charts = rendered_texts(at)
    unescaped = [text for text in markdown if UNESCAPED.search(text)]
    assert not unescaped, (where, unescaped)
    hidden = [text for text in plain + charts if any(ch in text for ch in INVISIBLE)]
    assert not hidden, (where, hidden)  # options and table cells are drawn as text, but without hidden characters
    tags = [text for text in charts if "<a " in text or "<img" in text or "<script" in text]
    assert not tags, (where, tags)  # chart labels and hovers: tags escaped as &lt;…
    return markdown


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_payload_region_names_and_sources_are_plain_on_every_page(payload_db, monkeypatch, spec):
    path, villages = payload_db
    monkeypatch.setenv("LAWSTATS_DB", str(path))
    for village, word in zip(villages, WORDS):
        at = run_page(spec, query={"region": str(village)})
        markdown = assert_plain(at, (spec.url_path, word))
        if spec.section != "manage":  # the analysts' pages (data, report) do not name the region
            assert any(word in text for text in markdown), (spec.url_path, word)  # read, not hidden
        if spec.default:  # the page's title names the region, as plain text
            assert at.title[0].value.startswith(plaintext.markdown(PAYLOADS[villages.index(village)])[:20])


@pytest.mark.parametrize(("spec", "lang"), [(p, "zh") for p in PAGES] + [(p, "en") for p in PAGES if p.default],
                         ids=[p.url_path for p in PAGES] + ["overview-en"])
def test_payload_link_parameters_are_plain_on_every_page(payload_db, monkeypatch, spec, lang):
    path, _ = payload_db
    monkeypatch.setenv("LAWSTATS_DB", str(path))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in {**LINK_PARAMS, "lang": lang if lang == "en" else LINK_PARAMS["lang"]}.items():
        at.query_params[key] = value
    at.run()
    first = assert_plain(at, (spec.url_path, "first run"))
    assert any("evil\\.example" in text for text in first), "the unknown region is not reported: proves nothing"
    if not spec.default:
        at.switch_page(spec.path)
        at.run()
        assert_plain(at, spec.url_path)


def test_payloads_in_the_deck_are_plain_text(payload_db):
    """The .pptx: every run is text without a hyperlink or an invisible character, and names the village."""
    from pptx import Presentation

    from lawstats import deck, slides

    path, villages = payload_db
    store = storage.Store(path)
    try:
        for village, word in zip(villages, WORDS):
            pptx = Presentation(io.BytesIO(deck.build_pptx(slides.build(store, village, 2024, "zh"))))
            runs = [run for page in pptx.slides for shape in page.shapes if shape.has_text_frame
                    for paragraph in shape.text_frame.paragraphs for run in paragraph.runs]
            assert not [r.text for r in runs if r.hyperlink.address is not None], word
            text = "\n".join(r.text for r in runs)
            assert word in text
            assert not any(ch in text for ch in INVISIBLE), word
            xml = b"".join(part.blob for part in pptx.part.package.iter_parts())
            assert b"hlinkClick" not in xml and "\u200b".encode() not in xml and "\u202e".encode() not in xml
    finally:
        store.close()


# In Chromium: what the markdown would have become (a heading's own anchor, href="#…", may carry the word)
PAYLOAD_DOM = ("a[href*='evil']:not([href^='#']), img[src*='evil'], .katex, strong:has-text('粗体'), script:has-text('alert(2)'), "
               "[data-testid='stIconMaterial']:text-is('home')")


FIRST_RUN_MS = 120_000  # a fresh server's first run: slow on a busy machine


@pytest.fixture(scope="module")
def payload_server(payload_db):
    require_chromium()
    path, villages = payload_db
    with streamlit_server(path) as url:
        yield url, villages


def assert_no_payload_markup(page, where) -> None:
    found = page.locator(PAYLOAD_DOM)
    assert found.count() == 0, (where, [found.nth(i).evaluate("e => e.outerHTML") for i in range(found.count())])
    text = page.locator('[data-testid="stApp"]').inner_text()
    assert not any(ch in text for ch in INVISIBLE), where
    svg_links = page.locator(".js-plotly-plot a")
    assert svg_links.count() == 0, where


@pytest.mark.browser
def test_payloads_render_as_text_in_chromium_on_every_page(payload_server, page):
    url, villages = payload_server
    page.set_default_timeout(FIRST_RUN_MS)  # 50 page loads: a busy machine must not fail them
    visit(page, url, FIRST_RUN_MS)
    seen = ""
    for spec in PAGES:
        for village in villages:
            visit(page, f"{url}/{spec.url_path}?region={village}")
            assert_no_payload_markup(page, (spec.url_path, village))
            seen += as_read(page.locator('[data-testid="stMain"]').inner_text())
        query = urllib.parse.urlencode(LINK_PARAMS)
        text = as_read(visit(page, f"{url}/{spec.url_path}?{query}"))
        assert_no_payload_markup(page, (spec.url_path, "link"))
        assert "[x](http://evil.example/login)" in text, spec.url_path  # the notice quotes the link as typed
    assert EVIL_LINK in seen and "**粗体** :material/home: $x^2$" in seen


def as_read(text: str) -> str:
    """The text as a reader sees it: without the invisible word joiners that keep addresses from being linked."""
    return text.replace("\u2060", "")


def test_plaintext_helpers_neutralise_each_kind_of_markup():
    """The one escaping module, unit by unit: hidden characters dropped, markdown and autolinks escaped,
    plotly tags as entities, table cells cleaned by position (repeated headers too)."""
    assert plaintext.visible("零\u200b宽\u202e反\ufeff向\u2066") == "零宽反向"
    text = plaintext.markdown("[x](http://evil.example) ![i](y) **b** :material/home: $x^2$ <b> a@b.cn www.x.cn")
    assert not re.search(r"(?<!\\)[\[\]*:$<>]", text.replace("\u2060", ""))  # every special is escaped
    assert "http\u2060" in text and "www\u2060" in text and "a\u2060@" in text  # GFM links none of them
    assert plaintext.plotly("<a href='x'>&</a>\u202e") == "&lt;a href='x'&gt;&amp;&lt;/a&gt;"
    table = pd.DataFrame([["a\u200bb", 1]], columns=["c\u202e", "c\u202e"])
    cleaned = plaintext.frame(table)
    assert list(cleaned.columns) == ["c", "c"] and cleaned.iloc[0, 0] == "ab" and cleaned.iloc[0, 1] == 1
