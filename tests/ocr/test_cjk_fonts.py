"""Digital reports whose Chinese fonts are not embedded render only with poppler-data installed
(scripts/install-system-deps.sh): without it poppler says "Missing language pack for 'Adobe-GB1'
mapping" and draws a blank page."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pdf_builders import cjk_text_pdf

from ocr.rasterise import open_document, rasterise_page


def test_non_embedded_adobe_gb1_font_renders_ink(tmp_path: Path) -> None:
    pdf = tmp_path / "digital.pdf"
    pdf.write_bytes(cjk_text_pdf("一般公共预算财政拨款支出决算表"))
    page = rasterise_page(open_document(pdf, max_pages=5), 1, dpi=100, max_page_pixels=10**8, timeout_s=60)
    band = page.image[: page.image.shape[0] // 3]  # the text line sits in the top third
    assert (band < 128).sum() > 2000, "no glyph was drawn: is poppler-data installed?"

def test_poppler_finds_the_adobe_gb1_language_pack(tmp_path: Path) -> None:
    pdf = tmp_path / "digital.pdf"
    pdf.write_bytes(cjk_text_pdf("收入支出决算总表"))
    result = subprocess.run(["pdftoppm", "-r", "50", "-gray", str(pdf), str(tmp_path / "page")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "Missing language pack" not in result.stderr, result.stderr
