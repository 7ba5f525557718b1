"""Strokes too faint for the ink mask: a light face's hyphens at 200 dpi (real engine, drawn page)."""

from __future__ import annotations

import numpy as np
from ocr_pages import A4, DPI, font
from PIL import Image, ImageDraw

from ocr.cells import read_table_cells
from ocr.engines import OcrEngine
from ocr.grid import find_tables, page_lines

DATES = [["2023-01-01", "2023-12-31"], ["2024-06-30", "2025-10-15"]]


def _dates_page(hyphen_grey: int, seed: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A ruled 2 x 2 table of dates: digits black, hyphens a pale two-pixel bar at the digits' middle,
    paper under grain; and the hyphens' boxes."""
    image = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(image)
    for y in (100, 200, 300):
        draw.line([(100, y), (800, y)], fill=0, width=2)
    for x in (100, 450, 800):
        draw.line([(x, 100), (x, 300)], fill=0, width=2)
    face, hyphens = font(26), []
    for row, dates in enumerate(DATES):
        for col, date in enumerate(dates):
            x, y = 170 + 350 * col, 132 + 100 * row
            _, top, _, bottom = draw.textbbox((x, y), "0", font=face)
            middle = int(top + bottom) // 2
            for part_index, part in enumerate(date.split("-")):
                draw.text((x, y), part, font=face, fill=0)
                x += int(draw.textlength(part, font=face))
                if part_index < 2:  # the hyphen: most of a digit long, pale, between two gaps
                    hyphens.append((x + 3, middle, x + 13, middle + 1))
                    draw.rectangle(hyphens[-1], fill=hyphen_grey)
                    x += 16
    grey = np.asarray(image, dtype=np.float32) + np.random.default_rng(seed).normal(0, 5, (A4[1], A4[0]))
    return np.clip(grey, 0, 255).astype(np.uint8), hyphens


def _read(gray: np.ndarray, engine: OcrEngine) -> list[str]:
    lines = page_lines(gray, DPI)
    grids = find_tables(gray, DPI, lines)
    assert [(grid.n_rows, grid.n_cols) for grid in grids] == [(2, 2)]
    cells = read_table_cells(gray, grids[0], lines, engine, DPI)
    return [cell.text for cell in sorted(cells, key=lambda c: (c.row, c.col))]


def test_pale_hyphens_between_digits_are_read(rapid_engine: OcrEngine) -> None:
    gray, hyphens = _dates_page(hyphen_grey=175, seed=3)
    assert all(gray[y0:y1 + 1, x0:x1 + 1].min() > 128 for x0, y0, x1, y1 in hyphens)  # no ink to a threshold
    assert _read(gray, rapid_engine) == [date for row in DATES for date in row]


def test_grain_alone_between_digits_adds_no_hyphen(rapid_engine: OcrEngine) -> None:
    gray, _ = _dates_page(hyphen_grey=255, seed=3)  # no hyphens drawn: the gaps hold paper and grain only
    assert _read(gray, rapid_engine) == [date.replace("-", "") for row in DATES for date in row]
