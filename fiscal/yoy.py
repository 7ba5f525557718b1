"""Year over year: this year's report against the same department's report of the previous year.

A report states its changes against last year (…15621.11万元，比2023年预算减少876.75万元; 与上年持平)
and carries last year's closing balances forward (年初结转和结余 = last year's 年末结转和结余). Given
last year's report, the implied previous figure (this year's amount minus the stated change) must
be a figure that report printed for the same subject: in a table row of that name, or stated in
its narrative with the same words. No peer checks this.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from fiscal.checks.narrative import PRIOR
from fiscal.checks.wording import CLAUSE_BREAK, NUM, STATED, label_of, narrative_text, row_values
from fiscal.continuation import join_continuations
from fiscal.layout import SheetCache
from fiscal.locate import locate
from fiscal.pipeline import report_year
from fiscal.rules import Context
from ocr.contract import Extraction, Finding

_CHANGE = re.compile(r"([\u4e00-\u9fff“”（）()]{2,30}?)(?:为|是)?\s*" + NUM + r"\s*万元[，,]?\s*"
                     r"(?:比|较|与)(上年|20\d{2}年)度?(?:预算|决算)?数?\s*(?:相比)?[，,]?\s*"
                     r"(增加|减少|持平)\s*(?:" + NUM + r"\s*万元)?")
_CARRIED = {"年初结转和结余": "年末结转和结余"}  # this year's opening = last year's closing
_KEY_CHARS = 8  # a subject is matched on the last characters of its clause
_TOLERANCE = Decimal("0.015")  # two printed roundings of 0.005 plus one unit


@dataclass(frozen=True)
class YearCheck:
    subject: str
    stated: str  # the sentence part, as printed
    implied_prior: Decimal
    prior_values: tuple[Decimal, ...]

    @property
    def agrees(self) -> bool:
        return any(abs(self.implied_prior - value) <= _TOLERANCE for value in self.prior_values)


def _context(extraction: Extraction) -> Context:
    narrative = [line for page in extraction.pages for line in page.text]
    cache = SheetCache()
    joined, _, _ = join_continuations(extraction.tables, cache)
    sheets = [cache.get(table) for table in joined]
    return Context(sheets, narrative, report_year(joined, narrative))


def _key(clause: str) -> str:
    return re.sub(r"^(?:其中|20\d{2}年度?)", "", clause)[-_KEY_CHARS:]


def _stated_by_subject(ctx: Context) -> dict[str, list[Decimal]]:
    """Clause key -> amounts the narrative states for it (财政拨款支出预算16497.86万元)."""
    text = narrative_text(ctx)
    found: dict[str, list[Decimal]] = {}
    for match in STATED.finditer(text):
        clause = CLAUSE_BREAK.split(text[max(0, match.start() - 40):match.start(2)])[-1]
        found.setdefault(_key(clause), []).append(Decimal(match.group(2).replace(",", "")))
    return found


def _prior_values(clause: str, previous: Context, stated: dict[str, list[Decimal]]) -> tuple[Decimal, ...]:
    rows = row_values(previous)
    label = label_of(clause, sorted(rows, key=len, reverse=True))
    values = [value for value, _, _ in rows.get(label, [])] if label else []
    return tuple(values + stated.get(_key(clause), []))


def change_checks(current: Context, previous: Context) -> list[YearCheck]:
    """Every change this year's narrative states against the previous year, with what that year printed."""
    if current.year is None or previous.year is None or previous.year != current.year - 1:
        return []
    text = narrative_text(current)
    stated = _stated_by_subject(previous)
    checks = []
    for match in _CHANGE.finditer(text):
        if match.group(3) not in ("上年", f"{previous.year}年"):
            continue
        clause = CLAUSE_BREAK.split(text[max(0, match.start() - 40):match.start(2)])[-1]
        amount = Decimal(match.group(2).replace(",", ""))
        delta = Decimal(match.group(5).replace(",", "")) if match.group(5) else Decimal(0)
        implied = amount - delta if match.group(4) == "增加" else amount + delta
        values = _prior_values(clause, previous, stated)
        if values:
            checks.append(YearCheck(clause, match.group(0), implied, values))
    return checks


def carried_checks(current: Context, previous: Context) -> list[YearCheck]:
    """This year's opening balances against last year's closing ones, row name by row name."""
    now, before = row_values(current), row_values(previous)
    checks = []
    for opening, closing in _CARRIED.items():
        for label, values in now.items():
            if opening in label and (previous_label := label.replace(opening, closing)) in before:
                for value, _, _ in values:
                    checks.append(YearCheck(label, f"{label} {value}", value,
                                            tuple(v for v, _, _ in before[previous_label])))
    return checks


def department_of(extraction: Extraction) -> str | None:
    """The department most tables name on their 编制部门 line."""
    names = Counter(t.department for t in extraction.tables if t.department)
    return names.most_common(1)[0][0] if names else None


def year_of(extraction: Extraction) -> int | None:
    return report_year(extraction.tables, [line for page in extraction.pages for line in page.text])


def compare_years(current: Extraction, previous: Extraction) -> tuple[list[Finding], list[YearCheck]]:
    """Findings for what disagrees with last year's report, and every comparison made."""
    now, before = _context(current), _context(previous)
    checks = [*change_checks(now, before), *carried_checks(now, before)]
    findings = [
        PRIOR.finding(
            f"“{check.stated}”：按此推算{before.year}年为{check.implied_prior}万元，"
            f"{before.year}年报告中“{check.subject}”为"
            f"{'、'.join(str(v) for v in check.prior_values[:4])}万元",
            f"implied {before.year} figure {check.implied_prior} is not in last year's report",
            expected=str(check.prior_values[0]), actual=str(check.implied_prior))
        for check in checks if not check.agrees
    ]
    return locate(findings, [], {}, current.pages), checks
