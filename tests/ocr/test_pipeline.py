"""End to end through the public API: pages, context text, ids, continuations, progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocr_pages import DPI, save_png

from ocr import errors
from ocr.contract import Cell, PageInfo, Source, Table
from ocr.pipeline import ExtractOptions, PageResult, assemble, extract, extract_page, inspect_source


def test_image_page_end_to_end(tmp_path: Path, budget_png: Path) -> None:
    result = extract(budget_png, ExtractOptions(debug_dir=tmp_path / "debug"))
    assert result.source.pages == 1 and len(result.source.sha256) == 64
    (table,) = result.tables
    assert (table.id, table.n_rows, table.n_cols) == ("t0", 6, 4)
    assert table.title == "收入支出决算总表"
    assert table.form == "公开01表"
    assert table.unit == "万元"
    assert table.notes and table.notes[0].startswith("注:")
    texts = {(c.row, c.col): c.text for c in table.cells}
    assert texts[(2, 1)] == "2,940.05" and texts[(5, 3)] == "2,940.05"
    assert result.pages[0].dpi == DPI and result.pages[0].rotation == 0
    assert (tmp_path / "debug" / "page-0001.png").is_file()


def test_pdf_page_selection_blank_and_text_pages(multipage_pdf: Path) -> None:
    seen: list[tuple[int, int]] = []
    result = extract(multipage_pdf, ExtractOptions(pages=(2, 3), dpi=DPI),
                     progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]
    assert [p.number for p in result.pages] == [2, 3]
    assert result.source.pages == 3
    assert result.tables == []  # blank page and narrative page: no tables, no error
    assert any("部门主要职能" in line for line in result.pages[1].text)


def test_page_out_of_range(multipage_pdf: Path) -> None:
    with pytest.raises(errors.InvalidPageRangeError):
        extract(multipage_pdf, ExtractOptions(pages=(4,)))
    with pytest.raises(errors.InvalidPageRangeError):
        extract_page(multipage_pdf, 0, ExtractOptions())


def test_rotated_scan_is_read_upright(tmp_path: Path, two_table_page: object) -> None:
    from ocr_pages import Page

    assert isinstance(two_table_page, Page)
    sideways = save_png(two_table_page.image.rotate(270, expand=True), tmp_path / "sideways.png")
    page = extract_page(sideways, 1, ExtractOptions())
    assert page.page.rotation == 270
    assert [(t.n_rows, t.n_cols) for t in page.tables] == [(6, 4), (4, 4)]
    codes = {c.text for c in page.tables[1].cells if c.col == 0}
    assert {"2010301", "2080505", "2101101"} <= codes


def _table(page: int, y: int, cols: list[int], title: str | None = None) -> Table:
    cells = [Cell(row=0, col=i, bbox=(x, y, cols[i + 1], y + 40)) for i, x in enumerate(cols[:-1])]
    return Table(id="local", page=page, bbox=(cols[0], y, cols[-1], y + 400), title=title, n_rows=1,
                 n_cols=len(cols) - 1, cells=cells)


def _page(number: int, tables: list[Table]) -> PageResult:
    return PageResult(page=PageInfo(number=number, width_px=1654, height_px=2339, dpi=200), tables=tables)


def test_assemble_numbers_tables_and_leaves_continuation_to_the_fiscal_layer() -> None:
    source = Source(filename="x.pdf", sha256="0" * 64, pages=4)
    cols = [100, 500, 700, 1100]
    pages = [
        _page(2, [_table(2, 200, cols, title="支出决算表")]),
        _page(1, [_table(1, 300, cols, title="收入决算表"), _table(1, 100, [100, 600, 1100], title="总表")]),
        _page(3, [_table(3, 150, [100, 510, 705, 1100])]),  # no title, same columns: continues page 2
        _page(4, [_table(4, 150, [100, 300, 700, 1100])]),  # different columns: a new table
    ]
    result = assemble(source, pages)
    assert [(t.id, t.page) for t in result.tables] == [("t0", 1), ("t1", 1), ("t2", 2), ("t3", 3), ("t4", 4)]
    assert result.tables[0].title == "总表"
    assert [t.continues for t in result.tables] == [None] * 5  # decided once, in fiscal.continuation
    assert [p.number for p in result.pages] == [1, 2, 3, 4]


def test_inspect_counts_pages(multipage_pdf: Path) -> None:
    assert inspect_source(multipage_pdf).pages == 3
