"""Identities inside one table: rows, totals, hierarchy, summary tables (REFERENCE §2, §3).

The identities are data: ROW_RULES (per row: total = Σ parts), HIERARCHY_RULES (合计 = Σ top
level, parent = Σ children, per amount column) and SUMMARY_RULES (row keys of the summary tables).
"""

from __future__ import annotations

from collections.abc import Iterator

from fiscal.codes import parent_of
from fiscal.findings import FindingKind, merge_kinds
from fiscal.rules import Context, Equation, Rule
from fiscal.sheet import Amount, Grid, Line, Sheet, column_path

# kind -> [(rule id, total field, part fields, signs or None, zh, en)]
ROW_RULES: dict[str, list[tuple[str, str, tuple[str, ...], tuple[int, ...] | None, str, str]]] = {
    "final_02_income": [
        (
            "H02.1",
            "total",
            (
                "fiscal_appropriation",
                "superior_subsidy",
                "business_income",
                "operating_income",
                "subsidiary_remittance",
                "other_income",
            ),
            None,
            "本年收入合计应等于各项收入之和",
            "row total = sum of income sources",
        )
    ],
    "final_03_expenditure": [
        (
            "H03.1",
            "total",
            (
                "basic_expenditure",
                "project_expenditure",
                "remit_superior",
                "business_expenditure",
                "subsidiary_grants",
            ),
            None,
            "本年支出合计应等于基本支出+项目支出+上缴上级+经营+对附属单位补助",
            "row total = basic + project + remittance + business + grants",
        )
    ],
    "final_05_general_public": [
        (
            "H05.1",
            "total",
            ("basic_expenditure", "project_expenditure"),
            None,
            "小计应等于基本支出+项目支出",
            "subtotal = basic + project",
        )
    ],
    "final_07_gov_fund": [
        (
            "H07.1",
            "total",
            ("basic_expenditure", "project_expenditure"),
            None,
            "本年支出小计应等于基本+项目",
            "expenditure = basic + project",
        ),
        (
            "H07.2",
            "carry_out",
            ("carry_in", "income", "total"),
            (1, 1, -1),
            "年末结转应等于年初结转+本年收入-本年支出",
            "closing = opening + income - expenditure",
        ),
    ],
    "final_08_soe_capital": [
        (
            "H08.1",
            "total",
            ("basic_expenditure", "project_expenditure"),
            None,
            "合计应等于基本支出+项目支出",
            "total = basic + project",
        )
    ],
    "final_09_three_public": [
        (
            "H09.1",
            "budget_total",
            ("budget_abroad", "budget_vehicle", "budget_reception"),
            None,
            "预算数合计应等于出国+公务用车+接待",
            "budget total = abroad + vehicles + reception",
        ),
        (
            "H09.2",
            "budget_vehicle",
            ("budget_vehicle_purchase", "budget_vehicle_operation"),
            None,
            "预算数公务用车小计应等于购置+运行维护",
            "budget vehicles = purchase + operation",
        ),
        (
            "H09.3",
            "final_total",
            ("final_abroad", "final_vehicle", "final_reception"),
            None,
            "决算数合计应等于出国+公务用车+接待",
            "actual total = abroad + vehicles + reception",
        ),
        (
            "H09.4",
            "final_vehicle",
            ("final_vehicle_purchase", "final_vehicle_operation"),
            None,
            "决算数公务用车小计应等于购置+运行维护",
            "actual vehicles = purchase + operation",
        ),
    ],
    "final_04_appropriation_summary": [
        (
            "H04.4",
            "total",
            ("general_public", "gov_fund", "soe_capital"),
            None,
            "小计应等于三类财政拨款之和",
            "subtotal = three appropriations",
        )
    ],
    "budget_04_appropriation_summary": [
        (
            "B4.7",
            "total",
            ("general_public", "gov_fund", "soe_capital"),
            None,
            "合计应等于三类拨款之和",
            "total = three appropriations",
        )
    ],
    "budget_02_income": [
        (
            "B2.1",
            "total",
            (
                "carry_in",
                "general_public",
                "gov_fund",
                "soe_capital",
                "fiscal_appropriation",
                "special_account",
                "business_income",
                "operating_income",
                "superior_subsidy",
                "subsidiary_remittance",
                "other_income",
            ),
            None,
            "合计应等于各项收入之和",
            "total = sum of sources",
        )
    ],
    "budget_03_expenditure": [
        (
            "B3.1",
            "total",
            (
                "basic_expenditure",
                "project_expenditure",
                "business_expenditure",
                "remit_superior",
                "subsidiary_grants",
            ),
            None,
            "合计应等于基本+项目+经营+上缴上级+对附属单位补助",
            "total = sum of types",
        )
    ],
    "budget_05_general_public_function": [
        (
            "B5.1",
            "total",
            ("basic_expenditure", "project_expenditure"),
            None,
            "合计应等于基本支出+项目支出",
            "total = basic + project",
        ),
        (
            "B5.2",
            "basic_expenditure",
            ("personnel", "public_use"),
            None,
            "基本支出应等于人员经费+公用经费",
            "basic = personnel + running costs",
        ),
    ],
    "budget_06_general_public_unit": [
        (
            "B6.1",
            "total",
            ("basic_expenditure", "project_expenditure"),
            None,
            "合计应等于基本支出+项目支出",
            "total = basic + project",
        ),
        (
            "B6.2",
            "basic_expenditure",
            ("personnel", "public_use"),
            None,
            "基本支出应等于人员经费+公用经费",
            "basic = personnel + running costs",
        ),
    ],
    "budget_07_basic_economic": [
        (
            "B7.1",
            "total",
            ("personnel", "public_use"),
            None,
            "合计应等于人员经费+公用经费",
            "total = personnel + running costs",
        )
    ],
    "budget_08_three_public": [
        (
            "B8.1",
            "total",
            ("abroad", "vehicle", "reception"),
            None,
            "“三公”合计应等于出国+公务用车+接待",
            "total = abroad + vehicles + reception",
        ),
        (
            "B8.2",
            "vehicle",
            ("vehicle_purchase", "vehicle_operation"),
            None,
            "公务用车小计应等于购置+运行",
            "vehicles = purchase + operation",
        ),
    ],
    "budget_09_gov_fund": [
        (
            "B9.1",
            "total",
            ("basic_expenditure", "project_expenditure"),
            None,
            "合计应等于基本支出+项目支出",
            "total = basic + project",
        )
    ],
    "budget_10_soe_capital": [
        (
            "B10.1",
            "total",
            ("basic_expenditure", "project_expenditure"),
            None,
            "合计应等于基本支出+项目支出",
            "total = basic + project",
        )
    ],
}

# kind -> (rule id for 合计 = Σ top level, rule id for parent = Σ children)
HIERARCHY_RULES: dict[str, tuple[str, str]] = {
    "final_02_income": ("H02.2", "H02.3"),
    "final_03_expenditure": ("H03.2", "H03.3"),
    "final_05_general_public": ("H05.2", "H05.3"),
    "final_07_gov_fund": ("H07.3", "H07.4"),
    "final_08_soe_capital": ("H08.2", "H08.3"),
    "budget_02_income": ("B2.2", "B2.3"),
    "budget_03_expenditure": ("B3.2", "B3.2"),
    "budget_05_general_public_function": ("B5.3", "B5.3"),
    "budget_06_general_public_unit": ("B6.3", "B6.3"),
    "budget_07_basic_economic": ("B7.3", "B7.2"),
    "budget_09_gov_fund": ("B9.2", "B9.2"),
    "budget_10_soe_capital": ("B10.2", "B10.2"),
    "budget_12_procurement": ("B12.1", "B12.1"),
    "budget_13_purchase_services": ("B13.1", "B13.1"),
}

# (rule id, kind, total (group, key, field), parts [(group, key, field)], zh, en); 'class:*' = all class lines
SumTerm = tuple[int, str, str]
SUMMARY_RULES: list[tuple[str, str, SumTerm, tuple[SumTerm, ...], str, str]] = []


def _summary(rule_id: str, kind: str, total: SumTerm, parts: tuple[SumTerm, ...], *text: str) -> None:
    zh, en = text
    SUMMARY_RULES.append((rule_id, kind, total, parts, zh, en))


_F1, _F4, _B1, _B4 = (
    "final_01_income_expenditure",
    "final_04_appropriation_summary",
    "budget_01_summary",
    "budget_04_appropriation_summary",
)
_INCOME_KEYS = ("gp", "gf", "soe", "superior", "business", "operating", "subsidiary", "other")
_summary(
    "H01.1",
    _F1,
    (0, "income_total", "amount"),
    tuple((0, k, "amount") for k in _INCOME_KEYS),
    "本年收入合计应等于第1-8行之和",
    "income total = rows 1-8",
)
_summary(
    "H01.2",
    _F1,
    (1, "expenditure_total", "amount"),
    ((1, "class:*", "amount"),),
    "本年支出合计应等于各功能类支出之和",
    "expenditure total = class lines",
)
_summary(
    "H01.3",
    _F1,
    (0, "grand_total", "amount"),
    ((0, "income_total", "amount"), (0, "use_surplus", "amount"), (0, "carry_in", "amount")),
    "收入总计应等于本年收入合计+使用非财政拨款结余+年初结转和结余",
    "income grand total",
)
_summary(
    "H01.4",
    _F1,
    (1, "grand_total", "amount"),
    ((1, "expenditure_total", "amount"), (1, "distribution", "amount"), (1, "carry_out", "amount")),
    "支出总计应等于本年支出合计+结余分配+年末结转和结余",
    "expenditure grand total",
)
_summary(
    "H01.5",
    _F1,
    (0, "grand_total", "amount"),
    ((1, "grand_total", "amount"),),
    "收入总计应等于支出总计",
    "income grand total = expenditure grand total",
)
_summary(
    "H04.1",
    _F4,
    (0, "income_total", "amount"),
    tuple((0, k, "amount") for k in ("gp", "gf", "soe")),
    "本年收入合计应等于三类财政拨款之和",
    "income total = three appropriations",
)
_summary(
    "H04.2",
    _F4,
    (0, "carry_in", "amount"),
    tuple((0, f"carry_in_{k}", "amount") for k in ("gp", "gf", "soe")),
    "年初财政拨款结转和结余应等于分项之和",
    "opening balance = its parts",
)
_summary(
    "H04.3",
    _F4,
    (0, "grand_total", "amount"),
    ((0, "income_total", "amount"), (0, "carry_in", "amount")),
    "收入总计应等于本年收入合计+年初结转和结余",
    "income grand total",
)
for _field in ("total", "general_public", "gov_fund", "soe_capital"):
    _summary(
        "H04.5",
        _F4,
        (1, "expenditure_total", _field),
        ((1, "class:*", _field),),
        "本年支出合计应等于各功能类支出之和",
        "expenditure total = class lines",
    )
    _summary(
        "H04.6",
        _F4,
        (1, "grand_total", _field),
        ((1, "expenditure_total", _field), (1, "carry_out", _field)),
        "支出总计应等于本年支出合计+年末结转和结余",
        "expenditure grand total",
    )
_summary(
    "H04.7",
    _F4,
    (0, "grand_total", "amount"),
    ((1, "grand_total", "total"),),
    "收入总计应等于支出总计",
    "income grand total = expenditure grand total",
)
for _key, _fund in (("gp", "general_public"), ("gf", "gov_fund"), ("soe", "soe_capital")):
    _summary(
        "H04.8",
        _F4,
        (1, "carry_out", _fund),
        ((0, f"carry_in_{_key}", "amount"), (0, _key, "amount"), (1, "expenditure_total", _fund)),
        "分资金：年末结转=年初结转+本年收入-本年支出",
        "per fund: closing = opening + income - spending",
    )
_summary(
    "B1.1",
    _B1,
    (0, "income_total", "amount"),
    tuple((0, k, "amount") for k in (*_INCOME_KEYS, "special_account")),
    "本年收入合计应等于各项收入之和",
    "income total = sources",
)
_summary(
    "B1.2",
    _B1,
    (1, "expenditure_total", "amount"),
    ((1, "class:*", "amount"),),
    "本年支出合计应等于各功能类支出之和",
    "expenditure total = class lines",
)
_summary(
    "B1.3",
    _B1,
    (0, "grand_total", "amount"),
    ((0, "income_total", "amount"), (0, "carry_in", "amount")),
    "收入总计应等于本年收入合计+上年结转结余",
    "income grand total",
)
_summary(
    "B1.4",
    _B1,
    (1, "grand_total", "amount"),
    ((1, "expenditure_total", "amount"), (1, "carry_out", "amount")),
    "支出总计应等于本年支出合计+年终结转结余",
    "expenditure grand total",
)
_summary(
    "B1.5",
    _B1,
    (0, "grand_total", "amount"),
    ((1, "grand_total", "amount"),),
    "收入总计应等于支出总计",
    "income = expenditure grand total",
)
_summary(
    "B4.1",
    _B4,
    (0, "income_total", "amount"),
    tuple((0, k, "amount") for k in ("gp", "gf", "soe")),
    "本年收入应等于三类拨款之和",
    "income = three appropriations",
)
_summary(
    "B4.2",
    _B4,
    (0, "carry_in", "amount"),
    tuple((0, f"carry_in_{k}", "amount") for k in ("gp", "gf", "soe")),
    "上年结转应等于分项之和",
    "carry-over = parts",
)
_summary(
    "B4.3",
    _B4,
    (0, "grand_total", "amount"),
    ((0, "income_total", "amount"), (0, "carry_in", "amount")),
    "收入总计应等于本年收入+上年结转",
    "income grand total",
)
for _field in ("amount", "total", "general_public", "gov_fund", "soe_capital"):
    _summary(
        "B4.4",
        _B4,
        (1, "expenditure_total", _field),
        ((1, "class:*", _field),),
        "本年支出应等于各功能类支出之和",
        "expenditure = class lines",
    )
    _summary(
        "B4.5",
        _B4,
        (1, "grand_total", _field),
        ((1, "expenditure_total", _field), (1, "carry_out", _field)),
        "支出总计应等于本年支出+年终结转结余",
        "expenditure grand total",
    )
_summary(
    "B4.6",
    _B4,
    (0, "grand_total", "amount"),
    ((1, "grand_total", "amount"),),
    "收入总计应等于支出总计",
    "income = expenditure grand total",
)
_summary(
    "B4.6",
    _B4,
    (0, "grand_total", "amount"),
    ((1, "grand_total", "total"),),
    "收入总计应等于支出总计",
    "income = expenditure grand total",
)


def total_line(sheet: Sheet) -> Line | None:
    for line in sheet.lines:
        if line.is_total and line.key in (None, "grand_total"):
            return line
    return None


def coded_lines(sheet: Sheet) -> list[Line]:
    return [line for line in sheet.lines if line.code and not line.is_total]


def keyed(sheet: Sheet, group: int, key: str) -> list[Line]:
    if key == "class:*":
        return [ln for ln in sheet.lines if ln.group == group and (ln.key or "").startswith("class:")]
    return [ln for ln in sheet.lines if ln.group == group and ln.key == key]


def _row_rule(ctx: Context) -> Iterator[Equation]:
    for sheet in ctx.sheets:
        for rule_id, total_f, parts_f, signs, zh, en in ROW_RULES.get(sheet.kind.id, []):
            for line in sheet.lines:
                total = line.get(total_f)
                parts = [line.get(f) for f in parts_f]
                present = [
                    (p, s) for p, s in zip(parts, signs or [1] * len(parts), strict=True) if p is not None
                ]
                if total is None or not present:
                    continue
                yield Equation(
                    rule_id,
                    total,
                    [p for p, _ in present],
                    [s for _, s in present],
                    message=f"{sheet.kind.label}“{line.label}”{zh}",
                    message_en=f"{sheet.kind.id}: {en}",
                )


def _children(lines: list[Line], system: str) -> dict[str, list[Line]]:
    codes = {ln.code for ln in lines if ln.code}
    out: dict[str, list[Line]] = {}
    for line in lines:
        parent = parent_of(line.code or "", system)
        while parent and parent not in codes and len(parent) > 3:
            parent = parent_of(parent, system)
        if parent in codes:
            out.setdefault(parent, []).append(line)
    return out


def _hierarchy_rule(ctx: Context) -> Iterator[Equation]:
    for sheet in ctx.sheets:
        ids = HIERARCHY_RULES.get(sheet.kind.id)
        if not ids:
            continue
        system = sheet.kind.code_system
        lines = [ln for ln in sheet.lines if not ln.is_total and any(a.value for a in ln.amounts)]
        if sheet.kind.layout != "listing":
            lines = coded_lines(sheet)
        children = _children(lines, system)
        child_ids = {id(c) for kids in children.values() for c in kids}
        top = [ln for ln in lines if id(ln) not in child_ids]
        total = total_line(sheet)
        if total is not None and top:
            yield from _column_sums(ids[0], total, top, "合计应等于各顶层科目之和", "total = top-level rows")
        by_code = {ln.code: ln for ln in lines}
        for code, kids in children.items():
            yield from _column_sums(
                ids[1], by_code[code], kids, f"科目{code}应等于其下级科目之和", f"{code} = its children"
            )


def _column_sums(rule_id: str, total: Line, parts: list[Line], zh: str, en: str) -> Iterator[Equation]:
    for amount in total.amounts:
        if amount.field is None:
            continue
        members = [p.get(amount.field) for p in parts]
        present = [m for m in members if m is not None]
        if present:
            yield Equation(
                rule_id,
                amount,
                present,
                message=f"“{total.label}”{amount.header}：{zh}",
                message_en=f"{total.label} / {amount.field}: {en}",
            )


def _summary_rule(ctx: Context) -> Iterator[Equation]:
    for rule_id, kind, total_t, parts_t, zh, en in SUMMARY_RULES:
        for sheet in ctx.of_kind(kind):
            totals = _summary_terms(sheet, total_t)
            if len(totals) != 1:
                continue
            parts: list[Amount] = []
            for term in parts_t:
                parts.extend(_summary_terms(sheet, term))
            signs = [1] * len(parts)
            if rule_id == "H04.8":
                signs = [1 if p.field == "amount" else -1 for p in parts]
            if parts:
                yield Equation(
                    rule_id,
                    totals[0],
                    parts,
                    signs,
                    message=f"{sheet.kind.label}：{zh}",
                    message_en=f"{kind}: {en}",
                )


def _summary_terms(sheet: Sheet, term: SumTerm) -> list[Amount]:
    group, key, field_id = term
    out = []
    for line in keyed(sheet, group, key):
        amount = line.get(field_id)
        if amount is not None:
            out.append(amount)
    return out


def _econ_groups_rule(ctx: Context) -> Iterator[Equation]:
    for sheet in ctx.of_kind("final_06_basic_economic"):
        lines = [ln for ln in sheet.lines if ln.code]
        by_code = {ln.code: ln for ln in lines}
        for code, kids in _children(lines, "economic").items():
            total = by_code[code].get("amount")
            parts = [a for a in (k.get("amount") for k in kids) if a is not None]
            if total is not None and parts:
                yield Equation(
                    "H06.1",
                    total,
                    parts,
                    message=f"经济分类{code}应等于其款级科目之和",
                    message_en=f"economic class {code} = its items",
                )
        yield from _econ_footers(sheet, by_code)


_PERSONNEL_CLASSES = ("301", "303")


def _econ_footers(sheet: Sheet, by_code: dict[str | None, Line]) -> Iterator[Equation]:
    """人员经费合计 = 301 + 303; 公用经费合计 = every other class."""
    for key, personnel, rid, zh in (
        ("personnel_total", True, "H06.2", "人员经费合计应等于301+303"),
        ("public_total", False, "H06.3", "公用经费合计应等于302+307+309+310+399等"),
    ):
        footer = next((ln for ln in sheet.lines if ln.key == key), None)
        total_amount = footer.get("amount") if footer is not None else None
        if total_amount is None:
            continue
        chosen = [ln for c, ln in by_code.items()
                  if c and len(c) == 3 and (c in _PERSONNEL_CLASSES) == personnel]
        parts = [a for a in (ln.get("amount") for ln in chosen) if a is not None]
        if parts:
            yield Equation(rid, total_amount, parts, message=zh, message_en=f"{key} = classes")


def _procurement_product_rule(ctx: Context) -> Iterator[Equation]:
    """B12.2 采购金额 = 数量 × 单价 (only where 数量 is printed)."""
    from decimal import Decimal

    for sheet in ctx.of_kind("budget_12_procurement"):
        grid = Grid(sheet.table)
        quantity_cols = [c for c in range(grid.n_cols) if "数量" in column_path(grid, sheet.header_rows, c)]
        for line in sheet.lines:
            price, total = line.get("unit_price"), line.get("total")
            if line.is_total or price is None or total is None or price.value is None:
                continue
            grid_cells = {(c.row, c.col): c.text for c in sheet.table.cells}
            qty_text = next((grid_cells.get((line.row, c), "") for c in quantity_cols), "")
            if not qty_text.strip().isdigit():
                continue
            scaled = _scaled(price, Decimal(qty_text.strip()))
            yield Equation(
                "B12.2",
                total,
                [scaled],
                message="采购金额应等于数量×单价",
                message_en="procurement amount = quantity x unit price",
            )


def _scaled(amount: Amount, factor: object) -> Amount:
    from dataclasses import replace
    from decimal import Decimal

    assert isinstance(factor, Decimal)
    value = amount.value * factor if amount.value is not None else None
    parsed = replace(amount.parsed, value=value)
    return replace(amount, value=value, parsed=parsed)


def _signed(fields: tuple[str, ...], signs: tuple[int, ...] | None) -> str:
    terms = [f"{'-' if s < 0 else '+'} {f}" for f, s in zip(fields, signs or [1] * len(fields), strict=True)]
    return " ".join(terms).removeprefix("+ ")


def _row_kinds() -> list[FindingKind]:
    return [FindingKind(rid, "error", zh, en, f"{kind}, each row: {total} = {_signed(parts, signs)}")
            for kind, entries in ROW_RULES.items() for rid, total, parts, signs, zh, en in entries]


def _hierarchy_kinds() -> list[FindingKind]:
    out = []
    for kind, (top, child) in HIERARCHY_RULES.items():
        if top == child:
            out.append(FindingKind(top, "error", "合计与上级科目应等于其下级之和",
                                   "totals and parents = their parts",
                                   f"{kind}, each amount column: the total row = Σ top-level coded rows, "
                                   "and a coded row = Σ its child codes"))
            continue
        out.append(FindingKind(top, "error", "合计应等于各顶层科目之和", "total = top-level rows",
                               f"{kind}, each amount column: the total row = Σ top-level coded rows"))
        out.append(FindingKind(child, "error", "科目应等于其下级科目之和", "a code = its children",
                               f"{kind}, each amount column: a coded row = Σ its child codes"))
    return out


def _term(term: SumTerm) -> str:
    group, key, field_id = term
    return f"{key}.{field_id}" + (" (right-hand side)" if group else "")


def _summary_kinds() -> list[FindingKind]:
    return [FindingKind(rid, "error", zh, en, f"{kind}: {_term(total)} = Σ " + ", ".join(map(_term, parts)))
            for rid, kind, total, parts, zh, en in SUMMARY_RULES]


_ECON = "final_06_basic_economic"
ECON_CLASS = FindingKind("H06.1", "error", "经济分类类级应等于其款级之和", "economic class = its items",
                         f"{_ECON}: each economic class (3 digits) = Σ its items (5 digits)")
ECON_PERSONNEL = FindingKind("H06.2", "error", "人员经费合计应等于301+303", "personnel total = 301 + 303",
                             f"{_ECON}: the 人员经费合计 row = class 301 + class 303")
ECON_PUBLIC = FindingKind("H06.3", "error", "公用经费合计应等于302+307+309+310+399等",
                          "public-expense total = the other classes",
                          f"{_ECON}: the 公用经费合计 row = Σ classes other than 301 and 303")
PROCUREMENT_PRODUCT = FindingKind("B12.2", "error", "采购金额=数量×单价",
                                  "procurement amount = quantity x price",
                                  "budget_12_procurement, each row with a printed quantity: "
                                  "total = quantity × unit_price")

RULES = (
    Rule("ROW", _row_rule, merge_kinds(_row_kinds())),
    Rule("HIER", _hierarchy_rule, merge_kinds(_hierarchy_kinds())),
    Rule("SUMMARY", _summary_rule, merge_kinds(_summary_kinds())),
    Rule("H06", _econ_groups_rule, (ECON_CLASS, ECON_PERSONNEL, ECON_PUBLIC)),
    Rule("B12.2", _procurement_product_rule, (PROCUREMENT_PRODUCT,)),
)
