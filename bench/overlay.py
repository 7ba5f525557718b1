"""Draw table grids (truth and/or prediction) over a page image, to look at failures."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from bench.gridlines import Gray
from ocr.contract import Table

TRUTH_COLOUR = (0, 160, 0)
PREDICTION_COLOUR = (0, 0, 230)


def draw_tables(
    image: Gray, truth: list[Table], predicted: list[Table] | None = None, scale: float = 1.0
) -> np.ndarray:
    """BGR image: truth cells green, predicted cells red (predicted boxes scaled by ``scale``)."""
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    for table in truth:
        for cell in table.cells:
            x0, y0, x1, y1 = cell.bbox
            cv2.rectangle(canvas, (x0 + 2, y0 + 2), (x1 - 2, y1 - 2), TRUTH_COLOUR, 2)
    for table in predicted or []:
        for cell in table.cells:
            x0, y0, x1, y1 = (round(v * scale) for v in cell.bbox)
            cv2.rectangle(canvas, (x0 - 2, y0 - 2), (x1 + 2, y1 + 2), PREDICTION_COLOUR, 2)
    return canvas


def write_overlay(
    path: Path,
    image: Gray,
    truth: list[Table],
    predicted: list[Table] | None = None,
    *,
    scale: float = 1.0,
    max_side: int = 1600,
) -> None:
    canvas = draw_tables(image, truth, predicted, scale)
    factor = min(1.0, max_side / max(canvas.shape[:2]))
    if factor < 1.0:
        canvas = cv2.resize(canvas, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(path), canvas)
