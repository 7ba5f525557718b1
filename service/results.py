"""Extraction <-> database rows: persist a document's results as a whole, and load them back."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from models import CellRow, Document, FindingRow, RecordRow, TableRow
from ocr.contract import Cell as ContractCell
from ocr.contract import Extraction, PageInfo, Source
from ocr.contract import Table as ContractTable


def source_of(document: Document) -> Source:
    return Source(filename=document.filename, sha256=document.sha256, pages=document.pages or 0)


def clear_results(session: Session, document_id: str, *, keep_tables: bool = False) -> None:
    session.execute(delete(RecordRow).where(col(RecordRow.document_id) == document_id))
    session.execute(delete(FindingRow).where(col(FindingRow.document_id) == document_id))
    if not keep_tables:
        session.execute(delete(CellRow).where(col(CellRow.document_id) == document_id))
        session.execute(delete(TableRow).where(col(TableRow.document_id) == document_id))


def persist_extraction(session: Session, document: Document, job_id: str, extraction: Extraction) -> None:
    """Replace the document's tables, cells, records and findings (caller owns the transaction)."""
    clear_results(session, document.id)
    document.page_info = [page.model_dump(mode="json") for page in extraction.pages]
    kinds = _kinds_by_table(extraction)
    for position, table in enumerate(extraction.tables):
        row = TableRow(document_id=document.id, job_id=job_id, ref=table.id, position=position,
                       page=table.page, kind=kinds.get(table.id), form=table.form, title=table.title,
                       unit=table.unit, department=table.department, n_rows=table.n_rows,
                       n_cols=table.n_cols, bbox=list(table.bbox), continues=table.continues,
                       notes=list(table.notes))
        session.add(row)
        session.flush()
        if table.cells:
            session.execute(insert(CellRow), [_cell_row(row.id, document.id, cell) for cell in table.cells])
    persist_validation(session, document.id, extraction)


def persist_validation(session: Session, document_id: str, extraction: Extraction) -> None:
    records = [
        {"document_id": document_id, "position": i, "table_ref": r.table, "form": r.form, "kind": r.kind,
         "code": r.code, "level": r.level, "data": r.model_dump(mode="json")}
        for i, r in enumerate(extraction.records)
    ]
    findings = [
        {"document_id": document_id, "position": i, "rule": f.rule, "severity": f.severity,
         "table_ref": f.table, "data": f.model_dump(mode="json")}
        for i, f in enumerate(extraction.findings)
    ]
    if records:
        session.execute(insert(RecordRow), records)
    if findings:
        session.execute(insert(FindingRow), findings)


def _kinds_by_table(extraction: Extraction) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for record in extraction.records:
        if record.kind and record.table not in kinds:
            kinds[record.table] = record.kind
    return kinds


def _cell_row(table_id: int | None, document_id: str, cell: ContractCell) -> dict[str, Any]:
    return {"table_id": table_id, "document_id": document_id, "row": cell.row, "col": cell.col,
            "row_span": cell.row_span, "col_span": cell.col_span, "text": cell.text,
            "confidence": cell.confidence, "bbox": list(cell.bbox), "corrected": False,
            "source": cell.source, "read_as": cell.read_as}


def load_extraction(session: Session, document: Document) -> Extraction:
    """The document's current tables as an Extraction (records/findings empty: to be recomputed)."""
    tables = session.exec(select(TableRow).where(TableRow.document_id == document.id)
                          .order_by(col(TableRow.position))).all()
    cells_by_table: dict[int, list[CellRow]] = {}
    for cell in session.exec(select(CellRow).where(CellRow.document_id == document.id)
                             .order_by(col(CellRow.table_id), col(CellRow.row), col(CellRow.col))).all():
        cells_by_table.setdefault(cell.table_id, []).append(cell)
    return Extraction(
        source=source_of(document),
        pages=[PageInfo.model_validate(page) for page in document.page_info],
        tables=[_contract_table(t, cells_by_table.get(t.id or 0, [])) for t in tables],
    )


def _contract_table(table: TableRow, cells: list[CellRow]) -> ContractTable:
    return ContractTable(
        id=table.ref, page=table.page, bbox=_bbox(table.bbox), form=table.form, title=table.title,
        unit=table.unit, department=table.department, n_rows=table.n_rows, n_cols=table.n_cols,
        continues=table.continues, notes=list(table.notes),
        cells=[ContractCell(row=c.row, col=c.col, row_span=c.row_span, col_span=c.col_span, text=c.text,
                            confidence=c.confidence, bbox=_bbox(c.bbox), source=cell_source(c.source),
                            read_as=c.read_as) for c in cells],
    )


def _bbox(values: list[int]) -> tuple[int, int, int, int]:
    padded = [*list(values)[:4], 0, 0, 0, 0][:4]
    return (int(padded[0]), int(padded[1]), int(padded[2]), int(padded[3]))


def update_table_kinds(session: Session, document_id: str, extraction: Extraction) -> None:
    kinds = _kinds_by_table(extraction)
    for table in session.exec(select(TableRow).where(TableRow.document_id == document_id)).all():
        if table.kind != kinds.get(table.ref):
            table.kind = kinds.get(table.ref)
            session.add(table)


def cell_source(value: str | None) -> Literal["text", "ocr"] | None:
    """A stored cell's source as the contract types it."""
    return "text" if value == "text" else "ocr" if value == "ocr" else None
