"""What the review page shows, assembled from the stored results: cells with their review state,
findings with the boxes to draw, the correction history and the (derived) approval state.

Findings carry ``table`` and ``cells``; their boxes are the cells' pixel boxes on the page image of
their table. A finding that carries ``page``/``bbox``/``quote`` itself (optional keys a later
contract version adds) is drawn from those instead.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from fiscal.repair import RepairOptions
from models import Approval, CellRow, CorrectionRow, Document, FindingRow, Job, RecordRow, TableRow
from service.db import as_utc
from service.repo import latest_job

UNCERTAIN_BELOW = RepairOptions().confidence_threshold  # the same line the OCR repair draws
BBox = list[int]


def union_box(boxes: list[BBox]) -> BBox | None:
    real = [b for b in boxes if len(b) == 4 and b[2] > b[0] and b[3] > b[1]]
    if not real:
        return None
    return [min(b[0] for b in real), min(b[1] for b in real),
            max(b[2] for b in real), max(b[3] for b in real)]


def finding_view(number: int, data: dict[str, Any], tables: dict[str, TableRow],
                 cells: dict[tuple[str, int, int], CellRow]) -> dict[str, Any]:
    """One finding as the page and the report draw it (``number`` is 1-based and stable per list)."""
    table = tables.get(data.get("table") or "")
    blamed = [cells.get((table.ref, int(r), int(c))) for r, c in data.get("cells", [])] if table else []
    found = [cell for cell in blamed if cell is not None]
    own_box = data.get("bbox")
    boxes = [list(own_box)] if own_box else [list(cell.bbox) for cell in found]
    quote = data.get("quote") or "；".join(cell.text for cell in found if cell.text)
    return {
        "number": number, "rule": data.get("rule"), "severity": data.get("severity"),
        "message": data.get("message", ""), "message_en": data.get("message_en", ""),
        "table": data.get("table"), "form": data.get("form"),
        "page": data.get("page") or (table.page if table else None),
        "cells": [{"cell_id": cell.id, "row": cell.row, "col": cell.col} for cell in found],
        "boxes": boxes, "box": union_box(boxes), "quote": quote,
        "expected": data.get("expected"), "actual": data.get("actual"), "difference": data.get("difference"),
    }


def load_findings(session: Session,
                  document_id: str) -> tuple[list[dict[str, Any]], list[TableRow], list[CellRow]]:
    tables = list(session.exec(select(TableRow).where(TableRow.document_id == document_id)
                               .order_by(col(TableRow.position))).all())
    cells = list(session.exec(select(CellRow).where(CellRow.document_id == document_id)
                              .order_by(col(CellRow.table_id), col(CellRow.row), col(CellRow.col))).all())
    refs = {t.id: t.ref for t in tables}
    by_key = {(refs.get(c.table_id, ""), c.row, c.col): c for c in cells}
    rows = session.exec(select(FindingRow).where(FindingRow.document_id == document_id)
                        .order_by(col(FindingRow.position))).all()
    by_ref = {t.ref: t for t in tables}
    return [finding_view(i + 1, f.data, by_ref, by_key) for i, f in enumerate(rows)], tables, cells


def _iso(value: datetime | None) -> str | None:
    stamp = as_utc(value)
    return stamp.isoformat() if stamp else None


def review_state(session: Session, document_id: str, table_refs: list[str]) -> dict[str, Any]:
    """Approvals that still hold: an approval older than a later correction of its scope is stale."""
    approvals = {a.table_ref: a for a in
                 session.exec(select(Approval).where(Approval.document_id == document_id))}
    last_by_table = dict(session.exec(
        select(CorrectionRow.table_ref, func.max(CorrectionRow.created_at))
        .where(CorrectionRow.document_id == document_id).group_by(col(CorrectionRow.table_ref))).all())
    stamps = [stamp for stamp in (as_utc(v) for v in last_by_table.values()) if stamp is not None]
    last_any = max(stamps, default=None)

    def state(ref: str, last: datetime | None) -> dict[str, Any]:
        approval = approvals.get(ref)
        if approval is None:
            return {"approved": False, "who": None, "at": None, "stale": False}
        stale = last is not None and as_utc(last) > as_utc(approval.created_at)  # type: ignore[operator]
        return {"approved": not stale, "who": approval.who, "at": _iso(approval.created_at), "stale": stale}

    tables = {ref: state(ref, last_by_table.get(ref)) for ref in table_refs}
    document = state("", last_any)
    label = "approved" if document["approved"] else ("in_review" if last_by_table or approvals else "open")
    return {"state": label, "document": document, "tables": tables,
            "tables_approved": sum(1 for t in tables.values() if t["approved"])}


def _job_progress(job: Job | None) -> dict[str, Any] | None:
    if job is None:
        return None
    return {"job_id": job.id, "state": job.state, "pages_done": job.pages_done,
            "pages_total": job.pages_total,
            "error": job.error_message if job.error_code else None, "error_code": job.error_code}


def overview(session: Session, document: Document) -> dict[str, Any]:
    """One line of the documents list."""
    tables = session.exec(select(TableRow.ref, TableRow.form)
                          .where(TableRow.document_id == document.id)).all()
    severities = Counter(session.exec(select(FindingRow.severity)
                                      .where(FindingRow.document_id == document.id)).all())
    review = review_state(session, document.id, [ref for ref, _ in tables])
    return {"document_id": document.id, "filename": document.filename, "status": document.status,
            "pages": document.pages, "tables": len(tables),
            "forms": sorted({form for _, form in tables if form}),
            "findings": {s: severities.get(s, 0) for s in ("error", "warning", "info")},
            "review": review["state"], "tables_approved": review["tables_approved"],
            "created_at": _iso(document.created_at), "job": _job_progress(latest_job(session, document.id))}


def _cell_view(cell: CellRow, blamed_by: list[int]) -> dict[str, Any]:
    return {"cell_id": cell.id, "row": cell.row, "col": cell.col, "row_span": cell.row_span,
            "col_span": cell.col_span, "text": cell.text, "confidence": round(cell.confidence, 3),
            "bbox": list(cell.bbox), "corrected": cell.corrected,
            "source": cell.source or "ocr",
            "uncertain": cell.confidence < UNCERTAIN_BELOW and not cell.corrected, "findings": blamed_by}


def records_view(session: Session, document_id: str) -> list[dict[str, Any]]:
    """The typed records (what the exports hold), so the page shows a correction's effect on them."""
    rows = session.exec(select(RecordRow).where(RecordRow.document_id == document_id)
                        .order_by(col(RecordRow.position)))
    keys = ("table", "row", "code", "name", "level", "fields")
    return [{key: r.data.get(key) for key in keys} for r in rows]


def corrections_view(session: Session, document_id: str) -> list[dict[str, Any]]:
    rows = session.exec(select(CorrectionRow).where(CorrectionRow.document_id == document_id)
                        .order_by(col(CorrectionRow.id).desc())).all()
    current = {c.id: c.text for c in session.exec(select(CellRow).where(CellRow.document_id == document_id))}
    return [{"correction_id": c.id, "cell_id": c.cell_id, "table": c.table_ref, "row": c.row, "col": c.col,
             "old": c.old_text, "new": c.new_text, "who": c.who, "at": _iso(c.created_at),
             "undoable": current.get(c.cell_id) == c.new_text and c.old_text != c.new_text}
            for c in rows]


def workspace(session: Session, document: Document) -> dict[str, Any]:
    """Everything the workspace page draws for one document."""
    findings, tables, cells = load_findings(session, document.id)
    refs = {t.id: t.ref for t in tables}
    blame: dict[tuple[str, int, int], list[int]] = {}
    for finding in findings:
        for cell in finding["cells"]:
            blame.setdefault((finding["table"], cell["row"], cell["col"]), []).append(finding["number"])
    cells_by_table: dict[str, list[dict[str, Any]]] = {}
    for cell in cells:
        ref = refs.get(cell.table_id, "")
        cells_by_table.setdefault(ref, []).append(_cell_view(cell, blame.get((ref, cell.row, cell.col), [])))
    review = review_state(session, document.id, [t.ref for t in tables])
    return {
        "document": overview(session, document) | {"page_info": [
            {k: p.get(k) for k in ("number", "width_px", "height_px", "dpi")} for p in document.page_info]},
        "tables": [{"table_id": t.ref, "page": t.page, "form": t.form, "title": t.title, "kind": t.kind,
                    "unit": t.unit, "n_rows": t.n_rows, "n_cols": t.n_cols, "bbox": list(t.bbox),
                    "review": review["tables"][t.ref], "cells": cells_by_table.get(t.ref, [])}
                   for t in tables],
        "findings": findings,
        "records": records_view(session, document.id),
        "corrections": corrections_view(session, document.id),
        "review": review,
    }


def table_refs(session: Session, document_id: str) -> list[str]:
    return list(session.exec(select(TableRow.ref).where(TableRow.document_id == document_id)
                             .order_by(col(TableRow.position))).all())
