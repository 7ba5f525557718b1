"""Debug overlay: the detected grid and recognised texts drawn on the upright page."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ocr.contract import Table
from ocr.engines.base import GrayImage

log = logging.getLogger(__name__)

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
_CELL = (0, 160, 255)  # single cells: blue
_SPAN = (255, 0, 200)  # merged cells: magenta
_TABLE = (0, 200, 0)
_TEXT = (220, 0, 0)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    log.warning("no CJK font found; debug text will be unreadable")
    return ImageFont.load_default()


def render_overlay(page: GrayImage, tables: Sequence[Table],
                   context_lines: Sequence[str] = ()) -> Image.Image:
    """RGB image: table boxes green, cells blue, spanned cells magenta, texts red at each cell's top-left."""
    canvas = Image.fromarray(page).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    for table in tables:
        draw.rectangle(table.bbox, outline=_TABLE, width=4)
        label = " ".join(str(v) for v in (table.id, table.form, table.title, table.unit) if v)
        draw.text((table.bbox[0], max(0, table.bbox[1] - 30)), label, fill=_TABLE, font=_font(24))
        for cell in table.cells:
            spanned = cell.row_span > 1 or cell.col_span > 1
            draw.rectangle(cell.bbox, outline=_SPAN if spanned else _CELL, width=3 if spanned else 1)
            if cell.text:
                size = max(10, min(22, (cell.bbox[3] - cell.bbox[1]) // 2))
                draw.text((cell.bbox[0] + 3, cell.bbox[1] + 1), cell.text, fill=_TEXT, font=_font(size))
    for index, line in enumerate(context_lines):
        draw.text((10, 10 + 26 * index), line, fill=(120, 0, 160), font=_font(22))
    return canvas


def write_overlay(path: Path, page: GrayImage, tables: Sequence[Table],
                  context_lines: Sequence[str] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    render_overlay(page, tables, context_lines).save(path)
    log.info("debug overlay written to %s", path)
    return path
