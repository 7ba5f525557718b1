"""Cut table cells out of the page, clean them, and read them with an OCR engine.

Each cell is cropped inside its ruling lines, line stubs are erased, and the crop
is trimmed to its ink: OCR engines misread digits next to a stray line stub far
more often than on clean crops. Dust is removed too: marks smaller than ~40 % of the
table's glyph height that are off a text line, beyond its ends or high between its
glyphs (scanner specks were read as . · ' * + around amounts and in blank cells).
Blank cells are never sent to the engine. Cells
holding several text lines are split by horizontal projection, and every line of
every cell goes to the engine in one batch.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ocr.contract import Cell
from ocr.engines.base import CellCrop, CellKind, GrayImage, OcrEngine, Recognition
from ocr.grid import GridCell, PageLines, TableGrid
from ocr.lexicon import Lexicon, correct_cell
from ocr.preprocess import as_gray
from ocr.textnorm import carry_scores, join_lines, normalise, numeric_reading, strip_noise
from ocr.textrows import CellText, InkRun, split_rows

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class InkLayout:
    """The cleaned ink of one region: line boxes (page coords) inside it."""

    lines: tuple[Box, ...]


def _speck_area(dpi: int) -> int:
    return max(2, round(3 * (dpi / 200) ** 2))


def _blank_area(dpi: int) -> int:
    return max(6, round(14 * (dpi / 200) ** 2))


def clean_ink(lines: PageLines, box: Box, line_width: int) -> tuple[GrayImage, GrayImage]:
    """Ink inside ``box`` with ruling lines and border-touching stubs removed, and the rule mask."""
    x0, y0, x1, y1 = box
    ink = lines.ink[y0:y1, x0:x1]
    rules = cv2.bitwise_or(lines.horizontal[y0:y1, x0:x1], lines.vertical[y0:y1, x0:x1])
    rules = _reaching_the_edge(as_gray(cv2.dilate(rules, np.ones((3, 3), np.uint8))))
    cleaned = as_gray(cv2.bitwise_and(ink, cv2.bitwise_not(rules)))
    return _drop_border_stubs(cleaned, max(2, line_width + 2)), rules


def _reaching_the_edge(rules: GrayImage) -> GrayImage:
    """The runs of ``rules`` that reach the region's edge.

    The region lies inside its cell's ruling lines, so a rule of the table reaches its edge; a
    long run that stands inside it, clear of every edge, is a stroke of the text (the bar of 一
    in a large heading is longer than the shortest rule: erased, "一般公共预算" read "般公共预算").
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(rules, connectivity=8)
    if count <= 1:
        return rules
    height, width = rules.shape[:2]
    x, y, w, h = stats[1:, 0], stats[1:, 1], stats[1:, 2], stats[1:, 3]
    margin = 2  # a skewed rule may stand a pixel or two inside the region along part of its length
    inside = (x > margin) & (y > margin) & (x + w < width - margin) & (y + h < height - margin)
    return _without(rules, labels, list(np.flatnonzero(inside) + 1))


def _drop_border_stubs(mask: GrayImage, thin: int) -> GrayImage:
    """Remove thin slivers hugging the crop edge (what is left of a ruling line).

    A sliver of a slightly skewed rule may stand a pixel or two inside the crop; it still
    hugs the edge, and left in place it stretches the text line around it.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    height, width = mask.shape[:2]
    near = max(1, thin // 2)
    drop = []
    for label in range(1, count):
        x, y, w, h, _ = stats[label]
        touches_x = x <= near or x + w >= width - near
        touches_y = y <= near or y + h >= height - near
        if (touches_x and w <= thin) or (touches_y and h <= thin):
            drop.append(label)
    return _without(mask, labels, drop)


def _without(mask: GrayImage, labels: npt.NDArray[Any], drop: Sequence[int | np.integer[Any]]) -> GrayImage:
    """``mask`` with the connected components labelled ``drop`` erased (a copy if any)."""
    if not drop:
        return mask
    out = mask.copy()
    out[np.isin(labels, np.asarray(drop, dtype=np.int64))] = 0
    return out


# A mark no larger than this fraction of the table's glyph height in both directions is a "small
# mark": a decimal point, comma or 、 when it sits on a text line, dust otherwise (scan specks are
# 2-7 px dots and short hairs at 300 dpi; glyphs are 25-45 px tall).
_SMALL_MARK = 0.4
# A small mark further than this (x glyph height) beyond the first or last glyph of its line is not
# part of the line: real leading or trailing punctuation in a table cell is tall ( ) [ ] %.
_EDGE_GAP = 0.25
# Inside a line, punctuation sits low (. , 、 。); a small mark whose centre is above this fraction
# of the line's height from its top is dust.
_LOW_MARK = 0.45
# How far (x glyph height) above or below a line a mark may stand and still belong to it (the dot
# on top of 六 or 文 when the rest of the line is no taller).
_NEAR_LINE = 0.2
# Each stroke of a quotation mark is at least this tall (x glyph height); scan dust is smaller dots.
_QUOTE_STROKE = 0.25
# A flat hairline broken by the scan: pieces at most this tall (x glyph height), gaps between them at
# most _BAR_GAP, the whole at least _BAR_SPAN long (a 一 or hyphen is 0.5-1 glyph wide; dust is dots).
_HAIRLINE = 0.15
_BAR_GAP = 0.4
_BAR_SPAN = 0.5
# A glyph of the text stands at least this tall (x glyph or line height): a digit's height; shorter,
# thin and alone, a stroke is no character (a sliver a broken rule left, not the 1 beside it).
_DIGIT_HEIGHT = 0.55
_SLIVER_WIDTH = 0.25


def glyph_height(masks: list[GrayImage]) -> int:
    """Typical glyph height of a table: median height of the components that are not small marks."""
    heights: list[int] = []
    for mask in masks:
        if mask.size:
            _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            heights.extend(int(h) for h in stats[1:, cv2.CC_STAT_HEIGHT])
    if not heights:
        return 0
    tall = float(np.percentile(heights, 90))
    return round(float(np.median([h for h in heights if h >= 0.5 * tall])))


def drop_specks(mask: GrayImage, glyph: int) -> GrayImage:
    """Remove dust: small marks that are not on a text line, beyond its ends, or high inside it
    (unless two of them side by side make a quotation mark).

    A cell holding nothing but small marks comes back empty, so it is read as blank; a dash counts
    as a glyph, not as a small mark.
    """
    if glyph <= 0 or not mask.any():
        return mask
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    comps = np.asarray(stats[1:], dtype=np.int32)
    limit = _SMALL_MARK * glyph
    dashes = np.array([_is_dash(comp, glyph) for comp in comps], dtype=bool)  # a nil amount
    small = (comps[:, cv2.CC_STAT_WIDTH] <= limit) & (comps[:, cv2.CC_STAT_HEIGHT] <= limit)
    pieces = np.flatnonzero(small | dashes)  # what a broken hairline bar is made of
    small &= ~dashes
    small |= _stray_slivers(comps, small, glyph)
    core = comps[~small]
    bands = _text_bands(core)
    bars = _broken_bars(comps[pieces], bands, glyph)
    in_bars = {int(index) for index, bar in zip(pieces, bars, strict=True) if bar}
    loose = [index for index in np.flatnonzero(small)
             if index not in in_bars and not _on_line(comps[index], bands, core, glyph)]
    quotes = _quote_halves(comps[loose], bands, glyph)
    drop = [index + 1 for index, quote in zip(loose, quotes, strict=True) if not quote]
    return _without(mask, labels, drop)


def _stray_slivers(comps: npt.NDArray[np.int32], small: npt.NDArray[np.bool_],
                   glyph: int) -> npt.NDArray[np.bool_]:
    """Thin upright strokes shorter than a digit with no glyph within a glyph's width of them: what a
    rule's corner or a broken rule leaves in a cell. Taken as small marks, so dust unless on a line
    (a 1 is as tall as the digits beside it; the short strokes of 小 or 心 stand beside the rest of it)."""
    x, y = comps[:, cv2.CC_STAT_LEFT], comps[:, cv2.CC_STAT_TOP]
    w, h = comps[:, cv2.CC_STAT_WIDTH], comps[:, cv2.CC_STAT_HEIGHT]
    thin = (w <= _SLIVER_WIDTH * glyph) & (h >= 2 * w) & (h < _DIGIT_HEIGHT * glyph) & ~small
    out = np.zeros(len(comps), dtype=bool)
    for index in np.flatnonzero(thin):
        near_rows = (y < y[index] + h[index] + glyph / 2) & (y + h > y[index] - glyph / 2)
        near_cols = (x < x[index] + w[index] + glyph) & (x + w > x[index] - glyph)
        others = near_rows & near_cols & ~small
        others[index] = False
        out[index] = not others.any()
    return out


# Share of the crop's height (width) a remnant of a vertical (horizontal) rule runs along.
_REMNANT_SPAN = 0.75


def drop_rule_remnants(mask: GrayImage, glyph: int, thin: int) -> GrayImage:
    """Remove what is left of a ruling line along the crop edge: long, stroke-thin, hugging it.

    The corner where a broken rule meets a crossing one leaves an L of two thin strokes in a
    corner of the crop, which is no sliver; read, it becomes a stray dash or 丨 beside the
    text, and it stretches the text line so that a decimal point looks like dust. It runs along
    most of the edge it hugs, or lies along the two edges of a corner, as no glyph beside the edge does.
    """
    if glyph <= 0 or not mask.any():
        return mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    height, width = mask.shape[:2]
    drop = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area > thin * (w + h):
            continue  # not made of thin strokes
        side = x <= thin or x + w >= width - thin
        top_or_bottom = y <= thin or y + h >= height - thin
        along_side = side and h >= _REMNANT_SPAN * height
        along_top = top_or_bottom and w >= _REMNANT_SPAN * width
        corner = side and top_or_bottom and max(w, h) >= 0.5 * glyph
        if along_side or along_top or (corner and _mostly_on_the_frame(labels == label, thin)):
            drop.append(label)
    return _without(mask, labels, drop)


def _mostly_on_the_frame(component: npt.NDArray[np.bool_], thin: int) -> bool:
    """Whether most of a component's ink lies within ``thin`` of the crop's edges: the two strokes of a
    rule's corner do; a glyph of a light face standing in the corner of its cell only touches them
    (the 支 of a wrapped 支出 against the left rule and the bottom: dropped, it read "出")."""
    frame = np.ones_like(component)
    frame[thin:-thin, thin:-thin] = False
    return 2 * int((component & frame).sum()) >= int(component.sum())


def _quote_halves(marks: npt.NDArray[np.int32], bands: list[Box], glyph: int) -> list[bool]:
    """Which loose marks are halves of a quotation mark (“ ” ‘ ’ as pairs): two strokes of one size,
    taller than wide, side by side at one height, up in a text line. Dust comes alone or at random;
    a matched pair is the mark's own shape, so it is kept where a single high mark would be dropped."""
    paired = [False] * len(marks)
    strokes = [i for i, mark in enumerate(marks) if _quote_stroke(mark, glyph)]
    for i, j in itertools.combinations(strokes, 2):
        in_line = _in_a_line(marks[i], bands, glyph) or _in_a_line(marks[j], bands, glyph)
        if in_line and _twins(marks[i], marks[j]):
            paired[i] = paired[j] = True
    return paired


def _broken_bars(marks: npt.NDArray[np.int32], bands: list[Box], glyph: int) -> list[bool]:
    """Which small marks are pieces of one flat hairline stroke broken by the scan (the 一 of 一级指标,
    the top bar of 二 in a light Song face at 200 dpi): flat pieces in one row, short gaps between
    them, inked over most of a length of at least half a glyph, in a text line's height beside or
    inside it. Dust does not line up flat and dense over half a glyph."""
    flat = [i for i, mark in enumerate(marks)
            if int(mark[cv2.CC_STAT_WIDTH]) >= int(mark[cv2.CC_STAT_HEIGHT]) and _thin(mark, glyph)]
    kept = [False] * len(marks)
    for chain in _chains(sorted(flat, key=lambda i: int(marks[i][cv2.CC_STAT_LEFT])), marks, glyph):
        if len(chain) >= 2 and _one_bar(marks[chain], bands, glyph):
            for i in chain:
                kept[i] = True
    return kept


def _one_bar(pieces: npt.NDArray[np.int32], bands: list[Box], glyph: int) -> bool:
    """Pieces (left to right) long enough together, inked over most of their length, ending in a line."""
    left = int(pieces[0][cv2.CC_STAT_LEFT])
    right = int((pieces[:, cv2.CC_STAT_LEFT] + pieces[:, cv2.CC_STAT_WIDTH]).max())
    inked = int(pieces[:, cv2.CC_STAT_WIDTH].sum())
    ends_in_line = all(_in_a_line(piece, bands, glyph, beside=glyph) for piece in (pieces[0], pieces[-1]))
    return right - left >= _BAR_SPAN * glyph and 2 * inked >= right - left and ends_in_line


def _thin(mark: npt.NDArray[np.int32], glyph: int) -> bool:
    return int(mark[cv2.CC_STAT_HEIGHT]) <= max(2, round(_HAIRLINE * glyph))


def _chains(order: list[int], marks: npt.NDArray[np.int32], glyph: int) -> list[list[int]]:
    """Runs of marks, left to right, each sharing a pixel row with the last and at most a bar gap after it."""
    chains: list[list[int]] = []
    for i in order:
        x, y, _, h = (int(v) for v in marks[i][:4])
        if chains:
            px, py, pw, ph = (int(v) for v in marks[chains[-1][-1]][:4])
            if x - (px + pw) <= _BAR_GAP * glyph and y < py + ph and py < y + h:
                chains[-1].append(i)
                continue
        chains.append([i])
    return chains


def _quote_stroke(mark: npt.NDArray[np.int32], glyph: int) -> bool:
    width, height = int(mark[cv2.CC_STAT_WIDTH]), int(mark[cv2.CC_STAT_HEIGHT])
    return height >= _QUOTE_STROKE * glyph and height > width


def _twins(a: npt.NDArray[np.int32], b: npt.NDArray[np.int32]) -> bool:
    """Two strokes of one height, tops level, side by side with at most a stroke's height between them."""
    (ax, ay, aw, ah), (bx, by, bw, bh) = (tuple(int(v) for v in m[:4]) for m in (a, b))
    alike = max(ah, bh) <= 1.5 * min(ah, bh) and abs(ay - by) <= 0.25 * max(ah, bh)
    gap = max(ax, bx) - min(ax + aw, bx + bw)
    return alike and 0 <= gap <= max(ah, bh)


def _in_a_line(mark: npt.NDArray[np.int32], bands: list[Box], glyph: int, beside: float = 0.0) -> bool:
    """A mark within a text line's height (or just above it), no further than the edge gap (or
    ``beside``, if more) beyond its ends."""
    x, y, w, h = (int(v) for v in mark[:4])
    gap, reach = max(_EDGE_GAP * glyph, beside), _NEAR_LINE * glyph
    return any(top - reach <= y and y + h <= bottom and left - gap <= x + w and x <= right + gap
               for left, top, right, bottom in bands)


def _is_dash(comp: npt.NDArray[np.int32], glyph: int) -> bool:
    """A printed dash: a flat bar of a stroke's thickness; a dust hair is one pixel thin or slanted."""
    width, height = int(comp[cv2.CC_STAT_WIDTH]), int(comp[cv2.CC_STAT_HEIGHT])
    return height >= 2 and width >= 2.5 * height and width >= 0.2 * glyph


def _text_bands(core: npt.NDArray[np.int32]) -> list[Box]:
    """Boxes of the text lines formed by glyphs whose vertical extents overlap (一 joins its line)."""
    bands: list[list[int]] = []
    for x, y, w, h, _ in sorted(core.tolist(), key=lambda comp: int(comp[1])):
        if bands and y < bands[-1][3]:
            band = bands[-1]
            band[0], band[2], band[3] = min(band[0], x), max(band[2], x + w), max(band[3], y + h)
        else:
            bands.append([x, y, x + w, y + h])
    return [(b[0], b[1], b[2], b[3]) for b in bands]


def _on_line(mark: npt.NDArray[np.int32], bands: list[Box], core: npt.NDArray[np.int32], glyph: int) -> bool:
    """Whether a small mark belongs to the text line it overlaps (or touches from above or below).

    Kept: marks low in the line next to its glyphs (. , 、 。) and marks standing over or under a
    larger part of a glyph (the dots of 学, 六, 术). Dropped: marks off every line, beyond a line's
    ends, and marks high in the line in the gap between glyphs.
    """
    x, y, w, h = (int(v) for v in mark[:4])
    reach, gap = _NEAR_LINE * glyph, _EDGE_GAP * glyph
    for left, top, right, bottom in bands:
        if not (top - reach < y + h and bottom + reach > y):
            continue
        if x + w < left - gap or x > right + gap:
            return False
        if y + h / 2 >= top + _LOW_MARK * (bottom - top):
            return True
        centre = x + w / 2
        starts, ends = core[:, cv2.CC_STAT_LEFT], core[:, cv2.CC_STAT_LEFT] + core[:, cv2.CC_STAT_WIDTH]
        return bool(((starts <= centre) & (ends >= centre)).any())
    return False


def _ink_box(mask: GrayImage, dpi: int) -> Box | None:
    """Tight box around the ink that is more than specks, or None if the region is blank."""
    if mask.size == 0:  # a cell too small to crop (OpenCV refuses empty images)
        return None
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= _speck_area(dpi)]
    if keep.size == 0 or int(keep[:, cv2.CC_STAT_AREA].sum()) < _blank_area(dpi):
        return None
    x0 = int(keep[:, 0].min())
    y0 = int(keep[:, 1].min())
    x1 = int((keep[:, 0] + keep[:, 2]).max())
    y1 = int((keep[:, 1] + keep[:, 3]).max())
    return x0, y0, x1, y1


def split_lines(mask: GrayImage, dpi: int) -> list[Box]:
    """Text lines in a cleaned mask (region coords), top to bottom, each trimmed to its ink."""
    box = _ink_box(mask, dpi)
    if box is None:
        return []
    x0, y0, x1, y1 = box
    rows = mask[y0:y1, x0:x1].max(axis=1) > 0
    bands: list[list[int]] = []
    start = None
    for index, value in enumerate(np.append(rows, False)):
        if value and start is None:
            start = index
        elif not value and start is not None:
            bands.append([start, index])
            start = None
    bands = _merge_thin_bands(bands)
    result = []
    for top, bottom in bands:
        sub = _ink_box(mask[y0 + top:y0 + bottom, x0:x1], dpi)
        if sub is not None:
            result.append((x0 + sub[0], y0 + top + sub[1], x0 + sub[2], y0 + top + sub[3]))
    return result


def _merge_thin_bands(bands: list[list[int]]) -> list[list[int]]:
    """Fold bands much thinner than a text line (dots, underscores, accents) into a neighbour."""
    if len(bands) <= 1:
        return bands
    tallest = max(b - t for t, b in bands)
    merged = [list(b) for b in bands]
    changed = True
    while changed and len(merged) > 1:
        changed = False
        for i, (top, bottom) in enumerate(merged):
            if bottom - top >= 0.45 * tallest:
                continue
            last = i == len(merged) - 1
            closer_above = i > 0 and not last and top - merged[i - 1][1] <= merged[i + 1][0] - bottom
            j = i - 1 if last or closer_above else i + 1
            merged[min(i, j)] = [min(merged[i][0], merged[j][0]), max(merged[i][1], merged[j][1])]
            del merged[max(i, j)]
            changed = True
            break
    return merged


def classify_kind(mask: GrayImage) -> CellKind:
    """Numeric if every full-height glyph is narrow (digits) and the rest are small marks (, . -)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    height = mask.shape[0]
    if count <= 1 or height == 0:
        return "text"
    if count == 2 and mask.shape[1] >= 2.5 * height:
        return "numeric"  # a lone dash (nil amount)
    narrow = wide = 0
    for _, _, w, h, area in stats[1:]:
        if h >= _DIGIT_HEIGHT * height:
            if w <= 0.85 * h:
                narrow += area
            else:
                wide += area
        elif h >= 0.4 * height or w >= 0.7 * height:
            wide += area  # mid-size pieces belong to CJK radicals, not to digits or punctuation
    return "numeric" if narrow > 0 and wide <= 0.08 * (narrow + wide) else "text"


def _inner_box(cell: GridCell, inset: int, page_shape: tuple[int, ...]) -> Box:
    x0, y0, x1, y1 = cell.bbox
    height, width = page_shape[:2]
    return (max(0, x0 + inset), max(0, y0 + inset), min(width, x1 - inset + 1), min(height, y1 - inset + 1))


@dataclass(frozen=True)
class CellLines:
    """The line crops of one grid cell, top to bottom (none for a blank cell)."""

    grid: GridCell
    crops: tuple[CellCrop, ...]


@dataclass(frozen=True)
class _CleanCell:
    grid: GridCell
    region: Box  # page coordinates of the crop inside the cell's rules
    mask: GrayImage
    rule_ink: GrayImage  # taken out of the ink as rules and what they left (stubs, remnants)
    specks: GrayImage  # taken out of the ink as dust
    lines: list[Box]  # region coordinates


def _clean_cells(table: TableGrid, lines: PageLines, dpi: int,
                 cuts: frozenset[int] = frozenset()) -> tuple[list[_CleanCell], int]:
    """Every grid cell's ink with rules, stubs and specks removed, its text lines, and the glyph height.

    ``cuts`` are the row boundaries the text drew where the rules were lost: the dashes the scan
    left of those rules go too.
    """
    inset = max(1, table.line_width // 2)
    cleaned: list[tuple[GridCell, Box, GrayImage, GrayImage]] = []
    for cell in table.cells:
        box = _inner_box(cell, inset, lines.ink.shape)
        if box[2] - box[0] < 3 or box[3] - box[1] < 3:
            cleaned.append((cell, box, lines.ink[0:0, 0:0], lines.ink[0:0, 0:0]))
            continue
        cleaned.append((cell, box, *clean_ink(lines, box, table.line_width)))
    glyph = glyph_height([mask for _, _, mask, _ in cleaned])
    found = []
    for cell, box, dusty, rules in cleaned:
        if dusty.size == 0:  # a cell too thin to crop (OpenCV refuses empty images)
            found.append(_CleanCell(cell, box, dusty, dusty, dusty, []))
            continue
        top, bottom = cell.bbox[1] in cuts, cell.bbox[3] in cuts
        ink = _drop_cut_remnants(dusty, glyph, top=top, bottom=bottom) if top or bottom else dusty
        ink = drop_rule_remnants(ink, glyph, table.line_width + 2)
        mask = drop_specks(ink, glyph)
        x0, y0, x1, y1 = box
        rule_ink = cv2.bitwise_or(rules, cv2.bitwise_and(lines.ink[y0:y1, x0:x1], cv2.bitwise_not(ink)))
        specks = cv2.bitwise_and(ink, cv2.bitwise_not(mask))
        found.append(_CleanCell(cell, box, mask, as_gray(rule_ink), as_gray(specks), split_lines(mask, dpi)))
    return found, glyph


# How far (x glyph height) from an edge the text drew a dash of the lost rule may lie: the cut runs
# along the middle of the gap between two rows, the rule lay somewhere in that gap.
_NEAR_CUT = 0.5


def _drop_cut_remnants(mask: GrayImage, glyph: int, *, top: bool, bottom: bool) -> GrayImage:
    """Flat bars near an edge the text drew, at heights where the cell holds no other ink: the
    dashes of the lost rule (a dash or 一 of the text shares its height with the rest of its line,
    and a nil amount's dash stands at a line's height, away from the edge)."""
    if glyph <= 0 or not mask.any():
        return mask
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    y, w, h = stats[1:, cv2.CC_STAT_TOP], stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    flat = (h <= max(2, _BAR * glyph)) & (w >= 2.5 * h)
    text = np.zeros(mask.shape[0] + 1, dtype=np.int32)
    for start, height in zip(y[~flat].tolist(), h[~flat].tolist(), strict=True):
        text[start] += 1
        text[start + height] -= 1
    beside_text = np.cumsum(text)[:-1] > 0
    near = max(3, round(_NEAR_CUT * glyph))
    at_edge = (top & (y <= near)) | (bottom & (y + h >= mask.shape[0] - near))
    drop = [i + 1 for i in np.flatnonzero(flat & at_edge) if not beside_text[y[i]:y[i] + h[i]].any()]
    return _without(mask, labels, drop)


def _crops(gray: GrayImage, found: list[_CleanCell]) -> list[CellLines]:
    heights = [b[3] - b[1] for cell in found for b in cell.lines]
    min_height = round(0.8 * float(np.median(heights))) if heights else 0
    return [CellLines(cell.grid, tuple(_make_crop(gray, cell, line_box,
                                                  min_height=min_height)
                                       for line_box in cell.lines))
            for cell in found]


# How far (x line height, both sides together) from the text's ink dust counts as part of the text,
# and the page is kept along the text's rows: a light font's hairline strokes break into specks and
# broken bars at 200 dpi (the dots over 常, the bars of 上), which the recogniser reads as the glyph.
_SPECK_REACH = 0.3


def cut_cell_lines(gray: GrayImage, table: TableGrid, lines: PageLines, dpi: int) -> list[CellLines]:
    """Every grid cell of ``table`` as the line crops a recogniser reads: rules and specks removed."""
    return _crops(gray, _clean_cells(table, lines, dpi)[0])


def cut_table(gray: GrayImage, table: TableGrid, lines: PageLines,
              dpi: int) -> tuple[TableGrid, list[CellLines]]:
    """``table`` with the rows its text lines show where its rules do not (``ocr.textrows``), and
    every cell's line crops."""
    found, glyph = _clean_cells(table, lines, dpi)
    split = split_rows(table, [_cell_text(cell, glyph, dpi) for cell in found], glyph)
    if split is not table:
        log.debug("rows from text lines: %d -> %d rows", table.n_rows, split.n_rows)
        found, _ = _clean_cells(split, lines, dpi, frozenset(split.rows) - frozenset(table.rows))
    return split, _crops(gray, found)


# A flat bar no taller than this fraction of the glyph height (and at least 2.5 times as long) is
# left out when the text lines decide the rows: the remnants of a faint rule lie along the gap
# between two rows, and joined to a text line they would close the gap. A nil dash, 一 or an
# underline is such a bar too; the rest of its line still stands, and a dash alone shows no row.
# A stroke as thin and taller than any glyph is what is left of a column rule.
_BAR = 0.3


def _cell_text(cell: _CleanCell, glyph: int, dpi: int) -> CellText:
    """The evidence ``ocr.textrows`` weighs: text lines without flat bars, ink runs with them
    (a hyphen or a dash joins the parts of a date or an amount), both without rule slivers."""
    if not cell.mask.any():  # blank, or a sliver of a cell too thin to crop
        return CellText(cell.grid, ())
    flat, tall = _rule_traces(cell.mask, glyph)
    lines = split_lines(_cleared(cell.mask, flat | tall, glyph), dpi)
    runs = _ink_runs(_cleared(cell.mask, tall, glyph), cell.region[0], glyph, dpi)
    return CellText(cell.grid, tuple(_on_page(cell.region, line) for line in lines), runs)


def _rule_traces(mask: GrayImage, glyph: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per component (label - 1) of ``mask``: flat bars, and slivers taller than any glyph."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    width, height = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    thin = max(2, _BAR * glyph)
    return (height <= thin) & (width >= 2.5 * height), (width <= thin) & (height >= 1.2 * glyph)


def _cleared(mask: GrayImage, drop: npt.NDArray[np.bool_], glyph: int) -> GrayImage:
    """``mask`` without the components flagged in ``drop``, and without the dust they held on a line."""
    if glyph <= 0 or not drop.any():
        return mask
    _, labels, _, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return drop_specks(_without(mask, labels, list(np.flatnonzero(drop) + 1)), glyph)


_RUN_GAP = 0.5
_DIGIT_WIDTH = 0.4


def _ink_runs(mask: GrayImage, left: int, glyph: int, dpi: int) -> tuple[InkRun, ...]:
    """Stretches of ink across the cell (page x), joined over gaps narrower than half a glyph:
    the characters of one word or the digits of one amount stay together, an amount and the
    label beside it (each a cell's padding from the rule between them) do not."""
    if glyph <= 0 or not mask.any():
        return ()
    inked = np.flatnonzero(mask.max(axis=0) > 0)
    breaks = np.flatnonzero(np.diff(inked) > _RUN_GAP * glyph)
    starts = np.concatenate(([inked[0]], inked[breaks + 1]))
    ends = np.concatenate((inked[breaks], [inked[-1]])) + 1
    runs = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        part = mask[:, start:end]
        rows = np.flatnonzero(part.max(axis=1) > 0)
        # One line of at least one digit's width: a sliver of a broken rule is narrow and tall too.
        one_amount = end - start >= _DIGIT_WIDTH * glyph and rows[-1] - rows[0] < 1.5 * glyph
        numeric = one_amount and _digits(part[rows[0]:rows[-1] + 1], glyph) >= 2 \
            and classify_kind(part[rows[0]:rows[-1] + 1]) == "numeric"
        runs.append(InkRun(left + start, left + end, numeric))
    return tuple(runs)


def _digits(mask: GrayImage, glyph: int) -> int:
    """Glyph-high marks in ``mask``: one alone (目, 日 look like a digit) is not yet an amount."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return int((stats[1:, cv2.CC_STAT_HEIGHT] >= 0.5 * glyph).sum())


def _on_page(region: Box, line: Box) -> Box:
    return (region[0] + line[0], region[1] + line[1], region[0] + line[2], region[1] + line[3])


def read_cut_cells(cells: list[CellLines], engine: OcrEngine, *,
                   lexicon: Lexicon | None = None) -> list[Cell]:
    """The cells read from their line crops in one batch; labels checked against ``lexicon``
    (known terms, passed in by the caller) where one is given."""
    crops = [crop for cell in cells for crop in cell.crops]
    results = iter(engine.recognize(crops) if crops else [])
    return [_cell_of(cell, [next(results) for _ in cell.crops], lexicon) for cell in cells]


def read_table_cells(gray: GrayImage, table: TableGrid, lines: PageLines, engine: OcrEngine,
                     dpi: int, *, lexicon: Lexicon | None = None) -> list[Cell]:
    """Every grid cell of ``table`` (as the rules draw it) with its text, confidence and bbox."""
    return read_cut_cells(cut_cell_lines(gray, table, lines, dpi), engine, lexicon=lexicon)


def _cell_of(cell_lines: CellLines, lines: list[Recognition], lexicon: Lexicon | None) -> Cell:
    """The cell read from its line crops, its label corrected where the recogniser was unsure."""
    texts = [_line_text(line.text, crop.kind) for crop, line in zip(cell_lines.crops, lines, strict=True)]
    grid = cell_lines.grid
    cell = Cell(
        row=grid.row, col=grid.col, row_span=grid.row_span, col_span=grid.col_span,
        text=strip_noise(normalise(join_lines(texts))),
        confidence=round(min(line.confidence for line in lines), 4) if lines else 1.0,
        bbox=grid.bbox, source="ocr",
    )
    if lexicon is None or not cell.text:
        return cell
    read = "".join(line.text for line in lines)
    scores = [score for line in lines
              for score in (line.char_scores or (line.confidence,) * len(line.text))]
    return correct_cell(cell, carry_scores(read, scores, cell.text), lexicon)


def _line_text(text: str, kind: CellKind) -> str:
    text = normalise(text)
    return numeric_reading(text) if kind == "numeric" else text


def _reach(height: int) -> int:
    """Side (px, odd) of the square that grows a line's text into what its crop keeps of the page."""
    return max(3, round(_SPECK_REACH * height)) | 1


def _faint_bars(page: GrayImage, near_ink: npt.NDArray[np.bool_], height: int) -> npt.NDArray[np.bool_]:
    """Flat strokes too faint for the ink mask: runs along a row, a third of the line's height long or
    more, darker than the paper by clearly more than its grain (the hyphens of 2023-12-31 in a light
    face at 200 dpi, between two digits and beyond the reach of their ink). Grain does not line up
    along a row; the rows at the crop's top and bottom are left out, where a rule's remnant would be."""
    paper = page[~near_ink]
    if paper.size < 8 or height < 6:
        return np.zeros(page.shape, dtype=bool)
    level = float(np.median(paper))
    grain = 1.4826 * float(np.median(np.abs(paper.astype(np.float32) - level)))
    darkest = cv2.erode(page, np.ones((2, 1), np.uint8))  # a hairline anti-aliased over two rows
    dark = (darkest < level - max(_FAINT_CONTRAST, 4 * grain)).astype(np.uint8)
    bars = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, max(3, height // 3)), np.uint8)) > 0
    bars[:2], bars[-2:] = False, False
    return cv2.dilate(bars.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0


# A faint bar is at least this much darker than the paper (grey levels), whatever the grain.
_FAINT_CONTRAST = 25


def _make_crop(gray: GrayImage, cell: _CleanCell, line: Box, *, min_height: int) -> CellCrop:
    """Grayscale line crop, tight to the line's ink, with the page whitened away from the text and
    where rules were; kind from the glyph shapes.

    The page is kept a few pixels around the text's ink, and further along its rows: a light Song
    face's hairline bars fall below the ink threshold in broken pieces at 200 dpi, and whitened
    between the pieces they were lost (上海市 read "1.海市", 2023-12-31 "20231231"); its thick stems
    never are. A faint bar beyond that reach (a hyphen between two digits) is kept where it stands
    out of the paper's grain. The pieces of strokes that the dust filter took count as text where they
    touch it (the dots over 常: 经常性项目 read "经帛性项目"). Kept wider all round, the page's grain cost
    labels on the tuning split (97.8 -> 96.3 %); a margin of page around the ink made the recogniser
    drop the leading 0 of codes ("08" read "8"); whitening the paper by its tone left the grain as
    dark specks. A crop is at least ``min_height`` (most of the table's typical line height) tall: a
    lone dash trimmed to its 3 px of ink is unreadable to the recogniser, the same dash with a text
    line's height of white around it is not.
    """
    rx0, ry0, _, _ = cell.region
    lx0, ly0, lx1, ly1 = line
    line_mask = cell.mask[ly0:ly1, lx0:lx1]
    height = ly1 - ly0
    reach, halo = _reach(height), max(3, height // 6) | 1
    near_text = cv2.dilate(line_mask, np.ones((reach, reach), np.uint8)) > 0
    text = ((line_mask > 0) | ((cell.specks[ly0:ly1, lx0:lx1] > 0) & near_text)).astype(np.uint8)
    kept = cv2.bitwise_or(cv2.dilate(text, np.ones((halo, halo), np.uint8)),
                          cv2.dilate(text, np.ones((1, reach), np.uint8))) > 0
    ruled = cv2.dilate(cell.rule_ink[ly0:ly1, lx0:lx1], np.ones((3, 3), np.uint8)) > 0
    source = gray[ry0 + ly0:ry0 + ly1, rx0 + lx0:rx0 + lx1]
    kept |= _faint_bars(source, kept, height)
    white = (~kept | ruled) & (line_mask == 0)
    page = np.where(white, 255, source)
    extra = max(0, min_height - height)
    image = np.full((height + extra, lx1 - lx0), 255, dtype=np.uint8)
    image[extra // 2:extra // 2 + height] = page
    return CellCrop(image=np.ascontiguousarray(image), kind=classify_kind(line_mask))
