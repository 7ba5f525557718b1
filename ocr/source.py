"""Per page, where its text comes from: the PDF's own text layer, or OCR of the page image.

A text layer is trusted when it is the page's visible print: characters with a Unicode value
(no unmapped glyphs, private-use or replacement characters), a plausible script for a
Chinese report, drawn visibly. Invisible text over a page-sized image is somebody else's OCR
of a scan, of unknown quality: the image is OCR'd unless the caller trusts such layers.
A trusted page can still hold a picture with no text over it (a table pasted as an image
into a Word document): those regions are OCR'd and the rest is read from the layer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from ocr.textlayer import FloatBox, Glyph, LayerPage

OcrMode = Literal["auto", "always", "never"]
OCR_MODES: tuple[OcrMode, ...] = ("auto", "always", "never")

# More than this share of doubtful characters makes the whole layer untrustworthy: a font
# without a Unicode map gives doubtful characters throughout, never a few.
MAX_DOUBTFUL_SHARE = 0.02
# Below this many non-ASCII characters the script check says nothing (a page of numbers).
MIN_SCRIPT_SAMPLE = 20
# Share of non-ASCII characters that must be CJK ideographs or CJK/full-width punctuation.
MIN_CJK_SHARE = 0.8
# An image covering this share of the page is the page (a scan); smaller ones are pictures on it.
PAGE_IMAGE_SHARE = 0.5
# A picture this large (share of the page) with no text over it may hold a table.
MIN_PICTURE_SHARE = 0.03
# A picture with at most this many characters over it has no text layer of its own.
MAX_CHARS_OVER_PICTURE = 3


@dataclass(frozen=True)
class SourceChoice:
    source: Literal["text", "ocr"]
    reason: str
    glyphs: tuple[Glyph, ...] = ()  # the characters to read, when source is "text"
    pictures: tuple[FloatBox, ...] = ()  # regions of a text page that need OCR
    over_image: bool = False  # the text lies over a page-sized image (a scan): its rules are pixels


def _doubtful(glyph: Glyph) -> bool:
    if glyph.unmapped or glyph.char == "\ufffd":
        return True
    category = unicodedata.category(glyph.char)
    return category in {"Co", "Cs", "Cn", "Cc"}


def _plausible_script(glyphs: tuple[Glyph, ...] | list[Glyph]) -> bool:
    """Most non-ASCII characters of a Chinese report are ideographs or CJK punctuation."""
    wide = [g.char for g in glyphs if ord(g.char) > 0x7F]
    if len(wide) < MIN_SCRIPT_SAMPLE:
        return True
    cjk = sum(1 for c in wide if _is_cjk_or_punctuation(c))
    return cjk >= MIN_CJK_SHARE * len(wide)


# Ideographs, CJK and full-width punctuation, general punctuation, circled and Roman numerals,
# geometric shapes, ballot boxes and check marks (绩效 tables), and ¥ · × ℃.
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x3000, 0x303F), (0xFF00, 0xFFEF), (0x2000, 0x206F),
               (0x2460, 0x24FF), (0x2150, 0x218F), (0x25A0, 0x25FF), (0x2610, 0x2612), (0x2713, 0x2718))
_SIGNS = {0x00A5, 0x00B7, 0x00D7, 0x2103}


def _is_cjk_or_punctuation(char: str) -> bool:
    code = ord(char)
    return code in _SIGNS or any(low <= code <= high for low, high in _CJK_RANGES)


def _area(box: FloatBox) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _inside(glyph: Glyph, box: FloatBox) -> bool:
    x, y = (glyph.box[0] + glyph.box[2]) / 2, (glyph.box[1] + glyph.box[3]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _hidden_text_over_scan(
    layer: LayerPage, n_visible: int, page_area: float, trust_invisible: bool
) -> SourceChoice | None:
    """Mostly invisible characters over a page-sized image: another tool's OCR of a scan."""
    hidden = sum(1 for g in layer.glyphs if g.invisible)
    page_image = any(_area(box) >= PAGE_IMAGE_SHARE * page_area for box in layer.images)
    if not (hidden and hidden >= n_visible and page_image):
        return None
    if trust_invisible:
        return SourceChoice("text", "invisible text layer over a scan, trusted by option",
                            glyphs=layer.glyphs, over_image=True)
    return SourceChoice("ocr", "invisible text over a page image (another tool's OCR)")


def _untrusted_layer(visible: list[Glyph]) -> str | None:
    """Why the visible characters cannot be read as they are (None when they can)."""
    doubtful = sum(1 for g in visible if _doubtful(g))
    if doubtful > MAX_DOUBTFUL_SHARE * len(visible):
        return f"{doubtful} of {len(visible)} characters have no Unicode mapping"
    if not _plausible_script(visible):
        return "text layer is not plausible Chinese (fonts without a Unicode map)"
    return None


def choose_source(layer: LayerPage, mode: OcrMode = "auto", trust_invisible: bool = False) -> SourceChoice:
    """Decide how to read one page (see the module docstring)."""
    if mode == "always":
        return SourceChoice("ocr", "OCR requested for every page")
    if mode == "never":
        return SourceChoice("text", "text layer requested", glyphs=layer.glyphs)
    page_area = float(layer.width_px * layer.height_px)
    visible = [g for g in layer.glyphs if not g.invisible]
    over_scan = _hidden_text_over_scan(layer, len(visible), page_area, trust_invisible)
    if over_scan is not None:
        return over_scan
    if not visible:
        if layer.images:
            return SourceChoice("ocr", "no text layer")
        return SourceChoice("text", "no text and no image: vector drawing only")
    untrusted = _untrusted_layer(visible)
    if untrusted is not None:
        return SourceChoice("ocr", untrusted)
    pictures = tuple(box for box in layer.images
                     if _area(box) >= MIN_PICTURE_SHARE * page_area
                     and sum(1 for g in visible if _inside(g, box)) <= MAX_CHARS_OVER_PICTURE)
    reason = "text layer" + (f", {len(pictures)} picture(s) OCR'd" if pictures else "")
    return SourceChoice("text", reason, glyphs=tuple(visible), pictures=pictures)
