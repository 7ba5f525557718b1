"""Input validation: sniffing by content, PDF damage, limits; every failure a typed error."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
from ocr_pages import A4, DPI, Page
from PIL import Image

from ocr import errors
from ocr.pipeline import ExtractOptions, extract_page, inspect_source
from ocr.rasterise import open_document, pdf_page_pixels, rasterise_page
from ocr.sniff import sniff_bytes, sniff_file


def _blank_pdf(path: Path, width: float = 595, height: float = 842, pages: int = 1) -> Path:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=height)
    writer.write(path)
    return path


@pytest.mark.parametrize(
    ("head", "kind"),
    [(b"%PDF-1.7\n", "pdf"), (b"\x89PNG\r\n\x1a\n....", "png"), (b"\xff\xd8\xff\xe0", "jpeg"),
     (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"junk" * 10 + b"%PDF-1.4", "pdf"), (b"PK\x03\x04", None),
     (b"<html>", None)],
)
def test_sniff_bytes(head: bytes, kind: str | None) -> None:
    assert sniff_bytes(head) == kind


def test_type_comes_from_content_not_name(tmp_path: Path, budget_page: Page) -> None:
    misnamed = tmp_path / "scan.pdf"
    budget_page.image.save(misnamed, format="JPEG")
    assert sniff_file(misnamed) == "jpeg"
    text = tmp_path / "report.pdf"
    text.write_text("not really a pdf")
    with pytest.raises(errors.UnsupportedFormatError) as info:
        inspect_source(text)
    assert info.value.code == "unsupported_format"


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(errors.UnsupportedFormatError):
        inspect_source(empty)
    with pytest.raises(errors.InputError):
        inspect_source(tmp_path / "missing.pdf")


def test_encrypted_pdf(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    with pytest.raises(errors.EncryptedPDFError) as info:
        inspect_source(path)
    assert info.value.code == "pdf_encrypted"


def test_owner_password_only_pdf_is_readable(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("", owner_password="owner")
    path = tmp_path / "restricted.pdf"
    writer.write(path)
    assert inspect_source(path).pages == 1


def test_truncated_pdf(tmp_path: Path, multipage_pdf: Path) -> None:
    data = multipage_pdf.read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(errors.CorruptPDFError) as info:
        inspect_source(path)
    assert info.value.code == "pdf_corrupt"


def test_zero_page_pdf(tmp_path: Path) -> None:
    path = tmp_path / "zero.pdf"
    pypdf.PdfWriter().write(path)
    with pytest.raises(errors.EmptyDocumentError) as info:
        inspect_source(path)
    assert info.value.code == "document_empty"


def test_too_many_pages(tmp_path: Path) -> None:
    path = _blank_pdf(tmp_path / "long.pdf", pages=5)
    assert inspect_source(path).pages == 5
    with pytest.raises(errors.TooManyPagesError):
        inspect_source(path, max_pages=4)
    with pytest.raises(errors.TooManyPagesError):
        extract_page(path, 1, ExtractOptions(max_pages=4))


def test_huge_mediabox_refused_before_rasterising(tmp_path: Path) -> None:
    path = _blank_pdf(tmp_path / "poster.pdf", width=14400, height=14400)
    assert pdf_page_pixels(path, 1, 300) == (60000, 60000)
    with pytest.raises(errors.PageTooLargeError) as info:
        extract_page(path, 1, ExtractOptions(dpi=300))
    assert info.value.code == "page_too_large"


def test_image_bomb_refused_from_header(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000), 1).save(path)
    doc = open_document(path, max_pages=10)
    with pytest.raises(errors.PageTooLargeError):
        rasterise_page(doc, 1, dpi=300, max_page_pixels=60_000_000, timeout_s=30)


def test_pdf_pages_rasterise_one_at_a_time(multipage_pdf: Path) -> None:
    doc = open_document(multipage_pdf, max_pages=10)
    assert doc.pages == 3
    page = rasterise_page(doc, 2, dpi=100, max_page_pixels=60_000_000, timeout_s=60)
    assert page.image.ndim == 2
    # Each page is one embedded scan: it is read at its own resolution, not shrunk to 100 dpi.
    assert page.image.shape == (A4[1], A4[0])
    assert page.dpi == DPI
    with pytest.raises(errors.InvalidPageRangeError):
        rasterise_page(doc, 4, dpi=100, max_page_pixels=60_000_000, timeout_s=60)


def test_image_dpi_from_metadata_or_default(tmp_path: Path, budget_page: Page) -> None:
    with_dpi = tmp_path / "a.tiff"
    budget_page.image.save(with_dpi, dpi=(150, 150))
    without = tmp_path / "b.png"
    budget_page.image.save(without)
    assert rasterise_page(open_document(with_dpi, 5), 1, 200, 10**8, 30).dpi == 150
    assert rasterise_page(open_document(without, 5), 1, 200, 10**8, 30).dpi == 300
