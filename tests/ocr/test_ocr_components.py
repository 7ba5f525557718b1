"""Labelling a mask of lines packed, or one band of rows at a time, gives OpenCV's page-wide answer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr import components
from ocr.components import banded_stats, bands, line_stats, lines_at_least


def _full_stats(mask: np.ndarray) -> np.ndarray:
    return _as_set(cv2.connectedComponentsWithStats(mask, connectivity=8)[2])


def _as_set(stats: np.ndarray) -> np.ndarray:
    """The components' rows (not the paper's), in one order: OpenCV labels two rows at a time, so
    its order shifts with the rows a band starts at; the components do not."""
    rows = stats[1:]
    return rows[np.lexsort(rows.T[::-1])]


def _line_mask(rng: np.random.Generator, vertical: bool) -> np.ndarray:
    """Rules of one direction, some touching diagonally or side by side, plus specks and strokes."""
    mask = np.zeros((600, 500), np.uint8)
    for _ in range(25):
        across, start = int(rng.integers(0, 500)), int(rng.integers(0, 550))
        length, width = int(rng.integers(3, 400)), int(rng.integers(1, 4))
        if vertical:
            mask[start:start + length, across:across + width] = 255
        else:
            mask[across % 600:across % 600 + width, start % 500:start % 500 + length] = 255
    for _ in range(60):  # specks, some diagonal neighbours of a rule across a skipped line
        y, x = int(rng.integers(0, 600)), int(rng.integers(0, 500))
        mask[y, x] = 255
    return mask


@pytest.mark.parametrize("seed", range(12))
def test_packed_lines_give_the_page_wide_components(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for vertical in (True, False):
        mask = _line_mask(rng, vertical)
        assert np.array_equal(_as_set(line_stats(mask, along_rows=not vertical)), _full_stats(mask))
    vertical_mask = _line_mask(rng, True)
    _, labels_full, stats_full, _ = cv2.connectedComponentsWithStats(vertical_mask, connectivity=8)
    tall = np.flatnonzero(stats_full[:, cv2.CC_STAT_HEIGHT] >= 120)
    expected = np.where(np.isin(labels_full, tall[tall > 0]), 255, 0).astype(np.uint8)
    assert np.array_equal(lines_at_least(vertical_mask, 120), expected)


def test_columns_that_were_apart_stay_apart_when_packed() -> None:
    # Two pixels two columns apart are not neighbours; squeezing out the blank column between
    # them must not make them one component.
    mask = np.zeros((10, 40), np.uint8)
    mask[2, 5] = mask[3, 7] = 255
    assert len(line_stats(mask, along_rows=False)) == 3
    assert np.array_equal(line_stats(np.zeros((5, 5), np.uint8), along_rows=True)[1:], np.zeros((0, 5)))


@pytest.mark.parametrize("seed", range(6))
def test_banded_stats_equal_the_page_wide_ones(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(components, "_BAND_ROWS", 40)  # many bands on a small page
    rng = np.random.default_rng(100 + seed)
    mask = np.where(rng.random((400, 300)) < 0.003, 255, 0).astype(np.uint8)  # many blank rows
    mask[50:300, 100:103] = 255  # a tall stroke crossing many would-be bands
    mask[120:121, :] = 255
    assert len(bands(mask)) > 1
    assert np.array_equal(_as_set(banded_stats(mask)), _full_stats(mask))


def test_a_mask_without_blank_rows_is_one_band() -> None:
    mask = np.zeros((1200, 30), np.uint8)
    mask[:, 3] = 255
    assert bands(mask) == [(0, 1200)]
