"""Truth builders: the digital-PDF truth, the grid finder, the renderer and the PDF writer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
from pypdf import PdfReader

from bench.gridlines import find_grids
from bench.pdftruth import page_truth
from bench.pdfwrite import ScanPage, pdf_bytes
from bench.render import Fragment, PageStyle, layout_table, render_page, safe_breaks, split_rows
from ocr.contract import Cell, Extraction, Table


def test_digital_pdf_page_truth_reads_cells_spans_and_context(shared_dir: Path) -> None:
    pdf = shared_dir / "realdata" / "reports" / "putuo-finance-bureau-2024-final.pdf"
    truth = page_truth(pdf, 18, 150)
    assert len(truth.tables) == 1
    table = truth.tables[0]
    assert table.title == "财政拨款“三公”经费支出决算表" and table.unit == "万元"
    assert table.n_cols == 12
    top = next(c for c in table.cells if c.row == 0 and c.col == 0)
    assert top.col_span == 12 and "三公" in top.text
    assert sum(c.text == "0.95" for c in table.cells) == 2
    assert sum(c.text == "预算数" for c in table.cells) == 6


def test_grid_finder_merges_slots_without_a_separating_line() -> None:
    image = np.full((400, 700), 255, np.uint8)
    cv2.rectangle(image, (50, 50), (650, 350), 0, 2)
    cv2.line(image, (50, 150), (650, 150), 0, 2)
    cv2.line(image, (50, 250), (650, 250), 0, 2)
    cv2.line(image, (250, 150), (250, 350), 0, 2)  # no divider in the first row: it spans both columns
    grids = find_grids(image, dpi=150)
    assert len(grids) == 1
    grid = grids[0]
    assert (grid.n_rows, grid.n_cols) == (3, 2)
    spans = {(c.row, c.col, c.row_span, c.col_span) for c in grid.cells}
    assert spans == {(0, 0, 1, 2), (1, 0, 1, 1), (1, 1, 1, 1), (2, 0, 1, 1), (2, 1, 1, 1)}


def test_renderer_wraps_long_names_and_right_aligns_amounts() -> None:
    long_name = "二十二、灾害防治及应急管理支出和其他很长很长的项目名称需要换行显示" * 3
    cells = [
        Cell(row=0, col=0, col_span=2, text="支出"),
        Cell(row=1, col=0, text="项目"),
        Cell(row=1, col=1, text="本年支出合计金额"),
        Cell(row=2, col=0, text=long_name),
        Cell(row=2, col=1, text="9.09"),
        Cell(row=3, col=0, text="合计"),
        Cell(row=3, col=1, text="2,106.66"),
    ]
    table = Table(id="t0", page=1, title="2024年度支出决算表", unit="万元", n_rows=4, n_cols=2, cells=cells)
    style = PageStyle(dpi=150, font="noto-sans", body_pt=10, line_px=2)
    page = render_page([Fragment(table, [0, 1, 2, 3])], style)
    placed = page.tables[0]
    height = {c.row: c.bbox[3] - c.bbox[1] for c in placed.cells}
    assert height[2] > 1.6 * height[3]  # the long name wraps into a taller row
    amount = next(c for c in placed.cells if c.text == "2,106.66")
    x0, y0, x1, y1 = amount.bbox
    ink_columns = np.where((page.image[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4] < 128).any(axis=0))[0]
    left_gap, right_gap = ink_columns.min(), (x1 - x0 - 8) - ink_columns.max()
    assert left_gap > 3 * right_gap  # flush right
    assert "2024年度支出决算表" in page.text and "单位：万元" in page.text
    width_px, height_px = style.size_px
    assert page.image.shape == (height_px, width_px)


def test_written_pdf_has_scan_resolution_pages(tmp_path: Path) -> None:
    image = np.full((300, 200), 255, np.uint8)
    cv2.putText(image, "A", (50, 150), cv2.FONT_HERSHEY_SIMPLEX, 3, 0, 5)
    ok, jpeg = cv2.imencode(".jpg", image)
    assert ok
    pages = [ScanPage(jpeg.tobytes(), 200, 300, 100), ScanPage(jpeg.tobytes(), 200, 300, 100)]
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(pdf_bytes(pages))
    assert pdf_bytes(pages) == pdf.read_bytes()
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2
    assert float(reader.pages[0].mediabox.width) == 144.0  # 200 px at 100 dpi = 2 in
    png = subprocess.run(
        ["pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-gray", "-png", str(pdf)],
        capture_output=True,
        check=True,
    ).stdout
    raster = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert raster.shape == (300, 200)
    assert float(np.abs(raster.astype(int) - image.astype(int)).mean()) < 5


def test_real_scan_annotations_are_valid_and_match_their_images(
    realscans_dir: Path, shared_dir: Path
) -> None:
    files = sorted(realscans_dir.glob("*.truth.json"))
    assert [f.name for f in files] == [
        "shiquan-2026-sangong-table.truth.json",
        "vat-sales-list-scan.truth.json",
    ]
    for path in files:
        truth = Extraction.model_validate_json(path.read_text(encoding="utf-8"))
        image = cv2.imread(str(shared_dir / truth.source.filename), cv2.IMREAD_GRAYSCALE)
        assert image.shape == (truth.pages[0].height_px, truth.pages[0].width_px)
        for cell in truth.tables[0].cells:
            x0, y0, x1, y1 = cell.bbox
            assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]
    vat = Extraction.model_validate_json((realscans_dir / "vat-sales-list-scan.truth.json").read_text())
    amounts = [c.text for c in vat.tables[0].cells if c.col == 6 and c.row_span == 1 and c.col_span == 1]
    assert amounts.count("18742.43") == 2


def test_long_tables_break_only_between_rows_no_merged_cell_straddles() -> None:
    cells = [Cell(row=0, col=0, text="项目"), Cell(row=0, col=1, text="金额")]
    for r in range(1, 40):
        if r == 20:
            cells.append(Cell(row=r, col=0, row_span=4, text="跨四行的合并单元格"))
        elif not 20 < r < 24:
            cells.append(Cell(row=r, col=0, text=f"第{r}行"))
        cells.append(Cell(row=r, col=1, text=f"{r}.00"))
    table = Table(id="t0", page=1, n_rows=40, n_cols=2, cells=cells)
    assert safe_breaks(table) == set(range(40)) - {21, 22, 23}
    style = PageStyle(dpi=100, body_pt=10)
    layout = layout_table(table, style, 600)
    row_height = layout.row_heights[1]
    pages = split_rows(table, layout, available=row_height * 21 + 1, repeat_header=True)
    assert len(pages) >= 2
    assert all(page[0] == 0 for page in pages)  # the header row is repeated
    starts = [page[1] for page in pages[1:]]
    assert not set(starts) & {21, 22, 23}
    assert sorted(r for page in pages for r in page if r) == list(range(1, 40))
