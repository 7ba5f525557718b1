"""Table structure: rows, columns and spans must come out exactly as drawn."""

from __future__ import annotations

import numpy as np
from ocr_pages import DPI, Page, TableSpec, budget_table, merged_spans, render_page
from PIL import Image

from ocr.engines import get_orientation
from ocr.grid import TableGrid, find_tables
from ocr.preprocess import make_upright


def _gray(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.uint8).copy()



def _assert_matches(grid: TableGrid, spec: TableSpec) -> None:
    assert (grid.n_rows, grid.n_cols) == (len(spec.row_heights), len(spec.col_widths))
    assert merged_spans(grid) == set(spec.spans)
    covered = sum(c.row_span * c.col_span for c in grid.cells)
    assert covered == grid.n_rows * grid.n_cols


def test_budget_table_structure(budget_page: Page) -> None:
    grids = find_tables(_gray(budget_page.image), DPI)
    assert len(grids) == 1
    _assert_matches(grids[0], budget_page.tables[0])
    xs = budget_page.tables[0].col_x()
    assert all(abs(a - b) <= 3 for a, b in zip(grids[0].cols, xs, strict=True))


def test_two_tables_on_a_page(two_table_page: Page) -> None:
    grids = find_tables(_gray(two_table_page.image), DPI)
    assert len(grids) == 2
    for grid, spec in zip(grids, two_table_page.tables, strict=True):
        _assert_matches(grid, spec)


def test_row_spanning_header() -> None:
    spec = budget_table(spans=[(0, 0, 2, 1), (0, 1, 1, 3)],
                        texts={(0, 0): "项目", (0, 1): "本年支出", (1, 1): "合计", (1, 2): "基本支出",
                               (1, 3): "项目支出", (2, 0): "行政运行", (2, 1): "1,511.90"})
    grids = find_tables(_gray(render_page([spec]).image), DPI)
    assert len(grids) == 1
    _assert_matches(grids[0], spec)


def test_broken_lines_and_missing_side_borders() -> None:
    spec = budget_table(broken=True, outer_left_right=False)
    grids = find_tables(_gray(render_page([spec]).image), DPI)
    assert len(grids) == 1
    _assert_matches(grids[0], spec)


def test_blank_and_text_pages_have_no_tables(text_only_image: Image.Image) -> None:
    assert find_tables(_gray(text_only_image), DPI) == []
    assert find_tables(np.full((800, 600), 255, np.uint8), DPI) == []


def test_rotated_and_skewed_page_is_recovered(budget_page: Page) -> None:
    # PIL rotates counter-clockwise: 90 + 2 degrees of scan damage.
    damaged = budget_page.image.rotate(92, expand=True, fillcolor=255, resample=Image.Resampling.BILINEAR)
    upright = make_upright(_gray(damaged), get_orientation())
    assert upright.rotation == 90
    assert abs(upright.skew_deg - 2.0) <= 0.15
    grids = find_tables(upright.image, DPI)
    assert len(grids) == 1
    _assert_matches(grids[0], budget_page.tables[0])


def test_upside_down_page(budget_page: Page) -> None:
    upright = make_upright(_gray(budget_page.image.rotate(180)), get_orientation())
    assert upright.rotation == 180
    assert upright.skew_deg == 0.0
