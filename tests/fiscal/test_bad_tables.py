"""Bad tables produce findings, never exceptions; the entry points keep their contract."""

from __future__ import annotations

from fiscal import RepairPolicy, enrich, validate_tables
from fiscal.checks import RULES
from fiscal.rules import Context, Rule, run_rules
from fiscal.textdoc import build_table
from ocr.contract import Cell, Extraction, PageInfo, Source, Table

HEADER = [["科目编码", "科目名称", "合计", "基本支出", "项目支出"]]


def _table(rows: list[list[str]], title: str = "2024年度一般公共预算财政拨款支出决算表") -> Table:
    table = build_table("t0", HEADER + rows)
    return table.model_copy(update={"title": title, "unit": "万元"})


def _rules(findings):
    return {f.rule for f in findings}


def test_text_in_amount_column_is_a_finding():
    table = _table(
        [["", "合计", "10.00", "6.00", "4.00"], ["2010301", "行政运行", "10.00", "六点零", "4.00"]]
    )
    _, findings = validate_tables([table])
    assert "T.TEXT" in _rules(findings)
    assert any(f.rule == "T.TEXT" and (2, 3) in [tuple(c) for c in f.cells] for f in findings)


def test_ragged_rows_are_a_finding():
    cells = [Cell(row=0, col=c, text=t) for c, t in enumerate(HEADER[0])]
    cells += [
        Cell(row=1, col=0, text="2010301"),
        Cell(row=1, col=1, text="行政运行"),
        Cell(row=1, col=2, text="5.00"),
    ]
    table = Table(id="t0", page=1, title="2024年度支出决算表", n_rows=2, n_cols=5, cells=cells)
    records, findings = validate_tables([table])
    assert "T.RAGGED" in _rules(findings)
    assert records and records[0].code == "2010301"


def test_duplicated_codes_are_a_finding():
    table = _table(
        [
            ["", "合计", "20.00", "20.00", ""],
            ["2010301", "行政运行", "10.00", "10.00", ""],
            ["2010301", "行政运行", "10.00", "10.00", ""],
        ]
    )
    _, findings = validate_tables([table])
    assert "T.DUPCODE" in _rules(findings)


def test_empty_table_with_and_without_statement():
    table = _table([], title="2024年度政府性基金预算财政拨款收入支出决算表")
    stated = table.model_copy(update={"notes": ["本部门2024年度无政府性基金预算财政拨款收入支出。"]})
    _, bare = validate_tables([table])
    _, with_note = validate_tables([stated])
    assert any(f.rule == "T.EMPTY" and f.severity == "warning" for f in bare)
    assert any(f.rule == "T.EMPTY" and f.severity == "info" for f in with_note)


def test_garbage_table_and_empty_grid_do_not_raise():
    garbage = Table(
        id="g", page=1, n_rows=3, n_cols=2, cells=[Cell(row=5, col=9, text="%%"), Cell(row=0, col=0)]
    )
    empty = Table(id="e", page=1, n_rows=0, n_cols=0, cells=[])
    records, findings = validate_tables([garbage, empty], narrative=["无关文字", "2024年度收入合计 abc 万元"])
    assert isinstance(records, list) and isinstance(findings, list)


def test_a_rule_that_raises_becomes_an_internal_finding():
    def broken(ctx: Context):
        raise RuntimeError("boom")

    findings, _ = run_rules(Context([]), [*RULES, Rule("TEST.BROKEN", broken, ())])
    assert any(f.rule == "internal" and "TEST.BROKEN" in f.message for f in findings)


def test_enrich_fills_records_and_findings_and_keeps_the_original():
    table = _table([["", "合计", "10.00", "6.00", "4.00"], ["2010301", "行政运行", "10.00", "6.00", "4.00"]])
    extraction = Extraction(
        source=Source(filename="x.pdf", sha256="0" * 64, pages=1),
        pages=[PageInfo(number=1, width_px=10, height_px=10, dpi=300, text=["说明"])],
        tables=[table],
    )
    out = enrich(extraction, policy=RepairPolicy.OFF)
    assert out.records and extraction.records == []
    assert out.tables[0].cells == table.cells


def _with_confidence(table: Table, where: tuple[int, int], confidence: float) -> Table:
    cells = [c.model_copy(update={"confidence": confidence}) if (c.row, c.col) == where else c
             for c in table.cells]
    return table.model_copy(update={"cells": cells})


def test_an_unsure_speck_in_an_amount_cell_is_blank_with_a_warning_a_sure_one_an_error():
    # Issue 10, case 3: specks in an empty amount cell of a scan were read as a CJK character and
    # each made an "unreadable amount" error plus sum errors on a clean table.
    rows = [["", "合计", "10.00", "10.00", ""], ["2010301", "行政运行", "10.00", "10.00", "口"]]
    unsure = _with_confidence(_table(rows), (2, 4), 0.41)
    _, findings = validate_tables([unsure])
    assert not [f for f in findings if f.severity == "error"], [(f.rule, f.message) for f in findings]
    [noise] = [f for f in findings if f.rule == "T.NOISE"]
    assert noise.severity == "warning" and noise.actual == "口"
    assert [tuple(c) for c in noise.cells] == [(2, 4)]
    for text, confidence in (("口", 0.95), ("1口", 0.41), ("行政运行", 0.41)):  # sure, a digit, a label
        rows[1][4] = text
        _, findings = validate_tables([_with_confidence(_table(rows), (2, 4), confidence)])
        assert any(f.rule == "T.TEXT" and f.severity == "error" for f in findings), text
        assert not any(f.rule == "T.NOISE" for f in findings), text
