"""Identities between tables (REFERENCE §2.10 for 决算, §3 for 预算), as data."""

from __future__ import annotations

from collections.abc import Iterator

from fiscal.checks.tables import coded_lines, keyed, total_line
from fiscal.findings import FindingKind, Severity, merge_kinds
from fiscal.rules import Context, Equation, Rule
from fiscal.sheet import Amount, Line, Sheet
from ocr.contract import Finding

# A selector names one amount: (kind, row, field); row = 'total' (合计 row), 'key:<k>' (summary row, any
# group), 'code:<c>' (coded row).
Selector = tuple[str, str, str]
CrossRule = tuple[str, Severity, str, Selector, tuple[Selector, ...], str, str]

_F1, _F2, _F3, _F4, _F5, _F6, _F7, _F8, _F9 = (
    "final_01_income_expenditure",
    "final_02_income",
    "final_03_expenditure",
    "final_04_appropriation_summary",
    "final_05_general_public",
    "final_06_basic_economic",
    "final_07_gov_fund",
    "final_08_soe_capital",
    "final_09_three_public",
)
_B1, _B3, _B4, _B5, _B6, _B7, _B8, _B9, _B10 = (
    "budget_01_summary",
    "budget_03_expenditure",
    "budget_04_appropriation_summary",
    "budget_05_general_public_function",
    "budget_06_general_public_unit",
    "budget_07_basic_economic",
    "budget_08_three_public",
    "budget_09_gov_fund",
    "budget_10_soe_capital",
)

CROSS_RULES: list[CrossRule] = [
    (
        "X1",
        "error",
        "=",
        (_F1, "key:income_total", "amount"),
        ((_F2, "total", "total"),),
        "表01本年收入合计应等于表02合计",
        "T01 income total = T02 total",
    ),
    (
        "X2",
        "error",
        "=",
        (_F2, "total", "fiscal_appropriation"),
        ((_F1, "key:gp", "amount"), (_F1, "key:gf", "amount"), (_F1, "key:soe", "amount")),
        "表02财政拨款收入应等于表01第1-3行之和",
        "T02 appropriation = T01 rows 1-3",
    ),
    (
        "X2",
        "error",
        "=",
        (_F2, "total", "superior_subsidy"),
        ((_F1, "key:superior", "amount"),),
        "表02上级补助收入应等于表01",
        "T02 superior subsidy = T01",
    ),
    (
        "X2",
        "error",
        "=",
        (_F2, "total", "business_income"),
        ((_F1, "key:business", "amount"),),
        "表02事业收入应等于表01",
        "T02 business income = T01",
    ),
    (
        "X2",
        "error",
        "=",
        (_F2, "total", "operating_income"),
        ((_F1, "key:operating", "amount"),),
        "表02经营收入应等于表01",
        "T02 operating income = T01",
    ),
    (
        "X2",
        "error",
        "=",
        (_F2, "total", "subsidiary_remittance"),
        ((_F1, "key:subsidiary", "amount"),),
        "表02附属单位上缴收入应等于表01",
        "T02 remittances = T01",
    ),
    (
        "X2",
        "error",
        "=",
        (_F2, "total", "other_income"),
        ((_F1, "key:other", "amount"),),
        "表02其他收入应等于表01",
        "T02 other income = T01",
    ),
    (
        "X3",
        "error",
        "=",
        (_F1, "key:expenditure_total", "amount"),
        ((_F3, "total", "total"),),
        "表01本年支出合计应等于表03合计",
        "T01 expenditure total = T03 total",
    ),
    (
        "X5",
        "error",
        "=",
        (_F4, "key:gp", "amount"),
        ((_F1, "key:gp", "amount"),),
        "表04一般公共预算财政拨款应等于表01第1行",
        "T04 row 1 = T01 row 1",
    ),
    (
        "X5",
        "error",
        "=",
        (_F4, "key:gf", "amount"),
        ((_F1, "key:gf", "amount"),),
        "表04政府性基金财政拨款应等于表01第2行",
        "T04 row 2 = T01 row 2",
    ),
    (
        "X5",
        "error",
        "=",
        (_F4, "key:soe", "amount"),
        ((_F1, "key:soe", "amount"),),
        "表04国有资本经营财政拨款应等于表01第3行",
        "T04 row 3 = T01 row 3",
    ),
    (
        "X6",
        "error",
        "=",
        (_F4, "key:expenditure_total", "general_public"),
        ((_F5, "total", "total"),),
        "表04一般公共预算本年支出应等于表05合计",
        "T04 general-public spending = T05 total",
    ),
    (
        "X7",
        "error",
        "=",
        (_F4, "key:expenditure_total", "gov_fund"),
        ((_F7, "total", "total"),),
        "表04政府性基金本年支出应等于表07合计",
        "T04 fund spending = T07 total",
    ),
    (
        "X7",
        "error",
        "=",
        (_F4, "key:gf", "amount"),
        ((_F7, "total", "income"),),
        "表04政府性基金收入应等于表07本年收入",
        "T04 fund income = T07 income",
    ),
    (
        "X8",
        "error",
        "=",
        (_F4, "key:expenditure_total", "soe_capital"),
        ((_F8, "total", "total"),),
        "表04国有资本经营本年支出应等于表08合计",
        "T04 SOE spending = T08 total",
    ),
    (
        "X9",
        "error",
        "=",
        (_F5, "total", "basic_expenditure"),
        ((_F6, "key:personnel_total", "amount"), (_F6, "key:public_total", "amount")),
        "表05基本支出应等于表06人员经费合计+公用经费合计",
        "T05 basic = T06 personnel + running",
    ),
    (
        "X12",
        "error",
        "<=",
        (_F6, "code:30212", "amount"),
        ((_F9, "total", "final_abroad"),),
        "表06因公出国（境）费用不应超过表09决算数",
        "T06 30212 <= T09 abroad",
    ),
    (
        "X12",
        "error",
        "<=",
        (_F6, "code:30217", "amount"),
        ((_F9, "total", "final_reception"),),
        "表06公务接待费不应超过表09决算数",
        "T06 30217 <= T09 reception",
    ),
    (
        "X12",
        "error",
        "<=",
        (_F6, "code:30231", "amount"),
        ((_F9, "total", "final_vehicle_operation"),),
        "表06公务用车运行维护费不应超过表09决算数",
        "T06 30231 <= T09 vehicle operation",
    ),
    (
        "X12",
        "error",
        "<=",
        (_F6, "code:31013", "amount"),
        ((_F9, "total", "final_vehicle_purchase"),),
        "表06公务用车购置不应超过表09决算数",
        "T06 31013 <= T09 vehicle purchase",
    ),
    (
        "S06.4",
        "warning",
        "=",
        (_F6, "code:30108", "amount"),
        ((_F5, "code:2080505", "basic_expenditure"),),
        "30108基本养老保险缴费通常等于2080505",
        "30108 ~ 2080505",
    ),
    (
        "S06.4",
        "warning",
        "=",
        (_F6, "code:30109", "amount"),
        ((_F5, "code:2080506", "basic_expenditure"),),
        "30109职业年金缴费通常等于2080506",
        "30109 ~ 2080506",
    ),
    (
        "S06.4",
        "warning",
        "=",
        (_F6, "code:30113", "amount"),
        ((_F5, "code:2210201", "basic_expenditure"),),
        "30113住房公积金通常等于2210201",
        "30113 ~ 2210201",
    ),
    (
        "S06.4",
        "warning",
        "=",
        (_F6, "code:30110", "amount"),
        ((_F5, "code:2101101", "basic_expenditure"), (_F5, "code:2101102", "basic_expenditure")),
        "30110职工基本医疗保险缴费通常等于2101101+2101102",
        "30110 ~ 2101101 + 2101102",
    ),
    # budget
    (
        "B3.3",
        "error",
        "=",
        (_B3, "total", "total"),
        ((_B1, "key:expenditure_total", "amount"),),
        "支出预算总表合计应等于收支预算总表本年支出合计",
        "T3 total = T1 expenditure",
    ),
    (
        "B4.8",
        "error",
        "=",
        (_B4, "key:gp", "amount"),
        ((_B1, "key:gp", "amount"),),
        "财政拨款收支总表一般公共预算拨款应等于收支总表",
        "T4 general public = T1",
    ),
    (
        "B4.8",
        "error",
        "=",
        (_B4, "key:gf", "amount"),
        ((_B1, "key:gf", "amount"),),
        "财政拨款收支总表政府性基金拨款应等于收支总表",
        "T4 fund = T1",
    ),
    (
        "B4.9",
        "error",
        "=",
        (_B4, "key:expenditure_total", "amount"),
        ((_B5, "total", "total"), (_B9, "total", "total"), (_B10, "total", "total")),
        "财政拨款本年支出应等于表5+表9+表10合计",
        "T4 spending = T5 + T9 + T10",
    ),
    (
        "B6.4",
        "error",
        "=",
        (_B6, "total", "total"),
        ((_B5, "total", "total"),),
        "分单位表合计应等于分功能科目表合计",
        "T6 total = T5 total",
    ),
    (
        "B6.4",
        "error",
        "=",
        (_B6, "total", "basic_expenditure"),
        ((_B5, "total", "basic_expenditure"),),
        "分单位表基本支出应等于分功能科目表",
        "T6 basic = T5 basic",
    ),
    (
        "B6.4",
        "error",
        "=",
        (_B6, "total", "project_expenditure"),
        ((_B5, "total", "project_expenditure"),),
        "分单位表项目支出应等于分功能科目表",
        "T6 project = T5 project",
    ),
    (
        "B7.4",
        "error",
        "=",
        (_B7, "total", "total"),
        ((_B5, "total", "basic_expenditure"),),
        "基本支出表合计应等于表5基本支出",
        "T7 total = T5 basic",
    ),
    (
        "B7.4",
        "error",
        "=",
        (_B7, "total", "personnel"),
        ((_B5, "total", "personnel"),),
        "基本支出表人员经费应等于表5",
        "T7 personnel = T5",
    ),
    (
        "B7.4",
        "error",
        "=",
        (_B7, "total", "public_use"),
        ((_B5, "total", "public_use"),),
        "基本支出表公用经费应等于表5",
        "T7 running costs = T5",
    ),
    (
        "B8.3",
        "error",
        "<=",
        (_B7, "code:30217", "total"),
        ((_B8, "total", "reception"),),
        "基本支出表公务接待费不应超过“三公”表",
        "T7 30217 <= T8 reception",
    ),
    (
        "B8.3",
        "error",
        "<=",
        (_B7, "code:30231", "total"),
        ((_B8, "total", "vehicle_operation"),),
        "基本支出表公务用车运行维护费不应超过“三公”表",
        "T7 30231 <= T8 vehicle operation",
    ),
]


def select(sheet: Sheet, row: str, field_id: str) -> Amount | None:
    line: Line | None
    if row == "total":
        line = total_line(sheet) or (
            sheet.lines[0] if sheet.kind.layout == "single_row" and sheet.lines else None
        )
    elif row.startswith("key:"):
        found = [ln for g in range(len(sheet.groups)) for ln in keyed(sheet, g, row[4:]) if ln.get(field_id)]
        line = found[0] if found else None  # the first group (收入 side) wins
    else:
        code = row[5:]
        line = next((ln for ln in sheet.lines if ln.code == code), None)
    return line.get(field_id) if line else None


def _cross_rule(ctx: Context) -> Iterator[Equation]:
    for rid, _severity, relation, left, rights, zh, en in CROSS_RULES:
        left_sheet = ctx.first(left[0])
        right_sheets = [ctx.first(r[0]) for r in rights]
        if left_sheet is None or all(s is None for s in right_sheets):
            continue
        total = select(left_sheet, left[1], left[2])
        parts = [select(s, r[1], r[2]) for s, r in zip(right_sheets, rights, strict=True) if s is not None]
        present = [p for p in parts if p is not None]
        if total is None or not present or (relation == "=" and len(present) != len(parts)):
            continue
        yield Equation(rid, total, present, relation=relation, message=zh, message_en=en)


def _class_lines_rule(ctx: Context) -> Iterator[Equation]:
    """X4 / X6 / B3.4 / B4.10: a summary table's class line = the class row (or Σ items) of a coded table."""
    pairs = (
        (_F1, "amount", _F3, "total", "X4"),
        (_F4, "general_public", _F5, "total", "X6"),
        (_B1, "amount", _B3, "total", "B3.4"),
        (_B4, "amount", _B5, "total", "B4.10"),
    )
    for summary_kind, s_field, coded_kind, c_field, rid in pairs:
        summary, coded = ctx.first(summary_kind), ctx.first(coded_kind)
        if summary is None or coded is None:
            continue
        lines = coded_lines(coded)
        for line in summary.lines:
            code = (line.key or "").removeprefix("class:")
            amount = line.get(s_field) if (line.key or "").startswith("class:") else None
            if amount is None:
                continue
            parts = [a for a in (m.get(c_field) for m in _class_members(lines, code)) if a is not None]
            if not parts and amount.value in (None, 0):
                continue
            if not parts:
                yield Equation(rid, amount, [], message=f"类{code}在{coded.kind.label}中无对应行",
                               message_en=f"class {code} missing from {coded_kind}")
                continue
            yield Equation(rid, amount, parts,
                           message=f"{summary.kind.label}类{code}应等于{coded.kind.label}",
                           message_en=f"class {code}: {summary_kind} = {coded_kind}")


def _class_members(lines: list[Line], code: str) -> list[Line]:
    """The class's own row, or else its items (7-digit codes under it)."""
    exact = [ln for ln in lines if ln.code == code]
    return exact or [ln for ln in lines if (ln.code or "").startswith(code) and len(ln.code or "") == 7]


def _subset_rule(ctx: Context) -> Iterator[Equation]:
    """X10 (S): every 表05 row ≤ the same code in 表03 (05 is the general-public subset)."""
    for small_kind, big_kind, rid in ((_F5, _F3, "X10"), (_B5, _B3, "B5.4")):
        small, big = ctx.first(small_kind), ctx.first(big_kind)
        if small is None or big is None:
            continue
        big_by_code = {ln.code: ln for ln in coded_lines(big)}
        for line in coded_lines(small):
            other = big_by_code.get(line.code)
            for fid in ("total", "basic_expenditure", "project_expenditure"):
                a, b = line.get(fid), other.get(fid) if other else None
                if a is not None and b is not None:
                    yield Equation(
                        rid,
                        a,
                        [b],
                        relation="<=",
                        message=f"{line.code}一般公共预算部分不应超过全部支出",
                        message_en=f"{line.code}: general-public part <= all funds",
                    )


def _empty_tables_rule(ctx: Context) -> Iterator[Finding]:
    """X13: 表01 行2/行3 zero ⇔ 表07/表08 empty."""
    t01 = ctx.first(_F1)
    if t01 is None:
        return
    for key, kind_id, name in (("gf", _F7, "政府性基金"), ("soe", _F8, "国有资本经营")):
        amount = select(t01, f"key:{key}", "amount")
        sheet = ctx.first(kind_id)
        if amount is None or sheet is None:
            continue
        has_money = any(a.value for ln in sheet.lines for a in ln.amounts)
        if bool(amount.value) != has_money:
            yield EMPTY_CONSISTENT.finding(
                table=sheet.id,
                form=sheet.table.form,
                message=f"表01{name}收入与{sheet.kind.label}是否为空不一致",
                message_en=f"T01 {key} income vs emptiness of {kind_id} disagree",
                cells=[amount.cell] if amount.table == sheet.id else [],
            )


def _place(term: tuple[str, str, str]) -> str:
    kind, row, field_id = term
    return f"{kind} {row.removeprefix('key:')}.{field_id}"


def _cross_kinds() -> list[FindingKind]:
    return [FindingKind(rid, severity, zh, en, f"{_place(left)} {'≤' if relation == '<=' else '='} "
                        + " + ".join(_place(r) for r in rights))
            for rid, severity, relation, left, rights, zh, en in CROSS_RULES]


def _class_line(rid: str, summary: str, coded: str) -> FindingKind:
    return FindingKind(rid, "error", "功能类支出表间一致", "class lines across tables",
                       f"each class line of {summary} = that class's row (or Σ its items) in {coded}")


def _subset(rid: str, small: str, big: str) -> FindingKind:
    return FindingKind(rid, "warning", "一般公共预算为子集", "general-public subset",
                       f"each coded row of {small} ≤ the same code in {big} (total, basic, project)")


EMPTY_CONSISTENT = FindingKind("X13", "error", "空表与总表一致", "empty tables consistent",
                               f"{_F1} government-fund and state-capital income rows against whether "
                               f"{_F7} and {_F8} hold any amount")
RULES = (
    Rule("CROSS", _cross_rule, merge_kinds(_cross_kinds())),
    Rule("X4", _class_lines_rule, (_class_line("X4", _F1, _F3), _class_line("X6", _F4, _F5),
                                   _class_line("B3.4", _B1, _B3), _class_line("B4.10", _B4, _B5))),
    Rule("X10", _subset_rule, (_subset("X10", _F5, _F3), _subset("B5.4", _B5, _B3))),
    Rule("X13", _empty_tables_rule, (EMPTY_CONSISTENT,)),
)
