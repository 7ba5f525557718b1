"""Find ruling lines that a scan broke into short dashes.

Long-kernel morphology (``ocr.grid``) needs runs of about 3 mm; a faint rule under noise,
a rule printed dashed, or one with many dropouts falls apart into runs shorter than that,
and a short cell edge (a header row, a narrow code column) may have no long run at all.
Such a rule is still obvious to a reader: thin strokes on one line, with short gaps and
empty paper on both sides. Glyph strokes are thin too, but a character has other strokes
right beside them, and stacked characters leave longer gaps than a broken rule does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt

from ocr.components import PackedLines, banded_stats, lines_at_least
from ocr.engines.base import GrayImage
from ocr.preprocess import as_gray

Run = tuple[int, int, int]  # a straight run of ink: position across it, start and end along it

# Share of a flank (the paper just beside a dash) that may hold ink: specks and the end of a
# crossing rule, but not the other strokes of a character.
_MAX_FLANK_INK = 0.06
# Share of a chain's length its dashes must cover.
_MIN_COVERAGE = 0.4
_MIN_DASHES = 3
_GAP_PER_DASH = 1.5
# Longest gap inside a rule as a share of the row height (a merged cell's gap is a whole row).
_GAP_PER_ROW = 0.6
# Longest gap a found rule is continued across, as a share of the row height.
_CONTINUE_PER_ROW = 0.8
# Share of a cell span the strokes of a broken rule cover (the scan's dropouts take the rest).
_MIN_SPAN_COVERAGE = 0.5
# A single-cell edge (too short for a long chain) must be drawn along most of its length
# and with nothing at all beside it.
_MIN_EDGE_COVERAGE = 0.6
_MAX_EDGE_FLANK_INK = 0.02
# Ink on both flanks of a short run that marks it as a character's stem, not a piece of rule:
# well above the isolation limit, as text may come close to one side of a rule.
_GLYPH_FLANK_INK = 0.12


@dataclass(frozen=True)
class _Dash:
    pos: int  # across the line
    start: int  # along the line
    end: int
    width: int


@dataclass(frozen=True)
class DashGeometry:
    """Sizes in pixels, all derived from the resolution."""

    shortest: int  # shortest dash kept
    thickest: int  # widest dash kept (rules are 1-3 px at print size)
    flank: int  # width of the paper checked beside a dash
    clearance: int  # distance from the dash where that check starts
    longest_gap: int  # largest gap inside one rule
    tolerance: int  # drift across the line allowed along a chain
    end_gap: int  # largest gap between a cell edge's strokes and the rules it joins
    # largest gap when continuing a rule already found: any dropout, but less than a row (a
    # merged cell's missing edge is a whole row long)
    continue_gap: int = 0

    @classmethod
    def for_dpi(cls, dpi: int) -> DashGeometry:
        return cls(shortest=max(6, round(dpi * 0.025)), thickest=max(4, round(dpi * 0.027)),
                   flank=max(5, round(dpi * 0.03)), clearance=max(2, round(dpi * 0.008)),
                   longest_gap=max(10, round(dpi * 0.1)), tolerance=max(2, round(dpi * 0.01)),
                   end_gap=max(10, round(dpi * 0.1)))

    def within_rows(self, row_pitch: int | None) -> DashGeometry:
        if not row_pitch:
            return self
        cap = max(self.shortest, round(_GAP_PER_ROW * row_pitch))
        return replace(self, longest_gap=min(self.longest_gap, cap), end_gap=min(self.end_gap, cap),
                       continue_gap=round(_CONTINUE_PER_ROW * row_pitch))


class PageRules:
    """One page's rule mask, and what is judged on it against a set of crossing rules.

    Line finding asks about the same crossings more than once per page (the long lines before
    and after glyph stems are dropped, and before and after dashed rules are added, are usually
    the same), and the judgement (which strokes stand in text, which are isolated, which chain
    into rules) is the bulk of the work; so each direction keeps its judgements for the page.
    """

    def __init__(self, mask: GrayImage, dpi: int, min_length: int) -> None:
        self.dpi = dpi
        self.min_length = min_length
        self.geometry = DashGeometry.for_dpi(dpi)
        self._frames = {True: mask, False: np.ascontiguousarray(mask.T)}
        # The last judgement per direction only: repeats come in turn, and each one is page-sized.
        self._clear: dict[bool, tuple[GrayImage, InkColumns]] = {}

    def frame(self, horizontal: bool) -> GrayImage:
        """The mask turned so that ``horizontal``'s lines run along its rows."""
        return self._frames[horizontal]

    def clear(self, other: GrayImage, *, horizontal: bool) -> InkColumns:
        """The frame without the long rules of ``other`` (the crossings, in the same frame)."""
        last = self._clear.get(horizontal)
        if last is not None and _same(last[0], other):
            return last[1]
        clear = InkColumns(_without_long_crossings(self.frame(horizontal), other, self.geometry,
                                                   self.min_length))
        self._clear[horizontal] = (other, clear)
        return clear

    def drop_glyph_stems(self, pieces: GrayImage, crossing: GrayImage, *, horizontal: bool) -> GrayImage:
        """``pieces`` without the runs shorter than a rule that have a character's strokes on both sides.

        Line finding bridges short collinear runs into rules. A glyph stem (the 禾 of 科) standing
        just past the end of a rule, in a cell the rule does not divide, would be bridged onto it
        and split the merged cell. Unlike the pieces of a broken rule, it has ink right beside it.
        Returns ``pieces`` itself when nothing is dropped, so callers can skip rebuilding lines.
        """
        geometry = self.geometry
        work = pieces if horizontal else np.ascontiguousarray(pieces.T)
        other = crossing if horizontal else np.ascontiguousarray(crossing.T)
        clear = self.clear(other, horizontal=horizontal)
        runs = PackedLines(work, along_rows=True)  # runs along the rows: few rows hold any
        labels, stats = runs.components()
        drop = np.zeros(len(stats), dtype=bool)
        for index in range(1, len(stats)):
            x, y, w, h, _area = stats[index]
            if w >= self.min_length or h > geometry.thickest:
                continue
            stem = _Dash(pos=int(y + h // 2), start=int(x), end=int(x + w), width=int(h))
            drop[index] = _flanked(stem, clear, geometry) or _in_text_line(stem, clear, other, geometry)
        if not drop.any():
            return pieces
        kept = runs.unpack(as_gray(np.where(drop[labels], 0, runs.packed).astype(np.uint8)))
        return kept if horizontal else np.ascontiguousarray(kept.T)

    def dashed_rules(self, rule_h: GrayImage, rule_v: GrayImage, *, row_pitch: int | None = None,
                     solid: tuple[Sequence[Run], Sequence[Run]] = ((), ())) -> tuple[GrayImage, GrayImage]:
        """Horizontal and vertical rules rebuilt from dashes, beside the long rules already found.

        Each direction's dashes are judged beside the other direction's rules, dashed ones
        included, so the horizontals are judged once more after the verticals they cross; the
        candidate strokes of each direction are found only once. ``solid`` are the runs of
        ``rule_h`` and ``rule_v`` as (pos, start, end), continued like the rules rebuilt here.
        """
        geometry = self.geometry.within_rows(row_pitch)
        across = _Direction(self, geometry, horizontal=True)
        down = _Direction(self, geometry, horizontal=False)
        solid_h, solid_v = solid
        first_h = across.rules(rule_v, anchors=solid_h)
        dashed_v = down.rules(as_gray(cv2.bitwise_or(rule_h, first_h)), anchors=solid_v)
        dashed_h = across.rules(as_gray(cv2.bitwise_or(rule_v, dashed_v)), anchors=solid_h)
        return dashed_h, dashed_v


def _same(a: GrayImage, b: GrayImage) -> bool:
    return a is b or (a.shape == b.shape and bool(np.array_equal(a, b)))


def _in_text_line(stem: _Dash, clear: InkColumns, crossing: GrayImage, geometry: DashGeometry) -> bool:
    """A stroke standing clear of anything along it, with a glyph of its own height beside it.

    Characters of one text line share their height: the "1" opening "1,503.52" has paper on its
    left, but "503" starts within a character's width on its right, running from the stem's top
    to its bottom. A piece of a broken rule ends where the rule broke, not where the text beside
    it does, and a piece of rule between two crossing rules reaches them.
    """
    length = stem.end - stem.start
    half = stem.width // 2 + geometry.clearance
    if _reaches_crossing(stem, crossing, geometry):
        return False
    for side in (-1, 1):
        near = stem.pos + side * half
        lo, hi = (near - length, near) if side < 0 else (near + 1, near + 1 + length)
        left = max(0, stem.start - length // 2)  # wider than the stem: a taller glyph shows as taller
        counts, rows = clear.band(max(0, lo), max(0, hi), left, stem.end + length // 2)
        if rows and counts.size and _same_extent(counts, rows, stem.start - left, length):
            return True
    return False


def _reaches_crossing(stem: _Dash, crossing: GrayImage, geometry: DashGeometry) -> bool:
    """A crossing rule right past either end (a glyph keeps the cell's padding from the rules)."""
    reach = 2 * geometry.clearance
    top, bottom = max(0, stem.pos - geometry.thickest), stem.pos + geometry.thickest + 1
    before = crossing[top:bottom, max(0, stem.start - reach):stem.start]
    after = crossing[top:bottom, stem.end:stem.end + reach]
    return bool(before.any() or after.any())


def _same_extent(counts: npt.NDArray[np.int64], rows: int, offset: int, length: int) -> bool:
    """The strip's ink (``counts`` per column of ``rows`` rows) starts where the stem starts and runs
    to its end (within an eighth of its length), or a little past it: punctuation (the comma of
    1,503) descends below the line."""
    along = np.flatnonzero(counts)
    if along.size == 0 or int(counts.sum()) / (rows * counts.size) < 0.05:
        return False
    slack = max(2, length // 8)
    past_end = int(along[-1]) + 1 - (offset + length)
    return abs(int(along[0]) - offset) <= slack and -slack <= past_end <= max(slack, length // 3)


def _clear_beside(dash: _Dash, clear: InkColumns, geometry: DashGeometry) -> bool:
    """Paper on both sides of the dash, wherever ink does not run through it from side to side.

    A crossing rule runs through a rule's line, so it inks both flanks at the same place; the
    strokes of a character joined onto a stem from one side ink one flank only.
    """
    flanks = _flanks(dash, clear, geometry)
    if flanks is None:
        return False
    (above, above_rows), (below, below_rows) = flanks
    alone = (above == 0) | (below == 0)
    columns = int(np.count_nonzero(alone))
    if not columns:
        return True
    above_share = int(above[alone].sum()) / (above_rows * columns)
    below_share = int(below[alone].sum()) / (below_rows * columns)
    return max(above_share, below_share) <= _MAX_FLANK_INK


def _flanked(dash: _Dash, clear: InkColumns, geometry: DashGeometry) -> bool:
    """Ink on both sides of the dash, well over what specks leave beside a rule."""
    ink = _flank_ink(dash, clear, geometry)
    return ink is not None and min(ink) > _GLYPH_FLANK_INK


def dashed_lines(mask: GrayImage, crossing: GrayImage, dpi: int, min_length: int, *,
                 horizontal: bool, row_pitch: int | None = None) -> GrayImage:
    """Mask of the rules (solid lines drawn in) rebuilt from chains of isolated dashes.

    ``mask`` is the page's binary ink (or rule) mask, ``crossing`` the long lines of the
    other direction, which are ignored when judging whether a dash stands alone.
    ``row_pitch`` (the table's row height, if known) caps the gaps: a merged cell leaves a
    gap of a whole row in a rule, which must not be bridged, whatever the resolution says.
    """
    page = PageRules(mask, dpi, min_length)
    return _Direction(page, page.geometry.within_rows(row_pitch), horizontal=horizontal).rules(crossing)


@dataclass(frozen=True)
class _Judged:
    """One direction's strokes judged against one set of crossing rules."""

    chains: list[Run]  # rules rebuilt from chains of isolated dashes
    steps: list[_Dash]  # strokes with paper beside them, what a found rule is continued through


class _Direction:
    """One direction's candidate strokes, in a frame where that direction runs along the rows."""

    def __init__(self, page: PageRules, geometry: DashGeometry, *, horizontal: bool) -> None:
        self.page = page
        self.horizontal = horizontal
        self.geometry = geometry
        self.work = page.frame(horizontal)
        self.candidates = _dashes(self.work, geometry)
        self._judged: tuple[GrayImage, _Judged] | None = None  # the last one (see PageRules)

    def rules(self, crossing: GrayImage, *, anchors: Sequence[Run] = ()) -> GrayImage:
        """Rules rebuilt from chains of isolated dashes, each one continued along its own line
        through the strokes there (see ``_continued``); ``anchors`` are this direction's solid
        rules as (pos, start, end), continued the same way."""
        other = crossing if self.horizontal else np.ascontiguousarray(crossing.T)
        judged = self._judge(other)
        out = np.zeros_like(self.work)
        for pos, start, end in judged.chains:
            out[pos, start:end] = 255
        # Text runs along the horizontal: glyph strokes join into horizontal runs as long as a
        # short rule, never into vertical ones; so only a horizontal run must prove itself.
        long_rule = 2 * self.page.min_length if self.horizontal else 0
        for pos, start, end in [*anchors, *judged.chains]:
            low, high = _continued((pos, start, end), judged.steps, other, self.geometry, long_rule)
            out[pos, low:start] = 255
            out[pos, end:high] = 255
        return out if self.horizontal else np.ascontiguousarray(out.T)

    def _judge(self, other: GrayImage) -> _Judged:
        if self._judged is not None and _same(self._judged[0], other):
            return self._judged[1]
        geometry = self.geometry
        clear = self.page.clear(other, horizontal=self.horizontal)
        # a stroke standing in a line of text is a character, neither a dash nor a filler
        strokes = [d for d in self.candidates if not _in_text_line(d, clear, other, geometry)]
        isolated = [_isolated(d, clear, geometry) for d in strokes]
        dashes = [d for d, alone in zip(strokes, isolated, strict=True) if alone]
        fillers = self._fillers([d for d, alone in zip(strokes, isolated, strict=True) if not alone], other)
        chains = []
        for chain in _chains(dashes, fillers, other, geometry):
            if _is_rule(chain, other, clear, geometry, self.page.min_length):
                # One pixel wide at the chain's centre line: the dashes' boxes are ragged and would
                # make the table's rules look thicker than they are; solid parts keep their own width.
                pos = round(float(np.median([d.pos for d in chain])))
                chains.append((pos, chain[0].start, chain[-1].end))
        # A piece of rule has paper on both sides, not counting the pieces of crossing rules (a
        # broken one is missing from ``other``); see ``_clear_beside``.
        steps = [d for d in strokes if _clear_beside(d, clear, geometry)]
        judged = _Judged(chains=chains, steps=steps)
        self._judged = (other, judged)
        return judged

    def _fillers(self, crowded: list[_Dash], other: GrayImage) -> list[_Dash]:
        """The strokes among ``crowded`` that are fillers (see ``_touches_crossing``)."""
        geometry = self.geometry
        touching = [d for d in crowded if _touches_crossing(d, other, geometry)]
        if not touching:
            return []
        around = np.ones((geometry.thickest, geometry.thickest), np.uint8)
        apart = InkColumns(as_gray(cv2.bitwise_and(self.work, cv2.bitwise_not(cv2.dilate(other, around)))))
        return [d for d in touching if _isolated(d, apart, geometry)]


def _continued(rule: Run, strokes: list[_Dash], crossing: GrayImage,
               geometry: DashGeometry, long_rule: int) -> tuple[int, int]:
    """How far a rule runs on past its found ends, one cell span at a time.

    A rule runs from crossing rule to crossing rule and lines up with itself from row to row.
    Where a scan broke it into short dashes beside text or crossing pieces (too crowded to pass
    as isolated dashes), its next cell span still holds strokes on its line over most of the
    span, with dropout-sized gaps only; a merged cell's edge has none, and glyph strokes in a
    line of text cover little of a span and stand in the text (they were never candidates here).
    """
    pos, start, end = rule
    if end - start < long_rule:
        return start, end  # may be strokes of text run together (a run as long as a short rule)
    on_line = [d for d in strokes if abs(d.pos - pos) <= geometry.tolerance]
    if not on_line:
        return start, end
    drawn = np.zeros(crossing.shape[1], dtype=bool)
    for dash in on_line:
        drawn[dash.start:dash.end] = True
    reach = geometry.thickest + geometry.tolerance
    met = np.asarray(crossing[max(0, pos - reach):pos + reach + 1].any(axis=0))
    crossings = run_centres(met)
    drawn |= met  # where a crossing rule meets it, a rule's strokes merge into the crossing one
    longest = geometry.continue_gap or geometry.longest_gap
    high = end
    for centre in (c for c in crossings if c > end + geometry.thickest):
        if not _drawn_span(drawn, high, centre, longest):
            break
        high = centre
    low = start
    for centre in (c for c in reversed(crossings) if c < start - geometry.thickest):
        if not _drawn_span(drawn, centre, low, longest):
            break
        low = centre
    return low, high


def run_centres(hits: npt.NDArray[np.bool_]) -> list[int]:
    """Centres of the runs of True in ``hits``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], hits.astype(np.int8), [0]))))
    return [int((a + b) // 2) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _drawn_span(drawn: npt.NDArray[np.bool_], start: int, end: int, longest_gap: int) -> bool:
    """Strokes cover most of ``start``..``end`` (a cell span), with no gap longer than ``longest_gap``."""
    span = drawn[start:end]
    if span.size == 0 or span.mean() < _MIN_SPAN_COVERAGE:
        return False
    return _longest_gap(span) <= longest_gap


def _without_long_crossings(work: GrayImage, crossing: GrayImage, geometry: DashGeometry,
                            min_length: int) -> GrayImage:
    """``work`` without the long crossing rules and the ragged ink around them.

    Crossing rules are not a character's strokes. Only long ones: the cross stroke of 十 joined
    to its neighbour's may pass the long-line filter.
    """
    around = np.ones((geometry.thickest, geometry.thickest), np.uint8)
    long_crossing = cv2.dilate(_long_runs(crossing, 2 * min_length), around)
    return as_gray(cv2.bitwise_and(work, cv2.bitwise_not(long_crossing)))


def _long_runs(crossing: GrayImage, min_extent: int) -> GrayImage:
    """The crossing lines (running down the rows of ``crossing``) at least ``min_extent`` long."""
    return lines_at_least(crossing, min_extent)


def _is_rule(chain: list[_Dash], crossing: GrayImage, clear: InkColumns, geometry: DashGeometry,
             min_length: int) -> bool:
    """A long chain of dashes, or a shorter one closing a cell between two crossing rules.

    A one-row edge (a narrow code column, a header row) is shorter than any long-line
    kernel; it counts when its strokes run nearly from one rule to the next and stand
    entirely alone. The stem of a character such as 十 in a short row comes close to both
    rules too, but leaves a wider margin and has its crossing stroke beside it.
    """
    length = chain[-1].end - chain[0].start
    covered = sum(d.end - d.start for d in chain)
    if covered < _MIN_COVERAGE * length:
        return False
    if length >= min_length and len(chain) >= _MIN_DASHES:
        return True
    # One or two strokes: only as a rule drawn along most of its length with nothing beside it,
    # long enough on its own or closing a cell between two crossing rules.
    if not all(_isolated(d, clear, geometry, _MAX_EDGE_FLANK_INK) for d in chain):
        return False
    if length >= min_length:
        return covered >= _MIN_EDGE_COVERAGE * length
    before = _distance_to_rule(chain[0].pos, chain[0].start, -1, crossing, geometry)
    after = _distance_to_rule(chain[-1].pos, chain[-1].end, 1, crossing, geometry)
    if before is None or after is None:
        return False
    span = length + before + after
    # Shorter than a line of text: the ragged edge of a thick crossing rule, not a cell edge.
    if span < min_length // 2:
        return False
    return covered >= _MIN_EDGE_COVERAGE * span


def _distance_to_rule(pos: int, end: int, direction: int, crossing: GrayImage,
                      geometry: DashGeometry) -> int | None:
    """Distance from ``end`` to a crossing rule (``direction`` -1: before it), if one is near."""
    band = crossing[max(0, pos - geometry.tolerance):pos + geometry.tolerance + 1]
    # From a little inside the stroke (it may run into or through the rule) outwards.
    for step in range(-geometry.thickest, geometry.end_gap + 1):
        at = end - step if direction < 0 else end - 1 + step
        if 0 <= at < band.shape[1] and band[:, at].any():
            return max(0, step)
    return None


def _dashes(work: GrayImage, geometry: DashGeometry) -> list[_Dash]:
    """Thin horizontal runs at least ``shortest`` long (the image is transposed for verticals)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (geometry.shortest, 1))
    runs = cv2.morphologyEx(work, cv2.MORPH_OPEN, kernel)
    stats = banded_stats(as_gray(runs))
    return [_Dash(pos=int(y + h // 2), start=int(x), end=int(x + w), width=int(h))
            for x, y, w, h, _ in stats[1:] if h <= geometry.thickest]


def _isolated(dash: _Dash, clear: InkColumns, geometry: DashGeometry,
              max_ink: float = _MAX_FLANK_INK) -> bool:
    """Paper on both sides: a rule dash has none of a character's neighbouring strokes."""
    ink = _flank_ink(dash, clear, geometry)
    return ink is not None and max(ink) <= max_ink


def _flank_ink(dash: _Dash, clear: InkColumns, geometry: DashGeometry) -> tuple[float, float] | None:
    """Share of inked pixels in the strips of paper just above and below the dash (None at the edge)."""
    flanks = _flanks(dash, clear, geometry)
    if flanks is None:
        return None
    (above, above_rows), (below, below_rows) = flanks
    return int(above.sum()) / (above_rows * above.size), int(below.sum()) / (below_rows * below.size)


Band = tuple[npt.NDArray[np.int64], int]  # ink per column of a band of rows, and its number of rows


def _flanks(dash: _Dash, clear: InkColumns, geometry: DashGeometry) -> tuple[Band, Band] | None:
    """The strips of ``clear`` just above and below the dash, along its length (None at the edge)."""
    half = dash.width // 2 + geometry.clearance
    top = dash.pos - half - geometry.flank
    above = clear.band(max(0, top), max(0, dash.pos - half), dash.start, dash.end)
    below = clear.band(dash.pos + half + 1, dash.pos + half + 1 + geometry.flank, dash.start, dash.end)
    if not (above[1] and above[0].size and below[1] and below[0].size):
        return None
    return above, below


class InkColumns:
    """A mask read a band of rows at a time, as ink counts per column (what the flank tests use)."""

    def __init__(self, mask: GrayImage) -> None:
        self.mask = mask

    def band(self, top: int, bottom: int, left: int, right: int) -> Band:
        """Ink per column of rows ``top:bottom`` and columns ``left:right`` (clipped like a slice)."""
        strip = self.mask[top:bottom, left:right]
        return np.count_nonzero(strip, axis=0), strip.shape[0]


def _touches_crossing(dash: _Dash, crossing: GrayImage, geometry: DashGeometry) -> bool:
    """A short dash that runs into a crossing rule: a filler if it is alone once that rule is set aside.

    A broken rule often keeps ink just where it meets a crossing one; that dash has the
    crossing's ink beside it, so it fails the isolation test, yet it belongs to the rule.
    Such a dash may fill a chain between isolated dashes, never start or end one: a glyph's
    stem crossing its own cross stroke would otherwise pass.
    """
    if dash.end - dash.start > 2 * geometry.longest_gap:
        return False
    reach = dash.width // 2 + geometry.clearance + geometry.flank
    band = crossing[max(0, dash.pos - reach):dash.pos + reach + 1, dash.start:dash.end]
    return bool(band.any())


def _chains(dashes: list[_Dash], fillers: list[_Dash], crossing: GrayImage,
            geometry: DashGeometry) -> list[list[_Dash]]:
    """Chains of isolated dashes on one line (fillers only between them), in order along it."""
    filler_set = set(fillers)
    chains = []
    for chain in _runs(dashes + fillers, crossing, geometry):
        alone = [i for i, dash in enumerate(chain) if dash not in filler_set]
        if alone:
            chains.append(chain[alone[0]:alone[-1] + 1])
    return chains


def _runs(dashes: list[_Dash], crossing: GrayImage, geometry: DashGeometry) -> list[list[_Dash]]:
    """Dashes on one line with gaps no longer than ``longest_gap``, in order along it."""
    chains: list[list[_Dash]] = []
    open_chains: list[list[_Dash]] = []
    for dash in sorted(dashes, key=lambda d: (d.start, d.pos)):
        target = None
        for chain in open_chains:
            last = chain[-1]
            # A gap longer than the dashes beside it is paper, not a dropout: this keeps
            # a solid rule from growing through noise grain past its end.
            beside = max(last.end - last.start, dash.end - dash.start)
            longest = min(geometry.longest_gap, _GAP_PER_DASH * beside)
            near = abs(last.pos - dash.pos) <= geometry.tolerance
            if near and _open_gap(last, dash, crossing, geometry) <= longest:
                target = chain
                break
        if target is None:
            target = []
            open_chains.append(target)
            chains.append(target)
        target.append(dash)
        open_chains = [c for c in open_chains if dash.start - c[-1].end <= 2 * geometry.longest_gap]
    return chains


def _open_gap(last: _Dash, dash: _Dash, crossing: GrayImage, geometry: DashGeometry) -> int:
    """Longest stretch of paper between two dashes, not counting a crossing rule in the gap.

    A rule often breaks on both sides of a junction; the two halves of that gap are each a
    dropout, while a merged cell's missing edge is one stretch a whole row long.
    """
    if dash.start <= last.end:
        return 0
    pos = (last.pos + dash.pos) // 2
    band = crossing[max(0, pos - geometry.tolerance):pos + geometry.tolerance + 1, last.end:dash.start]
    return _longest_gap(np.asarray(band.any(axis=0)))


def _longest_gap(hits: npt.NDArray[np.bool_]) -> int:
    """Length of the longest run of False in ``hits``."""
    longest = run = 0
    for hit in hits.tolist():
        run = 0 if hit else run + 1
        longest = max(longest, run)
    return longest
