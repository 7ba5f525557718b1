"""Rows (and columns) from text: the boundaries a table's rules no longer show, found from its text.

A ruled table holds one line of text per row at one height across its columns, with the
same padding above and below it in every row. When a horizontal rule is faint or broken
away, the grid stage sees two rows as one: the cells of that grid row hold two lines each,
one above the other. And where a rule is missing in only some columns, a cell spans two
grid rows that the other columns split, with one line of text in each.

A band is cut where:
* at least two cells hold a line above and a line below the cut, and no more cells have a
  line across it than hold lines on both sides;
* the lines above stand at one height across those cells, and so do the lines below;
* the gap between them is as wide as the space the table itself leaves between the text of
  two rows (the cells' padding, measured on its one-line cells), not the leading of a
  wrapped label.
Cells whose text crosses the cut stay whole across it (they become merged cells); every other
cell of the band is cut in two. A cell that spans rows other columns split is cut the same
way, on its own lines and the same gap test.

Columns, the same way but more cautiously (a header over several columns is a true merged
cell and often holds words set apart): a cell spanning a column boundary that other rows
keep is cut there only when its ink stands clear of the boundary on both sides and the ink
next to it on one side is an amount. An amount is one cell's content; a column rule lost in
the scan otherwise leaves it glued to its neighbour and read as one string.

Geometry only: boxes and ink runs in, a grid out. They come from the cell stage (``ocr.cells``),
which gives them in the order of ``table.cells``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ocr.grid import GridCell, TableGrid, rectangles

Box = tuple[int, int, int, int]

# A gap between two lines of one cell is a row gap when it is at least this fraction of the
# table's own space between the text of two rows (the median padding of its one-line cells).
# Two rows read as one leave about the whole of it; a wrapped label leaves its leading.
_ROW_GAP = 0.7
# ... and never less than this fraction of the glyph height (tables with almost no padding).
_MIN_GAP = 0.3
# A column boundary through a merged cell is clear of its ink this far (x glyph height) each side,
# and the ink on either side stands this far apart: a cell's padding on both sides of a lost rule.
# The parts of a date or of a spaced amount (2023-12-31, 7 595 500) stand closer.
_CLEAR = 0.25
_APART = 0.8
# Fewest one-line cells that make the table's padding a measurement rather than a guess.
_MIN_SAMPLES = 3


@dataclass(frozen=True)
class InkRun:
    """A stretch of a cell's ink across its width (page x), and whether its glyphs are an amount's."""

    x0: int
    x1: int
    numeric: bool


@dataclass(frozen=True)
class CellText:
    """One grid cell, the boxes of its text lines (page coordinates, top to bottom), and its ink
    runs left to right (columns of ink with paper between them)."""

    cell: GridCell
    lines: tuple[Box, ...]
    runs: tuple[InkRun, ...] = ()


def split_rows(table: TableGrid, texts: Sequence[CellText], glyph: int) -> TableGrid:
    """``table`` with the row boundaries its text lines show and its rules do not."""
    spacing = _row_spacing(table, texts)
    if spacing is None or glyph <= 0:
        return table
    min_gap = max(_ROW_GAP * spacing, _MIN_GAP * glyph)
    owner = _owner_matrix(table)
    rows = list(table.rows)
    for row in reversed(range(table.n_rows)):  # bottom first: the row indices above stay valid
        for offset, cut in enumerate(_cuts_in(_band(texts, row), texts, min_gap)):
            owner = _insert_row(owner, row + offset, [texts[i].cell for i in cut.kept])
            rows.insert(row + offset + 1, cut.y)
    owner = _unmerge_spans(owner, rows, texts, min_gap)
    owner = _unmerge_columns(owner, table.cols, texts, glyph)
    if len(rows) == len(table.rows) and np.array_equal(owner, _owner_matrix(table)):
        return table
    return _grid(table, rows, owner)


def _row_spacing(table: TableGrid, texts: Sequence[CellText]) -> float | None:
    """Median space (px) a one-row cell with one line leaves above plus below its text."""
    pads = [
        (t.lines[0][1] - table.rows[t.cell.row]) + (table.rows[t.cell.row + 1] - t.lines[0][3])
        for t in texts if t.cell.row_span == 1 and len(t.lines) == 1
    ]
    return float(np.median(pads)) if len(pads) >= _MIN_SAMPLES else None


@dataclass(frozen=True)
class _Cut:
    y: int
    kept: tuple[int, ...]  # indices (into ``texts``) of the cells cut in two; the others run across


def _band(texts: Sequence[CellText], row: int) -> list[int]:
    """Indices of the cells that lie in grid row ``row`` alone."""
    return [i for i, t in enumerate(texts) if t.cell.row == row and t.cell.row_span == 1]


def _cuts_in(members: list[int], texts: Sequence[CellText], min_gap: float) -> list[_Cut]:
    """The cuts inside one band of cells, top to bottom, at least a gap apart."""
    candidates = sorted({(a[3] + b[1]) // 2 for i in members
                         for a, b in zip(texts[i].lines, texts[i].lines[1:], strict=False)})
    cuts: list[_Cut] = []
    for y in candidates:
        cut = _judge(y, members, texts, min_gap)
        if cut is not None and (not cuts or cut.y - cuts[-1].y >= min_gap):
            cuts.append(cut)
    return cuts


def _judge(y: int, members: list[int], texts: Sequence[CellText], min_gap: float) -> _Cut | None:
    """The cut near ``y`` if the cells' lines show two rows there, else None."""
    above: list[Box] = []
    below: list[Box] = []
    kept = []
    for index in members:
        lines = texts[index].lines
        if any(line[1] < y < line[3] for line in lines):
            continue  # text across the cut: this cell stays whole
        kept.append(index)
        upper = [line for line in lines if line[3] <= y]
        lower = [line for line in lines if line[1] >= y]
        if upper and lower:
            above.append(upper[-1])
            below.append(lower[0])
    crossed = len(members) - len(kept)
    if len(above) < 2 or crossed > len(above):
        return None
    top_of_gap = max(line[3] for line in above)
    bottom_of_gap = min(line[1] for line in below)
    if bottom_of_gap - top_of_gap < min_gap or not (_one_height(above) and _one_height(below)):
        return None
    return _Cut(y=(top_of_gap + bottom_of_gap) // 2, kept=tuple(kept))


def _one_height(lines: list[Box]) -> bool:
    """Lines of different cells that share a band of height: one text row across the columns."""
    return max(line[1] for line in lines) < min(line[3] for line in lines)


def _owner_matrix(table: TableGrid) -> npt.NDArray[np.intp]:
    owner = np.zeros((table.n_rows, table.n_cols), dtype=np.intp)
    for index, cell in enumerate(table.cells):
        owner[cell.row:cell.row + cell.row_span, cell.col:cell.col + cell.col_span] = index
    return owner


def _insert_row(owner: npt.NDArray[np.intp], row: int, cut: list[GridCell]) -> npt.NDArray[np.intp]:
    """Row ``row`` doubled; the ``cut`` cells' parts below the new boundary get labels of their own."""
    grown = np.insert(owner, row + 1, owner[row], axis=0)
    fresh = int(grown.max()) + 1
    for cell in cut:
        part = grown[row + 1, cell.col:cell.col + cell.col_span]
        part[part == part[0]] = fresh
        fresh += 1
    return grown


def _unmerge_spans(owner: npt.NDArray[np.intp], rows: list[int], texts: Sequence[CellText],
                   min_gap: float) -> npt.NDArray[np.intp]:
    """Cut cells spanning rows at a boundary their own lines sit on both sides of, a row gap apart."""
    owner = owner.copy()
    fresh = int(owner.max()) + 1
    for index, text in enumerate(texts):
        ys, xs = np.nonzero(owner == index)
        if ys.size == 0 or ys.max() == ys.min():
            continue
        for boundary in range(int(ys.min()) + 1, int(ys.max()) + 1):
            beside = (_lines_within(texts, index, rows[boundary - 1], rows[boundary]),
                      _lines_within(texts, index, rows[boundary], rows[boundary + 1]))
            if _lines_apart(text.lines, rows[boundary], min_gap, beside):
                block = owner[boundary:int(ys.max()) + 1, int(xs.min()):int(xs.max()) + 1]
                block[block == index] = fresh
                fresh += 1
                break  # the part below is a new cell; one cut per cell and pass is enough
    return owner


def _lines_within(texts: Sequence[CellText], skip: int, top: int, bottom: int) -> list[Box]:
    """The lines of the other cells that lie between ``top`` and ``bottom``: one grid row's text."""
    return [line for i, text in enumerate(texts) if i != skip
            for line in text.lines if line[1] >= top and line[3] <= bottom]


def _lines_apart(lines: tuple[Box, ...], y: int, min_gap: float,
                 beside: tuple[list[Box], list[Box]]) -> bool:
    """A row gap at ``y`` between the cell's own lines, each standing at the height of the text of
    the row beside it (a label centred over several rows and wrapped stands between them)."""
    upper = [line for line in lines if line[3] <= y]
    lower = [line for line in lines if line[1] >= y]
    if not upper or not lower or len(upper) + len(lower) != len(lines):
        return False
    level = (any(_one_height([upper[-1], other]) for other in beside[0])
             and any(_one_height([lower[0], other]) for other in beside[1]))
    return level and lower[0][1] - upper[-1][3] >= min_gap


def _unmerge_columns(owner: npt.NDArray[np.intp], cols: tuple[int, ...], texts: Sequence[CellText],
                     glyph: int) -> npt.NDArray[np.intp]:
    """Cut a cell spanning columns the others split where its ink stands apart on both sides of
    the boundary and one side is an amount.

    An amount is one cell's content: a column rule lost in the scan leaves an amount and its
    neighbour (another amount, or a label) in one merged cell, read as one glued string. A
    true merged cell (a header over several columns) holds one label, which is no amount.
    """
    owner = owner.copy()
    fresh = int(owner.max()) + 1
    for index, text in enumerate(texts):
        ys, xs = np.nonzero(owner == index)
        if ys.size == 0 or xs.max() == xs.min():
            continue
        left, right = int(xs.min()), int(xs.max()) + 1
        for boundary in range(left + 1, right):
            if _runs_apart(text.runs, cols[boundary], glyph):
                block = owner[int(ys.min()):int(ys.max()) + 1, boundary:right]
                block[block == index] = fresh
                fresh += 1
                break
    return owner


def _runs_apart(runs: tuple[InkRun, ...], x: int, glyph: int) -> bool:
    margin = max(2, round(_CLEAR * glyph))
    # A sliver standing on the boundary itself is what the scan left of the rule there.
    runs = tuple(run for run in runs if not (x - margin <= run.x0 and run.x1 <= x + margin))
    before = [run for run in runs if run.x1 <= x - margin]
    after = [run for run in runs if run.x0 >= x + margin]
    if not before or not after or len(before) + len(after) != len(runs):
        return False
    apart = after[0].x0 - before[-1].x1 >= _APART * glyph
    return apart and (before[-1].numeric or after[0].numeric)


def _grid(table: TableGrid, rows: list[int], owner: npt.NDArray[np.intp]) -> TableGrid:
    cols = table.cols
    cells = tuple(
        GridCell(row=r0, col=c0, row_span=r1 - r0, col_span=c1 - c0,
                 bbox=(cols[c0], rows[r0], cols[c1], rows[r1]))
        for r0, c0, r1, c1 in rectangles(owner)
    )
    return TableGrid(bbox=table.bbox, rows=tuple(rows), cols=cols, cells=cells, line_width=table.line_width)
