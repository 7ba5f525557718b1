"""Body rows of a sheet -> Lines (label, code, amounts aligned to the slots)."""

from __future__ import annotations

import re
from decimal import Decimal

from fiscal.amounts import AmountKind, amount_in_cell, clean, looks_numeric, parse_amount
from fiscal.codes import class_code_for_name
from fiscal.sheet import CJK_RE, CODE_RE, Amount, Grid, Line, Sheet, Slot, is_sequence_row, strip_ordinal

_NOTHING = (AmountKind.BLANK, AmountKind.NOISE)  # a row of these and no label is not a line

_SHIFTS = (0, 1, -1, 2, -2, 3)
_TOTAL_LABELS = ("合计", "总计", "小计")
_LEVEL_WORDS = ("类", "款", "项")
_FOOTER_RE = re.compile(r"(人员经费|公用经费)合计")

# summary rows: (key, words that must all occur in the compact label without ordinal)
_SUMMARY_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("income_total", ("本年收入合计",)),
    ("expenditure_total", ("本年支出合计",)),
    ("grand_total", ("总计",)),
    ("use_surplus", ("使用非财政拨款结余",)),
    ("distribution", ("结余分配",)),
    ("carry_in", ("年初",)),
    ("carry_in", ("上年结转",)),
    ("carry_out", ("年末",)),
    ("carry_out", ("年终结转",)),
    ("income_total", ("本年收入",)),
    ("expenditure_total", ("本年支出",)),
    ("special_account", ("财政专户",)),
    ("superior", ("上级补助",)),
    ("operating", ("经营收入",)),
    ("business", ("事业收入",)),
    ("subsidiary", ("附属单位",)),
    ("other", ("其他收入",)),
    ("gp", ("一般公共预算",)),
    ("gf", ("政府性基金",)),
    ("soe", ("国有资本经营",)),
)


def summary_key(label: str, section: str | None) -> str | None:
    compact = strip_ordinal(label).replace('"', "")
    if not compact:
        return None
    if compact.endswith("支出") and "合计" not in compact:
        code = class_code_for_name(compact)
        if code:
            return f"class:{code}"
    for key, words in _SUMMARY_KEYS:
        if all(w in compact for w in words):
            if key in ("gp", "gf", "soe") and section:
                return f"{section}_{key}"
            return key
    return None


def _amount(sheet: Sheet, grid: Grid, r: int, c: int, slot: Slot) -> Amount:
    text = grid.own_text(r, c) if c >= 0 else ""
    parsed = amount_in_cell(text, grid.confidence(r, c))  # no column: blank text, confidence 1
    value = parsed.value * sheet.factor if parsed.value is not None else None
    # one unit of the last printed digit; 万元 tables count as printed to the fen (0.01) at least, 元
    # budgets printed in whole 元 are exact to 1 元 (0.0001 万元), not to 0.01 元
    digits = parsed.decimals if sheet.factor < 1 else max(parsed.decimals, 2)
    quantum = Decimal(1).scaleb(-digits) * sheet.factor
    return Amount(
        sheet.id, r, c, text, parsed, value, grid.confidence(r, c), quantum, slot.header, slot.field
    )


def _split_code_name(
    cells: list[tuple[int, str]],
) -> tuple[str | None, list[tuple[int, int]], str, list[int]]:
    """Code parts (类|款|项 concatenated), their columns, the name, and the columns of parts printed
    without their leading zero ('301 | 2' for 30102: spreadsheet exports drop it)."""
    code_parts: list[str] = []
    code_cols: list[int] = []
    padded: list[int] = []
    name = ""
    for c, text in cells:
        if text in _LEVEL_WORDS:  # '类|款|项 | 合计': the level header shares the total's row
            continue
        if not name and CODE_RE.match(text):
            code_parts.append(text)
            code_cols.append(c)
        elif not name and code_parts and len(text) == 1 and text.isdigit():
            code_parts.append("0" + text)
            code_cols.append(c)
            padded.append(c)
        elif CJK_RE.search(text) and not name:
            name = text
    code = "".join(code_parts) or None
    return code, [(-1, c) for c in code_cols], name, padded


# 行次/序号 head a column of row numbers. (栏次 is the label of the row that numbers the columns.)
_NUMBERING_WORDS = ("行次", "序号")


def _numbering_columns(grid: Grid, header_rows: int, span: tuple[int, int]) -> set[int]:
    """Columns headed 行次/序号: their numbers count rows, they are never codes or names."""
    return {c for c in range(*span)
            if any(grid.text(r, c).replace(" ", "") in _NUMBERING_WORDS for r in range(header_rows))}


def _find_shift(positions: list[int], slot_cols: set[int]) -> int | None:
    for shift in _SHIFTS:
        if all(p + shift in slot_cols for p in positions):
            return shift
    return None


def _read_row(
    sheet: Sheet,
    grid: Grid,
    r: int,
    *,
    group: int,
    span: tuple[int, int],
    slots: list[Slot],
    allow_shift: bool,
) -> Line | None:
    if not slots:
        return None
    first_slot = min(s.col for s in slots)
    texts = {c: grid.own_text(r, c) for c in range(*span)}
    numbering = _numbering_columns(grid, sheet.header_rows, span)
    label_cells = _name_cells(texts, first_slot, {s.col for s in slots}, numbering)
    code, code_cells, name, padded = _split_code_name(label_cells)
    if not code and not name and numbering:
        return None  # a blank row of a form: only its 行次 number is printed
    if padded:
        sheet.problems.append(
            ("unpadded_code", f"第{r + 1}行编码{code}的款/项缺少前导零", [(r, c) for c in padded])
        )
    code_cols = [c for _, c in code_cells]
    row_no, numeric = _row_number_and_amounts(texts, label_cells, name, code_cols, span[0], first_slot)
    shift = _row_shift(sheet, r, numeric, {s.col for s in slots}) if allow_shift else 0
    line = Line(sheet.id, r, group, name or (code or ""), code=code, code_cells=[(r, c) for c in code_cols],
                name=name or None, row_no=row_no)
    line.is_total = _is_total_label(name)
    for slot in slots:
        line.amounts.append(_amount(sheet, grid, r, slot.col - shift, slot))
    return line


def _is_total_label(name: str | None) -> bool:
    return any(name == t or name.replace(" ", "") == t for t in _TOTAL_LABELS) if name else False


def _row_number_and_amounts(  # noqa: PLR0917  (one row's reading so far)
    texts: dict[int, str], label_cells: list[tuple[int, str]], name: str | None, code_cols: list[int],
    first_col: int, first_slot: int,
) -> tuple[str | None, list[int]]:
    """The row's printed number (a short integer among the label cells) and its amount columns: the
    numeric cells right of the name (or code), the row number itself excepted."""
    row_no = next((t for c, t in label_cells if t.isdigit() and c not in code_cols and len(t) <= 2), None)
    name_col = max((c for c, t in label_cells if t == name), default=first_col - 1) if name else None
    after = name_col if name_col is not None else max(code_cols, default=first_col - 1)
    numeric = [c for c, t in texts.items()
               if t and c > after and looks_numeric(t) and not (t == row_no and c < first_slot)]
    return row_no, numeric


def _name_cells(
    texts: dict[int, str], first_slot: int, slot_cols: set[int], numbering: set[int]
) -> list[tuple[int, str]]:
    """Cells that may hold the code or name: text before the amounts (or not a number), off the slots."""
    return [(c, t) for c, t in texts.items()
            if t and (c < first_slot or not looks_numeric(t)) and c not in slot_cols and c not in numbering]


def _row_shift(sheet: Sheet, r: int, numeric: list[int], slot_cols: set[int]) -> int:
    """Columns to shift a row's amounts by to land on the slots; 0 (and a problem) when none fits."""
    if not numeric:
        return 0
    found = _find_shift(numeric, slot_cols)
    if found is None:
        sheet.problems.append(("misaligned_row", f"第{r + 1}行金额与栏次不对齐", [(r, c) for c in numeric]))
        return 0
    return found


def _is_repeated_header(texts: list[str], header_words: set[str]) -> bool:
    values = [t for t in texts if t]
    if not values or any(
        parse_amount(t).kind is AmountKind.NUMBER and ("." in t or "," in t) for t in values
    ):
        return False
    return is_sequence_row(texts) or all(t in header_words or t.isdigit() for t in values)


def _footer_lines(sheet: Sheet, grid: Grid, r: int) -> list[Line]:
    lines: list[Line] = []
    texts = grid.row_texts(r)
    labels = [c for c, t in enumerate(texts) if _FOOTER_RE.search(t)]
    for i, c in enumerate(labels):
        stop = labels[i + 1] if i + 1 < len(labels) else grid.n_cols
        value_col = next((k for k in range(c + 1, stop) if looks_numeric(texts[k])), c + 1)
        key = "personnel_total" if texts[c].startswith("人员") else "public_total"
        slot = Slot(value_col, texts[c], "amount")
        line = Line(sheet.id, r, 0, texts[c], key=key, is_total=True, name=texts[c])
        line.amounts.append(_amount(sheet, grid, r, min(value_col, grid.n_cols - 1), slot))
        lines.append(line)
    return lines


def read_lines(sheet: Sheet, grid: Grid, spans: list[tuple[int, int]]) -> None:
    header_words = {grid.text(r, c) for r in range(sheet.header_rows) for c in range(grid.n_cols)}
    header_words |= {"类", "款", "项", "栏次", "行次", "栏次合计"}
    layout = sheet.kind.layout
    sections: dict[int, str | None] = {}
    seen_totals: dict[tuple[int, str], list[str]] = {}
    for r in range(sheet.header_rows, grid.n_rows):
        texts = grid.row_texts(r)
        if not any(texts):
            continue
        if _is_repeated_header(texts, header_words):
            sheet.problems.append(("repeated_header", f"第{r + 1}行为重复表头（跨页）", []))
            continue
        if layout == "econ_groups" and any(_FOOTER_RE.search(t) for t in texts):
            sheet.lines.extend(_footer_lines(sheet, grid, r))
            continue
        for g, (span, slots) in enumerate(zip(spans, sheet.groups, strict=True)):
            allow_shift = layout in ("coded", "single_row") and len(spans) == 1
            line = _read_row(sheet, grid, r, group=g, span=span, slots=slots, allow_shift=allow_shift)
            if line is None or (
                not line.label and all(a.parsed.kind in _NOTHING for a in line.amounts)
            ):
                continue
            if layout == "summary":
                _key_summary_line(line, sections)
            if line.is_total and layout in ("coded", "listing") and _repeats_total(line, seen_totals):
                sheet.problems.append(("repeated_total", f"第{r + 1}行合计为跨页重复行", []))
                continue
            sheet.lines.append(line)


def _key_summary_line(line: Line, sections: dict[int, str | None]) -> None:
    """A summary table's row key; 上年结转/年末结转 open a section that keys the rows below them."""
    g = line.group
    line.key = summary_key(line.label, sections.get(g))
    if line.key in ("carry_in", "carry_out", "income_total"):
        sections[g] = line.key if line.key != "income_total" else None
    line.is_total = line.key in ("income_total", "expenditure_total", "grand_total")


def _repeats_total(line: Line, seen_totals: dict[tuple[int, str], list[str]]) -> bool:
    """Is this total row the one printed just before with the same amounts (repeated at a page break)?"""
    signature = [clean(a.text) for a in line.amounts]
    previous = seen_totals.setdefault((line.group, line.label), [])
    if previous == signature:
        return True
    seen_totals[(line.group, line.label)] = signature
    return False
