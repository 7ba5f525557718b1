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


def test_paper_grain_on_an_unevenly_lit_page_is_not_ink() -> None:
    # A scan darkened towards one corner (paper 245 down to about 185) under grain: a page-wide Otsu
    # level splits the paper itself into a light and a dark half and let the dark half's grain
    # through as ink (a noisy cell's crop then held the whole cell, 839.00 read "79946").
    rng = np.random.default_rng(5)
    height, width = 2339, 1654
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 1.0 - 0.25 * np.sqrt(yy**2 + xx**2) / np.hypot(height, width)
    page = np.full((height, width), 245.0, dtype=np.float32)
    page[100:130:3, 100:1500] = 20  # a little text: faint rules and a few figures are all the ink
    noisy = page * light + rng.normal(0, 10, page.shape)
    mask = ink_mask(np.clip(noisy, 0, 255).astype(np.uint8)) > 0
    assert mask[100:130:3, 100:1500].mean() > 0.95  # the text stays ink
    assert mask[1200:, 800:].mean() < 0.002  # blank paper in the darker half stays blank
