"""Performance-target tables (整体绩效目标申报表): fund blocks, shares, projects (REFERENCE §3 #14)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from fiscal.amounts import parse_amount
from fiscal.checks.cross import select
from fiscal.findings import FindingKind, Severity
from fiscal.rules import Context, Equation, Rule
from fiscal.sheet import Amount, Grid, Sheet
from ocr.contract import Finding

INCOME_LABELS = ("财政拨款", "财政专户管理资金", "单位资金", "其他资金")
EXPENSE_LABELS = ("人员类项目支出", "运转类项目支出", "特定目标类项目支出", "基本支出", "项目支出")
_PERCENT_RE = re.compile(r"^(\d+(?:\.\d+)?)%$")
_ENUM_SPLIT_RE = re.compile(r"(?:^|[；;。\s])\s*\d+[、.．]")
_WAN_RE = re.compile(r"(\d+(?:\.\d+)?)\s*万")


@dataclass
class FundRow:
    label: str
    block: str
    current: Amount | None
    share: tuple[str, tuple[int, int]] | None
    prior: list[Amount] = field(default_factory=list)  # Y-2, Y-1 in printed order


def _amount(sheet: Sheet, grid: Grid, r: int, c: int, header: str) -> Amount:
    text = grid.own_text(r, c)
    parsed = parse_amount(text)
    return Amount(
        sheet.id, r, c, text, parsed, parsed.value, grid.confidence(r, c), Decimal("0.01"), header, None
    )


def fund_rows(sheet: Sheet) -> list[FundRow]:
    grid = Grid(sheet.table)
    rows: list[FundRow] = []
    block = "income"
    for r in range(grid.n_rows):
        texts = grid.row_texts(r)
        if any("支出构成" in t for t in texts):
            block = "expenditure"
        label_col = next(
            (c for c, t in enumerate(texts) if t in (*INCOME_LABELS, *EXPENSE_LABELS, "合计")), None
        )
        if label_col is None:
            continue
        rows.append(_fund_row(sheet, grid, r, label_col, block))
        label = texts[label_col]
        if label == "合计" and block == "income":
            block = "expenditure_pending"
        if label in EXPENSE_LABELS:
            block = "expenditure"
    for row in rows:
        if row.block == "expenditure_pending":
            row.block = "expenditure"
    return rows


def _fund_row(sheet: Sheet, grid: Grid, r: int, label_col: int, block: str) -> FundRow:
    """Up to four cells after the label: the year's amount, its share, the two years before."""
    texts = grid.row_texts(r)
    cells = list(range(label_col + 1, grid.n_cols))
    while cells and not texts[cells[0]]:
        cells.pop(0)
    cells = cells[:4]
    if cells and _PERCENT_RE.match(texts[cells[0]]) and cells[0] - 1 > label_col:
        cells.insert(0, cells[0] - 1)  # blank amount before its share
    current = _amount(sheet, grid, r, cells[0], "当年金额") if cells else None
    share_cell = cells[1] if len(cells) > 1 else None
    share = (texts[share_cell], (r, share_cell)) if share_cell is not None and texts[share_cell] else None
    prior = [_amount(sheet, grid, r, c, "近两年") for c in cells[2:4]]
    return FundRow(texts[label_col], block, current, share, prior)


def _year_amount(row: FundRow, year: int) -> Amount | None:
    """Year 0 is the current column, 1 and 2 the prior years' columns."""
    if year == 0:
        return row.current
    return row.prior[year - 1] if len(row.prior) >= year else None


def _block_sums(sheet: Sheet, rows: list[FundRow]) -> Iterator[Equation]:
    for block in ("income", "expenditure"):
        members = [r for r in rows if r.block == block and r.label != "合计"]
        total = next((r for r in rows if r.block == block and r.label == "合计"), None)
        if total is None or not members:
            continue
        for year in range(3):
            t = _year_amount(total, year)
            present = [p for p in (_year_amount(m, year) for m in members) if p is not None]
            if t is not None and present:
                yield Equation(
                    "P14.1",
                    t,
                    present,
                    message=f"整体绩效目标表{'收入' if block == 'income' else '支出'}构成合计应等于各项之和",
                    message_en=f"performance table {block} total = parts",
                )


def _shares(sheet: Sheet, rows: list[FundRow]) -> Iterator[Finding]:
    for block in ("income", "expenditure"):
        total = next((r for r in rows if r.block == block and r.label == "合计"), None)
        if total is None or total.current is None or not total.current.value:
            continue
        for row in rows:
            if row.block != block or row.share is None or row.current is None or row.current.value is None:
                continue
            match = _PERCENT_RE.match(row.share[0])
            if not match:
                continue
            verdict = share_verdict(row.current.value, total.current.value, match.group(1))
            if verdict is not None:
                severity, exact = verdict
                yield PERF_SHARE.finding(
                    severity=severity,
                    table=sheet.id,
                    form=sheet.table.form,
                    cells=[row.share[1], row.current.cell, total.current.cell],
                    message=f"“{row.label}”占比{row.share[0]}与金额不符（应为{exact:.2f}%）",
                    message_en=f"share of {row.label} should be {exact:.2f}%",
                    expected=f"{exact:.2f}%",
                    actual=row.share[0],
                )


def share_verdict(part: Decimal, whole: Decimal, shown: str) -> tuple[Severity, Decimal] | None:
    """None when the printed percentage is right within §1.1; else (severity, exact %)."""
    exact = part / whole * 100
    decimals = len(shown.split(".", 1)[1]) if "." in shown else 0
    tolerance = Decimal("0.5") * Decimal(10) ** -decimals + 100 * (
        Decimal("0.005") / whole + part * Decimal("0.005") / whole**2
    )
    diff = abs(Decimal(shown) - exact)
    if diff <= tolerance:
        return None
    return ("warning" if diff < 1 else "error"), exact


def _projects(sheet: Sheet) -> Iterator[Finding]:
    """P14.5: a project's 用途 text that enumerates 'N、…X万元' items must add up to its budget."""
    grid = Grid(sheet.table)
    for r in range(grid.n_rows):
        listed = _listed_purpose(grid.row_texts(r))
        if listed is None:
            continue
        budget_cell, text_cell, budget, total = listed
        if abs(total - budget) > Decimal("0.01"):
            yield PERF_PURPOSE.finding(
                table=sheet.id,
                form=sheet.table.form,
                cells=[(r, budget_cell), (r, text_cell)],
                message=f"项目用途所列金额合计{total}万元与项目本年度预算{budget}万元不符",
                message_en="project purpose items do not add up to the project budget",
                expected=str(budget),
                actual=str(total),
                difference=str(total - budget),
            )


def _listed_purpose(texts: list[str]) -> tuple[int, int, Decimal, Decimal] | None:
    """A project row whose 用途 enumerates amounts: (budget column, text column, budget, Σ listed)."""
    kinds = [c for c, t in enumerate(texts) if "类" in t and ("本级" in t or "转移" in t or t.endswith("类"))]
    if not kinds:
        return None
    after = range(kinds[0] + 1, len(texts))
    numbers = [c for c in after if parse_amount(texts[c]).value is not None]
    text_cells = [c for c in after if c not in numbers and _ENUM_SPLIT_RE.search(texts[c] or "")]
    if len(numbers) < 1 or not text_cells:
        return None
    budget = parse_amount(texts[numbers[-1]]).value
    total = _enumerated_total(texts[text_cells[0]])
    if budget is None or total is None:
        return None
    return numbers[-1], text_cells[0], budget, total


def _enumerated_total(text: str) -> Decimal | None:
    """Σ of 'N、…X万元' items when the text lists at least two and each names its amount."""
    parts = [p for p in _ENUM_SPLIT_RE.split(text) if p.strip()]
    amounts = [_WAN_RE.search(p) for p in parts]
    if len(parts) < 2 or any(a is None for a in amounts):
        return None
    return sum((Decimal(a.group(1)) for a in amounts if a), Decimal(0))


def _cross(ctx: Context, sheet: Sheet, rows: list[FundRow]) -> Iterator[Equation]:
    """P14.4 (S): 人员类 = 人员经费, 运转类 = 公用经费, 特定目标类 = 项目支出; P14.3 收入合计 = 支出合计."""
    totals = [r.current for r in rows if r.label == "合计" and r.current is not None]
    if len(totals) == 2:
        yield Equation(
            "P14.3",
            totals[0],
            [totals[1]],
            message="整体绩效目标表收入合计应等于支出合计",
            message_en="performance table income = expenditure",
        )
    if ctx.family() == "final":
        targets = {
            "人员类项目支出": ("final_06_basic_economic", "key:personnel_total", "amount"),
            "运转类项目支出": ("final_06_basic_economic", "key:public_total", "amount"),
            "特定目标类项目支出": ("final_03_expenditure", "total", "project_expenditure"),
        }
    else:
        targets = {
            "人员类项目支出": ("budget_05_general_public_function", "total", "personnel"),
            "运转类项目支出": ("budget_05_general_public_function", "total", "public_use"),
            "特定目标类项目支出": ("budget_03_expenditure", "total", "project_expenditure"),
        }
    for row in rows:
        target = targets.get(row.label)
        other = ctx.first(target[0]) if target else None
        if target is None or other is None or row.current is None or row.current.value is None:
            continue
        amount = select(other, target[1], target[2])
        if amount is not None:
            yield Equation(
                "P14.4",
                row.current,
                [amount],
                message=f"整体绩效目标表“{row.label}”应与{other.kind.label}一致",
                message_en=f"performance table {row.label} vs {target[0]}",
            )


def _perf_rule(ctx: Context) -> Iterator[Equation | Finding]:
    for sheet in ctx.of_kind("perf_overall_target"):
        rows = fund_rows(sheet)
        yield from _block_sums(sheet, rows)
        yield from _shares(sheet, rows)
        yield from _projects(sheet)
        yield from _cross(ctx, sheet, rows)


_PERF = "perf_overall_target"
PERF_BLOCK = FindingKind("P14.1", "error", "整体绩效目标表构成合计", "performance table block total",
                         f"{_PERF}: the 合计 of the income and of the expenditure block = Σ its rows, "
                         "for the current and the prior years' columns")
PERF_SHARE = FindingKind("P14.2", "error", "整体绩效目标表占比", "performance table share",
                         f"{_PERF}: each printed share against amount / block 合计 "
                         "(warning when off by less than one point)")
PERF_BALANCE = FindingKind("P14.3", "error", "整体绩效目标表收支平衡", "performance table balance",
                           f"{_PERF}: income 合计 = expenditure 合计")
PERF_TABLES = FindingKind("P14.4", "warning", "整体绩效目标表与决算/预算表一致",
                          "performance table vs the accounts tables",
                          f"{_PERF}: 人员类/运转类/特定目标类 rows against 人员经费, 公用经费 and 项目支出 "
                          "of the basic-expenditure and expenditure tables")
PERF_PURPOSE = FindingKind("P14.5", "warning", "项目用途金额合计", "project purpose items",
                           f"{_PERF}: the amounts a project's 用途 text lists against the project's budget")
RULES = (Rule("P14", _perf_rule, (PERF_BLOCK, PERF_SHARE, PERF_BALANCE, PERF_TABLES, PERF_PURPOSE)),)
