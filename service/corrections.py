"""A reviewer corrects one cell: record who/when/old/new, then recompute the document's records and
findings with the fiscal layer, all in one transaction (nothing changes if the fiscal layer fails)."""

from __future__ import annotations

import logging
from collections import Counter

from sqlmodel import Session, select

from models import CellRow, CorrectionRow, Document, TableRow, utcnow
from service import fiscal_bridge, results, yearly
from service.auth import Principal
from service.errors import not_found

log = logging.getLogger(__name__)


def correct_cell(session: Session, document: Document, cell_id: int, text: str,
                 principal: Principal) -> tuple[CellRow, CorrectionRow, int, dict[str, int]]:
    cell = session.exec(select(CellRow).where(CellRow.id == cell_id,
                                              CellRow.document_id == document.id)).first()
    if cell is None:
        raise not_found("cell", cell_id)
    table = session.get(TableRow, cell.table_id)
    assert table is not None
    correction = CorrectionRow(document_id=document.id, cell_id=cell_id, table_ref=table.ref, row=cell.row,
                            col=cell.col, old_text=cell.text, new_text=text, who=principal.key_name,
                            created_at=utcnow())
    cell.text = text
    cell.corrected = True
    session.add_all([cell, correction])
    session.flush()
    extraction = fiscal_bridge.enrich(results.load_extraction(session, document))
    extraction = yearly.with_previous_year(session, document, extraction)
    results.clear_results(session, document.id, keep_tables=True)
    results.persist_validation(session, document.id, extraction)
    results.update_table_kinds(session, document.id, extraction)
    document.updated_at = utcnow()
    session.add(document)
    session.commit()
    log.info("cell corrected", extra={"document_id": document.id, "cell_id": cell_id,
                                      "who": principal.key_name})
    severities = dict(Counter(str(f.severity) for f in extraction.findings))
    return cell, correction, len(extraction.records), severities
