"""Acceptance on a real published report: the digital PDF's text layer is the ground truth."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from ocr.pipeline import ExtractOptions, extract_page
from ocr.textnorm import looks_numeric

REPORT = "realdata/reports/putuo-finance-bureau-2024-final.pdf"


@pytest.mark.acceptance
def test_putuo_income_expenditure_table(shared_dir: Path) -> None:
    pdf = shared_dir / REPORT
    layer = subprocess.run(["pdftotext", "-f", "6", "-l", "6", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True, timeout=60).stdout
    truth_numbers = sorted(re.findall(r"\d[\d,]*\.\d\d", layer))
    result = extract_page(pdf, 6, ExtractOptions())
    (table,) = result.tables
    assert (table.n_rows, table.n_cols, table.title, table.unit) == (29, 4, "收入支出决算总表", "万元")
    read_numbers = sorted(c.text for c in table.cells if c.text and looks_numeric(c.text))
    assert read_numbers == truth_numbers
    names = [c.text for c in table.cells if c.col == 2 and c.row >= 2]
    squeezed = re.sub(r"\s+", "", layer)
    assert sum(name in squeezed for name in names) >= len(names) - 1
