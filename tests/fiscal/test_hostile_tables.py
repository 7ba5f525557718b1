"""Hostile table geometry and text (schemathesis found a hang via the HTTP API): findings, never
exceptions or hangs. Explicit cases first, then a hypothesis fuzz over random Table objects.

The per-test timeouts and the hypothesis deadline guard against hangs (they are generous, not speed
targets: speed is measured in bench/).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fiscal import RepairPolicy, enrich, validate_tables
from fiscal.screen import MAX_AREA, MAX_COLS, MAX_ROWS, MAX_TEXT
from fiscal.textdoc import build_table
from ocr.contract import Cell, Extraction, Finding, Record, Source, Table

TITLE = "2024年度一般公共预算财政拨款支出决算表"
HEADER = ["科目编码", "科目名称", "合计", "基本支出", "项目支出"]
BODY = [
    ["", "合计", "10.00", "6.00", "4.00"],
    ["2010301", "行政运行", "10.00", "6.00", "4.00"],
]
HANG_GUARD = pytest.mark.timeout(60)


def _good(rows: list[list[str]] | None = None, **update: object) -> Table:
    table = build_table("t0", [HEADER, *(rows if rows is not None else BODY)])
    return table.model_copy(update={"title": TITLE, "unit": "万元", **update})


def _by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


@HANG_GUARD
@pytest.mark.parametrize(
    ("n_rows", "n_cols"),
    [(3, 2_000_000_000), (2_000_000_000, 5), (MAX_ROWS + 1, 5), (3, MAX_COLS + 1), (1000, 101), (-1, 5)],
)
def test_implausible_declared_size_is_refused_with_t_size(n_rows, n_cols):
    hostile = _good(n_rows=n_rows, n_cols=n_cols)
    records, findings = validate_tables([hostile, _good().model_copy(update={"id": "ok"})])
    size = _by_rule(findings, "T.SIZE")
    assert [(f.table, f.severity) for f in size] == [("t0", "error")]
    assert {r.table for r in records} == {"ok"}  # the refused table is not analysed, the other one is


@HANG_GUARD
def test_too_many_cells_is_refused():
    cells = [Cell(row=0, col=0, text="x")] * (MAX_AREA + 1)
    _, findings = validate_tables([Table(id="t0", page=1, n_rows=10, n_cols=10, cells=cells)])
    assert [f.rule for f in findings] == ["T.SIZE"]


@HANG_GUARD
def test_refused_table_is_returned_unchanged_by_enrich():
    hostile = _good(n_cols=2_000_000_000)
    extraction = Extraction(source=Source(filename="x.pdf", sha256="0" * 64, pages=1), tables=[hostile])
    out = enrich(extraction, policy=RepairPolicy.APPLY)
    assert out.tables == [hostile] and out.records == []
    assert [f.rule for f in out.findings] == ["T.SIZE"]


@HANG_GUARD
def test_cells_outside_the_grid_and_negative_indices_are_dropped():
    table = _good()
    stray = [
        Cell(row=-1, col=0, text="x"),
        Cell(row=0, col=-3),
        Cell(row=3, col=0, text="9.99"),
        Cell(row=0, col=5),
    ]
    records, findings = validate_tables([table.model_copy(update={"cells": [*table.cells, *stray]})])
    dropped = [f for f in _by_rule(findings, "T.CELL") if f.severity == "error"]
    assert sorted(tuple(f.cells[0]) for f in dropped) == [(-1, 0), (0, -3), (0, 5), (3, 0)]
    assert [r.code for r in records] == [None, "2010301"]  # the table itself is still read
    assert not [f for f in findings if f.rule.startswith("H") and f.severity == "error"]


@HANG_GUARD
def test_negative_and_huge_spans_are_clipped():
    table = _good()
    cells = [
        c.model_copy(update={"row_span": -4, "col_span": 0}) if (c.row, c.col) == (2, 2) else c
        for c in table.cells
    ]
    cells = [
        c.model_copy(update={"row_span": 2_000_000_000}) if (c.row, c.col) == (2, 0) else c for c in cells
    ]
    records, findings = validate_tables([table.model_copy(update={"cells": cells})])
    clipped = {tuple(f.cells[0]) for f in _by_rule(findings, "T.CELL")}
    assert clipped == {(2, 2), (2, 0)}
    row = next(r for r in records if r.code == "2010301")
    assert row.fields["total"] == "10.00"


@HANG_GUARD
def test_duplicate_cells_keep_the_first_and_are_reported():
    table = _good()
    cells = [*table.cells, Cell(row=2, col=2, text="10.00"), Cell(row=2, col=3, text="7.00")]
    records, findings = validate_tables([table.model_copy(update={"cells": cells})])
    cell_findings = {(tuple(f.cells[0]), f.severity) for f in _by_rule(findings, "T.CELL")}
    assert cell_findings == {((2, 2), "warning"), ((2, 3), "error")}  # other text: an ambiguous reading
    row = next(r for r in records if r.code == "2010301")
    assert row.fields["basic_expenditure"] == "6.00"  # the first of the duplicates is the one read


@HANG_GUARD
def test_overlapping_cells_first_in_reading_order_wins():
    table = _good()
    tall = Cell(row=1, col=3, row_span=2, text="6.00")  # covers (2,3), which has a cell of its own
    wide = Cell(row=2, col=2, col_span=3, text="10.00")  # runs into the tall cell at (2,3)
    replaced = {(1, 3): tall, (2, 2): wide}
    cells = [replaced.get((c.row, c.col), c) for c in table.cells]
    _, findings = validate_tables([table.model_copy(update={"cells": cells})])
    cell_findings = {(tuple(f.cells[0]), f.severity) for f in _by_rule(findings, "T.CELL")}
    assert cell_findings == {
        ((2, 2), "warning"),  # span clipped to 1x1 where it meets the tall cell
        ((2, 3), "error"),  # a cell with text under the tall cell: dropped, reported
    }
    assert any(f.rule == "H05.1" for f in findings)  # the damaged row no longer adds up


@HANG_GUARD
def test_garbage_in_amount_columns_is_t_text():
    table = _good([["", "合计", "10.00", "6.00", "4.00"], ["2010301", "行政运行", "十元", "6.0.0.1", "∞"]])
    _, findings = validate_tables([table])
    flagged = {tuple(f.cells[0]) for f in _by_rule(findings, "T.TEXT")}
    assert flagged == {(2, 2), (2, 3), (2, 4)}


@HANG_GUARD
@pytest.mark.parametrize("where", ["amount", "name", "code", "title", "note", "number"])
def test_hundred_thousand_character_texts(where):
    long_text = {"number": "1." * 50_000 + "x", "code": "2" * 100_000}.get(where, "支出合计" * 25_000)
    rows = [["", "合计", "10.00", "6.00", "4.00"], ["2010301", "行政运行", "10.00", "6.00", "4.00"]]
    update: dict[str, object] = {}
    if where in ("amount", "number"):
        rows[1][3] = long_text
    elif where == "name":
        rows[1][1] = long_text
    elif where == "code":
        rows[1][0] = long_text
    elif where == "title":
        update["title"] = "三公" * 50_000
    else:
        update["notes"] = [long_text]
    records, findings = validate_tables([_good(rows, **update)], narrative=["说明" * 50_000])
    assert all(isinstance(r, Record) for r in records)
    if where in ("amount", "number", "name", "code"):
        long_cells = _by_rule(findings, "T.CELL")
        assert [tuple(f.cells[0]) for f in long_cells] == [(2, {"name": 1, "code": 0}.get(where, 3))]
        # the analysis reads at most MAX_TEXT characters of a cell, so no finding carries the 100k text
        assert all(len(f.message) < MAX_TEXT + 200 and len(f.actual or "") <= MAX_TEXT for f in findings)
    if where in ("amount", "number"):
        assert any(f.rule == "T.TEXT" and tuple(f.cells[0]) == (2, 3) for f in findings)


# ---------------------------------------------------------------------------------------------
# fuzz: random tables (sizes, indices, spans, texts) through validate_tables and enrich

_TEXTS = st.sampled_from(
    [
        "",
        "合计",
        "总计",
        "本年收入合计",
        "行政运行",
        "一般公共服务支出",
        "科目编码",
        "科目名称",
        "基本支出",
        "项目支出",
        "栏次",
        "1",
        "2",
        "201",
        "20103",
        "2010301",
        "30101",
        "10.00",
        "1,234.56",
        "-",
        "0.5",
        "-3.2",
        "1.2.3",
        "NaN",
        "1e400",
        "%%",
        "\x00\ufeff",
        "十元",
        "9" * 60,
        "1." * 50_000 + "x",
        "表" * 100_000,
    ]
)
_TITLES = st.sampled_from(
    [
        None,
        "",
        TITLE,
        "2024年度收入支出决算总表",
        "2024年度收入决算表",
        "2024年度支出决算表",
        "2024年度一般公共预算财政拨款基本支出决算表",
        "2024年度财政拨款“三公”经费支出决算表",
        "2024年收支预算总表",
        "三公" * 50_000,
    ]
)
_INDEX = st.one_of(st.integers(-3, 12), st.sampled_from([2_000_000_000, -2_000_000_000, MAX_ROWS, MAX_COLS]))
_SPAN = st.one_of(st.integers(-2, 4), st.sampled_from([0, 2_000_000_000, -2_000_000_000]))
_SIZE = st.one_of(
    st.integers(0, 14), st.sampled_from([-1, MAX_COLS, MAX_COLS + 1, MAX_ROWS, MAX_ROWS + 1, 2_000_000_000])
)


@st.composite
def tables(draw: st.DrawFn, table_id: str) -> Table:
    cells = draw(
        st.lists(
            st.builds(
                Cell,
                row=_INDEX,
                col=_INDEX,
                row_span=_SPAN,
                col_span=_SPAN,
                text=_TEXTS,
                confidence=st.floats(0, 1),
            ),
            max_size=40,
        )
    )
    return Table(
        id=table_id,
        page=draw(st.integers(-1, 3)),
        title=draw(_TITLES),
        unit=draw(st.sampled_from([None, "万元", "元", "亿元", "单位：千元", ""])),
        n_rows=draw(_SIZE),
        n_cols=draw(_SIZE),
        cells=cells,
        notes=draw(st.lists(_TEXTS, max_size=2)),
    )


@st.composite
def documents(draw: st.DrawFn) -> list[Table]:
    n = draw(st.integers(1, 3))
    return [draw(tables(f"t{i}")) for i in range(n)]


@settings(
    max_examples=120,
    deadline=10_000,  # ms per example: a hang guard, typical examples take a few ms
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(documents())
def test_fuzzed_tables_give_findings_not_exceptions(document):
    records, findings = validate_tables(document, narrative=["2024年度收入合计 abc 万元"])
    assert all(isinstance(r, Record) for r in records)
    assert all(isinstance(f, Finding) for f in findings)
    assert not [f for f in findings if f.rule == "internal"], [f.message_en for f in findings]
    for table in document:
        oversized = (
            table.n_rows > MAX_ROWS or table.n_cols > MAX_COLS or table.n_rows * table.n_cols > MAX_AREA
        )
        if oversized or min(table.n_rows, table.n_cols) < 0:
            assert any(f.rule == "T.SIZE" and f.table == table.id for f in findings)
            assert table.id not in {r.table for r in records}
    for record in records:
        assert all(len(v or "") <= MAX_TEXT for v in record.values.values())


@settings(max_examples=25, deadline=10_000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(documents())
def test_fuzzed_tables_through_enrich(document):
    extraction = Extraction(source=Source(filename="f.pdf", sha256="0" * 64, pages=1), tables=document)
    out = enrich(extraction, policy=RepairPolicy.APPLY)
    assert isinstance(out, Extraction)
    assert not [f for f in out.findings if f.rule == "internal"]


_EDIT_FIELDS = st.sampled_from(["row", "col", "row_span", "col_span", "text", "drop", "duplicate"])


@st.composite
def damaged_tables(draw: st.DrawFn) -> Table:
    """A readable 表05 (header, 合计, three rows) with a few random edits: damage where it matters."""
    table = _good(
        [
            ["", "合计", "30.00", "18.00", "12.00"],
            ["2010301", "行政运行", "10.00", "6.00", "4.00"],
            ["2010302", "一般行政管理事务", "10.00", "6.00", "4.00"],
            ["2080505", "机关事业单位基本养老保险缴费支出", "10.00", "6.00", "4.00"],
        ]
    )
    cells = list(table.cells)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(cells) - 1))
        what = draw(_EDIT_FIELDS)
        if what == "drop":
            cells.pop(index)
        elif what == "duplicate":
            cells.append(cells[index])
        elif what == "text":
            cells[index] = cells[index].model_copy(update={"text": draw(_TEXTS)})
        else:
            value = draw(_SPAN if what.endswith("span") else _INDEX)
            cells[index] = cells[index].model_copy(update={what: value})
    size = draw(st.sampled_from([(6, 5), (6, 6), (10, 5), (5, 5), (6, 2_000_000_000)]))
    return table.model_copy(update={"cells": cells, "n_rows": size[0], "n_cols": size[1]})


@settings(max_examples=150, deadline=10_000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(damaged_tables())
def test_damaged_real_tables_give_findings_not_exceptions(table):
    records, findings = validate_tables([table])
    assert not [f for f in findings if f.rule == "internal"], [f.message_en for f in findings]
    if table.n_cols > MAX_COLS:
        assert [f.rule for f in findings] == ["T.SIZE"] and records == []
    else:
        assert {r.table for r in records} <= {table.id}
