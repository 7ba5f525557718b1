"""Acceptance: pages of published reports rendered as scans read like their text layer.

Case 1 of issue 10: in the Putuo finance bureau's final accounts, page 15 (一般公共预算财政拨款支出决算表),
"1" is a plain vertical stroke. Stacked in consecutive rows ("1,503.52" three times, "221", "11") the
strokes were chained into phantom column rules: 1,503.52 read as 503.52, 221 as 22, and 12 false
findings on a table that adds up. The page is rendered here from ../shared (never copied).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.metrics import normalise
from bench.verdicts import scan_of
from ocr.pipeline import ExtractOptions, extract
from service.fiscal_bridge import enrich

pytestmark = pytest.mark.acceptance

REPORTS = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "reports"
REPORT = REPORTS / "putuo-finance-bureau-2024-final.pdf"


def _render(tmp_path: Path, page: int, dpi: int) -> Path:
    prefix = tmp_path / f"p{dpi}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-gray", "-png",
                    str(REPORT), str(prefix)], check=True, timeout=120)
    return next(tmp_path.glob(f"p{dpi}*.png"))


@pytest.mark.parametrize("dpi", [200, 300])
def test_digit_one_beside_a_rule_is_not_a_column(tmp_path: Path, dpi: int) -> None:
    layer = extract(REPORT, ExtractOptions(pages=(15,)))
    scan = enrich(extract(_render(tmp_path, 15, dpi), ExtractOptions(dpi=dpi)))
    truth = layer.tables[0]
    assert [(t.n_rows, t.n_cols) for t in scan.tables] == [(truth.n_rows, truth.n_cols)]
    amounts = {c.text for c in scan.tables[0].cells}
    assert {"1,503.52", "221"} <= amounts
    assert [f.rule for f in scan.findings if f.severity == "error"] == []


def _scanned(report: Path, page: int, dpi: int, tmp_path: Path) -> Path:
    """One page as the verdicts benchmark scans a report (grey, the sensor's grain, JPEG)."""
    return scan_of(report, tmp_path / f"scan-{page}.pdf", dpi, pages=(page, page))


@pytest.mark.parametrize(("name", "page"), [("putuo-wanli-street-2023-budget.pdf", 32),
                                            ("putuo-finance-bureau-2024-final.pdf", 16),
                                            ("putuo-justice-2026-budget.pdf", 21),  # “三公”
                                            ("putuo-justice-2026-budget.pdf", 19),  # 部 in a corner
                                            ("putuo-wanli-street-2023-budget.pdf", 19)])  # 支 in a corner
def test_short_cells_of_a_light_serif_scan_read_like_the_text_layer(tmp_path: Path, name: str,
                                                                      page: int) -> None:
    """A light Song face at 200 dpi: its one-pixel bars fall below the ink threshold in pieces. Crops
    whitened off the ink mask read 上海市 as "1.海市", 一级指标 as "级指标", 2023-12-31 as "20231231",
    经常性项目 as "经帛性项目"; crops with a margin of page around the ink read the codes "08" as "8".
    The halves of “ ” were dropped as dust ("三公经费预算数"), and a glyph in the corner of its cell as a
    rule's corner (部门预算… read "门预算…", a wrapped 支出 read "出")."""
    report = REPORTS / name
    layer = extract(report, ExtractOptions(pages=(page,)))
    scan = extract(_scanned(report, page, 200, tmp_path), ExtractOptions(dpi=200))
    assert len(scan.tables) == len(layer.tables)
    wrong = []
    for truth, read in zip(layer.tables, scan.tables, strict=True):
        cells = {(c.row, c.col): normalise(c.text) for c in read.cells}
        wrong += [(c.row, c.col, c.text, cells.get((c.row, c.col))) for c in truth.cells
                  if 0 < len(c.text) <= 20 and cells.get((c.row, c.col)) != normalise(c.text)]
    assert wrong == []


@pytest.mark.parametrize("page", [18, 19, 20])
def test_a_glyph_standing_on_a_column_line_does_not_split_its_merged_cell(tmp_path: Path, page: int) -> None:
    """The finance bureau's 三公 and fund tables at 200 dpi: 合计 over four code columns and 公务用车运行费
    over two stand in rows lower than a long rule; the 丨 of 车 and the 口 of 合 ran from near rule to
    near rule on the line of the column rules above and were taken for a short cell edge."""
    _assert_one_table_shaped_like_the_layer(REPORT, page, tmp_path)


def _assert_one_table_shaped_like_the_layer(report: Path, page: int, tmp_path: Path) -> None:
    """The page's one table, scanned at 200 dpi, has the text layer's rows, columns and merged cells."""
    layer = extract(report, ExtractOptions(pages=(page,)))
    scan = extract(_scanned(report, page, 200, tmp_path), ExtractOptions(dpi=200))
    shapes = [{(c.row, c.col, c.row_span, c.col_span) for c in t.cells}
              for t in (*layer.tables, *scan.tables)]
    assert len(scan.tables) == len(layer.tables) == 1
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize(("name", "page"), [("putuo-justice-2026-budget.pdf", 14),
                                            ("putuo-wanli-street-2023-budget.pdf", 31)])
def test_strokes_lined_up_down_a_column_are_no_lost_rule(tmp_path: Path, name: str, page: int) -> None:
    """Labels of one length end at one x (三、卫生健康支出, 四、住房保障支出): in a light Song face at 200
    dpi the ink mask keeps only the upright strokes of their last glyph, and their faint trace, lined
    up from row to row, passed for a rule the masks had lost (a phantom column, the labels cut)."""
    _assert_one_table_shaped_like_the_layer(REPORTS / name, page, tmp_path)
