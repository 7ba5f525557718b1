"""Scan damage operations change pixels the way their parameters say."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench import degrade
from ocr.contract import Cell, Table


def _page_with_line(width: int = 1200, height: int = 900) -> np.ndarray:
    image = np.full((height, width), 255, np.uint8)
    cv2.line(image, (100, height // 2), (width - 100, height // 2), 0, 3)
    return image


def _ruled_table() -> tuple[np.ndarray, Table]:
    image = np.full((600, 800), 255, np.uint8)
    cells = []
    for r in range(2):
        for c in range(2):
            box = (100 + 300 * c, 100 + 200 * r, 400 + 300 * c, 300 + 200 * r)
            cv2.rectangle(image, box[:2], box[2:], 0, 2)
            cells.append(Cell(row=r, col=c, bbox=box))
    return image, Table(id="t0", page=1, bbox=(100, 100, 700, 500), n_rows=2, n_cols=2, cells=cells)


@pytest.mark.parametrize("angle", [1.5, -2.0, 0.7])
def test_rotation_is_measured_back(angle: float) -> None:
    rotated = degrade.rotate(_page_with_line(), angle)
    assert degrade.measure_skew(rotated) == pytest.approx(angle, abs=0.1)
    assert rotated.shape == (900, 1200)


def test_quarter_turn_swaps_the_page_and_turns_back() -> None:
    image = _page_with_line(1200, 900)
    turned = degrade.quarter_turn(image, 1)
    assert turned.shape == (1200, 900)
    assert abs(degrade.measure_skew(np.ascontiguousarray(turned.T))) < 0.1  # the line now runs vertically
    assert np.array_equal(degrade.quarter_turn(turned, -1), image)


def test_noise_has_the_requested_sigma_and_is_seeded() -> None:
    grey = np.full((400, 400), 128, np.uint8)
    noisy = degrade.add_noise(grey, 8.0, np.random.default_rng(5))
    assert float(np.std(noisy.astype(np.float32) - 128)) == pytest.approx(8.0, rel=0.1)
    assert np.array_equal(noisy, degrade.add_noise(grey, 8.0, np.random.default_rng(5)))
    assert not np.array_equal(noisy, degrade.add_noise(grey, 8.0, np.random.default_rng(6)))


def test_blur_softens_edges() -> None:
    image = _page_with_line()
    sharpness = cv2.Laplacian(image, cv2.CV_64F).var()
    assert cv2.Laplacian(degrade.blur(image, 1.0), cv2.CV_64F).var() < sharpness / 2


def test_specks_add_dark_dots_on_white() -> None:
    white = np.full((500, 500), 255, np.uint8)
    dusty = degrade.add_specks(white, 50, np.random.default_rng(1), dpi=300)
    assert 50 <= int((dusty < 200).sum()) < 5000


def test_uneven_illumination_darkens_towards_one_side() -> None:
    white = np.full((300, 400), 255, np.uint8)
    lit = degrade.uneven_illumination(white, 0.3, np.random.default_rng(3))
    assert int(lit.max()) >= 250
    assert int(lit.min()) == pytest.approx(255 * 0.7, abs=3)


def test_jpeg_quality_trades_size_for_error() -> None:
    rng = np.random.default_rng(0)
    image = degrade.add_noise(_page_with_line(), 6.0, rng)
    low, high = degrade.jpeg_bytes(image, 60), degrade.jpeg_bytes(image, 80)
    assert len(low) < len(high)
    decoded = cv2.imdecode(np.frombuffer(low, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert decoded.shape == image.shape
    assert 0 < float(np.abs(decoded.astype(int) - image.astype(int)).mean()) < 10


def test_faint_lines_turn_grey() -> None:
    image, table = _ruled_table()
    faded = degrade.fade_lines(image, [table], 0.6, line_px=2)
    assert int(image[100, 250]) == 0
    assert int(faded[100, 250]) == pytest.approx(255 * 0.6, abs=2)


def test_broken_lines_lose_part_of_their_ink() -> None:
    image, table = _ruled_table()
    ink = int((image < 128).sum())
    broken = degrade.break_lines(image, [table], 0.2, 2, np.random.default_rng(2))
    assert 0.05 * ink < ink - int((broken < 128).sum()) < 0.5 * ink


def test_missing_outer_border_keeps_inner_lines() -> None:
    image, table = _ruled_table()
    open_table = degrade.erase_outer_border(image, [table], 2)
    assert int(open_table[300, 101:699].min()) == 0  # the inner horizontal rule survives
    assert int(open_table[100, 150:650].min()) == 255  # the top border is gone
    assert int(open_table[200:280, 100].min()) == 255  # and the left one


def test_sampled_damage_stays_in_range_and_is_seeded() -> None:
    for level in degrade.LEVELS:
        damage = degrade.sample_damage(np.random.default_rng(9), level)
        assert abs(damage.skew_deg) <= 2.0 and 60 <= damage.jpeg_quality <= 80
        assert damage == degrade.sample_damage(np.random.default_rng(9), level)
