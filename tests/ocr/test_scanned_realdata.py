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

from ocr.pipeline import ExtractOptions, extract
from service.fiscal_bridge import enrich

pytestmark = pytest.mark.acceptance

REPORT = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "reports" / \
    "putuo-finance-bureau-2024-final.pdf"


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
