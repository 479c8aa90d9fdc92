"""The PowerPoint deck: ``lawstats.slides`` written as a 16:9 .pptx with python-pptx.

Everything stays editable in PowerPoint and WPS: charts are native chart objects (their numbers in the
embedded workbook), KPIs and tables are text, every slide has a real title (the outline view lists them) and
speaker notes with the definitions of what it shows. Each slide's footer gives its source, the data version and
the page number.

Fonts: Chinese text must look right on the officials' Chinese Windows (PowerPoint or WPS) and still render on
Linux. Runs name 微软雅黑 as their East Asian font (``a:ea``, which ``font.name`` does not set: it writes only
``a:latin``) and Microsoft YaHei as Latin font; the theme says the same, so chart axes and table cells inherit
it. Elsewhere fontconfig substitutes Noto Sans CJK (see ``docs/fontconfig/``).
"""

from __future__ import annotations

import io
import re
from datetime import datetime

from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from lawstats.plaintext import visible
from lawstats.slides import Chart, Deck, Kpi, Slide, Table, fit_number

SLIDE_WIDTH, SLIDE_HEIGHT = Emu(12_192_000), Emu(6_858_000)  # 13.333 × 7.5 in: 16:9
EAST_ASIAN_FONT = "微软雅黑"
LATIN_FONT = "Microsoft YaHei"
INK = RGBColor(0x00, 0x00, 0x00)
MUTED = RGBColor(0x40, 0x40, 0x40)
ACCENT = RGBColor(0xB7, 0x1C, 0x1C)
TILE = RGBColor(0xF2, 0xF2, 0xF2)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
SERIES_COLORS = [RGBColor.from_string(c) for c in ("1565C0", "2E7D32", "EF6C00", "6A1B9A", "00838F")]
FOOTER_NAME = "lawstats-footer"

LAYOUT_TITLE, LAYOUT_TITLE_ONLY = 0, 5  # of python-pptx's default template
MARGIN = Inches(0.5)
CONTENT_TOP = Inches(1.35)
FOOTER_TOP = Inches(7.0)
CONTENT_BOTTOM = Inches(6.9)


def build_pptx(deck: Deck) -> bytes:
    """The deck as .pptx bytes (for a download button)."""
    buffer = io.BytesIO()
    presentation(deck).save(buffer)
    return buffer.getvalue()


def write_pptx(deck: Deck, path) -> None:
    presentation(deck).save(str(path))


def presentation(deck: Deck):
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    _set_theme_fonts(prs)
    _set_properties(prs, deck)
    for index, slide in enumerate(deck.slides):
        page = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE if slide.section == "title" else
                                                      LAYOUT_TITLE_ONLY])
        _remove_unused_placeholders(page)
        DRAW[_kind(slide)](page, slide, deck.lang)
        _footer(page, deck.footer(index), deck.lang)
        if slide.notes:
            _paragraphs(page.notes_slide.notes_text_frame, [(line, 12, False, INK) for line in
                                                           slide.notes.splitlines()], deck.lang)
    return prs


def _set_properties(prs, deck: Deck) -> None:
    """File → Info in PowerPoint: what the deck is, made when, by lawstats."""
    now = datetime.now().replace(microsecond=0)
    properties = prs.core_properties
    properties.title = visible(deck.slides[0].title if deck.slides else deck.region)
    properties.subject = deck.version_text
    properties.author = properties.last_modified_by = "lawstats"
    properties.created = properties.modified = now
    properties.revision = 1


def _kind(slide: Slide) -> str:
    if slide.section == "title":
        return "title"
    if slide.table is not None:
        return "table"
    if slide.kpis and slide.chart is not None:
        return "kpis_and_chart"
    if slide.kpis:
        return "kpis"
    return "chart"


# ---------------------------------------------------------------------------------------------------------
# Fonts


def _set_typefaces(rPr, lang: str) -> None:
    """Latin, East Asian and complex-script typefaces on one run's (or a default's) properties, in schema
    order (latin, ea, cs), and the language, so that PowerPoint and WPS pick the Chinese font."""
    rPr.set("lang", "zh-CN" if lang == "zh" else "en-US")
    rPr.set("altLang", "en-US" if lang == "zh" else "zh-CN")
    latin = rPr.get_or_add_latin()
    latin.set("typeface", LATIN_FONT)
    previous = latin
    for tag, typeface in (("a:ea", EAST_ASIAN_FONT), ("a:cs", LATIN_FONT)):
        element = rPr.find(qn(tag))
        if element is None:
            element = etree.SubElement(rPr, qn(tag))
            previous.addnext(element)
        element.set("typeface", typeface)
        previous = element


def _style(font, size: float, bold: bool = False, color: RGBColor = INK, lang: str = "zh") -> None:
    font.size = Pt(size)
    font.bold = bold
    font.color.rgb = color
    _set_typefaces(font._rPr, lang)


def _set_theme_fonts(prs) -> None:
    """The theme's heading and body fonts (Latin, East Asian and the Simplified Chinese script font): what
    chart texts, table cells and anything typed later in PowerPoint use."""
    part = prs.slide_master.part.part_related_by(RT.THEME)
    xml = part.blob.decode("utf-8")
    xml = re.sub(r'<a:latin typeface="[^"]*"', f'<a:latin typeface="{LATIN_FONT}"', xml)
    xml = re.sub(r'<a:ea typeface="[^"]*"', f'<a:ea typeface="{EAST_ASIAN_FONT}"', xml)
    xml = re.sub(r'<a:font script="Hans" typeface="[^"]*"', f'<a:font script="Hans" typeface="{EAST_ASIAN_FONT}"',
                 xml)
    part._blob = xml.encode("utf-8")  # the theme is a plain part in python-pptx: its bytes are its content


# ---------------------------------------------------------------------------------------------------------
# Text


def _paragraphs(frame, lines, lang: str, align=PP_ALIGN.LEFT) -> None:
    """Write ``(text, size, bold, color)`` lines into a text frame, one paragraph each."""
    frame.clear()
    for i, (text, size, bold, color) in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.alignment = align
        run = paragraph.add_run()
        run.text = visible(text)  # region names and sources as stored, without invisible or bidi characters
        _style(run.font, size, bold, color, lang)


def _text_box(page, left, top, width, height, lines, lang: str, align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP,
              name: str | None = None):
    box = page.shapes.add_textbox(left, top, width, height)
    if name:
        box.name = name
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    for side in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
        setattr(frame, side, Inches(0.05))
    _paragraphs(frame, lines, lang, align)
    return box


def _remove_unused_placeholders(page) -> None:
    """Keep only the title (and subtitle) placeholders: empty date/footer boxes would show in edit mode."""
    for shape in list(page.placeholders):
        if shape.placeholder_format.idx not in (0, 1):
            shape._element.getparent().remove(shape._element)


def _title(page, text: str, lang: str) -> None:
    title = page.shapes.title
    title.left, title.top, title.width, title.height = MARGIN, Inches(0.3), SLIDE_WIDTH - 2 * MARGIN, Inches(0.85)
    frame = title.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    _paragraphs(frame, [(text, 30, True, INK)], lang)
    rule = page.shapes.add_shape(MSO_SHAPE.RECTANGLE, MARGIN, Inches(1.15), Inches(1.6), Inches(0.07))
    _fill(rule, ACCENT)


def _fill(shape, color: RGBColor) -> None:
    """A flat shape of one colour: no outline, and no theme style (which brings a shadow and its own font)."""
    shape.fill.solid()
    shape.fill.fore_color.rgb = color
    shape.line.fill.background()
    style = shape._element.find(qn("p:style"))
    if style is not None:
        shape._element.remove(style)


def _footer(page, text: str, lang: str) -> None:
    _text_box(page, MARGIN, FOOTER_TOP, SLIDE_WIDTH - 2 * MARGIN, Inches(0.4), [(text, 10, False, MUTED)], lang,
              anchor=MSO_ANCHOR.MIDDLE, name=FOOTER_NAME)


# ---------------------------------------------------------------------------------------------------------
# The kinds of slide


def draw_title(page, slide: Slide, lang: str) -> None:
    band = page.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, Inches(2.0), Inches(0.35), Inches(2.6))
    _fill(band, ACCENT)
    title = page.shapes.title
    title.left, title.top, title.width, title.height = Inches(0.9), Inches(1.9), Inches(11.5), Inches(1.5)
    title.text_frame.word_wrap = True
    title.text_frame.vertical_anchor = MSO_ANCHOR.BOTTOM
    _paragraphs(title.text_frame, [(slide.title, 44, True, INK)], lang)
    subtitle = page.placeholders[1]
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = Inches(0.9), Inches(3.5), Inches(11.5), Inches(2.6)
    subtitle.text_frame.word_wrap = True
    subtitle.text_frame.vertical_anchor = MSO_ANCHOR.TOP
    lines = [(slide.subtitle, 26, False, ACCENT)] + [(line, 18, False, MUTED) for line in slide.lines]
    _paragraphs(subtitle.text_frame, lines, lang)


def draw_kpis(page, slide: Slide, lang: str) -> None:
    _title(page, slide.title, lang)
    columns = 4 if len(slide.kpis) > 6 else 3
    _kpi_grid(page, slide.kpis, MARGIN, CONTENT_TOP + Inches(0.2), SLIDE_WIDTH - 2 * MARGIN,
              CONTENT_BOTTOM - CONTENT_TOP - Inches(0.4), columns, lang)


def draw_kpis_and_chart(page, slide: Slide, lang: str) -> None:
    _title(page, slide.title, lang)
    height = CONTENT_BOTTOM - CONTENT_TOP - Inches(0.2)
    left_width = Inches(5.2)
    _kpi_grid(page, slide.kpis, MARGIN, CONTENT_TOP + Inches(0.1), left_width, height, 2, lang)
    left = MARGIN + left_width + Inches(0.3)
    _chart(page, slide.chart, left, CONTENT_TOP + Inches(0.05), SLIDE_WIDTH - MARGIN - left, height, lang)


def draw_chart(page, slide: Slide, lang: str) -> None:
    _title(page, slide.title, lang)  # names the chart: the chart itself goes without a title
    _chart(page, slide.chart, MARGIN, CONTENT_TOP + Inches(0.05), SLIDE_WIDTH - 2 * MARGIN,
           CONTENT_BOTTOM - CONTENT_TOP - Inches(0.1), lang, titled=False)


def draw_table(page, slide: Slide, lang: str) -> None:
    _title(page, slide.title, lang)
    lines_height = Inches(0.4) * len(slide.lines)
    _table(page, slide.table, MARGIN, CONTENT_TOP + Inches(0.15), SLIDE_WIDTH - 2 * MARGIN, lang)
    if slide.lines:
        _text_box(page, MARGIN, CONTENT_BOTTOM - lines_height, SLIDE_WIDTH - 2 * MARGIN, lines_height,
                  [(line, 14, False, MUTED) for line in slide.lines], lang, anchor=MSO_ANCHOR.BOTTOM)


DRAW = {"title": draw_title, "kpis": draw_kpis, "kpis_and_chart": draw_kpis_and_chart, "chart": draw_chart,
        "table": draw_table}


# ---------------------------------------------------------------------------------------------------------
# KPI tiles, charts and tables


def _kpi_grid(page, kpis: tuple[Kpi, ...], left, top, width, height, columns: int, lang: str) -> None:
    rows = max(1, -(-len(kpis) // columns))
    gap = Inches(0.2)
    tile_w = int((width - gap * (columns - 1)) / columns)
    tile_h = int((height - gap * (rows - 1)) / rows)
    largest = 36 if rows <= 2 else 30
    text_room = Emu(tile_w - Inches(0.4)).pt  # inside the tile's margins
    for i, kpi in enumerate(kpis):
        value_size, unit_below = fit_number(kpi.number, kpi.unit, text_room, largest, 16)
        x = left + (i % columns) * (tile_w + gap)
        y = top + (i // columns) * (tile_h + gap)
        tile = page.shapes.add_shape(MSO_SHAPE.RECTANGLE, x, y, tile_w, tile_h)
        tile.name = f"KPI {kpi.indicator_id}"
        _fill(tile, TILE)
        accent = page.shapes.add_shape(MSO_SHAPE.RECTANGLE, x, y, Inches(0.08), tile_h)
        _fill(accent, ACCENT)
        frame = tile.text_frame
        frame.word_wrap = True
        frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        frame.margin_left, frame.margin_right = Inches(0.25), Inches(0.1)
        unit_size = max(12, round(value_size * 0.45))
        lines = [(kpi.label, 16, False, INK), (kpi.number, value_size, True, INK)]
        if unit_below:  # number and unit do not fit one line: the unit goes under the number
            lines.append((kpi.unit, unit_size, False, INK))
        lines += [(text, 12, False, color) for text, color in ((kpi.change, MUTED), (kpi.warning, ACCENT)) if text]
        _paragraphs(frame, lines, lang)
        if kpi.unit and not unit_below:  # smaller than the number, beside it
            run = frame.paragraphs[1].add_run()
            run.text = f" {kpi.unit}"
            _style(run.font, unit_size, False, INK, lang)


CHART_TYPES = {"column": XL_CHART_TYPE.COLUMN_CLUSTERED, "bar": XL_CHART_TYPE.BAR_CLUSTERED,
               "line": XL_CHART_TYPE.LINE_MARKERS}


def number_format(decimals: int, unit: str) -> str:
    """The Excel number format of a chart's values: thousands separators, the decimals, a % sign for rates
    (stored as 0–100, so the sign is literal text)."""
    base = "#,##0" + ("." + "0" * decimals if decimals else "")
    return base + '"%"' if unit == "%" else base


def _chart(page, chart: Chart, left, top, width, height, lang: str, titled: bool = True) -> None:
    fmt = number_format(chart.decimals, chart.unit)
    data = CategoryChartData(number_format=fmt)
    data.categories = [visible(c) for c in chart.categories]
    for series in chart.series:
        data.add_series(visible(series.name), list(series.values), number_format=fmt)
    frame = page.shapes.add_chart(CHART_TYPES[chart.kind], left, top, width, height, data)
    frame.name = f"Chart {visible(chart.title)}"
    frame._element.nvGraphicFramePr.cNvPr.set("descr", visible(chart.title))  # alt text for screen readers
    native = frame.chart
    _style(native.font, 14, lang=lang)
    native.has_title = titled  # False also stops PowerPoint from titling a one-series chart with its name
    if titled:
        _paragraphs(native.chart_title.text_frame, [(chart.title, 18, True, INK)], lang)
    native.has_legend = len(chart.series) > 1
    if native.has_legend:
        native.legend.position = XL_LEGEND_POSITION.TOP
        native.legend.include_in_layout = False
        _style(native.legend.font, 14, lang=lang)
    plot = native.plots[0]
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format, labels.number_format_is_linked = fmt, False
    labels.position = XL_LABEL_POSITION.ABOVE if chart.kind == "line" else XL_LABEL_POSITION.OUTSIDE_END
    _style(labels.font, 14, lang=lang)
    if chart.kind == "line":  # alternate above and below, so that the labels of close lines do not collide
        for i, series in enumerate(plot.series):
            if i % 2:  # a series' own labels replace the chart's: say again what they show
                own = series.data_labels
                own.show_value, own.position = True, XL_LABEL_POSITION.BELOW
                own.number_format, own.number_format_is_linked = fmt, False
                _style(own.font, 14, lang=lang)
    if chart.kind != "line":
        plot.gap_width = 60
        plot.vary_by_categories = False
    for i, series in enumerate(plot.series):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        if chart.series[i].colour:  # a measure keeps its page colour in the deck
            color = RGBColor.from_string(chart.series[i].colour.lstrip("#").upper())
        if chart.kind == "line":
            series.format.line.color.rgb = color
            series.format.line.width = Pt(3.5)
            series.marker.format.fill.solid()
            series.marker.format.fill.fore_color.rgb = color
            series.smooth = False
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = color
            for point, colour in zip(range(len(chart.categories)), chart.colours):  # each measure its page colour
                series.points[point].format.fill.solid()
                series.points[point].format.fill.fore_color.rgb = RGBColor.from_string(colour.lstrip("#").upper())
    value_axis = native.value_axis
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = RGBColor(0xD0, 0xD0, 0xD0)
    value_axis.tick_labels.number_format = number_format(0, chart.unit)
    value_axis.tick_labels.number_format_is_linked = False
    _style(value_axis.tick_labels.font, 12, lang=lang)
    category_axis = native.category_axis
    _style(category_axis.tick_labels.font, 14, lang=lang)
    if chart.kind == "bar":
        category_axis.reverse_order = True  # the first category on top, as it reads


def _table(page, table: Table, left, top, width, lang: str) -> None:
    rows, columns = len(table.rows) + 1, len(table.header)
    row_height = Inches(0.5)
    shape = page.shapes.add_table(rows, columns, left, top, width, row_height * rows)
    grid = shape.table
    total = sum(table.widths)
    for i, relative in enumerate(table.widths):
        grid.columns[i].width = int(width * relative / total)
    for j, text in enumerate(table.header):
        _cell(grid.cell(0, j), text, 15, True, WHITE, ACCENT, lang)
    for i, row in enumerate(table.rows, start=1):
        for j, text in enumerate(row):
            _cell(grid.cell(i, j), text, 13, j == 0, INK, WHITE if i % 2 else TILE, lang)


def _cell(cell, text: str, size: float, bold: bool, color: RGBColor, fill: RGBColor, lang: str) -> None:
    cell.fill.solid()
    cell.fill.fore_color.rgb = fill
    cell.margin_left = cell.margin_right = Inches(0.08)
    cell.margin_top = cell.margin_bottom = Inches(0.04)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    cell.text_frame.word_wrap = True
    _paragraphs(cell.text_frame, [(text, size, bold, color)], lang)
