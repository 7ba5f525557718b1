"""A smudge in an empty amount cell of a scan is noise, not an unreadable amount (issue 10, case 3).

The recogniser reads a small smudge as a character (here "□", unsure). A cell of an amount column
holds an amount, a dash or nothing: an unsure reading without a digit is blank with a warning that
names the cell; before, it was a T.TEXT error on a table with nothing wrong in that cell.
"""

from __future__ import annotations

from pathlib import Path

from ocr_pages import budget_table, render_page, save_png
from PIL import ImageDraw

from fiscal import enrich
from ocr.contract import UNSURE
from ocr.pipeline import ExtractOptions, extract


def test_a_smudge_in_an_empty_amount_cell_is_noise_not_an_error(tmp_path: Path) -> None:
    spec = budget_table()  # (3, 1), the 政府性基金 income amount, is empty
    page = render_page([spec])
    xs, ys = spec.col_x(), spec.row_y()
    x, y = (xs[1] + xs[2]) // 2, (ys[3] + ys[4]) // 2
    ImageDraw.Draw(page.image).rectangle((x - 10, y - 9, x + 10, y + 9), outline=0, width=3)
    result = enrich(extract(save_png(page.image, tmp_path / "smudged.png"), ExtractOptions()))
    [cell] = [c for c in result.tables[0].cells if (c.row, c.col) == (3, 1)]
    assert cell.text and cell.confidence < UNSURE  # the smudge was read, and the reader was unsure
    on_cell = [f for f in result.findings if [3, 1] in [list(c) for c in f.cells]]
    assert [(f.rule, f.severity) for f in on_cell] == [("T.NOISE", "warning")]
