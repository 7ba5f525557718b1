"""Digital pages: text layer and vector rules read exactly; OCR only where the layer cannot be trusted.

Every fixture is a PDF the project writes itself (digital_pdfs.py), drawing one sample table in
the ways real reports do: stroked lines, filled boxes, a pasted picture, a font without a Unicode
map, a scan under another tool's invisible OCR text.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import digital_pdfs as fixtures
import pytest

from ocr.contract import Extraction, Table
from ocr.pipeline import ExtractOptions, extract

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _only_table(extraction: Extraction) -> Table:
    assert len(extraction.tables) == 1, [t.model_dump() for t in extraction.tables]
    return extraction.tables[0]


def _cells(table: Table) -> dict[tuple[int, int], tuple[int, int, str]]:
    return {(c.row, c.col): (c.row_span, c.col_span, c.text) for c in table.cells}


@pytest.mark.parametrize("make", [fixtures.ruled_table_pdf, fixtures.filled_box_table_pdf],
                         ids=["stroked-lines", "filled-boxes"])
def test_vector_table_is_read_from_the_text_layer(tmp_path: Path, make) -> None:
    extraction = extract(_write(tmp_path, "digital.pdf", make()))
    table = _only_table(extraction)
    assert _cells(table) == fixtures.expected_cells()
    assert {c.source for c in table.cells} == {"text"}
    assert {c.confidence for c in table.cells} == {1.0}
    assert (table.title, table.unit) == (fixtures.TITLE, "万元")
    assert extraction.pages[0].source == "text"


def test_rotated_page_is_read_as_displayed(tmp_path: Path) -> None:
    extraction = extract(_write(tmp_path, "rotated.pdf", fixtures.rotated_page_pdf()))
    table = _only_table(extraction)
    assert _cells(table) == fixtures.expected_cells()
    page = extraction.pages[0]
    assert page.width_px > page.height_px  # landscape, as shown
    x0, y0, _, _ = table.bbox  # pixels on the page as displayed, at the default 300 dpi
    assert (x0, y0) == (round(fixtures.TABLE_LEFT * 300 / 72), round(fixtures.TABLE_TOP * 300 / 72))


def test_a_digital_report_loads_no_ocr_model(tmp_path: Path) -> None:
    path = _write(tmp_path, "digital.pdf", fixtures.ruled_table_pdf())
    script = ("import sys, json; from pathlib import Path; from ocr.pipeline import extract; "
              f"e = extract(Path({str(path)!r})); "
              "print(json.dumps([len(e.tables), [m for m in sys.modules if m.startswith(('rapidocr', "
              "'onnxruntime', 'tesserocr', 'ocr.engines.rapid', 'ocr.engines.tesseract'))]]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=True)
    tables, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert tables == 1
    assert loaded == []


def test_font_without_unicode_map_is_ocrd_not_read_as_garbage(tmp_path: Path) -> None:
    extraction = extract(_write(tmp_path, "unmapped.pdf", fixtures.unmapped_font_pdf()))
    table = _only_table(extraction)
    assert extraction.pages[0].source == "ocr"
    assert {c.source for c in table.cells} == {"ocr"}
    texts = {key: text for key, (_, _, text) in _cells(table).items()}
    assert all(text.isprintable() for text in texts.values())
    assert texts == {key: text for key, (_, _, text) in fixtures.expected_cells().items()}


def test_table_pasted_as_a_picture_is_ocrd_and_the_page_text_read(tmp_path: Path) -> None:
    extraction = extract(_write(tmp_path, "pasted.pdf", fixtures.pasted_picture_pdf()))
    table = _only_table(extraction)
    assert extraction.pages[0].source == "mixed"
    assert {c.source for c in table.cells} == {"ocr"}
    assert {key: text for key, (_, _, text) in _cells(table).items()} == {
        key: text for key, (_, _, text) in fixtures.expected_cells().items()}
    # The heading typed above the picture belongs to the table, not to the page's narrative.
    assert (table.title, table.unit) == (fixtures.TITLE, "万元")
    assert fixtures.TITLE not in extraction.pages[0].text


def test_invisible_ocr_layer_over_a_scan_is_ocrd_unless_trusted(tmp_path: Path) -> None:
    path = _write(tmp_path, "scan.pdf", fixtures.scan_with_ocr_layer_pdf({"1,503.52": "1,508.52"}))
    ours = _only_table(extract(path))
    assert {c.source for c in ours.cells} == {"ocr"}
    assert _cells(ours)[(2, 2)][2] == "1,503.52"  # what the scan shows
    theirs = _only_table(extract(path, ExtractOptions(trust_invisible_text=True)))
    assert {c.source for c in theirs.cells} == {"text"}
    assert _cells(theirs)[(2, 2)][2] == "1,508.52"  # what the other tool's layer says
    assert _cells(theirs)[(1, 1)][2] == "科目名称"


def test_ocr_mode_always_and_never(tmp_path: Path) -> None:
    digital = _write(tmp_path, "digital.pdf", fixtures.ruled_table_pdf())
    ocrd = _only_table(extract(digital, ExtractOptions(ocr="always")))
    assert {c.source for c in ocrd.cells} == {"ocr"}
    scan = _write(tmp_path, "scan.pdf", fixtures.scan_with_ocr_layer_pdf({}))
    layer_only = extract(scan, ExtractOptions(ocr="never"))
    assert layer_only.pages[0].source == "text"
    assert layer_only.tables == []  # the scan's rules are pixels, and no OCR was asked for


def test_text_page_over_the_pixel_limit_is_refused_like_a_raster(tmp_path: Path) -> None:
    from ocr.errors import PageTooLargeError

    path = _write(tmp_path, "digital.pdf", fixtures.ruled_table_pdf())
    with pytest.raises(PageTooLargeError):
        extract(path, ExtractOptions(max_page_pixels=1000))
