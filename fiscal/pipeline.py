"""Tables (+ narrative) -> joined tables, records, findings; optional repair."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from fiscal import checks
from fiscal.checks.wording import heading_text
from fiscal.continuation import RowPages, join_continuations
from fiscal.findings import INTERNAL, FindingKind
from fiscal.layout import SheetCache
from fiscal.locate import locate
from fiscal.records import sheet_records
from fiscal.repair import RepairOptions, RepairPolicy, propose
from fiscal.rules import Context, Outcome, run_rules
from fiscal.screen import screen
from fiscal.sheet import Sheet
from fiscal.textdoc import parse_text_document
from ocr.contract import Cell, Extraction, Finding, Record, Table

log = logging.getLogger(__name__)
_YEAR_RE = re.compile(r"(20\d{2})\s*年度?")
_TITLE_READ = 200  # characters of a title read for the year
REPAIR = FindingKind("R.OCR", "info", "疑似识别错误", "likely misread amount",
                     "a failing identity against single-character OCR confusions of its cells: the one "
                     "reading that makes every identity the cell is in hold")
_HEADING_CHARS = 40  # a narrative line this short that names a 预算/决算 is a heading or contents line


@dataclass
class Validation:
    tables: list[Table]
    sheets: list[Sheet]
    records: list[Record]
    findings: list[Finding]
    outcomes: list[Outcome] = field(default_factory=list)
    row_pages: RowPages = field(default_factory=dict)


@dataclass
class TextValidation:
    tables: list[Table]
    narrative: list[str]
    records: list[Record]
    findings: list[Finding]


def report_year(tables: list[Table], narrative: list[str]) -> int | None:
    """The year most titles and headings name: one wrong heading (a slip to report) cannot decide it."""
    years = Counter(int(m.group(1)) for t in tables for m in _YEAR_RE.finditer((t.title or "")[:_TITLE_READ]))
    for line in narrative:
        compact = heading_text(line)
        if len(compact) <= _HEADING_CHARS and ("决算" in compact or "预算" in compact) \
                and not re.search(r"[比较与]20\d{2}", compact):
            years.update(int(m.group(1)) for m in _YEAR_RE.finditer(compact))
    return years.most_common(1)[0][0] if years else None


def _analyse_all(tables: list[Table], cache: SheetCache) -> tuple[list[Sheet], list[Finding]]:
    sheets, findings = [], []
    for table in tables:
        try:
            sheets.append(cache.get(table))
        except Exception as exc:  # one unreadable table must not sink the document
            log.exception("table %s could not be read", table.id)
            findings.append(
                INTERNAL.finding(f"表格无法解析：{type(exc).__name__}", f"table could not be read: {exc}",
                                 table=table.id, form=table.form)
            )
    return sheets, findings


def validate(tables: list[Table], narrative: list[str] | None = None) -> Validation:
    narrative = narrative or []
    screened = screen(tables)
    cache = SheetCache()  # this validation's own: sheets are mutable and never shared across calls
    joined, findings, row_pages = join_continuations(screened.tables, cache)
    sheets, problems = _analyse_all(joined, cache)
    ctx = Context(sheets, narrative, report_year(joined, narrative))
    rule_findings, outcomes = run_rules(ctx, checks.RULES)
    records = [record for sheet in sheets for record in sheet_records(sheet)]
    all_findings = [*screened.findings, *findings, *problems, *rule_findings]
    return Validation([*joined, *screened.refused], sheets, records, all_findings, outcomes, row_pages)


def validate_tables(
    tables: list[Table], narrative: list[str] | None = None
) -> tuple[list[Record], list[Finding]]:
    result = validate(tables, narrative)
    return result.records, result.findings


def validate_text_document(text: str) -> TextValidation:
    doc = parse_text_document(text)
    result = validate(doc.tables, doc.narrative)
    return TextValidation(result.tables, doc.narrative, result.records, result.findings)


def _apply(tables: list[Table], table_id: str, cell: tuple[int, int], text: str) -> list[Table]:
    out = []
    for original in tables:
        table = original
        if table.id == table_id:
            cells = [
                c.model_copy(update={"text": text}) if (c.row, c.col) == cell else c for c in table.cells
            ]
            table = table.model_copy(update={"cells": cells})
        out.append(table)
    return out


def enrich(extraction: Extraction, policy: RepairPolicy | RepairOptions = RepairPolicy.PROPOSE) -> Extraction:
    options = policy if isinstance(policy, RepairOptions) else RepairOptions(policy=policy)
    narrative = [line for page in extraction.pages for line in page.text]
    result = validate(extraction.tables, narrative)
    repairs: list[Finding] = []
    if options.policy is not RepairPolicy.OFF:
        proposals = propose(result.outcomes, options)
        tables = result.tables
        for _amount, correction in proposals:
            applied = options.policy is RepairPolicy.APPLY
            if applied:
                tables = _apply(tables, correction.table, correction.cell, correction.proposed)
            repairs.append(
                REPAIR.finding(
                    f"疑似识别错误：“{correction.original}”应为“{correction.proposed}”",
                    "likely OCR confusion; identities prove the proposed value",
                    table=correction.table,
                    cells=[correction.cell],
                    expected=correction.proposed,
                    actual=correction.original,
                    correction=correction.model_copy(update={"applied": applied}),
                )
            )
            log.info(
                "repair %s %s -> %s (applied=%s)",
                correction.cell,
                correction.original,
                correction.proposed,
                applied,
            )
        if options.policy is RepairPolicy.APPLY and proposals:
            result = validate(tables, narrative)
    findings = locate([*result.findings, *repairs], result.tables, result.row_pages, extraction.pages)
    return extraction.model_copy(update={"tables": result.tables, "records": result.records,
                                         "findings": findings})


__all__ = [
    "Cell",
    "TextValidation",
    "Validation",
    "enrich",
    "validate",
    "validate_tables",
    "validate_text_document",
]
