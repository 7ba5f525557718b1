"""Table structure survives scan damage: broken rules, no outer border, faint rules under noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdf
from ocr_pages import DPI, TableSpec, blank_page, budget_table, drawn_gray, font, merged_spans
from PIL import Image, ImageDraw

from ocr.grid import TableGrid, find_tables
from ocr.preprocess import rule_mask
from ocr.rasterise import open_document, rasterise_page


def _assert_structure(grids: list[TableGrid], spec: TableSpec) -> None:
    assert len(grids) == 1, [g.bbox for g in grids]
    grid = grids[0]
    assert (grid.n_rows, grid.n_cols) == (len(spec.row_heights), len(spec.col_widths))
    assert merged_spans(grid) == set(spec.spans)
    xs = spec.col_x()
    assert all(abs(a - b) <= 4 for a, b in zip(grid.cols, xs, strict=True))



def test_rules_with_long_dropouts_and_no_side_border_stay_one_table() -> None:
    spec = budget_table(outer_left_right=False)
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    row_height = spec.row_heights[0]
    # Dropouts nearly a row height long in every horizontal rule, away from the crossings, and
    # a third of each vertical rule's edge in one row: without bridging the table falls apart.
    for index, y in enumerate(ys):
        for c in range(len(xs) - 1):
            start = xs[c] + 60 + (index * 37) % 80
            gray[y - 3:y + 4, start:start + row_height - 6] = 255
    for index, x in enumerate(xs[1:-1]):
        y = ys[2 + index % 3]
        gray[y + 18:y + 38, x - 3:x + 4] = 255
    _assert_structure(find_tables(gray, DPI), spec)


def test_merged_cell_edge_without_rule_is_not_split_by_aligned_strokes() -> None:
    spec = budget_table()
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    # Glyph-like strokes standing on the missing boundary under the 收入 header span: short,
    # thick, touching neither end of the edge together.
    x = xs[1]
    gray[ys[0] + 6:ys[0] + 30, x - 2:x + 2] = 0
    _assert_structure(find_tables(gray, DPI), spec)


def test_faint_grey_rules_under_noise_are_found() -> None:
    spec = budget_table()
    drawn = drawn_gray(spec)
    rng = np.random.default_rng(7)
    # 38 % grey ink on slightly grey paper, with sigma-10 scanner noise.
    faint = np.where(drawn < 128, 158.0, 232.0) + rng.normal(0.0, 10.0, drawn.shape)
    gray = np.clip(faint, 0, 255).astype(np.uint8)
    _assert_structure(find_tables(gray, DPI), spec)


def test_paper_edge_on_a_white_canvas_is_not_a_rule() -> None:
    gray = np.full((400, 400), 255, dtype=np.uint8)
    gray[40:360, 40:360] = 225  # grey paper after deskew onto a white canvas
    assert int(np.count_nonzero(rule_mask(gray))) == 0
    gray[200, 60:340] = 150  # a faint rule on that paper is kept
    assert int(np.count_nonzero(rule_mask(gray)[195:206, 60:340])) >= 250


def test_scanned_pdf_page_is_read_at_its_native_resolution(tmp_path: Path) -> None:
    scan = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    ImageDraw.Draw(scan).line([(100, 300), (1100, 300)], fill=0, width=1)
    pdf = tmp_path / "scan.pdf"
    scan.save(pdf, resolution=150.0)
    page = rasterise_page(open_document(pdf, 10), 1, 100, 60_000_000, 30.0)
    assert page.dpi == 150  # not shrunk to the requested 100 dpi
    assert page.image.shape == (1754, 1240)
    assert int(page.image[300, 100:1100].max()) < 128  # the 1-px rule is intact, not resampled
    enlarged = rasterise_page(open_document(pdf, 10), 1, 300, 60_000_000, 30.0)
    assert enlarged.dpi == 300  # a low-resolution scan is enlarged, as rendering would
    assert enlarged.image.shape == (3508, 2480)


def test_vector_pdf_page_is_rendered_at_the_requested_dpi(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    pdf = tmp_path / "vector.pdf"
    with pdf.open("wb") as handle:
        writer.write(handle)
    page = rasterise_page(open_document(pdf, 10), 1, 100, 60_000_000, 30.0)
    assert page.dpi == 100
    assert abs(page.image.shape[1] - round(595 / 72 * 100)) <= 1


def test_a_header_rule_lost_over_one_column_does_not_swallow_the_header() -> None:
    # Under the 收入 span (cols 0-1) the rule to the 项目 row survives only as a stub at the
    # crossing: merging through the gap would make an L of merged cells, and growing that L
    # into a rectangle would swallow 决算数 too.
    spec = budget_table()
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    gray[ys[1] - 3:ys[1] + 4, xs[0] - 3:xs[1] - 40] = 255
    _assert_structure(find_tables(gray, DPI), spec)


def test_a_rule_lost_over_two_rows_of_a_tall_column_split_is_restored() -> None:
    texts = {(0, 0): "年度绩效目标", (0, 1): "100"} | {(r, 2): f"指标{r}" for r in range(6)}
    spec = TableSpec(col_widths=[320, 200, 420], row_heights=[56] * 6, texts=texts,
                     spans=[(0, 0, 6, 1), (0, 1, 6, 1)])
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    gray[ys[0] + 3:ys[2] + 3, xs[1] - 3:xs[1] + 4] = 255  # the rule between them, gone for two rows
    _assert_structure(find_tables(gray, DPI), spec)


def test_a_glyph_stem_just_past_a_rule_end_does_not_split_a_merged_header() -> None:
    # 科目编码 spans the 类/款/项 columns below it; a 王-like glyph in it has its stem on the
    # line of the 类|款 rule, ending a few pixels above that rule's top.
    texts = {(0, 0): "", (1, 0): "类", (1, 1): "款", (1, 2): "项", (0, 3): "科目名称"}
    spec = TableSpec(col_widths=[150, 150, 150, 500], row_heights=[60, 56, 56], texts=texts,
                     spans=[(0, 0, 1, 3), (0, 3, 2, 1)])
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    x = xs[1]
    gray[ys[0] + 14:ys[1] - 5, x - 1:x + 2] = 0
    for y in (ys[0] + 16, ys[0] + 30, ys[1] - 12):
        gray[y:y + 4, x - 16:x + 17] = 0
    _assert_structure(find_tables(gray, DPI), spec)


def test_a_character_stroke_across_a_low_merged_row_is_not_taken_for_a_rule() -> None:
    # A low header row spanning three columns; a 马-like glyph's right stroke runs nearly
    # from rule to rule on the line of a column rule below, its other strokes joined on.
    texts = {(1, 0): "类", (1, 1): "款", (1, 2): "项", (0, 3): "科目名称"}
    spec = TableSpec(col_widths=[150, 150, 150, 500], row_heights=[34, 56, 56], texts=texts,
                     spans=[(0, 0, 1, 3), (0, 3, 2, 1)], font_px=26)
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    x = xs[1]
    gray[ys[0] + 8:ys[1] - 6, x - 1:x + 2] = 0
    for y in (ys[0] + 6, ys[0] + 15, ys[1] - 10):
        gray[y:y + 3, x - 18:x] = 0
    _assert_structure(find_tables(gray, DPI), spec)


def _break_every_edge(gray: np.ndarray, spec: TableSpec, share: float, seed: int) -> None:
    """Dropouts over ``share`` of every cell edge, a twelfth of the edge each, at random places: what
    a faded, grainy scan leaves of a grid (a row-high column edge becomes a few short dashes)."""
    rng = np.random.default_rng(seed)
    xs, ys = spec.col_x(), spec.row_y()
    edges = [(x, ys[r], x, ys[r + 1]) for x in xs for r in range(len(ys) - 1)]
    edges += [(xs[c], y, xs[c + 1], y) for y in ys for c in range(len(xs) - 1)]
    for x0, y0, x1, y1 in edges:
        length = max(x1 - x0, y1 - y0)
        gap = max(2, length // 12)
        for _ in range(round(share * length / gap)):
            at = int(rng.integers(0, length - gap))
            if y0 == y1:
                gray[y0 - 3:y0 + 4, x0 + at:x0 + at + gap] = 255
            else:
                gray[y0 + at:y0 + at + gap, x0 - 3:x0 + 4] = 255


def test_column_rules_broken_into_dashes_in_every_row_are_continued_down_the_table() -> None:
    # Every edge lost a quarter of its length: a column rule is a few dashes per row, each too short
    # for the line filter and, beside the text and the stubs of the broken crossing rules, often too
    # crowded to pass as isolated dashes; the parts found still line up down the whole table.
    # Measured over six damage draws: 2 exact before rules were continued along their line, 4 after.
    exact = 0
    for seed in range(1, 7):
        spec = budget_table(row_heights=[44] * 6, font_px=24)
        gray = drawn_gray(spec)
        _break_every_edge(gray, spec, 0.25, seed=seed)
        try:
            _assert_structure(find_tables(gray, DPI), spec)
        except AssertionError:
            continue
        exact += 1
    assert exact >= 4


def test_an_l_shaped_merge_with_no_rule_left_breaks_on_the_line_that_leaves_rectangles() -> None:
    # A three-level header (the 三公 table): a title cell over six columns, a subheader over three of
    # them. The rule under the title is lost over the subheader's last two columns, without a trace:
    # the title and the subheader join into an L, which must not swallow the whole header.
    texts = {(0, 0): "三公经费预算数", (0, 6): "机关运行经费", (1, 0): "合计", (1, 1): "出国费",
             (1, 2): "接待费", (1, 3): "公务用车购置及运行费", (2, 3): "小计", (2, 4): "购置费",
             (2, 5): "运行费", (3, 0): "867.50", (3, 1): "839.00", (3, 2): "28.50", (3, 6): "213.28"}
    spec = TableSpec(col_widths=[200] * 7, row_heights=[60, 60, 60, 60], texts=texts,
                     spans=[(0, 0, 1, 6), (0, 6, 3, 1), (1, 0, 2, 1), (1, 1, 2, 1), (1, 2, 2, 1),
                            (1, 3, 1, 3)],
                     origin=(100, 400), font_px=24)
    gray = drawn_gray(spec)
    xs, ys = spec.col_x(), spec.row_y()
    gray[ys[1] - 3:ys[1] + 4, xs[4] + 4:xs[6] - 4] = 255
    _assert_structure(find_tables(gray, DPI), spec)


def _title_with_crossing_strokes(flanked: bool) -> np.ndarray:
    """A heading of large bold characters, one of which has strokes crossing like a small grid."""
    image = blank_page()
    draw = ImageDraw.Draw(image)
    x0, y0, width, height = 700, 300, 230, 100
    for i in range(4):  # the strokes: four across, six down, as thick as the heading's strokes
        draw.line([(x0, y0 + i * height // 3), (x0 + width, y0 + i * height // 3)], fill=0, width=5)
    for j in range(6):
        draw.line([(x0 + j * width // 5, y0), (x0 + j * width // 5, y0 + height)], fill=0, width=5)
    if flanked:
        heading = font(120)
        draw.text((x0 - 260, y0 - 25), "部门", fill=0, font=heading)
        draw.text((x0 + width + 20, y0 - 25), "预算", fill=0, font=heading)
    return np.asarray(image, dtype=np.uint8).copy()


def test_crossing_strokes_inside_a_line_of_large_text_are_no_table() -> None:
    # Alone, the crossing strokes are a (tiny) ruled grid; standing in a heading between characters
    # as tall as they are, they are part of the heading (case 7: the cover titles of two reports).
    assert len(find_tables(_title_with_crossing_strokes(flanked=False), DPI)) == 1
    assert find_tables(_title_with_crossing_strokes(flanked=True), DPI) == []
