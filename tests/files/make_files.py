"""The files the import tests read, built as real bytes: CSV in every encoding analysts send, XLSX as Excel and
WPS write them (several sheets, merged headers, total rows, percent-formatted cells), and the files that must
be refused (macros, zip bombs, renamed and old formats).

Tests call these functions; ``python tests/files/make_files.py [DIR]`` writes every file out to look at
(default: ``tests/files/out/``; nothing from it is committed).
All figures are either the 西堡镇 2024 figures of ``data/`` or labelled synthetic (合成).
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

# One small population table: 西堡镇 2024 as the report gives it, and two synthetic villages.
POPULATION_HEADER = ["乡镇", "年度", "户籍户数", "户籍人口", "常住户数", "常住人口", "少数民族人口", "来源"]
POPULATION_ROWS = [
    ["西堡镇", "2024", "7017", "25218", "6625", "23971", "162", "西堡镇2024年度法治政府建设工作情况报告"],
    ["合成村甲", "2024", "300", "1,200", "280", "1，100", "约20", "合成数据（仅供测试）"],
    ["合成村乙", "2024", "２５０", "1000", "240", "900", "—", "合成数据（仅供测试）"],
]
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16")


def regions_csv() -> bytes:
    """Two synthetic villages under 西堡镇 (the seed holds the province, city, county and township)."""
    text = "名称,级别,上级\n合成村甲,村,西堡镇\n合成村乙,村,西堡镇\n"
    return text.encode("utf-8")


def population_csv(encoding: str = "utf-8", rows: list[list[str]] | None = None,
                   header: list[str] | None = None) -> bytes:
    """The population table as CSV in ``encoding``; UTF-16 as Excel's "Unicode text" (tab-separated, BOM)."""
    header = header or POPULATION_HEADER
    rows = POPULATION_ROWS if rows is None else rows
    separator = "\t" if encoding == "utf-16" else ","
    lines = [separator.join(_quoted(c, separator) for c in line) for line in [header, *rows]]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)  # "utf-16" writes the BOM itself


def _quoted(cell: str, separator: str) -> str:
    return f'"{cell}"' if separator in cell or "," in cell or '"' in cell else cell


# ---------------------------------------------------------------------------------------------------------
# XLSX


def workbook_bytes(build) -> bytes:
    """An XLSX built by ``build(workbook)`` with openpyxl, as bytes."""
    from openpyxl import Workbook

    workbook = Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def population_xlsx_plain() -> bytes:
    """One sheet, numbers stored as numbers, the rate cell formatted as percent (0.0064 shows 0.64%)."""
    def build(workbook):
        sheet = workbook.active
        sheet.title = "人口"
        sheet.append(["地区", "年份", "户籍户数", "户籍人口", "少数民族人口", "少数民族占比"])
        sheet.append(["西堡镇", 2024, 7017, 25218.0, 162, 0.0064])
        sheet["F2"].number_format = "0.00%"
    return workbook_bytes(build)


def population_xlsx_merged() -> bytes:
    """As WPS users lay it out: a merged title row, a two-row header with merged group cells
    (户籍 over 户数 | 人口, 常住 over 户数 | 人口; 地区 and 年份 merged down), a region cell merged over two
    years, a total row (合计) at the bottom, and a notes sheet before the data sheet."""
    def build(workbook):
        notes = workbook.active
        notes.title = "填表说明"
        notes.append(["本表为合成数据（仅供测试）"])
        sheet = workbook.create_sheet("各村人口")
        sheet.append(["合成乡镇各村人口统计表（合成数据）"])
        sheet.merge_cells("A1:G1")
        sheet.append(["地区", "年份", "户籍", None, "常住", None, "来源"])
        sheet.append([None, None, "户数", "人口", "户数", "人口", None])
        for cells in ("A2:A3", "B2:B3", "C2:D2", "E2:F2", "G2:G3"):
            sheet.merge_cells(cells)
        sheet.append(["合成村甲", 2023, 290, 1180, 270, 1090, "合成数据（仅供测试）"])
        sheet.append([None, 2024, 300, 1200, 280, 1100, "合成数据（仅供测试）"])
        sheet.merge_cells("A4:A5")
        sheet.append(["合成村乙", 2024, 250, 1000, 240, 900, "合成数据（仅供测试）"])
        sheet.append(["合计", None, 840, 3380, 790, 3090, None])
    return workbook_bytes(build)


def two_tables_xlsx() -> bytes:
    """Two data sheets: population first, land (in 公顷) second."""
    def build(workbook):
        sheet = workbook.active
        sheet.title = "人口"
        sheet.append(["地区", "年份", "户籍人口"])
        sheet.append(["西堡镇", 2023, 25000])
        land = workbook.create_sheet("土地")
        land.append(["地区", "年份", "耕地(公顷)", "林地面积（亩）"])
        land.append(["西堡镇", 2023, 2913, 58670.24])
    return workbook_bytes(build)


def xlsm_bytes() -> bytes:
    """A macro-enabled workbook: a valid XLSX with a VBA project inside."""
    plain = population_xlsx_plain()
    return _rezip(plain, extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really VBA"})


def zip_bomb_xlsx(expanded_mb: int = 64) -> bytes:
    """A workbook whose sheet XML expands ~1000-fold: the zip directory says so before anything is opened."""
    plain = population_xlsx_plain()
    filler = b"<!--" + b" " * (expanded_mb * 2**20) + b"-->"
    with zipfile.ZipFile(io.BytesIO(plain)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml")
    head, tail = sheet.split(b"<sheetData>", 1)
    return _rezip(plain, replace={"xl/worksheets/sheet1.xml": head + filler + b"<sheetData>" + tail})


def _rezip(data: bytes, extra: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = (replace or {}).get(item.filename, source.read(item.filename))
            target.writestr(item.filename, body)
        for name, body in (extra or {}).items():
            target.writestr(name, body)
    return out.getvalue()


def old_xls_bytes() -> bytes:
    """The start of an OLE2 compound file, as .xls (Excel 97-2003) and .et (WPS) files begin."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


# ---------------------------------------------------------------------------------------------------------


def every_file() -> dict[str, bytes]:
    files = {f"population_{e}.csv": population_csv(e) for e in ENCODINGS}
    files.update({
        "regions.csv": regions_csv(),
        "population_plain.xlsx": population_xlsx_plain(),
        "population_merged_wps.xlsx": population_xlsx_merged(),
        "two_tables.xlsx": two_tables_xlsx(),
        "macros.xlsm": xlsm_bytes(),
        "zip_bomb.xlsx": zip_bomb_xlsx(),
        "old_format.xls": old_xls_bytes(),
        "not_a_workbook.xlsx": population_csv("utf-8"),
    })
    return files


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "out"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in every_file().items():
        (folder / name).write_bytes(data)
        print(folder / name, len(data))
