"""Open a PDF or image, validate it, and rasterise one page at a time to grayscale.

Pages are never rasterised together: memory stays flat whatever the page count.
Page sizes are checked from the PDF's MediaBox (or the image header) *before*
any pixel buffer is allocated, so a hostile page cannot exhaust memory.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdf2image
import pdf2image.exceptions
import pypdf
import pypdf.errors
from PIL import Image, ImageOps, UnidentifiedImageError

from ocr.engines.base import GrayImage
from ocr.errors import (
    CorruptPDFError,
    EmptyDocumentError,
    EncryptedPDFError,
    EngineUnavailableError,
    InputError,
    InvalidPageRangeError,
    PageTooLargeError,
    ProcessingTimeoutError,
    TooManyPagesError,
    UnsupportedFormatError,
)
from ocr.sniff import FileKind, sniff_file

log = logging.getLogger(__name__)

DEFAULT_IMAGE_DPI = 300
_PLAUSIBLE_DPI = (50, 2400)
_POINTS_PER_INCH = 72.0


@dataclass(frozen=True)
class DocumentInfo:
    path: Path
    kind: FileKind
    pages: int


@dataclass(frozen=True)
class RasterPage:
    number: int  # 1-based
    image: GrayImage
    dpi: int


def open_document(path: Path, max_pages: int) -> DocumentInfo:
    """Sniff and validate ``path``; count its pages. Raises typed errors only."""
    kind = sniff_file(path)
    pages = _count_pdf_pages(path) if kind == "pdf" else _count_image_frames(path)
    if pages == 0:
        raise EmptyDocumentError("document has no pages", detail={"path": str(path)})
    if pages > max_pages:
        raise TooManyPagesError(
            f"document has {pages} pages; the limit is {max_pages}",
            detail={"pages": pages, "max_pages": max_pages},
        )
    return DocumentInfo(path=path, kind=kind, pages=pages)


def rasterise_page(
    doc: DocumentInfo, number: int, dpi: int, max_page_pixels: int, timeout_s: float
) -> RasterPage:
    """Grayscale raster of page ``number`` (1-based)."""
    if not 1 <= number <= doc.pages:
        raise InvalidPageRangeError(
            f"page {number} does not exist (document has {doc.pages})",
            detail={"page": number, "pages": doc.pages},
        )
    if doc.kind == "pdf":
        return _rasterise_pdf_page(doc.path, number, dpi, max_page_pixels, timeout_s)
    return _load_image_frame(doc.path, number, max_page_pixels)


def _open_pdf(path: Path) -> pypdf.PdfReader:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = pypdf.PdfReader(path, strict=False)
            encrypted = reader.is_encrypted
    except (pypdf.errors.PdfReadError, pypdf.errors.PdfStreamError, ValueError, KeyError,
            TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise CorruptPDFError(f"PDF cannot be parsed: {exc}") from exc
    # An empty user password (owner-only restrictions) still lets us read and render the file.
    try:
        opened = not encrypted or reader.decrypt("") != pypdf.PasswordType.NOT_DECRYPTED
    except pypdf.errors.DependencyError as exc:  # AES without the `cryptography` package
        raise EncryptedPDFError(f"PDF is encrypted with an unsupported method: {exc}") from exc
    except (pypdf.errors.PdfReadError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
        raise CorruptPDFError(f"PDF encryption dictionary is unreadable: {exc}") from exc
    if not opened:
        raise EncryptedPDFError("PDF is password-protected")
    return reader


def _count_pdf_pages(path: Path) -> int:
    reader = _open_pdf(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return len(reader.pages)
    except (pypdf.errors.PdfReadError, pypdf.errors.PdfStreamError, ValueError, KeyError,
            TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise CorruptPDFError(f"PDF page tree is broken: {exc}", detail={"path": str(path)}) from exc


def pdf_page_pixels(path: Path, number: int, dpi: int) -> tuple[int, int]:
    """Raster size (w, h) the page will have at ``dpi``, from its MediaBox and UserUnit."""
    reader = _open_pdf(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            page = reader.pages[number - 1]
            box = page.mediabox
            user_unit = float(page.get("/UserUnit", 1.0))
            width_pt = abs(float(box.width)) * user_unit
            height_pt = abs(float(box.height)) * user_unit
            rotate = int(page.get("/Rotate", 0) or 0)
    except (pypdf.errors.PdfReadError, pypdf.errors.PdfStreamError, ValueError, KeyError,
            TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise CorruptPDFError(f"page {number} is unreadable: {exc}", detail={"page": number}) from exc
    width_px = round(width_pt / _POINTS_PER_INCH * dpi)
    height_px = round(height_pt / _POINTS_PER_INCH * dpi)
    if rotate % 180:
        width_px, height_px = height_px, width_px
    return width_px, height_px


def _check_pixels(width: int, height: int, max_page_pixels: int, number: int) -> None:
    if width <= 0 or height <= 0:
        raise CorruptPDFError(f"page {number} has an empty size", detail={"page": number})
    if width * height > max_page_pixels:
        raise PageTooLargeError(
            f"page {number} would be {width}x{height} px; the limit is {max_page_pixels} px",
            detail={"page": number, "width_px": width, "height_px": height,
                    "max_page_pixels": max_page_pixels},
        )


@dataclass(frozen=True)
class _EmbeddedImage:
    width: int
    height: int
    ppi: int


def _page_images(path: Path, number: int, timeout_s: float) -> list[tuple[str, _EmbeddedImage]]:
    """(type, size) of every image drawn on page ``number``, from ``pdfimages -list``."""
    tool = shutil.which("pdfimages")
    if tool is None:
        return []
    try:
        listing = subprocess.run(
            [tool, "-f", str(number), "-l", str(number), "-list", str(path)],
            capture_output=True, text=True, timeout=max(1.0, timeout_s), check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProcessingTimeoutError(
            f"listing the images of page {number} took longer than {timeout_s:.0f} s", detail={"page": number}
        ) from exc
    found = []
    for line in listing.stdout.splitlines()[2:]:
        fields = line.split()
        try:
            x_ppi, y_ppi = round(float(fields[12])), round(float(fields[13]))
            image = _EmbeddedImage(width=int(fields[3]), height=int(fields[4]), ppi=x_ppi)
        except (IndexError, ValueError):
            continue
        found.append((fields[2] if abs(x_ppi - y_ppi) <= 1 else "anisotropic", image))
    return found


def native_scan_image(path: Path, number: int, timeout_s: float) -> _EmbeddedImage | None:
    """The page's one embedded image, if the page is a scan drawn upright over the whole page.

    Rendering such a page at another resolution resamples the scan (thin rules fade at a
    lower dpi); reading the image at its own resolution keeps every pixel as scanned.
    """
    images = _page_images(path, number, timeout_s)
    if len(images) != 1 or images[0][0] != "image":
        return None
    image = images[0][1]
    low, high = _PLAUSIBLE_DPI
    if not low <= image.ppi <= high:
        return None
    page_w, page_h = pdf_page_pixels(path, number, image.ppi)
    # A rotated, cropped or partial placement would not match the page raster: render it instead.
    if abs(page_w - image.width) > 0.02 * page_w or abs(page_h - image.height) > 0.02 * page_h:
        return None
    return image


def _extract_native_image(path: Path, number: int, image: _EmbeddedImage, max_page_pixels: int,
                          timeout_s: float) -> RasterPage | None:
    _check_pixels(image.width, image.height, max_page_pixels, number)
    tool = shutil.which("pdfimages")
    if tool is None:
        return None
    with tempfile.TemporaryDirectory(prefix="fiscalocr-img-") as tmp:
        # '-all' writes JPEG/JPEG2000 streams as stored (milliseconds); '-png' re-encodes a page-sized
        # PNG (seconds). Encodings PIL cannot open (JBIG2, CCITT) are asked for again as PNG.
        extracted = _run_pdfimages(tool, path, number, "-all", Path(tmp), timeout_s=timeout_s)
        if extracted is not None and extracted.suffix.lower() not in _PIL_READABLE:
            extracted = _run_pdfimages(tool, path, number, "-png", Path(tmp) / "png", timeout_s=timeout_s)
        if extracted is None:
            return None
        with _open_image(extracted, max_page_pixels) as loaded:
            if loaded.size != (image.width, image.height):
                return None
            gray = _to_gray_array(loaded)
    log.debug("page %d: embedded scan used at its native %d dpi", number, image.ppi)
    return RasterPage(number=number, image=gray, dpi=image.ppi)


_PIL_READABLE = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".jp2", ".pbm", ".pgm", ".ppm"}


def _run_pdfimages(tool: str, path: Path, number: int, mode: str, out_dir: Path, *,
                   timeout_s: float) -> Path | None:
    """The one image of page ``number`` written by pdfimages in ``mode``, or None."""
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([tool, "-f", str(number), "-l", str(number), mode, str(path), f"{out_dir}/page"],
                       capture_output=True, timeout=max(1.0, timeout_s), check=False)
    except subprocess.TimeoutExpired as exc:
        raise ProcessingTimeoutError(
            f"extracting the image of page {number} took longer than {timeout_s:.0f} s",
            detail={"page": number},
        ) from exc
    files = sorted(f for f in out_dir.glob("page-*") if f.is_file())
    return files[0] if len(files) == 1 else None


def _upsample_to(page: RasterPage, dpi: int, max_page_pixels: int) -> RasterPage:
    """Enlarge a scan below ``dpi`` to it (as rendering would); never shrink one above it.

    Shrinking is what loses 1-px rules; enlarging keeps the grid and text filters working
    at the resolution they were tuned for.
    """
    if page.dpi >= dpi:
        return page
    height, width = page.image.shape[:2]
    new_w, new_h = round(width * dpi / page.dpi), round(height * dpi / page.dpi)
    _check_pixels(new_w, new_h, max_page_pixels, page.number)
    enlarged = Image.fromarray(page.image).resize((new_w, new_h), Image.Resampling.BICUBIC)
    return RasterPage(number=page.number, image=np.asarray(enlarged, dtype=np.uint8).copy(), dpi=dpi)


def _rasterise_pdf_page(path: Path, number: int, dpi: int, max_page_pixels: int,
                        timeout_s: float) -> RasterPage:
    native = native_scan_image(path, number, timeout_s)
    if native is not None:
        page = _extract_native_image(path, number, native, max_page_pixels, timeout_s)
        if page is not None:
            return _upsample_to(page, dpi, max_page_pixels)
    width, height = pdf_page_pixels(path, number, dpi)
    _check_pixels(width, height, max_page_pixels, number)
    try:
        images = pdf2image.convert_from_path(
            path, dpi=dpi, first_page=number, last_page=number, grayscale=True,
            timeout=max(1, round(timeout_s))
        )
    except subprocess.TimeoutExpired as exc:
        raise ProcessingTimeoutError(
            f"rasterising page {number} took longer than {timeout_s:.0f} s", detail={"page": number}
        ) from exc
    except pdf2image.exceptions.PDFInfoNotInstalledError as exc:
        raise EngineUnavailableError("poppler (pdfinfo/pdftoppm) is not installed") from exc
    except (pdf2image.exceptions.PDFPageCountError, pdf2image.exceptions.PDFSyntaxError) as exc:
        raise CorruptPDFError(f"poppler cannot read page {number}: {exc}", detail={"page": number}) from exc
    if not images:
        raise CorruptPDFError(f"poppler rendered nothing for page {number}", detail={"page": number})
    return RasterPage(number=number, image=_to_gray_array(images[0]), dpi=dpi)


def _open_image(path: Path, max_page_pixels: int | None = None) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Our own pixel limit is checked on the header below; Pillow's warning would be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise PageTooLargeError(f"image is too large: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UnsupportedFormatError(f"image cannot be decoded: {exc}", detail={"path": str(path)}) from exc
    if max_page_pixels is not None:
        _check_pixels(image.width, image.height, max_page_pixels, 1)
    return image


def _count_image_frames(path: Path) -> int:
    with _open_image(path) as image:
        return int(getattr(image, "n_frames", 1))


def _load_image_frame(path: Path, number: int, max_page_pixels: int) -> RasterPage:
    # Pillow's own bomb guard is relative to its global limit; ours is explicit and checked
    # on the header size before the pixels are decoded.
    with _open_image(path) as image:
        try:
            image.seek(number - 1)
            _check_pixels(image.width, image.height, max_page_pixels, number)
            dpi = _image_dpi(image)
            upright = ImageOps.exif_transpose(image)
            gray = _to_gray_array(upright)
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise InputError(f"image data is truncated or corrupt: {exc}",
                             detail={"path": str(path)}) from exc
    return RasterPage(number=number, image=gray, dpi=dpi)


def _image_dpi(image: Image.Image) -> int:
    raw = image.info.get("dpi")
    try:
        dpi = round(float(raw[0])) if raw else 0
    except (TypeError, ValueError, IndexError):
        dpi = 0
    low, high = _PLAUSIBLE_DPI
    return dpi if low <= dpi <= high else DEFAULT_IMAGE_DPI


def _to_gray_array(image: Image.Image) -> GrayImage:
    if image.mode in ("RGBA", "LA", "P"):
        # Transparent pixels are paper, not ink.
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        background.alpha_composite(image.convert("RGBA"))
        image = background
    gray = image.convert("L")
    return np.asarray(gray, dtype=np.uint8).copy()
