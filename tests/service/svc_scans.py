"""Small scanned-looking test documents, generated: a ruled 公开05表 table drawn with a CJK font
and saved as an image-only PDF (what a scanner produces), plus broken inputs."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
DPI = 200
PAGE_PX = (1654, 2339)  # A4 at 200 dpi

HEADER = ("科目编码", "科目名称", "合计", "基本支出", "项目支出")
COL_WIDTHS = (230, 520, 220, 220, 220)
ROW_HEIGHT = 64


def _rows(variant: int) -> list[tuple[str, str, str, str, str]]:
    """Coded rows whose totals add up (合计 = 基本 + 项目, parents = sum of children)."""
    base = 100 + 17 * variant
    items = [("2010101", "行政运行", base + 20.5, 0.0), ("2010102", "一般行政管理事务", 0.0, base / 2),
             ("2080501", "行政单位离退休", 12.25 + variant, 0.0)]
    rows: list[tuple[str, str, str, str, str]] = []
    groups = {"201": ("一般公共服务支出", "20101", "人大事务"), "208": ("社会保障和就业支出", "20805",
                                                                   "行政事业单位养老支出")}
    total_basic = total_project = 0.0
    for prefix, (class_name, section_code, section_name) in groups.items():
        members = [i for i in items if i[0].startswith(prefix)]
        basic = sum(i[2] for i in members)
        project = sum(i[3] for i in members)
        total_basic += basic
        total_project += project
        rows.append((prefix, class_name, f"{basic + project:.2f}", f"{basic:.2f}", f"{project:.2f}"))
        rows.append((section_code, section_name, f"{basic + project:.2f}", f"{basic:.2f}", f"{project:.2f}"))
        rows.extend((code, name, f"{b + p:.2f}", f"{b:.2f}", f"{p:.2f}") for code, name, b, p in members)
    total = ("", "合计", f"{total_basic + total_project:.2f}", f"{total_basic:.2f}", f"{total_project:.2f}")
    return [total, *rows]


def render_page(variant: int = 0) -> Image.Image:
    image = Image.new("L", PAGE_PX, 255)
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.truetype(str(FONT), 44)
    font = ImageFont.truetype(str(FONT), 30)
    left, top = 120, 330
    draw.text((PAGE_PX[0] - 330, 120), "公开05表", font=font, fill=0)
    draw.text((330, 180), "一般公共预算财政拨款支出决算表", font=title_font, fill=0)
    draw.text((left, 270), "编制单位：测试市财政局", font=font, fill=0)
    draw.text((PAGE_PX[0] - 330, 270), "单位：万元", font=font, fill=0)
    table = [HEADER, *_rows(variant)]
    width = sum(COL_WIDTHS)
    for r, row in enumerate(table):
        y = top + r * ROW_HEIGHT
        x = left
        for c, text in enumerate(row):
            numeric = c >= 2 and r > 0
            text_width = draw.textlength(text, font=font)
            tx = x + COL_WIDTHS[c] - text_width - 14 if numeric else x + 14
            draw.text((tx, y + 14), text, font=font, fill=0)
            x += COL_WIDTHS[c]
    bottom = top + len(table) * ROW_HEIGHT
    for r in range(len(table) + 1):
        draw.line([(left, top + r * ROW_HEIGHT), (left + width, top + r * ROW_HEIGHT)], fill=0, width=3)
    x = left
    for w in (0, *COL_WIDTHS):
        x += w
        draw.line([(x, top), (x, bottom)], fill=0, width=3)
    return image


def write_pdf(path: Path, pages: int = 1, first_variant: int = 0) -> Path:
    images = [render_page(first_variant + i).convert("RGB") for i in range(pages)]
    images[0].save(path, "PDF", resolution=float(DPI), save_all=True, append_images=images[1:])
    return path


def write_corrupt_pdf(path: Path) -> Path:
    """Starts like a PDF (so it passes the upload sniff) but has no readable structure."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R\ngarbage"
    path.write_bytes(head + bytes(range(256)) * 8)
    return path
