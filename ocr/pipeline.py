"""Public entry points of the extraction core: file -> Extraction (schema v1).

Stages: rasterise -> preprocess -> grid -> cells -> context text -> assemble.
The page-level call exists so a distributed runner can fan pages out to workers
and assemble the results afterwards with the same code as the embedded path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ocr.contract import Extraction, PageInfo, Source, Table

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(pages_done, pages_total)`` after each page."""


@dataclass(frozen=True)
class ExtractOptions:
    engine: str = "rapidocr"  # "rapidocr" | "tesseract"
    dpi: int = 300
    pages: tuple[int, ...] | None = None  # 1-based page numbers; None = all
    max_pages: int = 500
    max_page_pixels: int = 60_000_000  # refuse rasters above this (e.g. 2 m² pages)
    page_timeout_s: float = 120.0
    debug_dir: Path | None = None


@dataclass
class PageResult:
    page: PageInfo
    tables: list[Table] = field(default_factory=list)  # ids are page-local until assemble()


def inspect_source(path: Path) -> Source:
    """Validate the file (sniffed by content) and count its pages; raise a typed error if unusable."""
    raise NotImplementedError


def extract_page(path: Path, page_number: int, options: ExtractOptions) -> PageResult:
    """Rasterise and read one page (1-based) of a PDF or the single page of an image file."""
    raise NotImplementedError


def assemble(source: Source, pages: list[PageResult]) -> Extraction:
    """Give tables document-wide ids (t0, t1, ...) in page order and link continuations."""
    raise NotImplementedError


def extract(path: Path, options: ExtractOptions | None = None,
            progress: ProgressCallback | None = None) -> Extraction:
    """Whole document, page by page (never every page in memory at once)."""
    raise NotImplementedError
