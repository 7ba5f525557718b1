"""Sanity limits on caller-supplied tables (POST /v1/validate, `fiscalocr validate`).

The contract types allow any integers; a table claiming two billion columns, or a cell outside its
grid, would make the fiscal layer build enormous grids. Such input is refused up front with 422.
"""

from __future__ import annotations

from typing import Any

from ocr.contract import Table
from service.errors import ErrorCode, ServiceError

MAX_TABLES = 2000
MAX_GRID_SIDE = 5000
MAX_GRID_CELLS = 200_000
MAX_TEXT = 10_000


def check_tables(tables: list[Table]) -> None:
    problems: list[dict[str, Any]] = []
    if len(tables) > MAX_TABLES:
        problems.append(_problem(("tables",), f"at most {MAX_TABLES} tables"))
    for index, table in enumerate(tables[:MAX_TABLES]):
        problems.extend(_table_problems(index, table))
        if len(problems) >= 20:
            break
    if problems:
        raise ServiceError(ErrorCode.validation_error, "tables are outside the accepted limits",
                           detail=problems[:20])


def _table_problems(index: int, table: Table) -> list[dict[str, Any]]:
    where = ("tables", index)
    if not (1 <= table.n_rows <= MAX_GRID_SIDE and 1 <= table.n_cols <= MAX_GRID_SIDE):
        return [_problem(where, f"n_rows and n_cols must be 1..{MAX_GRID_SIDE}")]
    if table.n_rows * table.n_cols > MAX_GRID_CELLS or len(table.cells) > table.n_rows * table.n_cols:
        return [_problem(where, f"at most {MAX_GRID_CELLS} grid cells, and no more cells than the grid")]
    problems = []
    if table.page < 1:
        problems.append(_problem((*where, "page"), "page numbers start at 1"))
    for number, cell in enumerate(table.cells):
        inside = (cell.row >= 0 and cell.col >= 0 and cell.row_span >= 1 and cell.col_span >= 1
                  and cell.row + cell.row_span <= table.n_rows and cell.col + cell.col_span <= table.n_cols)
        if not inside:
            problems.append(_problem((*where, "cells", number), "cell lies outside its table's grid"))
        elif len(cell.text) > MAX_TEXT:
            problems.append(_problem((*where, "cells", number, "text"), f"at most {MAX_TEXT} characters"))
        if len(problems) >= 20:
            break
    return problems


def _problem(loc: tuple[Any, ...], message: str) -> dict[str, Any]:
    return {"loc": ["body", *(str(part) for part in loc)], "msg": message, "type": "value_error"}
