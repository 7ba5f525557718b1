"""Mutation suite: plant the errors auditors look for in real reports, count how many the checks catch.

Each real digital report is read once (text path); then one error at a time is planted in its
narrative or tables, the fiscal layer runs again, and the error counts as caught when a finding
that the unmutated report does not have (warning or error) points at it: the planted sentence's
page (or quote), or the planted cell. Kinds follow what auditors look for (issue 14):
restated amounts, comparison words, shares, years and dates, placeholders, a total restated as
0, doubled punctuation and words, a missing table, a blanked cell whose amount the text states.

Nothing is tuned to these reports: every mutation is found by a pattern of the document class
(an amount followed by 万元, a 截至…日 date, a heading's year), and the reports are the whole set.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ocr.contract import Extraction, Finding, PageInfo, Table

_AMOUNT = re.compile(r"(\d[\d,]*\.\d{2})\s*万元")
_SHARE = re.compile(r"占[^0-9，。；]{0,12}?(\d+(?:\.\d+)?)\s*%")
_COMPARE = re.compile(r"(大于|小于|高于|低于)")
_YEAR_HEADING = re.compile(r"(20\d{2})(年度?)")
_DATE = re.compile(r"截[至止]\s*(20\d{2})\s*年")
_TOTAL = re.compile(r"((?:合计|总计)[^0-9，。；]{0,8}?)(\d[\d,]*\.\d{2})\s*万元")
_DEPARTMENT = re.compile(r"[\u4e00-\u9fff]{2,}(局|办公室|委员会|街道办事处|部)")
_PER_KIND = 3


@dataclass(frozen=True)
class Mutation:
    kind: str
    page: int
    line: int | None  # index in the page's text, for narrative mutations
    cell: tuple[str, int, int] | None  # (table id, row, col), for table mutations
    before: str
    after: str


def _edit_line(extraction: Extraction, page_number: int, line: int, text: str) -> Extraction:
    pages = []
    for page in extraction.pages:
        lines = list(page.text)
        if page.number == page_number:
            lines[line] = text
        pages.append(page.model_copy(update={"text": lines}))
    return extraction.model_copy(update={"pages": pages, "records": [], "findings": []})


def _line_mutations(extraction: Extraction, kind: str, pattern: re.Pattern[str],
                    change: Callable[[re.Match[str]], str | None]) -> Iterator[tuple[Mutation, Extraction]]:
    made = 0
    for page in extraction.pages:
        for index, text in enumerate(page.text):
            for match in pattern.finditer(text):
                replacement = change(match)
                if replacement is None or made >= _PER_KIND:
                    continue
                after = text[:match.start()] + replacement + text[match.end():]
                made += 1
                yield (Mutation(kind, page.number, index, None, text, after),
                       _edit_line(extraction, page.number, index, after))
                break


def _bump(match: re.Match[str]) -> str | None:
    value = float(match.group(1).replace(",", ""))
    return None if value < 1 else f"{value + 13.00:.2f}万元"


def _flip(match: re.Match[str]) -> str:
    return {"大于": "小于", "小于": "大于", "高于": "低于", "低于": "高于"}[match.group(1)]


def _share(match: re.Match[str]) -> str | None:
    shown = float(match.group(1))
    return match.group(0).replace(match.group(1), f"{shown + 7.31:.2f}") if shown < 90 else None


def _year(match: re.Match[str]) -> str:
    return f"{int(match.group(1)) - 1}{match.group(2)}"


def _date(match: re.Match[str]) -> str:
    return match.group(0).replace(match.group(1), str(int(match.group(1)) + 1))


def _zero_total(match: re.Match[str]) -> str:
    return f"{match.group(1)}0万元"


def _narrative_kinds(extraction: Extraction) -> Iterator[tuple[Mutation, Extraction]]:
    yield from _line_mutations(extraction, "restated_amount", _AMOUNT, _bump)
    yield from _line_mutations(extraction, "comparison_word", _COMPARE, _flip)
    yield from _line_mutations(extraction, "share", _SHARE, _share)
    yield from _line_mutations(extraction, "heading_year", _YEAR_HEADING,
                               lambda m: _year(m) if "决算" in m.string or "预算" in m.string else None)
    yield from _line_mutations(extraction, "date", _DATE, _date)
    yield from _line_mutations(extraction, "zero_total", _TOTAL, _zero_total)
    yield from _line_mutations(extraction, "placeholder", _DEPARTMENT, lambda m: "XX" + m.group(1))
    yield from _line_mutations(extraction, "doubled_punctuation", re.compile(r"[，。；]"),
                               lambda m: m.group(0) * 2)
    yield from _line_mutations(extraction, "repeated_word", re.compile(r"(支出|收入|经费|预算|决算)"),
                               lambda m: m.group(0) * 2)


def _without_table(extraction: Extraction, table: Table) -> Extraction:
    kept = [t for t in extraction.tables if t.id != table.id and not _continues_into(t, table)]
    return extraction.model_copy(update={"tables": kept, "records": [], "findings": []})


def _continues_into(candidate: Table, head: Table) -> bool:
    return candidate.page == head.page + 1 and candidate.title is None


def _with_blank_cell(extraction: Extraction, table: Table, row: int, col: int) -> Extraction:
    cells = [c.model_copy(update={"text": ""}) if (c.row, c.col) == (row, col) else c for c in table.cells]
    tables = [t.model_copy(update={"cells": cells}) if t.id == table.id else t for t in extraction.tables]
    return extraction.model_copy(update={"tables": tables, "records": [], "findings": []})


def _table_kinds(extraction: Extraction) -> Iterator[tuple[Mutation, Extraction]]:
    from fiscal.layout import analyse

    # A table of the national layout (one of those the report must publish) goes missing.
    required = [t for t in extraction.tables if t.title and analyse(t).kind.family in ("final", "budget")]
    for table in required[:_PER_KIND]:
        yield (Mutation("missing_table", table.page, None, None, table.title or "", ""),
               _without_table(extraction, table))
    stated = {m.group(1) for page in extraction.pages for line in page.text for m in _AMOUNT.finditer(line)}
    made = 0
    for table in extraction.tables:
        for cell in table.cells:
            if made < _PER_KIND and cell.text in stated and float(cell.text.replace(",", "")) >= 1:
                made += 1
                where = (table.id, cell.row, cell.col)
                mutation = Mutation("blank_cell", table.page, None, where, cell.text, "")
                yield mutation, _with_blank_cell(extraction, table, cell.row, cell.col)
                break


def mutations(extraction: Extraction) -> Iterator[tuple[Mutation, Extraction]]:
    yield from _narrative_kinds(extraction)
    yield from _table_kinds(extraction)


def _key(finding: Finding) -> tuple[str, str]:
    return finding.rule, finding.message


def caught(mutation: Mutation, baseline: list[Finding], findings: list[Finding]) -> bool:
    known = {_key(f) for f in baseline}
    fresh = [f for f in findings if _key(f) not in known and f.severity in ("error", "warning")]
    if mutation.kind == "missing_table":
        return any(f.rule in ("N.TOC", "N.MISSING") for f in fresh)
    planted = _planted_text(mutation)
    for finding in fresh:
        if mutation.cell is not None and finding.table == mutation.cell[0] and \
                (mutation.cell[1], mutation.cell[2]) in finding.cells:
            return True
        # A narrative error is caught when a new finding quotes the sentence it was planted in.
        if mutation.line is not None and finding.quote and planted in finding.quote:
            return True
    return False


def _planted_text(mutation: Mutation) -> str:
    """A few characters around the change, as the page text has them (no spaces)."""
    before, after = re.sub(r"\s+", "", mutation.before), re.sub(r"\s+", "", mutation.after)
    start = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
                 min(len(before), len(after)))
    return after[max(0, start - 4):start + 1]


def _previous_years(reads: dict[Path, Extraction]) -> dict[Path, Extraction]:
    """For each report, the same department's report of the year before, when it is in the set."""
    from fiscal.yoy import department_of, year_of

    keyed = {(department_of(e), year_of(e)): e for e in reads.values()}
    found = {}
    for path, e in reads.items():
        prior = keyed.get((department_of(e), (year_of(e) or 0) - 1))
        if department_of(e) and prior is not None:
            found[path] = prior
    return found


def _findings(mutated: Extraction, previous: Extraction | None) -> list[Finding]:
    from fiscal.yoy import compare_years
    from service.fiscal_bridge import enrich

    findings = enrich(mutated).findings
    return findings + compare_years(mutated, previous)[0] if previous is not None else findings


def run(reports: list[Path], progress: Callable[[str], None] | None = None) -> str:
    from ocr.pipeline import extract

    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    missed: list[str] = []
    reads = {report: extract(report) for report in reports}
    previous = _previous_years(reads)
    for report, read in reads.items():
        baseline = _findings(read, previous.get(report))
        for mutation, mutated in mutations(read):
            totals[mutation.kind] += 1
            if caught(mutation, baseline, _findings(mutated, previous.get(report))):
                hits[mutation.kind] += 1
            else:
                missed.append(f"{report.name} p{mutation.page} {mutation.kind}: {mutation.after[:60]}")
        if progress is not None:
            progress(report.name)
    lines = ["| kind | planted | caught | share |", "|---|---|---|---|"]
    for kind in sorted(totals):
        lines.append(f"| {kind} | {totals[kind]} | {hits[kind]} | {100 * hits[kind] / totals[kind]:.0f} % |")
    all_planted, all_caught = sum(totals.values()), sum(hits.values())
    share = 100 * all_caught / max(1, all_planted)
    lines.append(f"| **all** | {all_planted} | {all_caught} | {share:.1f} % |")
    return "\n".join(lines) + "\n\nmissed:\n" + "\n".join(missed)


__all__ = ["Mutation", "PageInfo", "caught", "mutations", "run"]
