"""Shared helpers for the fiscal tests: money-cell populations and cell edits."""

from __future__ import annotations

from fiscal.amounts import AmountKind
from fiscal.pipeline import Validation
from fiscal.sheet import Amount
from ocr.contract import Table

MONEY_FAMILIES = ("final", "budget")


def money_cells(result: Validation) -> list[Amount]:
    """Every printed amount of the recognised final-account / budget tables."""
    out = []
    for sheet in result.sheets:
        if sheet.kind.family not in MONEY_FAMILIES:
            continue
        for line in sheet.lines:
            out.extend(a for a in line.amounts if a.parsed.kind is AmountKind.NUMBER and a.col >= 0)
    return out


def with_cell(
    tables: list[Table], table_id: str, cell: tuple[int, int], text: str, confidence: float | None = None
) -> list[Table]:
    out = []
    for table in tables:
        if table.id != table_id:
            out.append(table)
            continue
        cells = []
        for original in table.cells:
            if (original.row, original.col) == cell:
                update: dict[str, object] = {"text": text}
                if confidence is not None:
                    update["confidence"] = confidence
                cells.append(original.model_copy(update=update))
            else:
                cells.append(original)
        out.append(table.model_copy(update={"cells": cells}))
    return out


def blamed(findings: list, table_id: str, cell: tuple[int, int]) -> bool:
    return any(f.table == table_id and tuple(cell) in [tuple(c) for c in f.cells] for f in findings)
