"""One misread character in a known label is corrected; anything less certain is left as read."""

from __future__ import annotations

import pytest

from ocr.contract import Cell
from ocr.lexicon import Lexicon, correct_cell
from ocr.textnorm import carry_scores

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
    assert TERMS.correct(read, [0.5] * len(read)) == expected  # the recogniser unsure throughout


@pytest.mark.parametrize(("read", "unsure_at"), [
    ("九、卫牛健康支出", 3),  # 牛
    ("其他收人", 3),  # 人
])
def test_only_the_character_the_recogniser_was_unsure_of_is_changed(read: str, unsure_at: int) -> None:
    sure = [0.99] * len(read)
    assert TERMS.correct(read, sure) == read  # read with confidence: a wording the vocabulary lacks
    doubtful = sure.copy()
    doubtful[unsure_at] = 0.45
    assert TERMS.correct(read, doubtful) != read
    elsewhere = sure.copy()
    elsewhere[unsure_at - 1] = 0.45  # unsure of a character the term agrees with
    assert TERMS.correct(read, elsewhere) == read


def test_scores_carried_through_normalisation() -> None:
    # A full-width comma became ",", a space was put between joined lines, a speck was dropped.
    assert carry_scores("其他，收入", [0.9, 0.8, 0.3, 0.7, 0.6], "其他,收入") == (0.9, 0.8, 0.3, 0.7, 0.6)
    assert carry_scores("ab", [0.4, 0.5], "a b") == (0.4, 1.0, 0.5)
    assert carry_scores("其.他", [0.9, 0.1, 0.8], "其他") == (0.9, 0.8)


def test_a_corrected_cell_keeps_what_was_read() -> None:
    label = correct_cell(Cell(row=0, col=0, text="其他收人", confidence=0.6), [0.9, 0.9, 0.9, 0.6], TERMS)
    amount = correct_cell(Cell(row=0, col=1, text="6.20", confidence=0.6), [0.6] * 4, TERMS)
    assert (label.text, label.read_as) == ("其他收入", "其他收人")
    assert (amount.text, amount.read_as) == ("6.20", None)
