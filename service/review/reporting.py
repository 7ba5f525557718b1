"""Gather what the annotated report needs (one short database visit), then render it without one."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from models import Document, RecordRow
from ocr.contract import Record as ContractRecord
from service import exports, render
from service.access import require_results, tenant_document
from service.auth import Principal
from service.report import ReportInput, ReportPage, build_report
from service.review.workspace import corrections_view, load_findings, review_state, table_refs
from service.settings import Settings
from service.storage import Storage

REPORT_DPI = 110  # sharp enough to read the figures, small enough to mail


def report_inputs(session: Session, principal: Principal,
                  document_id: str) -> tuple[Document, dict[str, Any]]:
    document = tenant_document(session, principal, document_id)
    findings, tables, _ = load_findings(session, document.id)
    return document, {"findings": findings, "corrections": corrections_view(session, document.id),
                      "review": review_state(session, document.id, [t.ref for t in tables])}


def render_report(document: Document, gathered: dict[str, Any], storage: Storage,
                  settings: Settings) -> bytes:
    """Every processed page with its findings drawn, then the summary (pages the job never read,
    e.g. of a failed document, are left out: there is no geometry to draw on)."""
    pages = []
    for info in sorted(document.page_info, key=lambda p: int(p.get("number", 0))):
        number, dpi = int(info["number"]), int(info.get("dpi", settings.dpi))
        geometry = render.PageGeometry(dpi=dpi, rotation=int(info.get("rotation", 0)),
                                       skew_deg=float(info.get("skew_deg", 0.0)))
        png = render.render_page(storage.local_path(document.storage_key), number, REPORT_DPI, geometry,
                                 tables=None, max_page_pixels=settings.max_page_pixels,
                                 timeout_s=settings.page_timeout_s)
        pages.append(ReportPage(number=number, png=png, width_px=int(info["width_px"]),
                                height_px=int(info["height_px"]), dpi=dpi,
                                findings=[f for f in gathered["findings"] if f.get("page") == number]))
    return build_report(ReportInput(filename=document.filename, document_id=document.id, pages=pages,
                                    findings=gathered["findings"], corrections=gathered["corrections"],
                                    review=gathered["review"]))


def records_xlsx(session: Session, principal: Principal, document_id: str) -> tuple[Document, bytes]:
    """The records workbook, with the sign-offs on its "review" sheet (as GET .../records?format=xlsx)."""
    document = tenant_document(session, principal, document_id)
    require_results(document)
    rows = session.exec(select(RecordRow).where(RecordRow.document_id == document.id)
                        .order_by(col(RecordRow.position)))
    records = [ContractRecord.model_validate(r.data) for r in rows.all()]
    review = review_state(session, document.id, table_refs(session, document.id))
    return document, exports.to_xlsx(records, review)


def ready_report_inputs(session: Session, principal: Principal,
                        document_id: str) -> tuple[Document, dict[str, Any]]:
    document, gathered = report_inputs(session, principal, document_id)
    require_results(document)
    return document, gathered
