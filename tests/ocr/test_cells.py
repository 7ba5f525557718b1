"""Cell texts read by both engines on drawn tables (real models, nothing mocked)."""

from __future__ import annotations

import numpy as np
import pytest
from ocr_pages import DPI, Page, TableSpec
from PIL import Image

from ocr.cells import classify_kind, read_table_cells, split_lines
from ocr.engines import OcrEngine
from ocr.grid import find_tables, page_lines
from ocr.textnorm import looks_numeric, normalise


def _read(page: Page, engine: OcrEngine) -> list[dict[tuple[int, int], str]]:
    gray = np.asarray(page.image.convert("L"), dtype=np.uint8).copy()
    lines = page_lines(gray, DPI)
    out = []
    for grid in find_tables(gray, DPI, lines):
        out.append({(c.row, c.col): c.text for c in read_table_cells(gray, grid, lines, engine, DPI)})
    return out


def _expected(spec: TableSpec) -> dict[tuple[int, int], str]:
    return {key: text.replace("\n", "") for key, text in spec.texts.items()}


def _score(read: dict[tuple[int, int], str], spec: TableSpec, numeric: bool) -> tuple[int, int]:
    wanted = {k: v for k, v in _expected(spec).items() if looks_numeric(v) == numeric}
    return sum(read.get(k) == v for k, v in wanted.items()), len(wanted)


def test_rapidocr_reads_every_cell(two_table_page: Page, rapid_engine: OcrEngine) -> None:
    tables = _read(two_table_page, rapid_engine)
    assert len(tables) == 2
    for read, spec in zip(tables, two_table_page.tables, strict=True):
        # Blank cells stay blank, without OCR.
        blanks = {(c.row, c.col) for c in _spans_free_cells(spec)} - set(spec.texts)
        assert all(read[k] == "" for k in blanks)
        ok, total = _score(read, spec, numeric=True)
        assert ok == total
        ok, total = _score(read, spec, numeric=False)
        assert ok >= total - 1, read


def test_tesseract_reads_numbers_exactly(two_table_page: Page, tesseract_engine: OcrEngine) -> None:
    tables = _read(two_table_page, tesseract_engine)
    for read, spec in zip(tables, two_table_page.tables, strict=True):
        ok, total = _score(read, spec, numeric=True)
        assert ok == total, read
        ok, total = _score(read, spec, numeric=False)
        assert ok >= total * 0.8, read


def _spans_free_cells(spec: TableSpec) -> list[_Pos]:
    covered = {(r, c) for r0, c0, rs, cs in spec.spans for r in range(r0, r0 + rs) for c in range(c0, c0 + cs)
               if (r, c) != (r0, c0)}
    return [_Pos(r, c) for r in range(len(spec.row_heights)) for c in range(len(spec.col_widths))
            if (r, c) not in covered]


class _Pos:
    def __init__(self, row: int, col: int) -> None:
        self.row, self.col = row, col


def _text_mask(text: str, size: int = 30) -> np.ndarray:
    from ocr_pages import font
    from PIL import ImageDraw

    image = Image.new("L", (40 + size * len(text), size * 3), 0)
    ImageDraw.Draw(image).text((10, size // 2), text, fill=255, font=font(size))
    mask = np.asarray(image, dtype=np.uint8)
    ys, xs = np.nonzero(mask > 127)
    return ((mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1] > 127) * 255).astype(np.uint8)


@pytest.mark.parametrize(("text", "kind"), [("2,940.05", "numeric"), ("2010301", "numeric"), ("-", "numeric"),
                                            ("一般公共服务支出", "text"), ("合计", "text")])
def test_cell_kind_from_glyph_shapes(text: str, kind: str) -> None:
    assert classify_kind(_text_mask(text)) == kind


def test_two_line_cell_is_split() -> None:
    first, second = _text_mask("机关事业单位"), _text_mask("缴费支出")
    width = max(first.shape[1], second.shape[1]) + 10
    mask = np.zeros((first.shape[0] + second.shape[0] + 14, width), np.uint8)
    mask[2:2 + first.shape[0], 4:4 + first.shape[1]] = first
    mask[12 + first.shape[0]:12 + first.shape[0] + second.shape[0], 4:4 + second.shape[1]] = second
    assert len(split_lines(mask, DPI)) == 2


@pytest.mark.parametrize(("raw", "clean"), [("2 940.05", "2940.05"), ("5.288.011.738.39", "5,288,011,738.39"),
                                            ("1.511.90", "1,511.90"), ("一 般 公共", "一般公共"),
                                            ("单位：万元", "单位:万元"), ("２，９４０．０５", "2,940.05")])
def test_normalise(raw: str, clean: str) -> None:
    assert normalise(raw) == clean


def test_a_cell_too_small_to_crop_has_no_lines() -> None:
    # Grid cells narrower than the rule inset give an empty crop; reading them must not crash.
    import numpy as np

    from ocr.cells import split_lines

    assert split_lines(np.zeros((0, 0), dtype=np.uint8), 300) == []
