"""Render ground-truth tables (the ``ocr.contract.Table`` model) onto clean report pages.

A page shows, per table: the title, the 公开NN表 form number, 部门：… and 单位：万元 lines,
the ruled table (merged header cells, wrapped long names in tall cells, right-aligned amounts)
and 注：… notes below. Tables too long for a page are split into fragments; a continuation may
repeat the header rows. Output cells carry pixel boxes (grid-line to grid-line) at the page dpi.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.gridlines import Gray
from fiscal.textdoc import header_row_count
from ocr.contract import Cell, Table

FONTS = {
    "noto-serif": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    "noto-sans": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    "wqy-zenhei": ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    "ukai": ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    "uming": ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
}
# Faces only the test split uses: weights and a face the tuning corpus never shows.
TEST_FONTS = {
    "noto-sans-bold": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    "noto-serif-bold": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
    "noto-sans-mono": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 7),
}
A4_MM = (210.0, 297.0)
PAPER_MM = {"A4": A4_MM, "16K": (184.0, 260.0)}  # 16K (16开): the other common Chinese report size
MARGIN_MM = 18.0
_AMOUNT = re.compile(r"^-?[\d,]+(\.\d+)?%?$")


@dataclass(frozen=True)
class PageStyle:
    dpi: int = 300
    font: str = "noto-serif"
    body_pt: float = 10.0
    line_px: int = 2
    landscape: bool = False
    paper: str = "A4"

    @property
    def size_px(self) -> tuple[int, int]:
        short, long = PAPER_MM[self.paper]
        w_mm, h_mm = (long, short) if self.landscape else (short, long)
        return round(w_mm / 25.4 * self.dpi), round(h_mm / 25.4 * self.dpi)

    def px(self, points: float) -> int:
        return max(1, round(points * self.dpi / 72.0))

    @property
    def margin_px(self) -> int:
        return round(MARGIN_MM / 25.4 * self.dpi)


@dataclass
class Fragment:
    """Rows of one source table placed on one page."""

    table: Table
    rows: list[int]  # source row numbers, top to bottom
    show_head: bool = True  # title/form/department/unit lines above
    show_notes: bool = True


@dataclass
class RenderedPage:
    image: Gray
    tables: list[Table] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


@lru_cache(maxsize=64)
def font(name: str, size_px: int) -> ImageFont.FreeTypeFont:
    path, index = FONTS[name] if name in FONTS else TEST_FONTS[name]
    return ImageFont.truetype(path, size_px, index=index)


def is_amount(text: str) -> bool:
    return bool(_AMOUNT.match(text))


def wrap(text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Greedy character wrap (CJK has no word boundaries); never returns an empty list."""
    lines: list[str] = []
    current = ""
    for char in text:
        if current and face.getlength(current + char) > width:
            lines.append(current)
            current = char
        else:
            current += char
    lines.append(current)
    return lines


@dataclass
class TableLayout:
    col_widths: list[int]
    row_heights: list[int]  # per source row
    lines: dict[tuple[int, int], list[str]]  # (row, col) of a cell -> wrapped lines


def layout_table(table: Table, style: PageStyle, width: int) -> TableLayout:
    face = font(style.font, style.px(style.body_pt))
    pad = style.px(3)
    natural = [float(face.getlength("一二")) + 2 * pad] * table.n_cols
    for cell in table.cells:
        if cell.col_span == 1:
            natural[cell.col] = max(natural[cell.col], face.getlength(cell.text) + 2 * pad)
    widths = _fit_widths(natural, float(width), float(face.getlength("一二三四")) + 2 * pad)
    line_height = round(style.px(style.body_pt) * 1.35)
    lines: dict[tuple[int, int], list[str]] = {}
    heights = [line_height + 2 * pad] * table.n_rows
    for cell in table.cells:
        cell_width = sum(widths[cell.col : cell.col + cell.col_span]) - 2 * pad
        lines[(cell.row, cell.col)] = wrap(cell.text, face, cell_width)
        needed = len(lines[(cell.row, cell.col)]) * line_height + 2 * pad
        last = cell.row + cell.row_span - 1
        spanned = sum(heights[cell.row : last + 1])
        if needed > spanned:
            heights[last] += needed - spanned
    return TableLayout([round(w) for w in widths], heights, lines)


def _fit_widths(natural: list[float], width: float, minimum: float) -> list[float]:
    """Cap the widest columns until the table fits (they wrap), then stretch to the full width."""
    low, high = minimum, max(natural)
    if sum(natural) > width:
        for _ in range(30):
            cap = (low + high) / 2
            if sum(min(n, cap) for n in natural) > width:
                high = cap
            else:
                low = cap
        natural = [min(n, low) for n in natural]
    total = sum(natural)
    return [n * width / total for n in natural]


def fragment_height(layout: TableLayout, fragment: Fragment, style: PageStyle) -> int:
    return sum(layout.row_heights[r] for r in fragment.rows) + _head_height(fragment, style)


def _head_height(fragment: Fragment, style: PageStyle) -> int:
    head = style.px(16) * 2 + style.px(10) * 3 if fragment.show_head else 0
    notes = style.px(10) * 2 * len(fragment.table.notes) if fragment.show_notes else 0
    return head + notes + style.px(14)


def split_rows(
    table: Table, layout: TableLayout, available: int, repeat_header: bool, first_available: int | None = None
) -> list[list[int]]:
    """Row lists per page, breaking only between rows no merged cell straddles.

    Continuations may repeat the header rows. A table that is header-like throughout (no amount
    rows, e.g. a performance-target table) has no header to repeat.
    """
    n_header = _header_rows(table)
    if n_header >= table.n_rows - 1:
        n_header = 0
    breaks = safe_breaks(table)
    header = list(range(n_header))
    header_height = sum(layout.row_heights[r] for r in header)
    pages: list[list[int]] = [list(header)]
    used = header_height
    limit = first_available or available
    for row in range(n_header, table.n_rows):
        full = used + layout.row_heights[row] > limit
        if full and len(pages[-1]) > n_header and row in breaks:
            pages.append(list(header) if repeat_header else [])
            used = header_height if repeat_header else 0
            limit = available
        pages[-1].append(row)
        used += layout.row_heights[row]
    return pages


def safe_breaks(table: Table) -> set[int]:
    """Rows a page may start with: no row-spanning cell continues into them from above."""
    straddled = {r for cell in table.cells for r in range(cell.row + 1, cell.row + cell.row_span)}
    return set(range(table.n_rows)) - straddled


def _header_rows(table: Table) -> int:
    grid = [[""] * table.n_cols for _ in range(table.n_rows)]
    for cell in table.cells:
        grid[cell.row][cell.col] = cell.text
    count = header_row_count(grid)
    # A header cell spanning down past the detected header keeps its rows in the header.
    for cell in table.cells:
        if cell.row < count:
            count = max(count, cell.row + cell.row_span)
    return min(count, table.n_rows)


def render_page(fragments: list[Fragment], style: PageStyle, page_number: int = 1) -> RenderedPage:
    width, height = style.size_px
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    page = RenderedPage(image=np.zeros((1, 1), np.uint8))
    y = style.margin_px
    for fragment in fragments:
        table_width = width - 2 * style.margin_px
        layout = layout_table(fragment.table, style, table_width)
        if fragment.show_head:
            y = _draw_head(draw, fragment.table, style, y, page.text)
        placed, y = _draw_grid(draw, fragment, layout, style, top=y, page_number=page_number)
        page.tables.append(placed)
        if fragment.show_notes:
            for note in fragment.table.notes:
                y += style.px(4)
                draw.text((style.margin_px, y), note, fill=0, font=font(style.font, style.px(10)))
                page.text.append(note)
                y += style.px(10) * 2
        y += style.px(24)
    page.image = np.asarray(canvas, dtype=np.uint8)
    return page


def _draw_head(draw: ImageDraw.ImageDraw, table: Table, style: PageStyle, y: int, text: list[str]) -> int:
    width = style.size_px[0]
    small = font(style.font, style.px(10))
    if table.form:
        draw.text((width - style.margin_px, y), table.form, fill=0, font=small, anchor="ra")
        text.append(table.form)
    y += style.px(12)
    if table.title:
        title_font = font(style.font, style.px(16))
        draw.text((width // 2, y), table.title, fill=0, font=title_font, anchor="ma")
        text.append(table.title)
    y += style.px(16) * 2
    if table.department:
        line = f"部门：{table.department}"
        draw.text((style.margin_px, y), line, fill=0, font=small)
        text.append(line)
    if table.unit:
        line = f"单位：{table.unit}"
        draw.text((width - style.margin_px, y), line, fill=0, font=small, anchor="ra")
        text.append(line)
    return y + style.px(10) * 2


def _draw_grid(
    draw: ImageDraw.ImageDraw,
    fragment: Fragment,
    layout: TableLayout,
    style: PageStyle,
    *,
    top: int,
    page_number: int,
) -> tuple[Table, int]:
    left = style.margin_px
    xs = [left]
    for w in layout.col_widths:
        xs.append(xs[-1] + w)
    row_index = {source: number for number, source in enumerate(fragment.rows)}
    ys = [top]
    for source in fragment.rows:
        ys.append(ys[-1] + layout.row_heights[source])
    face = font(style.font, style.px(style.body_pt))
    line_height = round(style.px(style.body_pt) * 1.35)
    n_header = _header_rows(fragment.table)
    cells: list[Cell] = []
    for cell in fragment.table.cells:
        if cell.row not in row_index:
            continue
        r = row_index[cell.row]
        last = r + sum(1 for s in range(cell.row, cell.row + cell.row_span) if s in row_index)
        box = (xs[cell.col], ys[r], xs[cell.col + cell.col_span], ys[last])
        draw.rectangle(box, outline=0, width=style.line_px)
        _draw_text(
            draw,
            layout.lines[(cell.row, cell.col)],
            box,
            face,
            line_height=line_height,
            style=style,
            header=cell.row < n_header,
        )
        cells.append(
            Cell(row=r, col=cell.col, row_span=last - r, col_span=cell.col_span, text=cell.text, bbox=box)
        )
    original = fragment.table
    placed = Table(
        id=original.id,
        page=page_number,
        bbox=(xs[0], ys[0], xs[-1], ys[-1]),
        form=original.form if fragment.show_head else None,
        title=original.title if fragment.show_head else None,
        unit=original.unit if fragment.show_head else None,
        department=original.department if fragment.show_head else None,
        n_rows=len(fragment.rows),
        n_cols=original.n_cols,
        cells=cells,
        notes=list(original.notes) if fragment.show_notes else [],
    )
    return placed, ys[-1]


def _draw_text(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    box: tuple[int, int, int, int],
    face: ImageFont.FreeTypeFont,
    *,
    line_height: int,
    style: PageStyle,
    header: bool,
) -> None:
    pad = style.px(3)
    x0, y0, x1, y1 = box
    y = (y0 + y1) // 2 - len(lines) * line_height // 2
    for line in lines:
        if header or (len(line) <= 4 and line.isdigit()):
            draw.text(((x0 + x1) // 2, y + line_height // 2), line, fill=0, font=face, anchor="mm")
        elif is_amount(line):
            draw.text((x1 - pad - style.line_px, y + line_height // 2), line, fill=0, font=face, anchor="rm")
        else:
            draw.text((x0 + pad + style.line_px, y + line_height // 2), line, fill=0, font=face, anchor="lm")
        y += line_height


def font_available(name: str) -> bool:
    return Path(FONTS[name][0]).is_file()
