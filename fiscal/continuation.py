"""Join tables continued on the next page: the one place that decides continuation.

A table continues on the next page when its producer linked it (``Table.continues``), when the first
table of the next page has no title or form and the same column geometry (a link by layout, from
any reader's boxes), or when the next table reads as the same kind of table (inference, below).

A continuation has no title of its own (or repeats the same one), the same number of columns and
no 合计 row of its own; repeated header rows and a repeated 合计 are dropped when the joined grid is
read (fiscal.lines). The join is proved with the totals where they exist.
"""

from __future__ import annotations

import logging

from fiscal.amounts import clean
from fiscal.findings import FindingKind
from fiscal.kinds import kind_from_title
from fiscal.layout import SheetCache
from fiscal.screen import MAX_AREA, MAX_ROWS
from ocr.contract import Cell, Finding, Table

log = logging.getLogger(__name__)
JOINED = FindingKind("T.JOIN", "info", "续表合并", "continuation joined",
                     "the first table of a page against the table the page before ends with: an explicit "
                     "link, or no other title, the same columns and kind, no new 合计 on top: joined")


# Column boundaries of a continued table may differ by this fraction of its width (rasterisation and
# deskew shift them by a few pixels, never by a column).
GEOMETRY_TOLERANCE = 0.02


def _column_edges(table: Table) -> list[float]:
    """Left edge of every column, relative to the table's width (0..1)."""
    x0, _, x1, _ = table.bbox
    width = max(1, x1 - x0)
    edges: dict[int, int] = {}
    for cell in table.cells:
        edges[cell.col] = min(edges.get(cell.col, cell.bbox[0]), cell.bbox[0])
    return [(edges[c] - x0) / width for c in sorted(edges)]


def _same_grid_on_next_page(last: Table, candidate: Table) -> bool:
    """``candidate`` opens the next page untitled, with ``last``'s columns at the same places."""
    if candidate.page != last.page + 1 or candidate.title or candidate.form:
        return False
    if candidate.n_cols != last.n_cols:
        return False
    edges_a, edges_b = _column_edges(last), _column_edges(candidate)
    if len(edges_a) != len(edges_b):
        return False
    width_a, width_b = last.bbox[2] - last.bbox[0], candidate.bbox[2] - candidate.bbox[0]
    if abs(width_a - width_b) > GEOMETRY_TOLERANCE * max(width_a, width_b, 1):
        return False
    return all(abs(a - b) <= GEOMETRY_TOLERANCE for a, b in zip(edges_a, edges_b, strict=True))


def _same_title(a: Table, b: Table) -> bool:
    if not b.title:
        return True
    return bool(a.title) and clean(a.title or "") == clean(b.title)


def _continues(a: Table, b: Table, last_page: int, cache: SheetCache) -> bool:
    """Is ``b`` the next page of ``a`` (``a`` possibly joined already, its last part on ``last_page``)?"""
    pages = (last_page, last_page + 1)
    if (b.title and not _same_title(a, b)) or b.page not in pages:
        return False
    kind = kind_from_title(a.title) or cache.get(a).kind
    if kind.id == "perf_overall_target":
        # the form runs on over several blocks (indicator tables) without titles of their own
        return not b.title and cache.get(b).kind.id == "unknown"
    if kind.family not in ("final", "budget") or kind.layout not in (
        "coded",
        "econ_groups",
        "listing",
        "summary",
    ):
        return False
    if b.n_cols != a.n_cols or (b.form and a.form and b.form != a.form):
        return False
    other = cache.get(b)
    if other.kind.id not in ("unknown", kind.id):
        return False
    # a summary table's second page carries its 总计 rows. A coded table's 合计 on top of the next
    # part means a new table, unless it repeats the one printed before (fiscal.lines drops it); a
    # 合计 as the very last row closes a table whose total is printed at the bottom (Shanghai).
    if kind.layout == "summary":
        return True
    totals = [i for i, line in enumerate(other.lines) if line.is_total]
    if not totals:
        return True
    closing = totals == [len(other.lines) - 1] and not any(line.is_total for line in cache.get(a).lines)
    return closing


def merge(a: Table, b: Table) -> Table:
    shifted = [Cell(**{**cell.model_dump(), "row": cell.row + a.n_rows}) for cell in b.cells]
    return a.model_copy(
        update={
            "n_rows": a.n_rows + b.n_rows,
            "n_cols": max(a.n_cols, b.n_cols),
            "cells": [*a.cells, *shifted],
            "continues": b.continues,
            "notes": [*a.notes, *b.notes],
        }
    )


RowPages = dict[str, list[tuple[int, int]]]
"""Joined table id -> (first row, page) of each part, in row order: where a joined row was printed."""


def join_continuations(
    tables: list[Table], cache: SheetCache | None = None
) -> tuple[list[Table], list[Finding], RowPages]:
    cache = cache or SheetCache()
    by_id = {t.id: t for t in tables}
    out: list[Table] = []
    findings: list[Finding] = []
    parts: RowPages = {}
    absorbed: set[str] = set()
    for index, table in enumerate(tables):
        if table.id in absorbed:
            continue
        current, position, last_part = table, index + 1, table
        parts[table.id] = [(0, table.page)]
        while True:
            nxt, how = _next_part(tables, by_id, current, position, last_part, cache)
            if nxt is None or nxt.id in absorbed or nxt.id == table.id:
                break
            rows, cols = current.n_rows + nxt.n_rows, max(current.n_cols, nxt.n_cols)
            if rows > MAX_ROWS or rows * cols > MAX_AREA:
                log.warning("not joining %s to %s: the joined table would exceed the caps", nxt.id, table.id)
                break
            absorbed.add(nxt.id)
            parts[table.id].append((current.n_rows, nxt.page))
            current = merge(current, nxt)
            position, last_part = tables.index(nxt) + 1, nxt
            findings.append(
                JOINED.finding(f"续表{nxt.id}（第{nxt.page}页）已并入{current.id}",
                               f"continuation {nxt.id} joined ({how})", table=current.id, form=current.form)
            )
        out.append(current)
    return out, findings, parts


def _next_part(  # noqa: PLR0917  (the state of one join loop)
    tables: list[Table], by_id: dict[str, Table], current: Table, position: int, last_part: Table,
    cache: SheetCache,
) -> tuple[Table | None, str]:
    """The table that carries on ``current`` (whose last part so far is ``last_part``), and how."""
    if last_part.continues:
        return by_id.get(last_part.continues), "link"
    if position >= len(tables):
        return None, ""
    candidate = tables[position]
    if _same_grid_on_next_page(last_part, candidate):
        return candidate, "link"
    try:
        inferred = _continues(current, candidate, last_part.page, cache)
        return (candidate, "inferred") if inferred else (None, "")
    except Exception:  # inference is best effort; a bad table must not stop the pipeline
        log.exception("continuation inference failed for %s", candidate.id)
        return None, ""
