"""Response bodies read from database rows (``from_attributes``) give the JSON the hand-written
converters gave: renamed fields read their column, stored times come back as UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from models import CellRow, CorrectionRow, TableRow
from service.schemas import CellOut, CorrectionOut, TableOut

NAIVE = datetime(2024, 5, 1, 8, 30, 0)  # as SQLite hands it back


def test_table_out_reads_ref_as_table_id() -> None:
    row = TableRow(id=7, document_id="d", job_id="j", ref="t3", position=2, page=4, kind="income",
                   form="收入总表", title="T", unit="万元", department=None, n_rows=5, n_cols=3,
                   bbox=[1, 2, 3, 4], continues="t2", notes=["n"])
    assert TableOut.model_validate(row).model_dump(mode="json") == {
        "table_id": "t3", "page": 4, "kind": "income", "form": "收入总表", "title": "T", "unit": "万元",
        "department": None, "n_rows": 5, "n_cols": 3, "bbox": [1, 2, 3, 4], "continues": "t2",
        "notes": ["n"]}


def test_cell_out_reads_id_and_types_the_source() -> None:
    row = CellRow(id=11, table_id=7, document_id="d", row=1, col=2, row_span=1, col_span=2, text="12.5",
                  confidence=0.5, bbox=[0, 0, 9, 9], corrected=True, source="text", read_as="12,5")
    assert CellOut.model_validate(row).model_dump(mode="json") == {
        "cell_id": 11, "row": 1, "col": 2, "row_span": 1, "col_span": 2, "text": "12.5",
        "confidence": 0.5, "bbox": [0, 0, 9, 9], "corrected": True, "source": "text", "read_as": "12,5"}
    row.source = "legacy"  # anything but text/ocr is reported as unknown, as before
    assert CellOut.model_validate(row).source is None


def test_correction_out_reads_its_columns_and_utc_time() -> None:
    row = CorrectionRow(id=3, document_id="d", cell_id=11, table_ref="t3", row=1, col=2, old_text="a",
                        new_text="b", who="key", created_at=NAIVE)
    out = CorrectionOut.model_validate(row)
    assert out.at == NAIVE.replace(tzinfo=UTC)
    assert out.model_dump_json() == ('{"correction_id":3,"cell_id":11,"table_id":"t3","row":1,"col":2,'
                                     '"old":"a","new":"b","who":"key","at":"2024-05-01T08:30:00Z"}')
