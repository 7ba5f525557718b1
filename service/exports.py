"""Records as CSV or XLSX downloads. Amounts stay text (the decimal string as read), never floats."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from ocr.contract import Finding, Record
from service.text_safety import spreadsheet_safe

FIXED_COLUMNS = ("table", "form", "kind", "page", "row", "code", "name", "level", "parent", "unit")


def _columns(records: list[Record]) -> tuple[list[str], list[str]]:
    """Canonical field ids and printed headers, in order of first appearance."""
    fields: dict[str, None] = {}
    values: dict[str, None] = {}
    for record in records:
        fields.update(dict.fromkeys(record.fields))
        values.update(dict.fromkeys(record.values))
    return list(fields), list(values)


def record_rows(records: list[Record]) -> list[list[Any]]:
    field_ids, headers = _columns(records)
    rows: list[list[Any]] = [[*FIXED_COLUMNS, *field_ids, *(f"printed:{h}" for h in headers)]]
    for record in records:
        fixed = [getattr(record, name) for name in FIXED_COLUMNS]
        rows.append([*("" if v is None else v for v in fixed),
                     *(record.fields.get(f) or "" for f in field_ids),
                     *(record.values.get(h) or "" for h in headers)])
    return rows


def _safe_rows(records: list[Record]) -> list[list[Any]]:
    return [[spreadsheet_safe(v) if isinstance(v, str) else v for v in row] for row in record_rows(records)]


def to_csv(records: list[Record]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(_safe_rows(records))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: spreadsheet apps then read UTF-8


FINDING_COLUMNS = ("rule", "severity", "message", "message_en", "table", "form", "cells", "page", "bbox",
                   "quote", "expected", "actual")


def finding_rows(findings: list[Finding]) -> list[list[Any]]:
    """One line per finding with where it points: page, pixel box, blamed cells, quoted sentence."""
    rows: list[list[Any]] = [list(FINDING_COLUMNS)]
    for finding in findings:
        cells = " ".join(f"({r},{c})" for r, c in finding.cells)
        bbox = ",".join(str(v) for v in finding.bbox) if finding.bbox else ""
        rows.append([finding.rule, finding.severity, finding.message, finding.message_en, finding.table or "",
                     finding.form or "", cells, "" if finding.page is None else finding.page, bbox,
                     finding.quote or "", finding.expected or "", finding.actual or ""])
    return rows


def findings_csv(findings: list[Finding]) -> bytes:
    buffer = io.StringIO()
    rows = [[spreadsheet_safe(v) if isinstance(v, str) else v for v in row] for row in finding_rows(findings)]
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def review_rows(review: dict[str, Any]) -> list[list[str]]:
    """The sign-offs as a sheet: one line per table, then the document (``review_state``'s shape)."""
    rows = [["scope", "approved", "who", "at", "stale"]]
    scopes = [*sorted(review.get("tables", {}).items()), ("document", review.get("document", {}))]
    for scope, state in scopes:
        rows.append([scope, "yes" if state.get("approved") else "no", state.get("who") or "",
                     state.get("at") or "", "yes" if state.get("stale") else "no"])
    return rows


def to_xlsx(records: list[Record], review: dict[str, Any] | None = None,
            findings: list[Finding] | None = None) -> bytes:
    """Records on the first sheet; with ``review``, the approvals on a sheet "review"; with
    ``findings``, every finding and where it points on a sheet "findings"."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("records")
    for row in record_rows(records):
        # str() keeps "1200.50" as written; a number cell would drop the trailing zero.
        sheet.append([value if isinstance(value, int) and not isinstance(value, bool)
                      else spreadsheet_safe(str(value)) for value in row])
    if review is not None:
        review_sheet = workbook.create_sheet("review")
        for line in review_rows(review):
            review_sheet.append([spreadsheet_safe(str(value)) for value in line])
    if findings is not None:
        findings_sheet = workbook.create_sheet("findings")
        for line in finding_rows(findings):
            findings_sheet.append([v if isinstance(v, int) else spreadsheet_safe(str(v)) for v in line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
