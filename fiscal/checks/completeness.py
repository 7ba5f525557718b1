"""Completeness: the tables a report of its type must publish.

A final account publishes the nine tables of the national layout, a department budget the budget
set (REFERENCE.md): an empty one is still printed, with its 空表 statement. A table missing from
the report is an error an auditor asks about first.
"""

from __future__ import annotations

from collections.abc import Iterator

from fiscal.findings import FindingKind
from fiscal.kinds import KINDS
from fiscal.rules import Context, Rule
from ocr.contract import Finding

# Kinds of which a report needs one (budgets print the general-budget expenditure by function or,
# in unit budgets, by unit: either one).
_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "final": tuple((k.id,) for k in KINDS if k.family == "final"),
    "budget": (("budget_01_summary",), ("budget_02_income",), ("budget_03_expenditure",),
               ("budget_04_appropriation_summary",),
               ("budget_05_general_public_function", "budget_06_general_public_unit"),
               ("budget_07_basic_economic",), ("budget_08_three_public",), ("budget_09_gov_fund",),
               ("budget_10_soe_capital",)),
}
_LABELS = {k.id: k.label for k in KINDS}
_REPORT_WORDS = ("部门决算", "部门预算", "单位决算", "单位预算", "情况说明")


def _whole_report(ctx: Context) -> bool:
    """A whole disclosure report names itself (部门决算/部门预算 on its cover or contents) or explains its
    tables (情况说明); a single table or an extract of a few carries no such obligation."""
    text = "".join(line.replace(" ", "") for line in ctx.narrative)
    return any(word in text for word in _REPORT_WORDS)


def _missing_rule(ctx: Context) -> Iterator[Finding]:
    if not _whole_report(ctx):
        return
    family = ctx.family()
    present = {sheet.kind.id for sheet in ctx.sheets}
    for choices in _REQUIRED.get(family, ()):
        if present.isdisjoint(choices):
            label = _LABELS.get(choices[0], choices[0])
            yield MISSING.finding(f"报告缺少“{label}”（{'决算' if family == 'final' else '预算'}公开必备表）",
                                  f"required table missing: {choices[0]}", actual=choices[0])


MISSING = FindingKind("N.MISSING", "error", "必备表缺失", "required tables missing",
                      "the tables of a whole report against the national layout's required tables")
RULES = (Rule("N.MISSING", _missing_rule, (MISSING,)),)
