"""Find ruled tables on an upright page and their logical grid.

Ruling lines come from morphological opening of the ink mask with long thin
kernels (lengths relative to resolution and page size), after bridging small gaps
so broken or faint lines survive. Each connected group of lines is one table.
Row/column boundaries are clustered line positions; a missing outer border is
inferred from where the perpendicular lines end. A merged cell is two adjacent
grid cells whose shared boundary has no line segment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from ocr.engines.base import GrayImage
from ocr.preprocess import as_gray, ink_mask

log = logging.getLogger(__name__)

BBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class Segment:
    """A ruling line: ``pos`` across it, ``start``..``end`` along it, ``thickness``."""

    pos: int
    start: int
    end: int
    thickness: int


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    row_span: int
    col_span: int
    bbox: BBox  # between the centres of the ruling lines around the cell


@dataclass(frozen=True)
class TableGrid:
    bbox: BBox
    rows: tuple[int, ...]  # y of each row boundary, top to bottom (n_rows + 1 values)
    cols: tuple[int, ...]  # x of each column boundary, left to right (n_cols + 1 values)
    cells: tuple[GridCell, ...]
    line_width: int

    @property
    def n_rows(self) -> int:
        return len(self.rows) - 1

    @property
    def n_cols(self) -> int:
        return len(self.cols) - 1


@dataclass(frozen=True)
class PageLines:
    """Ink and ruling-line masks of a page, shared by the grid and cell stages."""

    ink: GrayImage
    horizontal: GrayImage
    vertical: GrayImage
    min_line: int


def line_length_threshold(shape: tuple[int, ...], dpi: int) -> int:
    """Shortest ink run treated as a ruling line: ~6 mm, but never more than 1/25 of the page."""
    height, width = shape[:2]
    return int(max(15, min(dpi * 0.25, min(width, height) / 25)))


def _extract_lines(mask: GrayImage, length: int, gap: int, horizontal: bool) -> GrayImage:
    along = (length, 1) if horizontal else (1, length)
    half = (max(3, length // 2), 1) if horizontal else (1, max(3, length // 2))
    bridge = (gap, 1) if horizontal else (1, gap)
    rect = cv2.MORPH_RECT
    # Short pieces first, then bridge the gaps between them, then keep only long runs:
    # a broken or faint line is rebuilt, while text strokes rarely reach the first cut.
    pieces = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, half))
    bridged = cv2.morphologyEx(pieces, cv2.MORPH_CLOSE, cv2.getStructuringElement(rect, bridge))
    return as_gray(cv2.morphologyEx(bridged, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, along)))


def page_lines(gray: GrayImage, dpi: int) -> PageLines:
    ink = ink_mask(gray)
    length = line_length_threshold(gray.shape, dpi)
    gap = max(4, round(dpi * 0.04))
    return PageLines(
        ink=ink,
        horizontal=_extract_lines(ink, length, gap, horizontal=True),
        vertical=_extract_lines(ink, length, gap, horizontal=False),
        min_line=length,
    )


def _segments(mask: GrayImage, horizontal: bool) -> list[Segment]:
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    segments = []
    for x, y, w, h, _area in stats[1:]:
        if horizontal:
            segments.append(Segment(pos=int(y + h // 2), start=int(x), end=int(x + w), thickness=int(h)))
        else:
            segments.append(Segment(pos=int(x + w // 2), start=int(y), end=int(y + h), thickness=int(w)))
    return segments


def _touches(seg: Segment, others: list[Segment], tol: int) -> bool:
    return any(
        seg.start - tol <= o.pos <= seg.end + tol and o.start - tol <= seg.pos <= o.end + tol for o in others
    )


def _connected_only(hs: list[Segment], vs: list[Segment], tol: int) -> tuple[list[Segment], list[Segment]]:
    """Drop segments that touch no perpendicular line: text strokes and underlines float free."""
    for _ in range(2):
        hs = [h for h in hs if _touches(h, vs, tol)]
        vs = [v for v in vs if _touches(v, hs, tol)]
    return hs, vs


def _cluster(positions: list[tuple[int, int]], tol: int) -> list[int]:
    """Merge (position, weight) pairs closer than ``tol`` into weighted centres."""
    centres: list[int] = []
    group: list[tuple[int, int]] = []
    for pos, weight in sorted(positions):
        if group and pos - group[-1][0] > tol:
            centres.append(_weighted(group))
            group = []
        group.append((pos, weight))
    if group:
        centres.append(_weighted(group))
    return centres


def _weighted(group: list[tuple[int, int]]) -> int:
    total = sum(max(1, w) for _, w in group)
    return round(sum(p * max(1, w) for p, w in group) / total)


def _boundaries(segs: list[Segment], perpendicular: list[Segment], tol: int) -> list[int]:
    """Line positions, plus inferred outer borders where the perpendicular lines run further."""
    bounds = _cluster([(s.pos, s.end - s.start) for s in segs], tol)
    if not perpendicular:
        return bounds
    low = min(s.start for s in perpendicular)
    high = max(s.end for s in perpendicular)
    if not bounds or bounds[0] > low + 3 * tol:
        bounds.insert(0, low)
    if bounds[-1] < high - 3 * tol:
        bounds.append(high)
    return bounds


def _has_line(mask: GrayImage, pos: int, start: int, end: int, band: int, *, horizontal: bool) -> bool:
    """Is there a ruling line at ``pos`` running all the way from ``start`` to ``end``?

    A boundary line meets the crossing lines at both ends; a character stroke lying
    where a merged cell has no boundary (the 丨 of 出) stops short of them.
    """
    lo, hi = start + band // 2 + 1, end - band // 2 - 1
    if hi - lo < 6:
        return True  # too short to judge; a boundary this tight is never a merge
    if horizontal:
        profile = mask[max(0, pos - band):pos + band + 1, lo:hi].max(axis=0) > 0
    else:
        profile = mask[lo:hi, max(0, pos - band):pos + band + 1].max(axis=1) > 0
    reach = max(2, band)
    touches_ends = bool(profile[:reach].any() and profile[-reach:].any())
    return touches_ends and float(profile.mean()) >= 0.7


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _merge_cells(rows: list[int], cols: list[int], mask_h: GrayImage, mask_v: GrayImage,
                 band: int) -> list[tuple[int, int, int, int]]:
    """Merged regions as (row0, col0, row1, col1), end-exclusive, covering the grid exactly once."""
    n_rows, n_cols = len(rows) - 1, len(cols) - 1
    uf = _UnionFind(n_rows * n_cols)
    for r in range(n_rows):
        for c in range(1, n_cols):
            if not _has_line(mask_v, cols[c], rows[r], rows[r + 1], band, horizontal=False):
                uf.union(r * n_cols + c - 1, r * n_cols + c)
    for r in range(1, n_rows):
        for c in range(n_cols):
            if not _has_line(mask_h, rows[r], cols[c], cols[c + 1], band, horizontal=True):
                uf.union((r - 1) * n_cols + c, r * n_cols + c)
    owner = np.array([uf.find(i) for i in range(n_rows * n_cols)]).reshape(n_rows, n_cols)
    return _rectangles(owner)


def _rectangles(owner: npt.NDArray[np.intp]) -> list[tuple[int, int, int, int]]:
    """Grow every merged group to its bounding rectangle (absorbing overlaps) until stable."""
    changed = True
    while changed:
        changed = False
        for label in np.unique(owner):
            ys, xs = np.nonzero(owner == label)
            r0, r1, c0, c1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            block = owner[r0:r1, c0:c1]
            if (block != label).any():
                for other in np.unique(block):
                    owner[owner == other] = label
                changed = True
                break
    regions = []
    for label in np.unique(owner):
        ys, xs = np.nonzero(owner == label)
        regions.append((int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1))
    regions.sort()
    return regions


def _table_groups(lines: PageLines, tol: int) -> list[tuple[list[Segment], list[Segment]]]:
    """Split the page's ruling lines into tables: groups of lines that touch each other."""
    hs, vs = _connected_only(_segments(lines.horizontal, True), _segments(lines.vertical, False), tol)
    if not hs or not vs:
        return []
    joined = np.zeros_like(lines.ink)
    for s in hs:
        cv2.line(joined, (s.start, s.pos), (s.end, s.pos), 255, max(1, s.thickness))
    for s in vs:
        cv2.line(joined, (s.pos, s.start), (s.pos, s.end), 255, max(1, s.thickness))
    joined = as_gray(cv2.dilate(joined, np.ones((2 * tol + 1, 2 * tol + 1), np.uint8)))
    count, labels = cv2.connectedComponents(joined, connectivity=8)
    groups: list[tuple[list[Segment], list[Segment]]] = [([], []) for _ in range(count)]
    for s in hs:
        groups[labels[s.pos, (s.start + s.end) // 2]][0].append(s)
    for s in vs:
        groups[labels[(s.start + s.end) // 2, s.pos]][1].append(s)
    return [g for g in groups[1:] if g[0] and g[1]]


def _build_table(hs: list[Segment], vs: list[Segment], lines: PageLines, tol: int) -> TableGrid | None:
    rows = _boundaries(hs, vs, tol)
    cols = _boundaries(vs, hs, tol)
    if len(rows) < 3 or len(cols) < 3:
        return None  # a frame or a single strip is not a table
    if cols[-1] - cols[0] < 4 * lines.min_line or rows[-1] - rows[0] < 1.5 * lines.min_line:
        return None  # strokes of large title characters can form a tiny "grid"
    line_width = int(np.median([s.thickness for s in hs + vs]))
    band = max(3, line_width + 2)
    mask_h = as_gray(cv2.bitwise_or(lines.ink, lines.horizontal))
    mask_v = as_gray(cv2.bitwise_or(lines.ink, lines.vertical))
    cells = tuple(
        GridCell(row=r0, col=c0, row_span=r1 - r0, col_span=c1 - c0,
                 bbox=(cols[c0], rows[r0], cols[c1], rows[r1]))
        for r0, c0, r1, c1 in _merge_cells(rows, cols, mask_h, mask_v, band)
    )
    return TableGrid(bbox=(cols[0], rows[0], cols[-1], rows[-1]), rows=tuple(rows), cols=tuple(cols),
                     cells=cells, line_width=line_width)


def find_tables(gray: GrayImage, dpi: int, lines: PageLines | None = None) -> list[TableGrid]:
    """Every ruled table on the page, top to bottom then left to right."""
    lines = lines or page_lines(gray, dpi)
    tol = max(4, round(dpi * 0.02))
    tables = []
    for hs, vs in _table_groups(lines, tol):
        table = _build_table(hs, vs, lines, tol)
        if table is not None:
            tables.append(table)
    tables.sort(key=lambda t: (t.bbox[1], t.bbox[0]))
    log.debug("found %d tables", len(tables))
    return tables
