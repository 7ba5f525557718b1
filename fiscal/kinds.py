"""Table kinds as data: title patterns, form numbers, header cues and canonical columns.

Templates differ by region and year, so a kind is recognised from its title first, the printed
form number second (公开0N表 / 预算NN表 numbering is template-specific) and header words last.
Columns are matched by header text (all words of one alternative must occur in the '/'-joined
header path); positions are never assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fiscal.amounts import clean

ColumnPattern = tuple[str, ...]
_TITLE_READ = 200  # a real title is < 60 characters; the title patterns use '.*'
_HEADER_READ = 20_000


@dataclass(frozen=True)
class ColumnSpec:
    id: str
    patterns: tuple[ColumnPattern, ...]
    exclude: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        if any(word in path for word in self.exclude):
            return False
        return any(all(word in path for word in pattern) for pattern in self.patterns)


@dataclass(frozen=True)
class KindSpec:
    id: str
    family: str  # final | budget | perf | unknown
    label: str
    layout: str  # coded | summary | econ_groups | single_row | listing | form
    titles: tuple[str, ...] = ()  # regexes on the compact title
    forms: tuple[str, ...] = ()  # printed form numbers that identify the kind in the usual numbering
    header_cues: tuple[tuple[str, ...], ...] = ()  # all words of one cue in the header text
    columns: tuple[ColumnSpec, ...] = field(default_factory=tuple)
    code_system: str = "function"  # function | economic | unit | none


def _col(cid: str, *patterns: str, exclude: tuple[str, ...] = ()) -> ColumnSpec:
    return ColumnSpec(cid, tuple(tuple(p.split("+")) for p in patterns), exclude)


_TOTAL = _col("total", "合计", "小计", "本年支出合计", "本年收入合计")
_BASIC = _col("basic_expenditure", "基本支出/小计", "基本支出", exclude=("人员经费", "公用经费"))
_PROJECT = _col("project_expenditure", "项目支出")

KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        "final_04_appropriation_summary",
        "final",
        "财政拨款收入支出决算总表",
        "summary",
        (r"财政拨款收入?支出决算总表",),
        ("公开04表",),
    ),
    KindSpec(
        "final_05_general_public",
        "final",
        "一般公共预算财政拨款支出决算表",
        "coded",
        (r"一般公共预算财政拨款支出决算(明细)?表",),
        ("公开05表",),
        columns=(_TOTAL, _BASIC, _PROJECT),
    ),
    KindSpec(
        "final_06_basic_economic",
        "final",
        "一般公共预算财政拨款基本支出决算表",
        "econ_groups",
        (r"基本支出决算(明细)?表",),
        ("公开06表",),
        (("经济分类", "人员经费"),),
        code_system="economic",
    ),
    KindSpec(
        "final_07_gov_fund",
        "final",
        "政府性基金预算财政拨款收入支出决算表",
        "coded",
        (r"政府性基金预算财政拨款(收入)?支出决算表",),
        ("公开07表",),
        columns=(
            _col("carry_in", "年初结转"),
            _col("income", "本年收入"),
            _col("total", "本年支出+小计", "本年支出+合计", "小计"),
            _BASIC,
            _PROJECT,
            _col("carry_out", "年末结转"),
        ),
    ),
    KindSpec(
        "final_08_soe_capital",
        "final",
        "国有资本经营预算财政拨款支出决算表",
        "coded",
        (r"国有资本经营预算财政拨款(收入)?支出决算表",),
        ("公开08表",),
        columns=(
            _col("carry_in", "年初结转"),
            _col("income", "本年收入"),
            _TOTAL,
            _BASIC,
            _PROJECT,
            _col("carry_out", "年末结转"),
        ),
    ),
    KindSpec(
        "final_09_three_public",
        "final",
        "财政拨款“三公”经费支出决算表",
        "single_row",
        (r"三公.*决算表",),
        ("公开09表",),
        columns=(
            _col("budget_total", "预算数+合计", "预算+合计"),
            _col("budget_abroad", "预算+出国"),
            _col("budget_vehicle", "预算+公务用车+小计"),
            _col("budget_vehicle_purchase", "预算+购置费"),
            _col("budget_vehicle_operation", "预算+运行"),
            _col("budget_reception", "预算+接待"),
            _col("final_total", "决算数+合计", "决算+合计"),
            _col("final_abroad", "决算+出国"),
            _col("final_vehicle", "决算+公务用车+小计"),
            _col("final_vehicle_purchase", "决算+购置费"),
            _col("final_vehicle_operation", "决算+运行"),
            _col("final_reception", "决算+接待"),
        ),
        code_system="none",
    ),
    KindSpec(
        "final_01_income_expenditure",
        "final",
        "收入支出决算总表",
        "summary",
        (r"收入支出决算总表",),
        ("公开01表",),
    ),
    KindSpec(
        "final_03_expenditure",
        "final",
        "支出决算表",
        "coded",
        (r"支出决算表",),
        ("公开03表",),
        columns=(
            _TOTAL,
            _BASIC,
            _PROJECT,
            _col("remit_superior", "上缴上级"),
            _col("business_expenditure", "经营支出"),
            _col("subsidiary_grants", "附属单位"),
        ),
    ),
    KindSpec(
        "final_02_income",
        "final",
        "收入决算表",
        "coded",
        (r"收入决算表",),
        ("公开02表",),
        columns=(
            _TOTAL,
            _col("fiscal_appropriation", "财政拨款"),
            _col("superior_subsidy", "上级补助"),
            _col("business_income", "事业收入"),
            _col("operating_income", "经营收入"),
            _col("subsidiary_remittance", "附属单位"),
            _col("other_income", "其他收入"),
        ),
    ),
    # budget tables (2024 Wuhan numbering as the default form hint)
    KindSpec(
        "budget_04_appropriation_summary",
        "budget",
        "财政拨款收支预算总表",
        "summary",
        (r"财政拨款收支(预算)?总表",),
        ("预算04表",),
    ),
    KindSpec("budget_01_summary", "budget", "收支预算总表", "summary", (r"收支(预算)?总表",), ("预算01表",)),
    KindSpec(
        "budget_02_income",
        "budget",
        "收入预算总表",
        "coded",
        (r"收入(预算)?总表",),
        ("预算02表",),
        columns=(
            _TOTAL,
            _col("carry_in", "上年结转"),
            _col("general_public", "一般公共预算"),
            _col("gov_fund", "政府性基金"),
            _col("soe_capital", "国有资本经营"),
            _col("fiscal_appropriation", "财政拨款"),  # Shanghai: one 财政拨款收入 column
            _col("special_account", "财政专户"),
            _col("business_income", "事业收入"),
            _col("operating_income", "经营收入"),
            _col("superior_subsidy", "上级补助"),
            _col("subsidiary_remittance", "附属单位"),
            _col("other_income", "其他收入"),
        ),
    ),
    KindSpec(
        "budget_03_expenditure",
        "budget",
        "支出预算总表",
        "coded",
        (r"支出(预算)?总表",),
        ("预算03表",),
        columns=(
            _TOTAL,
            _BASIC,
            _PROJECT,
            _col("business_expenditure", "经营支出"),
            _col("remit_superior", "上缴上级"),
            _col("subsidiary_grants", "附属单位"),
        ),
    ),
    KindSpec(
        "budget_06_general_public_unit",
        "budget",
        "一般公共预算支出表（分单位）",
        "coded",
        (r"一般公共预算支出(预算)?表[(（]?分单位",),
        ("预算06表",),
        columns=(
            _TOTAL,
            _BASIC,  # '基本支出/小计' (Wuhan) or a single '基本支出' column (Shanghai)
            _col("personnel", "人员经费"),
            _col("public_use", "公用经费"),
            _PROJECT,
        ),
        code_system="unit",
    ),
    KindSpec(
        "budget_07_basic_economic",
        "budget",
        "一般公共预算基本支出表",
        "coded",
        (r"一般公共预算基本支出(预算)?表", r"一般公共预算基本支出.*经济分类预算表"),
        ("预算07表",),
        columns=(_TOTAL, _col("personnel", "人员经费"), _col("public_use", "公用经费")),
        code_system="economic",
    ),
    KindSpec(
        "budget_08_three_public",
        "budget",
        "一般公共预算“三公”经费支出表",
        "single_row",
        (r"三公.*(预算|支出)表",),
        ("预算08表",),
        columns=(
            _col("total", "合计"),
            _col("abroad", "出国"),
            _col("vehicle", "公务用车+小计"),
            _col("vehicle_purchase", "购置费"),
            _col("vehicle_operation", "运行"),
            _col("reception", "接待"),
        ),
        code_system="none",
    ),
    KindSpec(
        "budget_09_gov_fund",
        "budget",
        "政府性基金预算支出表",
        "coded",
        (r"政府性基金预算支出(预算)?表", r"政府性基金预算支出功能分类预算表"),
        ("预算09表",),
        columns=(_TOTAL, _BASIC, _PROJECT),
    ),
    KindSpec(
        "budget_10_soe_capital",
        "budget",
        "国有资本经营预算支出表",
        "coded",
        (r"国有资本经营预算支出(预算)?表", r"国有资本经营预算支出功能分类预算表"),
        ("预算10表",),
        columns=(_TOTAL, _BASIC, _PROJECT),
    ),
    KindSpec(
        "budget_05_general_public_function",
        "budget",
        "一般公共预算支出表（分功能科目）",
        "coded",
        (r"一般公共预算支出(预算)?表", r"一般公共预算支出功能分类预算表"),
        ("预算05表",),
        columns=(
            _TOTAL,
            _BASIC,  # '基本支出/小计' (Wuhan) or a single '基本支出' column (Shanghai)
            _col("personnel", "人员经费"),
            _col("public_use", "公用经费"),
            _PROJECT,
        ),
    ),
    KindSpec(
        "budget_11_projects",
        "budget",
        "项目支出预算表",
        "listing",
        (r"项目支出预算表",),
        ("预算11表",),
        code_system="none",
    ),
    KindSpec(
        "budget_12_procurement",
        "budget",
        "政府采购预算表",
        "listing",
        (r"政府采购预算表",),
        ("预算12表",),
        columns=(
            _col("unit_price", "单价"),
            _col("total", "采购金额合计", "采购金额"),
            _col("sme", "中小企业"),
            _col("micro", "小微企业"),
        ),
        code_system="unit",
    ),
    KindSpec(
        "budget_13_purchase_services",
        "budget",
        "政府购买服务预算表",
        "listing",
        (r"购买服务(预算)?表",),
        ("预算13表",),
        columns=(_col("total", "购买金额"),),
        code_system="unit",
    ),
    KindSpec(
        "perf_overall_target",
        "perf",
        "部门（单位）整体绩效目标申报表",
        "form",
        (r"整体.*绩效目标.*表", r"整体支出绩效目标申报表"),
        ("预算14表",),
        code_system="none",
    ),
    KindSpec(
        "perf_project_target",
        "perf",
        "项目支出绩效目标申报表",
        "form",
        (r"项目.*绩效目标.*申报表", r"项目支出[(（]绩效目标[)）]申报表"),
        ("预算15表",),
        code_system="none",
    ),
    KindSpec("perf_self_evaluation", "perf", "绩效自评表", "form", (r"绩效自评表",), code_system="none"),
)

UNKNOWN = KindSpec("unknown", "unknown", "未识别表", "generic", code_system="none")
KIND_BY_ID: dict[str, KindSpec] = {kind.id: kind for kind in (*KINDS, UNKNOWN)}


def kind_from_title(title: str | None) -> KindSpec | None:
    if not title:
        return None
    compact = clean(title[:_TITLE_READ]).replace('"', "").replace("“", "").replace("”", "")
    compact = compact.replace("'", "")
    family = "final" if "决算" in compact else "budget" if "预算" in compact else None
    for kind in KINDS:
        if any(re.search(p, compact) for p in kind.titles):
            if family == "final" and kind.family == "budget":
                continue
            return kind
    return None


def kind_from_form(form: str | None) -> KindSpec | None:
    if not form:
        return None
    for kind in KINDS:
        if form in kind.forms:
            return kind
    return None


def kind_from_header(header_text: str) -> KindSpec | None:
    compact = clean(header_text[:_HEADER_READ])
    if "人员经费" in compact and "公用经费" in compact and "经济分类" in compact and "决算数" in compact:
        return KIND_BY_ID["final_06_basic_economic"]
    if "因公出国" in compact and "决算数" in compact:
        return KIND_BY_ID["final_09_three_public"]
    if "因公出国" in compact:
        return KIND_BY_ID["budget_08_three_public"]
    if "部门总体资金情况" in compact or "总体资金情况" in compact:
        return KIND_BY_ID["perf_overall_target"]
    if "项目名称" in compact and "项目当年预算" in compact:
        return KIND_BY_ID["perf_project_target"]
    return None


def recognise(title: str | None, form: str | None, header_text: str) -> KindSpec:
    """Title first, then the header's own words, then the form number; UNKNOWN otherwise."""
    return kind_from_title(title) or kind_from_header(header_text) or kind_from_form(form) or UNKNOWN
