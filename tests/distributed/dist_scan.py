"""A small "scanned" budget report made on the fly: ruled tables in a CJK font, rasterised into a PDF.

Pages are images (as a scanner would produce), so the OCR really has to read them. ``variant`` only
changes the PDF's metadata: the bytes (and so the sha256 the service deduplicates on) differ while
the pixels, and therefore the expected extraction, stay the same.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_PATH = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
DPI = 200
PAGE_PX = (1654, 2339)  # A4 portrait at 200 dpi

HEADER = ["科目编码", "科目名称", "本年支出合计", "基本支出", "项目支出"]
PAGES: list[dict[str, object]] = [
    {"form": "公开05表", "title": "一般公共预算财政拨款支出决算表", "rows": [
        ["201", "一般公共服务支出", "1,250.40", "830.20", "420.20"],
        ["20101", "人大事务", "310.00", "210.00", "100.00"],
        ["2010101", "行政运行", "210.00", "210.00", ""],
        ["2010104", "人大会议", "100.00", "", "100.00"],
        ["20103", "政府办公厅(室)及相关机构事务", "940.40", "620.20", "320.20"],
        ["2010301", "行政运行", "620.20", "620.20", ""],
        ["2010350", "事业运行", "320.20", "", "320.20"],
        ["", "合计", "1,250.40", "830.20", "420.20"],
    ]},
    {"form": "公开06表", "title": "一般公共预算财政拨款基本支出决算表", "rows": [
        ["301", "工资福利支出", "700.00", "700.00", ""],
        ["30101", "基本工资", "400.00", "400.00", ""],
        ["30102", "津贴补贴", "300.00", "300.00", ""],
        ["302", "商品和服务支出", "130.20", "130.20", ""],
        ["30201", "办公费", "80.20", "80.20", ""],
        ["30211", "差旅费", "50.00", "50.00", ""],
        ["", "合计", "830.20", "830.20", ""],
    ]},
    {"form": "公开07表", "title": "政府性基金预算财政拨款收入支出决算表", "rows": [
        ["212", "城乡社区支出", "56.00", "", "56.00"],
        ["21208", "国有土地使用权出让收入安排的支出", "56.00", "", "56.00"],
        ["2120801", "征地和拆迁补偿支出", "56.00", "", "56.00"],
        ["", "合计", "56.00", "", "56.00"],
    ]},
]
COLUMN_WIDTHS = [220, 560, 250, 220, 220]
ROW_HEIGHT = 72


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def render_page(spec: dict[str, object]) -> Image.Image:
    page = Image.new("L", PAGE_PX, 255)
    draw = ImageDraw.Draw(page)
    left, top = 90, 330
    draw.text((PAGE_PX[0] // 2, 150), str(spec["title"]), font=_font(46), fill=0, anchor="mm")
    draw.text((PAGE_PX[0] - 110, 250), str(spec["form"]), font=_font(30), fill=0, anchor="rm")
    draw.text((left, 270), "部门：某某市财政局", font=_font(30), fill=0)
    draw.text((PAGE_PX[0] - 110, 300), "单位：万元", font=_font(30), fill=0, anchor="rm")
    rows: list[list[str]] = [HEADER, *spec["rows"]]  # type: ignore[misc]
    width = sum(COLUMN_WIDTHS)
    body = _font(30)
    for r, row in enumerate(rows):
        y = top + r * ROW_HEIGHT
        x = left
        for c, text in enumerate(row):
            if text:
                numeric = c >= 2 and r > 0
                anchor = "rm" if numeric else "lm"
                tx = x + COLUMN_WIDTHS[c] - 16 if numeric else x + 16
                draw.text((tx, y + ROW_HEIGHT // 2), text, font=body, fill=0, anchor=anchor)
            x += COLUMN_WIDTHS[c]
    bottom = top + len(rows) * ROW_HEIGHT
    for r in range(len(rows) + 1):
        y = top + r * ROW_HEIGHT
        draw.line([(left, y), (left + width, y)], fill=0, width=3)
    x = left
    for w in [0, *COLUMN_WIDTHS]:
        x += w
        draw.line([(x, top), (x, bottom)], fill=0, width=3)
    note = "注：本表反映部门本年度一般公共预算财政拨款实际支出情况。"
    draw.text((left, bottom + 40), note, font=_font(28), fill=0)
    return page


def make_report(path: Path, pages: int = 3, variant: str = "0") -> Path:
    images = [render_page(spec) for spec in PAGES[:pages]]
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", resolution=DPI, save_all=True, append_images=images[1:],
                   title=f"fiscalocr distributed test fixture {variant}", author="fiscalocr tests")
    path.write_bytes(buffer.getvalue())
    return path


if __name__ == "__main__":  # preview: python tests/distributed/dist_scan.py out.pdf
    import sys

    make_report(Path(sys.argv[1]))
