"""fiscal.continuation decides continuation alone: an untitled table opening the next page with the
same column geometry is joined even when its kind is unknown; other columns start a new table."""

from __future__ import annotations

from fiscal.continuation import join_continuations
from ocr.contract import Cell, Table


def _table(table_id: str, page: int, y: int, cols: list[int], title: str | None = None) -> Table:
    cells = [Cell(row=0, col=i, text=f"r{page}c{i}", bbox=(x, y, cols[i + 1], y + 40))
             for i, x in enumerate(cols[:-1])]
    return Table(id=table_id, page=page, bbox=(cols[0], y, cols[-1], y + 400), title=title, n_rows=1,
                 n_cols=len(cols) - 1, cells=cells)


def test_same_columns_on_the_next_page_join_and_other_columns_do_not() -> None:
    tables = [
        _table("t0", 1, 100, [100, 600, 1100], title="总表"),
        _table("t1", 2, 200, [100, 500, 700, 1100], title="某某明细表"),
        _table("t2", 3, 150, [100, 510, 705, 1100]),  # edges within 2 % of the width: the same grid
        _table("t3", 4, 150, [100, 300, 700, 1100]),  # a column moved: a new table
    ]
    joined, findings, parts = join_continuations(tables)
    assert [t.id for t in joined] == ["t0", "t1", "t3"]
    assert joined[1].n_rows == 2 and parts["t1"] == [(0, 2), (1, 3)]
    assert [(f.rule, f.table) for f in findings] == [("T.JOIN", "t1")]


def test_an_explicit_link_is_followed_and_a_titled_table_is_never_a_continuation() -> None:
    tables = [
        _table("t0", 1, 200, [100, 500, 700, 1100], title="某某明细表").model_copy(
            update={"continues": "t1"}),
        _table("t1", 2, 150, [100, 300, 700, 1100]),  # other columns, but linked by its producer
        _table("t2", 3, 150, [100, 300, 700, 1100], title="另一张表"),
    ]
    joined, _, _ = join_continuations(tables)
    assert [t.id for t in joined] == ["t0", "t2"]
