"""A scanned 公开05表 with one misprinted amount: the 合计 row's 基本支出 reads 138.75 where its parts
add up to 132.75, so the checks blame that cell (and the review test corrects it)."""

from __future__ import annotations

from pathlib import Path

import svc_scans as scans
from PIL import ImageDraw, ImageFont

WRONG, RIGHT = "138.75", "132.75"
ROW, COL = 1, 3  # the 合计 row, the 基本支出 column


def write_misprinted_pdf(path: Path) -> Path:
    image = scans.render_page(0)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(scans.FONT), 30)
    left = 120 + sum(scans.COL_WIDTHS[:COL])
    top = 330 + ROW * scans.ROW_HEIGHT
    right = left + scans.COL_WIDTHS[COL]
    draw.rectangle([left + 5, top + 5, right - 5, top + scans.ROW_HEIGHT - 5], fill=255)
    draw.text((right - draw.textlength(WRONG, font=font) - 14, top + 14), WRONG, font=font, fill=0)
    image.convert("RGB").save(path, "PDF", resolution=float(scans.DPI))
    return path
