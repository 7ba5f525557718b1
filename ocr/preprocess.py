"""Make a page upright: quarter-turn orientation, then fine deskew.

Orientation: text lines in a table page run along one axis. After removing ruling
lines and smearing characters slightly, the text blobs are elongated along the
reading direction, which gives 0/180 vs 90/270. Tesseract OSD was measured on the
real scans in ../shared/realdata/scans and got 90/270 wrong on dense tables, so the
remaining 0 vs 180 question goes to the PP-OCR text-direction classifier on a
sample of text lines, which is trained for exactly that.

Skew: the angle maximising the energy of the horizontal ink projection (ruling
lines and text baselines line up), coarse then fine, on a downscaled mask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ocr.components import bands
from ocr.engines.base import GrayImage, Orientation

log = logging.getLogger(__name__)

MAX_SKEW_DEG = 6.0
_ANALYSIS_SIDE = 1400  # px; analyses run on a downscaled copy
_MIN_SKEW_TO_CORRECT = 0.08
_ORIENTATION_SAMPLE = 24
_RULE_KERNEL = 9  # px; wider than any ruling line, narrower than a table cell
_RULE_CONTRAST = 20  # grey levels a rule must be darker than its surroundings


def as_gray(array: npt.NDArray[Any]) -> GrayImage:
    """View an OpenCV result as the uint8 image it is (OpenCV's stubs lose the dtype)."""
    return np.asarray(array, dtype=np.uint8)


@dataclass(frozen=True)
class Upright:
    image: GrayImage
    rotation: int  # clockwise quarter turns applied, in degrees: 0/90/180/270
    skew_deg: float  # skew found and removed; positive = content was rotated counter-clockwise


def ink_mask(gray: GrayImage) -> GrayImage:
    """Binary mask (255 = ink) robust to uneven illumination and faint print."""
    dark, light = _dark_and_light(gray)  # apart, so that its working masks are freed first
    return as_gray(cv2.bitwise_or(dark, _hairlines(light)))


def _dark_and_light(gray: GrayImage) -> tuple[GrayImage, GrayImage]:
    """Locally dark pixels that are also darker than the page-wide ink level, and the others."""
    block = max(15, (min(gray.shape[:2]) // 60) | 1)
    mask = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)
    # Paper grain in flat regions crosses a local threshold; real ink is also darker than the page.
    # Judged against the paper under it: on a page lit unevenly the page-wide Otsu level splits the
    # paper itself into a light and a dark half, and then lets the grain of the dark half through.
    _, global_ink = cv2.threshold(_flat_field(gray), 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    loose = cv2.dilate(global_ink, np.ones((3, 3), np.uint8))
    dark = cv2.bitwise_and(mask, loose)
    light = cv2.bitwise_and(mask, cv2.bitwise_not(loose))
    return as_gray(dark), as_gray(light)


# The paper's tone is estimated on a page shrunk by this factor: lighting varies over centimetres.
_PAPER_SHRINK = 8


def _flat_field(gray: GrayImage) -> GrayImage:
    """The page divided by the tone of the paper under it (paper 255 everywhere, ink darker).

    The paper's tone is the lightest grey around each point over a window wider than a
    character (a closing removes the text), smoothed; a page already flat is left as it is.
    """
    height, width = gray.shape[:2]
    small = cv2.resize(gray, (max(1, width // _PAPER_SHRINK), max(1, height // _PAPER_SHRINK)),
                       interpolation=cv2.INTER_AREA)
    window = max(3, (min(small.shape[:2]) // 40) | 1)
    closing = cv2.getStructuringElement(cv2.MORPH_RECT, (window, window))
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, closing)
    paper = cv2.GaussianBlur(paper, (window, window), 0)
    paper = cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)
    if int(paper.min()) >= 250:
        return gray
    return as_gray(cv2.divide(gray, np.maximum(paper, 1), scale=255))


# A run of locally dark pixels this long (px) is a stroke, not grain (grain crosses the local
# threshold in clusters of a few pixels).
_HAIRLINE_MIN_PIXELS = 24


def _hairlines(light: GrayImage) -> GrayImage:
    """The thin strokes among locally dark pixels lighter than the page-wide ink level.

    The single stroke of 一 in a Song face is a hairline: scanned at 200 dpi it is one or two pixels
    of mid grey, lighter than the Otsu level of the page, and the global gate erased it ("一般公共预算"
    read "般公共预算"). A stroke is a thin run of some length; grain is a few pixels; the edge of a
    shaded area is thin but runs far longer than any character (1/20 of the page's short side).
    """
    longest = min(light.shape[:2]) // 20
    out = np.zeros_like(light)
    for top, bottom in bands(light):  # a band of labels at a time, not a page of them
        _, labels, stats, _ = cv2.connectedComponentsWithStats(light[top:bottom], connectivity=8)
        w, h, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
        thin = area <= 3 * (w + h)
        keep = (area >= _HAIRLINE_MIN_PIXELS) & thin & (np.maximum(w, h) <= longest)
        keep[0] = False
        out[top:bottom] = np.where(keep[labels], np.uint8(255), np.uint8(0))
    return out


def rule_mask(gray: GrayImage) -> GrayImage:
    """Binary mask for finding ruling lines: also keeps faint grey rules under noise.

    ``ink_mask`` drops rules lighter than the page-wide Otsu level (35-40 % grey). Here only
    local contrast counts: a black-hat (closing minus image) responds to dark strokes
    thinner than its kernel, whatever the background level, and not at all to the step
    where the paper meets the scanner lid. Light smoothing first keeps pixel noise from
    breaking a thin line; the long thin openings that follow remove the grain let through.
    """
    smooth = cv2.GaussianBlur(gray, (3, 3), 0)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (_RULE_KERNEL, _RULE_KERNEL))
    contrast = cv2.morphologyEx(smooth, cv2.MORPH_BLACKHAT, kernel)
    _, mask = cv2.threshold(contrast, _RULE_CONTRAST, 255, cv2.THRESH_BINARY)
    return as_gray(mask)


def line_masks(mask: GrayImage, min_length: int) -> tuple[GrayImage, GrayImage]:
    """Horizontal and vertical ruling lines (ink runs at least ``min_length`` long)."""
    length = max(8, min_length)
    rect = cv2.MORPH_RECT
    horizontal = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (length, 1)))
    vertical = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (1, length)))
    return as_gray(horizontal), as_gray(vertical)


def rotate_quarter(image: GrayImage, clockwise_deg: int) -> GrayImage:
    turns = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    code = turns[clockwise_deg % 360]
    return image if code is None else np.ascontiguousarray(cv2.rotate(image, code))


def rotate_fine(image: GrayImage, ccw_deg: float) -> GrayImage:
    """Rotate counter-clockwise by ``ccw_deg`` on an enlarged white canvas (nothing cut off)."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), ccw_deg, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w = int(np.ceil(height * sin + width * cos))
    new_h = int(np.ceil(height * cos + width * sin))
    matrix[0, 2] += (new_w - width) / 2.0
    matrix[1, 2] += (new_h - height) / 2.0
    rotated = cv2.warpAffine(image, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=255)
    return np.ascontiguousarray(rotated)


def _downscale(gray: GrayImage) -> tuple[GrayImage, float]:
    scale = min(1.0, _ANALYSIS_SIDE / max(gray.shape[:2]))
    if scale >= 1.0:
        return gray, 1.0
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small), scale


def _text_only(mask: GrayImage) -> GrayImage:
    min_len = max(20, min(mask.shape[:2]) // 25)
    horizontal, vertical = line_masks(mask, min_len)
    lines = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    return as_gray(cv2.bitwise_and(mask, cv2.bitwise_not(lines)))


def _character_size(text_mask: GrayImage) -> float:
    _, _, stats, _ = cv2.connectedComponentsWithStats(text_mask, connectivity=8)
    sizes = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    sizes = sizes[(sizes >= 4) & (sizes <= max(text_mask.shape) // 10)]
    return float(np.percentile(sizes, 75)) if sizes.size else 10.0


def _text_blobs(text_mask: GrayImage) -> list[tuple[int, int, int, int]]:
    char = _character_size(text_mask)
    k = max(2, round(char * 0.45))
    smeared = cv2.dilate(text_mask, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    _, _, stats, _ = cv2.connectedComponentsWithStats(smeared, connectivity=8)
    blobs = []
    for x, y, w, h, area in stats[1:]:
        if max(w, h) >= char * 1.2 and area >= char * char * 0.5:
            blobs.append((int(x), int(y), int(w), int(h)))
    return blobs


def _axis_score(blobs: list[tuple[int, int, int, int]]) -> float:
    """> 0 when text blobs run horizontally, < 0 when vertically."""
    score = 0.0
    for _, _, w, h in blobs:
        elongation = np.log(w / h)
        if abs(elongation) > np.log(1.6):
            score += float(np.sign(elongation)) * min(abs(float(elongation)), 3.0) * max(w, h)
    return score


def detect_rotation(gray: GrayImage, orientation: Orientation) -> int:
    """Clockwise quarter turn (0/90/180/270) that makes the text upright."""
    small, _ = _downscale(gray)
    text_mask = _text_only(ink_mask(small))
    blobs = _text_blobs(text_mask)
    if not blobs:
        return 0
    rotation = 0
    if _axis_score(blobs) < 0:
        rotation = 90
        small = rotate_quarter(small, 90)
        text_mask = rotate_quarter(text_mask, 90)
        blobs = _text_blobs(text_mask)
    lines = [b for b in blobs if b[2] >= 1.6 * b[3]]
    lines.sort(key=lambda b: b[2] * b[3], reverse=True)
    crops = [small[y:y + h, x:x + w] for x, y, w, h in lines[:_ORIENTATION_SAMPLE]]
    if crops and orientation.upside_down_share(crops) > 0.5:
        rotation = (rotation + 180) % 360
    return rotation


def _profile_energy(mask: GrayImage, ccw_deg: float) -> float:
    height, width = mask.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), ccw_deg, 1.0)
    rotated = cv2.warpAffine(mask, matrix, (width, height), flags=cv2.INTER_NEAREST, borderValue=0)
    rows = rotated.sum(axis=1, dtype=np.float64)
    return float(np.dot(rows, rows))


def estimate_skew(gray: GrayImage) -> float:
    """Counter-clockwise angle (degrees) the content is rotated by; 0.05° resolution."""
    small, _ = _downscale(gray)
    mask = (ink_mask(small) > 0).astype(np.uint8)
    if int(mask.sum()) < 50:
        return 0.0
    coarse = np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + 1e-9, 0.5)
    best = max(coarse, key=lambda a: _profile_energy(mask, -float(a)))
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    refined = max(fine, key=lambda a: _profile_energy(mask, -float(a)))
    return round(float(refined), 2)


def make_upright(gray: GrayImage, orientation: Orientation) -> Upright:
    """Upright, deskewed grayscale page plus the corrections applied."""
    rotation = detect_rotation(gray, orientation)
    image = rotate_quarter(gray, rotation)
    skew = estimate_skew(image)
    if abs(skew) >= _MIN_SKEW_TO_CORRECT:
        image = rotate_fine(image, -skew)
    else:
        skew = 0.0
    log.debug("upright: rotation=%d skew=%.2f", rotation, skew)
    return Upright(image=image, rotation=rotation, skew_deg=skew)


MIN_TEXT_PX = 20  # below this character size the recogniser and the line filters lose detail
TARGET_TEXT_PX = 30


def enlarge_small_text(gray: GrayImage) -> tuple[GrayImage, float]:
    """Upscale low-resolution pages (screenshots, 96 dpi scans) so characters are ~30 px tall."""
    small, factor = _downscale(gray)
    text_mask = _text_only(ink_mask(small))
    if int(np.count_nonzero(text_mask)) < 50:
        return gray, 1.0
    char = _character_size(text_mask) / factor
    if char >= MIN_TEXT_PX:
        return gray, 1.0
    scale = min(3.0, TARGET_TEXT_PX / max(char, 1.0))
    enlarged = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    log.debug("text %.1f px: page enlarged x%.2f", char, scale)
    return np.ascontiguousarray(enlarged), scale
