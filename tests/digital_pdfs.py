"""Small digital PDFs written byte by byte for the text-layer tests: text, rules, boxes, images.

Each fixture stands for a kind of digital report seen in the wild: a table drawn with lines,
one drawn with filled boxes, a table pasted as a picture, a font without a Unicode map, a
scan with another tool's invisible OCR text. Nothing is random: the same call gives the same file.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.pdfwrite import serialise

CJK_FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                  "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    for path in CJK_FONT_FILES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    raise RuntimeError("no CJK font installed (scripts/install-system-deps.sh installs them)")


def _ucs2(text: str) -> str:
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


@dataclass
class Page:
    """One page: content operators in points, origin top-left (converted when written)."""

    width: float = 595.0
    height: float = 842.0
    ops: list[str] = field(default_factory=list)
    images: list[tuple[bytes, int, int]] = field(default_factory=list)  # JPEG, width px, height px
    type3_codes: dict[str, int] = field(default_factory=dict)
    # /Rotate of the page: content is still written as the reader sees it (width x height as
    # displayed), and turned into the unrotated page space when the file is written.
    rotate: int = 0

    def _y(self, y: float) -> float:
        return self.height - y

    def text(self, x: float, y: float, text: str, size: float = 10.5, *, invisible: bool = False) -> None:
        """Text with its baseline at y (from the top), CJK-capable font with a Unicode map."""
        mode = "3 Tr " if invisible else ""
        self.ops.append(f"BT {mode}/F1 {size} Tf {x:.2f} {self._y(y):.2f} Td {_ucs2(text)} Tj ET")

    def unmapped_text(self, x: float, y: float, text: str, size: float = 10.5) -> None:
        """Text in a font whose glyphs have no Unicode value (glyph names g1, g2, ...)."""
        codes = []
        for char in text:
            codes.append(self.type3_codes.setdefault(char, len(self.type3_codes) + 1))
        hexed = "".join(f"{c:02X}" for c in codes)
        self.ops.append(f"BT /F3 {size} Tf {x:.2f} {self._y(y):.2f} Td <{hexed}> Tj ET")

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.75) -> None:
        self.ops.append(f"{width} w 0 G {x0:.2f} {self._y(y0):.2f} m {x1:.2f} {self._y(y1):.2f} l S")

    def box(self, x0: float, y0: float, x1: float, y1: float, grey: float) -> None:
        """A filled rectangle (grey 0 black .. 1 white)."""
        self.ops.append(f"{grey} g {x0:.2f} {self._y(y1):.2f} {x1 - x0:.2f} {y1 - y0:.2f} re f 0 g")

    def image(self, picture: Image.Image, x0: float, y0: float, x1: float, y1: float) -> None:
        buffer = io.BytesIO()
        picture.convert("L").save(buffer, format="JPEG", quality=92)
        name = f"Im{len(self.images)}"
        self.images.append((buffer.getvalue(), picture.width, picture.height))
        self.ops.append(f"q {x1 - x0:.2f} 0 0 {y1 - y0:.2f} {x0:.2f} {self._y(y1):.2f} cm /{name} Do Q")


def _glyph_proc(char: str, size_px: int = 64) -> bytes:
    """A Type3 glyph: the character drawn as an image mask in a 1000-unit em box."""
    face = cjk_font(size_px)
    canvas = Image.new("1", (size_px, size_px), 1)
    ImageDraw.Draw(canvas).text((0, -size_px // 8), char, font=face, fill=0)
    # Image-mask samples of 0 are painted (the default decode): ink is 0, paper is 1.
    data = np.packbits(np.asarray(canvas, dtype=np.uint8) != 0, axis=1).tobytes()
    head = (f"1000 0 0 -200 1000 800 d1 q 1000 0 0 1000 0 -200 cm BI /W {size_px} /H {size_px} "
            f"/IM true /BPC 1 ID ").encode()
    return head + data + b" EI Q"


def pdf_bytes(pages: list[Page]) -> bytes:
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")
    pages_id = add(b"")
    cid_font = add(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo "
                   b"<< /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor "
                   + f"{len(objects) + 2} 0 R".encode() + b" /DW 1000 >>")
    f1 = add(f"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
             f"/DescendantFonts [{cid_font} 0 R] >>".encode())
    add(b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
    kids = []
    for page in pages:
        resources = [f"/Font << /F1 {f1} 0 R" + _type3(page, add) + " >>"]
        xobjects = []
        for index, (jpeg, w, h) in enumerate(page.images):
            image_id = add(f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} "
                           f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode "
                           f"/Length {len(jpeg)} >>\nstream\n".encode()
                           + jpeg + b"\nendstream")
            xobjects.append(f"/Im{index} {image_id} 0 R")
        if xobjects:
            resources.append("/XObject << " + " ".join(xobjects) + " >>")
        content = zlib.compress((_unrotate(page) + "\n".join(page.ops)).encode())
        content_id = add(f"<< /Length {len(content)} /Filter /FlateDecode >>\nstream\n".encode() + content
                         + b"\nendstream")
        box = (page.height, page.width) if page.rotate in (90, 270) else (page.width, page.height)
        kids.append(add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {box[0]} {box[1]}] "
                        f"/Rotate {page.rotate} /Resources << {' '.join(resources)} >> "
                        f"/Contents {content_id} 0 R >>".encode()))
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
    objects[pages_id - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                             f"/Count {len(kids)} >>").encode()
    return serialise(objects, version="1.5")


def _unrotate(page: Page) -> str:
    """The matrix that draws display-space content on a page shown turned by /Rotate 90."""
    if page.rotate == 90:
        return f"0 1 -1 0 {page.height} 0 cm\n"
    return ""


def _type3(page: Page, add: Callable[[bytes], int]) -> str:
    if not page.type3_codes:
        return ""
    procs = {}
    for char, code in page.type3_codes.items():
        stream = _glyph_proc(char)
        procs[code] = add(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    last = max(procs)
    differences = " ".join(f"{code} /g{code}" for code in sorted(procs))
    charprocs = " ".join(f"/g{code} {ref} 0 R" for code, ref in sorted(procs.items()))
    font = add(f"<< /Type /Font /Subtype /Type3 /FontBBox [0 -200 1000 800] "
               f"/FontMatrix [0.001 0 0 0.001 0 0] "
               f"/CharProcs << {charprocs} >> /Encoding << /Type /Encoding /Differences [{differences}] >> "
               f"/FirstChar 1 /LastChar {last} /Widths [{' '.join('1000' for _ in range(last))}] >>".encode())
    return f" /F3 {font} 0 R"




# --- the sample table every fixture draws, in four ways --------------------------------------------

TITLE, UNIT = "收入支出决算表", "单位：万元"
# (row, col, row_span, col_span, text)
TABLE_CELLS = [
    (0, 0, 1, 2, "项目"), (0, 2, 1, 2, "金额"),
    (1, 0, 1, 1, "科目编码"), (1, 1, 1, 1, "科目名称"), (1, 2, 1, 1, "本年收入"), (1, 3, 1, 1, "本年支出"),
    (2, 0, 1, 1, "201"), (2, 1, 1, 1, "一般公共服务支出"), (2, 2, 1, 1, "1,503.52"), (2, 3, 1, 1, "1,503.52"),
    (3, 0, 1, 1, "20101"), (3, 1, 1, 1, "人大事务"), (3, 2, 1, 1, "210.00"), (3, 3, 1, 1, "211.00"),
    (4, 0, 1, 2, "合计"), (4, 2, 1, 1, "1,713.52"), (4, 3, 1, 1, "1,714.52"),
]
COL_WIDTHS = (70.0, 160.0, 100.0, 100.0)
ROW_HEIGHT = 24.0
TABLE_LEFT, TABLE_TOP = 80.0, 160.0


def _edges() -> tuple[list[float], list[float]]:
    xs = [TABLE_LEFT]
    for width in COL_WIDTHS:
        xs.append(xs[-1] + width)
    ys = [TABLE_TOP + i * ROW_HEIGHT for i in range(6)]
    return xs, ys


def _cell_box(row: int, col: int, row_span: int, col_span: int) -> tuple[float, float, float, float]:
    xs, ys = _edges()
    return xs[col], ys[row], xs[col + col_span], ys[row + row_span]


def _heading(page: Page, *, invisible: bool = False) -> None:
    page.text(230, 120, TITLE, 14, invisible=invisible)
    page.text(430, 150, UNIT, 9, invisible=invisible)


def _cell_texts(page: Page, *, unmapped: bool = False, invisible: bool = False,
                replace: dict[str, str] | None = None) -> None:
    for row, col, row_span, col_span, text in TABLE_CELLS:
        x0, y0, _, y1 = _cell_box(row, col, row_span, col_span)
        shown = (replace or {}).get(text, text)
        if unmapped:
            page.unmapped_text(x0 + 4, (y0 + y1) / 2 + 4, shown, 10)
        else:
            page.text(x0 + 4, (y0 + y1) / 2 + 4, shown, 10, invisible=invisible)


def _ruled_lines(page: Page) -> None:
    """Every cell's four edges (a merged cell simply has none inside it)."""
    for row, col, row_span, col_span, _ in TABLE_CELLS:
        x0, y0, x1, y1 = _cell_box(row, col, row_span, col_span)
        page.line(x0, y0, x1, y0)
        page.line(x0, y1, x1, y1)
        page.line(x0, y0, x0, y1)
        page.line(x1, y0, x1, y1)


def ruled_table_pdf(replace: dict[str, str] | None = None) -> bytes:
    """The table drawn with stroked lines, text in a font with a Unicode map (``replace``: misprints)."""
    page = Page()
    _heading(page)
    _ruled_lines(page)
    _cell_texts(page, replace=replace)
    return pdf_bytes([page])


def rotated_page_pdf() -> bytes:
    """A landscape page stored portrait with /Rotate 90, as reports insert wide tables."""
    page = Page(width=842, height=595, rotate=90)
    _heading(page)
    _ruled_lines(page)
    _cell_texts(page)
    return pdf_bytes([page])


def filled_box_table_pdf() -> bytes:
    """The table drawn without a single line: white cell boxes on a dark box (the gaps are the rules)."""
    page = Page()
    _heading(page)
    xs, ys = _edges()
    page.box(xs[0] - 0.5, ys[0] - 0.5, xs[-1] + 0.5, ys[-1] + 0.5, 0.0)
    for row, col, row_span, col_span, _ in TABLE_CELLS:
        x0, y0, x1, y1 = _cell_box(row, col, row_span, col_span)
        page.box(x0 + 0.5, y0 + 0.5, x1 - 0.5, y1 - 0.5, 1.0)
    _cell_texts(page)
    return pdf_bytes([page])


def unmapped_font_pdf() -> bytes:
    """The table's text in a font whose glyphs have no Unicode value ((cid:NN) in other tools)."""
    page = Page()
    page.unmapped_text(230, 120, TITLE, 14)
    _ruled_lines(page)
    _cell_texts(page, unmapped=True)
    return pdf_bytes([page])


def table_picture(dpi: int = 200, *, heading: bool = False) -> Image.Image:
    """The table (and, for a full page, its heading) drawn in pixels, as a scanner or a paste shows it."""
    scale = dpi / 72
    xs, ys = _edges()
    left, top = (0.0, 0.0) if heading else (xs[0] - 6, ys[0] - 6)
    width = 595 * scale if heading else (xs[-1] - xs[0] + 12) * scale
    height = 842 * scale if heading else (ys[-1] - ys[0] + 12) * scale
    picture = Image.new("L", (round(width), round(height)), 255)
    draw = ImageDraw.Draw(picture)

    def px(x: float, y: float) -> tuple[int, int]:
        return round((x - left) * scale), round((y - top) * scale)

    for row, col, row_span, col_span, text in TABLE_CELLS:
        x0, y0, x1, y1 = _cell_box(row, col, row_span, col_span)
        draw.rectangle([px(x0, y0), px(x1, y1)], outline=0, width=max(1, round(0.75 * scale)))
        draw.text(px(x0 + 4, (y0 + y1) / 2 - 6), text, font=cjk_font(round(10 * scale)), fill=0)
    if heading:
        draw.text(px(230, 106), TITLE, font=cjk_font(round(14 * scale)), fill=0)
        draw.text(px(430, 141), UNIT, font=cjk_font(round(9 * scale)), fill=0)
    return picture


def pasted_picture_pdf() -> bytes:
    """A Word page: heading typed as text, the table pasted as a picture below it."""
    page = Page()
    _heading(page)
    xs, ys = _edges()
    page.image(table_picture(), xs[0] - 6, ys[0] - 6, xs[-1] + 6, ys[-1] + 6)
    return pdf_bytes([page])


def scan_with_ocr_layer_pdf(layer_amounts: dict[str, str]) -> bytes:
    """A scanned page carrying another tool's invisible OCR text, which misread ``layer_amounts``."""
    page = Page()
    page.image(table_picture(heading=True), 0, 0, 595, 842)
    _heading(page, invisible=True)
    _cell_texts(page, invisible=True, replace=layer_amounts)
    return pdf_bytes([page])


def expected_cells() -> dict[tuple[int, int], tuple[int, int, str]]:
    """(row, col) -> (row_span, col_span, text) of the sample table."""
    return {(r, c): (rs, cs, t) for r, c, rs, cs, t in TABLE_CELLS}


def budget_report_pdf(year: int, department: str, narrative: list[str]) -> bytes:
    """A two-page budget: the sample table under its 编制部门 line, then a page of narrative."""
    table_page = Page()
    table_page.text(200, 110, f"{year}年部门收支预算总表", 14)
    table_page.text(80, 150, f"编制部门：{department}", 9)
    table_page.text(430, 150, UNIT, 9)
    _ruled_lines(table_page)
    _cell_texts(table_page)
    text_page = Page()
    text_page.text(80, 80, f"上海市普陀区{year}年区级部门预算", 14)
    for number, line in enumerate(narrative):
        text_page.text(80, 120 + 20 * number, line, 10.5)
    return pdf_bytes([table_page, text_page])
