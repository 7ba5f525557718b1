"""Dashed and heavily broken rules are rebuilt; glyph strokes and merged-cell gaps are not rules."""

from __future__ import annotations

import numpy as np
from ocr_pages import DPI
from PIL import Image, ImageDraw, ImageFont

from ocr.cells import drop_rule_remnants
from ocr.dashes import dashed_lines
from ocr.grid import line_length_threshold
from ocr.preprocess import rule_mask

FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"


def _blank(width: int = 900, height: int = 700) -> np.ndarray:
    return np.full((height, width), 255, dtype=np.uint8)


def _dashed_vertical(page: np.ndarray, x: int, y0: int, y1: int, dash: int, gap: int) -> None:
    for y in range(y0, y1, dash + gap):
        page[y:min(y + dash, y1), x - 1:x + 2] = 0


def _vertical_mask(page: np.ndarray) -> np.ndarray:
    mask = rule_mask(page)
    length = line_length_threshold(page.shape, DPI)
    return dashed_lines(mask, np.zeros_like(mask), DPI, length, horizontal=False)


def test_a_rule_broken_into_short_dashes_is_rebuilt_end_to_end() -> None:
    page = _blank()
    _dashed_vertical(page, 300, 100, 600, dash=12, gap=8)  # every dash far shorter than a line kernel
    found = _vertical_mask(page)
    rows = np.flatnonzero(found[:, 295:306].any(axis=1))
    assert rows.size, "dashed rule not found"
    assert rows.min() <= 105 and rows.max() >= 590
    assert not found[:, :290].any() and not found[:, 310:].any()


def test_a_merged_row_gap_is_not_bridged() -> None:
    page = _blank()
    _dashed_vertical(page, 300, 100, 300, dash=12, gap=8)
    _dashed_vertical(page, 300, 345, 600, dash=12, gap=8)  # 45 px without a rule: one merged row
    found = _vertical_mask(page)
    assert found[110:290, 295:306].any() and found[360:590, 295:306].any()
    mask = rule_mask(page)
    length = line_length_threshold(page.shape, DPI)
    capped = dashed_lines(mask, np.zeros_like(mask), DPI, length, horizontal=False, row_pitch=50)
    assert not capped[305:340, 295:306].any()


def test_stacked_characters_are_not_a_rule() -> None:
    image = Image.fromarray(_blank())
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 30)
    for row in range(8):  # 十 at the start of every row: stems on one line, 10-20 px apart
        draw.text((300, 100 + 48 * row), "十四、资源", font=font, fill=0)
    found = _vertical_mask(np.asarray(image, dtype=np.uint8).copy())
    assert not found.any()


def test_a_rule_corner_left_in_a_cell_crop_is_removed_but_text_is_kept() -> None:
    crop = np.zeros((70, 190), dtype=np.uint8)
    crop[21:47, 80:95] = 255  # a digit
    crop[40:46, 120:126] = 255  # its decimal point
    crop[41:70, 185:188] = 255  # the end of a broken vertical rule ...
    crop[66:69, 170:190] = 255  # ... meeting the horizontal one in the corner
    cleaned = drop_rule_remnants(crop, glyph=26, thin=9)
    assert not cleaned[:, 168:].any()
    assert cleaned[21:47, 80:95].all() and cleaned[40:46, 120:126].all()


def test_a_glyph_standing_in_the_corner_of_its_cell_is_kept() -> None:
    # A wrapped label's second line, 支出, against the left rule and the bottom of its cell: the glyph
    # touches two edges like a rule's corner, but its ink lies inside, not along them.
    image = Image.new("L", (190, 70), 0)
    ImageDraw.Draw(image).text((0, 0), "支出", font=ImageFont.truetype(FONT, 30), fill=255)
    glyphs = (np.asarray(image, dtype=np.uint8) > 127).astype(np.uint8) * 255
    ys, xs = np.nonzero(glyphs)
    ink = glyphs[:int(ys.max()) + 1, int(xs.min()):]  # ink on the left edge and the bottom
    crop = np.zeros((ink.shape[0], 190), dtype=np.uint8)
    crop[:, :ink.shape[1]] = ink
    assert crop[:, 0].any() and crop[-1, :].any()
    cleaned = drop_rule_remnants(crop, glyph=26, thin=9)
    assert np.array_equal(cleaned, crop)


def test_a_dashed_rule_is_rebuilt_through_a_crossing_that_shortens_its_dashes() -> None:
    # Where a broken horizontal rule crosses, the vertical keeps only a short dash with the
    # horizontal's ink beside it: not isolated, yet it must not cut the rule in two halves
    # each too short to count.
    page = _blank()
    for start in (260, 276, 295, 311, 327):  # half ink: two dashes alone are no rule
        page[start:start + 8, 299:302] = 0
    page[299:302, 280:320] = 0  # the surviving piece of the crossing rule
    mask = rule_mask(page)
    crossing = np.zeros_like(mask)
    crossing[299:302, 280:320] = 255
    length = line_length_threshold(page.shape, DPI)
    found = dashed_lines(mask, crossing, DPI, length, horizontal=False)
    rows = np.flatnonzero(found[:, 295:306].any(axis=1))
    assert rows.size and rows.min() <= 262 and rows.max() >= 332
