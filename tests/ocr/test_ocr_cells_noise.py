"""Dust on a scan: specks are removed before OCR, blank cells stay blank, noise around numbers goes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from ocr_pages import DPI, budget_table, code_table, font, render_page
from PIL import Image, ImageDraw

from ocr.cells import drop_specks, glyph_height, read_table_cells
from ocr.engines import OcrEngine
from ocr.grid import find_tables, page_lines
from ocr.textnorm import normalise, numeric_reading, strip_noise

GLYPH = 30


def _mask(text: str) -> np.ndarray:
    """White-on-black ink of ``text`` with a wide margin, as the cell stage sees a cell."""
    image = Image.new("L", (80 + GLYPH * len(text), GLYPH * 4), 0)
    ImageDraw.Draw(image).text((40, GLYPH), text, fill=255, font=font(GLYPH))
    return ((np.asarray(image, dtype=np.uint8) > 127) * 255).astype(np.uint8)


def _components(mask: np.ndarray) -> int:
    return int(cv2.connectedComponents(mask, connectivity=8)[0]) - 1


def _ink_span(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_specks_beside_and_above_a_number_go_and_its_decimal_point_stays() -> None:
    clean = _mask("326.71")
    x0, y0, x1, y1 = _ink_span(clean)
    dusty = clean.copy()
    cv2.circle(dusty, (x0 - 12, (y0 + y1) // 2), 2, 255, -1)  # a speck before the number
    cv2.circle(dusty, (x1 + 14, y1 - 2), 2, 255, -1)  # one after it, on the baseline
    cv2.circle(dusty, ((x0 + x1) // 2, y0 - 12), 3, 255, -1)  # one above the line
    above_point = [x for x in range(x0 + 4, x1 - 4) if not clean[:(y0 + y1) // 2, x - 4:x + 5].any()]
    cv2.circle(dusty, (above_point[0], y0 + 3), 2, 255, -1)  # one high inside the line (over the point)
    assert _components(dusty) == _components(clean) + 4
    kept = drop_specks(dusty, glyph_height([clean]))
    assert np.array_equal(kept, clean)


def test_cjk_enumeration_comma_after_a_flat_glyph_stays() -> None:
    mask = _mask("一、一般公共服务支出")
    assert np.array_equal(drop_specks(mask, glyph_height([mask])), mask)


@pytest.mark.parametrize("text", ["“三公”经费预算数", "财政拨款“三公”经费"])
def test_quotation_marks_inside_a_label_stay(text: str) -> None:
    # Each half of “ and ” is a small mark high in the line between two glyphs, where single dust goes.
    mask = _mask(text)
    assert np.array_equal(drop_specks(mask, glyph_height([mask])), mask)


def test_dust_high_between_glyphs_goes_even_in_pairs_of_round_specks() -> None:
    clean = _mask("三公  经费")  # a space: room for the specks between two glyphs
    dusty = clean.copy()
    x0, y0, x1, _ = _ink_span(clean)
    gaps = [x for x in range(x0 + 4, x1 - 4) if not clean[:, x - 6:x + 7].any()]
    assert gaps, "the drawn label has a gap between two glyphs"
    cv2.circle(dusty, (gaps[0] - 3, y0 + 3), 2, 255, -1)  # two round specks side by side, high in a gap:
    cv2.circle(dusty, (gaps[0] + 4, y0 + 3), 2, 255, -1)  # as wide as tall, no quotation mark's strokes
    assert _components(dusty) == _components(clean) + 2
    assert np.array_equal(drop_specks(dusty, glyph_height([clean])), clean)


def _with_marks(mask: np.ndarray, left: int, row: int, pieces: list[tuple[int, int]]) -> np.ndarray:
    """``mask`` with flat two-pixel-high pieces (offset, length) drawn from ``left`` on ``row``."""
    marked = mask.copy()
    for offset, length in pieces:
        marked[row:row + 2, left + offset:left + offset + length] = 255
    return marked


def test_a_hairline_bar_broken_into_pieces_before_its_line_stays() -> None:
    # A light Song face at 200 dpi: the 一 of 一级指标 falls below the ink threshold in pieces, each a
    # small mark beyond the start of the line (级, left whole, its first glyph), where dust goes.
    clean = _mask("\u3000级指标")  # an ideographic space where the 一 stands
    x0, y0, _, y1 = _ink_span(clean)
    broken = _with_marks(clean, x0 - GLYPH + 3, (y0 + y1) // 2, [(0, 5), (8, 4), (15, 6), (24, 3)])
    assert _components(broken) == _components(clean) + 4
    assert np.array_equal(drop_specks(broken, glyph_height([clean])), broken)


def test_specks_in_a_row_beside_a_line_too_short_or_too_sparse_for_a_bar_go() -> None:
    clean = _mask("\u3000级指标")
    x0, y0, _, y1 = _ink_span(clean)
    row = (y0 + y1) // 2
    sparse = _with_marks(clean, x0 - GLYPH + 3, row, [(0, 3), (12, 3)])  # one row, mostly gap: no stroke
    short = _with_marks(clean, x0 - GLYPH + 3, row, [(0, 3), (5, 3)])  # a stroke too short for a bar
    for dusty in (sparse, short):
        assert _components(dusty) == _components(clean) + 2
        assert np.array_equal(drop_specks(dusty, glyph_height([clean])), clean)


def test_cell_with_only_specks_becomes_empty() -> None:
    mask = np.zeros((60, 200), np.uint8)
    cv2.circle(mask, (50, 30), 2, 255, -1)
    cv2.line(mask, (120, 20), (128, 26), 255, 1)
    assert not drop_specks(mask, GLYPH).any()


@pytest.mark.parametrize(("raw", "clean"), [
    (".326.71", "326.71"), (":60.99", "60.99"), ("208'", "208"), ("、0.00", "0.00"), ("+0.34", "0.34"),
    ("13-", "13"), ("100%.", "100%"), ("-4.64", "-4.64"), ("-", "-"), ("2,106.66。", "2,106.66"),
    ("小计.", "小计"), ("·公务用车运行维护费", "公务用车运行维护费"),
    ("基本养老保险参保率·", "基本养老保险参保率"),
    ("长期目标2:", "长期目标2:"), ("提高居民生活水平。", "提高居民生活水平。"), ("“三公”经费", "“三公”经费"),
    ("(含专用结余)", "(含专用结余)"), ("[2010302]一般行政管理事务", "[2010302]一般行政管理事务"),
    ("十、节能环保支出,", "十、节能环保支出"), ("七、文化旅游体育与传媒支出、", "七、文化旅游体育与传媒支出"),
    ("津贴补贴——", "津贴补贴"), ("二、外交支出“", "二、外交支出"), ("民政管理事务-", "民政管理事务"),
    ("国有资本经营预“算财政拨款", "国有资本经营预算财政拨款"), ("功能分类科目.名称", "功能分类科目名称"),
    ("关于“三公”经费", "关于“三公”经费"), ("一、", "一、"), ("(一)", "(一)"),
])
def test_noise_around_cell_text_is_stripped(raw: str, clean: str) -> None:
    assert strip_noise(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), [("i", "1"), ("2O10301", "2010301"), ("l,5l1.90", "1,511.90"),
                                            ("行政", "行政"), ("i.e", "i.e")])
def test_digit_lookalikes_in_numeric_crops(raw: str, clean: str) -> None:
    assert numeric_reading(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), [("1,371:07", "1,371.07"), ("12,345;60", "12,345.60"),
                                            ("10:30", "10:30"), ("1:1", "1:1")])
def test_a_speck_on_the_decimal_point_of_an_amount_is_dropped(raw: str, clean: str) -> None:
    assert normalise(raw) == clean


def _dust(image: Image.Image, count: int, seed: int) -> np.ndarray:
    """Page with dust dots and short hairs on the paper (never touching the printed ink)."""
    gray = np.asarray(image.convert("L"), dtype=np.uint8).copy()
    near_ink = cv2.dilate((gray < 128).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    rng = np.random.default_rng(seed)
    placed = 0
    while placed < count:
        x, y = int(rng.integers(0, gray.shape[1])), int(rng.integers(0, gray.shape[0]))
        if near_ink[max(0, y - 8):y + 9, max(0, x - 8):x + 9].any():
            continue
        if rng.random() < 0.8:
            cv2.circle(gray, (x, y), int(rng.integers(1, 3)), int(rng.integers(0, 100)), -1)
        else:
            dx, dy = (int(v) for v in rng.integers(-6, 7, 2))
            cv2.line(gray, (x, y), (x + dx, y + dy), int(rng.integers(0, 100)), 1)
        placed += 1
    return gray


def test_dusty_table_reads_like_a_clean_one(rapid_engine: OcrEngine) -> None:
    page = render_page([budget_table(), code_table((120, 900))])
    gray = _dust(page.image, 800, seed=7)
    lines = page_lines(gray, DPI)
    grids = find_tables(gray, DPI, lines)
    assert len(grids) == 2
    blanks: list[str] = []
    for grid, spec in zip(grids, page.tables, strict=True):
        read = {(c.row, c.col): c.text for c in read_table_cells(gray, grid, lines, rapid_engine, DPI)}
        expected = {key: text.replace("\n", "") for key, text in spec.texts.items()}
        numbers = {k: v for k, v in expected.items() if v[0].isdigit() or v == "-"}
        assert {k: read[k] for k in numbers} == numbers
        blanks.extend(text for key, text in read.items() if key not in expected)
    assert blanks
    assert blanks == [""] * len(blanks)


def test_a_short_thin_stroke_far_from_the_number_goes_with_the_speck_it_held_on_the_line() -> None:
    # A broken rule's corner leaves a thin upright stroke half a digit tall in the cell; read, "0.00"
    # became "1. 0.00". As a glyph it also stretched the line so that a speck beside it looked like text.
    clean = _mask("0.00")
    glyph = glyph_height([clean])
    x0, y0, _, y1 = _ink_span(clean)
    dusty = np.pad(clean, ((0, 0), (4 * GLYPH, 0)))
    x0 += 4 * GLYPH
    sliver = round(0.47 * glyph)  # taller than a speck, shorter than a digit
    dusty[y0 - 6:y0 - 6 + sliver, x0 - 3 * GLYPH:x0 - 3 * GLYPH + 4] = 255  # up and left, as corners leave it
    cv2.circle(dusty, (x0 - 3 * GLYPH + 16, (y0 + y1) // 2 + 4), 3, 255, -1)  # a speck at the line's height
    assert _components(dusty) == _components(clean) + 2
    kept = drop_specks(dusty, glyph)
    assert np.array_equal(kept, np.pad(clean, ((0, 0), (4 * GLYPH, 0))))


@pytest.mark.parametrize("text", ["1", "小心", "1,101.00", "川", "11"])
def test_digits_and_short_strokes_of_glyphs_stay(text: str) -> None:
    # a 1 is as tall as a digit; the short strokes of 小 and 心 stand beside the rest of the glyph
    mask = _mask(text)
    assert np.array_equal(drop_specks(mask, glyph_height([_mask("0.00预算")])), mask)
