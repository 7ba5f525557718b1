"""Table geometry screening: hostile or damaged grids become findings, never hangs or exceptions.

The contract types allow any integers, so a table may claim two billion columns, negative spans or
cells outside its own grid (found by fuzzing the HTTP API). Declared dimensions are only a claim:
nothing downstream allocates by them. A table whose declared or cell-derived size exceeds the caps
is reported (``T.SIZE``, error) and not analysed; inside the caps, cells are made consistent
(``T.CELL``): a cell outside the grid is dropped, spans are clipped to the grid and to the cells
already placed, duplicates keep the first cell. A table that needs no change is returned as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fiscal.findings import FindingKind
from ocr.contract import Cell, Finding, Severity, Table

# A real disclosure table, even joined over many pages, has < 500 rows and < 40 columns.
MAX_ROWS = 2000
MAX_COLS = 200
MAX_AREA = 100_000  # grid positions: every pass over the grid is bounded by this
MAX_TEXT = 2000  # characters of one cell the analysis reads; longer text is garbage for a table
_SHOWN = 40  # characters of a bad cell's text quoted in a finding

OVERSIZE = FindingKind("T.SIZE", "error", "表格尺寸超限", "table too large",
                       f"a table's declared and cell-derived size against {MAX_ROWS} rows, "
                       f"{MAX_COLS} columns and {MAX_AREA} grid positions (such a table is not analysed)")
CELL_PLACEMENT = FindingKind("T.CELL", "warning", "单元格位置", "cell placement",
                             "each cell against the grid: outside it, duplicated, under a merged cell, "
                             "a span overlapping others, text longer than the analysis reads "
                             "(error when text is lost)")


@dataclass
class Screened:
    tables: list[Table] = field(default_factory=list)  # to analyse (consistent, bounded)
    refused: list[Table] = field(default_factory=list)  # kept as given, not analysed
    findings: list[Finding] = field(default_factory=list)


def screen(tables: Iterable[Table]) -> Screened:
    out = Screened()
    for table in tables:
        size = _size_problem(table)
        if size:
            out.refused.append(table)
            out.findings.append(_finding(table, OVERSIZE, "error", *size))
            continue
        fixed, findings = _consistent(table)
        out.tables.append(fixed)
        out.findings.extend(findings)
    return out


def _size_problem(table: Table) -> tuple[str, str] | None:
    rows, cols = table.n_rows, table.n_cols
    if rows < 0 or cols < 0:
        return (
            f"表格行列数为负（{rows}×{cols}），不予处理",
            f"negative table size {rows}x{cols}; not analysed",
        )
    if rows > MAX_ROWS or cols > MAX_COLS or rows * cols > MAX_AREA:
        return (
            f"表格声明{rows}行×{cols}列，超出上限（{MAX_ROWS}行×{MAX_COLS}列，{MAX_AREA}格），不予处理",
            f"declared size {rows}x{cols} exceeds {MAX_ROWS}x{MAX_COLS} / {MAX_AREA} positions; not analysed",
        )
    if len(table.cells) > MAX_AREA:
        return (
            f"表格含{len(table.cells)}个单元格，超出上限{MAX_AREA}，不予处理",
            f"{len(table.cells)} cells exceed {MAX_AREA}; not analysed",
        )
    return None


@dataclass
class _Placement:
    """Positions taken so far; each position is visited at most once per placed cell."""

    rows: int
    cols: int
    owner: dict[tuple[int, int], int] = field(default_factory=dict)  # position -> index of its cell

    def free_width(self, row: int, col: int, want: int) -> int:
        width = 0
        while width < want and col + width < self.cols and (row, col + width) not in self.owner:
            width += 1
        return width

    def row_free(self, row: int, col: int, width: int) -> bool:
        return row < self.rows and all((row, c) not in self.owner for c in range(col, col + width))

    def place(self, index: int, cell: Cell) -> tuple[int, int]:
        width = self.free_width(cell.row, cell.col, max(1, cell.col_span))
        height = 1
        while height < max(1, cell.row_span) and self.row_free(cell.row + height, cell.col, width):
            height += 1
        for r in range(cell.row, cell.row + height):
            for c in range(cell.col, cell.col + width):
                self.owner[(r, c)] = index
        return height, width


def _consistent(table: Table) -> tuple[Table, list[Finding]]:
    placement = _Placement(table.n_rows, table.n_cols)
    kept: dict[int, Cell] = {}
    findings: list[Finding] = []
    order = sorted(range(len(table.cells)), key=lambda i: (table.cells[i].row, table.cells[i].col))
    for index in order:
        cell = table.cells[index]
        problem = _placement_problem(table, placement, kept, cell)
        if problem:
            findings.append(_finding(table, CELL_PLACEMENT, *problem, cell=cell))
            continue
        height, width = placement.place(index, cell)
        if (height, width) != (cell.row_span, cell.col_span):
            findings.append(_span_finding(table, cell, height, width))
            cell = cell.model_copy(update={"row_span": height, "col_span": width})
        if len(cell.text) > MAX_TEXT:
            findings.append(_long_text_finding(table, cell))
        kept[index] = cell
    if len(kept) == len(table.cells) and all(kept[i] is c for i, c in enumerate(table.cells)):
        return table, findings
    cells = [kept[i] for i in sorted(kept)]
    return table.model_copy(update={"cells": cells}), findings


def _placement_problem(
    table: Table, placement: _Placement, kept: dict[int, Cell], cell: Cell
) -> tuple[Severity, str, str] | None:
    if not (0 <= cell.row < table.n_rows and 0 <= cell.col < table.n_cols):
        return (
            "error",
            f"单元格({cell.row},{cell.col})位于{table.n_rows}×{table.n_cols}表格之外，已忽略",
            f"cell ({cell.row},{cell.col}) outside the {table.n_rows}x{table.n_cols} grid; dropped",
        )
    owner = placement.owner.get((cell.row, cell.col))
    if owner is None:
        return None
    first = kept[owner]
    if (first.row, first.col) == (cell.row, cell.col):
        severity: Severity = "warning" if first.text == cell.text else "error"
        return (
            severity,
            f"单元格({cell.row},{cell.col})重复出现，保留第一个",
            f"duplicate cell ({cell.row},{cell.col}); the first one is kept",
        )
    return (
        "warning" if not cell.text.strip() else "error",
        f"单元格({cell.row},{cell.col})被合并单元格({first.row},{first.col})覆盖，已忽略",
        f"cell ({cell.row},{cell.col}) lies under merged cell ({first.row},{first.col}); dropped",
    )


def _span_finding(table: Table, cell: Cell, height: int, width: int) -> Finding:
    return _finding(
        table,
        CELL_PLACEMENT,
        "warning",
        f"单元格({cell.row},{cell.col})跨度{cell.row_span}×{cell.col_span}无效或与其他单元格重叠，"
        f"按{height}×{width}读取",
        f"cell ({cell.row},{cell.col}) span {cell.row_span}x{cell.col_span} invalid or overlapping; "
        f"read as {height}x{width}",
        cell=cell,
    )


def _long_text_finding(table: Table, cell: Cell) -> Finding:
    return _finding(
        table,
        CELL_PLACEMENT,
        "warning",
        f"单元格({cell.row},{cell.col})文字长达{len(cell.text)}字，只读取前{MAX_TEXT}字",
        f"cell ({cell.row},{cell.col}) holds {len(cell.text)} characters; only the first {MAX_TEXT} are read",
        cell=cell,
    )


def _finding(  # noqa: PLR0917  (message helper, positional like Finding's own order)
    table: Table, kind: FindingKind, severity: Severity, message: str, message_en: str,
    cell: Cell | None = None,
) -> Finding:
    return kind.finding(
        message,
        message_en,
        severity=severity,
        table=table.id,
        form=table.form[:_SHOWN] if table.form else None,
        cells=[(cell.row, cell.col)] if cell is not None else [],
        actual=cell.text[:_SHOWN] if cell is not None and cell.text else None,
    )
