"""Pure parts of the review workspace: where a finding is drawn, and when a sign-off goes stale."""

from __future__ import annotations

from models import CellRow, TableRow
from service.review.workspace import finding_view, union_box


def _table() -> tuple[TableRow, dict[tuple[str, int, int], CellRow]]:
    table = TableRow(id=1, document_id="d", job_id="j", ref="t0", position=0, page=3, n_rows=2, n_cols=2)
    cells = {("t0", r, c): CellRow(id=10 * r + c + 1, table_id=1, document_id="d", row=r, col=c,
                                text=f"{r}{c}", bbox=[100 * c, 50 * r, 100 * c + 90, 50 * r + 40])
             for r in range(2) for c in range(2)}
    return table, cells


def test_a_finding_is_drawn_from_its_cells_on_its_tables_page() -> None:
    table, cells = _table()
    data = {"rule": "H1", "severity": "error", "table": "t0", "cells": [[0, 1], [1, 1], [5, 5]]}
    view = finding_view(4, data, {"t0": table}, cells)
    assert view["number"] == 4 and view["page"] == 3
    assert view["boxes"] == [[100, 0, 190, 40], [100, 50, 190, 90]] and view["box"] == [100, 0, 190, 90]
    assert [c["cell_id"] for c in view["cells"]] == [2, 12]  # (5, 5) is not in the table: left out
    assert view["quote"] == "01；11"


def test_a_finding_that_carries_page_bbox_and_quote_uses_them() -> None:
    table, cells = _table()
    data = {"rule": "N1", "severity": "warning", "table": None, "cells": [], "page": 7,
            "bbox": [5, 6, 70, 80], "quote": "本年收入合计 120 万元"}
    view = finding_view(1, data, {"t0": table}, cells)
    assert (view["page"], view["boxes"], view["box"], view["quote"]) == (7, [[5, 6, 70, 80]], [5, 6, 70, 80],
                                                                         "本年收入合计 120 万元")


def test_union_box_ignores_empty_boxes() -> None:
    assert union_box([[0, 0, 0, 0], [10, 10, 20, 30], [15, 5, 40, 12]]) == [10, 5, 40, 30]
    assert union_box([[0, 0, 0, 0]]) is None
