"""Table grids from a page's vector rules: rows and columns where rules run, merged cells where they stop.

The raster grid stage (``ocr.grid``) has to tell rules from glyph strokes and mend broken
lines; vector rules need none of that: every rule is a drawing instruction of the page. A
table is a set of rules that cross or touch one another. Its row and column boundaries are
the positions of those rules (and the ends of the rules that frame it, for tables drawn
without outer side borders). Two neighbouring grid cells are one merged cell where no rule
runs along most of the edge between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocr.grid import GridCell, TableGrid, UnionFind
from ocr.textlayer import Rule

# Rules closer than this (points) are one line: a double or thick rule, or a cell's border drawn twice.
SAME_LINE_PT = 2.0
# Boundaries closer than this (points) cannot hold a line of text between them.
MIN_CELL_PT = 4.0
# An edge with rules along at least this share of its length separates its two cells.
EDGE_COVERAGE = 0.5


@dataclass(frozen=True)
class _Line:
    """All rules on one row (or column) boundary: their position and the stretches they cover."""

    pos: float
    spans: tuple[tuple[float, float], ...]

    @property
    def start(self) -> float:
        return self.spans[0][0]

    @property
    def end(self) -> float:
        return max(end for _, end in self.spans)

    def coverage(self, start: float, end: float) -> float:
        if end <= start:
            return 0.0
        covered = sum(max(0.0, min(b, end) - max(a, start)) for a, b in self.spans)
        return covered / (end - start)


def vector_grids(rules: tuple[Rule, ...] | list[Rule], dpi: int) -> list[TableGrid]:
    """Tables drawn by ``rules`` (pixels at ``dpi``), top to bottom; each at least 2 x 2 cells."""
    tol = SAME_LINE_PT * dpi / 72
    horizontal = _lines([r for r in rules if r.horizontal], tol)
    vertical = _lines([r for r in rules if not r.horizontal], tol)
    grids = []
    for h_group, v_group in _tables(horizontal, vertical, tol):
        grid = _grid(h_group, v_group, tol, MIN_CELL_PT * dpi / 72, max(1, round(0.5 * dpi / 72)))
        if grid is not None:
            grids.append(grid)
    return sorted(grids, key=lambda g: (g.bbox[1], g.bbox[0]))


def _lines(rules: list[Rule], tol: float) -> list[_Line]:
    """Rules grouped by position (within ``tol``), touching stretches joined."""
    lines: list[_Line] = []
    group: list[Rule] = []
    for rule in sorted(rules, key=lambda r: r.pos):
        if group and rule.pos - group[-1].pos > tol:
            lines.extend(_split_runs(group, tol))
            group = []
        group.append(rule)
    if group:
        lines.extend(_split_runs(group, tol))
    return lines


def _split_runs(group: list[Rule], tol: float) -> list[_Line]:
    """One position's rules as separate lines wherever a gap between them is wider than a crossing."""
    ordered = sorted(group, key=lambda r: r.start)
    runs: list[list[Rule]] = [[ordered[0]]]
    for rule in ordered[1:]:
        if rule.start - max(r.end for r in runs[-1]) > tol:
            runs.append([rule])
        else:
            runs[-1].append(rule)
    lines = []
    for run in runs:
        weight = sum(r.end - r.start for r in run) or 1.0
        pos = sum(r.pos * (r.end - r.start) for r in run) / weight
        lines.append(_Line(pos, _union([(r.start, r.end) for r in run], tol)))
    return lines


def _union(spans: list[tuple[float, float]], tol: float) -> tuple[tuple[float, float], ...]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= tol:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


_LineGroup = tuple[list[_Line], list[_Line]]


def _tables(horizontal: list[_Line], vertical: list[_Line], tol: float) -> list[_LineGroup]:
    """Groups of lines connected by crossings or touching ends: one group per table."""
    if not horizontal or not vertical:
        return []
    h = np.array([(line.pos, line.start, line.end) for line in horizontal])
    v = np.array([(line.pos, line.start, line.end) for line in vertical])
    touches = ((v[None, :, 0] >= h[:, None, 1] - tol) & (v[None, :, 0] <= h[:, None, 2] + tol)
               & (h[:, None, 0] >= v[None, :, 1] - tol) & (h[:, None, 0] <= v[None, :, 2] + tol))
    sets = UnionFind(len(horizontal) + len(vertical))
    for hi, vi in zip(*np.nonzero(touches), strict=True):
        sets.union(int(hi), len(horizontal) + int(vi))
    groups: dict[int, _LineGroup] = {}
    for index, line in enumerate(horizontal):
        groups.setdefault(sets.find(index), ([], []))[0].append(line)
    for index, line in enumerate(vertical):
        groups.setdefault(sets.find(len(horizontal) + index), ([], []))[1].append(line)
    return [group for group in groups.values() if group[0] and group[1]]


def _boundaries(lines: list[_Line], low: float, high: float, tol: float, min_cell: float) -> list[float]:
    """Sorted boundary positions: every line, plus the frame's ends where no line closes it."""
    positions = sorted(line.pos for line in lines)
    if low < positions[0] - tol:
        positions.insert(0, low)
    if high > positions[-1] + tol:
        positions.append(high)
    kept = [positions[0]]
    for pos in positions[1:]:
        if pos - kept[-1] >= min_cell:
            kept.append(pos)
    return kept


def _grid(h_lines: list[_Line], v_lines: list[_Line], tol: float, min_cell: float,
          line_width: int) -> TableGrid | None:
    cols = _boundaries(v_lines, min(ln.start for ln in h_lines), max(ln.end for ln in h_lines), tol, min_cell)
    rows = _boundaries(h_lines, min(ln.start for ln in v_lines), max(ln.end for ln in v_lines), tol, min_cell)
    if len(rows) < 3 or len(cols) < 3:
        return None  # a frame or a single box is no table
    reach = max(tol, min_cell)
    owner = _merge(rows, cols, _on_boundary(h_lines, rows, reach), _on_boundary(v_lines, cols, reach))
    cells = _cells(owner, rows, cols)
    x0, x1, y0, y1 = round(cols[0]), round(cols[-1]), round(rows[0]), round(rows[-1])
    return TableGrid(bbox=(x0, y0, x1, y1), rows=tuple(round(r) for r in rows),
                     cols=tuple(round(c) for c in cols), cells=tuple(cells), line_width=line_width)


def _on_boundary(lines: list[_Line], boundaries: list[float], reach: float) -> list[list[_Line]]:
    """The lines lying on each boundary (within ``reach`` of it)."""
    found: list[list[_Line]] = [[] for _ in boundaries]
    for line in lines:
        index = int(np.argmin([abs(line.pos - b) for b in boundaries]))
        if abs(line.pos - boundaries[index]) <= reach:
            found[index].append(line)
    return found


def _covered(lines: list[_Line], start: float, end: float) -> bool:
    return sum(line.coverage(start, end) for line in lines) >= EDGE_COVERAGE


def _merge(rows: list[float], cols: list[float], h_on: list[list[_Line]],
           v_on: list[list[_Line]]) -> np.ndarray:
    """Owner label of every grid cell: cells joined across edges that no rule separates."""
    n_rows, n_cols = len(rows) - 1, len(cols) - 1
    sets = UnionFind(n_rows * n_cols)
    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not _covered(v_on[c + 1], rows[r], rows[r + 1]):
                sets.union(r * n_cols + c + 1, r * n_cols + c)
            if r + 1 < n_rows and not _covered(h_on[r + 1], cols[c], cols[c + 1]):
                sets.union((r + 1) * n_cols + c, r * n_cols + c)
    return np.array([sets.find(i) for i in range(n_rows * n_cols)]).reshape(n_rows, n_cols)


def _cells(owner: np.ndarray, rows: list[float], cols: list[float]) -> list[GridCell]:
    """One cell per merged group; a group that is not a rectangle is kept as its single cells."""
    cells: list[GridCell] = []
    for label in np.unique(owner):
        where = np.argwhere(owner == label)
        r0, c0 = where.min(axis=0)
        r1, c1 = where.max(axis=0) + 1
        if len(where) == (r1 - r0) * (c1 - c0):
            cells.append(_cell((int(r0), int(c0), int(r1), int(c1)), rows, cols))
        else:
            cells.extend(_cell((int(r), int(c), int(r) + 1, int(c) + 1), rows, cols) for r, c in where)
    return sorted(cells, key=lambda cell: (cell.row, cell.col))


def _cell(span: tuple[int, int, int, int], rows: list[float], cols: list[float]) -> GridCell:
    r0, c0, r1, c1 = span
    return GridCell(row=r0, col=c0, row_span=r1 - r0, col_span=c1 - c0,
                    bbox=(round(cols[c0]), round(rows[r0]), round(cols[c1]), round(rows[r1])))
