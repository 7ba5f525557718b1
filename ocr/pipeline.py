"""Public entry points of the extraction core: file -> Extraction (schema v1).

Stages: rasterise -> preprocess -> grid -> cells -> context text -> assemble.
The page-level call exists so a distributed runner can fan pages out to workers
and assemble the results afterwards with the same code as the embedded path.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ocr.cells import read_table_cells
from ocr.context import attach_context, find_text_lines, read_text_lines
from ocr.contract import Extraction, PageInfo, Source, Table
from ocr.engines import get_engine
from ocr.errors import InvalidPageRangeError, ProcessingTimeoutError
from ocr.grid import find_tables, page_lines
from ocr.lexicon import Lexicon, correct_tables
from ocr.preprocess import enlarge_small_text, make_upright
from ocr.rasterise import DocumentInfo, RasterPage, open_document, rasterise_page

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(pages_done, pages_total)`` after each page."""

# Column boundaries of a continued table may differ by this fraction of its width
# (rasterisation and deskew shift them by a few pixels, never by a column).
CONTINUATION_TOLERANCE = 0.02


@dataclass(frozen=True)
class ExtractOptions:
    engine: str = "rapidocr"  # "rapidocr" | "tesseract"
    dpi: int = 300
    pages: tuple[int, ...] | None = None  # 1-based page numbers; None = all
    max_pages: int = 500
    max_page_pixels: int = 60_000_000  # refuse rasters above this (e.g. 2 m² pages)
    page_timeout_s: float = 120.0
    debug_dir: Path | None = None
    # Known label terms (e.g. classification names): one misread character in them is corrected.
    lexicon: Lexicon | None = None


@dataclass
class PageResult:
    page: PageInfo
    tables: list[Table] = field(default_factory=list)  # ids are page-local until assemble()


def inspect_source(path: Path, max_pages: int | None = None) -> Source:
    """Validate the file (sniffed by content) and count its pages; raise a typed error if unusable.

    ``max_pages`` (optional) also refuses documents longer than that.
    """
    doc = open_document(path, max_pages if max_pages is not None else sys.maxsize)
    return Source(filename=path.name, sha256=_sha256(path), pages=doc.pages)


def extract_page(path: Path, page_number: int, options: ExtractOptions) -> PageResult:
    """Rasterise and read one page (1-based) of a PDF or the single page of an image file."""
    doc = open_document(path, options.max_pages)
    return _extract_doc_page(doc, page_number, options)


def assemble(source: Source, pages: list[PageResult]) -> Extraction:
    """Give tables document-wide ids (t0, t1, ...) in page order and link continuations."""
    ordered = sorted(pages, key=lambda result: result.page.number)
    tables: list[Table] = []
    for result in ordered:
        for table in sorted(result.tables, key=lambda t: (t.bbox[1], t.bbox[0])):
            tables.append(table.model_copy(update={"id": f"t{len(tables)}", "continues": None}))
    linked = list(tables)
    for index, table in enumerate(tables):
        successor = _continuation_of(table, tables)
        if successor is not None:
            linked[index] = table.model_copy(update={"continues": successor.id})
    return Extraction(source=source, pages=[r.page for r in ordered], tables=linked)


def extract(path: Path, options: ExtractOptions | None = None,
            progress: ProgressCallback | None = None) -> Extraction:
    """Whole document, page by page (never every page in memory at once)."""
    options = options or ExtractOptions()
    doc = open_document(path, options.max_pages)
    numbers = select_pages(doc.pages, options.pages)
    source = Source(filename=path.name, sha256=_sha256(path), pages=doc.pages)
    results = []
    for done, number in enumerate(numbers, start=1):
        results.append(_extract_doc_page(doc, number, options))
        if progress is not None:
            progress(done, len(numbers))
    return assemble(source, results)


def select_pages(total: int, wanted: tuple[int, ...] | None) -> list[int]:
    """The 1-based pages to process, in order, without repeats; typed error if any does not exist."""
    if wanted is None:
        return list(range(1, total + 1))
    missing = sorted({n for n in wanted if not 1 <= n <= total})
    if missing or not wanted:
        raise InvalidPageRangeError(
            f"pages {missing} are outside 1-{total}" if missing else "no pages selected",
            detail={"pages": missing, "total": total},
        )
    return sorted(set(wanted))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Deadline:
    def __init__(self, page: int, seconds: float) -> None:
        self.page, self.seconds = page, seconds
        self.end = time.monotonic() + seconds

    def check(self, stage: str) -> None:
        if time.monotonic() > self.end:
            raise ProcessingTimeoutError(
                f"page {self.page} exceeded {self.seconds:.0f} s (during {stage})",
                detail={"page": self.page, "stage": stage},
            )


def _extract_doc_page(doc: DocumentInfo, number: int, options: ExtractOptions) -> PageResult:
    started = time.monotonic()
    deadline = _Deadline(number, options.page_timeout_s)
    raster = rasterise_page(doc, number, options.dpi, options.max_page_pixels, options.page_timeout_s)
    deadline.check("rasterise")
    result = read_page(raster, options, deadline)
    log.info("page %d: %d tables in %.2f s", number, len(result.tables), time.monotonic() - started)
    return result


def read_page(raster: RasterPage, options: ExtractOptions, deadline: _Deadline | None = None) -> PageResult:
    """Everything after rasterisation for one page image."""
    deadline = deadline or _Deadline(raster.number, options.page_timeout_s)
    engine = get_engine(options.engine)
    upright = make_upright(raster.image)
    deadline.check("preprocess")
    image, scale = enlarge_small_text(upright.image)
    dpi = round(raster.dpi * scale)
    lines = page_lines(image, dpi)
    grids = find_tables(image, dpi, lines)
    deadline.check("grid")
    cell_lists = []
    for grid in grids:
        cell_lists.append(read_table_cells(image, grid, lines, engine, dpi))
        deadline.check("cells")
    boxes = find_text_lines(lines, [g.bbox for g in grids], dpi)
    context = attach_context(read_text_lines(image, boxes, engine), [g.bbox for g in grids], image.shape[0])
    deadline.check("context")
    tables = [
        Table(id=f"p{raster.number}t{i}", page=raster.number, bbox=grid.bbox, form=ctx.form, title=ctx.title,
              unit=ctx.unit, department=ctx.department, n_rows=grid.n_rows, n_cols=grid.n_cols, cells=cells,
              notes=ctx.notes)
        for i, (grid, cells, ctx) in enumerate(zip(grids, cell_lists, context.tables, strict=True))
    ]
    if options.lexicon is not None:
        tables = correct_tables(tables, options.lexicon)
    page = PageInfo(number=raster.number, width_px=image.shape[1], height_px=image.shape[0], dpi=dpi,
                    rotation=upright.rotation, skew_deg=upright.skew_deg, text=context.text)
    if options.debug_dir is not None:
        from ocr.debug import write_overlay

        write_overlay(options.debug_dir / f"page-{raster.number:04d}.png", image, tables, context.text)
    return PageResult(page=page, tables=tables)


def _column_edges(table: Table) -> list[float]:
    """Left edge of every column, relative to the table's width (0..1)."""
    x0, _, x1, _ = table.bbox
    width = max(1, x1 - x0)
    edges: dict[int, int] = {}
    for cell in table.cells:
        edges[cell.col] = min(edges.get(cell.col, cell.bbox[0]), cell.bbox[0])
    return [(edges[c] - x0) / width for c in sorted(edges)]


def _continuation_of(table: Table, tables: list[Table]) -> Table | None:
    """The first table of the next page, if it carries on ``table`` (last on its page)."""
    same_page_after = [t for t in tables if t.page == table.page and t.bbox[1] > table.bbox[1]]
    if same_page_after:
        return None
    following = [t for t in tables if t.page == table.page + 1]
    if not following:
        return None
    candidate = min(following, key=lambda t: (t.bbox[1], t.bbox[0]))
    if candidate.title or candidate.form or candidate.n_cols != table.n_cols:
        return None
    edges_a, edges_b = _column_edges(table), _column_edges(candidate)
    if len(edges_a) != len(edges_b):
        return None
    width_a = table.bbox[2] - table.bbox[0]
    width_b = candidate.bbox[2] - candidate.bbox[0]
    if abs(width_a - width_b) > CONTINUATION_TOLERANCE * max(width_a, width_b, 1):
        return None
    if all(abs(a - b) <= CONTINUATION_TOLERANCE for a, b in zip(edges_a, edges_b, strict=True)):
        return candidate
    return None
