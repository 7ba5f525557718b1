"""Find ruled tables on an upright page and their logical grid.

Ruling lines come from morphological opening of a local-contrast mask (so faint grey
rules survive noise) with long thin kernels, after bridging small gaps. Collinear pieces
are then joined across dropouts up to about 1.5 row heights, lines are grouped into tables
by contact, and groups whose extents overlap are merged (tables never overlap). Row/column
boundaries are clustered line positions; a missing outer border is inferred from where the
perpendicular lines end. A merged cell is two adjacent grid cells whose shared edge holds
no ruling-line piece reaching a crossing line (and, for edges too short for the line mask,
no ink running end to end), nor the trace of a rule too faint for the masks, judged on the grey
page; such a trace also restores a row or column line the masks lost altogether.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import Counter
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from ocr.components import line_stats
from ocr.dashes import PageRules, run_centres
from ocr.engines.base import GrayImage
from ocr.preprocess import as_gray, ink_mask, rule_mask

log = logging.getLogger(__name__)

# Share of a cell edge the (long-run) line mask must cover to separate two cells: a broken
# rule keeps well over this, a merged cell's edge has none of it.
_BOUNDARY_COVERAGE = 0.3
# A mark beside a grid at least this share of the grid's height (and not a thin rule) is a glyph of the
# same line of text as the grid's strokes.
_GLYPH_BESIDE = 0.6
# Share of the paper beside a short edge that, if inked, makes the ink along it a character's stroke.
_STROKE_INK = 0.12
# Share of an edge a faint rule's averaged trace must run along (a rule broken in a scan keeps most
# of its length), and the least darkness (grey levels) below the paper beside it that counts.
_FAINT_COVERAGE = 0.5
_FAINT_CONTRAST = 8.0
# A trace along this share of an edge (or of a band's width) is worth a look, not yet a rule.
_FAINT_TRACE = 0.2

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
    # Lines found on the local-contrast mask (faint rules too), for the grid only: glyph
    # strokes run together more there, so the cell stage keeps the ink-based masks above.
    rule_horizontal: GrayImage | None = None
    rule_vertical: GrayImage | None = None
    # The page itself: where the masks hold too little of a rule, its faint trace is judged on the grey.
    gray: GrayImage | None = None


def _tolerance(dpi: int) -> int:
    """How far apart (px) two line positions may be and still be one line."""
    return max(4, round(dpi * 0.02))


def line_length_threshold(shape: tuple[int, ...], dpi: int) -> int:
    """Shortest ink run treated as a ruling line: ~6 mm, but never more than 1/25 of the page."""
    height, width = shape[:2]
    return int(max(15, min(dpi * 0.25, min(width, height) / 25)))


def _line_pieces(mask: GrayImage, length: int, horizontal: bool) -> GrayImage:
    """Runs of at least half a line along one direction: what a broken rule is rebuilt from."""
    half = (max(3, length // 2), 1) if horizontal else (1, max(3, length // 2))
    return as_gray(cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, half)))


def _join_pieces(pieces: GrayImage, length: int, gap: int, horizontal: bool) -> GrayImage:
    """Bridge the gaps between pieces, then keep only runs a whole line long."""
    along = (length, 1) if horizontal else (1, length)
    bridge = (gap, 1) if horizontal else (1, gap)
    rect = cv2.MORPH_RECT
    bridged = cv2.morphologyEx(pieces, cv2.MORPH_CLOSE, cv2.getStructuringElement(rect, bridge))
    return as_gray(cv2.morphologyEx(bridged, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, along)))


def _extract_lines(mask: GrayImage, length: int, gap: int, horizontal: bool) -> GrayImage:
    # Short pieces first, then bridge the gaps between them, then keep only long runs:
    # a broken or faint line is rebuilt, while text strokes rarely reach the first cut.
    return _join_pieces(_line_pieces(mask, length, horizontal), length, gap, horizontal)


def _rule_lines(page: PageRules, gap: int) -> tuple[GrayImage, GrayImage]:
    """Horizontal and vertical rules of the rule mask, without glyph stems bridged onto their ends."""
    rules, length = page.frame(True), page.min_length
    h_pieces = _line_pieces(rules, length, horizontal=True)
    v_pieces = _line_pieces(rules, length, horizontal=False)
    first_h = _join_pieces(h_pieces, length, gap, horizontal=True)
    first_v = _join_pieces(v_pieces, length, gap, horizontal=False)
    rule_h = _without_stems(page, h_pieces, first_h, first_v, gap, horizontal=True)
    del h_pieces  # page-sized, and no longer needed: a page reader's peak memory is set here
    rule_v = _without_stems(page, v_pieces, first_v, first_h, gap, horizontal=False)
    return rule_h, rule_v


def _without_stems(page: PageRules, pieces: GrayImage, joined: GrayImage, crossing: GrayImage, gap: int, *,
                   horizontal: bool) -> GrayImage:
    """``joined`` (the lines of ``pieces``) again without the glyph stems among the pieces, if any."""
    kept = page.drop_glyph_stems(pieces, crossing, horizontal=horizontal)
    # Joining is a page of morphology: only again where a stem was actually dropped.
    return joined if kept is pieces else _join_pieces(kept, page.min_length, gap, horizontal=horizontal)


def page_lines(gray: GrayImage, dpi: int) -> PageLines:
    length = line_length_threshold(gray.shape, dpi)
    gap = max(4, round(dpi * 0.04))
    # The rules first, in a call of their own: its page-sized working masks are gone before the
    # ink's are made (the peak memory of a page reader is set here).
    rule_horizontal, rule_vertical = _page_rules(gray, dpi, length, gap)
    ink = ink_mask(gray)
    return PageLines(
        ink=ink,
        horizontal=_extract_lines(ink, length, gap, horizontal=True),
        vertical=_extract_lines(ink, length, gap, horizontal=False),
        min_line=length,
        rule_horizontal=rule_horizontal,
        rule_vertical=rule_vertical,
        gray=gray,
    )


def _page_rules(gray: GrayImage, dpi: int, length: int, gap: int) -> tuple[GrayImage, GrayImage]:
    """The page's horizontal and vertical rules: solid ones, then those rebuilt from dashes."""
    page = PageRules(rule_mask(gray), dpi, length)
    rule_h, rule_v = _rule_lines(page, gap)
    solid_h, solid_v = _segments(rule_h, True), _segments(rule_v, False)
    pitch = _row_pitch(solid_h, _tolerance(dpi), dpi)
    solid = ([(s.pos, s.start, s.end) for s in solid_h], [(s.pos, s.start, s.end) for s in solid_v])
    dashed_h, dashed_v = page.dashed_rules(rule_h, rule_v, row_pitch=pitch, solid=solid)
    return as_gray(cv2.bitwise_or(rule_h, dashed_h)), as_gray(cv2.bitwise_or(rule_v, dashed_v))


def _segments(mask: GrayImage, horizontal: bool) -> list[Segment]:
    stats = line_stats(mask, along_rows=horizontal)  # a mask of lines of one direction
    segments = []
    for x, y, w, h, _area in stats[1:]:
        if horizontal:
            segments.append(Segment(pos=int(y + h // 2), start=int(x), end=int(x + w), thickness=int(h)))
        else:
            segments.append(Segment(pos=int(x + w // 2), start=int(y), end=int(y + h), thickness=int(w)))
    return segments


def _touches(seg: Segment, others: list[Segment], tol: int, reach: int) -> bool:
    """Does ``seg`` cross a perpendicular line, or one that stops at most ``reach`` short of it?"""
    return any(
        seg.start - tol <= o.pos <= seg.end + tol and o.start - reach <= seg.pos <= o.end + reach
        for o in others
    )


def _connected_only(hs: list[Segment], vs: list[Segment], tol: int, reach: int,
                    long_line: int) -> tuple[list[Segment], list[Segment]]:
    """Drop segments that touch no perpendicular line: text strokes and underlines float free.

    A crossing line may stop up to ``reach`` short of a long rule (a piece lost where the
    lines meet); shorter runs, which glyph strokes can form, must really touch.
    """
    def kept(segs: list[Segment], others: list[Segment]) -> list[Segment]:
        return [s for s in segs if _touches(s, others, tol, reach if s.end - s.start >= long_line else tol)]

    for _ in range(2):
        hs = kept(hs, vs)
        vs = kept(vs, hs)
    return hs, vs


def _cluster(positions: list[tuple[int, int]], tol: int) -> list[int]:
    """Merge (position, weight) pairs closer than ``tol`` into weighted centres."""
    return [centre for centre, _ in _cluster_totals(positions, tol)]


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
    # A missing border leaves the crossing lines a whole row (column) long beyond the last
    # rule; a rule bridged onto a stray piece overshoots by much less than that.
    margin = 3 * tol
    if len(bounds) >= 3:
        margin = max(margin, round(0.4 * float(np.median(np.diff(bounds)))))
    if not bounds or bounds[0] > low + margin:
        bounds.insert(0, low)
    if bounds[-1] < high - margin:
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
    around = _strip(mask, (max(0, pos - band), pos + band + 1), lo, hi, horizontal=horizontal)
    profile = around.max(axis=1) > 0
    reach = max(2, band)
    touches_ends = bool(profile[:reach].any() and profile[-reach:].any())
    return touches_ends and float(profile.mean()) >= 0.7


def _segment_coverage(segs: list[Segment], pos: int, start: int, end: int, band: int) -> float:
    """Fraction of ``start``..``end`` at ``pos`` covered by the table's ruling-line pieces.

    Pieces count only if they reach one end of the edge: a rule broken by dropouts still
    meets a crossing line, while glyph strokes run together inside a cell float free.
    """
    if end - start < 2:
        return 1.0
    covered = np.zeros(end - start, dtype=bool)
    for seg in segs:
        if abs(seg.pos - pos) <= band and seg.end > start and seg.start < end:
            covered[max(0, seg.start - start):seg.end - start] = True
    reach = max(4, 2 * band)
    if not (covered[:reach].any() or covered[-reach:].any()):
        return 0.0
    return float(covered.mean())


def _judge_edge(pieces: list[Segment], ink: GrayImage, edge: tuple[int, int, int], band: int,
                min_line: int, *, horizontal: bool, gray: GrayImage | None = None) -> tuple[bool, float]:
    """Is the edge a cell boundary, and what share of it do rule pieces cover?

    A boundary has pieces of a ruling line along the edge or (short edges) ink end to end.
    ``pieces`` are the table's ruling-line runs as scanned (longer than a glyph stroke, not
    bridged), so any real share of them inside the edge is a rule that lost pieces in the
    scan. An edge long enough to hold such a piece but without any is a merged cell, even
    if glyph strokes line up there. Failing both, the faint trace of a rule on the grey page
    (``gray``) decides: a rule too faint for the masks under noise is still there when averaged
    along its length.
    """
    pos, start, end = edge
    lo, hi = start + band + 1, end - band - 1
    coverage = _segment_coverage(pieces, pos, lo, hi, band)
    if coverage >= _BOUNDARY_COVERAGE:
        return True, coverage
    faint = 0.0 if gray is None else _faint_rule_share(gray, ink, (pos, lo, hi), band, horizontal=horizontal)
    if faint >= _FAINT_COVERAGE:
        return True, max(coverage, faint)
    # A fainter trace is no boundary by itself, but tells which edge of an impossible merge was one.
    evidence = max(coverage, faint if faint >= _FAINT_TRACE else 0.0)
    if hi - lo >= 1.5 * min_line:
        return False, evidence
    inked = (_has_line(ink, pos, start, end, band, horizontal=horizontal)
             and not _strokes_beside(ink, (pos, lo, hi), band, horizontal=horizontal)
             and not _crossed(ink, (pos, lo, hi), band, horizontal=horizontal))
    return inked, evidence


def _faint_rule_share(gray: GrayImage, ink: GrayImage, edge: tuple[int, int, int], band: int, *,
                      horizontal: bool) -> float:
    """Share of an edge along which a thin line darker than the paper on both sides of it runs.

    Averaged along the edge over a short window, the noise of the scan falls away while a rule
    keeps its tone, however faint. Where a glyph lies on the edge (ink on the line reaching out of
    a rule's width: a stroke of text in a cell merged over the edge, or a line of text along it)
    nothing is judged: a rule never cuts through text, and text's own strokes are dark enough to
    pass for one.
    """
    pos, lo, hi = edge
    far = _side_reach(band)
    if hi - lo < 4 * band or pos - far < 0:
        return 0.0
    strip = _strip(gray, (pos - far, pos + far + 1), lo, hi, horizontal=horizontal).astype(np.float32)
    if strip.shape[1] < 2 * far + 1:
        return 0.0
    window = max(5, 2 * band + 1)
    smooth = cv2.blur(strip, (1, window))  # along the edge only
    left, right = smooth[:, :far - band - 1], smooth[:, far + band + 2:]
    paper = np.maximum(np.median(left, axis=1), np.median(right, axis=1))
    # The scan's grain, from how the paper's tone beside the edge wanders along it (robust to text).
    steps = np.diff(paper)
    grain = 1.4826 * float(np.median(np.abs(steps - np.median(steps)))) / np.sqrt(2.0) if steps.size else 0.0
    band_columns = smooth[:, far - band:far + band + 1]
    # The rule's own column within the band: the darkest along the edge. A rule is straight: its
    # trace stays on that column all along, where a slanted stroke (the / of 年度(/项目)) drifts across.
    line = int(np.argmin(np.median(band_columns, axis=0)))
    straight = np.abs(np.argmin(band_columns, axis=1) - line) <= 1
    dark = ((paper - band_columns.min(axis=1)) > max(_FAINT_CONTRAST, 4.0 * grain)) & straight
    marks = _strip(ink, (pos - far, pos + far + 1), lo, hi, horizontal=horizontal) > 0
    text = _glyphs_on_the_edge(marks, far - band + line, max(1, band // 2))
    judged = cv2.dilate(text.astype(np.uint8)[:, None], np.ones((window, 1), np.uint8))[:, 0] == 0
    reach = 2 * band
    # A rule runs rule to rule: its trace meets the crossing rules at both ends (a glyph's stroke on
    # the edge of a merged cell stops short of one at least).
    if judged.mean() < _FAINT_COVERAGE or not (dark[:reach].any() and dark[-reach:].any()):
        return 0.0
    return float(dark[judged].mean())


def _side_reach(band: int) -> int:
    """How far beside an edge (px) the paper or ink next to a rule is looked at: a few rule widths."""
    return 3 * band + 2


def _glyphs_on_the_edge(marks: npt.NDArray[np.bool_], line: int, half: int) -> npt.NDArray[np.bool_]:
    """Where along the edge a mark lies on the rule's column ``line`` and reaches out of its width
    (``half`` each side): a glyph's stroke on the edge (the stem of 支 in a cell merged over it), over
    the glyph's whole length. Ink beside the rule, however near, is the text of a neighbouring cell."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(marks.astype(np.uint8), connectivity=8)
    out = np.zeros(marks.shape[0], dtype=bool)
    for index in range(1, count):
        x, y, w, h = (int(v) for v in stats[index, :4])
        on_line = x <= line < x + w
        if on_line and (x < line - half or x + w > line + half + 1):
            out[y:y + h] = True
    return out


def _crossed(ink: GrayImage, edge: tuple[int, int, int], band: int, *, horizontal: bool) -> bool:
    """Bars run through the edge at two heights or more: a character's stem (the 丨 of 车, centred
    on a column boundary its merged cell does not have), never a rule between two cells, which no
    stroke crosses."""
    pos, lo, hi = edge
    left = max(0, pos - band)
    strip = _strip(ink, (left, pos + band + 1), lo, hi, horizontal=horizontal) > 0
    centre, arm = pos - left, max(3, band // 2)
    if hi <= lo or centre - arm - 1 < 0 or strip.shape[1] < centre + 2 + arm:
        return False
    through = (strip[:, centre - arm - 1:centre - 1].all(axis=1) & strip[:, centre - 1:centre + 2].any(axis=1)
               & strip[:, centre + 2:centre + 2 + arm].all(axis=1))
    return len(run_centres(np.asarray(through))) >= 2


def _strokes_beside(ink: GrayImage, edge: tuple[int, int, int], band: int, *, horizontal: bool) -> bool:
    """Ink just beside a short edge on either side: a character stroke, not a rule without pieces.

    Where the rule mask holds nothing, ink running end to end across a one-row edge is either
    a rule too faint for that mask or the stem of a character (the right stroke of 码) in a
    merged cell; the character's other strokes join its stem, a rule has paper beside it.
    """
    pos, lo, hi = edge
    if hi <= lo:
        return False
    near, far = band, 3 * band
    sides = (_strip(ink, (max(0, pos - far), max(0, pos - near)), lo, hi, horizontal=horizontal),
             _strip(ink, (pos + near + 1, pos + far + 1), lo, hi, horizontal=horizontal))
    return any(side.size and float((side > 0).mean()) > _STROKE_INK for side in sides)


def _strip(image: GrayImage, across: tuple[int, int], lo: int, hi: int, *, horizontal: bool) -> GrayImage:
    """The pixels from ``lo`` to ``hi`` along an edge and ``across`` (first, last + 1) it, along the edge
    down axis 0 whichever way the edge runs."""
    first, last = across
    return image[first:last, lo:hi].T if horizontal else image[lo:hi, first:last]


class UnionFind:
    """Disjoint sets of 0..size-1 (merged cells, connected rules)."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


@dataclass(frozen=True)
class _Edge:
    """The shared edge of two neighbouring grid cells (flat indices) and what the scan shows there."""

    a: int
    b: int
    line: tuple[str, int]  # ("h", row boundary) or ("v", column boundary)
    boundary: bool
    evidence: float  # share of the edge covered by rule pieces


def _grid_edges(rows: list[int], cols: list[int], pieces: tuple[list[Segment], list[Segment]],
                masks: tuple[GrayImage, GrayImage], *, band: int, min_line: int,
                gray: GrayImage | None = None) -> list[_Edge]:
    """Every shared edge of two neighbouring grid cells: column edges row by row, then row edges."""
    n_cols = len(cols) - 1
    # (cell a, cell b, line, (pos, start, end), horizontal)
    shared = [(r * n_cols + c - 1, r * n_cols + c, ("v", c), (cols[c], rows[r], rows[r + 1]), False)
              for r in range(len(rows) - 1) for c in range(1, n_cols)]
    shared += [((r - 1) * n_cols + c, r * n_cols + c, ("h", r), (rows[r], cols[c], cols[c + 1]), True)
               for r in range(1, len(rows) - 1) for c in range(n_cols)]
    edges = []
    for a, b, line, edge, horizontal in shared:
        side = 0 if horizontal else 1
        boundary, coverage = _judge_edge(pieces[side], masks[side], edge, band, min_line,
                                         horizontal=horizontal, gray=gray)
        edges.append(_Edge(a, b, line, boundary, coverage))
    return edges


def _owners(edges: list[_Edge], n_rows: int, n_cols: int) -> npt.NDArray[np.intp]:
    uf = UnionFind(n_rows * n_cols)
    for edge in edges:
        if not edge.boundary:
            uf.union(edge.a, edge.b)
    return np.array([uf.find(i) for i in range(n_rows * n_cols)]).reshape(n_rows, n_cols)


def _contradicted_edge(edges: list[_Edge], owner: npt.NDArray[np.intp]) -> int | None:
    """A missing boundary that the merged groups around it show to be a lost piece of rule.

    Merged cells are rectangles. A group of merged grid cells that is not one (an L) would
    swallow whole cells across boundaries to become one; and a rectangular group holding a
    line that is a boundary along most of its length was joined through a dropout. In both,
    the edge on such a line with the most rule left is taken as a boundary after all.
    """
    flat = owner.ravel()
    n_cols = owner.shape[1]
    ends = np.array([(e.a, e.b) for e in edges], dtype=np.intp).reshape(-1, 2)
    end_rows, end_cols = ends // n_cols, ends % n_cols
    labels, sizes = np.unique(owner, return_counts=True)
    candidates: list[int] = []
    for label in labels[sizes > 1]:  # a group of one cell holds no edge
        member = owner == label
        ys, xs = np.nonzero(member)
        top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
        in_box = ((end_rows >= top) & (end_rows <= bottom) & (end_cols >= left) & (end_cols <= right))
        inside = np.flatnonzero(in_box.all(axis=1)).tolist()
        ragged = not bool(member[top:bottom + 1, left:right + 1].all())
        lines = _contradicted_lines([edges[i] for i in inside], flat, label, ragged=ragged)
        found = [i for i in inside if not edges[i].boundary and edges[i].line in lines
                 and flat[edges[i].a] == label and (edges[i].evidence > 0 or not ragged)]
        if ragged and not found:
            # An L with no trace of the rule left: it broke on the one line whose missing edges,
            # restored, leave its parts rectangles; any other line says nothing of where.
            found = _breaking_edges([edges[i] for i in inside], list(inside), member, label, flat)
        candidates += found
    return max(candidates, key=lambda i: edges[i].evidence, default=None)


def _breaking_edges(edges: list[_Edge], ids: list[int], member: npt.NDArray[np.bool_], label: int,
                    flat: npt.NDArray[np.intp]) -> list[int]:
    """The ids of a ragged group's missing edges on the line that splits it into rectangles and is a
    boundary along most of the rest of the group's box (``edges`` are those inside the box)."""
    joins = [(edge, i) for edge, i in zip(edges, ids, strict=True)
             if not edge.boundary and flat[edge.a] == label and flat[edge.b] == label]
    held = Counter(edge.line for edge in edges if edge.boundary)
    breaking = [(held[line], [i for edge, i in joins if edge.line == line])
                for line in sorted({edge.line for edge, _ in joins}, key=lambda line: -held[line])
                if _splits_into_rectangles([edge for edge, _ in joins], line, member)]
    clear = breaking and breaking[0][0] > 0 and (len(breaking) == 1 or breaking[1][0] < breaking[0][0])
    return breaking[0][1] if clear else []


def _splits_into_rectangles(joins: list[_Edge], line: tuple[str, int],
                            member: npt.NDArray[np.bool_]) -> bool:
    """Whether restoring the missing edges on ``line`` leaves the group in rectangular parts."""
    uf = UnionFind(member.size)
    for edge in joins:
        if edge.line != line:
            uf.union(edge.a, edge.b)
    parts: dict[int, list[int]] = {}
    for cell in np.flatnonzero(member.ravel()).tolist():
        parts.setdefault(uf.find(cell), []).append(cell)
    n_cols = member.shape[1]
    return len(parts) > 1 and all(_is_rectangle(cells, n_cols) for cells in parts.values())


def _is_rectangle(cells: list[int], n_cols: int) -> bool:
    rows, cols = {c // n_cols for c in cells}, {c % n_cols for c in cells}
    return len(cells) == len(rows) * len(cols) and max(rows) - min(rows) + 1 == len(rows) \
        and max(cols) - min(cols) + 1 == len(cols)


def _contradicted_lines(edges: list[_Edge], flat: npt.NDArray[np.intp], label: int, *,
                        ragged: bool) -> set[tuple[str, int]]:
    """Lines of a group's box that cut it: any boundary touching a ragged group, else a majority."""
    held: dict[tuple[str, int], int] = {}
    for edge in edges:
        ends = int(flat[edge.a] == label) + int(flat[edge.b] == label)
        if edge.boundary and (ends == 2 or (ragged and ends == 1)):
            held[edge.line] = held.get(edge.line, 0) + 1
        elif not edge.boundary and ends == 2:
            held[edge.line] = held.get(edge.line, 0) - (0 if ragged else 1)
    return {line for line, balance in held.items() if balance > 0}


def _merge_cells(rows: list[int], cols: list[int], pieces: tuple[list[Segment], list[Segment]],
                 masks: tuple[GrayImage, GrayImage], *, band: int, min_line: int,
                 gray: GrayImage | None = None) -> list[tuple[int, int, int, int]]:
    """Merged regions as (row0, col0, row1, col1), end-exclusive, covering the grid exactly once.

    ``pieces`` are the (horizontal, vertical) rule runs, ``masks`` the ink-or-line masks.
    """
    n_rows, n_cols = len(rows) - 1, len(cols) - 1
    edges = _grid_edges(rows, cols, pieces, masks, band=band, min_line=min_line, gray=gray)
    owner = _owners(edges, n_rows, n_cols)
    for _ in range(len(edges)):
        repaired = _contradicted_edge(edges, owner)
        if repaired is None:
            break
        edges[repaired] = dataclasses.replace(edges[repaired], boundary=True)
        owner = _owners(edges, n_rows, n_cols)
    return rectangles(owner)


def rectangles(owner: npt.NDArray[np.intp]) -> list[tuple[int, int, int, int]]:
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


def _row_pitch(hs: list[Segment], tol: int, dpi: int) -> int:
    """Typical distance between neighbouring horizontal rules (the row height).

    Only lines carrying a fair share of the longest line's length count: text strokes that
    merged into short runs would otherwise make the pitch look like a line of text.
    """
    totals: dict[int, int] = {}
    for centre, length in _cluster_totals([(s.pos, s.end - s.start) for s in hs], tol):
        totals[centre] = length
    if not totals:
        return round(dpi * 0.25)
    longest = max(totals.values())
    rules = sorted(c for c, length in totals.items() if length >= 0.25 * longest)
    steps = [b - a for a, b in itertools.pairwise(rules) if 2 * tol < b - a < dpi * 0.6]
    return int(np.median(steps)) if steps else round(dpi * 0.25)


def _cluster_totals(positions: list[tuple[int, int]], tol: int) -> list[tuple[int, int]]:
    """Like ``_cluster``, with the summed weight of each centre."""
    out: list[tuple[int, int]] = []
    group: list[tuple[int, int]] = []
    for pos, weight in sorted(positions):
        if group and pos - group[-1][0] > tol:
            out.append((_weighted(group), sum(w for _, w in group)))
            group = []
        group.append((pos, weight))
    if group:
        out.append((_weighted(group), sum(w for _, w in group)))
    return out


def bridge_collinear(segs: list[Segment], tol: int, gap: int) -> list[Segment]:
    """Join segments on one line (``pos`` within ``tol``) whose ends are at most ``gap`` apart.

    Scanned rules break into pieces (dropouts, dashes); a gap up to about a row height is
    still one rule, whereas neighbouring tables stand further apart than that.
    """
    joined: list[Segment] = []
    for seg in sorted(segs, key=lambda s: (s.start, s.pos)):
        for index, other in enumerate(joined):
            collinear = abs(other.pos - seg.pos) <= tol
            if collinear and seg.start - other.end <= gap and other.start - seg.end <= gap:
                weight_a, weight_b = other.end - other.start, seg.end - seg.start
                pos = round((other.pos * weight_a + seg.pos * weight_b) / max(1, weight_a + weight_b))
                joined[index] = Segment(pos=pos, start=min(other.start, seg.start),
                                        end=max(other.end, seg.end),
                                        thickness=max(other.thickness, seg.thickness))
                break
        else:
            joined.append(seg)
    return joined


def _extent(group: _LineGroup) -> BBox:
    xs = [s.start for s in group.hs] + [s.end for s in group.hs] + [s.pos for s in group.vs]
    ys = [s.pos for s in group.hs] + [s.start for s in group.vs] + [s.end for s in group.vs]
    return min(xs), min(ys), max(xs), max(ys)


def _overlap(a: BBox, b: BBox, tol: int) -> bool:
    return a[0] - tol < b[2] and b[0] - tol < a[2] and a[1] - tol < b[3] and b[1] - tol < a[3]


def _merge_overlapping(groups: list[_LineGroup], tol: int) -> list[_LineGroup]:
    """Tables never overlap: line groups whose extents overlap are pieces of one table."""
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _overlap(_extent(groups[i]), _extent(groups[j]), tol):
                    a, b = groups[i], groups.pop(j)
                    groups[i] = _LineGroup(a.hs + b.hs, a.vs + b.vs, a.h_pieces + b.h_pieces,
                                           a.v_pieces + b.v_pieces)
                    merged = True
                    break
            if merged:
                break
    return groups


@dataclass
class _LineGroup:
    """One table's ruling lines: bridged (whole rules) and the scanned pieces they are made of."""

    hs: list[Segment]
    vs: list[Segment]
    h_pieces: list[Segment]
    v_pieces: list[Segment]


def _inside(piece: Segment, rules: list[Segment], tol: int) -> int | None:
    for index, rule in enumerate(rules):
        if abs(rule.pos - piece.pos) <= tol and rule.start <= piece.start and piece.end <= rule.end:
            return index
    return None


def _table_groups(lines: PageLines, tol: int, dpi: int) -> list[_LineGroup]:
    """Split the page's ruling lines into tables: groups of lines that touch or overlap each other."""
    horizontal = lines.horizontal if lines.rule_horizontal is None else lines.rule_horizontal
    vertical = lines.vertical if lines.rule_vertical is None else lines.rule_vertical
    h_pieces, v_pieces = _segments(horizontal, True), _segments(vertical, False)
    gap = max(2 * tol, round(1.5 * _row_pitch(h_pieces, tol, dpi)))
    hs, vs = _connected_only(bridge_collinear(h_pieces, tol, gap), bridge_collinear(v_pieces, tol, gap),
                             tol, gap, long_line=2 * lines.min_line)
    if not hs or not vs:
        return []
    joined = np.zeros_like(lines.ink)
    for s in hs:
        cv2.line(joined, (s.start, s.pos), (s.end, s.pos), 255, max(1, s.thickness))
    for s in vs:
        cv2.line(joined, (s.pos, s.start), (s.pos, s.end), 255, max(1, s.thickness))
    joined = as_gray(cv2.dilate(joined, np.ones((2 * tol + 1, 2 * tol + 1), np.uint8)))
    count, labels = cv2.connectedComponents(joined, connectivity=8)
    groups = [_LineGroup([], [], [], []) for _ in range(count)]
    for s in hs:
        groups[labels[s.pos, (s.start + s.end) // 2]].hs.append(s)
    for s in vs:
        groups[labels[(s.start + s.end) // 2, s.pos]].vs.append(s)
    for piece in h_pieces:
        owner = _inside(piece, hs, tol)
        if owner is not None:
            groups[labels[hs[owner].pos, (hs[owner].start + hs[owner].end) // 2]].h_pieces.append(piece)
    for piece in v_pieces:
        owner = _inside(piece, vs, tol)
        if owner is not None:
            groups[labels[(vs[owner].start + vs[owner].end) // 2, vs[owner].pos]].v_pieces.append(piece)
    tables = [g for g in groups[1:] if g.hs and g.vs]
    _adopt_lone_rules([g for g in groups[1:] if not (g.hs and g.vs)], tables, tol)
    return _merge_overlapping(tables, tol)


def _adopt_lone_rules(lone: list[_LineGroup], tables: list[_LineGroup], tol: int) -> None:
    """Give a table the rest of its rules that a long dropout cut off from every crossing line.

    Only a run inside the table's frame and on the line of one of its rules is taken: it
    completes that rule, whereas a lone run elsewhere may be glyph strokes run together.
    """
    frames = [_extent(table) for table in tables]
    for group in lone:
        x0, y0, x1, y1 = _extent(group)
        for table, (fx0, fy0, fx1, fy1) in zip(tables, frames, strict=True):
            inside = fx0 - tol <= x0 and x1 <= fx1 + tol and fy0 - tol <= y0 and y1 <= fy1 + tol
            if inside and _on_known_lines(group, table, tol):
                table.hs.extend(group.hs)
                table.vs.extend(group.vs)
                table.h_pieces.extend(group.h_pieces)
                table.v_pieces.extend(group.v_pieces)
                break


def _on_known_lines(group: _LineGroup, table: _LineGroup, tol: int) -> bool:
    def aligned(segs: list[Segment], rules: list[Segment]) -> bool:
        return all(any(abs(s.pos - r.pos) <= tol for r in rules) for s in segs)

    return aligned(group.hs, table.hs) and aligned(group.vs, table.vs)


def _build_table(group: _LineGroup, lines: PageLines, tol: int) -> TableGrid | None:
    hs, vs = group.hs, group.vs
    rows = _boundaries(hs, vs, tol)
    cols = _boundaries(vs, hs, tol)
    if len(rows) < 3 or len(cols) < 3:
        return None  # a frame or a single strip is not a table
    if cols[-1] - cols[0] < 4 * lines.min_line or rows[-1] - rows[0] < 1.5 * lines.min_line:
        return None  # strokes of large title characters can form a tiny "grid"
    if _inside_a_text_line((cols[0], rows[0], cols[-1], rows[-1]), lines.ink):
        return None
    line_width = int(np.median([s.thickness for s in hs + vs]))
    band = max(3, line_width + 2)
    if lines.gray is not None:
        rows = _with_faint_lines(lines.gray, lines.ink, rows, cols, band, horizontal=True)
        cols = _with_faint_lines(lines.gray, lines.ink, cols, rows, band, horizontal=False)
    mask_h = as_gray(cv2.bitwise_or(lines.ink, lines.horizontal))
    mask_v = as_gray(cv2.bitwise_or(lines.ink, lines.vertical))
    regions = _merge_cells(rows, cols, (group.h_pieces, group.v_pieces), (mask_h, mask_v), band=band,
                           min_line=lines.min_line, gray=lines.gray)
    cells = tuple(
        GridCell(row=r0, col=c0, row_span=r1 - r0, col_span=c1 - c0,
                 bbox=(cols[c0], rows[r0], cols[c1], rows[r1]))
        for r0, c0, r1, c1 in regions
    )
    return TableGrid(bbox=(cols[0], rows[0], cols[-1], rows[-1]), rows=tuple(rows), cols=tuple(cols),
                     cells=cells, line_width=line_width)


def _with_faint_lines(gray: GrayImage, ink: GrayImage, across: list[int], along: list[int], band: int, *,
                      horizontal: bool) -> list[int]:
    """``across`` (row boundaries if ``horizontal``, else column ones) with the rules the masks lost
    and the grey page still shows: a faint trace running rule to rule along at least two
    neighbouring cells of a band, at one position, cutting no text (``_faint_rule_share``)."""
    found = list(across)
    pending = list(itertools.pairwise(across))
    while pending:
        low, high = pending.pop()
        position = _faint_line_in(gray, ink, (low, high), along, band, horizontal=horizontal)
        if position is not None:
            found.append(position)
            pending += [(low, position), (position, high)]
    return sorted(found)


def _faint_line_in(gray: GrayImage, ink: GrayImage, span: tuple[int, int], along: list[int], band: int, *,
                   horizontal: bool) -> int | None:
    """The position of a lost rule between ``span``'s boundaries, if its faint trace shows."""
    low, high = span
    margin = 3 * band
    if high - low < 2 * margin + 2:
        return None
    start, end = along[0], along[-1]
    # Kept in bytes: a band of a table whose rules are lost can be most of a page.
    window = np.ascontiguousarray(_strip(gray, (low, high), start, end, horizontal=horizontal).T)
    smooth = cv2.blur(window, (4 * band + 1, 1))  # along the line: rows of ``smooth`` run along it
    reach = band + 2
    size = smooth.shape[0] - 2 * reach
    centre = np.minimum(np.minimum(smooth[reach - 1:reach - 1 + size], smooth[reach:reach + size]),
                        smooth[reach + 1:reach + 1 + size])
    darker_side = np.minimum(smooth[:size], smooth[2 * reach:])
    profile = ((darker_side.astype(np.int16) - centre) > _FAINT_CONTRAST).mean(axis=1)
    offset = reach  # profile[i] is the position low + i + offset
    lo_index, hi_index = margin - offset, len(profile) - (margin - offset)
    if hi_index <= lo_index:
        return None
    best = lo_index + int(np.argmax(profile[lo_index:hi_index]))
    if profile[best] < _FAINT_TRACE:
        return None
    position = low + best + offset
    edges = [(position, a + band + 1, b - band - 1) for a, b in itertools.pairwise(along)]
    traced = [_faint_rule_share(gray, ink, edge, band, horizontal=horizontal) >= _FAINT_COVERAGE
              for edge in edges]
    runs = [len(list(group)) for value, group in itertools.groupby(traced) if value]
    if not runs or max(runs) < 2:
        return None
    # The trace must show where nothing but paper lies beside it, in two cells at least: the strokes
    # of text lined up (the right stems of a column of labels of one length, in a face whose thin
    # strokes the ink mask lost) pass for a rule only with the rest of their glyphs beside them.
    clear = [edge for seen, edge in zip(traced, edges, strict=True)
             if seen and _paper_beside(ink, edge, band, horizontal=horizontal)]
    return position if len(clear) >= 2 else None


def _paper_beside(ink: GrayImage, edge: tuple[int, int, int], band: int, *, horizontal: bool) -> bool:
    """No ink within a few rule widths of the edge on either side (the rule's own band left out)."""
    pos, lo, hi = edge
    far = _side_reach(band)
    if hi <= lo or pos - far < 0:
        return False
    marks = _strip(ink, (pos - far, pos + far + 1), lo, hi, horizontal=horizontal)
    return not (marks[:, :far - band].any() or marks[:, far + band + 1:].any())


def _inside_a_text_line(box: BBox, ink: GrayImage) -> bool:
    """Whether a grid stands inside a line of text: a glyph about as tall as the grid right beside it.

    The strokes of large heading characters can cross like rules and pass for a small table (two
    report covers). The heading's other characters stand beside them at the same height, where a
    table has paper: nothing that tall stands within half its height of a table's border.
    """
    x0, y0, x1, y1 = box
    height = y1 - y0
    reach = max(4, height // 2)
    top, bottom = max(0, y0 - height // 4), min(ink.shape[0], y1 + height // 4)
    for left, right in ((max(0, x0 - reach), max(0, x0 - 2)), (x1 + 2, min(ink.shape[1], x1 + reach))):
        if right - left < 2:
            continue
        stats = cv2.connectedComponentsWithStats(ink[top:bottom, left:right], connectivity=8)[2][1:]
        tall, wide = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
        if bool(((tall >= _GLYPH_BESIDE * height) & (wide >= 0.2 * tall)).any()):
            return True
    return False


def find_tables(gray: GrayImage, dpi: int, lines: PageLines | None = None) -> list[TableGrid]:
    """Every ruled table on the page, top to bottom then left to right."""
    lines = lines or page_lines(gray, dpi)
    tol = _tolerance(dpi)
    tables = []
    for group in _table_groups(lines, tol, dpi):
        table = _build_table(group, lines, tol)
        if table is not None:
            tables.append(table)
    tables.sort(key=lambda t: (t.bbox[1], t.bbox[0]))
    log.debug("found %d tables", len(tables))
    return tables
