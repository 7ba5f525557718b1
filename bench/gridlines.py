"""Find the ruled cell grid of tables on a clean, upright raster.

Only for truth building on clean digital pages (and as an aid when annotating real scans):
morphological opening keeps long horizontal and vertical strokes, the strokes give candidate
row and column boundaries, and a boundary between two neighbouring grid slots counts as
present when ink covers most of it. Slots not separated by ink are merged into spanning cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    row_span: int
    col_span: int
    bbox: Box


@dataclass(frozen=True)
class Grid:
    bbox: Box
    ys: list[int]
    xs: list[int]
    cells: list[GridCell]

    @property
    def n_rows(self) -> int:
        return len(self.ys) - 1

    @property
    def n_cols(self) -> int:
        return len(self.xs) - 1


def line_masks(gray: Gray, dpi: int) -> tuple[Gray, Gray]:
    """Binary masks (255 = line) of long horizontal and vertical strokes."""
    ink = (gray < 160).astype(np.uint8) * 255
    length = max(15, int(dpi * 0.25))  # a quarter inch: longer than any glyph stroke
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    return np.asarray(horizontal, np.uint8), np.asarray(vertical, np.uint8)


def _cluster(values: list[float], tolerance: float) -> list[int]:
    merged: list[list[float]] = []
    for value in sorted(values):
        if merged and value - merged[-1][-1] <= tolerance:
            merged[-1].append(value)
        else:
            merged.append([value])
    return [round(sum(group) / len(group)) for group in merged]


def _segments(mask: Gray, axis: int) -> list[tuple[float, int, int]]:
    """(centre across the line, start, end along it) of every stroke component."""
    count, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    found = []
    for index in range(1, count):
        x, y, w, h = (int(v) for v in stats[index, :4])
        if axis == 0:
            found.append((float(centroids[index][1]), x, x + w))
        else:
            found.append((float(centroids[index][0]), y, y + h))
    return found


def _covered(mask: Gray, start: int, end: int, across: int, *, axis: int, band: int) -> bool:
    """True when a line in ``mask`` covers most of [start, end) at position ``across``."""
    if end <= start:
        return False
    if axis == 0:
        strip = mask[max(0, across - band) : across + band + 1, start:end]
        hits = strip.max(axis=0) > 0
    else:
        strip = mask[start:end, max(0, across - band) : across + band + 1]
        hits = strip.max(axis=1) > 0
    return bool(hits.mean() >= 0.6)


def find_grids(gray: Gray, dpi: int, min_size_px: int | None = None) -> list[Grid]:
    """Every ruled table on the page, top to bottom."""
    horizontal, vertical = line_masks(gray, dpi)
    both = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(both, connectivity=8)
    minimum = min_size_px or int(dpi * 0.8)
    grids = []
    for index in range(1, count):
        x, y, w, h = (int(v) for v in stats[index, :4])
        if w < minimum or h < dpi * 0.2:
            continue
        grid = _grid_in_region(horizontal, vertical, (x, y, x + w, y + h), dpi)
        if grid is not None:
            grids.append(grid)
    return sorted(grids, key=lambda g: (g.bbox[1], g.bbox[0]))


def _grid_in_region(horizontal: Gray, vertical: Gray, region: Box, dpi: int) -> Grid | None:
    x0, y0, x1, y1 = region
    tolerance = max(3.0, dpi * 0.03)
    h_sub = horizontal[y0:y1, x0:x1]
    v_sub = vertical[y0:y1, x0:x1]
    ys = [y + y0 for y in _cluster([s[0] for s in _segments(h_sub, 0)], tolerance)]
    xs = [x + x0 for x in _cluster([s[0] for s in _segments(v_sub, 1)], tolerance)]
    # An open outer border (no stroke at the region edge) still bounds the table.
    if not ys or ys[0] - y0 > tolerance:
        ys.insert(0, y0)
    if ys[-1] < y1 - 1 - tolerance:
        ys.append(y1 - 1)
    if not xs or xs[0] - x0 > tolerance:
        xs.insert(0, x0)
    if xs[-1] < x1 - 1 - tolerance:
        xs.append(x1 - 1)
    if len(ys) < 2 or len(xs) < 2:
        return None
    cells = _merge_slots(horizontal, vertical, ys, xs, band=max(2, int(tolerance)))
    return Grid(bbox=(xs[0], ys[0], xs[-1], ys[-1]), ys=ys, xs=xs, cells=cells)


def _merge_slots(horizontal: Gray, vertical: Gray, ys: list[int], xs: list[int], band: int) -> list[GridCell]:
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(n_rows):
        for c in range(n_cols):
            inset_y = (ys[r + 1] - ys[r]) // 5
            inset_x = (xs[c + 1] - xs[c]) // 5
            if c + 1 < n_cols and not _covered(
                vertical, ys[r] + inset_y, ys[r + 1] - inset_y, xs[c + 1], axis=1, band=band
            ):
                parent[find(r * n_cols + c + 1)] = find(r * n_cols + c)
            if r + 1 < n_rows and not _covered(
                horizontal, xs[c] + inset_x, xs[c + 1] - inset_x, ys[r + 1], axis=0, band=band
            ):
                parent[find((r + 1) * n_cols + c)] = find(r * n_cols + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            groups.setdefault(find(r * n_cols + c), []).append((r, c))
    cells = []
    for slots in groups.values():
        r0 = min(s[0] for s in slots)
        r1 = max(s[0] for s in slots)
        c0 = min(s[1] for s in slots)
        c1 = max(s[1] for s in slots)
        cells.append(GridCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, (xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1])))
    return sorted(cells, key=lambda cell: (cell.row, cell.col))
