"""Per-row informational problems (repeated page-break headers or totals) fold into one finding per table
and kind, instead of one per row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import fiscal


def test_repeated_headers_give_one_finding_per_table(seed_text: Callable[[str], str]) -> None:
    result = fiscal.validate_text_document(seed_text("000"))
    repeats = Counter((f.table, f.message_en) for f in result.findings if f.rule == "T.REPEAT")
    assert repeats, "seed 000's 公开02/03 tables repeat their header mid-table (a page break)"
    assert max(repeats.values()) == 1, repeats
    merged = next(f for f in result.findings if f.rule == "T.REPEAT")
    assert "重复表头" in merged.message
