"""Rules too faint and broken for the line masks are judged on the grey page (``ocr.grid``).

A scanned rule of light grey under strong noise falls apart into specks in every mask, yet averaged
along its length it still runs rule to rule; text on an edge (a merged cell's) never passes for one.
"""

from __future__ import annotations

import cv2
import numpy as np
from ocr_pages import DPI, TableSpec, budget_table, drawn_gray, merged_spans

from ocr.grid import TableGrid, find_tables

PAPER = 236
NOISE = 10.0
TONE = 215  # the test split's faint rules: 70-80 % of their darkness gone


def _scanned(gray: np.ndarray, seed: int = 3) -> np.ndarray:
    """Grey paper and scanner noise over the drawn page."""
    rng = np.random.default_rng(seed)
    ink = gray.astype(np.float32) * PAPER / 255.0  # white paper turned grey, ink and grey rules with it
    page = cv2.GaussianBlur(ink, (0, 0), 0.7) + rng.normal(0.0, NOISE, gray.shape)
    return np.clip(page, 0, 255).astype(np.uint8)


def _faint_dashes(gray: np.ndarray, box: tuple[int, int, int, int], *, vertical: bool, tone: int) -> None:
    """Redraw the rule inside ``box`` (x0, y0, x1, y1) as light grey dashes 7 px on, 7 px off: a
    faint rule broken by the scan into pieces far shorter than any line the masks keep."""
    x0, y0, x1, y1 = box
    region = gray[y0:y1, x0:x1]
    rule = region < 128
    along = np.arange(region.shape[0 if vertical else 1]) % 14 < 7
    on = along[:, None] if vertical else along[None, :]
    region[rule] = 255
    region[rule & on] = tone


def _assert_shape(grids: list[TableGrid], spec: TableSpec) -> None:
    assert len(grids) == 1
    grid = grids[0]
    assert (grid.n_rows, grid.n_cols) == (len(spec.row_heights), len(spec.col_widths))
    assert merged_spans(grid) == set(spec.spans)


def test_a_faint_broken_column_rule_still_parts_a_blank_amount_from_its_label() -> None:
    spec = budget_table()
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    # The rule between the income labels and their amounts, rows 2-5; row 3's amount is blank, so
    # without the rule its cell joined the label's.
    _faint_dashes(gray, (xs[1] - 3, ys[2] + 3, xs[1] + 4, ys[6] - 3), vertical=True, tone=TONE)
    _assert_shape(find_tables(_scanned(gray), DPI), spec)


def test_a_faint_row_rule_lost_by_the_masks_is_found_on_the_grey_page() -> None:
    spec = budget_table()
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    _faint_dashes(gray, (xs[0] + 3, ys[4] - 3, xs[-1] - 3, ys[4] + 4), vertical=False, tone=TONE)
    _assert_shape(find_tables(_scanned(gray), DPI), spec)


def test_a_label_centred_over_two_rows_does_not_pass_for_their_lost_rule() -> None:
    texts = {(0, 0): "科目名称", (0, 1): "合计", (1, 0): "一般公共服务支出合计数",
             (1, 1): "2,106.66", (2, 1): "326.71", (3, 0): "卫生健康支出", (3, 1): "60.99"}
    # The label of rows 1-2 is centred on the boundary of the rows the amounts keep.
    spec = TableSpec(col_widths=[520, 260], row_heights=[56] * 4, texts=texts, spans=[(1, 0, 2, 1)])
    gray = drawn_gray(spec)
    _assert_shape(find_tables(_scanned(gray), DPI), spec)


def test_a_header_text_across_a_column_boundary_of_its_merged_cell_keeps_it_merged() -> None:
    texts = {(0, 0): "一般公共预算财政拨款支出决算数", (1, 0): "项目", (1, 1): "决算数",
             (2, 0): "一般公共服务支出", (2, 1): "2,106.66"}
    spec = TableSpec(col_widths=[300, 380], row_heights=[56] * 3, texts=texts, spans=[(0, 0, 1, 2)])
    gray = drawn_gray(spec)
    _assert_shape(find_tables(_scanned(gray), DPI), spec)

