"""Read one PDF page's own content: characters with their boxes, ruling lines, images.

A digital report (exported from Word, WPS or Excel) carries every character with its
Unicode value and position, and draws its table rules as vector paths. Reading those is
exact and fast; OCR is only needed where the page has no trustworthy text (see
``ocr.source``). Coordinates are converted once to pixels at the caller's resolution,
top-left origin, so the rest of the pipeline (grid, cells, overlays) sees the same space
as a page rasterised at that resolution.

pypdfium2 (PDFium, Apache-2.0/BSD) is used because it is a compiled engine: the 25-page
Putuo report's characters and paths are read in about 0.15 s (docs/design.md).
"""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ocr.errors import CorruptPDFError, EncryptedPDFError, InvalidPageRangeError, PageTooLargeError

FloatBox = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)`` in pixels at the page's resolution, top-left origin."""

# A filled rectangle no thicker than this (in points) is a rule drawn as a thin box (Word, WPS).
THIN_RULE_PT = 4.0
# Path pieces shorter than this (points) are glyph-like decorations, not rules.
MIN_RULE_PT = 2.0
# A colour channel above this (0-255) in every channel counts as white: invisible on paper.
_WHITE = 235
_INVISIBLE_RENDER_MODES = {3, 7}  # PDF text render modes that paint nothing (7 adds to the clip)
_PATH_SEGMENT_LINE, _PATH_SEGMENT_BEZIER, _PATH_SEGMENT_MOVE = 0, 1, 2


@dataclass(frozen=True)
class Glyph:
    char: str
    box: FloatBox  # the font's box for the character (ascent to descent), so a line's glyphs align
    invisible: bool = False  # drawn with an invisible render mode (an OCR layer over a scan)
    unmapped: bool = False  # the font gives no Unicode value for it


@dataclass(frozen=True)
class Rule:
    """A straight horizontal or vertical stroke of the page: ``pos`` across, ``start``-``end`` along."""

    horizontal: bool
    pos: float
    start: float
    end: float


@dataclass(frozen=True)
class LayerPage:
    number: int
    dpi: int
    width_px: int
    height_px: int
    glyphs: tuple[Glyph, ...]
    rules: tuple[Rule, ...]
    images: tuple[FloatBox, ...] = field(default_factory=tuple)


class _Affine:
    """PDF user space -> pixels at ``dpi`` for the page as displayed (rotation, crop box)."""

    def __init__(self, page: pdfium.PdfPage, width_px: int, height_px: int) -> None:
        probes = [(0.0, 0.0), (1000.0, 0.0), (0.0, 1000.0)]
        mapped = [_page_to_device(page, width_px, height_px, x, y) for x, y in probes]
        (ox, oy), (ax, ay), (bx, by) = mapped
        self.a, self.b = (ax - ox) / 1000.0, (ay - oy) / 1000.0
        self.c, self.d = (bx - ox) / 1000.0, (by - oy) / 1000.0
        self.e, self.f = ox, oy

    def point(self, x: float, y: float) -> tuple[float, float]:
        return self.a * x + self.c * y + self.e, self.b * x + self.d * y + self.f

    def box(self, left: float, bottom: float, right: float, top: float) -> FloatBox:
        x0, y0 = self.point(left, bottom)
        x1, y1 = self.point(right, top)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _page_to_device(page: pdfium.PdfPage, width: int, height: int, x: float, y: float) -> tuple[float, float]:
    # FPDF_PageToDevice rounds to whole device pixels: map at 100x and scale back for sub-pixel accuracy.
    dx, dy = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, width * 100, height * 100, 0, x, y, dx, dy)
    return dx.value / 100.0, dy.value / 100.0


def open_pdf(path: Path) -> pdfium.PdfDocument:
    """The PDF opened for reading its layer; typed errors for files PDFium refuses."""
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise EncryptedPDFError("PDF is encrypted with a user password",
                                    detail={"path": path.name}) from exc
        raise CorruptPDFError(f"PDF cannot be read: {exc}", detail={"path": path.name}) from exc


def read_layer(document: pdfium.PdfDocument, number: int, dpi: int, max_page_pixels: int) -> LayerPage:
    """Characters, rules and image boxes of page ``number`` (1-based), in pixels at ``dpi``.

    The page's size is checked first, as for a raster: the same limit holds on both paths.
    """
    if not 1 <= number <= len(document):
        raise InvalidPageRangeError(f"page {number} does not exist (document has {len(document)})",
                                    detail={"page": number, "pages": len(document)})
    try:
        page = document[number - 1]
    except pdfium.PdfiumError as exc:
        raise CorruptPDFError(f"page {number} cannot be loaded: {exc}", detail={"page": number}) from exc
    try:
        width_pt, height_pt = page.get_size()
        width_px, height_px = round(width_pt * dpi / 72.0), round(height_pt * dpi / 72.0)
        if width_px <= 0 or height_px <= 0 or width_px * height_px > max_page_pixels:
            raise PageTooLargeError(
                f"page {number} would be {width_px}x{height_px} px; the limit is {max_page_pixels} px",
                detail={"page": number, "width_px": width_px, "height_px": height_px,
                        "max_page_pixels": max_page_pixels})
        affine = _Affine(page, width_px, height_px)
        glyphs = _glyphs(page, affine)
        rules: list[Rule] = []
        images: list[FloatBox] = []
        boxes = _FilledBoxes(width_px * height_px)
        for obj, matrix in _objects(page):
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                rules.extend(_path_rules(obj, matrix, affine, dpi, boxes))
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                images.append(_object_box(obj, matrix, affine))
        rules.extend(boxes.edges())
        return LayerPage(number=number, dpi=dpi, width_px=width_px, height_px=height_px,
                         glyphs=tuple(glyphs), rules=tuple(rules), images=tuple(images))
    finally:
        page.close()


def _glyphs(page: pdfium.PdfPage, affine: _Affine) -> list[Glyph]:
    textpage = page.get_textpage()
    try:
        render_modes: dict[int, int] = {}
        glyphs = []
        rect = pdfium_c.FS_RECTF()
        for index in range(textpage.count_chars()):
            code = pdfium_c.FPDFText_GetUnicode(textpage.raw, index)
            char = chr(code) if 0 < code < 0x110000 else "\ufffd"
            if char.isspace() or pdfium_c.FPDFText_IsGenerated(textpage.raw, index) == 1:
                continue
            if not pdfium_c.FPDFText_GetLooseCharBox(textpage.raw, index, rect):
                continue
            obj = pdfium_c.FPDFText_GetTextObject(textpage.raw, index)
            key = ctypes.cast(obj, ctypes.c_void_p).value or 0
            if key not in render_modes:
                render_modes[key] = pdfium_c.FPDFTextObj_GetTextRenderMode(obj) if key else 0
            glyphs.append(Glyph(
                char=char, box=affine.box(rect.left, rect.bottom, rect.right, rect.top),
                invisible=render_modes[key] in _INVISIBLE_RENDER_MODES,
                unmapped=pdfium_c.FPDFText_HasUnicodeMapError(textpage.raw, index) == 1,
            ))
        return glyphs
    finally:
        textpage.close()


_Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _compose(inner: _Matrix, outer: _Matrix) -> _Matrix:
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer  # noqa: N806 - the usual names of a PDF matrix
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _objects(page: pdfium.PdfPage) -> Iterator[tuple[pdfium_c.FPDF_PAGEOBJECT, _Matrix]]:
    """Every page object with the matrix that maps its form's space to page space."""
    def walk(get: object, count: int, outer: _Matrix, depth: int) -> Iterator[tuple[object, _Matrix]]:
        for index in range(count):
            obj = get(index)  # type: ignore[operator]
            if pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_FORM and depth < 8:
                form_matrix = _compose(_matrix(obj), outer)
                yield from walk(lambda i, o=obj: pdfium_c.FPDFFormObj_GetObject(o, i),
                                pdfium_c.FPDFFormObj_CountObjects(obj), form_matrix, depth + 1)
            else:
                yield obj, outer

    count = pdfium_c.FPDFPage_CountObjects(page.raw)
    yield from walk(lambda i: pdfium_c.FPDFPage_GetObject(page.raw, i), count, _IDENTITY, 0)


def _matrix(obj: pdfium_c.FPDF_PAGEOBJECT) -> _Matrix:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
        return _IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _apply(matrix: _Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def _object_box(obj: pdfium_c.FPDF_PAGEOBJECT, outer: _Matrix, affine: _Affine) -> FloatBox:
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
    corners = [_apply(outer, x, y) for x in (left.value, right.value) for y in (bottom.value, top.value)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    return affine.box(min(xs), min(ys), max(xs), max(ys))


def _is_white(get_colour: object, obj: pdfium_c.FPDF_PAGEOBJECT) -> bool:
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    if not get_colour(obj, r, g, b, a):  # type: ignore[operator]
        return False
    return a.value == 0 or min(r.value, g.value, b.value) >= _WHITE


def _subpaths(obj: pdfium_c.FPDF_PAGEOBJECT, matrix: _Matrix) -> list[list[tuple[float, float]]]:
    """Straight-line subpaths of a path object in page space (a curve ends the straight run)."""
    paths: list[list[tuple[float, float]]] = []
    x, y = ctypes.c_float(), ctypes.c_float()
    for index in range(pdfium_c.FPDFPath_CountSegments(obj)):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj, index)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
        point = _apply(matrix, x.value, y.value)
        if kind in (_PATH_SEGMENT_MOVE, _PATH_SEGMENT_BEZIER) or not paths:
            paths.append([point])
        else:
            paths[-1].append(point)
        if pdfium_c.FPDFPathSegment_GetClose(segment) and len(paths[-1]) > 1:
            paths[-1].append(paths[-1][0])
    return paths


def _path_rules(obj: pdfium_c.FPDF_PAGEOBJECT, outer: _Matrix, affine: _Affine, dpi: int,
                boxes: _FilledBoxes) -> list[Rule]:
    fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDFPath_GetDrawMode(obj, fill_mode, stroke)
    matrix = _compose(_matrix(obj), outer)
    points_px = [[affine.point(*p) for p in sub] for sub in _subpaths(obj, matrix)]
    rules: list[Rule | None] = []
    if stroke.value and not _is_white(pdfium_c.FPDFPageObj_GetStrokeColor, obj):
        for sub in points_px:
            rules.extend(_straight(a, b, dpi) for a, b in itertools.pairwise(sub))
    if fill_mode.value:
        white = _is_white(pdfium_c.FPDFPageObj_GetFillColor, obj)
        for sub in points_px:
            thin = _thin_fill(sub, dpi)
            if thin is None:
                boxes.add(sub, white=white)
            elif not white:
                rules.append(thin)
    return [rule for rule in rules if rule is not None and rule.end - rule.start >= MIN_RULE_PT * dpi / 72]


def _straight(a: tuple[float, float], b: tuple[float, float], dpi: int) -> Rule | None:
    """The stroke from a to b, if it runs along an axis (half a point of slant at most)."""
    slack = 0.5 * dpi / 72
    if abs(a[1] - b[1]) <= slack:
        return Rule(True, (a[1] + b[1]) / 2, min(a[0], b[0]), max(a[0], b[0]))
    if abs(a[0] - b[0]) <= slack:
        return Rule(False, (a[0] + b[0]) / 2, min(a[1], b[1]), max(a[1], b[1]))
    return None


def _thin_fill(points: list[tuple[float, float]], dpi: int) -> Rule | None:
    """A filled shape no thicker than a rule is that rule (None: a larger shape, or no shape)."""
    if len(points) < 3:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    thin = THIN_RULE_PT * dpi / 72
    if y1 - y0 <= thin and x1 - x0 > y1 - y0:
        return Rule(True, (y0 + y1) / 2, x0, x1)
    if x1 - x0 <= thin and y1 - y0 > x1 - x0:
        return Rule(False, (x0 + x1) / 2, y0, y1)
    return None


class _FilledBoxes:
    """Filled rectangles that show on paper: a table drawn as shaded cells, or as white cells on dark.

    A box shows where its colour differs from what lies under it: a coloured box on the page,
    or a white box inside a coloured one (the gaps between white cells are then the rules).
    A box covering most of the page is a background, not a cell.
    """

    def __init__(self, page_area_px: float) -> None:
        self.page_area = page_area_px
        self.coloured: list[FloatBox] = []
        self.white: list[FloatBox] = []

    def add(self, points: list[tuple[float, float]], *, white: bool) -> None:
        box = _rectangle(points)
        if box is None or (box[2] - box[0]) * (box[3] - box[1]) > 0.5 * self.page_area:
            return
        (self.white if white else self.coloured).append(box)

    def edges(self) -> list[Rule]:
        shown = self.coloured + [b for b in self.white if any(_contains(c, b) for c in self.coloured)]
        rules = []
        for x0, y0, x1, y1 in shown:
            rules += [Rule(True, y0, x0, x1), Rule(True, y1, x0, x1),
                      Rule(False, x0, y0, y1), Rule(False, x1, y0, y1)]
        return rules


def _rectangle(points: list[tuple[float, float]]) -> FloatBox | None:
    """The box of a closed axis-aligned rectangle path (corners within a pixel), else None."""
    if len(points) < 4:
        return None
    xs, ys = _two_values([p[0] for p in points]), _two_values([p[1] for p in points])
    if xs is None or ys is None:
        return None
    return xs[0], ys[0], xs[1], ys[1]


def _two_values(values: list[float], slack: float = 1.0) -> tuple[float, float] | None:
    low, high = min(values), max(values)
    if all(abs(v - low) <= slack or abs(v - high) <= slack for v in values) and high - low > slack:
        return low, high
    return None


def _contains(outer: FloatBox, inner: FloatBox, slack: float = 1.0) -> bool:
    return (outer[0] - slack <= inner[0] and outer[1] - slack <= inner[1]
            and inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack)
