"""A page read from its text layer: vector grids filled with the characters whose boxes they hold.

Cells get their characters in reading order (lines top to bottom, characters left to
right), lines joined as the OCR path joins a wrapped cell's lines, confidence 1.0 and
``source="text"``. Text outside the tables is grouped into lines and fragments and goes
through the same context step as OCR'd text (``ocr.context.attach_context``): titles,
form numbers, 单位, 部门, notes and the page's narrative.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ocr.context import PageContext, TextLine, attach_context
from ocr.contract import Cell, Table
from ocr.grid import TableGrid
from ocr.textlayer import FloatBox, Glyph, LayerPage
from ocr.textnorm import is_cjk, join_lines, normalise
from ocr.vectorgrid import vector_grids

# Characters further apart than this share of the line height are separate words (a space).
_WORD_GAP = 0.25
# Outside tables, a gap wider than this many line heights splits a line into fragments
# (a title and a 单位 printed on one line, far apart).
_FRAGMENT_GAP = 1.5


@dataclass(frozen=True)
class TextPage:
    grids: list[TableGrid]
    tables: list[Table]  # page-local ids, as the OCR path gives them
    context: PageContext


def read_text_page(layer: LayerPage, glyphs: Sequence[Glyph],
                   grids: list[TableGrid] | None = None) -> TextPage:
    """Tables and context of one page from ``glyphs`` (the layer's characters chosen by the caller).

    The grids come from the page's vector rules unless the caller found them in its pixels
    (a scan carrying a text layer has no vector rules).
    """
    if grids is None:
        grids = vector_grids(layer.rules, layer.dpi)
    in_cells: list[dict[tuple[int, int], list[Glyph]]] = [{} for _ in grids]
    outside: list[Glyph] = []
    for glyph in glyphs:
        placed = _place(glyph, grids)
        if placed is None:
            outside.append(glyph)
        else:
            in_cells[placed[0]].setdefault(placed[1], []).append(glyph)
    context = attach_context(text_fragments(outside), [g.bbox for g in grids], layer.height_px)
    tables = []
    for index, (grid, held, ctx) in enumerate(zip(grids, in_cells, context.tables, strict=True)):
        cells = [Cell(row=c.row, col=c.col, row_span=c.row_span, col_span=c.col_span,
                      text=cell_text(held.get((c.row, c.col), [])), confidence=1.0, bbox=c.bbox,
                      source="text") for c in grid.cells]
        tables.append(Table(id=f"p{layer.number}t{index}", page=layer.number, bbox=grid.bbox, form=ctx.form,
                            title=ctx.title, unit=ctx.unit, department=ctx.department, n_rows=grid.n_rows,
                            n_cols=grid.n_cols, cells=cells, notes=ctx.notes))
    return TextPage(grids=grids, tables=tables, context=context)


def _centre(box: FloatBox) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _place(glyph: Glyph, grids: list[TableGrid]) -> tuple[int, tuple[int, int]] | None:
    """(table index, (row, col) of the owning cell) for the glyph's centre, or None outside every table."""
    x, y = _centre(glyph.box)
    for index, grid in enumerate(grids):
        x0, y0, x1, y1 = grid.bbox
        if not (x0 <= x < x1 and y0 <= y < y1):
            continue
        row = bisect.bisect_right(grid.rows, y) - 1
        col = bisect.bisect_right(grid.cols, x) - 1
        for cell in grid.cells:
            if cell.row <= row < cell.row + cell.row_span and cell.col <= col < cell.col + cell.col_span:
                return index, (cell.row, cell.col)
    return None


def text_lines(glyphs: Iterable[Glyph]) -> list[list[Glyph]]:
    """Glyphs grouped into lines (a glyph whose centre lies in a line's band joins it), each left to right."""
    lines: list[list[Glyph]] = []
    bands: list[tuple[float, float]] = []
    for glyph in sorted(glyphs, key=lambda g: _centre(g.box)[1]):
        centre = _centre(glyph.box)[1]
        if bands and bands[-1][0] <= centre <= bands[-1][1]:
            lines[-1].append(glyph)
        else:
            lines.append([glyph])
            bands.append((glyph.box[1], glyph.box[3]))
    return [sorted(line, key=lambda g: g.box[0]) for line in lines]


def _line_string(line: list[Glyph]) -> str:
    height = max(g.box[3] - g.box[1] for g in line)
    text = line[0].char
    for previous, glyph in itertools.pairwise(line):
        gap = glyph.box[0] - previous.box[2]
        if gap > _WORD_GAP * height and not (is_cjk(previous.char) or is_cjk(glyph.char)):
            text += " "
        text += glyph.char
    return normalise(text)


def cell_text(glyphs: list[Glyph]) -> str:
    """A cell's text: its lines top to bottom, joined as a wrapped cell's lines are."""
    if not glyphs:
        return ""
    return normalise(join_lines([_line_string(line) for line in text_lines(glyphs)]))


def text_fragments(glyphs: Iterable[Glyph]) -> list[TextLine]:
    """Lines of text outside the tables, split where a gap is wider than a few characters."""
    fragments = []
    for line in text_lines(glyphs):
        height = max(g.box[3] - g.box[1] for g in line)
        pieces: list[list[Glyph]] = [[line[0]]]
        for previous, glyph in itertools.pairwise(line):
            if glyph.box[0] - previous.box[2] > _FRAGMENT_GAP * height:
                pieces.append([])
            pieces[-1].append(glyph)
        for piece in pieces:
            box = (round(min(g.box[0] for g in piece)), round(min(g.box[1] for g in piece)),
                   round(max(g.box[2] for g in piece)), round(max(g.box[3] for g in piece)))
            text = _line_string(piece)
            if text:
                fragments.append(TextLine(bbox=box, text=text, confidence=1.0))
    return fragments
