"""The message catalog: every sentence of the interface, in Chinese (first) and English.

Names of tables, columns and indicators are not here: they come from ``lawstats.registry``.
``t(key, lang, **params)`` formats a message; an unknown key is a bug and raises ``KeyError``.
"""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

MESSAGES: dict[str, tuple[str, str]] = {
    # --- frame and navigation ---
    "app.title": ("乡镇统计看板", "Township statistics dashboard"),
    "app.language": ("语言 / Language", "语言 / Language"),
    "app.region": ("地区", "Region"),
    "app.year": ("年份", "Year"),
    "app.synthetic_badge": ("⚠ 合成数据（仅供测试，非真实统计）", "⚠ Synthetic data (for testing, not real statistics)"),
    "app.unknown_region": ("链接中的地区“{value}”不存在，已显示默认地区。", "The region “{value}” in the link does not exist; showing the default region."),
    "app.unknown_year": ("链接中的年份“{value}”没有数据，已显示最近年份。", "There is no data for the year “{value}” in the link; showing the latest year."),
    "app.no_data": ("数据库中还没有数据。运行 python -m lawstats init 从 data/ 载入默认数据。", "The database holds no data yet. Run python -m lawstats init to load the default data from data/."),
    "page.overview": ("总览", "Overview"),
    "page.population": ("人口", "Population"),
    "page.land": ("土地", "Land"),
    "page.grid": ("网格与企业", "Grid and enterprises"),
    "page.training": ("学法培训", "Legal training"),
    "page.governance": ("平安治理", "Safety and disputes"),
    "page.glossary": ("指标说明", "Indicators and sources"),
    # --- shared words ---
    "common.source": ("来源：{source}", "Source: {source}"),
    "common.data_as_of": ("数据版本：第{version}批，更新于 {when}", "Data version: batch {version}, updated {when}"),
    "common.show_table": ("查看数据表", "Show the numbers"),
    "common.value": ("数值", "Value"),
    "common.unit": ("单位", "Unit"),
    "common.year": ("年份", "Year"),
    "common.region": ("地区", "Region"),
    "common.indicator": ("指标", "Indicator"),
    "common.missing": ("—", "—"),
    "common.yoy": ("同比", "YoY"),
    "common.approx": ("约数", "approximate"),
    "common.check_ok": ("✅ 核对通过", "✅ Checks pass"),
    "common.check_failed": ("⚠ 核对未通过：{checks}", "⚠ Check failed: {checks}"),
    "common.check_na": ("— 无法核对（缺少数据）", "— Cannot check (figures missing)"),
    "common.one_year_only": ("目前只有 {year} 年一年的数据，无法显示趋势。上传其他年份的数据（数据管理页面或 python -m lawstats import）后即可比较。", "There is data for {year} only, so no trend can be drawn. Upload other years (data management page or python -m lawstats import) to compare."),
    "common.no_children": ("数据库中没有“{region}”下级地区（村、社区）的数据，报告未列出各村名称和数字。按模板上传各村数据后即可在此比较。", "The database holds no figures for the villages or communities of “{region}”: the report does not list them. Upload them in the template format to compare them here."),
    "common.no_figures": ("“{region}” {year} 年没有“{what}”的数据。", "There are no “{what}” figures for “{region}” in {year}."),
    # --- errors ---
    "error.db_locked": ("数据库文件 {path} 正被另一个程序使用（例如另一个 lawstats 或 streamlit 进程）。请关闭该程序后重试。", "The database file {path} is in use by another program (another lawstats or streamlit process, for example). Close it and try again."),
    "error.db_corrupt": ("数据库文件 {path} 无法打开（{reason}）。文件未被改动。请把它移到别处保存，然后重新启动，系统会从 data/ 重建数据库。", "The database file {path} cannot be opened ({reason}). It has not been changed. Move it elsewhere to keep it, then start again: the database will be rebuilt from data/."),
    "error.unknown_region": ("找不到地区“{value}”。", "No region named “{value}”."),
    "error.unknown_table": ("没有名为“{value}”的数据表。可用的表：{tables}", "There is no table named “{value}”. Tables: {tables}"),
    "error.unknown_batch": ("没有编号为 {value} 的批次。", "There is no batch {value}."),
    "error.batch_already_undone": ("批次 {value} 已经撤销过。", "Batch {value} has already been undone."),
    "error.seed_invalid": ("默认数据文件 {path} 有误，无法载入。", "The default data file {path} is invalid and cannot be loaded."),
    # --- reading files and validation problems ---
    "error.encoding_failed": ("无法按 {encoding} 编码读取文件（第 {position} 个字节出错）。请换一种编码。", "The file cannot be read as {encoding} (error at byte {position}). Choose another encoding."),
    "error.encoding_unknown": ("无法识别文件编码：既不是 UTF-8 也不是 GBK/GB18030（第 {position} 个字节）。请在 Excel/WPS 中另存为“CSV UTF-8”后重试，或手动选择编码。", "The file's encoding is not UTF-8 nor GBK/GB18030 (byte {position}). Save it as “CSV UTF-8” in Excel/WPS, or choose the encoding."),
    "error.not_text": ("文件不是文本表格（含有二进制内容）。", "The file is not a text table (it holds binary content)."),
    "error.empty_file": ("文件是空的。", "The file is empty."),
    "error.no_header": ("文件没有表头行。第一行应是列名（如 地区、年份、户籍人口）。", "The file has no header row. The first row must name the columns (region, year, ...)."),
    "error.row_too_long": ("第 {row} 行的单元格比表头多（表头有 {width} 列）。", "Row {row} has more cells than the header ({width} columns)."),
    "error.validation_failed": ("文件有 {count} 处问题，未导入任何数据。请按下表修改后重新上传。", "The file has {count} problems; nothing was imported. Fix them as listed and upload again."),
    "problem.col_row": ("行", "Row"),
    "problem.col_column": ("列", "Column"),
    "problem.col_value": ("原始内容", "Original text"),
    "problem.col_problem": ("问题", "Problem"),
    "problem.not_a_number": ("不是可识别的数字", "not a number"),
    "problem.percent_not_allowed": ("这一列是人数或个数，不能写百分比", "this column is a count: a percentage is not allowed"),
    "problem.not_integer": ("应为整数", "must be a whole number"),
    "problem.negative": ("不能为负数", "must not be negative"),
    "problem.out_of_range": ("超出允许范围（{detail}）", "out of range ({detail})"),
    "problem.bad_choice": ("不是允许的取值", "not one of the allowed values"),
    "problem.bad_year": ("年份应为 {detail} 之间的四位数字", "the year must be four digits within {detail}"),
    "problem.missing_region": ("缺少地区名称或代码", "region name or code missing"),
    "problem.unknown_region": ("系统中没有这个地区", "no such region is known"),
    "problem.ambiguous_region": ("有多个同名地区，请填写“上级地区”或统计用区划代码", "several regions have this name: add a parent region or the statistical code"),
    "problem.unknown_code": ("没有这个统计用区划代码", "no region has this statistical code"),
    "problem.bad_code": ("统计用区划代码应为12位数字", "a statistical division code has 12 digits"),
    "problem.unknown_level": ("级别应为 省、市、县（区）、乡镇（街道）或村（社区）", "the level must be province, city, county, township or village"),
    "problem.missing_key": ("此项不能为空", "must not be blank"),
    "problem.exceeds": ("数值矛盾：应满足 {detail}", "figures contradict each other: {detail} must hold"),
    "problem.duplicate_key": ("与第 {detail} 行重复（同一地区、年份）", "repeats row {detail} (same region and year)"),
    "problem.missing_column": ("缺少必需的列“{detail}”", "required column “{detail}” is missing"),
    "problem.no_value_columns": ("没有可识别的数据列（表：{detail}）", "no recognised data columns (table: {detail})"),
    "problem.unknown_unit": ("表头中的单位无法识别（应为 {detail}）", "the unit in the header is not known (expected {detail})"),
    "problem.duplicate_column": ("与列“{detail}”含义相同，重复了", "means the same as column “{detail}”"),
    "problem.table_not_recognised": ("无法从表头判断是哪张数据表，请手动选择", "cannot tell the table from the headers: choose it"),
    "problem.table_twice": ("与文件 {detail} 是同一张表", "is the same table as file {detail}"),
    "notice.total_row_skipped": ("第 {row} 行是合计行，已跳过。", "Row {row} is a total row and was left out."),
    # --- CLI ---
    "cli.init_done": ("数据库 {path} 已就绪：{batches} 个批次。", "Database {path} is ready: {batches} batches."),
}


def t(key: str, lang: str = DEFAULT_LANG, **params) -> str:
    zh, en = MESSAGES[key]
    text = zh if lang == "zh" else en
    return text.format(**params) if params else text


def pick(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en
