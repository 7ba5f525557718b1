"""CSV and XLSX exports never hand a spreadsheet a formula, and never fail on stored text."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from ocr.contract import Record
from service.exports import to_csv, to_xlsx
from service.text_safety import spreadsheet_safe, unsafe_characters

FORMULAS = ['=HYPERLINK("http://127.0.0.1/x","click")', "+1+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3",
            "\t=1+1", "\r=1+1"]


def _record(name: str, printed: str = "12.50") -> Record:
    return Record(table="t0", form="公开05表", kind="k", row=1, code=None, name=name, level=None, parent=None,
                  values={"合计": printed}, fields={"total": printed}, unit="万元", page=1, cells={})


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_fields_are_text(formula: str) -> None:
    rows = list(csv.reader(io.StringIO(to_csv([_record(formula, formula)]).decode("utf-8-sig"))))
    assert formula not in rows[1] and "'" + formula in rows[1]


@pytest.mark.parametrize("formula", FORMULAS)
def test_xlsx_cells_are_strings_not_formulas(formula: str) -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx([_record(formula, formula)]))).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    # XML stores a CR as LF; what matters is the apostrophe in front
    assert any(isinstance(c.value, str) and c.value.startswith("'")
               and c.value[1:].replace("\n", "\r") == formula.replace("\n", "\r") for c in cells)


def test_negative_amounts_stay_numbers_as_written() -> None:
    rows = list(csv.reader(io.StringIO(to_csv([_record("支出", "-1,200.50")]).decode("utf-8-sig"))))
    assert "-1,200.50" in rows[1]


def test_xlsx_export_survives_control_characters_in_stored_text() -> None:
    data = to_xlsx([_record("a\x00b\x1bc", "1\x0b2")])  # raised IllegalCharacterError (HTTP 500) before
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert any(c.value == "a\ufffdb\ufffdc" for row in sheet.iter_rows() for c in row)


@pytest.mark.parametrize(("text", "bad"), [("a\x00b", ["U+0000"]), ("\x1b[1m", ["U+001B"]),
                                           ("x\r\ny", ["U+000A", "U+000D"]), ("\u202e12", ["U+202E"]),
                                           ("一般公共预算 12.50", [])])
def test_unsafe_characters(text: str, bad: list[str]) -> None:
    assert unsafe_characters(text) == bad


def test_spreadsheet_safe_keeps_ordinary_text() -> None:
    assert spreadsheet_safe("一般公共服务支出") == "一般公共服务支出"
    assert spreadsheet_safe("-") == "-"
