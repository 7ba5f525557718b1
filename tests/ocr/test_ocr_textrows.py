"""Rows from text lines (issue 10, case 2): a row boundary the rules lost is found from the text."""

from __future__ import annotations

import numpy as np
from ocr_pages import (
    DPI,
    TableSpec,
    budget_table,
    code_table,
    drawn_gray,
)

from ocr.cells import cut_table
from ocr.grid import GridCell, TableGrid, find_tables, page_lines
from ocr.textrows import CellText, InkRun, split_rows


def _erase_rule(gray: np.ndarray, spec: TableSpec, row: int, *, dashes: bool) -> None:
    """Paper over the rule at row boundary ``row``; leave short faint dashes along it if asked."""
    xs, y = spec.col_x(), spec.row_y()[row]
    gray[y - 3:y + 4, xs[0] - 3:xs[-1] + 4] = 255
    if dashes:
        for x in range(xs[0] + 25, xs[-1] - 40, 90):
            gray[y - 1:y + 1, x:x + 30] = 150


def _cut(gray: np.ndarray) -> tuple[TableGrid, TableGrid]:
    lines = page_lines(gray, DPI)
    grids = find_tables(gray, DPI, lines)
    assert len(grids) == 1
    return grids[0], cut_table(gray, grids[0], lines, DPI)[0]


def _shape(grid: TableGrid) -> set[tuple[int, int, int, int]]:
    return {(c.row, c.col, c.row_span, c.col_span) for c in grid.cells}


def _spec_shape(spec: TableSpec) -> set[tuple[int, int, int, int]]:
    spans = {(r, c): (rs, cs) for r, c, rs, cs in spec.spans}
    covered = {(r + i, c + j) for (r, c), (rs, cs) in spans.items() for i in range(rs) for j in range(cs)}
    cells = {(r, c, *spans[(r, c)]) for r, c in spans}
    for r in range(len(spec.row_heights)):
        for c in range(len(spec.col_widths)):
            if (r, c) not in covered:
                cells.add((r, c, 1, 1))
    return cells


def test_a_data_row_whose_rule_is_gone_is_cut_from_the_text() -> None:
    spec = budget_table()
    gray = drawn_gray(spec)
    _erase_rule(gray, spec, 3, dashes=False)
    rules_only, cut = _cut(gray)
    assert rules_only.n_rows == len(spec.row_heights) - 1  # the rules alone show one row fewer
    assert _shape(cut) == _spec_shape(spec)
    assert abs(cut.rows[3] - spec.row_y()[3]) <= 8


def test_the_dashes_left_of_a_faint_rule_do_not_close_the_gap() -> None:
    spec = budget_table()
    gray = drawn_gray(spec)
    _erase_rule(gray, spec, 4, dashes=True)
    _, cut = _cut(gray)
    assert _shape(cut) == _spec_shape(spec)


def test_a_wrapped_label_in_a_tall_row_stays_one_cell() -> None:
    spec = code_table((120, 400))
    _, cut = _cut(drawn_gray(spec))
    assert _shape(cut) == _spec_shape(spec)


def test_two_wrapped_labels_in_one_row_are_leading_not_a_row_gap() -> None:
    spec = code_table((120, 400))
    spec.texts[(2, 0)] = "20805\n05"
    spec.texts[(2, 3)] = "基本\n支出"
    _, cut = _cut(drawn_gray(spec))
    assert _shape(cut) == _spec_shape(spec)


def _grid(rows: list[int], cols: list[int], spans: dict[tuple[int, int], tuple[int, int]]) -> TableGrid:
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    for (r, c), (rs, cs) in spans.items():
        owner.update({(r + i, c + j): (r, c) for i in range(rs) for j in range(cs)})
    cells = []
    for r in range(len(rows) - 1):
        for c in range(len(cols) - 1):
            if owner.get((r, c), (r, c)) != (r, c):
                continue
            rs, cs = spans.get((r, c), (1, 1))
            cells.append(GridCell(r, c, rs, cs, (cols[c], rows[r], cols[c + cs], rows[r + rs])))
    return TableGrid((cols[0], rows[0], cols[-1], rows[-1]), tuple(rows), tuple(cols), tuple(cells), 2)


def _one_line(cell: GridCell, top: int, bottom: int) -> tuple[int, int, int, int]:
    return (cell.bbox[0] + 10, top, cell.bbox[2] - 10, bottom)


def _texts(grid: TableGrid, lines: dict[tuple[int, int], list[tuple[int, int]]]) -> list[CellText]:
    """Each cell's lines: those given, else one line centred in it."""
    return [CellText(cell, tuple(_one_line(cell, *span) for span in lines.get(
        (cell.row, cell.col), [(cell.bbox[1] + 13, cell.bbox[3] - 13)]))) for cell in grid.cells]


def test_a_label_across_the_cut_becomes_a_merged_cell() -> None:
    # Rows 0-100 (two rows read as one), 100-150, 150-200; three columns. Column 0 holds one label
    # centred across the band; columns 1 and 2 hold a line in each half.
    grid = _grid([0, 100, 150, 200], [0, 100, 200, 300], {})
    lines = {(0, 0): [(38, 62)], (0, 1): [(12, 36), (62, 86)], (0, 2): [(12, 36), (62, 86)]}
    texts = _texts(grid, lines)
    split = split_rows(grid, texts, glyph=24)
    assert split.n_rows == 4
    assert 45 <= split.rows[1] <= 55
    assert {(c.row, c.col, c.row_span, c.col_span) for c in split.cells if c.row < 2} == {
        (0, 0, 2, 1), (0, 1, 1, 1), (0, 2, 1, 1), (1, 1, 1, 1), (1, 2, 1, 1)}


def test_a_cell_spanning_rows_the_others_split_is_cut_on_its_own_lines() -> None:
    grid = _grid([0, 50, 100, 150], [0, 100, 200, 300], {(0, 2): (2, 1)})
    lines = {(0, 2): [(12, 36), (62, 86)]}
    texts = _texts(grid, lines)
    split = split_rows(grid, texts, glyph=24)
    assert all(c.row_span == 1 and c.col_span == 1 for c in split.cells)
    assert split.rows == grid.rows


def test_an_amount_glued_to_its_neighbour_by_a_lost_column_rule_is_cut_apart() -> None:
    spec = budget_table()
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    gray[ys[2] + 3:ys[3] - 2, xs[2] - 3:xs[2] + 4] = 255  # the rule between 2,940.05 and its neighbour label
    rules_only, cut = _cut(gray)
    assert (2, 1, 1, 2) in _shape(rules_only)
    assert _shape(cut) == _spec_shape(spec)


def test_a_header_over_several_columns_is_not_cut() -> None:
    spec = budget_table()
    spec.texts[(0, 0)] = "收  入"  # a label set apart in a merged cell holds no amount
    _, cut = _cut(drawn_gray(spec))
    assert _shape(cut) == _spec_shape(spec)


def test_a_wrapped_label_centred_over_several_rows_stays_merged() -> None:
    # Rows of 50 px, text 24 px high centred in each; column 0 spans all four rows and holds a
    # label wrapped in two lines far apart, centred in the span, off the other rows' text heights.
    grid = _grid([0, 50, 100, 150, 200], [0, 100, 200, 300], {(0, 0): (4, 1)})
    texts = _texts(grid, {(0, 0): [(38, 60), (140, 162)]})
    assert split_rows(grid, texts, glyph=24) is grid


def test_a_date_over_merged_columns_is_not_cut_between_its_parts() -> None:
    # 2023-12-31 in a cell over three columns; the scan lost the hyphens, a boundary (x=200) falls
    # between "12" and "31", a few pixels clear of each.
    grid = _grid([0, 50, 100, 150], [0, 100, 200, 300, 400], {(1, 1): (1, 3)})
    runs = (InkRun(120, 170, True), InkRun(174, 192, True), InkRun(208, 226, True))
    texts = [CellText(t.cell, t.lines, runs) if (t.cell.row, t.cell.col) == (1, 1) else t
             for t in _texts(grid, {})]
    assert split_rows(grid, texts, glyph=24) is grid
    apart = (InkRun(120, 170, True), InkRun(260, 330, False))  # an amount, then a label a padding away
    texts = [CellText(t.cell, t.lines, apart) if (t.cell.row, t.cell.col) == (1, 1) else t
             for t in _texts(grid, {})]
    assert {(c.row, c.col, c.col_span) for c in split_rows(grid, texts, glyph=24).cells if c.row == 1} == {
        (1, 0, 1), (1, 1, 1), (1, 2, 2)}


def test_a_cell_too_thin_to_crop_is_weighed_as_blank() -> None:
    # Two column rules 2 px apart make a cell with nothing to crop (the real-render benchmark
    # crashed on one): it holds no text, and the rest of the table is cut as usual.
    spec = budget_table()
    gray = drawn_gray(spec)
    _erase_rule(gray, spec, 3, dashes=False)
    lines = page_lines(gray, DPI)
    grid = find_tables(gray, DPI, lines)[0]
    x = grid.cols[1]
    cols = (*grid.cols[:2], x + 2, *grid.cols[2:])
    cells = []
    for cell in grid.cells:  # a new column 1, 2 px wide, right of the first rule; spans over it grow
        if cell.col >= 1:
            cells.append(GridCell(cell.row, cell.col + 1, cell.row_span, cell.col_span, cell.bbox))
        else:
            wider = cell.col_span + (1 if cell.col_span > 1 else 0)
            cells.append(GridCell(cell.row, 0, cell.row_span, wider, cell.bbox))
    cells += [GridCell(r, 1, 1, 1, (x, grid.rows[r], x + 2, grid.rows[r + 1]))
              for r in range(grid.n_rows) if not any(c.col == 0 and c.col_span > 1 and c.row == r
                                                     for c in grid.cells)]
    thin = TableGrid(grid.bbox, grid.rows, cols, tuple(cells), grid.line_width)
    split, cut = cut_table(gray, thin, lines, DPI)
    assert split.n_rows == grid.n_rows + 1
    assert len(cut) == len(split.cells)


def test_the_dashes_of_the_lost_rule_are_not_read_in_the_cells_it_bounded() -> None:
    spec = budget_table()
    assert (3, 1) not in spec.texts  # a blank amount cell just above the lost rule
    gray = drawn_gray(spec)
    _erase_rule(gray, spec, 4, dashes=False)
    xs, y = spec.col_x(), spec.row_y()[4]
    for x in range(xs[0] + 17, xs[-1] - 30, 80):  # dark dashes, a little above where the rule ran
        gray[y - 4:y - 2, x:x + 25] = 40
    lines = page_lines(gray, DPI)
    _, cut = cut_table(gray, find_tables(gray, DPI, lines)[0], lines, DPI)
    crops = {(c.grid.row, c.grid.col): c.crops for c in cut}
    assert crops[(3, 1)] == ()
    assert len(crops[(4, 1)]) == 1 and len(crops[(3, 3)]) == 1  # the amounts beside the cut stay
