"""Render one stored page as PNG on demand, optionally with the stored tables drawn over it.

The raster comes from the stored original through the OCR core's own rasteriser, at the DPI the
job used, and is turned upright with the rotation and skew the job recorded, so the stored cell
boxes line up; ``ocr.debug`` draws them. The result is scaled to the requested DPI.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ocr.contract import Table
from ocr.debug import render_overlay
from ocr.preprocess import rotate_fine, rotate_quarter
from ocr.rasterise import open_document, rasterise_page
from service.errors import ErrorCode, ServiceError

_renders_in_progress: Counter[int] = Counter()
_renders_lock = threading.Lock()


@contextmanager
def tenant_render_slot(tenant_id: int, limit: int) -> Iterator[None]:
    """One of ``limit`` render slots of the tenant, or 429 ``too_many_renders`` at once (no queueing:
    a client asking for hundreds of pages in parallel must not hold hundreds of threads)."""
    with _renders_lock:
        if _renders_in_progress[tenant_id] >= limit:
            raise ServiceError(ErrorCode.too_many_renders, f"at most {limit} page renders at once per tenant",
                               detail={"limit": limit}, headers={"Retry-After": "1"})
        _renders_in_progress[tenant_id] += 1
    try:
        yield
    finally:
        with _renders_lock:
            _renders_in_progress[tenant_id] -= 1
            if _renders_in_progress[tenant_id] <= 0:
                del _renders_in_progress[tenant_id]


@dataclass(frozen=True)
class PageGeometry:
    """How the job saw the page (from the stored PageInfo)."""

    dpi: int = 300
    rotation: int = 0
    skew_deg: float = 0.0


def render_page(path: Path, page_number: int, out_dpi: int, geometry: PageGeometry, *,
                tables: list[Table] | None, max_page_pixels: int, timeout_s: float) -> bytes:
    document = open_document(path, max_pages=page_number + 1_000_000)
    raster = rasterise_page(document, page_number, geometry.dpi, max_page_pixels, timeout_s)
    gray = rotate_quarter(raster.image, geometry.rotation) if geometry.rotation % 360 else raster.image
    if geometry.skew_deg:
        gray = rotate_fine(gray, -geometry.skew_deg)
    image = render_overlay(gray, tables) if tables is not None else Image.fromarray(gray)
    scale = out_dpi / float(raster.dpi)
    if abs(scale - 1.0) > 0.01:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
