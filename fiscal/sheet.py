"""A recognised table's grid and what is read from it: header rows, column groups, amount slots, and
the types the checks work on (Sheet, Line, Amount). ``fiscal.layout.analyse`` composes the reading.

Positions are never assumed: amount columns come from the 栏次 row or the header words, and a
data row whose amounts sit one merged cell off (seed 000 表02) is re-aligned onto the slots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from fiscal.amounts import AmountKind, ParsedAmount, clean, parse_amount
from fiscal.kinds import KindSpec
from fiscal.screen import MAX_TEXT
from ocr.contract import Cell, Table

LABEL_LEAVES = {
    "项目",
    "科目名称",
    "科目编码",
    "编码",
    "名称",
    "行次",
    "类",
    "款",
    "项",
    "单位名称",
    "单位编码",
    "单位代码",
    "栏次",
}
CODE_RE = re.compile(r"^\d{2,9}$")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_ORDINAL_RE = re.compile(r"^([（(]?[一二三四五六七八九十廿]+[)）、.]|[（(]\d+[)）]|\d+[、.])")
_SEQUENCE_ROW_MAX = 40


@dataclass
class Amount:
    table: str
    row: int
    col: int
    text: str
    parsed: ParsedAmount
    value: Decimal | None  # 万元; None for blank, dash and invalid
    confidence: float
    quantum: Decimal  # one unit of the last printed digit, in 万元
    header: str
    field: str | None

    @property
    def cell(self) -> tuple[int, int]:
        return (self.row, self.col)


@dataclass
class Line:
    table: str
    row: int
    group: int
    label: str
    code: str | None = None
    code_cells: list[tuple[int, int]] = field(default_factory=list)
    name: str | None = None
    key: str | None = None
    row_no: str | None = None
    is_total: bool = False
    amounts: list[Amount] = field(default_factory=list)

    def get(self, field_id: str) -> Amount | None:
        for amount in self.amounts:
            if amount.field == field_id:
                return amount
        return None


@dataclass
class Slot:
    col: int
    header: str
    field: str | None
    number: str | None = None  # 栏次 as printed


@dataclass
class Sheet:
    table: Table
    kind: KindSpec
    factor: Decimal
    header_rows: int
    groups: list[list[Slot]]
    lines: list[Line]
    problems: list[tuple[str, str, list[tuple[int, int]]]] = field(default_factory=list)  # (code, msg, cells)

    @property
    def id(self) -> str:
        return self.table.id


class Grid:
    """Dense view of a table's cells; covered positions point at their spanning cell.

    The size comes from the cells present, never from the declared ``n_rows``/``n_cols`` (screened
    tables keep their cells inside the declared grid, see fiscal.screen); cell text is read cleaned
    and capped once.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self.owner: dict[tuple[int, int], Cell] = {}
        self._clean: dict[int, str] = {}
        for cell in table.cells:
            self._clean[id(cell)] = clean(cell.text[:MAX_TEXT])
            for r in range(cell.row, cell.row + max(1, cell.row_span)):
                for c in range(cell.col, cell.col + max(1, cell.col_span)):
                    self.owner.setdefault((r, c), cell)
        self.n_rows = max((r + 1 for r, _ in self.owner), default=0)
        self.n_cols = max((c + 1 for _, c in self.owner), default=0)

    def text(self, r: int, c: int) -> str:
        cell = self.owner.get((r, c))
        return self._clean[id(cell)] if cell else ""

    def own_text(self, r: int, c: int) -> str:
        """Text only at a cell's own top-left position (body rows: no span copies)."""
        cell = self.owner.get((r, c))
        return self._clean[id(cell)] if cell and cell.row == r and cell.col == c else ""

    def confidence(self, r: int, c: int) -> float:
        cell = self.owner.get((r, c))
        return cell.confidence if cell else 1.0

    def row_texts(self, r: int) -> list[str]:
        return [self.own_text(r, c) for c in range(self.n_cols)]


def strip_ordinal(label: str) -> str:
    return _ORDINAL_RE.sub("", clean(label), count=1)


def _is_number_cell(text: str) -> bool:
    parsed = parse_amount(text)
    return parsed.kind is AmountKind.NUMBER and ("." in text or "," in text)


def is_sequence_row(texts: list[str]) -> bool:
    """栏次 / 行次 numbering rows: '栏次', or only small integers in order."""
    values = [t for t in texts if t]
    if not values:
        return False
    if any(t.startswith(("栏次", "行次")) for t in values):
        return all(t in ("栏次", "行次", "栏次合计", "类", "款", "项") or t.isdigit() for t in values)
    numbers = [int(t) for t in values if t.isdigit()]
    return (
        len(numbers) == len(values)
        and len(numbers) >= 2
        and numbers == sorted(numbers)
        and max(numbers) <= _SEQUENCE_ROW_MAX
    )


def is_data_row(texts: list[str]) -> bool:
    if is_sequence_row(texts):
        return False
    if any(_is_number_cell(t) for t in texts):
        return True
    has_code = any(CODE_RE.match(t) and len(t) in (3, 5, 6, 7) for t in texts)
    has_name = any(CJK_RE.search(t) for t in texts)
    return has_code and has_name


def header_text(grid: Grid, n_header: int) -> str:
    return "/".join(grid.text(r, c) for r in range(n_header) for c in range(grid.n_cols))


def is_blank_total_row(texts: list[str]) -> bool:
    """A 合计/总计 row whose amounts are all blank or printed (an empty template's total row)."""
    values = [t.replace(" ", "") for t in texts if t]
    return bool(values) and values[0] in ("合计", "总计") and all(
        parse_amount(t).kind is not AmountKind.INVALID for t in values[1:])


def find_header_rows(grid: Grid) -> int:
    """Rows above the first data row; a blank total row right above data rows is data too."""
    for r in range(grid.n_rows):
        texts = grid.row_texts(r)
        if is_data_row(texts):
            return r
        if r + 1 < grid.n_rows and is_blank_total_row(texts) and is_data_row(grid.row_texts(r + 1)):
            return r
    return grid.n_rows


def column_path(grid: Grid, n_header: int, c: int) -> str:
    parts: list[str] = []
    for r in range(n_header):
        text = grid.text(r, c)
        if not text or text.isdigit() or text in ("栏次", "行次", "栏次合计") or text in parts:
            continue
        parts.append(text)
    return "/".join(parts)


def is_label_path(path: str) -> bool:
    if not path:
        return True
    leaf = path.rsplit("/", maxsplit=1)[-1]
    if "功能分类" in leaf or "经济分类" in leaf or leaf in ("项目", "科目"):
        return True
    return (
        leaf in LABEL_LEAVES
        or "科目编码" in leaf
        or "科目名称" in leaf
        or leaf.endswith("编码")
        or (leaf in ("收入", "支出", "收入", "人员经费", "公用经费") and path.count("/") == 0)
    )


def sequence_numbers(grid: Grid, n_header: int) -> dict[int, str]:
    for r in range(n_header - 1, -1, -1):
        texts = [grid.own_text(r, c) for c in range(grid.n_cols)]
        if is_sequence_row(texts):
            return {c: t for c, t in enumerate(texts) if t.isdigit()}
    return {}


def split_groups(grid: Grid, n_header: int, kind: KindSpec) -> list[tuple[int, int]]:
    """Column ranges of side-by-side blocks (收入|支出, three 经济分类 blocks); one range otherwise."""
    if kind.layout not in ("summary", "econ_groups"):
        return [(0, grid.n_cols)]
    starts: list[int] = []
    seen_amount = True
    for c in range(grid.n_cols):
        path = column_path(grid, n_header, c)
        leaf = path.split("/")[-1] if path else ""
        is_start = leaf in ("项目", "项目名称") or ("科目编码" in leaf) or leaf == "类"
        if is_start and seen_amount:
            starts.append(c)
            seen_amount = False
        elif path and not is_label_path(path):
            seen_amount = True
    if not starts:
        return [(0, grid.n_cols)]
    starts[0] = 0
    return [(s, e) for s, e in zip(starts, [*starts[1:], grid.n_cols], strict=True)]


def build_slots(
    grid: Grid, n_header: int, kind: KindSpec, span: tuple[int, int], numbers: dict[int, str]
) -> list[Slot]:
    cols = range(*span)
    paths = {c: column_path(grid, n_header, c) for c in cols}
    amount_cols = [c for c in cols if not is_label_path(paths[c])]
    numbered = [c for c in cols if c in numbers]
    labels: list[str] = []
    for c in amount_cols:
        if not labels or labels[-1] != paths[c]:
            labels.append(paths[c])
    slot_cols = numbered or amount_cols
    if numbered and len(labels) == len(numbered):
        headers = labels
    else:
        headers = [paths[c] or (paths.get(c - 1) or f"栏{numbers.get(c, c)}") for c in slot_cols]
    slots = [Slot(c, h, None, numbers.get(c)) for c, h in zip(slot_cols, headers, strict=True)]
    _assign_fields(slots, kind)
    if kind.layout == "listing":
        slots = [s for s in slots if s.field]
    return slots


def _assign_fields(slots: list[Slot], kind: KindSpec) -> None:
    if kind.layout in ("summary",):
        summary_ids = (
            ("total", ("小计", "合计")),
            ("general_public", ("一般公共预算",)),
            ("gov_fund", ("政府性基金",)),
            ("soe_capital", ("国有资本",)),
        )
        if len(slots) == 1:
            slots[0].field = "amount"
            return
        for slot in slots:
            for fid, words in summary_ids:
                if any(w in slot.header for w in words) and fid not in {s.field for s in slots}:
                    slot.field = fid
                    break
        return
    if kind.layout == "econ_groups":
        for slot in slots:
            slot.field = "amount"
        return
    used: set[str] = set()
    for slot in slots:
        for spec in kind.columns:
            if spec.id not in used and spec.matches(slot.header):
                slot.field = spec.id
                used.add(spec.id)
                break
