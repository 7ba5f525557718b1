"""Scoring functions on hand-made cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ctdar import load_page
from bench.metrics import (
    adjacency_score,
    cer,
    edit_distance,
    greedy_match,
    iou,
    is_numeric,
    same_structure,
    score_page,
    score_table,
)
from bench.run import table_misses
from ocr.contract import Cell, Table


def _table(
    texts: list[list[str]],
    origin: tuple[int, int] = (0, 0),
    cell_px: int = 100,
    merge_first_row: bool = False,
) -> Table:
    x0, y0 = origin
    cells = []
    for r, row in enumerate(texts):
        for c, text in enumerate(row):
            if merge_first_row and r == 0 and c > 0:
                continue
            span = len(row) if merge_first_row and r == 0 else 1
            cells.append(
                Cell(
                    row=r,
                    col=c,
                    col_span=span,
                    text=text,
                    bbox=(
                        x0 + c * cell_px,
                        y0 + r * cell_px,
                        x0 + (c + span) * cell_px,
                        y0 + (r + 1) * cell_px,
                    ),
                )
            )
    n_cols = len(texts[0])
    return Table(
        id="t0",
        page=1,
        bbox=(x0, y0, x0 + n_cols * cell_px, y0 + len(texts) * cell_px),
        n_rows=len(texts),
        n_cols=n_cols,
        cells=cells,
    )


def test_edit_distance_and_cer() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert cer("一般公共服务支出", "一般公共服务支出") == 0.0
    assert cer("一般公服务支出", "一般公共服务支出") == pytest.approx(1 / 8)
    assert cer("１０３．９０", "103.90") == 0.0  # NFKC folds full-width digits
    assert cer("", "") == 0.0 and cer("x", "") == 1.0


@pytest.mark.parametrize(
    ("text", "numeric"),
    [
        ("2,940.05", True),
        ("103.90", True),
        ("-6.20", True),
        ("201", True),
        ("17%", True),
        ("", False),
        ("合计", False),
        ("2,94,0.05", False),
        ("一、一般公共预算", False),
        ("-", False),
    ],
)
def test_numeric_cells(text: str, numeric: bool) -> None:
    assert is_numeric(text) is numeric


def test_iou_and_greedy_matching_is_one_to_one() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    pairs = greedy_match(
        [(0, 0, 10, 10), (20, 0, 30, 10)], [(21, 0, 30, 10), (0, 0, 9, 10), (0, 0, 10, 8)], 0.5
    )
    assert pairs == [(0, 1), (1, 0)]


def test_identical_table_in_another_frame_scores_perfect() -> None:
    truth = _table([["项目", "金额"], ["合计", "103.90"], ["其他", ""]], origin=(100, 200))
    # Same grid read at 2/3 the resolution with a different origin: scale and offset must not matter.
    moved = _table([["项目", "金额"], ["合计", "103.90"], ["其他", ""]], origin=(60, 120), cell_px=67)
    summary = score_page([truth], [moved], scale=1.5).summary()
    assert summary["tables_found_pct"] == summary["structure_exact_pct"] == 100.0
    assert summary["numeric_exact_pct"] == summary["text_exact_pct"] == 100.0
    assert summary["cer"] == 0.0 and summary["blank_filled"] == 0


def test_wrong_texts_and_filled_blanks_are_counted() -> None:
    truth = _table([["项目", "金额"], ["合计", "103.90"], ["其他", ""]])
    guess = _table([["项目", "金额"], ["合汁", "103.80"], ["其他", "0.00"]])
    score = score_table(truth, guess)
    assert (score.numeric_cells, score.numeric_exact) == (1, 0)
    assert (score.text_cells, score.text_exact) == (4, 3)
    assert (score.blank_cells, score.blank_filled) == (1, 1)
    assert score.text_edits == 2


def test_missing_table_and_changed_spans() -> None:
    truth = _table([["收入", ""], ["项目", "金额"]], merge_first_row=True)
    split = _table([["收入", ""], ["项目", "金额"]])
    assert not same_structure(truth, split)
    assert same_structure(truth, truth)
    missed = score_page([truth], [], 1.0).summary()
    assert missed["tables_found_pct"] == 0.0 and missed["cer"] == 1.0


def test_adjacency_f1_perfect_and_with_merged_cells() -> None:
    grid = _table([["a", "b"], ["c", "d"]])
    boxes = {
        i: (c.bbox[0] + 20.0, c.bbox[1] + 20.0, c.bbox[2] - 20.0, c.bbox[3] - 20.0)
        for i, c in enumerate(grid.cells)
    }
    relations = {(0, 1, "h"), (2, 3, "h"), (0, 2, "v"), (1, 3, "v")}
    perfect = adjacency_score(boxes, relations, [grid], 1.0)
    assert perfect.f1 == 1.0
    merged_top = _table([["ab", ""], ["c", "d"]], merge_first_row=True)
    partial = adjacency_score(boxes, relations, [merged_top], 1.0)
    # a and b fall into one predicted cell: their left-right relation is lost, the others survive.
    assert partial.recall == pytest.approx(0.75)
    assert partial.precision == 1.0
    assert adjacency_score(boxes, relations, [], 1.0).f1 == 0.0


def test_ctdar_annotation_loader(tmp_path: Path) -> None:
    xml = tmp_path / "page.xml"
    xml.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<document filename="page.jpg"><table><Coords points="0,0 0,100 200,100 200,0"/>
<cell id="0" neighbors="1:R 2:B"><Coords points="10,10 10,40 90,40 90,10"/></cell>
<cell id="1" neighbors="0:L"><Coords points="110,10 110,40 190,40 190,10"/></cell>
<cell id="2" neighbors="0:T"><Coords points="10,60 10,90 90,90 90,60"/></cell>
</table></document>""",
        encoding="utf-8",
    )
    page = load_page(xml, tmp_path)
    assert page.image == tmp_path / "page.jpg"
    assert page.tables == [(0.0, 0.0, 200.0, 100.0)]
    assert page.relations == {(100_000, 100_001, "h"), (100_000, 100_002, "v")}
    assert page.cells[100_001] == (110.0, 10.0, 190.0, 40.0)


def test_misses_list_every_cell_read_differently_and_only_those() -> None:
    truth = _table([["项目", "金额"], ["收入", "1,200.00"], ["支出", ""]])
    read = _table([["项目", "金额"], ["收人", "1,200.00"], ["支出", "o"]])
    assert table_misses(truth, read) == [(1, 0, "收入", "收人"), (2, 1, "", "o")]
    assert table_misses(truth, truth) == []
    assert len(table_misses(truth, None)) == 5  # a table not found: every cell with text is missed
