"""The fiscal vocabulary holds the shipped classification names and the template headings."""

from __future__ import annotations

from fiscal.lexicon import fiscal_lexicon


def test_classification_names_and_headings_are_known() -> None:
    lexicon = fiscal_lexicon()
    for term in ("卫生健康支出", "一般行政管理事务", "津贴补贴", "事业单位经营收入", "服务对象满意度指标"):
        assert term in lexicon.terms
    assert lexicon.correct("九、卫牛健康支出", [0.5] * 8) == "九、卫生健康支出"
    assert lexicon.correct("数致指标", [0.5] * 4) == "数量指标"
    assert lexicon.correct("基本工资", [0.5] * 4) == "基本工资"
