"""Scan damage applied to clean page rasters, deterministic for a given numpy Generator.

Every operation is a pure function on a grayscale uint8 image. Line damage (faint, broken,
missing outer border) uses the known table geometry. Geometry stays in the upright frame of the
clean render: the truth records the skew and the quarter turn a reader must undo.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from bench.gridlines import Box, Gray
from ocr.contract import Table


@dataclass(frozen=True)
class Damage:
    skew_deg: float = 0.0
    quarter_turns: int = 0  # counter-clockwise quarter turns of the scan (the reader rotates back clockwise)
    noise_sigma: float = 0.0
    blur_sigma: float = 0.0
    specks: int = 0
    illumination: float = 0.0  # darkening at the dimmest corner, 0..1
    jpeg_quality: int = 85
    faint_lines: float = 0.0  # 0 = full black lines, 0.7 = light grey
    broken_lines: float = 0.0  # fraction of every grid edge erased in gaps
    outer_border: bool = True
    cell_smudges: int = 0  # smudges put in empty cells (the test split's damage; never in the tuning set)

    def as_dict(self) -> dict[str, object]:
        fields = asdict(self)
        if not self.cell_smudges:
            del fields["cell_smudges"]  # manifests written before the split stay as they were
        return fields


LEVELS = ("light", "medium", "heavy")


def sample_damage(rng: np.random.Generator, level: str) -> Damage:
    """Random damage of a given level; the same generator state gives the same damage."""
    strength = {"light": 0.35, "medium": 0.7, "heavy": 1.0}[level]
    return Damage(
        skew_deg=round(float(rng.uniform(-2.0, 2.0)) * strength, 2),
        noise_sigma=round(float(rng.uniform(2.0, 10.0)) * strength, 1),
        blur_sigma=round(float(rng.uniform(0.3, 1.1)) * strength, 2),
        specks=int(rng.integers(0, 400) * strength),
        illumination=round(float(rng.uniform(0.05, 0.3)) * strength, 2),
        jpeg_quality=int(rng.integers(60, 81)),
        faint_lines=round(float(rng.uniform(0.0, 0.6)) * strength, 2) if rng.random() < 0.5 else 0.0,
        broken_lines=round(float(rng.uniform(0.0, 0.25)) * strength, 2) if rng.random() < 0.4 else 0.0,
        outer_border=bool(rng.random() > 0.15 * strength),
    )


def sample_hard_damage(rng: np.random.Generator) -> Damage:
    """The test split's damage, of kinds the tuning corpus never shows at this strength: grids always
    faint and broken, strong JPEG, smudges in empty cells (read as characters by a recogniser)."""
    return Damage(
        skew_deg=round(float(rng.uniform(-1.5, 1.5)), 2),
        noise_sigma=round(float(rng.uniform(6.0, 12.0)), 1),
        blur_sigma=round(float(rng.uniform(0.4, 0.9)), 2),
        specks=int(rng.integers(100, 400)),
        illumination=round(float(rng.uniform(0.1, 0.3)), 2),
        jpeg_quality=int(rng.integers(30, 51)),
        faint_lines=round(float(rng.uniform(0.55, 0.8)), 2),
        broken_lines=round(float(rng.uniform(0.12, 0.3)), 2),
        outer_border=bool(rng.random() > 0.3),
        cell_smudges=int(rng.integers(4, 13)),
    )


def smudge_empty_cells(image: Gray, tables: list[Table], count: int, rng: np.random.Generator,
                       dpi: int) -> Gray:
    """Blots, short strokes and small rings in empty cells: the marks a scanner leaves that a
    recogniser reads as 口, 丶 or a letter."""
    empty = [cell.bbox for table in tables for cell in table.cells if not cell.text.strip()
             and cell.bbox[2] - cell.bbox[0] > dpi // 10 and cell.bbox[3] - cell.bbox[1] > dpi // 20]
    if count <= 0 or not empty:
        return image
    out = image.copy()
    unit = max(2, dpi // 70)
    for index in rng.choice(len(empty), size=min(count, len(empty)), replace=False):
        x0, y0, x1, y1 = empty[int(index)]
        x, y = int(rng.integers(x0 + 3 * unit, max(x0 + 3 * unit + 1, x1 - 3 * unit))), (y0 + y1) // 2
        shape = int(rng.integers(0, 3))
        if shape == 0:
            axes = (int(rng.integers(unit, 2 * unit + 1)), int(rng.integers(unit, 2 * unit)))
            cv2.ellipse(out, (x, y), axes, float(rng.uniform(0, 180)), 0, 360, 40, -1)
        elif shape == 1:
            dx, dy = int(rng.integers(2 * unit, 4 * unit)), int(rng.integers(-unit, unit + 1))
            cv2.line(out, (x - dx // 2, y - dy), (x + dx // 2, y + dy), 30, max(2, unit // 2 + 1))
        else:
            cv2.circle(out, (x, y), int(rng.integers(2 * unit, 3 * unit)), 40, max(2, unit // 2))
    return out


def rotate(image: Gray, degrees: float) -> Gray:
    """Counter-clockwise rotation about the centre, same canvas, white fill."""
    if degrees == 0:
        return image
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return np.asarray(
        cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255), np.uint8
    )


def quarter_turn(image: Gray, turns: int) -> Gray:
    return np.ascontiguousarray(np.rot90(image, turns % 4))


def add_noise(image: Gray, sigma: float, rng: np.random.Generator) -> Gray:
    if sigma <= 0:
        return image
    noisy = image.astype(np.float32) + rng.normal(0.0, sigma, image.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def blur(image: Gray, sigma: float) -> Gray:
    if sigma <= 0:
        return image
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), np.uint8)


def add_specks(image: Gray, count: int, rng: np.random.Generator, dpi: int = 300) -> Gray:
    """Dust: small dark dots and short hairs."""
    if count <= 0:
        return image
    out = image.copy()
    h, w = image.shape
    size = max(1, dpi // 150)
    for _ in range(count):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        radius = int(rng.integers(1, size + 2))
        shade = int(rng.integers(0, 120))
        if rng.random() < 0.8:
            cv2.circle(out, (x, y), radius, shade, -1)
        else:
            dx, dy = (int(v) for v in rng.integers(-6 * size, 6 * size + 1, 2))
            cv2.line(out, (x, y), (x + dx, y + dy), shade, 1)
    return out


def uneven_illumination(image: Gray, strength: float, rng: np.random.Generator) -> Gray:
    """Multiply by a smooth field: 1 at the brightest point, 1 - strength at the darkest corner."""
    if strength <= 0:
        return image
    h, w = image.shape
    cx, cy = float(rng.uniform(0, w)), float(rng.uniform(0, h))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    distance = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    field = 1.0 - strength * (distance / distance.max())
    lit: Gray = np.clip(image.astype(np.float32) * field, 0, 255).astype(np.uint8)
    return lit


def grid_edges(tables: list[Table]) -> list[Box]:
    """Every cell edge as a degenerate box (x0, y0, x1, y1): horizontal when y0 == y1."""
    edges: set[Box] = set()
    for table in tables:
        for cell in table.cells:
            x0, y0, x1, y1 = cell.bbox
            edges.update({(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)})
    return sorted(edges)


def _edge_band(edge: Box, pad: int, shape: tuple[int, ...]) -> tuple[slice, slice]:
    x0, y0, x1, y1 = edge
    return (
        slice(max(0, y0 - pad), min(shape[0], y1 + pad + 1)),
        slice(max(0, x0 - pad), min(shape[1], x1 + pad + 1)),
    )


def fade_lines(image: Gray, tables: list[Table], level: float, line_px: int) -> Gray:
    """Lighten ruling lines to grey: ink on the lines keeps only (1 - level) of its darkness."""
    if level <= 0:
        return image
    out = image.copy()
    for edge in grid_edges(tables):
        band = _edge_band(edge, line_px, image.shape)
        region = out[band].astype(np.float32)
        out[band] = (255 - (255 - region) * (1 - level)).astype(np.uint8)
    return out


def break_lines(
    image: Gray, tables: list[Table], fraction: float, line_px: int, rng: np.random.Generator
) -> Gray:
    """Erase random gaps totalling about ``fraction`` of each edge's length."""
    if fraction <= 0:
        return image
    out = image.copy()
    for x0, y0, x1, y1 in grid_edges(tables):
        length = max(x1 - x0, y1 - y0)
        gap = max(2, length // 12)
        for _ in range(round(fraction * length / gap)):
            start = int(rng.integers(0, max(1, length - gap)))
            if y0 == y1:
                piece = (x0 + start, y0, x0 + start + gap, y0)
            else:
                piece = (x0, y0 + start, x0, y0 + start + gap)
            out[_edge_band(piece, line_px, image.shape)] = 255
    return out


def erase_outer_border(image: Gray, tables: list[Table], line_px: int) -> Gray:
    out = image.copy()
    for table in tables:
        x0, y0, x1, y1 = table.bbox
        for edge in ((x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)):
            out[_edge_band(edge, line_px, image.shape)] = 255
    return out


def apply_damage(
    image: Gray, tables: list[Table], damage: Damage, rng: np.random.Generator, *, dpi: int, line_px: int = 2
) -> Gray:
    """Line damage, lighting and optics on the upright page, then skew, turn and sensor noise."""
    out = smudge_empty_cells(image, tables, damage.cell_smudges, rng, dpi)
    out = fade_lines(out, tables, damage.faint_lines, line_px)
    out = break_lines(out, tables, damage.broken_lines, line_px, rng)
    if not damage.outer_border:
        out = erase_outer_border(out, tables, line_px)
    out = uneven_illumination(out, damage.illumination, rng)
    out = blur(out, damage.blur_sigma * dpi / 300)
    out = rotate(out, damage.skew_deg)
    out = quarter_turn(out, damage.quarter_turns)
    out = add_noise(out, damage.noise_sigma, rng)
    return add_specks(out, damage.specks, rng, dpi)


def jpeg_bytes(image: Gray, quality: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(encoded.tobytes())


def measure_skew(image: Gray) -> float:
    """Angle (degrees, counter-clockwise positive) of the largest ink stroke, by a least-squares line fit.

    Meant for tests and spot checks on pages whose largest connected ink is one long rule.
    """
    ink = (image < 128).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count < 2:
        raise ValueError("no ink to measure")
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero(labels == largest)
    points = np.column_stack([xs, ys]).astype(np.float32)
    vx, vy, _, _ = cv2.fitLine(points, cv2.DIST_L2, 0, 0.01, 0.01).reshape(-1)
    if vx < 0:
        vx, vy = -vx, -vy
    return float(-np.degrees(np.arctan2(vy, vx)))
