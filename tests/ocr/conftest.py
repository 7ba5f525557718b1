"""Fixtures of the extraction-core tests (pages drawn by ocr_pages.py, engines loaded once)."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/ is on sys.path (rootdir conftest), where tests/ocr would shadow the ocr package as a
# namespace package; put the project root first so `import ocr` is the real one.
_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)
if "ocr" in sys.modules and getattr(sys.modules["ocr"], "__file__", None) is None:
    del sys.modules["ocr"]

import pytest  # noqa: E402
from ocr_pages import DPI, Page, blank_page, budget_table, code_table, font, render_page, save_png  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from ocr.engines import OcrEngine, get_engine  # noqa: E402


@pytest.fixture(scope="session")
def rapid_engine() -> OcrEngine:
    return get_engine("rapidocr")


@pytest.fixture(scope="session")
def tesseract_engine() -> OcrEngine:
    return get_engine("tesseract")


@pytest.fixture(scope="session")
def budget_page() -> Page:
    return render_page([budget_table()])


@pytest.fixture(scope="session")
def budget_png(tmp_path_factory: pytest.TempPathFactory, budget_page: Page) -> Path:
    return save_png(budget_page.image, tmp_path_factory.mktemp("pages") / "budget.png")


@pytest.fixture(scope="session")
def two_table_page() -> Page:
    first = budget_table(origin=(120, 400))
    second = code_table(origin=(120, first.bottom + 260))
    return render_page([first, second])


@pytest.fixture(scope="session")
def text_only_image() -> Image.Image:
    image = blank_page()
    draw = ImageDraw.Draw(image)
    lines = ["一、部门主要职能", "主要负责本区财政收支管理和预算编制工作。", "二、机构设置情况"]
    for index, line in enumerate(lines):
        draw.text((150, 300 + 70 * index), line, fill=0, font=font(36))
    return image


@pytest.fixture(scope="session")
def multipage_pdf(tmp_path_factory: pytest.TempPathFactory, budget_page: Page,
                  text_only_image: Image.Image) -> Path:
    """Three pages: a table, a blank page, a text-only page."""
    path = tmp_path_factory.mktemp("pdf") / "three.pdf"
    budget_page.image.save(path, save_all=True, append_images=[blank_page(), text_only_image], resolution=DPI)
    return path
