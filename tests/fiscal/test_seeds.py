"""Seeds parsed from their text: identities hold; the documented narrative slips (REFERENCE §4) are found."""

from __future__ import annotations

import re

import pytest

import fiscal
from fiscal.layout import analyse

TABLE_IDENTITY = re.compile(r"^(H\d|B\d|X\d)")


@pytest.fixture(scope="module")
def results(seed_text):
    return {seed: fiscal.validate_text_document(seed_text(seed)) for seed in ("000", "001", "002", "004")}


@pytest.mark.parametrize("seed", ["000", "001"])
def test_table_identities_hold(results, seed):
    errors = [f for f in results[seed].findings if f.severity == "error" and TABLE_IDENTITY.match(f.rule)]
    assert errors == []


def test_all_nine_final_tables_recognised(results):
    kinds = {analyse(t).kind.id for t in results["000"].tables}
    for number in ("01", "02", "03", "04", "05", "06", "07", "08", "09"):
        assert any(k.startswith(f"final_{number}") for k in kinds), number


def test_budget_tables_recognised_and_split_table_joined(results):
    kinds = [analyse(t).kind.id for t in results["001"].tables]
    for kind in (
        "budget_01_summary",
        "budget_03_expenditure",
        "budget_04_appropriation_summary",
        "budget_05_general_public_function",
        "budget_06_general_public_unit",
        "budget_07_basic_economic",
        "budget_08_three_public",
        "budget_12_procurement",
        "budget_13_purchase_services",
        "perf_overall_target",
    ):
        assert kind in kinds, kind
    assert kinds.count("budget_07_basic_economic") == 1  # 预算07 printed in two blocks, joined
    assert any(f.rule == "T.JOIN" for f in results["001"].findings)


def test_records_have_codes_levels_and_provenance(results):
    records = [r for r in results["001"].records if r.kind == "budget_05_general_public_function"]
    row = next(r for r in records if r.code == "2080208")
    assert row.level == "项" and row.parent == "20802"
    assert row.fields["total"] == "571.07" and row.fields["project_expenditure"] == "269.94"
    assert row.values["基本支出/人员经费"] == "267.53"
    assert "total" in row.cells and row.unit == "万元"


def _has(findings, rule, *words):
    return any(f.rule == rule and all(w in f.message for w in words) for f in findings)


SLIPS = {
    "000-1 wrong year 2023": ("000", "N.YEAR", ("2023",)),
    "000-2 garbled unit 万元 103.9 元": ("000", "N.UNIT", ("万元 103.9 元",)),
    "000-3 item 2080505 13.49 vs 13.15": ("000", "N.ITEM", ("13.49", "13.15")),
    "000-4 行政单位医疗 named, table has 事业单位医疗": ("000", "N.ITEM", ("行政单位医疗", "事业单位医疗")),
    "000-5 人员经费 93.3 vs 93.42": ("000", "N.RESTATE", ("人员经费", "93.42")),
    "000-6 share 15.7% should be 15.64%": ("000", "N.SHARE", ("15.64",)),
    "000-7 perf table 人员类 93.3 vs 93.42": ("000", "P14.4", ("人员类",)),
    "000-8 prior year 71.87 vs 71.86": ("000", "N.PRIOR", ("71.86", "71.87")),
    "000-9 econ vs function S06.4": ("000", "S06.4", ("30108",)),
    "001-1 收入预算总表 listed but missing": ("001", "N.TOC", ("收入预算总表",)),
    "001-1 项目支出预算表 listed but missing": ("001", "N.TOC", ("项目支出预算表",)),
    "001-2 财政拨款收支总预算 3675.84 vs 2875.84": ("001", "N.RESTATE", ("3675.84", "2875.84")),
    "001-3 社会保障和就业支出 1565.52 vs 765.52": ("001", "N.RESTATE", ("1565.52", "765.52")),
    "001-4 机关运行经费 7.75% should be 6.71%": ("001", "N.CHANGE", ("6.71", "7.75")),
    "001-5 单位资金 413%": ("001", "P14.2", ("413%",)),
    "001-6 project items 43.97 vs 50.97": ("001", "P14.5", ("43.97", "50.97")),
    "001-7 prior-year base 3113.09 vs 3141.69": ("001", "N.PRIOR", ("3113.09", "3141.69")),
    "002-1 shares 42.88/57.12": ("002", "P14.2", ("42.88%",)),
    "004-1 tables only images (listed, unverifiable)": ("004", "N.TOC", ("收入支出决算总表",)),
    "004-2 收支总计 303.37 vs 303.36": ("004", "N.TOTAL", ("303.37", "303.36")),
    "004-3 增长 23.97% should be 23.99%": ("004", "N.CHANGE", ("23.99", "23.97")),
    "004-4 items sum 287.15 vs 287.14": ("004", "N.SUM", ("287.15", "287.14")),
    "004-5 人员经费 items 247.25 vs 247.23": ("004", "N.SUM", ("247.25", "247.23")),
    "004-6 款 name 机关事业单位养老支出 and merged items": ("004", "N.ITEM", ("机关事业单位养老支出",)),
}


@pytest.mark.parametrize("slip", sorted(SLIPS))
def test_documented_slip_found(results, slip):
    seed, rule_id, words = SLIPS[slip]
    assert _has(results[seed].findings, rule_id, *words), slip
