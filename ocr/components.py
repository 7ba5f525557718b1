"""Connected components of a mask of ruling lines, at a fraction of the cost of the whole page.

A mask of vertical rules has ink in a few dozen of a page's thousands of columns (of horizontal
rules, in a few dozen rows). Labelling the page scans every pixel; labelling only the inked
columns, with one blank column kept wherever inked ones are not neighbours, gives the same
components (two pixels are neighbours in the packed image exactly when they were on the page).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from ocr.engines.base import GrayImage

# Rows of (x, y, width, height, area) as OpenCV gives them; row 0 stands for the background and
# holds nothing meaningful here (no caller asks about the paper). The components are the page's;
# their order may differ from a page-wide call (OpenCV labels two rows at a time), and no caller
# depends on it.
Stats = npt.NDArray[np.int32]


class PackedLines:
    """``mask`` with its blank columns (``along_rows``: rows) squeezed out, and the way back."""

    def __init__(self, mask: GrayImage, *, along_rows: bool) -> None:
        self.mask = mask
        self.along_rows = along_rows
        inked = mask.any(axis=1) if along_rows else mask.any(axis=0)
        self.lines = np.flatnonzero(inked)  # the page index of each inked row or column
        starts = np.ones(self.lines.size, dtype=bool)
        starts[1:] = np.diff(self.lines) > 1
        # one blank line before every run of neighbouring inked lines but the first
        self.slots = np.arange(self.lines.size) + np.cumsum(starts) - 1
        size = int(self.slots[-1]) + 1 if self.lines.size else 0
        if along_rows:
            self.packed = np.zeros((size, mask.shape[1]), np.uint8)
            self.packed[self.slots] = mask[self.lines]
        else:
            self.packed = np.zeros((mask.shape[0], size), np.uint8)
            self.packed[:, self.slots] = mask[:, self.lines]

    def components(self) -> tuple[npt.NDArray[np.int32], Stats]:
        """Labels of the packed image and stats in page coordinates (label 0 is the background)."""
        if not self.lines.size:
            return np.zeros(self.packed.shape, np.int32), np.zeros((1, 5), np.int32)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(self.packed, connectivity=8)
        page_stats = stats.copy()
        # a component never spans a blank line, so only its first row (column) moves
        offset = cv2.CC_STAT_TOP if self.along_rows else cv2.CC_STAT_LEFT
        slot_to_line = np.zeros(self.packed.shape[0 if self.along_rows else 1], np.int64)
        slot_to_line[self.slots] = self.lines
        page_stats[1:, offset] = slot_to_line[stats[1:, offset]]
        return np.asarray(labels, np.int32), np.asarray(page_stats, np.int32)

    def unpack(self, packed: GrayImage) -> GrayImage:
        """A packed image (such as a selection of components) back in page coordinates."""
        out = np.zeros_like(self.mask)
        if self.along_rows:
            out[self.lines] = packed[self.slots]
        else:
            out[:, self.lines] = packed[:, self.slots]
        return out


def line_stats(mask: GrayImage, *, along_rows: bool) -> Stats:
    """``cv2.connectedComponentsWithStats(mask, connectivity=8)``'s stats for a mask of lines
    (the components' rows; see ``Stats``)."""
    return PackedLines(mask, along_rows=along_rows).components()[1]


def lines_at_least(mask: GrayImage, min_extent: int) -> GrayImage:
    """The components of a mask of vertical lines at least ``min_extent`` tall."""
    packed = PackedLines(mask, along_rows=False)
    labels, stats = packed.components()
    keep = stats[:, cv2.CC_STAT_HEIGHT] >= min_extent
    keep[0] = False
    return packed.unpack(np.where(keep[labels], np.uint8(255), np.uint8(0)))


# Rows per band when a page is labelled a band at a time (bands are cut at blank rows only).
_BAND_ROWS = 512


def bands(mask: GrayImage) -> list[tuple[int, int]]:
    """Row ranges that together cover ``mask``, each cut at a blank row: no component spans two.

    A page's labels are 4 bytes a pixel (35 MB at 300 dpi); a band's are a fraction of that.
    A band grows past ``_BAND_ROWS`` until it reaches a blank row, so a mask without one is one band.
    """
    blank = np.flatnonzero(~mask.any(axis=1))
    ranges = []
    start = 0
    while start < mask.shape[0]:
        after = blank[blank >= start + _BAND_ROWS]
        end = int(after[0]) + 1 if after.size else mask.shape[0]
        ranges.append((start, end))
        start = end
    return ranges


def banded_stats(mask: GrayImage) -> Stats:
    """``cv2.connectedComponentsWithStats(mask, connectivity=8)``'s stats (the components' rows; see
    ``Stats``) without a page of labels: the mask is labelled one band of rows at a time."""
    rows = [np.zeros((1, 5), np.int32)]
    for top, bottom in bands(mask):
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask[top:bottom], connectivity=8)
        found = np.asarray(stats[1:], np.int32)
        found[:, cv2.CC_STAT_TOP] += top
        rows.append(found)
    return np.concatenate(rows)
