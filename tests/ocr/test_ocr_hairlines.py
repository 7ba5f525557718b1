"""A hairline stroke lighter than the page's ink level is still ink (issue 10).

The 一 of a Song face scanned at 200 dpi is one or two pixels of mid grey: lighter than the page-wide
Otsu level that gates the ink mask against paper grain. It was erased, "一般公共预算" read "般公共预算",
that header no longer named its column, and the gov-office budget's scan got five false B4.7 errors.
"""

from __future__ import annotations

import numpy as np

from ocr.preprocess import ink_mask


def _page(rng: np.random.Generator) -> np.ndarray:
    page = np.full((2339, 1654), 245, dtype=np.uint8)  # A4 at 200 dpi
    page[100:200:3, 100:1500] = 20  # black text strokes set the page's ink level
    page[300, 200:258] = 175  # a one-pixel grey hairline, 58 px long (the bar of 一)
    page[301, 200:258] = 215  # its anti-aliased edge
    noisy = page.astype(np.float32) + rng.normal(0, 6, page.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def test_a_grey_hairline_is_ink_and_paper_grain_is_not() -> None:
    rng = np.random.default_rng(3)
    mask = ink_mask(_page(rng)) > 0
    assert mask[299:303, 200:258].any(axis=0).mean() > 0.9  # the hairline, end to end
    assert mask[400:2339, :].mean() < 0.001  # blank noisy paper stays blank
