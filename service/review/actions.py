"""What a reviewer does besides correcting a cell: approve a table or the document, undo a correction.
Both the /v1 API (API key) and the review page (session cookie) call these."""

from __future__ import annotations

import logging

from sqlalchemy import delete
from sqlmodel import Session, col, select

from models import Approval, CellRow, CorrectionRow, Document, TableRow, utcnow
from service.auth import Principal
from service.corrections import correct_cell
from service.errors import ErrorCode, ServiceError, not_found

log = logging.getLogger(__name__)


def approve(session: Session, document: Document, table_ref: str | None, principal: Principal) -> Approval:
    """Sign off one table (``table_ref``) or the whole document (None); replaces an older sign-off."""
    ref = table_ref or ""
    if ref and session.exec(select(TableRow.id).where(TableRow.document_id == document.id,
                                                   TableRow.ref == ref)).first() is None:
        raise not_found("table", ref)
    session.execute(delete(Approval).where(col(Approval.document_id) == document.id,
                                           col(Approval.table_ref) == ref))
    approval = Approval(document_id=document.id, table_ref=ref, who=principal.key_name, created_at=utcnow())
    session.add(approval)
    session.commit()
    log.info("approved", extra={"document_id": document.id, "table": ref or None, "who": principal.key_name})
    return approval


def withdraw(session: Session, document: Document, table_ref: str | None) -> None:
    session.execute(delete(Approval).where(col(Approval.document_id) == document.id,
                                           col(Approval.table_ref) == (table_ref or "")))
    session.commit()


def undo(session: Session, document: Document, correction_id: int, principal: Principal) -> CorrectionRow:
    """Put a corrected cell back to its text before that correction, as a new correction (the trail
    keeps both). Refused (409) when the cell was changed again since: that later change would be lost."""
    original = session.exec(select(CorrectionRow).where(CorrectionRow.id == correction_id,
                                                     CorrectionRow.document_id == document.id)).first()
    if original is None:
        raise not_found("correction", correction_id)
    cell = session.get(CellRow, original.cell_id)
    if cell is None or cell.document_id != document.id:
        raise not_found("cell", original.cell_id)
    if cell.text != original.new_text:
        raise ServiceError(ErrorCode.correction_superseded,
                           "the cell was changed again after this correction; "
                           "undo the later correction first",
                           detail={"correction_id": correction_id, "cell_text": cell.text})
    _, correction, _, _ = correct_cell(session, document, original.cell_id, original.old_text, principal)
    return correction
