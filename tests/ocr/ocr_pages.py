"""Synthetic pages for the extraction-core tests: ruled tables drawn with PIL and a CJK font.

Imported by conftest.py (fixtures) and by tests that draw their own variants.

Every fixture returns the page together with its ground truth (grid shape, spans, texts),
so tests compare what the pipeline reads with what was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.grid import TableGrid

FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SERIF_PATH = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
DPI = 200
A4 = (1654, 2339)  # A4 at 200 dpi

Span = tuple[int, int, int, int]  # row, col, row_span, col_span


@dataclass
class TableSpec:
    """A ruled table: column widths, row heights (px), texts by top-left cell, merges."""

    col_widths: list[int]
    row_heights: list[int]
    texts: dict[tuple[int, int], str]
    spans: list[Span] = field(default_factory=list)
    origin: tuple[int, int] = (120, 400)
    line_width: int = 2
    outer_left_right: bool = True
    broken: bool = False
    font_px: int = 30

    def col_x(self) -> list[int]:
        xs = [self.origin[0]]
        for w in self.col_widths:
            xs.append(xs[-1] + w)
        return xs

    def row_y(self) -> list[int]:
        ys = [self.origin[1]]
        for h in self.row_heights:
            ys.append(ys[-1] + h)
        return ys

    @property
    def bottom(self) -> int:
        return self.row_y()[-1]


SC_FACE = 2  # the Noto CJK collections start with the Japanese face; Chinese documents use SC glyphs


def font(size: int, path: str = FONT_PATH) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=SC_FACE if "Noto" in path else 0)


def _owner_map(spec: TableSpec) -> dict[tuple[int, int], Span]:
    owner: dict[tuple[int, int], Span] = {}
    for r in range(len(spec.row_heights)):
        for c in range(len(spec.col_widths)):
            owner[(r, c)] = (r, c, 1, 1)
    for span in spec.spans:
        r0, c0, rs, cs = span
        for r in range(r0, r0 + rs):
            for c in range(c0, c0 + cs):
                owner[(r, c)] = span
    return owner


def _line(draw: ImageDraw.ImageDraw, a: tuple[int, int], b: tuple[int, int], spec: TableSpec) -> None:
    if not spec.broken:
        draw.line([a, b], fill=0, width=spec.line_width)
        return
    # Scan damage: a 5 px gap every 60 px along the line.
    (x0, y0), (x1, y1) = a, b
    length = max(abs(x1 - x0), abs(y1 - y0))
    pos = 0
    while pos < length:
        end = min(length, pos + 55)
        if x0 == x1:
            draw.line([(x0, y0 + pos), (x0, y0 + end)], fill=0, width=spec.line_width)
        else:
            draw.line([(x0 + pos, y0), (x0 + end, y0)], fill=0, width=spec.line_width)
        pos = end + 5


def draw_table(draw: ImageDraw.ImageDraw, spec: TableSpec) -> None:
    xs, ys = spec.col_x(), spec.row_y()
    owner = _owner_map(spec)
    n_rows, n_cols = len(spec.row_heights), len(spec.col_widths)
    for r in range(n_rows + 1):  # horizontal segments, skipped inside merged cells
        for c in range(n_cols):
            inner = 0 < r < n_rows and owner[(r - 1, c)] == owner[(r, c)]
            if not inner:
                _line(draw, (xs[c], ys[r]), (xs[c + 1], ys[r]), spec)
    for c in range(n_cols + 1):
        if c in (0, n_cols) and not spec.outer_left_right:
            continue
        for r in range(n_rows):
            inner = 0 < c < n_cols and owner[(r, c - 1)] == owner[(r, c)]
            if not inner:
                _line(draw, (xs[c], ys[r]), (xs[c], ys[r + 1]), spec)
    text_font = font(spec.font_px)
    for (r, c), text in spec.texts.items():
        _, _, rs, cs = owner[(r, c)]
        box = (xs[c], ys[r], xs[c + cs], ys[r + rs])
        _draw_cell_text(draw, box, text, text_font)


def _draw_cell_text(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str,
                    text_font: ImageFont.FreeTypeFont) -> None:
    x0, y0, x1, y1 = box
    lines = text.split("\n")
    line_h = text_font.size + 8
    top = (y0 + y1) // 2 - line_h * len(lines) // 2
    numeric = all(ch in "0123456789.,-" for ch in text)
    for index, line in enumerate(lines):
        width = draw.textlength(line, font=text_font)
        # Amounts are right-aligned, names left-aligned, as in the national templates.
        x = x1 - 12 - width if numeric else x0 + 12
        draw.text((x, top + index * line_h), line, fill=0, font=text_font)


def blank_page(size: tuple[int, int] = A4) -> Image.Image:
    return Image.new("L", size, 255)


def budget_table(origin: tuple[int, int] = (120, 400), **kwargs: object) -> TableSpec:
    """公开01表-like table: 2-level header with column spans, items, amounts."""
    texts = {
        (0, 0): "收入", (0, 2): "支出",
        (1, 0): "项目", (1, 1): "决算数", (1, 2): "项目", (1, 3): "决算数",
        (2, 0): "一般公共预算财政拨款收入", (2, 1): "2,940.05",
        (2, 2): "一般公共服务支出", (2, 3): "2,106.66",
        (3, 0): "政府性基金预算财政拨款收入", (3, 2): "社会保障和就业支出", (3, 3): "326.71",
        (4, 0): "其他收入", (4, 1): "6.20", (4, 2): "卫生健康支出", (4, 3): "60.99",
        (5, 0): "本年收入合计", (5, 1): "2,946.25", (5, 2): "本年支出合计", (5, 3): "2,940.05",
    }
    spec = TableSpec(col_widths=[520, 230, 520, 230], row_heights=[56] * 6, texts=texts,
                     spans=[(0, 0, 1, 2), (0, 2, 1, 2)], origin=origin)
    for key, value in kwargs.items():
        setattr(spec, key, value)
    return spec


def code_table(origin: tuple[int, int]) -> TableSpec:
    """Classification-code table with a row-spanned header cell and a two-line cell."""
    texts = {
        (0, 0): "科目编码", (0, 1): "科目名称", (0, 2): "合计", (0, 3): "基本支出",
        (1, 0): "2010301", (1, 1): "行政运行", (1, 2): "1,511.90", (1, 3): "1,511.89",
        (2, 0): "2080505", (2, 1): "机关事业单位基本\n养老保险缴费支出", (2, 2): "160.75", (2, 3): "160.75",
        (3, 0): "2101101", (3, 1): "行政单位医疗", (3, 2): "60.99", (3, 3): "-",
    }
    return TableSpec(col_widths=[220, 560, 240, 240], row_heights=[100, 56, 100, 56], texts=texts,
                     spans=[], origin=origin)


@dataclass
class Page:
    image: Image.Image
    tables: list[TableSpec]


def render_page(tables: list[TableSpec], title: str | None = "收入支出决算总表",
                form: str | None = "公开01表", unit: str | None = "单位：万元",
                note: str | None = "注：本表反映部门本年度的总收支。") -> Page:
    image = blank_page()
    draw = ImageDraw.Draw(image)
    first = tables[0]
    if title:
        draw.text((A4[0] // 2 - 220, first.origin[1] - 200), title, fill=0, font=font(54, SERIF_PATH))
    if form:
        draw.text((first.col_x()[-1] - 170, first.origin[1] - 260), form, fill=0, font=font(30))
    if unit:
        draw.text((first.col_x()[-1] - 190, first.origin[1] - 70), unit, fill=0, font=font(30))
    for spec in tables:
        draw_table(draw, spec)
    if note:
        draw.text((first.origin[0], tables[-1].bottom + 30), note, fill=0, font=font(28))
    return Page(image=image, tables=tables)


def save_png(image: Image.Image, path: Path, dpi: int = DPI) -> Path:
    image.save(path, dpi=(dpi, dpi))
    return path


def drawn_gray(spec: TableSpec) -> np.ndarray:
    """``spec`` drawn alone on a blank page, as a grey array the grid stage takes."""
    image = blank_page()
    draw_table(ImageDraw.Draw(image), spec)
    return np.asarray(image, dtype=np.uint8).copy()


def merged_spans(grid: TableGrid) -> set[Span]:
    """The grid's merged cells, as ``TableSpec.spans`` lists them."""
    return {(c.row, c.col, c.row_span, c.col_span) for c in grid.cells if c.row_span > 1 or c.col_span > 1}
