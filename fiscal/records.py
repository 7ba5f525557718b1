"""Sheets -> contract Records: one per data line, amounts in 万元 as decimal strings."""

from __future__ import annotations

from fiscal import codes
from fiscal.amounts import WAN, AmountKind, fmt
from fiscal.sheet import Amount, Line, Sheet
from ocr.contract import Record


def _printed(amount: Amount) -> str | None:
    if amount.parsed.kind is AmountKind.DASH:
        return "-"
    if amount.parsed.kind is AmountKind.NUMBER:
        return fmt(amount.value)
    return None


def _level(line: Line, system: str) -> tuple[str | None, str | None]:
    if not line.code:
        return None, None
    if system == "unit":
        return ("部门" if len(line.code) == 3 else "单位"), codes.parent_of(line.code, "unit")
    level = codes.level_of(
        line.code, system if system in (codes.FUNCTION, codes.ECONOMIC) else codes.FUNCTION
    )
    return level, codes.parent_of(line.code, system)


def line_record(sheet: Sheet, line: Line) -> Record:
    level, parent = _level(line, sheet.kind.code_system)
    values: dict[str, str | None] = {}
    fields: dict[str, str | None] = {}
    cells: dict[str, tuple[int, int]] = {}
    for amount in line.amounts:
        printed = _printed(amount)
        values[amount.header or f"col{amount.col}"] = printed
        if amount.field:
            fields[amount.field] = printed
            if amount.col >= 0:
                cells[amount.field] = amount.cell
    for i, cell in enumerate(line.code_cells):
        cells[f"code{i}" if len(line.code_cells) > 1 else "code"] = cell
    return Record(
        table=sheet.id,
        form=sheet.table.form,
        kind=sheet.kind.id,
        row=line.row,
        code=line.code,
        name=line.name or line.label or None,
        level=level,
        parent=parent,
        values=values,
        fields=fields,
        unit=WAN,
        page=sheet.table.page,
        cells=cells,
    )


def sheet_records(sheet: Sheet) -> list[Record]:
    return [line_record(sheet, line) for line in sheet.lines]
