"""The verdict-stability benchmark compares verdicts, not the way they quote the narrative."""

from __future__ import annotations

from bench.verdicts import _errors
from ocr.contract import Finding


def _year(quote: str, actual: str = "比2026年") -> Finding:
    return Finding(rule="N.YEAR", severity="error", message=f"比较年份错误：“{quote}”与本年度2026年自身比较",
                   message_en="compares 2026 with itself", actual=actual)


def test_the_same_verdict_quoting_a_misread_sentence_is_the_same() -> None:
    text = _errors([_year("财政拨款收入9628.22万元,比2026年预算增加793.14万元")])
    scan = _errors([_year("财政拨款收人9628.22万元,比2026年预算增加793.14万元")])
    assert scan - text == {}


def test_a_verdict_on_other_figures_or_cells_is_another() -> None:
    text = _errors([_year("比2026年预算增加")])
    assert _errors([_year("比2026年预算增加", actual="比2025年")]) - text
    cell = Finding(rule="H01.1", severity="error", message="合计不等", message_en="total differs",
                   table="p3t0", cells=[(4, 2)], expected="10.00", actual="9.00")
    moved = cell.model_copy(update={"cells": [(5, 2)]})
    assert _errors([moved]) - _errors([cell])
    assert _errors([_year("x")] * 2) - _errors([_year("y")])  # one verdict more is one more
