"""A 行次 column numbers the rows of a form: its numbers are never codes, and a row that prints only
its 行次 (a blank line of the form) gives no record (issue 10, case 6: the bundled 公开01表 sample gave
17 records whose code and name were their 行次)."""

from __future__ import annotations

from fiscal.pipeline import validate
from ocr.contract import Cell, Table

ROWS = [
    ("项目", "行次", "金额", "项目", "行次", "金额"),
    ("栏次", "", "1", "栏次", "", "2"),
    ("一、一般公共预算财政拨款收入", "1", "103.90", "一、一般公共服务支出", "31", "94.81"),
    ("二、政府性基金预算财政拨款收入", "2", "", "二、外交支出", "32", ""),
    ("", "10", "", "十、节能环保支出", "40", "9.09"),
    ("", "11", "", "十一、城乡社区支出", "41", ""),
    ("本年收入合计", "12", "103.90", "本年支出合计", "42", "103.90"),
]


def _form() -> Table:
    top = [Cell(row=0, col=0, col_span=3, text="收入"), Cell(row=0, col=3, col_span=3, text="支出")]
    cells = [Cell(row=r + 1, col=c, text=text, bbox=(c * 100, r * 30, c * 100 + 100, r * 30 + 30))
             for r, row in enumerate(ROWS) for c, text in enumerate(row)]
    return Table(id="t0", page=1, title="收入支出决算总表", form="公开01表", unit="万元",
                 n_rows=len(ROWS) + 1, n_cols=6, cells=top + cells)


def test_row_numbers_are_not_codes_and_blank_form_rows_give_no_record() -> None:
    records = validate([_form()]).records
    assert not [r for r in records if r.code or (r.name or "").isdigit()], \
        [(r.code, r.name) for r in records]
    assert "十、节能环保支出" in {r.name for r in records}
