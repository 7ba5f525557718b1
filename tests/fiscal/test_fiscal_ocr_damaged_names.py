"""Class lines whose names carry OCR damage must still count in the 01 table's expenditure total."""

from __future__ import annotations

import pytest

from fiscal.codes import class_code_for_name


@pytest.mark.parametrize(
    ("printed", "code"),
    [("节牛健康支出", "210"), ("外父支出", "202"), ("社会保障和就业支岀", "208"), ("卫生健康支出", "210")],
)
def test_damaged_class_name_finds_its_class(printed: str, code: str) -> None:
    assert class_code_for_name(printed) == code


@pytest.mark.parametrize(
    "printed", ["基本支出", "项目支出", "上缴上级支出", "对附属单位补助支出", "年初结转支出"]
)
def test_non_class_rows_are_not_taken_for_classes(printed: str) -> None:
    assert class_code_for_name(printed) is None
