"""Narrative wording, years, dates, comparison words, restated amounts and completeness (fiscal.checks).

Each case is a few lines of report text of the kinds auditors look for; each rule is shown to fire
on the slip and to stay quiet on the correct wording next to it.
"""

from __future__ import annotations

from fiscal.pipeline import validate, validate_text_document
from ocr.contract import Cell, Table

FINAL_HEAD = ["上海市某区财政局", "2024年度部门决算", "第二部分 上海市普陀区财政局2024年度部门决算表"]


def _rules(narrative: list[str], tables: list[Table] | None = None) -> list[tuple[str, str]]:
    findings = validate(tables or [], narrative).findings
    return [(f.rule, f.severity) for f in findings if f.rule.startswith("N.")]


def test_placeholder_left_from_the_template_is_an_error() -> None:
    assert ("N.PLACEHOLDER", "error") in _rules([*FINAL_HEAD, "上海市XX局2024年度收入支出总计XXX万元。"])
    # A document number in 【】 is no placeholder.
    assert ("N.PLACEHOLDER", "error") not in _rules([*FINAL_HEAD, "根据沪府规【2016】168号文件。"])


def test_doubled_punctuation_and_words_are_warnings() -> None:
    found = _rules([*FINAL_HEAD, "制定本规定。。", "主要是用于要是用于街道专项。"])
    assert ("N.PUNCT", "warning") in found
    assert ("N.REPEAT", "warning") in found
    assert _rules([*FINAL_HEAD, "制定本规定。主要用于街道专项。"]).count(("N.PUNCT", "warning")) == 0


def test_heading_with_another_year_is_an_error_and_cannot_move_the_report_year() -> None:
    heading = "第三部分 上海市普陀区财政局{}年度部门决算情况说明"
    assert ("N.YEAR", "error") in _rules([*FINAL_HEAD, heading.format(2023)])
    assert ("N.YEAR", "error") not in _rules([*FINAL_HEAD, heading.format(2024)])


def test_comparing_the_report_year_with_itself_is_an_error() -> None:
    budget = ["2026年部门预算", "上海市普陀区2026年区级部门预算"]
    sentence = "2026年财政拨款收入9628.22万元,比{}年预算增加793.14万元。"
    assert ("N.YEAR", "error") in _rules([*budget, sentence.format(2026)])
    assert ("N.YEAR", "error") not in _rules([*budget, sentence.format(2025)])


def test_as_of_date_outside_the_report_year_is_an_error() -> None:
    assert ("N.DATE", "error") in _rules([*FINAL_HEAD, "截至2025年12月31日,共有车辆3辆。"])
    assert ("N.DATE", "error") not in _rules([*FINAL_HEAD, "截至2024年12月31日,共有车辆3辆。"])


def test_comparison_word_must_agree_with_the_two_amounts() -> None:
    text = "年初预算为135.90万元,支出决算为135.25万元。决算数{}预算数的主要原因:节约开支。"
    assert ("N.COMPARE", "error") in _rules([*FINAL_HEAD, text.format("大于")])
    assert ("N.COMPARE", "error") not in _rules([*FINAL_HEAD, text.format("小于")])


def test_zero_change_with_a_change_rate_is_an_error() -> None:
    text = "收入支出总计2995.39万元。与2023年度相比,收入支出总计减少{}万元,下降1.87%。"
    assert ("N.CHANGE", "error") in _rules([*FINAL_HEAD, text.format("0")])


def _summary_table(income_total: str) -> Table:
    rows = [("项目", "金额"), ("本年收入合计", income_total), ("本年支出合计", "2,959.25")]
    cells = [Cell(row=r, col=c, text=text, bbox=(c * 100, r * 30, c * 100 + 100, r * 30 + 30))
             for r, row in enumerate(rows) for c, text in enumerate(row)]
    return Table(id="t0", page=6, title="收入支出决算总表", unit="万元", n_rows=3, n_cols=2, cells=cells)


def test_restated_amount_must_be_printed_in_its_table_row() -> None:
    narrative = [*FINAL_HEAD, "二、收入决算情况说明",
                 "本年收入合计2959.25万元,其中:财政拨款收入2940.05万元。"]
    assert ("N.AMOUNT", "error") in _rules(narrative, [_summary_table("2,946.25")])
    assert ("N.AMOUNT", "error") not in _rules(narrative, [_summary_table("2,959.25")])


def test_a_required_table_missing_from_a_budget_is_an_error() -> None:
    budget_head = "2024年收支预算总表\n单位：万元\n项目\t预算数\n收入总计\t10.00\n支出总计\t10.00\n"
    result = validate_text_document("2024年部门预算\n" + budget_head)
    missing = [f.actual for f in result.findings if f.rule == "N.MISSING"]
    assert "budget_02_income" in missing and "budget_01_summary" not in missing


def test_a_single_table_owes_no_other_tables() -> None:
    # A one-table upload (a scan of 公开01表) is no report: completeness is not asked of it.
    table = "收入支出决算总表\n单位：万元\n项目\t金额\n本年收入合计\t10.00\n本年支出合计\t10.00\n"
    assert [f for f in validate_text_document(table).findings if f.rule == "N.MISSING"] == []
