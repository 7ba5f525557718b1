"""What the service should answer, computed with the library in-process (the reference)."""

from __future__ import annotations

from typing import Any

from ocr.contract import Extraction, Table


def dump(models: list[Any]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in models]


def api_tables(api: Any, document_id: str) -> list[Table]:
    """The document's tables as contract Tables, read back through the API."""
    listing = api.client.get(f"/v1/documents/{document_id}/tables").json()["tables"]
    tables = []
    for summary in listing:
        detail = api.client.get(f"/v1/documents/{document_id}/tables/{summary['table_id']}").json()
        tables.append(Table(
            id=detail["table_id"], page=detail["page"], bbox=tuple(detail["bbox"]), form=detail["form"],
            title=detail["title"], unit=detail["unit"], department=detail["department"],
            n_rows=detail["n_rows"], n_cols=detail["n_cols"], continues=detail["continues"],
            notes=detail["notes"],
            cells=[{k: c[k] for k in ("row", "col", "row_span", "col_span", "text", "confidence", "bbox",
                                      "source", "read_as")}
                   for c in detail["cells"]]))
    return tables


def with_cell_text(extraction: Extraction, table_id: str, row: int, col: int, text: str) -> Extraction:
    copy = extraction.model_copy(deep=True)
    table = next(t for t in copy.tables if t.id == table_id)
    cell = next(c for c in table.cells if (c.row, c.col) == (row, col))
    cell.text = text
    return copy
