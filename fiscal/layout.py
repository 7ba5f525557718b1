"""Reading a table: grid, header and slots (``fiscal.sheet``), then data lines (``fiscal.lines``).

``analyse`` is memoised only within one caller's ``SheetCache``: a validation reads each table several
times (continuation, checks) and shares its sheets, but never with another validation or thread.
"""

from __future__ import annotations

from fiscal.amounts import unit_factor
from fiscal.kinds import recognise
from fiscal.lines import read_lines
from fiscal.sheet import (
    Grid,
    Sheet,
    build_slots,
    find_header_rows,
    header_text,
    sequence_numbers,
    split_groups,
)
from ocr.contract import Table


class SheetCache:
    """Sheets already read in one validation, by table object and content."""

    def __init__(self) -> None:
        self._sheets: dict[int, tuple[Table, int, Sheet]] = {}

    def get(self, table: Table) -> Sheet:
        key = _fingerprint(table)
        cached = self._sheets.get(id(table))
        if cached is not None and cached[0] is table and cached[1] == key:
            return cached[2]
        sheet = _analyse(table)
        self._sheets[id(table)] = (table, key, sheet)  # the table is kept alive, so its id stays unique
        return sheet


def _fingerprint(table: Table) -> int:
    return hash(
        (
            table.id,
            table.title,
            table.form,
            table.unit,
            table.n_rows,
            table.n_cols,
            tuple(table.notes),
            tuple((c.row, c.col, c.row_span, c.col_span, c.text, c.confidence) for c in table.cells),
        )
    )


def analyse(table: Table, cache: SheetCache | None = None) -> Sheet:
    """Read a table; with a cache, an unchanged table is read once."""
    return cache.get(table) if cache is not None else _analyse(table)


def _analyse(table: Table) -> Sheet:
    grid = Grid(table)
    n_header = find_header_rows(grid)
    kind = recognise(table.title, table.form, header_text(grid, n_header))
    numbers = sequence_numbers(grid, n_header)
    spans = split_groups(grid, n_header, kind)
    groups = [build_slots(grid, n_header, kind, span, numbers) for span in spans]
    sheet = Sheet(table, kind, unit_factor(table.unit), n_header, groups, [])
    read_lines(sheet, grid, spans)
    return sheet
