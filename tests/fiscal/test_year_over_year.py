"""Year over year: the change a report states against last year must lead to last year's figure."""

from __future__ import annotations

from fiscal.yoy import compare_years
from ocr.contract import Extraction, PageInfo, Source


def _report(year: int, lines: list[str]) -> Extraction:
    page = PageInfo(number=1, width_px=100, height_px=100, dpi=72,
                    text=[f"上海市普陀区{year}年区级部门预算", f"{year}年部门预算", *lines])
    return Extraction(source=Source(filename=f"{year}.pdf", sha256="0" * 64, pages=1), pages=[page])


LAST_YEAR = _report(2024, ["2024年,收入预算15634.11万元,其中:财政拨款收入15621.11万元。"])


def test_stated_change_that_leads_to_last_years_figure_agrees() -> None:
    this_year = _report(2025, ["其中:财政拨款收入18,976.76万元,比2024年预算增加3,355.65万元。"])
    findings, checks = compare_years(this_year, LAST_YEAR)
    assert [c.agrees for c in checks] == [True]
    assert findings == []


def test_stated_change_that_misses_last_years_figure_is_an_error() -> None:
    this_year = _report(2025, ["其中:财政拨款收入18,976.76万元,比2024年预算增加3,155.65万元。"])
    findings, checks = compare_years(this_year, LAST_YEAR)
    assert [c.agrees for c in checks] == [False]
    assert [f.rule for f in findings] == ["N.PRIOR"]


def test_reports_not_one_year_apart_are_not_compared() -> None:
    this_year = _report(2026, ["其中:财政拨款收入18,976.76万元,比2025年预算增加3,155.65万元。"])
    assert compare_years(this_year, LAST_YEAR) == ([], [])
