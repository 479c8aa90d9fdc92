"""The one declaration of what the data means: every table, column, indicator and consistency check.

Everything else is derived from here: the DuckDB tables (storage), upload validation and header matching
(importer), templates, chart titles and axis units (charts), KPI tooltips and the glossary page.
Formulas live in ``lawstats.indicators``; a test checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Kinds of column. "count" is a non-negative integer, "area" is stored in 亩, "rate" in percent (0-100).
COUNT, AREA, RATE, TEXT, LIST, CHOICE = "count", "area", "rate", "text", "list", "choice"

# Area units people write in headers or cells, as multiples of the stored unit (亩). 1 公顷 = 15 亩.
AREA_UNITS = {"亩": 1.0, "mu": 1.0, "公顷": 15.0, "hm2": 15.0, "hm²": 15.0, "ha": 15.0,
              "万亩": 10_000.0, "平方公里": 1_500.0, "km2": 1_500.0, "km²": 1_500.0}


@dataclass(frozen=True)
class Column:
    id: str
    zh: str
    en: str
    kind: str
    unit_zh: str = ""
    unit_en: str = ""
    aliases: tuple[str, ...] = ()
    definition_zh: str = ""
    definition_en: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[tuple[str, str, str], ...] = ()  # (stored value, 中文, English) for CHOICE columns
    key: bool = False  # part of the row key beside region and year

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def unit(self, lang: str) -> str:
        return self.unit_zh if lang == "zh" else self.unit_en

    def definition(self, lang: str) -> str:
        return self.definition_zh if lang == "zh" else self.definition_en

    @property
    def numeric(self) -> bool:
        return self.kind in (COUNT, AREA, RATE)

    @property
    def sql_type(self) -> str:
        return {COUNT: "BIGINT", AREA: "DOUBLE", RATE: "DOUBLE", LIST: "VARCHAR[]"}.get(self.kind, "VARCHAR")


# How a summary figure aggregates the rows of one region and year.
SUM, MIN, MAX, ROWS = "sum", "min", "max", "rows"


@dataclass(frozen=True)
class Figure:
    """One figure of a breakdown table's summary per region and year (a column of ``sum_<table>``).

    ``how``: SUM, MIN or MAX of ``column``, or ROWS (how many rows). Only rows passing every filter count:
    ``among`` (a CHOICE column and one of its values), ``positive`` (these columns > 0), ``known`` (these
    columns not missing), ``any_known`` (at least one of these not missing). Sums and row counts add up over
    child regions; a minimum or maximum (of stated rates) does not.
    """
    id: str
    how: str
    column: str | None = None
    among: tuple[str, str] | None = None
    positive: tuple[str, ...] = ()
    known: tuple[str, ...] = ()
    any_known: tuple[str, ...] = ()

    @property
    def adds_up(self) -> bool:
        return self.how in (SUM, ROWS)

    @property
    def reads(self) -> tuple[str, ...]:
        """Every column the figure reads."""
        return ((self.column,) if self.column else ()) + ((self.among[0],) if self.among else ()) \
            + self.positive + self.known + self.any_known


@dataclass(frozen=True)
class Summary:
    """How the rows of a table with a breakdown (one row per item, e.g. per programme) summarise per region
    and year, so that pages and indicators never read item rows. Besides ``figures``, two check columns:
    ``<table>_order_violations``, how many rows break ``order`` (each column ≤ the next; counted where a row
    has at least two of them), which adds up; ``<table>_max_rate_gap``, the largest gap in points between a
    stated rate and the one its counts give (``stated_rates``: (stated, numerator, denominator), × 100), which
    does not. Uploads are refused where a row breaks the order (ROW_RULES); merged batches may still do so."""
    figures: tuple[Figure, ...]
    order: tuple[str, ...] = ()
    stated_rates: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Table:
    id: str
    zh: str
    en: str
    domain: str
    columns: tuple[Column, ...]
    definition_zh: str = ""
    definition_en: str = ""
    summary: Summary | None = None  # required exactly when the table has key columns (a breakdown)

    def __post_init__(self) -> None:
        if bool(self.key_columns) != (self.summary is not None):
            raise ValueError(f"table {self.id}: a breakdown key and a summary go together")
        if self.summary is None:
            return
        ids = {c.id for c in self.columns}
        summary = self.summary
        used = [n for f in summary.figures for n in f.reads] + list(summary.order)
        used += [n for rate in summary.stated_rates for n in rate]
        unknown = sorted(set(used) - ids)
        if unknown:
            raise ValueError(f"table {self.id}: its summary reads unknown columns {unknown}")
        for f in summary.figures:
            if f.how not in (SUM, MIN, MAX, ROWS) or (f.how == ROWS) == bool(f.column):
                raise ValueError(f"table {self.id}: summary figure {f.id} is not SUM/MIN/MAX of a column or ROWS")
            if f.among and f.among[1] not in {value for value, _, _ in self.column(f.among[0]).choices}:
                raise ValueError(f"table {self.id}: summary figure {f.id} filters on an undeclared choice")

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def summary_columns(self) -> tuple[tuple[str, bool], ...]:
        """(name, adds up over child regions) of every column of ``sum_<table>``, in order; () without a summary."""
        if self.summary is None:
            return ()
        columns = tuple((f.id, f.adds_up) for f in self.summary.figures)
        if self.summary.order:
            columns += ((f"{self.id}_order_violations", True),)
        if self.summary.stated_rates:
            columns += ((f"{self.id}_max_rate_gap", False),)
        return columns

    @property
    def key_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.key)

    @property
    def value_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.key)

    def column(self, column_id: str) -> Column:
        for c in self.columns:
            if c.id == column_id:
                return c
        raise KeyError(column_id)


def _count(id, zh, en, unit_zh, unit_en, aliases=(), d_zh="", d_en="", **kw) -> Column:
    return Column(id, zh, en, COUNT, unit_zh, unit_en, tuple(aliases), d_zh, d_en, minimum=0, **kw)


def _rate(id, zh, en, aliases=(), d_zh="", d_en="") -> Column:
    return Column(id, zh, en, RATE, "%", "%", tuple(aliases), d_zh, d_en, minimum=0, maximum=100)


def _area(id, zh, en, aliases=(), d_zh="", d_en="") -> Column:
    return Column(id, zh, en, AREA, "亩", "mu", tuple(aliases), d_zh, d_en, minimum=0)


# Columns every fact table has. They identify the row and say where its figures came from.
REGION = Column("region", "地区", "Region", TEXT, aliases=(
    "地区", "地区名称", "乡镇", "乡镇（街道）", "乡镇街道", "镇", "村", "村（社区）", "社区", "单位", "单位名称", "名称",
    "行政区划", "区划名称", "区域", "region", "region_name", "name",
    # headers of real reports' tables; 所属乡镇 beside a village's own name is its parent (importer)
    "乡镇名称", "乡镇（街道）名称", "街道名称", "所属乡镇", "所属乡镇（街道）", "村名", "村名称", "村（社区）名称",
    "社区名称"),
    definition_zh="行政区划名称，或12位统计用区划代码", definition_en="Region name, or its 12-digit statistical code")
REGION_CODE = Column("region_code", "统计用区划代码", "Statistical division code", TEXT, aliases=(
    "统计用区划代码", "行政区划代码", "区划代码", "代码", "code", "region_code", "division_code"),
    definition_zh="12位统计用区划代码（可选）", definition_en="12-digit statistical division code (optional)")
PARENT = Column("parent", "上级地区", "Parent region", TEXT, aliases=("上级地区", "上级", "所属", "parent"),
                definition_zh="上级行政区划，用于区分同名地区（可选）",
                definition_en="The parent region, to tell apart regions of the same name (optional)")
YEAR = Column("year", "年份", "Year", COUNT, aliases=("年份", "年度", "年", "统计年度", "year"),
              definition_zh="数据所属年度", definition_en="The year the figures describe", minimum=1949)
SOURCE = Column("source", "来源", "Source", TEXT, aliases=("来源", "数据来源", "来源文件", "source"),
                definition_zh="数据出处（文件名称）", definition_en="Where the figures come from (document)")
SECTION = Column("section", "来源章节", "Source section", TEXT, aliases=("来源章节", "章节", "section"),
                 definition_zh="出处中的章节", definition_en="Section of the source document")

ROW_COLUMNS = (REGION, REGION_CODE, PARENT, YEAR)
PROVENANCE_COLUMNS = (SOURCE, SECTION)

POPULATION = Table("population", "人口", "Population", "population", (
    _count("registered_households", "户籍户数", "Registered households", "户", "households",
           ("户籍户数", "总户籍数", "户籍总户数", "户数"), "在本地登记户籍的户数", "Households registered (hukou) in the area"),
    _count("registered_persons", "户籍人口", "Registered persons", "人", "persons",
           ("户籍人口", "户籍人数", "总人口", "户籍总人口", "人口"), "在本地登记户籍的人数", "Persons registered (hukou) in the area"),
    _count("resident_households", "常住户数", "Resident households", "户", "households",
           ("常住户数",), "实际居住在本地的户数", "Households actually living in the area"),
    _count("resident_persons", "常住人口", "Resident persons", "人", "persons",
           ("常住人口", "常住人数"), "实际居住在本地的人数", "Persons actually living in the area"),
    _count("minority_persons", "少数民族人口", "Minority persons", "人", "persons",
           ("少数民族人口", "少数民族人数", "少数民族"), "少数民族户籍人口", "Registered persons of ethnic minorities"),
    _rate("minority_share_stated", "少数民族占比（报告值）", "Minority share (as reported)",
          ("少数民族占比", "少数民族人口占比", "少数民族占比（报告值）"),
          "报告中写明的少数民族人口占总人口比例，用于与计算值核对",
          "The minority share as the report states it, kept to check against the computed value"),
    Column("ethnic_groups", "民族构成", "Ethnic groups", LIST, aliases=("民族构成", "民族", "民族组成"),
           definition_zh="辖区内的民族（以顿号分隔；“等”表示未列全）",
           definition_en="Ethnic groups present (separated by 、; 等 means the list is not complete)"),
), "户籍与常住人口、户数、少数民族", "Registered and resident population, households, minorities")

LAND = Table("land", "土地", "Land", "land", (
    _area("cultivated_area", "耕地面积", "Cultivated land", ("耕地面积", "耕地"), "耕地面积，以亩计（1公顷=15亩）",
          "Cultivated land in mu (1 hectare = 15 mu)"),
    _area("forest_area", "林地面积", "Forest land", ("林地面积", "林地"), "林地面积，以亩计（1公顷=15亩）",
          "Forest land in mu (1 hectare = 15 mu)"),
), "耕地与林地面积", "Cultivated and forest land")

GRID = Table("grid", "网格与企业", "Grid and enterprises", "grid", (
    _count("grid_areas", "片区数", "Grid areas", "个", "areas", ("片区数", "片区", "网格片区数"),
           "网格化治理中的片区数（镇—片区—网格—子网格—中心户）", "Areas of the grid governance chain"),
    _count("sub_grids", "子网格数", "Sub-grids", "个", "sub-grids", ("子网格数", "子网格", "网格数", "网格"),
           "网格化治理中最小的管理单元数", "Smallest management units of the grid"),
    _count("villages", "行政村数", "Villages", "个", "villages", ("行政村数", "行政村", "村数"),
           "辖区行政村个数", "Administrative villages in the area"),
    _count("communities", "社区数", "Communities", "个", "communities", ("社区数", "社区（居委会）数", "居委会数", "居委会"),
           "辖区社区（居委会）个数", "Urban communities (residents' committees)"),
    _count("enterprises", "企业数", "Enterprises", "个", "enterprises", ("企业数", "企业", "企业个数"),
           "网格覆盖的企业数", "Enterprises covered by the grid"),
    _count("schools", "学校数（含教学点）", "Schools (incl. teaching points)", "个", "schools",
           ("学校数（含教学点）", "学校数", "学校", "学校（教学点）"), "网格覆盖的学校和教学点数",
           "Schools and teaching points covered by the grid"),
    _count("street_shops", "沿街店铺数", "Street shops", "个", "shops", ("沿街店铺数", "沿街店铺", "店铺数"),
           "网格覆盖的沿街店铺数", "Street-front shops covered by the grid"),
    _count("belief_venues", "民间信仰场所数", "Folk belief venues", "个", "venues",
           ("民间信仰场所数", "民间信仰场所"), "辖区民间信仰活动场所数", "Venues of folk religious belief"),
), "网格化治理的层级与覆盖对象", "The grid governance chain and what it covers")

TRAINING_KINDS = (("study", "学习", "Study"), ("exam", "考试", "Exam"))
_STUDY, _EXAM = ("programme_kind", "study"), ("programme_kind", "exam")

TRAINING = Table("training", "学法培训", "Legal training", "training", (
    Column("programme", "学习项目", "Programme", TEXT, aliases=("学习项目", "项目", "学习平台", "平台", "培训项目", "programme"),
           definition_zh="学法或考试的项目名称（如集中学法、法宣在线考试）",
           definition_en="Name of the study or exam programme", key=True),
    Column("programme_kind", "类型", "Kind", CHOICE, aliases=("类型", "项目类型", "kind"), choices=TRAINING_KINDS,
           definition_zh="学习或考试", definition_en="Study or exam"),
    _count("sessions", "集中学习次数", "Sessions held", "次", "sessions", ("集中学习次数", "学习次数", "次数", "场次"),
           "组织集中学习的次数", "Times the programme met"),
    _count("required_persons", "应参加人数", "Persons required", "人", "persons", ("应参加人数", "应参学人数", "应参考人数", "应学人数"),
           "应当参加的人数", "Persons who should take part"),
    _count("participants", "实际参加人数", "Persons who took part", "人", "persons",
           ("实际参加人数", "参加人数", "参学人数", "参考人数", "实参人数"), "实际参加学习或考试的人数",
           "Persons who took part"),
    _count("passed", "及格人数", "Persons passed", "人", "persons", ("及格人数", "合格人数", "通过人数"),
           "考试及格的人数", "Persons who passed the exam"),
    _rate("participation_rate_stated", "参学率/参考率（报告值）", "Participation rate (as reported)",
          ("参学率", "参考率", "参与学习率", "学习率", "参学率/参考率（报告值）", "参学率（报告值）", "参考率（报告值）"),
          "报告中写明的参加率：学习项目为参学率，考试项目为参考率", "Participation rate as reported (study or exam)"),
    _rate("pass_rate_stated", "及格率（报告值）", "Pass rate (as reported)", ("及格率", "合格率", "及格率（报告值）"),
          "报告中写明的考试及格率", "Exam pass rate as reported"),
), "干部学法、在线学习与考试", "Cadre legal study, online learning and exams", summary=Summary((
    # per kind of programme: what the study and exam indicators (lawstats.indicators) read
    Figure("study_sessions_total", SUM, "sessions", _STUDY),
    Figure("study_rows", ROWS, among=_STUDY),
    Figure("study_counted_rows", ROWS, among=_STUDY, positive=("required_persons",), known=("participants",)),
    Figure("study_rated_rows", ROWS, among=_STUDY, any_known=("participants", "participation_rate_stated")),
    Figure("study_required", SUM, "required_persons", _STUDY),
    Figure("study_participants", SUM, "participants", _STUDY),
    Figure("study_rate_stated_min", MIN, "participation_rate_stated", _STUDY),
    Figure("exam_rows", ROWS, among=_EXAM),
    Figure("exam_counted_rows", ROWS, among=_EXAM, positive=("required_persons",), known=("participants",)),
    Figure("exam_pass_counted_rows", ROWS, among=_EXAM, positive=("participants",), known=("passed",)),
    Figure("exam_required", SUM, "required_persons", _EXAM),
    Figure("exam_participants", SUM, "participants", _EXAM),
    Figure("exam_passed", SUM, "passed", _EXAM),
    Figure("exam_participation_stated_min", MIN, "participation_rate_stated", _EXAM),
    Figure("exam_pass_stated_min", MIN, "pass_rate_stated", _EXAM),
), order=("passed", "participants", "required_persons"),
   stated_rates=(("participation_rate_stated", "participants", "required_persons"),
                 ("pass_rate_stated", "passed", "participants"))))

GOVERNANCE = Table("governance", "平安治理", "Safety and disputes", "governance", (
    _count("key_persons", "重点人员数", "Key persons managed", "人", "persons", ("重点人员数", "重点人员", "重点管控人员"),
           "实行“五帮一”管控的重点人员数", "Key persons under the “five helpers for one” scheme"),
    _count("mental_patients_managed", "精神障碍患者管控数", "Persons with mental illness managed", "人", "persons",
           ("精神障碍患者管控数", "精神病人", "精神病人数", "严重精神障碍患者"), "纳入帮扶管控的精神障碍患者人数",
           "Persons with mental illness under care and management"),
    _count("dispute_groups", "矛盾纠纷排查化解领导小组数", "Dispute-resolution leading groups", "个", "groups",
           ("矛盾纠纷排查化解领导小组数", "矛盾纠纷排查化解领导小组", "调解领导小组"), "成立的矛盾纠纷排查化解领导小组数",
           "Leading groups set up to find and resolve disputes"),
    _count("gang_crime_clues", "涉黑恶线索数", "Gang-crime clues found", "条", "clues",
           ("涉黑恶线索数", "黑恶线索", "涉黑涉恶线索"), "排查发现的黑恶势力违法犯罪线索数（“未发现”记为0）",
           "Clues of organised (gang) crime found; “none found” is 0"),
), "重点人员管控、矛盾纠纷化解与扫黑除恶", "Key persons, dispute resolution and gang crime")

TABLES: tuple[Table, ...] = (POPULATION, LAND, GRID, TRAINING, GOVERNANCE)
TABLES_BY_ID = {t.id: t for t in TABLES}

# The region hierarchy. Levels in order from the top; a region's parent is one level up (or more, for gaps).
LEVELS = (("province", "省", "Province"), ("city", "市", "City"), ("county", "县（区）", "County / district"),
          ("township", "乡镇（街道）", "Township"), ("village", "村（社区）", "Village / community"))
LEVEL_IDS = tuple(level for level, _, _ in LEVELS)
# The levels real reports and division lists use, each mapped onto one of the five tiers.
LEVEL_ALIASES = {"省": "province", "自治区": "province", "直辖市": "province", "特别行政区": "province",
                 "市": "city", "州": "city", "自治州": "city", "地区": "city", "盟": "city", "地级市": "city",
                 "县": "county", "区": "county", "县（区）": "county", "市辖区": "county", "县级市": "county",
                 "自治县": "county", "旗": "county", "自治旗": "county", "林区": "county", "特区": "county",
                 "乡镇": "township", "镇": "township", "乡": "township", "民族乡": "township",
                 "街道": "township", "街道办事处": "township", "苏木": "township", "民族苏木": "township",
                 "乡镇（街道）": "township",
                 "村": "village", "行政村": "village", "社区": "village", "居委会": "village",
                 "村委会": "village", "村（社区）": "village", "嘎查": "village"}
for _level, _zh, _en in LEVELS:
    LEVEL_ALIASES[_level] = _level
    LEVEL_ALIASES[_en.lower()] = _level

REGIONS_COLUMNS = (
    Column("name", "名称", "Name", TEXT, aliases=("名称", "地区", "地区名称", "区划名称", "name")),
    Column("level", "级别", "Level", CHOICE, aliases=("级别", "层级", "level"),
           choices=tuple((lid, zh, en) for lid, zh, en in LEVELS)),
    Column("parent", "上级", "Parent", TEXT, aliases=("上级", "上级地区", "所属", "parent")),
    Column("code", "统计用区划代码", "Statistical division code", TEXT,
           aliases=("统计用区划代码", "行政区划代码", "区划代码", "代码", "code")),
)


@dataclass(frozen=True)
class Indicator:
    id: str
    zh: str
    en: str
    domain: str
    unit_zh: str
    unit_en: str
    decimals: int
    formula_zh: str
    formula_en: str
    definition_zh: str
    definition_en: str
    inputs: tuple[str, ...]  # column ids the formula reads
    higher_is_better: bool | None = None  # None: neither direction is "good"
    target: float | None = None
    headline: bool = False  # shown as a KPI card on the overview
    stated_column: str | None = None  # a column holding the report's own value of this indicator

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def unit(self, lang: str) -> str:
        return self.unit_zh if lang == "zh" else self.unit_en

    def formula(self, lang: str) -> str:
        return self.formula_zh if lang == "zh" else self.formula_en

    def definition(self, lang: str) -> str:
        return self.definition_zh if lang == "zh" else self.definition_en


def _figure(column: Column, domain: str, headline: bool = False, higher_is_better=None) -> Indicator:
    """An indicator that is a reported figure itself (户籍人口 is shown as a KPI like any ratio)."""
    return Indicator(column.id, column.zh, column.en, domain, column.unit_zh, column.unit_en,
                     0 if column.kind == COUNT else 2, "报告数值", "Figure as reported",
                     column.definition_zh, column.definition_en, (column.id,), higher_is_better, headline=headline)


_P, _L, _G, _T, _S = (t.column for t in (POPULATION, LAND, GRID, TRAINING, GOVERNANCE))

INDICATORS: tuple[Indicator, ...] = (
    # 人口
    _figure(_P("registered_persons"), "population", headline=True),
    _figure(_P("registered_households"), "population"),
    _figure(_P("resident_persons"), "population"),
    _figure(_P("minority_persons"), "population"),
    Indicator("minority_share", "少数民族人口占比", "Minority share", "population", "%", "%", 2,
              "少数民族人口 ÷ 户籍人口 × 100%", "minority persons ÷ registered persons × 100%",
              "少数民族人口在户籍人口中的比例", "Share of ethnic minorities in the registered population",
              ("minority_persons", "registered_persons"), headline=True, stated_column="minority_share_stated"),
    Indicator("resident_rate", "常住人口比例", "Resident rate", "population", "%", "%", 2,
              "常住人口 ÷ 户籍人口 × 100%", "resident persons ÷ registered persons × 100%",
              "户籍人口中实际常住的比例；低于100%表示有人口外出", "Share of registered persons who live in the area",
              ("resident_persons", "registered_persons"), headline=True),
    Indicator("resident_household_rate", "常住户比例", "Resident household rate", "population", "%", "%", 2,
              "常住户数 ÷ 户籍户数 × 100%", "resident households ÷ registered households × 100%",
              "户籍户中实际常住的比例", "Share of registered households that live in the area",
              ("resident_households", "registered_households")),
    Indicator("household_size", "户均人口", "Household size", "population", "人/户", "persons/household", 2,
              "户籍人口 ÷ 户籍户数", "registered persons ÷ registered households",
              "平均每户户籍人数", "Registered persons per registered household",
              ("registered_persons", "registered_households"), headline=True),
    # 土地
    _figure(_L("cultivated_area"), "land"),
    _figure(_L("forest_area"), "land"),
    Indicator("cultivated_per_person", "人均耕地", "Cultivated land per person", "land", "亩/人", "mu/person", 2,
              "耕地面积（亩） ÷ 户籍人口", "cultivated land (mu) ÷ registered persons",
              "每个户籍人口平均拥有的耕地面积", "Cultivated land per registered person",
              ("cultivated_area", "registered_persons"), headline=True),
    Indicator("forest_share", "林地占农林用地比例", "Forest share of farm and forest land", "land", "%", "%", 1,
              "林地 ÷ （耕地 + 林地） × 100%", "forest ÷ (cultivated + forest) × 100%",
              "林地在耕地与林地合计中的比例", "Forest land as a share of cultivated plus forest land",
              ("forest_area", "cultivated_area")),
    # 网格与企业
    _figure(_G("sub_grids"), "grid"),
    _figure(_G("enterprises"), "grid"),
    Indicator("persons_per_subgrid", "每网格人口", "People per sub-grid", "grid", "人/网格", "persons/sub-grid", 1,
              "户籍人口 ÷ 子网格数", "registered persons ÷ sub-grids",
              "平均每个子网格服务的户籍人口，反映网格员工作量", "Registered persons per sub-grid: the load on a grid worker",
              ("registered_persons", "sub_grids"), higher_is_better=False, headline=True),
    Indicator("households_per_subgrid", "每网格户数", "Households per sub-grid", "grid", "户/网格",
              "households/sub-grid", 1, "户籍户数 ÷ 子网格数", "registered households ÷ sub-grids",
              "平均每个子网格服务的户籍户数", "Registered households per sub-grid",
              ("registered_households", "sub_grids"), higher_is_better=False),
    Indicator("subgrids_per_area", "每片区子网格数", "Sub-grids per grid area", "grid", "个/片区", "sub-grids/area", 1,
              "子网格数 ÷ 片区数", "sub-grids ÷ grid areas", "平均每个片区下设的子网格数",
              "Sub-grids per grid area", ("sub_grids", "grid_areas")),
    # 学法培训
    Indicator("study_sessions", "集中学法次数", "Study sessions held", "training", "次", "sessions", 0,
              "各学习项目集中学习次数之和", "sum of sessions over the study programmes",
              "全年组织集中学法的次数", "Times cadres met for legal study in the year", ("sessions",),
              higher_is_better=True),
    Indicator("study_completion_rate", "学习完成率", "Study completion rate", "training", "%", "%", 1,
              "各学习项目参学率的最低值；有人数时按 实际参加 ÷ 应参加 计算，否则取报告值",
              "lowest participation rate over the study programmes: took part ÷ required where counted, "
              "else the reported rate", "干部在各学习平台完成学习任务的比例", "Share of cadres who completed their study",
              ("participants", "required_persons", "participation_rate_stated"), higher_is_better=True,
              target=100.0, headline=True),
    Indicator("exam_participation_rate", "考试参考率", "Exam participation rate", "training", "%", "%", 1,
              "考试项目 实际参考 ÷ 应参考；无人数时取报告值（多项取最低）",
              "exam takers ÷ persons required (lowest over exams); the reported rate where not counted",
              "应参加考试的干部中实际参加的比例", "Share of cadres required to sit the exam who did",
              ("participants", "required_persons", "participation_rate_stated"), higher_is_better=True, target=100.0),
    Indicator("exam_pass_rate", "考试及格率", "Exam pass rate", "training", "%", "%", 1,
              "考试项目 及格 ÷ 实际参考；无人数时取报告值（多项取最低）",
              "passed ÷ exam takers (lowest over exams); the reported rate where not counted",
              "参加考试的干部中及格的比例", "Share of exam takers who passed",
              ("passed", "participants", "pass_rate_stated"), higher_is_better=True, target=100.0),
    # 平安治理
    _figure(_S("key_persons"), "governance"),
    Indicator("key_persons_per_10k", "每万人重点人员数", "Key persons per 10,000 people", "governance", "人/万人",
              "per 10,000", 2, "重点人员数 ÷ 户籍人口 × 10000", "key persons ÷ registered persons × 10,000",
              "每万名户籍人口中纳入管控的重点人员数", "Key persons under management per 10,000 registered persons",
              ("key_persons", "registered_persons"), headline=True),
    _figure(_S("mental_patients_managed"), "governance"),
    _figure(_S("dispute_groups"), "governance"),
    _figure(_S("gang_crime_clues"), "governance", higher_is_better=False),
    _figure(_G("belief_venues"), "governance"),
)
INDICATORS_BY_ID = {i.id: i for i in INDICATORS}

DOMAINS = (("population", "人口", "Population"), ("land", "土地", "Land"),
           ("grid", "网格与企业", "Grid and enterprises"), ("training", "学法培训", "Legal training"),
           ("governance", "平安治理", "Safety and disputes"))


def domain_label(domain: str, lang: str) -> str:
    for did, zh, en in DOMAINS:
        if did == domain:
            return zh if lang == "zh" else en
    raise KeyError(domain)


@dataclass(frozen=True)
class Check:
    """A consistency rule between figures. A failing check is shown as a badge, never silently fixed."""
    id: str
    zh: str
    en: str
    indicators: tuple[str, ...] = field(default=())  # where the badge is shown

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


CHECKS: tuple[Check, ...] = (
    Check("minority_share_stated_vs_computed", "少数民族占比：报告值与计算值一致（差≤0.01个百分点）",
          "Minority share: reported value agrees with the computed one (within 0.01 points)", ("minority_share",)),
    Check("resident_le_registered", "常住人口 ≤ 户籍人口", "Resident persons ≤ registered persons",
          ("resident_rate",)),
    Check("resident_households_le_registered", "常住户数 ≤ 户籍户数", "Resident households ≤ registered households",
          ("resident_household_rate",)),
    Check("minority_le_registered", "少数民族人口 ≤ 户籍人口", "Minority persons ≤ registered persons",
          ("minority_share",)),
    Check("rates_within_0_100", "各比率在0–100%之间", "Every rate lies within 0–100%",
          ("study_completion_rate", "exam_participation_rate", "exam_pass_rate")),
    Check("passed_le_participants_le_required", "及格人数 ≤ 实际参加人数 ≤ 应参加人数",
          "Passed ≤ took part ≤ required", ("exam_pass_rate", "exam_participation_rate", "study_completion_rate")),
    Check("training_stated_vs_computed", "学法比率：报告值与按人数计算值一致",
          "Training rates: reported values agree with those computed from counts",
          ("study_completion_rate", "exam_participation_rate", "exam_pass_rate")),
)
CHECKS_BY_ID = {c.id: c for c in CHECKS}

# Within one row, the first figure may not exceed the second. Uploads are refused where it does; stored data
# that breaks one is shown with a badge (CHECKS above).
ROW_RULES: tuple[tuple[str, str], ...] = (
    ("resident_persons", "registered_persons"),
    ("resident_households", "registered_households"),
    ("minority_persons", "registered_persons"),
    ("participants", "required_persons"),
    ("passed", "participants"),
    ("passed", "required_persons"),
)

# Region cells that are totals, not regions: such rows are left out with a notice.
TOTAL_ROW_NAMES = ("合计", "总计", "小计", "全镇合计", "全县合计", "全区合计", "total", "sum")
