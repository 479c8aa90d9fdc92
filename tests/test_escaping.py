"""Text from users and files is shown as text everywhere, in a real browser: a region named
``<script>alert(1)</script>`` and a cell ``<img src=x onerror=alert(1)>`` (uploaded through the library, as an
analyst would) appear literally on every page, in chart hover labels too, and no script ever runs
(``page.on("dialog")`` never fires, no element is injected)."""

from __future__ import annotations

import pytest

from lawstats import auth, seed, summary, uploads
from lawstats.navigation import PAGES
from tests.browser import chromium_page, require_chromium, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser

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


def visit(page, url: str) -> str:
    page.goto(url)
    wait_for_app(page)
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


def test_every_page_chart_and_hover_shows_the_hostile_texts_literally(hostile, page):
    """Each page, for the township and for the hostile village: the texts are on the page as typed; every
    chart that names the village (axis, legend) writes it literally, and so does its hover label."""
    url, village = hostile
    named, hovers = [], []
    for spec in [p for p in PAGES if p.url_path != "data"]:
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
