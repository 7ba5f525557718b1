"""The bar of 一 in a large heading is a character, not a rule to erase (issue 10).

At 200 dpi a 14 pt 一 is a 57 px horizontal stroke, longer than the 50 px shortest rule: taken for a
rule it was erased from its cell, "一般公共预算" read "般公共预算", and that header no longer named its
column. The cell region lies inside the cell's rules; a run clear of its edges is text.
"""

from __future__ import annotations

import numpy as np
from ocr_pages import DPI, TableSpec, blank_page, draw_table, font
from PIL import ImageDraw

from ocr.cells import clean_ink
from ocr.grid import line_length_threshold, page_lines

_FONT_PX = 58


def _page(texts: dict[tuple[int, int], str]) -> tuple[np.ndarray, TableSpec]:
    spec = TableSpec(col_widths=[520, 420, 420], row_heights=[110, 110, 110, 110], texts=texts,
                     spans=[(0, 1, 1, 2)], font_px=_FONT_PX)
    image = blank_page()
    draw_table(ImageDraw.Draw(image), spec)
    return np.asarray(image, dtype=np.uint8).copy(), spec


def test_the_bar_of_yi_in_a_heading_is_longer_than_the_shortest_rule() -> None:
    bar = font(_FONT_PX).getbbox("一")
    assert bar[2] - bar[0] > line_length_threshold(blank_page().size[::-1], DPI)  # the case is real


def test_the_strokes_of_large_characters_stay_in_their_cells_and_rules_go() -> None:
    gray, spec = _page({(0, 0): "一般公共预算", (0, 1): "一、基本支出", (1, 1): "人员经费",
                        (1, 2): "公用经费", (2, 0): "一、外交支出", (3, 0): "合计", (3, 1): "1,503.52"})
    lines = page_lines(gray, DPI)
    xs, ys = spec.col_x(), spec.row_y()
    ink = gray < 128
    for row, col, cols in ((0, 0, 1), (0, 1, 2), (1, 1, 1), (2, 0, 1), (3, 1, 1)):
        box = (xs[col] + 1, ys[row] + 1, xs[col + cols] + 1, ys[row + 1] + 1)  # inside the cell's rules
        x0, y0, x1, y1 = box
        cleaned, _rules = clean_ink(lines, box, spec.line_width)
        drawn = ink[y0:y1, x0:x1].copy()
        drawn[:4], drawn[-4:], drawn[:, :4], drawn[:, -4:] = False, False, False, False  # the rules
        kept = cleaned > 0
        assert kept[drawn].mean() > 0.97, (row, col)  # every stroke of the text is kept ...
        assert not kept[:2].any() and not kept[-2:].any(), (row, col)  # ... and no rule
        assert not kept[:, :2].any() and not kept[:, -2:].any(), (row, col)
