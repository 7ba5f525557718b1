"""One misread character in a known label is corrected; anything less certain is left as read."""

from __future__ import annotations

import pytest

from ocr.contract import Cell, Table
from ocr.lexicon import Lexicon, correct_tables

TERMS = Lexicon.of(["卫生健康支出", "其他收入", "事业单位经营收入", "一般行政管理事务",
                    "机关服务", "机关事务", "收入"])


@pytest.mark.parametrize(("read", "expected"), [
    ("九、卫牛健康支出", "九、卫生健康支出"),  # ordinal kept, 牛 -> 生
    ("(十一)卫生健康支出", "(十一)卫生健康支出"),  # already a term
    ("其他收人", "其他收入"),
    ("[2010302]—般行政管理事务", "[2010302]一般行政管理事务"),
    ("机构服事", "机构服事"),  # two characters off any term
    ("机关x务", "机关x务"),  # one off both 机关服务 and 机关事务: ambiguous, left alone
    ("收人", "收人"),  # too short to tell from other two-character words
    ("卫生健康支出合计", "卫生健康支出合计"),  # a longer label is not a term with extras
    ("2,106.66", "2,106.66"),
])
def test_labels_one_character_off_a_single_term_are_corrected(read: str, expected: str) -> None:
    assert TERMS.correct(read) == expected


def test_a_corrected_cell_keeps_what_was_read() -> None:
    table = Table(id="t0", page=1, n_rows=1, n_cols=2, cells=[
        Cell(row=0, col=0, text="其他收人", confidence=0.9), Cell(row=0, col=1, text="6.20")])
    cells = correct_tables([table], TERMS)[0].cells
    assert (cells[0].text, cells[0].read_as) == ("其他收入", "其他收人")
    assert (cells[1].text, cells[1].read_as) == ("6.20", None)
